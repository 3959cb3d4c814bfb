//! The Rust-facing client: typed events through closures or a `futures_core::Stream`.

use super::config::StreamConfig;
use super::handler::{Flushed, Handler, ReconnectInfo};
use super::runner::{fetch_page, PageRequest, Shared};
use crate::error::Error;
use crate::events::{decode, Event};
use crate::request::{threads_url, Target};
use crate::resume::{Paging, State};
use crate::sse::EventRef;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

/// Whether a decoded event ends its stream. The stream itself stops on the SSE event name (see
/// `Delivery`); a server that names its events otherwise (`event: message`, or none) sends the
/// end of a thread with its JSON `type` only, which only a decoded event shows. One rule for
/// both Rust handlers, as the JavaScript dispatcher applies to the JSON type.
struct TerminalWatch {
    /// The types that end this stream (see [`Target::terminal_types`]): a session stream goes
    /// on past a thread's termination.
    types: &'static [&'static str],
    seen: std::cell::Cell<bool>,
}

impl TerminalWatch {
    fn new(target: &Target) -> TerminalWatch {
        TerminalWatch::of(target.terminal_types())
    }

    fn of(types: &'static [&'static str]) -> TerminalWatch {
        TerminalWatch {
            types,
            seen: std::cell::Cell::new(false),
        }
    }

    /// Notes `event` (decoded from an event named `sse_type`).
    fn saw(&self, sse_type: &str, event: &Event) {
        if event.event_type != sse_type && self.types.contains(&event.event_type.as_str()) {
            self.seen.set(true);
        }
    }

    /// What the flush after the events noted says: stop when one ended the stream.
    fn flushed(&self) -> Flushed {
        Flushed {
            stop: self.seen.replace(false),
            handed: None,
        }
    }
}

type EventFn = Box<dyn Fn(Event, bool)>;
type ErrorFn = Box<dyn Fn(&Error)>;
type StateFn = Box<dyn Fn(State)>;
type ReconnectFn = Box<dyn Fn(&ReconnectInfo)>;

/// Closures that receive a stream's typed events and lifecycle.
pub struct Callbacks {
    /// Set by `connect` from the target.
    terminal: TerminalWatch,
    on_event: EventFn,
    on_error: Option<ErrorFn>,
    on_state: Option<StateFn>,
    on_reconnect: Option<ReconnectFn>,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Callbacks")
    }
}

impl Callbacks {
    /// `on_event(event, update)`: every event once, typed; `update` flags a re-sent id with
    /// new content.
    pub fn new(on_event: impl Fn(Event, bool) + 'static) -> Callbacks {
        Callbacks {
            terminal: TerminalWatch::of(crate::events::THREAD_TERMINAL_TYPES),
            on_event: Box::new(on_event),
            on_error: None,
            on_state: None,
            on_reconnect: None,
        }
    }

    /// Receives errors (decode errors included: the stream goes on after those).
    pub fn on_error(mut self, f: impl Fn(&Error) + 'static) -> Callbacks {
        self.on_error = Some(Box::new(f));
        self
    }

    /// Receives state changes.
    pub fn on_state(mut self, f: impl Fn(State) + 'static) -> Callbacks {
        self.on_state = Some(Box::new(f));
        self
    }

    /// Receives scheduled reconnects.
    pub fn on_reconnect(mut self, f: impl Fn(&ReconnectInfo) + 'static) -> Callbacks {
        self.on_reconnect = Some(Box::new(f));
        self
    }
}

impl Handler for Callbacks {
    fn event(&self, event: EventRef<'_>, update: bool) {
        match decode(event.event_type, event.id, &event.data()) {
            Ok(e) => {
                self.terminal.saw(event.event_type, &e);
                (self.on_event)(e, update);
            }
            Err(d) => {
                if let Some(f) = &self.on_error {
                    f(&Error::Decode(Box::new(d)));
                }
            }
        }
    }
    fn flush(&self) -> Flushed {
        self.terminal.flushed()
    }
    fn error(&self, error: &Error) {
        if let Some(f) = &self.on_error {
            f(error);
        }
    }
    fn state(&self, state: State) {
        if let Some(f) = &self.on_state {
            f(state);
        }
    }
    fn reconnect(&self, info: &ReconnectInfo) {
        if let Some(f) = &self.on_reconnect {
            f(info);
        }
    }
}

