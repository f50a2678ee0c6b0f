//! Palisade's own token signing key: ECDSA P-256 with SHA-256 (`ES256`).
//!
//! The private key lives in a PKCS#8 document that the caller persists (see
//! [`crate::KeyRing`] for the file-backed version). The key id is the RFC
//! 7638 thumbprint of the public key, so it is stable across restarts and
//! needs no separate storage.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Map, Value, json};

use crate::alg::Algorithm;
use crate::b64;
use crate::error::SignError;
use crate::jwk::{Jwk, PublicKey};

/// An ES256 signing key with its key id.
pub struct Signer {
    key_pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    jwk: Jwk,
    public: PublicKey,
    kid: String,
    rng: SystemRandom,
}

impl Signer {
    /// Generates a new random key.
    pub fn generate() -> Result<Self, SignError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| SignError::KeyGeneration)?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// Loads a key from an unencrypted PKCS#8 v1 document holding a P-256
    /// private key (as produced by [`Signer::generate`]).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SignError> {
        let rng = SystemRandom::new();
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|rejected| SignError::InvalidKey(rejected.to_string()))?;
        // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = key_pair.public_key().as_ref();
        let mut jwk = Jwk {
            kty: "EC".to_owned(),
            crv: Some("P-256".to_owned()),
            x: Some(b64::encode(&point[1..33])),
            y: Some(b64::encode(&point[33..65])),
            ..Jwk::default()
        };
        let kid = jwk
            .thumbprint()
            .ok_or_else(|| SignError::InvalidKey("public key has no thumbprint".to_owned()))?;
        jwk.kid = Some(kid.clone());
        jwk.alg = Some(Algorithm::Es256.name().to_owned());
        jwk.use_ = Some("sig".to_owned());
        let public =
            PublicKey::from_jwk(&jwk).map_err(|skipped| SignError::InvalidKey(skipped.reason))?;
        Ok(Self {
            key_pair,
            pkcs8: pkcs8.to_vec(),
            jwk,
            public,
            kid,
            rng,
        })
    }

    /// The PKCS#8 document, for the caller to persist. It is the private key.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK with `kid`, `alg: ES256` and `use: sig`.
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The public key, ready to verify this signer's tokens.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `claims` as a compact JWS with header
    /// `{"alg":"ES256","kid":...,"typ":"JWT"}`. The claims are signed as
    /// given; setting `iss`, `exp` and the rest is the caller's job.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError> {
        let header = json!({"alg": Algorithm::Es256.name(), "kid": self.kid, "typ": "JWT"});
        let header =
            serde_json::to_vec(&header).map_err(|error| SignError::Serialize(error.to_string()))?;
        let payload =
            serde_json::to_vec(claims).map_err(|error| SignError::Serialize(error.to_string()))?;
        let mut token = b64::encode(&header);
        token.push('.');
        token.push_str(&b64::encode(&payload));
        let signature = self
            .key_pair
            .sign(&self.rng, token.as_bytes())
            .map_err(|_| SignError::Signing)?;
        token.push('.');
        token.push_str(&b64::encode(signature.as_ref()));
        Ok(token)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeySet, Validation, verify};

    #[test]
    fn signs_verifiable_tokens_with_stable_kid() {
        let signer = Signer::generate().unwrap();
        let reloaded = Signer::from_pkcs8(signer.pkcs8()).unwrap();
        assert_eq!(signer.kid(), reloaded.kid());
        assert_eq!(signer.kid().len(), 43, "base64url of a SHA-256 digest");

        let mut claims = Map::new();
        claims.insert("sub".into(), "agent".into());
        claims.insert("exp".into(), 2_000_000_000.into());
        let token = signer.sign(&claims).unwrap();
        let keys = KeySet::from_keys([reloaded.public_key().clone()]);
        let verified = verify(&token, &keys, &Validation::default().at(1_900_000_000)).unwrap();
        assert_eq!(verified.sub(), Some("agent"));
    }

    #[test]
    fn debug_hides_the_private_key() {
        let signer = Signer::generate().unwrap();
        let shown = format!("{signer:?}");
        assert!(shown.contains(signer.kid()));
        assert!(!shown.contains("pkcs8"));
    }

    #[test]
    fn rejects_other_keys() {
        assert!(matches!(
            Signer::from_pkcs8(b"not a key"),
            Err(SignError::InvalidKey(_))
        ));
    }
}
