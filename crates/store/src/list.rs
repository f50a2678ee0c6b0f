//! Listing: filters, pages and continue tokens.
//!
//! A list reads objects in key order (group, kind, namespace, name) in batches,
//! filtering by group, kind and namespace in SQL and by label selector in Rust,
//! until the page is full. The continue token is the key of the page's last object;
//! the next page starts after it. Each page is read in one database snapshot
//! together with the store revision it returns; pages are not a snapshot together
//! (unlike Kubernetes with etcd), so an object changed between two pages shows its
//! newer state on the later page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN_BASE64;
use serde_json::Value;

use crate::crypto::EncryptionKey;
use crate::error::{Result, StoreError};
use crate::key::ObjectKey;
use crate::selector::Selector;
use crate::sql::{Param, Placeholders, Where};

/// Rows read per query while filling a page.
const SCAN_BATCH: usize = 500;

/// What to list; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Only this API group.
    pub group: Option<String>,
    /// Only this kind; `None` = all kinds.
    pub kind: Option<String>,
    /// Only this namespace (`""` = cluster-scoped objects); `None` = all namespaces.
    pub namespace: Option<String>,
    /// Only objects whose `metadata.labels` match.
    pub label_selector: Option<Selector>,
    /// At most this many objects per page; `None` = no limit.
    pub limit: Option<usize>,
    /// Continue after the page that returned this token.
    pub continue_token: Option<String>,
}

impl ListQuery {
    /// Everything in the store.
    pub fn all() -> ListQuery {
        ListQuery::default()
    }

    /// All objects of one kind, in every namespace.
    pub fn kind(group: impl Into<String>, kind: impl Into<String>) -> ListQuery {
        ListQuery {
            group: Some(group.into()),
            kind: Some(kind.into()),
            ..ListQuery::default()
        }
    }

    /// Only objects in `namespace`.
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> ListQuery {
        self.namespace = Some(namespace.into());
        self
    }

    /// Only objects matching `selector`.
    pub fn with_selector(mut self, selector: Selector) -> ListQuery {
        self.label_selector = Some(selector);
        self
    }

    /// Pages of at most `limit` objects.
    pub fn with_limit(mut self, limit: usize) -> ListQuery {
        self.limit = Some(limit);
        self
    }

