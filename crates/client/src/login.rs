//! The OpenID Connect side of `palisade login`: the server's login providers,
//! the identity provider's discovery document, the OAuth 2.0 device
//! authorization grant (RFC 8628), the claims of the ID token it yields, and
//! the cached credentials file.
//!
//! Polling waits through a [`Clock`], so tests run the whole grant, intervals
//! and deadlines included, without sleeping.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{Method, Request};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::{BoxFuture, Transport};
use crate::config::{API_VERSION, KIND};

/// The OAuth grant type of device-code token requests (RFC 8628 section 3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Seconds between polls when the identity provider names no interval (RFC 8628 section 3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What `slow_down` adds to the interval (RFC 8628 section 3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The code's lifetime when the identity provider does not say (`expires_in` is required).
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(600);
/// Largest JSON answer read from an identity provider.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// Monotonic time and waiting, for polling.
pub trait Clock: Send + Sync {
    /// Time since a fixed origin.
    fn elapsed(&self) -> Duration;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// The real clock: [`Instant`] and tokio's timer.
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// One `OIDCProvider` as `GET /login/providers` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginProvider {
    /// The resource's name (user names are `<name>:<email or sub>`).
    pub name: String,
    /// The issuer URL.
    pub issuer: String,
    /// The OAuth client id to sign in as.
    pub client_id: String,
    /// Requested scopes; empty means the API's default.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl LoginProvider {
    /// The scopes to request: the provider's, or [`palisade_api::kinds::palisade::DEFAULT_SCOPES`]
    /// when it names none; `openid` first when missing (without it there is no ID token).
    pub fn request_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = if self.scopes.is_empty() {
            palisade_api::kinds::palisade::DEFAULT_SCOPES
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            self.scopes.clone()
        };
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        scopes
    }
}

/// Reads the answer of `GET /login/providers`.
pub fn parse_providers(answer: &Value) -> Result<Vec<LoginProvider>, String> {
    let list = answer
        .get("providers")
        .ok_or_else(|| format!("expected {{\"providers\": [...]}}, got {answer}"))?;
    serde_json::from_value(list.clone())
        .map_err(|e| format!("the providers list is not what palisade login understands: {e}"))
}

/// `name (issuer)` of each provider, for messages.
fn listing(providers: &[LoginProvider]) -> String {
    providers
        .iter()
        .map(|p| format!("{} ({})", p.name, p.issuer))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The provider to sign in with: `wanted`, else the only one.
pub fn pick_provider(
    providers: Vec<LoginProvider>,
    wanted: Option<&str>,
    server: &str,
) -> Result<LoginProvider, String> {
    if providers.is_empty() {
        return Err(format!(
            "the server {server} has no OIDCProvider configured, so there is no identity provider to log in with; \
             ask its administrator to add one (kind: OIDCProvider, apiVersion: palisade.dev/v1alpha1), \
             or use a token instead (--token, or a ClientConfig file)"
        ));
    }
    match wanted {
        Some(name) => {
            let names = listing(&providers);
            providers
                .into_iter()
                .find(|p| p.name == name)
                .ok_or_else(|| {
                    format!(
                        "the server {server} has no OIDCProvider named {name:?}; it has: {names}"
                    )
                })
        }
        None if providers.len() == 1 => Ok(providers.into_iter().next().expect("one provider")),
        None => Err(format!(
            "the server {server} has several OIDCProviders: {}; choose one with --provider NAME",
            listing(&providers)
        )),
    }
}

/// Checks that an identity provider URL is HTTPS, or plain HTTP on a
/// loopback address (a local test IdP).
pub fn check_idp_url(url: &str, what: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("the {what} {url:?} is not a URL ({e})"))?;
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("the {what} {url:?} has no host"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(host) => Ok(uri),
        Some("http") => Err(format!(
            "refusing the {what} {url}: it is plain http on a host that is not a loopback address, \
             so the sign-in and its tokens could be read or changed in transit; use an https issuer"
        )),
        _ => Err(format!("the {what} {url:?} is not an http(s) URL")),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The identity provider's endpoints, from its discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `device_authorization_endpoint`.
    pub device_authorization: String,
    /// `token_endpoint`.
    pub token: String,
}

/// An answer of the identity provider: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

/// Sends one request to the identity provider and reads its JSON answer.
async fn exchange(
    transport: &dyn Transport,
    method: Method,
    url: &str,
    form: Option<&[(&str, &str)]>,
) -> Result<Answer, String> {
    let mut builder = Request::builder()
        .method(method)
        .uri(url)
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, concat!("palisade/", env!("CARGO_PKG_VERSION")));
    let body = match form {
        Some(fields) => {
            builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
            form_encode(fields).into_bytes()
        }
        None => Vec::new(),
    };
    let request = builder
        .body(body)
        .map_err(|e| format!("cannot build a request for {url}: {e}"))?;
    let response = transport
        .send(request)
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    let bytes = response.into_body();
    if bytes.len() > MAX_DOCUMENT {
        return Err(format!("{url} answered more than {MAX_DOCUMENT} bytes"));
    }
    let body = serde_json::from_slice(&bytes).map_err(|_| {
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        let shown: String = text.chars().take(200).collect();
        format!("{url} answered HTTP {status} with something that is not JSON: {shown:?}")
    })?;
    Ok(Answer { status, body })
}

