//! Request shaping from an AI policy, applied to the client's request before the
//! guards look at it and before translation: model aliases, field defaults and
//! overrides, and static prompt enrichment (messages placed before and after the
//! client's).

use std::collections::BTreeMap;

use palisade_api::kinds::agentgateway::ai::{AiPolicy, Message};
use palisade_llm::ApiFormat;
use serde_json::{Map, Value, json};

/// What a policy changes in every request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestShaping {
    aliases: BTreeMap<String, String>,
    defaults: Vec<(String, Value)>,
    overrides: Vec<(String, Value)>,
    prepend: Vec<Message>,
    append: Vec<Message>,
}

impl RequestShaping {
    /// The shaping an AI policy asks for; `None` when it asks for none.
    pub fn from_policy(ai: &AiPolicy) -> Option<RequestShaping> {
        let prompt = ai.prompt.clone().unwrap_or_default();
        let shaping = RequestShaping {
            aliases: ai.model_aliases.clone(),
            defaults: ai
                .defaults
                .iter()
                .map(|f| (f.field.clone(), f.value.clone()))
                .collect(),
            overrides: ai
                .overrides
                .iter()
                .map(|f| (f.field.clone(), f.value.clone()))
                .collect(),
            prepend: prompt.prepend,
            append: prompt.append,
        };
        (shaping != RequestShaping::default()).then_some(shaping)
    }

    /// Shapes a request body of `format` in place (a body that is not a JSON
    /// object is left as it is; the request path reports it).
    pub fn apply(&self, format: ApiFormat, body: &mut Value) {
        let Some(obj) = body.as_object_mut() else {
            return;
        };
        if let Some(Value::String(model)) = obj.get_mut("model")
            && let Some(target) = self.aliases.get(model.as_str())
        {
            *model = target.clone();
        }
        for (field, value) in &self.defaults {
            if obj.get(field).is_none_or(Value::is_null) {
                obj.insert(field.clone(), value.clone());
            }
        }
        for (field, value) in &self.overrides {
            obj.insert(field.clone(), value.clone());
        }
        if !self.prepend.is_empty() || !self.append.is_empty() {
            match format {
                ApiFormat::OpenAiChat => enrich_list(obj, "messages", &self.prepend, &self.append),
                ApiFormat::AnthropicMessages => self.enrich_anthropic(obj),
                ApiFormat::OpenAiResponses => {
                    if let Some(Value::String(text)) = obj.get("input").cloned() {
                        obj.insert("input".into(), json!([{"role": "user", "content": text}]));
                    }
                    enrich_list(obj, "input", &self.prepend, &self.append);
                }
            }
        }
    }

    /// Anthropic keeps the system prompt apart: system messages join `system`
    /// (prepended ones before the client's, appended ones after); the others
    /// join `messages`.
    fn enrich_anthropic(&self, obj: &mut Map<String, Value>) {
        let split = |list: &[Message]| -> (Vec<String>, Vec<Message>) {
            let system = list
                .iter()
                .filter(|m| m.role == "system")
                .map(|m| m.content.clone())
                .collect();
            let rest = list
                .iter()
                .filter(|m| m.role != "system")
                .cloned()
                .collect();
            (system, rest)
        };
        let (system_before, before) = split(&self.prepend);
        let (system_after, after) = split(&self.append);
        if !system_before.is_empty() || !system_after.is_empty() {
            let client = match obj.get("system") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(blocks)) => blocks
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str).map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let all: Vec<String> = system_before
                .into_iter()
                .chain(client)
                .chain(system_after)
                .collect();
            obj.insert("system".into(), Value::String(all.join("\n\n")));
        }
        enrich_list(obj, "messages", &before, &after);
    }
}

fn as_json(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| json!({"role": m.role, "content": m.content}))
        .collect()
}

fn enrich_list(obj: &mut Map<String, Value>, key: &str, before: &[Message], after: &[Message]) {
    if before.is_empty() && after.is_empty() {
        return;
    }
    let client = match obj.remove(key) {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let all: Vec<Value> = as_json(before)
        .into_iter()
        .chain(client)
        .chain(as_json(after))
        .collect();
    obj.insert(key.into(), Value::Array(all));
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_api::kinds::agentgateway::ai::{FieldValue, PromptEnrichment};

    fn shaping() -> RequestShaping {
        RequestShaping::from_policy(&AiPolicy {
            prompt: Some(PromptEnrichment {
                prepend: vec![Message {
                    role: "system".into(),
                    content: "Be brief.".into(),
                }],
                append: vec![Message {
                    role: "user".into(),
                    content: "Answer in French.".into(),
                }],
            }),
            defaults: vec![FieldValue {
                field: "temperature".into(),
                value: json!(0.2),
            }],
            overrides: vec![FieldValue {
                field: "max_tokens".into(),
                value: json!(64),
            }],
            model_aliases: BTreeMap::from([("fast".to_string(), "gpt-4o-mini".to_string())]),
            ..AiPolicy::default()
        })
        .unwrap()
    }

    #[test]
    fn shapes_openai_chat() {
        let mut body = json!({"model": "fast", "temperature": 0.9, "max_tokens": 1000,
            "messages": [{"role": "user", "content": "hi"}]});
        shaping().apply(ApiFormat::OpenAiChat, &mut body);
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(
            body["temperature"], 0.9,
            "a default keeps the client's value"
        );
        assert_eq!(body["max_tokens"], 64, "an override replaces it");
        assert_eq!(body["messages"][0]["content"], "Be brief.");
        assert_eq!(body["messages"][1]["content"], "hi");
        assert_eq!(body["messages"][2]["content"], "Answer in French.");
    }

    #[test]
    fn shapes_anthropic_messages_keeping_the_system_prompt_apart() {
        let mut body =
            json!({"system": "You are helpful.", "messages": [{"role": "user", "content": "hi"}]});
        shaping().apply(ApiFormat::AnthropicMessages, &mut body);
        assert_eq!(body["system"], "Be brief.\n\nYou are helpful.");
        assert_eq!(body["temperature"], 0.2, "a default fills an absent field");
        assert_eq!(body["messages"].as_array().unwrap().len(), 2);
        assert_eq!(body["messages"][1]["content"], "Answer in French.");
    }

    #[test]
    fn nothing_to_do_is_none() {
        assert!(RequestShaping::from_policy(&AiPolicy::default()).is_none());
    }
}
