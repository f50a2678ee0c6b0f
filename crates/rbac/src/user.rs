//! Who is asking: a user name and the groups it belongs to.

use palisade_api::kinds::core::service_account_principal;

/// Group every authenticated user belongs to.
pub const AUTHENTICATED: &str = "system:authenticated";

/// An authenticated principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name: an OIDC identity, `system:serviceaccount:<ns>:<name>`, or
    /// the bootstrap admin.
    pub name: String,
    /// Groups, `system:authenticated` included.
    pub groups: Vec<String>,
}

impl User {
    /// A user with `groups` (plus `system:authenticated`).
    pub fn new(name: impl Into<String>, groups: impl IntoIterator<Item = String>) -> User {
        let mut groups: Vec<String> = groups.into_iter().collect();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.to_string());
        }
        User {
            name: name.into(),
            groups,
        }
    }

    /// The identity of ServiceAccount `namespace/name`, with Kubernetes' groups
    /// `system:serviceaccounts` and `system:serviceaccounts:<namespace>`.
    pub fn service_account(namespace: &str, name: &str) -> User {
        User::new(
            service_account_principal(namespace, name),
            [
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
            ],
        )
    }

    /// Parses `system:serviceaccount:<ns>:<name>` into `(ns, name)`.
    pub fn as_service_account(&self) -> Option<(&str, &str)> {
        let rest = self.name.strip_prefix("system:serviceaccount:")?;
        let (ns, name) = rest.split_once(':')?;
        (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
    }

    /// Whether the user belongs to `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_accounts_get_kubernetes_groups() {
        let sa = User::service_account("kagent", "test-reader");
        assert_eq!(sa.name, "system:serviceaccount:kagent:test-reader");
        assert!(sa.in_group("system:serviceaccounts:kagent"));
        assert!(sa.in_group(AUTHENTICATED));
        assert_eq!(sa.as_service_account(), Some(("kagent", "test-reader")));
        assert_eq!(User::new("alice", []).as_service_account(), None);
    }
}
