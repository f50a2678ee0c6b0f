//! cel-go's two-variable `transformList` on lists and maps:
//!
//! - `list.transformList(i, v, transform)`: `transform` for every element
//!   `v` at index `i`;
//! - `list.transformList(i, v, filter, transform)`: the same for the
//!   elements where `filter` is `true` only;
//! - on a map, `i` is a key and `v` its value.
//!
//! cel's interpreter has one iteration variable per comprehension, so the
//! macro iterates over `[i, v]` pairs built by an internal function and
//! rewrites the uses of `i` and `v` in `filter` and `transform` into
//! `pair[0]` and `pair[1]`. The result is the same append-only comprehension
//! as the standard `map(v, filter, transform)`, which cel evaluates into one
//! preallocated list.

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, ListExpr, LiteralValue, operators,
};
use cel::common::types::{CelInt, CelList, DYN_TYPE, Kind};
use cel::common::value::{CowVal, Val};
use cel::parser::{Macro, MacroExprHelper, ParseError};
use cel::{DeclarationError, Env, ExecutionError};

/// The internal function producing the `[i, v]` pairs; `@` keeps it out of
/// reach of CEL source.
const PAIRS: &str = "@palisade_pairs";

/// The accumulator, as named by cel's own `map` macro.
const RESULT: &str = "@result";

/// Declares the pairs function and the three- and four-argument macros.
pub(crate) fn declare(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(PAIRS, "palisade_pairs_dyn", vec![DYN_TYPE], pairs)?;
    env.add_macro(Macro::receiver("transformList", 3, expand))?;
    env.add_macro(Macro::receiver("transformList", 4, expand))
}

/// The `[index, element]` pairs of a list, or the `[key, value]` pairs of a
/// map.
fn pairs<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [target] = super::take_args(args)?;
    let kind = target.get_type().kind();
    let not_iterable = || {
        ExecutionError::no_such_member_overload(
            "transformList",
            vec![target.get_type().name().to_owned()],
        )
    };
    if !matches!(kind, Kind::List | Kind::Map) {
        return Err(not_iterable());
    }
    let mut items = target.as_iterable().ok_or_else(not_iterable)?.iter();
    let mut out: Vec<Box<dyn Val + 'v>> = Vec::new();
    let mut index: i64 = 0;
    while let Some(item) = items.next() {
        let pair: Vec<Box<dyn Val + 'v>> = if kind == Kind::List {
            vec![Box::new(CelInt::from(index)), item.clone_as_boxed()]
        } else {
            let value = target
                .as_indexer()
                .ok_or_else(not_iterable)?
                .get(item)?
                .into_owned();
            vec![item.clone_as_boxed(), value]
        };
        out.push(Box::new(CelList::from(pair)));
        index += 1;
    }
    Ok(CowVal::owned(CelList::from(out)))
}

/// Expands `target.transformList(i, v, [filter,] transform)`.
fn expand(
    helper: &mut MacroExprHelper<'_>,
    target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    let index = simple_name(helper, &args[0], "first")?;
    let value = simple_name(helper, &args[1], "second")?;
    if index == value {
        return Err(helper.new_error(
            args[1].id,
            format!(
                "transformList(): the index and the value need two different names, \
                 both are named '{value}'"
            ),
        ));
    }
    let mut transform = args.pop().expect("three or four arguments");
    let mut filter = (args.len() == 3).then(|| args.pop().expect("four arguments"));
    args.clear();

    let source = target.take().expect("a receiver macro has a target");
    let range = helper.next_expr(Expr::Call(CallExpr {
        func_name: PAIRS.to_owned(),
        target: None,
        args: vec![source],
    }));
    // One name per expansion, so that a nested transformList referring to
    // the outer `v` keeps reaching the outer pair.
    let pair = format!("@palisade_pair{}", range.id);
    let mut rewriter = Rewriter {
        helper,
        names: [(index, 0), (value, 1)],
        pair: &pair,
        shadowed: Vec::new(),
    };
    rewriter.rewrite(&mut transform);
    if let Some(filter) = filter.as_mut() {
        rewriter.rewrite(filter);
    }

    let accu = helper.next_expr(Expr::Ident(RESULT.to_owned()));
    let appended = helper.next_expr(Expr::List(ListExpr::new(vec![transform])));
    let mut step = helper.next_expr(Expr::Call(CallExpr {
        func_name: operators::ADD.to_owned(),
        target: None,
        args: vec![accu, appended],
    }));
    if let Some(filter) = filter {
        let unchanged = helper.next_expr(Expr::Ident(RESULT.to_owned()));
        step = helper.next_expr(Expr::Call(CallExpr {
            func_name: operators::CONDITIONAL.to_owned(),
            target: None,
            args: vec![filter, step, unchanged],
        }));
    }
    let comprehension = ComprehensionExpr {
        iter_range: range,
        iter_var: pair,
        iter_var2: None,
        accu_var: RESULT.to_owned(),
        accu_init: helper.next_expr(Expr::List(ListExpr::new(Vec::new()))),
        loop_cond: helper.next_expr(Expr::Literal(LiteralValue::Boolean(true.into()))),
        loop_step: step,
        result: helper.next_expr(Expr::Ident(RESULT.to_owned())),
    };
    Ok(Some(
        helper.next_expr(Expr::Comprehension(Box::new(comprehension))),
    ))
}

