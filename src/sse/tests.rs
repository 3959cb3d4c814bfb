//! Table tests for the parser, built from the WHATWG text and the web-platform-tests
//! `eventsource/format-*` cases. Every table row is also fed in every two-chunk split and byte
//! by byte, and must give the same items.

use super::*;
use crate::error::Error;
use proptest::prelude::*;

fn ev(event_type: &str, data: &str, id: Option<&str>, last: &str) -> Item {
    Item::Event(SseEvent {
        event_type: event_type.into(),
        data: data.into(),
        id: id.map(Into::into),
        last_event_id: last.into(),
    })
}

fn msg(data: &str) -> Item {
    ev("message", data, None, "")
}

fn parse_chunks(chunks: &[&[u8]], max: usize) -> Vec<Item> {
    let mut p = Parser::with_max_event_bytes(max);
    let mut out = Vec::new();
    for c in chunks {
        p.push(c, &mut out);
    }
    p.end();
    out
}

/// Parses `input` whole, in every split into two chunks, in every split into three chunks
/// around each position, and byte by byte; asserts all agree, and returns the items.
fn parse_every_way(input: &[u8], max: usize) -> Vec<Item> {
    let whole = parse_chunks(&[input], max);
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        assert_eq!(
            parse_chunks(&[a, b], max),
            whole,
            "split at {i} of {input:?}"
        );
        if i > 0 && i < input.len() {
            let (b1, b2) = b.split_at(1);
            assert_eq!(
                parse_chunks(&[a, b1, b2], max),
                whole,
                "split at {i},{} of {input:?}",
                i + 1
            );
        }
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(parse_chunks(&bytes, max), whole, "byte by byte: {input:?}");
    whole
}

fn parse(input: &str) -> Vec<Item> {
    parse_every_way(input.as_bytes(), DEFAULT_MAX_EVENT_BYTES)
}

#[test]
fn line_endings_every_combination() {
    // Every pair of line terminators for the field line and the blank line.
    let ends = ["\n", "\r", "\r\n"];
    for a in ends {
        for b in ends {
            if a == "\r" && b.starts_with('\n') {
                // CR then LF is one CRLF line end, not two: covered by the split-CRLF test.
                continue;
            }
            let input = format!("data: x{a}{b}data: y{a}{b}");
            assert_eq!(parse(&input), vec![msg("x"), msg("y")], "{input:?}");
        }
    }
}

#[test]
fn cr_then_lf_in_the_next_chunk_is_one_line_end() {
    // A CRLF split across chunks: the LF must not end a second (blank) line.
    let out = parse_chunks(
        &[b"data: a\r", b"\ndata: b\r\n\r\n"],
        DEFAULT_MAX_EVENT_BYTES,
    );
    assert_eq!(out, vec![msg("a\nb")]);
}

#[test]
fn lone_crs_are_line_ends() {
    assert_eq!(parse("data: a\rdata: b\r\r"), vec![msg("a\nb")]);
}

#[test]
fn multi_line_data_keeps_every_line() {
    assert_eq!(
        parse("data: one\ndata: two\ndata:\ndata: three\n\n"),
        vec![msg("one\ntwo\n\nthree")]
    );
}

#[test]
fn multibyte_characters_split_at_every_byte() {
    let input = "data: スレッド🧵é\n\n";
    assert_eq!(parse(input), vec![msg("スレッド🧵é")]);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    // A lone continuation byte, a truncated 3-byte sequence before LF, an overlong encoding.
    let input: &[u8] = b"data: a\x80b\ndata: \xE3\x82\ndata: \xC0\xAF\n\n";
    let out = parse_every_way(input, DEFAULT_MAX_EVENT_BYTES);
    assert_eq!(out, vec![msg("a\u{FFFD}b\n\u{FFFD}\n\u{FFFD}\u{FFFD}")]);
}

