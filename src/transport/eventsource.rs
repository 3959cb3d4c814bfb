//! The native `EventSource` transport, for same-origin, cookie-authenticated deployments.
//!
//! The browser parses the stream and reconnects by itself (sending `Last-Event-ID`); this
//! module listens to every known event type (a native `EventSource` only dispatches named
//! events to listeners registered for that name), dedupes, and when the browser gives up
//! (`readyState` CLOSED, for example after a non-200 status, which it does not expose) opens a
//! new `EventSource` after a backoff delay, as the stream's [`Lifecycle`] machine commands.

use super::js::{now_ms, random};
use crate::client::{drive_stream, Shared, StreamConfig};
use crate::error::Error;
use crate::glue::deferred;
use crate::resume::{Command, Dedupe, Input, Lifecycle, Outcome, State};
use crate::sse::SseEvent;
use gloo_events::EventListener;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, EventSourceInit, MessageEvent};

/// One native `EventSource` and its listeners; dropping it closes the source.
struct Source {
    es: EventSource,
    _listeners: Vec<EventListener>,
}

impl Drop for Source {
    fn drop(&mut self) {
        self.es.close();
    }
}

/// How the current `EventSource` is doing, as its listeners saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Nothing yet.
    Nothing,
    /// `open`: the response is an event stream.
    Opened,
    /// The browser gave up (`readyState` CLOSED after an error).
    GaveUp,
    /// A terminal event was delivered.
    Terminal,
}

/// The driver of one stream over the native `EventSource`, on the same [`Lifecycle`] machine
/// as `fetch`: `Connect` opens a source and waits for `open` (or the browser giving up),
/// `Read` waits until the browser gives up or the stream ends, and `close()` ends either wait
/// and drops the source, which closes it.
struct EsDriver {
    shared: Rc<Shared>,
    config: Rc<StreamConfig>,
    url: String,
    types: Vec<String>,
    dedupe: Rc<RefCell<Dedupe>>,
    source: RefCell<Option<Source>>,
    seen: Rc<Cell<Seen>>,
    /// Resolves the wait in progress when a listener saw something.
    notify: Rc<RefCell<Option<Function>>>,
}

pub(crate) async fn run(shared: Rc<Shared>, config: StreamConfig) {
    let _listeners = crate::client::runner_listeners(&shared, &config);
    let mut machine = Lifecycle::new(config.retry, false);
    let has_event_source =
        js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("EventSource")).unwrap_or(false);
    if !has_event_source {
        let error = Error::InvalidArgument {
            field: "transport",
            message: String::from(
                "this runtime has no native EventSource (Node has none); use the default \"fetch\" transport",
            ),
        };
        for command in machine.handle(Input::Fatal(error)) {
            shared.apply(command);
        }
        return;
    }
    // Each name once (a listener per name); a linear check, not a sort, for a few dozen names.
    let mut types: Vec<String> = Vec::new();
    let names = crate::events::KNOWN_TYPES
        .iter()
        .copied()
        .chain(config.types.iter().map(String::as_str))
        .chain(["message", "error"]);
    for name in names {
        if !types.iter().any(|t| t == name) {
            types.push(name.to_owned());
        }
    }
    let driver = Rc::new(EsDriver {
        shared: shared.clone(),
        url: config.target.stream_url(&config.base_url, &config.types),
        types,
        dedupe: Rc::new(RefCell::new(config.dedupe())),
        config: Rc::new(config),
        source: RefCell::new(None),
        seen: Rc::new(Cell::new(Seen::Nothing)),
        notify: Rc::new(RefCell::new(None)),
    });
    drive_stream(&shared, &mut machine, &mut |command| {
        let d = driver.clone();
        Box::pin(async move { d.step(command).await })
    })
    .await;
    // Dropping the source closes it: nothing reconnects after the end.
    driver.source.borrow_mut().take();
    shared.close();
}

