//! The parser proper. Each step below quotes the WHATWG HTML text it implements
//! ("Server-sent events" › "Parsing an event stream" and "Interpreting an event stream").

use crate::error::Error;
use std::borrow::Cow;

/// LINE FEED: ends a line, alone or after a CR.
const LF: u8 = b'\n';
/// CARRIAGE RETURN: ends a line, alone or before a LF.
const CR: u8 = b'\r';
/// The field/value separator; a line starting with it is a comment.
const COLON: u8 = b':';
/// At most one of these is stripped after the colon.
const SPACE: u8 = b' ';
/// An `id` containing NULL is ignored.
const NULL: u8 = 0;
/// The start of a `data` line, whose value may be streamed into the data buffer.
const DATA_FIELD: &[u8] = b"data:";
/// The UTF-8 byte order mark, stripped once at the start of the stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The default limit for one event: 8 MiB of field lines.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `message` when the block had none (or an empty one).
    pub event_type: String,
    /// The `data:` lines joined with LF.
    pub data: String,
    /// The `id:` field of this very block, if it had a valid one (an empty `id:` gives `""`).
    pub id: Option<String>,
    /// The stream's last event ID string at dispatch: the latest `id:` seen, in this or an
    /// earlier block. This is what a reconnect sends as `Last-Event-ID`.
    pub last_event_id: String,
}

/// A dispatched event, borrowed from the parser's buffers: handing it to a [`Sink`] costs no
/// allocation. [`EventRef::to_owned`] makes an [`SseEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// The `event:` field, or `message`.
    pub event_type: &'a str,
    /// The `data:` lines joined with LF, as the UTF-8 bytes received. [`EventRef::data`]
    /// decodes them with U+FFFD for invalid sequences (the spec's decoder); a consumer that
    /// decodes elsewhere (a JavaScript `TextDecoder`) skips that work in wasm.
    pub data_bytes: &'a [u8],
    /// The `id:` field of this block, if it had a valid one.
    pub id: Option<&'a str>,
    /// The last event ID string at dispatch.
    pub last_event_id: &'a str,
}

impl<'a> EventRef<'a> {
    /// The data, decoded (borrowed when it is valid UTF-8).
    pub fn data(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.data_bytes)
    }

    /// An owned copy.
    pub fn to_owned(&self) -> SseEvent {
        SseEvent {
            event_type: self.event_type.to_owned(),
            data: self.data().into_owned(),
            id: self.id.map(str::to_owned),
            last_event_id: self.last_event_id.to_owned(),
        }
    }
}

impl SseEvent {
    /// A borrowed view.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            event_type: &self.event_type,
            data_bytes: self.data.as_bytes(),
            id: self.id.as_deref(),
            last_event_id: &self.last_event_id,
        }
    }
}

/// What the parser reports, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A dispatched event.
    Event(SseEvent),
    /// A comment line (`: text`), without the colon and one leading space.
    Comment(String),
    /// A valid `retry:` field, in milliseconds.
    Retry(u64),
    /// An error about one event (size limit); parsing goes on with the next event.
    Error(Error),
}

