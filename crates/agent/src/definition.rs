//! What an `Agent` manifest asks Palisade to run, read once per
//! configuration: the system message, the ModelConfig, the tools (MCP
//! servers narrowed by `toolNames`, other agents), the A2A skills, and
//! whether the agent can run at all (and why not).

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_api::kinds::core::Secret;
use palisade_api::kinds::kagent::{
    A2aConfig, Agent, AgentType, ModelConfig, ToolServerKind, ToolType,
};
use palisade_api::snapshot::Snapshot;

/// Past this many tools, models choose tools less accurately (the seed's own
/// advice); more is a warning.
pub const MAX_RECOMMENDED_TOOLS: usize = 18;

/// A tool source of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolSource {
    /// Tools of an MCPServer or RemoteMCPServer, reached through the
    /// gateway's built-in route `/mcp/<namespace>/<name>`.
    Mcp {
        /// Namespace of the server.
        namespace: String,
        /// Name of the server.
        name: String,
        /// The tools offered (empty: every tool the server lists).
        tool_names: Vec<String>,
    },
    /// Another agent, called over A2A through the gateway.
    Agent {
        /// Namespace of the agent.
        namespace: String,
        /// Name of the agent.
        name: String,
    },
}

/// One agent, ready to run or not.
#[derive(Debug, Clone)]
pub struct AgentDef {
    /// Namespace of the agent.
    pub namespace: String,
    /// Name of the agent.
    pub name: String,
    /// `spec.description`.
    pub description: String,
    /// `spec.version`, for the agent card.
    pub version: String,
    /// The system message.
    pub system_message: String,
    /// The ModelConfig (same namespace).
    pub model_config: String,
    /// Where the tools come from.
    pub tools: Vec<ToolSource>,
    /// `a2aConfig`, for the agent card.
    pub a2a: Option<A2aConfig>,
    /// Why the agent cannot run, if it cannot.
    pub not_ready: Option<String>,
    /// Things worth knowing that do not stop it (e.g. too many tools).
    pub warnings: Vec<String>,
}

/// Every agent of a configuration, by `namespace/name`.
pub type Definitions = BTreeMap<String, Arc<AgentDef>>;

/// Reads every Agent of `snapshot`.
pub fn compile(snapshot: &Snapshot) -> Definitions {
    snapshot
        .of_kind::<Agent>()
        .map(|(_, agent)| {
            let def = define(snapshot, agent);
            (format!("{}/{}", def.namespace, def.name), Arc::new(def))
        })
        .collect()
}

fn define(snapshot: &Snapshot, agent: &Agent) -> AgentDef {
    let namespace = agent
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let spec = &agent.spec;
    let mut def = AgentDef {
        name: agent.metadata.name.clone(),
        description: spec.description.clone().unwrap_or_default(),
        version: spec.version.clone().unwrap_or_else(|| "1".into()),
        system_message: String::new(),
        model_config: String::new(),
        tools: Vec::new(),
        a2a: None,
        not_ready: None,
        warnings: Vec::new(),
        namespace,
    };
    let declarative = match (spec.agent_type(), &spec.declarative) {
        (AgentType::Declarative, Some(d)) => d,
        (AgentType::Declarative, None) => {
            def.not_ready = Some("a Declarative agent needs spec.declarative".into());
            return def;
        }
        (other, _) => {
            def.not_ready = Some(format!(
                "Palisade runs Declarative agents only; this one is {other:?}"
            ));
            return def;
        }
    };
    def.system_message = declarative.system_message.clone().unwrap_or_default();
    def.model_config = declarative.model_config().to_string();
    def.a2a = declarative.a2a_config.clone();
    if declarative.system_message_from.is_some() {
        def.not_ready = Some(
            "systemMessageFrom is not supported yet; write the message in systemMessage".into(),
        );
    }
    let mut counted = 0;
    for tool in &declarative.tools {
        match (tool.type_, &tool.mcp_server, &tool.agent) {
            (ToolType::McpServer, Some(server), _) => {
                if !matches!(
                    server.server_kind(),
                    Some(ToolServerKind::McpServer | ToolServerKind::RemoteMcpServer)
                ) {
                    def.not_ready.get_or_insert(format!(
                        "tool server {} is not an MCPServer or RemoteMCPServer, which are what Palisade serves",
                        server.name
                    ));
                    continue;
                }
                counted += server.tool_names.len();
                def.tools.push(ToolSource::Mcp {
                    namespace: server
                        .namespace
                        .clone()
                        .unwrap_or_else(|| def.namespace.clone()),
                    name: server.name.clone(),
                    tool_names: server.tool_names.clone(),
                });
            }
            (ToolType::Agent, _, Some(other)) => {
                counted += 1;
                def.tools.push(ToolSource::Agent {
                    namespace: other
                        .namespace
                        .clone()
                        .unwrap_or_else(|| def.namespace.clone()),
                    name: other.name.clone(),
                });
            }
            _ => {
                def.not_ready
                    .get_or_insert("a tool entry names neither an mcpServer nor an agent".into());
            }
        }
    }
    if counted > MAX_RECOMMENDED_TOOLS {
        def.warnings.push(too_many_tools(counted));
    }
    if let Some(why) = model_problem(snapshot, &def.namespace, &def.model_config) {
        def.not_ready.get_or_insert(why);
    }
    def
}

