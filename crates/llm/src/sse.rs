//! Server-Sent Events: an incremental, bounded parser and an encoder.
//!
//! The parser follows the WHATWG event-stream grammar: lines end in CRLF, LF
//! or CR; a blank line dispatches the event; lines starting with `:` are
//! comments; `data` lines are joined with `\n`; a leading byte-order mark is
//! skipped. Bytes may be pushed in chunks split anywhere, inside a CRLF pair
//! or a UTF-8 code point included: a line is decoded only once it is
//! complete. Invalid UTF-8 becomes U+FFFD, as browsers do.
//!
//! Memory is bounded: a line longer than the limit, or an event whose data
//! grows past it, is an [`SseError`], not an ever-growing buffer.

use bytes::{BufMut, Bytes, BytesMut};

/// The default limit on one line and on one event's data: 1 MiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 1 << 20;

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the event set one (readers default to
    /// `message`).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field set within this event, if any.
    pub id: Option<String>,
    /// The `retry:` field set within this event, if any, in milliseconds.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// An unnamed event carrying `data`.
    pub fn data(data: impl Into<String>) -> Self {
        SseEvent {
            data: data.into(),
            ..SseEvent::default()
        }
    }

    /// An event named `event` carrying `data`.
    pub fn named(event: impl Into<String>, data: impl Into<String>) -> Self {
        SseEvent {
            event: Some(event.into()),
            data: data.into(),
            ..SseEvent::default()
        }
    }

    /// The event type a browser would report: the `event:` field, or
    /// `message`.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// Parses the data as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.data)
    }

    /// The event on the wire, ending with the blank line that dispatches it.
    ///
    /// Multi-line data becomes one `data:` line per line (CRLF, LF and CR all
    /// split). Line breaks in `event` and `id`, which would break the
    /// framing, are replaced by spaces.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.data.len() + 32);
        if let Some(event) = &self.event {
            put_field(&mut out, "event", &single_line(event));
        }
        if let Some(id) = &self.id {
            put_field(&mut out, "id", &single_line(id));
        }
        if let Some(retry) = self.retry {
            put_field(&mut out, "retry", &retry.to_string());
        }
        for line in split_lines(&self.data) {
            put_field(&mut out, "data", line);
        }
        out.put_u8(b'\n');
        out.freeze()
    }
}

fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

fn single_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// Splits on CRLF, LF and CR; an empty string is one empty line.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(i) => {
                let skip = if text[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[i + skip..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// A stream the parser refuses to buffer further.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line grew past the limit without a line break.
    #[error(
        "an SSE line exceeds the {limit}-byte limit; the upstream stream is malformed or \
         sends larger events than allowed (raise the SSE line limit if they are legitimate)"
    )]
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// An event's data lines together grew past the limit.
    #[error(
        "an SSE event's data exceeds the {limit}-byte limit; the upstream stream is malformed \
         or sends larger events than allowed (raise the SSE line limit if they are legitimate)"
    )]
    EventTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// An incremental event-stream parser.
///
/// Push bytes as they arrive; each call returns the events completed by
/// them. After an error the stream is unusable: every later call returns the
/// same error, and the caller should abort the stream.
#[derive(Debug)]
pub struct SseParser {
    max_len: usize,
    line: Vec<u8>,
    /// The last chunk ended in CR: a LF starting the next one belongs to it.
    pending_cr: bool,
    first_line: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    failed: Option<SseError>,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new()
    }
}

impl SseParser {
    /// A parser with the [`DEFAULT_MAX_LINE_LEN`] limit.
    pub fn new() -> Self {
        SseParser::with_max_line_len(DEFAULT_MAX_LINE_LEN)
    }

    /// A parser refusing lines, and event data, longer than `max_len` bytes.
    pub fn with_max_line_len(max_len: usize) -> Self {
        SseParser {
            max_len,
            line: Vec::new(),
            pending_cr: false,
            first_line: true,
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
            retry: None,
            failed: None,
        }
    }

