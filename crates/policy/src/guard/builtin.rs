//! Built-in detectors of sensitive data. Each finds candidates with a regex (all
//! ASCII, compiled once per process) and then checks them, to keep false positives
//! low:
//!
//! | builtin | label | what matches |
//! |---|---|---|
//! | `CreditCard` | `<CREDIT_CARD>` | 13–19 digits starting with 2–6, one group or groups of 3–8 digits joined by single spaces or dashes, Luhn-valid, not one repeated digit |
//! | `Ssn` | `<SSN>` | `AAA-GG-SSSS` (dashes, spaces or nothing); area not 000, 666 or 9xx, group not 00, serial not 0000 |
//! | `CaSin` | `<CA_SIN>` | 9 digits, one group or 3-3-3 with spaces/dashes, Luhn-valid |
//! | `PhoneNumber` | `<PHONE_NUMBER>` | NANP (`+1`/`1` optional, `(415) 555-2671`, `415.555.2671`, `4155552671`; area and exchange start with 2–9) or E.164 (`+` and 8–15 digits, single separators allowed) |
//! | `Email` | `<EMAIL>` | `local@domain.tld` |
//! | `Iban` | `<IBAN>` | country code, check digits, BBAN (upper case; single spaces allowed); the length of the country's IBAN (15–34 for an unknown country) and mod-97 = 1 |
//! | `AwsAccessKey` | `<AWS_ACCESS_KEY>` | `AKIA`/`ASIA`/`ABIA`/`ACCA` + 16 upper-case letters or digits |
//! | `GithubToken` | `<GITHUB_TOKEN>` | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 or more letters/digits; `github_pat_` + 22 or more |
//! | `PrivateKey` | `<PRIVATE_KEY>` | `-----BEGIN … PRIVATE KEY-----` (or `PRIVATE KEY BLOCK`) through the matching `-----END …-----`; unterminated: the header and the base64 lines after it |
//! | `SlackToken` | `<SLACK_TOKEN>` | `xoxb-`/`xoxa-`/`xoxp-`/`xoxr-`/`xoxs-` + 10 or more, with a digit |
//! | `OpenAiApiKey` | `<OPENAI_API_KEY>` | `sk-` (`sk-proj-`, `sk-svcacct-`, `sk-admin-`) + 20 or more base64url characters with upper case, lower case and digits; not `sk-ant-` |
//! | `AnthropicApiKey` | `<ANTHROPIC_API_KEY>` | `sk-ant-` + 32 or more, mixed like above |
//! | `GoogleApiKey` | `<GOOGLE_API_KEY>` | `AIza` + 35 |
//! | `JsonWebToken` | `<JWT>` | `eyJ…` `.` `ey…` `.` signature (base64url) |
//!
//! Matches are whole: a number inside a longer run of digits (or glued to letters,
//! or part of a decimal such as `0.4111…`) and a token inside a longer token never
//! match. Every match but a private key consists of ASCII letters, digits, single
//! spaces and `.()+-_@%`; the streaming scanner relies on that.

use std::ops::Range;
use std::sync::LazyLock;

use palisade_api::kinds::agentgateway::ai::BuiltinPattern;
use regex::Regex;

/// Every built-in detector, in declaration order.
pub const ALL_BUILTINS: [BuiltinPattern; 14] = [
    BuiltinPattern::Ssn,
    BuiltinPattern::CreditCard,
    BuiltinPattern::PhoneNumber,
    BuiltinPattern::Email,
    BuiltinPattern::CaSin,
    BuiltinPattern::Iban,
    BuiltinPattern::AwsAccessKey,
    BuiltinPattern::GithubToken,
    BuiltinPattern::PrivateKey,
    BuiltinPattern::SlackToken,
    BuiltinPattern::OpenAiApiKey,
    BuiltinPattern::AnthropicApiKey,
    BuiltinPattern::GoogleApiKey,
    BuiltinPattern::JsonWebToken,
];

