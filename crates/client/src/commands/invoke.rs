//! `invoke agent NAME --task TEXT [--stream] [--session ID]`: one A2A turn
//! with an agent through the gateway's default listener, as the caller the
//! client configuration names. The answer goes to standard output; the
//! session id (to continue with `--session`) and, with `--stream`, the
//! agent's steps go to standard error.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::Context;
use crate::cli::{InvokeArgs, InvokeTarget};
use crate::config::discover;

/// How long a turn may take.
const TURN_TIMEOUT: Duration = Duration::from_secs(600);
/// Largest answer read.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// What a turn ended with.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    answer: Option<String>,
    context: Option<String>,
    failed: Option<String>,
}

pub(crate) async fn invoke(ctx: &mut Context<'_>, args: &InvokeArgs) -> i32 {
    let InvokeTarget::Agent = args.target;
    let config = match discover(
        ctx.globals.server.as_deref(),
        ctx.globals.token.as_deref(),
        ctx.env,
    ) {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let Some(token) = config.token else {
        return ctx.fail(
            "no token: the gateway needs one (--token, or a client configuration with a token)",
        );
    };
    let url = format!(
        "{}/api/a2a/{}/{}",
        args.gateway.trim_end_matches('/'),
        ctx.namespace(),
        args.name
    );
    let mut message =
        json!({"messageId": message_id(), "role": "ROLE_USER", "parts": [{"text": args.task}]});
    if let Some(session) = &args.session {
        message["contextId"] = session.clone().into();
    }
    let method = if args.stream {
        "SendStreamingMessage"
    } else {
        "SendMessage"
    };
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": message}});
    let request = match Request::post(&url)
        .header(CONTENT_TYPE, "application/json")
        .header(
            ACCEPT,
            if args.stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header("a2a-version", "1.0")
        .body(Full::new(Bytes::from(body.to_string())))
    {
        Ok(r) => r,
        Err(e) => return ctx.fail(format!("cannot build a request for {url}: {e}")),
    };
    let clients: palisade_net::Clients<Full<Bytes>> = palisade_net::Clients::new();
    let outcome =
        tokio::time::timeout(TURN_TIMEOUT, send(ctx, &clients, request, args.stream)).await;
    let outcome = match outcome {
        Err(_) => {
            return ctx.fail(format!(
                "the agent did not answer within {}s",
                TURN_TIMEOUT.as_secs()
            ));
        }
        Ok(Err(e)) => return ctx.fail(format!("{url}: {e}")),
        Ok(Ok(o)) => o,
    };
    if let Some(context) = &outcome.context {
        ctx.warn(format_args!(
            "session: {context} (continue with --session {context})"
        ));
    }
    if let Some(why) = outcome.failed {
        return ctx.fail(format!("the agent failed: {why}"));
    }
    match outcome.answer {
        Some(answer) => {
            ctx.say(answer);
            0
        }
        None => ctx.fail("the agent gave no answer"),
    }
}

async fn send(
    ctx: &mut Context<'_>,
    clients: &palisade_net::Clients<Full<Bytes>>,
    request: Request<Full<Bytes>>,
    stream: bool,
) -> Result<Outcome, String> {
    let response = clients
        .request(request)
        .await
        .map_err(|e| format!("cannot reach the gateway: {e}"))?;
    let status = response.status();
    let streaming = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut body = response.into_body();
    if !status.is_success() || !streaming {
        let bytes = http_body_util::Limited::new(body, MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| format!("cannot read the answer: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        }
        let reply: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("the answer is not JSON: {e}"))?;
        let mut outcome = Outcome::default();
        fold(&mut outcome, &reply, &mut |_| {})?;
        return Ok(outcome);
    }
    let mut outcome = Outcome::default();
    let mut pending = String::new();
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("the stream broke: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read += data.len();
        if read > MAX_ANSWER {
            return Err("the stream is larger than the client accepts".into());
        }
        pending.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let payload: String = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect::<Vec<_>>()
                .join("\n");
            if payload.is_empty() {
                continue;
            }
            let reply: Value = serde_json::from_str(&payload)
                .map_err(|e| format!("a stream event is not JSON: {e}"))?;
            fold(&mut outcome, &reply, &mut |step| {
                if stream {
                    ctx.warn(format_args!("... {step}"));
                }
            })?;
        }
    }
    Ok(outcome)
}

/// Folds one JSON-RPC response (a whole answer or a stream event) into the
/// outcome; `step` gets the agent's intermediate messages.
fn fold(outcome: &mut Outcome, reply: &Value, step: &mut dyn FnMut(&str)) -> Result<(), String> {
    if let Some(error) = reply.get("error") {
        return Err(error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the agent answered with an error")
            .to_string());
    }
    let result = &reply["result"];
    let texts = |parts: &Value| -> String {
        parts
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("")
    };
    let mut status = |status: &Value, outcome: &mut Outcome| {
        let text = texts(&status["message"]["parts"]);
        match status["state"].as_str() {
            Some("TASK_STATE_WORKING") if !text.is_empty() => step(&text),
            Some("TASK_STATE_FAILED") => outcome.failed = Some(text),
            Some("TASK_STATE_COMPLETED") if outcome.answer.is_none() => outcome.answer = Some(text),
            _ => {}
        }
    };
    if let Some(task) = result.get("task") {
        outcome.context = task["contextId"].as_str().map(str::to_string);
        let artifacts: Vec<String> = task["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| texts(&a["parts"]))
            .collect();
        if !artifacts.is_empty() {
            outcome.answer = Some(artifacts.join("\n"));
        }
        status(&task["status"], outcome);
    } else if let Some(update) = result.get("statusUpdate") {
        outcome.context = update["contextId"]
            .as_str()
            .map(str::to_string)
            .or(outcome.context.take());
        status(&update["status"], outcome);
    } else if let Some(update) = result.get("artifactUpdate") {
        outcome.answer = Some(texts(&update["artifact"]["parts"]));
    } else if let Some(message) = result.get("message") {
        outcome.answer = Some(texts(&message["parts"]));
    }
    Ok(())
}

/// A message id, unique per process and moment (not a secret).
fn message_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli-{}-{nanos:x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_failures_are_read_from_tasks_and_events() {
        let mut outcome = Outcome::default();
        let mut steps = Vec::new();
        let events = [
            json!({"result": {"task": {"id": "t", "contextId": "c", "status": {"state": "TASK_STATE_SUBMITTED"}}}}),
            json!({"result": {"statusUpdate": {"contextId": "c", "status": {"state": "TASK_STATE_WORKING",
                "message": {"parts": [{"text": "calling tool echo"}]}}}}}),
            json!({"result": {"artifactUpdate": {"artifact": {"parts": [{"text": "42"}]}}}}),
            json!({"result": {"statusUpdate": {"status": {"state": "TASK_STATE_COMPLETED",
                "message": {"parts": [{"text": "42"}]}}}}}),
        ];
        for e in &events {
            fold(&mut outcome, e, &mut |s| steps.push(s.to_string())).unwrap();
        }
        assert_eq!(outcome.answer.as_deref(), Some("42"));
        assert_eq!(outcome.context.as_deref(), Some("c"));
        assert_eq!(steps, ["calling tool echo"]);
        let mut failed = Outcome::default();
        fold(
            &mut failed,
            &json!({"result": {"task": {"contextId": "c", "status": {"state": "TASK_STATE_FAILED",
                "message": {"parts": [{"text": "no model"}]}}}}}),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(failed.failed.as_deref(), Some("no model"));
        assert!(
            fold(
                &mut failed,
                &json!({"error": {"message": "nope"}}),
                &mut |_| {}
            )
            .is_err()
        );
    }
}
