//! Webhook prompt guards: the content is POSTed to a service the user runs, which
//! answers pass, mask (with the rewritten content) or reject (with a status and a
//! body). Wire contract (the one agentgateway's guardrail webhooks use):
//!
//! - `POST <base>/request` with `{"body": {"messages": [{"role", "content"}]}}`;
//!   answer `{"action": {...}}` where the action is a pass (`{"reason"?}`), a mask
//!   (`{"body": {"messages": [...]}, "reason"?}`, same number of messages) or a
//!   reject (`{"body": "text", "status_code": 403, "reason"?}`).
//! - `POST <base>/response` with `{"body": {"choices": [{"message": {"role",
//!   "content"}}]}}`; answer a pass or a mask (`{"body": {"choices": [...]}}`).
//!
//! Palisade sends one message per piece of text a guard looks at (system prompt
//! → `system`, messages → `user`, tool input/output → `tool`). A webhook that
//! cannot be reached, times out (5 s) or answers something else fails closed
//! (the request is refused with 503) unless the guard says `failureMode: FailOpen`.

use std::time::Duration;

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Uri};
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use palisade_api::kinds::agentgateway::ai::GuardScope;
use serde_json::{Value, json};

use crate::body::{self, Body};

/// Time a webhook gets to answer.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest webhook answer read.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// A resolved webhook guard.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Where the webhook listens.
    pub authority: Authority,
    /// Which parts it looks at.
    pub scopes: Vec<GuardScope>,
    /// Let requests through when the webhook fails.
    pub fail_open: bool,
    /// Default rejection status.
    pub status: u16,
}

/// A webhook's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on unchanged.
    Pass,
    /// Replace the texts (same order and count as sent).
    Mask(Vec<String>),
    /// Refuse with this status and body.
    Reject {
        /// HTTP status.
        status: u16,
        /// Body, exactly.
        body: String,
    },
}

fn role(scope: GuardScope) -> &'static str {
    match scope {
        GuardScope::SystemPrompt => "system",
        GuardScope::Messages => "user",
        GuardScope::ToolInput | GuardScope::ToolOutput => "tool",
    }
}

impl Webhook {
    /// Asks the webhook about request texts.
    pub async fn check_request(
        &self,
        client: &Client<HttpConnector, Body>,
        texts: &[(GuardScope, String)],
    ) -> Result<Decision, String> {
        let messages: Vec<Value> = texts
            .iter()
            .map(|(scope, text)| json!({"role": role(*scope), "content": text}))
            .collect();
        let answer = self
            .call(client, "/request", json!({"body": {"messages": messages}}))
            .await?;
        self.decide(&answer, texts.len(), "messages", |m| m.get("content"))
    }

    /// Asks the webhook about response texts.
    pub async fn check_response(
        &self,
        client: &Client<HttpConnector, Body>,
        texts: &[String],
    ) -> Result<Decision, String> {
        let choices: Vec<Value> = texts
            .iter()
            .map(|t| json!({"message": {"role": "assistant", "content": t}}))
            .collect();
        let answer = self
            .call(client, "/response", json!({"body": {"choices": choices}}))
            .await?;
        self.decide(&answer, texts.len(), "choices", |c| {
            c.get("message").and_then(|m| m.get("content"))
        })
    }

    async fn call(
        &self,
        client: &Client<HttpConnector, Body>,
        path: &str,
        payload: Value,
    ) -> Result<Value, String> {
        let uri = Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            .map_err(|e| e.to_string())?;
        let req = Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body::full(Bytes::from(payload.to_string())))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(WEBHOOK_TIMEOUT, client.request(req))
            .await
            .map_err(|_| format!("the guard webhook did not answer within {WEBHOOK_TIMEOUT:?}"))?
            .map_err(|e| format!("cannot reach the guard webhook: {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "the guard webhook answered HTTP {}",
                response.status()
            ));
        }
        let bytes = tokio::time::timeout(
            WEBHOOK_TIMEOUT,
            Limited::new(response.into_body(), MAX_ANSWER).collect(),
        )
        .await
        .map_err(|_| "the guard webhook's answer did not arrive in time".to_string())?
        .map_err(|e| format!("cannot read the guard webhook's answer: {e}"))?
        .to_bytes();
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("the guard webhook's answer is not JSON: {e}"))
    }

    fn decide(
        &self,
        answer: &Value,
        count: usize,
        list: &str,
        content: impl Fn(&Value) -> Option<&Value>,
    ) -> Result<Decision, String> {
        let Some(action) = answer.get("action").and_then(Value::as_object) else {
            return Err("the guard webhook's answer has no `action` object".into());
        };
        match (action.get("body"), action.get("status_code")) {
            (Some(Value::String(body)), status) => Ok(Decision::Reject {
                status: status
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (200..=599).contains(s))
                    .unwrap_or(self.status),
                body: body.clone(),
            }),
            (Some(body @ Value::Object(_)), _) => {
                let items = body
                    .get(list)
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("the guard webhook's mask has no `body.{list}`"))?;
                if items.len() != count {
                    return Err(format!(
                        "the guard webhook's mask has {} {list} for the {count} sent",
                        items.len()
                    ));
                }
                items
                    .iter()
                    .map(|item| {
                        content(item)
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .ok_or_else(|| {
                                format!("a masked entry of `body.{list}` has no text content")
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Decision::Mask)
            }
            (None, _) => Ok(Decision::Pass),
            (Some(_), _) => Err("the guard webhook's action has a `body` of the wrong type".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> Webhook {
        Webhook {
            authority: Authority::from_static("127.0.0.1:9"),
            scopes: vec![GuardScope::Messages],
            fail_open: false,
            status: 403,
        }
    }

    #[test]
    fn reads_the_three_actions() {
        fn content(m: &Value) -> Option<&Value> {
            m.get("content")
        }
        let h = hook();
        assert_eq!(
            h.decide(
                &json!({"action": {"reason": "fine"}}),
                1,
                "messages",
                content
            )
            .unwrap(),
            Decision::Pass
        );
        assert_eq!(
            h.decide(
                &json!({"action": {"body": "no", "status_code": 422}}),
                1,
                "messages",
                content
            )
            .unwrap(),
            Decision::Reject {
                status: 422,
                body: "no".into()
            }
        );
        assert_eq!(
            h.decide(&json!({"action": {"body": "no"}}), 1, "messages", content)
                .unwrap(),
            Decision::Reject {
                status: 403,
                body: "no".into()
            }
        );
        assert_eq!(
            h.decide(
                &json!({"action": {"body": {"messages": [{"role": "user", "content": "x <MASKED>"}]}}}),
                1,
                "messages",
                content
            )
            .unwrap(),
            Decision::Mask(vec!["x <MASKED>".into()])
        );
        assert!(
            h.decide(
                &json!({"action": {"body": {"messages": []}}}),
                1,
                "messages",
                content
            )
            .is_err()
        );
        assert!(
            h.decide(&json!({"nothing": 1}), 1, "messages", content)
                .is_err()
        );
    }
}
