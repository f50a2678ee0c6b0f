"""The MCP server of the seed's OAuth walkthrough (SEED-CASES S9), for the Rust
end-to-end test of `mcp-oauth-policy`: the five tools its authorization rules
name, each answering a text the test recognises.

usage: oauth_tools_server.py PORT
Serves MCP over streamable HTTP at http://127.0.0.1:PORT/mcp with the official
Python SDK (mcp 2.x `MCPServer`, formerly FastMCP) and prints
"listening http://127.0.0.1:PORT/mcp" once it accepts connections.

The server trusts its gateway: it checks no token. get_user_info says whether
an Authorization header reached it (the gateway must not forward the caller's
token).
"""

import sys

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer

port = int(sys.argv[1])
server = MCPServer("oauth-tools", version="1.0.0")


@server.tool()
def echo(message: str) -> str:
    """Echo a message back."""
    return f"echo: {message}"


@server.tool()
def get_user_info(ctx: Context) -> str:
    """Information about the caller."""
    headers = ctx.headers or {}
    seen = "an Authorization header" if "authorization" in {k.lower() for k in headers} else "no Authorization header"
    return f"user info: {seen} reached the server"


@server.tool()
def list_files() -> str:
    """List the files."""
    return "files: report.txt, notes.md"


@server.tool()
def delete_file(path: str) -> str:
    """Delete a file."""
    return f"deleted: {path}"


@server.tool()
def system_status() -> str:
    """The system's status."""
    return "system status: all systems nominal"


async def main() -> None:
    app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(web.serve)
        while not web.started:
            await anyio.sleep(0.02)
        print(f"listening http://127.0.0.1:{port}/mcp", flush=True)


anyio.run(main)
