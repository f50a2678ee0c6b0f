//! The PostgreSQL backend: one database shared by any number of replicas.
//!
//! **Commit order.** Every write transaction first locks the single row of
//! `palisade_meta` (`SELECT ... FOR UPDATE`), takes the next revision there, writes
//! the object and its change-log row, sends `NOTIFY palisade_changes, '<revision>'`
//! and commits. The row lock serializes writers across all replicas until commit,
//! so revisions commit strictly in order, with no gaps (a failed write rolls its
//! revision back), and a reader that sees revision `n` sees every revision before
//! it. That is what lets a watch read "the log after my cursor" and never miss an
//! event. Writes are therefore one at a time; a control plane's write rate is far
//! below what one row lock allows.
//!
//! **Watches across replicas.** Each store keeps one extra connection that
//! `LISTEN`s on `palisade_changes`; PostgreSQL delivers a notification after its
//! transaction commits, and the store wakes its watches, which then read the change
//! log (the same code as SQLite: see [`crate::watch`]). The same task re-reads the
//! revision every `resync_interval` and after reconnecting, in case a notification
//! was lost while the connection was down.
//!
//! **Reads** that return a revision (lists, change-log reads) run in read-only
//! `REPEATABLE READ` transactions so the rows and the revision are one snapshot.
//!
//! **No TLS yet**: connections are plain; keep the database on a trusted network.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{
    AsyncMessage, Client, Config, GenericClient, IsolationLevel, Row, Transaction,
};

use crate::agent_records::{
    self, AgentRecord, AgentRecordQuery, RECORD_COLUMNS, RecordKind, RecordRow,
};
use crate::audit::{AUDIT_COLUMNS, AuditQuery, AuditRecord, AuditRow};
use crate::crypto::EncryptionKey;
use crate::error::{Result, StoreError};
use crate::key::ObjectKey;
use crate::list::{ListQuery, ListResult, Pager};
use crate::object::{
    check_precondition, resource_version, stamp_create, stamp_delete, stamp_update, validate,
};
use crate::pg_pool::{Pool, describe};
use crate::schema::{self, AGENT_RECORDS, AUDIT, Migration, OBJECTS};
use crate::sql::{Param, Placeholders};
use crate::store::{BoxFuture, Store, StoreOptions};
use crate::time::Timestamp;
use crate::watch::{self, Change, ChangeBatch, ChangeLog, EventType, Notifier, Watch, WatchQuery};

/// The channel writes notify and stores listen on.
pub const CHANNEL: &str = "palisade_changes";

/// Taken (transaction-scoped) while migrating, so replicas starting together
/// migrate one at a time. The bytes spell "palisade".
const MIGRATION_LOCK: i64 = 0x7061_6c69_7361_6465;

/// The PostgreSQL schema, oldest first.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: r#"
        CREATE TABLE palisade_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            revision BIGINT NOT NULL,
            compacted BIGINT NOT NULL
        );
        INSERT INTO palisade_meta (id, revision, compacted) VALUES (1, 0, 0);
        CREATE TABLE palisade_objects (
            grp TEXT COLLATE "C" NOT NULL,
            kind TEXT COLLATE "C" NOT NULL,
            namespace TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            uid TEXT NOT NULL,
            revision BIGINT NOT NULL,
            created TIMESTAMPTZ NOT NULL,
            updated TIMESTAMPTZ NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (grp, kind, namespace, name)
        );
        CREATE TABLE palisade_changes (
            revision BIGINT PRIMARY KEY,
            event TEXT NOT NULL,
            grp TEXT NOT NULL,
            kind TEXT NOT NULL,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            body TEXT NOT NULL,
            time TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE TABLE palisade_audit (
            id BIGSERIAL PRIMARY KEY,
            time_us BIGINT NOT NULL,
            principal TEXT NOT NULL,
            verb TEXT NOT NULL,
            grp TEXT NOT NULL,
            kind TEXT NOT NULL,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT,
            source TEXT NOT NULL,
            details TEXT NOT NULL
        );
        CREATE INDEX palisade_audit_time ON palisade_audit (time_us, id);
        CREATE INDEX palisade_audit_principal ON palisade_audit (principal, time_us);
    "#,
    },
    Migration {
        version: 2,
        sql: r#"
        CREATE TABLE palisade_agent_records (
            kind TEXT COLLATE "C" NOT NULL,
            id TEXT COLLATE "C" NOT NULL,
            namespace TEXT COLLATE "C" NOT NULL,
            agent TEXT COLLATE "C" NOT NULL,
            owner TEXT COLLATE "C" NOT NULL,
            created_us BIGINT NOT NULL,
            updated_us BIGINT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX palisade_agent_records_agent
            ON palisade_agent_records (kind, namespace, agent, updated_us);
    "#,
    },
];

