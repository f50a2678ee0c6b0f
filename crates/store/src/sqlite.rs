//! The SQLite backend: one file in the state directory, one process.
//!
//! The store keeps one connection behind a `std::sync::Mutex`; every operation runs
//! on tokio's blocking pool and holds the lock only there, never across an await.
//! The file is in WAL mode (readers do not block the writer) with a busy timeout
//! for other processes, e.g. a backup tool, that open it at the same time.
//!
//! Writes run in `BEGIN IMMEDIATE` transactions that bump the revision row in
//! `palisade_meta`, so they are serialized and commit in revision order. Only this
//! process's writes wake its watches: one process should write the file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value;

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
use crate::schema::{self, AGENT_RECORDS, AUDIT, Migration, OBJECTS};
use crate::sql::{Param, Placeholders};
use crate::store::{BoxFuture, Store, StoreOptions};
use crate::time::Timestamp;
use crate::watch::{self, Change, ChangeBatch, ChangeLog, EventType, Notifier, Watch, WatchQuery};

/// The database file's name in the state directory.
pub const DATABASE_FILE: &str = "palisade.db";

/// The SQLite schema, oldest first.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
        CREATE TABLE palisade_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            revision INTEGER NOT NULL,
            compacted INTEGER NOT NULL
        );
        INSERT INTO palisade_meta (id, revision, compacted) VALUES (1, 0, 0);
        CREATE TABLE palisade_objects (
            grp TEXT NOT NULL,
            kind TEXT NOT NULL,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            uid TEXT NOT NULL,
            revision INTEGER NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (grp, kind, namespace, name)
        ) WITHOUT ROWID;
        CREATE TABLE palisade_changes (
            revision INTEGER PRIMARY KEY,
            event TEXT NOT NULL,
            grp TEXT NOT NULL,
            kind TEXT NOT NULL,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            body TEXT NOT NULL,
            time TEXT NOT NULL
        );
        CREATE TABLE palisade_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time_us INTEGER NOT NULL,
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
    ",
    },
    Migration {
        version: 2,
        sql: "
        -- A rowid table: rows can be large (up to 4 MiB of data), which SQLite
        -- advises against in WITHOUT ROWID tables.
        CREATE TABLE palisade_agent_records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            namespace TEXT NOT NULL,
            agent TEXT NOT NULL,
            owner TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX palisade_agent_records_agent
            ON palisade_agent_records (kind, namespace, agent, updated_us);
    ",
    },
];

/// A store in a SQLite file.
pub struct SqliteStore {
    db: Arc<Db>,
    notifier: Notifier,
}

/// The connection and what the blocking code needs besides it.
struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
    key: EncryptionKey,
    retained_revisions: i64,
}

