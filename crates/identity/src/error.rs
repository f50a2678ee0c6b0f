//! The crate's error types, one per activity: verifying a token, parsing a
//! JWKS, refreshing the JWKS cache, signing, persisting the key ring and
//! reading an OIDC discovery document.
//!
//! No message ever contains a token. Values that come from a token header
//! (an algorithm name, a key id) are shown shortened and escaped.

use std::fmt;
use std::path::PathBuf;

use crate::alg::Algorithm;
use crate::jwk::SkippedKey;

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The token is longer than [`crate::MAX_TOKEN_LEN`].
    #[error("token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length of the rejected token.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The token is not a well-formed compact JWS; the text says which part.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm that is not supported (including `none`
    /// and every `HS*` algorithm).
    #[error("unsupported signature algorithm {}", Shortened(.0))]
    UnsupportedAlgorithm(String),
    /// The algorithm is supported but not in [`crate::Validation::algorithms`].
    #[error("signature algorithm {0} is not allowed here")]
    AlgorithmNotAllowed(Algorithm),
    /// The header has a `crit` parameter; no extensions are understood.
    #[error("token has critical header parameters that are not understood")]
    UnsupportedCritical,
    /// No key in the key set has the token's `kid`; a refresh may help.
    #[error("no key with key id {} in the key set", Shortened(.0))]
    UnknownKid(String),
    /// A key with the token's `kid` exists but cannot be used with the
    /// header's algorithm (wrong key type, or the JWK pins another `alg`).
    #[error("the key named by the token cannot verify {0} signatures")]
    KeyMismatch(Algorithm),
    /// The token has no `kid` and no key in the set fits its algorithm.
    #[error("no key in the key set can verify {0} signatures")]
    NoMatchingKey(Algorithm),
    /// The signature did not verify with any candidate key.
    #[error("signature verification failed")]
    BadSignature,
    /// `exp` is in the past, beyond the leeway.
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not one of the trusted issuers.
    #[error("token issuer is not trusted")]
    WrongIssuer,
    /// `aud` contains none of the expected audiences.
    #[error("token audience does not match")]
    WrongAudience,
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(String),
    /// A registered claim has the wrong JSON type (e.g. a string `exp`).
    #[error("claim {0:?} has an invalid value")]
    InvalidClaim(String),
}

/// Why a JWKS document could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// The document is not a JSON object with a `keys` array.
    #[error("JWKS document is invalid: {0}")]
    Invalid(String),
    /// Every key was skipped; the list says why for each.
    #[error("JWKS has no usable signature key ({})", SkippedList(.0))]
    NoUsableKeys(Vec<SkippedKey>),
}

/// Why a JWKS cache refresh failed. The previous keys stay in use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The fetcher reported an error.
    #[error("fetching the JWKS failed: {0}")]
    Fetch(String),
    /// The fetched document exceeds [`crate::CacheConfig::max_jwks_bytes`].
    #[error("JWKS document is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length of the fetched document.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The fetched document could not be parsed or had no usable key.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// The background task running the fetch panicked or was cancelled.
    #[error("the JWKS refresh task did not complete")]
    TaskFailed,
}

/// Why a signing operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The PKCS#8 document is not a valid P-256 private key.
    #[error("invalid ES256 PKCS#8 private key: {0}")]
    InvalidKey(String),
    /// The system random number generator failed.
    #[error("generating a signing key failed")]
    KeyGeneration,
    /// The signature could not be computed.
    #[error("computing the signature failed")]
    Signing,
    /// The claims could not be serialized to JSON.
    #[error("claims could not be serialized: {0}")]
    Serialize(String),
}

/// Why the signing key ring could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// A file-system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "reading signing key file".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file exists but its content is not a valid key ring.
    #[error("signing key file {} is invalid: {reason}", path.display())]
    Invalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Generating or loading a key failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Why an OIDC discovery document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// The document is not valid JSON or lacks a required member.
    #[error("OIDC discovery document is invalid: {0}")]
    Invalid(String),
    /// The document's `issuer` differs from the configured issuer.
    #[error("OIDC discovery issuer {found:?} does not match the configured issuer {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The issuer named by the document.
        found: String,
    },
}

/// Displays an untrusted string escaped and cut to a bounded length.
struct Shortened<'a>(&'a str);

impl fmt::Display for Shortened<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX_CHARS: usize = 64;
        match self.0.char_indices().nth(MAX_CHARS) {
            Some((cut, _)) => write!(f, "{:?}...", &self.0[..cut]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// Displays the reasons keys were skipped, separated by semicolons.
struct SkippedList<'a>(&'a [SkippedKey]);

impl fmt::Display for SkippedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the set is empty");
        }
        for (index, skipped) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{skipped}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_kids_are_shortened_and_escaped() {
        let kid = format!("\"{}", "k".repeat(500));
        let message = JwtError::UnknownKid(kid).to_string();
        assert!(message.len() < 120, "{message}");
        assert!(message.contains("\\\""), "{message}");
        assert!(message.contains("k\"..."), "{message}");
    }
}
