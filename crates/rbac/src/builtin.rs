//! Palisade's built-in ClusterRoles, which OIDC role mappings name
//! (`global.Admin`, `global.Writer`, `global.Reader`). Each is bound to the
//! group of the same name, so a user whose token maps to `global.Reader`
//! holds the Reader rules.
//!
//! - `global.Admin`: every verb on everything (impersonation included).
//! - `global.Writer`: reads and writes every Palisade resource except RBAC
//!   objects; may write Secrets but never read them.
//! - `global.Reader`: `get`, `list` and `watch` on every resource except
//!   Secrets.

use palisade_api::kinds::KINDS;
use palisade_api::kinds::rbac::{PolicyRule, RBAC_GROUP};

/// Everything.
pub const ADMIN: &str = "global.Admin";
/// Writes Palisade resources (not RBAC, not Secret data).
pub const WRITER: &str = "global.Writer";
/// Reads Palisade resources (not Secrets).
pub const READER: &str = "global.Reader";

/// Names of the built-in roles.
pub const ROLES: [&str; 3] = [ADMIN, WRITER, READER];

const READ: [&str; 3] = ["get", "list", "watch"];
const WRITE: [&str; 4] = ["create", "update", "patch", "delete"];

/// The rules of built-in role `name`, if it is one.
pub fn rules(name: &str) -> Option<Vec<PolicyRule>> {
    match name {
        ADMIN => Some(vec![
            PolicyRule {
                verbs: strings(["*"]),
                api_groups: strings(["*"]),
                resources: strings(["*"]),
                ..PolicyRule::default()
            },
            PolicyRule {
                verbs: strings(["*"]),
                non_resource_urls: strings(["*"]),
                ..PolicyRule::default()
            },
        ]),
        WRITER => {
            let mut rules = per_group(
                |plural, group| (group != RBAC_GROUP && plural != "secrets").then_some(()),
                &[&READ[..], &WRITE[..]].concat(),
            );
            rules.push(PolicyRule {
                verbs: strings(WRITE),
                api_groups: strings([""]),
                resources: strings(["secrets"]),
                ..PolicyRule::default()
            });
            Some(rules)
        }
        READER => Some(per_group(
            |plural, group| (!(group.is_empty() && plural == "secrets")).then_some(()),
            &READ,
        )),
        _ => None,
    }
}

/// One rule per API group, naming the plurals `keep` admits.
fn per_group(keep: impl Fn(&str, &str) -> Option<()>, verbs: &[&str]) -> Vec<PolicyRule> {
    let mut groups: Vec<&str> = KINDS.iter().map(|k| k.meta.group).collect();
    groups.sort_unstable();
    groups.dedup();
    groups
        .into_iter()
        .filter_map(|group| {
            let resources: Vec<String> = KINDS
                .iter()
                .filter(|k| k.meta.group == group && keep(k.meta.plural, group).is_some())
                .map(|k| k.meta.plural.to_string())
                .collect();
            (!resources.is_empty()).then(|| PolicyRule {
                verbs: verbs.iter().map(|v| v.to_string()).collect(),
                api_groups: vec![group.to_string()],
                resources,
                ..PolicyRule::default()
            })
        })
        .collect()
}

fn strings<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
