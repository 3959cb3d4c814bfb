//! Drift test: `types/events.d.ts` (hand-written) must declare what the Rust model types.
//!
//! A small reader of the declarations (comments stripped, braces matched) is enough: the file
//! is ours and uses a handful of forms. Every problem is collected and reported at once, each
//! saying which side to fix.

use std::collections::{BTreeMap, BTreeSet};

use super::payload::{known_field_types, NESTED_RECORDS};
use super::{
    known_fields, ContentBlock, Direction, Role, StopReason, ThreadStatus, ENVELOPE_FIELDS,
    KNOWN_TYPES,
};

const DTS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/types/events.d.ts");
const DTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/types/events.d.ts"));
const API_DTS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/types/api.d.ts");
const API_DTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/types/api.d.ts"));

/// `ThreadtailError.kind` values that only the JavaScript side reports: the package's loader
/// (`js/load.js`) raises `wasm_load` before any Rust runs.
const JS_ONLY_ERROR_KINDS: &[&str] = &["wasm_load"];

/// Every difference between the Rust error kinds and `ErrorKind` in `api_dts`.
fn check_api(api_dts: &str) -> Vec<String> {
    let src = strip_comments(api_dts);
    let mut problems = Vec::new();
    match type_alias(&src, "ErrorKind") {
        Some(union) => {
            let mut rust: BTreeSet<String> = crate::error::ErrorKind::ALL
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect();
            rust.extend(set(JS_ONLY_ERROR_KINDS));
            compare(
                &mut problems,
                "ErrorKind values (types/api.d.ts)",
                &rust,
                &literals(union),
            );
        }
        None => problems.push("`export type ErrorKind` not found".to_owned()),
    }
    problems
}

/// Removes `//` and `/* */` comments, leaving string literals alone.
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                for s in chars.by_ref() {
                    out.push(s);
                    if s == '"' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for s in chars.by_ref() {
                    if last == '*' && s == '/' {
                        break;
                    }
                    last = s;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The text of `export interface NAME ... { BODY }`: (heritage clause, body).
fn interface<'a>(src: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let head = format!("export interface {name}");
    let mut from = 0;
    let start = loop {
        let at = from + src[from..].find(&head)?;
        let after = at + head.len();
        let next = src[after..].chars().next()?;
        if !(next.is_alphanumeric() || next == '_') {
            break after;
        }
        from = after;
    };
    let open = start + src[start..].find('{')?;
    let mut depth = 0usize;
    for (offset, c) in src[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&src[start..open], &src[open + 1..open + offset]));
                }
            }
            _ => {}
        }
    }
    None
}

/// The text of `export type NAME = ...;`.
fn type_alias<'a>(src: &'a str, name: &str) -> Option<&'a str> {
    let head = format!("export type {name} =");
    let start = src.find(&head)? + head.len();
    let end = start + src[start..].find(';')?;
    Some(&src[start..end])
}

/// The members of an interface body, by name (quotes removed), with their type text;
/// index signatures are skipped.
fn members(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut depth = 0i32;
    let mut statement = String::new();
    let mut flush = |statement: &mut String| {
        let text = statement.trim();
        if !text.is_empty() && !text.starts_with('[') {
            if let Some(colon) = text.find(':') {
                let name = text[..colon].trim().trim_end_matches('?').trim_matches('"');
                out.insert(name.to_owned(), text[colon + 1..].trim().to_owned());
            }
        }
        statement.clear();
    };
    for c in body.chars() {
        match c {
            '{' | '(' | '[' | '<' => depth += 1,
            '}' | ')' | ']' | '>' => depth -= 1,
            ';' if depth == 0 => {
                flush(&mut statement);
                continue;
            }
            _ => {}
        }
        statement.push(c);
    }
    flush(&mut statement);
    out
}

