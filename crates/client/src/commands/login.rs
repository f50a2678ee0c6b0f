//! `login [--provider NAME] [--no-cache]`: signs a person in through the
//! server's OIDC identity provider with the device authorization grant
//! (RFC 8628) and caches the ID token as the user's client configuration,
//! which the other commands then use as their bearer token.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::Context;
use crate::cli::LoginArgs;
use crate::client::{
    ApiClient, ClientError, Impersonation, SharedTransport, Transport, WebTransport,
};
use crate::config::{CONFIG_ENV, ClientConfig, ConfigError, Origin, load_file, user_config_path};
use crate::login::{
    Clock, LoginProvider, authorize_device, discover, jwt_claims, parse_providers, pick_provider,
    poll_token, render_config, still_valid, who, write_private,
};

/// Cached credentials are reused only when valid this much longer (seconds).
const REUSE_MARGIN: i64 = 60;

pub(crate) async fn login(ctx: &mut Context<'_>, args: &LoginArgs, clock: &dyn Clock) -> i32 {
    match sign_in(ctx, args, clock).await {
        Ok(()) => 0,
        Err(e) => ctx.fail(e),
    }
}

async fn sign_in(ctx: &mut Context<'_>, args: &LoginArgs, clock: &dyn Clock) -> Result<(), String> {
    let path = user_config_path(ctx.env).ok_or(
        "cannot tell where to cache the credentials: neither $XDG_CONFIG_HOME nor $HOME is set",
    )?;
    let (server, origin) = server(ctx)?;
    let transport: Arc<dyn Transport> = match ctx.transport.take() {
        Some(t) => Arc::from(t),
        None => Arc::new(WebTransport::default()),
    };
    let config = ClientConfig {
        server,
        token: None,
        origin,
    };
    let api = ApiClient::with_transport(
        &config,
        Impersonation::default(),
        Box::new(SharedTransport(transport.clone())),
    )
    .map_err(|e| plain(&e))?;
    let server = api.server().to_string();
    let answer = api.get("/login/providers").await.map_err(|e| match e {
        ClientError::Status(s) if s.is_not_found() => format!(
            "the server {server} does not list login providers (GET /login/providers answered 404); \
             it may be a Palisade too old for palisade login"
        ),
        e => plain(&e),
    })?;
    let providers =
        parse_providers(&answer).map_err(|e| format!("{server}/login/providers: {e}"))?;
    let provider = pick_provider(providers, args.provider.as_deref(), &server)?;

    if !args.no_cache
        && let Some(note) = cached(ctx, &path, &server, &provider)
    {
        ctx.warn(note);
        warn_env(ctx, &path);
        return Ok(());
    }

    let name = &provider.name;
    let endpoints = discover(&*transport, &provider.issuer)
        .await
        .map_err(|e| format!("OIDCProvider {name}: {e}"))?;
    let scopes = provider.request_scopes();
    let auth = authorize_device(&*transport, &endpoints, &provider.client_id, &scopes)
        .await
        .map_err(|e| format!("OIDCProvider {name}: {e}"))?;
    ctx.warn(auth.instructions());
    let _ = ctx.err.flush();
    let answer = poll_token(
        &*transport,
        clock,
        &endpoints.token,
        &provider.client_id,
        &auth,
    )
    .await
    .map_err(|e| format!("OIDCProvider {name}: {e}"))?;
    let id_token = answer
        .get("id_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            format!(
                "OIDCProvider {name}: the identity provider signed you in but returned no ID token \
                 (requested scopes: {}); Palisade takes ID tokens, so the client must be allowed the openid scope",
                scopes.join(" ")
            )
        })?;
    let claims = jwt_claims(id_token)
        .map_err(|e| format!("OIDCProvider {name}: the ID token cannot be used: {e}"))?;
    write_private(&path, &render_config(&server, id_token))?;
    ctx.warn(format_args!(
        "Logged in to {server} as {} (OIDCProvider {name}); credentials cached in {}",
        who(&claims),
        path.display()
    ));
    warn_env(ctx, &path);
    Ok(())
}

/// A client error's text without kubectl's `error: ` prefix (`fail` adds it).
fn plain(e: &ClientError) -> String {
    let text = e.to_string();
    text.strip_prefix("error: ").unwrap_or(&text).to_string()
}

