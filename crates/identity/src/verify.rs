//! Verifying compact JWS tokens (RFC 7515 §7.1) against a [`KeySet`].
//!
//! The order of checks is fixed: size, shape, header, algorithm, key
//! selection, signature, and only then the payload and its claims. Nothing
//! in the payload is looked at before the signature has been verified.
//!
//! Header parameters that could point at other keys (`jku`, `jwk`, `x5u`,
//! `x5c`) are ignored: keys only ever come from the [`KeySet`].

use serde::de::{Deserialize, Deserializer, IgnoredAny};
use serde_json::{Map, Value};

use crate::alg::Algorithm;
use crate::b64;
use crate::claims::Claims;
use crate::error::JwtError;
use crate::jwk::KeySet;
use crate::validation::Validation;

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// At most this many keys are tried for one token (several keys may share a
/// `kid`, and a token without `kid` is tried against every fitting key).
pub const MAX_KEY_CANDIDATES: usize = 4;

/// The protected header members this verifier reads.
#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Whether a `crit` member is present, whatever its value (even `null`):
    /// no extension is understood, so any `crit` makes the token unacceptable.
    #[serde(default, rename = "crit", deserialize_with = "present")]
    has_crit: bool,
}

/// Marks a member as present, ignoring its value.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Verifies `token` and checks its claims, at [`Validation::now`] or else
/// the system clock's current time.
pub fn verify(token: &str, keys: &KeySet, validation: &Validation) -> Result<Claims, JwtError> {
    verify_at(token, keys, validation, validation.now_or_clock())
}

/// Verifies `token` and checks its claims at `now` (seconds since the Unix
/// epoch). Does no IO and reads no clock.
pub fn verify_at(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now: i64,
) -> Result<Claims, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    let segments = Segments::split(token)?;
    let header = decode_header(segments.header)?;
    if header.has_crit {
        return Err(JwtError::UnsupportedCritical);
    }
    let alg = Algorithm::from_name(&header.alg)
        .ok_or_else(|| JwtError::UnsupportedAlgorithm(shorten(&header.alg)))?;
    if !validation.allows(alg) {
        return Err(JwtError::AlgorithmNotAllowed(alg));
    }
    let signature =
        b64::decode(segments.signature).ok_or(JwtError::Malformed("signature is not base64url"))?;
    check_signature(
        keys,
        header.kid.as_deref(),
        alg,
        segments.signing_input.as_bytes(),
        &signature,
    )?;
    let payload =
        b64::decode(segments.payload).ok_or(JwtError::Malformed("payload is not base64url"))?;
    let map: Map<String, Value> = serde_json::from_slice(&payload)
        .map_err(|_| JwtError::Malformed("payload is not a JSON object"))?;
    let claims = Claims::new(map);
    validation.check(&claims, now)?;
    Ok(claims)
}

/// The three parts of a compact JWS, still encoded.
struct Segments<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
}

impl<'a> Segments<'a> {
    fn split(token: &'a str) -> Result<Self, JwtError> {
        let dots = token.bytes().filter(|b| *b == b'.').count();
        match dots {
            2 => {}
            4 => {
                return Err(JwtError::Malformed(
                    "encrypted tokens (JWE) are not supported",
                ));
            }
            _ => return Err(JwtError::Malformed("expected three dot-separated segments")),
        }
        let (signing_input, signature) = token
            .rsplit_once('.')
            .ok_or(JwtError::Malformed("expected three dot-separated segments"))?;
        let (header, payload) = signing_input
            .split_once('.')
            .ok_or(JwtError::Malformed("expected three dot-separated segments"))?;
        Ok(Self {
            header,
            payload,
            signature,
            signing_input,
        })
    }
}

fn decode_header(encoded: &str) -> Result<Header, JwtError> {
    let bytes = b64::decode(encoded).ok_or(JwtError::Malformed("header is not base64url"))?;
    // A header that is an object but lacks a string `alg`, or repeats a
    // member this verifier reads, is rejected here too.
    serde_json::from_slice(&bytes)
        .map_err(|_| JwtError::Malformed("header is not a valid JOSE header"))
}

/// Finds the candidate keys and checks the signature with each.
fn check_signature(
    keys: &KeySet,
    kid: Option<&str>,
    alg: Algorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), JwtError> {
    let mut kid_found = false;
    let mut tried = 0;
    for key in keys.keys() {
        if let Some(kid) = kid {
            if key.kid() != Some(kid) {
                continue;
            }
            kid_found = true;
        }
        if !key.accepts(alg) {
            continue;
        }
        if tried == MAX_KEY_CANDIDATES {
            break;
        }
        tried += 1;
        if key.verify_signature(alg, message, signature) {
            return Ok(());
        }
    }
    Err(match kid {
        Some(kid) if !kid_found => JwtError::UnknownKid(kid.to_owned()),
        Some(_) if tried == 0 => JwtError::KeyMismatch(alg),
        None if tried == 0 => JwtError::NoMatchingKey(alg),
        _ => JwtError::BadSignature,
    })
}

/// Keeps an untrusted header value short enough to put in an error.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 32;
    text.chars().take(MAX_CHARS).collect()
}

/// The `iss` claim of a compact JWS, read WITHOUT verifying anything: only to
/// pick the verifier (issuer, keys) that will then check the token. `None`
/// when the text is not a JWT with a string `iss`, or is larger than
/// [`MAX_TOKEN_LEN`].
pub fn unverified_issuer(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = crate::b64::decode(payload)?;
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}