/// The mask label of a built-in detector, e.g. `<CREDIT_CARD>`.
pub fn label(kind: BuiltinPattern) -> &'static str {
    match kind {
        BuiltinPattern::CreditCard => "<CREDIT_CARD>",
        BuiltinPattern::Ssn => "<SSN>",
        BuiltinPattern::Email => "<EMAIL>",
        BuiltinPattern::PhoneNumber => "<PHONE_NUMBER>",
        BuiltinPattern::CaSin => "<CA_SIN>",
        BuiltinPattern::Iban => "<IBAN>",
        BuiltinPattern::AwsAccessKey => "<AWS_ACCESS_KEY>",
        BuiltinPattern::GithubToken => "<GITHUB_TOKEN>",
        BuiltinPattern::PrivateKey => "<PRIVATE_KEY>",
        BuiltinPattern::SlackToken => "<SLACK_TOKEN>",
        BuiltinPattern::OpenAiApiKey => "<OPENAI_API_KEY>",
        BuiltinPattern::AnthropicApiKey => "<ANTHROPIC_API_KEY>",
        BuiltinPattern::GoogleApiKey => "<GOOGLE_API_KEY>",
        BuiltinPattern::JsonWebToken => "<JWT>",
    }
}

const DIGIT_RUN: &str = r"[0-9]+(?:[ -][0-9]+)*";
const CARD_TRIGGER: &str = r"[0-9](?:[ -]?[0-9]){12}";
const SSN_TRIGGER: &str = r"[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4}";
const SIN_TRIGGER: &str = r"[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}";
const PHONE: &str = r"(?:\+?1[ .-]?)?(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-]?)[2-9][0-9]{2}[ .-]?[0-9]{4}|\+[1-9](?:[ .-]?[0-9]){7,14}";
const EMAIL: &str = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,63}";
const IBAN: &str = r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}";
const AWS: &str = r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}";
const GITHUB: &str = r"gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244}";
/// The header of a PEM private key block.
pub(crate) const PRIVATE_KEY_HEADER: &str =
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----";
/// Header, then either a body and the footer, or (unterminated) base64 lines.
const PRIVATE_KEY: &str = r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\t\n\r :,.-]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\r\n]*)";
/// The footer of a PEM private key block.
pub(crate) const PRIVATE_KEY_FOOTER: &str = r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----";
const SLACK: &str = r"xox[baprs]-[A-Za-z0-9-]{10,250}";
const OPENAI: &str = r"sk-[A-Za-z0-9_-]{20,250}";
const ANTHROPIC: &str = r"sk-ant-[A-Za-z0-9_-]{32,250}";
const GOOGLE: &str = r"AIza[0-9A-Za-z_-]{35}";
const JWT: &str = r"eyJ[A-Za-z0-9_-]{4,}\.ey[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*";

/// The regex whose match is necessary for `kind` to find anything; built-ins'
/// triggers join user patterns in one `RegexSet` pass per text.
pub(crate) fn trigger(kind: BuiltinPattern) -> &'static str {
    match kind {
        BuiltinPattern::CreditCard => CARD_TRIGGER,
        BuiltinPattern::Ssn => SSN_TRIGGER,
        BuiltinPattern::CaSin => SIN_TRIGGER,
        BuiltinPattern::PhoneNumber => PHONE,
        BuiltinPattern::Email => EMAIL,
        BuiltinPattern::Iban => IBAN,
        BuiltinPattern::AwsAccessKey => AWS,
        BuiltinPattern::GithubToken => GITHUB,
        BuiltinPattern::PrivateKey => PRIVATE_KEY_HEADER,
        BuiltinPattern::SlackToken => SLACK,
        BuiltinPattern::OpenAiApiKey => OPENAI,
        BuiltinPattern::AnthropicApiKey => ANTHROPIC,
        BuiltinPattern::GoogleApiKey => GOOGLE,
        BuiltinPattern::JsonWebToken => JWT,
    }
}

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in patterns are valid")
}

