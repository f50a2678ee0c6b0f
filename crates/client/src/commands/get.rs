//! `get`: tables, names, JSON and YAML of objects.

use palisade_api::kinds::KindMeta;
use serde_json::Value;

use super::{Context, Targets, parse_targets};
use crate::cli::{GetArgs, GetOutput};
use crate::client::{ApiClient, ClientError};
use crate::printer::{self, TableOptions};
use crate::resources::{collection_path, object_path, preferred_version, with_query};

/// Objects found for one kind, in the order they are printed.
struct Found {
    meta: &'static KindMeta,
    objects: Vec<Value>,
}

fn push(found: &mut Vec<Found>, meta: &'static KindMeta, objects: Vec<Value>) {
    match found.iter_mut().find(|f| std::ptr::eq(f.meta, meta)) {
        Some(f) => f.objects.extend(objects),
        None => found.push(Found { meta, objects }),
    }
}

pub(crate) async fn get(ctx: &mut Context<'_>, args: &GetArgs) -> i32 {
    let targets = match parse_targets(&args.args, "get") {
        Ok(t) => t,
        Err(e) => return ctx.fail(e),
    };
    let named = match &targets {
        Targets::ByType { names, .. } => !names.is_empty(),
        Targets::ByRef(_) => true,
    };
    if named && args.all_namespaces {
        return ctx.fail("a resource cannot be retrieved by name across all namespaces");
    }
    if named && args.selector.is_some() {
        return ctx.fail("name cannot be provided when a selector is specified");
    }
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let namespace = ctx.namespace();
    let mut found: Vec<Found> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let lookups: Vec<(&'static KindMeta, String)> = match &targets {
        Targets::ByRef(refs) => refs.clone(),
        Targets::ByType { metas, names } => metas
            .iter()
            .flat_map(|m| names.iter().map(move |n| (*m, n.clone())))
            .collect(),
    };
    let single = lookups.len() == 1;
    if named {
        for (meta, name) in &lookups {
            let path = object_path(meta, preferred_version(meta), Some(&namespace), name);
            match client.get(&path).await {
                Ok(obj) => push(&mut found, meta, vec![printer::with_type(meta, obj)]),
                Err(ClientError::Status(s)) => errors.push(s.to_string()),
                Err(e) => return ctx.fail_client(&e),
            }
            if !found.iter().any(|f| std::ptr::eq(f.meta, *meta)) {
                // Keep the kind's place so that tables come out in argument order.
                found.push(Found {
                    meta,
                    objects: vec![],
                });
            }
        }
    } else if let Targets::ByType { metas, .. } = &targets {
        for meta in metas {
            let ns = (!args.all_namespaces).then_some(namespace.as_str());
            match list(&client, meta, ns, args.selector.as_deref()).await {
                Ok(objects) => push(&mut found, meta, objects),
                Err(ClientError::Status(s)) => errors.push(s.to_string()),
                Err(e) => return ctx.fail_client(&e),
            }
        }
    }
    let total: usize = found.iter().map(|f| f.objects.len()).sum();
    let namespaced = found.iter().any(|f| f.meta.namespaced);
    match args.output {
        Some(GetOutput::Json) | Some(GetOutput::Yaml) => {
            let items: Vec<Value> = found.into_iter().flat_map(|f| f.objects).collect();
            let doc = if single && named {
                items.into_iter().next()
            } else if errors.is_empty() || !items.is_empty() {
                Some(printer::list(items))
            } else {
                None
            };
            if let Some(doc) = doc {
                let text = if args.output == Some(GetOutput::Json) {
                    printer::to_json(&doc)
                } else {
                    crate::yaml::to_yaml(&doc)
                };
                ctx.print(&text);
            }
        }
        Some(GetOutput::Name) => {
            for f in &found {
                let text = printer::names(f.meta, &f.objects);
                ctx.print(&text);
            }
        }
        None | Some(GetOutput::Wide) => {
            let kinds = found.len() > 1;
            let mut first = true;
            for f in found.iter().filter(|f| !f.objects.is_empty()) {
                if !first {
                    ctx.print("\n");
                }
                first = false;
                let options = TableOptions {
                    namespace_column: args.all_namespaces,
                    wide: args.output == Some(GetOutput::Wide),
                    with_kind: kinds,
                    show_labels: args.show_labels,
                    no_headers: args.no_headers,
                };
                let rows = printer::kind_table(f.meta, &f.objects, options, ctx.now);
                let text = printer::table(&rows);
                ctx.print(&text);
            }
        }
    }
    if total == 0
        && !named
        && errors.is_empty()
        && !matches!(args.output, Some(GetOutput::Json | GetOutput::Yaml))
    {
        if namespaced && !args.all_namespaces {
            ctx.warn(format_args!("No resources found in {namespace} namespace."));
        } else {
            ctx.warn("No resources found");
        }
    }
    for e in &errors {
        ctx.warn(e);
    }
    i32::from(!errors.is_empty())
}

/// Lists a kind's objects (in `namespace`, or everywhere), sorted by namespace
/// and name, each with its `apiVersion` and `kind`.
pub(crate) async fn list(
    client: &ApiClient,
    meta: &'static KindMeta,
    namespace: Option<&str>,
    selector: Option<&str>,
) -> Result<Vec<Value>, ClientError> {
    let path = with_query(
        &collection_path(meta, preferred_version(meta), namespace),
        &[("labelSelector", selector.map(str::to_string))],
    );
    let answer = client.get(&path).await?;
    let Some(items) = answer.get("items").and_then(Value::as_array) else {
        return Err(ClientError::BadResponse {
            message: format!("the server's answer to GET {path} has no `items` list"),
        });
    };
    let mut items: Vec<Value> = items
        .iter()
        .map(|o| printer::with_type(meta, o.clone()))
        .collect();
    let key = |o: &Value| {
        let text = |p: &str| {
            o.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (text("/metadata/namespace"), text("/metadata/name"))
    };
    items.sort_by_key(key);
    Ok(items)
}
