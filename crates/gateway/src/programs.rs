//! Compiles every embedded program of a snapshot once: CEL expressions and regular
//! expressions, wherever the kinds' checks found them. A program that does not compile
//! is an error diagnostic at its field.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_api::check::{Finding, ProgramKind};
use palisade_api::diag::{Diagnostic, ResourceKey, Severity};
use palisade_api::snapshot::Snapshot;
use regex::Regex;

/// Limits on user-supplied regexes: compiled size, lazy-DFA cache, nesting.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 2 << 20;
const REGEX_NEST_LIMIT: u32 = 64;

/// Compiles a user-supplied regex with Palisade's resource limits. Matching is
/// linear-time (no backtracking).
pub fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
}

/// Every compiled program, by resource and field path.
#[derive(Debug, Default)]
pub struct Programs {
    cel: HashMap<(ResourceKey, String), Arc<palisade_cel::Program>>,
    regex: HashMap<(ResourceKey, String), Regex>,
}

impl Programs {
    /// Compiles every program the snapshot's resources carry.
    pub fn compile(snapshot: &Snapshot) -> (Programs, Vec<Diagnostic>) {
        let mut programs = Programs::default();
        let mut diagnostics = Vec::new();
        for loaded in snapshot.iter() {
            let key = loaded.key();
            for located in &loaded.findings {
                let Finding::Program { kind, source } = &located.finding else {
                    continue;
                };
                match kind {
                    ProgramKind::Cel => match palisade_cel::Program::compile(source) {
                        Ok(p) => {
                            programs.cel.insert((key.clone(), located.path.clone()), Arc::new(p));
                        }
                        Err(e) => diagnostics.push(loaded.diagnostic(
                            Severity::Error,
                            &located.path,
                            format!("invalid CEL expression: {e}"),
                            "fix the expression; see the CEL language definition for syntax",
                        )),
                    },
                    ProgramKind::Regex => match compile_regex(source) {
                        Ok(re) => {
                            programs.regex.insert((key.clone(), located.path.clone()), re);
                        }
                        Err(e) => diagnostics.push(loaded.diagnostic(
                            Severity::Error,
                            &located.path,
                            format!("invalid regular expression {source:?}: {}", one_line(&e.to_string())),
                            "use Rust regex syntax (no look-around or backreferences); escape special characters with \\",
                        )),
                    },
                }
            }
        }
        (programs, diagnostics)
    }

    /// The compiled CEL program at `path` of resource `key`.
    pub fn cel(&self, key: &ResourceKey, path: &str) -> Option<&Arc<palisade_cel::Program>> {
        self.cel.get(&(key.clone(), path.to_string()))
    }

    /// The compiled regex at `path` of resource `key`.
    pub fn regex(&self, key: &ResourceKey, path: &str) -> Option<&Regex> {
        self.regex.get(&(key.clone(), path.to_string()))
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
