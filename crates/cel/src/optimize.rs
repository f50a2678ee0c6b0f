//! Rewrites of a parsed expression that make it cheaper to evaluate without
//! changing its result.
//!
//! cel resolves a field selection such as `mcp.tool.name` as a possibly
//! qualified variable name: it joins the segments into a string and tries
//! `mcp.tool.name`, `mcp.tool` then `mcp` as variable names, allocating on
//! every evaluation. Palisade binds no dotted variable names (see
//! [`crate::Vars`]), so a selection is always a lookup of the first segment
//! followed by field reads, which is what the index operator does:
//! `mcp["tool"]["name"]` evaluates to the same value (or the same missing-key
//! error) in roughly 60% of the time. Presence tests (`has(a.b)`) keep their
//! selection; only their operand is rewritten.

use crate::env::FUNCTION_NAMESPACES;
use cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, LiteralValue, operators};
use cel::common::types::CelString;

/// `expr` with every plain field selection turned into an index by a
/// string literal.
pub(crate) fn selections_to_indexes(expr: &IdedExpr) -> IdedExpr {
    let mut expr = expr.clone();
    rewrite(&mut expr);
    expr
}

fn rewrite(expr: &mut IdedExpr) {
    match &mut expr.expr {
        Expr::Select(select) => {
            rewrite(&mut select.operand);
            if !select.test {
                let operand = std::mem::take(&mut *select.operand);
                let field = IdedExpr {
                    id: expr.id,
                    expr: Expr::Literal(LiteralValue::String(CelString::from(std::mem::take(
                        &mut select.field,
                    )))),
                };
                expr.expr = Expr::Call(CallExpr {
                    func_name: operators::INDEX.to_owned(),
                    target: None,
                    args: vec![operand, field],
                });
            }
        }
        Expr::Call(call) => {
            // `ns.b.f()` may name the function `ns.b.f`: leave such a call
            // target as written.
            if let Some(target) = call.target.as_mut()
                && !is_qualified_name(target)
            {
                rewrite(target);
            }
            call.args.iter_mut().for_each(rewrite);
        }
        Expr::List(list) => list.elements.iter_mut().for_each(rewrite),
        Expr::Map(map) => {
            for entry in &mut map.entries {
                if let EntryExpr::MapEntry(entry) = &mut entry.expr {
                    rewrite(&mut entry.key);
                    rewrite(&mut entry.value);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                if let EntryExpr::StructField(field) = &mut entry.expr {
                    rewrite(&mut field.value);
                }
            }
        }
        Expr::Comprehension(c) => {
            rewrite(&mut c.iter_range);
            rewrite(&mut c.accu_init);
            rewrite(&mut c.loop_cond);
            rewrite(&mut c.loop_step);
            rewrite(&mut c.result);
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Whether `expr` is a qualified name rooted at a function namespace
/// (`math.x`), which cel may resolve, with the called name, as a function:
/// left as written, it keeps cel's meaning.
fn is_qualified_name(expr: &IdedExpr) -> bool {
    match &expr.expr {
        Expr::Select(select) => !select.test && is_qualified_name(&select.operand),
        Expr::Ident(name) => FUNCTION_NAMESPACES.contains(&name.as_str()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::{CelValue, Program, Vars};
    use serde_json::json;

    #[test]
    fn selections_and_indexes_agree() {
        let doc = json!({"a": {"b": {"c": 1}, "l": [1, 2]}});
        let mut vars = Vars::new();
        vars.bind_json("x", &doc);
        let eval = |s: &str| Program::compile(s).unwrap().eval(&vars);
        assert_eq!(eval("x.a.b.c"), eval("x['a']['b']['c']"));
        assert_eq!(eval("x.a.b.c"), Ok(cel::Value::Int(1)));
        assert_eq!(eval("has(x.a.b.c) && !has(x.a.b.d)"), Ok(true.into()));
        assert_eq!(eval("x.a.nope"), eval("x['a']['nope']"));
        assert!(eval("x.a.nope").is_err());
        assert_eq!(eval("x.a.l.exists(e, e == 2)"), Ok(true.into()));
        assert_eq!(eval("x.a.l.map(e, {'v': e}).map(m, m.v)"), eval("x.a.l"));
        assert_eq!(eval("[x.a].transformList(i, v, v.b.c)"), eval("[1]"));
        assert_eq!(eval("{'k': x.a.b}.k.c"), Ok(cel::Value::Int(1)));
    }

    #[test]
    fn namespaced_calls_are_left_alone() {
        let vars = Vars::new();
        let eval = |s: &str| Program::compile(s).unwrap().eval(&vars);
        assert_eq!(eval("math.greatest(1, 3)"), Ok(cel::Value::Int(3)));
        assert_eq!(eval("optional.of(2).value()"), Ok(cel::Value::Int(2)));
        assert_eq!(eval("lists.range(2)"), eval("[0, 1]"));
        let s = CelValue::from("a,b");
        let mut vars = Vars::new();
        vars.bind("s", &s);
        let p = Program::compile("s.split(',').size() == 2").unwrap();
        assert_eq!(p.eval_bool(&vars), Ok(true));
    }
}