/// Receives what the parser finds. Only [`Sink::on_event`] is required.
pub trait Sink {
    /// An event was dispatched. The view is valid for the call only.
    fn on_event(&mut self, event: EventRef<'_>);
    /// A comment line arrived (keep-alives are comments).
    fn on_comment(&mut self, _text: &str) {}
    /// A valid `retry:` field arrived.
    fn on_retry(&mut self, _ms: u64) {}
    /// An event was dropped (it exceeded the size limit).
    fn on_error(&mut self, _error: Error) {}
    /// A block with an `id:` field but no data set the last event ID string (`""` when the
    /// field was empty) without dispatching an event.
    fn on_id_only(&mut self, _last_event_id: &str) {}
}

impl Sink for Vec<Item> {
    fn on_event(&mut self, event: EventRef<'_>) {
        self.push(Item::Event(event.to_owned()));
    }
    fn on_comment(&mut self, text: &str) {
        self.push(Item::Comment(text.to_owned()));
    }
    fn on_retry(&mut self, ms: u64) {
        self.push(Item::Retry(ms));
    }
    fn on_error(&mut self, error: Error) {
        self.push(Item::Error(error));
    }
}

/// An incremental `text/event-stream` parser.
///
/// Feed bytes with [`Parser::push`]; call [`Parser::reset`] before reading a new connection's
/// body, and [`Parser::end`] when a body ends.
#[derive(Debug, Clone)]
pub struct Parser {
    max_event_bytes: usize,
    /// While the start of the body may still be a BOM: how many of its bytes matched so far;
    /// `None` once decided (a BOM dropped, or none).
    bom_bytes_matched: Option<usize>,
    /// The bytes of an unterminated line, carried to the next chunk. Lines that start and end
    /// inside one chunk are parsed straight from the chunk and never copied here.
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF at the start of the next one ends no line.
    after_cr: bool,
    /// "data buffer": each `data:` value followed by LF, as received (decoded on demand).
    data: Vec<u8>,
    /// "event type buffer".
    event_type: String,
    /// The `id:` of the current block, when `has_block_id` (the buffer is reused).
    block_id: String,
    has_block_id: bool,
    /// "last event ID buffer": set by `id:` lines.
    last_id_buffer: String,
    /// Whether `last_id_buffer` was set since the last dispatch (saves a comparison per event).
    id_pending: bool,
    /// "last event ID string": set from the buffer at each dispatch step.
    last_event_id: String,
    /// The latest valid `retry:`, in ms.
    retry: Option<u64>,
    /// Bytes of field lines in the current block, counting the unterminated line.
    block_bytes: usize,
    /// The unterminated line is a `data` field whose value goes straight into the data buffer
    /// (so a long line split over many chunks is copied once, not held and then copied).
    streaming: bool,
    /// Bytes of the streamed line so far (for the size limit).
    streamed: usize,
    /// The streamed line so far is exactly `data:`: a space starting the next chunk is the
    /// one space to strip.
    strip_pending: bool,
    /// The current block exceeded the limit: its lines are skipped until the blank line.
    discarding: bool,
    /// The rest of a comment line too long to report is being dropped.
    skipping_comment: bool,
    /// While discarding: whether the unterminated line has any byte (a blank line ends the
    /// discarded block).
    discarding_line_nonempty: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with the default event size limit ([`DEFAULT_MAX_EVENT_BYTES`]).
    pub fn new() -> Parser {
        Parser::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that drops (and reports) any event whose field lines exceed `max` bytes.
    pub fn with_max_event_bytes(max: usize) -> Parser {
        Parser {
            max_event_bytes: max.max(1),
            bom_bytes_matched: Some(0),
            line: Vec::new(),
            after_cr: false,
            data: Vec::new(),
            event_type: String::new(),
            block_id: String::new(),
            has_block_id: false,
            last_id_buffer: String::new(),
            id_pending: false,
            last_event_id: String::new(),
            retry: None,
            block_bytes: 0,
            streaming: false,
            streamed: 0,
            strip_pending: false,
            discarding: false,
            skipping_comment: false,
            discarding_line_nonempty: false,
        }
    }

    /// The configured size limit for one event, in bytes.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The last event ID string: the id a reconnect sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Sets the last event ID (for a resume point persisted by the application).
    pub fn set_last_event_id(&mut self, id: &str) {
        self.last_event_id.clear();
        self.last_event_id.push_str(id);
        self.last_id_buffer.clear();
        self.last_id_buffer.push_str(id);
        self.id_pending = false;
    }

    /// The latest valid `retry:` value in milliseconds, if the stream sent one.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Prepares for a new connection's body: drops the unterminated line and block, expects a
    /// BOM again, and keeps the last event ID and `retry:` value.
    ///
    /// Per the spec, a reconnect resumes from the last event ID *string* (set at dispatch), so an
    /// `id:` seen in a block that never completed is forgotten.
    pub fn reset(&mut self) {
        self.bom_bytes_matched = Some(0);
        self.line.clear();
        self.after_cr = false;
        self.clear_block();
        self.discarding = false;
        self.skipping_comment = false;
        self.discarding_line_nonempty = false;
        self.last_id_buffer.clear();
        self.last_id_buffer.push_str(&self.last_event_id);
        self.id_pending = false;
    }

    /// The body ended. "Once the end of the file is reached, any pending data must be
    /// discarded. (If the file ends in the middle of an event, before the final empty line, the
    /// incomplete event is not dispatched.)" The parser is then ready for a new body.
    pub fn end(&mut self) {
        self.reset();
    }

    /// Feeds one chunk of bytes. Events, comments, `retry:` values and errors go to `sink` in
    /// stream order.
    pub fn push<S: Sink + ?Sized>(&mut self, chunk: &[u8], sink: &mut S) {
        let chunk = match self.bom_bytes_matched {
            None => chunk,
            Some(_) => match self.strip_bom(chunk, sink) {
                Some(rest) => rest,
                None => return,
            },
        };
        self.push_lines(chunk, sink);
    }

    /// Feeds a chunk of text (already decoded). Equivalent to pushing its UTF-8 bytes.
    pub fn push_str<S: Sink + ?Sized>(&mut self, text: &str, sink: &mut S) {
        self.push(text.as_bytes(), sink);
    }

    /// "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order Mark (BOM), if any."
    /// Only at the very start of a body, and the BOM itself may be split across chunks: the
    /// matched prefix is held back until it is known to be a BOM (dropped) or not (parsed).
    /// Returns the rest of the chunk to parse, or `None` when it was all held back.
    fn strip_bom<'c, S: Sink + ?Sized>(
        &mut self,
        chunk: &'c [u8],
        sink: &mut S,
    ) -> Option<&'c [u8]> {
        let mut matched = self.bom_bytes_matched.unwrap_or(0);
        let mut used = 0;
        while matched < BOM.len() && used < chunk.len() {
            if chunk[used] != BOM[matched] {
                // Not a BOM: the held-back prefix is ordinary stream bytes after all.
                self.bom_bytes_matched = None;
                self.push_lines(&BOM[..matched], sink);
                return Some(&chunk[used..]);
            }
            matched += 1;
            used += 1;
        }
        if matched == BOM.len() {
            self.bom_bytes_matched = None;
            Some(&chunk[used..])
        } else {
            self.bom_bytes_matched = Some(matched);
            None
        }
    }

