//! Tests of the mock LLM provider: the official Python SDKs talk to it, and
//! raw HTTP checks of its SSE framing, scripting, checks and recording.

use std::process::Command;
use std::time::{Duration, Instant};

use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use palisade_testkit::client::{self, Body};
use palisade_testkit::{MockLlm, MockReply, peers};
use serde_json::{Value, json};

/// Runs `script` with the venv's Python (`MOCK_URL` set to the mock's URL)
/// and returns each printed line parsed as JSON.
fn py(mock: &MockLlm, script: &str) -> Vec<Value> {
    let out = Command::new(peers::python())
        .arg("-c")
        .arg(script)
        .env("MOCK_URL", mock.url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Finds the line printed with `"step": step`.
fn step<'a>(lines: &'a [Value], step: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["step"] == step)
        .unwrap_or_else(|| panic!("no step {step} in {lines:#?}"))
}

const ANTHROPIC_SDK: &str = r#"
import json, os, anthropic
c = anthropic.Anthropic(base_url=os.environ["MOCK_URL"], api_key="sk-ant-test", max_retries=0, timeout=20)
msgs = [{"role": "user", "content": "hello there"}]

m = c.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=msgs)
print(json.dumps({"step": "create", "id": m.id, "model": m.model, "role": m.role,
                  "text": m.content[0].text, "stop": m.stop_reason, "usage": m.usage.model_dump()}))

with c.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=msgs) as s:
    pieces = list(s.text_stream)
    final = s.get_final_message()
print(json.dumps({"step": "stream", "pieces": pieces, "text": final.content[0].text, "id": final.id,
                  "model": final.model, "stop": final.stop_reason, "usage": final.usage.model_dump()}))

tools = [{"name": "get_weather", "description": "weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
with c.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=msgs, tools=tools) as s:
    final = s.get_final_message()
b = final.content[0]
print(json.dumps({"step": "stream_tool", "type": b.type, "id": b.id, "name": b.name, "input": b.input,
                  "stop": final.stop_reason}))

m = c.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=msgs, tools=tools)
b = m.content[0]
print(json.dumps({"step": "create_tool", "type": b.type, "id": b.id, "name": b.name, "input": b.input,
                  "stop": m.stop_reason}))

events = [e.type for e in c.messages.create(model="claude-opus-4-1", max_tokens=50, stream=True,
          messages=[{"role": "user", "content": [{"type": "text", "text": "raw events"}]}])]
print(json.dumps({"step": "raw_stream", "events": events}))

m = c.messages.create(model="m", max_tokens=10, system="be brief", messages=[
    {"role": "user", "content": "what is the weather?"},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny, 21C"}]},
])
print(json.dumps({"step": "default_after_tool", "text": m.content[0].text}))
"#;

