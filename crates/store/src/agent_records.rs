//! Declarative agents' conversations and tasks (A2A contexts and tasks).
//!
//! An [`AgentRecord`] is the state an agent keeps between turns: a conversation's
//! history or a task's status and artifacts, as opaque JSON. Records are not
//! resources: they have no manifest, take no store revision and never appear in
//! the change log, so watches do not see them. They live in the same database as
//! the objects so every replica of a PostgreSQL deployment shares them.
//!
//! A record is identified by its [`RecordKind`] and `id`, and belongs to one agent
//! (`namespace`, `agent`) and one `owner`, the principal that created it. Writes
//! are upserts that never change those three: a write naming another agent or
//! owner for an existing id is refused and the stored record is left as it was.
//! The store stamps `created` and `updated` itself; `updated` strictly increases
//! on every write of a record, so lists (newest updated first) follow activity.
//! A record's `data` is at most [`MAX_RECORD_BYTES`] of JSON.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::sql::{Param, Placeholders, Where};
use crate::time::Timestamp;

/// The most bytes a record's `data` may take, serialized as JSON (4 MiB).
pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;

/// How many records a query returns when it sets no limit.
pub const DEFAULT_RECORD_LIMIT: usize = 100;

/// The most records one query returns (each may hold up to [`MAX_RECORD_BYTES`]).
pub const MAX_RECORD_LIMIT: usize = 1_000;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A conversation (an A2A context): the messages exchanged so far.
    Conversation,
    /// A task (an A2A task): its status, history and artifacts.
    Task,
}

impl RecordKind {
    /// `conversation` or `task`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Conversation => "conversation",
            RecordKind::Task => "task",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = String;

    fn from_str(text: &str) -> Result<RecordKind, String> {
        match text {
            "conversation" => Ok(RecordKind::Conversation),
            "task" => Ok(RecordKind::Task),
            other => Err(format!(
                "unknown agent record kind {other:?}; expected conversation or task"
            )),
        }
    }
}

/// A conversation or task of a declarative agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// Conversation or task.
    pub kind: RecordKind,
    /// The record's id (the A2A context or task id), unique within its kind.
    pub id: String,
    /// The namespace of the agent it belongs to.
    pub namespace: String,
    /// The name of the agent it belongs to.
    pub agent: String,
    /// The principal that created it; only it may continue the record.
    pub owner: String,
    /// When it was first stored (set by the store).
    pub created: Timestamp,
    /// When it was last stored (set by the store).
    pub updated: Timestamp,
    /// The conversation or task itself, as JSON (at most [`MAX_RECORD_BYTES`]).
    pub data: Value,
}

/// Filters for [`crate::Store::list_agent_records`]; every field set must match.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecordQuery {
    /// Records of this kind.
    pub kind: RecordKind,
    /// Exact namespace of the agent.
    pub namespace: Option<String>,
    /// Exact name of the agent.
    pub agent: Option<String>,
    /// Exact owner.
    pub owner: Option<String>,
    /// At most this many records ([`DEFAULT_RECORD_LIMIT`] when unset, at most
    /// [`MAX_RECORD_LIMIT`]).
    pub limit: Option<usize>,
}

impl AgentRecordQuery {
    /// Every record of `kind` (up to the default limit).
    pub fn kind(kind: RecordKind) -> AgentRecordQuery {
        AgentRecordQuery {
            kind,
            namespace: None,
            agent: None,
            owner: None,
            limit: None,
        }
    }

    /// Only the records of the agent `namespace`/`agent`.
    pub fn for_agent(
        mut self,
        namespace: impl Into<String>,
        agent: impl Into<String>,
    ) -> AgentRecordQuery {
        self.namespace = Some(namespace.into());
        self.agent = Some(agent.into());
        self
    }

    /// Only the records `owner` created.
    pub fn owned_by(mut self, owner: impl Into<String>) -> AgentRecordQuery {
        self.owner = Some(owner.into());
        self
    }

    /// At most `limit` records.
    pub fn with_limit(mut self, limit: usize) -> AgentRecordQuery {
        self.limit = Some(limit);
        self
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_RECORD_LIMIT)
            .clamp(1, MAX_RECORD_LIMIT)
    }

    /// The `SELECT` for this query over the records table (named `table`), newest
    /// updated first, and its parameters. Columns come back in [`RECORD_COLUMNS`]
    /// order.
    pub(crate) fn to_sql(&self, table: &str, style: Placeholders) -> (String, Vec<Param>) {
        let mut w = Where::new(style);
        w.eq_opt("kind", Some(self.kind.as_str()));
        w.eq_opt("namespace", self.namespace.as_deref());
        w.eq_opt("agent", self.agent.as_deref());
        w.eq_opt("owner", self.owner.as_deref());
        let limit = w.param(Param::Int(self.effective_limit() as i64));
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM {table} {} ORDER BY updated_us DESC, id DESC LIMIT {limit}",
            w.sql()
        );
        (sql, w.params().to_vec())
    }
}

/// The record columns, in the order rows are read and written.
pub(crate) const RECORD_COLUMNS: &str =
    "kind, id, namespace, agent, owner, created_us, updated_us, data";

