//! Palisade's resource model: every kind a user can write, parsed from YAML or JSON with
//! line numbers, checked statically, with diagnostics a person can act on.
//!
//! Flow: [`load`] turns manifest text into [`load::Loaded`] resources (each with its
//! origin) and [`diag::Diagnostic`]s; [`snapshot::Snapshot`] holds a consistent set of
//! resources and runs the cross-resource checks (duplicates, dangling references).

pub mod check;
pub mod diag;
pub mod duration;
pub mod kinds;
pub mod load;
pub mod meta;
pub mod snapshot;
pub mod suggest;
pub mod time;
pub mod yaml;

pub use check::Severity;
pub use check::{Check, Checker};
pub use diag::Diagnostic;
pub use kinds::{Kind, KindMeta, Resource};
pub use meta::{Object, ObjectMeta};
