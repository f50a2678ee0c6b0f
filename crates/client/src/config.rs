//! Client configuration: which server to talk to and with which token.
//!
//! Looked for in this order: the `--server`/`--token` flags; the file named by
//! `PALISADE_CONFIG`; the user's `$XDG_CONFIG_HOME/palisade/config.yaml` (else
//! `~/.config/palisade/config.yaml`); `./.palisade/admin.yaml`, which `palisade run`
//! writes in its default state directory. Flags override the file's fields.
//!
//! A file (YAML or JSON) looks like:
//!
//! ```yaml
//! apiVersion: palisade.dev/v1alpha1
//! kind: ClientConfig
//! server: http://127.0.0.1:15000
//! token: ...
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// `apiVersion` of client configuration files.
pub const API_VERSION: &str = "palisade.dev/v1alpha1";
/// `kind` of client configuration files.
pub const KIND: &str = "ClientConfig";
/// The environment variable naming a configuration file.
pub const CONFIG_ENV: &str = "PALISADE_CONFIG";

/// The environment configuration discovery reads: variables and the working
/// directory. Tests build one explicitly instead of changing the process's.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Environment variables (only `PALISADE_CONFIG`, `XDG_CONFIG_HOME` and `HOME`
    /// are read).
    pub vars: BTreeMap<String, String>,
    /// The working directory.
    pub cwd: PathBuf,
}

impl Environment {
    /// The current process's environment.
    pub fn from_process() -> Environment {
        let vars = [CONFIG_ENV, "XDG_CONFIG_HOME", "HOME"]
            .iter()
            .filter_map(|k| {
                std::env::var_os(k).map(|v| (k.to_string(), v.to_string_lossy().into_owned()))
            })
            .collect();
        Environment {
            vars,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// A variable's value; unset and empty are the same.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where the configuration came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `--server` and `--token` flags alone.
    Flags,
    /// A configuration file, found the way `how` says.
    File {
        /// The file.
        path: PathBuf,
        /// How it was found (`$PALISADE_CONFIG`, `user config`, `palisade run state`).
        how: &'static str,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flags => f.write_str("the --server/--token flags"),
            Origin::File { path, how } => write!(f, "{} ({how})", path.display()),
        }
    }
}

/// The resolved client configuration. Its `Debug` output never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Admin API base URL, e.g. `http://127.0.0.1:15000`.
    pub server: String,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// Where the server and token came from.
    pub origin: Origin,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("origin", &self.origin)
            .finish()
    }
}

/// Why no usable configuration was found. Messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Nothing was found anywhere; `looked` lists the places tried.
    NotFound {
        /// Each place looked at, with what was found there.
        looked: Vec<String>,
    },
    /// A file could not be read or is not a valid client configuration.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotFound { looked } => write!(
                f,
                "no Palisade client configuration found; looked at: {}. Run `palisade run` in this directory (it writes .palisade/admin.yaml), \
                 set {CONFIG_ENV} to a ClientConfig file (apiVersion: {API_VERSION}, kind: {KIND}, server, token), \
                 or pass --server URL and --token TOKEN",
                looked.join("; ")
            ),
            ConfigError::Invalid { path, message } => {
                write!(f, "client configuration {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Finds the configuration, given the `--server` and `--token` flags.
pub fn discover(
    server_flag: Option<&str>,
    token_flag: Option<&str>,
    env: &Environment,
) -> Result<ClientConfig, ConfigError> {
    let flags = |token: Option<&str>| ClientConfig {
        server: server_flag.unwrap_or_default().to_string(),
        token: token.map(str::to_string),
        origin: Origin::Flags,
    };
    if server_flag.is_some() && token_flag.is_some() {
        return Ok(flags(token_flag));
    }
    let mut looked = vec!["--server/--token flags (not both given)".to_string()];
    match find_file(env, &mut looked)? {
        Some((path, how)) => {
            let mut config = load_file(&path, how)?;
            if let Some(server) = server_flag {
                config.server = server.to_string();
            }
            if let Some(token) = token_flag {
                config.token = Some(token.to_string());
            }
            Ok(config)
        }
        // A server without a token: the server will say what credentials it wants.
        None if server_flag.is_some() => Ok(flags(None)),
        None => Err(ConfigError::NotFound { looked }),
    }
}

/// The configuration file to read, in discovery order.
fn find_file(
    env: &Environment,
    looked: &mut Vec<String>,
) -> Result<Option<(PathBuf, &'static str)>, ConfigError> {
    if let Some(named) = env.var(CONFIG_ENV) {
        let path = env.cwd.join(named);
        if path.is_file() {
            return Ok(Some((path, "$PALISADE_CONFIG")));
        }
        return Err(ConfigError::Invalid {
            path,
            message: format!(
                "{CONFIG_ENV} names this file, but it does not exist or is not a file; fix or unset {CONFIG_ENV}"
            ),
        });
    }
    looked.push(format!("${CONFIG_ENV} (not set)"));
    match user_config_path(env) {
        Some(path) => {
            if path.is_file() {
                return Ok(Some((path, "user config")));
            }
            looked.push(format!("{} (absent)", path.display()));
        }
        None => looked.push("user config (neither $XDG_CONFIG_HOME nor $HOME is set)".into()),
    }
    let state = env.cwd.join(".palisade").join("admin.yaml");
    if state.is_file() {
        return Ok(Some((state, "palisade run state")));
    }
    looked.push(format!("{} (absent)", state.display()));
    Ok(None)
}

/// The user's configuration file: `$XDG_CONFIG_HOME/palisade/config.yaml`,
/// else `$HOME/.config/palisade/config.yaml`; `None` when neither variable is
/// set. `palisade login` writes it.
pub fn user_config_path(env: &Environment) -> Option<PathBuf> {
    let dir = match (env.var("XDG_CONFIG_HOME"), env.var("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => Path::new(home).join(".config"),
        (None, None) => return None,
    };
    Some(dir.join("palisade").join("config.yaml"))
}

/// Reads and checks one configuration file.
pub fn load_file(path: &Path, how: &'static str) -> Result<ClientConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(format!(
            "cannot read it: {e}; check the path and its permissions"
        ))
    })?;
    let (server, token) = parse(&text).map_err(invalid)?;
    Ok(ClientConfig {
        server,
        token,
        origin: Origin::File {
            path: path.to_path_buf(),
            how,
        },
    })
}

