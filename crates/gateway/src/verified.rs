//! Tokens verified a moment ago. A caller sends the same bearer token with
//! every request; checking its signature each time (ES256 ≈ 55 µs, RS256 ≈
//! 20 µs) dominates an authenticated request. A verified token is
//! remembered, by its SHA-256, until it expires (with the validation's
//! leeway) or the key set that verified it is replaced, whichever comes
//! first; a configuration reload starts with an empty cache.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use palisade_identity::KeySet;

/// Most tokens remembered; past it, expired entries go, and if that is not
/// enough, all of them.
const CAPACITY: usize = 4096;

struct Entry<T> {
    value: Arc<T>,
    /// Last second (Unix time) the token is accepted.
    valid_until: i64,
    /// Index of the provider whose keys verified it.
    provider: usize,
    /// The key set that verified it.
    keys: Arc<KeySet>,
}

/// Verified tokens, by SHA-256.
pub struct Verified<T> {
    entries: Mutex<HashMap<[u8; 32], Entry<T>, BuildHasherDefault<DigestHasher>>>,
}

impl<T> Default for Verified<T> {
    fn default() -> Self {
        Verified {
            entries: Mutex::new(HashMap::default()),
        }
    }
}

/// Keys are SHA-256 digests, already uniformly spread: their first eight
/// bytes are the hash (no second hashing per lookup).
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its bytes; a length prefix, if any, is short.
        if bytes.len() >= 8 {
            let mut head = [0u8; 8];
            head.copy_from_slice(&bytes[..8]);
            self.0 = u64::from_ne_bytes(head);
        }
    }
}

/// The SHA-256 of a token (the cache never holds tokens themselves).
pub fn digest(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl<T> Verified<T> {
    /// The remembered value of the token with `digest`, if it is still valid
    /// at `now` and `current_keys(provider)` is the key set that verified it.
    pub fn get(
        &self,
        digest: &[u8; 32],
        now: i64,
        current_keys: impl Fn(usize) -> Option<Arc<KeySet>>,
    ) -> Option<Arc<T>> {
        let (value, provider, keys) = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let entry = entries.get(digest)?;
            if now > entry.valid_until {
                return None;
            }
            (entry.value.clone(), entry.provider, entry.keys.clone())
        };
        let current = current_keys(provider)?;
        Arc::ptr_eq(&current, &keys).then_some(value)
    }

    /// Remembers a token verified by `keys` of `provider`, valid until
    /// `valid_until` (Unix seconds).
    pub fn insert(
        &self,
        digest: [u8; 32],
        value: Arc<T>,
        valid_until: i64,
        provider: usize,
        keys: Arc<KeySet>,
        now: i64,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| e.valid_until >= now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Entry {
                value,
                valid_until,
                provider,
                keys,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Arc<KeySet> {
        let signer = palisade_identity::Signer::generate().unwrap();
        let set = palisade_identity::JwkSet {
            keys: vec![signer.public_jwk().clone()],
        };
        Arc::new(KeySet::from_json(&serde_json::to_vec(&set).unwrap()).unwrap())
    }

    #[test]
    fn entries_end_with_expiry_and_with_their_key_set() {
        let cache: Verified<&str> = Verified::default();
        let (set, other) = (keys(), keys());
        let d = digest("token");
        cache.insert(d, Arc::new("alice"), 100, 0, set.clone(), 50);
        assert_eq!(
            cache.get(&d, 100, |_| Some(set.clone())).as_deref(),
            Some(&"alice")
        );
        assert_eq!(cache.get(&d, 101, |_| Some(set.clone())), None, "expired");
        assert_eq!(
            cache.get(&d, 60, |_| Some(other.clone())),
            None,
            "keys replaced"
        );
        assert_eq!(cache.get(&d, 60, |_| None), None, "keys gone");
        assert_eq!(cache.get(&digest("other"), 60, |_| Some(set.clone())), None);
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first() {
        let cache: Verified<u32> = Verified::default();
        let set = keys();
        for i in 0..CAPACITY as u32 {
            let valid_until = if i == 0 { 1_000 } else { 10 };
            cache.insert(
                digest(&i.to_string()),
                Arc::new(i),
                valid_until,
                0,
                set.clone(),
                5,
            );
        }
        cache.insert(digest("new"), Arc::new(7), 1_000, 0, set.clone(), 20);
        assert!(cache.get(&digest("0"), 20, |_| Some(set.clone())).is_some());
        assert!(
            cache
                .get(&digest("new"), 20, |_| Some(set.clone()))
                .is_some()
        );
        assert_eq!(cache.entries.lock().unwrap().len(), 2);
    }
}
