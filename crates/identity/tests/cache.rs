//! The JWKS cache with an in-memory fetcher and a hand-moved clock: no test
//! sleeps or asserts on real time.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestKey, claims, jwks, token, validation};
use palisade_identity::{
    CacheConfig, Clock, JwksCache, JwksError, JwksFetcher, JwtError, KeyRing, RefreshError,
    RefreshOutcome, verify_with_cache,
};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

/// A clock that only moves when told to.
struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }
}

/// Serves whatever document it is given, counts fetches, and can be held
/// closed so fetches stay in flight.
struct FakeFetcher {
    document: Mutex<Result<Vec<u8>, String>>,
    fetches: AtomicUsize,
    open: watch::Sender<bool>,
}

impl FakeFetcher {
    fn new(document: Vec<u8>) -> Self {
        Self {
            document: Mutex::new(Ok(document)),
            fetches: AtomicUsize::new(0),
            open: watch::Sender::new(true),
        }
    }

    fn serve(&self, document: Result<Vec<u8>, String>) {
        *self.document.lock().unwrap() = document;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl JwksFetcher for FakeFetcher {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.subscribe();
        open.wait_for(|open| *open)
            .await
            .map_err(|_| "closed".to_owned())?;
        self.document.lock().unwrap().clone()
    }
}

fn config() -> CacheConfig {
    CacheConfig {
        min_refresh_interval: Duration::from_secs(30),
        ..CacheConfig::default()
    }
}

async fn loaded_cache(document: Vec<u8>, clock: Arc<ManualClock>) -> JwksCache<FakeFetcher> {
    let cache = JwksCache::with_clock(FakeFetcher::new(document), config(), clock);
    assert_eq!(cache.refresh().await, Ok(RefreshOutcome::Updated));
    cache
}

#[tokio::test]
async fn keys_are_served_from_memory() {
    let key = TestKey::es256();
    let cache = loaded_cache(jwks(&[key.jwk("k1")]), ManualClock::new()).await;
    let token = token(&key, json!({"alg": "ES256", "kid": "k1"}), &claims());
    for _ in 0..10 {
        let verified = verify_with_cache(&token, &cache, &validation())
            .await
            .unwrap();
        assert_eq!(verified.sub(), Some("agent-7"));
    }
    assert_eq!(cache.fetcher().fetches(), 1);
    assert!(cache.keys().contains_kid("k1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kid_fetches_once_for_many_concurrent_callers() {
    let old = TestKey::es256();
    let new = TestKey::es256();
    let clock = ManualClock::new();
    let cache = loaded_cache(jwks(&[old.jwk("k1")]), clock.clone()).await;
    clock.advance(Duration::from_secs(31));

    // The identity provider rotates; hold its answer until every caller waits.
    cache
        .fetcher()
        .serve(Ok(jwks(&[old.jwk("k1"), new.jwk("k2")])));
    cache.fetcher().open.send_replace(false);
    let token = Arc::new(token(&new, json!({"alg": "ES256", "kid": "k2"}), &claims()));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let cache = cache.clone();
        let token = Arc::clone(&token);
        callers.spawn(async move { verify_with_cache(&token, &cache, &validation()).await });
    }
    tokio::time::timeout(Duration::from_secs(30), async {
        while cache.fetcher().fetches() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("a refresh starts");
    cache.fetcher().open.send_replace(true);

    while let Some(result) = callers.join_next().await {
        let verified = result.unwrap().unwrap();
        assert_eq!(verified.sub(), Some("agent-7"));
    }
    assert_eq!(
        cache.fetcher().fetches(),
        2,
        "one start-up fetch, one refresh"
    );
}

#[tokio::test]
async fn random_kids_cannot_force_fetches() {
    let key = TestKey::es256();
    let clock = ManualClock::new();
    let cache = loaded_cache(jwks(&[key.jwk("k1")]), clock.clone()).await;

    for attempt in 0..20 {
        let kid = format!("attacker-{attempt}");
        let token = token(&key, json!({"alg": "ES256", "kid": kid}), &claims());
        assert_eq!(
            verify_with_cache(&token, &cache, &validation()).await,
            Err(JwtError::UnknownKid(kid))
        );
    }
    assert_eq!(cache.fetcher().fetches(), 1, "the start-up fetch only");
    assert_eq!(
        cache.refresh_for_unknown_kid("attacker-x").await,
        Ok(RefreshOutcome::RateLimited)
    );

    // Once the interval has passed, one more fetch is allowed, then none.
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        cache.refresh_for_unknown_kid("attacker-y").await,
        Ok(RefreshOutcome::Updated)
    );
    assert_eq!(
        cache.refresh_for_unknown_kid("attacker-z").await,
        Ok(RefreshOutcome::RateLimited)
    );
    assert_eq!(
        cache.refresh_for_unknown_kid("k1").await,
        Ok(RefreshOutcome::AlreadyPresent)
    );
    assert_eq!(cache.fetcher().fetches(), 2);
}

#[tokio::test]
async fn failures_keep_the_last_good_keys() {
    let key = TestKey::es256();
    let cache = loaded_cache(jwks(&[key.jwk("k1")]), ManualClock::new()).await;
    let token = token(&key, json!({"alg": "ES256", "kid": "k1"}), &claims());

    cache.fetcher().serve(Err("connection refused".to_owned()));
    assert_eq!(
        cache.refresh().await,
        Err(RefreshError::Fetch("connection refused".to_owned()))
    );
    cache.fetcher().serve(Ok(b"<html>".to_vec()));
    assert!(matches!(
        cache.refresh().await,
        Err(RefreshError::Jwks(JwksError::Invalid(_)))
    ));
    cache.fetcher().serve(Ok(br#"{"keys": []}"#.to_vec()));
    assert!(matches!(
        cache.refresh().await,
        Err(RefreshError::Jwks(JwksError::NoUsableKeys(_)))
    ));
    cache
        .fetcher()
        .serve(Ok(vec![b' '; config().max_jwks_bytes + 1]));
    assert!(matches!(
        cache.refresh().await,
        Err(RefreshError::TooLarge { .. })
    ));

    assert_eq!(cache.fetcher().fetches(), 5);
    assert!(cache.keys().contains_kid("k1"));
    assert!(
        verify_with_cache(&token, &cache, &validation())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_failed_first_fetch_leaves_an_empty_set_and_is_retried() {
    let key = TestKey::es256();
    let clock = ManualClock::new();
    let fetcher = FakeFetcher::new(Vec::new());
    fetcher.serve(Err("identity provider down".to_owned()));
    let cache = JwksCache::with_clock(fetcher, config(), clock.clone());
    assert!(cache.refresh().await.is_err());
    assert!(cache.keys().is_empty());

    cache.fetcher().serve(Ok(jwks(&[key.jwk("k1")])));
    clock.advance(Duration::from_secs(30));
    let token = token(&key, json!({"alg": "ES256", "kid": "k1"}), &claims());
    assert!(
        verify_with_cache(&token, &cache, &validation())
            .await
            .is_ok()
    );
    assert_eq!(cache.fetcher().fetches(), 2);
}

#[tokio::test]
async fn new_kid_is_picked_up_and_removed_kid_dropped() {
    let first = TestKey::ed25519();
    let second = TestKey::rsa();
    let clock = ManualClock::new();
    let cache = loaded_cache(jwks(&[first.jwk("a")]), clock.clone()).await;
    let first_token = token(&first, json!({"alg": "EdDSA", "kid": "a"}), &claims());
    let second_token = token(&second, json!({"alg": "PS256", "kid": "b"}), &claims());

    cache.fetcher().serve(Ok(jwks(&[second.jwk("b")])));
    clock.advance(Duration::from_secs(30));
    assert!(
        verify_with_cache(&second_token, &cache, &validation())
            .await
            .is_ok()
    );
    assert_eq!(
        verify_with_cache(&first_token, &cache, &validation()).await,
        Err(JwtError::UnknownKid("a".to_owned()))
    );
}

/// Serves the public keys of a key ring, as the control plane's JWKS
/// endpoint would.
struct RingFetcher {
    ring: Mutex<KeyRing>,
}

impl JwksFetcher for RingFetcher {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        let jwks = self.ring.lock().unwrap().jwks_json();
        serde_json::to_vec(&jwks).map_err(|error| error.to_string())
    }
}

fn service_claims() -> Map<String, Value> {
    match claims() {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn key_ring_rotation_through_the_cache() {
    let clock = ManualClock::new();
    let fetcher = RingFetcher {
        ring: Mutex::new(KeyRing::generate().unwrap()),
    };
    let cache = JwksCache::with_clock(fetcher, config(), clock.clone());
    cache.refresh().await.unwrap();
    let old_token = cache
        .fetcher()
        .ring
        .lock()
        .unwrap()
        .sign(&service_claims())
        .unwrap();

    let new_token = {
        let mut ring = cache.fetcher().ring.lock().unwrap();
        ring.rotate().unwrap();
        ring.sign(&service_claims()).unwrap()
    };
    clock.advance(Duration::from_secs(30));
    assert!(
        verify_with_cache(&new_token, &cache, &validation())
            .await
            .is_ok()
    );
    assert!(
        verify_with_cache(&old_token, &cache, &validation())
            .await
            .is_ok()
    );

    cache.fetcher().ring.lock().unwrap().prune_retired(u64::MAX);
    cache.refresh().await.unwrap();
    assert!(matches!(
        verify_with_cache(&old_token, &cache, &validation()).await,
        Err(JwtError::UnknownKid(_))
    ));
    assert!(
        verify_with_cache(&new_token, &cache, &validation())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn refresher_loads_keys_in_the_background() {
    let key = TestKey::es256();
    let cache = JwksCache::with_clock(
        FakeFetcher::new(jwks(&[key.jwk("k1")])),
        config(),
        ManualClock::new(),
    );
    let refresher = cache.spawn_refresher();
    tokio::time::timeout(Duration::from_secs(30), async {
        while cache.keys().is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the first refresh runs immediately");
    refresher.abort();
    assert!(cache.keys().contains_kid("k1"));
}

#[test]
fn verification_future_is_send() {
    fn assert_send<T: Send>(_: T) {}
    let cache = JwksCache::new(FakeFetcher::new(Vec::new()), CacheConfig::default());
    let rules = validation();
    assert_send(verify_with_cache("token", &cache, &rules));
    assert_send(cache.refresh_for_unknown_kid("kid"));
}
