//! Route matching on the compiled IR: hostnames, path (Exact, PathPrefix,
//! RegularExpression), headers, query parameters and method, with Gateway API
//! precedence decided once at compile time.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use regex::Regex;
use serde::Serialize;

use crate::backend::Backend;
use crate::policies::PolicySet;

/// Identifies the route rule that served a request (for metrics, logs and audit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteId {
    /// Route namespace (`""` for built-in routes).
    pub namespace: String,
    /// Route name.
    pub name: String,
    /// Index of the rule within the route.
    pub rule: usize,
    /// `namespace/name`, built once so that counting a request allocates nothing.
    #[serde(skip)]
    label: Arc<str>,
}

impl RouteId {
    /// The identity of rule `rule` of route `namespace/name`.
    pub fn new(namespace: &str, name: &str, rule: usize) -> Self {
        RouteId {
            namespace: namespace.to_string(),
            name: name.to_string(),
            rule,
            label: format!("{namespace}/{name}").into(),
        }
    }

    /// `namespace/name`, the label used in metrics.
    pub fn label(&self) -> &Arc<str> {
        &self.label
    }
}

/// How a request path must look.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "value")]
pub enum PathMatch {
    /// The path equals the value.
    Exact(String),
    /// The path starts with the value, on a segment boundary (`/foo` matches `/foo` and
    /// `/foo/bar`, not `/foobar`).
    PathPrefix(String),
    /// The whole path matches the regex.
    RegularExpression(#[serde(serialize_with = "ser_regex")] Regex),
}

/// How a header or query value must look.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "value")]
pub enum ValueMatch {
    /// Exactly this value.
    Exact(String),
    /// The whole value matches the regex.
    RegularExpression(#[serde(serialize_with = "ser_regex")] Regex),
}

fn ser_regex<S: serde::Serializer>(re: &Regex, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(re.as_str())
}

impl ValueMatch {
    fn matches(&self, value: &str) -> bool {
        match self {
            ValueMatch::Exact(v) => v == value,
            ValueMatch::RegularExpression(re) => re.is_match(value),
        }
    }
}

/// One match condition (all parts must hold).
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// Path condition.
    pub path: PathMatch,
    /// Header conditions (names lower-case).
    pub headers: Vec<(String, ValueMatch)>,
    /// Query parameter conditions.
    pub query: Vec<(String, ValueMatch)>,
    /// Method condition.
    #[serde(serialize_with = "ser_method")]
    pub method: Option<Method>,
}

fn ser_method<S: serde::Serializer>(m: &Option<Method>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.serialize_str(m.as_str()),
        None => s.serialize_none(),
    }
}

/// A hostname condition (`example.com` or `*.example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostMatch(pub String);

impl HostMatch {
    /// Whether `host` (without port, lower-case) matches.
    pub fn matches(&self, host: &str) -> bool {
        match self.0.strip_prefix("*.") {
            Some(suffix) => {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix)
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            }
            None => self.0 == host,
        }
    }
}

/// The request facts matching looks at.
#[derive(Debug)]
pub struct RequestView<'a> {
    /// Method.
    pub method: &'a Method,
    /// Host (no port, lower-case); empty when absent.
    pub host: &'a str,
    /// Path (no query).
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Headers.
    pub headers: &'a http::HeaderMap,
}

impl Match {
    /// Whether the request satisfies every condition.
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        let path_ok = match &self.path {
            PathMatch::Exact(v) => req.path == v,
            PathMatch::PathPrefix(p) => prefix_matches(p, req.path),
            PathMatch::RegularExpression(re) => re.is_match(req.path),
        };
        path_ok
            && self.method.as_ref().is_none_or(|m| m == req.method)
            && self.headers.iter().all(|(name, want)| {
                req.headers
                    .get_all(name.as_str())
                    .iter()
                    .any(|v| v.to_str().is_ok_and(|v| want.matches(v)))
            })
            && self
                .query
                .iter()
                .all(|(name, want)| query_values(req.query, name).any(|v| want.matches(&v)))
    }

    /// Gateway API precedence between two matches: exact path, then longer prefix,
    /// (then regex, implementation-specific: longer pattern first), then method, then
    /// more headers, then more query parameters. `Less` means `self` wins.
    pub fn precedence(&self, other: &Match) -> Ordering {
        fn path_rank(p: &PathMatch) -> (u8, std::cmp::Reverse<usize>) {
            match p {
                PathMatch::Exact(v) => (0, std::cmp::Reverse(v.len())),
                PathMatch::PathPrefix(v) => (1, std::cmp::Reverse(v.trim_end_matches('/').len())),
                PathMatch::RegularExpression(r) => (2, std::cmp::Reverse(r.as_str().len())),
            }
        }
        path_rank(&self.path)
            .cmp(&path_rank(&other.path))
            .then(other.method.is_some().cmp(&self.method.is_some()))
            .then(other.headers.len().cmp(&self.headers.len()))
            .then(other.query.len().cmp(&self.query.len()))
    }
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn query_values<'a>(query: Option<&'a str>, name: &'a str) -> impl Iterator<Item = String> + 'a {
    query.unwrap_or("").split('&').filter_map(move |pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'%' if i + 2 < bytes.len() => hex(bytes[i + 1])
                .zip(hex(bytes[i + 2]))
                .map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What to do with a matched request.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// Weighted backends; empty means the rule has no usable backend (503).
    pub backends: Vec<(Arc<Backend>, u32)>,
    /// Time allowed until the upstream's response headers.
    pub timeout: Option<Duration>,
    /// Why there is no usable backend, when `backends` is empty.
    pub unavailable: Option<String>,
    /// What the attached policies ask: authentication, authorization, CORS,
    /// rate limits, guards, request shaping.
    pub policies: PolicySet,
}

impl Action {
    /// An action that serves nothing: every request gets 503 with `why`.
    pub fn unavailable(why: String) -> Action {
        Action {
            backends: Vec::new(),
            timeout: None,
            unavailable: Some(why),
            policies: PolicySet::default(),
        }
    }

    /// This action with the policy sections it leaves unset taken from `set`
    /// (the policies of a Gateway, which routes' own policies override;
    /// authorization rules are pooled).
    pub fn with_fallback_policies(&self, set: &PolicySet) -> Action {
        let mut policies = self.policies.clone();
        // Backend TLS is decided when the backend is resolved.
        policies.tls = None;
        policies.fill_from(set);
        Action {
            policies,
            ..self.clone()
        }
    }
}

/// One compiled route rule on a listener.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// The rule's identity.
    pub id: RouteId,
    /// Host conditions (route hostnames intersected with the listener's); empty = any.
    pub hostnames: Vec<HostMatch>,
    /// The match (one per HTTPRoute match entry; a rule with N matches yields N entries).
    pub matcher: Match,
    /// What to do.
    pub action: Arc<Action>,
    /// Tie-breakers: route creation order (older first), then `namespace/name`.
    #[serde(skip)]
    pub order: (String, String, usize),
}