/// A store in a PostgreSQL database.
pub struct PgStore {
    db: Arc<Db>,
    notifier: Arc<Notifier>,
    listener: JoinHandle<()>,
}

/// The pool and what the queries need besides it.
struct Db {
    pool: Pool,
    key: EncryptionKey,
    retained_revisions: i64,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or a libpq
    /// `key=value` string), brings the schema up to date and starts listening for
    /// other replicas' writes.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<PgStore> {
        let mut config: Config = url.parse().map_err(|e| {
            StoreError::Backend(format!(
                "the PostgreSQL URL is invalid ({e}); expected postgres://user:password@host:port/database"
            ))
        })?;
        if config.get_application_name().is_none() {
            config.application_name("palisade");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let db = Arc::new(Db {
            pool: Pool::new(config.clone(), options.pool_size),
            key: options.encryption_key,
            retained_revisions: options.retained_revisions.max(1),
        });
        let revision = {
            let mut client = db.pool.get().await?;
            migrate(&mut client, db.pool.target()).await?;
            db.bounds_with(&*client).await?.0
        };
        let notifier = Arc::new(Notifier::new(revision));
        let listener = tokio::spawn(listen(
            config,
            Arc::clone(&notifier),
            options.resync_interval,
        ));
        Ok(PgStore {
            db,
            notifier,
            listener,
        })
    }

    /// Runs a write and wakes this process's watches once it committed.
    async fn write(&self, result: Result<(Value, i64)>) -> Result<Value> {
        let (object, revision) = result?;
        self.notifier.committed(revision);
        Ok(object)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

async fn migrate(client: &mut Client, target: &str) -> Result<()> {
    let err = |what: &'static str| move |e| StoreError::postgres(what, e);
    let tx = client
        .transaction()
        .await
        .map_err(err("starting the schema migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(err("locking the schema for migration"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS palisade_schema_version (
            version BIGINT PRIMARY KEY,
            applied TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(err("creating palisade_schema_version"))?;
    let row = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM palisade_schema_version",
            &[],
        )
        .await
        .map_err(err("reading the schema version"))?;
    let found: i64 = col(&row, 0)?;
    schema::check_supported(found, MIGRATIONS, &format!("the database {target}"))?;
    for migration in schema::pending(MIGRATIONS, found) {
        tx.batch_execute(migration.sql).await.map_err(|e| {
            StoreError::postgres(&format!("applying schema version {}", migration.version), e)
        })?;
        tx.execute(
            "INSERT INTO palisade_schema_version (version) VALUES ($1)",
            &[&migration.version],
        )
        .await
        .map_err(err("recording the schema version"))?;
    }
    tx.commit()
        .await
        .map_err(err("committing the schema migration"))
}

/// Keeps a `LISTEN` connection open and wakes watches on notifications, on
/// reconnects and every `resync` in case one was lost.
async fn listen(config: Config, notifier: Arc<Notifier>, resync: Duration) {
    let target = describe(&config);
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&config, &target, &notifier, resync).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(target = %target, error = %e, "PostgreSQL LISTEN connection failed; retrying");
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
        tokio::time::sleep(backoff).await;
    }
}

/// One `LISTEN` connection, until it ends.
async fn listen_once(
    config: &Config,
    target: &str,
    notifier: &Notifier,
    resync: Duration,
) -> Result<()> {
    let (client, mut connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| StoreError::postgres(&format!("cannot connect to {target}"), e))?;
    let (payloads, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    // Drive the connection, forwarding notifications; ends with the connection
    // (when it fails, or when `client` is dropped).
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if payloads.send(n.payload().to_string()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "PostgreSQL LISTEN connection ended");
                    return;
                }
            }
        }
    });
    let result = async {
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .map_err(|e| StoreError::postgres("LISTEN", e))?;
        // Anything written while this connection was not listening.
        notifier.wake_all();
        let mut tick = tokio::time::interval(resync);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                payload = received.recv() => match payload {
                    Some(p) => match p.parse::<i64>() {
                        Ok(revision) => notifier.committed(revision),
                        Err(_) => notifier.wake_all(),
                    },
                    None => return Ok(()),
                },
                _ = tick.tick() => {
                    let row = client
                        .query_one("SELECT revision FROM palisade_meta", &[])
                        .await
                        .map_err(|e| StoreError::postgres("reading the revision", e))?;
                    notifier.committed(col(&row, 0)?);
                }
            }
        }
    }
    .await;
    drop(client);
    driver.abort();
    result
}

