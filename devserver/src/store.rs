//! Sessions, threads and events in memory, the global sequence, and the live broadcast.
//!
//! Invariants:
//! - every event gets the next global sequence number `seq`; streams, lists and resume order
//!   events by `seq` (creation order), never by id;
//! - an event's id is `evt_` + `seq` as 32 zero-padded hex digits ([`IdMode::Seq`], the
//!   default: ordering by id is then ordering by creation) or `evt_` + a random UUID v4
//!   ([`IdMode::Uuid`]: ids do not sort); either way `by_id` maps every id to its `seq`;
//! - an event is appended and broadcast under the same lock, so the broadcast carries events in
//!   `seq` order and a receiver subscribed under that lock sees every event appended after its
//!   snapshot;
//! - events are never removed except by [`Store::reset`], so a receiver that lagged behind the
//!   broadcast can re-read what it missed by `seq` ([`Store::events_after`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::config::IdMode;
use crate::errors::ApiError;
use crate::scenario::Rng;
use crate::sse;
use crate::time;

/// Default capacity of the live broadcast channel.
pub const DEFAULT_BROADCAST_CAPACITY: usize = 16_384;

/// One stored event, shared by every stream that delivers it.
#[derive(Debug)]
pub struct StoredEvent {
    /// Global sequence number (1-based, never reused).
    pub seq: u64,
    /// The event id, `evt_` + hex digits or `evt_` + a UUID (see [`IdMode`]).
    pub id: String,
    /// The event type (SSE `event:` field).
    pub kind: String,
    /// Owning session.
    pub session_id: String,
    /// Owning thread.
    pub thread_id: String,
    /// The event as compact JSON (for the REST listing and the control API).
    pub json: String,
    /// The complete SSE frame as written on the wire.
    pub frame: Bytes,
}

/// What a stream or listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One thread of a session.
    Thread {
        /// Session id.
        session_id: String,
        /// Thread id.
        thread_id: String,
    },
    /// Every thread of a session.
    Session {
        /// Session id.
        session_id: String,
    },
}

impl Scope {
    /// Whether an event belongs to this scope.
    pub fn contains(&self, ev: &StoredEvent) -> bool {
        match self {
            Scope::Thread {
                session_id,
                thread_id,
            } => ev.thread_id == *thread_id && ev.session_id == *session_id,
            Scope::Session { session_id } => ev.session_id == *session_id,
        }
    }
}

/// Where a new stream starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// The complete history of the scope, then live.
    Replay,
    /// Live events only.
    Tail,
    /// Everything strictly after this event id (which must belong to the scope), then live.
    After(String),
}

/// A stream's starting point, taken atomically with its subscription.
#[derive(Debug)]
pub struct Opened {
    /// Live events; anything with `seq <= watermark` must be skipped.
    pub rx: broadcast::Receiver<Arc<StoredEvent>>,
    /// The history to send first, oldest first.
    pub history: Vec<Arc<StoredEvent>>,
    /// The last global `seq` covered by `history` (or by the tail point).
    pub watermark: u64,
}

/// A thread as listed by the API.
#[derive(Debug, Clone)]
pub struct Thread {
    /// `sthr_...`
    pub id: String,
    /// Owning session.
    pub session_id: String,
    /// Parent thread (`None` for the coordinator).
    pub parent_thread_id: Option<String>,
    /// `agent_...`
    pub agent_id: String,
    /// Agent display name.
    pub agent_name: String,
    /// Agent version.
    pub agent_version: u64,
    /// `coordinator` or `child`.
    pub role: String,
    /// `running`, `idle`, `terminated`, ...
    pub status: String,
    /// `null` or a tagged object.
    pub stop_reason: Value,
    /// Creation time.
    pub created_at: String,
    /// Last status change.
    pub updated_at: String,
    /// Sequence numbers of this thread's events, in order.
    events: Vec<u64>,
}

