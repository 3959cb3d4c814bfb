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
    /// The request cannot succeed as it is (a redirect the client does not follow).
    Refused(Error),
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
        Outcome::Refused(error) => Decision::Stop(error),
        Outcome::IdleTimeout(idle_ms) => Decision::Retry {
            error: Some(Error::Timeout { idle_ms }),
            retry_after_ms: None,
        },
    }
}

/// Parses a `Retry-After` header into a delay: delay-seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`) taken against `now_ms` (the client's clock, milliseconds
/// since the Unix epoch; a date in the past is no delay). Anything else is ignored. The
/// lifecycle caps the result (`MAX_RETRY_AFTER_MS`).
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is a very long time.
        return Some(v.parse::<u64>().unwrap_or(u64::MAX).saturating_mul(1000));
    }
    let at = crate::events::Instant::parse_http_date(v)?;
    let at_ms = at.seconds as f64 * 1000.0;
    if !now_ms.is_finite() {
        return None;
    }
    Some((at_ms - now_ms).max(0.0).min(u64::MAX as f64) as u64)
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
        assert_eq!(parse_retry_after("3", 0.0), Some(3_000));
        assert_eq!(parse_retry_after(" 0 ", 0.0), Some(0));
        assert_eq!(
            parse_retry_after("99999999999999999999999", 0.0),
            Some(u64::MAX)
        );
        // 2015-10-21T07:28:00Z is 1445412480 s after the epoch.
        let now = 1_445_412_480_000.0;
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(30_000)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 PST", now),
            None
        );
        assert_eq!(parse_retry_after("-1", 0.0), None);
        assert_eq!(parse_retry_after("", 0.0), None);
    }
}
