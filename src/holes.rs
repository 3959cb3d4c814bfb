//! Long strings cut out of an event's JSON, so that JavaScript parses only the rest.
//!
//! `JSON.parse` of a large event is mostly the copy of its long text into a new string, and
//! the text had to be decoded before that. Instead, the text of each long string value is
//! transcoded to UTF-16 here (escapes decoded, [`crate::utf16::transcode_json`]), becomes a
//! string with one copy in JavaScript, and only the *skeleton* is parsed: the JSON with each
//! such string's content replaced by `\u0000` and its index, put back by a reviver.
//!
//! Why the result is the same as `JSON.parse` of the whole text:
//! - The strings are found as the JSON tokenizer finds them: outside a string, a quote always
//!   opens one; inside, a backslash escapes the next byte and a quote closes it. So each hole
//!   is exactly one string token's content, in the skeleton as in the original.
//! - A hole is kept only when its content is a valid JSON string content (the transcoder
//!   refuses control characters, invalid escapes and invalid UTF-8), so the skeleton parses
//!   if and only if the original does, and to the same value once the strings are put back.
//! - No other string of the skeleton can start with U+0000: there are no holes at all when the
//!   skeleton would contain the text `\u0000`, and a raw U+0000 is not valid JSON anywhere. (In
//!   a hole it is just a character of the string put back, which the reviver does not visit.)
//! - Object keys are never holes (the reviver sees values only).
//!
//! When the skeleton does not parse, or is not an object, the decode error is built from the
//! original text, which is kept alongside.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use core::ops::Range;

/// Data shorter than this is parsed whole: the reviver's calls would cost more than they save.
pub(crate) const MIN_DATA: usize = 4096;

/// String contents shorter than this stay in the skeleton.
pub(crate) const MIN_STRING: usize = 1024;

/// The contents of the string values of `json` that are at least `min` bytes long, in order.
/// None when there are none, or when the rest of `json` contains the text `\u0000`.
pub(crate) fn long_strings(json: &[u8], min: usize) -> Option<Vec<Range<usize>>> {
    let mut holes: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while let Some(open) = memchr::memchr(b'"', &json[i..]) {
        let start = i + open + 1;
        // The closing quote: the first one not escaped by a backslash.
        let mut j = start;
        let end = loop {
            let at = j + memchr::memchr2(b'"', b'\\', json.get(j..)?)?;
            if json[at] == b'"' {
                break at;
            }
            j = at + 2;
        };
        i = end + 1;
        if end - start >= min && !is_key(&json[i..]) {
            holes.push(start..end);
        }
    }
    // The text `\u0000` matters only where it stays in the skeleton: between the holes (it
    // cannot straddle a hole's quote). Inside a hole it is just the character U+0000, put back
    // as a string the reviver does not look into.
    let gaps_start = [0].into_iter().chain(holes.iter().map(|h| h.end));
    let gaps_end = holes.iter().map(|h| h.start).chain([json.len()]);
    if gaps_start
        .zip(gaps_end)
        .any(|(start, end)| memchr::memmem::find(&json[start..end], br"\u0000").is_some())
    {
        return None;
    }
    (!holes.is_empty()).then_some(holes)
}

/// Whether what follows a string makes it an object key: a colon after optional whitespace.
fn is_key(rest: &[u8]) -> bool {
    rest.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|&b| b == b':')
}

