//! A guard chain: the guard entries of one side (request or response) of a
//! `promptGuard`, compiled once, judging a piece of text of a given scope.

use std::ops::Range;
use std::sync::Arc;

use palisade_api::kinds::agentgateway::ai::{BuiltinPattern, GuardEntry, GuardScope, RegexAction};
use regex::{Regex, RegexBuilder};

use super::builtin::Builtin;
use super::normalize::Normalized;

/// Compiled-size limit of one user pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A guard that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// A pattern is not a valid (or is a too large) regex.
    #[error("guard {entry}: pattern {pattern:?} is not usable: {reason}")]
    Pattern {
        /// Index of the guard entry.
        entry: usize,
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

/// What matched, for audit: never the matched text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Index of the guard entry that matched.
    pub entry: usize,
    /// The built-in detector, or `None` for a user pattern.
    pub builtin: Option<BuiltinPattern>,
}

/// A chain's judgement of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing matched.
    Pass,
    /// Matches were replaced by labels.
    Mask {
        /// The masked text.
        text: String,
        /// What matched.
        findings: Vec<Finding>,
    },
    /// A rejecting guard matched.
    Reject {
        /// HTTP status to answer.
        status: u16,
        /// Body to answer, exactly.
        message: Arc<str>,
        /// What matched.
        finding: Finding,
    },
}

#[derive(Debug)]
enum Detector {
    Pattern(Regex),
    Builtin(Builtin),
}

#[derive(Debug)]
struct Entry {
    scopes: Vec<GuardScope>,
    detectors: Vec<Detector>,
    reject: bool,
    status: u16,
    message: Arc<str>,
    /// A webhook or hosted service the caller must run itself.
    external: bool,
}

/// One match, in original-text byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) range: Range<usize>,
    pub(crate) label: &'static str,
    pub(crate) finding: Finding,
    pub(crate) reject: bool,
}

/// The compiled guards of one side.
#[derive(Debug)]
pub struct GuardChain {
    entries: Vec<Entry>,
}

/// Whether a pattern has no regex metacharacters (matched case-insensitively).
fn is_literal(pattern: &str) -> bool {
    !pattern.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

impl GuardChain {
    /// Compiles guard entries, in order.
    pub fn compile(entries: &[GuardEntry]) -> Result<GuardChain, GuardError> {
        let mut compiled = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let mut detectors = Vec::new();
            let mut reject = false;
            if let Some(regex) = &entry.regex {
                reject = regex.action() == RegexAction::Reject;
                for pattern in &regex.matches {
                    let re = RegexBuilder::new(pattern)
                        .case_insensitive(is_literal(pattern))
                        .size_limit(REGEX_SIZE_LIMIT)
                        .dfa_size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| GuardError::Pattern {
                            entry: i,
                            pattern: pattern.clone(),
                            reason: e.to_string(),
                        })?;
                    detectors.push(Detector::Pattern(re));
                }
                detectors.extend(
                    regex
                        .builtins
                        .iter()
                        .map(|b| Detector::Builtin(Builtin::new(*b))),
                );
            }
            compiled.push(Entry {
                scopes: entry.scope().to_vec(),
                detectors,
                reject,
                status: entry.status_code(),
                message: Arc::from(entry.message()),
                external: entry.regex.is_none(),
            });
        }
        Ok(GuardChain { entries: compiled })
    }

    /// Whether some entry is a webhook or hosted guard service (the caller runs those).
    pub fn has_external(&self) -> bool {
        self.entries.iter().any(|e| e.external)
    }

    /// Whether any entry looks at `scope`.
    pub fn covers(&self, scope: GuardScope) -> bool {
        self.entries
            .iter()
            .any(|e| !e.external && e.scopes.contains(&scope))
    }

    /// Every match in `text` of the entries covering `scope`, in original offsets.
    pub(crate) fn hits(&self, scope: GuardScope, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        if !self.covers(scope) {
            return hits;
        }
        let normalized = Normalized::new(text);
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.external || !entry.scopes.contains(&scope) {
                continue;
            }
            for detector in &entry.detectors {
                let (ranges, label, builtin) = match detector {
                    Detector::Pattern(re) => (
                        re.find_iter(&normalized.text).map(|m| m.range()).collect(),
                        "<MASKED>",
                        None,
                    ),
                    Detector::Builtin(b) => (b.find(&normalized.text), b.label(), Some(b.kind)),
                };
                for range in ranges {
                    let range = normalized.original(range);
                    if range.is_empty() {
                        continue;
                    }
                    hits.push(Hit {
                        range,
                        label,
                        finding: Finding { entry: i, builtin },
                        reject: entry.reject,
                    });
                }
            }
        }
        hits
    }

    /// The rejection of the first rejecting entry among `hits`, if any.
    pub(crate) fn rejection(&self, hits: &[Hit]) -> Option<Verdict> {
        let hit = hits
            .iter()
            .filter(|h| h.reject)
            .min_by_key(|h| h.finding.entry)?;
        let entry = &self.entries[hit.finding.entry];
        Some(Verdict::Reject {
            status: entry.status,
            message: entry.message.clone(),
            finding: hit.finding.clone(),
        })
    }

    /// Judges `text` of `scope`: the first rejecting guard that matches rejects;
    /// otherwise every match of a masking guard is replaced by its label.
    pub fn check(&self, scope: GuardScope, text: &str) -> Verdict {
        let hits = self.hits(scope, text);
        if hits.is_empty() {
            return Verdict::Pass;
        }
        if let Some(reject) = self.rejection(&hits) {
            return reject;
        }
        let findings = hits.iter().map(|h| h.finding.clone()).collect();
        Verdict::Mask {
            text: mask(text, hits),
            findings,
        }
    }
}

