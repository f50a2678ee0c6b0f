//! The signing key ring: the current [`Signer`] plus the public halves of
//! keys it replaced, so tokens signed before a rotation keep verifying until
//! the retired key is pruned (after the longest token lifetime).
//!
//! [`KeyRing::load_or_create`] keeps the ring in one JSON file,
//! `<dir>/signing-keys.json`, readable only by its owner (mode 0600 on
//! Unix) and replaced atomically (write a temporary file, sync, rename):
//!
//! ```json
//! {"version": 1,
//!  "current": {"kid": "...", "created": 1700000000, "pkcs8": "<base64 PKCS#8>"},
//!  "previous": [{"kid": "...", "created": 1690000000, "retired": 1700000000, "jwk": {...}}]}
//! ```
//!
//! Retired keys are stored as public JWKs only: after a rotation the old
//! private key is gone and nothing can be signed with it any more.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{KeyRingError, SignError};
use crate::jwk::{Jwk, JwkSet, KeySet, PublicKey};
use crate::sign::Signer;

/// Name of the key ring file inside the directory given to
/// [`KeyRing::load_or_create`].
pub const KEY_FILE_NAME: &str = "signing-keys.json";

/// Version of the key file format.
const FORMAT_VERSION: u32 = 1;

/// The current signing key and the retired keys still trusted for
/// verification.
#[derive(Debug)]
pub struct KeyRing {
    current: Signer,
    created: u64,
    previous: Vec<RetiredKey>,
}

/// A key that signed tokens in the past; only its public half is kept.
#[derive(Debug, Clone)]
pub struct RetiredKey {
    jwk: Jwk,
    key: PublicKey,
    created: u64,
    retired: u64,
}

impl RetiredKey {
    /// The key id.
    pub fn kid(&self) -> &str {
        self.jwk.kid.as_deref().unwrap_or_default()
    }

    /// When the key was created, in seconds since the Unix epoch.
    pub fn created(&self) -> u64 {
        self.created
    }