    /// The page after the one that returned `token`.
    pub fn continue_from(mut self, token: impl Into<String>) -> ListQuery {
        self.continue_token = Some(token.into());
        self
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResult {
    /// The objects, in key order.
    pub items: Vec<Value>,
    /// The store revision the page was read at: watch from it to follow changes.
    pub revision: i64,
    /// Set when there may be more: pass it as [`ListQuery::continue_token`].
    pub continue_token: Option<String>,
}

/// Fills one page: the backend runs [`Pager::next_sql`] until it returns `None`,
/// feeding every row to [`Pager::push`] and ending each batch with
/// [`Pager::end_batch`].
pub(crate) struct Pager<'a> {
    query: &'a ListQuery,
    key: &'a EncryptionKey,
    limit: usize,
    scanned: Option<ObjectKey>,
    items: Vec<Value>,
    last_taken: Option<ObjectKey>,
    full: bool,
    seen_beyond: bool,
    exhausted: bool,
}

impl<'a> Pager<'a> {
    pub(crate) fn new(query: &'a ListQuery, key: &'a EncryptionKey) -> Result<Pager<'a>> {
        let scanned = query
            .continue_token
            .as_deref()
            .map(decode_token)
            .transpose()?;
        let limit = query.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Err(StoreError::InvalidQuery(
                "limit 0 returns nothing; leave it unset for no limit".into(),
            ));
        }
        Ok(Pager {
            query,
            key,
            limit,
            scanned,
            items: Vec::new(),
            last_taken: None,
            full: false,
            seen_beyond: false,
            exhausted: false,
        })
    }

    /// The next query over the objects table (columns: grp, kind, namespace, name,
    /// body), or `None` when the page is done.
    pub(crate) fn next_sql(
        &self,
        table: &str,
        style: Placeholders,
    ) -> Option<(String, Vec<Param>)> {
        if self.full || self.exhausted {
            return None;
        }
        let mut w = Where::new(style);
        w.eq_opt("grp", self.query.group.as_deref());
        w.eq_opt("kind", self.query.kind.as_deref());
        w.eq_opt("namespace", self.query.namespace.as_deref());
        if let Some(after) = &self.scanned {
            let parts = [&after.group, &after.kind, &after.namespace, &after.name]
                .map(|p| w.param(Param::Text(p.clone())));
            w.push(format!(
                "(grp, kind, namespace, name) > ({}, {}, {}, {})",
                parts[0], parts[1], parts[2], parts[3]
            ));
        }
        let limit = w.param(Param::Int(SCAN_BATCH as i64));
        let sql = format!(
            "SELECT grp, kind, namespace, name, body FROM {table} {} \
             ORDER BY grp, kind, namespace, name LIMIT {limit}",
            w.sql()
        );
        Some((sql, w.params().to_vec()))
    }

    /// One row of the current batch, in order.
    pub(crate) fn push(&mut self, key: ObjectKey, stored: Value) -> Result<()> {
        if self.full {
            self.seen_beyond = true;
            return Ok(());
        }
        let selected = self
            .query
            .label_selector
            .as_ref()
            .is_none_or(|s| s.matches_object(&stored));
        if selected {
            self.items.push(self.key.open(&key, stored)?);
            self.last_taken = Some(key.clone());
            self.full = self.items.len() >= self.limit;
        }
        self.scanned = Some(key);
        Ok(())
    }

    /// The current batch had `rows` rows.
    pub(crate) fn end_batch(&mut self, rows: usize) {
        if rows < SCAN_BATCH {
            self.exhausted = true;
        }
    }

    /// The page, read at `revision`.
    pub(crate) fn finish(self, revision: i64) -> ListResult {
        let more = self.full && (self.seen_beyond || !self.exhausted);
        ListResult {
            items: self.items,
            revision,
            continue_token: if more {
                self.last_taken.as_ref().map(encode_token)
            } else {
                None
            },
        }
    }
}

fn encode_token(key: &ObjectKey) -> String {
    let parts = [&key.group, &key.kind, &key.namespace, &key.name];
    TOKEN_BASE64.encode(serde_json::to_vec(&parts).unwrap_or_default())
}

fn decode_token(token: &str) -> Result<ObjectKey> {
    let damaged = || {
        StoreError::InvalidQuery(
            "the continue token is damaged; pass the token from the previous page unchanged, \
             or list from the start"
                .into(),
        )
    };
    let bytes = TOKEN_BASE64.decode(token).map_err(|_| damaged())?;
    let [group, kind, namespace, name]: [String; 4] =
        serde_json::from_slice(&bytes).map_err(|_| damaged())?;
    Ok(ObjectKey {
        group,
        kind,
        namespace,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let key = ObjectKey::new("g", "K", "ns", "n");
        assert_eq!(decode_token(&encode_token(&key)).unwrap(), key);
        assert!(matches!(
            decode_token("!!"),
            Err(StoreError::InvalidQuery(_))
        ));
        assert!(matches!(
            decode_token(&TOKEN_BASE64.encode(b"[1]")),
            Err(StoreError::InvalidQuery(_))
        ));
    }

    #[test]
    fn sql_filters_and_resumes() {
        let key = EncryptionKey::from_bytes(&[1; 32]).unwrap();
        let query = ListQuery::kind("", "ConfigMap")
            .in_namespace("ns")
            .continue_from(encode_token(&ObjectKey::new("", "ConfigMap", "ns", "a")));
        let pager = Pager::new(&query, &key).unwrap();
        let (sql, params) = pager.next_sql("objects", Placeholders::Sqlite).unwrap();
        assert!(
            sql.contains(
                "WHERE grp = ?1 AND kind = ?2 AND namespace = ?3 AND \
                 (grp, kind, namespace, name) > (?4, ?5, ?6, ?7)"
            ),
            "{sql}"
        );
        assert_eq!(params.len(), 8);
    }
}
