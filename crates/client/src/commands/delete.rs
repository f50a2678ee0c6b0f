//! `delete`: by type and name, by selector or `--all`, or the objects of manifests.

use palisade_api::kinds::KindMeta;
use serde_json::Value;

use super::apply::error_when;
use super::{Context, Targets, manifests, parse_targets};
use crate::cli::DeleteArgs;
use crate::client::{ApiClient, ClientError};
use crate::resources::{object_path, preferred_version, singular_ref};

/// kubectl's line for a deleted object: `mcpserver.kagent.dev "x" deleted`.
pub(crate) fn deleted_line(meta: &KindMeta, name: &str) -> String {
    format!("{} \"{name}\" deleted", singular_ref(meta))
}

/// One object to delete.
struct Victim {
    meta: &'static KindMeta,
    version: String,
    namespace: Option<String>,
    name: String,
    /// The manifest file, for `delete -f`.
    file: Option<String>,
}

pub(crate) async fn delete(ctx: &mut Context<'_>, args: &DeleteArgs) -> i32 {
    let victims = if !args.files.is_empty() {
        if !args.args.is_empty() {
            return ctx.fail("resource arguments cannot be combined with -f; use one or the other");
        }
        let Some(objects) = manifests::load(ctx, &args.files) else {
            return 1;
        };
        objects
            .into_iter()
            .map(|m| Victim {
                version: manifests::version(&m).to_string(),
                meta: m.meta,
                namespace: m.namespace,
                name: m.name,
                file: Some(m.file),
            })
            .collect::<Vec<_>>()
    } else {
        if args.args.is_empty() {
            return ctx.fail(
                "You must provide one or more resources by argument or filename (e.g. 'palisade delete mcpservers NAME', 'palisade delete mcpservers/NAME' or 'palisade delete -f FILE').",
            );
        }
        let targets = match parse_targets(&args.args, "delete") {
            Ok(t) => t,
            Err(e) => return ctx.fail(e),
        };
        let namespace = ctx.namespace();
        let victim = |meta: &'static KindMeta, name: String| Victim {
            meta,
            version: preferred_version(meta).to_string(),
            namespace: meta.namespaced.then(|| namespace.clone()),
            name,
            file: None,
        };
        match targets {
            Targets::ByRef(refs) => refs.into_iter().map(|(m, n)| victim(m, n)).collect(),
            Targets::ByType { metas, names } if !names.is_empty() => {
                if args.selector.is_some() || args.all {
                    return ctx
                        .fail("name cannot be provided when a selector or --all is specified");
                }
                metas
                    .iter()
                    .flat_map(|m| names.iter().map(|n| victim(m, n.clone())))
                    .collect()
            }
            Targets::ByType { metas, .. } => {
                if args.selector.is_none() && !args.all {
                    return ctx.fail(
                        "resource(s) were provided, but no name was specified; give names, a selector (-l) or --all",
                    );
                }
                let client = match ctx.client() {
                    Ok(c) => c,
                    Err(e) => return ctx.fail(e),
                };
                let mut victims = Vec::new();
                for meta in metas {
                    let ns = Some(namespace.as_str());
                    match super::get::list(&client, meta, ns, args.selector.as_deref()).await {
                        Ok(objects) => {
                            for o in objects {
                                let name = o
                                    .pointer("/metadata/name")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string();
                                victims.push(victim(meta, name));
                            }
                        }
                        Err(e) => return ctx.fail_client(&e),
                    }
                }
                if victims.is_empty() {
                    ctx.warn("No resources found");
                    return 0;
                }
                return delete_all(ctx, &client, victims, args.ignore_not_found).await;
            }
        }
    };
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    delete_all(ctx, &client, victims, args.ignore_not_found).await
}

async fn delete_all(
    ctx: &mut Context<'_>,
    client: &ApiClient,
    victims: Vec<Victim>,
    ignore_not_found: bool,
) -> i32 {
    let mut code = 0;
    for v in victims {
        let path = object_path(v.meta, &v.version, v.namespace.as_deref(), &v.name);
        match client.delete(&path).await {
            Ok(_) => ctx.say(deleted_line(v.meta, &v.name)),
            Err(e) if e.is_not_found() && ignore_not_found => {}
            Err(ClientError::Status(s)) => {
                code = 1;
                match &v.file {
                    Some(file) => ctx.warn(error_when(&s, "deleting", file)),
                    None => ctx.warn(&s),
                }
            }
            Err(e) => return ctx.fail_client(&e),
        }
    }
    code
}
