//! [`Program`]: an expression compiled once, evaluated many times.

use crate::analysis::Variables;
use crate::error::{CompileError, EvalError};
use crate::vars::Vars;
use crate::{env, optimize};
use cel::common::types::{CelBool, CelString};
use cel::common::value::Val;
use cel::context::Context;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Longest expression accepted, in bytes. Policies are one-liners; the bound
/// keeps a pathological configuration from tying up the parser.
pub const MAX_SOURCE_LEN: usize = 16 * 1024;

/// A compiled CEL expression.
///
/// Compile when configuration loads, share (it is `Send + Sync`; wrap it in
/// an `Arc` to share it between plans) and evaluate per request with
/// [`eval_bool`](Program::eval_bool) and friends. Evaluation never panics on
/// bad data: a missing key, an absent claim, a value of the wrong type all
/// come back as an [`EvalError`].
pub struct Program {
    source: Box<str>,
    /// The parsed expression, rewritten for evaluation (see
    /// [`crate::optimize`]).
    expr: cel::parser::Expression,
    variables: Variables,
}

impl Program {
    /// Parses `source`, expanding macros (`has`, `map`, `transformList`, ...),
    /// compiling literal `matches()` patterns and analysing which variables it
    /// reads.
    ///
    /// # Errors
    ///
    /// A [`CompileError`] naming the problem and where it is: a syntax error,
    /// a macro used wrongly (`transformList(1, v, v)`), an invalid
    /// `matches()` pattern, an empty or oversized expression.
    pub fn compile(source: &str) -> Result<Program, CompileError> {
        if source.trim().is_empty() {
            return Err(CompileError::new(
                source,
                "the expression is empty",
                None,
                None,
            ));
        }
        if source.len() > MAX_SOURCE_LEN {
            return Err(CompileError::new(
                "",
                format!(
                    "the expression is {} bytes long, more than the {MAX_SOURCE_LEN} allowed",
                    source.len()
                ),
                None,
                None,
            ));
        }
        let parsed =
            catch_unwind(AssertUnwindSafe(|| env::env().compile(source))).map_err(|_| {
                CompileError::new(
                    source,
                    "the CEL parser failed on this expression",
                    None,
                    None,
                )
            })?;
        let program = parsed.map_err(|errors| from_parse_errors(source, &errors))?;
        let variables = Variables::of(program.expression());
        Ok(Program {
            source: source.into(),
            expr: optimize::selections_to_indexes(program.expression()),
            variables,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables (and paths below them) the expression reads.
    pub fn variables(&self) -> &Variables {
        &self.variables
    }

    /// Evaluates to a boolean; any other result is an error.
    pub fn eval_bool(&self, vars: &Vars<'_>) -> Result<bool, EvalError> {
        self.run(vars, |value| {
            value
                .downcast_ref::<CelBool>()
                .map(|b| *b.inner())
                .ok_or_else(|| unexpected("bool", value))
        })
    }

    /// Evaluates to cel's [`cel::Value`].
    pub fn eval(&self, vars: &Vars<'_>) -> Result<cel::Value, EvalError> {
        self.run(vars, |value| Ok(cel::Value::try_from(value)?))
    }

    /// Evaluates to JSON: lists to arrays, maps to objects (keys written as
    /// strings), bytes to base64 strings.
    pub fn eval_json(&self, vars: &Vars<'_>) -> Result<serde_json::Value, EvalError> {
        let value = self.eval(vars)?;
        value.json().map_err(|e| EvalError::NotJson(e.to_string()))
    }

    /// Evaluates to a list of strings, e.g. the roles a `roleMapper`
    /// expression maps a user's groups to.
    pub fn eval_strings(&self, vars: &Vars<'_>) -> Result<Vec<String>, EvalError> {
        self.run(vars, |value| {
            let not_a_list = || unexpected("list(string)", value);
            let mut items = value.as_iterable().ok_or_else(not_a_list)?.iter();
            if value.get_type().kind() != cel::common::types::Kind::List {
                return Err(not_a_list());
            }
            let mut out = Vec::new();
            while let Some(item) = items.next() {
                let s = item
                    .downcast_ref::<CelString>()
                    .ok_or_else(|| unexpected("list(string)", item))?;
                out.push(s.inner().to_owned());
            }
            Ok(out)
        })
    }

    /// Evaluates in a child scope of the shared root context, with `vars` as
    /// the variables, and hands the result to `read`.
    fn run<R>(
        &self,
        vars: &Vars<'_>,
        read: impl FnOnce(&dyn Val) -> Result<R, EvalError>,
    ) -> Result<R, EvalError> {
        let root: &Context<'_, '_> = env::root();
        let mut scope = root.new_inner_scope();
        scope.set_variable_resolver(vars);
        let evaluated = catch_unwind(AssertUnwindSafe(|| {
            let value = cel::Value::resolve_val(&self.expr, &scope)?;
            read(value.as_ref())
        }));
        evaluated.unwrap_or_else(|_| {
            Err(EvalError::Execution(cel::ExecutionError::InternalError(
                "the CEL interpreter failed on this expression".to_owned(),
            )))
        })
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("source", &self.source)
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

fn unexpected(expected: &'static str, value: &dyn Val) -> EvalError {
    EvalError::UnexpectedType {
        expected,
        got: value.get_type().name().to_owned(),
    }
}

/// The first parse error, positioned, with a count of the others.
fn from_parse_errors(source: &str, errors: &cel::ParseErrors) -> CompileError {
    let Some(first) = errors.errors.first() else {
        return CompileError::new(source, "the expression could not be parsed", None, None);
    };
    let (line, column) = first.pos;
    let line = usize::try_from(line).ok().filter(|l| *l > 0);
    let column = usize::try_from(column).ok().filter(|_| line.is_some());
    if first.msg.contains("Recursion limit") {
        let message = "the expression nests too deeply (more than 96 levels of parentheses, \
                       brackets or operators)";
        return CompileError::new(source, message, None, None);
    }
    let mut message = first.msg.clone();
    if errors.errors.len() > 1 {
        message.push_str(&format!(" (and {} more errors)", errors.errors.len() - 1));
    }
    CompileError::new(source, message, line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CelValue;
    use serde_json::json;

    #[test]
    fn programs_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Program>();
        assert_send_sync::<CelValue>();
        assert_send_sync::<Vars<'static>>();
    }

    #[test]
    fn syntax_errors_say_where() {
        let error = Program::compile("mcp.tool.name == ").unwrap_err();
        assert!(error.message().starts_with("Syntax error"), "{error}");
        assert_eq!((error.line(), error.column()), (Some(1), Some(18)));
        assert!(error.to_string().contains("mcp.tool.name =="), "{error}");

        let error = Program::compile("a &&\n(b ||)").unwrap_err();
        assert_eq!(error.line(), Some(2), "{error}");
        assert!(error.snippet().starts_with("  (b ||)"), "{error}");

        let error = Program::compile("has(jwt)").unwrap_err();
        assert!(error.message().contains("has()"), "{error}");
    }

    #[test]
    fn empty_oversized_and_deep_expressions_are_refused() {
        assert!(Program::compile("  ").is_err());
        let long = format!("x == '{}'", "a".repeat(MAX_SOURCE_LEN));
        assert!(
            Program::compile(&long)
                .unwrap_err()
                .message()
                .contains("allowed")
        );
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        let error = Program::compile(&deep).unwrap_err();
        assert!(error.message().contains("nests too deeply"), "{error}");
    }

    #[test]
    fn results_by_type() {
        let p = |s: &str| Program::compile(s).unwrap();
        let vars = Vars::new();
        assert_eq!(p("1 < 2").eval_bool(&vars), Ok(true));
        assert_eq!(
            p("'x'").eval_bool(&vars),
            Err(EvalError::UnexpectedType {
                expected: "bool",
                got: "string".to_owned()
            })
        );
        assert_eq!(
            p("{'a': [1, 'b', true, null, 2.5]}").eval_json(&vars),
            Ok(json!({"a": [1, "b", true, null, 2.5]}))
        );
        assert_eq!(
            p("['a', 'b']").eval_strings(&vars),
            Ok(vec!["a".into(), "b".into()])
        );
        assert!(p("['a', 1]").eval_strings(&vars).is_err());
        assert!(p("{'a': 'b'}").eval_strings(&vars).is_err());
        assert_eq!(p("1 + 2").eval(&vars), Ok(cel::Value::Int(3)));
    }

    #[test]
    fn evaluation_failures_are_errors() {
        let vars = Vars::new();
        for source in ["nope == 1", "1 / 0", "'a' + 1", "[1][5]", "{'a': 1}.b"] {
            assert!(
                Program::compile(source).unwrap().eval(&vars).is_err(),
                "{source}"
            );
        }
    }

    #[test]
    fn variables_bind_by_reference_as_json_or_owned() {
        let claims = CelValue::from_json(&json!({"sub": "alice", "exp": 1_700_000_000u64}));
        let doc = json!({"tool": {"name": "echo"}});
        let mut vars = Vars::new();
        vars.bind("jwt", &claims)
            .bind_json("mcp", &doc)
            .bind_owned("n", CelValue::from(3))
            .bind_owned("l", CelValue::list([CelValue::from("x"), CelValue::null()]))
            .bind_owned("m", CelValue::map([("k", CelValue::from(true))]));
        let program = Program::compile(
            "jwt.sub == 'alice' && jwt.exp > 1600000000 && mcp.tool.name == 'echo' \
             && n == 3 && l[1] == null && m.k",
        )
        .unwrap();
        assert_eq!(program.eval_bool(&vars), Ok(true));
        assert!(vars.contains("mcp") && !vars.contains("other"));
        // the latest binding of a name wins
        vars.bind_owned("n", CelValue::from(4));
        assert_eq!(program.eval_bool(&vars), Ok(false));
    }

    #[test]
    fn json_numbers_keep_their_kind() {
        let doc = json!({"i": -1, "u": u64::MAX, "d": 0.5});
        let mut vars = Vars::new();
        vars.bind_json("n", &doc);
        let p =
            Program::compile("[type(n.i), type(n.u), type(n.d)] == [int, uint, double]").unwrap();
        assert_eq!(p.eval_bool(&vars), Ok(true));
    }
}
