//! The resume point: the id a reconnect sends as `Last-Event-ID`.
//!
//! It follows the SSE standard's "last event ID string" as the application sees it: every
//! event handed over moves it to the event's last event ID (its own `id:`, or the one before
//! when it had none), an id-only block (`id:` with no data) moves it too, and an empty `id:`
//! clears it, so that the next request sends no header. Only events delivered as new move it:
//! skipped duplicates and re-delivered updates are older, and the point never moves back.
//!
//! An id that cannot travel back in a header (longer than [`MAX_RESUME_ID_BYTES`], or with
//! leading or trailing white space, which `fetch` strips) never becomes the resume point: the
//! previous one stays, and the events after it that the server re-sends are recognised by the
//! dedupe. That is reported once per stream as [`Error::UnresumableId`].
//!
//! Events may be handed to the application in batches (one per chunk) and a listener may close
//! the stream in the middle of one: each candidate is recorded with its place in the batch, and
//! the point moves to the last one the application actually received.

use crate::error::Error;

/// The longest id sent back as `Last-Event-ID`, in UTF-8 bytes. Servers commonly refuse
/// header sections above 8 KiB in all; this API's ids are about 40 bytes.
pub const MAX_RESUME_ID_BYTES: usize = 1024;

/// Why an id cannot be a resume point, or `None` when it can.
pub fn unresumable(id: &str) -> Option<&'static str> {
    if id.len() > MAX_RESUME_ID_BYTES {
        return Some("it is longer than 1024 bytes");
    }
    let http_space = |c: char| c == ' ' || c == '\t';
    if id.starts_with(http_space) || id.ends_with(http_space) {
        return Some("it starts or ends with white space, which a header value loses");
    }
    // The parser never yields these in an id; an application-given resume point may carry them.
    if has_line_break_or_nul(id) {
        return Some("it contains a line break or NUL");
    }
    None
}

/// Whether `id` holds a CR, LF or NUL, which no event stream's id can (an `id:` line ends at a
/// line break, and an id with NUL is ignored). Bytes, not chars: this runs for every event.
pub fn has_line_break_or_nul(id: &str) -> bool {
    memchr::memchr3(b'\r', b'\n', 0, id.as_bytes()).is_some()
}

/// The `Last-Event-ID` header value for an id: its UTF-8 bytes, one character per byte.
///
/// Header values are byte strings: `fetch` takes a string whose characters are all below
/// U+0100 and sends each as one byte. Browsers' `EventSource` sends an id's UTF-8 bytes, and
/// the server decodes them as UTF-8; passing the id as is would send `é` as the single byte
/// `E9`, and make `fetch` throw on any character above U+00FF.
pub fn header_value(id: &str) -> String {
    id.bytes().map(char::from).collect()
}

/// The resume point of one stream, with the candidates of the batch being handed over.
#[derive(Debug, Clone, Default)]
pub struct ResumePoint {
    current: String,
    /// Candidates of the current batch: (events handed over before it applies, end in `ids`).
    marks: Vec<(u32, u32)>,
    ids: Vec<u8>,
    reported: bool,
}

impl ResumePoint {
    /// Starts at `id` (empty: none).
    pub fn new(id: &str) -> ResumePoint {
        ResumePoint {
            current: id.to_owned(),
            ..ResumePoint::default()
        }
    }

    /// The resume point.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// The resume point while a batch is being handed over, `handed` of its events so far
    /// (the one whose listeners are running included).
    pub fn at(&self, handed: usize) -> &str {
        self.mark_at(2 * handed)
            .map(|(start, end)| {
                // The bytes came from a `&str` and are cut at its ends.
                std::str::from_utf8(&self.ids[start..end]).unwrap_or_default()
            })
            .unwrap_or(&self.current)
    }

    /// The last candidate at or before `position` (see [`ResumePoint::propose`]).
    fn mark_at(&self, position: usize) -> Option<(usize, usize)> {
        let i = self
            .marks
            .partition_point(|&(at, _)| at as usize <= position);
        (i > 0).then(|| {
            let start = if i > 1 { self.marks[i - 2].1 } else { 0 };
            (start as usize, self.marks[i - 1].1 as usize)
        })
    }