/// A running stream. Dropping it closes the stream.
#[derive(Debug)]
#[must_use = "dropping the stream closes it"]
pub struct ThreadStream {
    shared: Rc<Shared>,
}

impl ThreadStream {
    /// Validates `config` and starts following the thread (or session).
    pub fn connect(config: StreamConfig, mut callbacks: Callbacks) -> Result<ThreadStream, Error> {
        callbacks.terminal = TerminalWatch::new(&config.target);
        Ok(ThreadStream {
            shared: Shared::start(config, Rc::new(callbacks))?,
        })
    }

    /// The stream as a `futures_core::Stream` of typed events (and non-fatal errors). It
    /// ends when the stream closes; dropping it closes the stream.
    pub fn events(config: StreamConfig) -> Result<EventStream, Error> {
        let queue = Rc::new(RefCell::new(Queue::default()));
        let handler = Rc::new(QueueHandler {
            queue: queue.clone(),
            shared: RefCell::new(Weak::new()),
            terminal: TerminalWatch::new(&config.target),
        });
        let resume = config.last_event_id.clone().unwrap_or_default();
        let shared = Shared::start(config, handler.clone())?;
        *handler.shared.borrow_mut() = Rc::downgrade(&shared);
        Ok(EventStream {
            shared,
            queue,
            last_event_id: RefCell::new(resume),
        })
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// The resume point: the id of the last event delivered.
    pub fn last_event_id(&self) -> String {
        self.shared.last_event_id()
    }

    /// Closes the stream (idempotent).
    pub fn close(&self) {
        self.shared.close();
    }
}

impl Drop for ThreadStream {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// One queued item, with the resume point once the application has it.
type Item = (Result<(Event, bool), Error>, String);

#[derive(Default)]
struct Queue {
    items: VecDeque<Item>,
    closed: bool,
    waker: Option<Waker>,
}

impl Queue {
    fn push(&mut self, item: Item) {
        self.items.push_back(item);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

struct QueueHandler {
    queue: Rc<RefCell<Queue>>,
    /// The stream, for its resume point as each item is queued.
    shared: RefCell<Weak<Shared>>,
    terminal: TerminalWatch,
}

impl QueueHandler {
    fn resume(&self) -> String {
        self.shared
            .borrow()
            .upgrade()
            .map(|s| s.last_event_id())
            .unwrap_or_default()
    }
}

impl Handler for QueueHandler {
    fn event(&self, event: EventRef<'_>, update: bool) {
        let item = decode(event.event_type, event.id, &event.data())
            .map(|e| {
                self.terminal.saw(event.event_type, &e);
                (e, update)
            })
            .map_err(|d| Error::Decode(Box::new(d)));
        let resume = self.resume();
        self.queue.borrow_mut().push((item, resume));
    }
    fn flush(&self) -> Flushed {
        self.terminal.flushed()
    }
    fn error(&self, error: &Error) {
        let resume = self.resume();
        self.queue.borrow_mut().push((Err(error.clone()), resume));
    }
    fn state(&self, state: State) {
        if state == State::Closed {
            let mut q = self.queue.borrow_mut();
            q.closed = true;
            if let Some(w) = q.waker.take() {
                w.wake();
            }
        }
    }
    fn reconnect(&self, _info: &ReconnectInfo) {}
}

/// Typed events as a `futures_core::Stream`: `Ok((event, update))` or a non-fatal `Err`.
#[must_use = "streams do nothing unless polled"]
pub struct EventStream {
    shared: Rc<Shared>,
    queue: Rc<RefCell<Queue>>,
    /// The resume point as of the last item taken from the stream.
    last_event_id: RefCell<String>,
}

impl EventStream {
    /// The resume point: the last event ID of the last new event taken from this stream (see
    /// [`ResumePoint`](crate::resume::ResumePoint)); persist it to resume later.
    pub fn last_event_id(&self) -> String {
        self.last_event_id.borrow().clone()
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.shared.state()
    }
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("shared", &self.shared)
            .finish()
    }
}

impl futures_core::Stream for EventStream {
    type Item = Result<(Event, bool), Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut q = self.queue.borrow_mut();
        if let Some((item, resume)) = q.items.pop_front() {
            *self.last_event_id.borrow_mut() = resume;
            return Poll::Ready(Some(item));
        }
        if q.closed {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// A listing reports nothing as it goes: its last error is its result.
pub(crate) struct Quiet;

impl Handler for Quiet {
    fn event(&self, _: EventRef<'_>, _: bool) {}
    fn error(&self, _: &Error) {}
    fn state(&self, _: State) {}
    fn reconnect(&self, _: &ReconnectInfo) {}
}

/// Every item of a list route, page by page (see [`Paging`]), each page on the lifecycle
/// machine with `config`'s retries, token and headers.
async fn list_all(
    config: &StreamConfig,
    url: impl Fn(Option<&str>) -> String,
) -> Result<Vec<wasm_bindgen::JsValue>, Error> {
    let fetch = config
        .fetch
        .clone()
        .or_else(crate::transport::fetch::global_fetch)
        .ok_or_else(|| Error::InvalidArgument {
            field: "fetch",
            message: String::from("this runtime has no global fetch; set StreamConfig::fetch"),
        })?;
    let shared = Shared::new(Rc::new(Quiet), "");
    let mut paging = Paging::new();
    let mut items = Vec::new();
    while let Some(cursor) = paging.next_page() {
        let url = url(cursor);
        let req = PageRequest {
            shared: &shared,
            fetch: &fetch,
            url: &url,
            token: &config.token,
            headers: &config.headers,
            retry: config.retry,
            idle_ms: config.idle_timeout_ms.map(super::runner::page_idle_ms),
        };
        let (page, next) = fetch_page(&req, &|_| {}).await?;
        let count = page.length() as usize;
        items.extend(page.iter());
        paging.arrived(next.as_deref(), count)?;
    }
    Ok(items)
}

/// The JSON text of a listed item.
fn json_text(item: &wasm_bindgen::JsValue) -> String {
    js_sys::JSON::stringify(item)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// A thread's event history over REST (`GET .../threads/{tid}/events`), oldest first, typed:
/// the same list route, retries and paging rules as `listThreadEvents` in JavaScript.
/// `config.target` must be a thread; its `types` filter applies.
pub async fn list_thread_events(mut config: StreamConfig) -> Result<Vec<Event>, Error> {
    config.validate()?;
    let Target::Thread { .. } = &config.target else {
        return Err(Error::InvalidArgument {
            field: "target",
            message: String::from("list_thread_events needs a thread target"),
        });
    };
    let items = list_all(&config, |page| {
        config
            .target
            .history_url(&config.base_url, &config.types, Some(1000), page)
    })
    .await?;
    items
        .iter()
        .map(|item| {
            let text = json_text(item);
            let event_type = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("type")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from("message"));
            decode(&event_type, None, &text).map_err(|d| Error::Decode(Box::new(d)))
        })
        .collect()
}

/// Every thread of the session in `config.target` over REST (`GET .../threads`), as the API's
/// JSON objects, with the same retries and paging rules as `listThreads` in JavaScript.
pub async fn list_threads(mut config: StreamConfig) -> Result<Vec<serde_json::Value>, Error> {
    config.validate()?;
    let session_id = config.target.session_id().to_owned();
    let items = list_all(&config, |page| {
        threads_url(&config.base_url, &session_id, &[], Some(1000), page)
    })
    .await?;
    Ok(items
        .iter()
        .filter_map(|item| serde_json::from_str(&json_text(item)).ok())
        .collect())
}
