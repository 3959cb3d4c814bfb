//! Static files served at `/` from `--static DIR` (tower-http's `ServeDir`), and the JSON 404
//! for everything else.
//!
//! `ServeDir` decodes the path, refuses `..`, serves `index.html` for a directory and lists
//! none, answers `HEAD`, ranges and conditional `GET`s. Its answers get three changes here:
//! - `Cache-Control: no-cache`, so a reloaded demo page picks up a rebuilt `pkg/`;
//! - text types carry `charset=utf-8` and JavaScript is `text/javascript` (mime_guess gives
//!   `.mjs` `application/javascript`, and no charset anywhere: a classic script or a style
//!   sheet without one is read in the page's encoding);
//! - a directory without its trailing `/` is a `301` (ServeDir: `307`), as before.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

use crate::errors::ApiError;
use crate::state::AppState;

fn not_found(path: &str) -> Response {
    ApiError::not_found(format!("No route for '{path}'.")).into_response()
}

/// Fallback handler: a static file when `--static` is set and it exists, else a JSON 404.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let Some(root) = state.config.static_dir.as_ref() else {
        return not_found(&path);
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return not_found(&path);
    }
    // An unreadable file is a 404, as a missing one.
    let Ok(res) = ServeDir::new(root).try_call(req).await else {
        return not_found(&path);
    };
    let mut res = res.map(axum::body::Body::new);
    match res.status() {
        StatusCode::NOT_FOUND => return not_found(&path),
        StatusCode::TEMPORARY_REDIRECT => *res.status_mut() = StatusCode::MOVED_PERMANENTLY,
        _ => {}
    }
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    utf8_text(h);
    res
}

/// `text/*` and JavaScript as `text/...; charset=utf-8`.
fn utf8_text(h: &mut HeaderMap) {
    let Some(ct) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let ct = match ct {
        "application/javascript" => "text/javascript",
        ct if ct.starts_with("text/") && !ct.contains(';') => ct,
        _ => return,
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{ct}; charset=utf-8")) {
        h.insert(header::CONTENT_TYPE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_are_utf8() {
        for (given, want) in [
            ("text/html", "text/html; charset=utf-8"),
            ("text/javascript", "text/javascript; charset=utf-8"),
            ("application/javascript", "text/javascript; charset=utf-8"),
            ("text/css", "text/css; charset=utf-8"),
            ("text/plain; charset=latin1", "text/plain; charset=latin1"),
            ("application/wasm", "application/wasm"),
            ("image/png", "image/png"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(given));
            utf8_text(&mut h);
            assert_eq!(h[header::CONTENT_TYPE], want, "{given}");
        }
    }
}
