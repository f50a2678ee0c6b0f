//! A JWKS cache for the request path: reading the keys is a pointer load,
//! refreshing happens on a schedule or when a token names an unknown key.
//!
//! * [`JwksCache::keys`] never does IO and takes no lock.
//! * [`JwksCache::refresh_for_unknown_kid`] fetches at most once per
//!   [`CacheConfig::min_refresh_interval`], however many callers (or
//!   attacker-chosen key ids) ask; callers arriving while a fetch is running
//!   wait for it instead of starting another.
//! * A failed fetch or an unusable document never replaces the keys in use;
//!   the error is returned and logged.
//! * The fetch runs in its own task, so a caller giving up (a cancelled
//!   request) does not abort a refresh others are waiting for.
//!
//! Time comes from a [`Clock`], so tests can move it without sleeping.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::claims::Claims;
use crate::error::{JwtError, RefreshError};
use crate::jwk::KeySet;
use crate::validation::Validation;
use crate::verify::verify;

/// Where the JWKS document comes from; the gateway implements it with its
/// HTTP client, tests in memory.
pub trait JwksFetcher: Send + Sync + 'static {
    /// Fetches the raw JWKS document. The error text is logged, so it must
    /// not contain credentials.
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

/// A monotonic time source.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Cache timing and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Least time between two rate-limited fetches (unknown `kid`).
    pub min_refresh_interval: Duration,
    /// Period of [`JwksCache::spawn_refresher`].
    pub refresh_interval: Duration,
    /// Largest JWKS document accepted, in bytes.
    pub max_jwks_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            min_refresh_interval: Duration::from_secs(30),
            refresh_interval: Duration::from_secs(5 * 60),
            max_jwks_bytes: 512 * 1024,
        }
    }
}

/// What a refresh call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A document was fetched and its keys installed.
    Updated,
    /// The wanted `kid` was already present (perhaps fetched by a concurrent
    /// caller); nothing was fetched.
    AlreadyPresent,
    /// The last fetch was too recent; nothing was fetched.
    RateLimited,
}

/// The current keys of one JWKS source, refreshed on demand and on a
/// schedule. Cloning is cheap and clones share the cache.
pub struct JwksCache<F> {
    inner: Arc<Inner<F>>,
}

impl<F> Clone for JwksCache<F> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<F> std::fmt::Debug for JwksCache<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("keys", &self.inner.keys.load().len())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// No fetch has been attempted yet.
const NEVER: u64 = u64::MAX;

struct Inner<F> {
    fetcher: F,
    config: CacheConfig,
    clock: Arc<dyn Clock>,
    /// Clock reading at construction; attempt times are offsets from it.
    epoch: Instant,
    keys: ArcSwap<KeySet>,
    /// Held for the whole of a fetch; waiting on it is what coalesces callers.
    refresh_lock: Arc<Mutex<()>>,
    /// Milliseconds after `epoch` of the last fetch attempt, or [`NEVER`].
    last_attempt_ms: AtomicU64,
    /// Whether a fetch is running right now.
    in_flight: AtomicBool,
}

impl<F: JwksFetcher> JwksCache<F> {
    /// An empty cache using the system clock. Call [`JwksCache::refresh`]
    /// (or [`JwksCache::spawn_refresher`]) to load the first keys.
    pub fn new(fetcher: F, config: CacheConfig) -> Self {
        Self::with_clock(fetcher, config, Arc::new(SystemClock))
    }

    /// An empty cache reading time from `clock`.
    pub fn with_clock(fetcher: F, config: CacheConfig, clock: Arc<dyn Clock>) -> Self {
        let epoch = clock.now();
        Self {
            inner: Arc::new(Inner {
                fetcher,
                config,
                clock,
                epoch,
                keys: ArcSwap::from_pointee(KeySet::default()),
                refresh_lock: Arc::new(Mutex::new(())),
                last_attempt_ms: AtomicU64::new(NEVER),
                in_flight: AtomicBool::new(false),
            }),
        }
    }