static DIGIT_RUN_RE: LazyLock<Regex> = LazyLock::new(|| compile(DIGIT_RUN));
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| compile(PHONE));
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| compile(EMAIL));
static IBAN_RE: LazyLock<Regex> = LazyLock::new(|| compile(IBAN));
static AWS_RE: LazyLock<Regex> = LazyLock::new(|| compile(AWS));
static GITHUB_RE: LazyLock<Regex> = LazyLock::new(|| compile(GITHUB));
pub(crate) static PRIVATE_KEY_RE: LazyLock<Regex> = LazyLock::new(|| compile(PRIVATE_KEY));
pub(crate) static PRIVATE_KEY_FOOTER_RE: LazyLock<Regex> =
    LazyLock::new(|| compile(PRIVATE_KEY_FOOTER));
static SLACK_RE: LazyLock<Regex> = LazyLock::new(|| compile(SLACK));
static OPENAI_RE: LazyLock<Regex> = LazyLock::new(|| compile(OPENAI));
static ANTHROPIC_RE: LazyLock<Regex> = LazyLock::new(|| compile(ANTHROPIC));
static GOOGLE_RE: LazyLock<Regex> = LazyLock::new(|| compile(GOOGLE));
static JWT_RE: LazyLock<Regex> = LazyLock::new(|| compile(JWT));

/// Compiles every built-in regex now (configuration load), not on first use.
pub(crate) fn warm_up(kind: BuiltinPattern) {
    let re: &Regex = match kind {
        BuiltinPattern::CreditCard | BuiltinPattern::Ssn | BuiltinPattern::CaSin => &DIGIT_RUN_RE,
        BuiltinPattern::PhoneNumber => &PHONE_RE,
        BuiltinPattern::Email => &EMAIL_RE,
        BuiltinPattern::Iban => &IBAN_RE,
        BuiltinPattern::AwsAccessKey => &AWS_RE,
        BuiltinPattern::GithubToken => &GITHUB_RE,
        BuiltinPattern::PrivateKey => {
            LazyLock::force(&PRIVATE_KEY_FOOTER_RE);
            &PRIVATE_KEY_RE
        }
        BuiltinPattern::SlackToken => &SLACK_RE,
        BuiltinPattern::OpenAiApiKey => &OPENAI_RE,
        BuiltinPattern::AnthropicApiKey => &ANTHROPIC_RE,
        BuiltinPattern::GoogleApiKey => &GOOGLE_RE,
        BuiltinPattern::JsonWebToken => &JWT_RE,
    };
    let _ = re.as_str();
}

