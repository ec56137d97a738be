-- Tool use (issue #27). A conversation's enabled tools: a JSON list of tool names, or NULL for the owner's default
-- (the `tools` preference, else every built-in tool the instance offers).
ALTER TABLE conversations ADD COLUMN tools TEXT;

-- The tool calls a reply made, counted in the usage ledger (and against TOOL_CALLS_PER_DAY).
ALTER TABLE usage_events ADD COLUMN tool_calls BIGINT NOT NULL DEFAULT 0;
