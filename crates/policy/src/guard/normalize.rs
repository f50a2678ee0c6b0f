//! Text normalization before matching, for evasion resistance:
//!
//! - invisible characters are removed: zero-width space/non-joiner/joiner
//!   (U+200B–U+200D), word joiner and invisible operators (U+2060–U+2064), BOM
//!   (U+FEFF), soft hyphen (U+00AD), Mongolian vowel separator (U+180E) and the bidi
//!   controls (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069);
//! - the rest is put in Unicode NFKC: fullwidth digits and letters, ligatures,
//!   superscripts and other compatibility forms become their plain equivalents, and
//!   combining sequences are composed.
//!
//! [`Normalized`] keeps a map from the normalized text back to the original, so a
//! mask replaces the right span of the *original* text. The text is cut into
//! clusters at characters that never interact with what precedes them under NFKC
//! (a starter that cannot combine backwards); each cluster is normalized alone,
//! which gives exactly NFKC of the whole text. Where a cluster comes out unchanged
//! the map is exact to the byte; where it changed (`４` → `4`, `e`+`◌́` → `é`) a
//! position inside it maps to the whole cluster, so a mask covers it entirely.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Whether `c` is removed before matching (zero-width, soft hyphen, bidi controls).
pub fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Whether NFKC never combines `c` with the characters before it, so that a
/// normalization cluster may start at `c`.
pub(crate) fn starts_cluster(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    let mut first = None;
    decompose_compatible(c, |d| {
        if first.is_none() {
            first = Some(d);
        }
    });
    let first = first.unwrap_or(c);
    canonical_combining_class(first) == 0
        && is_nfkc_quick(std::iter::once(first)) != IsNormalized::Maybe
}

/// Whether the last character `c` contributes to the normalized text is non-ASCII
/// (and so can never be part of a built-in match).
pub(crate) fn normalizes_to_non_ascii_end(c: char) -> bool {
    let mut last = c;
    decompose_compatible(c, |d| last = d);
    !last.is_ascii()
}

/// One cluster run of the map: `norm_len` normalized bytes at `norm` came from
/// `orig_len` original bytes at `orig`; `exact` when they are the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    norm: usize,
    norm_len: usize,
    orig: usize,
    orig_len: usize,
    exact: bool,
}

/// Normalized text and the way back to the original.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    /// The text detectors run on.
    pub text: Cow<'a, str>,
    /// Empty when `text` is the original (no allocation).
    map: Vec<Segment>,
}

impl<'a> Normalized<'a> {
    /// Normalizes `original`. Text that is already NFKC and has no invisible
    /// characters (all ASCII text, most other text) is borrowed, without allocating.
    pub fn new(original: &'a str) -> Self {
        if original.is_ascii()
            || (!original.chars().any(is_ignorable)
                && is_nfkc_quick(original.chars()) == IsNormalized::Yes)
        {
            return Normalized {
                text: Cow::Borrowed(original),
                map: Vec::new(),
            };
        }
        let mut b = Builder {
            original,
            text: String::with_capacity(original.len()),
            map: Vec::new(),
            cluster: String::new(),
            start: 0,
            end: 0,
            gap: false,
            ignorable_inside: false,
        };
        for (i, c) in original.char_indices() {
            if is_ignorable(c) {
                b.gap = !b.cluster.is_empty();
                continue;
            }
            if starts_cluster(c) {
                b.flush();
            }
            if b.cluster.is_empty() {
                b.start = i;
            } else if b.gap {
                b.ignorable_inside = true;
            }
            b.gap = false;
            b.cluster.push(c);
            b.end = i + c.len_utf8();
        }
        b.flush();
        Normalized {
            text: Cow::Owned(b.text),
            map: b.map,
        }
    }

    /// Whether the normalized text is the original itself.
    pub fn is_identity(&self) -> bool {
        matches!(self.text, Cow::Borrowed(_))
    }

    /// The original byte range covering the normalized byte range `range` (the
    /// smallest span of whole clusters when the mapping is not exact).
    pub fn original(&self, range: Range<usize>) -> Range<usize> {
        if self.map.is_empty() || range.is_empty() {
            return range;
        }
        let seg = |pos: usize| {
            let i = self.map.partition_point(|s| s.norm + s.norm_len <= pos);
            self.map[i.min(self.map.len() - 1)]
        };
        let a = seg(range.start);
        let start = if a.exact {
            a.orig + (range.start - a.norm)
        } else {
            a.orig
        };
        let b = seg(range.end - 1);
        let end = if b.exact {
            b.orig + (range.end - b.norm)
        } else {
            b.orig + b.orig_len
        };
        start..end
    }
}