impl SqliteStore {
    /// Opens (creating if needed) `<state_dir>/palisade.db` and brings its schema up
    /// to date.
    pub async fn open(state_dir: &Path, options: StoreOptions) -> Result<SqliteStore> {
        let path = state_dir.join(DATABASE_FILE);
        let dir = state_dir.to_path_buf();
        let busy_timeout = options.busy_timeout;
        let opened = tokio::task::spawn_blocking(move || -> Result<(Connection, i64)> {
            std::fs::create_dir_all(&dir).map_err(|e| {
                StoreError::Backend(format!(
                    "cannot create the state directory {}: {e}",
                    dir.display()
                ))
            })?;
            let mut conn =
                Connection::open(&path).map_err(|e| StoreError::sqlite(&path, "cannot open", e))?;
            configure(&conn, busy_timeout)
                .map_err(|e| StoreError::sqlite(&path, "configuring", e))?;
            migrate(&mut conn, &path)?;
            let revision = conn
                .query_row("SELECT revision FROM palisade_meta", [], |r| r.get(0))
                .map_err(|e| StoreError::sqlite(&path, "reading the revision", e))?;
            Ok((conn, revision))
        });
        let (conn, revision) = joined(opened.await)?;
        Ok(SqliteStore {
            db: Arc::new(Db {
                conn: Mutex::new(conn),
                path: state_dir.join(DATABASE_FILE),
                key: options.encryption_key,
                retained_revisions: options.retained_revisions.max(1),
            }),
            notifier: Notifier::new(revision),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.db.path
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db, &mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        run(&self.db, f).await
    }

    /// Runs a write and wakes the watches once it committed.
    async fn write(
        &self,
        f: impl FnOnce(&Db, &mut Connection) -> Result<(Value, i64)> + Send + 'static,
    ) -> Result<Value> {
        let (object, revision) = self.run(f).await?;
        self.notifier.committed(revision);
        Ok(object)
    }
}

async fn run<T: Send + 'static>(
    db: &Arc<Db>,
    f: impl FnOnce(&Db, &mut Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    let db = Arc::clone(db);
    joined(
        tokio::task::spawn_blocking(move || {
            let mut conn = db.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&db, &mut conn)
        })
        .await,
    )
}

fn joined<T>(result: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    result.map_err(|e| StoreError::Backend(format!("a SQLite task failed: {e}")))?
}

fn configure(conn: &Connection, busy_timeout: std::time::Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite did not switch to WAL mode");
    }
    conn.execute_batch("PRAGMA synchronous = FULL;")
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let err = |what: &str| {
        let what = what.to_string();
        move |e| StoreError::sqlite(path, &what, e)
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err("starting the schema migration"))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS palisade_schema_version (
            version INTEGER PRIMARY KEY,
            applied TEXT NOT NULL
        )",
    )
    .map_err(err("creating palisade_schema_version"))?;
    let found: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM palisade_schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(err("reading the schema version"))?;
    schema::check_supported(
        found,
        MIGRATIONS,
        &format!("the database {}", path.display()),
    )?;
    for migration in schema::pending(MIGRATIONS, found) {
        tx.execute_batch(migration.sql).map_err(err(&format!(
            "applying schema version {}",
            migration.version
        )))?;
        tx.execute(
            "INSERT INTO palisade_schema_version (version, applied) VALUES (?1, ?2)",
            params![migration.version, Timestamp::now().to_rfc3339()],
        )
        .map_err(err("recording the schema version"))?;
    }
    tx.commit().map_err(err("committing the schema migration"))
}

impl Db {
    fn err(&self, what: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        let what = what.to_string();
        move |e| StoreError::sqlite(&self.path, &what, e)
    }