impl Thread {
    /// The API's thread object.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "type": "session_thread",
            "session_id": self.session_id,
            "parent_thread_id": self.parent_thread_id,
            "agent": { "id": self.agent_id, "name": self.agent_name, "version": self.agent_version },
            "agent_name": self.agent_name,
            "role": self.role,
            "status": self.status,
            "stop_reason": self.stop_reason,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

#[derive(Debug)]
struct Session {
    created_at: String,
    threads: Vec<Thread>,
    events: Vec<u64>,
}

impl Session {
    fn thread(&self, tid: &str) -> Option<&Thread> {
        self.threads.iter().find(|t| t.id == tid)
    }
    fn thread_mut(&mut self, tid: &str) -> Option<&mut Thread> {
        self.threads.iter_mut().find(|t| t.id == tid)
    }
}

/// Parameters of a new thread.
#[derive(Debug, Clone, Default)]
pub struct NewThread {
    /// Agent display name.
    pub agent_name: String,
    /// Parent thread; `None` makes a coordinator.
    pub parent_thread_id: Option<String>,
    /// Explicit id (otherwise `sthr_` + hex).
    pub thread_id: Option<String>,
    /// Explicit role (otherwise `coordinator` without parent, `child` with one).
    pub role: Option<String>,
    /// Explicit initial status (default `idle`).
    pub status: Option<String>,
    /// `created_by_tool_use_id` of the `session.thread_created` event.
    pub created_by_tool_use_id: Option<String>,
}

/// Content of a new event.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    /// The event body; `type` is required, `id`/`session_id`/`session_thread_id` are assigned.
    pub body: Map<String, Value>,
    /// Written verbatim as the SSE `data` (split into `data:` lines at `\n`) instead of the JSON.
    pub raw_data: Option<String>,
    /// Written verbatim as the whole SSE frame (no `id:`/`event:` lines added).
    pub raw_frame: Option<String>,
}

impl NewEvent {
    /// An event from a JSON value (must be an object); `_raw_data` / `_raw_frame` are extracted.
    pub fn from_value(v: Value) -> Result<Self, ApiError> {
        let Value::Object(mut body) = v else {
            return Err(ApiError::invalid("An event must be a JSON object."));
        };
        let raw_data = take_opt_string(&mut body, "_raw_data")?;
        let raw_frame = take_opt_string(&mut body, "_raw_frame")?;
        Ok(NewEvent {
            body,
            raw_data,
            raw_frame,
        })
    }
}

fn take_opt_string(body: &mut Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(format!("'{key}' must be a string."))),
    }
}

#[derive(Debug)]
struct Inner {
    sessions: HashMap<String, Session>,
    session_order: Vec<String>,
    /// Events with `seq` in `base..base + events.len()`.
    events: Vec<Arc<StoredEvent>>,
    base: u64,
    by_id: HashMap<String, u64>,
    next_seq: u64,
    next_id: u64,
    agents: HashMap<String, String>,
    /// How new event ids are made.
    ids: IdMode,
    /// Draws the random event ids of [`IdMode::Uuid`].
    rng: Rng,
}

/// The in-memory store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<StoredEvent>>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_BROADCAST_CAPACITY)
    }
}

impl Store {
    /// An empty store whose broadcast keeps `capacity` events for slow receivers; sequential
    /// event ids, random ids (once switched on) drawn from seed 1.
    pub fn new(capacity: usize) -> Self {
        Self::with_ids(capacity, IdMode::Seq, 1)
    }

    /// An empty store making event ids the `ids` way; random ids are drawn from a generator
    /// seeded with `seed` (the same seed gives the same ids).
    pub fn with_ids(capacity: usize, ids: IdMode, seed: u64) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Store {
            inner: Mutex::new(Inner {
                sessions: HashMap::new(),
                session_order: Vec::new(),
                events: Vec::new(),
                base: 1,
                by_id: HashMap::new(),
                next_seq: 1,
                next_id: 1,
                agents: HashMap::new(),
                ids,
                // Salted, so the ids are not the scenario's draws of the same seed.
                rng: Rng::new(seed ^ 0x0001_D50F_E7E7_5EED),
            }),
            tx,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every mutation is a push), so
        // poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How new event ids are made.
    pub fn ids(&self) -> IdMode {
        self.lock().ids
    }

    /// Makes events created from now on get ids the `ids` way (existing ids stay).
    pub fn set_ids(&self, ids: IdMode) {
        self.lock().ids = ids;
    }

