//! First start: the bootstrap admin credential. A random token is handed out
//! once through `<state-dir>/admin.yaml` (mode 0600, like k3s' kubeconfig);
//! the server keeps only its SHA-256 in `<state-dir>/admin-token.sha256`.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use palisade_apiserver::authn::sha256;

/// The client configuration file written on first start.
pub const ADMIN_CONFIG: &str = "admin.yaml";
/// Where the admin token's hash is kept.
const ADMIN_HASH: &str = "admin-token.sha256";

/// The admin token's hash, creating the token (and `admin.yaml` naming
/// `server`) when there is none yet. Returns the hash and, on creation, the
/// path of the new `admin.yaml`.
pub fn admin_credential(
    state_dir: &Path,
    server: &str,
) -> anyhow::Result<([u8; 32], Option<PathBuf>)> {
    let hash_path = state_dir.join(ADMIN_HASH);
    let config_path = state_dir.join(ADMIN_CONFIG);
    if let Ok(text) = std::fs::read_to_string(&hash_path) {
        let hash = decode_hex(text.trim()).with_context(|| {
            format!(
                "{} is damaged; delete it and {} to get a new admin credential",
                hash_path.display(),
                config_path.display()
            )
        })?;
        return Ok((hash, None));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
    let token = format!("palisade-admin.{}", hex(&bytes));
    let hash = sha256(token.as_bytes());
    let config = format!(
        "# Palisade client configuration: the bootstrap admin credential.\n# Keep it secret; the server stores only its hash.\napiVersion: palisade.dev/v1alpha1\nkind: ClientConfig\nserver: {server}\ntoken: {token}\n"
    );
    write_private(&config_path, config.as_bytes())?;
    write_private(&hash_path, format!("{}\n", hex(&hash)).as_bytes())?;
    Ok((hash, Some(config_path)))
}

/// Writes a file readable by its owner only, atomically.
fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", tmp.display()))?;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> anyhow::Result<[u8; 32]> {
    anyhow::ensure!(text.len() == 64, "expected 64 hex digits");
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk)?;
        out[i] = u8::from_str_radix(pair, 16)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_writes_a_private_config_and_keeps_only_the_hash() {
        let dir = std::env::temp_dir().join(format!("palisade-bootstrap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (hash, created) = admin_credential(&dir, "http://127.0.0.1:15000").unwrap();
        let config_path = created.expect("created on first start");
        let config = std::fs::read_to_string(&config_path).unwrap();
        let token = config
            .lines()
            .find_map(|l| l.strip_prefix("token: "))
            .unwrap();
        assert_eq!(sha256(token.as_bytes()), hash);
        let mode = std::fs::metadata(&config_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let stored = std::fs::read_to_string(dir.join(ADMIN_HASH)).unwrap();
        assert!(!stored.contains(token), "the token itself is not kept");
        // The second start reads the hash and hands out nothing new.
        let (again, created) = admin_credential(&dir, "http://127.0.0.1:15000").unwrap();
        assert_eq!(again, hash);
        assert!(created.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