#[test]
fn bom_is_stripped_once_at_the_start() {
    // format-bom: one leading BOM is stripped.
    assert_eq!(parse("\u{FEFF}data: 1\n\n"), vec![msg("1")]);
    // format-bom-2: a second BOM is part of the first line's field name, so that line is an
    // unknown field and ignored.
    assert_eq!(
        parse("\u{FEFF}\u{FEFF}data: 1\n\ndata: 2\n\n"),
        vec![msg("2")]
    );
    // A BOM later in the stream is ordinary text.
    assert_eq!(
        parse("data: 1\n\n\u{FEFF}data: 2\n\ndata: \u{FEFF}3\n\n"),
        vec![msg("1"), msg("\u{FEFF}3")]
    );
}

#[test]
fn bom_prefix_that_is_not_a_bom_is_kept() {
    // EF BB then 'd': not a BOM; the bytes are an invalid prefix of the first line's name.
    let out = parse_every_way(b"\xEF\xBBdata: 1\n\ndata: 2\n\n", DEFAULT_MAX_EVENT_BYTES);
    assert_eq!(out, vec![msg("2")]);
    // A stream that is only part of a BOM produces nothing and does not panic.
    assert_eq!(
        parse_chunks(&[b"\xEF", b"\xBB"], DEFAULT_MAX_EVENT_BYTES),
        vec![]
    );
}

#[test]
fn bom_is_expected_again_after_reset() {
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.push("\u{FEFF}data: 1\n\n".as_bytes(), &mut out);
    p.reset();
    p.push(b"\xEF\xBB", &mut out);
    p.push(b"\xBFdata: 2\n\n", &mut out);
    assert_eq!(out, vec![msg("1"), msg("2")]);
}

#[test]
fn id_field_rules() {
    let cases: &[(&str, Vec<Item>)] = &[
        // The id of the block, and the last event ID, persist into later blocks.
        (
            "id: 1\ndata: a\n\ndata: b\n\n",
            vec![
                ev("message", "a", Some("1"), "1"),
                ev("message", "b", None, "1"),
            ],
        ),
        // An empty id clears the last event ID.
        (
            "id: 1\ndata: a\n\nid\ndata: b\n\n",
            vec![
                ev("message", "a", Some("1"), "1"),
                ev("message", "b", Some(""), ""),
            ],
        ),
        (
            "id: 1\ndata: a\n\nid:\ndata: b\n\n",
            vec![
                ev("message", "a", Some("1"), "1"),
                ev("message", "b", Some(""), ""),
            ],
        ),
        // format-field-id-null: an id containing NULL is ignored.
        (
            "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n",
            vec![
                ev("message", "a", Some("1"), "1"),
                ev("message", "b", None, "1"),
            ],
        ),
        // The last id line of a block wins.
        (
            "id: 1\nid: 2\ndata: a\n\n",
            vec![ev("message", "a", Some("2"), "2")],
        ),
        // An id in a block without data updates the last event ID at the blank line.
        ("id: 7\n\ndata: a\n\n", vec![ev("message", "a", None, "7")]),
        // Leading space: exactly one is stripped.
        (
            "id:  3\ndata: a\n\n",
            vec![ev("message", "a", Some(" 3"), " 3")],
        ),
    ];
    for (input, want) in cases {
        assert_eq!(&parse(input), want, "{input:?}");
    }
}

#[test]
fn last_event_id_only_changes_at_dispatch() {
    // The connection drops after an id line but before the blank line: a reconnect must
    // resume from the last *dispatched* id.
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.push(b"id: 1\ndata: a\n\nid: 2\ndata: b\n", &mut out);
    assert_eq!(p.last_event_id(), "1");
    p.reset();
    assert_eq!(p.last_event_id(), "1");
    p.push(b"data: c\n\n", &mut out);
    assert_eq!(
        out,
        vec![
            ev("message", "a", Some("1"), "1"),
            ev("message", "c", None, "1")
        ]
    );
}

