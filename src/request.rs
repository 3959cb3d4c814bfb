//! URL and header building for the stream and list routes, and validation of what the
//! application passes in. Pure: no browser types.
//!
//! Ids are percent-encoded as path segments, so no id can change the path (`../x`, `a/b`,
//! `?q` stay inside their segment).

use crate::error::Error;

/// Which stream to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `GET {base}/sessions/{session}/threads/{thread}/stream`
    Thread {
        /// The session id (`sess_…`, `sesn_…`: any prefix is accepted).
        session_id: String,
        /// The thread id (`sthr_…`).
        thread_id: String,
    },
    /// `GET {base}/sessions/{session}/events/stream`
    Session {
        /// The session id.
        session_id: String,
    },
}

/// The longest id accepted; real ids are about 40 characters.
const MAX_ID_LEN: usize = 256;

/// Checks an id the application passed: non-empty, not too long, no whitespace or control
/// characters. Prefixes are not enforced, since providers differ (`sess_` and `sesn_`).
pub fn validate_id(field: &'static str, value: &str) -> Result<(), Error> {
    let problem = if value.is_empty() {
        Some("is empty; pass the id as the API returned it".to_owned())
    } else if value.len() > MAX_ID_LEN {
        Some(format!(
            "is {} bytes long, more than the {MAX_ID_LEN} an id can be",
            value.len()
        ))
    } else if value == "." || value == ".." {
        // Percent-encoding cannot help: URL parsers treat "%2e" as "." too, so the segment
        // would be resolved away and the request would go to another route.
        // Quoted by hand: `{:?}` would pull the Debug escaper into the wasm for two values.
        Some(format!(
            "is \"{value}\", a dot segment that would change the URL path"
        ))
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(
            "contains whitespace or a control character; check for a stray newline or space"
                .to_owned(),
        )
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::InvalidArgument { field, message }),
        None => Ok(()),
    }
}

