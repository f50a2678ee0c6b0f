//! Claim rules a verified token must satisfy: time window, issuer,
//! audience, required claims and permitted algorithms.
//!
//! The rules never read the clock themselves. [`Validation::now`] pins the
//! time (tests do this); otherwise [`crate::verify`] reads the system clock
//! once per call and [`crate::verify_at`] takes the time as an argument.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::alg::Algorithm;
use crate::claims::{self, Claims};
use crate::error::JwtError;

/// Default clock-skew allowance, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// What a token must satisfy beyond a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Trusted issuers, compared exactly. Empty disables the `iss` check;
    /// only do that when the key set belongs to a single issuer.
    pub issuers: Vec<String>,
    /// Accepted audiences; the token's `aud` (a string or an array) must
    /// contain at least one. Empty disables the `aud` check.
    pub audiences: Vec<String>,
    /// Permitted algorithms. Empty permits every [`Algorithm`].
    pub algorithms: Vec<Algorithm>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// Claims that must be present (any value but `null`).
    pub required_claims: Vec<String>,
    /// Whether `exp` must be present. `nbf` and `iat` are checked when present.
    pub require_exp: bool,
    /// Fixed time in seconds since the Unix epoch; `None` reads the clock.
    pub now: Option<i64>,
}

impl Default for Validation {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: Vec::new(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            required_claims: Vec::new(),
            require_exp: true,
            now: None,
        }
    }
}

impl Validation {
    /// Rules accepting tokens from `issuers` for any of `audiences`, with the
    /// default leeway and a required `exp`.
    pub fn new<I, A>(issuers: I, audiences: A) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
        A: IntoIterator,
        A::Item: Into<String>,
    {
        Self {
            issuers: issuers.into_iter().map(Into::into).collect(),
            audiences: audiences.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Sets the clock-skew allowance.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds;
        self
    }

    /// Restricts the permitted algorithms.
    pub fn with_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Adds claims that must be present.
    pub fn with_required_claims<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.required_claims
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Sets whether `exp` must be present.
    pub fn with_require_exp(mut self, required: bool) -> Self {
        self.require_exp = required;
        self
    }

    /// Pins the current time (seconds since the Unix epoch).
    pub fn at(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }

    /// Whether tokens signed with `alg` may be accepted.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.is_empty() || self.algorithms.contains(&alg)
    }

    /// The pinned time, or the system clock's.
    pub(crate) fn now_or_clock(&self) -> i64 {
        self.now.unwrap_or_else(unix_now)
    }

    /// Checks the claims of a token whose signature is already verified.
    pub fn check(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        for name in &self.required_claims {
            if claims.get(name).is_none_or(|value| value.is_null()) {
                return Err(JwtError::MissingClaim(name.clone()));
            }
        }
        self.check_times(claims, now)?;
        if !self.issuers.is_empty() {
            let issuer = string_claim(claims, "iss")?;
            if !self.issuers.iter().any(|trusted| trusted == issuer) {
                return Err(JwtError::WrongIssuer);
            }
        }
        if !self.audiences.is_empty() {
            match claims.get("aud") {
                None => return Err(JwtError::MissingClaim("aud".to_owned())),
                Some(serde_json::Value::String(_) | serde_json::Value::Array(_)) => {}
                Some(_) => return Err(JwtError::InvalidClaim("aud".to_owned())),
            }
            if !self
                .audiences
                .iter()
                .any(|audience| claims.has_audience(audience))
            {
                return Err(JwtError::WrongAudience);
            }
        }
        Ok(())
    }

    fn check_times(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        let leeway = i64::try_from(self.leeway_secs).unwrap_or(i64::MAX);
        match date_claim(claims, "exp")? {
            // Valid strictly before exp (RFC 7519 §4.1.4).
            Some(exp) if now >= exp.saturating_add(leeway) => return Err(JwtError::Expired),
            Some(_) => {}
            None if self.require_exp => return Err(JwtError::MissingClaim("exp".to_owned())),
            None => {}
        }
        if let Some(nbf) = date_claim(claims, "nbf")?
            && now.saturating_add(leeway) < nbf
        {
            return Err(JwtError::NotYetValid);
        }
        if let Some(iat) = date_claim(claims, "iat")?
            && now.saturating_add(leeway) < iat
        {
            return Err(JwtError::IssuedInFuture);
        }
        Ok(())
    }
}