#[test]
fn retry_field_rules() {
    let cases: &[(&str, Vec<Item>)] = &[
        ("retry: 1000\n", vec![Item::Retry(1000)]),
        ("retry:1000\n", vec![Item::Retry(1000)]),
        ("retry: 0\n", vec![Item::Retry(0)]),
        // format-field-retry-empty: no digits at all.
        ("retry\n", vec![]),
        ("retry:\n", vec![]),
        ("retry: \n", vec![]),
        // format-field-retry-bogus and friends: anything but ASCII digits.
        ("retry: 10 00\n", vec![]),
        ("retry: 1000 \n", vec![]),
        ("retry:  1000\n", vec![]),
        ("retry: -1\n", vec![]),
        ("retry: 1e3\n", vec![]),
        ("retry: ١٢\n", vec![]),
        // Too large for an integer: saturates instead of wrapping.
        (
            "retry: 99999999999999999999999999\n",
            vec![Item::Retry(u64::MAX)],
        ),
        // retry in an event block does not stop the event.
        ("retry: 5\ndata: x\n\n", vec![Item::Retry(5), msg("x")]),
    ];
    for (input, want) in cases {
        assert_eq!(&parse(input), want, "{input:?}");
    }
    let mut p = Parser::new();
    p.push(b"retry: 250\nretry: x\n", &mut Vec::new());
    assert_eq!(p.retry(), Some(250));
}

#[test]
fn event_field_rules() {
    let cases: &[(&str, Vec<Item>)] = &[
        ("event: a\ndata: 1\n\n", vec![ev("a", "1", None, "")]),
        // format-field-event-empty: an empty event name means "message".
        ("event:\ndata: 1\n\n", vec![msg("1")]),
        ("event\ndata: 1\n\n", vec![msg("1")]),
        // The event type does not persist across blocks.
        (
            "event: a\ndata: 1\n\ndata: 2\n\n",
            vec![ev("a", "1", None, ""), msg("2")],
        ),
        // An event name in a block with no data is forgotten.
        ("event: a\n\ndata: 2\n\n", vec![msg("2")]),
        (
            "event: a\nevent: b\ndata: 1\n\n",
            vec![ev("b", "1", None, "")],
        ),
    ];
    for (input, want) in cases {
        assert_eq!(&parse(input), want, "{input:?}");
    }
}

#[test]
fn dispatch_rules() {
    let cases: &[(&str, Vec<Item>)] = &[
        // A bare `data` line dispatches an empty string.
        ("data\n\n", vec![msg("")]),
        ("data:\n\n", vec![msg("")]),
        // Two empty data lines give one LF.
        ("data\ndata\n\n", vec![msg("\n")]),
        // No data line: nothing is dispatched.
        ("id: 1\n\n", vec![]),
        ("\n\n\n", vec![]),
        // At the end of the stream an unterminated block is discarded.
        ("data: a\n\ndata: b\n", vec![msg("a")]),
        ("data: a\n\ndata: b", vec![msg("a")]),
        // Only one space after the colon is removed; other whitespace is kept.
        ("data:  a \n\n", vec![msg(" a ")]),
        ("data:\ta\n\n", vec![msg("\ta")]),
        // The first colon splits; later ones belong to the value.
        ("data: a:b: c\n\n", vec![msg("a:b: c")]),
    ];
    for (input, want) in cases {
        assert_eq!(&parse(input), want, "{input:?}");
    }
}

#[test]
fn field_parsing_wpt_format_field_parsing() {
    // web-platform-tests eventsource/format-field-parsing.
    let input = "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n";
    assert_eq!(parse(input), vec![msg("\0\n 2\n1\n3\n\n4")]);
}