impl Db {
    async fn bounds_with(&self, client: &impl GenericClient) -> Result<(i64, i64)> {
        let row = client
            .query_one("SELECT revision, compacted FROM palisade_meta", &[])
            .await
            .map_err(|e| StoreError::postgres("reading the revision", e))?;
        Ok((col(&row, 0)?, col(&row, 1)?))
    }

    /// Locks the revision row until commit; returns the revision and compacted
    /// revision.
    async fn lock_revision(&self, tx: &Transaction<'_>) -> Result<(i64, i64)> {
        let row = tx
            .query_one(
                "SELECT revision, compacted FROM palisade_meta WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .map_err(|e| StoreError::postgres("locking the revision", e))?;
        Ok((col(&row, 0)?, col(&row, 1)?))
    }

    /// The stored revision and body of `key`, if present.
    async fn current(
        &self,
        client: &impl GenericClient,
        key: &ObjectKey,
    ) -> Result<Option<(i64, Value)>> {
        let row = client
            .query_opt(
                "SELECT revision, body FROM palisade_objects
                 WHERE grp = $1 AND kind = $2 AND namespace = $3 AND name = $4",
                &[&key.group, &key.kind, &key.namespace, &key.name],
            )
            .await
            .map_err(|e| StoreError::postgres("reading an object", e))?;
        match row {
            None => Ok(None),
            Some(row) => {
                let body: String = col(&row, 1)?;
                Ok(Some((col(&row, 0)?, parse_body(key, &body)?)))
            }
        }
    }

    /// Sets the new revision, appends the change-log row, notifies and compacts.
    async fn log_change(
        &self,
        tx: &Transaction<'_>,
        (revision, compacted): (i64, i64),
        event: EventType,
        key: &ObjectKey,
        body: &str,
    ) -> Result<()> {
        let err = |what: &'static str| move |e| StoreError::postgres(what, e);
        tx.execute(
            "UPDATE palisade_meta SET revision = $1 WHERE id = 1",
            &[&revision],
        )
        .await
        .map_err(err("recording the revision"))?;
        tx.execute(
            "INSERT INTO palisade_changes (revision, event, grp, kind, namespace, name, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &revision,
                &event.as_str(),
                &key.group,
                &key.kind,
                &key.namespace,
                &key.name,
                &body,
            ],
        )
        .await
        .map_err(err("appending to the change log"))?;
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&CHANNEL, &revision.to_string()],
        )
        .await
        .map_err(err("notifying the other replicas"))?;
        let floor = revision - self.retained_revisions;
        if floor > compacted {
            compact_to(tx, floor).await?;
        }
        Ok(())
    }

    async fn create(&self, object: Value) -> Result<(Value, i64)> {
        let key = validate(&object)?;
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let (previous, compacted) = self.lock_revision(&tx).await?;
        if self.current(&tx, &key).await?.is_some() {
            return Err(StoreError::AlreadyExists { key: Box::new(key) });
        }
        let revision = previous + 1;
        let now = Timestamp::now();
        let object = stamp_create(object, revision, now)?;
        let body = self.key.seal(&key, object.clone())?.to_string();
        let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
        tx.execute(
            "INSERT INTO palisade_objects
                (grp, kind, namespace, name, uid, revision, created, updated, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, $7::text::timestamptz, $8)",
            &[
                &key.group,
                &key.kind,
                &key.namespace,
                &key.name,
                &uid,
                &revision,
                &now.to_rfc3339_micros(),
                &body,
            ],
        )
        .await
        .map_err(|e| StoreError::postgres("inserting an object", e))?;
        self.log_change(&tx, (revision, compacted), EventType::Added, &key, &body)
            .await?;
        commit(tx, "a create").await?;
        Ok((object, revision))
    }

    async fn update(&self, incoming: Value) -> Result<(Value, i64)> {
        let key = validate(&incoming)?;
        let given = resource_version(&incoming)?.map(str::to_owned);
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let (previous, compacted) = self.lock_revision(&tx).await?;
        let (current_revision, stored) =
            self.current(&tx, &key)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    key: Box::new(key.clone()),
                })?;
        check_precondition(&key, given.as_deref(), current_revision)?;
        let current = self.key.open(&key, stored)?;
        // An update that changes nothing is not a write: no revision, no event.
        if stamp_update(incoming.clone(), &current, current_revision) == current {
            return Ok((current, current_revision));
        }
        let revision = previous + 1;
        let object = stamp_update(incoming, &current, revision);
        let body = self.key.seal(&key, object.clone())?.to_string();
        tx.execute(
            "UPDATE palisade_objects SET revision = $5, updated = $6::text::timestamptz, body = $7
             WHERE grp = $1 AND kind = $2 AND namespace = $3 AND name = $4",
            &[
                &key.group,
                &key.kind,
                &key.namespace,
                &key.name,
                &revision,
                &Timestamp::now().to_rfc3339_micros(),
                &body,
            ],
        )
        .await
        .map_err(|e| StoreError::postgres("updating an object", e))?;
        self.log_change(&tx, (revision, compacted), EventType::Modified, &key, &body)
            .await?;
        commit(tx, "an update").await?;
        Ok((object, revision))
    }

    async fn delete(&self, key: &ObjectKey, precondition: Option<&str>) -> Result<(Value, i64)> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let (previous, compacted) = self.lock_revision(&tx).await?;
        let (current_revision, stored) =
            self.current(&tx, key)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    key: Box::new(key.clone()),
                })?;
        check_precondition(key, precondition, current_revision)?;
        let revision = previous + 1;
        let last = stamp_delete(stored, revision);
        let body = last.to_string();
        tx.execute(
            "DELETE FROM palisade_objects
             WHERE grp = $1 AND kind = $2 AND namespace = $3 AND name = $4",
            &[&key.group, &key.kind, &key.namespace, &key.name],
        )
        .await
        .map_err(|e| StoreError::postgres("deleting an object", e))?;
        self.log_change(&tx, (revision, compacted), EventType::Deleted, key, &body)
            .await?;
        commit(tx, "a delete").await?;
        Ok((self.key.open_or_redact(key, last), revision))
    }

    async fn get(&self, key: &ObjectKey) -> Result<Value> {
        let client = self.pool.get().await?;
        let (_, stored) =
            self.current(&*client, key)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    key: Box::new(key.clone()),
                })?;
        self.key.open(key, stored)
    }

    async fn list(&self, query: &ListQuery) -> Result<ListResult> {
        let mut pager = Pager::new(query, &self.key)?;
        let mut client = self.pool.get().await?;
        let tx = snapshot(&mut client).await?;
        let (revision, _) = self.bounds_with(&tx).await?;
        while let Some((sql, params)) = pager.next_sql(OBJECTS, Placeholders::Postgres) {
            let rows = tx
                .query(&sql, &sql_params(&params).refs())
                .await
                .map_err(|e| StoreError::postgres("listing objects", e))?;
            let count = rows.len();
            for row in rows {
                let key = ObjectKey::new(
                    col::<String>(&row, 0)?,
                    col::<String>(&row, 1)?,
                    col::<String>(&row, 2)?,
                    col::<String>(&row, 3)?,
                );
                let stored = parse_body(&key, &col::<String>(&row, 4)?)?;
                pager.push(key, stored)?;
            }
            pager.end_batch(count);
        }
        commit(tx, "a list").await?;
        Ok(pager.finish(revision))
    }

    async fn read_changes(&self, after: i64, limit: usize) -> Result<ChangeBatch> {
        let mut client = self.pool.get().await?;
        let tx = snapshot(&mut client).await?;
        let (_, compacted) = self.bounds_with(&tx).await?;
        let rows = tx
            .query(
                "SELECT revision, event, grp, kind, namespace, name, body FROM palisade_changes
                 WHERE revision > $1 ORDER BY revision LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .await
            .map_err(|e| StoreError::postgres("reading the change log", e))?;
        commit(tx, "a change-log read").await?;
        let changes = rows
            .iter()
            .map(|row| {
                let key = ObjectKey::new(
                    col::<String>(row, 2)?,
                    col::<String>(row, 3)?,
                    col::<String>(row, 4)?,
                    col::<String>(row, 5)?,
                );
                Ok(Change {
                    revision: col(row, 0)?,
                    event_type: EventType::parse(&col::<String>(row, 1)?)?,
                    body: parse_body(&key, &col::<String>(row, 6)?)?,
                    key,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ChangeBatch { changes, compacted })
    }

    async fn compact(&self, revision: i64) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client).await?;
        let (current, compacted) = self.lock_revision(&tx).await?;
        let target = revision.min(current);
        if target > compacted {
            compact_to(&tx, target).await?;
        }
        commit(tx, "a compaction").await
    }

    async fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                &format!(
                    "INSERT INTO {AUDIT} ({AUDIT_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &record.time.as_micros(),
                    &record.principal,
                    &record.verb,
                    &record.resource.group,
                    &record.resource.kind,
                    &record.resource.namespace,
                    &record.resource.name,
                    &record.outcome.as_str(),
                    &record.reason,
                    &record.source,
                    &record.details.to_string(),
                ],
            )
            .await
            .map_err(|e| StoreError::postgres("appending to the audit log", e))?;
        Ok(())
    }

    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let (sql, params) = query.to_sql(AUDIT, Placeholders::Postgres);
        let client = self.pool.get().await?;
        let rows = client
            .query(&sql, &sql_params(&params).refs())
            .await
            .map_err(|e| StoreError::postgres("querying the audit log", e))?;
        rows.iter()
            .map(|row| {
                AuditRow {
                    time_us: col(row, 0)?,
                    principal: col(row, 1)?,
                    verb: col(row, 2)?,
                    resource: ObjectKey::new(
                        col::<String>(row, 3)?,
                        col::<String>(row, 4)?,
                        col::<String>(row, 5)?,
                        col::<String>(row, 6)?,
                    ),
                    outcome: col(row, 7)?,
                    reason: col(row, 8)?,
                    source: col(row, 9)?,
                    details: col(row, 10)?,
                }
                .into_record()
            })
            .collect()
    }

    /// Inserts or replaces a record with one upsert that refuses to change its
    /// namespace, agent or owner, so replicas writing the same id at once cannot
    /// race; outside the revision lock, the change log and `NOTIFY`.
    async fn put_agent_record(&self, record: AgentRecord) -> Result<AgentRecord> {
        let data = agent_records::check(&record)?;
        let now = Timestamp::now();
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &format!(
                    "INSERT INTO {AGENT_RECORDS} ({RECORD_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
                     ON CONFLICT (kind, id) DO UPDATE
                        SET updated_us = GREATEST(EXCLUDED.updated_us, {AGENT_RECORDS}.updated_us + 1),
                            data = EXCLUDED.data
                        WHERE {AGENT_RECORDS}.namespace = EXCLUDED.namespace
                          AND {AGENT_RECORDS}.agent = EXCLUDED.agent
                          AND {AGENT_RECORDS}.owner = EXCLUDED.owner
                     RETURNING created_us, updated_us"
                ),
                &[
                    &record.kind.as_str(),
                    &record.id,
                    &record.namespace,
                    &record.agent,
                    &record.owner,
                    &now.as_micros(),
                    &data,
                ],
            )
            .await
            .map_err(|e| StoreError::postgres("storing an agent record", e))?;
        let Some(row) = row else {
            // The row exists and belongs to another agent or owner (records are
            // never deleted, so it is still there).
            let row = client
                .query_one(
                    &format!(
                        "SELECT namespace, agent, owner FROM {AGENT_RECORDS}
                         WHERE kind = $1 AND id = $2"
                    ),
                    &[&record.kind.as_str(), &record.id],
                )
                .await
                .map_err(|e| StoreError::postgres("reading an agent record", e))?;
            let (namespace, agent, owner): (String, String, String) =
                (col(&row, 0)?, col(&row, 1)?, col(&row, 2)?);
            return Err(agent_records::changes_hands(
                &record, &namespace, &agent, &owner,
            ));
        };
        Ok(AgentRecord {
            created: Timestamp::from_micros(col(&row, 0)?),
            updated: Timestamp::from_micros(col(&row, 1)?),
            ..record
        })
    }

    async fn get_agent_record(&self, kind: RecordKind, id: &str) -> Result<Option<AgentRecord>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM {AGENT_RECORDS} WHERE kind = $1 AND id = $2"
                ),
                &[&kind.as_str(), &id],
            )
            .await
            .map_err(|e| StoreError::postgres("reading an agent record", e))?;
        row.map(|row| record_row(&row)?.into_record()).transpose()
    }

    async fn list_agent_records(&self, query: &AgentRecordQuery) -> Result<Vec<AgentRecord>> {
        let (sql, params) = query.to_sql(AGENT_RECORDS, Placeholders::Postgres);
        let client = self.pool.get().await?;
        let rows = client
            .query(&sql, &sql_params(&params).refs())
            .await
            .map_err(|e| StoreError::postgres("listing agent records", e))?;
        rows.iter()
            .map(|row| record_row(row)?.into_record())
            .collect()
    }
}

