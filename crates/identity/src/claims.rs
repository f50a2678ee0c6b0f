//! A verified token's payload (RFC 7519 §4) with typed accessors for the
//! registered claims and for OAuth scopes.
//!
//! Accessors are forgiving readers: a claim with the wrong JSON type reads
//! as absent. Validation ([`crate::Validation`]) is where wrong types are
//! reported as errors.

use serde_json::{Map, Value};

/// The JSON object carried by a token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims {
    map: Map<String, Value>,
}

impl Claims {
    /// Wraps a JSON object.
    pub fn new(map: Map<String, Value>) -> Self {
        Self { map }
    }

    /// The whole payload.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Unwraps the payload.
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }

    /// Any claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    /// A claim by name, if it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// `sub`: the subject.
    pub fn sub(&self) -> Option<&str> {
        self.get_str("sub")
    }

    /// `iss`: the issuer.
    pub fn iss(&self) -> Option<&str> {
        self.get_str("iss")
    }

    /// `jti`: the token id.
    pub fn jti(&self) -> Option<&str> {
        self.get_str("jti")
    }

    /// `aud` as a list: a single string is a one-element list. Non-string
    /// array entries are left out.
    pub fn audiences(&self) -> Vec<&str> {
        match self.map.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `aud` is, or contains, `audience`. Does not allocate.
    pub fn has_audience(&self, audience: &str) -> bool {
        match self.map.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(audience)),
            _ => false,
        }
    }

    /// `exp` in seconds since the Unix epoch.
    pub fn exp(&self) -> Option<i64> {
        self.numeric_date("exp")
    }

    /// `nbf` in seconds since the Unix epoch.
    pub fn nbf(&self) -> Option<i64> {
        self.numeric_date("nbf")
    }

    /// `iat` in seconds since the Unix epoch.
    pub fn iat(&self) -> Option<i64> {
        self.numeric_date("iat")
    }

    /// A NumericDate claim, whole seconds. RFC 7519 allows fractions; they
    /// are rounded down.
    pub fn numeric_date(&self, name: &str) -> Option<i64> {
        numeric_date(self.map.get(name)?)
    }

    /// The granted scopes: `scope` as a space-separated string (RFC 8693
    /// §4.2), else `scp` as an array of strings or a space-separated string.
    pub fn scopes(&self) -> Vec<&str> {
        let mut scopes = Vec::new();
        self.for_each_scope(|scope| {
            scopes.push(scope);
            false
        });
        scopes
    }

    /// Whether `scope` is among [`Claims::scopes`]. Does not allocate.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.for_each_scope(|granted| granted == scope)
    }

    /// Calls `visit` for every scope until it returns true; returns whether it did.
    fn for_each_scope<'a>(&'a self, visit: impl FnMut(&'a str) -> bool) -> bool {
        let source = self.map.get("scope").or_else(|| self.map.get("scp"));
        match source {
            Some(Value::String(list)) => list.split(' ').filter(|s| !s.is_empty()).any(visit),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(visit),
            _ => false,
        }
    }
}

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Self::new(map)
    }
}

/// Reads a JSON number as whole seconds; `None` if it is not a finite number
/// in `i64` range.
pub(crate) fn numeric_date(value: &Value) -> Option<i64> {
    if let Some(seconds) = value.as_i64() {
        return Some(seconds);
    }
    let seconds = value.as_f64()?.floor();
    // The range check keeps the cast exact; NaN and infinities fail it.
    (seconds >= i64::MIN as f64 && seconds < i64::MAX as f64).then_some(seconds as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Claims {
        match value {
            Value::Object(map) => Claims::new(map),
            _ => unreachable!("test claims are objects"),
        }
    }

    #[test]
    fn audience_string_or_array() {
        let single = claims(json!({"aud": "api"}));
        assert_eq!(single.audiences(), ["api"]);
        assert!(single.has_audience("api"));
        let many = claims(json!({"aud": ["a", 3, "b"]}));
        assert_eq!(many.audiences(), ["a", "b"]);
        assert!(many.has_audience("b"));
        assert!(!many.has_audience("c"));
        assert!(claims(json!({})).audiences().is_empty());
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let scope = claims(json!({"scope": "read  write", "scp": ["ignored"]}));
        assert_eq!(scope.scopes(), ["read", "write"]);
        assert!(scope.has_scope("write"));
        assert!(!scope.has_scope("ignored"));
        let scp = claims(json!({"scp": ["mcp:tools", "llm"]}));
        assert_eq!(scp.scopes(), ["mcp:tools", "llm"]);
        let scp_string = claims(json!({"scp": "a b"}));
        assert_eq!(scp_string.scopes(), ["a", "b"]);
    }

    #[test]
    fn numeric_dates() {
        let c = claims(json!({"exp": 10, "nbf": 5.9, "iat": "1", "big": 1e300}));
        assert_eq!(c.exp(), Some(10));
        assert_eq!(c.nbf(), Some(5));
        assert_eq!(c.iat(), None);
        assert_eq!(c.numeric_date("big"), None);
        assert_eq!(c.numeric_date("missing"), None);
    }

    #[test]
    fn registered_strings() {
        let c = claims(json!({"sub": "agent-1", "iss": "https://idp", "jti": 5}));
        assert_eq!(c.sub(), Some("agent-1"));
        assert_eq!(c.iss(), Some("https://idp"));
        assert_eq!(c.jti(), None);
    }
}