/// `application/x-www-form-urlencoded`.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(k, &mut out);
        out.push('=');
        encode(v, &mut out);
    }
    out
}

/// An OAuth error answer's `error (error_description)`.
fn oauth_error(body: &Value) -> Option<(String, String)> {
    let error = body.get("error")?.as_str()?.to_string();
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Some((error, description))
}

fn describe(error: &str, description: &str) -> String {
    if description.is_empty() {
        error.to_string()
    } else {
        format!("{error}: {description}")
    }
}

/// Reads `<issuer>/.well-known/openid-configuration` and checks what it says.
pub async fn discover(transport: &dyn Transport, issuer: &str) -> Result<Endpoints, String> {
    check_idp_url(issuer, "issuer")?;
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let answer = exchange(transport, Method::GET, &url, None).await?;
    if answer.status != 200 {
        return Err(format!(
            "OIDC discovery at {url} answered HTTP {}; is {issuer} the identity provider's issuer URL?",
            answer.status
        ));
    }
    let doc = &answer.body;
    let field = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let named = field("issuer").unwrap_or_default();
    if named.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "the discovery document at {url} names the issuer {named:?}, not {issuer:?}; \
             the OIDCProvider's issuer must be the identity provider's issuer exactly"
        ));
    }
    let device_authorization = field("device_authorization_endpoint").ok_or_else(|| {
        format!(
            "the identity provider {issuer} does not offer the device authorization grant \
             (its discovery document has no device_authorization_endpoint); enable the device flow \
             (grant type {DEVICE_CODE_GRANT}) there"
        )
    })?;
    let token = field("token_endpoint")
        .ok_or_else(|| format!("the discovery document at {url} has no token_endpoint"))?;
    check_idp_url(&device_authorization, "device authorization endpoint")?;
    check_idp_url(&token, "token endpoint")?;
    Ok(Endpoints {
        device_authorization,
        token,
    })
}

/// The device authorization answer (RFC 8628 section 3.2). Its `Debug`
/// output leaves the device code out.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct DeviceAuthorization {
    /// The code the client polls with (a secret).
    pub device_code: String,
    /// The code the user enters.
    pub user_code: String,
    /// Where the user enters it (`verification_url` in some providers).
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// The same with the code filled in, when offered.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// The codes' lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Seconds between polls.
    #[serde(default)]
    pub interval: Option<u64>,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"<redacted>")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

impl DeviceAuthorization {
    /// The page to open: the complete URI when offered.
    pub fn open_uri(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(&self.verification_uri)
    }

