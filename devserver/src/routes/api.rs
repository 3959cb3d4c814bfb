//! The API: thread and session streams, thread list, thread event list.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::config::HistoryMode;
use crate::errors::{json_response, ApiError};
use crate::extract::QueryPairs;
use crate::sse::{ChannelBody, FaultWriter};
use crate::state::AppState;
use crate::store::{Scope, Start, StoredEvent};
use crate::stream::{StreamTask, TypeFilter};
use crate::time;

/// Default page size of the list routes.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size of the list routes.
pub const MAX_LIMIT: usize = 1000;

/// Buffered chunks between a stream task and hyper.
const BODY_CHANNEL_CAPACITY: usize = 16;

/// The API routes mounted under `base` (e.g. `/v1`).
pub fn routes(base: &str) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{base}/sessions/{{sid}}/threads/{{tid}}/stream"),
            get(stream_thread),
        )
        .route(
            &format!("{base}/sessions/{{sid}}/events/stream"),
            get(stream_session),
        )
        .route(
            &format!("{base}/sessions/{{sid}}/threads"),
            get(list_threads),
        )
        .route(
            &format!("{base}/sessions/{{sid}}/threads/{{tid}}/events"),
            get(list_events),
        )
}

/// Middleware: records every non-preflight request whose path is under an API mount.
pub async fn log_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if state.config.is_api_path(path) && req.method() != axum::http::Method::OPTIONS {
        // Values are the UTF-8 decoding of the raw bytes (lossy, U+FFFD, where not UTF-8), so
        // a non-ASCII `Last-Event-ID` shows as the text the stream route decodes.
        let headers: serde_json::Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                )
            })
            .collect();
        state.requests.push(serde_json::json!({
            "method": req.method().as_str(),
            "path": path,
            "query": req.uri().query().unwrap_or(""),
            "headers": headers,
            "at": time::now(),
        }));
    }
    next.run(req).await
}

/// Checks `Authorization: Bearer <token>` (or `x-api-key: <token>`).
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = state.config.token.as_bytes();
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.as_bytes();
        let ok =
            v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") && v[7..].trim_ascii() == token;
        return if ok {
            Ok(())
        } else {
            Err(ApiError::unauthorized("Invalid bearer token."))
        };
    }
    match headers.get("x-api-key") {
        Some(v) if v.as_bytes() == token => Ok(()),
        Some(_) => Err(ApiError::unauthorized("Invalid API key.")),
        None => Err(ApiError::unauthorized(
            "Missing Authorization header (expected 'Bearer <token>').",
        )),
    }
}

async fn stream_thread(
    State(state): State<AppState>,
    Path((sid, tid)): Path<(String, String)>,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let scope = Scope::Thread {
        session_id: sid,
        thread_id: tid,
    };
    open_stream(state, scope, query, headers)
}

async fn stream_session(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    open_stream(state, Scope::Session { session_id: sid }, query, headers)
}

fn open_stream(
    state: AppState,
    scope: Scope,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let filter = TypeFilter::from_values(query.all(&["type", "types", "types[]", "type[]"]));
    let start = if state.settings.ignore_last_event_id() {
        // A server that does not resume: any (non-blank) Last-Event-ID, even an unknown or
        // malformed one, gets the whole history. The request log still has the header.
        let sent = headers
            .get("last-event-id")
            .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty());
        match (sent, state.config.history) {
            (true, _) | (false, HistoryMode::Replay) => Start::Replay,
            (false, HistoryMode::Tail) => Start::Tail,
        }
    } else {
        match (last_event_id(&headers)?, state.config.history) {
            (Some(id), _) => Start::After(id),
            (None, HistoryMode::Replay) => Start::Replay,
            (None, HistoryMode::Tail) => Start::Tail,
        }
    };
    let opened = state.store.open(&scope, &start)?;

    // Validation passed: this connection counts for the armed faults.
    let fault = state.faults.take();
    if let Some(status) = fault.as_ref().and_then(|f| f.status) {
        if status == 204 {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::NO_CONTENT;
            return Ok(res);
        }
        if status >= 300 {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut err = ApiError::new(
                code,
                ApiError::kind_for_status(status),
                format!("Injected fault: HTTP {status}."),
            );
            err.retry_after = fault.as_ref().and_then(|f| f.retry_after);
            return Ok(err.into_response());
        }
    }

    let (tx, body) = ChannelBody::channel(BODY_CHANNEL_CAPACITY);
    let writer = FaultWriter::new(tx, fault.as_ref());
    let (guard, close_signal) = state.streams.register();
    let content_type = fault
        .as_ref()
        .and_then(|f| f.content_type.as_deref())
        .and_then(|ct| HeaderValue::from_str(ct).ok())
        .unwrap_or(HeaderValue::from_static("text/event-stream"));
    let task = StreamTask {
        store: state.store.clone(),
        scope,
        opened,
        filter,
        keepalive: state.config.keepalive,
        fault,
        close_signal,
        guard,
    };
    tokio::spawn(task.run(writer));

    let mut res = Response::new(Body::new(body));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// The `Last-Event-ID` header: its raw bytes decoded as UTF-8 (browsers and the library send
