// Drives an MCP server through Palisade with the official TypeScript SDK and
// prints what it saw as one JSON object, for the Rust end-to-end tests.
//
// usage: node mcp_probe.mjs URL streamable|sse [--full] [--sampling]
//        node mcp_probe.mjs COMMAND stdio [--arg ARG]... [--full] [--sampling]
// The SDK is loaded from $MCP_SDK_DIR (node_modules/@modelcontextprotocol/sdk).
//
// Always: list tools, call echo ("from ts"), call trigger-long-running-operation
// with a progress callback (out.tools, out.echo, out.progress).
//   stdio       spawn COMMAND (with each --arg) and speak MCP over its stdin/stdout,
//               as a client connected directly
//   --full      also call get-sum {a: 2, b: 40} (out.sum), list prompts
//               (out.prompts) and resources (out.resources), read the first
//               resource (out.readFirst: its number of contents)
//   --sampling  declare the sampling capability, answer sampling/createMessage with
//               "ts sampled: <prompt>", and call trigger-sampling-request
//               {prompt: "from ts", maxTokens: 5} (out.sampled: its text)
import { pathToFileURL } from "node:url";
import path from "node:path";

const [url, transportKind, ...rest] = process.argv.slice(2);
const opts = { full: false, sampling: false, args: [] };
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--full") opts.full = true;
  else if (rest[i] === "--sampling") opts.sampling = true;
  else if (rest[i] === "--arg") opts.args.push(rest[++i]);
  else {
    console.error(`unknown option ${rest[i]}`);
    process.exit(2);
  }
}
const sdk = process.env.MCP_SDK_DIR;
const load = (rel) => import(pathToFileURL(path.join(sdk, "dist/esm", rel)).href);
const { Client } = await load("client/index.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { SSEClientTransport } = await load("client/sse.js");
const { StdioClientTransport } = await load("client/stdio.js");
const { CreateMessageRequestSchema } = await load("types.js");

const capabilities = opts.sampling ? { sampling: {} } : {};
const client = new Client({ name: "palisade-ts-probe", version: "1.0.0" }, { capabilities });
if (opts.sampling) {
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    role: "assistant",
    content: { type: "text", text: `ts sampled: ${request.params.messages[0].content.text}` },
    model: "ts-probe-model",
    stopReason: "endTurn",
  }));
}
let transport;
if (transportKind === "sse") {
  transport = new SSEClientTransport(new URL(url));
} else if (transportKind === "stdio") {
  transport = new StdioClientTransport({ command: url, args: opts.args, stderr: "ignore" });
} else {
  transport = new StreamableHTTPClientTransport(new URL(url));
}
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
if (opts.full) {
  const sum = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } });
  out.sum = sum.content[0].text;
  const { prompts } = await client.listPrompts();
  out.prompts = prompts.map((p) => p.name).sort();
  const { resources } = await client.listResources();
  out.resources = resources.map((r) => r.uri).sort();
  if (resources.length > 0) {
    const read = await client.readResource({ uri: resources[0].uri });
    out.readFirst = read.contents.length;
  }
}
if (opts.sampling) {
  const sampled = await client.callTool({
    name: "trigger-sampling-request",
    arguments: { prompt: "from ts", maxTokens: 5 },
  });
  out.sampled = sampled.content[0].text;
}
if (transport instanceof StreamableHTTPClientTransport) {
  out.sessionId = transport.sessionId ?? null;
  await transport.terminateSession();
}
await client.close();
clearTimeout(timer);
process.stdout.write(JSON.stringify(out));
