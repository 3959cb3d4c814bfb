//! The one error type of the library, with a stable [`ErrorKind`] that applications match on.
//!
//! Every message says what happened and what to do about it. No message ever contains the
//! token: requests are described by method and path only.

/// What went wrong, as a stable, matchable category.
///
/// The string forms (`as_str`) are the `kind` values of `ThreadtailError` in JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 401: the token is missing, invalid or expired.
    Authentication,
    /// 404: the session or thread does not exist.
    NotFound,
    /// 400: the server rejected the request (for example a foreign `Last-Event-ID`).
    InvalidRequest,
    /// 403: the token may not read this session.
    Permission,
    /// 429: too many requests.
    RateLimited,
    /// 5xx (and 529): the server failed.
    Server,
    /// Any other unexpected HTTP status (including 204 "stop").
    Http,
    /// A 200 response that is not `text/event-stream` (or not JSON on a list route).
    ContentType,
    /// The connection failed or dropped.
    Network,
    /// No byte arrived within the idle timeout.
    Timeout,
    /// An event's `data` was not a JSON object.
    Decode,
    /// One event was larger than the configured limit.
    TooLarge,
    /// An option passed by the application is invalid.
    InvalidArgument,
    /// An event id cannot be sent back as `Last-Event-ID` (too long, or white space at an
    /// end): the event was delivered, and reconnects resume from the last id that can.
    UnresumableId,
    /// A list route's paging would never end (a repeated cursor, too many pages).
    Paging,
    /// The server redirected where the client does not follow (another origin, a loop, no
    /// `Location`).
    Redirect,
}

impl ErrorKind {
    /// Every kind, for the TypeScript drift test (a test below fails to compile when a kind is
    /// added to the enum and not here).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Authentication,
        ErrorKind::NotFound,
        ErrorKind::InvalidRequest,
        ErrorKind::Permission,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Http,
        ErrorKind::ContentType,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::Decode,
        ErrorKind::TooLarge,
        ErrorKind::InvalidArgument,
        ErrorKind::UnresumableId,
        ErrorKind::Paging,
        ErrorKind::Redirect,
    ];

    /// The stable snake_case name, as exposed to JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Authentication => "authentication",
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Permission => "permission",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Http => "http",
            ErrorKind::ContentType => "content_type",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Decode => "decode",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::UnresumableId => "unresumable_id",
            ErrorKind::Paging => "paging",
            ErrorKind::Redirect => "redirect",
        }
    }

    /// The kind an API error `type` maps to (`overloaded_error` is a server error).
    pub fn from_api_type(error_type: &str) -> ErrorKind {
        match error_type {
            "invalid_request_error" => ErrorKind::InvalidRequest,
            "authentication_error" => ErrorKind::Authentication,
            "permission_error" => ErrorKind::Permission,
            "not_found_error" => ErrorKind::NotFound,
            "rate_limit_error" => ErrorKind::RateLimited,
            "api_error" | "overloaded_error" => ErrorKind::Server,
            "request_too_large" => ErrorKind::TooLarge,
            _ => ErrorKind::Http,
        }
    }

    /// The kind an HTTP error status maps to.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::InvalidRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::Permission,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Http,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object of the API's error body:
/// `{"type":"error","request_id":"...","error":{"type":"not_found_error","message":"..."}}`.
/// Read from a body by `parseApiError` in `src/js/glue.js` (through `transport::js::api_error`),
/// the one reader of that format: a string field of another JSON type is left out there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    /// The server's `error.type`, for example `not_found_error`.
    pub error_type: Option<String>,
    /// The server's `error.message`.
    pub message: Option<String>,
    /// The body's `request_id`, for support requests.
    pub request_id: Option<String>,
    /// The server's `error.param`, when it names the offending parameter.
    pub param: Option<String>,
}

/// Where in an event's `data` a JSON decode failed, with the event named and its text kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The SSE `id:` of the event, if it had one.
    pub event_id: Option<String>,
    /// The SSE `event:` name (`message` when the block had none).
    pub event_type: String,
    /// 1-based line of the offending position in `data` (0 when not a syntax error).
    pub line: usize,
    /// 1-based column of the offending position in `data` (0 when not a syntax error).
    pub column: usize,
    /// What the decoder said.
    pub reason: String,
    /// The raw `data` text, untouched.
    pub raw: String,
}