/// The server to sign in to: `--server`, else the configured one.
fn server(ctx: &Context<'_>) -> Result<(String, Origin), String> {
    if let Some(server) = &ctx.globals.server {
        return Ok((server.clone(), Origin::Flags));
    }
    match crate::config::discover(None, None, ctx.env) {
        Ok(config) => Ok((config.server, config.origin)),
        Err(ConfigError::NotFound { .. }) => Err(
            "no server to log in to: pass --server URL (the admin address of palisade run, e.g. http://127.0.0.1:15000)"
                .into(),
        ),
        Err(e) => Err(e.to_string()),
    }
}

/// The note to print when `path` already holds an ID token of `provider`
/// for `server` that stays valid a while.
fn cached(
    ctx: &Context<'_>,
    path: &Path,
    server: &str,
    provider: &LoginProvider,
) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let config = load_file(path, "user config").ok()?;
    if config.server.trim().trim_end_matches('/') != server {
        return None;
    }
    let claims = jwt_claims(config.token.as_deref()?).ok()?;
    let exp = still_valid(&claims, provider, ctx.now, REUSE_MARGIN)?;
    Some(format!(
        "Already logged in to {server} as {} (OIDCProvider {}) until {}; credentials cached in {}. \
         Run palisade login --no-cache to sign in again.",
        who(&claims),
        provider.name,
        crate::time::format_rfc3339(exp),
        path.display()
    ))
}