/// Checks and normalises the base URL: an absolute `http(s)` URL, or a path starting with
/// `/` (same-origin in a browser); no query or fragment; the trailing slash removed.
pub fn normalize_base_url(base: &str) -> Result<String, Error> {
    let trimmed = base.trim();
    let invalid = |message: &str| Error::InvalidArgument {
        field: "baseUrl",
        message: message.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(invalid(
            "is empty; pass the API root, for example https://api.example.com/v1",
        ));
    }
    let lower = trimmed.to_ascii_lowercase();
    let absolute = lower.starts_with("http://") || lower.starts_with("https://");
    if !absolute && !trimmed.starts_with('/') {
        return Err(invalid(
            "must be an absolute http(s) URL or a path starting with /",
        ));
    }
    if trimmed.contains(['?', '#']) {
        return Err(invalid(
            "must not contain a query or fragment; pass filters as options",
        ));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contains whitespace or a control character"));
    }
    if absolute {
        // What `fetch` would refuse on every attempt is refused here, once.
        let rest = &trimmed[trimmed.find("//").map_or(0, |i| i + 2)..];
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        check_authority(authority).map_err(invalid)?;
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

/// Checks `host[:port]` of an absolute URL (user info is refused: credentials go in headers).
fn check_authority(authority: &str) -> Result<(), &'static str> {
    if authority.contains('@') {
        return Err("must not carry credentials (user:password@); pass them as headers or a token");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6
            .find(']')
            .ok_or("has an IPv6 host without its closing ]")?;
        let after = &v6[end + 1..];
        if !(after.is_empty() || after.starts_with(':')) {
            return Err("has characters after its IPv6 host");
        }
        (&v6[..end], after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host");
    }
    if host.contains(['[', ']']) {
        return Err("has a [ or ] outside an IPv6 host");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65_535);
        if !valid {
            return Err("has a port that is not a number from 0 to 65535");
        }
    }
    Ok(())
}

/// The most redirects one request follows.
pub const MAX_REDIRECTS: usize = 5;

/// The origin (`scheme://host[:port]`, lower-cased) of an absolute http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let scheme_end = lower.find("://")?;
    let scheme = &lower[..scheme_end];
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = &lower[scheme_end + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.is_empty() {
        return None;
    }
    // The default port is the same origin written differently.
    let authority = match (scheme, authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host,
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

/// Where a redirect from `from` to `location` leads, if the client may follow it: only within
/// the origin of `from` (a token and custom headers never cross an origin), at most
/// [`MAX_REDIRECTS`] times (`seen`: the URLs requested so far for this request), never in a
/// loop. The error names the other origin, never the rest of the URL (it may carry secrets).
pub fn follow_redirect(
    status: u16,
    from: &str,
    location: Option<&str>,
    seen: &[String],
) -> Result<String, Error> {
    let refuse = |to: Option<String>, reason: &'static str| Error::Redirect { status, to, reason };
    let location = location.map(str::trim).filter(|l| !l.is_empty());
    let Some(location) = location else {
        return Err(refuse(None, "without a Location header"));
    };
    let origin = origin_of(from).ok_or_else(|| refuse(None, "from a URL without an origin"))?;
    let target = if location.starts_with("//") {
        format!("{}:{location}", &origin[..origin.find(':').unwrap_or(0)])
    } else if location.contains("://") {
        location.to_owned()
    } else if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        // Relative to the directory of `from`.
        let path_end = from.find(['?', '#']).unwrap_or(from.len());
        let dir_end = from[..path_end].rfind('/').map_or(path_end, |i| i + 1);
        format!("{}{location}", &from[..dir_end])
    };
    match origin_of(&target) {
        Some(to) if to == origin => {}
        to => {
            return Err(refuse(
                to,
                "to another origin: not followed, so no token or header reaches it",
            ))
        }
    }
    if seen.contains(&target) {
        return Err(refuse(None, "in a loop"));
    }
    if seen.len() > MAX_REDIRECTS {
        return Err(refuse(None, "more than 5 times"));
    }
    Ok(target)
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters.
pub fn encode_segment(segment: &str) -> String {
    encode(segment, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

/// Percent-encodes a query component (name or value).
pub fn encode_query(value: &str) -> String {
    encode(value, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'*')
    })
}

fn encode(value: &str, keep: impl Fn(u8) -> bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

impl Target {
    /// The event types that end a stream of this target.
    pub fn terminal_types(&self) -> &'static [&'static str] {
        match self {
            Target::Thread { .. } => crate::events::THREAD_TERMINAL_TYPES,
            Target::Session { .. } => crate::events::SESSION_TERMINAL_TYPES,
        }
    }

    /// Validates the ids.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Target::Thread {
                session_id,
                thread_id,
            } => {
                validate_id("sessionId", session_id)?;
                validate_id("threadId", thread_id)
            }
            Target::Session { session_id } => validate_id("sessionId", session_id),
        }
    }

    /// The session id.
    pub fn session_id(&self) -> &str {
        match self {
            Target::Thread { session_id, .. } | Target::Session { session_id } => session_id,
        }
    }

    /// The thread id, for a thread stream.
    pub fn thread_id(&self) -> Option<&str> {
        match self {
            Target::Thread { thread_id, .. } => Some(thread_id),
            Target::Session { .. } => None,
        }
    }

    /// The stream URL under a normalised base URL, with the `type` filter (comma-separated,
    /// as the API reference documents it) when `types` is not empty.
    pub fn stream_url(&self, base: &str, types: &[String]) -> String {
        let mut url = match self {
            Target::Thread {
                session_id,
                thread_id,
            } => format!(
                "{base}/sessions/{}/threads/{}/stream",
                encode_segment(session_id),
                encode_segment(thread_id)
            ),
            Target::Session { session_id } => {
                format!(
                    "{base}/sessions/{}/events/stream",
                    encode_segment(session_id)
                )
            }
        };
        push_types(&mut url, types);
        url
    }

    /// The REST history route: `{base}/sessions/{sid}/threads/{tid}/events` (thread) or
    /// `{base}/sessions/{sid}/events` (session), with paging and the type filter.
    pub fn history_url(
        &self,
        base: &str,
        types: &[String],
        limit: Option<u32>,
        page: Option<&str>,
    ) -> String {
        let mut url = match self {
            Target::Thread {
                session_id,
                thread_id,
            } => format!(
                "{base}/sessions/{}/threads/{}/events",
                encode_segment(session_id),
                encode_segment(thread_id)
            ),
            Target::Session { session_id } => {
                format!("{base}/sessions/{}/events", encode_segment(session_id))
            }
        };
        push_types(&mut url, types);
        push_paging(&mut url, limit, page);
        url
    }
}

/// `{base}/sessions/{sid}/threads` with paging and a status filter (`statuses[]=`).
pub fn threads_url(
    base: &str,
    session_id: &str,
    statuses: &[String],
    limit: Option<u32>,
    page: Option<&str>,
) -> String {
    let mut url = format!("{base}/sessions/{}/threads", encode_segment(session_id));
    for s in statuses {
        push_param(&mut url, "statuses[]", s);
    }
    push_paging(&mut url, limit, page);
    url
}