#[test]
fn comments_are_reported_and_never_events() {
    let cases: &[(&str, Vec<Item>)] = &[
        (": heartbeat\n\n", vec![Item::Comment("heartbeat".into())]),
        (":\n", vec![Item::Comment(String::new())]),
        (":  two spaces\n", vec![Item::Comment(" two spaces".into())]),
        // A comment inside an event block neither ends nor spoils it.
        (
            "data: a\n: c\ndata: b\n\n",
            vec![Item::Comment("c".into()), msg("a\nb")],
        ),
        (": 日本語\n", vec![Item::Comment("日本語".into())]),
    ];
    for (input, want) in cases {
        assert_eq!(&parse(input), want, "{input:?}");
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let input = "foo: bar\ndata: a\nDATA: b\nEvent: x\n data: y\ndata : z\n\n";
    assert_eq!(parse(input), vec![msg("a")]);
}

#[test]
fn size_limit_skips_one_event_and_goes_on() {
    let big = "x".repeat(100);
    let input = format!("data: a\n\nid: 9\ndata: {big}\ndata: more\n\ndata: b\n\n");
    let out = parse_every_way(input.as_bytes(), 64);
    assert_eq!(
        out,
        vec![
            msg("a"),
            Item::Error(Error::TooLarge { limit: 64 }),
            ev("message", "b", None, "9"),
        ]
    );
}

#[test]
fn size_limit_bounds_a_line_that_never_ends() {
    let mut p = Parser::with_max_event_bytes(1024);
    let mut out = Vec::new();
    for _ in 0..10_000 {
        p.push(&[b'a'; 100], &mut out);
    }
    assert_eq!(out, vec![Item::Error(Error::TooLarge { limit: 1024 })]);
    // The limit holds memory down, and a later blank line lets parsing go on.
    p.push(b"\n\ndata: ok\n\n", &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1], msg("ok"));
}

#[test]
fn size_limit_counts_many_lines_of_one_event() {
    let mut input = String::new();
    for _ in 0..100 {
        input.push_str("data: 0123456789\n");
    }
    input.push_str("\ndata: next\n\n");
    let out = parse_chunks(&[input.as_bytes()], 500);
    assert_eq!(
        out,
        vec![Item::Error(Error::TooLarge { limit: 500 }), msg("next")]
    );
}

#[test]
fn comments_do_not_count_toward_the_limit() {
    let input = ": heartbeat\n".repeat(100) + "data: a\n\n";
    let out = parse_chunks(&[input.as_bytes()], 64);
    assert_eq!(out.last(), Some(&msg("a")));
    assert!(!out.iter().any(|i| matches!(i, Item::Error(_))));
}

#[test]
fn a_comment_over_the_limit_is_dropped_alone_and_the_event_goes_on() {
    // The spec ignores comments: one too long to report must not take the event with it.
    let input = format!("data: a\n:{}\ndata: b\n\n", "x".repeat(100));
    let out = parse_every_way(input.as_bytes(), 64);
    assert_eq!(out, vec![msg("a\nb")]);
    let crlf = format!("data: a\r\n:{}\r\ndata: b\r\n\r\n", "x".repeat(100));
    assert_eq!(parse_every_way(crlf.as_bytes(), 64), vec![msg("a\nb")]);
}

#[test]
fn set_last_event_id_resumes_from_a_persisted_id() {
    let mut p = Parser::new();
    p.set_last_event_id("evt_5");
    let mut out = Vec::new();
    p.push(b"data: a\n\n", &mut out);
    assert_eq!(out, vec![ev("message", "a", None, "evt_5")]);
}

#[test]
fn spec_example_from_the_api_reference() {
    let input = "id: evt_1\nevent: session.thread_created\ndata: {\"id\":\"evt_1\",\"type\":\"session.thread_created\"}\n\n";
    assert_eq!(
        parse(input),
        vec![ev(
            "session.thread_created",
            "{\"id\":\"evt_1\",\"type\":\"session.thread_created\"}",
            Some("evt_1"),
            "evt_1"
        )]
    );
}

fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    // Mostly the bytes that matter to the grammar, plus UTF-8 fragments and arbitrary bytes.
    let token = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"id".to_vec()),
        Just(b"event".to_vec()),
        Just(b"retry".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just("日本".as_bytes().to_vec()),
        Just(b"\0".to_vec()),
        Just(b"42".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(token, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_chunking_gives_the_same_items(input in sse_bytes(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8), max in 16usize..256) {
        let whole = parse_chunks(&[&input], max);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&input[last..p]);
            last = p;
        }
        chunks.push(&input[last..]);
        prop_assert_eq!(parse_chunks(&chunks, max), whole);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..512), max in 1usize..64) {
        let mut p = Parser::with_max_event_bytes(max);
        let mut out = Vec::new();
        for c in input.chunks(7) {
            p.push(c, &mut out);
        }
        p.end();
    }
}