#[test]
fn anthropic_sdk_create_stream_and_tools() {
    let mock = MockLlm::start();
    mock.push_text("Bonjour le monde");
    mock.push_text_chunks(["4111 1111 ", "1111 1111"]);
    mock.push_tool_call("get_weather", json!({"city": "Paris", "unit": "celsius"}));
    mock.push_tool_call("get_weather", json!({"city": "Oslo"}));
    let lines = py(&mock, ANTHROPIC_SDK);

    let create = step(&lines, "create");
    assert_eq!(create["text"], "Bonjour le monde");
    assert_eq!(create["model"], "claude-sonnet-4-5");
    assert_eq!(create["role"], "assistant");
    assert_eq!(create["stop"], "end_turn");
    assert!(create["id"].as_str().unwrap().starts_with("msg_01"));
    // "hello there" is 11 chars -> 3 tokens; "Bonjour le monde" 16 -> 4.
    assert_eq!(create["usage"]["input_tokens"], 3);
    assert_eq!(create["usage"]["output_tokens"], 4);

    let stream = step(&lines, "stream");
    assert_eq!(stream["pieces"], json!(["4111 1111 ", "1111 1111"]));
    assert_eq!(stream["text"], "4111 1111 1111 1111");
    assert_eq!(stream["model"], "claude-haiku-4-5");
    assert_eq!(stream["stop"], "end_turn");
    assert_eq!(stream["usage"]["input_tokens"], 3);
    assert_eq!(stream["usage"]["output_tokens"], 5);
    assert_ne!(stream["id"], create["id"]);

    let tool = step(&lines, "stream_tool");
    assert_eq!(tool["type"], "tool_use");
    assert_eq!(tool["name"], "get_weather");
    assert_eq!(tool["input"], json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(tool["stop"], "tool_use");
    assert!(tool["id"].as_str().unwrap().starts_with("toolu_01"));

    let tool = step(&lines, "create_tool");
    assert_eq!(tool["input"], json!({"city": "Oslo"}));
    assert_eq!(tool["stop"], "tool_use");

    let raw = step(&lines, "raw_stream");
    let events: Vec<&str> = raw["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // Default reply "mock reply to: raw events" is 5 words; `ping` is
    // skipped by the SDK.
    let mut expected = vec!["message_start", "content_block_start"];
    expected.extend(["content_block_delta"; 5]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(events, expected);

    assert_eq!(
        step(&lines, "default_after_tool")["text"],
        "mock reply to: sunny, 21C"
    );

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 6);
    assert_eq!(mock.request_count(), 6);
    assert_eq!(mock.pending(), 0);
    let r = &reqs[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.path, "/v1/messages");
    // The anthropic SDK 2.x sends its API key as a Bearer token.
    assert_eq!(r.header("authorization"), Some("Bearer sk-ant-test"));
    assert_eq!(r.header("x-api-key"), None);
    assert!(r.header("anthropic-version").is_some());
    assert_eq!(r.body["max_tokens"], 100);
    assert_eq!(r.body["messages"][0]["content"], "hello there");
    assert!(!r.is_stream());
    assert!(reqs[1].is_stream());
    assert_eq!(reqs[2].body["tools"][0]["name"], "get_weather");
}

const ANTHROPIC_AUTH: &str = r#"
import json, os, anthropic
def call(key):
    c = anthropic.Anthropic(base_url=os.environ["MOCK_URL"], api_key=key, max_retries=0, timeout=20)
    try:
        m = c.messages.create(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        return {"ok": True, "text": m.content[0].text}
    except anthropic.APIStatusError as e:
        return {"ok": False, "cls": type(e).__name__, "status": e.status_code, "body": e.body,
                "request_id": e.response.headers.get("request-id")}
print(json.dumps({"step": "wrong", **call("sk-ant-wrong")}))
print(json.dumps({"step": "right", **call("sk-ant-good")}))
print(json.dumps({"step": "overloaded", **call("sk-ant-good")}))
"#;

#[test]
fn anthropic_sdk_sees_real_auth_and_error_shapes() {
    let mock = MockLlm::start();
    mock.expect_api_key(Some("sk-ant-good"));
    mock.push_text("welcome");
    mock.push_provider_error(529, "overloaded_error", "Overloaded");
    let lines = py(&mock, ANTHROPIC_AUTH);

    let wrong = step(&lines, "wrong");
    assert_eq!(wrong["ok"], false);
    assert_eq!(wrong["cls"], "AuthenticationError");
    assert_eq!(wrong["status"], 401);
    assert_eq!(wrong["body"]["type"], "error");
    assert_eq!(wrong["body"]["error"]["type"], "authentication_error");
    // The SDK sent the key as a Bearer token.
    assert_eq!(wrong["body"]["error"]["message"], "Invalid bearer token");
    assert!(
        wrong["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_011C")
    );

    // The rejected request did not consume the scripted reply.
    let right = step(&lines, "right");
    assert_eq!(right["ok"], true);
    assert_eq!(right["text"], "welcome");

    let overloaded = step(&lines, "overloaded");
    assert_eq!(overloaded["cls"], "OverloadedError");
    assert_eq!(overloaded["status"], 529);
    assert_eq!(overloaded["body"]["error"]["type"], "overloaded_error");
    assert_eq!(overloaded["body"]["error"]["message"], "Overloaded");
    assert_eq!(mock.request_count(), 3);
}

const OPENAI_CHAT: &str = r#"
import json, os, openai
c = openai.OpenAI(base_url=os.environ["MOCK_URL"] + "/v1", api_key="sk-test", max_retries=0, timeout=20)
msgs = [{"role": "system", "content": "sys"}, {"role": "user", "content": "ping pong"}]

r = c.chat.completions.create(model="gpt-4.1-mini", messages=msgs)
print(json.dumps({"step": "create", "id": r.id, "object": r.object, "model": r.model,
                  "text": r.choices[0].message.content, "finish": r.choices[0].finish_reason,
                  "usage": r.usage.model_dump()}))

chunks = list(c.chat.completions.create(model="gpt-4o", messages=msgs, stream=True,
                                        stream_options={"include_usage": True}))
print(json.dumps({"step": "stream", "n": len(chunks),
                  "ids": sorted(set(ch.id for ch in chunks)),
                  "role": chunks[0].choices[0].delta.role,
                  "deltas": [ch.choices[0].delta.content for ch in chunks if ch.choices and ch.choices[0].delta.content],
                  "finish": [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason],
                  "usage": chunks[-1].usage.model_dump() if chunks[-1].usage else None,
                  "last_choices": len(chunks[-1].choices)}))

chunks = list(c.chat.completions.create(model="gpt-4o", messages=msgs, stream=True))
print(json.dumps({"step": "stream_no_usage", "text": "".join(ch.choices[0].delta.content or "" for ch in chunks),
                  "usages": [ch.usage for ch in chunks if ch.usage is not None]}))

tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
r = c.chat.completions.create(model="gpt-4o", messages=msgs, tools=tools)
tc = r.choices[0].message.tool_calls[0]
print(json.dumps({"step": "tool", "finish": r.choices[0].finish_reason, "content": r.choices[0].message.content,
                  "id": tc.id, "name": tc.function.name, "args": json.loads(tc.function.arguments)}))

calls = {}
finish = None
n_arg_fragments = 0
for ch in c.chat.completions.create(model="gpt-4o", messages=msgs, tools=tools, stream=True):
    d = ch.choices[0].delta
    for t in d.tool_calls or []:
        cur = calls.setdefault(t.index, {"id": None, "name": None, "args": ""})
        if t.id: cur["id"] = t.id
        if t.function and t.function.name: cur["name"] = t.function.name
        if t.function and t.function.arguments:
            cur["args"] += t.function.arguments
            n_arg_fragments += 1
    finish = ch.choices[0].finish_reason or finish
print(json.dumps({"step": "tool_stream", "finish": finish, "fragments": n_arg_fragments,
                  "calls": [{"id": v["id"], "name": v["name"], "args": json.loads(v["args"])} for _, v in sorted(calls.items())]}))

with c.chat.completions.stream(model="gpt-4o", messages=msgs, tools=tools) as s:
    for _ in s: pass
    final = s.get_final_completion()
tc = final.choices[0].message.tool_calls[0]
print(json.dumps({"step": "tool_stream_helper", "name": tc.function.name, "args": json.loads(tc.function.arguments),
                  "finish": final.choices[0].finish_reason}))

r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": [{"type": "text", "text": "parts work"}]}])
print(json.dumps({"step": "default", "text": r.choices[0].message.content}))
"#;

#[test]
fn openai_sdk_chat_completions() {
    let mock = MockLlm::start();
    mock.push_text("pong!");
    mock.push_text_chunks(["Hel", "lo", " world"]);
    mock.push_text("no usage chunk");
    mock.push_tool_call("get_weather", json!({"city": "Paris"}));
    mock.push(MockReply::tool_calls([
        ("get_weather", json!({"city": "Lisbon", "days": 3})),
        ("get_time", json!({"tz": "Europe/Lisbon"})),
    ]));
    mock.push_tool_call("get_weather", json!({"city": "Rome"}));
    let lines = py(&mock, OPENAI_CHAT);

    let create = step(&lines, "create");
    assert_eq!(create["text"], "pong!");
    assert_eq!(create["object"], "chat.completion");
    assert_eq!(create["model"], "gpt-4.1-mini");
    assert_eq!(create["finish"], "stop");
    assert!(create["id"].as_str().unwrap().starts_with("chatcmpl-"));
    // "sys" + "ping pong" = 12 chars -> 3 tokens; "pong!" -> 2.
    assert_eq!(create["usage"]["prompt_tokens"], 3);
    assert_eq!(create["usage"]["completion_tokens"], 2);
    assert_eq!(create["usage"]["total_tokens"], 5);

    let stream = step(&lines, "stream");
    // role, 3 deltas, finish, usage.
    assert_eq!(stream["n"], 6);
    assert_eq!(stream["ids"].as_array().unwrap().len(), 1);
    assert_eq!(stream["role"], "assistant");
    assert_eq!(stream["deltas"], json!(["Hel", "lo", " world"]));
    assert_eq!(stream["finish"], json!(["stop"]));
    assert_eq!(stream["last_choices"], 0);
    assert_eq!(stream["usage"]["prompt_tokens"], 3);
    assert_eq!(stream["usage"]["completion_tokens"], 3);

    let no_usage = step(&lines, "stream_no_usage");
    assert_eq!(no_usage["text"], "no usage chunk");
    assert_eq!(no_usage["usages"], json!([]));

    let tool = step(&lines, "tool");
    assert_eq!(tool["finish"], "tool_calls");
    assert_eq!(tool["content"], Value::Null);
    assert_eq!(tool["name"], "get_weather");
    assert_eq!(tool["args"], json!({"city": "Paris"}));
    assert!(tool["id"].as_str().unwrap().starts_with("call_"));

    let ts = step(&lines, "tool_stream");
    assert_eq!(ts["finish"], "tool_calls");
    assert!(ts["fragments"].as_u64().unwrap() >= 4, "{ts}");
    let calls = ts["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["name"], "get_weather");
    assert_eq!(calls[0]["args"], json!({"city": "Lisbon", "days": 3}));
    assert_eq!(calls[1]["name"], "get_time");
    assert_eq!(calls[1]["args"], json!({"tz": "Europe/Lisbon"}));
    assert_ne!(calls[0]["id"], calls[1]["id"]);

    let helper = step(&lines, "tool_stream_helper");
    assert_eq!(helper["name"], "get_weather");
    assert_eq!(helper["args"], json!({"city": "Rome"}));
    assert_eq!(helper["finish"], "tool_calls");

    assert_eq!(step(&lines, "default")["text"], "mock reply to: parts work");

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 7);
    assert!(reqs.iter().all(|r| r.path == "/v1/chat/completions"));
    assert_eq!(reqs[0].header("authorization"), Some("Bearer sk-test"));
    assert_eq!(reqs[1].body["stream_options"]["include_usage"], true);
}

const OPENAI_RESPONSES: &str = r#"
import json, os, openai
c = openai.OpenAI(base_url=os.environ["MOCK_URL"] + "/v1", api_key="sk-test", max_retries=0, timeout=20)

r = c.responses.create(model="gpt-4.1", input="tell me a joke", instructions="be funny")
print(json.dumps({"step": "create", "id": r.id, "status": r.status, "model": r.model, "text": r.output_text,
                  "instructions": r.instructions, "usage": r.usage.model_dump()}))

events = list(c.responses.create(model="gpt-4.1", input="stream it", stream=True))
print(json.dumps({"step": "stream", "types": [e.type for e in events],
                  "seq": [e.sequence_number for e in events],
                  "deltas": [e.delta for e in events if e.type == "response.output_text.delta"],
                  "final_text": events[-1].response.output_text,
                  "final_status": events[-1].response.status}))

with c.responses.stream(model="gpt-4.1", input=[{"role": "user", "content": [{"type": "input_text", "text": "helper"}]}]) as s:
    for _ in s: pass
    final = s.get_final_response()
print(json.dumps({"step": "stream_helper", "text": final.output_text, "usage": final.usage.model_dump()}))

tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}]
r = c.responses.create(model="gpt-4.1", input="find it", tools=tools)
fc = r.output[0]
print(json.dumps({"step": "tool", "type": fc.type, "name": fc.name, "call_id": fc.call_id, "id": fc.id,
                  "args": json.loads(fc.arguments)}))

with c.responses.stream(model="gpt-4.1", input="find it", tools=tools) as s:
    types = [e.type for e in s]
    final = s.get_final_response()
fc = final.output[0]
print(json.dumps({"step": "tool_stream", "types": sorted(set(types)), "name": fc.name,
                  "args": json.loads(fc.arguments)}))
"#;

#[test]
fn openai_sdk_responses() {
    let mock = MockLlm::start();
    mock.push_text("Why did the crab never share?");
    mock.push_text_chunks(["str", "eamed"]);
    mock.push(MockReply::text("helped").with_usage(100, 7));
    mock.push_tool_call("lookup", json!({"q": "rust"}));
    mock.push_tool_call("lookup", json!({"q": "tokio runtime"}));
    let lines = py(&mock, OPENAI_RESPONSES);

    let create = step(&lines, "create");
    assert_eq!(create["text"], "Why did the crab never share?");
    assert_eq!(create["status"], "completed");
    assert_eq!(create["model"], "gpt-4.1");
    assert_eq!(create["instructions"], "be funny");
    assert!(create["id"].as_str().unwrap().starts_with("resp_"));
    // "be funny" + "tell me a joke" = 22 chars -> 6 tokens.
    assert_eq!(create["usage"]["input_tokens"], 6);
    assert_eq!(create["usage"]["total_tokens"], 6 + 8);

    let stream = step(&lines, "stream");
    assert_eq!(
        stream["types"],
        json!([
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ])
    );
    assert_eq!(stream["seq"], json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert_eq!(stream["deltas"], json!(["str", "eamed"]));
    assert_eq!(stream["final_text"], "streamed");
    assert_eq!(stream["final_status"], "completed");

    let helper = step(&lines, "stream_helper");
    assert_eq!(helper["text"], "helped");
    assert_eq!(helper["usage"]["input_tokens"], 100);
    assert_eq!(helper["usage"]["output_tokens"], 7);
    assert_eq!(helper["usage"]["total_tokens"], 107);

    let tool = step(&lines, "tool");
    assert_eq!(tool["type"], "function_call");
    assert_eq!(tool["name"], "lookup");
    assert_eq!(tool["args"], json!({"q": "rust"}));
    assert!(tool["call_id"].as_str().unwrap().starts_with("call_"));
    assert!(tool["id"].as_str().unwrap().starts_with("fc_"));

    let ts = step(&lines, "tool_stream");
    assert_eq!(ts["name"], "lookup");
    assert_eq!(ts["args"], json!({"q": "tokio runtime"}));
    let types = ts["types"].to_string();
    assert!(
        types.contains("response.function_call_arguments.delta"),
        "{types}"
    );
    assert!(
        types.contains("response.function_call_arguments.done"),
        "{types}"
    );

    assert_eq!(mock.request_count(), 5);
    assert!(mock.requests().iter().all(|r| r.path == "/v1/responses"));
}

const OPENAI_ERRORS: &str = r#"
import json, os, openai
def call(key):
    c = openai.OpenAI(base_url=os.environ["MOCK_URL"] + "/v1", api_key=key, max_retries=0, timeout=20)
    try:
        r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        return {"ok": True, "text": r.choices[0].message.content}
    except openai.APIStatusError as e:
        return {"ok": False, "cls": type(e).__name__, "status": e.status_code, "body": e.body, "code": e.code,
                "retry_after": e.response.headers.get("retry-after")}
print(json.dumps({"step": "wrong", **call("sk-wrong-key-1234")}))
print(json.dumps({"step": "right", **call("sk-good")}))
print(json.dumps({"step": "limited", **call("sk-good")}))
print(json.dumps({"step": "raw", **call("sk-good")}))
"#;

#[test]
fn openai_sdk_sees_real_auth_and_error_shapes() {
    let mock = MockLlm::start();
    mock.expect_api_key(Some("sk-good"));
    mock.push_text("fine");
    mock.push(
        MockReply::provider_error(429, "rate_limit_exceeded", "Rate limit reached")
            .with_header("retry-after", "7"),
    );
    mock.push_error(503, json!({"custom": "body"}));
    let lines = py(&mock, OPENAI_ERRORS);

    let wrong = step(&lines, "wrong");
    assert_eq!(wrong["cls"], "AuthenticationError");
    assert_eq!(wrong["status"], 401);
    assert_eq!(wrong["code"], "invalid_api_key");
    let msg = wrong["body"]["message"].as_str().unwrap();
    assert!(msg.starts_with("Incorrect API key provided: sk-"), "{msg}");
    assert!(
        !msg.contains("sk-wrong-key-1234"),
        "the key is masked: {msg}"
    );

    assert_eq!(step(&lines, "right")["text"], "fine");

    let limited = step(&lines, "limited");
    assert_eq!(limited["cls"], "RateLimitError");
    assert_eq!(limited["status"], 429);
    assert_eq!(limited["body"]["type"], "rate_limit_exceeded");
    assert_eq!(limited["body"]["message"], "Rate limit reached");
    assert_eq!(limited["retry_after"], "7");

    let raw = step(&lines, "raw");
    assert_eq!(raw["cls"], "InternalServerError");
    assert_eq!(raw["status"], 503);
    assert_eq!(raw["body"], json!({"custom": "body"}));
    assert_eq!(mock.pending(), 0);
}

// ---- raw HTTP ---------------------------------------------------------------

fn post(url: String, headers: &[(&str, &str)], body: &Value) -> Request<Body> {
    let mut b = Request::post(url).header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::json(body)).unwrap()
}

/// Sends `req` and returns the status, content type and the body's frames.
async fn frames(req: Request<Body>) -> (StatusCode, String, Vec<String>) {
    let res = client::send_streaming(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let mut body = res.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            out.push(String::from_utf8(data.to_vec()).unwrap());
        }
    }
    (status, ct, out)
}