struct Builder<'a> {
    original: &'a str,
    text: String,
    map: Vec<Segment>,
    /// The current cluster, invisible characters left out.
    cluster: String,
    /// Its original byte span.
    start: usize,
    end: usize,
    /// An invisible character was skipped since the cluster's last character.
    gap: bool,
    /// An invisible character sits between two of the cluster's characters.
    ignorable_inside: bool,
}

impl Builder<'_> {
    fn flush(&mut self) {
        if self.cluster.is_empty() {
            return;
        }
        let norm = self.text.len();
        self.text.extend(self.cluster.nfkc());
        let exact =
            !self.ignorable_inside && self.text[norm..] == self.original[self.start..self.end];
        let seg = Segment {
            norm,
            norm_len: self.text.len() - norm,
            orig: self.start,
            orig_len: self.end - self.start,
            exact,
        };
        match self.map.last_mut() {
            Some(last)
                if exact
                    && last.exact
                    && last.orig + last.orig_len == seg.orig
                    && last.norm + last.norm_len == seg.norm =>
            {
                last.norm_len += seg.norm_len;
                last.orig_len += seg.orig_len;
            }
            _ => self.map.push(seg),
        }
        self.cluster.clear();
        self.gap = false;
        self.ignorable_inside = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn back<'a>(original: &'a str, n: &Normalized<'_>, needle: &str) -> &'a str {
        let start = n.text.find(needle).expect("needle in normalized text");
        &original[n.original(start..start + needle.len())]
    }

    #[test]
    fn ascii_and_clean_unicode_are_borrowed() {
        for s in ["credit card 4111", "déjà vu — 日本語 ✓", ""] {
            let n = Normalized::new(s);
            assert!(n.is_identity(), "{s}");
            assert_eq!(n.text, s);
            assert_eq!(n.original(1..3), 1..3);
        }
    }

    #[test]
    fn removes_invisibles_and_bidi_controls() {
        let original = "cre\u{200B}dit\u{00AD} \u{202E}ca\u{2066}rd\u{FEFF}\u{200D}";
        let n = Normalized::new(original);
        assert_eq!(n.text, "credit card");
        assert_eq!(back(original, &n, "credit"), "cre\u{200B}dit");
        assert_eq!(back(original, &n, "card"), "ca\u{2066}rd");
        assert_eq!(back(original, &n, "t c"), "t\u{00AD} \u{202E}c");
    }

    #[test]
    fn folds_compatibility_forms_and_composes() {
        let original = "ｃａｒｄ ４１１１ ﬁne e\u{301}té x²";
        let n = Normalized::new(original);
        assert_eq!(n.text, "card 4111 fine été x2");
        assert_eq!(back(original, &n, "card"), "ｃａｒｄ");
        assert_eq!(back(original, &n, "4111"), "４１１１");
        assert_eq!(
            back(original, &n, "i"),
            "ﬁ",
            "inside a ligature: the whole ligature"
        );
        assert_eq!(back(original, &n, "été"), "e\u{301}té");
        assert_eq!(back(original, &n, "2"), "²");
    }

    #[test]
    fn an_invisible_inside_a_combining_sequence_is_covered() {
        // e, ZWSP, combining acute: the ZWSP goes and the accent composes with e.
        let original = "xe\u{200B}\u{301}y";
        let n = Normalized::new(original);
        assert_eq!(n.text, "xéy");
        assert_eq!(back(original, &n, "é"), "e\u{200B}\u{301}");
        assert_eq!(back(original, &n, "xéy"), original);
    }

    #[test]
    fn hangul_jamo_compose_across_characters() {
        // LV syllable followed by a trailing consonant jamo: one cluster.
        let original = "a\u{AC00}\u{11A8}b";
        let n = Normalized::new(original);
        assert_eq!(n.text, "a\u{AC01}b");
        assert_eq!(back(original, &n, "\u{AC01}"), "\u{AC00}\u{11A8}");
    }

    #[test]
    fn cluster_starts() {
        assert!(starts_cluster('a'));
        assert!(starts_cluster('４'));
        assert!(!starts_cluster('\u{301}'), "combining mark");
        assert!(
            !starts_cluster('\u{11A8}'),
            "trailing jamo composes backwards"
        );
        assert!(
            !starts_cluster('\u{FF9E}'),
            "halfwidth voiced mark decomposes to a combining mark"
        );
        assert!(normalizes_to_non_ascii_end('日'));
        assert!(!normalizes_to_non_ascii_end('４'));
    }
}
