//! The batches that wasm hands to JavaScript, described once: a stream's events for its
//! `Dispatcher` (`js/stream.rs`) and `SseParser`'s events (`js/parser.rs`) are written by
//! [`Batch`] and read by `BatchReader` in `src/js/glue.js`, which finds the header's fields by
//! the names in [`BatchHeader::LAYOUT`] and declares the flags again as `export const FLAG_…`
//! (JavaScript constants, so that the hot loops test literal bits; the test below reads
//! `glue.js` and fails when a value differs).
//!
//! A batch, all in wasm memory, found through its [`BatchHeader`]:
//! - `text`: per event its type, id and data as UTF-8, each followed by a CR (which never
//!   occurs in an SSE field), then with [`FLAG_OWN_LAST_ID`] its last event ID, the same way;
//! - `meta`: four numbers per event: where its type, id and data end in `text` (at their CR),
//!   and its flags;
//! - `wide`: the data of [`FLAG_WIDE_DATA`] events as UTF-16LE (the third number is then where
//!   it ends in `wide`, and `text` has no data part for it);
//! - `long`, `raw`, `ends`: for [`FLAG_SKELETON`] events (see [`holes`]), their long strings
//!   as UTF-16LE, their original data (for decode errors), and where each ends: per such
//!   event, where its original data ends in `raw`, how many strings were cut out, then where
//!   each string ends in `long`.
//!
//! Parts in `wide`, `long` and `raw` start where the previous one ended. Text that is not
//! ASCII is where decoding costs most, which is why some of it goes over as UTF-16LE: a
//! JavaScript engine makes strings of it with a copy or a simple loop.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use crate::sse::EventRef;
use crate::{holes, utf16};

/// The event's id was delivered before with other content (`meta.update`). Streams only.
pub(crate) const FLAG_UPDATE: u32 = 1;
/// The event has an id (its id part may be empty: `id:` with no value).
pub(crate) const FLAG_HAS_ID: u32 = 2;
/// The event's data is UTF-16LE in `wide` (its own text part is absent).
pub(crate) const FLAG_WIDE_DATA: u32 = 4;
/// The event's data part is a skeleton: its long strings were cut out into `long` (see
/// `holes.rs`; `ends` says how many and where). Streams only.
pub(crate) const FLAG_SKELETON: u32 = 8;
/// The event's last event ID is not its id (or, without one, not empty): it follows the data
/// part. `SseParser` only.
pub(crate) const FLAG_OWN_LAST_ID: u32 = 16;