    /// The stored revision and body of `key`, if present.
    fn current(&self, tx: &Transaction<'_>, key: &ObjectKey) -> Result<Option<(i64, Value)>> {
        let row: Option<(i64, String)> = tx
            .query_row(
                "SELECT revision, body FROM palisade_objects
                 WHERE grp = ?1 AND kind = ?2 AND namespace = ?3 AND name = ?4",
                params![key.group, key.kind, key.namespace, key.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("reading an object"))?;
        row.map(|(revision, body)| Ok((revision, parse_body(&self.path, key, &body)?)))
            .transpose()
    }

    /// Takes the next revision; returns it and the compacted revision.
    fn next_revision(&self, tx: &Transaction<'_>) -> Result<(i64, i64)> {
        tx.query_row(
            "UPDATE palisade_meta SET revision = revision + 1 RETURNING revision, compacted",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(self.err("taking the next revision"))
    }

    /// Appends the change log row of a write and compacts the log to keep
    /// `retained_revisions`.
    fn log_change(
        &self,
        tx: &Transaction<'_>,
        revision: i64,
        compacted: i64,
        event: EventType,
        key: &ObjectKey,
        body: &str,
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO palisade_changes (revision, event, grp, kind, namespace, name, body, time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                revision,
                event.as_str(),
                key.group,
                key.kind,
                key.namespace,
                key.name,
                body,
                Timestamp::now().to_rfc3339_micros()
            ],
        )
        .map_err(self.err("appending to the change log"))?;
        let floor = revision - self.retained_revisions;
        if floor > compacted {
            self.compact_to(tx, floor)?;
        }
        Ok(())
    }

    fn compact_to(&self, tx: &Transaction<'_>, revision: i64) -> Result<()> {
        tx.execute(
            "DELETE FROM palisade_changes WHERE revision <= ?1",
            [revision],
        )
        .map_err(self.err("compacting the change log"))?;
        tx.execute(
            "UPDATE palisade_meta SET compacted = ?1 WHERE compacted < ?1",
            [revision],
        )
        .map_err(self.err("recording the compacted revision"))?;
        Ok(())
    }

    fn create(&self, conn: &mut Connection, object: Value) -> Result<(Value, i64)> {
        let key = validate(&object)?;
        let tx = immediate(conn, self)?;
        if self.current(&tx, &key)?.is_some() {
            return Err(StoreError::AlreadyExists { key: Box::new(key) });
        }
        let (revision, compacted) = self.next_revision(&tx)?;
        let now = Timestamp::now();
        let object = stamp_create(object, revision, now)?;
        let body = self.key.seal(&key, object.clone())?.to_string();
        let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
        tx.execute(
            "INSERT INTO palisade_objects
                (grp, kind, namespace, name, uid, revision, created, updated, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            params![
                key.group,
                key.kind,
                key.namespace,
                key.name,
                uid,
                revision,
                now.to_rfc3339_micros(),
                body
            ],
        )
        .map_err(self.err("inserting an object"))?;
        self.log_change(&tx, revision, compacted, EventType::Added, &key, &body)?;
        tx.commit().map_err(self.err("committing a create"))?;
        Ok((object, revision))
    }

    fn update(&self, conn: &mut Connection, incoming: Value) -> Result<(Value, i64)> {
        let key = validate(&incoming)?;
        let given = resource_version(&incoming)?.map(str::to_owned);
        let tx = immediate(conn, self)?;
        let (current_revision, stored) =
            self.current(&tx, &key)?
                .ok_or_else(|| StoreError::NotFound {
                    key: Box::new(key.clone()),
                })?;
        check_precondition(&key, given.as_deref(), current_revision)?;
        let current = self.key.open(&key, stored)?;
        // An update that changes nothing is not a write: no revision, no event.
        let unchanged = stamp_update(incoming.clone(), &current, current_revision);
        if unchanged == current {
            return Ok((current, current_revision));
        }
        let (revision, compacted) = self.next_revision(&tx)?;
        let object = stamp_update(incoming, &current, revision);
        let body = self.key.seal(&key, object.clone())?.to_string();
        tx.execute(
            "UPDATE palisade_objects SET revision = ?5, updated = ?6, body = ?7
             WHERE grp = ?1 AND kind = ?2 AND namespace = ?3 AND name = ?4",
            params![
                key.group,
                key.kind,
                key.namespace,
                key.name,
                revision,
                Timestamp::now().to_rfc3339_micros(),
                body
            ],
        )
        .map_err(self.err("updating an object"))?;
        self.log_change(&tx, revision, compacted, EventType::Modified, &key, &body)?;
        tx.commit().map_err(self.err("committing an update"))?;
        Ok((object, revision))
    }

    fn delete(
        &self,
        conn: &mut Connection,
        key: &ObjectKey,
        precondition: Option<&str>,
    ) -> Result<(Value, i64)> {
        let tx = immediate(conn, self)?;
        let (current_revision, stored) =
            self.current(&tx, key)?
                .ok_or_else(|| StoreError::NotFound {
                    key: Box::new(key.clone()),
                })?;
        check_precondition(key, precondition, current_revision)?;
        let (revision, compacted) = self.next_revision(&tx)?;
        let last = stamp_delete(stored, revision);
        let body = last.to_string();
        tx.execute(
            "DELETE FROM palisade_objects
             WHERE grp = ?1 AND kind = ?2 AND namespace = ?3 AND name = ?4",
            params![key.group, key.kind, key.namespace, key.name],
        )
        .map_err(self.err("deleting an object"))?;
        self.log_change(&tx, revision, compacted, EventType::Deleted, key, &body)?;
        tx.commit().map_err(self.err("committing a delete"))?;
        Ok((self.key.open_or_redact(key, last), revision))
    }

    fn list(&self, conn: &mut Connection, query: &ListQuery) -> Result<ListResult> {
        let mut pager = Pager::new(query, &self.key)?;
        // One read transaction: the revision and the rows come from one snapshot.
        let tx = conn.transaction().map_err(self.err("starting a list"))?;
        let revision: i64 = tx
            .query_row("SELECT revision FROM palisade_meta", [], |r| r.get(0))
            .map_err(self.err("reading the revision"))?;
        while let Some((sql, params)) = pager.next_sql(OBJECTS, Placeholders::Sqlite) {
            let mut statement = tx.prepare(&sql).map_err(self.err("listing objects"))?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(sql_params(&params)), |r| {
                    Ok((
                        ObjectKey::new(
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ),
                        r.get::<_, String>(4)?,
                    ))
                })
                .map_err(self.err("listing objects"))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(self.err("listing objects"))?;
            let count = rows.len();
            for (key, body) in rows {
                let stored = parse_body(&self.path, &key, &body)?;
                pager.push(key, stored)?;
            }
            pager.end_batch(count);
        }
        tx.commit().map_err(self.err("ending a list"))?;
        Ok(pager.finish(revision))
    }

    fn read_changes(&self, conn: &mut Connection, after: i64, limit: usize) -> Result<ChangeBatch> {
        let tx = conn
            .transaction()
            .map_err(self.err("reading the change log"))?;
        let compacted: i64 = tx
            .query_row("SELECT compacted FROM palisade_meta", [], |r| r.get(0))
            .map_err(self.err("reading the compacted revision"))?;
        let mut statement = tx
            .prepare(
                "SELECT revision, event, grp, kind, namespace, name, body FROM palisade_changes
                 WHERE revision > ?1 ORDER BY revision LIMIT ?2",
            )
            .map_err(self.err("reading the change log"))?;
        let rows = statement
            .query_map(params![after, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    ObjectKey::new(
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ),
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(self.err("reading the change log"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err("reading the change log"))?;
        drop(statement);
        tx.commit().map_err(self.err("reading the change log"))?;
        let changes = rows
            .into_iter()
            .map(|(revision, event, key, body)| {
                Ok(Change {
                    revision,
                    event_type: EventType::parse(&event)?,
                    body: parse_body(&self.path, &key, &body)?,
                    key,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ChangeBatch { changes, compacted })
    }

    fn bounds(&self, conn: &Connection) -> Result<(i64, i64)> {
        conn.query_row("SELECT revision, compacted FROM palisade_meta", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(self.err("reading the revision"))
    }

    fn compact(&self, conn: &mut Connection, revision: i64) -> Result<()> {
        let tx = immediate(conn, self)?;
        let (current, compacted) = self.bounds(&tx)?;
        let target = revision.min(current);
        if target > compacted {
            self.compact_to(&tx, target)?;
        }
        tx.commit().map_err(self.err("committing a compaction"))
    }

    fn append_audit(&self, conn: &Connection, record: &AuditRecord) -> Result<()> {
        conn.execute(
            &format!(
                "INSERT INTO {AUDIT} ({AUDIT_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                record.time.as_micros(),
                record.principal,
                record.verb,
                record.resource.group,
                record.resource.kind,
                record.resource.namespace,
                record.resource.name,
                record.outcome.as_str(),
                record.reason,
                record.source,
                record.details.to_string()
            ],
        )
        .map_err(self.err("appending to the audit log"))?;
        Ok(())
    }

    fn query_audit(&self, conn: &Connection, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let (sql, params) = query.to_sql(AUDIT, Placeholders::Sqlite);
        let mut statement = conn
            .prepare(&sql)
            .map_err(self.err("querying the audit log"))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(sql_params(&params)), |r| {
                Ok(AuditRow {
                    time_us: r.get(0)?,
                    principal: r.get(1)?,
                    verb: r.get(2)?,
                    resource: ObjectKey::new(
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ),
                    outcome: r.get(7)?,
                    reason: r.get(8)?,
                    source: r.get(9)?,
                    details: r.get(10)?,
                })
            })
            .map_err(self.err("querying the audit log"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err("querying the audit log"))?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    /// Inserts or replaces a record with one upsert that refuses to change its
    /// namespace, agent or owner; outside the revision and the change log.
    fn put_agent_record(&self, conn: &mut Connection, record: AgentRecord) -> Result<AgentRecord> {
        let data = agent_records::check(&record)?;
        let now = Timestamp::now();
        let tx = immediate(conn, self)?;
        let stored: Option<(i64, i64)> = tx
            .query_row(
                &format!(
                    "INSERT INTO {AGENT_RECORDS} ({RECORD_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
                     ON CONFLICT (kind, id) DO UPDATE
                        SET updated_us = max(excluded.updated_us, {AGENT_RECORDS}.updated_us + 1),
                            data = excluded.data
                        WHERE {AGENT_RECORDS}.namespace = excluded.namespace
                          AND {AGENT_RECORDS}.agent = excluded.agent
                          AND {AGENT_RECORDS}.owner = excluded.owner
                     RETURNING created_us, updated_us"
                ),
                params![
                    record.kind.as_str(),
                    record.id,
                    record.namespace,
                    record.agent,
                    record.owner,
                    now.as_micros(),
                    data
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("storing an agent record"))?;
        let Some((created_us, updated_us)) = stored else {
            // The row exists and belongs to another agent or owner.
            let (namespace, agent, owner): (String, String, String) = tx
                .query_row(
                    &format!("SELECT namespace, agent, owner FROM {AGENT_RECORDS} WHERE kind = ?1 AND id = ?2"),
                    params![record.kind.as_str(), record.id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(self.err("reading an agent record"))?;
            return Err(agent_records::changes_hands(
                &record, &namespace, &agent, &owner,
            ));
        };
        tx.commit()
            .map_err(self.err("committing an agent record"))?;
        Ok(AgentRecord {
            created: Timestamp::from_micros(created_us),
            updated: Timestamp::from_micros(updated_us),
            ..record
        })
    }

    fn get_agent_record(
        &self,
        conn: &Connection,
        kind: RecordKind,
        id: &str,
    ) -> Result<Option<AgentRecord>> {
        conn.query_row(
            &format!("SELECT {RECORD_COLUMNS} FROM {AGENT_RECORDS} WHERE kind = ?1 AND id = ?2"),
            params![kind.as_str(), id],
            record_row,
        )
        .optional()
        .map_err(self.err("reading an agent record"))?
        .map(RecordRow::into_record)
        .transpose()
    }

    fn list_agent_records(
        &self,
        conn: &Connection,
        query: &AgentRecordQuery,
    ) -> Result<Vec<AgentRecord>> {
        let (sql, params) = query.to_sql(AGENT_RECORDS, Placeholders::Sqlite);
        let mut statement = conn
            .prepare(&sql)
            .map_err(self.err("listing agent records"))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(sql_params(&params)), record_row)
            .map_err(self.err("listing agent records"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err("listing agent records"))?;
        rows.into_iter().map(RecordRow::into_record).collect()
    }
}

/// An agent record row, in [`RECORD_COLUMNS`] order.
fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        kind: r.get(0)?,
        id: r.get(1)?,
        namespace: r.get(2)?,
        agent: r.get(3)?,
        owner: r.get(4)?,
        created_us: r.get(5)?,
        updated_us: r.get(6)?,
        data: r.get(7)?,
    })
}

fn immediate<'c>(conn: &'c mut Connection, db: &Db) -> Result<Transaction<'c>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| StoreError::sqlite(&db.path, "starting a write", e))
}

fn sql_params(params: &[Param]) -> Vec<SqlValue> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(s) => SqlValue::Text(s.clone()),
            Param::Int(i) => SqlValue::Integer(*i),
        })
        .collect()
}

fn parse_body(path: &Path, key: &ObjectKey, body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| {
        StoreError::Backend(format!(
            "SQLite database {}: the stored JSON of {key} is damaged ({e}); restore it from a \
             backup or delete and recreate the object",
            path.display()
        ))
    })
}

/// The change log as the watch code reads it.
struct SqliteChangeLog(Arc<Db>);

impl ChangeLog for SqliteChangeLog {
    fn read_after(&self, after: i64, limit: usize) -> BoxFuture<'_, Result<ChangeBatch>> {
        Box::pin(run(&self.0, move |db, conn| {
            db.read_changes(conn, after, limit)
        }))
    }

    fn bounds(&self) -> BoxFuture<'_, Result<(i64, i64)>> {
        Box::pin(run(&self.0, |db, conn| db.bounds(conn)))
    }
}

impl Store for SqliteStore {
    fn get<'a>(&'a self, key: &'a ObjectKey) -> BoxFuture<'a, Result<Value>> {
        let key = key.clone();
        Box::pin(self.run(move |db, conn| {
            let tx = conn.transaction().map_err(db.err("starting a read"))?;
            let (_, stored) = db.current(&tx, &key)?.ok_or_else(|| StoreError::NotFound {
                key: Box::new(key.clone()),
            })?;
            db.key.open(&key, stored)
        }))
    }

    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListResult>> {
        let query = query.clone();
        Box::pin(self.run(move |db, conn| db.list(conn, &query)))
    }