/// Parses an SSE body into `(event name, data)` pairs.
fn sse_events(body: &str) -> Vec<(Option<String>, String)> {
    assert!(body.ends_with("\n\n"), "SSE body ends with a blank line");
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let mut name = None;
            let mut data = String::new();
            for line in e.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = v.to_string();
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            (name, data)
        })
        .collect()
}

const ANTHROPIC_HEADERS: &[(&str, &str)] = &[("anthropic-version", "2023-06-01")];

#[tokio::test]
async fn anthropic_sse_framing_and_split_card() {
    let mock = MockLlm::start();
    mock.push_text_chunks(["card 4111 1111 ", "1111 1111 ok"]);
    let body = json!({"model": "claude-x", "max_tokens": 64, "stream": true,
                      "messages": [{"role": "user", "content": "card?"}]});
    let (status, ct, frames) = frames(post(
        format!("{}/v1/messages", mock.url()),
        ANTHROPIC_HEADERS,
        &body,
    ))
    .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    // Frames never carry more than one event.
    for f in &frames {
        assert!(f.matches("\n\n").count() <= 1, "one event per frame: {f:?}");
    }
    let events = sse_events(&frames.concat());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    for ((name, _), d) in events.iter().zip(&data) {
        assert_eq!(
            d["type"],
            name.as_deref().unwrap(),
            "data.type matches event"
        );
    }
    assert_eq!(data[0]["message"]["model"], "claude-x");
    assert_eq!(data[0]["message"]["content"], json!([]));
    assert_eq!(data[0]["message"]["stop_reason"], Value::Null);
    assert_eq!(
        data[1]["content_block"],
        json!({"type": "text", "text": ""})
    );
    // The card number is split across two SSE events.
    assert_eq!(
        data[3]["delta"],
        json!({"type": "text_delta", "text": "card 4111 1111 "})
    );
    assert_eq!(data[4]["delta"]["text"], "1111 1111 ok");
    assert!(
        events
            .iter()
            .all(|(_, d)| !d.contains("4111 1111 1111 1111"))
    );
    assert_eq!(data[6]["delta"]["stop_reason"], "end_turn");
    assert_eq!(data[6]["usage"]["output_tokens"], 7);
    assert_eq!(data[6]["usage"]["input_tokens"], 2);
}