/// Appends the byte ranges of `kind`'s matches in (normalized) `text` to `out`.
pub fn find(kind: BuiltinPattern, text: &str, out: &mut Vec<Range<usize>>) {
    match kind {
        BuiltinPattern::CreditCard => digit_runs(text, out, cards),
        BuiltinPattern::Ssn => digit_runs(text, out, ssns),
        BuiltinPattern::CaSin => digit_runs(text, out, sins),
        BuiltinPattern::PhoneNumber => scan(&PHONE_RE, text, is_alnum, out, phone),
        BuiltinPattern::Email => {
            out.extend(
                EMAIL_RE
                    .find_iter(text)
                    .filter(|m| email(m.as_str()))
                    .map(|m| m.range()),
            );
        }
        BuiltinPattern::Iban => scan(&IBAN_RE, text, is_alnum, out, iban),
        BuiltinPattern::AwsAccessKey => scan(&AWS_RE, text, is_alnum, out, whole),
        BuiltinPattern::GithubToken => scan(&GITHUB_RE, text, is_token, out, whole),
        BuiltinPattern::PrivateKey => out.extend(PRIVATE_KEY_RE.find_iter(text).map(|m| m.range())),
        BuiltinPattern::SlackToken => scan(&SLACK_RE, text, is_token, out, slack),
        BuiltinPattern::OpenAiApiKey => scan(&OPENAI_RE, text, is_token, out, openai),
        BuiltinPattern::AnthropicApiKey => scan(&ANTHROPIC_RE, text, is_token, out, anthropic),
        BuiltinPattern::GoogleApiKey => scan(&GOOGLE_RE, text, is_token, out, whole),
        BuiltinPattern::JsonWebToken => scan(&JWT_RE, text, is_token, out, whole),
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Finds `re`'s matches that are whole words (by `word`) and pass `validate`, which
/// gets `text` and the match range and returns the end of the accepted match.
fn scan(
    re: &Regex,
    text: &str,
    word: fn(u8) -> bool,
    out: &mut Vec<Range<usize>>,
    validate: fn(&str, Range<usize>) -> Option<usize>,
) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at <= text.len() {
        let Some(m) = re.find_at(text, at) else {
            return;
        };
        let start = m.start();
        if start > 0 && word(bytes[start - 1]) {
            // Every start inside this word has a word character before it.
            let mut i = start;
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
            at = if i > start { i } else { next_char(text, start) };
            continue;
        }
        match validate(text, m.range()) {
            Some(end) if end > start && (end == bytes.len() || !word(bytes[end])) => {
                out.push(start..end);
                at = end;
            }
            _ => at = next_char(text, start),
        }
    }
}

fn next_char(text: &str, i: usize) -> usize {
    i + text[i..].chars().next().map_or(1, char::len_utf8)
}

fn whole(_: &str, m: Range<usize>) -> Option<usize> {
    Some(m.end)
}

/// Whether a digit run at `range` is glued to the text around it: letters, or a
/// decimal point/comma followed (preceded) by a digit.
fn glued(bytes: &[u8], range: &Range<usize>) -> bool {
    let (s, e) = (range.start, range.end);
    let before = |k: usize| s.checked_sub(k).map(|i| bytes[i]);
    let after = |k: usize| bytes.get(e + k - 1).copied();
    let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let decimal = |sep: Option<u8>, digit: Option<u8>| {
        matches!(sep, Some(b'.' | b',')) && digit.is_some_and(|d| d.is_ascii_digit())
    };
    word(before(1))
        || word(after(1))
        || decimal(before(1), before(2))
        || decimal(after(1), after(2))
}

/// Picks the accepted spans among the digit groups of one run.
type Windows = fn(&[u8], &[Range<usize>], &mut Vec<Range<usize>>);

/// Runs of digit groups (joined by single spaces or dashes), for cards, SSNs and
/// SINs: `windows` gets the groups of one run and appends accepted spans.
fn digit_runs(text: &str, out: &mut Vec<Range<usize>>, windows: Windows) {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    for m in DIGIT_RUN_RE.find_iter(text) {
        let run = m.range();
        if run.len() < 9 || glued(bytes, &run) {
            continue;
        }
        groups.clear();
        let mut start = run.start;
        for i in run.clone() {
            if !bytes[i].is_ascii_digit() {
                groups.push(start..i);
                start = i + 1;
            }
        }
        groups.push(start..run.end);
        windows(bytes, &groups, out);
    }
}

fn digits_of<'a>(
    bytes: &'a [u8],
    groups: &'a [Range<usize>],
) -> impl DoubleEndedIterator<Item = u8> + 'a {
    groups
        .iter()
        .flat_map(move |g| bytes[g.clone()].iter().map(|b| b - b'0'))
}