impl EsDriver {
    async fn step(&self, command: Command) -> Vec<Input> {
        match command {
            Command::Connect => {
                if let Err(error) = self.open() {
                    return vec![Input::Fatal(error)];
                }
                self.wait(|seen| seen != Seen::Nothing).await;
                match self.seen.get() {
                    Seen::Opened => vec![Input::Opened { now_ms: now_ms() }],
                    Seen::Terminal => vec![Input::Terminal],
                    _ => self.gave_up(),
                }
            }
            Command::Read => {
                self.wait(|seen| matches!(seen, Seen::GaveUp | Seen::Terminal))
                    .await;
                match self.seen.get() {
                    Seen::Terminal => vec![Input::Terminal],
                    Seen::GaveUp => self.gave_up(),
                    // Closed meanwhile.
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// The browser gave up: the source is dropped, the machine backs off.
    fn gave_up(&self) -> Vec<Input> {
        self.source.borrow_mut().take();
        if self.shared.is_closed() {
            return Vec::new();
        }
        vec![Input::Ended {
            outcome: Outcome::Network(String::from(
                "the EventSource connection failed and the browser gave up (it does not expose the HTTP status)",
            )),
            now_ms: now_ms(),
            random: random(),
        }]
    }

    /// Waits until `done(seen)`, `close()` or the source's end.
    async fn wait(&self, done: impl Fn(Seen) -> bool) {
        while !done(self.seen.get()) && !self.shared.is_closed() && self.source.borrow().is_some() {
            let d = deferred();
            *self.notify.borrow_mut() = Some(d.resolve());
            self.shared
                .wait_for(d.resolve(), JsFuture::from(d.promise()))
                .await;
            self.notify.borrow_mut().take();
        }
    }

    /// Opens a new `EventSource` with its listeners.
    fn open(&self) -> Result<(), Error> {
        self.source.borrow_mut().take();
        self.seen.set(Seen::Nothing);
        let init = EventSourceInit::new();
        init.set_with_credentials(self.config.with_credentials);
        let es = EventSource::new_with_event_source_init_dict(&self.url, &init).map_err(|e| {
            Error::InvalidArgument {
                field: "baseUrl",
                message: format!("EventSource refused the URL: {}", super::js::describe(&e)),
            }
        })?;
        let saw = |seen: &Rc<Cell<Seen>>, notify: &Rc<RefCell<Option<Function>>>, what: Seen| {
            seen.set(what);
            let n = notify.borrow_mut().take();
            if let Some(n) = n {
                let _ = n.call0(&JsValue::UNDEFINED);
            }
        };
        let mut listeners = Vec::new();
        {
            let (s, d, seen, notify) = (
                self.shared.clone(),
                self.dedupe.clone(),
                self.seen.clone(),
                self.notify.clone(),
            );
            listeners.push(EventListener::new(&es, "open", move |_| {
                // The browser reconnects by itself: each open starts a body that may replay.
                if s.is_closed() {
                    return;
                }
                if let Ok(mut d) = d.try_borrow_mut() {
                    d.connected();
                }
                s.set_state(State::Open);
                if seen.get() == Seen::Nothing {
                    saw(&seen, &notify, Seen::Opened);
                }
            }));
        }
        for t in &self.types {
            let (s, c, d, seen, notify) = (
                self.shared.clone(),
                self.config.clone(),
                self.dedupe.clone(),
                self.seen.clone(),
                self.notify.clone(),
            );
            listeners.push(EventListener::new(&es, t.clone(), move |event| {
                let Some(msg) = event.dyn_ref::<MessageEvent>() else {
                    // A plain `error` Event: the connection failed (handled below).
                    return;
                };
                let data = msg.data().as_string().unwrap_or_default();
                let id = msg.last_event_id();
                let sse = SseEvent {
                    event_type: event.type_(),
                    id: (!id.is_empty()).then(|| id.clone()),
                    data,
                    last_event_id: id,
                };
                // `retry:` is the browser's business here.
                let mut server_retry = None;
                let Ok(mut dd) = d.try_borrow_mut() else {
                    return;
                };
                let mut delivery = crate::client::Delivery::new(&s, &c, &mut dd, &mut server_retry);
                delivery.deliver(sse.as_ref(), crate::client::Source::Streamed);
                delivery.flush();
                if delivery.terminal {
                    saw(&seen, &notify, Seen::Terminal);
                }
            }));
        }
        {
            let (s, seen, notify) = (self.shared.clone(), self.seen.clone(), self.notify.clone());
            let es2 = es.clone();
            listeners.push(EventListener::new(&es, "error", move |event| {
                if event.dyn_ref::<MessageEvent>().is_some() {
                    // An `event: error` frame from the server, delivered above.
                    return;
                }
                if es2.ready_state() == EventSource::CLOSED {
                    saw(&seen, &notify, Seen::GaveUp);
                } else if !s.is_closed() {
                    // The browser reconnects by itself.
                    s.set_state(State::Reconnecting);
                }
            }));
        }
        *self.source.borrow_mut() = Some(Source {
            es,
            _listeners: listeners,
        });
        Ok(())
    }
}
