//! Encryption at rest for Secrets.
//!
//! Core-group `Secret` objects have their `data` and `stringData` fields sealed with
//! AES-256-GCM before they reach the database, and opened again when read. The rest
//! of the manifest (metadata, labels, type) stays readable so the store can select
//! and list Secrets without the key.
//!
//! A sealed Secret's stored form replaces the two fields with
//! `palisadeSealed: {v, alg, keyId, nonce, ciphertext}`: the ciphertext is the JSON
//! object `{data, stringData}`, the nonce is 96 random bits drawn for every write,
//! and the additional authenticated data is the object's key, so a ciphertext copied
//! onto another object fails to open. `keyId` is a fingerprint of the key (not the
//! key) that turns "wrong key" into a clear error instead of a failed tag check.
//!
//! The key is 32 bytes, from `PALISADE_ENCRYPTION_KEY` (base64) or from the file
//! `encryption.key` in the state directory, created with mode 0600 on first use.
//! Replicas that share one PostgreSQL database must all be given the same key,
//! e.g. `head -c 32 /dev/urandom | base64` in `PALISADE_ENCRYPTION_KEY`.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value, json};

use crate::error::StoreError;
use crate::key::ObjectKey;

/// The environment variable that holds the key, base64-encoded.
pub const KEY_ENV: &str = "PALISADE_ENCRYPTION_KEY";

/// The key file's name inside the state directory.
pub const KEY_FILE: &str = "encryption.key";

/// The field of a stored Secret that holds its sealed data.
pub const SEALED_FIELD: &str = "palisadeSealed";

/// The fields of a Secret that are sealed.
const SECRET_FIELDS: [&str; 2] = ["data", "stringData"];

const KEY_LEN: usize = 32;
const ALGORITHM: &str = "AES-256-GCM";

/// A 256-bit AES-GCM key. Its `Debug` shows only the key id.
#[derive(Clone)]
pub struct EncryptionKey {
    key: LessSafeKey,
    id: String,
}

