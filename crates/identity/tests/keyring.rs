//! The signing key ring: persistence, file permissions, rotation, and
//! verification of its tokens the way a relying party would do it.

use std::fs;
use std::path::PathBuf;

use palisade_identity::{
    JwtError, KEY_FILE_NAME, KeyRing, KeyRingError, KeySet, Validation, oidc_discovery, verify,
};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://palisade.example.com";

/// A fresh directory under cargo's per-target scratch space.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("palisade-identity-keyring")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn service_claims(sub: &str) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "iss": ISSUER,
        "aud": "palisade-gateway",
        "sub": sub,
        "iat": NOW,
        "exp": NOW + 3600,
    }) else {
        unreachable!()
    };
    map
}

fn validation() -> Validation {
    Validation::new([ISSUER], ["palisade-gateway"]).at(NOW + 60)
}

#[test]
fn load_or_create_is_stable_and_private() {
    let dir = scratch_dir("stable");
    let first = KeyRing::load_or_create(&dir).unwrap();
    let second = KeyRing::load_or_create(&dir).unwrap();
    assert_eq!(first.kid(), second.kid());
    assert_eq!(first.signer().pkcs8(), second.signer().pkcs8());

    let path = dir.join(KEY_FILE_NAME);
    assert_eq!(KeyRing::file_path(&dir), path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key file mode is {mode:o}");
        let dir_mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700, "key directory mode is {dir_mode:o}");
    }
    // No temporary files are left behind.
    let entries: Vec<_> = fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn rotation_keeps_old_tokens_verifiable_until_pruned() {
    let dir = scratch_dir("rotate");
    let mut ring = KeyRing::load_or_create(&dir).unwrap();
    let old_kid = ring.kid().to_owned();
    let old_token = ring.sign(&service_claims("before")).unwrap();

    ring.rotate().unwrap();
    assert_ne!(ring.kid(), old_kid);
    ring.save(&dir).unwrap();
    let new_token = ring.sign(&service_claims("after")).unwrap();

    let reloaded = KeyRing::load_or_create(&dir).unwrap();
    assert_eq!(reloaded.kid(), ring.kid());
    assert_eq!(reloaded.previous().len(), 1);
    assert_eq!(reloaded.previous()[0].kid(), old_kid);

    let keys = reloaded.key_set();
    assert_eq!(keys.len(), 2);
    let before = verify(&old_token, &keys, &validation()).unwrap();
    assert_eq!(before.sub(), Some("before"));
    let after = verify(&new_token, &keys, &validation()).unwrap();
    assert_eq!(after.sub(), Some("after"));

    // The retired key's private half is not kept in the file.
    let text = fs::read_to_string(dir.join(KEY_FILE_NAME)).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert!(file["previous"][0].get("pkcs8").is_none());

    let mut pruned = reloaded;
    let retired_at = pruned.previous()[0].retired();
    assert_eq!(pruned.prune_retired(retired_at), 0);
    assert_eq!(pruned.prune_retired(retired_at + 1), 1);
    assert_eq!(
        verify(&old_token, &pruned.key_set(), &validation()).unwrap_err(),
        JwtError::UnknownKid(old_kid)
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn published_jwks_verifies_tokens() {
    let mut ring = KeyRing::generate().unwrap();
    let old_token = ring.sign(&service_claims("old")).unwrap();
    ring.rotate().unwrap();
    let token = ring.sign(&service_claims("new")).unwrap();

    // What a relying party fetches: discovery document, then the JWKS.
    let discovery = oidc_discovery(ISSUER, "https://palisade.example.com/jwks.json");
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let jwks = serde_json::to_vec(&ring.jwks_json()).unwrap();
    let keys = KeySet::from_json(&jwks).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.skipped().is_empty());
    for published in &ring.jwks().keys {
        assert_eq!(
            published.kid,
            published.thumbprint(),
            "kid is the RFC 7638 thumbprint"
        );
        assert_eq!(published.alg.as_deref(), Some("ES256"));
    }
    assert!(verify(&token, &keys, &validation()).is_ok());
    assert!(verify(&old_token, &keys, &validation()).is_ok());

    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&base64_decode(header)).unwrap();
    assert_eq!(
        header,
        json!({"alg": "ES256", "kid": ring.kid(), "typ": "JWT"})
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[test]
fn corrupt_key_file_names_the_path() {
    let dir = scratch_dir("corrupt");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(KEY_FILE_NAME);
    fs::write(&path, b"{\"version\": 1}").unwrap();
    let error = KeyRing::load_or_create(&dir).unwrap_err();
    assert!(matches!(error, KeyRingError::Invalid { .. }));
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );

    // A kid that does not match the stored key is caught too.
    let good = KeyRing::generate().unwrap();
    good.save(&dir).unwrap();
    let mut file: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    file["current"]["kid"] = json!("forged");
    fs::write(&path, file.to_string()).unwrap();
    let error = KeyRing::load_or_create(&dir).unwrap_err();
    assert!(error.to_string().contains("does not match"), "{error}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_location_is_an_io_error_naming_the_path() {
    let dir = scratch_dir("not-a-dir");
    fs::create_dir_all(dir.parent().unwrap()).unwrap();
    // A regular file where the directory should be.
    fs::write(&dir, b"").unwrap();
    let error = KeyRing::load_or_create(&dir).unwrap_err();
    assert!(matches!(error, KeyRingError::Io { .. }), "{error}");
    assert!(
        error.to_string().contains("palisade-identity-keyring"),
        "{error}"
    );
    let _ = fs::remove_file(&dir);
}