#[tokio::test]
async fn anthropic_tool_stream_sends_input_json_deltas() {
    let mock = MockLlm::start();
    mock.push_tool_call("search", json!({"query": "palisade gateway"}));
    let body = json!({"model": "m", "max_tokens": 64, "stream": true,
                      "messages": [{"role": "user", "content": "go"}]});
    let (_, _, frames) = frames(post(
        format!("{}/v1/messages", mock.url()),
        ANTHROPIC_HEADERS,
        &body,
    ))
    .await;
    let data: Vec<Value> = sse_events(&frames.concat())
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let start = &data[1]["content_block"];
    assert_eq!(start["type"], "tool_use");
    assert_eq!(start["name"], "search");
    assert_eq!(start["input"], json!({}));
    let partial: Vec<&str> = data
        .iter()
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| {
            assert_eq!(d["delta"]["type"], "input_json_delta");
            d["delta"]["partial_json"].as_str().unwrap()
        })
        .collect();
    assert_eq!(partial[0], "", "the first input_json_delta is empty");
    assert!(partial.len() > 3);
    let joined: String = partial.concat();
    assert_eq!(
        serde_json::from_str::<Value>(&joined).unwrap(),
        json!({"query": "palisade gateway"})
    );
    let delta = data.iter().find(|d| d["type"] == "message_delta").unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn openai_chat_sse_framing() {
    let mock = MockLlm::start();
    mock.push_text_chunks(["a", "b"]);
    mock.push_text_chunks(["c"]);
    let url = format!("{}/v1/chat/completions", mock.url());
    let msgs = json!([{"role": "user", "content": "x"}]);

    let body = json!({"model": "gpt-4o", "stream": true, "messages": msgs,
                      "stream_options": {"include_usage": true}});
    let (status, ct, frames_) = frames(post(url.clone(), &[], &body)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/event-stream"));
    let events = sse_events(&frames_.concat());
    assert!(
        events.iter().all(|(n, _)| n.is_none()),
        "chat uses data-only events"
    );
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks.len(), 5); // role, a, b, finish, usage
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "gpt-4o");
        assert_eq!(c["id"], chunks[0]["id"]);
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[1]["choices"][0]["delta"], json!({"content": "a"}));
    assert_eq!(chunks[2]["choices"][0]["delta"], json!({"content": "b"}));
    assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[3]["choices"][0]["delta"], json!({}));
    for c in &chunks[..4] {
        assert!(c.as_object().unwrap().contains_key("usage"));
        assert_eq!(c["usage"], Value::Null);
    }
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(chunks[4]["usage"]["completion_tokens"], 1);

    let body = json!({"model": "gpt-4o", "stream": true, "messages": msgs});
    let (_, _, frames_) = frames(post(url, &[], &body)).await;
    let events = sse_events(&frames_.concat());
    assert_eq!(events.len(), 4); // role, c, finish, [DONE]
    for (_, d) in &events[..3] {
        let v: Value = serde_json::from_str(d).unwrap();
        assert!(!v.as_object().unwrap().contains_key("usage"));
    }
}

