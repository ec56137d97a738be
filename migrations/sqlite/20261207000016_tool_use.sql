-- Tool use (issue #27). A conversation's enabled tools: a JSON list of tool names, or NULL for the owner's default
-- (the `tools` preference, else every built-in tool the instance offers).
ALTER TABLE conversations ADD COLUMN tools TEXT;

-- The tool calls a reply made, counted in the usage ledger (and against TOOL_CALLS_PER_DAY).
ALTER TABLE usage_events ADD COLUMN tool_calls BIGINT NOT NULL DEFAULT 0;

-- MCP servers added by staff: reached over streamable HTTP (`url`, with `headers` such as a bearer token: secrets,
-- never shown back) or started as a local command (`command`, a JSON list: program then arguments; only when
-- MCP_STDIO_ENABLED). Their tools, as last listed, are kept (`tools`, a JSON list of {name, description,
-- input_schema, destructive}) with staff's choices per tool (`tool_settings`: {name: {enabled, ask_first}}).
CREATE TABLE mcp_servers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Its tools are offered to the model as `<name>__<tool>`.
    name          TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 24),
    transport     TEXT    NOT NULL CHECK (transport IN ('http', 'stdio')),
    url           TEXT    NOT NULL DEFAULT '',
    headers       TEXT    NOT NULL DEFAULT '{}',
    command       TEXT    NOT NULL DEFAULT '[]',
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    tools         TEXT    NOT NULL DEFAULT '[]',
    tool_settings TEXT    NOT NULL DEFAULT '{}',
    listed_at     BIGINT,
    last_error    TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