    /// Creates a session (idempotent for an existing id) and returns its id.
    pub fn create_session(&self, id: Option<String>) -> String {
        let mut inner = self.lock();
        let id = id.unwrap_or_else(|| {
            let n = inner.fresh();
            format!("sess_{n:032x}")
        });
        if !inner.sessions.contains_key(&id) {
            inner.sessions.insert(
                id.clone(),
                Session {
                    created_at: time::now(),
                    threads: Vec::new(),
                    events: Vec::new(),
                },
            );
            inner.session_order.push(id.clone());
        }
        id
    }

    /// Whether a session exists.
    pub fn has_session(&self, sid: &str) -> bool {
        self.lock().sessions.contains_key(sid)
    }

    /// Creates a thread; a thread with a parent also gets its `session.thread_created` event.
    pub fn create_thread(&self, sid: &str, new: NewThread) -> Result<Thread, ApiError> {
        let mut inner = self.lock();
        let tid = match new.thread_id {
            Some(t) => t,
            None => {
                let n = inner.fresh();
                format!("sthr_{n:032x}")
            }
        };
        let agent_id = match inner.agents.get(&new.agent_name) {
            Some(a) => a.clone(),
            None => {
                let n = inner.fresh();
                let a = format!("agent_{n:032x}");
                inner.agents.insert(new.agent_name.clone(), a.clone());
                a
            }
        };
        let tool_use = new.created_by_tool_use_id.unwrap_or_else(|| {
            let n = inner.fresh();
            format!("toolu_{n:024x}")
        });
        let session = inner
            .sessions
            .get_mut(sid)
            .ok_or_else(|| ApiError::session_not_found(sid))?;
        if session.thread(&tid).is_some() {
            return Err(ApiError::conflict(format!(
                "Session thread '{tid}' already exists."
            )));
        }
        if let Some(p) = &new.parent_thread_id {
            if session.thread(p).is_none() {
                return Err(ApiError::invalid(format!(
                    "Parent thread '{p}' was not found in session '{sid}'."
                )));
            }
        }
        let role = new.role.unwrap_or_else(|| {
            if new.parent_thread_id.is_some() {
                "child"
            } else {
                "coordinator"
            }
            .to_string()
        });
        let now = time::now();
        let thread = Thread {
            id: tid.clone(),
            session_id: sid.to_string(),
            parent_thread_id: new.parent_thread_id.clone(),
            agent_id: agent_id.clone(),
            agent_name: new.agent_name.clone(),
            agent_version: 1,
            role: role.clone(),
            status: new.status.unwrap_or_else(|| "idle".into()),
            stop_reason: Value::Null,
            created_at: now.clone(),
            updated_at: now,
            events: Vec::new(),
        };
        session.threads.push(thread);
        if let Some(parent) = new.parent_thread_id {
            let mut body = Map::new();
            body.insert("type".into(), "session.thread_created".into());
            body.insert("parent_thread_id".into(), parent.into());
            body.insert("agent_id".into(), agent_id.into());
            body.insert("agent_version".into(), 1.into());
            body.insert("agent_name".into(), new.agent_name.into());
            body.insert("role".into(), role.into());
            body.insert("created_by_tool_use_id".into(), tool_use.into());
            let ev = NewEvent {
                body,
                ..NewEvent::default()
            };
            self.append_locked(&mut inner, sid, &tid, ev)?;
        }
        let session = inner
            .sessions
            .get(sid)
            .ok_or_else(|| ApiError::session_not_found(sid))?;
        session
            .thread(&tid)
            .cloned()
            .ok_or_else(|| ApiError::thread_not_found(&tid))
    }

    /// Appends one event to a thread and broadcasts it.
    pub fn append(&self, sid: &str, tid: &str, ev: NewEvent) -> Result<Arc<StoredEvent>, ApiError> {
        let mut inner = self.lock();
        self.append_locked(&mut inner, sid, tid, ev)
    }

    /// Appends many events to a thread atomically (all or none are validated first).
    pub fn append_many(
        &self,
        sid: &str,
        tid: &str,
        evs: Vec<NewEvent>,
    ) -> Result<Vec<Arc<StoredEvent>>, ApiError> {
        let mut inner = self.lock();
        inner.check_thread(sid, tid)?;
        for ev in &evs {
            event_type(&ev.body)?;
        }
        evs.into_iter()
            .map(|ev| self.append_locked(&mut inner, sid, tid, ev))
            .collect()
    }