/// An agent record row, in [`RECORD_COLUMNS`] order.
fn record_row(row: &Row) -> Result<RecordRow> {
    Ok(RecordRow {
        kind: col(row, 0)?,
        id: col(row, 1)?,
        namespace: col(row, 2)?,
        agent: col(row, 3)?,
        owner: col(row, 4)?,
        created_us: col(row, 5)?,
        updated_us: col(row, 6)?,
        data: col(row, 7)?,
    })
}

async fn compact_to(tx: &Transaction<'_>, revision: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM palisade_changes WHERE revision <= $1",
        &[&revision],
    )
    .await
    .map_err(|e| StoreError::postgres("compacting the change log", e))?;
    tx.execute(
        "UPDATE palisade_meta SET compacted = $1 WHERE id = 1 AND compacted < $1",
        &[&revision],
    )
    .await
    .map_err(|e| StoreError::postgres("recording the compacted revision", e))?;
    Ok(())
}

async fn begin<'c>(client: &'c mut Client) -> Result<Transaction<'c>> {
    client
        .transaction()
        .await
        .map_err(|e| StoreError::postgres("starting a write", e))
}

/// A read-only transaction that sees one snapshot.
async fn snapshot<'c>(client: &'c mut Client) -> Result<Transaction<'c>> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(|e| StoreError::postgres("starting a read", e))
}

