//! A guard chain: the guard entries of one side (request or response) of a
//! `promptGuard`, compiled once when configuration loads, judging texts of a scope.

use std::ops::Range;
use std::sync::Arc;

use palisade_api::kinds::agentgateway::ai::{BuiltinPattern, GuardEntry, GuardScope, RegexAction};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder, SetMatches};

use super::builtin;
use super::normalize::Normalized;

/// Compiled-size limit of one user pattern (`RegexBuilder::size_limit`).
pub const PATTERN_SIZE_LIMIT: usize = 2 << 20;
/// Lazy-DFA cache limit of one user pattern (`RegexBuilder::dfa_size_limit`).
pub const PATTERN_DFA_SIZE_LIMIT: usize = 2 << 20;
/// Limits of the chain's one-pass prefilter; past them the chain runs without it.
const SET_SIZE_LIMIT: usize = 16 << 20;
const SET_DFA_SIZE_LIMIT: usize = 8 << 20;

/// A guard entry that cannot be compiled. `entry` is the index in the list given to
/// [`GuardChain::compile`] (`promptGuard.request` or `promptGuard.response`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// A pattern is not valid Rust regex syntax.
    #[error(
        "guard {entry}: regex.matches[{index}] {pattern:?} is not a valid Rust regex: {reason}; \
         fix the syntax, or escape regex metacharacters with a backslash"
    )]
    InvalidPattern {
        /// Index of the guard entry.
        entry: usize,
        /// Index of the pattern in `regex.matches`.
        index: usize,
        /// The pattern (shortened when long).
        pattern: String,
        /// The regex parser's explanation.
        reason: String,
    },
    /// A pattern compiles to a program larger than [`PATTERN_SIZE_LIMIT`].
    #[error(
        "guard {entry}: regex.matches[{index}] {pattern:?} compiles to more than {limit} bytes; \
         simplify it (smaller repetition counts, ASCII classes such as (?-u:\\w))"
    )]
    PatternTooLarge {
        /// Index of the guard entry.
        entry: usize,
        /// Index of the pattern in `regex.matches`.
        index: usize,
        /// The pattern (shortened when long).
        pattern: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The entry sets no detector.
    #[error(
        "guard {entry}: no detector; set one of regex, webhook, openAIModeration, \
         bedrockGuardrails, googleModelArmor"
    )]
    NoDetector {
        /// Index of the guard entry.
        entry: usize,
    },
    /// The regex detector has neither patterns nor built-ins.
    #[error("guard {entry}: regex sets neither matches nor builtins; add at least one")]
    EmptyRegex {
        /// Index of the guard entry.
        entry: usize,
    },
}

/// Which detector of a guard entry matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// A built-in detector.
    Builtin(BuiltinPattern),
    /// A user pattern: its index in `regex.matches`.
    Pattern(usize),
}

impl FindingKind {
    /// The mask label: `<CREDIT_CARD>`, ... for built-ins, `<MASKED>` for patterns.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Builtin(b) => builtin::label(b),
            FindingKind::Pattern(_) => "<MASKED>",
        }
    }
}

/// What matched, for audit: the entry, the detector and how often; never the
/// matched text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Finding {
    /// Index of the guard entry.
    pub entry: usize,
    /// The detector.
    pub kind: FindingKind,
    /// Number of matches.
    pub count: usize,
}

/// Adds one match to `findings` (one element per entry and detector).
pub(crate) fn add_finding(findings: &mut Vec<Finding>, entry: usize, kind: FindingKind, n: usize) {
    match findings
        .iter_mut()
        .find(|f| f.entry == entry && f.kind == kind)
    {
        Some(f) => f.count += n,
        None => findings.push(Finding {
            entry,
            kind,
            count: n,
        }),
    }
}

