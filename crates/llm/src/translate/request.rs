//! OpenAI Chat Completions request → Anthropic Messages request.
//!
//! - `system` and `developer` messages, wherever they appear, become the
//!   top-level `system` (a string, or text blocks when there are several);
//! - user and assistant content (a string or content parts) becomes text,
//!   image and document blocks; an image `data:` URL becomes a base64
//!   source, an `http(s)` URL a url source;
//! - assistant `tool_calls` become `tool_use` blocks, their `arguments`
//!   string parsed to the JSON `input`;
//! - `tool` messages become `tool_result` blocks of a user message;
//!   consecutive messages of one role are merged into one turn, as Anthropic
//!   alternates user and assistant turns;
//! - empty text is dropped (Anthropic rejects empty text blocks), and so is
//!   a turn left with no content;
//! - `tools`, `tool_choice` and `parallel_tool_calls`, `max_completion_tokens`
//!   (or `max_tokens`), `temperature`, `top_p`, `stop`, `stream` and `user`
//!   are mapped; other fields are dropped. `temperature` passes unchanged:
//!   Anthropic's range is 0 to 1, and it rejects larger values itself.
//!
//! `max_tokens` stays absent when the client sent none; fill it with
//! [`crate::defaults::apply_defaults`] afterwards.

use serde_json::{Map, Value, json};

use super::TranslateError;
use crate::json::{str_field, type_name};

/// Translates an OpenAI Chat Completions request body into an Anthropic
/// Messages request body.
pub fn openai_chat_to_anthropic(request: &Value) -> Result<Value, TranslateError> {
    let Some(req) = request.as_object() else {
        return Err(TranslateError::NotAnObject {
            what: "request",
            found: type_name(request),
        });
    };
    let mut out = Map::new();
    if let Some(model) = req.get("model") {
        out.insert("model".into(), model.clone());
    }

    let (system, messages) = translate_messages(req.get("messages"))?;
    if let Some(system) = system {
        out.insert("system".into(), system);
    }
    out.insert("messages".into(), Value::Array(messages));

    if let Some(max) = present(req, "max_completion_tokens").or_else(|| present(req, "max_tokens"))
    {
        out.insert("max_tokens".into(), max.clone());
    }
    for key in ["temperature", "top_p"] {
        if let Some(value) = present(req, key) {
            out.insert(key.into(), value.clone());
        }
    }
    if let Some(stop) = present(req, "stop") {
        out.insert("stop_sequences".into(), stop_sequences(stop)?);
    }
    if let Some(stream) = present(req, "stream") {
        out.insert("stream".into(), stream.clone());
    }
    if let Some(user) = present(req, "user") {
        let user = user
            .as_str()
            .ok_or_else(|| TranslateError::invalid("user", "a string", user))?;
        out.insert("metadata".into(), json!({ "user_id": user }));
    }
    if let Some(n) = present(req, "n")
        && n.as_u64() != Some(1)
    {
        return Err(TranslateError::UnsupportedContent {
            field: "n".into(),
            reason: format!("it is {n}, but Anthropic returns one choice per request; send n = 1"),
        });
    }
    translate_tools(req, &mut out)?;
    Ok(Value::Object(out))
}

/// Whether an OpenAI Chat request asked for a usage chunk at the end of its
/// stream (`stream_options.include_usage`).
pub fn stream_include_usage(request: &Value) -> bool {
    request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true)
}

/// `req[key]`, unless absent or null.
fn present<'a>(req: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    req.get(key).filter(|value| !value.is_null())
}

