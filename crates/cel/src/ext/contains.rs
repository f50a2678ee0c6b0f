//! `contains()` on lists and maps.
//!
//! The standard library only has `string.contains(string)` (substring). JWT
//! claims are often lists (`roles`, `groups`) and policies written for other
//! gateways test them with `claims.roles.contains("admin")`; here that is
//! element membership, and `map.contains(k)` is key presence, both the same
//! test as CEL's `in` operator (`"admin" in claims.roles`).

use super::{boolean, take_args};
use cel::common::types::{DYN_TYPE, LIST_TYPE, MAP_TYPE};
use cel::common::value::CowVal;
use cel::{DeclarationError, Env, ExecutionError};

/// Declares `list.contains(dyn)` and `map.contains(dyn)`.
pub(crate) fn declare(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload(
        "contains",
        "palisade_list_contains",
        LIST_TYPE,
        vec![DYN_TYPE],
        contains,
    )?;
    env.add_member_overload(
        "contains",
        "palisade_map_contains",
        MAP_TYPE,
        vec![DYN_TYPE],
        contains,
    )
}

/// Whether the container (first argument) holds the second, as `in` decides.
fn contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [container, needle] = take_args(args)?;
    let found = container
        .as_container()
        .ok_or_else(|| {
            ExecutionError::no_such_member_overload(
                "contains",
                vec![
                    container.get_type().name().to_owned(),
                    needle.get_type().name().to_owned(),
                ],
            )
        })?
        .contains(needle.as_ref())?;
    Ok(boolean(found))
}

#[cfg(test)]
mod tests {
    use crate::{Program, Vars};

    fn eval(source: &str) -> Result<bool, crate::EvalError> {
        Program::compile(source).unwrap().eval_bool(&Vars::new())
    }

    #[test]
    fn strings_lists_and_maps() {
        assert_eq!(eval("'openid files:read'.contains('files:read')"), Ok(true));
        assert_eq!(eval("'openid'.contains('files:read')"), Ok(false));
        assert_eq!(eval("['user', 'admin'].contains('admin')"), Ok(true));
        assert_eq!(eval("['user'].contains('admin')"), Ok(false));
        assert_eq!(eval("[1, 2].contains(2)"), Ok(true));
        assert_eq!(eval("{'a': 1}.contains('a')"), Ok(true));
        assert_eq!(eval("{'a': 1}.contains('b')"), Ok(false));
    }

    #[test]
    fn other_receivers_are_errors() {
        assert!(eval("1.contains(1)").is_err());
        assert!(eval("'abc'.contains(1)").is_err());
    }
}