/// A chain's judgement of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing matched.
    Pass,
    /// Masking guards matched: the text with each match replaced by its label.
    Mask {
        /// The masked text.
        text: String,
        /// What was masked.
        findings: Vec<Finding>,
    },
    /// A rejecting guard matched (the first in order).
    Reject {
        /// HTTP status to answer ([`GuardEntry::status_code`]).
        status: u16,
        /// Body to answer, exactly ([`GuardEntry::message`]).
        message: Arc<str>,
        /// Index of the guard entry.
        entry: usize,
        /// The detector that matched first.
        kind: FindingKind,
    },
}

/// A guard entry's detector.
#[derive(Debug)]
pub enum Detector {
    /// Regex patterns and built-ins, run by the chain.
    Patterns(Patterns),
    /// A webhook, OpenAI moderation, Bedrock guardrails or Google Model Armor guard:
    /// the caller runs it (this crate does no IO). Holds the entry's index.
    External(usize),
}

/// The compiled `regex` detector of an entry.
#[derive(Debug)]
pub struct Patterns {
    /// Built-ins (deduplicated, in order) and their trigger in the chain's set.
    builtins: Vec<(BuiltinPattern, usize)>,
    /// User patterns, in order.
    user: Vec<UserPattern>,
}

#[derive(Debug)]
struct UserPattern {
    regex: Regex,
    trigger: usize,
    literal: bool,
}

impl Patterns {
    /// The built-in detectors, in order.
    pub fn builtins(&self) -> impl Iterator<Item = BuiltinPattern> + '_ {
        self.builtins.iter().map(|(b, _)| *b)
    }

    /// The number of user patterns.
    pub fn pattern_count(&self) -> usize {
        self.user.len()
    }

    /// Whether user pattern `i` was taken as a literal (case-insensitive).
    pub fn is_literal(&self, i: usize) -> bool {
        self.user.get(i).is_some_and(|u| u.literal)
    }

    /// The regex user pattern `i` compiled to (literals: escaped, `(?i)`, `\s+`
    /// between words).
    pub fn compiled_pattern(&self, i: usize) -> Option<&str> {
        self.user.get(i).map(|u| u.regex.as_str())
    }

    fn has_private_key(&self) -> bool {
        self.builtins
            .iter()
            .any(|(b, _)| *b == BuiltinPattern::PrivateKey)
    }

    /// Appends the matches in normalized `text`; stops at the first when `first_only`.
    fn detect(
        &self,
        text: &str,
        fired: &Fired,
        first_only: bool,
        out: &mut Vec<(Range<usize>, FindingKind)>,
    ) {
        let mut ranges = Vec::new();
        for &(kind, trigger) in &self.builtins {
            if !fired.has(trigger) {
                continue;
            }
            builtin::find(kind, text, &mut ranges);
            out.extend(ranges.drain(..).map(|r| (r, FindingKind::Builtin(kind))));
            if first_only && !out.is_empty() {
                return;
            }
        }
        for (i, u) in self.user.iter().enumerate() {
            if !fired.has(u.trigger) {
                continue;
            }
            for m in u.regex.find_iter(text) {
                if m.is_empty() {
                    continue;
                }
                out.push((m.range(), FindingKind::Pattern(i)));
                if first_only {
                    return;
                }
            }
        }
    }

    fn user_spans(&self, text: &str, out: &mut Vec<Range<usize>>) {
        for u in &self.user {
            out.extend(
                u.regex
                    .find_iter(text)
                    .filter(|m| !m.is_empty())
                    .map(|m| m.range()),
            );
        }
    }
}

/// One compiled guard entry.
#[derive(Debug)]
pub struct GuardStep {
    index: usize,
    scopes: u8,
    detector: Detector,
    action: RegexAction,
    status: u16,
    message: Arc<str>,
}

impl GuardStep {
    /// Index of the entry in the compiled list.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Whether the entry inspects text of `scope` ([`GuardEntry::scope`]).
    pub fn applies_to(&self, scope: GuardScope) -> bool {
        self.scopes & scope_bit(scope) != 0
    }

    /// The action of a regex detector (external guards decide for themselves).
    pub fn action(&self) -> RegexAction {
        self.action
    }

    /// Rejection status ([`GuardEntry::status_code`]).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Rejection body ([`GuardEntry::message`]).
    pub fn message(&self) -> &Arc<str> {
        &self.message
    }

