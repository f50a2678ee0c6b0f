//! Conversations (A2A contexts) and tasks, kept in the state store so that a
//! restart loses nothing and a conversation continues by id. A conversation
//! belongs to the caller that started it: another caller asking for it is
//! told it does not exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use palisade_api::time::Timestamp;
use palisade_store::{AgentRecord, RecordKind, Store, StoreError};
use serde_json::{Value, json};

/// A conversation: its id, agent, owner and messages (OpenAI Chat shape,
/// without the system message).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The A2A context id.
    pub id: String,
    /// Namespace of the agent.
    pub namespace: String,
    /// Name of the agent.
    pub agent: String,
    /// The caller that started it.
    pub owner: String,
    /// The messages so far.
    pub messages: Vec<Value>,
}

/// Why a conversation cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The id belongs to another caller or agent (said as "not found", so as
    /// not to tell that it exists).
    NotFound,
    /// The store failed.
    Store(String),
}

/// The conversations and tasks of every agent.
pub struct Conversations {
    store: Arc<dyn Store>,
    /// One turn at a time per conversation.
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Conversations {
    /// Conversations kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Conversations {
        Conversations {
            store,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The lock serializing turns of conversation `id`.
    pub fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.retain(|_, w| w.strong_count() > 0);
        if let Some(live) = locks.get(id).and_then(Weak::upgrade) {
            return live;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(id.to_string(), Arc::downgrade(&lock));
        lock
    }

    /// Conversation `id` of agent `namespace/agent` as `owner` sees it:
    /// `Ok(None)` when there is none (or it is someone else's, or another
    /// agent's).
    pub async fn load(
        &self,
        id: &str,
        namespace: &str,
        agent: &str,
        owner: &str,
    ) -> Result<Option<Conversation>, String> {
        let record = self
            .store
            .get_agent_record(RecordKind::Conversation, id)
            .await
            .map_err(|e| format!("cannot read conversation {id}: {e}"))?;
        Ok(record
            .filter(|r| r.namespace == namespace && r.agent == agent && r.owner == owner)
            .map(|r| Conversation {
                messages: r
                    .data
                    .get("messages")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                id: r.id,
                namespace: r.namespace,
                agent: r.agent,
                owner: r.owner,
            }))
    }

    /// Conversation `id` of agent `namespace/agent` for `owner`: the stored
    /// one, or a new empty one claimed under that id.
    pub async fn open(
        &self,
        id: &str,
        namespace: &str,
        agent: &str,
        owner: &str,
    ) -> Result<Conversation, OpenError> {
        if let Some(found) = self
            .load(id, namespace, agent, owner)
            .await
            .map_err(OpenError::Store)?
        {
            return Ok(found);
        }
        let fresh = Conversation {
            id: id.to_string(),
            namespace: namespace.to_string(),
            agent: agent.to_string(),
            owner: owner.to_string(),
            messages: Vec::new(),
        };
        // The store refuses to hand someone else's record over.
        match self.put_conversation(&fresh).await {
            Ok(()) => Ok(fresh),
            Err(StoreError::InvalidObject(_)) => Err(OpenError::NotFound),
            Err(e) => Err(OpenError::Store(format!(
                "cannot store conversation {id}: {e}"
            ))),
        }
    }

    /// Stores a conversation.
    pub async fn save(&self, conversation: &Conversation) -> Result<(), String> {
        self.put_conversation(conversation)
            .await
            .map_err(|e| format!("cannot store conversation {}: {e}", conversation.id))
    }

    async fn put_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        self.put(
            RecordKind::Conversation,
            &conversation.id,
            &conversation.namespace,
            &conversation.agent,
            &conversation.owner,
            json!({"messages": conversation.messages}),
        )
        .await
    }

    /// Stores a task (its A2A form).
    pub async fn save_task(
        &self,
        namespace: &str,
        agent: &str,
        owner: &str,
        task: &Value,
    ) -> Result<(), String> {
        let id = task.get("id").and_then(Value::as_str).unwrap_or_default();
        self.put(RecordKind::Task, id, namespace, agent, owner, task.clone())
            .await
            .map_err(|e| format!("cannot store task {id}: {e}"))
    }

    /// Task `id` of agent `namespace/agent` as `owner` sees it.
    pub async fn task(
        &self,
        id: &str,
        namespace: &str,
        agent: &str,
        owner: &str,
    ) -> Result<Option<Value>, String> {
        let record = self
            .store
            .get_agent_record(RecordKind::Task, id)
            .await
            .map_err(|e| format!("cannot read task {id}: {e}"))?;
        Ok(record
            .filter(|r| r.namespace == namespace && r.agent == agent && r.owner == owner)
            .map(|r| r.data))
    }

    async fn put(
        &self,
        kind: RecordKind,
        id: &str,
        namespace: &str,
        agent: &str,
        owner: &str,
        data: Value,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now();
        self.store
            .put_agent_record(AgentRecord {
                kind,
                id: id.to_string(),
                namespace: namespace.to_string(),
                agent: agent.to_string(),
                owner: owner.to_string(),
                created: now,
                updated: now,
                data,
            })
            .await
            .map(|_| ())
    }
}

/// A new random id: a version-4 UUID, the form A2A clients expect.
pub fn new_id() -> String {
    palisade_store::new_uid().expect("the system random source works")
}