/// an id's UTF-8 bytes, one byte per header byte), without surrounding spaces and tabs; `None`
/// when absent or blank; a 400 when the bytes are not UTF-8.
fn last_event_id(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = String::from_utf8(v.as_bytes().trim_ascii().to_vec()).map_err(|_| {
        ApiError::invalid(format!(
            "Last-Event-ID is not valid UTF-8 (the header must carry the id's UTF-8 bytes): '{}'.",
            String::from_utf8_lossy(v.as_bytes())
        ))
    })?;
    Ok((!text.is_empty()).then_some(text))
}

/// Parses `limit` (1..=1000, default 100).
fn parse_limit(query: &QueryPairs) -> Result<usize, ApiError> {
    match query.get("limit") {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "'limit' must be an integer between 1 and {MAX_LIMIT}, got '{v}'."
                ))
            }),
    }
}

/// Parses an opaque page cursor `<tag>_<hex>`.
fn parse_cursor(query: &QueryPairs, tag: &str) -> Result<Option<u64>, ApiError> {
    match query.get("page") {
        None | Some("") => Ok(None),
        Some(v) => v
            .strip_prefix(tag)
            .and_then(|h| h.strip_prefix('_'))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("'page' is not a valid cursor: '{v}'."))),
    }
}

fn cursor(tag: &str, n: u64) -> String {
    format!("{tag}_{n:016x}")
}

/// Takes the armed list faults for one list request (called once it passed validation): sleeps
/// `delay_ms`; answers `Err(error response)` for `status`; `Ok(Some(cursor))` for
/// `repeat_cursor` (the `page` that was requested as it was sent, else `first` as a cursor of
/// `tag`); `Ok(None)` otherwise.
async fn list_fault(
    state: &AppState,
    query: &QueryPairs,
    tag: &str,
    first: u64,
) -> Result<Option<String>, Response> {
    let Some(fault) = state.list_faults.take() else {
        return Ok(None);
    };
    if let Some(ms) = fault.delay_ms.filter(|ms| *ms > 0) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if let Some(status) = fault.status {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut err = ApiError::new(
            code,
            ApiError::kind_for_status(status),
            format!("Injected list fault: HTTP {status}."),
        );
        err.retry_after = fault.retry_after;
        return Err(err.into_response());
    }
    Ok(
        (fault.repeat_cursor == Some(true)).then(|| match query.get("page") {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => cursor(tag, first),
        }),
    )
}