/// The warning for an agent offered `count` tools.
pub fn too_many_tools(count: usize) -> String {
    format!(
        "{count} tools are offered to this agent; models choose tools less accurately past {MAX_RECOMMENDED_TOOLS}: narrow toolNames"
    )
}

/// Why ModelConfig `name` cannot serve an agent in `namespace`, if it cannot.
fn model_problem(snapshot: &Snapshot, namespace: &str, name: &str) -> Option<String> {
    let Some((_, config)) = snapshot.get::<ModelConfig>(Some(namespace), name) else {
        return Some(format!(
            "ModelConfig {namespace}/{name} does not exist; create it or set spec.declarative.modelConfig"
        ));
    };
    let secret = config.spec.api_key_secret.as_deref()?;
    let Some((_, found)) = snapshot.get::<Secret>(Some(namespace), secret) else {
        return Some(format!(
            "Secret {namespace}/{secret} (the API key of ModelConfig {name}) does not exist"
        ));
    };
    let key = config.spec.api_key_secret_key.as_deref()?;
    if !found.keys().any(|k| k == key) {
        return Some(format!(
            "Secret {namespace}/{secret} has no key {key} (the API key of ModelConfig {name})"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use palisade_api::load::load_str;

    use super::*;

    fn definitions(yaml: &str) -> Definitions {
        let batch = load_str("test.yaml", yaml);
        let (snapshot, _) = Snapshot::build(batch.resources);
        compile(&snapshot)
    }

    const MODEL: &str = "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m, namespace: a}\nspec: {model: x, provider: Anthropic, apiKeySecret: k, apiKeySecretKey: KEY}\n---\n";

    #[test]
    fn a_missing_model_or_secret_makes_the_agent_not_ready() {
        let agent = "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {name: x, namespace: a}\nspec:\n  type: Declarative\n  declarative: {modelConfig: m, systemMessage: hi}\n";
        let none = definitions(agent);
        assert!(
            none["a/x"]
                .not_ready
                .as_deref()
                .unwrap()
                .contains("ModelConfig a/m does not exist")
        );
        let no_secret = definitions(&format!("{MODEL}{agent}"));
        assert!(
            no_secret["a/x"]
                .not_ready
                .as_deref()
                .unwrap()
                .contains("Secret a/k")
        );
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: k, namespace: a}\nstringData: {KEY: v}\n---\n";
        let ready = definitions(&format!("{secret}{MODEL}{agent}"));
        assert_eq!(ready["a/x"].not_ready, None);
        assert_eq!(ready["a/x"].system_message, "hi");
    }

    #[test]
    fn more_than_eighteen_tools_is_a_warning_with_the_count() {
        let names: Vec<String> = (0..19).map(|i| format!("t{i}")).collect();
        let agent = format!(
            "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {{name: x, namespace: a}}\nspec:\n  type: Declarative\n  declarative:\n    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {{name: s, toolNames: [{}]}}\n",
            names.join(", ")
        );
        let defs = definitions(&format!("{MODEL}{agent}"));
        let def = &defs["a/x"];
        assert_eq!(def.warnings.len(), 1);
        assert!(
            def.warnings[0].starts_with("19 tools"),
            "{:?}",
            def.warnings
        );
        assert_eq!(
            def.tools,
            [ToolSource::Mcp {
                namespace: "a".into(),
                name: "s".into(),
                tool_names: names
            }]
        );
    }
}
