//! Prompt guards: the regex and built-in detectors of `promptGuard.request` /
//! `promptGuard.response`, compiled once ([`GuardChain::compile`]), applied to text
//! after Unicode normalization ([`Normalized`]: NFKC, zero-width and bidi controls
//! removed) so that look-alike and invisible characters do not evade them.
//!
//! - [`GuardChain::check`] judges one text of a [`GuardScope`]: [`Verdict::Pass`],
//!   [`Verdict::Mask`] (matches replaced by labels such as `<CREDIT_CARD>`, mapped
//!   back to the original text) or [`Verdict::Reject`] (the entry's status and
//!   exact message).
//! - [`StreamScanner`] does the same over a stream of pieces, catching matches split
//!   across them, with bounded memory.
//! - Webhook and hosted guard services are [`Detector::External`]: the caller runs
//!   them (this crate does no IO).
//!
//! Patterns without regex metacharacters (the seed's `matches: ["credit card"]`)
//! are literals matched case-insensitively, whitespace-tolerant; patterns with
//! metacharacters follow Rust regex syntax and are case-sensitive unless they say
//! `(?i)`. Findings name the entry and detector, never the matched text.
//!
//! [`GuardScope`]: palisade_api::kinds::agentgateway::ai::GuardScope

mod builtin;
mod chain;
mod normalize;
mod stream;

pub use builtin::{ALL_BUILTINS, find as find_builtin, label};
pub use chain::{
    Detector, Finding, FindingKind, GuardChain, GuardError, GuardStep, PATTERN_DFA_SIZE_LIMIT,
    PATTERN_SIZE_LIMIT, Patterns, Verdict, is_literal,
};
pub use normalize::{Normalized, is_ignorable};
pub use stream::{MAX_HOLD, PRIVATE_KEY_HOLD, StreamOutput, StreamScanner, USER_PATTERN_WINDOW};
