//! One stream connection: history, then live events, heartbeats, faults, and the end.
//!
//! The history and the live events never overlap nor leave a gap: the store hands out the
//! broadcast receiver and the history under one lock, with a `watermark` (the last global
//! sequence number the history covers); live events at or below it are skipped. A receiver that
//! lags behind the broadcast re-reads what it missed from the store by sequence number.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::faults::FaultSpec;
use crate::sse::{self, Closed, FaultWriter};
use crate::state::StreamGuard;
use crate::store::{Opened, Scope, Store, StoredEvent};

/// Writes are coalesced up to this many bytes.
const COALESCE_BYTES: usize = 32 * 1024;

/// Event types a stream delivers (`None`: all).
#[derive(Debug, Clone, Default)]
pub struct TypeFilter(Option<HashSet<String>>);

impl TypeFilter {
    /// A filter from the values of `type` / `types[]` (each may be comma-separated).
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let set: HashSet<String> = values
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        TypeFilter((!set.is_empty()).then_some(set))
    }

    /// Whether an event of this type passes.
    pub fn allows(&self, kind: &str) -> bool {
        self.0.as_ref().is_none_or(|s| s.contains(kind))
    }
}

/// Everything a stream task needs.
#[derive(Debug)]
pub struct StreamTask {
    /// The store, for lag recovery.
    pub store: Arc<Store>,
    /// What the stream covers.
    pub scope: Scope,
    /// History, receiver and watermark.
    pub opened: Opened,
    /// Type filter.
    pub filter: TypeFilter,
    /// Heartbeat interval.
    pub keepalive: Duration,
    /// Faults of this connection.
    pub fault: Option<FaultSpec>,
    /// Changes when every stream must close.
    pub close_signal: watch::Receiver<u64>,
    /// Keeps the stream counted as open.
    pub guard: StreamGuard,
}

impl StreamTask {
    /// Runs the stream until the client goes away, a fault ends it, or it is closed.
    pub async fn run(self, mut writer: FaultWriter) {
        let StreamTask {
            store,
            scope,
            opened,
            filter,
            keepalive,
            fault,
            mut close_signal,
            guard: _guard,
        } = self;
        let Opened {
            mut rx,
            history,
            mut watermark,
        } = opened;
        close_signal.mark_unchanged();

        if let Some(ms) = fault.as_ref().and_then(|f| f.stall_ms) {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                _ = writer.closed() => return,
                _ = close_signal.changed() => return,
            }
        }
        if let Some(ms) = fault.as_ref().and_then(|f| f.retry_ms) {
            if writer.write(sse::retry(ms)).await.is_err() {
                return;
            }
        }
        if write_events(&mut writer, &history, &filter).await.is_err() {
            return;
        }
        drop(history);

        let mut heartbeat = interval_at(Instant::now() + keepalive, keepalive);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = close_signal.changed() => return,
                _ = writer.closed() => return,
                received = rx.recv() => {
                    let mut buf = BytesMut::new();
                    let mut lagged = false;
                    let mut next = received;
                    loop {
                        match next {
                            Ok(ev) => {
                                if ev.seq > watermark {
                                    watermark = ev.seq;
                                    if scope.contains(&ev) && filter.allows(&ev.kind) {
                                        buf.extend_from_slice(&ev.frame);
                                    }
                                }
                            }
                            Err(RecvError::Lagged(_)) => lagged = true,
                            Err(RecvError::Closed) => {
                                let _ = writer.write(buf.freeze()).await;
                                return;
                            }
                        }
                        if lagged || buf.len() >= COALESCE_BYTES {
                            break;
                        }
                        next = match rx.try_recv() {
                            Ok(ev) => Ok(ev),
                            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                            Err(TryRecvError::Closed) => Err(RecvError::Closed),
                            Err(TryRecvError::Empty) => break,
                        };
                    }
                    if !buf.is_empty() && writer.write(buf.freeze()).await.is_err() {
                        return;
                    }
                    if lagged {
                        // The broadcast dropped events for us: re-read them from the store.
                        let (missed, wm) = store.events_after(&scope, watermark);
                        watermark = wm;
                        if write_events(&mut writer, &missed, &filter).await.is_err() {
                            return;
                        }
                    }
                }
                _ = heartbeat.tick() => {
                    if writer.write(Bytes::from_static(sse::HEARTBEAT)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Writes events (filtered), coalesced into writes of about [`COALESCE_BYTES`].
async fn write_events(
    writer: &mut FaultWriter,
    events: &[Arc<StoredEvent>],
    filter: &TypeFilter,
) -> Result<(), Closed> {
    let mut buf = BytesMut::new();
    for ev in events.iter().filter(|e| filter.allows(&e.kind)) {
        buf.extend_from_slice(&ev.frame);
        if buf.len() >= COALESCE_BYTES {
            writer.write(buf.split().freeze()).await?;
        }
    }
    if !buf.is_empty() {
        writer.write(buf.freeze()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_unions_forms() {
        let f = TypeFilter::from_values(["a,b", "c", " ", ""]);
        assert!(f.allows("a") && f.allows("b") && f.allows("c"));
        assert!(!f.allows("d"));
        assert!(TypeFilter::from_values([""]).allows("anything"));
    }
}