/// The string literals in a piece of type text.
fn literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The names of a union's members (`A | B | C`).
fn union_members(text: &str) -> BTreeSet<String> {
    text.split('|')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Compares two sets of names and says which side lacks what.
fn compare(problems: &mut Vec<String>, what: &str, rust: &BTreeSet<String>, ts: &BTreeSet<String>) {
    for missing in rust.difference(ts) {
        problems.push(format!(
            "{what}: `{missing}` is in the Rust model but not in the declarations; declare it there"
        ));
    }
    for extra in ts.difference(rust) {
        problems.push(format!(
            "{what}: `{extra}` is declared but not in the Rust model; add it to src/ (or remove it from the .d.ts)"
        ));
    }
}

/// The TypeScript a Rust field type is declared as: the model's own types keep their names.
fn ts_type_of(rust: &str) -> String {
    match rust {
        "String" => "string".to_owned(),
        "bool" => "boolean".to_owned(),
        "u32" | "u64" | "i64" | "f64" => "number".to_owned(),
        // Any JSON value: `unknown` makes a reader narrow it before use.
        "Value" | "serde_json::Value" => "unknown".to_owned(),
        _ => match rust.strip_prefix("Vec<").and_then(|t| t.strip_suffix('>')) {
            Some(item) => format!("{}[]", ts_type_of(item.trim())),
            None => rust.to_owned(),
        },
    }
}

/// Each field declared on both sides must have the TypeScript type of its Rust type.
fn compare_types(
    problems: &mut Vec<String>,
    what: &str,
    fields: &[&str],
    rust_types: &[&str],
    ts_members: &BTreeMap<String, String>,
) {
    for (field, rust) in fields.iter().zip(rust_types) {
        let Some(ts) = ts_members.get(*field) else {
            continue; // a missing field is `compare`'s to report
        };
        let want = ts_type_of(rust);
        let found: String = ts.chars().filter(|c| !c.is_whitespace()).collect();
        if found != want {
            problems.push(format!(
                "{what}: `{field}` is `{rust}` in the Rust model, so `{want}` in TypeScript, but the declarations say `{ts}`"
            ));
        }
    }
}

/// Every difference between the Rust model and the declarations in `dts`.
fn check(dts: &str) -> Vec<String> {
    let src = strip_comments(dts);
    let mut problems = Vec::new();

    // The type map, both ways.
    let Some((_, map_body)) = interface(&src, "EventMap") else {
        return vec!["`export interface EventMap` not found".to_owned()];
    };
    let event_map = members(map_body);
    let ts_types: BTreeSet<String> = event_map.keys().cloned().collect();
    compare(&mut problems, "EventMap", &set(KNOWN_TYPES), &ts_types);

    // Each event interface: its `type` literal and its fields, both ways.
    for (event_type, iface) in &event_map {
        let Some((heritage, body)) = interface(&src, iface) else {
            problems.push(format!(
                "EventMap[\"{event_type}\"] names `{iface}`, which is not declared"
            ));
            continue;
        };
        if !heritage.contains("extends EventBase") {
            problems.push(format!("`{iface}` must extend EventBase"));
        }
        if body.contains('[') && body.contains("[key:") {
            problems.push(format!(
                "`{iface}` has an index signature: misspelt fields would compile; only UnknownEvent may have one"
            ));
        }
        let mut fields = members(body);
        match fields.remove("type") {
            Some(tag) if tag == format!("\"{event_type}\"") => {}
            other => problems.push(format!(
                "`{iface}` must declare `type: \"{event_type}\"`, found {other:?}"
            )),
        }
        let ts_fields: BTreeSet<String> = fields.keys().cloned().collect();
        if let (Some(rust_fields), Some(rust_types)) =
            (known_fields(event_type), known_field_types(event_type))
        {
            let what = format!("fields of {event_type} ({iface})");
            compare(&mut problems, &what, &set(rust_fields), &ts_fields);
            compare_types(&mut problems, &what, rust_fields, rust_types, &fields);
        }
    }

    // The envelope.
    match interface(&src, "EventBase") {
        Some((_, body)) => compare(
            &mut problems,
            "EventBase",
            &set(ENVELOPE_FIELDS),
            &members(body).into_keys().collect(),
        ),
        None => problems.push("`export interface EventBase` not found".to_owned()),
    }

    // The unions must list every interface of the map.
    let interfaces: BTreeSet<String> = event_map.values().cloned().collect();
    match type_alias(&src, "KnownEvent") {
        Some(union) => compare(
            &mut problems,
            "KnownEvent union (interfaces)",
            &interfaces,
            &union_members(union),
        ),
        None => problems.push("`export type KnownEvent` not found".to_owned()),
    }
    match interface(&src, "UnknownEvent") {
        Some((heritage, _)) => {
            for iface in &interfaces {
                if !heritage.contains(&format!("Omit<{iface}, \"type\">")) {
                    problems.push(format!(
                        "UnknownEvent must extend `Omit<{iface}, \"type\">` so that narrowing keeps its fields typed"
                    ));
                }
            }
        }
        None => problems.push("`export interface UnknownEvent` not found".to_owned()),
    }

    // Nested objects.
    for (name, fields, types) in NESTED_RECORDS {
        match interface(&src, name) {
            Some((_, body)) => {
                let what = format!("fields of {name}");
                let ts_members = members(body);
                let ts_fields = ts_members.keys().cloned().collect();
                compare(&mut problems, &what, &set(fields), &ts_fields);
                compare_types(&mut problems, &what, fields, types, &ts_members);
            }
            None => problems.push(format!(
                "`export interface {name}` not found; it is a nested type of the Rust model"
            )),
        }
    }

    // The open string sets list every known value.
    for (name, known) in [
        ("ThreadStatus", ThreadStatus::KNOWN),
        ("Role", Role::KNOWN),
        ("Direction", Direction::KNOWN),
    ] {
        match type_alias(&src, name) {
            Some(text) => compare(
                &mut problems,
                &format!("values of {name}"),
                &set(known),
                &literals(text),
            ),
            None => problems.push(format!("`export type {name}` not found")),
        }
    }

    // Tagged unions: the `type` literal of each member interface.
    for (name, known) in [
        ("StopReason", StopReason::KNOWN),
        ("ContentBlock", ContentBlock::KNOWN),
    ] {
        let Some(union) = type_alias(&src, name) else {
            problems.push(format!("`export type {name}` not found"));
            continue;
        };
        let tags: BTreeSet<String> = union_members(union)
            .iter()
            .filter_map(|member| interface(&src, member))
            .filter_map(|(_, body)| members(body).remove("type"))
            .flat_map(|tag| literals(&tag))
            .collect();
        compare(
            &mut problems,
            &format!("tags of {name}"),
            &set(known),
            &tags,
        );
    }

    problems
}

#[test]
fn dts_declares_exactly_what_the_rust_model_types() {
    let problems = check(DTS);
    assert!(
        problems.is_empty(),
        "{DTS_PATH} has drifted from src/events/ ({} problems):\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    );
}

/// `js/model.js` (the session model, plain JavaScript) names event types: its list of known
/// types must be this version's, and every type it names (status maps, tool pairs, groups) a
/// known one.
const MODEL_JS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/js/model.js"));

fn check_model_js(model_js: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let head = "const KNOWN_TYPES = new Set([";
    let Some(start) = model_js.find(head) else {
        return vec![format!("js/model.js: `{head}` not found")];
    };
    let list = &model_js[start + head.len()..];
    let list = &list[..list.find("]);").unwrap_or(list.len())];
    compare(
        &mut problems,
        "KNOWN_TYPES of js/model.js",
        &set(KNOWN_TYPES),
        &literals(list),
    );
    // Any other event type the model names ("a.b" string literals outside comments).
    let code: String = model_js
        .lines()
        .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*'))
        .collect::<Vec<_>>()
        .join("\n");
    for named in literals(&code) {
        let looks_like_type = named.contains('.')
            && named
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
        if looks_like_type && !KNOWN_TYPES.contains(&named.as_str()) {
            problems.push(format!(
                "js/model.js names the event type `{named}`, which the Rust model does not know"
            ));
        }
    }
    problems
}

#[test]
fn the_session_model_knows_the_same_event_types() {
    let problems = check_model_js(MODEL_JS);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let typo = MODEL_JS.replacen("\"agent.thinking\"", "\"agent.thinkin\"", 1);
    assert_ne!(typo, MODEL_JS, "the fixture edit must apply");
    assert!(!check_model_js(&typo).is_empty());
}

#[test]
fn api_dts_declares_every_error_kind() {
    let problems = check_api(API_DTS);
    assert!(
        problems.is_empty(),
        "{API_DTS_PATH} has drifted from src/error.rs:\n  - {}",
        problems.join("\n  - ")
    );
}

#[test]
fn the_drift_check_sees_a_missing_and_an_extra_error_kind() {
    let api = API_DTS.replacen("  | \"paging\"\n", "  | \"pagin\"\n", 1);
    assert_ne!(api, API_DTS, "the fixture edit must apply");
    let problems = check_api(&api).join("\n");
    assert!(
        problems.contains("`paging` is in the Rust model but not"),
        "{problems}"
    );
    assert!(
        problems.contains("`pagin` is declared but not"),
        "{problems}"
    );
}

#[test]
fn the_drift_check_sees_a_missing_field_a_missing_type_and_an_extra_field() {
    let dts = DTS
        .replacen("  created_by_tool_use_id?: string;\n", "", 1)
        .replacen(
            "  \"agent.thinking\": AgentThinkingEvent;\n",
            "  \"agent.thinkin\": AgentThinkingEvent;\n",
            1,
        )
        .replacen(
            "  to_agent_name?: string;\n",
            "  to_agent_name?: string;\n  to_agnet_name?: string;\n",
            1,
        );
    assert_ne!(dts, DTS, "the fixture edits must apply");
    let problems = check(&dts).join("\n");
    assert!(problems.contains("`created_by_tool_use_id` is in the Rust model but not"));
    assert!(problems.contains("`agent.thinking` is in the Rust model but not"));
    assert!(problems.contains("`agent.thinkin` is declared but not"));
    assert!(problems.contains("`to_agnet_name` is declared but not"));
}

#[test]
fn the_drift_check_sees_a_field_of_another_type() {
    let dts = DTS
        .replacen(
            "  to_agent_name?: string;\n",
            "  to_agent_name?: number;\n",
            1,
        )
        .replacen(
            "  input_tokens?: number;\n",
            "  input_tokens?: string;\n",
            1,
        );
    assert_ne!(dts, DTS, "the fixture edits must apply");
    let problems = check(&dts).join("\n");
    assert!(
        problems.contains("`to_agent_name` is `String` in the Rust model, so `string` in TypeScript, but the declarations say `number`"),
        "{problems}"
    );
    assert!(problems.contains("`input_tokens` is `u64`"), "{problems}");
    assert_eq!(ts_type_of("Vec<ContentBlock>"), "ContentBlock[]");
}

#[test]
fn the_drift_check_refuses_an_index_signature_on_a_typed_event() {
    let dts = DTS.replacen(
        "  type: \"agent.message\";\n",
        "  type: \"agent.message\";\n  [key: string]: unknown;\n",
        1,
    );
    assert_ne!(dts, DTS);
    assert!(check(&dts)
        .join("\n")
        .contains("`AgentMessageEvent` has an index signature"));
}

#[test]
fn the_reader_handles_the_forms_used() {
    let src = strip_comments(
        "/** a { brace */\nexport interface A extends B { // c\n  x?: { y: string; z: number };\n  \"q\": 1;\n  [key: string]: unknown;\n}\n",
    );
    let (heritage, body) = interface(&src, "A").expect("found");
    assert_eq!(heritage.trim(), "extends B");
    let names: Vec<String> = members(body).into_keys().collect();
    assert_eq!(names, ["q", "x"]);
}