#[tokio::test]
async fn openai_chat_tool_stream_deltas() {
    let mock = MockLlm::start();
    mock.push_tool_call("f", json!({"k": "a fairly long value"}));
    let body = json!({"model": "gpt-4o", "stream": true,
                      "messages": [{"role": "user", "content": "x"}]});
    let (_, _, frames_) = frames(post(
        format!("{}/v1/chat/completions", mock.url()),
        &[],
        &body,
    ))
    .await;
    let events = sse_events(&frames_.concat());
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["content"], Value::Null);
    let head = &first["tool_calls"][0];
    assert_eq!(head["index"], 0);
    assert!(head["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(head["type"], "function");
    assert_eq!(head["function"], json!({"name": "f", "arguments": ""}));
    let mut args = String::new();
    for c in &chunks[1..chunks.len() - 1] {
        let tc = &c["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(tc["index"], 0);
        assert!(tc.get("id").is_none() && tc["function"].get("name").is_none());
        args += tc["function"]["arguments"].as_str().unwrap();
    }
    assert!(chunks.len() > 4, "arguments come in several fragments");
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"k": "a fairly long value"})
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn responses_sse_framing() {
    let mock = MockLlm::start();
    mock.push_text_chunks(["one", " two"]);
    let body = json!({"model": "gpt-4.1", "stream": true, "input": "x"});
    let (status, _, frames_) =
        frames(post(format!("{}/v1/responses", mock.url()), &[], &body)).await;
    assert_eq!(status, 200);
    let events = sse_events(&frames_.concat());
    let data: Vec<Value> = events
        .iter()
        .map(|(n, d)| {
            let v: Value = serde_json::from_str(d).unwrap();
            assert_eq!(v["type"], n.as_deref().unwrap());
            v
        })
        .collect();
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["sequence_number"], i);
    }
    assert_eq!(data[0]["response"]["status"], "in_progress");
    assert_eq!(data[0]["response"]["output"], json!([]));
    let item_id = data[2]["item"]["id"].as_str().unwrap();
    assert!(item_id.starts_with("msg_"));
    let deltas: Vec<&Value> = data
        .iter()
        .filter(|d| d["type"] == "response.output_text.delta")
        .collect();
    assert_eq!(deltas.len(), 2);
    assert_eq!(deltas[0]["delta"], "one");
    assert_eq!(deltas[0]["item_id"], item_id);
    let done = data.last().unwrap();
    assert_eq!(done["type"], "response.completed");
    assert_eq!(done["response"]["id"], data[0]["response"]["id"]);
    assert_eq!(
        done["response"]["output"][0]["content"][0]["text"],
        "one two"
    );
    assert_eq!(done["response"]["usage"]["output_tokens"], 2);
}