    fn append_locked(
        &self,
        inner: &mut Inner,
        sid: &str,
        tid: &str,
        ev: NewEvent,
    ) -> Result<Arc<StoredEvent>, ApiError> {
        inner.check_thread(sid, tid)?;
        let kind = event_type(&ev.body)?.to_string();
        let mut body = ev.body;
        let seq = inner.next_seq;
        let id = inner.event_id(seq);
        let now = time::now();

        // Status events carry `status` (derived from the type when absent) and update the thread.
        let status_update = kind.strip_prefix("session.thread_status_").map(|suffix| {
            let derived = match suffix {
                "rescheduled" => "rescheduling",
                other => other,
            };
            let status = match body.get("status") {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    body.insert("status".into(), derived.into());
                    derived.to_string()
                }
            };
            let stop = body.get("stop_reason").cloned().unwrap_or(Value::Null);
            (status, stop)
        });

        let schema = body
            .remove("schema_version")
            .unwrap_or_else(|| "1.0".into());
        let created_at = body
            .remove("created_at")
            .unwrap_or_else(|| now.clone().into());
        let processed_at = body
            .remove("processed_at")
            .unwrap_or_else(|| now.clone().into());
        for k in ["id", "type", "session_id", "session_thread_id"] {
            body.remove(k);
        }
        // Field order: envelope first, then the body's fields, then the timestamps.
        let mut json = String::with_capacity(256);
        json.push('{');
        push_field(&mut json, "id", &Value::String(id.clone()));
        push_field(&mut json, "type", &Value::String(kind.clone()));
        push_field(&mut json, "schema_version", &schema);
        push_field(&mut json, "session_id", &Value::String(sid.to_string()));
        push_field(
            &mut json,
            "session_thread_id",
            &Value::String(tid.to_string()),
        );
        for (k, v) in &body {
            push_field(&mut json, k, v);
        }
        push_field(&mut json, "created_at", &created_at);
        push_field(&mut json, "processed_at", &processed_at);
        json.push('}');

