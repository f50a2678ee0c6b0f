//! `label TYPE NAME key=value key-`: read, change the labels, write back with the
//! read `resourceVersion` (a concurrent change makes the write fail, not vanish).

use std::collections::BTreeMap;

use serde_json::Value;

use super::manifests::strip_server_fields;
use super::{Context, Targets, parse_targets};
use crate::cli::LabelArgs;
use crate::client::ClientError;
use crate::labels::{apply_changes, split_args};
use crate::resources::{object_path, object_ref, preferred_version};

pub(crate) async fn label(ctx: &mut Context<'_>, args: &LabelArgs) -> i32 {
    let (resources, changes) = match split_args(&args.args) {
        Ok(x) => x,
        Err(e) => return ctx.fail(e),
    };
    let targets = match parse_targets(&resources, "label") {
        Ok(t) => t,
        Err(e) => return ctx.fail(e),
    };
    let objects: Vec<_> = match targets {
        Targets::ByRef(refs) => refs,
        Targets::ByType { metas, names } => {
            if names.is_empty() {
                return ctx.fail("resource(s) were provided, but no name was specified");
            }
            metas
                .iter()
                .flat_map(|m| names.iter().map(move |n| (*m, n.clone())))
                .collect()
        }
    };
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let namespace = ctx.namespace();
    let mut code = 0;
    for (meta, name) in objects {
        let path = object_path(meta, preferred_version(meta), Some(&namespace), &name);
        // In Palisade a namespace comes into being when something first names
        // it: labelling one that does not exist yet creates it.
        let mut created = false;
        let mut object = match client.get(&path).await {
            Ok(o) => o,
            Err(ClientError::Status(s)) if s.code == 404 && meta.kind == "Namespace" => {
                created = true;
                serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            }
            Err(ClientError::Status(s)) => {
                ctx.warn(&s);
                code = 1;
                continue;
            }
            Err(e) => return ctx.fail_client(&e),
        };
        let mut labels: BTreeMap<String, String> = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let applied = match apply_changes(&mut labels, &changes, args.overwrite) {
            Ok(a) => a,
            Err(e) => {
                code = ctx.fail(e);
                continue;
            }
        };
        for key in &applied.missing {
            ctx.say(format_args!("label \"{key}\" not found."));
        }
        let reference = object_ref(meta, &name);
        if !applied.changed {
            ctx.say(format_args!("{reference} not labeled"));
            continue;
        }
        let resource_version = object.pointer("/metadata/resourceVersion").cloned();
        strip_server_fields(&mut object);
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            if labels.is_empty() {
                metadata.remove("labels");
            } else {
                metadata.insert(
                    "labels".into(),
                    Value::Object(labels.into_iter().map(|(k, v)| (k, v.into())).collect()),
                );
            }
            if let Some(rv) = resource_version {
                metadata.insert("resourceVersion".into(), rv);
            }
        }
        let written = if created {
            let collection = path.rsplit_once('/').map_or(path.as_str(), |(c, _)| c);
            client.post(collection, &object).await
        } else {
            client.put(&path, &object).await
        };
        match written {
            Ok(_) => ctx.say(format_args!("{reference} labeled")),
            Err(ClientError::Status(s)) => {
                ctx.warn(&s);
                code = 1;
            }
            Err(e) => return ctx.fail_client(&e),
        }
    }
    code
}
