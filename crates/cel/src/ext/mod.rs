//! Palisade's extensions to CEL, beyond cel's standard library and its
//! strings, lists and math extensions:
//!
//! - [`transform_list`]: cel-go's two-variable `transformList(i, v, [filter,]
//!   transform)` on lists and maps, as used by kagent's `roleMapper`;
//! - [`contains`]: `contains()` on lists (element) and maps (key), next to
//!   the standard substring `contains()` on strings;
//! - [`matches`]: `matches()` with a literal pattern compiles the pattern
//!   once, when the expression is compiled, instead of on every evaluation.

pub(crate) mod contains;
pub(crate) mod matches;
pub(crate) mod transform_list;

use cel::common::value::CowVal;
use cel::{DeclarationError, Env, ExecutionError};

/// Declares every Palisade extension on `env`.
pub(crate) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    contains::declare(env)?;
    matches::declare(env)?;
    transform_list::declare(env)?;
    Ok(())
}

/// `args` as the `N` arguments of an overload.
fn take_args<'b, 'v, const N: usize>(
    args: Vec<CowVal<'b, 'v>>,
) -> Result<[CowVal<'b, 'v>; N], ExecutionError> {
    let count = args.len();
    args.try_into()
        .map_err(|_| ExecutionError::invalid_argument_count(N, count))
}

/// A boolean result without an allocation.
fn boolean<'b, 'v>(value: bool) -> CowVal<'b, 'v> {
    static TRUE: cel::common::types::CelBool = cel::common::types::CelBool::TRUE;
    static FALSE: cel::common::types::CelBool = cel::common::types::CelBool::FALSE;
    CowVal::Borrowed(if value { &TRUE } else { &FALSE })
}
