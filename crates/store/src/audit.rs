//! The audit log: who did what to which resource, and whether it was allowed.
//!
//! Records are appended by the API server and the gateway and kept in the same
//! database as the objects. Queries filter on exact fields and a time range and
//! return the newest records first.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::key::ObjectKey;
use crate::sql::{Param, Placeholders, Where};
use crate::time::Timestamp;

/// How many records a query returns when it sets no limit.
pub const DEFAULT_AUDIT_LIMIT: usize = 100;

/// The most records one query returns.
pub const MAX_AUDIT_LIMIT: usize = 10_000;

/// The result of an audited request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The request was authorized and carried out.
    Allowed,
    /// Policy refused the request.
    Denied,
    /// The request failed for another reason.
    Error,
}

impl Outcome {
    /// `allowed`, `denied` or `error`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;

    fn from_str(text: &str) -> Result<Outcome, String> {
        match text {
            "allowed" => Ok(Outcome::Allowed),
            "denied" => Ok(Outcome::Denied),
            "error" => Ok(Outcome::Error),
            other => Err(format!(
                "unknown audit outcome {other:?}; expected allowed, denied or error"
            )),
        }
    }
}

/// One audited request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When it happened.
    pub time: Timestamp,
    /// Who made the request (user, service account, agent identity).
    pub principal: String,
    /// What was asked: `get`, `list`, `create`, `call_tool`, ...
    pub verb: String,
    /// The resource acted on; `name` is empty for collection requests.
    pub resource: ObjectKey,
    /// Whether it was allowed.
    pub outcome: Outcome,
    /// Why, when there is a reason worth keeping (the denying rule, the error).
    pub reason: Option<String>,
    /// Where the record comes from: `api` or `gateway`.
    pub source: String,
    /// Anything else, as JSON.
    pub details: Value,
}

/// Filters for [`crate::Store::query_audit`]; every field set must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// Exact principal.
    pub principal: Option<String>,
    /// Exact verb.
    pub verb: Option<String>,
    /// Exact API group of the resource.
    pub group: Option<String>,
    /// Exact kind of the resource.
    pub kind: Option<String>,
    /// Exact namespace of the resource.
    pub namespace: Option<String>,
    /// Exact name of the resource.
    pub name: Option<String>,
    /// Exact outcome.
    pub outcome: Option<Outcome>,
    /// Exact source (`api`, `gateway`).
    pub source: Option<String>,
    /// Records at or after this time.
    pub since: Option<Timestamp>,
    /// Records before this time.
    pub until: Option<Timestamp>,
    /// At most this many records ([`DEFAULT_AUDIT_LIMIT`] when unset, at most
    /// [`MAX_AUDIT_LIMIT`]).
    pub limit: Option<usize>,
}

impl AuditQuery {
    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_AUDIT_LIMIT)
            .clamp(1, MAX_AUDIT_LIMIT)
    }

    /// The `SELECT` for this query over the `audit` table (named `table`), newest
    /// first, and its parameters. Columns come back in [`AUDIT_COLUMNS`] order.
    pub(crate) fn to_sql(&self, table: &str, style: Placeholders) -> (String, Vec<Param>) {
        let mut w = Where::new(style);
        w.eq_opt("principal", self.principal.as_deref());
        w.eq_opt("verb", self.verb.as_deref());
        w.eq_opt("grp", self.group.as_deref());
        w.eq_opt("kind", self.kind.as_deref());
        w.eq_opt("namespace", self.namespace.as_deref());
        w.eq_opt("name", self.name.as_deref());
        w.eq_opt("outcome", self.outcome.map(Outcome::as_str));
        w.eq_opt("source", self.source.as_deref());
        if let Some(since) = self.since {
            w.compare("time_us", ">=", Param::Int(since.as_micros()));
        }
        if let Some(until) = self.until {
            w.compare("time_us", "<", Param::Int(until.as_micros()));
        }
        let limit = w.param(Param::Int(self.effective_limit() as i64));
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM {table} {} ORDER BY time_us DESC, id DESC LIMIT {limit}",
            w.sql()
        );
        (sql, w.params().to_vec())
    }
}

/// The audit columns, in the order rows are read and written.
pub(crate) const AUDIT_COLUMNS: &str =
    "time_us, principal, verb, grp, kind, namespace, name, outcome, reason, source, details";

/// An audit row as the backends read it, turned into a record.
pub(crate) struct AuditRow {
    pub time_us: i64,
    pub principal: String,
    pub verb: String,
    pub resource: ObjectKey,
    pub outcome: String,
    pub reason: Option<String>,
    pub source: String,
    pub details: String,
}

impl AuditRow {
    /// The record, or a `Backend` error naming what is damaged.
    pub(crate) fn into_record(self) -> Result<AuditRecord, crate::StoreError> {
        let outcome = self.outcome.parse().map_err(|e| {
            crate::StoreError::Backend(format!("a stored audit record is damaged: {e}"))
        })?;
        let details = serde_json::from_str(&self.details).map_err(|e| {
            crate::StoreError::Backend(format!(
                "a stored audit record has damaged details JSON: {e}"
            ))
        })?;
        Ok(AuditRecord {
            time: Timestamp::from_micros(self.time_us),
            principal: self.principal,
            verb: self.verb,
            resource: self.resource,
            outcome,
            reason: self.reason,
            source: self.source,
            details,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_sql_has_every_filter() {
        let q = AuditQuery {
            principal: Some("alice".into()),
            kind: Some("Secret".into()),
            outcome: Some(Outcome::Denied),
            since: Some(Timestamp::from_micros(10)),
            limit: Some(5),
            ..AuditQuery::default()
        };
        let (sql, params) = q.to_sql("audit", Placeholders::Postgres);
        assert!(
            sql.ends_with(
                "FROM audit WHERE principal = $1 AND kind = $2 AND outcome = $3 AND time_us >= $4 \
                 ORDER BY time_us DESC, id DESC LIMIT $5"
            ),
            "{sql}"
        );
        assert_eq!(params.len(), 5);
        assert_eq!(params[2], Param::Text("denied".into()));
        assert_eq!(AuditQuery::default().effective_limit(), DEFAULT_AUDIT_LIMIT);
        assert_eq!("error".parse::<Outcome>(), Ok(Outcome::Error));
        assert!("nope".parse::<Outcome>().is_err());
    }
}
