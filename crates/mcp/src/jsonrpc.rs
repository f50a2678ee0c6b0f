//! JSON-RPC 2.0 messages as MCP uses them: requests, notifications and responses,
//! parsed strictly from JSON values and written back unchanged apart from what the
//! gateway rewrites (ids).

use std::fmt;

use serde_json::{Map, Value, json};

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist or is not available.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// Internal JSON-RPC error.
pub const INTERNAL_ERROR: i64 = -32603;

/// A request id: a number or a string (null ids are not accepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// A numeric id.
    Number(i64),
    /// A string id.
    String(String),
}

impl Id {
    fn from_value(value: &Value) -> Option<Id> {
        match value {
            Value::Number(n) => n.as_i64().map(Id::Number),
            Value::String(s) => Some(Id::String(s.clone())),
            _ => None,
        }
    }

    /// The id as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Id::Number(n) => Value::from(*n),
            Id::String(s) => Value::from(s.as_str()),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorObject {
    /// The error code.
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Extra data, if any.
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("code".into(), self.code.into());
        obj.insert("message".into(), self.message.clone().into());
        if let Some(data) = &self.data {
            obj.insert("data".into(), data.clone());
        }
        Value::Object(obj)
    }
}

/// One JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A call expecting a response.
    Request {
        /// Correlates the response.
        id: Id,
        /// The method called.
        method: String,
        /// Parameters, if any.
        params: Option<Value>,
    },
    /// A one-way message.
    Notification {
        /// The method.
        method: String,
        /// Parameters, if any.
        params: Option<Value>,
    },
    /// The answer to a request.
    Response {
        /// The request's id.
        id: Id,
        /// The result, or the error.
        outcome: Result<Value, ErrorObject>,
    },
}

/// Why a JSON value is not a JSON-RPC message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a JSON-RPC 2.0 message: {0}")]
pub struct InvalidMessage(pub String);

impl Message {
    /// A request.
    pub fn request(id: Id, method: impl Into<String>, params: Option<Value>) -> Self {
        Message::Request {
            id,
            method: method.into(),
            params,
        }
    }

    /// A notification.
    pub fn notification(method: impl Into<String>, params: Option<Value>) -> Self {
        Message::Notification {
            method: method.into(),
            params,
        }
    }

    /// A successful response.
    pub fn result(id: Id, result: Value) -> Self {
        Message::Response {
            id,
            outcome: Ok(result),
        }
    }

    /// An error response.
    pub fn error(id: Id, code: i64, message: impl Into<String>) -> Self {
        Message::Response {
            id,
            outcome: Err(ErrorObject::new(code, message)),
        }
    }

    /// Parses one message, checking `jsonrpc: "2.0"` and the member types.
    pub fn from_value(value: Value) -> Result<Message, InvalidMessage> {
        let Value::Object(mut obj) = value else {
            return Err(InvalidMessage("expected a JSON object".into()));
        };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(InvalidMessage("`jsonrpc` must be \"2.0\"".into()));
        }
        let params = match obj.remove("params") {
            None => None,
            Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
            Some(Value::Null) => None,
            Some(_) => return Err(InvalidMessage("`params` must be an object or array".into())),
        };
        let id = match obj.get("id") {
            None => None,
            Some(v) => Some(
                Id::from_value(v)
                    .ok_or_else(|| InvalidMessage("`id` must be a string or an integer".into()))?,
            ),
        };
        if let Some(method) = obj.remove("method") {
            let Value::String(method) = method else {
                return Err(InvalidMessage("`method` must be a string".into()));
            };
            return Ok(match id {
                Some(id) => Message::Request { id, method, params },
                None => Message::Notification { method, params },
            });
        }
        let Some(id) = id else {
            return Err(InvalidMessage(
                "a message needs `method` (request, notification) or `id` (response)".into(),
            ));
        };
        let outcome = match (obj.remove("result"), obj.remove("error")) {
            (Some(result), None) => Ok(result),
            (None, Some(Value::Object(err))) => {
                let code = err
                    .get("code")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| InvalidMessage("`error.code` must be an integer".into()))?;
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                Err(ErrorObject {
                    code,
                    message,
                    data: err.get("data").cloned(),
                })
            }
            _ => {
                return Err(InvalidMessage(
                    "a response needs exactly one of `result` and `error` (an object)".into(),
                ));
            }
        };
        Ok(Message::Response { id, outcome })
    }

    /// The message as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Message::Request { id, method, params } => {
                let mut v = json!({"jsonrpc": "2.0", "id": id.to_value(), "method": method});
                if let Some(p) = params {
                    v["params"] = p.clone();
                }
                v
            }
            Message::Notification { method, params } => {
                let mut v = json!({"jsonrpc": "2.0", "method": method});
                if let Some(p) = params {
                    v["params"] = p.clone();
                }
                v
            }
            Message::Response { id, outcome } => match outcome {
                Ok(result) => json!({"jsonrpc": "2.0", "id": id.to_value(), "result": result}),
                Err(e) => json!({"jsonrpc": "2.0", "id": id.to_value(), "error": e.to_value()}),
            },
        }
    }

    /// The message as compact JSON text (no newlines, as stdio framing needs).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request { method, .. } | Message::Notification { method, .. } => Some(method),
            Message::Response { .. } => None,
        }
    }

    /// The params of a request or notification.
    pub fn params(&self) -> Option<&Value> {
        match self {
            Message::Request { params, .. } | Message::Notification { params, .. } => {
                params.as_ref()
            }
            Message::Response { .. } => None,
        }
    }

    /// The id of a request or response.
    pub fn id(&self) -> Option<&Id> {
        match self {
            Message::Request { id, .. } | Message::Response { id, .. } => Some(id),
            Message::Notification { .. } => None,
        }
    }
}

/// A string param (`params.<key>`), if present.
pub fn param_str<'a>(params: Option<&'a Value>, key: &str) -> Option<&'a str> {
    params?.get(key)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Message, InvalidMessage> {
        Message::from_value(serde_json::from_str(text).unwrap())
    }

    #[test]
    fn kinds_round_trip() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"a"}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":"x","result":{"tools":[]}}"#,
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"nope","data":{"k":1}}}"#,
        ] {
            let m = parse(text).unwrap();
            let back: Value = serde_json::from_str(text).unwrap();
            assert_eq!(m.to_value(), back, "{text}");
        }
    }

    #[test]
    fn classifies() {
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap(),
            Message::Request {
                id: Id::Number(1),
                ..
            }
        ));
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{}}"#).unwrap(),
            Message::Notification { .. }
        ));
        let e = parse(r#"{"jsonrpc":"2.0","id":"a","error":{"code":-1,"message":"m"}}"#).unwrap();
        assert!(matches!(
            e,
            Message::Response {
                outcome: Err(ErrorObject { code: -1, .. }),
                ..
            }
        ));
    }

    #[test]
    fn rejects_malformed() {
        for (text, why) in [
            (r#"[]"#, "object"),
            (r#"{"id":1,"method":"x"}"#, "jsonrpc"),
            (r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#, "jsonrpc"),
            (r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#, "id"),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, "id"),
            (r#"{"jsonrpc":"2.0","id":1,"method":3}"#, "method"),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"x","params":"s"}"#,
                "params",
            ),
            (r#"{"jsonrpc":"2.0"}"#, "method"),
            (r#"{"jsonrpc":"2.0","id":1}"#, "exactly one"),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#,
                "exactly one",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"error":{"message":"m"}}"#,
                "code",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.0.contains(why), "{text}: {err}");
        }
    }
}
