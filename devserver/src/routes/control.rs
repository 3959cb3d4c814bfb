//! The control API under `/_control` (no token; loopback peers only).
//!
//! Tests outside this repository depend on these routes and shapes; add, never change.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::IdMode;
use crate::errors::{json_response, ApiError};
use crate::faults::FaultSpec;
use crate::state::AppState;
use crate::store::{NewEvent, NewThread};

/// Largest `count` accepted by the batch route.
pub const MAX_BATCH: usize = 1_000_000;

/// The control routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_control/sessions",
            post(create_session).get(list_sessions),
        )
        .route("/_control/sessions/{sid}/threads", post(create_thread))
        .route(
            "/_control/sessions/{sid}/threads/{tid}/events",
            post(append_event),
        )
        .route(
            "/_control/sessions/{sid}/threads/{tid}/events/batch",
            post(append_batch),
        )
        .route(
            "/_control/faults",
            post(arm_faults).delete(disarm_faults).get(get_faults),
        )
        .route(
            "/_control/requests",
            get(get_requests).delete(clear_requests),
        )
        .route("/_control/disconnect", post(disconnect))
        .route("/_control/reset", post(reset))
        .route("/_control/status", get(status))
        .route("/_control/config", get(get_config).post(set_config))
        .route_layer(middleware::from_fn(loopback_only))
}

/// Refuses peers that are not on the loopback interface (403).
async fn loopback_only(req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let loopback = match peer {
        Some(std::net::IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(ip) => ip.is_loopback(),
        None => false,
    };
    if loopback {
        next.run(req).await
    } else {
        ApiError::forbidden("The control API only answers loopback clients.").into_response()
    }
}

fn ok(value: Value) -> Response {
    json_response(StatusCode::OK, value.to_string())
}

/// Parses a JSON body; an empty body is `{}`.
fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))
}

fn opt_string(v: &Value, key: &str) -> Result<Option<String>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(format!(
            "'{key}' must be a non-empty string or null."
        ))),
    }
}

async fn create_session(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let v = parse_body(&body)?;
    let id = state.store.create_session(opt_string(&v, "session_id")?);
    Ok(ok(json!({ "session_id": id })))
}

async fn list_sessions(State(state): State<AppState>) -> Response {
    ok(state.store.summary())
}

async fn create_thread(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = parse_body(&body)?;
    let new = NewThread {
        agent_name: opt_string(&v, "agent_name")?.unwrap_or_else(|| "Agent".into()),
        parent_thread_id: opt_string(&v, "parent_thread_id")?,
        thread_id: opt_string(&v, "thread_id")?,
        role: opt_string(&v, "role")?,
        status: opt_string(&v, "status")?,
        created_by_tool_use_id: opt_string(&v, "created_by_tool_use_id")?,
    };
    let thread = state.store.create_thread(&sid, new)?;
    Ok(ok(thread.to_json()))
}

fn stored_json(json: &str) -> Response {
    json_response(StatusCode::OK, json.to_string())
}

async fn append_event(
    State(state): State<AppState>,
    Path((sid, tid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ev = NewEvent::from_value(parse_body(&body)?)?;
    let stored = state.store.append(&sid, &tid, ev)?;
    Ok(stored_json(&stored.json))
}

/// Replaces `{i}` in every string of `v` with `i`.
fn instantiate(v: &Value, i: usize) -> Value {
    match v {
        Value::String(s) if s.contains("{i}") => Value::String(s.replace("{i}", &i.to_string())),
        Value::Array(a) => Value::Array(a.iter().map(|x| instantiate(x, i)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), instantiate(x, i)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn append_batch(
    State(state): State<AppState>,
    Path((sid, tid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = parse_body(&body)?;
    let events: Vec<NewEvent> = match (v.get("events"), v.get("count")) {
        (Some(Value::Array(list)), _) => list
            .iter()
            .cloned()
            .map(NewEvent::from_value)
            .collect::<Result<_, _>>()?,
        (None, Some(count)) => {
            let n = count
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n <= MAX_BATCH)
                .ok_or_else(|| {
                    ApiError::invalid(format!("'count' must be an integer <= {MAX_BATCH}."))
                })?;
            let template = v
                .get("template")
                .cloned()
                .unwrap_or_else(|| json!({"type": "agent.message", "content": "event {i}"}));
            (0..n)
                .map(|i| NewEvent::from_value(instantiate(&template, i)))
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(ApiError::invalid(
                "Expected {\"events\": [...]} or {\"count\": N, \"template\": {...}}.",
            ))
        }
    };
    let stored = state.store.append_many(&sid, &tid, events)?;
    Ok(ok(json!({
        "count": stored.len(),
        "first_id": stored.first().map(|e| e.id.clone()),
        "last_id": stored.last().map(|e| e.id.clone()),
    })))
}

async fn arm_faults(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let spec: FaultSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("Invalid fault spec: {e}")))?;
    spec.validate().map_err(ApiError::invalid)?;
    let n = state.faults.arm(spec);
    Ok(ok(json!({ "armed": n })))
}

async fn disarm_faults(State(state): State<AppState>) -> Response {
    state.faults.disarm();
    ok(json!({ "armed": 0 }))
}

async fn get_faults(State(state): State<AppState>) -> Response {
    let current = state.faults.current();
    ok(json!({
        "armed": current.as_ref().map_or(0, |f| f.count),
        "faults": current,
    }))
}

async fn get_requests(State(state): State<AppState>) -> Response {
    ok(Value::Array(state.requests.all()))
}

async fn clear_requests(State(state): State<AppState>) -> Response {
    state.requests.clear();
    ok(json!({ "cleared": true }))
}

async fn disconnect(State(state): State<AppState>) -> Response {
    let n = state.streams.close_all();
    ok(json!({ "closed": n }))
}

async fn reset(State(state): State<AppState>) -> Response {
    let closed = state.streams.close_all();
    state.store.reset();
    state.faults.disarm();
    state.requests.clear();
    // Back to the start-up configuration too.
    state.store.set_ids(state.config.ids);
    state
        .settings
        .set_ignore_last_event_id(state.config.ignore_last_event_id);
    ok(json!({ "reset": true, "closed": closed }))
}

async fn status(State(state): State<AppState>) -> Response {
    ok(json!({
        "open_streams": state.streams.open(),
        "last_seq": state.store.last_seq(),
        "armed": state.faults.current().map_or(0, |f| f.count),
    }))
}

/// The body of `POST /_control/config`: every field optional, unknown fields refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    ids: Option<String>,
    ignore_last_event_id: Option<bool>,
}

fn current_config(state: &AppState) -> Value {
    json!({
        "ids": state.store.ids().as_str(),
        "ignore_last_event_id": state.settings.ignore_last_event_id(),
    })
}

async fn get_config(State(state): State<AppState>) -> Response {
    ok(current_config(&state))
}

async fn set_config(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let patch: ConfigPatch = if body.iter().all(|b| b.is_ascii_whitespace()) {
        ConfigPatch {
            ids: None,
            ignore_last_event_id: None,
        }
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("Invalid config: {e}")))?
    };
    // Validate everything before changing anything.
    let ids = patch
        .ids
        .as_deref()
        .map(|v| {
            IdMode::parse(v).ok_or_else(|| {
                ApiError::invalid(format!("'ids' must be 'seq' or 'uuid', got '{v}'."))
            })
        })
        .transpose()?;
    if let Some(ids) = ids {
        state.store.set_ids(ids);
    }
    if let Some(on) = patch.ignore_last_event_id {
        state.settings.set_ignore_last_event_id(on);
    }
    Ok(ok(current_config(&state)))
}
