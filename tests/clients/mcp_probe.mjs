// Drives an MCP server through Palisade with the official TypeScript SDK and
// prints what it saw as one JSON object, for the Rust end-to-end tests.
//
// usage: node mcp_probe.mjs URL streamable|sse
// The SDK is loaded from $MCP_SDK_DIR (node_modules/@modelcontextprotocol/sdk).
import { pathToFileURL } from "node:url";
import path from "node:path";

const [url, transportKind] = process.argv.slice(2);
const sdk = process.env.MCP_SDK_DIR;
const load = (rel) => import(pathToFileURL(path.join(sdk, "dist/esm", rel)).href);
const { Client } = await load("client/index.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { SSEClientTransport } = await load("client/sse.js");

const client = new Client({ name: "palisade-ts-probe", version: "1.0.0" }, { capabilities: {} });
const transport =
  transportKind === "sse"
    ? new SSEClientTransport(new URL(url))
    : new StreamableHTTPClientTransport(new URL(url));
const timer = setTimeout(() => {
  console.error("timed out");
  process.exit(2);
}, 60000);
await client.connect(transport);
const out = {};
out.protocolVersion = transport.protocolVersion ?? null;
const { tools } = await client.listTools();
out.tools = tools.map((t) => t.name).sort();
const echo = await client.callTool({ name: "echo", arguments: { message: "from ts" } });
out.echo = echo.content[0].text;
const progress = [];
await client.callTool(
  { name: "trigger-long-running-operation", arguments: { duration: 1.5, steps: 3 } },
  undefined,
  { onprogress: (p) => progress.push(p.progress) },
);
out.progress = progress;
if (transportKind !== "sse") {
  out.sessionId = transport.sessionId ?? null;
  await transport.terminateSession();
}
await client.close();
clearTimeout(timer);
process.stdout.write(JSON.stringify(out));
