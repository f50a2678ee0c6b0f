//! Guarding streamed text: pieces arrive one at a time (SSE deltas) and a match may
//! be split across them, even mid-digit-group. A [`StreamScanner`] releases a prefix
//! of what it holds only at a *safe cut*, and judges that prefix with
//! [`GuardChain::check`], so text is never released before its match is known.
//!
//! A safe cut is a point that no built-in match can cross and where the text on
//! either side is judged as it would be in the whole text: right after a character
//! that no built-in match contains (anything but ASCII letters, digits and
//! ` .,()+-_@%`, or a space not between two characters of a number, an IBAN or a
//! phone number), not before an invisible or combining character, and outside any
//! private-key block. In prose such points come every word or two, so the scanner
//! usually holds back only the current word: for the built-ins, the concatenation
//! of the released pieces is exactly the one-shot masked text.
//!
//! Bounds (memory stays bounded whatever arrives):
//! - with user patterns in the chain, the last [`USER_PATTERN_WINDOW`] characters are
//!   always held and a cut never splits a user-pattern match seen in the held text;
//!   a user-pattern match longer than the window that arrives split may be missed;
//! - a run of more than [`MAX_HOLD`] bytes without a safe cut (a huge token, base64
//!   blob or digit run) is cut by force, outside every match seen, keeping the last
//!   256 bytes; a built-in match that is longer than that and still incomplete may
//!   then be split and missed;
//! - an unterminated private-key block is held up to [`PRIVATE_KEY_HOLD`] bytes;
//!   past that its label is released and the rest of the block (base64 lines up to
//!   the `-----END … PRIVATE KEY-----` line) is dropped as it arrives.

use std::ops::Range;
use std::sync::Arc;

use palisade_api::kinds::agentgateway::ai::GuardScope;

use super::builtin::{PRIVATE_KEY_FOOTER_RE, PRIVATE_KEY_RE};
use super::chain::{Finding, FindingKind, GuardChain, StreamProfile, Verdict, add_finding};
use super::normalize::{Normalized, is_ignorable, normalizes_to_non_ascii_end, starts_cluster};

/// Characters always held back when the chain has user patterns.
pub const USER_PATTERN_WINDOW: usize = 256;
/// Bytes held without a safe cut before a forced cut.
pub const MAX_HOLD: usize = 4096;
/// Bytes an unterminated private-key block is held before its label is released.
pub const PRIVATE_KEY_HOLD: usize = 16 * 1024;
/// Bytes kept after a forced cut.
const FORCED_TAIL: usize = 256;
/// Bytes kept while dropping a key body, for a footer split across pieces.
const FOOTER_TAIL: usize = 64;

/// What a scanner releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamOutput {
    /// Text safe to send now (possibly empty), masked where needed.
    Emit(String),
    /// A rejecting guard matched: stop the stream (every later call says so again).
    Reject {
        /// HTTP status of the guard ([`Verdict::Reject`]).
        status: u16,
        /// Its message, exactly.
        message: Arc<str>,
        /// Index of the guard entry.
        entry: usize,
        /// The detector that matched.
        kind: FindingKind,
    },
}

#[derive(Debug)]
enum Mode {
    Normal,
    /// Dropping the rest of a private-key block that outgrew [`PRIVATE_KEY_HOLD`].
    InKey,
    Rejected(StreamOutput),
}

/// Where to release up to.
enum Cut {
    At(usize),
    /// Release all (masking a private-key header) and drop the block's rest.
    Key(usize),
}

/// Scans one stream of text (one content block, one choice) of one scope.
#[derive(Debug)]
pub struct StreamScanner {
    chain: Arc<GuardChain>,
    scope: GuardScope,
    profile: StreamProfile,
    pending: String,
    mode: Mode,
    findings: Vec<Finding>,
}

impl StreamScanner {
    /// A scanner for text of `scope`.
    pub fn new(chain: Arc<GuardChain>, scope: GuardScope) -> StreamScanner {
        let profile = chain.stream_profile(scope);
        StreamScanner {
            chain,
            scope,
            profile,
            pending: String::new(),
            mode: Mode::Normal,
            findings: Vec::new(),
        }
    }