/// Declares the header once: the `#[repr(C)]` struct Rust fills, and the names JavaScript
/// reads its numbers by, in the same order.
macro_rules! batch_header {
    ($($field:ident as $js:literal: $doc:literal,)*) => {
        /// Where a batch's parts are in wasm memory (addresses and lengths in bytes, or counts).
        #[repr(C)]
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct BatchHeader {
            $(#[doc = $doc] pub(crate) $field: u32,)*
        }

        impl BatchHeader {
            /// The fields' JavaScript names in memory order, each followed by a space.
            pub(crate) const LAYOUT: &'static str = concat!($($js, " ",)*);
        }
    };
}

batch_header! {
    text as "text": "Where `text` starts.",
    text_len as "textLen": "The length of `text`.",
    meta as "meta": "Where `meta` starts.",
    count as "count": "How many events (`meta` holds four numbers each).",
    wide as "wide": "Where `wide` starts.",
    wide_len as "wideLen": "The length of `wide`.",
    long as "long": "Where `long` starts.",
    raw as "raw": "Where `raw` starts.",
    ends as "ends": "Where `ends` starts.",
    ends_len as "endsLen": "How many numbers `ends` holds.",
}

/// Bytes handed to JavaScript, reused from batch to batch: the content is `bytes[..len]`, and
/// what lies past it is room kept from earlier batches, so that transcoding into it needs no
/// zeroing.
#[derive(Default)]
pub(crate) struct ReusedBytes {
    bytes: Vec<u8>,
    len: usize,
}

impl ReusedBytes {
    fn room(&mut self, n: usize) -> &mut [u8] {
        let end = self.len + n;
        if self.bytes.len() < end {
            self.bytes.resize(end.max(2 * self.bytes.len()), 0);
        }
        &mut self.bytes[self.len..end]
    }

    fn extend(&mut self, part: &[u8]) {
        self.room(part.len()).copy_from_slice(part);
        self.len += part.len();
    }

    /// Appends `text` converted by `convert` (a UTF-16 transcoder); returns the new length, or
    /// None (nothing appended) when `convert` refuses it.
    fn push_utf16(
        &mut self,
        text: &[u8],
        convert: fn(&[u8], &mut [u8]) -> Option<usize>,
    ) -> Option<u32> {
        let n = convert(text, self.room(utf16::room(text.len())))?;
        self.len += n;
        Some(self.len as u32)
    }

    fn clear(&mut self) {
        self.len = 0;
        // A huge event once must not keep its memory for the stream's life.
        if self.bytes.len() > 1 << 20 {
            self.bytes = Vec::new();
        }
    }

    fn address(&self) -> u32 {
        self.bytes.as_ptr() as usize as u32
    }
}

/// One crossing's events, written as the module docs describe.
#[derive(Default)]
pub(crate) struct Batch {
    text: ReusedBytes,
    wide: ReusedBytes,
    long: ReusedBytes,
    raw: ReusedBytes,
    ends: Vec<u32>,
    meta: Vec<u32>,
    header: BatchHeader,
    /// Data that is valid UTF-8 but not ASCII goes to `wide` (a reader that decodes each
    /// event's data on its own: Node, which decodes such UTF-8 a byte at a time).
    wide_data: bool,
    /// Large data with long strings that are not ASCII is cut up ([`FLAG_SKELETON`]): streams,
    /// whose data is JSON.
    skeletons: bool,
    /// Events carry their last event ID ([`FLAG_OWN_LAST_ID`]): `SseParser`.
    last_ids: bool,
}

impl Batch {
    /// A stream's batch (`wide_data`: the reader decodes each event's data on its own).
    pub(crate) fn for_stream(wide_data: bool) -> Batch {
        Batch {
            wide_data,
            skeletons: true,
            ..Batch::default()
        }
    }

    /// `SseParser`'s batch (`wide_data` as for a stream).
    pub(crate) fn for_parser(wide_data: bool) -> Batch {
        Batch {
            wide_data,
            last_ids: true,
            ..Batch::default()
        }
    }

    /// Appends one event (`update`: delivered before with other content).
    pub(crate) fn push(&mut self, event: EventRef<'_>, update: bool) {
        self.part(event.event_type.as_bytes());
        self.part(event.id.unwrap_or("").as_bytes());
        let mut flags = 0;
        if update {
            flags |= FLAG_UPDATE;
        }
        if event.id.is_some() {
            flags |= FLAG_HAS_ID;
        }
        let data = event.data_bytes;
        let large = self.skeletons && data.len() >= holes::MIN_DATA;
        // Scanned only when the answer is used (per event: most batches go as UTF-8 anyway).
        let not_ascii = (large || self.wide_data) && !data.is_ascii();
        if large && not_ascii && self.push_holes(data) {
            flags |= FLAG_SKELETON;
        } else if self.wide_data && not_ascii && self.push_wide(data) {
            flags |= FLAG_WIDE_DATA;
        } else {
            self.part(data);
        }
        if self.last_ids && event.last_event_id != event.id.unwrap_or("") {
            // Not a `part`: `meta` holds three ends per event.
            self.text.extend(event.last_event_id.as_bytes());
            self.text.extend(b"\r");
            flags |= FLAG_OWN_LAST_ID;
        }
        self.meta.push(flags);
    }

    fn part(&mut self, part: &[u8]) {
        self.text.extend(part);
        self.meta.push(self.text.len as u32);
        self.text.extend(b"\r");
    }

    /// Pushes `data` to `wide` as UTF-16LE; returns false, with nothing pushed, when it is not
    /// valid UTF-8 (it then goes as is, and the decoder replaces the bad bytes).
    fn push_wide(&mut self, data: &[u8]) -> bool {
        let Some(end) = self.wide.push_utf16(data, utf16::transcode) else {
            return false;
        };
        self.meta.push(end);
        true
    }

    /// Pushes the long strings of `data` to `long` and its skeleton as the data part; returns
    /// false, with nothing pushed, when none could be cut out.
    fn push_holes(&mut self, data: &[u8]) -> bool {
        let Some(found) = holes::long_strings(data, holes::MIN_STRING) else {
            return false;
        };
        let first = self.ends.len();
        // Where the original data ends, and how many strings: known at the end.
        self.ends.extend([0, 0]);
        let mut cut = Vec::with_capacity(found.len());
        for hole in found {
            // A string the transcoder refuses stays in the skeleton, for JSON.parse to judge.
            if let Some(end) = self
                .long
                .push_utf16(&data[hole.clone()], utf16::transcode_json)
            {
                self.ends.push(end);
                cut.push(hole);
            }
        }
        if cut.is_empty() {
            self.ends.truncate(first);
            return false;
        }
        let text = &mut self.text;
        holes::write_skeleton(data, &cut, |part| text.extend(part));
        self.meta.push(self.text.len as u32);
        self.text.extend(b"\r");
        self.raw.extend(data);
        self.ends[first] = self.raw.len as u32;
        self.ends[first + 1] = cut.len() as u32;
        true
    }

    /// How many events the batch holds.
    pub(crate) fn len(&self) -> usize {
        self.meta.len() / 4
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Fills the header; returns its address, for JavaScript. The batch must not change
    /// until JavaScript has read it.
    pub(crate) fn header(&mut self) -> u32 {
        self.header = BatchHeader {
            text: self.text.address(),
            text_len: self.text.len as u32,
            meta: self.meta.as_ptr() as usize as u32,
            count: self.len() as u32,
            wide: self.wide.address(),
            wide_len: self.wide.len as u32,
            long: self.long.address(),
            raw: self.raw.address(),
            ends: self.ends.as_ptr() as usize as u32,
            ends_len: self.ends.len() as u32,
        };
        &self.header as *const BatchHeader as usize as u32
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.wide.clear();
        self.long.clear();
        self.raw.clear();
        self.ends.clear();
        self.meta.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/js/glue.js"));

    /// The value of `export const NAME = N;` in glue.js.
    fn glue_value(name: &str) -> Option<u32> {
        let head = format!("export const {name} = ");
        let at = GLUE.find(&head)? + head.len();
        let rest = &GLUE[at..];
        rest[..rest.find(';')?].trim().parse().ok()
    }

    #[test]
    fn glue_js_declares_the_same_flag_values() {
        for (name, value) in [
            ("FLAG_UPDATE", FLAG_UPDATE),
            ("FLAG_HAS_ID", FLAG_HAS_ID),
            ("FLAG_WIDE_DATA", FLAG_WIDE_DATA),
            ("FLAG_SKELETON", FLAG_SKELETON),
            ("FLAG_OWN_LAST_ID", FLAG_OWN_LAST_ID),
        ] {
            assert_eq!(
                glue_value(name),
                Some(value),
                "src/js/glue.js must declare `export const {name} = {value};` (src/boundary.rs)"
            );
        }
    }

    #[test]
    fn the_layout_names_each_field_of_the_header_once() {
        let names: Vec<&str> = BatchHeader::LAYOUT.split_whitespace().collect();
        assert_eq!(names.len() * 4, std::mem::size_of::<BatchHeader>());
        for (i, name) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(name), "{name} twice");
        }
    }

    #[test]
    fn glue_js_reads_the_header_by_the_layouts_names() {
        // Every `h[at.NAME]` in glue.js.
        let mut read: Vec<&str> = GLUE
            .split("h[at.")
            .skip(1)
            .filter_map(|rest| rest.split(']').next())
            .collect();
        read.sort_unstable();
        read.dedup();
        let mut names: Vec<&str> = BatchHeader::LAYOUT.split_whitespace().collect();
        names.sort_unstable();
        assert_eq!(
            read, names,
            "glue.js must read each header field by its name in LAYOUT"
        );
    }

    fn event<'a>(
        event_type: &'a str,
        id: Option<&'a str>,
        data: &'a [u8],
        last: &'a str,
    ) -> EventRef<'a> {
        EventRef {
            event_type,
            id,
            data_bytes: data,
            last_event_id: last,
        }
    }

    #[test]
    fn a_batch_is_written_as_the_docs_say() {
        let mut b = Batch::for_parser(true);
        b.push(event("a", Some("1"), b"x", "1"), false);
        b.push(event("b", None, "\u{e9}".as_bytes(), "1"), false);
        b.push(event("c", Some(""), b"", ""), true);
        assert_eq!(
            b.text.bytes[..b.text.len],
            *b"a\r1\rx\rb\r\r1\rc\r\r\r".as_slice()
        );
        assert_eq!(
            b.meta,
            [
                1,
                3,
                5,
                FLAG_HAS_ID,
                7,
                8,
                2,
                FLAG_WIDE_DATA | FLAG_OWN_LAST_ID,
                12,
                13,
                14,
                FLAG_HAS_ID | FLAG_UPDATE,
            ]
        );
        assert_eq!(b.wide.bytes[..b.wide.len], [0xe9, 0]);
        b.header();
        assert_eq!(
            (b.header.count, b.header.text_len, b.header.wide_len),
            (3, 15, 2)
        );
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn a_streams_large_data_is_cut_into_a_skeleton() {
        let long = "\u{8abf}".repeat(holes::MIN_DATA);
        let data = format!("{{\"a\":\"{long}\"}}");
        let mut b = Batch::for_stream(false);
        b.push(event("t", Some("9"), data.as_bytes(), "9"), false);
        assert_eq!(b.meta[3], FLAG_HAS_ID | FLAG_SKELETON);
        assert_eq!(
            b.ends,
            [data.len() as u32, 1, 2 * holes::MIN_DATA as u32],
            "the original's end, one string cut out, its end"
        );
        assert_eq!(b.raw.bytes[..b.raw.len], *data.as_bytes());
    }

    #[test]
    fn the_flags_are_distinct_bits() {
        let all = [
            FLAG_UPDATE,
            FLAG_HAS_ID,
            FLAG_WIDE_DATA,
            FLAG_SKELETON,
            FLAG_OWN_LAST_ID,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.is_power_of_two());
            assert!(all[i + 1..].iter().all(|b| a != b));
        }
    }
}
