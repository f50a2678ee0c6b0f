//! Role-based access control for Palisade's API, with Kubernetes' semantics.
//!
//! An [`Authorizer`] is built once per configuration snapshot from its Roles,
//! ClusterRoles, RoleBindings and ClusterRoleBindings, plus Palisade's
//! [built-in roles](builtin) bound to groups of the same name. It answers
//! whether a [`User`] may perform an [`Action`] ([`Authorizer::decide`]),
//! whether a user already holds every permission of a role it wants to create
//! or bind ([`Authorizer::covers`], so RBAC cannot be used to escalate), and
//! phrases refusals the way kubectl users know them ([`forbidden_message`]).
//!
//! Only `allow` rules exist, as in Kubernetes: anything no rule grants is
//! denied.

pub mod builtin;
mod decide;
mod user;

pub use decide::{Action, Authorizer, Decision, forbidden_message};
pub use user::User;
