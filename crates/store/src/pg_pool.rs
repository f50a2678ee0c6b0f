//! A small PostgreSQL connection pool.
//!
//! At most `size` connections, handed out under a semaphore, made on demand and
//! kept while they stay open; a closed connection is dropped and replaced on the
//! next checkout. That is all the store needs, so no pool crate is pulled in.
//!
//! Connections are made without TLS (`NoTls`): the database must be reached over
//! a trusted network or a Unix socket until TLS support is added.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::{Result, StoreError};

/// The pool.
pub(crate) struct Pool {
    config: Config,
    target: String,
    idle: Mutex<Vec<Client>>,
    permits: Semaphore,
}

impl Pool {
    /// A pool of at most `size` connections to `config`; connects lazily.
    pub(crate) fn new(config: Config, size: usize) -> Pool {
        Pool {
            target: describe(&config),
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// Where the pool connects, without the password: `user@host:port/db`.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// A connection, waiting while all are in use.
    pub(crate) async fn get(&self) -> Result<PooledClient<'_>> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("the PostgreSQL pool was closed".into()))?;
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            std::iter::from_fn(|| idle.pop()).find(|c| !c.is_closed())
        };
        let client = match reused {
            Some(client) => client,
            None => connect(&self.config, &self.target).await?,
        };
        Ok(PooledClient {
            client: Some(client),
            pool: self,
            _permit: permit,
        })
    }
}

/// A checked-out connection; returns to the pool when dropped.
pub(crate) struct PooledClient<'p> {
    client: Option<Client>,
    pool: &'p Pool,
    _permit: SemaphorePermit<'p>,
}

impl Deref for PooledClient<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until drop")
    }
}

impl DerefMut for PooledClient<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }
}

impl Drop for PooledClient<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take().filter(|c| !c.is_closed()) {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
        }
    }
}

/// Opens a connection whose I/O runs on its own task.
pub(crate) async fn connect(config: &Config, target: &str) -> Result<Client> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| StoreError::postgres(&format!("cannot connect to {target}"), e))?;
    let target = target.to_string();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(target = %target, error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// `user@host:port/db` of a connection config, for messages (never the password).
pub(crate) fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or("?"),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}