        let frame = match (&ev.raw_frame, &ev.raw_data) {
            (Some(raw), _) => Bytes::from(raw.clone()),
            (None, Some(raw)) => sse::event_frame(&id, &kind, raw),
            (None, None) => sse::event_frame(&id, &kind, &json),
        };
        let stored = Arc::new(StoredEvent {
            seq,
            id: id.clone(),
            kind,
            session_id: sid.to_string(),
            thread_id: tid.to_string(),
            json,
            frame,
        });
        inner.next_seq += 1;
        inner.events.push(stored.clone());
        inner.by_id.insert(id, seq);
        if let Some(session) = inner.sessions.get_mut(sid) {
            session.events.push(seq);
            if let Some(thread) = session.thread_mut(tid) {
                thread.events.push(seq);
                if let Some((status, stop)) = status_update {
                    thread.status = status;
                    thread.stop_reason = stop;
                    thread.updated_at = now;
                }
            }
        }
        // No receiver is not an error: the event is stored for later replay.
        let _ = self.tx.send(stored.clone());
        Ok(stored)
    }

    /// Subscribes to live events and takes the starting history, atomically.
    pub fn open(&self, scope: &Scope, start: &Start) -> Result<Opened, ApiError> {
        let inner = self.lock();
        let seqs = inner.scope_seqs(scope)?;
        let rx = self.tx.subscribe();
        let watermark = inner.next_seq - 1;
        let history = match start {
            Start::Tail => Vec::new(),
            Start::Replay => seqs.iter().filter_map(|s| inner.get(*s)).collect(),
            Start::After(id) => {
                let after = inner.seq_in_scope(scope, seqs, id)?;
                inner.collect_after(seqs, after)
            }
        };
        Ok(Opened {
            rx,
            history,
            watermark,
        })
    }

    /// Events of the scope with `seq > after`, and the new watermark (the last global `seq`).
    ///
    /// Used by a stream whose broadcast receiver lagged: nothing is lost, it is re-read here.
    pub fn events_after(&self, scope: &Scope, after: u64) -> (Vec<Arc<StoredEvent>>, u64) {
        let inner = self.lock();
        let watermark = inner.next_seq - 1;
        match inner.scope_seqs(scope) {
            Ok(seqs) => (inner.collect_after(seqs, after), watermark),
            Err(_) => (Vec::new(), watermark),
        }
    }

    /// The `seq` of an event id, provided it belongs to the scope (else 400).
    pub fn seq_of(&self, scope: &Scope, id: &str) -> Result<u64, ApiError> {
        let inner = self.lock();
        let seqs = inner.scope_seqs(scope)?;
        inner.seq_in_scope(scope, seqs, id)
    }

    /// Every event of a scope, oldest first.
    pub fn events(&self, scope: &Scope) -> Result<Vec<Arc<StoredEvent>>, ApiError> {
        let inner = self.lock();
        let seqs = inner.scope_seqs(scope)?;
        Ok(seqs.iter().filter_map(|s| inner.get(*s)).collect())
    }

    /// The threads of a session, in creation order.
    pub fn threads(&self, sid: &str) -> Result<Vec<Thread>, ApiError> {
        let inner = self.lock();
        let session = inner
            .sessions
            .get(sid)
            .ok_or_else(|| ApiError::session_not_found(sid))?;
        Ok(session.threads.clone())
    }

    /// One thread.
    pub fn thread(&self, sid: &str, tid: &str) -> Result<Thread, ApiError> {
        let inner = self.lock();
        inner.check_thread(sid, tid)?;
        inner
            .sessions
            .get(sid)
            .and_then(|s| s.thread(tid))
            .cloned()
            .ok_or_else(|| ApiError::thread_not_found(tid))
    }

    /// `{"sessions":[{"session_id":..., "created_at":..., "threads":[ids], "event_count": n}]}`.
    pub fn summary(&self) -> Value {
        let inner = self.lock();
        let sessions: Vec<Value> = inner
            .session_order
            .iter()
            .filter_map(|id| inner.sessions.get(id).map(|s| (id, s)))
            .map(|(id, s)| {
                serde_json::json!({
                    "session_id": id,
                    "created_at": s.created_at,
                    "threads": s.threads.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
                    "event_count": s.events.len(),
                })
            })
            .collect();
        serde_json::json!({ "sessions": sessions })
    }

    /// Removes every session, thread and event. The sequence keeps counting (and the random
    /// generator keeps drawing), so ids stay unique. The id mode is kept.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.sessions.clear();
        inner.session_order.clear();
        inner.events.clear();
        inner.by_id.clear();
        inner.base = inner.next_seq;
    }

    /// The last assigned global sequence number (0 when none).
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq - 1
    }
}

impl Inner {
    fn fresh(&mut self) -> u64 {
        let n = self.next_id;
        self.next_id += 1;
        n
    }

    /// The id of a new event with sequence number `seq`.
    fn event_id(&mut self, seq: u64) -> String {
        match self.ids {
            IdMode::Seq => format!("evt_{seq:032x}"),
            IdMode::Uuid => loop {
                // 122 random bits: a repeat is all but impossible, but never reuse a live id.
                let id = format!("evt_{}", uuid_v4(&mut self.rng));
                if !self.by_id.contains_key(&id) {
                    break id;
                }
            },
        }
    }

    fn get(&self, seq: u64) -> Option<Arc<StoredEvent>> {
        let idx = seq.checked_sub(self.base)?;
        self.events.get(usize::try_from(idx).ok()?).cloned()
    }

    fn check_thread(&self, sid: &str, tid: &str) -> Result<(), ApiError> {
        let session = self
            .sessions
            .get(sid)
            .ok_or_else(|| ApiError::session_not_found(sid))?;
        session
            .thread(tid)
            .map(|_| ())
            .ok_or_else(|| ApiError::thread_not_found(tid))
    }

    fn scope_seqs(&self, scope: &Scope) -> Result<&[u64], ApiError> {
        match scope {
            Scope::Session { session_id } => self
                .sessions
                .get(session_id)
                .map(|s| s.events.as_slice())
                .ok_or_else(|| ApiError::session_not_found(session_id)),
            Scope::Thread {
                session_id,
                thread_id,
            } => {
                let session = self
                    .sessions
                    .get(session_id)
                    .ok_or_else(|| ApiError::session_not_found(session_id))?;
                session
                    .thread(thread_id)
                    .map(|t| t.events.as_slice())
                    .ok_or_else(|| ApiError::thread_not_found(thread_id))
            }
        }
    }

