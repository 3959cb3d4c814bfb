//! The API's error type and its JSON body:
//! `{"type":"error","request_id":"req_...","error":{"type":"...","message":"..."}}`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh request id, `req_` + 24 hex digits.
pub fn request_id() -> String {
    format!(
        "req_{:024x}",
        REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// An error answered with its status and a JSON body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `error.type` string, e.g. `not_found_error`.
    pub kind: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Optional `Retry-After` header value in seconds.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with an explicit status and type.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 401 `authentication_error`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
    }

    /// 403 `permission_error`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message)
    }

    /// 404 `not_found_error`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found_error", message)
    }

    /// 404 for an unknown session.
    pub fn session_not_found(sid: &str) -> Self {
        Self::not_found(format!("Session '{sid}' was not found."))
    }

    /// 404 for an unknown thread.
    pub fn thread_not_found(tid: &str) -> Self {
        Self::not_found(format!("Session thread '{tid}' was not found."))
    }

    /// 409 `conflict_error`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict_error", message)
    }

    /// The conventional error type of an HTTP status (used by status faults).
    pub fn kind_for_status(status: u16) -> &'static str {
        match status {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            409 => "conflict_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            500..=599 => "api_error",
            _ => "invalid_request_error",
        }
    }

    /// The JSON body with a given request id.
    pub fn body(&self, request_id: &str) -> String {
        serde_json::json!({
            "type": "error",
            "request_id": request_id,
            "error": { "type": self.kind, "message": self.message },
        })
        .to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let rid = request_id();
        let mut res = Response::new(Body::from(self.body(&rid)));
        *res.status_mut() = self.status;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(&rid) {
            h.insert("request-id", v);
        }
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// A `200 OK` JSON response from an already-encoded body.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
