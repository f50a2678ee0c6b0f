//! A small `WHERE` clause builder shared by both backends.
//!
//! The backends differ only in how a parameter is written (`?1` for SQLite, `$1`
//! for PostgreSQL), so filters are built once and rendered for either.

/// How a backend writes the n-th (1-based) parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Placeholders {
    /// `?1`, `?2`, ...
    Sqlite,
    /// `$1`, `$2`, ...
    Postgres,
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// Conditions joined with `AND`, and their parameters in order.
#[derive(Debug)]
pub(crate) struct Where {
    style: Placeholders,
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Where {
    pub(crate) fn new(style: Placeholders) -> Where {
        Where {
            style,
            clauses: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter and returns its placeholder.
    pub(crate) fn param(&mut self, value: Param) -> String {
        self.params.push(value);
        let n = self.params.len();
        match self.style {
            Placeholders::Sqlite => format!("?{n}"),
            Placeholders::Postgres => format!("${n}"),
        }
    }

    /// Adds `column <op> <param>`.
    pub(crate) fn compare(&mut self, column: &str, op: &str, value: Param) {
        let p = self.param(value);
        self.clauses.push(format!("{column} {op} {p}"));
    }

    /// Adds `column = value` when `value` is given.
    pub(crate) fn eq_opt(&mut self, column: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.compare(column, "=", Param::Text(v.to_string()));
        }
    }

    /// Adds a condition written by the caller (with placeholders from [`Where::param`]).
    pub(crate) fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `WHERE a AND b ...`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The parameters, in placeholder order.
    pub(crate) fn params(&self) -> &[Param] {
        &self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_styles() {
        for (style, expected) in [
            (Placeholders::Sqlite, "WHERE a = ?1 AND b >= ?2"),
            (Placeholders::Postgres, "WHERE a = $1 AND b >= $2"),
        ] {
            let mut w = Where::new(style);
            w.eq_opt("a", Some("x"));
            w.eq_opt("skipped", None);
            w.compare("b", ">=", Param::Int(3));
            assert_eq!(w.sql(), expected);
            assert_eq!(w.params(), &[Param::Text("x".into()), Param::Int(3)]);
        }
        assert_eq!(Where::new(Placeholders::Sqlite).sql(), "");
    }
}
