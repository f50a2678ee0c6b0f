//! `audit`: the audit log, newest first.

use serde_json::Value;

use super::Context;
use crate::cli::{AuditArgs, ObjectOutput};
use crate::printer::table;
use crate::resources::with_query;
use crate::time::{format_rfc3339, parse_rfc3339, parse_time_or_ago};

/// The audit events path.
pub(crate) const EVENTS_PATH: &str = "/apis/audit.palisade.dev/v1/events";

/// The request path for `args`, times relative to `now`; `-n` filters by
/// namespace when given.
pub(crate) fn query_path(
    args: &AuditArgs,
    namespace: Option<&str>,
    now: i64,
) -> Result<String, String> {
    let time = |flag: &str, value: &Option<String>| -> Result<Option<String>, String> {
        value
            .as_ref()
            .map(|v| {
                parse_time_or_ago(v, now).ok_or_else(|| {
                    format!(
                        "--{flag} {v:?} is neither an RFC 3339 time (2025-01-31T12:00:00Z) nor a duration ago (30m, 1h, 2d)"
                    )
                })
            })
            .transpose()
    };
    // Kinds are recorded by their kind name; accept the CLI's other spellings.
    let kind = args.kind.as_ref().map(|k| {
        crate::resources::resolve(k)
            .map(|m| m.kind.to_string())
            .unwrap_or_else(|| k.clone())
    });
    Ok(with_query(
        EVENTS_PATH,
        &[
            ("principal", args.principal.clone()),
            ("kind", kind),
            ("namespace", namespace.map(str::to_string)),
            ("name", args.name.clone()),
            ("outcome", args.outcome.map(|o| o.as_str().to_string())),
            ("since", time("since", &args.since)?),
            ("until", time("until", &args.until)?),
            ("limit", args.limit.map(|l| l.to_string())),
        ],
    ))
}

/// The events as a table: TIME PRINCIPAL VERB RESOURCE OUTCOME REASON.
pub(crate) fn events_table(events: &[Value]) -> String {
    let text = |e: &Value, p: &str| {
        e.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut rows = vec![
        ["TIME", "PRINCIPAL", "VERB", "RESOURCE", "OUTCOME", "REASON"]
            .map(String::from)
            .to_vec(),
    ];
    for e in events {
        let time = text(e, "/time");
        let time = parse_rfc3339(&time).map(format_rfc3339).unwrap_or(time);
        let reason = text(e, "/reason").replace('\n', " ");
        rows.push(vec![
            time,
            text(e, "/principal"),
            text(e, "/verb"),
            resource_cell(e.get("resource").unwrap_or(&Value::Null)),
            text(e, "/outcome"),
            if reason.is_empty() {
                "<none>".into()
            } else {
                reason
            },
        ]);
    }
    table(&rows)
}

/// `kind.group/namespace/name` (parts left out when empty; `*` for a collection
/// in a namespace).
fn resource_cell(r: &Value) -> String {
    let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
    let (group, kind, ns, name) = (text("group"), text("kind"), text("namespace"), text("name"));
    let mut cell = kind.to_ascii_lowercase();
    if !group.is_empty() {
        cell = format!("{cell}.{group}");
    }
    if !ns.is_empty() {
        cell = format!("{cell}/{ns}/{}", if name.is_empty() { "*" } else { name });
    } else if !name.is_empty() {
        cell = format!("{cell}/{name}");
    }
    if cell.is_empty() {
        "<none>".into()
    } else {
        cell
    }
}

pub(crate) async fn audit(ctx: &mut Context<'_>, args: &AuditArgs) -> i32 {
    let path = match query_path(args, ctx.globals.namespace.as_deref(), ctx.now) {
        Ok(p) => p,
        Err(e) => return ctx.fail(e),
    };
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let answer = match client.get(&path).await {
        Ok(a) => a,
        Err(e) => return ctx.fail_client(&e),
    };
    match args.output {
        Some(ObjectOutput::Json) => {
            let text = crate::printer::to_json(&answer);
            ctx.print(&text);
        }
        Some(ObjectOutput::Yaml) => {
            let text = crate::yaml::to_yaml(&answer);
            ctx.print(&text);
        }
        Some(ObjectOutput::Name) | None => {
            let events = answer
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if events.is_empty() {
                ctx.warn("No audit events found");
            } else if args.output == Some(ObjectOutput::Name) {
                for e in &events {
                    let line = resource_cell(e.get("resource").unwrap_or(&Value::Null));
                    ctx.say(line);
                }
            } else {
                let text = events_table(&events);
                ctx.print(&text);
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::AuditOutcome;
    use serde_json::json;

    fn args() -> AuditArgs {
        AuditArgs {
            principal: None,
            kind: None,
            name: None,
            outcome: None,
            since: None,
            until: None,
            limit: None,
            output: None,
        }
    }

    #[test]
    fn queries() {
        let now = parse_rfc3339("2025-01-31T12:00:00Z").unwrap();
        assert_eq!(query_path(&args(), None, now).unwrap(), EVENTS_PATH);
        let a = AuditArgs {
            principal: Some("system:serviceaccount:kagent:test-reader".into()),
            kind: Some("mcps".into()),
            outcome: Some(AuditOutcome::Denied),
            since: Some("1h".into()),
            limit: Some(10),
            ..args()
        };
        assert_eq!(
            query_path(&a, Some("kagent"), now).unwrap(),
            format!(
                "{EVENTS_PATH}?principal=system%3Aserviceaccount%3Akagent%3Atest-reader&kind=MCPServer&namespace=kagent&outcome=denied&since=2025-01-31T11%3A00%3A00Z&limit=10"
            )
        );
        let bad = AuditArgs {
            until: Some("yesterday".into()),
            ..args()
        };
        assert!(query_path(&bad, None, now).unwrap_err().contains("--until"));
    }

    #[test]
    fn table() {
        let events = vec![
            json!({"time": "2025-01-31T12:00:00.123456Z", "principal": "system:serviceaccount:kagent:test-reader",
                "verb": "create", "resource": {"group": "kagent.dev", "kind": "MCPServer", "namespace": "kagent", "name": "test"},
                "outcome": "denied", "reason": "cannot create"}),
            json!({"time": "2025-01-31T11:00:00Z", "principal": "palisade:admin", "verb": "create",
                "resource": {"group": "", "kind": "Namespace", "namespace": "", "name": "policies"},
                "outcome": "allowed", "reason": null}),
        ];
        assert_eq!(
            events_table(&events),
            "TIME                   PRINCIPAL                                  VERB     RESOURCE                           OUTCOME   REASON\n\
             2025-01-31T12:00:00Z   system:serviceaccount:kagent:test-reader   create   mcpserver.kagent.dev/kagent/test   denied    cannot create\n\
             2025-01-31T11:00:00Z   palisade:admin                             create   namespace/policies                 allowed   <none>\n"
        );
    }
}
