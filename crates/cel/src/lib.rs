//! CEL for Palisade: compile once, evaluate fast.
//!
//! A thin layer over the [`cel`] crate:
//!
//! - [`Program::compile`] parses an expression once, when configuration
//!   loads, and reports a [`CompileError`] a person can act on;
//! - [`Program::variables`] tells which variables (and member paths) the
//!   expression reads, so a loader can reject an expression that reads data
//!   not available where it runs, and a caller can build only what is read;
//! - evaluation ([`Program::eval_bool`], [`Program::eval`], ...) runs in a
//!   child scope of one shared environment built once per process
//!   ([`init`]), with the variables of a [`Vars`]: no function table is
//!   rebuilt per evaluation, and data converted once ([`CelValue`]) is bound
//!   by reference;
//! - extensions used by kagent and agentgateway policies: two-variable
//!   `transformList`, `contains` on lists and maps, and `matches` with its
//!   pattern compiled at load time.
//!
//! Evaluation errors (a missing key or claim, a wrong type) are returned,
//! never raised as panics; authorization callers treat them as `false`.
//!
//! JSON numbers become CEL `int` when they fit an `i64`, `uint` when they
//! only fit a `u64` and `double` otherwise.

mod analysis;
mod convert;
mod env;
mod error;
mod ext;
mod optimize;
mod program;
mod vars;

#[cfg(test)]
mod tests;

pub use analysis::{AttributePath, Variables};
pub use env::init;
pub use error::{CompileError, EvalError};
pub use program::{MAX_SOURCE_LEN, Program};
pub use vars::{CelValue, Vars};

/// The underlying interpreter, for callers that need its types
/// ([`cel::Value`], [`cel::ExecutionError`]).
pub use cel;
