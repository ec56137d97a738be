-- The OpenAI-compatible API under /v1/ (issue #30). What a personal token may call: `all` (the REST API and /v1/,
-- as every token made before) or `v1` (only the OpenAI-compatible API: a key handed to an editor or an agent cannot
-- read or change the account's conversations).
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'v1'));

-- Which surface a ledger row came from (`chat`: a reply, `ask-mistral`, a title; `v1`: the OpenAI-compatible API),
-- so usage reports can tell the gateway's calls apart.
ALTER TABLE usage_events ADD COLUMN source TEXT NOT NULL DEFAULT 'chat';
