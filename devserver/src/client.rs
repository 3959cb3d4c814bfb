//! A minimal HTTP/1.1 client over a raw `TcpStream`, for the integration tests and the load
//! example (no TLS, no dependencies). It decodes `Transfer-Encoding: chunked` by hand and keeps
//! the chunk boundaries, so tests can check how the server framed the body.
//!
//! Kept by hand, not a library client, because the tests need what such a client hides:
//! - [`Streaming::next_chunk`] is one chunk exactly as the server framed it (the `chunk_bytes`
//!   fault test checks the pieces, the `abort` one that no last chunk came); hyper's client
//!   hands out body frames as socket reads return them, so one chunk may come as two frames
//!   and the framing cannot be told;
//! - requests go out byte for byte: header values that are not UTF-8 (the `Last-Event-ID`
//!   tests), a path with `..` (the static files test), which a URL-based client resolves
//!   before sending.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers with lower-case names, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// An open response whose body is read incrementally.
#[derive(Debug)]
pub struct Streaming {
    /// Status code.
    pub status: u16,
    /// Headers with lower-case names, in order.
    pub headers: Vec<(String, String)>,
    reader: BufReader<TcpStream>,
    chunked: bool,
    remaining: Option<u64>,
    done: bool,
}

impl Streaming {
    /// Sends a request (with `Host: <addr>` unless `headers` has a `Host`) and reads the status
    /// line and headers.
    pub async fn open(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Streaming> {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        Self::open_bytes(addr, method, path, &headers, body).await
    }

    /// Like [`Streaming::open`], with header values given as raw bytes (written as they are,
    /// e.g. not UTF-8).
    pub async fn open_bytes(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<&[u8]>,
    ) -> io::Result<Streaming> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut buf = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n").into_bytes();
        // `Host: <addr>` unless the caller gives its own.
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            buf.extend_from_slice(format!("Host: {addr}\r\n").as_bytes());
        }
        for (k, v) in headers {
            buf.extend_from_slice(k.as_bytes());
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(v);
            buf.extend_from_slice(b"\r\n");
        }
        if let Some(b) = body {
            buf.extend_from_slice(format!("Content-Length: {}\r\n", b.len()).as_bytes());
        }
        buf.extend_from_slice(b"\r\n");
        if let Some(b) = body {
            buf.extend_from_slice(b);
        }
        stream.write_all(&buf).await?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Err(bad("eof in headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let chunked = find_header(&headers, "transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let remaining = find_header(&headers, "content-length").and_then(|v| v.parse().ok());
        let no_body = method == "HEAD" || status == 204 || status == 304;
        Ok(Streaming {
            status,
            headers,
            reader,
            chunked,
            remaining: if no_body { Some(0) } else { remaining },
            done: false,
        })
    }

    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The next piece of body: one chunk of a chunked body, or what one read returned
    /// otherwise. `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        if self.chunked {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await? == 0 {
                self.done = true;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a chunked body",
                ));
            }
            let size_hex = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| bad(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // Trailer section: read up to the empty line.
                loop {
                    line.clear();
                    if self.reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                self.done = true;
                return Ok(None);
            }
            let mut data = vec![0; size];
            self.reader.read_exact(&mut data).await?;
            let mut crlf = [0u8; 2];
            self.reader.read_exact(&mut crlf).await?;
            return Ok(Some(data));
        }
        let mut data = vec![0; 16 * 1024];
        let want = match self.remaining {
            Some(0) => {
                self.done = true;
                return Ok(None);
            }
            Some(r) => usize::try_from(r).unwrap_or(usize::MAX).min(data.len()),
            None => data.len(),
        };
        let n = self.reader.read(&mut data[..want]).await?;
        if n == 0 {
            self.done = true;
            return Ok(None);
        }
        if let Some(r) = self.remaining.as_mut() {
            *r -= n as u64;
        }
        data.truncate(n);
        Ok(Some(data))
    }

    /// Reads until `pred(body so far)` holds, the body ends, or `timeout` passes; returns the
    /// body read so far (appended to `acc`).
    pub async fn read_until(
        &mut self,
        acc: &mut Vec<u8>,
        timeout: Duration,
        pred: impl Fn(&[u8]) -> bool,
    ) -> io::Result<bool> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !pred(acc) {
            match tokio::time::timeout_at(deadline, self.next_chunk()).await {
                Err(_) => return Ok(false),
                Ok(Ok(Some(c))) => acc.extend_from_slice(&c),
                Ok(Ok(None)) => return Ok(pred(acc)),
                Ok(Err(e)) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Reads the rest of the body (until its end or `timeout`).
    pub async fn read_to_end(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        let mut acc = Vec::new();
        self.read_until(&mut acc, timeout, |_| false).await?;
        Ok(acc)
    }

    /// Whether the body has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// Sends a request and reads the whole response (waiting at most 10 s).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> io::Result<Response> {
    let mut s = Streaming::open(addr, method, path, headers, body).await?;
    let body = s.read_to_end(Duration::from_secs(10)).await?;
    Ok(Response {
        status: s.status,
        headers: s.headers,
        body,
    })
}

/// Like [`request`], with header values given as raw bytes.
pub async fn request_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
    body: Option<&[u8]>,
) -> io::Result<Response> {
    let mut s = Streaming::open_bytes(addr, method, path, headers, body).await?;
    let body = s.read_to_end(Duration::from_secs(10)).await?;
    Ok(Response {
        status: s.status,
        headers: s.headers,
        body,
    })
}

/// One parsed SSE block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseBlock {
    /// The `id:` field, if any.
    pub id: Option<String>,
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n` (`None` without data lines).
    pub data: Option<String>,
    /// The `retry:` field, if any.
    pub retry: Option<String>,
    /// Comment lines (without the leading `:`), trimmed.
    pub comments: Vec<String>,
}

/// Splits complete `\n\n`-terminated blocks off the front of `buf` (LF-only, as this server
/// writes) and parses them. Incomplete trailing bytes stay in `buf`.
pub fn take_blocks(buf: &mut Vec<u8>) -> Vec<SseBlock> {
    let mut out = Vec::new();
    while let Some(pos) = buf.windows(2).position(|w| w == b"\n\n") {
        let block: Vec<u8> = buf.drain(..pos + 2).collect();
        let text = String::from_utf8_lossy(&block[..pos]);
        let mut b = SseBlock::default();
        for line in text.split('\n') {
            if let Some(c) = line.strip_prefix(':') {
                b.comments.push(c.trim().to_string());
                continue;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value).to_string();
            match name {
                "id" => b.id = Some(value),
                "event" => b.event = Some(value),
                "retry" => b.retry = Some(value),
                "data" => {
                    b.data = Some(match b.data.take() {
                        Some(d) => format!("{d}\n{value}"),
                        None => value,
                    })
                }
                _ => {}
            }
        }
        out.push(b);
    }
    out
}

/// Whether `s` is a lowercase hyphenated UUID v4 (the ids of `--ids uuid`, after `evt_`).
pub fn is_uuid_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        && parts[2].starts_with('4')
        && parts[3].starts_with(['8', '9', 'a', 'b'])
}