async fn list_threads(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let limit = parse_limit(&query)?;
    let offset = parse_cursor(&query, "thrpg")?.unwrap_or(0);
    let statuses: Vec<&str> = query
        .all(&["statuses[]", "statuses", "status"])
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let threads: Vec<_> = state
        .store
        .threads(&sid)?
        .into_iter()
        .filter(|t| statuses.is_empty() || statuses.contains(&t.status.as_str()))
        .collect();
    // Validation passed: this request counts for the armed faults. The first page's cursor is
    // offset 0.
    let repeat = match list_fault(&state, &query, "thrpg", 0).await {
        Ok(repeat) => repeat,
        Err(res) => return Ok(res),
    };
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(threads.len());
    let end = (start + limit).min(threads.len());
    let data: Vec<Value> = threads[start..end].iter().map(|t| t.to_json()).collect();
    let next_page = repeat.or_else(|| (end < threads.len()).then(|| cursor("thrpg", end as u64)));
    let body = serde_json::json!({
        "data": data,
        "next_page": next_page,
        "has_more": next_page.is_some(),
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

async fn list_events(
    State(state): State<AppState>,
    Path((sid, tid)): Path<(String, String)>,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let limit = parse_limit(&query)?;
    let after_cursor = parse_cursor(&query, "evtpg")?;
    let filter = TypeFilter::from_values(query.all(&["type", "types", "types[]", "type[]"]));
    let descending = match query.get("order") {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(o) => {
            return Err(ApiError::invalid(format!(
                "'order' must be 'asc' or 'desc', got '{o}'."
            )))
        }
    };
    let scope = Scope::Thread {
        session_id: sid,
        thread_id: tid,
    };
    let mut events = state.store.events(&scope)?;
    if let Some(id) = query.get("after_id").filter(|s| !s.is_empty()) {
        let seq = state.store.seq_of(&scope, id)?;
        events.retain(|e| e.seq > seq);
    }
    if let Some(id) = query.get("before_id").filter(|s| !s.is_empty()) {
        let seq = state.store.seq_of(&scope, id)?;
        events.retain(|e| e.seq < seq);
    }
    events.retain(|e| filter.allows(&e.kind));
    if descending {
        events.reverse();
    }
    if let Some(c) = after_cursor {
        // The cursor is the last `seq` of the previous page.
        events.retain(|e| if descending { e.seq < c } else { e.seq > c });
    }
    // Validation passed: this request counts for the armed faults. The first page's cursor is
    // the one before every `seq` in the list's order.
    let first = if descending { u64::MAX } else { 0 };
    let repeat = match list_fault(&state, &query, "evtpg", first).await {
        Ok(repeat) => repeat,
        Err(res) => return Ok(res),
    };
    let page: Vec<&StoredEvent> = events.iter().take(limit).map(|e| e.as_ref()).collect();
    let has_more = repeat.is_some() || events.len() > page.len();
    let next_page = repeat.or_else(|| {
        page.last()
            .filter(|_| has_more)
            .map(|e| cursor("evtpg", e.seq))
    });
    let mut body = String::with_capacity(64 + page.iter().map(|e| e.json.len() + 1).sum::<usize>());
    body.push_str("{\"data\":[");
    for (i, e) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&e.json);
    }
    body.push_str("],");
    let tail = serde_json::json!({
        "next_page": next_page,
        "first_id": page.first().map(|e| e.id.clone()),
        "last_id": page.last().map(|e| e.id.clone()),
        "has_more": has_more,
    })
    .to_string();
    body.push_str(tail.trim_start_matches('{'));
    Ok(json_response(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_event_id_is_utf8_of_the_raw_bytes() {
        let mut h = HeaderMap::new();
        assert_eq!(last_event_id(&h).unwrap(), None);
        h.insert(
            "last-event-id",
            HeaderValue::from_bytes(" \tevt_日本\t ".as_bytes()).unwrap(),
        );
        assert_eq!(last_event_id(&h).unwrap().as_deref(), Some("evt_日本"));
        // Only ASCII space and tab are trimmed, not other whitespace.
        h.insert(
            "last-event-id",
            HeaderValue::from_bytes("evt_1\u{a0}".as_bytes()).unwrap(),
        );
        assert_eq!(last_event_id(&h).unwrap().as_deref(), Some("evt_1\u{a0}"));
        h.insert("last-event-id", HeaderValue::from_static(" \t "));
        assert_eq!(last_event_id(&h).unwrap(), None);
        h.insert(
            "last-event-id",
            HeaderValue::from_bytes(b"evt_\xff\xfe").unwrap(),
        );
        let err = last_event_id(&h).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("not valid UTF-8"), "{}", err.message);
    }
}