/// The conversation: the `system` value and the alternating messages.
fn translate_messages(
    messages: Option<&Value>,
) -> Result<(Option<Value>, Vec<Value>), TranslateError> {
    let messages = match messages {
        Some(Value::Array(messages)) => messages,
        Some(other) => return Err(TranslateError::invalid("messages", "an array", other)),
        None => {
            return Err(TranslateError::MissingField {
                field: "messages".into(),
                hint: "send the conversation as `messages`, an array of {role, content} objects",
            });
        }
    };
    let mut system = Vec::new();
    let mut turns = Turns::default();
    for (i, message) in messages.iter().enumerate() {
        let field = format!("messages[{i}]");
        let role_field = format!("{field}.role");
        let role = match message.get("role") {
            Some(Value::String(role)) => role.as_str(),
            Some(other) => return Err(TranslateError::invalid(role_field, "a string", other)),
            None => {
                return Err(TranslateError::MissingField {
                    field: role_field,
                    hint: "every message needs a role (system, user, assistant or tool)",
                });
            }
        };
        match role {
            "system" | "developer" => system.extend(text_blocks(message.get("content"), &field)?),
            "user" => turns.push("user", user_blocks(message.get("content"), &field)?),
            "assistant" => turns.push("assistant", assistant_blocks(message, &field)?),
            "tool" => turns.push("user", vec![tool_result(message, &field)?]),
            other => {
                return Err(TranslateError::UnsupportedRole {
                    field: role_field,
                    role: other.to_owned(),
                });
            }
        }
    }
    let system = match system.len() {
        0 => None,
        1 => Some(system.swap_remove(0)["text"].clone()),
        _ => Some(Value::Array(system)),
    };
    Ok((system, turns.finish()))
}

/// Messages being built, merging consecutive turns of one role.
#[derive(Default)]
struct Turns(Vec<(&'static str, Vec<Value>)>);

impl Turns {
    fn push(&mut self, role: &'static str, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => self.0.push((role, blocks)),
        }
    }

    /// The messages; a turn of a single plain text block becomes a string.
    fn finish(self) -> Vec<Value> {
        self.0
            .into_iter()
            .map(|(role, mut blocks)| {
                let content = if blocks.len() == 1 && is_plain_text(&blocks[0]) {
                    blocks.swap_remove(0)["text"].take()
                } else {
                    Value::Array(blocks)
                };
                json!({ "role": role, "content": content })
            })
            .collect()
    }
}

fn is_plain_text(block: &Value) -> bool {
    block
        .as_object()
        .is_some_and(|b| b.len() == 2 && b.get("type") == Some(&json!("text")))
}

fn text_block(text: &str) -> Value {
    json!({ "type": "text", "text": text })
}

/// Text-only content (system, developer and tool messages): a string or
/// `text` parts. Empty text is dropped.
fn text_blocks(content: Option<&Value>, field: &str) -> Result<Vec<Value>, TranslateError> {
    let field = format!("{field}.content");
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) if text.is_empty() => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![text_block(text)]),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let part_field = format!("{field}[{j}]");
                match part_type(part, &part_field)? {
                    "text" => blocks.extend(part_text(part, &part_field)?.map(text_block)),
                    other => return Err(unsupported_part(&part_field, other, "text parts")),
                }
            }
            Ok(blocks)
        }
        Some(other) => Err(TranslateError::invalid(
            field,
            "a string or an array of parts",
            other,
        )),
    }
}

/// User content: a string or text, image and file parts.
fn user_blocks(content: Option<&Value>, field: &str) -> Result<Vec<Value>, TranslateError> {
    let Some(Value::Array(parts)) = content else {
        return text_blocks(content, field);
    };
    let mut blocks = Vec::new();
    for (j, part) in parts.iter().enumerate() {
        let part_field = format!("{field}.content[{j}]");
        match part_type(part, &part_field)? {
            "text" => blocks.extend(part_text(part, &part_field)?.map(text_block)),
            "image_url" => blocks.push(image_block(part, &part_field)?),
            "file" => blocks.push(document_block(part, &part_field)?),
            other => {
                return Err(unsupported_part(
                    &part_field,
                    other,
                    "text, image_url and file parts",
                ));
            }
        }
    }
    Ok(blocks)
}

/// Assistant content (text and refusal parts) followed by its tool calls.
fn assistant_blocks(message: &Value, field: &str) -> Result<Vec<Value>, TranslateError> {
    let mut blocks = Vec::new();
    match message.get("content") {
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                let part_field = format!("{field}.content[{j}]");
                let text = match part_type(part, &part_field)? {
                    "text" => part_text(part, &part_field)?,
                    "refusal" => str_field(part, "refusal").filter(|t| !t.is_empty()),
                    other => {
                        return Err(unsupported_part(
                            &part_field,
                            other,
                            "text and refusal parts",
                        ));
                    }
                };
                blocks.extend(text.map(text_block));
            }
        }
        content => blocks.extend(text_blocks(content, field)?),
    }
    let calls = match message.get("tool_calls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(calls)) => calls.as_slice(),
        Some(other) => {
            return Err(TranslateError::invalid(
                format!("{field}.tool_calls"),
                "an array",
                other,
            ));
        }
    };
    for (k, call) in calls.iter().enumerate() {
        blocks.push(tool_use_block(call, &format!("{field}.tool_calls[{k}]"))?);
    }
    Ok(blocks)
}

