//! How each way a connection attempt can end maps to retry, token refresh or stop.

use crate::error::{ApiError, Error};

/// How a connection attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server answered with a status other than 200.
    Status {
        /// The HTTP status.
        status: u16,
        /// The parsed error body, if any.
        api: Option<ApiError>,
        /// `Retry-After`, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// 200 but not `text/event-stream`.
    ContentType(String),
    /// The request or the body failed.
    Network(String),
    /// The body ended cleanly (the server closed the stream).
    EndOfBody,
    /// No byte arrived within the idle timeout.
    IdleTimeout(u64),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Report `error` (if any) and reconnect after a backoff delay.
    Retry {
        /// The error to report, `None` for a clean end of the body.
        error: Option<Error>,
        /// A server's `Retry-After`, to honour.
        retry_after_ms: Option<u64>,
    },
    /// Ask the token provider for a fresh token and reconnect at once (401, first time).
    RefreshToken,
    /// Report `error` and stop for good.
    Stop(Error),
}

/// Classifies an outcome. `can_refresh` is true when the token is a provider that has not yet
/// been asked to refresh since the last successful connection.
pub fn decide(outcome: Outcome, can_refresh: bool) -> Decision {
    match outcome {
        Outcome::Status {
            status,
            api,
            retry_after_ms,
        } => {
            if status == 401 && can_refresh {
                return Decision::RefreshToken;
            }
            let error = Error::Http {
                status,
                api,
                retry_after_ms,
            };
            if error.retryable() {
                Decision::Retry {
                    error: Some(error),
                    retry_after_ms,
                }
            } else {
                Decision::Stop(error)
            }
        }
        Outcome::ContentType(found) => Decision::Stop(Error::ContentType {
            found,
            expected: "text/event-stream",
        }),
        Outcome::Network(message) => Decision::Retry {
            error: Some(Error::Network { message }),
            retry_after_ms: None,
        },
        Outcome::EndOfBody => Decision::Retry {
            error: None,
            retry_after_ms: None,
        },
        Outcome::IdleTimeout(idle_ms) => Decision::Retry {
            error: Some(Error::Timeout { idle_ms }),
            retry_after_ms: None,
        },
    }
}

/// Parses a `Retry-After` header: delay-seconds only (an HTTP date is ignored, since the
/// client clock may disagree with the server's).
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok().map(|s| s.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn status(s: u16) -> Outcome {
        Outcome::Status {
            status: s,
            api: None,
            retry_after_ms: None,
        }
    }

    #[test]
    fn fatal_statuses_stop() {
        for (s, kind) in [
            (400, ErrorKind::InvalidRequest),
            (401, ErrorKind::Authentication),
            (403, ErrorKind::Permission),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Http),
            (410, ErrorKind::Http),
            (204, ErrorKind::Http),
        ] {
            match decide(status(s), false) {
                Decision::Stop(e) => assert_eq!(e.kind(), kind, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn transient_statuses_retry() {
        for (s, kind) in [
            (408, ErrorKind::Http),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Server),
            (502, ErrorKind::Server),
            (503, ErrorKind::Server),
            (529, ErrorKind::Server),
        ] {
            match decide(status(s), false) {
                Decision::Retry { error: Some(e), .. } => assert_eq!(e.kind(), kind, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn unauthorized_refreshes_once() {
        assert_eq!(decide(status(401), true), Decision::RefreshToken);
        assert!(matches!(decide(status(401), false), Decision::Stop(_)));
    }

    #[test]
    fn other_outcomes() {
        assert!(matches!(
            decide(Outcome::ContentType("text/html".into()), true),
            Decision::Stop(Error::ContentType { .. })
        ));
        assert!(matches!(
            decide(Outcome::Network("reset".into()), true),
            Decision::Retry {
                error: Some(Error::Network { .. }),
                ..
            }
        ));
        assert_eq!(
            decide(Outcome::EndOfBody, true),
            Decision::Retry {
                error: None,
                retry_after_ms: None
            }
        );
        assert!(matches!(
            decide(Outcome::IdleTimeout(5), true),
            Decision::Retry {
                error: Some(Error::Timeout { idle_ms: 5 }),
                ..
            }
        ));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(3_000));
        assert_eq!(parse_retry_after(" 0 "), Some(0));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
    }
}
