//! Prompt guards: regex and built-in detectors compiled once from
//! `promptGuard.request` / `promptGuard.response`, applied to text after Unicode
//! normalization (NFKC; zero-width and bidi controls removed) so that look-alike
//! and invisible characters do not evade them.
//!
//! Patterns without regex metacharacters (the seed's `matches: ["credit card"]`)
//! match case-insensitively; patterns with metacharacters follow Rust regex
//! syntax and are case-sensitive unless they say `(?i)`.

mod builtin;
mod chain;
mod normalize;
mod stream;

pub use builtin::Builtin;
pub use chain::{Finding, GuardChain, GuardError, Verdict};
pub use normalize::Normalized;
pub use stream::{HOLD_BACK, StreamOutput, StreamScanner};