    /// When the key stopped signing, in seconds since the Unix epoch.
    pub fn retired(&self) -> u64 {
        self.retired
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl KeyRing {
    /// A new ring with a freshly generated key and no retired keys.
    pub fn generate() -> Result<Self, KeyRingError> {
        Ok(Self::from_signer(Signer::generate()?))
    }

    /// A ring whose current key is `signer`.
    pub fn from_signer(signer: Signer) -> Self {
        Self {
            current: signer,
            created: unix_now(),
            previous: Vec::new(),
        }
    }

    /// The key file's path inside `dir`.
    pub fn file_path(dir: &Path) -> PathBuf {
        dir.join(KEY_FILE_NAME)
    }

    /// Loads `<dir>/signing-keys.json`, or, if it does not exist, generates a
    /// key and stores it there (creating `dir` with mode 0700 if needed).
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyRingError> {
        let path = Self::file_path(dir);
        match fs::read(&path) {
            Ok(bytes) => {
                warn_if_readable_by_others(&path);
                Self::from_file_contents(&path, &bytes)
            }
            Err(error) if error.kind() == ErrorKind::NotFound => {
                create_private_dir(dir)?;
                let ring = Self::generate()?;
                ring.save(dir)?;
                Ok(ring)
            }
            Err(source) => Err(KeyRingError::Io {
                action: "reading signing key file",
                path,
                source,
            }),
        }
    }

    /// Writes the ring to `<dir>/signing-keys.json` atomically, mode 0600.
    pub fn save(&self, dir: &Path) -> Result<(), KeyRingError> {
        let file = KeyFile {
            version: FORMAT_VERSION,
            current: StoredCurrentKey {
                kid: self.current.kid().to_owned(),
                created: self.created,
                pkcs8: STANDARD.encode(self.current.pkcs8()),
            },
            previous: self
                .previous
                .iter()
                .map(|retired| StoredRetiredKey {
                    kid: retired.kid().to_owned(),
                    created: retired.created,
                    retired: retired.retired,
                    jwk: retired.jwk.clone(),
                })
                .collect(),
        };
        let path = Self::file_path(dir);
        let mut bytes =
            serde_json::to_vec_pretty(&file).map_err(|error| KeyRingError::Invalid {
                path: path.clone(),
                reason: error.to_string(),
            })?;
        bytes.push(b'\n');
        write_private_file(&path, &bytes)
    }

    /// The key that signs new tokens.
    pub fn signer(&self) -> &Signer {
        &self.current
    }

    /// The current key's id.
    pub fn kid(&self) -> &str {
        self.current.kid()
    }

    /// When the current key was created (Unix seconds).
    pub fn current_created(&self) -> u64 {
        self.created
    }

    /// Signs `claims` with the current key (see [`Signer::sign`]).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError> {
        self.current.sign(claims)
    }

    /// Replaces the current key with a new one; the old key's public half
    /// stays trusted for verification until pruned. Call [`KeyRing::save`]
    /// afterwards to persist the change.
    pub fn rotate(&mut self) -> Result<&Signer, KeyRingError> {
        let next = Signer::generate()?;
        let now = unix_now();
        let old = std::mem::replace(&mut self.current, next);
        let created = std::mem::replace(&mut self.created, now);
        self.previous.insert(
            0,
            RetiredKey {
                jwk: old.public_jwk().clone(),
                key: old.public_key().clone(),
                created,
                retired: now,
            },
        );
        Ok(&self.current)
    }

    /// The retired keys, most recently retired first.
    pub fn previous(&self) -> &[RetiredKey] {
        &self.previous
    }

    /// Forgets retired keys retired before `retired_before` (seconds since
    /// the Unix epoch); returns how many were removed. Pass "now minus the
    /// longest token lifetime".
    pub fn prune_retired(&mut self, retired_before: u64) -> usize {
        let before = self.previous.len();
        self.previous
            .retain(|retired| retired.retired >= retired_before);
        before - self.previous.len()
    }

    /// Every key in the ring (current first), ready for [`crate::verify`].
    pub fn key_set(&self) -> KeySet {
        KeySet::from_keys(
            std::iter::once(self.current.public_key().clone())
                .chain(self.previous.iter().map(|retired| retired.key.clone())),
        )
    }

    /// Every key in the ring (current first) as a public JWK Set.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: std::iter::once(self.current.public_jwk().clone())
                .chain(self.previous.iter().map(|retired| retired.jwk.clone()))
                .collect(),
        }
    }

    /// [`KeyRing::jwks`] as JSON, for serving at the `jwks_uri`.
    pub fn jwks_json(&self) -> Value {
        serde_json::to_value(self.jwks()).unwrap_or_else(|_| serde_json::json!({"keys": []}))
    }

    fn from_file_contents(path: &Path, bytes: &[u8]) -> Result<Self, KeyRingError> {
        let invalid = |reason: String| KeyRingError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let file: KeyFile =
            serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
        if file.version != FORMAT_VERSION {
            return Err(invalid(format!(
                "unsupported format version {} (expected {FORMAT_VERSION})",
                file.version
            )));
        }
        let pkcs8 = STANDARD
            .decode(&file.current.pkcs8)
            .map_err(|_| invalid("the current key's \"pkcs8\" is not base64".to_owned()))?;
        let current = Signer::from_pkcs8(&pkcs8).map_err(|error| invalid(error.to_string()))?;
        if current.kid() != file.current.kid {
            return Err(invalid(format!(
                "the current key's kid {:?} does not match its public key",
                file.current.kid
            )));
        }
        let mut previous = Vec::with_capacity(file.previous.len());
        for stored in file.previous {
            if stored.jwk.thumbprint().as_deref() != Some(stored.kid.as_str()) {
                return Err(invalid(format!(
                    "retired key {:?} does not match its JWK",
                    stored.kid
                )));
            }
            let mut jwk = stored.jwk;
            jwk.kid = Some(stored.kid);
            let key = PublicKey::from_jwk(&jwk).map_err(|skipped| invalid(skipped.to_string()))?;
            previous.push(RetiredKey {
                jwk,
                key,
                created: stored.created,
                retired: stored.retired,
            });
        }
        Ok(Self {
            current,
            created: file.current.created,
            previous,
        })
    }
}

/// The key file's JSON layout.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    current: StoredCurrentKey,
    #[serde(default)]
    previous: Vec<StoredRetiredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredCurrentKey {
    kid: String,
    created: u64,
    /// Standard base64 of the PKCS#8 document.
    pkcs8: String,
}

#[derive(Serialize, Deserialize)]
struct StoredRetiredKey {
    kid: String,
    created: u64,
    retired: u64,
    jwk: Jwk,
}

fn create_private_dir(dir: &Path) -> Result<(), KeyRingError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| KeyRingError::Io {
        action: "creating signing key directory",
        path: dir.to_path_buf(),
        source,
    })
}

/// Replaces `path` with `bytes`: a private temporary file in the same
/// directory is written and synced, then renamed over `path`.
fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), KeyRingError> {
    static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{KEY_FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_new_private(&temp, bytes).and_then(|()| {
        fs::rename(&temp, path).map_err(|source| KeyRingError::Io {
            action: "replacing signing key file",
            path: path.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        // Best effort: do not leave a copy of the private key behind.
        let _ = fs::remove_file(&temp);
    }
    result?;
    // Make the rename itself durable; not every platform can sync a directory.
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Creates `path` (which must not exist) with mode 0600 and writes `bytes`.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), KeyRingError> {
    let io_error = |action| {
        move |source| KeyRingError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(io_error("creating temporary signing key file"))?;
    #[cfg(unix)]
    {
        // The umask may have removed bits; set the mode exactly.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(io_error(
                "setting permissions of temporary signing key file",
            ))?;
    }
    file.write_all(bytes)
        .map_err(io_error("writing temporary signing key file"))?;
    file.sync_all()
        .map_err(io_error("syncing temporary signing key file"))
}

/// Key files readable by group or others are used (a mounted secret may be
/// read-only) but reported.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{:o}", metadata.permissions().mode() & 0o777),
                "signing key file is accessible by other users; expected mode 0600"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