    /// What the user is told (kubectl oidc-login's wording).
    pub fn instructions(&self) -> String {
        format!(
            "To sign in, open {} and enter the code {}",
            self.open_uri(),
            self.user_code
        )
    }
}

/// Asks for a device code (RFC 8628 section 3.1).
pub async fn authorize_device(
    transport: &dyn Transport,
    endpoints: &Endpoints,
    client_id: &str,
    scopes: &[String],
) -> Result<DeviceAuthorization, String> {
    let scope = scopes.join(" ");
    let url = &endpoints.device_authorization;
    let answer = exchange(
        transport,
        Method::POST,
        url,
        Some(&[("client_id", client_id), ("scope", &scope)]),
    )
    .await?;
    if answer.status != 200 {
        let why = match oauth_error(&answer.body) {
            Some((e, d)) => describe(&e, &d),
            None => format!("HTTP {}", answer.status),
        };
        return Err(format!(
            "the identity provider refused to start a device sign-in for client {client_id:?} ({why}); \
             the client must be a public client allowed the grant type {DEVICE_CODE_GRANT} and the scopes {scope:?}"
        ));
    }
    let auth: DeviceAuthorization = serde_json::from_value(answer.body).map_err(|e| {
        format!("the device authorization answer of {url} is not what RFC 8628 describes: {e}")
    })?;
    if auth.device_code.is_empty() || auth.user_code.is_empty() {
        return Err(format!(
            "the device authorization answer of {url} has an empty device_code or user_code"
        ));
    }
    Ok(auth)
}

/// Polls the token endpoint until the user has signed in (RFC 8628 section
/// 3.4, 3.5), waiting `interval` (default 5 s, 5 s more after each
/// `slow_down`) before each request, until the code expires. Returns the token
/// answer.
pub async fn poll_token(
    transport: &dyn Transport,
    clock: &dyn Clock,
    token_endpoint: &str,
    client_id: &str,
    auth: &DeviceAuthorization,
) -> Result<Value, String> {
    let lifetime = auth
        .expires_in
        .filter(|s| *s > 0)
        .map_or(DEFAULT_EXPIRY, Duration::from_secs);
    let deadline = clock.elapsed() + lifetime;
    let mut interval = auth
        .interval
        .map_or(DEFAULT_INTERVAL, Duration::from_secs)
        .max(Duration::from_secs(1));
    let expired = || {
        format!(
            "the code {} expired before the sign-in was completed (it was valid for {}); run palisade login again",
            auth.user_code,
            crate::time::human_age(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX))
        )
    };
    loop {
        clock.sleep(interval).await;
        if clock.elapsed() >= deadline {
            return Err(expired());
        }
        let answer = exchange(
            transport,
            Method::POST,
            token_endpoint,
            Some(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("device_code", &auth.device_code),
                ("client_id", client_id),
            ]),
        )
        .await?;
        if answer.status == 200 {
            return Ok(answer.body);
        }
        let Some((error, description)) = oauth_error(&answer.body) else {
            return Err(format!(
                "the token endpoint {token_endpoint} answered HTTP {} without an OAuth error: {}",
                answer.status, answer.body
            ));
        };
        match error.as_str() {
            "authorization_pending" => {}
            "slow_down" => interval += SLOW_DOWN_STEP,
            "expired_token" => return Err(expired()),
            "access_denied" => {
                return Err(format!(
                    "the sign-in was denied ({}); nothing was cached",
                    describe(&error, &description)
                ));
            }
            _ => {
                return Err(format!(
                    "the identity provider refused the sign-in ({})",
                    describe(&error, &description)
                ));
            }
        }
    }
}

