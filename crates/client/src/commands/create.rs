//! `create secret generic`, `create serviceaccount`, `create namespace`,
//! `create token`.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::Context;
use crate::cli::{
    CreateArgs, CreateCommand, CreateGenericSecretArgs, CreateOutputArgs, CreateTokenArgs, DryRun,
    ObjectOutput, SecretCommand,
};
use crate::client::ClientError;
use crate::resources::{collection_path, object_ref, resolve};

pub(crate) async fn create(ctx: &mut Context<'_>, args: CreateArgs) -> i32 {
    match args.what {
        CreateCommand::Secret(s) => match s.kind {
            SecretCommand::Generic(g) => {
                let object = match generic_secret(&g, &ctx.namespace(), ctx) {
                    Ok(o) => o,
                    Err(e) => return ctx.fail(e),
                };
                create_object(ctx, "secret", object, &g.out).await
            }
        },
        CreateCommand::Serviceaccount(a) => {
            let object = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": a.name, "namespace": ctx.namespace()}});
            create_object(ctx, "serviceaccount", object, &a.out).await
        }
        CreateCommand::Namespace(a) => {
            let object =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": a.name}});
            create_object(ctx, "namespace", object, &a.out).await
        }
        CreateCommand::Token(t) => token(ctx, &t).await,
    }
}

/// Builds a `Secret` from `--from-literal` and `--from-file` (values base64 in `data`).
fn generic_secret(
    args: &CreateGenericSecretArgs,
    namespace: &str,
    ctx: &mut Context<'_>,
) -> Result<Value, String> {
    let mut data = Map::new();
    let mut add = |key: &str, bytes: &[u8]| -> Result<(), String> {
        check_data_key(key)?;
        if data.contains_key(key) {
            return Err(format!(
                "cannot add key {key}, another key by that name already exists in Data for Secret \"{}\"",
                args.name
            ));
        }
        data.insert(
            key.to_string(),
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into(),
        );
        Ok(())
    };
    for literal in &args.from_literal {
        let (key, value) = parse_literal(literal)?;
        add(key, value.as_bytes())?;
    }
    for source in &args.from_file {
        let (key, path) = match source.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => {
                let name = std::path::Path::new(source)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| {
                        format!("cannot derive a key from {source:?}; use --from-file=KEY=PATH")
                    })?;
                (name.to_string(), source.clone())
            }
        };
        let full = ctx.env.cwd.join(&path);
        let bytes =
            std::fs::read(&full).map_err(|e| format!("cannot read {path} for --from-file: {e}"))?;
        add(&key, &bytes)?;
    }
    let mut object = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": args.name, "namespace": namespace}});
    if !data.is_empty() {
        object["data"] = Value::Object(data);
    }
    if let Some(t) = &args.secret_type {
        object["type"] = t.clone().into();
    }
    Ok(object)
}

/// Splits `KEY=VALUE` (the value may contain `=`).
pub(crate) fn parse_literal(literal: &str) -> Result<(&str, &str), String> {
    match literal.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key, value)),
        _ => Err(format!(
            "invalid literal source {literal}, expected key=value"
        )),
    }
}

/// Secret keys: alphanumerics, `-`, `_`, `.`.
pub(crate) fn check_data_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && key != "."
        && key != "..";
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{key:?} is not a valid key name for a Secret: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', 'KEY_NAME' or 'key-name')"
        ))
    }
}

async fn create_object(
    ctx: &mut Context<'_>,
    what: &str,
    object: Value,
    out: &CreateOutputArgs,
) -> i32 {
    let kind = object["kind"].as_str().unwrap_or_default();
    let meta = resolve(kind).expect("built-in kinds are registered");
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if out.dry_run == DryRun::Client {
        print_object(ctx, meta, &name, &object, out.output, " (dry run)");
        return 0;
    }
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let path = collection_path(meta, "v1", namespace);
    match client.post(&path, &object).await {
        Ok(created) => {
            let shown = if created.is_object() { created } else { object };
            print_object(ctx, meta, &name, &shown, out.output, "");
            0
        }
        Err(ClientError::Status(s)) => match what {
            "secret" => ctx.fail(format_args!("failed to create secret {}", s.message)),
            "serviceaccount" => ctx.fail(format_args!(
                "failed to create serviceaccount: {}",
                s.message
            )),
            _ => {
                ctx.warn(&s);
                1
            }
        },
        Err(e) => ctx.fail_client(&e),
    }
}

fn print_object(
    ctx: &mut Context<'_>,
    meta: &palisade_api::kinds::KindMeta,
    name: &str,
    object: &Value,
    output: Option<ObjectOutput>,
    suffix: &str,
) {
    match output {
        None => ctx.say(format_args!("{} created{suffix}", object_ref(meta, name))),
        Some(ObjectOutput::Name) => ctx.say(object_ref(meta, name)),
        Some(ObjectOutput::Json) => {
            let text = crate::printer::to_json(object);
            ctx.print(&text);
        }
        Some(ObjectOutput::Yaml) => {
            let text = crate::yaml::to_yaml(object);
            ctx.print(&text);
        }
    }
}

/// `create token NAME [--duration D]`: prints the token alone.
async fn token(ctx: &mut Context<'_>, args: &CreateTokenArgs) -> i32 {
    let mut spec = Map::new();
    if let Some(d) = &args.duration {
        let Some(duration) = crate::time::parse_duration(d) else {
            return ctx.fail(format_args!(
                "invalid --duration {d:?}; use a duration such as 10m, 1h or 24h"
            ));
        };
        if duration.as_secs() == 0 {
            return ctx.fail("--duration must be positive");
        }
        if duration.subsec_nanos() != 0 {
            return ctx.fail("--duration must be a whole number of seconds");
        }
        spec.insert("expirationSeconds".into(), duration.as_secs().into());
    }
    let body =
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec});
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let meta = resolve("serviceaccounts").expect("ServiceAccount is registered");
    let path = format!(
        "{}/token",
        crate::resources::object_path(meta, "v1", Some(&ctx.namespace()), &args.name)
    );
    match client.post(&path, &body).await {
        Ok(answer) => match answer.pointer("/status/token").and_then(Value::as_str) {
            Some(token) => {
                ctx.say(token);
                0
            }
            None => ctx.fail("failed to create token: the server's answer has no status.token"),
        },
        Err(ClientError::Status(s)) => {
            ctx.fail(format_args!("failed to create token: {}", s.message))
        }
        Err(e) => ctx.fail_client(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_keys() {
        assert_eq!(parse_literal("A=b=c").unwrap(), ("A", "b=c"));
        assert_eq!(parse_literal("A=").unwrap(), ("A", ""));
        assert_eq!(
            parse_literal("nokey").unwrap_err(),
            "invalid literal source nokey, expected key=value"
        );
        assert!(parse_literal("=v").is_err());
        assert!(check_data_key("ANTHROPIC_API_KEY").is_ok());
        assert!(check_data_key("tls.crt").is_ok());
        assert!(
            check_data_key("a b")
                .unwrap_err()
                .contains("not a valid key name")
        );
        assert!(check_data_key("..").is_err());
    }
}
