//! CORS (`traffic.cors`): preflights answered by the gateway (before any
//! authentication, as browsers send them without credentials) and the
//! `Access-Control-*` headers added to every response of an allowed origin,
//! refusals (401, 403, 429) included, so a browser client can read them.

use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use palisade_api::kinds::gateway_api::HttpCorsFilter;

use crate::body::{self, Body};

/// A compiled CORS policy.
#[derive(Debug)]
pub struct Cors {
    policy: String,
    any_origin: bool,
    origins: Vec<OriginPattern>,
    credentials: bool,
    methods: Option<HeaderValue>,
    headers: Option<HeaderValue>,
    any_header: bool,
    expose: Option<HeaderValue>,
    max_age: HeaderValue,
}

#[derive(Debug)]
struct OriginPattern {
    scheme: String,
    /// Host, or the suffix after `*.` for wildcards.
    host: String,
    wildcard: bool,
    port: Option<String>,
}

impl OriginPattern {
    fn parse(text: &str) -> Option<OriginPattern> {
        let (scheme, rest) = text.split_once("://")?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p.to_string())),
            _ => (rest, None),
        };
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(suffix) => (true, suffix),
            None => (false, host),
        };
        Some(OriginPattern {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            wildcard,
            port,
        })
    }

    fn matches(&self, origin: &str) -> bool {
        let Some(other) = OriginPattern::parse(origin) else {
            return false;
        };
        let host_ok = if self.wildcard {
            other
                .host
                .strip_suffix(&self.host)
                .is_some_and(|head| head.ends_with('.') && head.len() > 1)
        } else {
            other.host == self.host
        };
        self.scheme == other.scheme && host_ok && self.port == other.port
    }
}

fn joined(items: impl IntoIterator<Item = String>) -> Option<HeaderValue> {
    let text = items.into_iter().collect::<Vec<_>>().join(", ");
    (!text.is_empty())
        .then(|| HeaderValue::from_str(&text).ok())
        .flatten()
}

impl Cors {
    /// Compiles a policy's `traffic.cors`.
    pub fn compile(policy: &str, spec: &HttpCorsFilter) -> Cors {
        let any_origin = spec.allow_origins.iter().any(|o| o == "*");
        let methods = spec
            .allow_methods
            .iter()
            .filter_map(|m| serde_json::to_value(m).ok()?.as_str().map(str::to_string));
        Cors {
            policy: policy.to_string(),
            any_origin,
            origins: spec
                .allow_origins
                .iter()
                .filter_map(|o| OriginPattern::parse(o))
                .collect(),
            credentials: spec.allow_credentials == Some(true),
            methods: joined(methods),
            any_header: spec.allow_headers.iter().any(|h| h == "*"),
            headers: joined(spec.allow_headers.iter().cloned()),
            expose: joined(spec.expose_headers.iter().cloned()),
            max_age: HeaderValue::from(spec.max_age()),
        }
    }

    /// The policy this comes from.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    fn allowed_origin<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        (self.any_origin || self.origins.iter().any(|p| p.matches(text))).then_some(origin)
    }

    /// The answer to a CORS preflight (`OPTIONS` with an `Origin` and
    /// `Access-Control-Request-Method`), or `None` for other requests.
    pub fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<Response<Body>> {
        if method != Method::OPTIONS
            || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
            || !headers.contains_key(header::ORIGIN)
        {
            return None;
        }
        let mut response = Response::new(body::empty());
        *response.status_mut() = StatusCode::OK;
        let Some(origin) = self.allowed_origin(headers) else {
            // Not an allowed origin: no CORS headers, so the browser refuses.
            return Some(response);
        };
        let out = response.headers_mut();
        self.allow_origin(out, origin);
        if let Some(methods) = &self.methods {
            out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods.clone());
        }
        let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS);
        match (self.any_header, requested, &self.headers) {
            (true, Some(asked), _) => {
                out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
            }
            (false, _, Some(allowed)) => {
                out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed.clone());
            }
            _ => {}
        }
        out.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        Some(response)
    }

    /// Adds the CORS headers to a response for a request from an allowed origin.
    pub fn decorate(&self, request: &HeaderMap, response: &mut Response<Body>) {
        let Some(origin) = self.allowed_origin(request).cloned() else {
            return;
        };
        let out = response.headers_mut();
        self.allow_origin(out, &origin);
        if let Some(expose) = &self.expose {
            out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }

    fn allow_origin(&self, out: &mut HeaderMap, origin: &HeaderValue) {
        if self.any_origin && !self.credentials {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else {
            out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            out.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.credentials {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}

/// The request headers CORS decisions need, kept after the request is consumed.
pub fn request_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    if let Some(origin) = headers.get(header::ORIGIN) {
        kept.insert(header::ORIGIN, origin.clone());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str]) -> Cors {
        let spec: HttpCorsFilter = serde_json::from_value(serde_json::json!({
            "allowOrigins": origins, "allowMethods": ["GET", "POST", "OPTIONS"],
            "allowHeaders": ["*"], "exposeHeaders": ["*"], "maxAge": 86400
        }))
        .unwrap();
        Cors::compile("p", &spec)
    }

    fn preflight(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("authorization, mcp-protocol-version"),
        );
        h
    }

    #[test]
    fn the_seed_policy_answers_any_origin() {
        let c = cors(&["*"]);
        let r = c
            .preflight(&Method::OPTIONS, &preflight("http://localhost:6274"))
            .unwrap();
        let h = r.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET, POST, OPTIONS"
        );
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "authorization, mcp-protocol-version"
        );
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "86400");
        assert!(c.preflight(&Method::POST, &preflight("http://a")).is_none());
    }

    #[test]
    fn listed_and_wildcard_origins() {
        let c = cors(&["https://app.example.com", "https://*.example.org"]);
        let allowed = |o: &str| {
            c.preflight(&Method::OPTIONS, &preflight(o))
                .unwrap()
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(
            allowed("https://app.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            allowed("https://a.example.org").as_deref(),
            Some("https://a.example.org")
        );
        assert_eq!(allowed("https://example.org"), None);
        assert_eq!(allowed("http://app.example.com"), None);
        assert_eq!(allowed("https://evil.com"), None);
    }
}