fn push_types(url: &mut String, types: &[String]) {
    if !types.is_empty() {
        let joined = types
            .iter()
            .map(|t| encode_query(t))
            .collect::<Vec<_>>()
            .join(",");
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("type=");
        url.push_str(&joined);
    }
}

fn push_paging(url: &mut String, limit: Option<u32>, page: Option<&str>) {
    if let Some(limit) = limit {
        push_param(url, "limit", &limit.to_string());
    }
    if let Some(page) = page {
        push_param(url, "page", page);
    }
}

fn push_param(url: &mut String, name: &str, value: &str) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&encode_query(name));
    url.push('=');
    url.push_str(&encode_query(value));
}

/// Checks the event type names of a filter: non-empty, no commas (they separate names).
pub fn validate_types(types: &[String]) -> Result<(), Error> {
    for t in types {
        if t.is_empty() || t.contains(',') || t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::InvalidArgument {
                field: "types",
                message: format!(
                    "\"{t}\" is not an event type name; pass names such as \"agent.message\""
                ),
            });
        }
    }
    Ok(())
}

/// Whether a `Content-Type` is `text/event-stream`, parameters (such as `charset`) allowed.
pub fn is_event_stream(content_type: &str) -> bool {
    media_type(content_type).eq_ignore_ascii_case("text/event-stream")
}

/// Whether a `Content-Type` is JSON (`application/json` or `application/*+json`).
pub fn is_json(content_type: &str) -> bool {
    let m = media_type(content_type).to_ascii_lowercase();
    m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
}

fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Header names the library sets itself; extra headers may not override them.
pub const RESERVED_HEADERS: &[&str] = &["accept", "last-event-id"];

/// Checks an extra header the application passed.
pub fn validate_header(name: &str, value: &str) -> Result<(), Error> {
    let token_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token_ok {
        return Err(Error::InvalidArgument {
            field: "headers",
            message: format!("\"{name}\" is not a valid header name"),
        });
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(Error::InvalidArgument {
            field: "headers",
            message: format!(
                "\"{name}\" is set by the library; use the lastEventId option for resume points"
            ),
        });
    }
    if let Err(problem) = validate_header_value(value) {
        return Err(Error::InvalidArgument {
            field: "headers",
            message: format!("the value of \"{name}\" {problem} (the value is not shown)"),
        });
    }
    Ok(())
}