/// Replaces the hits' ranges (merged where they overlap) with their labels.
pub(crate) fn mask(text: &str, mut hits: Vec<Hit>) -> String {
    hits.sort_by_key(|h| (h.range.start, std::cmp::Reverse(h.range.end)));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for hit in hits {
        if hit.range.end <= pos {
            continue;
        }
        if hit.range.start >= pos {
            out.push_str(&text[pos..hit.range.start]);
            out.push_str(hit.label);
        }
        pos = hit.range.end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_api::kinds::agentgateway::ai::{GuardResponse, RegexGuard};

    fn entry(matches: &[&str], builtins: &[BuiltinPattern], action: RegexAction) -> GuardEntry {
        GuardEntry {
            regex: Some(RegexGuard {
                matches: matches.iter().map(|s| s.to_string()).collect(),
                builtins: builtins.to_vec(),
                action: Some(action),
            }),
            ..GuardEntry::default()
        }
    }

    #[test]
    fn seed_guard_rejects_with_its_message() {
        let mut e = entry(&["credit card"], &[], RegexAction::Reject);
        e.response = Some(GuardResponse {
            message: Some("Rejected due to inappropriate content".into()),
            status_code: None,
        });
        let chain = GuardChain::compile(&[e]).unwrap();
        match chain.check(GuardScope::Messages, "What is a Credit\u{200B} Card?") {
            Verdict::Reject {
                status, message, ..
            } => {
                assert_eq!(status, 403);
                assert_eq!(&*message, "Rejected due to inappropriate content");
                assert_eq!(message.len(), 37);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            chain.check(GuardScope::Messages, "What is a debit account?"),
            Verdict::Pass
        );
        assert_eq!(
            chain.check(GuardScope::ToolInput, "credit card"),
            Verdict::Pass,
            "scope not covered"
        );
    }

    #[test]
    fn masks_builtins_and_patterns_in_order() {
        let chain = GuardChain::compile(&[
            entry(
                &[r"secret-\d+"],
                &[BuiltinPattern::Email],
                RegexAction::Mask,
            ),
            entry(&[], &[BuiltinPattern::CreditCard], RegexAction::Mask),
        ])
        .unwrap();
        let v = chain.check(
            GuardScope::Messages,
            "mail ann@example.com card ４１１１ 1111 1111 1111 code secret-42 é",
        );
        match v {
            Verdict::Mask { text, findings } => {
                assert_eq!(text, "mail <EMAIL> card <CREDIT_CARD> code <MASKED> é");
                assert_eq!(findings.len(), 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn case_rules_and_bad_patterns() {
        let chain =
            GuardChain::compile(&[entry(&["Secret[0-9]"], &[], RegexAction::Reject)]).unwrap();
        assert_eq!(
            chain.check(GuardScope::Messages, "secret1"),
            Verdict::Pass,
            "regex patterns are case-sensitive"
        );
        assert!(matches!(
            chain.check(GuardScope::Messages, "Secret1"),
            Verdict::Reject { .. }
        ));
        let err =
            GuardChain::compile(&[entry(&["(unclosed"], &[], RegexAction::Mask)]).unwrap_err();
        assert!(err.to_string().contains("(unclosed"), "{err}");
    }

    #[test]
    fn reject_beats_mask() {
        let chain = GuardChain::compile(&[
            entry(&[], &[BuiltinPattern::Email], RegexAction::Mask),
            entry(&["forbidden"], &[], RegexAction::Reject),
        ])
        .unwrap();
        assert!(matches!(
            chain.check(GuardScope::Messages, "a@b.io forbidden"),
            Verdict::Reject { .. }
        ));
    }
}
