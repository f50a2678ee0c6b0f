//! Test keys and a token builder that can produce any header, including the
//! hostile ones the verifier must reject.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_identity::{KeySet, Validation};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Value, json};

/// The fixed time tests run at.
pub const NOW: i64 = 1_700_000_000;
pub const ISSUER: &str = "https://idp.example.com";
pub const AUDIENCE: &str = "palisade";

/// A 2048-bit RSA key generated once with `openssl genpkey` (ring cannot
/// generate RSA keys).
const RSA_PKCS8: &[u8] = include_bytes!("../fixtures/rsa-2048.pk8");

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn validation() -> Validation {
    Validation::new([ISSUER], [AUDIENCE]).at(NOW)
}

pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "agent-7",
        "iat": NOW - 10,
        "exp": NOW + 300,
        "scope": "mcp:tools llm:chat",
    })
}

/// A private key of any supported type.
pub enum TestKey {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair, &'static str),
    Ed25519(Ed25519KeyPair),
}

impl TestKey {
    pub fn rsa() -> Self {
        Self::Rsa(RsaKeyPair::from_pkcs8(RSA_PKCS8).expect("RSA fixture"))
    }

    pub fn es256() -> Self {
        Self::ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256")
    }

    pub fn es384() -> Self {
        Self::ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384")
    }

    fn ecdsa(alg: &'static signature::EcdsaSigningAlgorithm, crv: &'static str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Self::Ecdsa(
            EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap(),
            crv,
        )
    }

    pub fn ed25519() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    /// The public JWK, with `kid` and no `alg`.
    pub fn jwk(&self, kid: &str) -> Value {
        match self {
            Self::Rsa(key) => {
                let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
                json!({"kty": "RSA", "kid": kid, "n": b64(&components.n), "e": b64(&components.e)})
            }
            Self::Ecdsa(key, crv) => {
                let point = key.public_key().as_ref();
                let (x, y) = point[1..].split_at((point.len() - 1) / 2);
                json!({"kty": "EC", "kid": kid, "crv": crv, "x": b64(x), "y": b64(y)})
            }
            Self::Ed25519(key) => {
                json!({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(key.public_key().as_ref())})
            }
        }
    }

    /// The RSA public key in DER, the bytes an HMAC confusion attack uses.
    pub fn rsa_public_der(&self) -> Vec<u8> {
        match self {
            Self::Rsa(key) => key.public().as_ref().to_vec(),
            _ => panic!("not an RSA key"),
        }
    }

    /// Signs `input` as `alg` would.
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Rsa(key) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    "PS512" => &signature::RSA_PSS_SHA512,
                    other => panic!("no RSA padding for {other}"),
                };
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(padding, &rng, input, &mut out).unwrap();
                out
            }
            Self::Ecdsa(key, _) => key.sign(&rng, input).unwrap().as_ref().to_vec(),
            Self::Ed25519(key) => key.sign(input).as_ref().to_vec(),
        }
    }
}

/// The `header.payload` part of a token.
pub fn signing_input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// A token signed by `key` with the header's `alg`.
pub fn token(key: &TestKey, header: Value, payload: &Value) -> String {
    let alg = header["alg"].as_str().expect("header has alg").to_owned();
    let input = signing_input(&header, payload);
    let signature = key.sign(&alg, input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// A JWKS document holding `keys`.
pub fn jwks(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

pub fn key_set(keys: &[Value]) -> KeySet {
    KeySet::from_json(&jwks(keys)).expect("test JWKS is usable")
}