#[tokio::test]
async fn anthropic_checks_like_the_real_api() {
    let mock = MockLlm::start();
    mock.push_text("kept");
    let url = format!("{}/v1/messages", mock.url());
    let good =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]});

    // No anthropic-version.
    let res = client::send(post(url.clone(), &[], &good)).await.unwrap();
    assert_eq!(res.status, 400);
    let j = res.json();
    assert_eq!(j["type"], "error");
    assert_eq!(j["error"]["type"], "invalid_request_error");
    assert_eq!(
        j["error"]["message"],
        "anthropic-version: header is required"
    );
    assert!(res.header("request-id").unwrap().starts_with("req_"));

    // No max_tokens.
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
    let res = client::send(post(url.clone(), ANTHROPIC_HEADERS, &body))
        .await
        .unwrap();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"]["type"], "invalid_request_error");
    assert_eq!(res.json()["error"]["message"], "max_tokens: Field required");

    // Not JSON.
    let req = Request::post(url.clone())
        .header("anthropic-version", "2023-06-01")
        .body(Body::full("{nope"))
        .unwrap();
    let res = client::send(req).await.unwrap();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"]["type"], "invalid_request_error");

    // API key: missing, wrong.
    mock.expect_api_key(Some("sk-ant-1"));
    let res = client::send(post(url.clone(), ANTHROPIC_HEADERS, &good))
        .await
        .unwrap();
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["type"], "authentication_error");
    assert_eq!(
        res.json()["error"]["message"],
        "x-api-key header is required"
    );
    let res = client::send(post(
        url.clone(),
        &[
            ("anthropic-version", "2023-06-01"),
            ("x-api-key", "sk-ant-2"),
        ],
        &good,
    ))
    .await
    .unwrap();
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["message"], "invalid x-api-key");
    let res = client::send(post(
        url.clone(),
        &[
            ("anthropic-version", "2023-06-01"),
            ("authorization", "Bearer sk-ant-2"),
        ],
        &good,
    ))
    .await
    .unwrap();
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["message"], "Invalid bearer token");
    // x-api-key wins over a (right) Bearer token.
    let res = client::send(post(
        url.clone(),
        &[
            ("anthropic-version", "2023-06-01"),
            ("x-api-key", "sk-ant-2"),
            ("authorization", "Bearer sk-ant-1"),
        ],
        &good,
    ))
    .await
    .unwrap();
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["message"], "invalid x-api-key");

    // None of the rejected requests consumed the scripted reply.
    assert_eq!(mock.pending(), 1);
    let res = client::send(post(
        url.clone(),
        &[
            ("anthropic-version", "2023-06-01"),
            ("x-api-key", "sk-ant-1"),
        ],
        &good,
    ))
    .await
    .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["content"][0]["text"], "kept");
    assert_eq!(mock.pending(), 0);
    // The right key as a Bearer token is accepted too.
    let res = client::send(post(
        url,
        &[
            ("anthropic-version", "2023-06-01"),
            ("authorization", "Bearer sk-ant-1"),
        ],
        &good,
    ))
    .await
    .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(mock.request_count(), 9);
    let rec = mock.requests();
    assert_eq!(rec[2].body, Value::Null);
    assert_eq!(&rec[2].raw_body[..], b"{nope");
}