    /// "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF)
    /// character pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE
    /// RETURN (CR) character."
    fn push_lines<S: Sink + ?Sized>(&mut self, mut chunk: &[u8], sink: &mut S) {
        if chunk.is_empty() {
            return;
        }
        if self.after_cr {
            // A CR ended the previous chunk; a LF here completes that CRLF and ends no line.
            self.after_cr = false;
            if chunk[0] == LF {
                chunk = &chunk[1..];
            }
        }
        while let Some(end) = memchr::memchr2(CR, LF, chunk) {
            let (line, rest) = (&chunk[..end], &chunk[end..]);
            self.finish_line(line, sink);
            chunk = if rest[0] == CR {
                match rest.get(1) {
                    Some(&LF) => &rest[2..],
                    Some(_) => &rest[1..],
                    None => {
                        // Whether a LF follows is only known with the next chunk.
                        self.after_cr = true;
                        &rest[1..]
                    }
                }
            } else {
                &rest[1..]
            };
        }
        self.hold_partial(chunk, sink);
    }

    /// Keeps the unterminated end of a chunk for the next one, within the size limit.
    fn hold_partial<S: Sink + ?Sized>(&mut self, bytes: &[u8], sink: &mut S) {
        if bytes.is_empty() || self.skipping_comment {
            return;
        }
        if self.discarding {
            self.discarding_line_nonempty = true;
            return;
        }
        if self.streaming {
            self.streamed += bytes.len();
            if self.block_bytes + self.streamed + 1 > self.max_event_bytes {
                self.start_discarding(sink);
                self.discarding_line_nonempty = true;
                return;
            }
            let mut value = bytes;
            if self.strip_pending {
                self.strip_pending = false;
                value = strip_space(value);
            }
            self.data.extend_from_slice(value);
            return;
        }
        let held = self.line.len() + bytes.len();
        // The same bound as `process_line` applies once the line ends (counting its
        // terminator), so the outcome does not depend on where chunks are split.
        let is_comment = self.line.first().unwrap_or(&bytes[0]) == &COLON;
        let bound = if is_comment {
            held + 1
        } else {
            self.block_bytes + held + 1
        };
        if bound > self.max_event_bytes {
            if is_comment {
                // Too long to report: the rest of this comment line is dropped as it comes,
                // and the event being built goes on.
                self.line.clear();
                self.skipping_comment = true;
                return;
            }
            // A line that never ends must not grow without bound.
            self.start_discarding(sink);
            self.discarding_line_nonempty = true;
            return;
        }
        self.line.extend_from_slice(bytes);
        if self.line.starts_with(DATA_FIELD) {
            // From here on the line's bytes go straight into the data buffer.
            let value = &self.line[DATA_FIELD.len()..];
            self.strip_pending = value.is_empty();
            self.data.extend_from_slice(strip_space(value));
            self.streamed = self.line.len();
            self.line.clear();
            self.streaming = true;
        }
    }