    fn create(&self, object: Value) -> BoxFuture<'_, Result<Value>> {
        Box::pin(self.write(move |db, conn| db.create(conn, object)))
    }

    fn update(&self, object: Value) -> BoxFuture<'_, Result<Value>> {
        Box::pin(self.write(move |db, conn| db.update(conn, object)))
    }

    fn delete<'a>(
        &'a self,
        key: &'a ObjectKey,
        precondition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Value>> {
        let key = key.clone();
        let precondition = precondition.map(str::to_owned);
        Box::pin(self.write(move |db, conn| db.delete(conn, &key, precondition.as_deref())))
    }

    fn watch(&self, query: WatchQuery) -> BoxFuture<'_, Result<Watch>> {
        let log = Arc::new(SqliteChangeLog(Arc::clone(&self.db)));
        Box::pin(watch::start(
            log,
            &self.notifier,
            self.db.key.clone(),
            query,
        ))
    }

    fn revision(&self) -> BoxFuture<'_, Result<i64>> {
        Box::pin(self.run(|db, conn| Ok(db.bounds(conn)?.0)))
    }

    fn compact(&self, revision: i64) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.run(move |db, conn| db.compact(conn, revision)))
    }

    fn append_audit(&self, record: AuditRecord) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.run(move |db, conn| db.append_audit(conn, &record)))
    }

    fn query_audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<Vec<AuditRecord>>> {
        let query = query.clone();
        Box::pin(self.run(move |db, conn| db.query_audit(conn, &query)))
    }

    fn put_agent_record(&self, record: AgentRecord) -> BoxFuture<'_, Result<AgentRecord>> {
        Box::pin(self.run(move |db, conn| db.put_agent_record(conn, record)))
    }

    fn get_agent_record<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<AgentRecord>>> {
        let id = id.to_owned();
        Box::pin(self.run(move |db, conn| db.get_agent_record(conn, kind, &id)))
    }

    fn list_agent_records<'a>(
        &'a self,
        query: &'a AgentRecordQuery,
    ) -> BoxFuture<'a, Result<Vec<AgentRecord>>> {
        let query = query.clone();
        Box::pin(self.run(move |db, conn| db.list_agent_records(conn, &query)))
    }
}