fn tool_use_block(call: &Value, field: &str) -> Result<Value, TranslateError> {
    if let Some(kind) = str_field(call, "type")
        && kind != "function"
    {
        return Err(TranslateError::UnsupportedContent {
            field: format!("{field}.type"),
            reason: format!(
                "tool calls of type {kind:?} have no Anthropic counterpart; use function tools"
            ),
        });
    }
    let id = required_str(
        call,
        "id",
        field,
        "echo the id the model gave the tool call",
    )?;
    let function = call.get("function").unwrap_or(&Value::Null);
    let function_field = format!("{field}.function");
    let name = required_str(
        function,
        "name",
        &function_field,
        "name the function that was called",
    )?;
    let arguments_field = format!("{function_field}.arguments");
    let input = match function.get("arguments") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(text)) if text.trim().is_empty() => json!({}),
        Some(Value::String(text)) => {
            let parsed: Value =
                serde_json::from_str(text).map_err(|err| TranslateError::InvalidToolArguments {
                    field: arguments_field.clone(),
                    reason: err.to_string(),
                })?;
            if !parsed.is_object() {
                return Err(TranslateError::InvalidToolArguments {
                    field: arguments_field,
                    reason: format!("it encodes {}", type_name(&parsed)),
                });
            }
            parsed
        }
        Some(other) => return Err(TranslateError::invalid(arguments_field, "a string", other)),
    };
    Ok(json!({ "type": "tool_use", "id": id, "name": name, "input": input }))
}

fn tool_result(message: &Value, field: &str) -> Result<Value, TranslateError> {
    let id = required_str(
        message,
        "tool_call_id",
        field,
        "name the tool call this message answers",
    )?;
    let content = match message.get("content") {
        Some(Value::String(text)) => Value::String(text.clone()),
        content => {
            let blocks = text_blocks(content, field)?;
            Value::Array(blocks)
        }
    };
    Ok(json!({ "type": "tool_result", "tool_use_id": id, "content": content }))
}

fn image_block(part: &Value, field: &str) -> Result<Value, TranslateError> {
    // `image_url` is {"url": ..., "detail": ...}; some clients send the URL
    // string itself.
    let image = part.get("image_url").unwrap_or(&Value::Null);
    let url = image
        .as_str()
        .or_else(|| str_field(image, "url"))
        .ok_or_else(|| TranslateError::MissingField {
            field: format!("{field}.image_url.url"),
            hint: "an image part needs an http(s) URL or a base64 data: URL",
        })?;
    if url.starts_with("data:") {
        let (media_type, data) = parse_data_url(url, &format!("{field}.image_url.url"))?;
        Ok(json!({
            "type": "image",
            "source": { "type": "base64", "media_type": media_type, "data": data }
        }))
    } else if url.starts_with("https://") || url.starts_with("http://") {
        Ok(json!({ "type": "image", "source": { "type": "url", "url": url } }))
    } else {
        Err(TranslateError::UnsupportedContent {
            field: format!("{field}.image_url.url"),
            reason: "an image URL must be http(s) or a base64 data: URL".into(),
        })
    }
}

fn document_block(part: &Value, field: &str) -> Result<Value, TranslateError> {
    let data_field = format!("{field}.file.file_data");
    let Some(url) = part.pointer("/file/file_data").and_then(Value::as_str) else {
        return Err(TranslateError::UnsupportedContent {
            field: data_field,
            reason: "only inline files (`file_data` as a base64 data: URL) can be sent; \
                     uploaded file ids are OpenAI's"
                .into(),
        });
    };
    let (media_type, data) = parse_data_url(url, &data_field)?;
    if media_type != "application/pdf" {
        return Err(TranslateError::UnsupportedContent {
            field: data_field,
            reason: format!("files of type {media_type} cannot be sent; send application/pdf"),
        });
    }
    Ok(json!({
        "type": "document",
        "source": { "type": "base64", "media_type": media_type, "data": data }
    }))
}

