//! Where a request carries its token (`jwtAuthentication.location`): a header
//! with an optional prefix (default `Authorization: Bearer <token>`), a query
//! parameter or a cookie. Taking the token also removes it from the request,
//! so that it never reaches the upstream.

use http::header::{AUTHORIZATION, COOKIE, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Request, Uri};
use palisade_api::kinds::agentgateway::shared::{ExtractionLocation, LocationRef};

/// Where the token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// A header; its value starts with `prefix` (compared without case).
    Header {
        /// The header.
        name: HeaderName,
        /// What precedes the token, e.g. `Bearer `.
        prefix: Option<String>,
    },
    /// A query parameter.
    Query(String),
    /// A cookie.
    Cookie(String),
}

impl Default for TokenLocation {
    fn default() -> Self {
        TokenLocation::Header {
            name: AUTHORIZATION,
            prefix: Some("Bearer ".into()),
        }
    }
}

impl TokenLocation {
    /// The location a policy names; a CEL `expression` is not supported.
    pub fn compile(location: &ExtractionLocation) -> Result<TokenLocation, String> {
        match location.get() {
            Some(LocationRef::Header { name, prefix }) => Ok(TokenLocation::Header {
                name: HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("location.header.name {name:?} is not a header name"))?,
                prefix: prefix.map(str::to_string),
            }),
            Some(LocationRef::QueryParameter(name)) => Ok(TokenLocation::Query(name.to_string())),
            Some(LocationRef::Cookie(name)) => Ok(TokenLocation::Cookie(name.to_string())),
            Some(LocationRef::Expression(_)) => Err(
                "location.expression is not supported yet; use a header, queryParameter or cookie"
                    .into(),
            ),
            None => Err("location names no header, queryParameter or cookie".into()),
        }
    }

    /// Takes the token out of the request: `Ok(None)` when there is none,
    /// `Err` when the carrier is there but malformed. The carrier (header,
    /// query parameter, cookie) is removed either way.
    pub fn take<B>(&self, req: &mut Request<B>) -> Result<Option<String>, String> {
        match self {
            TokenLocation::Header { name, prefix } => {
                let Some(value) = req.headers_mut().remove(name) else {
                    return Ok(None);
                };
                let text = value
                    .to_str()
                    .map_err(|_| format!("the {name} header is not ASCII"))?;
                let token = match prefix {
                    None => text,
                    Some(prefix) => text
                        .get(..prefix.len())
                        .filter(|head| head.eq_ignore_ascii_case(prefix))
                        .map(|_| &text[prefix.len()..])
                        .ok_or_else(|| format!("the {name} header must be `{}<token>`", prefix))?,
                };
                let token = token.trim();
                if token.is_empty() {
                    return Err(format!("the {name} header holds no token"));
                }
                Ok(Some(token.to_string()))
            }
            TokenLocation::Query(param) => take_query(req, param),
            TokenLocation::Cookie(cookie) => Ok(take_cookie(req, cookie)),
        }
    }
}

/// Removes `param` from the query string and returns its value.
fn take_query<B>(req: &mut Request<B>, param: &str) -> Result<Option<String>, String> {
    let Some(query) = req.uri().query() else {
        return Ok(None);
    };
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == param {
                token.get_or_insert(value.to_string());
                false
            } else {
                true
            }
        })
        .collect();
    let Some(token) = token else {
        return Ok(None);
    };
    let path = req.uri().path();
    let rebuilt = match kept.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{}", kept.join("&")),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(
        PathAndQuery::try_from(rebuilt).map_err(|_| "the request URI is malformed".to_string())?,
    );
    *req.uri_mut() = Uri::from_parts(parts).map_err(|_| "the request URI is malformed")?;
    if token.is_empty() {
        return Err(format!("the {param} query parameter holds no token"));
    }
    Ok(Some(token))
}

/// Removes the cookie `name` from the `Cookie` headers and returns its value.
fn take_cookie<B>(req: &mut Request<B>, name: &str) -> Option<String> {
    let mut token = None;
    let mut kept = Vec::new();
    for value in req.headers().get_all(COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((key, value)) if key.trim() == name => {
                    token.get_or_insert(value.trim().trim_matches('"').to_string());
                }
                _ => kept.push(pair.to_string()),
            }
        }
    }
    token.as_ref()?;
    req.headers_mut().remove(COOKIE);
    if !kept.is_empty()
        && let Ok(value) = HeaderValue::from_str(&kept.join("; "))
    {
        req.headers_mut().insert(COOKIE, value);
    }
    token.filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn default_reads_and_removes_the_bearer_header() {
        let mut req = request("/a", &[("authorization", "bearer abc")]);
        assert_eq!(
            TokenLocation::default().take(&mut req),
            Ok(Some("abc".into()))
        );
        assert!(req.headers().get("authorization").is_none());
        let mut basic = request("/a", &[("authorization", "Basic abc")]);
        assert!(TokenLocation::default().take(&mut basic).is_err());
        assert!(basic.headers().get("authorization").is_none());
    }

    #[test]
    fn query_parameter_is_taken_out_of_the_uri() {
        let location = TokenLocation::Query("access_token".into());
        let mut req = request("/mcp?x=1&access_token=tok&y=2", &[]);
        assert_eq!(location.take(&mut req), Ok(Some("tok".into())));
        assert_eq!(req.uri().to_string(), "/mcp?x=1&y=2");
        let mut only = request("/mcp?access_token=tok", &[]);
        assert_eq!(location.take(&mut only), Ok(Some("tok".into())));
        assert_eq!(only.uri().to_string(), "/mcp");
        let mut none = request("/mcp?x=1", &[]);
        assert_eq!(location.take(&mut none), Ok(None));
    }

    #[test]
    fn cookie_is_taken_and_others_kept() {
        let location = TokenLocation::Cookie("session".into());
        let mut req = request("/", &[("cookie", "a=1; session=tok; b=2")]);
        assert_eq!(location.take(&mut req), Ok(Some("tok".into())));
        assert_eq!(req.headers()["cookie"], "a=1; b=2");
    }

    #[test]
    fn custom_header_with_prefix() {
        let location = TokenLocation::Header {
            name: HeaderName::from_static("x-token"),
            prefix: Some("Token ".into()),
        };
        let mut req = request("/", &[("x-token", "Token t1")]);
        assert_eq!(location.take(&mut req), Ok(Some("t1".into())));
    }
}