    fn seq_in_scope(&self, scope: &Scope, seqs: &[u64], id: &str) -> Result<u64, ApiError> {
        let what = match scope {
            Scope::Thread { thread_id, .. } => format!("session thread '{thread_id}'"),
            Scope::Session { session_id } => format!("session '{session_id}'"),
        };
        self.by_id
            .get(id)
            .copied()
            .filter(|seq| seqs.binary_search(seq).is_ok())
            .ok_or_else(|| {
                ApiError::invalid(format!("Last-Event-ID '{id}' is not an event of {what}."))
            })
    }

    fn collect_after(&self, seqs: &[u64], after: u64) -> Vec<Arc<StoredEvent>> {
        let start = seqs.partition_point(|s| *s <= after);
        seqs[start..].iter().filter_map(|s| self.get(*s)).collect()
    }
}

fn event_type(body: &Map<String, Value>) -> Result<&str, ApiError> {
    match body.get("type") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(ApiError::invalid(
            "An event needs a non-empty string field 'type'.",
        )),
    }
}

/// A random UUID v4, lowercase and hyphenated (`xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx`, `Y` one
/// of `8 9 a b`).
pub fn uuid_v4(rng: &mut Rng) -> String {
    let hi = (rng.next_u64() & !0xF000) | 0x4000;
    let lo = (rng.next_u64() & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

fn push_field(out: &mut String, key: &str, value: &Value) {
    if !out.ends_with('{') {
        out.push(',');
    }
    // Serialising a string or a `Value` into a String cannot fail.
    out.push_str(&serde_json::to_string(key).unwrap_or_default());
    out.push(':');
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::is_uuid_v4;

    #[test]
    fn uuid_v4_has_version_and_variant() {
        let mut rng = Rng::new(7);
        let ids: Vec<String> = (0..1000).map(|_| uuid_v4(&mut rng)).collect();
        assert!(ids.iter().all(|u| is_uuid_v4(u)), "{:?}", &ids[..3]);
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        // Same seed, same ids.
        assert_eq!(uuid_v4(&mut Rng::new(7)), ids[0]);
    }

    fn message() -> NewEvent {
        let mut body = Map::new();
        body.insert("type".into(), "agent.message".into());
        NewEvent {
            body,
            ..NewEvent::default()
        }
    }

    #[test]
    fn uuid_ids_resolve_and_keep_creation_order() {
        let store = Store::with_ids(16, IdMode::Uuid, 3);
        let sid = store.create_session(None);
        let new = NewThread {
            agent_name: "A".into(),
            ..NewThread::default()
        };
        let tid = store.create_thread(&sid, new).unwrap().id;
        let ids: Vec<String> = (0..20)
            .map(|_| store.append(&sid, &tid, message()).unwrap().id.clone())
            .collect();
        assert!(ids
            .iter()
            .all(|i| is_uuid_v4(i.strip_prefix("evt_").unwrap())));
        assert!(!ids.windows(2).all(|w| w[0] < w[1]), "ids sorted: {ids:?}");
        let scope = Scope::Thread {
            session_id: sid.clone(),
            thread_id: tid.clone(),
        };
        let listed: Vec<String> = store
            .events(&scope)
            .unwrap()
            .iter()
            .map(|e| e.id.clone())
            .collect();
        assert_eq!(listed, ids);
        let opened = store.open(&scope, &Start::After(ids[12].clone())).unwrap();
        let after: Vec<String> = opened.history.iter().map(|e| e.id.clone()).collect();
        assert_eq!(after, ids[13..]);
        assert_eq!(store.seq_of(&scope, &ids[5]).unwrap(), 6);

        // Switching back: new events get sequential ids, the uuid ones still resolve.
        store.set_ids(IdMode::Seq);
        let ev = store.append(&sid, &tid, message()).unwrap();
        assert_eq!(ev.id, format!("evt_{:032x}", ev.seq));
        assert_eq!(store.seq_of(&scope, &ids[19]).unwrap(), 20);
    }
}
