//! Text normalization before matching: NFKC (fullwidth digits, ligatures and other
//! compatibility forms become their plain equivalents) and removal of invisible
//! characters (zero-width joiners and spaces, soft hyphen, bidi controls), with a
//! map from the normalized text back to the original for masking.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

/// Characters removed before matching.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Normalized text and where each of its characters came from.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    /// The text matched against.
    pub text: Cow<'a, str>,
    /// For each character of `text` (in order): its byte start in `text` and the
    /// byte range of the original character it came from. Empty when `text` is
    /// the original (ASCII needs no normalization).
    map: Vec<(usize, Range<usize>)>,
}

impl<'a> Normalized<'a> {
    /// Normalizes `original`; ASCII text is used as is, without allocating.
    pub fn new(original: &'a str) -> Self {
        if original.is_ascii() {
            return Normalized {
                text: Cow::Borrowed(original),
                map: Vec::new(),
            };
        }
        let mut text = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len());
        for (offset, c) in original.char_indices() {
            if invisible(c) {
                continue;
            }
            let source = offset..offset + c.len_utf8();
            for n in std::iter::once(c).nfkc() {
                if invisible(n) {
                    continue;
                }
                map.push((text.len(), source.clone()));
                text.push(n);
            }
        }
        Normalized {
            text: Cow::Owned(text),
            map,
        }
    }

    /// The original byte range covering the normalized range `range`.
    pub fn original(&self, range: Range<usize>) -> Range<usize> {
        if self.map.is_empty() {
            return range;
        }
        let first = self.map.partition_point(|(start, _)| *start < range.start);
        let last = self.map.partition_point(|(start, _)| *start < range.end);
        match (
            self.map.get(first),
            last.checked_sub(1).and_then(|i| self.map.get(i)),
        ) {
            (Some((_, a)), Some((_, b))) if first < last => a.start..b.end,
            _ => 0..0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_borrowed() {
        let n = Normalized::new("credit card");
        assert!(matches!(n.text, Cow::Borrowed(_)));
        assert_eq!(n.original(0..6), 0..6);
    }

    #[test]
    fn removes_invisibles_and_folds_compatibility_forms() {
        let original = "cre\u{200B}dit \u{202E}card ４１１１";
        let n = Normalized::new(original);
        assert_eq!(n.text, "credit card 4111");
        let start = n.text.find("4111").unwrap();
        let back = n.original(start..start + 4);
        assert_eq!(&original[back], "４１１１");
        let back = n.original(0..11);
        assert_eq!(&original[back], "cre\u{200B}dit \u{202E}card");
    }
}