/// Parses configuration text into (server, token).
pub fn parse(text: &str) -> Result<(String, Option<String>), String> {
    let docs = palisade_api::yaml::parse_stream(text).map_err(|e| {
        format!(
            "invalid YAML/JSON at line {} column {}: {}",
            e.line, e.column, e.message
        )
    })?;
    let docs: Vec<_> = docs
        .into_iter()
        .filter(|d| d.value != palisade_api::yaml::Value::Null)
        .collect();
    let [doc] = docs.as_slice() else {
        return Err(format!(
            "expected one document (apiVersion: {API_VERSION}, kind: {KIND}, server, token), found {}",
            docs.len()
        ));
    };
    let json = doc
        .to_json()
        .map_err(|e| format!("line {}: {}", e.line, e.message))?;
    let serde_json::Value::Object(map) = json else {
        return Err(format!(
            "line {}: expected a mapping with apiVersion: {API_VERSION}, kind: {KIND}, server and token",
            doc.line
        ));
    };
    let line_of = |key: &str| doc.line_of(key);
    let string = |key: &str| -> Result<Option<String>, String> {
        match map.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("line {}: `{key}` must be a string", line_of(key))),
        }
    };
    for key in map.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "server" | "token") {
            return Err(format!(
                "line {}: unknown field `{key}`; a {KIND} has apiVersion, kind, server and token",
                line_of(key)
            ));
        }
    }
    if let Some(v) = string("apiVersion")?
        && v != API_VERSION
    {
        return Err(format!(
            "line {}: apiVersion {v:?} is not supported; use apiVersion: {API_VERSION}",
            line_of("apiVersion")
        ));
    }
    if let Some(k) = string("kind")?
        && k != KIND
    {
        return Err(format!(
            "line {}: kind {k:?} is not a client configuration; use kind: {KIND}",
            line_of("kind")
        ));
    }
    let server = string("server")?.filter(|s| !s.is_empty()).ok_or_else(|| {
        "missing `server`; add e.g. server: http://127.0.0.1:15000 (the admin address of `palisade run`)".to_string()
    })?;
    let token = string("token")?.filter(|t| !t.is_empty());
    Ok((server, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "palisade-client-config-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn write(&self, rel: &str, server: &str, token: &str) -> PathBuf {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(
                &path,
                format!("apiVersion: palisade.dev/v1alpha1\nkind: ClientConfig\nserver: {server}\ntoken: {token}\n"),
            )
            .unwrap();
            path
        }

        fn env(&self, vars: &[(&str, &str)]) -> Environment {
            Environment {
                vars: vars
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                cwd: self.0.join("work"),
            }
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn discovery_order() {
        let s = Scratch::new("order");
        let home = s.0.join("home").display().to_string();
        let xdg = s.0.join("xdg").display().to_string();
        s.write("work/.palisade/admin.yaml", "http://state:1", "t-state");
        let env = s.env(&[("HOME", &home)]);
        let c = discover(None, None, &env).unwrap();
        assert_eq!(
            (c.server.as_str(), c.token.as_deref()),
            ("http://state:1", Some("t-state"))
        );
        assert_eq!(
            c.origin.to_string(),
            format!(
                "{} (palisade run state)",
                s.0.join("work/.palisade/admin.yaml").display()
            )
        );

        s.write(
            "home/.config/palisade/config.yaml",
            "http://home:1",
            "t-home",
        );
        assert_eq!(discover(None, None, &env).unwrap().server, "http://home:1");

        s.write("xdg/palisade/config.yaml", "http://xdg:1", "t-xdg");
        let env = s.env(&[("HOME", &home), ("XDG_CONFIG_HOME", &xdg)]);
        assert_eq!(discover(None, None, &env).unwrap().server, "http://xdg:1");

        let named = s.write("elsewhere.yaml", "http://named:1", "t-named");
        let named = named.display().to_string();
        let env = s.env(&[
            ("HOME", &home),
            ("XDG_CONFIG_HOME", &xdg),
            (CONFIG_ENV, &named),
        ]);
        let c = discover(None, None, &env).unwrap();
        assert_eq!(
            (c.server.as_str(), c.token.as_deref()),
            ("http://named:1", Some("t-named"))
        );

        // Flags override the file field by field, and win outright when both are given.
        let c = discover(Some("http://flag:1"), None, &env).unwrap();
        assert_eq!(
            (c.server.as_str(), c.token.as_deref()),
            ("http://flag:1", Some("t-named"))
        );
        let c = discover(None, Some("t-flag"), &env).unwrap();
        assert_eq!(
            (c.server.as_str(), c.token.as_deref()),
            ("http://named:1", Some("t-flag"))
        );
        let c = discover(
            Some("http://flag:1"),
            Some("t-flag"),
            &Environment::default(),
        )
        .unwrap();
        assert_eq!(c.origin, Origin::Flags);
        assert_eq!(c.token.as_deref(), Some("t-flag"));
    }

    #[test]
    fn missing_configuration_names_every_place() {
        let s = Scratch::new("missing");
        let home = s.0.join("home").display().to_string();
        let err = discover(None, None, &s.env(&[("HOME", &home)])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("$PALISADE_CONFIG (not set)"), "{text}");
        assert!(
            text.contains(&format!("{home}/.config/palisade/config.yaml (absent)")),
            "{text}"
        );
        assert!(text.contains(".palisade/admin.yaml (absent)"), "{text}");
        assert!(text.contains("--server URL and --token TOKEN"), "{text}");
        // A server flag alone is enough to try.
        let c = discover(Some("http://x:1"), None, &s.env(&[])).unwrap();
        assert_eq!(c.token, None);
        // A PALISADE_CONFIG naming nothing is an error, not a fall-through.
        let err = discover(None, None, &s.env(&[(CONFIG_ENV, "nope.yaml")])).unwrap_err();
        assert!(
            err.to_string().contains("PALISADE_CONFIG names this file"),
            "{err}"
        );
    }

    #[test]
    fn files_are_checked_and_tokens_never_shown() {
        assert_eq!(
            parse("{\"apiVersion\":\"palisade.dev/v1alpha1\",\"kind\":\"ClientConfig\",\"server\":\"http://a:1\",\"token\":\"sekret\"}").unwrap(),
            ("http://a:1".to_string(), Some("sekret".to_string()))
        );
        assert_eq!(parse("server: http://a:1\n").unwrap().1, None);
        let e = parse("server: http://a:1\ntokn: sekret\n").unwrap_err();
        assert!(e.contains("line 2: unknown field `tokn`"), "{e}");
        assert!(!e.contains("sekret"));
        let e = parse("kind: Config\nserver: x\n").unwrap_err();
        assert!(e.contains("use kind: ClientConfig"), "{e}");
        let e = parse("apiVersion: v1\nserver: x\n").unwrap_err();
        assert!(e.contains("use apiVersion: palisade.dev/v1alpha1"), "{e}");
        let e = parse("token: sekret\n").unwrap_err();
        assert!(e.contains("missing `server`"), "{e}");
        let e = parse("server: [1\n").unwrap_err();
        assert!(e.contains("invalid YAML"), "{e}");
        let e = parse("server: 5\n").unwrap_err();
        assert!(e.contains("`server` must be a string"), "{e}");

        let config = ClientConfig {
            server: "http://a:1".into(),
            token: Some("sekret".into()),
            origin: Origin::Flags,
        };
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("sekret") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
