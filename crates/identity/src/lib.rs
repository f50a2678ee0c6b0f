//! Palisade identity: JSON Web Tokens in and out.
//!
//! The control plane uses this crate to issue and verify service-account
//! tokens and to verify tokens from OIDC identity providers; the gateway's
//! JWT authentication policy uses it on the request path. All cryptography
//! is done by `ring`.
//!
//! The core does no IO and reads no clock unless asked to:
//!
//! * [`Jwk`], [`JwkSet`] and [`KeySet::from_json`]: JWK and JWKS parsing
//!   into ready-to-verify [`PublicKey`]s. Unusable keys are skipped with a
//!   reason.
//! * [`verify`]/[`verify_at`]: compact JWS verification with RS256/384/512,
//!   PS256/384/512, ES256, ES384 and EdDSA (Ed25519). `none` and `HS*` are
//!   never accepted; the header's algorithm must fit the key's type and the
//!   JWK's `alg`, so a public key can never be used as an HMAC secret.
//! * [`Validation`]: issuer, audience, time window (with leeway), required
//!   claims and permitted algorithms. [`Claims`] gives typed access to the
//!   verified payload.
//! * [`Signer`]: Palisade's ES256 signing key, identified by its RFC 7638
//!   thumbprint; [`KeyRing`] adds rotation and a private key file.
//! * [`parse_provider_metadata`] and [`oidc_discovery`]: reading an identity
//!   provider's discovery document and producing Palisade's own.
//!
//! Around the core, [`JwksCache`] (tokio) keeps an identity provider's keys
//! current through a caller-supplied [`JwksFetcher`]: lock-free reads,
//! rate-limited and coalesced refreshes, and [`verify_with_cache`] to retry
//! once when a token names a key that is not known yet.

mod alg;
mod b64;
mod cache;
mod claims;
mod discovery;
mod error;
mod jwk;
mod keyring;
mod sign;
mod validation;
mod verify;

pub use alg::{Algorithm, KeyType};
pub use cache::{
    CacheConfig, Clock, JwksCache, JwksFetcher, RefreshOutcome, SystemClock, verify_with_cache,
};
pub use claims::Claims;
pub use discovery::{
    DISCOVERY_PATH, ProviderMetadata, discovery_url, oidc_discovery, parse_provider_metadata,
};
pub use error::{DiscoveryError, JwksError, JwtError, KeyRingError, RefreshError, SignError};
pub use jwk::{Jwk, JwkSet, KeySet, PublicKey, SkippedKey};
pub use keyring::{KEY_FILE_NAME, KeyRing, RetiredKey};
pub use sign::Signer;
pub use validation::{DEFAULT_LEEWAY_SECS, Validation};
pub use verify::{MAX_KEY_CANDIDATES, MAX_TOKEN_LEN, unverified_issuer, verify, verify_at};
