"""An MCP server for ThiCode's tests, on PyPI's official SDK (mcp 2.3.0, which speaks protocol 2026-07-28 without
`initialize` as well as the older ones): streamable HTTP on 127.0.0.1:$PORT/mcp, answering only requests that carry
`Authorization: Bearer $MCP_TOKEN` when MCP_TOKEN is set. Started by tests/it/tools_mcp.rs."""

import os

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer(name="thicode-test", version="1.0")


@server.tool(description="Add two integers.", annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False))
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Delete everything under a path (it only says it did).",
             annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
def wipe(path: str) -> str:
    return f"wiped {path}"


TOKEN = os.environ.get("MCP_TOKEN", "")
app = server.streamable_http_app()


async def guarded(scope, receive, send):
    """The MCP app behind a bearer token (the lifespan passes through)."""
    if scope["type"] == "http" and TOKEN:
        given = dict(scope["headers"]).get(b"authorization", b"")
        if given != f"Bearer {TOKEN}".encode():
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": b"a bearer token is required"})
            return
    await app(scope, receive, send)


if __name__ == "__main__":
    uvicorn.run(guarded, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