    /// A line terminator was found; `tail` is the part of the line inside the current chunk.
    fn finish_line<S: Sink + ?Sized>(&mut self, tail: &[u8], sink: &mut S) {
        if std::mem::take(&mut self.skipping_comment) {
            return;
        }
        if self.discarding {
            let blank = tail.is_empty() && !self.discarding_line_nonempty;
            self.discarding_line_nonempty = false;
            if blank {
                // The oversized block is over; the next block starts clean.
                self.discarding = false;
                self.clear_block();
            }
            return;
        }
        if self.streaming {
            // The end of a streamed `data` line: what `process_line` does for one, in place.
            self.streaming = false;
            self.block_bytes += self.streamed + tail.len() + 1;
            self.streamed = 0;
            if self.block_bytes > self.max_event_bytes {
                self.start_discarding(sink);
                return;
            }
            let value = if std::mem::take(&mut self.strip_pending) {
                strip_space(tail)
            } else {
                tail
            };
            self.data.extend_from_slice(value);
            self.data.push(LF);
            return;
        }
        if self.line.is_empty() {
            self.process_line(tail, sink);
        } else {
            let mut line = std::mem::take(&mut self.line);
            line.extend_from_slice(tail);
            self.process_line(&line, sink);
            line.clear();
            self.line = line;
        }
    }

    /// "Interpreting an event stream": one complete line.
    fn process_line<S: Sink + ?Sized>(&mut self, line: &[u8], sink: &mut S) {
        // "If the line is empty (a blank line): Dispatch the event."
        if line.is_empty() {
            self.dispatch(sink);
            return;
        }
        // "If the line starts with a U+003A COLON character (:): Ignore the line."
        // We report it (keep-alives are comments), but never as an event. Comments do not count
        // toward the event size: a server may send `: heartbeat` lines with no blank line.
        if line[0] == COLON {
            // The spec ignores comments: one over the limit is dropped on its own, and the
            // event being built goes on.
            if line.len() < self.max_event_bytes {
                sink.on_comment(&decode(strip_space(&line[1..])));
            }
            return;
        }
        self.block_bytes += line.len() + 1;
        if self.block_bytes > self.max_event_bytes {
            self.start_discarding(sink);
            return;
        }
        // "If the line contains a U+003A COLON character (:): Collect the characters on the
        // line before the first U+003A COLON character (:), and let field be that string.
        // Collect the characters on the line after the first U+003A COLON character (:), and let
        // value be that string. If value starts with a U+0020 SPACE character, remove it from
        // value." Otherwise: "using the whole line as the field name, and the empty string as
        // the field value."
        let (field, value) = match memchr::memchr(COLON, line) {
            Some(colon) => (&line[..colon], strip_space(&line[colon + 1..])),
            None => (line, &[][..]),
        };
        self.process_field(field, value, sink);
    }

