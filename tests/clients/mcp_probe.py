"""Drives an MCP server through Palisade with the official Python SDK and prints
what it saw as one JSON object, for the Rust end-to-end tests to assert on.

usage: mcp_probe.py URL [--mode auto|legacy|2026-07-28] [--transport streamable|sse|stdio]
                        [--tool NAME --args JSON]... [--progress TOOL] [--prompts] [--resources]
  --transport stdio     URL is a command: spawn it (with each --stdio-arg) and speak
                        MCP over its stdin/stdout, as a client connected directly
  --logs TOOL           call TOOL (server-everything's toggle-simulated-logging) and
                        wait up to 12 s for a log notification sent outside any request
  --sampling            declare sampling; answer createMessage with a fixed text
  --pause-file PATH     after the first round of calls, create PATH, wait until it
                        is deleted, then repeat the calls (as "calls_after")
  --bearer TOKEN        send Authorization: Bearer TOKEN (streamable HTTP)
A call the server refuses with a JSON-RPC error is reported as {"error": message}.
"""

import argparse
import os
import json
import sys

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.sse import sse_client


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--transport", default="streamable", choices=["streamable", "sse", "stdio"])
    parser.add_argument("--stdio-arg", action="append", default=[], help="argument of the stdio command")
    parser.add_argument("--call", action="append", default=[], help="NAME=JSON arguments")
    parser.add_argument("--progress", help="tool to call with a progress callback")
    parser.add_argument("--prompts", action="store_true")
    parser.add_argument("--resources", action="store_true")
    parser.add_argument("--sampling", action="store_true")
    parser.add_argument("--logs")
    parser.add_argument("--listen-tools", action="store_true", help="2026-07-28: listen for tools list changes")
    parser.add_argument("--pause-file")
    parser.add_argument("--bearer")
    opts = parser.parse_args()

    from mcp import types

    async def sample(context, params):
        prompt = params.messages[0].content.text
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"sampled: {prompt}"),
            model="probe-model",
            stop_reason="endTurn",
        )

    async def call_all(client) -> dict:
        calls = {}
        for spec in opts.call:
            name, _, args = spec.partition("=")
            try:
                result = await client.call_tool(name, json.loads(args or "{}"))
            except Exception as e:  # the SDK's McpError: a JSON-RPC error answer
                calls[name] = {"error": str(e)}
                continue
            calls[name] = {
                "text": [c.text for c in result.content if getattr(c, "type", "") == "text"],
                "is_error": bool(result.is_error),
            }
        return calls

    if opts.transport == "sse":
        target = sse_client(opts.url)
    elif opts.transport == "stdio":
        target = StdioServerParameters(command=opts.url, args=opts.stdio_arg)
    elif opts.bearer:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        http = create_mcp_http_client(headers={"Authorization": f"Bearer {opts.bearer}"})
        target = streamable_http_client(opts.url, http_client=http)
    else:
        target = opts.url
    out: dict = {}
    with anyio.fail_after(120):
        extra = {"sampling_callback": sample} if opts.sampling else {}
        logs = []

        async def on_log(params):
            logs.append(params.level)

        if opts.logs:
            extra["logging_callback"] = on_log
        async with Client(target, mode=opts.mode, **extra) as client:
            out["protocol_version"] = client.protocol_version
            tools = await client.list_tools()
            out["tools"] = sorted(t.name for t in tools.tools)
            out["calls"] = await call_all(client)
            if opts.pause_file:
                open(opts.pause_file, "w").close()
                while os.path.exists(opts.pause_file):
                    await anyio.sleep(0.05)
                out["calls_after"] = await call_all(client)
            if opts.progress:
                seen = []

                async def on_progress(progress, total, message):
                    seen.append(progress)

                await client.call_tool(
                    opts.progress, {"duration": 1, "steps": 2}, progress_callback=on_progress
                )
                out["progress"] = seen
            if opts.listen_tools and client.protocol_version == "2026-07-28":
                events = 0
                async with client.listen(tools_list_changed=True) as sub:
                    out["listen_honored"] = bool(sub.honored.tools_list_changed)
                    with anyio.move_on_after(10):
                        async for _event in sub:
                            events += 1
                            break
                out["listen_events"] = events
            if opts.logs:
                await client.call_tool(opts.logs, {})
                with anyio.move_on_after(12):
                    while not logs:
                        await anyio.sleep(0.1)
                out["logs"] = len(logs)
            if opts.prompts:
                prompts = await client.list_prompts()
                out["prompts"] = sorted(p.name for p in prompts.prompts)
            if opts.resources:
                resources = await client.list_resources()
                out["resources"] = sorted(str(r.uri) for r in resources.resources)
                if resources.resources:
                    read = await client.read_resource(str(resources.resources[0].uri))
                    out["read_first"] = len(read.contents)
    json.dump(out, sys.stdout)


anyio.run(main)