    fn patterns(&self) -> Option<&Patterns> {
        match &self.detector {
            Detector::Patterns(p) => Some(p),
            Detector::External(_) => None,
        }
    }
}

fn scope_bit(scope: GuardScope) -> u8 {
    match scope {
        GuardScope::SystemPrompt => 1,
        GuardScope::Messages => 2,
        GuardScope::ToolInput => 4,
        GuardScope::ToolOutput => 8,
    }
}

/// Which triggers of the chain's set matched a text.
enum Fired {
    All,
    Set(SetMatches),
}

impl Fired {
    fn has(&self, trigger: usize) -> bool {
        match self {
            Fired::All => true,
            Fired::Set(m) => m.matched(trigger),
        }
    }
}

/// What the streaming scanner needs to know about a chain for one scope.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StreamProfile {
    /// Some local entry covers the scope.
    pub(crate) active: bool,
    /// Some covering entry has user patterns.
    pub(crate) user_patterns: bool,
    /// Some covering entry has the `PrivateKey` built-in.
    pub(crate) private_key: bool,
}

/// The compiled guards of one side, in order.
///
/// Matching semantics:
/// - text is normalized first ([`Normalized`]); masks apply to the original text;
/// - a user pattern with none of `\ . + * ? ( ) | [ ] { } ^ $` is a *literal*: it is
///   NFKC-normalized, matched case-insensitively, and any whitespace in it matches
///   any run of whitespace (`credit card` matches `Credit\n CARD`); other patterns
///   are Rust regexes, case-sensitive unless they say `(?i)`, run on the
///   normalized text; empty matches are ignored;
/// - entries run in order; a masking entry's output is the next entry's input;
///   the first rejecting entry that matches rejects; overlapping matches of one
///   entry are merged into one label (the leftmost match's);
/// - external entries ([`Detector::External`]) are skipped by [`GuardChain::check`];
///   a caller that runs them interleaves with [`GuardChain::check_step`].
#[derive(Debug)]
pub struct GuardChain {
    steps: Vec<GuardStep>,
    /// Every detector's trigger in one set: one pass over clean text, and only the
    /// detectors whose trigger fired run. `None` when it would be too large.
    triggers: Option<RegexSet>,
}

/// Whether a pattern has no regex metacharacters (and is taken as a literal).
pub fn is_literal(pattern: &str) -> bool {
    !pattern.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

/// The regex a literal pattern becomes.
fn literal_regex(pattern: &str) -> String {
    let normalized = Normalized::new(pattern).text.into_owned();
    let words: Vec<String> = normalized.split_whitespace().map(regex::escape).collect();
    if words.is_empty() {
        return format!("(?i){}", regex::escape(&normalized));
    }
    let mut out = String::from("(?i)");
    if normalized.starts_with(char::is_whitespace) {
        out.push_str(r"\s+");
    }
    out.push_str(&words.join(r"\s+"));
    if normalized.ends_with(char::is_whitespace) {
        out.push_str(r"\s+");
    }
    out
}

fn shorten(pattern: &str) -> String {
    match pattern.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &pattern[..i]),
        None => pattern.to_string(),
    }
}

fn intern(triggers: &mut Vec<String>, source: &str) -> usize {
    match triggers.iter().position(|t| t == source) {
        Some(i) => i,
        None => {
            triggers.push(source.to_string());
            triggers.len() - 1
        }
    }
}