    /// Feeds the next piece; returns what can be released now.
    pub fn push(&mut self, delta: &str) -> StreamOutput {
        if let Mode::Rejected(r) = &self.mode {
            return r.clone();
        }
        if !self.profile.active {
            return StreamOutput::Emit(delta.to_string());
        }
        self.pending.push_str(delta);
        self.advance(false)
    }

    /// Releases everything held (end of the stream, or of a stretch of it). The
    /// scanner stays usable: later pieces are scanned as a new text.
    pub fn finish(&mut self) -> StreamOutput {
        if let Mode::Rejected(r) = &self.mode {
            return r.clone();
        }
        self.advance(true)
    }

    /// What was masked so far (entry, detector, count), for audit.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Bytes currently held back.
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    fn advance(&mut self, fin: bool) -> StreamOutput {
        let mut out = String::new();
        loop {
            if matches!(self.mode, Mode::InKey) && !self.drain_key(fin) {
                break;
            }
            let cut = if fin {
                Cut::At(self.pending.len())
            } else {
                self.find_cut()
            };
            let (end, key) = match cut {
                Cut::At(end) => (end, false),
                Cut::Key(end) => (end, true),
            };
            if end == 0 {
                break;
            }
            if let Err(reject) = self.release(end, &mut out) {
                return reject;
            }
            if !key {
                break;
            }
            self.mode = Mode::InKey;
        }
        StreamOutput::Emit(out)
    }

    /// Judges and releases `pending[..end]` into `out`.
    fn release(&mut self, end: usize, out: &mut String) -> Result<(), StreamOutput> {
        match self.chain.check(self.scope, &self.pending[..end]) {
            Verdict::Pass => out.push_str(&self.pending[..end]),
            Verdict::Mask { text, findings } => {
                out.push_str(&text);
                for f in findings {
                    add_finding(&mut self.findings, f.entry, f.kind, f.count);
                }
            }
            Verdict::Reject {
                status,
                message,
                entry,
                kind,
            } => {
                add_finding(&mut self.findings, entry, kind, 1);
                let reject = StreamOutput::Reject {
                    status,
                    message,
                    entry,
                    kind,
                };
                self.mode = Mode::Rejected(reject.clone());
                self.pending = String::new();
                return Err(reject);
            }
        }
        self.pending.drain(..end);
        Ok(())
    }

    /// Drops the body of a private-key block; true once the block is over.
    fn drain_key(&mut self, fin: bool) -> bool {
        let stop = self
            .pending
            .bytes()
            .position(|b| !is_key_body(b))
            .unwrap_or(self.pending.len());
        if let Some(m) = PRIVATE_KEY_FOOTER_RE.find(&self.pending[..stop]) {
            self.pending.drain(..m.end());
            self.mode = Mode::Normal;
            return true;
        }
        if stop < self.pending.len() || fin {
            self.pending.drain(..stop);
            self.mode = Mode::Normal;
            return true;
        }
        // All body so far (ASCII): keep what may be the start of the footer.
        let keep_from = self.pending.len().saturating_sub(FOOTER_TAIL);
        self.pending.drain(..keep_from);
        false
    }

    fn find_cut(&self) -> Cut {
        let text = self.pending.as_str();
        let n = text.len();
        if n == 0 {
            return Cut::At(0);
        }
        let mut limit = n - 1;
        if self.profile.user_patterns {
            limit = limit.min(start_of_last_chars(text, USER_PATTERN_WINDOW));
        }
        let mut avoid: Vec<Range<usize>> = Vec::new();
        let mut open_key = None;
        if self.profile.user_patterns || self.profile.private_key {
            let norm = Normalized::new(text);
            if self.profile.user_patterns {
                avoid.extend(self.chain.user_spans(self.scope, &norm));
            }
            if self.profile.private_key {
                for m in PRIVATE_KEY_RE.find_iter(&norm.text) {
                    let range = norm.original(m.range());
                    if open_key.is_none() && !key_settled(&norm.text, m.as_str(), m.end()) {
                        open_key = Some(range.start);
                    }
                    avoid.push(range);
                }
            }
        }
        if let Some(start) = open_key {
            limit = limit.min(start);
        }
        let mut p = floor_boundary(text, limit);
        while p > 0 {
            if safe_cut(text, p) && !avoid.iter().any(|r| r.start < p && p < r.end) {
                return Cut::At(p);
            }
            p = prev_boundary(text, p);
        }
        match open_key {
            Some(0) if n > PRIVATE_KEY_HOLD => return Cut::Key(n),
            Some(0) => return Cut::At(0),
            _ if n <= MAX_HOLD => return Cut::At(0),
            _ => {}
        }
        Cut::At(self.forced_cut(limit, open_key, avoid))
    }

