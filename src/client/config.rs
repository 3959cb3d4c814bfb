//! The options of a stream, validated once at construction.

use crate::error::Error;
use crate::request::{
    normalize_base_url, validate_header, validate_header_value, validate_types, Target,
};
use crate::resume::{header_value, unresumable, Dedupe, RetryOptions};
use crate::sse::DEFAULT_MAX_EVENT_BYTES;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// What a token provider returns: the token, or a message saying why there is none.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, String>>>>;

/// How the stream authenticates.
#[derive(Clone, Default)]
pub enum Token {
    /// No `Authorization` header (cookies, or a key in `headers`).
    #[default]
    None,
    /// A fixed Bearer token.
    Static(String),
    /// Called before each connection; `true` asks for a fresh token after a 401.
    Provider(Rc<dyn Fn(bool) -> TokenFuture>),
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a token.
        f.write_str(match self {
            Token::None => "Token::None",
            Token::Static(_) => "Token::Static(<redacted>)",
            Token::Provider(_) => "Token::Provider(<fn>)",
        })
    }
}

/// Which browser API carries the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportKind {
    /// `fetch` with a streamed body: headers, tokens, full control (the default).
    #[default]
    Fetch,
    /// The native `EventSource`: same-origin, cookie-authenticated deployments only.
    EventSource,
}

/// Where the thread's history comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum History {
    /// Trust the server to replay the history on connect (the reference API does).
    #[default]
    Server,
    /// Open the stream, then list the history over REST and merge: history then live, each
    /// event once (for servers that stream live events only).
    Backfill,
    /// Live events only: what the server sends, nothing listed.
    None,
}

/// Everything a stream needs.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The API root, possibly with a path prefix (`https://host/api/v1/cloud`).
    pub base_url: String,
    /// The thread or session to follow.
    pub target: Target,
    /// How to authenticate.
    pub token: Token,
    /// Extra headers (`x-api-key`, version headers …).
    pub headers: Vec<(String, String)>,
    /// A server-side event type filter.
    pub types: Vec<String>,
    /// Resume after this id (for example one persisted by the application).
    pub last_event_id: Option<String>,
    /// The server mints ids that sort in creation order: an id at or below the newest one
    /// delivered is a duplicate even beyond the dedupe window (see [`Dedupe`]). Off by default.
    pub ordered_ids: bool,
    /// Backoff settings.
    pub retry: RetryOptions,
    /// Reconnect when no byte (comments count) arrives for this long; `None` disables.
    pub idle_timeout_ms: Option<u64>,
    /// The largest event accepted, in bytes.
    pub max_event_bytes: usize,
    /// A `fetch` to use instead of the global one.
    pub fetch: Option<js_sys::Function>,
    /// `fetch` (default) or the native `EventSource`.
    pub transport: TransportKind,
    /// Where the history comes from.
    pub history: History,
    /// `withCredentials` for the `EventSource` transport.
    pub with_credentials: bool,
    /// Aborting this signal closes the stream.
    pub signal: Option<web_sys::AbortSignal>,
}

/// Checks that a token can be sent as `Authorization: Bearer <token>`; the error names the
/// problem and never quotes the token.
pub fn validate_token(token: &str) -> Result<(), Error> {
    validate_header_value(token).map_err(|problem| Error::InvalidArgument {
        field: "token",
        message: format!(
            "the token {problem}, so no request can carry it (the token is not shown)"
        ),
    })
}

/// The default idle timeout: 45 s, three missed 15 s keep-alives.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 45_000;

impl StreamConfig {
    /// A configuration with the defaults for everything but the essentials.
    pub fn new(base_url: impl Into<String>, target: Target, token: Token) -> StreamConfig {
        StreamConfig {
            base_url: base_url.into(),
            target,
            token,
            headers: Vec::new(),
            types: Vec::new(),
            last_event_id: None,
            ordered_ids: false,
            retry: RetryOptions::default(),
            idle_timeout_ms: Some(DEFAULT_IDLE_TIMEOUT_MS),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            fetch: None,
            transport: TransportKind::Fetch,
            history: History::Server,
            with_credentials: false,
            signal: None,
        }
    }

    /// Checks every option and normalises the base URL. Errors name the option.
    pub fn validate(&mut self) -> Result<(), Error> {
        self.base_url = normalize_base_url(&self.base_url)?;
        self.target.validate()?;
        validate_types(&self.types)?;
        for (k, v) in &self.headers {
            validate_header(k, v)?;
        }
        if let Token::Static(token) = &self.token {
            validate_token(token)?;
        }
        if let Some(id) = &self.last_event_id {
            if let Some(reason) = unresumable(id) {
                return Err(Error::InvalidArgument {
                    field: "lastEventId",
                    message: format!("cannot be sent as Last-Event-ID: {reason}"),
                });
            }
        }
        if self.max_event_bytes == 0 {
            return Err(Error::InvalidArgument {
                field: "maxEventBytes",
                message: String::from("must be a positive number of bytes"),
            });
        }
        let r = &self.retry;
        if r.initial_delay_ms > r.max_delay_ms {
            return Err(Error::InvalidArgument {
                field: "retry",
                message: format!(
                    "initialDelayMs ({}) is larger than maxDelayMs ({})",
                    r.initial_delay_ms, r.max_delay_ms
                ),
            });
        }
        if self.transport == TransportKind::EventSource {
            let has_auth_header = self.headers.iter().any(|(k, _)| {
                let k = k.to_ascii_lowercase();
                k == "authorization" || k == "x-api-key"
            });
            if !matches!(self.token, Token::None) || !self.headers.is_empty() || has_auth_header {
                return Err(Error::InvalidArgument {
                    field: "transport",
                    message: String::from(
                        "\"eventsource\" cannot send a token or headers (the native EventSource has no headers, and a token in the URL would leak); use the default \"fetch\" transport, or cookie authentication",
                    ),
                });
            }
            if self.history == History::Backfill {
                return Err(Error::InvalidArgument {
                    field: "history",
                    message: String::from("\"backfill\" needs the \"fetch\" transport"),
                });
            }
        }
        Ok(())
    }

    /// The request headers for one attempt. The token never appears anywhere else.
    pub fn request_headers(
        &self,
        token: Option<&str>,
        last_event_id: &str,
        accept: &str,
    ) -> Vec<(String, String)> {
        let mut h = Vec::with_capacity(self.headers.len() + 3);
        h.push((String::from("Accept"), String::from(accept)));
        if let Some(t) = token {
            h.push((String::from("Authorization"), format!("Bearer {t}")));
        }
        if !last_event_id.is_empty() {
            h.push((String::from("Last-Event-ID"), header_value(last_event_id)));
        }
        h.extend(self.headers.iter().cloned());
        h
    }

    /// The dedupe this stream starts with.
    pub fn dedupe(&self) -> Dedupe {
        let mut dedupe = Dedupe::default();
        if self.ordered_ids {
            dedupe = dedupe.with_ordered_ids();
        }
        if let Some(id) = &self.last_event_id {
            dedupe.resume_after(id);
        }
        dedupe
    }

    /// Whether an event type ends this stream (see [`Target::terminal_types`]).
    pub fn is_terminal(&self, event_type: &str) -> bool {
        self.target.terminal_types().contains(&event_type)
    }
}