async fn commit(tx: Transaction<'_>, what: &str) -> Result<()> {
    tx.commit()
        .await
        .map_err(|e| StoreError::postgres(&format!("committing {what}"), e))
}

/// Column `index` of `row`, or a `Backend` error if its type is not `T`.
fn col<'r, T: tokio_postgres::types::FromSql<'r>>(row: &'r Row, index: usize) -> Result<T> {
    row.try_get(index).map_err(|e| {
        StoreError::Backend(format!(
            "PostgreSQL: column {index} of a palisade table has an unexpected type ({e}); was \
             the schema changed by hand?"
        ))
    })
}

fn parse_body(key: &ObjectKey, body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| {
        StoreError::Backend(format!(
            "PostgreSQL: the stored JSON of {key} is damaged ({e}); restore it from a backup or \
             delete and recreate the object"
        ))
    })
}

/// Query parameters owned for the duration of a query.
struct SqlParams(Vec<Box<dyn ToSql + Sync + Send>>);

impl SqlParams {
    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

fn sql_params(params: &[Param]) -> SqlParams {
    SqlParams(
        params
            .iter()
            .map(|p| -> Box<dyn ToSql + Sync + Send> {
                match p {
                    Param::Text(s) => Box::new(s.clone()),
                    Param::Int(i) => Box::new(*i),
                }
            })
            .collect(),
    )
}

impl ChangeLog for Db {
    fn read_after(&self, after: i64, limit: usize) -> BoxFuture<'_, Result<ChangeBatch>> {
        Box::pin(self.read_changes(after, limit))
    }