/// A NumericDate claim: absent is `None`, a non-number is an error.
fn date_claim(claims: &Claims, name: &str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => claims::numeric_date(value)
            .map(Some)
            .ok_or_else(|| JwtError::InvalidClaim(name.to_owned())),
    }
}

/// A string claim that must be present.
fn string_claim<'a>(claims: &'a Claims, name: &str) -> Result<&'a str, JwtError> {
    match claims.get(name) {
        None => Err(JwtError::MissingClaim(name.to_owned())),
        Some(value) => value
            .as_str()
            .ok_or_else(|| JwtError::InvalidClaim(name.to_owned())),
    }
}

/// Seconds since the Unix epoch by the system clock.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn claims(value: serde_json::Value) -> Claims {
        match value {
            serde_json::Value::Object(map) => Claims::new(map),
            _ => unreachable!("test claims are objects"),
        }
    }

    fn rules() -> Validation {
        Validation::new(["https://idp"], ["api"]).at(NOW)
    }

    #[test]
    fn accepts_valid_claims() {
        let c = claims(json!({"iss": "https://idp", "aud": ["x", "api"], "exp": NOW + 10}));
        assert_eq!(rules().check(&c, NOW), Ok(()));
    }

    #[test]
    fn exp_boundary_and_leeway() {
        let c = claims(json!({"iss": "https://idp", "aud": "api", "exp": NOW}));
        assert_eq!(
            rules().with_leeway(0).check(&c, NOW),
            Err(JwtError::Expired)
        );
        assert_eq!(rules().with_leeway(0).check(&c, NOW - 1), Ok(()));
        assert_eq!(rules().check(&c, NOW + 59), Ok(()));
        assert_eq!(rules().check(&c, NOW + 60), Err(JwtError::Expired));
    }

    #[test]
    fn exp_requirement_is_configurable() {
        let c = claims(json!({"iss": "https://idp", "aud": "api"}));
        assert_eq!(
            rules().check(&c, NOW),
            Err(JwtError::MissingClaim("exp".into()))
        );
        assert_eq!(rules().with_require_exp(false).check(&c, NOW), Ok(()));
    }

    #[test]
    fn wrong_types_are_invalid() {
        let c = claims(json!({"iss": "https://idp", "aud": "api", "exp": "soon"}));
        assert_eq!(
            rules().check(&c, NOW),
            Err(JwtError::InvalidClaim("exp".into()))
        );
        let c = claims(json!({"iss": 1, "aud": "api", "exp": NOW + 1}));
        assert_eq!(
            rules().check(&c, NOW),
            Err(JwtError::InvalidClaim("iss".into()))
        );
        let c = claims(json!({"iss": "https://idp", "aud": 1, "exp": NOW + 1}));
        assert_eq!(
            rules().check(&c, NOW),
            Err(JwtError::InvalidClaim("aud".into()))
        );
    }

    #[test]
    fn iat_in_future() {
        let c =
            claims(json!({"iss": "https://idp", "aud": "api", "exp": NOW + 500, "iat": NOW + 61}));
        assert_eq!(rules().check(&c, NOW), Err(JwtError::IssuedInFuture));
        let c =
            claims(json!({"iss": "https://idp", "aud": "api", "exp": NOW + 500, "iat": NOW + 60}));
        assert_eq!(rules().check(&c, NOW), Ok(()));
    }

    #[test]
    fn null_required_claim_is_missing() {
        let c = claims(json!({"iss": "https://idp", "aud": "api", "exp": NOW + 1, "sub": null}));
        assert_eq!(
            rules().with_required_claims(["sub"]).check(&c, NOW),
            Err(JwtError::MissingClaim("sub".into()))
        );
    }
}
