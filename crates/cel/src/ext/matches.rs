//! `matches()` without compiling the regular expression on every evaluation.
//!
//! cel's standard `matches` compiles its pattern each time it runs (tens of
//! microseconds for a modest pattern). When the pattern is a string literal,
//! as it is in practically every policy, a macro compiles it while the
//! expression is compiled, keeps it in a process-wide table keyed by the
//! pattern, and rewrites the call to an internal function that looks the
//! compiled pattern up. A pattern that does not compile is then a compile
//! error instead of an evaluation error. A pattern computed at evaluation time
//! still goes to the standard `matches`.

use super::{boolean, take_args};
use cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue};
use cel::common::types::{CelString, STRING_TYPE};
use cel::common::value::CowVal;
use cel::parser::{Macro, MacroExprHelper, ParseError};
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// The internal function calls are rewritten to. `@` cannot start a name in
/// CEL source, so no expression can call it directly.
const MATCHES: &str = "@palisade_matches";

/// Most patterns kept compiled. Past it, a new pattern is compiled on every
/// evaluation (as the standard `matches` does): a bound on memory for a
/// process that keeps loading configurations with new patterns.
const CACHE_MAX: usize = 4096;

/// Largest compiled form a pattern may take, in bytes (the regex crate's
/// default is 10 MiB, too generous for a per-request check).
const SIZE_LIMIT: usize = 1 << 20;

type Cache = RwLock<HashMap<Box<str>, Arc<Regex>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The compiled `pattern`, from the table or compiled now (and kept while
/// the table has room).
pub(crate) fn compiled(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    if let Some(regex) = cache()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pattern)
    {
        return Ok(Arc::clone(regex));
    }
    let regex = Arc::new(
        regex::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .build()?,
    );
    let mut table = cache().write().unwrap_or_else(PoisonError::into_inner);
    if table.len() < CACHE_MAX {
        table.insert(pattern.into(), Arc::clone(&regex));
    }
    Ok(regex)
}

/// Declares the internal function and the `matches` macros, receiver style
/// (`s.matches("re")`) and global (`matches(s, "re")`).
pub(crate) fn declare(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(
        MATCHES,
        "palisade_matches_string_string",
        vec![STRING_TYPE, STRING_TYPE],
        matches,
    )?;
    env.add_macro(Macro::receiver("matches", 1, receiver_matches))?;
    env.add_macro(Macro::global("matches", 2, global_matches))
}

/// Evaluates the rewritten call: the subject against the pattern, compiled
/// when the expression was.
fn matches<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [subject, pattern] = take_args(args)?;
    let (Some(subject_str), Some(pattern_str)) = (
        subject.downcast_ref::<CelString>(),
        pattern.downcast_ref::<CelString>(),
    ) else {
        // The overload is declared for two strings: unreachable in practice.
        return Err(ExecutionError::UnexpectedType {
            got: format!(
                "{}, {}",
                subject.get_type().name(),
                pattern.get_type().name()
            ),
            want: "string, string".to_owned(),
        });
    };
    let regex =
        compiled(pattern_str.inner()).map_err(|e| ExecutionError::function_error("matches", e))?;
    Ok(boolean(regex.is_match(subject_str.inner())))
}

/// `subject.matches("literal")`.
fn receiver_matches(
    helper: &mut MacroExprHelper<'_>,
    target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    if literal_pattern(&args[0]).is_none() {
        return Ok(None);
    }
    let pattern = args.remove(0);
    check(helper, &pattern)?;
    let subject = target.take().expect("a receiver macro has a target");
    Ok(Some(rewrite(helper, subject, pattern)))
}

/// `matches(subject, "literal")`.
fn global_matches(
    helper: &mut MacroExprHelper<'_>,
    _target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    if literal_pattern(&args[1]).is_none() {
        return Ok(None);
    }
    let pattern = args.remove(1);
    let subject = args.remove(0);
    check(helper, &pattern)?;
    Ok(Some(rewrite(helper, subject, pattern)))
}

fn literal_pattern(expr: &IdedExpr) -> Option<&str> {
    match &expr.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner()),
        _ => None,
    }
}

/// Compiles the literal pattern now (keeping it for evaluations); a pattern
/// that does not compile fails the expression's compilation.
fn check(helper: &MacroExprHelper<'_>, pattern: &IdedExpr) -> Result<(), ParseError> {
    let text = literal_pattern(pattern).unwrap_or_default();
    compiled(text).map(drop).map_err(|e| {
        helper.new_error(
            pattern.id,
            format!(
                "matches(): invalid regular expression {text:?}: {}",
                regex_reason(&e)
            ),
        )
    })
}

/// The reason a pattern was refused, on one line: the regex crate's syntax
/// errors quote the pattern over several lines and end with the reason.
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

fn rewrite(helper: &mut MacroExprHelper<'_>, subject: IdedExpr, pattern: IdedExpr) -> IdedExpr {
    helper.next_expr(Expr::Call(CallExpr {
        func_name: MATCHES.to_owned(),
        target: None,
        args: vec![subject, pattern],
    }))
}

#[cfg(test)]
mod tests {
    use super::cache;
    use crate::{Program, Vars};

    fn eval(source: &str) -> Result<bool, crate::EvalError> {
        Program::compile(source).unwrap().eval_bool(&Vars::new())
    }

    #[test]
    fn literal_patterns_are_compiled_with_the_expression() {
        let pattern = "^palisade-[0-9]+-unique-test$";
        let program = Program::compile(&format!("name.matches('{pattern}')")).unwrap();
        assert!(cache().read().unwrap().contains_key(pattern));
        let name = crate::CelValue::from("palisade-42-unique-test");
        let mut vars = Vars::new();
        vars.bind("name", &name);
        assert_eq!(program.eval_bool(&vars), Ok(true));
    }

    #[test]
    fn both_call_styles_and_computed_patterns() {
        assert_eq!(eval("'credit card'.matches('credit\\\\s+card')"), Ok(true));
        assert_eq!(eval("matches('abc', '^b')"), Ok(false));
        assert_eq!(eval("'abc'.matches('^' + 'a')"), Ok(true));
        assert_eq!(eval("matches('abc', 'c' + '$')"), Ok(true));
    }

    #[test]
    fn an_invalid_literal_pattern_is_a_compile_error() {
        let error = Program::compile("x.matches('(unclosed')").unwrap_err();
        assert!(
            error
                .message()
                .starts_with("matches(): invalid regular expression"),
            "{error}"
        );
        assert!(!error.message().contains('\n'), "{error}");
        assert_eq!(error.column(), Some(11));
        // computed at evaluation time, it can only fail then
        assert!(eval("'x'.matches('(' + 'unclosed')").is_err());
    }
}