#[tokio::test]
async fn openai_checks_like_the_real_api() {
    let mock = MockLlm::start();
    mock.expect_api_key(Some("sk-1"));
    let url = format!("{}/v1/chat/completions", mock.url());
    let good = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]});

    let res = client::send(post(url.clone(), &[], &good)).await.unwrap();
    assert_eq!(res.status, 401);
    let e = &res.json()["error"];
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("You didn't provide an API key")
    );
    assert_eq!(e["type"], "invalid_request_error");
    assert_eq!(e["code"], Value::Null);
    assert!(res.header("x-request-id").is_some());

    let auth = [("authorization", "Bearer sk-1")];
    let res = client::send(post(url.clone(), &auth, &json!({"model": "gpt-4o"})))
        .await
        .unwrap();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"]["param"], "messages");
    assert_eq!(res.json()["error"]["code"], "missing_required_parameter");

    let res = client::send(post(
        format!("{}/v1/responses", mock.url()),
        &auth,
        &json!({"input": "x"}),
    ))
    .await
    .unwrap();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"]["param"], "model");

    let res = client::send(post(format!("{}/v1/nothing", mock.url()), &auth, &good))
        .await
        .unwrap();
    assert_eq!(res.status, 404);
    assert_eq!(
        res.json()["error"]["message"],
        "Invalid URL (POST /v1/nothing)"
    );

    let res = client::send(post(url, &auth, &good)).await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json()["choices"][0]["message"]["content"],
        "mock reply to: x"
    );
}