    /// A cut in a long stretch without a safe one: as late as leaves
    /// [`FORCED_TAIL`] bytes, at a cluster start, after a non-word character when
    /// one is near, and never inside a match seen in the held text.
    fn forced_cut(
        &self,
        limit: usize,
        open_key: Option<usize>,
        mut avoid: Vec<Range<usize>>,
    ) -> usize {
        let text = self.pending.as_str();
        let n = text.len();
        let mut p = floor_boundary(text, limit.min(n.saturating_sub(FORCED_TAIL)));
        if p == 0 {
            p = open_key.unwrap_or(0);
        }
        while p > 0
            && !text[p..]
                .chars()
                .next()
                .is_some_and(|c| starts_cluster(c) && !is_ignorable(c))
        {
            p = prev_boundary(text, p);
        }
        let mut q = p;
        while q > 0 && p - q < 64 {
            if text.is_char_boundary(q)
                && !text.as_bytes()[q - 1].is_ascii_alphanumeric()
                && text[q..]
                    .chars()
                    .next()
                    .is_some_and(|c| starts_cluster(c) && !is_ignorable(c))
            {
                p = q;
                break;
            }
            q -= 1;
        }
        avoid.extend(self.chain.all_spans(self.scope, &Normalized::new(text)));
        avoid.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in avoid {
            match merged.last_mut() {
                Some(last) if r.start < last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        if let Some(r) = merged.iter().find(|r| r.start < p && p < r.end) {
            p = if r.start > 0 { r.start } else { r.end };
        }
        if p == 0 { n } else { p.min(n) }
    }
}

/// Characters of a PEM body (and of its footer).
fn is_key_body(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/=\t\n\r :,.-".contains(&b)
}

/// Whether a private-key match ending at `end` can no longer change: it has its
/// footer, or a character after it rules a footer out.
fn key_settled(norm: &str, matched: &str, end: usize) -> bool {
    matched.contains("-----END") || norm[end..].bytes().any(|b| !is_key_body(b))
}

/// The byte index where the last `k` characters of `text` start (0 if fewer).
fn start_of_last_chars(text: &str, k: usize) -> usize {
    text.char_indices()
        .rev()
        .nth(k.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

fn floor_boundary(text: &str, mut p: usize) -> usize {
    p = p.min(text.len());
    while !text.is_char_boundary(p) {
        p -= 1;
    }
    p
}

fn prev_boundary(text: &str, p: usize) -> usize {
    p - text[..p].chars().next_back().map_or(1, char::len_utf8)
}

/// ASCII characters that may occur inside a built-in match (private keys aside).
fn in_match_alphabet(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" .,()+-_@%".contains(&b)
}

/// Whether the text may be cut before byte `p` (0 < p < len): see the module docs.
fn safe_cut(text: &str, p: usize) -> bool {
    let Some(y) = text[p..].chars().next() else {
        return false;
    };
    let Some(x) = text[..p].chars().next_back() else {
        return false;
    };
    if is_ignorable(y) || !starts_cluster(y) || is_ignorable(x) {
        return false;
    }
    if !x.is_ascii() {
        return normalizes_to_non_ascii_end(x);
    }
    if x != ' ' {
        return !in_match_alphabet(x as u8);
    }
    // A space is inside a match only between [A-Z0-9)] and [A-Z0-9(].
    let closes = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ')';
    let opens = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '(';
    match text[..p - 1].chars().next_back() {
        None => true,
        Some(left) if left.is_ascii() && !closes(left) => true,
        _ => y.is_ascii() && !opens(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_api::kinds::agentgateway::ai::{
        BuiltinPattern, GuardEntry, RegexAction, RegexGuard,
    };

    fn chain(
        matches: &[&str],
        builtins: &[BuiltinPattern],
        action: RegexAction,
    ) -> Arc<GuardChain> {
        Arc::new(
            GuardChain::compile(&[GuardEntry {
                regex: Some(RegexGuard {
                    matches: matches.iter().map(|s| s.to_string()).collect(),
                    builtins: builtins.to_vec(),
                    action: Some(action),
                }),
                ..GuardEntry::default()
            }])
            .unwrap(),
        )
    }

    fn all_builtins(action: RegexAction) -> Arc<GuardChain> {
        chain(&[], &super::super::builtin::ALL_BUILTINS, action)
    }

    fn one_shot(chain: &GuardChain, text: &str) -> String {
        match chain.check(GuardScope::Messages, text) {
            Verdict::Mask { text, .. } => text,
            Verdict::Pass => text.to_string(),
            other => panic!("{other:?}"),
        }
    }

    /// Streams `pieces`; the concatenated output, or the rejection message.
    fn run(chain: &Arc<GuardChain>, pieces: &[&str]) -> Result<String, (String, Arc<str>)> {
        let mut s = StreamScanner::new(chain.clone(), GuardScope::Messages);
        let mut out = String::new();
        for piece in pieces {
            match s.push(piece) {
                StreamOutput::Emit(t) => out.push_str(&t),
                StreamOutput::Reject { message, .. } => return Err((out, message)),
            }
        }
        match s.finish() {
            StreamOutput::Emit(t) => out.push_str(&t),
            StreamOutput::Reject { message, .. } => return Err((out, message)),
        }
        Ok(out)
    }

    /// A deterministic pseudo-random generator (no dependency needed).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, bound: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % bound.max(1)
        }
    }

    /// Splits `text` at `k` random char boundaries.
    fn split<'a>(text: &'a str, rng: &mut Lcg, k: usize) -> Vec<&'a str> {
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
        let mut cuts: Vec<usize> = (0..k).map(|_| bounds[rng.next(bounds.len())]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::new();
        let mut prev = 0;
        for c in cuts {
            pieces.push(&text[prev..c]);
            prev = c;
        }
        pieces.push(&text[prev..]);
        pieces
    }

    fn singles(text: &str) -> Vec<&str> {
        text.char_indices()
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect()
    }

    const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v1+abc/def==\nZm9vYmFyYmF6cXV4\n-----END RSA PRIVATE KEY-----";

    fn corpus() -> String {
        let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
        format!(
            "Début {filler}card 4111 1111 1111 1111, mail a.b@example.org — fin.\n\
             {filler}SSN 123-45-6789; SIN 046 454 286; call +1 (415) 555-2671 or +44 20 7946 0958.\n\
             IBAN DE89 3704 0044 0532 0130 00 and GB82 WEST 1234 5698 7654 32, key AKIAIOSFODNN7EXAMPLE\n\
             token ghp_{gh} jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end.\n\
             here is a key:\n{PEM}\nthanks. Zero-width: 4111\u{200B}1111 1111 1111 and fullwidth ４１１１ １１１１ １１１１ １１１１!\n\
             not a card 4111 1111 1111 1112 nor 12345678901234567890; 日本語テキスト、終わり。 {filler}4111111111111111",
            gh = "a1B2".repeat(9),
        )
    }

    #[test]
    fn split_streams_mask_exactly_like_the_whole_text() {
        let masking = all_builtins(RegexAction::Mask);
        let text = corpus();
        let whole = one_shot(&masking, &text);
        for label in [
            "<CREDIT_CARD>",
            "<EMAIL>",
            "<SSN>",
            "<CA_SIN>",
            "<PHONE_NUMBER>",
            "<IBAN>",
            "<AWS_ACCESS_KEY>",
            "<GITHUB_TOKEN>",
            "<JWT>",
            "<PRIVATE_KEY>",
        ] {
            assert!(whole.contains(label), "{label} in {whole}");
        }
        assert!(!whole.contains("MIIE") && !whole.contains("4111 1111 1111 1111,"));
        assert!(
            whole.contains("4111 1111 1111 1112"),
            "Luhn-invalid numbers stay"
        );
        let mut rng = Lcg(7);
        for round in 0..400 {
            let k = 1 + round % 40;
            let pieces = split(&text, &mut rng, k);
            assert_eq!(run(&masking, &pieces).unwrap(), whole, "pieces {pieces:?}");
        }
        assert_eq!(run(&masking, &singles(&text)).unwrap(), whole);
    }

    #[test]
    fn a_card_split_anywhere_is_masked() {
        let masking = all_builtins(RegexAction::Mask);
        let text = "pay with 4111 1111 1111 1111 today";
        for i in text.char_indices().map(|(i, _)| i).skip(1) {
            let out = run(&masking, &[&text[..i], &text[i..]]).unwrap();
            assert_eq!(out, "pay with <CREDIT_CARD> today", "split at {i}");
        }
        for i in 1..text.len() {
            for j in i + 1..text.len() {
                let out = run(&masking, &[&text[..i], &text[i..j], &text[j..]]).unwrap();
                assert_eq!(out, "pay with <CREDIT_CARD> today", "split at {i}, {j}");
            }
        }
    }

    #[test]
    fn nothing_is_released_before_its_match_is_known() {
        let masking = all_builtins(RegexAction::Mask);
        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        let mut released = String::new();
        for piece in ["card 4111 11", "11 1111 11", "11", " ok"] {
            let StreamOutput::Emit(t) = s.push(piece) else {
                panic!()
            };
            assert!(!t.contains("1111"), "partial digits released: {t:?}");
            released.push_str(&t);
        }
        let StreamOutput::Emit(t) = s.finish() else {
            panic!()
        };
        released.push_str(&t);
        assert_eq!(released, "card <CREDIT_CARD> ok");
        assert_eq!(
            s.findings(),
            [Finding {
                entry: 0,
                kind: FindingKind::Builtin(BuiltinPattern::CreditCard),
                count: 1
            }]
        );
    }

    #[test]
    fn prose_is_released_promptly() {
        let masking = all_builtins(RegexAction::Mask);
        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        assert_eq!(
            s.push("Hello world, this is a te"),
            StreamOutput::Emit("Hello world, this is a ".into())
        );
        assert_eq!(s.held(), 2);
        // The last character is held until the next one shows it starts a cluster.
        assert_eq!(s.push("st.\n"), StreamOutput::Emit(String::new()));
        assert_eq!(s.push("Ne"), StreamOutput::Emit("test.\n".into()));
        assert_eq!(s.finish(), StreamOutput::Emit("Ne".into()));
    }

    #[test]
    fn user_patterns_hold_a_window_and_match_across_pieces() {
        let masking = chain(
            &["credit card", r"secret-[0-9]{4}"],
            &[BuiltinPattern::Email],
            RegexAction::Mask,
        );
        let filler = "words and more words, ".repeat(30);
        let text = format!(
            "{filler}my Credit\u{200B} Card and secret-1234 {filler}x@y.io {filler}CREDIT CARD"
        );
        let whole = one_shot(&masking, &text);
        assert_eq!(whole.matches("<MASKED>").count(), 3);
        let mut rng = Lcg(11);
        for round in 0..200 {
            let pieces = split(&text, &mut rng, 1 + round % 50);
            assert_eq!(run(&masking, &pieces).unwrap(), whole);
        }
        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        let _ = s.push(&"a ".repeat(400));
        assert!(s.held() >= USER_PATTERN_WINDOW, "the window is held");
        assert!(s.held() < USER_PATTERN_WINDOW + 8);
    }

    #[test]
    fn a_split_rejecting_phrase_stops_the_stream() {
        let mut e = chain(&["credit card"], &[], RegexAction::Reject);
        let message = "The request was rejected due to inappropriate content";
        let (before, got) = run(&e, &["so your cred", "it ca", "rd number is"]).unwrap_err();
        assert_eq!(&*got, message);
        assert!(!before.to_lowercase().contains("cred"));
        assert_eq!(run(&e, &["harmless ", "text"]).unwrap(), "harmless text");

        let mut s = StreamScanner::new(e.clone(), GuardScope::Messages);
        assert!(matches!(s.push("a credit card"), StreamOutput::Emit(_)));
        let reject = s.finish();
        assert!(matches!(
            reject,
            StreamOutput::Reject {
                status: 403,
                entry: 0,
                kind: FindingKind::Pattern(0),
                ..
            }
        ));
        assert_eq!(s.push("more"), reject, "a stopped stream stays stopped");
        e = all_builtins(RegexAction::Reject);
        let (before, _) = run(&e, &["key AKIAIOSFO", "DNN7EXAMPLE here"]).unwrap_err();
        assert!(!before.contains("AKIA"));
    }

    #[test]
    fn a_long_private_key_is_never_released() {
        let masking = all_builtins(RegexAction::Mask);
        let body: String = (0..60)
            .map(|i| {
                format!(
                    "{}\n",
                    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw".repeat(1 + i % 2)
                )
            })
            .collect();
        let text = format!(
            "start\n-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\nafter, done"
        );
        assert!(text.len() > 3000);
        let whole = one_shot(&masking, &text);
        assert_eq!(whole, "start\n<PRIVATE_KEY>\nafter, done");
        let mut rng = Lcg(3);
        for round in 0..50 {
            let pieces = split(&text, &mut rng, 5 + round * 3);
            assert_eq!(run(&masking, &pieces).unwrap(), whole);
        }
    }

    #[test]
    fn an_oversized_private_key_is_labelled_and_dropped() {
        let masking = all_builtins(RegexAction::Mask);
        let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw\n";
        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        let mut out = String::new();
        let mut push = |s: &mut StreamScanner, t: &str| match s.push(t) {
            StreamOutput::Emit(t) => out.push_str(&t),
            other => panic!("{other:?}"),
        };
        push(&mut s, "key: -----BEGIN OPENSSH PRIVATE KEY-----\n");
        for _ in 0..1000 {
            push(&mut s, line);
            assert!(s.held() <= PRIVATE_KEY_HOLD + line.len());
        }
        push(&mut s, "-----END OPENSSH PRI");
        push(&mut s, "VATE KEY-----\nbye!");
        let StreamOutput::Emit(t) = s.finish() else {
            panic!()
        };
        out.push_str(&t);
        assert_eq!(out, "key: <PRIVATE_KEY>\nbye!");
    }

    #[test]
    fn held_text_stays_bounded_without_cut_points() {
        let masking = chain(
            &["needle"],
            &super::super::builtin::ALL_BUILTINS,
            RegexAction::Mask,
        );
        let blob: String = (0..30_000)
            .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
            .collect();
        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        let mut out = String::new();
        for piece in blob.as_bytes().chunks(7) {
            let StreamOutput::Emit(t) = s.push(std::str::from_utf8(piece).unwrap()) else {
                panic!()
            };
            out.push_str(&t);
            assert!(s.held() <= MAX_HOLD + 7, "held {}", s.held());
        }
        let StreamOutput::Emit(t) = s.finish() else {
            panic!()
        };
        out.push_str(&t);
        assert_eq!(out, blob);
    }

    #[test]
    fn uncovered_scopes_pass_through_and_finish_resets() {
        let masking = all_builtins(RegexAction::Mask);
        let mut s = StreamScanner::new(masking.clone(), GuardScope::ToolOutput);
        assert_eq!(
            s.push("4111 1111 "),
            StreamOutput::Emit("4111 1111 ".into())
        );
        assert_eq!(s.held(), 0);

        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        assert_eq!(s.push("mail a@b."), StreamOutput::Emit("mail ".into()));
        assert_eq!(s.finish(), StreamOutput::Emit("a@b.".into()));
        assert_eq!(s.push("io x@y.org"), StreamOutput::Emit("io ".into()));
        assert_eq!(s.finish(), StreamOutput::Emit("<EMAIL>".into()));
    }

    #[test]
    fn safe_cuts() {
        let cut = |t: &str, p: usize| safe_cut(t, p);
        assert!(cut("hello, world", 7), "after a space that follows a comma");
        assert!(!cut("hello, world", 6), "after a comma (1,5 is a decimal)");
        assert!(
            cut("hello world", 6),
            "after a space that follows a lower-case letter"
        );
        assert!(!cut("4111 1111", 5), "a space between digits");
        assert!(!cut("GB82 WEST", 5));
        assert!(!cut("(415) 555", 6));
        assert!(cut("x.\nabc", 3));
        assert!(!cut("a\u{200B}b", 1), "before an invisible");
        assert!(!cut("a\u{200B}b", 4), "after an invisible");
        assert!(!cut("e\u{301}x", 1), "before a combining mark");
        assert!(cut("日本", 3));
        assert!(!cut("４1", 3), "a fullwidth digit normalizes to a digit");
        assert!(!cut("a,1", 2), "a comma may be a decimal separator");
    }
}