/// Whether a header can carry `value` (a token, a custom header's value): `fetch` refuses a
/// line break or NUL, and any character above U+00FF (header values are byte strings). The
/// problem is described without quoting the value, which may be a secret.
pub fn validate_header_value(value: &str) -> Result<(), &'static str> {
    if value.contains(['\r', '\n', '\0']) {
        return Err("contains a line break or NUL");
    }
    if value.chars().any(|c| u32::from(c) > 0xFF) {
        return Err("contains a character a header cannot carry (above U+00FF)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_followed_within_the_origin_only() {
        let from = "http://127.0.0.1:8080/v1/sessions/s/threads/t/stream";
        let seen = vec![from.to_owned()];
        assert_eq!(
            follow_redirect(307, from, Some("/v2/stream"), &seen).unwrap(),
            "http://127.0.0.1:8080/v2/stream"
        );
        assert_eq!(
            follow_redirect(302, from, Some("other?x=1"), &seen).unwrap(),
            "http://127.0.0.1:8080/v1/sessions/s/threads/t/other?x=1"
        );
        assert_eq!(
            follow_redirect(301, from, Some("HTTP://127.0.0.1:8080/a"), &seen).unwrap(),
            "HTTP://127.0.0.1:8080/a"
        );
        for (location, to) in [
            (
                "http://127.0.0.1:9090/v1/x?token=secret",
                Some("http://127.0.0.1:9090"),
            ),
            ("//evil.example/x", Some("http://evil.example")),
            ("https://127.0.0.1:8080/v1", Some("https://127.0.0.1:8080")),
            ("ftp://x/y", None),
        ] {
            let e = follow_redirect(307, from, Some(location), &seen).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Redirect, "{location}");
            let text = e.to_string();
            assert!(
                !text.contains("secret") && !text.contains("/v1/x"),
                "{text}"
            );
            if let Some(to) = to {
                assert!(text.contains(to), "{text}");
            }
        }
        for location in [None, Some(""), Some("  ")] {
            assert!(follow_redirect(302, from, location, &seen).is_err());
        }
        let looped = vec![from.to_owned(), "http://127.0.0.1:8080/a".to_owned()];
        assert!(follow_redirect(302, "http://127.0.0.1:8080/a", Some(from), &looped).is_err());
        let many: Vec<String> = (0..=MAX_REDIRECTS)
            .map(|i| format!("http://h/{i}"))
            .collect();
        assert!(follow_redirect(302, "http://h/5", Some("/next"), &many).is_err());
        assert_eq!(origin_of("http://H:80/x").as_deref(), Some("http://h"));
        assert_eq!(origin_of("https://h:443").as_deref(), Some("https://h"));
    }

    #[test]
    fn base_urls_fetch_would_refuse_are_refused_once() {
        for bad in [
            "http://host:99999/v1",
            "http://host:-1",
            "http://host:8a",
            "http://[::1/v1",
            "http://[::1]x/v1",
            "http://user:secret@host/v1",
            "http://:80/v1",
            "https:///v1",
        ] {
            let e = normalize_base_url(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
            assert!(!e.to_string().contains("secret"));
        }
        for good in [
            "http://127.0.0.1:8080/v1",
            "https://[::1]:443/api",
            "http://host:65535",
            "https://api.example.com",
        ] {
            assert!(normalize_base_url(good).is_ok(), "{good}");
        }
    }

    fn thread(s: &str, t: &str) -> Target {
        Target::Thread {
            session_id: s.into(),
            thread_id: t.into(),
        }
    }

    #[test]
    fn stream_urls() {
        let base = normalize_base_url("https://api.example.com/api/v1/cloud/").unwrap();
        assert_eq!(
            thread("sess_1", "sthr_2").stream_url(&base, &[]),
            "https://api.example.com/api/v1/cloud/sessions/sess_1/threads/sthr_2/stream"
        );
        assert_eq!(
            thread("sess_1", "sthr_2").stream_url(&base, &["a.b".into(), "c_d".into()]),
            "https://api.example.com/api/v1/cloud/sessions/sess_1/threads/sthr_2/stream?type=a.b,c_d"
        );
        assert_eq!(
            Target::Session {
                session_id: "sesn_9".into()
            }
            .stream_url("/v1", &[]),
            "/v1/sessions/sesn_9/events/stream"
        );
    }

    #[test]
    fn ids_cannot_change_the_path() {
        let url = thread("../admin", "a/b?c#d").stream_url("http://h/v1", &[]);
        assert_eq!(
            url,
            "http://h/v1/sessions/..%2Fadmin/threads/a%2Fb%3Fc%23d/stream"
        );
        let url = thread("sess_日本", "sthr_%").stream_url("http://h/v1", &[]);
        assert_eq!(
            url,
            "http://h/v1/sessions/sess_%E6%97%A5%E6%9C%AC/threads/sthr_%25/stream"
        );
    }

    #[test]
    fn list_urls() {
        assert_eq!(
            threads_url(
                "http://h/v1",
                "sess_1",
                &["running".into()],
                Some(2),
                Some("p 2")
            ),
            "http://h/v1/sessions/sess_1/threads?statuses%5B%5D=running&limit=2&page=p%202"
        );
        assert_eq!(
            thread("s", "t").history_url("http://h/v1", &["x".into()], Some(10), None),
            "http://h/v1/sessions/s/threads/t/events?type=x&limit=10"
        );
    }

    #[test]
    fn base_url_rules() {
        assert_eq!(
            normalize_base_url(" http://h:1/v1// ").unwrap(),
            "http://h:1/v1"
        );
        assert_eq!(normalize_base_url("/v1/").unwrap(), "/v1");
        for bad in [
            "",
            "api.example.com/v1",
            "ftp://h",
            "http://h/v1?x=1",
            "http://h/v 1",
        ] {
            let err = normalize_base_url(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn id_rules() {
        assert!(validate_id("sessionId", "sess_019f").is_ok());
        assert!(validate_id("sessionId", "sesn_019f").is_ok());
        for bad in ["", "sess 1", "sess_1\n", &"x".repeat(300), ".", ".."] {
            let err = validate_id("sessionId", bad).unwrap_err();
            assert!(err.to_string().contains("sessionId"), "{err}");
        }
    }

    #[test]
    fn content_types() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(!is_event_stream("text/html"));
        assert!(!is_event_stream(""));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/json"));
    }

    #[test]
    fn header_rules() {
        assert!(validate_header("x-api-key", "k").is_ok());
        assert!(validate_header("anthropic-beta", "a,b").is_ok());
        assert!(validate_header("Last-Event-ID", "1").is_err());
        assert!(validate_header("bad name", "1").is_err());
        assert!(validate_header("x-a", "1\r\nInjected: yes").is_err());
        assert!(validate_types(&["a,b".into()]).is_err());
        assert!(validate_types(&["agent.message".into()]).is_ok());
    }
}
