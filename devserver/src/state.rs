//! The state shared by every handler: configuration, store, faults, open streams, request log.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::watch;

use crate::config::Config;
use crate::faults::{Faults, ListFaultSpec};
use crate::store::Store;

/// Shared application state (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration the server was started with.
    pub config: Arc<Config>,
    /// Sessions, threads, events.
    pub store: Arc<Store>,
    /// Armed faults of the stream routes.
    pub faults: Arc<Faults>,
    /// Armed faults of the list routes.
    pub list_faults: Arc<Faults<ListFaultSpec>>,
    /// Open streams, and the signal that closes them.
    pub streams: Arc<Streams>,
    /// Requests received on the API routes.
    pub requests: Arc<RequestLog>,
    /// Settings the control API can change at run time (besides the store's id mode).
    pub settings: Arc<Settings>,
    /// The address the server listens on (`None` when the router is served by other code); its
    /// port tells which `http://localhost:P`-style origins are the server's own.
    pub local_addr: Option<SocketAddr>,
}

/// Run-time settings, initialised from the [`Config`] and changed by `/_control/config`.
#[derive(Debug, Default)]
pub struct Settings {
    ignore_last_event_id: AtomicBool,
}

impl Settings {
    /// Settings with the start-up values of `config`.
    pub fn from_config(config: &Config) -> Self {
        Settings {
            ignore_last_event_id: AtomicBool::new(config.ignore_last_event_id),
        }
    }

    /// Whether stream connections ignore `Last-Event-ID` (and replay the whole history).
    pub fn ignore_last_event_id(&self) -> bool {
        self.ignore_last_event_id.load(Ordering::SeqCst)
    }

    /// Sets whether stream connections ignore `Last-Event-ID`.
    pub fn set_ignore_last_event_id(&self, on: bool) {
        self.ignore_last_event_id.store(on, Ordering::SeqCst);
    }
}

/// Tracks open stream connections and can close them all.
#[derive(Debug)]
pub struct Streams {
    open: AtomicUsize,
    generation: watch::Sender<u64>,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            open: AtomicUsize::new(0),
            generation: watch::Sender::new(0),
        }
    }
}

impl Streams {
    /// Registers a stream; it counts as open until the guard is dropped, and must end when the
    /// receiver changes.
    pub fn register(self: &Arc<Self>) -> (StreamGuard, watch::Receiver<u64>) {
        self.open.fetch_add(1, Ordering::SeqCst);
        (
            StreamGuard {
                streams: self.clone(),
            },
            self.generation.subscribe(),
        )
    }

    /// Number of open streams.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Tells every open stream to end now; returns how many were open.
    pub fn close_all(&self) -> usize {
        let n = self.open();
        self.generation.send_modify(|g| *g += 1);
        n
    }
}

/// Keeps a stream counted as open.
#[derive(Debug)]
pub struct StreamGuard {
    streams: Arc<Streams>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.streams.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Maximum number of requests kept by the log (the oldest are dropped first).
pub const REQUEST_LOG_LIMIT: usize = 10_000;

/// The requests received on the API routes, oldest first.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<Value>>,
}

impl RequestLog {
    /// Records one request (`{"method","path","query","headers","at"}`).
    pub fn push(&self, entry: Value) {
        let mut e = self.lock();
        if e.len() >= REQUEST_LOG_LIMIT {
            e.pop_front();
        }
        e.push_back(entry);
    }

    /// Every recorded request, oldest first.
    pub fn all(&self) -> Vec<Value> {
        self.lock().iter().cloned().collect()
    }

    /// Forgets every request.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Value>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