/// All rules of one socket, sorted by precedence.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteTable {
    /// Rules, highest precedence first.
    pub rules: Vec<Rule>,
}

impl RouteTable {
    /// Builds a table, sorting rules by Gateway API precedence.
    pub fn new(mut rules: Vec<Rule>) -> Self {
        rules.sort_by(|a, b| {
            // A rule bound to a specific hostname beats a catch-all one.
            let host_rank = |r: &Rule| {
                r.hostnames
                    .iter()
                    .map(|h| if h.0.starts_with("*.") { 1 } else { 0 })
                    .min()
                    .unwrap_or(2)
            };
            host_rank(a)
                .cmp(&host_rank(b))
                .then_with(|| a.matcher.precedence(&b.matcher))
                .then_with(|| a.order.cmp(&b.order))
        });
        RouteTable { rules }
    }

    /// The first rule that matches.
    pub fn find(&self, req: &RequestView<'_>) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            (r.hostnames.is_empty() || r.hostnames.iter().any(|h| h.matches(req.host)))
                && r.matcher.matches(req)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, path: PathMatch) -> Rule {
        Rule {
            id: RouteId::new("default", name, 0),
            hostnames: vec![],
            matcher: Match {
                path,
                headers: vec![],
                query: vec![],
                method: None,
            },
            action: Arc::new(Action {
                unavailable: None,
                ..Action::unavailable(String::new())
            }),
            order: (String::new(), name.into(), 0),
        }
    }

    fn find<'a>(
        t: &'a RouteTable,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &http::HeaderMap,
    ) -> Option<&'a str> {
        t.find(&RequestView {
            method,
            host: "example.com",
            path,
            query,
            headers,
        })
        .map(|r| r.id.name.as_str())
    }

    #[test]
    fn precedence_follows_gateway_api() {
        let mut with_header = rule("header", PathMatch::PathPrefix("/api".into()));
        with_header
            .matcher
            .headers
            .push(("x-env".into(), ValueMatch::Exact("canary".into())));
        let mut with_method = rule("method", PathMatch::PathPrefix("/api".into()));
        with_method.matcher.method = Some(Method::POST);
        let t = RouteTable::new(vec![
            rule("root", PathMatch::PathPrefix("/".into())),
            rule("api", PathMatch::PathPrefix("/api".into())),
            rule("exact", PathMatch::Exact("/api/v1".into())),
            rule(
                "regex",
                PathMatch::RegularExpression(Regex::new("^/api/v[0-9]+/items$").unwrap()),
            ),
            with_header,
            with_method,
        ]);
        let h = http::HeaderMap::new();
        assert_eq!(find(&t, &Method::GET, "/api/v1", None, &h), Some("exact"));
        assert_eq!(
            find(&t, &Method::GET, "/api/v2/items", None, &h),
            Some("api")
        );
        assert_eq!(find(&t, &Method::GET, "/apix", None, &h), Some("root"));
        assert_eq!(find(&t, &Method::POST, "/api/x", None, &h), Some("method"));
        let mut canary = http::HeaderMap::new();
        canary.insert("x-env", "canary".parse().unwrap());
        assert_eq!(
            find(&t, &Method::GET, "/api/x", None, &canary),
            Some("header")
        );
        assert_eq!(
            find(&t, &Method::GET, "/other/v2/items", None, &h),
            Some("root")
        );
    }

    #[test]
    fn query_and_hostnames() {
        let mut q = rule("q", PathMatch::PathPrefix("/".into()));
        q.matcher
            .query
            .push(("model".into(), ValueMatch::Exact("gpt 4".into())));
        q.hostnames.push(HostMatch("*.example.com".into()));
        let t = RouteTable::new(vec![q]);
        let h = http::HeaderMap::new();
        let view = |host, query| RequestView {
            method: &Method::GET,
            host,
            path: "/",
            query,
            headers: &h,
        };
        assert!(
            t.find(&view("a.example.com", Some("x=1&model=gpt+4")))
                .is_some()
        );
        assert!(
            t.find(&view("a.example.com", Some("model=gpt%204")))
                .is_some()
        );
        assert!(t.find(&view("example.com", Some("model=gpt+4"))).is_none());
        assert!(t.find(&view("a.example.com", Some("model=gpt5"))).is_none());
    }
}
