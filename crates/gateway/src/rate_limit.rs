//! Local rate limits (`traffic.rateLimit.local`): token buckets per caller, per
//! replica.
//!
//! Each limit is a bucket holding `rate + burst` units that refills at `rate`
//! per `unit`. A request limit takes one unit when a request is admitted; a
//! token limit admits a request while its bucket is above zero and is charged
//! the LLM tokens (input + output) when the request completes, so a large
//! answer holds back the caller's later requests. A request is admitted only
//! when every limit admits it, and a refused request takes nothing from any
//! bucket. Refusals carry the time until the emptiest bucket admits again, for
//! `Retry-After`.
//!
//! Buckets are kept per [`CallerKey`]: the authenticated principal, else the
//! client's address. Limiters outlive configuration reloads through the
//! [`LimiterRegistry`], so editing an unrelated resource does not hand every
//! caller a fresh allowance.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use palisade_api::kinds::agentgateway::rate_limit::LocalRateLimit;

/// Callers tracked per limiter before idle (full) buckets are dropped.
const MAX_CALLERS: usize = 65_536;

/// Whom a bucket belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// An authenticated principal (e.g. a JWT subject).
    Principal(Arc<str>),
    /// An unauthenticated client, by address.
    Address(IpAddr),
}

impl fmt::Display for CallerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerKey::Principal(p) => f.write_str(p),
            CallerKey::Address(a) => write!(f, "address {a}"),
        }
    }
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counts {
    Requests,
    Tokens,
}

/// One compiled limit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Limit {
    counts: Counts,
    /// Units the bucket holds when full (`rate + burst`).
    capacity: f64,
    /// Units added per second.
    per_second: f64,
}

impl Limit {
    fn from_spec(spec: &LocalRateLimit) -> Option<Limit> {
        let (counts, rate) = match (spec.requests, spec.tokens) {
            (Some(n), None) => (Counts::Requests, n),
            (None, Some(n)) => (Counts::Tokens, n),
            _ => return None,
        };
        let rate = u32::try_from(rate).ok().filter(|r| *r > 0)?;
        let burst = u32::try_from(spec.burst.unwrap_or(0)).ok()?;
        Some(Limit {
            counts,
            capacity: f64::from(rate) + f64::from(burst),
            per_second: f64::from(rate) / spec.unit.duration().as_secs_f64(),
        })
    }

    /// Units the bucket must hold to admit a request.
    fn needed(&self) -> f64 {
        match self.counts {
            Counts::Requests => 1.0,
            Counts::Tokens => f64::MIN_POSITIVE,
        }
    }
}

/// A bucket's level at a point in time.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    level: f64,
    at: Instant,
}

impl Bucket {
    fn full(limit: &Limit, now: Instant) -> Bucket {
        Bucket {
            level: limit.capacity,
            at: now,
        }
    }

    /// Adds what accrued since the last update, up to the capacity.
    fn refill(&mut self, limit: &Limit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + elapsed * limit.per_second).min(limit.capacity);
        self.at = now;
    }

    /// Time until the bucket holds `needed` units.
    fn wait_for(&self, limit: &Limit, needed: f64) -> Duration {
        let missing = (needed - self.level).max(0.0);
        Duration::from_secs_f64(missing / limit.per_second)
    }
}

/// A refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limited {
    /// Whole seconds until a request would be admitted (at least 1).
    pub retry_after_secs: u64,
    /// The policy whose limit refused it.
    pub policy: Arc<str>,
}