impl GuardChain {
    /// Compiles guard entries, in order: every regex is compiled here, none later.
    pub fn compile(entries: &[GuardEntry]) -> Result<GuardChain, GuardError> {
        let mut triggers = Vec::new();
        let mut steps = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let detector = if let Some(regex) = &entry.regex {
                if regex.matches.is_empty() && regex.builtins.is_empty() {
                    return Err(GuardError::EmptyRegex { entry: i });
                }
                let mut builtins: Vec<(BuiltinPattern, usize)> = Vec::new();
                for &b in &regex.builtins {
                    if builtins.iter().any(|(x, _)| *x == b) {
                        continue;
                    }
                    builtin::warm_up(b);
                    builtins.push((b, intern(&mut triggers, builtin::trigger(b))));
                }
                let mut user = Vec::with_capacity(regex.matches.len());
                for (k, pattern) in regex.matches.iter().enumerate() {
                    let literal = is_literal(pattern);
                    let source = if literal {
                        literal_regex(pattern)
                    } else {
                        pattern.clone()
                    };
                    let compiled = RegexBuilder::new(&source)
                        .size_limit(PATTERN_SIZE_LIMIT)
                        .dfa_size_limit(PATTERN_DFA_SIZE_LIMIT)
                        .build()
                        .map_err(|e| match e {
                            regex::Error::CompiledTooBig(limit) => GuardError::PatternTooLarge {
                                entry: i,
                                index: k,
                                pattern: shorten(pattern),
                                limit,
                            },
                            other => GuardError::InvalidPattern {
                                entry: i,
                                index: k,
                                pattern: shorten(pattern),
                                reason: other.to_string(),
                            },
                        })?;
                    user.push(UserPattern {
                        regex: compiled,
                        trigger: intern(&mut triggers, &source),
                        literal,
                    });
                }
                Detector::Patterns(Patterns { builtins, user })
            } else if entry.webhook.is_some()
                || entry.openai_moderation.is_some()
                || entry.bedrock_guardrails.is_some()
                || entry.google_model_armor.is_some()
            {
                Detector::External(i)
            } else {
                return Err(GuardError::NoDetector { entry: i });
            };
            steps.push(GuardStep {
                index: i,
                scopes: entry.scope().iter().fold(0, |acc, s| acc | scope_bit(*s)),
                detector,
                action: entry.regex.as_ref().map(|r| r.action()).unwrap_or_default(),
                status: entry.status_code(),
                message: Arc::from(entry.message()),
            });
        }
        let triggers = RegexSetBuilder::new(&triggers)
            .size_limit(SET_SIZE_LIMIT)
            .dfa_size_limit(SET_DFA_SIZE_LIMIT)
            .build()
            .ok();
        Ok(GuardChain { steps, triggers })
    }

    /// The compiled entries, in order.
    pub fn steps(&self) -> &[GuardStep] {
        &self.steps
    }

    /// Whether some entry is a webhook or hosted guard service (the caller runs those).
    pub fn has_external(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.detector, Detector::External(_)))
    }

    /// Whether some regex/built-in entry inspects text of `scope`.
    pub fn covers(&self, scope: GuardScope) -> bool {
        self.local(scope).next().is_some()
    }

    fn local(&self, scope: GuardScope) -> impl Iterator<Item = &Patterns> {
        self.steps
            .iter()
            .filter(move |s| s.applies_to(scope))
            .filter_map(GuardStep::patterns)
    }

    /// Judges `text` of `scope` with every regex/built-in entry, in order (see the
    /// type's docs). Nothing is compiled here; clean text costs one normalization
    /// check and one regex-set pass, and allocates nothing when it is ASCII or
    /// already NFKC.
    pub fn check(&self, scope: GuardScope, text: &str) -> Verdict {
        self.run(scope, text, 0..self.steps.len())
    }

    /// Judges `text` with entry `step` alone (`Pass` for an external entry or one
    /// not covering `scope`); for callers that interleave external guards.
    pub fn check_step(&self, step: usize, scope: GuardScope, text: &str) -> Verdict {
        if step >= self.steps.len() {
            return Verdict::Pass;
        }
        self.run(scope, text, step..step + 1)
    }

    fn run(&self, scope: GuardScope, text: &str, steps: Range<usize>) -> Verdict {
        let mut masked: Option<String> = None;
        let mut findings = Vec::new();
        let mut hits = Vec::new();
        let mut next = steps.start;
        'texts: while next < steps.end {
            if !self.steps[next..steps.end]
                .iter()
                .any(|s| s.patterns().is_some() && s.applies_to(scope))
            {
                break;
            }
            let current: &str = masked.as_deref().unwrap_or(text);
            let norm = Normalized::new(current);
            let fired = match &self.triggers {
                Some(set) if !set.is_match(&norm.text) => break,
                Some(set) => Fired::Set(set.matches(&norm.text)),
                None => Fired::All,
            };
            while next < steps.end {
                let step = &self.steps[next];
                next += 1;
                let Some(patterns) = step.patterns() else {
                    continue;
                };
                if !step.applies_to(scope) {
                    continue;
                }
                let reject = step.action == RegexAction::Reject;
                hits.clear();
                patterns.detect(&norm.text, &fired, reject, &mut hits);
                let Some(&(_, first)) = hits.first() else {
                    continue;
                };
                if reject {
                    return Verdict::Reject {
                        status: step.status,
                        message: step.message.clone(),
                        entry: step.index,
                        kind: first,
                    };
                }
                let mut spans: Vec<(Range<usize>, FindingKind)> =
                    hits.drain(..).map(|(r, k)| (norm.original(r), k)).collect();
                for (_, kind) in &spans {
                    add_finding(&mut findings, step.index, *kind, 1);
                }
                let out = mask(current, &mut spans);
                drop(fired);
                drop(norm);
                masked = Some(out);
                continue 'texts;
            }
        }
        match masked {
            Some(text) => Verdict::Mask { text, findings },
            None => Verdict::Pass,
        }
    }

    /// What the streaming scanner must hold back for in `scope`.
    pub(crate) fn stream_profile(&self, scope: GuardScope) -> StreamProfile {
        let mut p = StreamProfile::default();
        for patterns in self.local(scope) {
            p.active = true;
            p.user_patterns |= patterns.pattern_count() > 0;
            p.private_key |= patterns.has_private_key();
        }
        p
    }

    /// Original ranges of the user-pattern matches (of entries covering `scope`)
    /// in `norm`.
    pub(crate) fn user_spans(&self, scope: GuardScope, norm: &Normalized<'_>) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        for patterns in self.local(scope) {
            patterns.user_spans(&norm.text, &mut out);
        }
        out.into_iter().map(|r| norm.original(r)).collect()
    }

    /// Original ranges of every match (of entries covering `scope`) in `norm`.
    pub(crate) fn all_spans(&self, scope: GuardScope, norm: &Normalized<'_>) -> Vec<Range<usize>> {
        let mut hits = Vec::new();
        for patterns in self.local(scope) {
            patterns.detect(&norm.text, &Fired::All, false, &mut hits);
        }
        hits.into_iter().map(|(r, _)| norm.original(r)).collect()
    }
}

