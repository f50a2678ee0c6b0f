//! Watches: a stream of changes read from the change log.
//!
//! Every write appends one row to the change log in the same transaction, numbered
//! by the write's revision. A watch is a task that reads the log after its cursor,
//! sends the events that match its filters, and sleeps until the notifier says the
//! revision moved. Both backends share this code; they differ only in what wakes the
//! notifier: SQLite's own writes (one process), PostgreSQL's writes from this process
//! and `NOTIFY`s from other replicas.
//!
//! No event is missed: the task marks the notifier seen *before* reading the log,
//! and every notification is sent after its write committed, so a write either is in
//! the read or wakes the task for another. Writes commit in revision order (see the
//! backends), so once revision `n` is readable every revision below it is too.
//!
//! The log is bounded: entries up to the *compacted* revision are deleted. A watch
//! that starts below it, or falls behind it because its consumer is too slow, gets
//! [`StoreError::Expired`] and ends; the consumer lists again and watches from the
//! list's revision, as Kubernetes clients do on `410 Gone`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::crypto::EncryptionKey;
use crate::error::{Result, StoreError};
use crate::key::ObjectKey;
use crate::selector::Selector;
use crate::store::BoxFuture;

/// How many change-log rows one read takes.
const READ_BATCH: usize = 256;

/// How often a watch tries a change-log read before it ends with the error.
const READ_ATTEMPTS: u32 = 5;

/// How many events may wait for a slow consumer before the watch stops reading.
const CHANNEL_CAPACITY: usize = 256;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted.
    Deleted,
}

impl EventType {
    /// `ADDED`, `MODIFIED` or `DELETED`, as stored and as Kubernetes writes them.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<EventType> {
        match text {
            "ADDED" => Ok(EventType::Added),
            "MODIFIED" => Ok(EventType::Modified),
            "DELETED" => Ok(EventType::Deleted),
            other => Err(StoreError::Backend(format!(
                "the change log holds an unknown event type {other:?}; the database was \
                 written by another program"
            ))),
        }
    }
}

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// What happened.
    pub event_type: EventType,
    /// The object after the change; for `Deleted`, its last state with the
    /// deletion's revision as `resourceVersion`.
    pub object: Value,
    /// The store revision of the change.
    pub revision: i64,
}

/// What a watch sends: the filters, all of which must match, and where to start.
#[derive(Debug, Clone, Default)]
pub struct WatchQuery {
    /// Only this API group.
    pub group: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this namespace (`""` = cluster-scoped objects); `None` = all.
    pub namespace: Option<String>,
    /// Only objects whose labels match (judged on the changed object's labels).
    pub label_selector: Option<Selector>,
    /// Send the changes after this revision, e.g. a list's revision; `None` = only
    /// changes from now on.
    pub since_revision: Option<i64>,
}

impl WatchQuery {
    fn matches(&self, change: &Change) -> bool {
        let eq =
            |filter: &Option<String>, value: &str| filter.as_deref().is_none_or(|f| f == value);
        eq(&self.group, &change.key.group)
            && eq(&self.kind, &change.key.kind)
            && eq(&self.namespace, &change.key.namespace)
            && self
                .label_selector
                .as_ref()
                .is_none_or(|s| s.matches_object(&change.body))
    }
}

/// A running watch: events in revision order. It ends when dropped, when the store
/// is dropped, or after an error, which is its last item (failed change-log reads
/// are retried a few times first).
#[derive(Debug)]
pub struct Watch {
    events: mpsc::Receiver<Result<WatchEvent>>,
    start_revision: i64,
}

impl Watch {
    /// The next event; `None` once the watch has ended.
    pub async fn next(&mut self) -> Option<Result<WatchEvent>> {
        self.events.recv().await
    }

    /// The revision the watch started after: events have greater revisions.
    pub fn start_revision(&self) -> i64 {
        self.start_revision
    }

    /// The underlying channel, for `tokio::select!` loops.
    pub fn into_receiver(self) -> mpsc::Receiver<Result<WatchEvent>> {
        self.events
    }
}

impl Stream for Watch {
    type Item = Result<WatchEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_recv(cx)
    }
}

/// A change-log row as a backend reads it; `body` is the stored (sealed) form.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub revision: i64,
    pub event_type: EventType,
    pub key: ObjectKey,
    pub body: Value,
}