/// The name an iteration-variable argument spells, or an error saying the
/// `position` argument must be a name.
fn simple_name(
    helper: &MacroExprHelper<'_>,
    arg: &IdedExpr,
    position: &str,
) -> Result<String, ParseError> {
    match &arg.expr {
        Expr::Ident(name) => Ok(name.clone()),
        _ => Err(helper.new_error(
            arg.id,
            format!(
                "transformList(): the {position} argument must be a simple name, \
                 as in transformList(i, v, v + 1)"
            ),
        )),
    }
}

/// Replaces the free uses of the index and value names in an expression by
/// `pair[0]` and `pair[1]`.
struct Rewriter<'h, 'a, 'p> {
    helper: &'h mut MacroExprHelper<'a>,
    /// Each name with the position in the pair it stands for.
    names: [(String, i64); 2],
    pair: &'p str,
    /// Names bound by comprehensions enclosing the node being visited.
    shadowed: Vec<String>,
}

impl Rewriter<'_, '_, '_> {
    fn position_of(&self, name: &str) -> Option<i64> {
        if self.shadowed.iter().any(|s| s == name) {
            return None;
        }
        self.names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, position)| *position)
    }

    fn rewrite(&mut self, expr: &mut IdedExpr) {
        match &mut expr.expr {
            Expr::Ident(name) => {
                if let Some(position) = self.position_of(name) {
                    let pair = self.helper.next_expr(Expr::Ident(self.pair.to_owned()));
                    let at = self
                        .helper
                        .next_expr(Expr::Literal(LiteralValue::Int(position.into())));
                    expr.expr = Expr::Call(CallExpr {
                        func_name: operators::INDEX.to_owned(),
                        target: None,
                        args: vec![pair, at],
                    });
                }
            }
            Expr::Select(select) => self.rewrite(&mut select.operand),
            Expr::Call(call) => {
                if let Some(target) = call.target.as_mut() {
                    self.rewrite(target);
                }
                for arg in &mut call.args {
                    self.rewrite(arg);
                }
            }
            Expr::List(list) => {
                for element in &mut list.elements {
                    self.rewrite(element);
                }
            }
            Expr::Map(map) => {
                for entry in &mut map.entries {
                    if let EntryExpr::MapEntry(entry) = &mut entry.expr {
                        self.rewrite(&mut entry.key);
                        self.rewrite(&mut entry.value);
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &mut s.entries {
                    if let EntryExpr::StructField(field) = &mut entry.expr {
                        self.rewrite(&mut field.value);
                    }
                }
            }
            Expr::Comprehension(c) => {
                self.rewrite(&mut c.iter_range);
                self.rewrite(&mut c.accu_init);
                let bound = self.shadowed.len();
                self.shadowed.push(c.iter_var.clone());
                self.shadowed.extend(c.iter_var2.clone());
                self.shadowed.push(c.accu_var.clone());
                self.rewrite(&mut c.loop_cond);
                self.rewrite(&mut c.loop_step);
                self.rewrite(&mut c.result);
                self.shadowed.truncate(bound);
            }
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Program, Vars};
    use serde_json::json;

    fn eval(source: &str) -> serde_json::Value {
        Program::compile(source)
            .unwrap()
            .eval_json(&Vars::new())
            .unwrap()
    }

    #[test]
    fn index_and_value_are_bound() {
        assert_eq!(
            eval("[10, 20, 30].transformList(i, v, i * 100 + v)"),
            json!([10, 120, 230])
        );
        assert_eq!(
            eval("['a', 'b', 'c'].transformList(i, v, i > 0, v + string(i))"),
            json!(["b1", "c2"])
        );
        assert_eq!(eval("[].transformList(i, v, v)"), json!([]));
    }

    #[test]
    fn on_a_map_the_index_is_the_key() {
        assert_eq!(
            eval("{'a': 1, 'b': 2}.transformList(k, v, v > 1, k + '=' + string(v))"),
            json!(["b=2"])
        );
    }

    #[test]
    fn nested_and_shadowed_names_resolve_to_the_nearest_binding() {
        // the inner transformList reads the outer index
        assert_eq!(
            eval("[[1, 2], [3]].transformList(i, v, v.transformList(j, w, i * 10 + w))"),
            json!([[1, 2], [13]])
        );
        // the same names inside: the inner binding wins
        assert_eq!(
            eval("[[1, 2], [3]].transformList(i, v, v.transformList(i, v, i))"),
            json!([[0, 1], [0]])
        );
        // `map(v, ...)` rebinds v but not i
        assert_eq!(
            eval("[1, 2].transformList(i, v, [5].map(v, v + i))"),
            json!([[5], [6]])
        );
        // the range itself is evaluated outside the iteration
        assert_eq!(
            eval("[1, 2].transformList(i, v, [v, v].transformList(i, x, x + i))"),
            json!([[1, 2], [2, 3]])
        );
    }

    #[test]
    fn misuse_is_a_compile_error() {
        for source in [
            "[1].transformList(1, v, v)",
            "[1].transformList(i, v.x, v)",
            "[1].transformList(v, v, v)",
        ] {
            let error = Program::compile(source).unwrap_err();
            assert!(error.message().contains("transformList()"), "{error}");
            assert!(error.column().is_some(), "{error}");
        }
    }

    #[test]
    fn a_non_iterable_target_is_an_evaluation_error() {
        let program = Program::compile("'abc'.transformList(i, v, v)").unwrap();
        let error = program.eval(&Vars::new()).unwrap_err();
        assert!(error.to_string().contains("transformList"), "{error}");
    }
}
