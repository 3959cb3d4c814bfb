//! The event flags of the batches that wasm hands to JavaScript: one set of values for the
//! stream's `Dispatcher.deliver` (`js/stream.rs`) and `SseParser`'s `buildEvents`
//! (`js/parser.rs`), declared again as `export const FLAG_…` in `src/js/glue.js` (JavaScript
//! constants, so that the hot loops there test literal bits). The test below reads `glue.js`
//! and fails when a value differs, so Rust is the one home and the JavaScript a checked copy.
//!
//! Per event, a batch holds its parts as UTF-8 text, each ended by a CR (which never occurs in
//! an SSE field), and a flags number; see `Batch` in `js/stream.rs` and `BatchSink` in
//! `js/parser.rs` for the parts.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

/// The event's id was delivered before with other content (`meta.update`). Streams only.
pub(crate) const FLAG_UPDATE: u32 = 1;
/// The event has an id (its id part may be empty: `id:` with no value).
pub(crate) const FLAG_HAS_ID: u32 = 2;
/// The event's data is UTF-16LE in the batch's `wide` part (its own text part is empty).
pub(crate) const FLAG_WIDE_DATA: u32 = 4;
/// The event's data part is a skeleton: its long strings were cut out into the `long` part
/// (see `holes.rs`), and their count is in the bits from [`CUT_COUNT_SHIFT`] up. Streams only.
pub(crate) const FLAG_SKELETON: u32 = 8;
/// The last event ID equals the id (its own part is empty). `SseParser` only.
pub(crate) const FLAG_LAST_ID_IS_ID: u32 = 16;
/// Where a skeleton's count of cut-out strings starts in the flags.
pub(crate) const CUT_COUNT_SHIFT: u32 = 8;

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
            ("FLAG_LAST_ID_IS_ID", FLAG_LAST_ID_IS_ID),
            ("CUT_COUNT_SHIFT", CUT_COUNT_SHIFT),
        ] {
            assert_eq!(
                glue_value(name),
                Some(value),
                "src/js/glue.js must declare `export const {name} = {value};` (src/boundary.rs)"
            );
        }
    }

    #[test]
    fn the_flags_are_distinct_bits_below_the_count() {
        let all = [
            FLAG_UPDATE,
            FLAG_HAS_ID,
            FLAG_WIDE_DATA,
            FLAG_SKELETON,
            FLAG_LAST_ID_IS_ID,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.is_power_of_two() && *a < 1 << CUT_COUNT_SHIFT);
            assert!(all[i + 1..].iter().all(|b| a != b));
        }
        // SseParser's flags travel as bytes.
        assert!(all.iter().all(|f| *f <= u32::from(u8::MAX)));
    }
}
