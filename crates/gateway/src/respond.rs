//! Responses the gateway generates itself: short JSON error bodies with the right status.

use http::{HeaderValue, Response, StatusCode, header};

use crate::body::{self, Body};

/// A JSON error response: `{"error": code, "message": message}`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let payload = serde_json::json!({ "error": code, "message": message });
    let mut response = Response::new(body::full(payload.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 404: no route matched.
pub fn no_route(method: &http::Method, path: &str) -> Response<Body> {
    error(
        StatusCode::NOT_FOUND,
        "route_not_found",
        &format!("no route matches {method} {}", truncate(path, 200)),
    )
}

/// 502: the upstream could not be reached or broke the exchange.
pub fn bad_gateway(detail: &str) -> Response<Body> {
    error(StatusCode::BAD_GATEWAY, "upstream_unavailable", detail)
}

/// 503: the route has no usable backend.
pub fn no_backend(detail: &str) -> Response<Body> {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_healthy_backend",
        detail,
    )
}

/// 504: the upstream did not answer in time.
pub fn timeout(detail: &str) -> Response<Body> {
    error(StatusCode::GATEWAY_TIMEOUT, "upstream_timeout", detail)
}

/// 403: an authorization rule refused the request.
pub fn forbidden(detail: &str) -> Response<Body> {
    error(StatusCode::FORBIDDEN, "forbidden", detail)
}

/// 429: a rate limit refused the request; `Retry-After` says when to retry.
pub fn too_many_requests(retry_after_secs: u64, policy: &str) -> Response<Body> {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("rate limit of {policy} exceeded; retry in {retry_after_secs} s"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// 401 (or 503 when keys are unavailable) for a JWT refusal, with an RFC 6750
/// `WWW-Authenticate` challenge.
pub fn unauthorized(
    refusal: &crate::jwt::Refusal,
    resource_metadata: Option<&str>,
    scope: Option<&str>,
) -> Response<Body> {
    let code = if refusal.status == StatusCode::UNAUTHORIZED {
        "unauthorized"
    } else {
        "authentication_unavailable"
    };
    let mut response = error(refusal.status, code, &refusal.description);
    if refusal.status == StatusCode::UNAUTHORIZED {
        let mut challenge = "Bearer realm=\"palisade\"".to_string();
        if let Some(url) = resource_metadata {
            challenge.push_str(&format!(", resource_metadata=\"{url}\""));
        }
        if let Some(scope) = scope.filter(|s| !s.is_empty()) {
            challenge.push_str(&format!(", scope=\"{scope}\""));
        }
        if let Some(error) = refusal.error {
            challenge.push_str(&format!(
                ", error=\"{error}\", error_description=\"{}\"",
                refusal.description.replace(['"', '\\'], "'")
            ));
        }
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// A plain-text response (admin endpoints).
pub fn text(
    status: StatusCode,
    content_type: &'static str,
    text: impl Into<bytes::Bytes>,
) -> Response<Body> {
    let mut response = Response::new(body::full(text.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