/// Replaces `spans` of `text` with their labels, merging overlapping spans (the
/// merged span gets the label of the one that starts first, the longest on a tie).
fn mask(text: &str, spans: &mut [(Range<usize>, FindingKind)]) -> String {
    spans.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut current: Option<(Range<usize>, &'static str)> = None;
    for (range, kind) in spans.iter() {
        match &mut current {
            Some((cur, _)) if range.start < cur.end => cur.end = cur.end.max(range.end),
            _ => {
                if let Some((cur, label)) = current.take() {
                    out.push_str(&text[pos..cur.start]);
                    out.push_str(label);
                    pos = cur.end;
                }
                current = Some((range.clone(), kind.label()));
            }
        }
    }
    if let Some((cur, label)) = current {
        out.push_str(&text[pos..cur.start]);
        out.push_str(label);
        pos = cur.end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_api::kinds::agentgateway::ai::{GuardResponse, RegexGuard, WebhookGuard};

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

    fn masked(chain: &GuardChain, text: &str) -> String {
        match chain.check(GuardScope::Messages, text) {
            Verdict::Mask { text, .. } => text,
            Verdict::Pass => text.to_string(),
            other => panic!("{other:?}"),
        }
    }

    fn seed() -> GuardChain {
        let mut e = entry(&["credit card"], &[], RegexAction::Reject);
        e.response = Some(GuardResponse {
            message: Some("Rejected due to inappropriate content".into()),
            status_code: None,
        });
        GuardChain::compile(&[e]).unwrap()
    }

    #[test]
    fn the_seed_guard_rejects_with_exactly_its_message() {
        let chain = seed();
        let v = chain.check(
            GuardScope::Messages,
            "Can you tell me my credit card number?",
        );
        assert_eq!(
            v,
            Verdict::Reject {
                status: 403,
                message: Arc::from("Rejected due to inappropriate content"),
                entry: 0,
                kind: FindingKind::Pattern(0),
            }
        );
        let Verdict::Reject { message, .. } = v else {
            unreachable!()
        };
        assert_eq!(message.len(), 37);
        assert_eq!(
            chain.check(GuardScope::Messages, "What is a debit account?"),
            Verdict::Pass
        );
        assert_eq!(
            chain.check(GuardScope::SystemPrompt, "credit card"),
            Verdict::Reject {
                status: 403,
                message: Arc::from("Rejected due to inappropriate content"),
                entry: 0,
                kind: FindingKind::Pattern(0),
            }
        );
        assert_eq!(
            chain.check(GuardScope::ToolInput, "credit card"),
            Verdict::Pass,
            "the default scope is SystemPrompt + Messages"
        );
    }

    #[test]
    fn literal_patterns_resist_evasion() {
        let chain = seed();
        for evasive in [
            "CREDIT CARD",
            "Credit Card",
            "cred\u{200B}it c\u{200D}ard",
            "credit\u{00AD} card",
            "\u{202E}credit card\u{202C}",
            "ｃｒｅｄｉｔ　ｃａｒｄ",
            "credit\n  card",
            "credit\u{2066} card",
        ] {
            assert!(
                matches!(
                    chain.check(GuardScope::Messages, evasive),
                    Verdict::Reject { .. }
                ),
                "{evasive:?}"
            );
        }
        for fine in ["creditcard", "credit-card", "credit score"] {
            assert_eq!(
                chain.check(GuardScope::Messages, fine),
                Verdict::Pass,
                "{fine}"
            );
        }
    }

    #[test]
    fn regex_patterns_are_case_sensitive_unless_they_say_so() {
        let chain = GuardChain::compile(&[
            entry(&["Secret[0-9]"], &[], RegexAction::Reject),
            entry(&["(?i)token-[a-z]+"], &[], RegexAction::Mask),
        ])
        .unwrap();
        assert_eq!(masked(&chain, "secret1"), "secret1");
        assert!(matches!(
            chain.check(GuardScope::Messages, "Secret1"),
            Verdict::Reject { entry: 0, .. }
        ));
        assert_eq!(masked(&chain, "a TOKEN-abc b"), "a <MASKED> b");
        let Detector::Patterns(p) = chain.steps()[0].detector() else {
            panic!()
        };
        assert!(!p.is_literal(0));
    }

    #[test]
    fn compile_errors_name_the_pattern() {
        let err = GuardChain::compile(&[
            entry(&["ok"], &[], RegexAction::Mask),
            entry(&["fine", "(unclosed"], &[], RegexAction::Mask),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            GuardError::InvalidPattern {
                entry: 1,
                index: 1,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("(unclosed") && msg.contains("matches[1]"),
            "{msg}"
        );

        let err = GuardChain::compile(&[entry(&[r"\w{1000}\w{1000}"], &[], RegexAction::Mask)])
            .unwrap_err();
        assert!(matches!(err, GuardError::PatternTooLarge { .. }), "{err}");

        let err = GuardChain::compile(&[GuardEntry::default()]).unwrap_err();
        assert_eq!(err, GuardError::NoDetector { entry: 0 });
        let err = GuardChain::compile(&[entry(&[], &[], RegexAction::Mask)]).unwrap_err();
        assert_eq!(err, GuardError::EmptyRegex { entry: 0 });
    }

    #[test]
    fn external_guards_are_left_to_the_caller() {
        let webhook = webhook();
        let chain = GuardChain::compile(&[
            entry(&[], &[BuiltinPattern::Email], RegexAction::Mask),
            GuardEntry {
                webhook: Some(webhook),
                ..GuardEntry::default()
            },
            entry(&["forbidden"], &[], RegexAction::Reject),
        ])
        .unwrap();
        assert!(chain.has_external());
        assert!(matches!(chain.steps()[1].detector(), Detector::External(1)));
        assert_eq!(
            chain.check_step(1, GuardScope::Messages, "forbidden a@b.io"),
            Verdict::Pass
        );
        assert_eq!(masked(&chain, "mail a@b.io"), "mail <EMAIL>");
        // Interleaving by hand gives the same result as check().
        let text = "mail a@b.io";
        let Verdict::Mask { text: step0, .. } = chain.check_step(0, GuardScope::Messages, text)
        else {
            panic!()
        };
        assert_eq!(
            chain.check_step(2, GuardScope::Messages, &step0),
            Verdict::Pass
        );
    }

    fn webhook() -> WebhookGuard {
        use palisade_api::kinds::gateway_api::BackendObjectReference;
        WebhookGuard {
            backend_ref: BackendObjectReference {
                group: None,
                kind: None,
                name: "hook".into(),
                namespace: None,
                port: Some(80),
            },
            headers: Default::default(),
            forward_header_matches: Vec::new(),
            failure_mode: None,
        }
    }

    #[test]
    fn masks_compose_in_order_and_the_first_reject_wins() {
        let chain = GuardChain::compile(&[
            entry(
                &[r"secret-\d+"],
                &[BuiltinPattern::Email],
                RegexAction::Mask,
            ),
            entry(&[], &[BuiltinPattern::CreditCard], RegexAction::Mask),
        ])
        .unwrap();
        match chain.check(
            GuardScope::Messages,
            "mail ann@example.com card ４１１１ 1111 1111 1111 code secret-42 é, bob@x.org",
        ) {
            Verdict::Mask { text, findings } => {
                assert_eq!(
                    text,
                    "mail <EMAIL> card <CREDIT_CARD> code <MASKED> é, <EMAIL>"
                );
                assert_eq!(
                    findings,
                    [
                        Finding {
                            entry: 0,
                            kind: FindingKind::Builtin(BuiltinPattern::Email),
                            count: 2
                        },
                        Finding {
                            entry: 0,
                            kind: FindingKind::Pattern(0),
                            count: 1
                        },
                        Finding {
                            entry: 1,
                            kind: FindingKind::Builtin(BuiltinPattern::CreditCard),
                            count: 1
                        },
                    ]
                );
            }
            other => panic!("{other:?}"),
        }

        // A mask earlier in the chain hides the match from a later reject.
        let chain = GuardChain::compile(&[
            entry(&[], &[BuiltinPattern::Email], RegexAction::Mask),
            entry(&["@"], &[], RegexAction::Reject),
        ])
        .unwrap();
        assert_eq!(masked(&chain, "a@b.io"), "<EMAIL>");

        // Two rejecting entries: the first in order wins, whatever the text order.
        let chain = GuardChain::compile(&[
            entry(&["beta"], &[], RegexAction::Reject),
            entry(&["alpha"], &[], RegexAction::Reject),
        ])
        .unwrap();
        assert!(matches!(
            chain.check(GuardScope::Messages, "alpha beta"),
            Verdict::Reject { entry: 0, .. }
        ));
        // A mask before a reject still rejects.
        let chain = GuardChain::compile(&[
            entry(&[], &[BuiltinPattern::Email], RegexAction::Mask),
            entry(&["forbidden"], &[], RegexAction::Reject),
        ])
        .unwrap();
        assert!(matches!(
            chain.check(GuardScope::Messages, "a@b.io forbidden"),
            Verdict::Reject {
                entry: 1,
                kind: FindingKind::Pattern(0),
                ..
            }
        ));
    }

    #[test]
    fn scopes_filter_entries() {
        let mut tool = entry(&[], &[BuiltinPattern::AwsAccessKey], RegexAction::Mask);
        tool.scope = vec![GuardScope::ToolOutput];
        let chain = GuardChain::compile(&[tool]).unwrap();
        let key = "AKIAIOSFODNN7EXAMPLE";
        assert_eq!(chain.check(GuardScope::Messages, key), Verdict::Pass);
        assert!(!chain.covers(GuardScope::Messages));
        assert!(chain.covers(GuardScope::ToolOutput));
        assert!(matches!(
            chain.check(GuardScope::ToolOutput, key),
            Verdict::Mask { ref text, .. } if text == "<AWS_ACCESS_KEY>"
        ));
    }

    #[test]
    fn overlapping_matches_merge_into_one_label() {
        let chain = GuardChain::compile(&[entry(
            &["1111 1111", "card 4111"],
            &[BuiltinPattern::CreditCard],
            RegexAction::Mask,
        )])
        .unwrap();
        assert_eq!(
            masked(&chain, "my card 4111 1111 1111 1111 ok"),
            "my <MASKED> ok",
            "the literal starting first gives the label of the merged span"
        );
        // SSN and SIN on the same nine digits: one label.
        let chain = GuardChain::compile(&[entry(
            &[],
            &[BuiltinPattern::Ssn, BuiltinPattern::CaSin],
            RegexAction::Mask,
        )])
        .unwrap();
        assert_eq!(masked(&chain, "id 046454286."), "id <SSN>.");
    }

    #[test]
    fn masks_map_back_to_the_original_multibyte_text() {
        let chain = GuardChain::compile(&[entry(
            &["credit card"],
            &[BuiltinPattern::CreditCard, BuiltinPattern::Email],
            RegexAction::Mask,
        )])
        .unwrap();
        let text = "日本語 ｃｒｅｄｉｔ ｃａｒｄ: ４１１１\u{200B}１１１１ 1111 1111 — é\u{301}, mél: ａｎｎ＠ｅｘａｍｐｌｅ．ｏｒｇ 終わり";
        assert_eq!(
            masked(&chain, text),
            "日本語 <MASKED>: <CREDIT_CARD> — é\u{301}, mél: <EMAIL> 終わり"
        );
    }

    #[test]
    fn the_evasion_suite_is_caught_and_luhn_invalid_numbers_are_not() {
        let chain = GuardChain::compile(&[entry(
            &[],
            &[BuiltinPattern::CreditCard, BuiltinPattern::Email],
            RegexAction::Mask,
        )])
        .unwrap();
        let prompt = "cards 4111 1111 1111 1111, 5500-0000-0000-0004, ４１１１１１１１１１１１１１１１, \
                      4111\u{200D}111111111111, 4111\u{202E}1111\u{202C}11111111, mail BOB@EXAMPLE.COM, \
                      not a card 4111 1111 1111 1112";
        assert_eq!(
            masked(&chain, prompt),
            "cards <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>, \
             mail <EMAIL>, not a card 4111 1111 1111 1112"
        );
    }

    #[test]
    fn clean_text_passes_without_masking() {
        let all = builtin::ALL_BUILTINS.to_vec();
        let chain =
            GuardChain::compile(&[entry(&["credit card"], &all, RegexAction::Mask)]).unwrap();
        for clean in [
            "The network engineer reviews routing tables on 2024-05-01 at 10:30.",
            "Order #12345 shipped; total 1,234.56 EUR; version 1.2.3.4; pi 3.14159265358979323846",
            "Timestamps 1700000000000 and 1700000000; ISBN 978-3-16-148410-0.",
            "",
        ] {
            assert_eq!(
                chain.check(GuardScope::Messages, clean),
                Verdict::Pass,
                "{clean}"
            );
        }
    }

    #[test]
    fn literal_regex_shapes() {
        assert_eq!(literal_regex("credit card"), r"(?i)credit\s+card");
        assert_eq!(literal_regex("a-b"), r"(?i)a\-b");
        assert_eq!(literal_regex(" x "), r"(?i)\s+x\s+");
        assert!(is_literal("e-mail address"));
        assert!(!is_literal(r"\d+"));
    }
}
