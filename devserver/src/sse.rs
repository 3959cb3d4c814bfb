//! SSE encoding (events, comments, `retry:`) and the body that carries a stream to hyper,
//! with the byte-level faults (`close_after_bytes`, `chunk_bytes`, `write_delay_ms`) applied
//! by [`FaultWriter`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc;

use crate::faults::FaultSpec;

/// The keep-alive comment, a complete SSE block.
pub const HEARTBEAT: &[u8] = b": heartbeat\n\n";

/// Encodes one event: `id: <id>\nevent: <type>\ndata: <data>\n\n`.
///
/// A `data` containing line breaks is written as several `data:` lines, which a conforming
/// parser joins back with `\n`.
pub fn event_frame(id: &str, kind: &str, data: &str) -> Bytes {
    let mut out = String::with_capacity(id.len() + kind.len() + data.len() + 24);
    out.push_str("id: ");
    out.push_str(id);
    out.push_str("\nevent: ");
    out.push_str(kind);
    out.push('\n');
    let normalized = data.replace("\r\n", "\n").replace('\r', "\n");
    for line in normalized.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// A comment block, `: <text>\n\n`.
pub fn comment(text: &str) -> Bytes {
    Bytes::from(format!(": {text}\n\n"))
}

/// The reconnection-time field, `retry: <ms>\n\n`.
pub fn retry(ms: u64) -> Bytes {
    Bytes::from(format!("retry: {ms}\n\n"))
}

/// Delay between the last byte and the abort of a connection cut with `abort: true`.
const ABORT_GRACE: Duration = Duration::from_millis(50);

/// One item of the channel between a stream task and hyper.
pub type Chunk = Result<Bytes, io::Error>;

/// A response body fed by an mpsc channel: each received chunk is one body frame.
#[derive(Debug)]
pub struct ChannelBody {
    rx: mpsc::Receiver<Chunk>,
}

impl ChannelBody {
    /// A body and the sender that feeds it. `capacity` bounds the buffered chunks, so a slow
    /// reader pushes back on the stream task.
    pub fn channel(capacity: usize) -> (mpsc::Sender<Chunk>, ChannelBody) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, ChannelBody { rx })
    }
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|chunk| chunk.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The stream is over: the client went away, or a fault ended the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Writes body bytes, applying the byte-level faults of a connection.
#[derive(Debug)]
pub struct FaultWriter {
    tx: mpsc::Sender<Chunk>,
    remaining: Option<u64>,
    chunk: Option<usize>,
    delay: Option<Duration>,
    abort: bool,
    done: bool,
}

impl FaultWriter {
    /// A writer with the faults of `spec` (none when `None`).
    pub fn new(tx: mpsc::Sender<Chunk>, spec: Option<&FaultSpec>) -> Self {
        let mut w = FaultWriter {
            tx,
            remaining: spec.and_then(|s| s.close_after_bytes),
            chunk: spec.and_then(|s| s.chunk_bytes).filter(|c| *c > 0),
            delay: spec
                .and_then(|s| s.write_delay_ms)
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis),
            abort: spec.and_then(|s| s.abort).unwrap_or(false),
            done: false,
        };
        if w.remaining == Some(0) {
            w.finish();
        }
        w
    }

    /// Resolves when the client has gone away (hyper dropped the body).
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Whether the body has ended (limit reached or client gone).
    pub fn is_done(&self) -> bool {
        self.done || self.tx.is_closed()
    }

    /// Writes `bytes`: cut at the byte limit, split into chunks, each after the write delay.
    pub async fn write(&mut self, mut bytes: Bytes) -> Result<(), Closed> {
        if self.done {
            return Err(Closed);
        }
        let mut limit_hit = false;
        if let Some(rem) = self.remaining {
            if bytes.len() as u64 >= rem {
                // Cut exactly at the limit, wherever that is (mid-line, mid-UTF-8).
                bytes.truncate(usize::try_from(rem).unwrap_or(usize::MAX));
                limit_hit = true;
            }
            self.remaining = Some(rem - bytes.len() as u64);
        }
        while !bytes.is_empty() {
            let n = self.chunk.unwrap_or(bytes.len()).min(bytes.len());
            let piece = bytes.split_to(n);
            if let Some(d) = self.delay {
                tokio::time::sleep(d).await;
            }
            if self.tx.send(Ok(piece)).await.is_err() {
                self.done = true;
                return Err(Closed);
            }
        }
        if limit_hit {
            self.finish();
            return Err(Closed);
        }
        Ok(())
    }

    fn finish(&mut self) {
        self.done = true;
        if self.abort {
            // An error frame makes hyper drop the connection without the terminating chunk.
            // Hyper discards unflushed data when it sees the error, so send it a little later,
            // after the bytes before the cut have gone out.
            let tx = self.tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(ABORT_GRACE).await;
                let _ = tx
                    .send(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "fault: connection aborted",
                    )))
                    .await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_events() {
        assert_eq!(
            &event_frame("evt_1", "agent.message", "{\"a\":1}")[..],
            b"id: evt_1\nevent: agent.message\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            &event_frame("e", "t", "a\nb")[..],
            b"id: e\nevent: t\ndata: a\ndata: b\n\n"
        );
        assert_eq!(&comment("heartbeat")[..], HEARTBEAT);
        assert_eq!(&retry(1500)[..], b"retry: 1500\n\n");
    }

    #[tokio::test]
    async fn writer_cuts_and_chunks() {
        let (tx, mut body) = ChannelBody::channel(64);
        let spec = FaultSpec {
            count: 1,
            close_after_bytes: Some(7),
            chunk_bytes: Some(3),
            ..FaultSpec::default()
        };
        let mut w = FaultWriter::new(tx, Some(&spec));
        assert_eq!(w.write(Bytes::from_static(b"abcd")).await, Ok(()));
        assert_eq!(w.write(Bytes::from_static(b"efghij")).await, Err(Closed));
        assert_eq!(w.write(Bytes::from_static(b"k")).await, Err(Closed));
        drop(w);
        let mut got = Vec::new();
        while let Some(Ok(c)) = body.rx.recv().await {
            got.push(c);
        }
        assert_eq!(got, vec![&b"abc"[..], b"d", b"efg"]);
    }
}