    fn bounds(&self) -> BoxFuture<'_, Result<(i64, i64)>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            self.bounds_with(&*client).await
        })
    }
}

impl Store for PgStore {
    fn get<'a>(&'a self, key: &'a ObjectKey) -> BoxFuture<'a, Result<Value>> {
        Box::pin(self.db.get(key))
    }

    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListResult>> {
        Box::pin(self.db.list(query))
    }

    fn create(&self, object: Value) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move { self.write(self.db.create(object).await).await })
    }

    fn update(&self, object: Value) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move { self.write(self.db.update(object).await).await })
    }

    fn delete<'a>(
        &'a self,
        key: &'a ObjectKey,
        precondition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(async move { self.write(self.db.delete(key, precondition).await).await })
    }

    fn watch(&self, query: WatchQuery) -> BoxFuture<'_, Result<Watch>> {
        let log: Arc<dyn ChangeLog> = Arc::clone(&self.db) as Arc<dyn ChangeLog>;
        Box::pin(watch::start(
            log,
            &self.notifier,
            self.db.key.clone(),
            query,
        ))
    }

    fn revision(&self) -> BoxFuture<'_, Result<i64>> {
        Box::pin(async move { Ok(ChangeLog::bounds(&*self.db).await?.0) })
    }

    fn compact(&self, revision: i64) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.db.compact(revision))
    }

    fn append_audit(&self, record: AuditRecord) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.db.append_audit(&record).await })
    }

    fn query_audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<Vec<AuditRecord>>> {
        Box::pin(self.db.query_audit(query))
    }

    fn put_agent_record(&self, record: AgentRecord) -> BoxFuture<'_, Result<AgentRecord>> {
        Box::pin(self.db.put_agent_record(record))
    }

    fn get_agent_record<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<AgentRecord>>> {
        Box::pin(self.db.get_agent_record(kind, id))
    }

    fn list_agent_records<'a>(
        &'a self,
        query: &'a AgentRecordQuery,
    ) -> BoxFuture<'a, Result<Vec<AgentRecord>>> {
        Box::pin(self.db.list_agent_records(query))
    }
}
