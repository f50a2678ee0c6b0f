//! Built-in detectors of sensitive data: a regex that finds candidates and, where
//! the data has one, a checksum or structure check that keeps false positives low
//! (Luhn for cards and SINs, mod-97 for IBANs, reserved SSN ranges).

use palisade_api::kinds::agentgateway::ai::BuiltinPattern;
use regex::Regex;

/// A compiled built-in detector.
#[derive(Debug, Clone)]
pub struct Builtin {
    /// Which data it finds.
    pub kind: BuiltinPattern,
    regex: Regex,
    check: fn(&str) -> bool,
}

impl Builtin {
    /// The detector for `kind`.
    pub fn new(kind: BuiltinPattern) -> Builtin {
        let (pattern, check): (&str, fn(&str) -> bool) = match kind {
            BuiltinPattern::CreditCard => (r"\b(?:\d[ -]?){12,18}\d\b", card),
            BuiltinPattern::Ssn => (r"\b\d{3}[- ]?\d{2}[- ]?\d{4}\b", ssn),
            BuiltinPattern::Email => (
                r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
                any,
            ),
            BuiltinPattern::PhoneNumber => (
                r"(?:\+1[ .-]?)?(?:\(\d{3}\)|\b\d{3})[ .-]?\d{3}[ .-]?\d{4}\b|\+[1-9]\d{7,14}\b",
                phone,
            ),
            BuiltinPattern::CaSin => (r"\b\d{3}[- ]?\d{3}[- ]?\d{3}\b", sin),
            BuiltinPattern::Iban => (r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", iban),
            BuiltinPattern::AwsAccessKey => (r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", any),
            BuiltinPattern::GithubToken => (
                r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,255})\b",
                any,
            ),
            BuiltinPattern::PrivateKey => (
                r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----)?",
                any,
            ),
            BuiltinPattern::SlackToken => (r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b", any),
            BuiltinPattern::OpenAiApiKey => (r"\bsk-[A-Za-z0-9_-]{20,}\b", not_anthropic),
            BuiltinPattern::AnthropicApiKey => (r"\bsk-ant-[A-Za-z0-9_-]{20,}\b", any),
            BuiltinPattern::GoogleApiKey => (r"\bAIza[0-9A-Za-z_-]{35}\b", any),
            BuiltinPattern::JsonWebToken => (
                r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}",
                any,
            ),
        };
        Builtin {
            kind,
            regex: Regex::new(pattern).expect("built-in patterns are valid"),
            check,
        }
    }

    /// The mask label, e.g. `<CREDIT_CARD>`.
    pub fn label(&self) -> &'static str {
        match self.kind {
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

    /// Byte ranges of the valid matches in `text`.
    pub fn find(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        self.regex
            .find_iter(text)
            .filter(|m| (self.check)(m.as_str()))
            .map(|m| m.range())
            .collect()
    }
}

fn any(_: &str) -> bool {
    true
}

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