/// Splits `data:<media type>;base64,<data>`.
fn parse_data_url<'a>(url: &'a str, field: &str) -> Result<(&'a str, &'a str), TranslateError> {
    let invalid = || TranslateError::UnsupportedContent {
        field: field.to_owned(),
        reason: "a data: URL must have the form data:<media type>;base64,<data>".into(),
    };
    let rest = url.strip_prefix("data:").ok_or_else(invalid)?;
    let (header, data) = rest.split_once(',').ok_or_else(invalid)?;
    let media_type = header.strip_suffix(";base64").ok_or_else(invalid)?;
    if media_type.is_empty() {
        return Err(invalid());
    }
    Ok((media_type, data))
}

fn part_type<'a>(part: &'a Value, field: &str) -> Result<&'a str, TranslateError> {
    match part.get("type") {
        Some(Value::String(kind)) => Ok(kind),
        Some(other) => Err(TranslateError::invalid(
            format!("{field}.type"),
            "a string",
            other,
        )),
        None => Err(TranslateError::MissingField {
            field: format!("{field}.type"),
            hint: "every content part needs a type such as \"text\"",
        }),
    }
}

/// A text part's text; `None` when empty.
fn part_text<'a>(part: &'a Value, field: &str) -> Result<Option<&'a str>, TranslateError> {
    match part.get("text") {
        Some(Value::String(text)) => Ok(Some(text.as_str()).filter(|t| !t.is_empty())),
        Some(other) => Err(TranslateError::invalid(
            format!("{field}.text"),
            "a string",
            other,
        )),
        None => Err(TranslateError::MissingField {
            field: format!("{field}.text"),
            hint: "a text part carries its text in `text`",
        }),
    }
}

fn unsupported_part(field: &str, kind: &str, supported: &str) -> TranslateError {
    TranslateError::UnsupportedContent {
        field: field.to_owned(),
        reason: format!("content parts of type {kind:?} cannot be sent here; send {supported}"),
    }
}

fn required_str<'a>(
    value: &'a Value,
    key: &str,
    field: &str,
    hint: &'static str,
) -> Result<&'a str, TranslateError> {
    match value.get(key) {
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(TranslateError::invalid(
            format!("{field}.{key}"),
            "a string",
            other,
        )),
        None => Err(TranslateError::MissingField {
            field: format!("{field}.{key}"),
            hint,
        }),
    }
}

/// `stop`, a string or a list of strings, as `stop_sequences`.
fn stop_sequences(stop: &Value) -> Result<Value, TranslateError> {
    match stop {
        Value::String(text) => Ok(json!([text])),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(stop.clone()),
        other => Err(TranslateError::invalid(
            "stop",
            "a string or an array of strings",
            other,
        )),
    }
}

