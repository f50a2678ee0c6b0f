"""Drives an MCP server through Palisade with the official Python SDK and prints
what it saw as one JSON object, for the Rust end-to-end tests to assert on.

usage: mcp_probe.py URL [--mode auto|legacy|2026-07-28] [--transport streamable|sse]
                        [--tool NAME --args JSON]... [--progress TOOL] [--prompts] [--resources]
"""

import argparse
import json
import sys

import anyio
from mcp import Client
from mcp.client.sse import sse_client


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--transport", default="streamable", choices=["streamable", "sse"])
    parser.add_argument("--call", action="append", default=[], help="NAME=JSON arguments")
    parser.add_argument("--progress", help="tool to call with a progress callback")
    parser.add_argument("--prompts", action="store_true")
    parser.add_argument("--resources", action="store_true")
    opts = parser.parse_args()

    target = sse_client(opts.url) if opts.transport == "sse" else opts.url
    out: dict = {}
    with anyio.fail_after(120):
        async with Client(target, mode=opts.mode) as client:
            out["protocol_version"] = client.protocol_version
            tools = await client.list_tools()
            out["tools"] = sorted(t.name for t in tools.tools)
            out["calls"] = {}
            for spec in opts.call:
                name, _, args = spec.partition("=")
                result = await client.call_tool(name, json.loads(args or "{}"))
                out["calls"][name] = {
                    "text": [c.text for c in result.content if getattr(c, "type", "") == "text"],
                    "is_error": bool(result.is_error),
                }
            if opts.progress:
                seen = []

                async def on_progress(progress, total, message):
                    seen.append(progress)

                await client.call_tool(
                    opts.progress, {"duration": 1, "steps": 2}, progress_callback=on_progress
                )
                out["progress"] = seen
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
