//! The control API under `/_control` (no token; loopback peers only; local tools and pages of
//! this server only: no CORS, and a foreign `Origin` is refused, unless it was given with
//! `--control-origin`).
//!
//! Tests outside this repository depend on these routes and shapes; add, never change.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::IdMode;
use crate::errors::{json_response, ApiError};
use crate::extract::JsonBody;
use crate::faults::{FaultSpec, ListFaultSpec};
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
            "/_control/list-faults",
            post(arm_list_faults)
                .delete(disarm_list_faults)
                .get(get_list_faults),
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

/// Whether `path` is the control API's (`/_control` or under it).
pub fn is_control_path(path: &str) -> bool {
    path.strip_prefix("/_control")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Middleware around the whole server: under `/_control`, refuses (403, no CORS header) every
/// preflight and every request whose `Origin` is not the server's own. Requests without `Origin`
/// (curl, Node, same-origin `GET`s of browsers) pass.
///
/// The control API needs no token and its request log holds every `Authorization` the API got:
/// a page of another origin must neither read it nor drive it (a "simple" `POST` needs no
/// preflight, so leaving out CORS headers is not enough: the request itself is refused).
///
/// The exception: an `Origin` that is one of the `--control-origin`s
/// ([`crate::Config::control_origins`], compared exactly) passes, its preflights are answered by
/// [`crate::cors::control_preflight`] and its responses carry
/// `Access-Control-Allow-Origin: <that origin>` and `Vary: Origin`.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_control_path(req.uri().path()) {
        return next.run(req).await;
    }
    let origin = req.headers().get(header::ORIGIN).cloned();
    let granted = origin
        .clone()
        .filter(|o| state.config.is_control_origin(o.as_bytes()));
    if req.method() == Method::OPTIONS {
        if let Some(o) = granted {
            return crate::cors::control_preflight(o);
        }
        return ApiError::forbidden(
            "The control API does not answer CORS preflights: it is for local tools and pages \
             served by this server (see --control-origin).",
        )
        .into_response();
    }
    if let Some(origin) = &origin {
        let own_port = state.local_addr.map(|a| a.port());
        if granted.is_none() && !is_own_origin(origin, req.headers().get(header::HOST), own_port) {
            return ApiError::forbidden(format!(
                "The control API refuses requests from other origins ('{}'): it is for local \
                 tools and pages served by this server (see --control-origin).",
                String::from_utf8_lossy(origin.as_bytes())
            ))
            .into_response();
        }
    }
    let mut res = next.run(req).await;
    if let Some(o) = granted {
        crate::cors::grant_control(res.headers_mut(), o);
    }
    res
}