/// Warns when `PALISADE_CONFIG` will hide the cached credentials.
fn warn_env(ctx: &mut Context<'_>, path: &Path) {
    if let Some(named) = ctx.env.var(CONFIG_ENV) {
        let named = named.to_string();
        ctx.warn(format_args!(
            "Warning: {CONFIG_ENV} is set ({named}) and takes precedence over {}: other palisade commands \
             keep using {named} until you unset {CONFIG_ENV}",
            path.display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, VecDeque};
    use std::path::PathBuf;
    use std::sync::Mutex;
    use std::time::Duration;

    use base64::Engine;
    use http::{Request, Response};
    use serde_json::json;

    use super::*;
    use crate::cli::GlobalArgs;
    use crate::client::BoxFuture;
    use crate::config::Environment;
    use crate::login::FakeClock;

    const SERVER: &str = "http://127.0.0.1:15000";
    const ISSUER: &str = "http://127.0.0.1:9999";
    const NOW: i64 = 1_700_000_000;

    /// The server's /login/providers and an identity provider.
    struct Fake {
        providers: Value,
        tokens: Mutex<VecDeque<(u16, Value)>>,
        log: Mutex<Vec<String>>,
    }

    impl Fake {
        fn new(providers: Value, tokens: Vec<(u16, Value)>) -> Arc<Fake> {
            Arc::new(Fake {
                providers,
                tokens: Mutex::new(tokens.into()),
                log: Mutex::default(),
            })
        }

        fn answer(&self, method: &str, url: &str) -> (u16, Value) {
            match (method, url.strip_prefix(ISSUER).unwrap_or(url)) {
                ("GET", u) if u == format!("{SERVER}/login/providers") => {
                    (200, self.providers.clone())
                }
                ("GET", "/.well-known/openid-configuration") => (
                    200,
                    json!({"issuer": ISSUER, "token_endpoint": format!("{ISSUER}/token"),
                        "device_authorization_endpoint": format!("{ISSUER}/device/auth")}),
                ),
                ("POST", "/device/auth") => (
                    200,
                    json!({"device_code": "device-secret", "user_code": "WXYZ-1234",
                        "verification_uri": format!("{ISSUER}/device"),
                        "verification_uri_complete": format!("{ISSUER}/device?user_code=WXYZ-1234"),
                        "expires_in": 600, "interval": 2}),
                ),
                ("POST", "/token") => self
                    .tokens
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or((400, json!({"error": "authorization_pending"}))),
                _ => (404, json!({})),
            }
        }
    }

    struct Handle(Arc<Fake>);

    impl Transport for Handle {
        fn send(
            &self,
            request: Request<Vec<u8>>,
        ) -> BoxFuture<'_, Result<Response<Vec<u8>>, String>> {
            let method = request.method().to_string();
            let url = request.uri().to_string();
            self.0.log.lock().unwrap().push(format!(
                "{method} {url} {}",
                String::from_utf8_lossy(request.body())
            ));
            let (status, body) = self.0.answer(&method, &url);
            Box::pin(async move {
                Ok(Response::builder()
                    .status(status)
                    .body(serde_json::to_vec(&body).unwrap())
                    .unwrap())
            })
        }
    }

    fn providers(names: &[&str]) -> Value {
        let list: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "issuer": ISSUER, "clientId": "palisade-cli", "scopes": []}))
            .collect();
        json!({ "providers": list })
    }

    fn id_token(sub: &str, email: &str, exp: i64) -> String {
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
        };
        let payload = json!({"iss": ISSUER, "aud": "palisade-cli", "sub": sub, "email": email,
            "exp": exp, "groups": ["readers"]});
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(&json!({"alg": "RS256", "kid": "k"})),
            b64(&payload)
        )
    }

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "palisade-client-login-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn env(&self, extra: &[(&str, &str)]) -> Environment {
            let mut vars = BTreeMap::new();
            vars.insert(
                "XDG_CONFIG_HOME".to_string(),
                self.0.join("xdg").display().to_string(),
            );
            for (k, v) in extra {
                vars.insert(k.to_string(), v.to_string());
            }
            Environment {
                vars,
                cwd: self.0.clone(),
            }
        }

        fn config(&self) -> PathBuf {
            self.0.join("xdg/palisade/config.yaml")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    struct Ran {
        code: i32,
        out: String,
        err: String,
        sleeps: Vec<Duration>,
    }

    async fn run(fake: &Arc<Fake>, env: &Environment, server: Option<&str>, args: &[&str]) -> Ran {
        let globals = GlobalArgs {
            server: server.map(str::to_string),
            ..GlobalArgs::default()
        };
        let args = LoginArgs {
            provider: args
                .iter()
                .position(|a| *a == "--provider")
                .map(|i| args[i + 1].to_string()),
            no_cache: args.contains(&"--no-cache"),
        };
        let clock = FakeClock::default();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut stdin = std::io::empty();
        let mut ctx = Context {
            globals: &globals,
            env,
            stdin: &mut stdin,
            out: &mut out,
            err: &mut err,
            now: NOW,
            transport: Some(Box::new(Handle(fake.clone()))),
        };
        let code = login(&mut ctx, &args, &clock).await;
        let sleeps = clock.sleeps.lock().unwrap().clone();
        Ran {
            code,
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
            sleeps,
        }
    }

    #[tokio::test]
    async fn signs_in_caches_and_reuses() {
        let s = Scratch::new("signs-in");
        let token = id_token("rita", "rita@example.com", NOW + 3600);
        let fake = Fake::new(
            providers(&["corp"]),
            vec![
                (400, json!({"error": "authorization_pending"})),
                (400, json!({"error": "slow_down"})),
                (
                    200,
                    json!({"access_token": "opaque", "id_token": token, "token_type": "Bearer"}),
                ),
            ],
        );
        let env = s.env(&[]);
        let ran = run(&fake, &env, Some(SERVER), &[]).await;
        assert_eq!(ran.code, 0, "{}", ran.err);
        let path = s.config();
        assert_eq!(
            ran.err,
            format!(
                "To sign in, open {ISSUER}/device?user_code=WXYZ-1234 and enter the code WXYZ-1234\n\
                 Logged in to {SERVER} as rita@example.com (OIDCProvider corp); credentials cached in {}\n",
                path.display()
            )
        );
        assert_eq!(ran.out, "");
        assert_eq!(
            ran.sleeps,
            [2, 2, 7].map(Duration::from_secs),
            "interval 2 s, then 5 s more after slow_down"
        );
        let log = fake.log.lock().unwrap().clone();
        assert_eq!(log[0], format!("GET {SERVER}/login/providers "));
        assert_eq!(
            log[2],
            format!(
                "POST {ISSUER}/device/auth client_id=palisade-cli&scope=openid%20profile%20email%20groups"
            )
        );
        assert_eq!(log.len(), 6, "{log:#?}");
        // The cache is a client configuration the other commands read.
        let config = crate::config::discover(None, None, &env).unwrap();
        assert_eq!(config.server, SERVER);
        assert_eq!(config.token.as_deref(), Some(token.as_str()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // Again: the cached token is still good, so no new sign-in; the
        // server comes from the configuration now.
        let fake = Fake::new(providers(&["corp"]), vec![]);
        let ran = run(&fake, &env, None, &[]).await;
        assert_eq!(ran.code, 0, "{}", ran.err);
        assert!(
            ran.err.starts_with(&format!(
                "Already logged in to {SERVER} as rita@example.com (OIDCProvider corp) until 2023-11-14T23:13:20Z"
            )),
            "{}",
            ran.err
        );
        assert_eq!(fake.log.lock().unwrap().len(), 1);

        // --no-cache signs in again, as someone else; PALISADE_CONFIG is
        // said to take precedence.
        let alice = id_token("alice", "alice@example.com", NOW + 3600);
        let fake = Fake::new(
            providers(&["corp"]),
            vec![(200, json!({"id_token": alice}))],
        );
        let env = s.env(&[(CONFIG_ENV, "/etc/palisade.yaml")]);
        let ran = run(&fake, &env, Some(SERVER), &["--no-cache"]).await;
        assert_eq!(ran.code, 0, "{}", ran.err);
        assert!(ran.err.contains("as alice@example.com"), "{}", ran.err);
        assert!(
            ran.err.contains(
                "Warning: PALISADE_CONFIG is set (/etc/palisade.yaml) and takes precedence over"
            ),
            "{}",
            ran.err
        );
        let (_, cached) = crate::config::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(cached.as_deref(), Some(alice.as_str()));
        for secret in [&token, &alice, &"device-secret".to_string()] {
            assert!(!ran.err.contains(secret.as_str()) && !ran.out.contains(secret.as_str()));
        }

        // An expired cached token is not reused.
        write_private(
            &path,
            &render_config(SERVER, &id_token("rita", "r@x", NOW + 30)),
        )
        .unwrap();
        let fake = Fake::new(
            providers(&["corp"]),
            vec![(200, json!({"id_token": token}))],
        );
        let ran = run(&fake, &s.env(&[]), None, &[]).await;
        assert!(ran.err.contains("To sign in, open"), "{}", ran.err);
    }

    #[tokio::test]
    async fn refusals_are_explained_and_nothing_is_cached() {
        let s = Scratch::new("refusals");
        let env = s.env(&[]);

        let fake = Fake::new(providers(&[]), vec![]);
        let ran = run(&fake, &env, Some(SERVER), &[]).await;
        assert_eq!(ran.code, 1);
        assert!(
            ran.err.starts_with(&format!(
                "error: the server {SERVER} has no OIDCProvider configured"
            )),
            "{}",
            ran.err
        );

        let fake = Fake::new(providers(&["corp", "partners"]), vec![]);
        let ran = run(&fake, &env, Some(SERVER), &[]).await;
        assert_eq!(ran.code, 1);
        assert!(ran.err.contains("several OIDCProviders: corp (http://127.0.0.1:9999), partners (http://127.0.0.1:9999); choose one with --provider NAME"), "{}", ran.err);

        let fake = Fake::new(
            providers(&["corp", "partners"]),
            vec![(
                400,
                json!({"error": "access_denied", "error_description": "End-User aborted interaction"}),
            )],
        );
        let ran = run(&fake, &env, Some(SERVER), &["--provider", "partners"]).await;
        assert_eq!(ran.code, 1);
        assert!(ran.err.contains("To sign in, open"), "{}", ran.err);
        assert!(
            ran.err.ends_with(
                "error: OIDCProvider partners: the sign-in was denied (access_denied: End-User aborted interaction); nothing was cached\n"
            ),
            "{}",
            ran.err
        );

        // The code expires: polled every 2 s for 600 s.
        let fake = Fake::new(providers(&["corp"]), vec![]);
        let ran = run(&fake, &env, Some(SERVER), &[]).await;
        assert_eq!(ran.code, 1);
        assert!(
            ran.err.contains("the code WXYZ-1234 expired"),
            "{}",
            ran.err
        );
        assert_eq!(ran.sleeps.len(), 300);

        // Signed in, but no ID token.
        let fake = Fake::new(
            providers(&["corp"]),
            vec![(200, json!({"access_token": "opaque"}))],
        );
        let ran = run(&fake, &env, Some(SERVER), &[]).await;
        assert!(ran.err.contains("returned no ID token"), "{}", ran.err);

        // No server anywhere.
        let ran = run(&fake, &env, None, &[]).await;
        assert!(
            ran.err
                .contains("no server to log in to: pass --server URL"),
            "{}",
            ran.err
        );
        // Nowhere to cache.
        let bare = Environment {
            vars: BTreeMap::new(),
            cwd: s.0.clone(),
        };
        let ran = run(&fake, &bare, Some(SERVER), &[]).await;
        assert!(
            ran.err
                .contains("neither $XDG_CONFIG_HOME nor $HOME is set"),
            "{}",
            ran.err
        );
        assert!(!s.config().exists());
    }
}