/// Checks a record before it is written and returns its `data` as stored.
///
/// Fails with [`StoreError::InvalidObject`] when the id or agent is empty or the
/// data is larger than [`MAX_RECORD_BYTES`].
pub(crate) fn check(record: &AgentRecord) -> Result<String> {
    if record.id.is_empty() {
        return Err(StoreError::InvalidObject(format!(
            "a {} record needs an id",
            record.kind
        )));
    }
    if record.agent.is_empty() {
        return Err(StoreError::InvalidObject(format!(
            "{} {:?} needs the name of the agent it belongs to",
            record.kind, record.id
        )));
    }
    let data = record.data.to_string();
    if data.len() > MAX_RECORD_BYTES {
        return Err(StoreError::InvalidObject(format!(
            "{} {:?} of agent {}/{} is {} bytes of JSON, more than the {MAX_RECORD_BYTES} bytes \
             (4 MiB) a record may hold; trim its history or store large artifacts elsewhere",
            record.kind,
            record.id,
            record.namespace,
            record.agent,
            data.len()
        )));
    }
    Ok(data)
}

/// The refusal of a write that would move an existing record to another agent or
/// owner. It names what differs but not the stored values, so a caller learns
/// nothing about another principal's record beyond that it exists.
pub(crate) fn changes_hands(
    record: &AgentRecord,
    namespace: &str,
    agent: &str,
    owner: &str,
) -> StoreError {
    let mut differs = Vec::new();
    if record.namespace != namespace {
        differs.push("namespace");
    }
    if record.agent != agent {
        differs.push("agent");
    }
    if record.owner != owner {
        differs.push("owner");
    }
    let differs = if differs.is_empty() {
        "agent or owner".to_string()
    } else {
        differs.join(" and ")
    };
    StoreError::InvalidObject(format!(
        "{} {:?} belongs to a different {differs}: a record never changes hands; start a new {} \
         instead",
        record.kind, record.id, record.kind
    ))
}

/// A record row as the backends read it, turned into a record.
pub(crate) struct RecordRow {
    pub kind: String,
    pub id: String,
    pub namespace: String,
    pub agent: String,
    pub owner: String,
    pub created_us: i64,
    pub updated_us: i64,
    pub data: String,
}

impl RecordRow {
    /// The record, or a `Backend` error naming what is damaged.
    pub(crate) fn into_record(self) -> Result<AgentRecord> {
        let kind = self.kind.parse().map_err(|e| {
            StoreError::Backend(format!(
                "a stored agent record {:?} is damaged: {e}",
                self.id
            ))
        })?;
        let data = serde_json::from_str(&self.data).map_err(|e| {
            StoreError::Backend(format!(
                "the stored {kind} {:?} has damaged data JSON ({e}); delete the row to start \
                 it over",
                self.id
            ))
        })?;
        Ok(AgentRecord {
            kind,
            id: self.id,
            namespace: self.namespace,
            agent: self.agent,
            owner: self.owner,
            created: Timestamp::from_micros(self.created_us),
            updated: Timestamp::from_micros(self.updated_us),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(data: Value) -> AgentRecord {
        AgentRecord {
            kind: RecordKind::Task,
            id: "t1".into(),
            namespace: "ns".into(),
            agent: "helper".into(),
            owner: "alice".into(),
            created: Timestamp::from_micros(0),
            updated: Timestamp::from_micros(0),
            data,
        }
    }

    #[test]
    fn query_sql_has_every_filter() {
        let q = AgentRecordQuery::kind(RecordKind::Conversation)
            .for_agent("ns", "helper")
            .owned_by("alice")
            .with_limit(5);
        let (sql, params) = q.to_sql("records", Placeholders::Sqlite);
        assert!(
            sql.ends_with(
                "FROM records WHERE kind = ?1 AND namespace = ?2 AND agent = ?3 AND owner = ?4 \
                 ORDER BY updated_us DESC, id DESC LIMIT ?5"
            ),
            "{sql}"
        );
        assert_eq!(params[0], Param::Text("conversation".into()));
        assert_eq!(params[4], Param::Int(5));
        let (sql, params) =
            AgentRecordQuery::kind(RecordKind::Task).to_sql("r", Placeholders::Postgres);
        assert!(
            sql.ends_with("FROM r WHERE kind = $1 ORDER BY updated_us DESC, id DESC LIMIT $2"),
            "{sql}"
        );
        assert_eq!(params[1], Param::Int(DEFAULT_RECORD_LIMIT as i64));
        let huge = AgentRecordQuery::kind(RecordKind::Task).with_limit(usize::MAX);
        assert_eq!(huge.effective_limit(), MAX_RECORD_LIMIT);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [RecordKind::Conversation, RecordKind::Task] {
            assert_eq!(kind.as_str().parse::<RecordKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        assert!("Task".parse::<RecordKind>().is_err());
    }

    #[test]
    fn checks_size_and_identity() {
        assert!(check(&record(json!({"a": 1}))).is_ok());
        // A string of MAX_RECORD_BYTES - 2 characters serializes to exactly the limit.
        assert!(check(&record(json!("x".repeat(MAX_RECORD_BYTES - 2)))).is_ok());
        let err = check(&record(json!("x".repeat(MAX_RECORD_BYTES - 1)))).unwrap_err();
        assert!(matches!(err, StoreError::InvalidObject(_)), "{err}");
        assert!(err.to_string().contains("4 MiB"), "{err}");
        let mut nameless = record(json!({}));
        nameless.id.clear();
        assert!(check(&nameless).is_err());
    }

    #[test]
    fn hand_over_errors_name_what_differs_not_the_stored_values() {
        let text = changes_hands(&record(json!({})), "ns", "helper", "mallory").to_string();
        assert!(text.contains("different owner"), "{text}");
        assert!(!text.contains("mallory"), "{text}");
        let text = changes_hands(&record(json!({})), "other", "x", "alice").to_string();
        assert!(text.contains("different namespace and agent"), "{text}");
    }
}