fn luhn(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let sum: u32 = digits
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card windows: from each group, the longest run of whole groups with 13–19
/// digits that is a valid card; then on after it.
fn cards(bytes: &[u8], groups: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    let valid = |window: &[Range<usize>]| {
        let n: usize = window.iter().map(|g| g.len()).sum();
        if !(13..=19).contains(&n) {
            return false;
        }
        if window.len() > 1 && window.iter().any(|g| !(3..=8).contains(&g.len())) {
            return false;
        }
        let first = bytes[window[0].start];
        (b'2'..=b'6').contains(&first)
            && digits_of(bytes, window).any(|d| d != first - b'0')
            && luhn(digits_of(bytes, window))
    };
    let mut i = 0;
    while i < groups.len() {
        let mut total = 0;
        let mut last = i;
        while last < groups.len() && total + groups[last].len() <= 19 {
            total += groups[last].len();
            last += 1;
        }
        // groups[i..last] is the longest window that fits; try it, then shorter.
        match (i + 1..=last).rev().find(|&j| valid(&groups[i..j])) {
            Some(j) => {
                out.push(groups[i].start..groups[j - 1].end);
                i = j;
            }
            None => i += 1,
        }
    }
}

/// Nine-digit windows shaped `shape` (or one 9-digit group) that pass `valid`.
fn nine_digits(
    bytes: &[u8],
    groups: &[Range<usize>],
    out: &mut Vec<Range<usize>>,
    shape: [usize; 3],
    valid: fn(&[u8; 9]) -> bool,
) {
    let mut i = 0;
    while i < groups.len() {
        let take = if groups[i].len() == 9 {
            1
        } else if groups.len() - i >= 3 && (0..3).all(|k| groups[i + k].len() == shape[k]) {
            3
        } else {
            0
        };
        if take > 0 {
            let mut d = [0u8; 9];
            for (slot, digit) in d.iter_mut().zip(digits_of(bytes, &groups[i..i + take])) {
                *slot = digit;
            }
            if valid(&d) {
                out.push(groups[i].start..groups[i + take - 1].end);
                i += take;
                continue;
            }
        }
        i += 1;
    }
}

fn ssns(bytes: &[u8], groups: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    nine_digits(bytes, groups, out, [3, 2, 4], |d| {
        let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
        area != 0 && area != 666 && area < 900 && d[3..5] != [0, 0] && d[5..9] != [0, 0, 0, 0]
    });
}

fn sins(bytes: &[u8], groups: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    nine_digits(bytes, groups, out, [3, 3, 3], |d| luhn(d.iter().copied()));
}

fn phone(text: &str, m: Range<usize>) -> Option<usize> {
    let bytes = text.as_bytes();
    // Not part of a longer number such as 555-123-4567-89 or 3.555.123.4567.
    let sep = |b: Option<&u8>| matches!(b, Some(b'.' | b'-'));
    let digit = |b: Option<&u8>| b.is_some_and(u8::is_ascii_digit);
    if sep(bytes.get(m.end)) && digit(bytes.get(m.end + 1)) {
        return None;
    }
    if m.start >= 2 && sep(bytes.get(m.start - 1)) && digit(bytes.get(m.start - 2)) {
        return None;
    }
    Some(m.end)
}

fn email(m: &str) -> bool {
    let local = m.split('@').next().unwrap_or("");
    local.len() <= 64 && !local.starts_with('.') && !local.ends_with('.') && !local.contains("..")
}

/// IBAN lengths by country (the SWIFT IBAN registry).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22),
    ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27), ("DK", 18), ("DO", 28), ("EE", 20),
    ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27), ("GB", 22),
    ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HN", 28), ("HR", 21),
    ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30),
    ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
    ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MN", 20),
    ("MR", 27), ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23),
    ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22),
    ("RU", 33), ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24),
    ("SM", 27), ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26),
    ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
];

fn iban(text: &str, m: Range<usize>) -> Option<usize> {
    let bytes = text.as_bytes();
    let country = &text[m.start..m.start + 2];
    let known = IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, n)| *n);
    // Ends (in bytes) after each count of IBAN characters, at group boundaries.
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut best = None;
    let mut i = m.start;
    while i < m.end && n < 34 {
        let b = bytes[i];
        if b == b' ' {
            i += 1;
            continue;
        }
        compact[n] = b;
        n += 1;
        i += 1;
        let boundary = i == bytes.len() || !bytes[i].is_ascii_alphanumeric();
        let length_ok = match known {
            Some(len) => n == len,
            None => (15..=34).contains(&n),
        };
        if boundary && length_ok && mod97(&compact[..n]) {
            best = Some(i);
        }
        if known.is_some_and(|len| n >= len) {
            break;
        }
    }
    best
}

