//! Native tests of the event model, table style.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;
use crate::error::Error;

/// The SPEC's example, verbatim.
const SPEC_EXAMPLE: &str = r#"{"id":"evt_019f0000000000000000000000000100","type":"session.thread_created","schema_version":"1.0","session_id":"sess_019f00000000000000000000000000aa","session_thread_id":"sthr_019f00000000000000000000000002bb","parent_thread_id":"sthr_019f00000000000000000000000001aa","agent_id":"agent_019f000000000000000000000000002b","agent_version":2,"agent_name":"Research Agent","role":"child","created_by_tool_use_id":"toolu_bdrk_01T42NPLcKrBvLJfWgGt3QMt","created_at":"2026-06-15T08:01:00.000Z"}"#;

/// For every known type, every typed field with a value of the right JSON type.
fn full_payloads() -> Vec<(&'static str, Value)> {
    vec![
        (
            "session.thread_created",
            json!({"parent_thread_id":"sthr_a","agent_id":"agent_1","agent_version":2,
                   "agent_name":"Research Agent","role":"child","created_by_tool_use_id":"toolu_1"}),
        ),
        (
            "session.thread_status_running",
            json!({"agent_name":"Research Agent","status":"running"}),
        ),
        (
            "session.thread_status_idle",
            json!({"status":"idle","stop_reason":{"type":"end_turn"}}),
        ),
        (
            "session.thread_status_terminated",
            json!({"status":"terminated","stop_reason":{"type":"archive"}}),
        ),
        (
            "session.thread_status_rescheduled",
            json!({"status":"rescheduling"}),
        ),
        (
            "agent.thread_message_sent",
            json!({"direction":"coordinator_to_child","content":[{"type":"text","text":"Find papers"}],
                   "from_session_thread_id":"sthr_a","to_session_thread_id":"sthr_b",
                   "to_agent_name":"Research Agent"}),
        ),
        (
            "agent.thread_message_received",
            json!({"direction":"child_to_coordinator","content":"Found 3","is_error":false,
                   "from_session_thread_id":"sthr_b","to_session_thread_id":"sthr_a",
                   "from_agent_name":"Research Agent"}),
        ),
        ("agent.thread_context_compacted", json!({})),
        (
            "user.message",
            json!({"content":[{"type":"text","text":"hi"},
                   {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]}),
        ),
        ("user.interrupt", json!({})),
        (
            "user.tool_confirmation",
            json!({"tool_use_id":"sevt_1","result":"deny","deny_message":"not now"}),
        ),
        (
            "user.custom_tool_result",
            json!({"custom_tool_use_id":"sevt_2","content":[{"type":"text","text":"42"}],"is_error":false}),
        ),
        (
            "user.tool_result",
            json!({"tool_use_id":"toolu_1","content":"ok","is_error":false}),
        ),
        (
            "user.define_outcome",
            json!({"description":"A report","rubric":{"type":"text","content":"complete"},"max_iterations":3}),
        ),
        ("system.message", json!({"content":"Context compacted"})),
        (
            "agent.message",
            json!({"content":[{"type":"text","text":"Hello"}]}),
        ),
        (
            "agent.thinking",
            json!({"content":[{"type":"text","text":"Let me think"}]}),
        ),
        (
            "agent.tool_use",
            json!({"name":"bash","input":{"command":"ls"}}),
        ),
        (
            "agent.tool_result",
            json!({"tool_use_id":"sevt_3","content":[{"type":"text","text":"a\nb"}],"is_error":false}),
        ),
        (
            "agent.mcp_tool_use",
            json!({"name":"search","input":{"q":"x"},"mcp_server_name":"docs"}),
        ),
        (
            "agent.mcp_tool_result",
            json!({"mcp_tool_use_id":"sevt_4","is_error":true,
                   "content":[{"type":"document","source":{"type":"url","url":"https://example.invalid/a.pdf"}}]}),
        ),
        (
            "agent.custom_tool_use",
            json!({"name":"lookup","input":{"id":7}}),
        ),
        ("session.status_running", json!({})),
        (
            "session.status_idle",
            json!({"stop_reason":{"type":"requires_action","event_ids":["sevt_2","sevt_5"]}}),
        ),
        ("session.status_rescheduled", json!({})),
        ("session.status_terminated", json!({})),
        (
            "session.error",
            json!({"error":{"type":"overloaded_error","message":"Overloaded","retry_status":{"type":"retrying"}}}),
        ),
        ("session.deleted", json!({})),
        ("session.updated", json!({})),
        ("session.usage", json!({})),
        ("span.model_request_start", json!({})),
        (
            "span.model_request_end",
            json!({"model_request_start_id":"sevt_6","is_error":false,
                   "model_usage":{"input_tokens":10,"output_tokens":20,
                                  "cache_creation_input_tokens":0,"cache_read_input_tokens":5}}),
        ),
        ("span.outcome_evaluation_start", json!({})),
        ("span.outcome_evaluation_ongoing", json!({})),
        ("span.outcome_evaluation_end", json!({})),
        ("event_start", json!({"event_id":"sevt_7"})),
        (
            "event_delta",
            json!({"event_id":"sevt_7","delta":{"type":"content_delta","content":{"type":"text","text":"Hel"}}}),
        ),
    ]
}

/// The envelope every full fixture carries.
fn envelope(event_type: &str, n: usize) -> Object {
    let Value::Object(map) = json!({
        "id": format!("sevt_{n:04}"),
        "type": event_type,
        "schema_version": "1.0",
        "session_id": "sesn_1",
        "session_thread_id": "sthr_b",
        "turn_id": "turn_1",
        "created_at": "2026-06-15T08:01:00.123456789Z",
        "processed_at": "2026-06-15T08:01:00.2Z",
    }) else {
        unreachable!()
    };
    map
}

fn object(value: Value) -> Object {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn roundtrip(event: &Event) -> Value {
    serde_json::to_value(event).expect("an event serialises")
}

fn ok(data: &str) -> Event {
    decode("message", None, data).unwrap_or_else(|e| panic!("{data}: {e:?}"))
}

#[test]
fn the_full_table_covers_every_known_type_once() {
    let table: Vec<&str> = full_payloads().iter().map(|(t, _)| *t).collect();
    let unique: BTreeSet<&str> = table.iter().copied().collect();
    assert_eq!(unique.len(), table.len(), "duplicate row");
    assert_eq!(unique, KNOWN_TYPES.iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(KNOWN_TYPES.len(), 37);
}

#[test]
fn full_examples_of_every_type_decode_every_field_typed_and_round_trip() {
    for (n, (event_type, payload)) in full_payloads().into_iter().enumerate() {
        let mut map = envelope(event_type, n);
        map.extend(object(payload));
        let data = Value::Object(map.clone()).to_string();
        let event = decode(event_type, Some("sse_id_ignored"), &data).unwrap();

        assert_eq!(event.event_type, event_type);
        assert_eq!(event.payload.known_type(), Some(event_type), "{event_type}");
        assert!(event.is_known());
        assert_eq!(event.id.as_deref(), Some(format!("sevt_{n:04}").as_str()));
        assert_eq!(event.thread_id(), Some("sthr_b"));
        assert_eq!(event.session_id.as_deref(), Some("sesn_1"));
        assert_eq!(event.schema_version.as_deref(), Some("1.0"));
        assert_eq!(event.turn_id.as_deref(), Some("turn_1"));
        assert_eq!(
            event.created_at.as_deref(),
            Some("2026-06-15T08:01:00.123456789Z")
        );
        assert_eq!(
            event.processed_at,
            Some(Some("2026-06-15T08:01:00.2Z".to_owned()))
        );
        // Every field the model types was taken out of `extra`, and the fixture has them all.
        let fields = known_fields(event_type).unwrap();
        for field in fields {
            assert!(
                map.contains_key(*field),
                "{event_type}: fixture lacks {field}"
            );
        }
        assert!(event.extra.is_empty(), "{event_type}: {:?}", event.extra);
        assert_eq!(roundtrip(&event), Value::Object(map), "{event_type}");
        // And back through serde again.
        let again: Event = serde_json::from_value(roundtrip(&event)).unwrap();
        assert_eq!(again, event, "{event_type}");
    }
}

#[test]
fn minimal_examples_of_every_type_need_only_type() {
    for event_type in KNOWN_TYPES {
        let data = json!({ "type": event_type }).to_string();
        let event = decode("message", None, &data).unwrap();
        assert_eq!(event.event_type, *event_type);
        assert_eq!(event.payload.known_type(), Some(*event_type));
        assert_eq!(event.id, None);
        assert_eq!(event.thread_id(), None);
        assert_eq!(event.processed_at, None);
        assert_eq!(event.content(), None);
        assert!(event.extra.is_empty());
        assert_eq!(roundtrip(&event), json!({ "type": event_type }));
    }
}

#[test]
fn the_spec_example_verbatim() {
    let event = decode(
        "session.thread_created",
        Some("evt_019f0000000000000000000000000100"),
        SPEC_EXAMPLE,
    )
    .unwrap();
    assert_eq!(
        event.id.as_deref(),
        Some("evt_019f0000000000000000000000000100")
    );
    assert_eq!(
        event.thread_id(),
        Some("sthr_019f00000000000000000000000002bb")
    );
    assert_eq!(
        event.created_at.as_deref(),
        Some("2026-06-15T08:01:00.000Z")
    );
    assert!(!event.is_terminal());
    let Payload::ThreadCreated(created) = &event.payload else {
        panic!("{:?}", event.payload)
    };
    assert_eq!(
        created,
        &ThreadCreated {
            parent_thread_id: Some("sthr_019f00000000000000000000000001aa".into()),
            agent_id: Some("agent_019f000000000000000000000000002b".into()),
            agent_version: Some(2),
            agent_name: Some("Research Agent".into()),
            role: Some(Role::Child),
            created_by_tool_use_id: Some("toolu_bdrk_01T42NPLcKrBvLJfWgGt3QMt".into()),
        }
    );
    assert_eq!(
        roundtrip(&event),
        serde_json::from_str::<Value>(SPEC_EXAMPLE).unwrap()
    );
}

#[test]
fn unknown_fields_are_kept_and_written_back() {
    let data = r#"{"type":"agent.message","content":"x","new_field":{"a":[1,2]},"flag":true}"#;
    let event = ok(data);
    assert_eq!(event.extra["new_field"], json!({"a":[1,2]}));
    assert_eq!(event.extra["flag"], json!(true));
    assert_eq!(event.content().map(|c| c.text()).as_deref(), Some("x"));
    assert_eq!(
        roundtrip(&event),
        serde_json::from_str::<Value>(data).unwrap()
    );
}

#[test]
fn unknown_types_are_delivered_with_every_field_in_extra() {
    for data in [
        r#"{"type":"agent.brand_new","session_thread_id":"sthr_1","foo":1,"content":"x"}"#,
        r#"{"type":"session.thread_status_paused","status":"paused"}"#,
        r#"{"type":"x"}"#,
    ] {
        let event = ok(data);
        assert_eq!(event.payload, Payload::Unknown, "{data}");
        assert!(!event.is_known());
        assert_eq!(
            event.content(),
            None,
            "an unknown type has no typed content"
        );
        assert_eq!(
            roundtrip(&event),
            serde_json::from_str::<Value>(data).unwrap()
        );
    }
    let event = ok(r#"{"type":"agent.brand_new","session_thread_id":"sthr_1","foo":1}"#);
    assert_eq!(
        event.thread_id(),
        Some("sthr_1"),
        "the envelope is still typed"
    );
    assert_eq!(event.extra["foo"], json!(1));
    assert_eq!(known_fields("agent.brand_new"), None);
}

#[test]
fn content_as_a_string_or_as_blocks() {
    let cases: &[(&str, &str, usize)] = &[
        (r#""plain""#, "plain", 0),
        (r#"[]"#, "", 0),
        (r#"[{"type":"text","text":"a"}]"#, "a", 1),
        (
            r#"[{"type":"text","text":"a"},{"type":"redacted"},{"type":"text","text":"b"},{"type":"text","text":"c"}]"#,
            "abc",
            4,
        ),
        (
            r#"[{"type":"image","source":{"type":"url","url":"u"}}]"#,
            "",
            1,
        ),
    ];
    for (content, text, blocks) in cases {
        let data = format!(r#"{{"type":"agent.message","content":{content}}}"#);
        let event = ok(&data);
        let got = event.content().expect("content is typed");
        assert_eq!(got.text(), *text, "{content}");
        assert_eq!(got.blocks().len(), *blocks, "{content}");
        assert_eq!(
            roundtrip(&event),
            serde_json::from_str::<Value>(&data).unwrap()
        );
    }
}

#[test]
fn content_blocks_known_unknown_and_odd_are_all_kept() {
    let blocks = json!([
        {"type":"text","text":"a","citations":[1]},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}},
        {"type":"document","source":null,"title":"t"},
        {"type":"redacted","data":"opaque"},
        {"type":"tool_reference","name":"x"},
        {"type":"text","text":5},
        {"text":"no type"},
        "a bare string",
        7
    ]);
    let content: Content = serde_json::from_value(blocks.clone()).unwrap();
    let Content::Blocks(parsed) = &content else {
        panic!("{content:?}")
    };
    let names: Vec<Option<&str>> = parsed.iter().map(ContentBlock::type_name).collect();
    assert_eq!(
        names,
        [
            Some("text"),
            Some("image"),
            Some("document"),
            Some("redacted"),
            Some("tool_reference"),
            Some("text"),
            None,
            None,
            None
        ]
    );
    assert!(
        matches!(&parsed[0], ContentBlock::Text { text, extra } if text == "a" && extra["citations"] == json!([1]))
    );
    assert!(matches!(
        &parsed[1],
        ContentBlock::Image {
            source: Some(_),
            ..
        }
    ));
    assert!(
        matches!(&parsed[2], ContentBlock::Document { source: None, extra } if extra["source"].is_null())
    );
    assert!(matches!(&parsed[3], ContentBlock::Redacted { .. }));
    assert!(matches!(&parsed[4], ContentBlock::Other(_)));
    assert!(
        matches!(&parsed[5], ContentBlock::Other(_)),
        "text that is not a string"
    );
    assert_eq!(content.text(), "a");
    assert_eq!(serde_json::to_value(&content).unwrap(), blocks);
}

#[test]
fn stop_reasons_known_unknown_and_odd() {
    let cases: &[(Value, Option<&str>, bool)] = &[
        (json!({"type":"end_turn"}), Some("end_turn"), true),
        (
            json!({"type":"requires_action","event_ids":["a","b"]}),
            Some("requires_action"),
            true,
        ),
        (
            json!({"type":"retries_exhausted"}),
            Some("retries_exhausted"),
            true,
        ),
        (
            json!({"type":"budget_reached"}),
            Some("budget_reached"),
            true,
        ),
        (json!({"type":"archive"}), Some("archive"), true),
        (
            json!({"type":"end_turn","note":"extra key"}),
            Some("end_turn"),
            true,
        ),
        (
            json!({"type":"timeout","after_ms":5}),
            Some("timeout"),
            false,
        ),
        (
            json!({"type":"requires_action"}),
            Some("requires_action"),
            false,
        ),
        (
            json!({"type":"requires_action","event_ids":"a"}),
            Some("requires_action"),
            false,
        ),
        (json!({"reason":"untagged"}), None, false),
        (json!({"type":7}), None, false),
    ];
    for (raw, type_name, known) in cases {
        let data = json!({"type":"session.status_idle","stop_reason":raw}).to_string();
        let event = ok(&data);
        let reason = event
            .stop_reason()
            .expect("an object is always a stop reason");
        assert_eq!(reason.type_name(), *type_name, "{raw}");
        assert_eq!(!matches!(reason, StopReason::Other(_)), *known, "{raw}");
        assert_eq!(
            roundtrip(&event),
            serde_json::from_str::<Value>(&data).unwrap()
        );
    }
    let event = ok(
        r#"{"type":"session.status_idle","stop_reason":{"type":"requires_action","event_ids":["a","b"]}}"#,
    );
    assert_eq!(
        event.stop_reason().and_then(StopReason::event_ids),
        Some(&["a".to_owned(), "b".to_owned()][..])
    );
    // Not an object: kept raw in extra.
    let event = ok(r#"{"type":"session.status_idle","stop_reason":"end_turn"}"#);
    assert_eq!(event.stop_reason(), None);
    assert_eq!(event.extra["stop_reason"], json!("end_turn"));
}

#[test]
fn unknown_status_role_and_direction_values_are_kept() {
    let event = ok(r#"{"type":"session.thread_status_running","status":"warming_up"}"#);
    assert_eq!(
        event.status(),
        Some(&ThreadStatus::Other("warming_up".into()))
    );
    assert_eq!(roundtrip(&event)["status"], json!("warming_up"));

    for (wire, status) in [
        ("running", ThreadStatus::Running),
        ("idle", ThreadStatus::Idle),
        ("rescheduling", ThreadStatus::Rescheduling),
        ("terminated", ThreadStatus::Terminated),
        ("archived", ThreadStatus::Archived),
        ("blocked", ThreadStatus::Blocked),
    ] {
        assert_eq!(ThreadStatus::from(wire), status);
        assert_eq!(status.as_str(), wire);
        assert!(status.is_known());
    }

    let event = ok(r#"{"type":"session.thread_created","role":"observer"}"#);
    let Payload::ThreadCreated(created) = &event.payload else {
        panic!()
    };
    assert_eq!(created.role, Some(Role::Other("observer".into())));
    assert_eq!(Role::from("coordinator"), Role::Coordinator);

    let event = ok(r#"{"type":"agent.thread_message_sent","direction":"sideways"}"#);
    let Payload::ThreadMessageSent(sent) = &event.payload else {
        panic!()
    };
    assert_eq!(sent.direction, Some(Direction::Other("sideways".into())));
    assert_eq!(sent.direction.as_ref().unwrap().to_string(), "sideways");
    assert_eq!(
        Direction::from(String::from("child_to_coordinator")),
        Direction::ChildToCoordinator
    );
}

#[test]
fn a_field_of_an_unexpected_json_type_stays_in_extra_and_the_event_is_kept() {
    let cases: &[(&str, &str, Value)] = &[
        ("session.thread_created", "agent_version", json!("2")),
        ("session.thread_created", "agent_version", json!(-1)),
        ("session.thread_created", "agent_version", json!(2.5)),
        ("session.thread_created", "role", json!(null)),
        ("session.thread_created", "parent_thread_id", json!(null)),
        ("agent.thread_message_received", "is_error", json!("no")),
        ("agent.message", "content", json!(5)),
        (
            "agent.message",
            "content",
            json!({"type":"text","text":"an object"}),
        ),
        ("session.thread_status_idle", "status", json!(3)),
        ("session.error", "error", json!("boom")),
        ("span.model_request_end", "model_usage", json!([1, 2])),
        ("agent.message", "session_thread_id", json!(5)),
        ("agent.message", "created_at", json!(1718438460)),
        ("agent.message", "processed_at", json!(false)),
    ];
    for (event_type, field, value) in cases {
        let mut input = json!({ "type": event_type, "agent_name": "kept typed" });
        input[*field] = value.clone();
        let event = ok(&input.to_string());
        assert_eq!(event.event_type, *event_type);
        assert_eq!(&event.extra[*field], value, "{event_type}.{field}");
        assert_eq!(roundtrip(&event), input, "{event_type}.{field}");
    }
    // A mistyped nested field stays in the nested object's `extra`.
    let event = ok(
        r#"{"type":"span.model_request_end","model_usage":{"input_tokens":"ten","output_tokens":3}}"#,
    );
    let Payload::SpanModelRequestEnd(end) = &event.payload else {
        panic!()
    };
    let usage = end.model_usage.as_ref().unwrap();
    assert_eq!(usage.input_tokens, None);
    assert_eq!(usage.output_tokens, Some(3));
    assert_eq!(usage.extra["input_tokens"], json!("ten"));
}

#[test]
fn processed_at_absent_null_or_set() {
    let event = ok(r#"{"type":"user.message"}"#);
    assert_eq!(event.processed_at, None);
    assert!(!event.is_queued());
    let event = ok(r#"{"type":"user.message","processed_at":null}"#);
    assert_eq!(event.processed_at, Some(None));
    assert!(event.is_queued());
    assert_eq!(
        roundtrip(&event),
        json!({"type":"user.message","processed_at":null})
    );
    let event = ok(r#"{"type":"user.message","processed_at":"2026-06-15T08:01:00Z"}"#);
    assert_eq!(
        event.processed_at,
        Some(Some("2026-06-15T08:01:00Z".into()))
    );
}

/// (sse type, sse id, data, expected type, expected id)
type FillCase<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, Option<&'a str>);

#[test]
fn type_and_id_come_from_the_sse_frame_when_the_json_lacks_them() {
    let cases: &[FillCase] = &[
        (
            "agent.message",
            Some("e1"),
            r#"{"content":"x"}"#,
            "agent.message",
            Some("e1"),
        ),
        (
            "agent.message",
            None,
            r#"{"content":"x"}"#,
            "agent.message",
            None,
        ),
        (
            "agent.message",
            Some("e1"),
            r#"{"type":"agent.thinking","id":"e2"}"#,
            "agent.thinking",
            Some("e2"),
        ),
        (
            "agent.message",
            Some("e1"),
            r#"{"type":"","id":7}"#,
            "agent.message",
            Some("e1"),
        ),
        ("", Some("e1"), r#"{}"#, "message", Some("e1")),
        ("session.deleted", None, r#"{}"#, "session.deleted", None),
    ];
    for (sse_type, sse_id, data, event_type, id) in cases {
        let event = decode(sse_type, *sse_id, data).unwrap();
        assert_eq!(event.event_type, *event_type, "{data}");
        assert_eq!(event.id.as_deref(), *id, "{data}");
    }
    let event = decode("agent.message", Some("e1"), r#"{"content":"x"}"#).unwrap();
    assert_eq!(event.content().map(|c| c.text()).as_deref(), Some("x"));
    assert_eq!(
        roundtrip(&event),
        json!({"type":"agent.message","id":"e1","content":"x"}),
        "the filled-in values are written back"
    );
}

#[test]
fn invalid_json_is_an_error_with_line_and_column() {
    // (data, line, column)
    let cases: &[(&str, usize, usize)] = &[
        (r#"{"type":"#, 1, 8),
        (r#"{"a":1,}"#, 1, 8),
        (
            "{\n  \"type\": \"agent.message\",\n  \"content\": trux\n}",
            3,
            17, // the `x`
        ),
        // serde_json reports a mismatch found at a line end as column 0 of the next line.
        ("{\n  \"content\": tru\n}", 3, 0),
        ("{'single': 1}", 1, 2),
        ("", 1, 0),
        ("not json", 1, 2),
        (r#"{"type":"agent.message"} trailing"#, 1, 26),
    ];
    for (data, line, column) in cases {
        let error = decode("agent.message", Some("evt_9"), data).unwrap_err();
        assert_eq!(
            (error.line, error.column),
            (*line, *column),
            "{data:?}: {}",
            error.reason
        );
        assert_eq!(error.event_id.as_deref(), Some("evt_9"));
        assert_eq!(error.event_type, "agent.message");
        assert_eq!(error.raw, *data);
        assert!(!error.reason.contains(" at line "), "{}", error.reason);
        let message = Error::Decode(Box::new(error)).to_string();
        assert!(message.contains("evt_9"), "{message}");
        assert!(message.contains("agent.message"), "{message}");
        assert!(
            message.contains(&format!("line {line} column {column}")),
            "{message}"
        );
    }
}

#[test]
fn json_that_is_not_an_object_is_an_error() {
    let cases: &[(&str, &str)] = &[
        ("[1,2]", "an array"),
        ("42", "a number"),
        (r#""text""#, "a string"),
        ("null", "null"),
        ("true", "a boolean"),
    ];
    for (data, kind) in cases {
        let error = decode("session.error", Some("evt_3"), data).unwrap_err();
        assert_eq!((error.line, error.column), (0, 0), "{data}");
        assert!(error.reason.contains(kind), "{data}: {}", error.reason);
        assert_eq!(error.raw, *data);
        assert_eq!(error.event_id.as_deref(), Some("evt_3"));
        assert_eq!(error.event_type, "session.error");
        let error = decode("", None, data).unwrap_err();
        assert_eq!(error.event_type, "message");
        assert_eq!(error.event_id, None);
    }
}

#[test]
fn decode_error_for_a_json_parse_failure_reported_by_javascript() {
    let error = decode_error(
        "agent.message",
        Some("evt_1"),
        "{\n\"a\": }",
        "Unexpected token '}'",
    );
    assert_eq!((error.line, error.column), (2, 6));
    assert_eq!(error.reason, "Unexpected token '}'");
    assert_eq!(error.raw, "{\n\"a\": }");
    assert_eq!(error.event_id.as_deref(), Some("evt_1"));

    let error = decode_error("", None, "{", "");
    assert_eq!(error.event_type, "message");
    assert_eq!((error.line, error.column), (1, 1));
    assert!(error.reason.contains("EOF"), "{}", error.reason);

    let error = decode_error("agent.message", None, "[1]", "not an object");
    assert_eq!((error.line, error.column), (0, 0));
}

#[test]
fn terminal_and_keepalive_types() {
    for (event_type, terminal) in [
        ("session.thread_status_terminated", true),
        ("session.deleted", true),
        ("session.thread_status_idle", false),
        ("session.status_terminated", false),
        ("agent.message", false),
        ("", false),
    ] {
        assert_eq!(is_terminal_type(event_type), terminal, "{event_type}");
        let event = ok(&json!({ "type": event_type }).to_string());
        assert_eq!(event.is_terminal(), terminal, "{event_type}");
    }
    assert!(is_keepalive_type("ping"));
    assert!(!is_keepalive_type("message"));
    assert!(!is_keepalive_type("session.thread_created"));
}

#[test]
fn known_types_and_fields_are_consistent() {
    let unique: BTreeSet<&&str> = KNOWN_TYPES.iter().collect();
    assert_eq!(unique.len(), KNOWN_TYPES.len());
    for event_type in KNOWN_TYPES {
        let fields = known_fields(event_type).expect("a known type has a field list");
        for field in fields {
            assert!(
                !ENVELOPE_FIELDS.contains(field),
                "{event_type}.{field} shadows the envelope"
            );
        }
    }
    assert_eq!(
        known_fields("session.thread_created"),
        Some(
            &[
                "parent_thread_id",
                "agent_id",
                "agent_version",
                "agent_name",
                "role",
                "created_by_tool_use_id"
            ][..]
        )
    );
}

#[test]
fn deserialize_requires_a_type_and_is_tolerant_otherwise() {
    let page = json!({"data":[
        {"type":"agent.message","id":"a","content":"x"},
        {"type":"agent.brand_new","id":"b"},
        {"type":"session.thread_created","agent_version":"two"}
    ]});
    let events: Vec<Event> = serde_json::from_value(page["data"].clone()).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].payload, Payload::Unknown);
    assert_eq!(events[2].extra["agent_version"], json!("two"));
    assert!(serde_json::from_value::<Event>(json!({"id":"a"})).is_err());
    assert!(serde_json::from_value::<Event>(json!([])).is_err());
}

#[test]
fn an_event_built_in_rust_serialises_with_wire_names() {
    let event = Event {
        id: Some("evt_1".into()),
        event_type: "session.thread_status_idle".into(),
        schema_version: None,
        session_id: None,
        session_thread_id: Some("sthr_1".into()),
        turn_id: None,
        created_at: None,
        processed_at: None,
        payload: Payload::ThreadStatusIdle(ThreadStatusIdle {
            status: Some(ThreadStatus::Idle),
            stop_reason: Some(StopReason::RequiresAction {
                event_ids: vec!["evt_0".into()],
                extra: Object::new(),
            }),
        }),
        extra: Object::new(),
    };
    assert_eq!(
        roundtrip(&event),
        json!({"id":"evt_1","type":"session.thread_status_idle","session_thread_id":"sthr_1",
               "status":"idle","stop_reason":{"type":"requires_action","event_ids":["evt_0"]}})
    );
}

mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::super::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u32>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z_ ]{0,8}".prop_map(Value::from),
            prop::sample::select(vec!["running", "child", "end_turn", "text"])
                .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec!["type", "text", "event_ids", "source", "x"]),
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    /// Keys drawn mostly from the names the model types, so that odd values hit typed fields.
    fn key() -> impl Strategy<Value = String> {
        let mut names: Vec<&'static str> = KNOWN_TYPES
            .iter()
            .flat_map(|t| known_fields(t).unwrap_or(&[]).iter().copied())
            .collect();
        names.extend(
            ENVELOPE_FIELDS
                .iter()
                .filter(|f| **f != "type" && **f != "id"),
        );
        names.push("unknown_field");
        prop::sample::select(names).prop_map(str::to_owned)
    }

    fn event_type() -> impl Strategy<Value = String> {
        let mut types: Vec<&'static str> = KNOWN_TYPES.to_vec();
        types.push("agent.not_yet_invented");
        prop::sample::select(types).prop_map(str::to_owned)
    }

    proptest! {
        #[test]
        fn any_object_with_a_type_decodes_and_round_trips(
            event_type in event_type(),
            fields in prop::collection::btree_map(key(), json_value(), 0..8),
        ) {
            let mut map: Map<String, Value> = fields.into_iter().collect();
            map.insert("type".to_owned(), Value::from(event_type));
            let data = Value::Object(map).to_string();
            // Compare with the parsed text: floats may not survive text exactly.
            let input: Value = serde_json::from_str(&data).unwrap();
            let event = decode("message", None, &data).unwrap();
            prop_assert_eq!(serde_json::to_value(&event).unwrap(), input);
        }

        #[test]
        fn decode_never_panics(data in ".{0,64}", sse_type in "[a-z.]{0,12}") {
            let _ = decode(&sse_type, Some("id"), &data);
            let _ = decode_error(&sse_type, None, &data, "");
        }
    }
}