/// The local limits of one policy and the buckets of every caller.
pub struct RateLimiter {
    policy: Arc<str>,
    limits: Vec<Limit>,
    buckets: Mutex<HashMap<CallerKey, Vec<Bucket>>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter for `specs` (validated resources; an invalid entry is skipped).
    pub fn new(policy: &str, specs: &[LocalRateLimit]) -> RateLimiter {
        RateLimiter {
            policy: Arc::from(policy),
            limits: specs.iter().filter_map(Limit::from_spec).collect(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The policy these limits come from.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// Whether any limit counts LLM tokens (so completions must be charged).
    pub fn counts_tokens(&self) -> bool {
        self.limits.iter().any(|l| l.counts == Counts::Tokens)
    }

    /// Admits one request of `caller` at `now`, or says how long to wait.
    pub fn admit(&self, caller: &CallerKey, now: Instant) -> Result<(), Limited> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(caller) && map.len() >= MAX_CALLERS {
            self.evict(&mut map, now);
        }
        let buckets = map.entry(caller.clone()).or_insert_with(|| {
            self.limits
                .iter()
                .map(|limit| Bucket::full(limit, now))
                .collect()
        });
        let mut wait: Option<Duration> = None;
        for (bucket, limit) in buckets.iter_mut().zip(&self.limits) {
            bucket.refill(limit, now);
            if bucket.level < limit.needed() {
                let this = bucket.wait_for(limit, limit.needed());
                wait = Some(wait.map_or(this, |w| w.max(this)));
            }
        }
        if let Some(wait) = wait {
            return Err(Limited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                policy: self.policy.clone(),
            });
        }
        for (bucket, limit) in buckets.iter_mut().zip(&self.limits) {
            if limit.counts == Counts::Requests {
                bucket.level -= 1.0;
            }
        }
        Ok(())
    }

    /// Charges `tokens` LLM tokens to `caller`'s token limits at `now`. The
    /// level may go below zero: the caller then waits until it refills.
    pub fn charge_tokens(&self, caller: &CallerKey, tokens: u64, now: Instant) {
        if tokens == 0 || !self.counts_tokens() {
            return;
        }
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let buckets = map.entry(caller.clone()).or_insert_with(|| {
            self.limits
                .iter()
                .map(|limit| Bucket::full(limit, now))
                .collect()
        });
        for (bucket, limit) in buckets.iter_mut().zip(&self.limits) {
            if limit.counts == Counts::Tokens {
                bucket.refill(limit, now);
                // A charge larger than any bucket is capped so that one huge
                // answer blocks the caller for at most two refill periods.
                bucket.level = (bucket.level - tokens as f64).max(-limit.capacity);
            }
        }
    }

    /// Drops callers whose buckets are full again; if that frees nothing,
    /// drops arbitrary callers (they start over with full buckets) rather than
    /// refusing new callers.
    fn evict(&self, map: &mut HashMap<CallerKey, Vec<Bucket>>, now: Instant) {
        map.retain(|_, buckets| {
            buckets.iter_mut().zip(&self.limits).any(|(b, limit)| {
                b.refill(limit, now);
                b.level < limit.capacity
            })
        });
        if map.len() >= MAX_CALLERS {
            let excess: Vec<CallerKey> = map.keys().take(MAX_CALLERS / 8).cloned().collect();
            for key in excess {
                map.remove(&key);
            }
        }
    }
}

/// Limiters by policy and spec, kept across Plan compiles so that reloads keep
/// every caller's buckets. An entry lives while a Plan uses it.
#[derive(Default)]
pub struct LimiterRegistry {
    limiters: Mutex<HashMap<String, Weak<RateLimiter>>>,
}

impl fmt::Debug for LimiterRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimiterRegistry").finish_non_exhaustive()
    }
}

impl LimiterRegistry {
    /// The limiter of `policy` with exactly `specs`: the live one if a Plan
    /// still holds it, else a new one with full buckets.
    pub fn limiter(&self, policy: &str, specs: &[LocalRateLimit]) -> Arc<RateLimiter> {
        let key = format!(
            "{policy}\n{}",
            serde_json::to_string(specs).unwrap_or_default()
        );
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, weak| weak.strong_count() > 0);
        if let Some(live) = map.get(&key).and_then(Weak::upgrade) {
            return live;
        }
        let limiter = Arc::new(RateLimiter::new(policy, specs));
        map.insert(key, Arc::downgrade(&limiter));
        limiter
    }
}

#[cfg(test)]
mod tests {
    use palisade_api::kinds::agentgateway::rate_limit::RateLimitUnit;

    use super::*;

    fn requests(n: i64, unit: RateLimitUnit, burst: Option<i64>) -> LocalRateLimit {
        LocalRateLimit {
            requests: Some(n),
            tokens: None,
            unit,
            burst,
        }
    }

    fn tokens(n: i64, unit: RateLimitUnit) -> LocalRateLimit {
        LocalRateLimit {
            requests: None,
            tokens: Some(n),
            unit,
            burst: None,
        }
    }

    fn alice() -> CallerKey {
        CallerKey::Principal(Arc::from("alice"))
    }