fn luhn(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                if x * 2 > 9 { x * 2 - 9 } else { x * 2 }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn card(s: &str) -> bool {
    let d = digits(s);
    (13..=19).contains(&d.len()) && luhn(&d) && d.iter().any(|x| *x != d[0])
}

fn ssn(s: &str) -> bool {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (&d[0..3], &d[3..5], &d[5..9]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

fn sin(s: &str) -> bool {
    let d = digits(s);
    d.len() == 9 && luhn(&d)
}

fn phone(s: &str) -> bool {
    let d = digits(s);
    if s.starts_with('+') && !s.starts_with("+1") {
        return (8..=15).contains(&d.len());
    }
    // NANP: area and exchange codes start with 2-9.
    let local = if d.len() == 11 && d[0] == 1 {
        &d[1..]
    } else {
        &d[..]
    };
    local.len() == 10 && local[0] >= 2 && local[3] >= 2
}

fn iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut remainder: u32 = 0;
    for c in rearranged.chars() {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        let width = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * width + value) % 97;
    }
    remainder == 1
}

fn not_anthropic(s: &str) -> bool {
    !s.starts_with("sk-ant-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(kind: BuiltinPattern, text: &str) -> Vec<String> {
        let b = Builtin::new(kind);
        b.find(text)
            .into_iter()
            .map(|r| text[r].to_string())
            .collect()
    }

    #[test]
    fn cards_need_a_valid_luhn_and_whole_digit_runs() {
        assert_eq!(
            found(BuiltinPattern::CreditCard, "pay 4111 1111 1111 1111 now"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            found(BuiltinPattern::CreditCard, "4111-1111-1111-1111"),
            ["4111-1111-1111-1111"]
        );
        assert!(
            found(BuiltinPattern::CreditCard, "4111 1111 1111 1112").is_empty(),
            "Luhn fails"
        );
        assert!(
            found(BuiltinPattern::CreditCard, "order 41111111111111119999999").is_empty(),
            "inside a longer run"
        );
        assert!(
            found(BuiltinPattern::CreditCard, "0000000000000000").is_empty(),
            "repeated digits"
        );
    }

    #[test]
    fn ssns_skip_reserved_ranges() {
        assert_eq!(
            found(BuiltinPattern::Ssn, "ssn 123-45-6789."),
            ["123-45-6789"]
        );
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(found(BuiltinPattern::Ssn, bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn emails_phones_and_sins() {
        assert_eq!(
            found(BuiltinPattern::Email, "mail jane.doe+x@example.co.uk!"),
            ["jane.doe+x@example.co.uk"]
        );
        assert_eq!(
            found(
                BuiltinPattern::PhoneNumber,
                "call (415) 555-2671 or +44 7911123456"
            ),
            ["(415) 555-2671"]
        );
        assert_eq!(
            found(BuiltinPattern::PhoneNumber, "+447911123456"),
            ["+447911123456"]
        );
        assert!(
            found(BuiltinPattern::PhoneNumber, "call 015-555-2671").is_empty(),
            "area code cannot start with 0"
        );
        assert_eq!(
            found(BuiltinPattern::CaSin, "sin 046 454 286"),
            ["046 454 286"]
        );
        assert!(found(BuiltinPattern::CaSin, "sin 046 454 287").is_empty());
    }

    #[test]
    fn ibans_need_mod_97() {
        assert_eq!(
            found(
                BuiltinPattern::Iban,
                "to GB82 WEST 1234 5698 7654 32 thanks"
            ),
            ["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(
            found(BuiltinPattern::Iban, "DE89370400440532013000"),
            ["DE89370400440532013000"]
        );
        assert!(found(BuiltinPattern::Iban, "GB83 WEST 1234 5698 7654 32").is_empty());
    }

    #[test]
    fn secrets() {
        assert_eq!(
            found(BuiltinPattern::AwsAccessKey, "key=AKIAIOSFODNN7EXAMPLE;"),
            ["AKIAIOSFODNN7EXAMPLE"]
        );
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(
            found(BuiltinPattern::GithubToken, &format!("token {gh} end")),
            [gh.as_str()]
        );
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            found(BuiltinPattern::PrivateKey, &format!("x {pem} y")),
            [pem]
        );
        let ant = format!("sk-ant-api03-{}", "x".repeat(30));
        assert_eq!(found(BuiltinPattern::AnthropicApiKey, &ant), [ant.as_str()]);
        assert!(
            found(BuiltinPattern::OpenAiApiKey, &ant).is_empty(),
            "an Anthropic key is not an OpenAI key"
        );
        let oai = format!("sk-proj-{}", "Ab1".repeat(10));
        assert_eq!(found(BuiltinPattern::OpenAiApiKey, &oai), [oai.as_str()]);
        let google = format!("AIza{}", "B".repeat(35));
        assert_eq!(
            found(BuiltinPattern::GoogleApiKey, &google),
            [google.as_str()]
        );
        assert_eq!(
            found(BuiltinPattern::SlackToken, "xoxb-1234567890-abcdef"),
            ["xoxb-1234567890-abcdef"]
        );
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl";
        assert_eq!(found(BuiltinPattern::JsonWebToken, jwt), [jwt]);
    }
}