/// Writes the skeleton of `json` through `out`: the text with the content of each of `holes`
/// (ranges of `json`, in order) replaced by `\u0000` and its index in decimal.
pub(crate) fn write_skeleton(json: &[u8], holes: &[Range<usize>], mut out: impl FnMut(&[u8])) {
    let mut at = 0;
    for (k, hole) in holes.iter().enumerate() {
        out(&json[at..hole.start]);
        out(br"\u0000");
        out(k.to_string().as_bytes());
        at = hole.end;
    }
    out(&json[at..]);
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::utf16::{room, transcode_json};
    use proptest::prelude::*;
    use serde_json::Value;

    /// The UTF-16 code units `transcode_json` makes of a string's content, if it takes it.
    fn json_units(content: &[u8]) -> Option<Vec<u16>> {
        let mut dst = vec![0; room(content.len())];
        let n = transcode_json(content, &mut dst)?;
        Some(
            dst[..n]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        )
    }

    /// The value of the skeleton with its holes put back, as the JavaScript reviver does; or
    /// None when a hole is refused by the transcoder or the skeleton is not JSON.
    fn rebuilt(json: &[u8], min: usize) -> Option<Value> {
        let holes = long_strings(json, min).unwrap_or_default();
        let mut texts = Vec::new();
        let mut kept = Vec::new();
        for h in holes {
            // A hole the transcoder refuses stays in the skeleton, as in `Batch::push_holes`.
            if let Some(units) = json_units(&json[h.clone()]) {
                texts.push(String::from_utf16(&units).ok()?);
                kept.push(h);
            }
        }
        let mut skeleton = Vec::new();
        write_skeleton(json, &kept, |p| skeleton.extend_from_slice(p));
        let mut value: Value = serde_json::from_slice(&skeleton).ok()?;
        if !texts.is_empty() {
            put_back(&mut value, &texts);
        }
        Some(value)
    }

    fn put_back(v: &mut Value, texts: &[String]) {
        match v {
            Value::String(s) if s.starts_with('\0') => {
                *s = texts[s[1..].parse::<usize>().unwrap()].clone()
            }
            Value::Array(a) => a.iter_mut().for_each(|x| put_back(x, texts)),
            Value::Object(o) => o.values_mut().for_each(|x| put_back(x, texts)),
            _ => {}
        }
    }

    #[test]
    fn finds_long_values_not_keys() {
        let json = br#"{"type":"agent.message","long key here":1, "content" : [ {"text":"0123456789\"ab\\"} ], "x": "abc"}"#;
        let holes = long_strings(json, 5).unwrap();
        let texts: Vec<&[u8]> = holes.iter().map(|h| &json[h.clone()]).collect();
        assert_eq!(texts, [&b"agent.message"[..], br#"0123456789\"ab\\"#]);
        let mut skeleton = Vec::new();
        write_skeleton(json, &holes, |p| skeleton.extend_from_slice(p));
        assert_eq!(
            String::from_utf8(skeleton).unwrap(),
            r#"{"type":"\u00000","long key here":1, "content" : [ {"text":"\u00001"} ], "x": "abc"}"#
        );
        assert_eq!(rebuilt(json, 5), serde_json::from_slice(json).ok());
    }

    #[test]
    fn no_holes_when_the_text_has_its_own_nul_escape() {
        assert_eq!(long_strings(br#"{"a":"0123456789","b":"\u0000"}"#, 7), None);
        // Else "b" would be taken for the first hole.
        let json = br#"{"a":"0123456789","b":"\u00000"}"#;
        assert_eq!(rebuilt(json, 8), serde_json::from_slice(json).ok());
        assert_eq!(long_strings(br#"{"\u0000":"0123456789"}"#, 5), None);
        assert!(long_strings(br#"{"a":"0123456789","b":"\u0001"}"#, 5).is_some());
        // Inside a hole it is only a character of the string.
        let json = br#"{"a":"\u0000123456789","b":"x"}"#;
        assert_eq!(long_strings(json, 10).map(|h| h.len()), Some(1));
        assert_eq!(rebuilt(json, 10), serde_json::from_slice(json).ok());
    }

    #[test]
    fn escapes_and_lone_surrogates_as_json_parse_gives_them() {
        let json =
            br#"{"t":"line\none \"q\" \\ \/ \b\f\r\t \u00e9\u8abf \ud83d\ude00 lone \udc00 end"}"#;
        let holes = long_strings(json, 1).unwrap();
        let units = json_units(&json[holes[0].clone()]).unwrap();
        let mut want: Vec<u16> = "line\none \"q\" \\ / \u{8}\u{c}\r\t é調 😀 lone "
            .encode_utf16()
            .collect();
        want.push(0xDC00);
        want.extend(" end".encode_utf16());
        assert_eq!(units, want);
    }

    #[test]
    fn invalid_string_contents_are_refused() {
        for bad in [
            &b"a\x01b"[..],
            b"a\\xb",
            b"a\\u12",
            b"a\\u12g4",
            b"a\\",
            b"\xff",
            b"a\\u+123",
        ] {
            assert_eq!(json_units(bad), None, "{bad:?}");
        }
    }

    /// JSON text from small pieces: valid values, with long strings of every kind of
    /// character and escape, and whitespace; sometimes broken by a stray byte.
    fn json_value() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "a",
            "é",
            "調",
            "😀",
            " ",
            "\\n",
            "\\\"",
            "\\\\",
            "\\/",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\u001f",
            "\\u0000",
            "{",
            "}",
            ":",
            ",",
            "\"",
        ]);
        let text = prop::collection::vec(piece, 0..30).prop_map(|v| v.concat());
        let leaf = prop_oneof![
            text.prop_map(|t| format!("\"{t}\"")),
            Just("1.5e3".to_string()),
            Just("null".to_string()),
            Just("true".to_string()),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-z\"]{0,6}", inner), 0..4).prop_map(|v| {
                    let members: Vec<String> = v
                        .into_iter()
                        .map(|(k, x)| format!("\"{k}\" : {x}"))
                        .collect();
                    format!("{{ {} }}", members.join(",\n"))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Valid or not (the pieces include stray quotes and braces), the rebuilt value is the
        /// parse of the whole text, and the skeleton parses exactly when the text does.
        #[test]
        fn same_value_as_parsing_the_whole(json in json_value(), min in 0usize..8) {
            let whole: Option<Value> = serde_json::from_str(&json).ok();
            // serde_json refuses lone surrogates where JSON.parse takes them; the pieces
            // only ever pair them, so both agree on what is valid here.
            prop_assert_eq!(rebuilt(json.as_bytes(), min), whole, "{}", json);
        }

        #[test]
        fn a_byte_changed_anywhere(json in json_value(), at in any::<prop::sample::Index>(), b in prop::sample::select(vec![b'"', b'\\', b':', b'{', 0x01, 0xE8, b'u', b'0'])) {
            let mut bytes = json.into_bytes();
            let k = at.index(bytes.len() + 1);
            bytes.insert(k, b);
            let whole: Option<Value> = serde_json::from_slice(&bytes).ok();
            prop_assert_eq!(rebuilt(&bytes, 2), whole);
        }
    }
}