    #[test]
    fn request_limit_admits_rate_plus_burst_then_refills() {
        let limiter = RateLimiter::new("p", &[requests(2, RateLimitUnit::Minutes, Some(1))]);
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.admit(&alice(), t0).unwrap();
        }
        let refused = limiter.admit(&alice(), t0).unwrap_err();
        // 2 per minute: one unit every 30 s.
        assert_eq!(refused.retry_after_secs, 30);
        assert_eq!(&*refused.policy, "p");
        assert!(
            limiter
                .admit(&alice(), t0 + Duration::from_secs(29))
                .is_err()
        );
        limiter
            .admit(&alice(), t0 + Duration::from_secs(30))
            .unwrap();
    }

    #[test]
    fn callers_have_their_own_buckets() {
        let limiter = RateLimiter::new("p", &[requests(1, RateLimitUnit::Hours, None)]);
        let t0 = Instant::now();
        limiter.admit(&alice(), t0).unwrap();
        assert!(limiter.admit(&alice(), t0).is_err());
        let bob = CallerKey::Address(IpAddr::from([127, 0, 0, 2]));
        limiter.admit(&bob, t0).unwrap();
    }

    #[test]
    fn token_limit_is_charged_after_completion() {
        let limiter = RateLimiter::new("p", &[tokens(100, RateLimitUnit::Seconds)]);
        let t0 = Instant::now();
        assert!(limiter.counts_tokens());
        limiter.admit(&alice(), t0).unwrap();
        limiter.admit(&alice(), t0).unwrap();
        limiter.charge_tokens(&alice(), 150, t0);
        let refused = limiter.admit(&alice(), t0).unwrap_err();
        // 50 tokens in debt at 100 per second.
        assert_eq!(refused.retry_after_secs, 1);
        limiter
            .admit(&alice(), t0 + Duration::from_millis(501))
            .unwrap();
    }

    #[test]
    fn a_refused_request_takes_nothing_from_other_limits() {
        let limiter = RateLimiter::new(
            "p",
            &[
                requests(5, RateLimitUnit::Minutes, None),
                tokens(10, RateLimitUnit::Minutes),
            ],
        );
        let t0 = Instant::now();
        limiter.charge_tokens(&alice(), 10, t0);
        for _ in 0..10 {
            assert!(limiter.admit(&alice(), t0).is_err());
        }
        // Tokens refill after 6 s (one per 6 s); the 5 requests are all still there.
        let later = t0 + Duration::from_secs(6);
        for _ in 0..5 {
            limiter.admit(&alice(), later).unwrap();
        }
        assert!(limiter.admit(&alice(), later).is_err());
    }

    #[test]
    fn registry_keeps_buckets_across_compiles_until_spec_changes() {
        let registry = LimiterRegistry::default();
        let spec = [requests(1, RateLimitUnit::Hours, None)];
        let first = registry.limiter("ns/p", &spec);
        first.admit(&alice(), Instant::now()).unwrap();
        let second = registry.limiter("ns/p", &spec);
        assert!(Arc::ptr_eq(&first, &second));
        assert!(second.admit(&alice(), Instant::now()).is_err());
        let changed = registry.limiter("ns/p", &[requests(2, RateLimitUnit::Hours, None)]);
        assert!(!Arc::ptr_eq(&first, &changed));
        drop((first, second));
        let fresh = registry.limiter("ns/p", &spec);
        fresh.admit(&alice(), Instant::now()).unwrap();
    }

    #[test]
    fn eviction_keeps_callers_still_limited() {
        let limiter = RateLimiter::new("p", &[requests(1, RateLimitUnit::Hours, None)]);
        let t0 = Instant::now();
        limiter.admit(&alice(), t0).unwrap();
        {
            let mut map = limiter.buckets.lock().unwrap();
            for i in 0..MAX_CALLERS as u32 {
                map.insert(
                    CallerKey::Address(IpAddr::from(i.to_be_bytes())),
                    vec![Bucket::full(&limiter.limits[0], t0)],
                );
            }
        }
        let newcomer = CallerKey::Address(IpAddr::from([10, 255, 255, 255]));
        limiter.admit(&newcomer, t0).unwrap();
        assert!(
            limiter.admit(&alice(), t0).is_err(),
            "alice kept her bucket"
        );
    }
}