    /// Records that the point moves to `id` once the batch's event number `handed` (from 1)
    /// reached the application, or, for an id-only block (`between`), once the events before
    /// it did and the application is past the last of them. Returns the error to report when
    /// the id cannot be a resume point (once per stream).
    pub fn propose(&mut self, handed: usize, between: bool, id: &str) -> Option<Error> {
        if let Some(reason) = unresumable(id) {
            if std::mem::replace(&mut self.reported, true) {
                return None;
            }
            return Some(Error::UnresumableId {
                bytes: id.len(),
                reason,
            });
        }
        self.ids.extend_from_slice(id.as_bytes());
        let position = 2 * handed + usize::from(between);
        self.marks.push((position as u32, self.ids.len() as u32));
        None
    }

    /// The batch is over: `Some(handed)` when only that many of its events reached the
    /// application (a listener closed the stream), `None` when all did. The point moves to the
    /// last candidate that applies.
    pub fn commit(&mut self, handed: Option<usize>) {
        let last = handed.map_or(usize::MAX, |k| 2 * k);
        if let Some((start, end)) = self.mark_at(last) {
            let id = std::str::from_utf8(&self.ids[start..end]).unwrap_or_default();
            self.current.clear();
            self.current.push_str(id);
        }
        self.marks.clear();
        // A batch that held a huge id does not keep its size.
        if self.ids.capacity() > 64 * 1024 {
            self.ids = Vec::new();
        }
        self.ids.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_candidates_handed_over() {
        let mut p = ResumePoint::new("a");
        assert_eq!(p.current(), "a");
        assert!(p.propose(1, false, "b").is_none());
        assert!(p.propose(2, false, "c").is_none());
        // An id-only block after the second event.
        assert!(p.propose(2, true, "d").is_none());
        assert!(p.propose(3, false, "").is_none());
        assert_eq!(p.at(0), "a");
        assert_eq!(p.at(1), "b");
        // During the second event's listeners: the block after it is not reached yet.
        assert_eq!(p.at(2), "c");
        assert_eq!(p.at(3), "");
        // A listener closed the stream during the second event.
        p.commit(Some(2));
        assert_eq!(p.current(), "c");
        assert_eq!(p.at(5), "c");
        assert!(p.propose(1, false, "e").is_none());
        assert!(p.propose(1, true, "f").is_none());
        p.commit(None);
        assert_eq!(
            p.current(),
            "f",
            "a whole batch includes the id-only block at its end"
        );
        assert!(p.propose(1, false, "g").is_none());
        p.commit(Some(0));
        assert_eq!(p.current(), "f", "nothing handed over");
        assert!(p.propose(1, false, "").is_none());
        p.commit(None);
        assert_eq!(p.current(), "", "an empty id clears it");
    }

    #[test]
    fn ids_that_cannot_travel_back_are_reported_once() {
        let mut p = ResumePoint::new("ok");
        let long = "x".repeat(MAX_RESUME_ID_BYTES + 1);
        let e = p.propose(1, false, &long).expect("an error");
        assert_eq!(e.kind(), crate::error::ErrorKind::UnresumableId);
        assert!(!e.to_string().contains(&long[..20]), "never quotes the id");
        assert!(p.propose(2, false, " padded").is_none(), "reported once");
        p.commit(None);
        assert_eq!(p.current(), "ok");
        assert!(p
            .propose(1, false, &"y".repeat(MAX_RESUME_ID_BYTES))
            .is_none());
        assert!(unresumable("evt_日本").is_none());
        assert!(unresumable("a\tb").is_none());
        assert!(unresumable("a\0").is_some());
    }

    #[test]
    fn header_values_carry_utf8_bytes() {
        assert_eq!(header_value("evt_1"), "evt_1");
        assert_eq!(header_value("é"), "\u{c3}\u{a9}");
        let sent: Vec<u8> = header_value("evt_日本…").chars().map(|c| c as u8).collect();
        assert_eq!(sent, "evt_日本…".as_bytes());
        assert!(header_value("…").chars().all(|c| (c as u32) < 0x100));
    }
}