    /// "Process the field": field names are compared as bytes (they are ASCII), values are
    /// UTF-8 decoded with U+FFFD for invalid sequences. A line never splits a UTF-8 sequence
    /// of a well-formed stream, and decoding an ill-formed one per line gives the same
    /// replacement characters as decoding the whole stream, since CR and LF always end a
    /// maximal ill-formed subpart.
    fn process_field<S: Sink + ?Sized>(&mut self, field: &[u8], value: &[u8], sink: &mut S) {
        match field {
            // "Set the event type buffer to field value."
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&decode(value));
            }
            // "Append the field value to the data buffer, then append a single U+000A LINE FEED
            // (LF) character to the data buffer."
            // The bytes are kept as received: a line ends at CR or LF, which never occur inside
            // a UTF-8 sequence, so decoding the joined lines later gives the same characters.
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(LF);
            }
            // "If the field value does not contain U+0000 NULL, then set the last event ID
            // buffer to the field value. Otherwise, ignore the field."
            b"id" if memchr::memchr(NULL, value).is_none() => {
                let id = decode(value);
                self.last_id_buffer.clear();
                self.last_id_buffer.push_str(&id);
                self.id_pending = true;
                self.block_id.clear();
                self.block_id.push_str(&id);
                self.has_block_id = true;
            }
            // "If the field value consists of only ASCII digits, then interpret the field value
            // as an integer in base ten, and set the event stream's reconnection time to that
            // integer. Otherwise, ignore the field." An empty value has no digits: ignored.
            // A value too large for u64 saturates rather than being ignored.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |acc, d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.retry = Some(ms);
                sink.on_retry(ms);
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
    }

    /// "Dispatch the event", steps 1 to 8, for a blank line.
    fn dispatch<S: Sink + ?Sized>(&mut self, sink: &mut S) {
        // 1. "Set the last event ID string of the event source to the value of the last event
        //    ID buffer. The buffer does not get reset, so the last event ID string of the event
        //    source remains set to this value until the next time it is set by the server."
        let id_set = std::mem::take(&mut self.id_pending);
        if id_set {
            self.last_event_id.clone_from(&self.last_id_buffer);
        }
        // 2. "If the data buffer is an empty string, set the data buffer and the event type
        //    buffer to the empty string and return."
        if self.data.is_empty() {
            // An id-only block still moves the resume point, as it does in `EventSource`.
            if id_set {
                sink.on_id_only(&self.last_event_id);
            }
            self.clear_block();
            return;
        }
        // 3. "If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        //    remove the last character from the data buffer."
        let data_bytes = &self.data[..self.data.len() - 1];
        // 5-6. The type is the event type buffer, or "message" when it is empty.
        let event_type = if self.event_type.is_empty() {
            "message"
        } else {
            &self.event_type
        };
        sink.on_event(EventRef {
            event_type,
            data_bytes,
            id: self.has_block_id.then_some(self.block_id.as_str()),
            last_event_id: &self.last_event_id,
        });
        // 7. "Set the data buffer and the event type buffer to the empty string." (The buffers
        //    keep their capacity: no allocation per event.)
        self.clear_block();
    }

    /// Reports the current block as too large and skips the rest of it.
    fn start_discarding<S: Sink + ?Sized>(&mut self, sink: &mut S) {
        self.line.clear();
        self.clear_block();
        self.discarding = true;
        self.discarding_line_nonempty = false;
        sink.on_error(Error::TooLarge {
            limit: self.max_event_bytes,
        });
    }

    fn clear_block(&mut self) {
        self.data.clear();
        self.event_type.clear();
        self.has_block_id = false;
        self.block_bytes = 0;
        self.streaming = false;
        self.streamed = 0;
        self.strip_pending = false;
    }
}

/// Removes one leading U+0020 SPACE, if any.
fn strip_space(value: &[u8]) -> &[u8] {
    match value.first() {
        Some(&SPACE) => &value[1..],
        _ => value,
    }
}

/// UTF-8 decode with replacement characters; borrows when the bytes are valid (checked
/// first with the plain validator, which is cheaper than the lossy iterator on short ids).
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