/// Every error the library reports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The server answered with a status that is not 200 (or a stream-stopping 204).
    #[error("{}", http_message(*.status, .api))]
    Http {
        /// The HTTP status.
        status: u16,
        /// The parsed error body, when the server sent one.
        api: Option<ApiError>,
        /// A `Retry-After` delay in milliseconds, when the server sent one.
        retry_after_ms: Option<u64>,
    },
    /// The response was 200 but not of the expected content type.
    #[error("the server answered 200 with content type \"{found}\", expected {expected}; check that the base URL points at the API and not at a web page or proxy")]
    ContentType {
        /// The `Content-Type` received (empty when absent).
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The connection failed or dropped before the stream was over.
    #[error(
        "network error: {message}; the stream reconnects by itself unless retries are exhausted"
    )]
    Network {
        /// What the runtime said.
        message: String,
    },
    /// No byte (not even a keep-alive comment) arrived for `idle_ms`.
    #[error("no data for {idle_ms} ms (not even a keep-alive); reconnecting. Raise idleTimeoutMs if the server is slow to send keep-alives")]
    Timeout {
        /// The idle timeout that elapsed.
        idle_ms: u64,
    },
    /// The server sent an `event: error` frame inside a 200 stream.
    #[error("{}", in_stream_message(.api))]
    InStream {
        /// The error object of the frame.
        api: ApiError,
    },
    /// An event's data could not be decoded; the stream goes on.
    #[error("{}", decode_message(.0))]
    Decode(Box<DecodeError>),
    /// One event exceeded the size limit; it was skipped and the stream goes on.
    #[error("an event exceeded the limit of {limit} bytes and was skipped; raise maxEventBytes if such events are expected")]
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// An event id cannot be a resume point. Reported once per stream; never quotes the id.
    #[error("an event id of {bytes} bytes cannot be sent back as Last-Event-ID ({reason}); the event was delivered, and a reconnect resumes after the last id that can (the events the server re-sends are recognised as duplicates)")]
    UnresumableId {
        /// The id's length in UTF-8 bytes.
        bytes: usize,
        /// Why it cannot.
        reason: &'static str,
    },
    /// A redirect the client does not follow. Names the other origin, never the full URL.
    #[error("the server redirected (HTTP {status}){}{reason}; check the base URL", .to.as_ref().map(|o| format!(" to {o} ")).unwrap_or_else(|| String::from(" ")))]
    Redirect {
        /// The redirect status (0 when the browser hides it).
        status: u16,
        /// The origin it pointed to, when known.
        to: Option<String>,
        /// Why it is not followed.
        reason: &'static str,
    },
    /// A listing was ended because its paging would not end.
    #[error("listing stopped after {pages} pages: {reason}; the items so far were delivered")]
    Paging {
        /// Pages fetched.
        pages: u32,
        /// Why.
        reason: &'static str,
    },
    /// An option is invalid.
    #[error("invalid option `{field}`: {message}")]
    InvalidArgument {
        /// The option's name as the application spelt it.
        field: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// Secrets shorter than this are not searched for: replacing every `a` would garble messages,
/// and no real token or key is that short.
pub const MIN_SECRET_LEN: usize = 4;

/// Replaces every occurrence of `secrets` (those of at least [`MIN_SECRET_LEN`] bytes) in
/// `text` with `[redacted]`.
pub fn redact_text(text: &mut String, secrets: &[String]) {
    for secret in secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        if text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), "[redacted]");
        }
    }
}

fn http_message(status: u16, api: &Option<ApiError>) -> String {
    let advice = match status {
        400 => "the request was rejected: check the ids, filters and Last-Event-ID",
        401 => "authentication failed: the token is missing, invalid or expired",
        403 => "permission denied: the token may not read this session",
        404 => "not found: check the session id and thread id (and the base URL's path prefix)",
        408 | 429 => "the server asked to slow down; retrying with backoff",
        204 => "the server asked the client to stop (204 No Content); not reconnecting",
        500..=599 => "server error; retrying with backoff",
        _ => "unexpected HTTP status",
    };
    match api.as_ref().and_then(|a| a.message.as_deref()) {
        Some(msg) => format!("HTTP {status}: {advice} (server says: {msg})"),
        None => format!("HTTP {status}: {advice}"),
    }
}

fn in_stream_message(api: &ApiError) -> String {
    format!(
        "the server reported an error inside the stream: {} ({}); the stream reconnects if the server closes it",
        api.message.as_deref().unwrap_or("no message"),
        api.error_type.as_deref().unwrap_or("unknown type")
    )
}