/// The change log's rows after a revision, read in one snapshot with the log's
/// bounds.
#[derive(Debug)]
pub(crate) struct ChangeBatch {
    /// Rows in revision order.
    pub changes: Vec<Change>,
    /// The newest revision deleted from the log (0 = none).
    pub compacted: i64,
}

/// What a backend gives the shared watch code: reads of its change log.
pub(crate) trait ChangeLog: Send + Sync + 'static {
    /// Up to `limit` rows with revisions greater than `after`.
    fn read_after(&self, after: i64, limit: usize) -> BoxFuture<'_, Result<ChangeBatch>>;

    /// The store's revision and the log's compacted revision.
    fn bounds(&self) -> BoxFuture<'_, Result<(i64, i64)>>;
}

/// Wakes watches when the store revision moves. Holds the newest revision known to
/// this process; watches end when it is dropped.
#[derive(Debug)]
pub(crate) struct Notifier {
    latest: watch::Sender<i64>,
}

impl Notifier {
    pub(crate) fn new(revision: i64) -> Notifier {
        Notifier {
            latest: watch::Sender::new(revision),
        }
    }

    /// A write committed `revision`: wake the watches if it is news.
    pub(crate) fn committed(&self, revision: i64) {
        self.latest.send_if_modified(|latest| {
            let news = revision > *latest;
            if news {
                *latest = revision;
            }
            news
        });
    }

    /// Wake every watch to read the log again (after notifications may have been
    /// lost, e.g. while reconnecting).
    pub(crate) fn wake_all(&self) {
        self.latest.send_modify(|_| {});
    }

    fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }
}

/// Starts a watch over `log`: checks the start revision against the log's bounds,
/// then spawns the task that feeds the returned [`Watch`].
pub(crate) async fn start(
    log: Arc<dyn ChangeLog>,
    notifier: &Notifier,
    key: EncryptionKey,
    query: WatchQuery,
) -> Result<Watch> {
    let wake = notifier.subscribe();
    let (revision, compacted) = log.bounds().await?;
    let start_revision = match query.since_revision {
        Some(since) if since < compacted => {
            return Err(StoreError::Expired {
                revision: since,
                compacted,
            });
        }
        Some(since) => since,
        None => revision,
    };
    let (sender, events) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(feed(log, wake, key, query, start_revision, sender));
    Ok(Watch {
        events,
        start_revision,
    })
}

/// The watch task: read, filter, open and send, then wait for news.
async fn feed(
    log: Arc<dyn ChangeLog>,
    mut wake: watch::Receiver<i64>,
    key: EncryptionKey,
    query: WatchQuery,
    mut cursor: i64,
    sender: mpsc::Sender<Result<WatchEvent>>,
) {
    loop {
        wake.borrow_and_update();
        let batch = match read_with_retries(&*log, cursor).await {
            Ok(batch) => batch,
            Err(e) => {
                let _ = sender.send(Err(e)).await;
                return;
            }
        };
        if cursor < batch.compacted {
            let expired = StoreError::Expired {
                revision: cursor,
                compacted: batch.compacted,
            };
            let _ = sender.send(Err(expired)).await;
            return;
        }
        let more = batch.changes.len() == READ_BATCH;
        for change in batch.changes {
            cursor = change.revision;
            if !query.matches(&change) {
                continue;
            }
            let event = key.open(&change.key, change.body).map(|object| WatchEvent {
                event_type: change.event_type,
                object,
                revision: change.revision,
            });
            let failed = event.is_err();
            if sender.send(event).await.is_err() || failed {
                return;
            }
        }
        if more {
            continue;
        }
        tokio::select! {
            () = sender.closed() => return,
            changed = wake.changed() => if changed.is_err() { return },
        }
    }
}

/// Reads the log after `cursor`, retrying backend errors (a dropped connection)
/// a few times with backoff before giving up.
async fn read_with_retries(log: &dyn ChangeLog, cursor: i64) -> Result<ChangeBatch> {
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match log.read_after(cursor, READ_BATCH).await {
            Err(StoreError::Backend(message)) if attempt < READ_ATTEMPTS => {
                tracing::warn!(error = %message, attempt, "reading the change log failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}