    /// Feeds `chunk` and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut events = Vec::new();
        match self.push_into(chunk, &mut events) {
            Ok(()) => Ok(events),
            Err(err) => {
                self.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Ends the stream: a last line without its line break is processed and
    /// an event without its closing blank line is returned.
    ///
    /// Browsers drop such an unterminated event; a gateway relaying a
    /// truncated upstream stream usually wants it, so it is returned and the
    /// caller chooses.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if let Err(err) = self.process_line(line) {
                self.failed = Some(err.clone());
                return Err(err);
            }
        }
        Ok(self.dispatch())
    }

    fn push_into(&mut self, chunk: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut rest = chunk;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&rest[..end])?;
            let line = std::mem::take(&mut self.line);
            if line.is_empty() {
                events.extend(self.dispatch());
            } else {
                self.process_line(line)?;
            }
            let mut next = end + 1;
            if rest[end] == b'\r' {
                match rest.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            rest = &rest[next..];
        }
        self.extend_line(rest)
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > self.max_len {
            return Err(SseError::LineTooLong {
                limit: self.max_len,
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, mut line: Vec<u8>) -> Result<(), SseError> {
        if std::mem::take(&mut self.first_line) && line.starts_with(b"\xEF\xBB\xBF") {
            line.drain(..3);
        }
        let line = String::from_utf8_lossy(&line);
        if line.is_empty() || line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_len {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_len,
                    });
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
        Ok(())
    }

    /// Ends the current event. Like browsers, a block without `data` lines
    /// dispatches nothing.
    fn dispatch(&mut self) -> Option<SseEvent> {
        self.first_line = false;
        let event = self.event.take();
        let id = self.id.take();
        let retry = self.retry.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        Some(SseEvent {
            event,
            data,
            id,
            retry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(parser.push(chunk).unwrap());
        }
        events
    }

    #[test]
    fn parses_named_events_with_multiline_data_and_ids() {
        let events = parse_all(&[b"event: ping\ndata: {}\n\nid: 7\ndata: a\ndata:b\ndata\n\n"]);
        assert_eq!(
            events,
            vec![
                SseEvent::named("ping", "{}"),
                SseEvent {
                    id: Some("7".into()),
                    ..SseEvent::data("a\nb\n")
                },
            ]
        );
        assert_eq!(events[1].event_type(), "message");
    }

    #[test]
    fn all_line_endings_are_accepted() {
        for stream in [
            &b"data: x\r\ndata: y\r\n\r\n"[..],
            b"data: x\rdata: y\r\r",
            b"data: x\ndata: y\n\n",
        ] {
            assert_eq!(
                parse_all(&[stream]),
                vec![SseEvent::data("x\ny")],
                "{stream:?}"
            );
        }
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_break() {
        // "\r" ends a chunk and "\n" starts the next: one line end, not two,
        // so no blank line (and no event) in between.
        let events = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(events, vec![SseEvent::data("a\nb")]);
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let events = parse_all(&[b": keep-alive\n\nfoo: bar\ndata: z\nretry: 3000\n\n"]);
        assert_eq!(
            events,
            vec![SseEvent {
                retry: Some(3000),
                ..SseEvent::data("z")
            }]
        );
        // A block of only comments dispatches nothing.
        assert!(parse_all(&[b": one\n: two\n\n"]).is_empty());
    }

    #[test]
    fn chunk_boundaries_anywhere_including_inside_code_points() {
        let stream = "event: content_block_delta\r\ndata: {\"text\":\"héllo 🌍 wörld\"}\r\n\r\n\
                      data: second\n\n"
            .as_bytes();
        let whole = parse_all(&[stream]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].data, "{\"text\":\"héllo 🌍 wörld\"}");
        for size in 1..stream.len() {
            let chunks: Vec<&[u8]> = stream.chunks(size).collect();
            assert_eq!(parse_all(&chunks), whole, "chunk size {size}");
        }
        for split in 0..stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(parse_all(&[a, b]), whole, "split at {split}");
        }
    }

    #[test]
    fn leading_bom_is_skipped() {
        let events = parse_all(&[b"\xEF\xBB", b"\xBFdata: x\n\n"]);
        assert_eq!(events, vec![SseEvent::data("x")]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let events = parse_all(&[b"data: a\xFFb\n\n"]);
        assert_eq!(events[0].data, "a\u{FFFD}b");
    }

    #[test]
    fn overlong_line_is_an_error_and_sticks() {
        let mut parser = SseParser::with_max_line_len(16);
        assert_eq!(parser.push(b"data: 0123456789").unwrap(), vec![]);
        let err = parser.push(b"a").unwrap_err();
        assert_eq!(err, SseError::LineTooLong { limit: 16 });
        assert!(err.to_string().contains("16-byte limit"), "{err}");
        assert_eq!(parser.push(b"\n\n").unwrap_err(), err);
    }

    #[test]
    fn overlong_event_data_is_an_error() {
        let mut parser = SseParser::with_max_line_len(16);
        let err = parser
            .push(b"data: 01234567\ndata: 01234567\n")
            .unwrap_err();
        assert_eq!(err, SseError::EventTooLarge { limit: 16 });
    }

    #[test]
    fn finish_returns_an_unterminated_event() {
        let mut parser = SseParser::new();
        assert!(parser.push(b"data: [DONE]").unwrap().is_empty());
        assert_eq!(parser.finish().unwrap(), Some(SseEvent::data("[DONE]")));
        assert_eq!(parser.finish().unwrap(), None);
    }

    #[test]
    fn encode_round_trips() {
        let events = [
            SseEvent::named("message_start", "{\"a\":1}"),
            SseEvent::data("line one\nline two\n"),
            SseEvent::data(""),
            SseEvent::data(" leading space"),
            SseEvent {
                id: Some("42".into()),
                retry: Some(10),
                ..SseEvent::named("x", "y")
            },
        ];
        for event in events {
            let wire = event.encode();
            assert_eq!(parse_all(&[&wire]), vec![event.clone()], "{wire:?}");
        }
    }

    #[test]
    fn encode_wire_shape() {
        let event = SseEvent::named("content_block_delta", "{\"x\":1}");
        assert_eq!(
            &event.encode()[..],
            b"event: content_block_delta\ndata: {\"x\":1}\n\n"
        );
        assert_eq!(
            &SseEvent::data("a\r\nb").encode()[..],
            b"data: a\ndata: b\n\n"
        );
    }

    #[test]
    fn encode_cannot_inject_fields_through_names() {
        let event = SseEvent::named("x\ndata: injected", "real");
        let parsed = parse_all(&[&event.encode()]);
        assert_eq!(parsed[0].data, "real");
        assert_eq!(parsed[0].event.as_deref(), Some("x data: injected"));
    }
}