    /// The current keys, without IO or locking. Empty until the first
    /// successful fetch.
    pub fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.load_full()
    }

    /// The cache's configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    /// The fetcher the cache was built with.
    pub fn fetcher(&self) -> &F {
        &self.inner.fetcher
    }

    /// Fetches now, regardless of the rate limit (waiting for a fetch that
    /// is already running first). For start-up and the periodic refresher.
    pub async fn refresh(&self) -> Result<RefreshOutcome, RefreshError> {
        self.refresh_with(None, false).await
    }

    /// Fetches unless a fetch was attempted within the minimum interval.
    pub async fn refresh_if_allowed(&self) -> Result<RefreshOutcome, RefreshError> {
        self.refresh_with(None, true).await
    }

    /// Called when a token names `kid` and the current keys lack it: fetches
    /// unless `kid` has appeared meanwhile or the rate limit forbids it.
    pub async fn refresh_for_unknown_kid(&self, kid: &str) -> Result<RefreshOutcome, RefreshError> {
        if self.keys().contains_kid(kid) {
            return Ok(RefreshOutcome::AlreadyPresent);
        }
        self.refresh_with(Some(kid), true).await
    }

    async fn refresh_with(
        &self,
        kid: Option<&str>,
        rate_limited: bool,
    ) -> Result<RefreshOutcome, RefreshError> {
        let inner = &self.inner;
        // Lock-free early exit for the common case under a flood of unknown
        // kids. While a fetch runs, wait for it below instead: it may bring
        // the key. (`attempted_recently` reads the attempt time before
        // `in_flight`, the reverse of the order they are written in.)
        if rate_limited && inner.attempted_recently() && !inner.in_flight.load(Ordering::SeqCst) {
            return Ok(RefreshOutcome::RateLimited);
        }
        let guard = Arc::clone(&inner.refresh_lock).lock_owned().await;
        if let Some(kid) = kid
            && self.keys().contains_kid(kid)
        {
            return Ok(RefreshOutcome::AlreadyPresent);
        }
        if rate_limited && inner.attempted_recently() {
            return Ok(RefreshOutcome::RateLimited);
        }
        inner.in_flight.store(true, Ordering::SeqCst);
        inner
            .last_attempt_ms
            .store(inner.elapsed_ms(), Ordering::SeqCst);
        let task_inner = Arc::clone(inner);
        let task = tokio::spawn(async move {
            let _guard = guard;
            let _in_flight = InFlight(&task_inner.in_flight);
            task_inner.fetch_and_install().await
        });
        task.await.unwrap_or(Err(RefreshError::TaskFailed))
    }

    /// Starts a task that refreshes now and then every
    /// [`CacheConfig::refresh_interval`]. The task ends once every clone of
    /// the cache is dropped; abort the handle to stop it sooner.
    pub fn spawn_refresher(&self) -> JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        let period = self
            .inner
            .config
            .refresh_interval
            .max(Duration::from_secs(1));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else {
                    break;
                };
                // Failures are logged by the refresh and the old keys stay.
                let _ = JwksCache { inner }.refresh().await;
            }
        })
    }
}

impl<F: JwksFetcher> Inner<F> {
    fn elapsed_ms(&self) -> u64 {
        let elapsed = self.clock.now().saturating_duration_since(self.epoch);
        u64::try_from(elapsed.as_millis()).unwrap_or(NEVER - 1)
    }

    fn attempted_recently(&self) -> bool {
        let last = self.last_attempt_ms.load(Ordering::SeqCst);
        let min_interval =
            u64::try_from(self.config.min_refresh_interval.as_millis()).unwrap_or(u64::MAX);
        last != NEVER && self.elapsed_ms().saturating_sub(last) < min_interval
    }

    async fn fetch_and_install(&self) -> Result<RefreshOutcome, RefreshError> {
        match self.fetch_and_parse().await {
            Ok(keys) => {
                for skipped in keys.skipped() {
                    tracing::debug!(%skipped, "JWKS key skipped");
                }
                tracing::debug!(keys = keys.len(), "JWKS refreshed");
                self.keys.store(Arc::new(keys));
                Ok(RefreshOutcome::Updated)
            }
            Err(error) => {
                tracing::warn!(%error, "JWKS refresh failed; keeping the previous keys");
                Err(error)
            }
        }
    }

    async fn fetch_and_parse(&self) -> Result<KeySet, RefreshError> {
        let bytes = self.fetcher.fetch().await.map_err(RefreshError::Fetch)?;
        if bytes.len() > self.config.max_jwks_bytes {
            return Err(RefreshError::TooLarge {
                len: bytes.len(),
                max: self.config.max_jwks_bytes,
            });
        }
        Ok(KeySet::from_json(&bytes)?)
    }
}

/// Clears the in-flight flag when the fetch task ends, even by panicking.
struct InFlight<'a>(&'a AtomicBool);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Verifies `token` with the cache's keys. If the token names an unknown
/// `kid` (or, lacking a `kid`, fits no key), triggers one rate-limited
/// refresh and, if the keys changed, verifies once more.
pub async fn verify_with_cache<F: JwksFetcher>(
    token: &str,
    cache: &JwksCache<F>,
    validation: &Validation,
) -> Result<Claims, JwtError> {
    let keys = cache.keys();
    let first = verify(token, &keys, validation);
    // Refresh failures are logged by the cache; the old keys still apply.
    let _ = match &first {
        Err(JwtError::UnknownKid(kid)) => cache.refresh_for_unknown_kid(kid).await,
        Err(JwtError::NoMatchingKey(_)) => cache.refresh_if_allowed().await,
        _ => return first,
    };
    let current = cache.keys();
    if Arc::ptr_eq(&keys, &current) {
        return first;
    }
    verify(token, &current, validation)
}