/// `tools`, `tool_choice` and `parallel_tool_calls`.
fn translate_tools(
    req: &Map<String, Value>,
    out: &mut Map<String, Value>,
) -> Result<(), TranslateError> {
    let tools = match present(req, "tools") {
        None => return Ok(()),
        Some(Value::Array(tools)) => tools,
        Some(other) => return Err(TranslateError::invalid("tools", "an array", other)),
    };
    if tools.is_empty() {
        // Anthropic rejects a tool_choice without tools.
        return Ok(());
    }
    let mut translated = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let field = format!("tools[{i}]");
        match str_field(tool, "type") {
            Some("function") => {}
            other => {
                return Err(TranslateError::UnsupportedContent {
                    field: format!("{field}.type"),
                    reason: format!(
                        "tools of type {other:?} have no Anthropic counterpart; use function tools"
                    ),
                });
            }
        }
        let function = tool.get("function").unwrap_or(&Value::Null);
        let function_field = format!("{field}.function");
        let name = required_str(
            function,
            "name",
            &function_field,
            "every function tool needs a name",
        )?;
        let mut anthropic = Map::new();
        anthropic.insert("name".into(), json!(name));
        if let Some(description) = str_field(function, "description") {
            anthropic.insert("description".into(), json!(description));
        }
        let schema = match function.get("parameters") {
            None | Some(Value::Null) => json!({ "type": "object", "properties": {} }),
            Some(schema) => schema.clone(),
        };
        anthropic.insert("input_schema".into(), schema);
        translated.push(Value::Object(anthropic));
    }
    out.insert("tools".into(), Value::Array(translated));

    let mut choice = match present(req, "tool_choice") {
        None => None,
        Some(Value::String(mode)) => Some(match mode.as_str() {
            "auto" => json!({ "type": "auto" }),
            "none" => json!({ "type": "none" }),
            "required" => json!({ "type": "any" }),
            other => {
                return Err(TranslateError::UnsupportedContent {
                    field: "tool_choice".into(),
                    reason: format!(
                        "{other:?} is not a tool choice; use auto, none, required or a function"
                    ),
                });
            }
        }),
        Some(choice @ Value::Object(_)) => {
            let name = choice.pointer("/function/name").and_then(Value::as_str).ok_or_else(|| {
                TranslateError::MissingField {
                    field: "tool_choice.function.name".into(),
                    hint: "a forced tool choice names the function: {\"type\": \"function\", \"function\": {\"name\": ...}}",
                }
            })?;
            Some(json!({ "type": "tool", "name": name }))
        }
        Some(other) => {
            return Err(TranslateError::invalid(
                "tool_choice",
                "a string or an object",
                other,
            ));
        }
    };
    if req.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
        let choice = choice.get_or_insert_with(|| json!({ "type": "auto" }));
        if choice["type"] != "none" {
            choice["disable_parallel_tool_use"] = Value::Bool(true);
        }
    }
    if let Some(choice) = choice {
        out.insert("tool_choice".into(), choice);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(request: Value) -> Value {
        openai_chat_to_anthropic(&request).unwrap()
    }

    #[test]
    fn minimal_request() {
        let out = translate(json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "Hello"}]
        }));
        assert_eq!(
            out,
            json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello"}]})
        );
    }

    #[test]
    fn system_and_developer_messages_are_hoisted() {
        let out = translate(json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]}
        ]}));
        assert_eq!(
            out["system"],
            json!([{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Answer in French."}])
        );
        assert_eq!(out["messages"], json!([{"role": "user", "content": "Hi"}]));

        let out = translate(json!({"messages": [{"role": "system", "content": "Only one."}]}));
        assert_eq!(out["system"], "Only one.");
        assert_eq!(out["messages"], json!([]));
    }

    #[test]
    fn images_become_base64_or_url_sources() {
        let out = translate(json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}}
        ]}]}));
        assert_eq!(
            out["messages"][0]["content"],
            json!([
                {"type": "text", "text": "What is this?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
            ])
        );
    }

    #[test]
    fn bad_image_urls_are_errors() {
        for url in [
            "data:image/png,notbase64",
            "ftp://x/y.png",
            "data:;base64,AAAA",
        ] {
            let err = openai_chat_to_anthropic(&json!({"messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": url}}
            ]}]}))
            .unwrap_err();
            assert!(
                matches!(&err, TranslateError::UnsupportedContent { field, .. } if field == "messages[0].content[0].image_url.url"),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn pdf_files_become_documents_and_audio_is_refused() {
        let out = translate(json!({"messages": [{"role": "user", "content": [
            {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}
        ]}]}));
        assert_eq!(out["messages"][0]["content"][0]["type"], "document");
        assert_eq!(
            out["messages"][0]["content"][0]["source"]["data"],
            "JVBERi0="
        );

        let err = openai_chat_to_anthropic(&json!({"messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
        ]}]}))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`messages[0].content[0]` is not supported by an Anthropic backend: content parts of \
             type \"input_audio\" cannot be sent here; send text, image_url and file parts"
        );
    }

    #[test]
    fn tool_round_trip_history() {
        let out = translate(json!({"messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "21C"}]},
            {"role": "user", "content": "Thanks"}
        ]}));
        assert_eq!(
            out["messages"],
            json!([
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "21C"}]},
                    {"type": "text", "text": "Thanks"}
                ]}
            ])
        );
    }

    #[test]
    fn invalid_tool_arguments_are_errors() {
        for (arguments, reason) in [
            ("{not json", "key must be a string"),
            ("[1]", "it encodes an array"),
        ] {
            let err = openai_chat_to_anthropic(&json!({"messages": [{"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
            ]}]}))
            .unwrap_err();
            let TranslateError::InvalidToolArguments { field, reason: got } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(field, "messages[0].tool_calls[0].function.arguments");
            assert!(got.contains(reason), "{got}");
        }
    }

    #[test]
    fn tools_and_choices() {
        let tool = json!({"type": "function", "function": {
            "name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        }});
        let base = json!({"messages": [{"role": "user", "content": "x"}], "tools": [tool]});
        let out = translate(base.clone());
        assert_eq!(
            out["tools"],
            json!([{
                "name": "get_weather", "description": "Weather by city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
            }])
        );
        assert!(out.get("tool_choice").is_none());

        for (choice, want) in [
            (json!("auto"), json!({"type": "auto"})),
            (json!("none"), json!({"type": "none"})),
            (json!("required"), json!({"type": "any"})),
            (
                json!({"type": "function", "function": {"name": "get_weather"}}),
                json!({"type": "tool", "name": "get_weather"}),
            ),
        ] {
            let mut req = base.clone();
            req["tool_choice"] = choice;
            assert_eq!(translate(req)["tool_choice"], want);
        }

        let mut req = base.clone();
        req["parallel_tool_calls"] = json!(false);
        assert_eq!(
            translate(req)["tool_choice"],
            json!({"type": "auto", "disable_parallel_tool_use": true})
        );

        // A tool without parameters gets an empty object schema.
        let out = translate(
            json!({"messages": [], "tools": [{"type": "function", "function": {"name": "now"}}]}),
        );
        assert_eq!(
            out["tools"][0]["input_schema"],
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn tool_choice_without_tools_is_dropped() {
        let out = translate(json!({"messages": [], "tools": [], "tool_choice": "auto"}));
        assert!(
            out.get("tool_choice").is_none() && out.get("tools").is_none(),
            "{out}"
        );
    }

    #[test]
    fn sampling_and_limits() {
        let out = translate(json!({
            "messages": [], "max_tokens": 100, "max_completion_tokens": 200,
            "temperature": 0.5, "top_p": 0.9, "stop": "END", "stream": true,
            "stream_options": {"include_usage": true}, "user": "user-42",
            "frequency_penalty": 0.1, "logit_bias": {}, "n": 1
        }));
        assert_eq!(
            out,
            json!({
                "messages": [], "max_tokens": 200, "temperature": 0.5, "top_p": 0.9,
                "stop_sequences": ["END"], "stream": true, "metadata": {"user_id": "user-42"}
            })
        );
        let out = translate(json!({"messages": [], "max_tokens": 100, "stop": ["a", "b"]}));
        assert_eq!(out["max_tokens"], 100);
        assert_eq!(out["stop_sequences"], json!(["a", "b"]));
    }

    #[test]
    fn stream_usage_option() {
        assert!(stream_include_usage(
            &json!({"stream_options": {"include_usage": true}})
        ));
        assert!(!stream_include_usage(&json!({"stream": true})));
    }

    #[test]
    fn empty_assistant_text_is_dropped() {
        let out = translate(json!({"messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "b"}
        ]}));
        assert_eq!(
            out["messages"],
            json!([{"role": "user", "content": [
                {"type": "text", "text": "a"}, {"type": "text", "text": "b"}
            ]}])
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                json!([]),
                "the request body is an array, but it must be a JSON object",
            ),
            (
                json!({}),
                "`messages` is missing; send the conversation as `messages`, an array of {role, content} objects",
            ),
            (
                json!({"messages": [{"role": "function", "content": "x"}]}),
                "`messages[0].role` is \"function\", which an Anthropic backend cannot take; use one of system, developer, user, assistant or tool",
            ),
            (
                json!({"messages": [{"role": "tool", "content": "x"}]}),
                "`messages[0].tool_call_id` is missing; name the tool call this message answers",
            ),
            (
                json!({"messages": [], "n": 2}),
                "`n` is not supported by an Anthropic backend: it is 2, but Anthropic returns one choice per request; send n = 1",
            ),
            (
                json!({"messages": [], "stop": 5}),
                "`stop` is a number, but it must be a string or an array of strings",
            ),
        ];
        for (request, want) in cases {
            assert_eq!(
                openai_chat_to_anthropic(&request).unwrap_err().to_string(),
                want
            );
        }
    }
}