impl EncryptionKey {
    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<EncryptionKey, StoreError> {
        if bytes.len() != KEY_LEN {
            return Err(StoreError::Encryption(format!(
                "an encryption key is {KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| StoreError::Encryption("AES-256-GCM rejected the key".into()))?;
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            &[b"palisade-store key id\0".as_slice(), bytes].concat(),
        );
        let id = digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(EncryptionKey {
            key: LessSafeKey::new(unbound),
            id,
        })
    }

    /// A fresh random key (for tests and first-time setup).
    pub fn generate() -> Result<EncryptionKey, StoreError> {
        let mut bytes = [0u8; KEY_LEN];
        random(&mut bytes)?;
        EncryptionKey::from_bytes(&bytes)
    }

    /// The key from `PALISADE_ENCRYPTION_KEY` when it is set and not empty,
    /// otherwise from `<dir>/encryption.key`, which is created (with the directory)
    /// holding a random key, mode 0600, if it does not exist.
    pub fn from_env_or_file(dir: &Path) -> Result<EncryptionKey, StoreError> {
        match std::env::var(KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                EncryptionKey::from_base64(&text).map_err(|e| match e {
                    StoreError::Encryption(m) => StoreError::Encryption(format!("{KEY_ENV}: {m}")),
                    other => other,
                })
            }
            _ => EncryptionKey::from_file(dir),
        }
    }

    /// A key from the base64 (standard alphabet) of 32 bytes; surrounding
    /// whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<EncryptionKey, StoreError> {
        let how = "use the base64 of 32 random bytes, e.g. `head -c 32 /dev/urandom | base64`";
        let bytes = BASE64.decode(text.trim()).map_err(|e| {
            StoreError::Encryption(format!("the key is not valid base64 ({e}); {how}"))
        })?;
        if bytes.len() != KEY_LEN {
            return Err(StoreError::Encryption(format!(
                "the key decodes to {} bytes but must be {KEY_LEN}; {how}",
                bytes.len()
            )));
        }
        EncryptionKey::from_bytes(&bytes)
    }

    /// The key in `<dir>/encryption.key`, created if missing.
    pub fn from_file(dir: &Path) -> Result<EncryptionKey, StoreError> {
        let path = dir.join(KEY_FILE);
        let io_error = |what: &str, e: std::io::Error| {
            StoreError::Encryption(format!("{what} {}: {e}", path.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create the directory of", e))?;
        let mut fresh = [0u8; KEY_LEN];
        random(&mut fresh)?;
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(&fresh)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io_error("cannot write the new key file", e))?;
                tracing::info!(path = %path.display(), "created a new encryption key");
                return EncryptionKey::from_bytes(&fresh);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("cannot create the key file", e)),
        }
        let mut file = std::fs::File::open(&path).map_err(|e| io_error("cannot open", e))?;
        let mode = file
            .metadata()
            .map_err(|e| io_error("cannot stat", e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the encryption key file is readable by other users; chmod 600 it"
            );
        }
        let mut bytes = Vec::with_capacity(KEY_LEN);
        file.read_to_end(&mut bytes)
            .map_err(|e| io_error("cannot read", e))?;
        if bytes.len() != KEY_LEN {
            return Err(StoreError::Encryption(format!(
                "the key file {} holds {} bytes but a key is {KEY_LEN}; restore the original \
                 file (Secrets written with it cannot be read otherwise)",
                path.display(),
                bytes.len()
            )));
        }
        EncryptionKey::from_bytes(&bytes)
    }

    /// A fingerprint of the key (16 hex digits), safe to log and show.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The stored form of an object: for a core-group Secret with `data` or
    /// `stringData`, those fields are sealed; anything else is returned unchanged.
    pub(crate) fn seal(&self, key: &ObjectKey, object: Value) -> Result<Value, StoreError> {
        if !key.is_secret() {
            return Ok(object);
        }
        let Value::Object(mut map) = object else {
            return Ok(object);
        };
        if map.contains_key(SEALED_FIELD) {
            return Err(StoreError::InvalidObject(format!(
                "{key}: the field `{SEALED_FIELD}` is reserved for the store's encrypted data; \
                 remove it"
            )));
        }
        let mut secret = Map::new();
        for field in SECRET_FIELDS {
            if let Some(value) = map.remove(field) {
                secret.insert(field.to_string(), value);
            }
        }
        if secret.is_empty() {
            return Ok(Value::Object(map));
        }
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let mut buffer = serde_json::to_vec(&secret)
            .map_err(|e| StoreError::Encryption(format!("{key}: cannot encode the data: {e}")))?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(key)),
                &mut buffer,
            )
            .map_err(|_| StoreError::Encryption(format!("{key}: sealing failed")))?;
        map.insert(
            SEALED_FIELD.to_string(),
            json!({
                "v": 1,
                "alg": ALGORITHM,
                "keyId": self.id,
                "nonce": BASE64.encode(nonce),
                "ciphertext": BASE64.encode(&buffer),
            }),
        );
        Ok(Value::Object(map))
    }

    /// The readable form of a stored object: the inverse of [`EncryptionKey::seal`].
    /// Objects without a sealed field are returned unchanged.
    pub(crate) fn open(&self, key: &ObjectKey, stored: Value) -> Result<Value, StoreError> {
        let Value::Object(mut map) = stored else {
            return Ok(stored);
        };
        let Some(sealed) = map.remove(SEALED_FIELD) else {
            return Ok(Value::Object(map));
        };
        let field = |name: &str| sealed.get(name).and_then(Value::as_str).unwrap_or_default();
        let corrupt = |what: &str| {
            StoreError::Encryption(format!(
                "{key}: the stored encrypted data is damaged ({what}); restore the object from \
                 a backup or recreate it"
            ))
        };
        if field("alg") != ALGORITHM || sealed.get("v") != Some(&json!(1)) {
            return Err(corrupt("unknown format version or algorithm"));
        }
        if field("keyId") != self.id {
            return Err(StoreError::Encryption(format!(
                "{key} was encrypted with key id {} but the store's key has id {}; start the \
                 store with the key it was written with ({KEY_ENV} or {KEY_FILE} in the state \
                 directory)",
                field("keyId"),
                self.id
            )));
        }
        let nonce: [u8; NONCE_LEN] = BASE64
            .decode(field("nonce"))
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| corrupt("bad nonce"))?;
        let mut buffer = BASE64
            .decode(field("ciphertext"))
            .map_err(|_| corrupt("bad ciphertext encoding"))?;
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(key)),
                &mut buffer,
            )
            .map_err(|_| {
                StoreError::Encryption(format!(
                    "{key}: the encrypted data failed authentication: it was altered, or copied \
                     from another object; restore the object from a backup or recreate it"
                ))
            })?;
        let secret: Map<String, Value> =
            serde_json::from_slice(plain).map_err(|_| corrupt("bad plaintext"))?;
        map.extend(secret);
        Ok(Value::Object(map))
    }
}