fn mod97(iban: &[u8]) -> bool {
    let mut rem = 0u32;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// Whether a secret's body has upper case, lower case and digits, as random keys
/// do (and words such as `sk-learn-is-a-library` do not).
fn mixed(body: &str) -> bool {
    body.bytes().any(|b| b.is_ascii_uppercase())
        && body.bytes().any(|b| b.is_ascii_lowercase())
        && body.bytes().any(|b| b.is_ascii_digit())
}

fn slack(text: &str, m: Range<usize>) -> Option<usize> {
    text[m.start + 5..m.end]
        .bytes()
        .any(|b| b.is_ascii_digit())
        .then_some(m.end)
}

fn openai(text: &str, m: Range<usize>) -> Option<usize> {
    let s = &text[m.clone()];
    (!s.starts_with("sk-ant-") && mixed(&s[3..])).then_some(m.end)
}

fn anthropic(text: &str, m: Range<usize>) -> Option<usize> {
    mixed(&text[m.start + 7..m.end]).then_some(m.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(kind: BuiltinPattern, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find(kind, text, &mut out);
        out.into_iter().map(|r| text[r].to_string()).collect()
    }

    fn none(kind: BuiltinPattern, text: &str) {
        assert!(found(kind, text).is_empty(), "{kind:?} matched in {text:?}");
    }

    #[test]
    fn cards_true_positives() {
        use BuiltinPattern::CreditCard as C;
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5500 0000 0000 0004",
            "3782 822463 10005",
            "6011000990139424",
            "4222222222222",
        ] {
            assert_eq!(found(C, &format!("pay {card}.")), [card], "{card}");
        }
        assert_eq!(
            found(C, "4111111111111111 5500000000000004"),
            ["4111111111111111", "5500000000000004"]
        );
        assert_eq!(
            found(C, "card 4111 1111 1111 1111 2024"),
            ["4111 1111 1111 1111"],
            "a trailing group that breaks Luhn is left out"
        );
    }

    #[test]
    fn cards_near_misses() {
        use BuiltinPattern::CreditCard as C;
        none(C, "4111 1111 1111 1112"); // Luhn fails
        none(C, "41111111111111119999999"); // inside a longer run
        none(C, "99411111111111111111"); // inside a longer run
        none(C, "order A4111111111111111"); // glued to a letter
        none(C, "x = 0.4111111111111111"); // a decimal
        none(C, "1700000000000"); // millisecond timestamp, IIN 1
        none(C, "0000000000000000");
        none(C, "22222222222222222"); // one repeated digit (Luhn-valid)
        none(C, "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"); // single-digit groups
        none(C, "4111  1111  1111  1111"); // double spaces
    }

    #[test]
    fn ssns() {
        use BuiltinPattern::Ssn as S;
        for ok in ["123-45-6789", "123 45 6789", "123456789"] {
            assert_eq!(found(S, &format!("ssn {ok}.")), [ok]);
        }
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
            "1123-45-6789",
            "123-45-67890",
            "12345678901",
            "123-456-789",
        ] {
            none(S, bad);
        }
    }

    #[test]
    fn sins() {
        use BuiltinPattern::CaSin as S;
        for ok in ["046 454 286", "046-454-286", "046454286"] {
            assert_eq!(found(S, &format!("sin {ok}")), [ok]);
        }
        none(S, "046 454 287");
        none(S, "1046 454 286");
        none(S, "046 45 4286");
    }

    #[test]
    fn phones() {
        use BuiltinPattern::PhoneNumber as P;
        for ok in [
            "(415) 555-2671",
            "415-555-2671",
            "415.555.2671",
            "4155552671",
            "+1 415 555 2671",
            "1-415-555-2671",
            "+1 (415) 555-2671",
            "+44 20 7946 0958",
            "+447911123456",
            "+33 1 23 45 67 89",
        ] {
            assert_eq!(found(P, &format!("call {ok} now")), [ok], "{ok}");
        }
        for bad in [
            "015-555-2671",
            "415-155-2671",
            "14155552671234",
            "x4155552671",
            "415-555-2671-89",
            "+1234567",
        ] {
            none(P, bad);
        }
    }

    #[test]
    fn emails() {
        use BuiltinPattern::Email as E;
        assert_eq!(
            found(E, "mail jane.doe+x@example.co.uk!"),
            ["jane.doe+x@example.co.uk"]
        );
        assert_eq!(found(E, "<a@b.io>, c_d@e-f.org"), ["a@b.io", "c_d@e-f.org"]);
        none(E, "user@localhost");
        none(E, "@example.com");
        none(E, "a..b@example.com");
    }

    #[test]
    fn ibans() {
        use BuiltinPattern::Iban as I;
        for ok in [
            "GB82 WEST 1234 5698 7654 32",
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NO9386011117947",
        ] {
            assert_eq!(found(I, &format!("iban {ok}, thanks")), [ok], "{ok}");
        }
        assert_eq!(
            found(I, "DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX"),
            ["DE89 3704 0044 0532 0130 00"],
            "the country's length ends the IBAN"
        );
        none(I, "GB83 WEST 1234 5698 7654 32"); // check digits
        none(I, "GB82 WEST 1234 5698 7654 33"); // BBAN changed
        none(I, "XGB82WEST12345698765432"); // glued
        none(I, "DE89370400440532013000123"); // longer than Germany's 22
    }

    #[test]
    fn secrets() {
        use BuiltinPattern::*;
        assert_eq!(
            found(AwsAccessKey, "key=AKIAIOSFODNN7EXAMPLE;"),
            ["AKIAIOSFODNN7EXAMPLE"]
        );
        assert_eq!(
            found(AwsAccessKey, "ASIAY34FZKBOKMUTVV7A"),
            ["ASIAY34FZKBOKMUTVV7A"]
        );
        none(AwsAccessKey, "XAKIAIOSFODNN7EXAMPLE");
        none(AwsAccessKey, "AKIAIOSFODNN7EXAMPLEX");
        none(AwsAccessKey, "AKIAiosfodnn7example");

        let gh = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(
            found(GithubToken, &format!("token {gh} end")),
            [gh.as_str()]
        );
        let pat = format!(
            "github_pat_11ABCDEFG0{}_{}",
            "x".repeat(12),
            "Yz9".repeat(20)
        );
        assert_eq!(found(GithubToken, &pat), [pat.as_str()]);
        none(GithubToken, &format!("ghp_{}", "a".repeat(35)));
        none(GithubToken, &format!("xghp_{}", "a".repeat(36)));

        let slack = "xoxb-1234567890-0987654321-AbCdEfGhIjKl";
        assert_eq!(found(SlackToken, &format!("t={slack}")), [slack]);
        none(SlackToken, "xoxb-abcdefghijkl");

        let oai = format!("sk-proj-{}", "Ab1".repeat(10));
        assert_eq!(found(OpenAiApiKey, &format!("key: {oai}")), [oai.as_str()]);
        let legacy = format!("sk-{}", "aB3dE5".repeat(8));
        assert_eq!(found(OpenAiApiKey, &legacy), [legacy.as_str()]);
        none(OpenAiApiKey, "use sk-learn-is-a-python-library-for-ml");
        none(OpenAiApiKey, &format!("task-{}", "Ab1".repeat(10)));

        let ant = format!("sk-ant-api03-{}AA", "Xy7_-".repeat(18));
        assert_eq!(found(AnthropicApiKey, &ant), [ant.as_str()]);
        none(OpenAiApiKey, &ant);

        let google = format!("AIza{}", "SyB-c_3".repeat(5));
        assert_eq!(
            found(GoogleApiKey, &format!("k={google}&")),
            [google.as_str()]
        );
        none(GoogleApiKey, &format!("AIza{}", "B".repeat(34)));
        none(GoogleApiKey, &format!("AIza{}", "B".repeat(36)));

        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl";
        assert_eq!(found(JsonWebToken, &format!("Bearer {jwt}")), [jwt]);
        none(JsonWebToken, "eyJhbGciOiJIUzI1NiJ9 only one segment");
    }

    #[test]
    fn private_keys() {
        use BuiltinPattern::PrivateKey as K;
        for pem in [
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\r\nMIIB\r\nabc+/=\r\n-----END PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: 1\n\nlQ==\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----",
        ] {
            assert_eq!(found(K, &format!("here: {pem}\nbye")), [pem]);
        }
        assert_eq!(
            found(
                K,
                "-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\nEEIB\n(truncated)"
            ),
            ["-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\nEEIB\n"],
            "unterminated: header and base64 lines"
        );
        none(
            K,
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
        );
    }

    #[test]
    fn every_builtin_has_a_label_and_a_trigger_that_compiles() {
        for kind in ALL_BUILTINS {
            assert!(label(kind).starts_with('<') && label(kind).ends_with('>'));
            Regex::new(trigger(kind)).unwrap();
            warm_up(kind);
        }
    }
}