fn decode_message(e: &DecodeError) -> String {
    let id = e.event_id.as_deref().unwrap_or("(no id)");
    if e.line > 0 {
        format!(
            "event {id} of type \"{}\" is not valid JSON at line {} column {}: {}; the event is kept raw in `raw` and the stream goes on",
            e.event_type, e.line, e.column, e.reason
        )
    } else {
        format!(
            "event {id} of type \"{}\" could not be decoded: {}; the event is kept raw in `raw` and the stream goes on",
            e.event_type, e.reason
        )
    }
}

impl Error {
    /// The stable category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Http { status, .. } => ErrorKind::from_status(*status),
            Error::ContentType { .. } => ErrorKind::ContentType,
            Error::Network { .. } => ErrorKind::Network,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::InStream { api } => {
                ErrorKind::from_api_type(api.error_type.as_deref().unwrap_or(""))
            }
            Error::Decode(_) => ErrorKind::Decode,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Error::UnresumableId { .. } => ErrorKind::UnresumableId,
            Error::Paging { .. } => ErrorKind::Paging,
            Error::Redirect { .. } => ErrorKind::Redirect,
        }
    }

    /// The HTTP status, for HTTP errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error body, for HTTP errors that had one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Http { api, .. } => api.as_ref(),
            Error::InStream { api } => Some(api),
            _ => None,
        }
    }

    /// Replaces every occurrence of `secrets` (a token, custom header values) in the text this
    /// error carries, so that no platform or server message can quote one, whatever it says.
    pub fn redact(&mut self, secrets: &[String]) {
        let scrub = |text: &mut String| redact_text(text, secrets);
        let scrub_api = |api: &mut ApiError| {
            for field in [&mut api.message, &mut api.param].into_iter().flatten() {
                scrub(field);
            }
        };
        match self {
            Error::Network { message } | Error::InvalidArgument { message, .. } => scrub(message),
            Error::Http { api: Some(api), .. } | Error::InStream { api } => scrub_api(api),
            Error::Decode(d) => {
                scrub(&mut d.raw);
                scrub(&mut d.reason);
            }
            _ => {}
        }
    }

    /// Whether the client retries after this error by itself.
    ///
    /// Network drops, idle time-outs, 408, 429 and 5xx are retried; every other HTTP status,
    /// a wrong content type and invalid options are fatal. Decode and size errors concern one
    /// event only: the stream goes on, so they are reported as not needing a retry.
    pub fn retryable(&self) -> bool {
        match self {
            Error::Http { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Error::Network { .. } | Error::Timeout { .. } => true,
            Error::InStream { .. } => matches!(
                self.kind(),
                ErrorKind::Server | ErrorKind::RateLimited | ErrorKind::Network
            ),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_kind_once() {
        // No wildcard: a new kind does not compile until it has a place here and in ALL.
        let position = |kind: ErrorKind| match kind {
            ErrorKind::Authentication => 0,
            ErrorKind::NotFound => 1,
            ErrorKind::InvalidRequest => 2,
            ErrorKind::Permission => 3,
            ErrorKind::RateLimited => 4,
            ErrorKind::Server => 5,
            ErrorKind::Http => 6,
            ErrorKind::ContentType => 7,
            ErrorKind::Network => 8,
            ErrorKind::Timeout => 9,
            ErrorKind::Decode => 10,
            ErrorKind::TooLarge => 11,
            ErrorKind::InvalidArgument => 12,
            ErrorKind::UnresumableId => 13,
            ErrorKind::Paging => 14,
            ErrorKind::Redirect => 15,
        };
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(*kind), i, "{kind:?} out of place in ALL");
        }
        assert_eq!(ErrorKind::ALL.len(), 16);
    }

    #[test]
    fn redact_removes_secrets_from_every_text() {
        let secrets = vec![
            String::from("tok-123456"),
            String::from("key-abcdef"),
            String::from("ab"),
        ];
        let mut e = Error::Network {
            message: String::from("Headers.append: \"Bearer tok-123456\" is invalid; key-abcdef"),
        };
        e.redact(&secrets);
        let text = e.to_string();
        assert!(
            !text.contains("tok-123456") && !text.contains("key-abcdef"),
            "{text}"
        );
        assert!(text.contains("[redacted]"));
        let mut e = Error::Http {
            status: 401,
            api: Some(ApiError {
                message: Some(String::from("token tok-123456 is expired")),
                ..ApiError::default()
            }),
            retry_after_ms: None,
        };
        e.redact(&secrets);
        assert!(!e.to_string().contains("tok-123456"));
        // Too short to search for.
        let mut e = Error::Network {
            message: String::from("about"),
        };
        e.redact(&secrets);
        assert!(e.to_string().contains("about"));
    }
}