impl EncryptionKey {
    /// [`EncryptionKey::open`], or — when the data cannot be decrypted — the object
    /// without its sealed data. For deletes, so a Secret written with a lost key can
    /// still be removed.
    pub(crate) fn open_or_redact(&self, key: &ObjectKey, stored: Value) -> Value {
        match self.open(key, stored.clone()) {
            Ok(object) => object,
            Err(e) => {
                tracing::warn!(error = %e, "returning a deleted Secret without its data");
                let mut object = stored;
                if let Some(map) = object.as_object_mut() {
                    map.remove(SEALED_FIELD);
                }
                object
            }
        }
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Fills `buffer` from the system's secure random source.
pub(crate) fn random(buffer: &mut [u8]) -> Result<(), StoreError> {
    SystemRandom::new()
        .fill(buffer)
        .map_err(|_| StoreError::Encryption("the system random source failed".into()))
}

/// The additional authenticated data binding a ciphertext to its object: a
/// domain tag and each key part prefixed by its length, so no two keys collide.
fn aad(key: &ObjectKey) -> Vec<u8> {
    let mut out = b"palisade-store/secret/v1\0".to_vec();
    for part in [&key.group, &key.kind, &key.namespace, &key.name] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_key() -> ObjectKey {
        ObjectKey::new("", "Secret", "ns", "s")
    }

    #[test]
    fn seal_and_open_round_trip() {
        let key = EncryptionKey::generate().unwrap();
        let object = json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"},
            "type": "Opaque", "data": {"token": "aHVudGVyMg=="}, "stringData": {"pw": "hunter2"}
        });
        let sealed = key.seal(&secret_key(), object.clone()).unwrap();
        let text = sealed.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg=="),
            "{text}"
        );
        assert_eq!(sealed["type"], "Opaque");
        assert_eq!(key.open(&secret_key(), sealed.clone()).unwrap(), object);
        // A fresh nonce every time.
        assert_ne!(key.seal(&secret_key(), object.clone()).unwrap(), sealed);
        // Not a secret: untouched.
        let cm = ObjectKey::new("", "ConfigMap", "ns", "s");
        assert_eq!(key.seal(&cm, object.clone()).unwrap(), object);
    }

    #[test]
    fn wrong_key_and_moved_ciphertext_fail_clearly() {
        let key = EncryptionKey::generate().unwrap();
        let object = json!({"kind": "Secret", "stringData": {"pw": "hunter2"}});
        let sealed = key.seal(&secret_key(), object).unwrap();

        let other = EncryptionKey::generate().unwrap();
        let err = other
            .open(&secret_key(), sealed.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("key id") && err.contains(key.id()), "{err}");
        assert!(!err.contains("hunter2"));

        let moved = ObjectKey::new("", "Secret", "ns", "other");
        let err = key.open(&moved, sealed).unwrap_err().to_string();
        assert!(err.contains("failed authentication"), "{err}");
    }

    #[test]
    fn keys_from_bytes_and_files() {
        assert!(EncryptionKey::from_bytes(&[0; 31]).is_err());
        let a = EncryptionKey::from_bytes(&[7; 32]).unwrap();
        let b = EncryptionKey::from_bytes(&[7; 32]).unwrap();
        assert_eq!(a.id(), b.id());
        assert!(!format!("{a:?}").contains("7, 7"));
        let c = EncryptionKey::from_base64(&format!(" {}\n", BASE64.encode([7; 32]))).unwrap();
        assert_eq!(a.id(), c.id());
        let err = EncryptionKey::from_base64(&BASE64.encode([7; 16]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("16 bytes"), "{err}");
        assert!(EncryptionKey::from_base64("not base64!").is_err());

        let dir = std::env::temp_dir().join(format!("palisade-store-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = EncryptionKey::from_file(&dir).unwrap();
        let again = EncryptionKey::from_file(&dir).unwrap();
        assert_eq!(first.id(), again.id());
        let mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.join(KEY_FILE), b"short").unwrap();
        let err = EncryptionKey::from_file(&dir).unwrap_err().to_string();
        assert!(err.contains("holds 5 bytes"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
