//! Guarding streamed text: pieces arrive one at a time (SSE deltas); a match may
//! be split across pieces. The scanner releases only text that no match can still
//! reach, holding back the last [`HOLD_BACK`] characters (more when a match starts
//! earlier), so a card number split over two events is still caught and masked
//! whole. Memory stays bounded by the hold-back window plus one piece.
//!
//! Limit: a match longer than the window that is split across pieces may be
//! missed (built-in detectors are far shorter; a PEM private key block is caught
//! by its header).

use std::sync::Arc;

use palisade_api::kinds::agentgateway::ai::GuardScope;

use super::chain::{Finding, GuardChain, Verdict, mask};

/// Characters held back from the end of the text seen so far.
pub const HOLD_BACK: usize = 256;

/// What a scanner releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamOutput {
    /// Text safe to send now (possibly empty), masked where needed.
    Emit(String),
    /// A rejecting guard matched: stop the stream.
    Reject {
        /// Status the guard configures.
        status: u16,
        /// Its message.
        message: Arc<str>,
        /// What matched.
        finding: Finding,
    },
}

/// Scans one stream of text (one content block, one choice).
#[derive(Debug)]
pub struct StreamScanner {
    chain: Arc<GuardChain>,
    scope: GuardScope,
    held: String,
    stopped: bool,
}

impl StreamScanner {
    /// A scanner for text of `scope`.
    pub fn new(chain: Arc<GuardChain>, scope: GuardScope) -> StreamScanner {
        StreamScanner {
            chain,
            scope,
            held: String::new(),
            stopped: false,
        }
    }

    /// Feeds the next piece; returns what can be released.
    pub fn push(&mut self, piece: &str) -> StreamOutput {
        if self.stopped {
            return StreamOutput::Emit(String::new());
        }
        self.held.push_str(piece);
        if !self.chain.covers(self.scope) {
            return StreamOutput::Emit(std::mem::take(&mut self.held));
        }
        let hits = self.chain.hits(self.scope, &self.held);
        if let Some(reject) = self.reject(&hits) {
            return reject;
        }
        let chars = self.held.chars().count();
        let mut cut = if chars > HOLD_BACK {
            self.held
                .char_indices()
                .nth(chars - HOLD_BACK)
                .map(|(i, _)| i)
                .unwrap_or(0)
        } else {
            0
        };
        for hit in &hits {
            if hit.range.start < cut && hit.range.end > cut {
                cut = hit.range.start;
            }
        }
        // A cut may have moved onto a hit that itself crosses an earlier one.
        while let Some(start) = hits
            .iter()
            .filter(|h| h.range.start < cut && h.range.end > cut)
            .map(|h| h.range.start)
            .min()
        {
            cut = start;
        }
        let released: Vec<_> = hits.into_iter().filter(|h| h.range.end <= cut).collect();
        let out = mask(&self.held[..cut], released);
        self.held.drain(..cut);
        StreamOutput::Emit(out)
    }

    /// Releases everything still held, at the end of the stream.
    pub fn finish(&mut self) -> StreamOutput {
        if self.stopped {
            return StreamOutput::Emit(String::new());
        }
        let text = std::mem::take(&mut self.held);
        let hits = self.chain.hits(self.scope, &text);
        if let Some(reject) = self.reject(&hits) {
            return reject;
        }
        StreamOutput::Emit(mask(&text, hits))
    }

    fn reject(&mut self, hits: &[super::chain::Hit]) -> Option<StreamOutput> {
        match self.chain.rejection(hits)? {
            Verdict::Reject {
                status,
                message,
                finding,
            } => {
                self.stopped = true;
                self.held.clear();
                Some(StreamOutput::Reject {
                    status,
                    message,
                    finding,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_api::kinds::agentgateway::ai::{
        BuiltinPattern, GuardEntry, RegexAction, RegexGuard,
    };

    fn chain(action: RegexAction) -> Arc<GuardChain> {
        Arc::new(
            GuardChain::compile(&[GuardEntry {
                regex: Some(RegexGuard {
                    matches: vec!["forbidden phrase".into()],
                    builtins: vec![BuiltinPattern::CreditCard, BuiltinPattern::Email],
                    action: Some(action),
                }),
                ..GuardEntry::default()
            }])
            .unwrap(),
        )
    }

    fn run(chain: &Arc<GuardChain>, pieces: &[&str]) -> Result<String, Arc<str>> {
        let mut s = StreamScanner::new(chain.clone(), GuardScope::Messages);
        let mut out = String::new();
        let mut outputs: Vec<StreamOutput> = pieces.iter().map(|p| s.push(p)).collect();
        outputs.push(s.finish());
        for p in outputs {
            match p {
                StreamOutput::Emit(t) => out.push_str(&t),
                StreamOutput::Reject { message, .. } => return Err(message),
            }
        }
        Ok(out)
    }

    /// Splits `text` at the given char positions.
    fn split<'a>(text: &'a str, at: &[usize]) -> Vec<&'a str> {
        let idx: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut cuts: Vec<usize> = at.iter().map(|a| idx[(*a).min(idx.len() - 1)]).collect();
        cuts.sort();
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

    #[test]
    fn split_matches_are_masked_like_the_whole_text() {
        let masking = chain(RegexAction::Mask);
        let filler = "lorem ipsum dolor sit amet ".repeat(12);
        let text = format!(
            "début {filler}card 4111 1111 1111 1111, mail a.b@example.org — fin {filler}4111111111111111"
        );
        let whole = match masking.check(GuardScope::Messages, &text) {
            Verdict::Mask { text, .. } => text,
            other => panic!("{other:?}"),
        };
        assert!(whole.contains("<CREDIT_CARD>") && whole.contains("<EMAIL>"));
        let n = text.chars().count();
        let mut seed = 7u64;
        for round in 0..300 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let cuts: Vec<usize> = (0..(1 + round % 9))
                .map(|k| ((seed >> (k * 7)) as usize) % n)
                .collect();
            let pieces = split(&text, &cuts);
            assert_eq!(run(&masking, &pieces).unwrap(), whole, "cuts {cuts:?}");
        }
        // One character at a time.
        let singles: Vec<String> = text.chars().map(String::from).collect();
        let refs: Vec<&str> = singles.iter().map(String::as_str).collect();
        assert_eq!(run(&masking, &refs).unwrap(), whole);
    }

    #[test]
    fn a_split_rejecting_phrase_stops_the_stream() {
        let rejecting = chain(RegexAction::Reject);
        let err = run(&rejecting, &["this is a forbid", "den phrase, really"]).unwrap_err();
        assert_eq!(
            &*err,
            "The request was rejected due to inappropriate content"
        );
        assert_eq!(
            run(&rejecting, &["harmless ", "text"]).unwrap(),
            "harmless text"
        );
    }

    #[test]
    fn releases_text_early_when_far_from_any_match() {
        let masking = chain(RegexAction::Mask);
        let mut s = StreamScanner::new(masking, GuardScope::Messages);
        let long = "x".repeat(HOLD_BACK + 100);
        match s.push(&long) {
            StreamOutput::Emit(t) => assert_eq!(t.len(), 100),
            other => panic!("{other:?}"),
        }
    }
}
