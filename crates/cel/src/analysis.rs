//! Which data an expression reads: its free variables and, where the
//! expression spells them out, the member paths below them.
//!
//! Used at load time to reject an expression that reads data not available
//! where it runs (a `jwt` in a phase before authentication, say) and to build
//! only the variables an expression needs. The analysis is conservative
//! about variables (every free name is listed) and best-effort about paths:
//! `jwt.scope`, `jwt["https://mcp-demo/roles"]` and `has(claims.groups)` are
//! paths; an index computed at evaluation time (`rolesMap[v]`) stops the path
//! at what precedes it (`rolesMap`).

use crate::env::FUNCTION_NAMESPACES;
use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue, operators};
use std::collections::BTreeSet;
use std::fmt;

/// A variable and the fields or keys selected below it, e.g.
/// `["jwt", "https://mcp-demo/roles"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributePath(Vec<String>);

impl AttributePath {
    /// The variable the path starts at.
    pub fn root(&self) -> &str {
        &self.0[0]
    }

    /// The variable, then each field or key, in order.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Whether `self` is `other` or a path below it (`jwt.scope` starts with
    /// `jwt`).
    pub fn starts_with(&self, other: &AttributePath) -> bool {
        self.0.starts_with(&other.0)
    }
}

/// Written as CEL would select it: `jwt.scope`, `jwt["https://x/roles"]`.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0[0])?;
        for segment in &self.0[1..] {
            if is_identifier(segment) {
                write!(f, ".{segment}")?;
            } else {
                write!(f, "[{segment:?}]")?;
            }
        }
        Ok(())
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The free variables of an expression and the paths it reads below them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    names: BTreeSet<String>,
    paths: BTreeSet<AttributePath>,
}

impl Variables {
    /// The variables the expression reads, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Whether the expression reads the variable `name`.
    pub fn reads(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The longest paths the expression reads, sorted. A variable used as a
    /// whole (`v in rolesMap`) is a one-segment path.
    pub fn paths(&self) -> impl Iterator<Item = &AttributePath> {
        self.paths.iter()
    }

    /// The variables read that are not among `available`, sorted: empty when
    /// the expression can run where only `available` are bound.
    pub fn missing_from<'s>(&'s self, available: &[&str]) -> Vec<&'s str> {
        self.names()
            .filter(|name| !available.contains(name))
            .collect()
    }

    /// Analyses a parsed (macro-expanded) expression.
    pub(crate) fn of(expr: &IdedExpr) -> Self {
        let mut walker = Walker {
            bound: Vec::new(),
            found: Variables::default(),
        };
        walker.visit(expr);
        walker.found
    }
}

struct Walker {
    /// Names bound by the comprehensions around the node being visited.
    bound: Vec<String>,
    found: Variables,
}

impl Walker {
    fn record(&mut self, path: Vec<String>) {
        self.found.names.insert(path[0].clone());
        self.found.paths.insert(AttributePath(path));
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|b| b == name)
    }

    /// The path `expr` spells: a free variable followed by field selections
    /// and indexes with literal keys.
    fn path_of(&self, expr: &IdedExpr) -> Option<Vec<String>> {
        match &expr.expr {
            Expr::Ident(name) if !self.is_bound(name) => Some(vec![name.clone()]),
            Expr::Select(select) => {
                let mut path = self.path_of(&select.operand)?;
                path.push(select.field.clone());
                Some(path)
            }
            Expr::Call(call) if call.target.is_none() && call.args.len() == 2 => {
                let selects = matches!(
                    call.func_name.as_str(),
                    operators::INDEX | operators::OPT_INDEX | operators::OPT_SELECT
                );
                let key = match &call.args[1].expr {
                    Expr::Literal(LiteralValue::String(s)) => s.inner().to_owned(),
                    _ => return None,
                };
                if !selects {
                    return None;
                }
                let mut path = self.path_of(&call.args[0])?;
                path.push(key);
                Some(path)
            }
            _ => None,
        }
    }

    fn visit(&mut self, expr: &IdedExpr) {
        if let Some(path) = self.path_of(expr) {
            self.record(path);
            return;
        }
        match &expr.expr {
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
            Expr::Select(select) => self.visit(&select.operand),
            Expr::Call(call) => {
                if let Some(target) = &call.target
                    && !self.names_a_namespace(target)
                {
                    self.visit(target);
                }
                for arg in &call.args {
                    self.visit(arg);
                }
            }
            Expr::List(list) => list.elements.iter().for_each(|e| self.visit(e)),
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.visit(&entry.key);
                        self.visit(&entry.value);
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.visit(&field.value);
                    }
                }
            }
            Expr::Comprehension(c) => {
                self.visit(&c.iter_range);
                self.visit(&c.accu_init);
                let depth = self.bound.len();
                self.bound.push(c.iter_var.clone());
                self.bound.extend(c.iter_var2.clone());
                self.bound.push(c.accu_var.clone());
                self.visit(&c.loop_cond);
                self.visit(&c.loop_step);
                self.visit(&c.result);
                self.bound.truncate(depth);
            }
        }
    }

    /// Whether a call target is a function namespace (`math` in
    /// `math.greatest(1, 2)`) rather than a value.
    fn names_a_namespace(&self, target: &IdedExpr) -> bool {
        matches!(&target.expr, Expr::Ident(name)
            if FUNCTION_NAMESPACES.contains(&name.as_str()) && !self.is_bound(name))
    }
}

#[cfg(test)]
mod tests {
    use crate::Program;

    fn analysed(source: &str) -> (Vec<String>, Vec<String>) {
        let program = Program::compile(source).unwrap();
        let vars = program.variables();
        (
            vars.names().map(str::to_owned).collect(),
            vars.paths().map(|p| p.to_string()).collect(),
        )
    }

    #[test]
    fn comprehension_variables_are_not_free() {
        let (names, paths) =
            analysed("request.headers.exists(h, h == x.y) && [1].map(z, z + w) == []");
        assert_eq!(names, ["request", "w", "x"]);
        assert_eq!(paths, ["request.headers", "w", "x.y"]);
    }

    #[test]
    fn computed_indexes_stop_the_path() {
        let (names, paths) = analysed("a.b[c.d].e == a['k'].f && has(m.n.o)");
        assert_eq!(names, ["a", "c", "m"]);
        assert_eq!(paths, ["a.b", "a.k.f", "c.d", "m.n.o"]);
    }

    #[test]
    fn function_namespaces_are_not_variables() {
        let (names, _) = analysed("math.greatest(1, x) == optional.of(y).value()");
        assert_eq!(names, ["x", "y"]);
    }

    #[test]
    fn a_shadowed_name_is_free_again_outside() {
        let (names, _) = analysed("[1].all(v, v > 0) && v == 1");
        assert_eq!(names, ["v"]);
    }

    #[test]
    fn paths_print_as_cel() {
        let (_, paths) = analysed("jwt['https://x/roles'] == jwt['a_b'] && j.k_1 == 1");
        assert_eq!(paths, ["j.k_1", "jwt.a_b", r#"jwt["https://x/roles"]"#]);
    }
}