#[tokio::test]
async fn queue_is_consumed_in_order_then_default() {
    let mock = MockLlm::start();
    mock.push_text("first");
    mock.push_error(418, json!({"teapot": true}));
    mock.push_text("third");
    assert_eq!(mock.pending(), 3);
    let url = format!("{}/v1/chat/completions", mock.url());
    let mut seen = Vec::new();
    for i in 0..5 {
        let body =
            json!({"model": "m", "messages": [{"role": "user", "content": format!("q{i}")}]});
        let res = client::send(post(url.clone(), &[], &body)).await.unwrap();
        let j = res.json();
        seen.push(if res.status == 200 {
            j["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        } else {
            format!("{} {j}", res.status.as_u16())
        });
    }
    assert_eq!(
        seen,
        [
            "first",
            "418 {\"teapot\":true}",
            "third",
            "mock reply to: q3",
            "mock reply to: q4"
        ]
    );
    assert_eq!(MockLlm::default_reply_text("q3"), "mock reply to: q3");
    assert_eq!(mock.pending(), 0);
    assert_eq!(
        mock.last_request().unwrap().body["messages"][0]["content"],
        "q4"
    );
    mock.clear();
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn chunk_delay_spaces_events() {
    let mock = MockLlm::start();
    mock.push(MockReply::text_chunks(["a", "b", "c"]).with_chunk_delay(Duration::from_millis(100)));
    let body =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}]});
    let t = Instant::now();
    let (_, _, frames_) = frames(post(
        format!("{}/v1/chat/completions", mock.url()),
        &[],
        &body,
    ))
    .await;
    // 6 events (role, a, b, c, finish, [DONE]) -> 5 pauses; a lower bound only.
    assert!(
        t.elapsed() >= Duration::from_millis(450),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(sse_events(&frames_.concat()).len(), 6);
}

#[test]
fn concurrent_requests_are_all_recorded() {
    let mock = MockLlm::start();
    let url = format!("{}/v1/messages", mock.url());
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let url = url.clone();
                s.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async move {
                        let body = json!({"model": "m", "max_tokens": 5,
                                          "messages": [{"role": "user", "content": format!("n{i}")}]});
                        let res = client::send(post(url, ANTHROPIC_HEADERS, &body)).await.unwrap();
                        assert_eq!(res.status, 200);
                        assert_eq!(res.json()["content"][0]["text"], format!("mock reply to: n{i}"));
                        res.json()["id"].as_str().unwrap().to_string()
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(mock.request_count(), 16);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 16, "ids are unique");
}