/// Splits `host[:port]` (`[v6]:port` too) into a lower-case host and a port (default 80).
fn host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (h, rest) = authority.split_at(end + 1);
        match rest {
            "" => (h, None),
            r => (h, Some(r.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let port = match port {
        None => 80,
        Some(p) => p.parse().ok()?,
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Whether `origin` is the server's own: `http://` + the `Host` the request was addressed to
/// (default port 80 either way), or `http://localhost:P`, `http://127.0.0.1:P`,
/// `http://[::1]:P` for the server's own port P (`own_port`, else the `Host` header's port).
/// `null`, other schemes and anything unparsable are foreign.
pub fn is_own_origin(
    origin: &HeaderValue,
    host: Option<&HeaderValue>,
    own_port: Option<u16>,
) -> bool {
    let Some(origin) = origin
        .to_str()
        .ok()
        .and_then(|o| {
            o.get(..7)
                .filter(|s| s.eq_ignore_ascii_case("http://"))
                .map(|_| &o[7..])
        })
        .and_then(host_port)
    else {
        return false;
    };
    let host = host
        .and_then(|h| h.to_str().ok())
        .and_then(|h| host_port(h.trim()));
    if host.as_ref() == Some(&origin) {
        return true;
    }
    let port = own_port.or(host.map(|(_, p)| p));
    matches!(origin.0.as_str(), "localhost" | "127.0.0.1" | "[::1]") && Some(origin.1) == port
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

/// A string field of a control body: absent or `null` (`None`), else a non-empty string.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct NonEmpty(String);

impl TryFrom<String> for NonEmpty {
    type Error = &'static str;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            Err("must be a non-empty string or null")
        } else {
            Ok(NonEmpty(s))
        }
    }
}

fn text(field: Option<NonEmpty>) -> Option<String> {
    field.map(|NonEmpty(s)| s)
}

/// The body of `POST /_control/sessions`. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct CreateSession {
    session_id: Option<NonEmpty>,
}

async fn create_session(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateSession>,
) -> Response {
    let id = state.store.create_session(text(body.session_id));
    ok(json!({ "session_id": id }))
}

async fn list_sessions(State(state): State<AppState>) -> Response {
    ok(state.store.summary())
}

/// The body of `POST /_control/sessions/{sid}/threads`. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct CreateThread {
    agent_name: Option<NonEmpty>,
    parent_thread_id: Option<NonEmpty>,
    thread_id: Option<NonEmpty>,
    role: Option<NonEmpty>,
    status: Option<NonEmpty>,
    created_by_tool_use_id: Option<NonEmpty>,
}

async fn create_thread(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    JsonBody(body): JsonBody<CreateThread>,
) -> Result<Response, ApiError> {
    let new = NewThread {
        agent_name: text(body.agent_name).unwrap_or_else(|| "Agent".into()),
        parent_thread_id: text(body.parent_thread_id),
        thread_id: text(body.thread_id),
        role: text(body.role),
        status: text(body.status),
        created_by_tool_use_id: text(body.created_by_tool_use_id),
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
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let ev = NewEvent::from_value(body)?;
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

/// The body of `POST .../events/batch`: `events`, or `count` copies of `template`.
#[derive(Debug, Deserialize)]
struct Batch {
    events: Option<Vec<Value>>,
    count: Option<u64>,
    template: Option<Value>,
}

async fn append_batch(
    State(state): State<AppState>,
    Path((sid, tid)): Path<(String, String)>,
    JsonBody(body): JsonBody<Batch>,
) -> Result<Response, ApiError> {
    let events: Vec<NewEvent> = match (body.events, body.count) {
        (Some(list), _) => list
            .into_iter()
            .map(NewEvent::from_value)
            .collect::<Result<_, _>>()?,
        (None, Some(count)) => {
            let n = usize::try_from(count)
                .ok()
                .filter(|n| *n <= MAX_BATCH)
                .ok_or_else(|| {
                    ApiError::invalid(format!("'count' must be an integer <= {MAX_BATCH}."))
                })?;
            let template = body
                .template
                .unwrap_or_else(|| json!({"type": "agent.message", "content": "event {i}"}));
            (0..n)
                .map(|i| NewEvent::from_value(instantiate(&template, i)))
                .collect::<Result<_, _>>()?
        }
        (None, None) => {
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

async fn arm_faults(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<FaultSpec>,
) -> Result<Response, ApiError> {
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

async fn arm_list_faults(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<ListFaultSpec>,
) -> Result<Response, ApiError> {
    spec.validate().map_err(ApiError::invalid)?;
    let n = state.list_faults.arm(spec);
    Ok(ok(json!({ "armed": n })))
}

async fn disarm_list_faults(State(state): State<AppState>) -> Response {
    state.list_faults.disarm();
    ok(json!({ "armed": 0 }))
}

async fn get_list_faults(State(state): State<AppState>) -> Response {
    let current = state.list_faults.current();
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
    state.list_faults.disarm();
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

/// The body of `POST /_control/config`: every field optional (an empty body reads, changes
/// nothing), unknown fields refused.
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

async fn set_config(
    State(state): State<AppState>,
    JsonBody(patch): JsonBody<ConfigPatch>,
) -> Result<Response, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn own(origin: &str, host: Option<&str>, port: Option<u16>) -> bool {
        let host = host.map(|h| HeaderValue::from_str(h).unwrap());
        is_own_origin(&HeaderValue::from_str(origin).unwrap(), host.as_ref(), port)
    }

    #[test]
    fn control_paths() {
        assert!(is_control_path("/_control"));
        assert!(is_control_path("/_control/requests"));
        assert!(!is_control_path("/_controls"));
        assert!(!is_control_path("/v1/_control"));
    }

    #[test]
    fn own_origins() {
        let h = Some("127.0.0.1:8787");
        let p = Some(8787);
        for o in [
            "http://127.0.0.1:8787",
            "http://localhost:8787",
            "HTTP://LocalHost:8787",
            "http://[::1]:8787",
        ] {
            assert!(own(o, h, p), "{o}");
        }
        // The Host the request was addressed to (e.g. through a proxy or a host name).
        assert!(own("http://devbox:9000", Some("DevBox:9000"), p));
        assert!(own("http://devbox", Some("devbox:80"), p));
        assert!(own("http://[::1]:8787", Some("[::1]:8787"), None));
        // Without a known port, the Host header's.
        assert!(own("http://localhost:8787", h, None));
        for o in [
            "http://evil.example",
            "http://127.0.0.1:9999",
            "http://localhost:8788",
            "https://127.0.0.1:8787",
            "null",
            "http://127.0.0.1:8787/x",
            "http://user@127.0.0.1:8787",
            "http://127.0.0.1:notaport",
            "http://",
        ] {
            assert!(!own(o, h, p), "{o}");
        }
        assert!(!own("http://evil.example", None, p));
        assert!(!own("http://127.0.0.1:8787", None, Some(1)));
    }
}