/// The payload of a JWT (`header.payload.signature`), unverified: the
/// server verifies tokens; the client only reads who they name.
pub fn jwt_claims(token: &str) -> Result<Map<String, Value>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = parts.as_slice() else {
        return Err(format!(
            "it is not a JWT (expected 3 dot-separated parts, found {})",
            parts.len()
        ));
    };
    let decode = |part: &str, what: &str| -> Result<Map<String, Value>, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| format!("its {what} is not base64url"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(format!("its {what} is not a JSON object")),
        }
    };
    decode(header, "header")?;
    decode(payload, "payload")
}

/// Who a token names: its `email`, else its `sub`.
pub fn who(claims: &Map<String, Value>) -> String {
    ["email", "sub"]
        .iter()
        .find_map(|k| {
            claims
                .get(*k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("an unnamed user")
        .to_string()
}

/// Whether `claims` are of an ID token of `provider` valid for at least
/// `margin` more seconds after `now` (Unix seconds); `Some(exp)` if so.
pub fn still_valid(
    claims: &Map<String, Value>,
    provider: &LoginProvider,
    now: i64,
    margin: i64,
) -> Option<i64> {
    let iss = claims.get("iss")?.as_str()?;
    if iss.trim_end_matches('/') != provider.issuer.trim_end_matches('/') {
        return None;
    }
    let for_client = match claims.get("aud")? {
        Value::String(a) => a == &provider.client_id,
        Value::Array(list) => list.iter().any(|a| a == provider.client_id.as_str()),
        _ => false,
    };
    let exp = claims.get("exp")?.as_i64()?;
    (for_client && exp > now.saturating_add(margin)).then_some(exp)
}

/// The text of a client configuration file.
pub fn render_config(server: &str, token: &str) -> String {
    let quote = |s: &str| Value::String(s.to_string()).to_string();
    format!(
        "# Written by `palisade login`.\napiVersion: {API_VERSION}\nkind: {KIND}\nserver: {}\ntoken: {}\n",
        quote(server),
        quote(token)
    )
}

/// Writes `text` to `path` atomically (a temporary file beside it, then a
/// rename), readable by the owner only (0600), creating its directory (0700).
pub fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.yaml".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// A clock whose sleeps only move its time on, and are recorded (tests).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct FakeClock {
    pub now: std::sync::Mutex<Duration>,
    pub sleeps: std::sync::Mutex<Vec<Duration>>,
}

#[cfg(test)]
impl Clock for FakeClock {
    fn elapsed(&self) -> Duration {
        *self.now.lock().unwrap()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        *self.now.lock().unwrap() += duration;
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Response;
    use serde_json::json;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// Answers each request with the next scripted (status, body); records bodies.
    #[derive(Default)]
    struct Script {
        answers: Mutex<VecDeque<(u16, Value)>>,
        seen: Mutex<Vec<String>>,
    }

    impl Script {
        fn new(answers: Vec<(u16, Value)>) -> Script {
            Script {
                answers: Mutex::new(answers.into()),
                seen: Mutex::default(),
            }
        }
    }

    impl Transport for Script {
        fn send(
            &self,
            request: Request<Vec<u8>>,
        ) -> BoxFuture<'_, Result<Response<Vec<u8>>, String>> {
            self.seen.lock().unwrap().push(format!(
                "{} {} {}",
                request.method(),
                request.uri(),
                String::from_utf8_lossy(request.body())
            ));
            let next = self.answers.lock().unwrap().pop_front();
            Box::pin(async move {
                let (status, body) = next.ok_or("no more answers")?;
                Ok(Response::builder()
                    .status(status)
                    .body(serde_json::to_vec(&body).unwrap())
                    .unwrap())
            })
        }
    }

    fn auth(interval: Option<u64>, expires_in: Option<u64>) -> DeviceAuthorization {
        DeviceAuthorization {
            device_code: "dev-secret".into(),
            user_code: "ABCD-EFGH".into(),
            verification_uri: "http://127.0.0.1:1/device".into(),
            verification_uri_complete: None,
            expires_in,
            interval,
        }
    }

    fn pending() -> (u16, Value) {
        (400, json!({"error": "authorization_pending"}))
    }

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    async fn poll(
        script: &Script,
        clock: &FakeClock,
        a: &DeviceAuthorization,
    ) -> Result<Value, String> {
        poll_token(script, clock, "http://127.0.0.1:1/token", "cli", a).await
    }

    #[tokio::test]
    async fn polling_honours_interval_pending_and_slow_down() {
        let script = Script::new(vec![
            pending(),
            (400, json!({"error": "slow_down"})),
            pending(),
            (400, json!({"error": "slow_down"})),
            (200, json!({"id_token": "a.b.c"})),
        ]);
        let clock = FakeClock::default();
        let answer = poll(&script, &clock, &auth(Some(2), Some(600)))
            .await
            .unwrap();
        assert_eq!(answer["id_token"], "a.b.c");
        assert_eq!(*clock.sleeps.lock().unwrap(), secs(&[2, 2, 7, 7, 12]));
        let seen = script.seen.lock().unwrap();
        assert_eq!(seen.len(), 5);
        assert_eq!(
            seen[0],
            "POST http://127.0.0.1:1/token grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dev-secret&client_id=cli"
        );
    }

    #[tokio::test]
    async fn polling_defaults_to_five_seconds_and_stops_at_the_deadline() {
        let script = Script::new((0..100).map(|_| pending()).collect());
        let clock = FakeClock::default();
        let e = poll(&script, &clock, &auth(None, Some(30)))
            .await
            .unwrap_err();
        assert!(e.contains("the code ABCD-EFGH expired"), "{e}");
        assert!(e.contains("run palisade login again"), "{e}");
        // Polls at 5, 10, 15, 20, 25 s; at 30 s the code is dead.
        assert_eq!(script.seen.lock().unwrap().len(), 5);
        assert_eq!(*clock.sleeps.lock().unwrap(), secs(&[5; 6]));
        assert!(!e.contains("dev-secret"));

        // An interval of 0 is taken as 1 s, not a busy loop.
        let script = Script::new((0..100).map(|_| pending()).collect());
        let clock = FakeClock::default();
        poll(&script, &clock, &auth(Some(0), Some(3)))
            .await
            .unwrap_err();
        assert_eq!(*clock.sleeps.lock().unwrap(), secs(&[1, 1, 1]));
    }

    #[tokio::test]
    async fn polling_stops_on_final_errors() {
        for (answer, expected) in [
            (
                json!({"error": "expired_token"}),
                "the code ABCD-EFGH expired before the sign-in was completed",
            ),
            (
                json!({"error": "access_denied", "error_description": "End-User aborted interaction"}),
                "the sign-in was denied (access_denied: End-User aborted interaction); nothing was cached",
            ),
            (
                json!({"error": "invalid_grant", "error_description": "grant request is invalid"}),
                "the identity provider refused the sign-in (invalid_grant: grant request is invalid)",
            ),
        ] {
            let script = Script::new(vec![pending(), (400, answer)]);
            let clock = FakeClock::default();
            let e = poll(&script, &clock, &auth(Some(1), None))
                .await
                .unwrap_err();
            assert!(e.contains(expected), "{e}");
        }
        let script = Script::new(vec![(502, json!("bad gateway"))]);
        let e = poll(&script, &FakeClock::default(), &auth(Some(1), None))
            .await
            .unwrap_err();
        assert!(e.contains("answered HTTP 502"), "{e}");
        let script = Script::new(vec![]);
        let e = poll(&script, &FakeClock::default(), &auth(Some(1), None))
            .await
            .unwrap_err();
        assert!(e.contains("cannot reach http://127.0.0.1:1/token"), "{e}");
    }

    #[tokio::test]
    async fn discovery_checks_issuer_and_endpoints() {
        let doc = |issuer: &str, device: Option<&str>| {
            let mut d = json!({"issuer": issuer, "token_endpoint": "https://idp.test/token"});
            if let Some(device) = device {
                d["device_authorization_endpoint"] = device.into();
            }
            d
        };
        let script = Script::new(vec![(
            200,
            doc("https://idp.test/", Some("https://idp.test/device")),
        )]);
        let e = discover(&script, "https://idp.test/").await.unwrap();
        assert_eq!(e.device_authorization, "https://idp.test/device");
        assert_eq!(
            script.seen.lock().unwrap()[0],
            "GET https://idp.test/.well-known/openid-configuration "
        );
        let script = Script::new(vec![(200, doc("https://other.test", Some("https://x/d")))]);
        let e = discover(&script, "https://idp.test").await.unwrap_err();
        assert!(e.contains("names the issuer \"https://other.test\""), "{e}");
        let script = Script::new(vec![(200, doc("https://idp.test", None))]);
        let e = discover(&script, "https://idp.test").await.unwrap_err();
        assert!(
            e.contains("does not offer the device authorization grant"),
            "{e}"
        );
        let script = Script::new(vec![(
            200,
            doc("https://idp.test", Some("http://idp.test/device")),
        )]);
        let e = discover(&script, "https://idp.test").await.unwrap_err();
        assert!(
            e.contains("refusing the device authorization endpoint"),
            "{e}"
        );
        let script = Script::new(vec![(404, json!({}))]);
        let e = discover(&script, "https://idp.test").await.unwrap_err();
        assert!(e.contains("answered HTTP 404"), "{e}");
        // Plain http is refused before anything is sent, except on loopback.
        let script = Script::new(vec![]);
        let e = discover(&script, "http://idp.example.com")
            .await
            .unwrap_err();
        assert!(e.contains("not a loopback address"), "{e}");
        assert!(script.seen.lock().unwrap().is_empty());
        for ok in [
            "http://127.0.0.1:5556/dex",
            "http://localhost:8080",
            "http://[::1]:1",
            "https://idp.example.com",
        ] {
            check_idp_url(ok, "issuer").unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["ftp://x", "idp.example.com", "http://10.0.0.1/"] {
            assert!(check_idp_url(bad, "issuer").is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn device_authorization_requests_the_scopes() {
        let endpoints = Endpoints {
            device_authorization: "http://127.0.0.1:1/device/auth".into(),
            token: "http://127.0.0.1:1/token".into(),
        };
        let script = Script::new(vec![(
            200,
            json!({"device_code": "d", "user_code": "U-1", "verification_url": "http://127.0.0.1:1/device", "expires_in": 60}),
        )]);
        let scopes = vec!["openid".to_string(), "groups".to_string()];
        let a = authorize_device(&script, &endpoints, "palisade-cli", &scopes)
            .await
            .unwrap();
        assert_eq!(
            a.instructions(),
            "To sign in, open http://127.0.0.1:1/device and enter the code U-1"
        );
        assert!(!format!("{a:?}").contains("\"d\""));
        assert_eq!(
            script.seen.lock().unwrap()[0],
            "POST http://127.0.0.1:1/device/auth client_id=palisade-cli&scope=openid%20groups"
        );
        let script = Script::new(vec![(
            400,
            json!({"error": "unauthorized_client", "error_description": "no device flow"}),
        )]);
        let e = authorize_device(&script, &endpoints, "palisade-cli", &scopes)
            .await
            .unwrap_err();
        assert!(e.contains("unauthorized_client: no device flow"), "{e}");
    }

    #[test]
    fn providers_are_picked_and_scopes_defaulted() {
        let p = |name: &str, scopes: &[&str]| LoginProvider {
            name: name.into(),
            issuer: format!("https://{name}.test"),
            client_id: "cli".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        let parsed = parse_providers(&json!({"providers": [
            {"name": "corp", "issuer": "https://corp.test", "clientId": "cli", "scopes": []}
        ]}))
        .unwrap();
        assert_eq!(parsed, [p("corp", &[])]);
        assert_eq!(
            p("corp", &[]).request_scopes(),
            ["openid", "profile", "email", "groups"]
        );
        assert_eq!(p("corp", &["email"]).request_scopes(), ["openid", "email"]);
        assert!(parse_providers(&json!({"items": []})).is_err());

        let e = pick_provider(vec![], None, "http://s:1").unwrap_err();
        assert!(e.contains("has no OIDCProvider configured"), "{e}");
        let one = pick_provider(vec![p("corp", &[])], None, "http://s:1").unwrap();
        assert_eq!(one.name, "corp");
        let two = || vec![p("corp", &[]), p("partners", &[])];
        let e = pick_provider(two(), None, "http://s:1").unwrap_err();
        assert_eq!(
            e,
            "the server http://s:1 has several OIDCProviders: corp (https://corp.test), partners (https://partners.test); choose one with --provider NAME"
        );
        assert_eq!(
            pick_provider(two(), Some("partners"), "http://s:1")
                .unwrap()
                .name,
            "partners"
        );
        let e = pick_provider(two(), Some("nope"), "http://s:1").unwrap_err();
        assert!(
            e.contains("no OIDCProvider named \"nope\"; it has: corp"),
            "{e}"
        );
    }

    fn jwt(payload: &Value) -> String {
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
        };
        format!("{}.{}.c2ln", b64(&json!({"alg": "RS256"})), b64(payload))
    }

    #[test]
    fn tokens_are_read_not_verified() {
        let claims =
            jwt_claims(&jwt(&json!({"sub": "rita", "email": "rita@example.com"}))).unwrap();
        assert_eq!(who(&claims), "rita@example.com");
        let claims = jwt_claims(&jwt(&json!({"sub": "bare"}))).unwrap();
        assert_eq!(who(&claims), "bare");
        assert!(jwt_claims("opaque-access-token").is_err());
        assert!(jwt_claims("a.b.c").unwrap_err().contains("not base64url"));
        let e = jwt_claims(&format!("e30.{}.x", "bm90IGpzb24")).unwrap_err();
        assert!(e.contains("payload is not a JSON object"), "{e}");

        let provider = LoginProvider {
            name: "corp".into(),
            issuer: "http://127.0.0.1:1".into(),
            client_id: "cli".into(),
            scopes: vec![],
        };
        let valid =
            |payload: Value| still_valid(&jwt_claims(&jwt(&payload)).unwrap(), &provider, 1000, 60);
        assert_eq!(
            valid(json!({"iss": "http://127.0.0.1:1/", "aud": "cli", "exp": 2000})),
            Some(2000)
        );
        assert_eq!(
            valid(json!({"iss": "http://127.0.0.1:1", "aud": ["x", "cli"], "exp": 2000})),
            Some(2000)
        );
        assert_eq!(
            valid(json!({"iss": "http://127.0.0.1:1", "aud": "cli", "exp": 1030})),
            None
        );
        assert_eq!(
            valid(json!({"iss": "http://127.0.0.1:1", "aud": "other", "exp": 2000})),
            None
        );
        assert_eq!(
            valid(json!({"iss": "http://127.0.0.1:2", "aud": "cli", "exp": 2000})),
            None
        );
    }

    #[test]
    fn credentials_are_written_privately_and_read_back() {
        let dir = std::env::temp_dir().join(format!("palisade-login-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("xdg/palisade/config.yaml");
        let token = jwt(&json!({"sub": "rita"}));
        write_private(&path, &render_config("http://127.0.0.1:15000", &token)).unwrap();
        let (server, read) =
            crate::config::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(server, "http://127.0.0.1:15000");
        assert_eq!(read.as_deref(), Some(token.as_str()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            // Rewriting replaces the file (and a looser mode) atomically.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            write_private(&path, &render_config("http://127.0.0.1:15001", "t")).unwrap();
            assert_eq!(mode(&path), 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config.yaml"], "no temporary file is left");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_encode(&[("a b", "x&y=z/ü"), ("k", "")]),
            "a%20b=x%26y%3Dz%2F%C3%BC&k="
        );
    }
}
