//! CORS on every route but the control API (errors and streams included), preflights, Private
//! Network Access (on the API mounts only).
//!
//! `/_control` gets no CORS header at all, preflights included: pages of other origins must not
//! read it (the request log holds every `Authorization`) nor drive it; see
//! [`crate::routes::control::guard`]. The one exception are the origins given with
//! `--control-origin` ([`crate::Config::control_origins`]): [`control_preflight`] and
//! [`grant_control`] give them exactly what the control routes need, to them alone.
//!
//! Written here rather than with tower-http's `CorsLayer`: measured with tower-http 0.6.11
//! configured as closely as it goes (origin and headers mirrored, credentials, these methods,
//! exposed headers, max age, Private Network Access by path, `Vary: Origin`) and the same
//! requests sent to both, the layer answers preflights `200` (here `204`, which the
//! `cors_everywhere` and `api_routes_keep_their_cors` tests check), sends no
//! `Access-Control-Allow-Origin: *` to a request without `Origin` and no `Allow-Headers` to a
//! preflight that lists none (`cors_everywhere` checks both), writes the methods and the
//! exposed headers without spaces and lower-cased (both checked verbatim), leaves the exposed
//! headers off preflights, and has no per-path exemption for `/_control`. Making it agree
//! would mean rewriting most of its headers after it, which is this module again.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::routes::control::is_control_path;
use crate::state::AppState;

/// Methods the server answers.
pub const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Headers allowed when a preflight does not list any.
pub const DEFAULT_ALLOW_HEADERS: &str =
    "Authorization, Last-Event-ID, Accept, Content-Type, Cache-Control, X-Requested-With, X-Api-Key";
/// Response headers a page may read.
pub const EXPOSE_HEADERS: &str = "Retry-After, Content-Type, Request-Id";
/// How long a browser may cache a preflight, in seconds.
pub const MAX_AGE: &str = "600";
/// Methods granted on `/_control` to a `--control-origin`.
pub const CONTROL_ALLOW_METHODS: &str = "GET, POST, DELETE";
/// Request headers granted on `/_control` to a `--control-origin`.
pub const CONTROL_ALLOW_HEADERS: &str = "content-type";

/// The answer to a preflight (any `OPTIONS` request) under `/_control` from a `--control-origin`:
/// `204` granting that origin (not `*`, no credentials) [`CONTROL_ALLOW_METHODS`] and
/// [`CONTROL_ALLOW_HEADERS`], nothing more (no Private Network Access).
pub fn control_preflight(origin: HeaderValue) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(CONTROL_ALLOW_METHODS),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(CONTROL_ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    grant_control(h, origin);
    res
}

/// Lets a `--control-origin` read a `/_control` response: `Access-Control-Allow-Origin: origin`
/// and `Vary: Origin`.
pub fn grant_control(h: &mut HeaderMap, origin: HeaderValue) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Middleware: answers preflights with 204 and adds CORS headers to every response, except under
/// `/_control` (passed through untouched: no CORS header, and preflights are not answered here;
/// [`crate::routes::control::guard`] deals with `--control-origin`s).
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_control_path(req.uri().path()) {
        return next.run(req).await;
    }
    let origin = req.headers().get(header::ORIGIN).cloned();
    if req.method() == Method::OPTIONS {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .filter(|v| !v.as_bytes().trim_ascii().is_empty())
            .cloned()
            .unwrap_or(HeaderValue::from_static(DEFAULT_ALLOW_HEADERS));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
        // Private Network Access: only the API needs it (pages of other origins calling a
        // server on loopback), never static files or the control API.
        let pna = state.config.is_api_path(req.uri().path())
            && req
                .headers()
                .get("access-control-request-private-network")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        if pna {
            h.insert(
                "access-control-allow-private-network",
                HeaderValue::from_static("true"),
            );
        }
        add_common(h, origin);
        return res;
    }
    let mut res = next.run(req).await;
    add_common(res.headers_mut(), origin);
    res
}

fn add_common(h: &mut HeaderMap, origin: Option<HeaderValue>) {
    match origin {
        Some(o) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}
