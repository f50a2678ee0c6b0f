//! Server-sent events, as far as MCP needs them: an incremental parser for event
//! streams read from upstreams, and the encoding of events sent to clients.

use bytes::{Bytes, BytesMut};

/// Longest line accepted in an event stream.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// One event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// `event:` (empty means `message`).
    pub event: String,
    /// `data:` lines joined with `\n`.
    pub data: String,
    /// `id:`, if given.
    pub id: Option<String>,
}

impl Event {
    /// A `message` event carrying `data` (which must not contain newlines; JSON
    /// written compactly never does).
    pub fn message(data: &str) -> Bytes {
        let mut out = BytesMut::with_capacity(data.len() + 24);
        out.extend_from_slice(b"event: message\ndata: ");
        out.extend_from_slice(data.as_bytes());
        out.extend_from_slice(b"\n\n");
        out.freeze()
    }

    /// A named event with one data line.
    pub fn named(event: &str, data: &str) -> Bytes {
        Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
    }
}

/// An event stream grew a line longer than [`MAX_LINE`].
#[derive(Debug, thiserror::Error)]
#[error("event stream line longer than {MAX_LINE} bytes")]
pub struct LineTooLong;

/// Incremental parser: feed bytes as they arrive, take complete events.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    current: Event,
    has_data: bool,
}

impl Parser {
    /// Feeds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, LineTooLong> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(pos) = self.buf[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        {
            let end = start + pos;
            // A CR at the very end may be the first half of CRLF: wait for more.
            if self.buf[end] == b'\r' && end + 1 == self.buf.len() {
                break;
            }
            let line = String::from_utf8_lossy(&self.buf[start..end]).into_owned();
            start = end + 1;
            if self.buf[end] == b'\r' && self.buf.get(start) == Some(&b'\n') {
                start += 1;
            }
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        Ok(events)
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            let done = std::mem::take(&mut self.current);
            let had = std::mem::replace(&mut self.has_data, false);
            return had.then_some(done);
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.current.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "id" => self.current.id = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_across_any_split() {
        let text = "event: endpoint\r\ndata: /messages?x=1\r\n\r\n: comment\n\ndata: {\"a\":\ndata: 1}\nid: 7\n\n";
        for split in 0..text.len() {
            let mut p = Parser::default();
            let mut got = p.push(&text.as_bytes()[..split]).unwrap();
            got.extend(p.push(&text.as_bytes()[split..]).unwrap());
            assert_eq!(got.len(), 2, "split at {split}");
            assert_eq!(got[0].event, "endpoint");
            assert_eq!(got[0].data, "/messages?x=1");
            assert_eq!(got[1].data, "{\"a\":\n1}");
            assert_eq!(got[1].id.as_deref(), Some("7"));
        }
    }

    #[test]
    fn encodes_messages() {
        let mut p = Parser::default();
        let got = p.push(&Event::message("{\"x\":1}")).unwrap();
        assert_eq!(got[0].event, "message");
        assert_eq!(got[0].data, "{\"x\":1}");
    }
}
