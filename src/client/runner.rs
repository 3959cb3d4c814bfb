//! The connection loop: connect, read, parse, dedupe, deliver; on any ending, decide (pure
//! `resume` rules), back off and resume with `Last-Event-ID`. One loop per stream, spawned on
//! the JS event loop; `close()` cancels whatever it is waiting on.

use super::config::{History, StreamConfig, Token, TransportKind};
use super::handler::{Handler, ReconnectInfo};
use crate::error::{ApiError, Error};
use crate::events::Instant;
use crate::request::{threads_url, Target};
use crate::resume::{
    data_hash, decide, Backoff, Decision, Dedupe, Outcome, ResumePoint, Seen, State,
};
use crate::sse::{EventRef, Parser, Sink, SseEvent};
use crate::transport::fetch::{global_fetch, Attempt, Chunk, Expect};
use crate::transport::js::{now_ms, random};
use crate::transport::lifecycle::Lifecycle;
use crate::transport::timer::Sleep;
use gloo_events::EventListener;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;
use web_sys::AbortController;

/// The state a stream shares between its loop and its handle.
pub struct Shared {
    closed: Cell<bool>,
    state: Cell<State>,
    resume: RefCell<ResumePoint>,
    controller: RefCell<Option<AbortController>>,
    waker: RefCell<Option<Function>>,
    reconnects: Cell<u32>,
    handler: Rc<dyn Handler>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("closed", &self.closed.get())
            .field("state", &self.state.get())
            .field("last_event_id", &self.resume.borrow().current())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Validates `config` and starts the stream's loop. Errors are about the options only:
    /// everything that happens later goes to the handler.
    pub fn start(mut config: StreamConfig, handler: Rc<dyn Handler>) -> Result<Rc<Shared>, Error> {
        config.validate()?;
        let shared = Rc::new(Shared {
            closed: Cell::new(false),
            state: Cell::new(State::Connecting),
            resume: RefCell::new(ResumePoint::new(
                config.last_event_id.as_deref().unwrap_or_default(),
            )),
            controller: RefCell::new(None),
            waker: RefCell::new(None),
            reconnects: Cell::new(0),
            handler,
        });
        let s = shared.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match config.transport {
                TransportKind::Fetch => run(s, config).await,
                TransportKind::EventSource => crate::transport::eventsource::run(s, config).await,
            }
        });
        Ok(shared)
    }

    /// Whether the stream is over.
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.state.get()
    }

    /// The resume point: the last event ID of the last event handed to the application (see
    /// [`ResumePoint`]), also while a batch is being handed over.
    pub fn last_event_id(&self) -> String {
        let Ok(resume) = self.resume.try_borrow() else {
            return String::new();
        };
        match self.handler.handing() {
            Some(handed) => resume.at(handed).to_owned(),
            None => resume.current().to_owned(),
        }
    }

    /// Reconnects so far.
    pub fn reconnects(&self) -> u32 {
        self.reconnects.get()
    }

    /// Closes the stream: idempotent, cancels the fetch, the body reader and any pending
    /// timer, reports the state `closed` once, and is never reported as an error.
    pub fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        if let Some(c) = self.controller.borrow_mut().take() {
            c.abort();
        }
        self.wake();
        self.set_state(State::Closed);
    }

    /// Ends a pending backoff delay now (network back online, page visible again).
    pub fn wake(&self) {
        let waker = self.waker.borrow_mut().take();
        if let Some(w) = waker {
            let _ = w.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    }

    pub(crate) fn handler(&self) -> &dyn Handler {
        &*self.handler
    }

    pub(crate) fn set_state(&self, state: State) {
        if self.state.replace(state) != state {
            self.handler.state(state);
        }
    }

    pub(crate) fn set_controller(&self, c: Option<AbortController>) {
        *self.controller.borrow_mut() = c;
    }

    /// Waits `delay_ms` unless closed or woken first.
    pub(crate) async fn sleep(&self, delay_ms: u64) {
        let sleep = Sleep::new(delay_ms);
        *self.waker.borrow_mut() = Some(sleep.waker());
        if !self.closed.get() {
            sleep.wait().await;
        }
        self.waker.borrow_mut().take();
    }

    /// Reports a scheduled reconnect.
    pub(crate) fn reconnecting(&self, info: ReconnectInfo) {
        self.reconnects.set(self.reconnects.get() + 1);
        self.set_state(State::Reconnecting);
        if !self.closed.get() {
            self.handler.reconnect(&info);
        }
    }
}

/// Keeps the stream's page-lifecycle and `AbortSignal` listeners for as long as it runs.
pub(crate) fn listeners(
    shared: &Rc<Shared>,
    config: &StreamConfig,
) -> (Lifecycle, Option<EventListener>) {
    let weak: Weak<Shared> = Rc::downgrade(shared);
    let lifecycle = Lifecycle::new(move || {
        if let Some(s) = weak.upgrade() {
            s.wake();
        }
    });
    let abort = config.signal.as_ref().map(|signal| {
        if signal.aborted() {
            shared.close();
        }
        let weak = Rc::downgrade(shared);
        EventListener::once(signal, "abort", move |_| {
            if let Some(s) = weak.upgrade() {
                s.close();
            }
        })
    });
    (lifecycle, abort)
}

/// Delivers parsed events: keep-alive `ping` frames and in-stream `error` frames are not
/// application events; everything else is deduplicated, then handed to the handler, and the
/// resume point follows what was handed over.
pub(crate) struct Delivery<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) config: &'a StreamConfig,
    pub(crate) dedupe: &'a mut Dedupe,
    pub(crate) backoff: &'a mut Backoff,
    pub(crate) terminal: bool,
    /// `handler.buffers()`, asked once rather than per event.
    buffers: bool,
    /// Events handed to the handler since the last flush.
    handed: usize,
}

/// Where an event comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    /// The SSE stream.
    Streamed,
    /// A REST listing (backfill), with the [`data_hash`] of its JSON as the client serialises it.
    Listed(u64),
}

impl<'a> Delivery<'a> {
    pub(crate) fn new(
        shared: &'a Shared,
        config: &'a StreamConfig,
        dedupe: &'a mut Dedupe,
        backoff: &'a mut Backoff,
    ) -> Delivery<'a> {
        Delivery {
            shared,
            config,
            dedupe,
            backoff,
            terminal: false,
            buffers: shared.handler.buffers(),
            handed: 0,
        }
    }

    /// Delivers one event.
    pub(crate) fn deliver(&mut self, event: EventRef<'_>, source: Source) {
        if self.shared.closed.get() || self.terminal {
            return;
        }
        match event.event_type {
            "ping" => return,
            "error" => {
                let data = event.data();
                let api = crate::transport::js::api_error(&data).unwrap_or(ApiError {
                    message: Some(data.into_owned()),
                    ..ApiError::default()
                });
                self.shared.handler.error(&Error::InStream { api });
                return;
            }
            _ => {}
        }
        let id = event.id.unwrap_or("");
        let seen = match source {
            Source::Listed(canonical) => self.dedupe.check_listed(id, canonical),
            Source::Streamed => self.dedupe.check_streamed(id, event.data_bytes, || {
                crate::transport::js::canonical_json(event.data_bytes)
                    .map(|text| data_hash(text.as_bytes()))
            }),
        };
        let update = match seen {
            Seen::Duplicate => return,
            Seen::New => false,
            Seen::Update => true,
        };
        self.shared.handler.event(event, update);
        self.handed += 1;
        // Only a new event moves the resume point: an update is of an older one.
        if !update && event.id.is_some() {
            self.propose(false, event.last_event_id);
        }
        if self.config.is_terminal(event.event_type) {
            // Nothing after the end of the thread is delivered.
            self.terminal = true;
        }
    }

    /// The resume point moves to `id` once the events handed so far reached the application
    /// (`between`: an id-only block after them).
    fn propose(&mut self, between: bool, id: &str) {
        let mut resume = self.shared.resume.borrow_mut();
        let error = resume.propose(self.handed, between, id);
        if !self.buffers {
            resume.commit(None);
            self.handed = 0;
        }
        drop(resume);
        if let Some(e) = error {
            self.shared.handler.error(&e);
        }
    }

    /// Delivers what the handler buffered (after each chunk).
    pub(crate) fn flush(&mut self) {
        let flushed = self.shared.handler.flush();
        let partly = flushed.handed.filter(|&k| k < self.handed);
        self.shared.resume.borrow_mut().commit(partly);
        self.handed = 0;
        if flushed.stop {
            self.terminal = true;
        }
    }
}

impl Sink for Delivery<'_> {
    fn on_event(&mut self, event: EventRef<'_>) {
        self.deliver(event, Source::Streamed);
    }
    fn on_retry(&mut self, ms: u64) {
        self.backoff.set_server_retry(ms);
    }
    fn on_error(&mut self, error: Error) {
        if !self.shared.closed.get() {
            self.shared.handler.error(&error);
        }
    }
    fn on_id_only(&mut self, last_event_id: &str) {
        // Inside a replay the id is older than the resume point: it must not move back.
        if !self.shared.closed.get() && !self.terminal && !self.dedupe.replaying() {
            self.propose(true, last_event_id);
        }
    }
}

/// How one connection ended.
enum Ended {
    /// `close()` was called.
    Closed,
    /// A terminal event arrived: the stream is over.
    Terminal,
    /// Anything else: to be decided.
    Outcome(Outcome),
}

/// What the connection loop shares with the per-chunk callback of the body pump: the parser,
/// the dedupe and the backoff (for `retry:`).
struct Pipe {
    parser: Parser,
    dedupe: Dedupe,
    backoff: Backoff,
}

struct Loop<'a> {
    shared: &'a Rc<Shared>,
    config: Rc<StreamConfig>,
    fetch: Function,
    url: String,
    pipe: Rc<RefCell<Pipe>>,
    backfill_pending: bool,
}

async fn run(shared: Rc<Shared>, config: StreamConfig) {
    let _listeners = listeners(&shared, &config);
    let fetch = match config.fetch.clone().or_else(global_fetch) {
        Some(f) => f,
        None => {
            shared.handler.error(&Error::InvalidArgument {
                field: "fetch",
                message: String::from("this runtime has no global fetch; pass the fetch option"),
            });
            shared.close();
            return;
        }
    };
    let pipe = Pipe {
        parser: Parser::with_max_event_bytes(config.max_event_bytes),
        dedupe: config.dedupe(),
        backoff: Backoff::new(config.retry),
    };
    let mut l = Loop {
        shared: &shared,
        url: config.target.stream_url(&config.base_url, &config.types),
        backfill_pending: config.history == History::Backfill && config.last_event_id.is_none(),
        config: Rc::new(config),
        fetch,
        pipe: Rc::new(RefCell::new(pipe)),
    };
    l.run().await;
}

impl Loop<'_> {
    async fn run(&mut self) {
        let mut refresh = false;
        let mut refreshed = false;
        loop {
            if self.shared.closed.get() {
                return;
            }
            let token = match &self.config.token {
                Token::None => Ok(None),
                Token::Static(t) => Ok(Some(t.clone())),
                Token::Provider(p) => p(refresh)
                    .await
                    .map(Some)
                    .map_err(|m| Outcome::Network(format!("the token provider failed: {m}"))),
            };
            refresh = false;
            if self.shared.closed.get() {
                return;
            }
            let ended = match token {
                Ok(token) => self.connect(token.as_deref(), &mut refreshed).await,
                Err(outcome) => Ended::Outcome(outcome),
            };
            self.shared.set_controller(None);
            let outcome = match ended {
                Ended::Closed => return,
                Ended::Terminal => {
                    self.shared.close();
                    return;
                }
                Ended::Outcome(o) => o,
            };
            if self.shared.closed.get() {
                return;
            }
            let can_refresh = matches!(self.config.token, Token::Provider(_)) && !refreshed;
            match decide(outcome, can_refresh) {
                Decision::RefreshToken => {
                    refreshed = true;
                    refresh = true;
                }
                Decision::Stop(error) => {
                    self.shared.handler.error(&error);
                    self.shared.close();
                    return;
                }
                Decision::Retry {
                    error,
                    retry_after_ms,
                } => {
                    if let Some(e) = &error {
                        self.shared.handler.error(e);
                    }
                    if self.shared.closed.get() {
                        return;
                    }
                    let delay = self.pipe.borrow_mut().backoff.next_delay(
                        now_ms(),
                        random(),
                        retry_after_ms,
                    );
                    match delay {
                        None => {
                            self.shared.handler.error(&Error::Network {
                                message: String::from("gave up: retry.maxAttempts reached"),
                            });
                            self.shared.close();
                            return;
                        }
                        Some(delay_ms) => {
                            let reason = error
                                .map(|e| e.to_string())
                                .unwrap_or_else(|| String::from("the server ended the stream"));
                            self.shared.reconnecting(ReconnectInfo {
                                attempt: self.pipe.borrow().backoff.failures(),
                                delay_ms,
                                reason,
                            });
                            self.shared.sleep(delay_ms).await;
                        }
                    }
                }
            }
        }
    }

    async fn connect(&mut self, token: Option<&str>, refreshed: &mut bool) -> Ended {
        let mut attempt = match Attempt::new(self.config.idle_timeout_ms) {
            Ok(a) => a,
            Err(o) => return Ended::Outcome(o),
        };
        self.shared
            .set_controller(Some(attempt.controller().clone()));
        let resume = self.shared.last_event_id();
        let headers = self
            .config
            .request_headers(token, &resume, "text/event-stream");
        let sent = attempt
            .send(&self.fetch, &self.url, &headers, Expect::EventStream)
            .await;
        if self.shared.closed.get() {
            return Ended::Closed;
        }
        if let Err(o) = sent {
            return Ended::Outcome(o);
        }
        {
            let mut pipe = self.pipe.borrow_mut();
            pipe.backoff.opened(now_ms());
            pipe.parser.reset();
            pipe.parser.set_last_event_id(&resume);
            pipe.dedupe.connected();
        }
        *refreshed = false;
        self.shared.set_state(State::Open);
        if self.backfill_pending {
            self.backfill_pending = false;
            if let Err(o) = self.backfill(token).await {
                return if self.shared.closed.get() {
                    Ended::Closed
                } else {
                    Ended::Outcome(o)
                };
            }
        }
        // Chunks are handled synchronously as the pump reads them: parse, dedupe, deliver.
        let on_chunk = {
            let (shared, config, pipe) =
                (self.shared.clone(), self.config.clone(), self.pipe.clone());
            move |chunk: &[u8]| -> Chunk {
                let mut pipe = pipe.borrow_mut();
                let Pipe {
                    parser,
                    dedupe,
                    backoff,
                } = &mut *pipe;
                let mut delivery = Delivery::new(&shared, &config, dedupe, backoff);
                parser.push(chunk, &mut delivery);
                delivery.flush();
                if shared.closed.get() || delivery.terminal {
                    Chunk::Stop
                } else {
                    Chunk::Next
                }
            }
        };
        let pumped = attempt.pump(on_chunk).await;
        if self.shared.closed.get() {
            return Ended::Closed;
        }
        match pumped {
            Ok(Chunk::Stop) => Ended::Terminal,
            Ok(Chunk::NotBytes) => Ended::Outcome(Outcome::Network(String::from(
                "the response body yielded a chunk that is not bytes",
            ))),
            Ok(Chunk::Next) => {
                self.pipe.borrow_mut().parser.end();
                Ended::Outcome(Outcome::EndOfBody)
            }
            Err(o) => Ended::Outcome(o),
        }
    }

    /// Lists the history over REST while the live stream (already open) buffers, and delivers
    /// it through the same dedupe, so history then live arrive each once, in order. A session
    /// stream lists every thread, then each thread's events, and merges them in creation order.
    async fn backfill(&mut self, token: Option<&str>) -> Result<(), Outcome> {
        let base = self.config.base_url.clone();
        let types = self.config.types.clone();
        match self.config.target.clone() {
            Target::Thread { .. } => {
                let target = self.config.target.clone();
                let url = |page: Option<&str>| target.history_url(&base, &types, Some(1000), page);
                self.list_pages(&url, token, &mut |this, items| {
                    this.deliver_listed(items.iter())
                })
                .await
            }
            Target::Session { session_id } => {
                let mut thread_ids = Vec::new();
                let url =
                    |page: Option<&str>| threads_url(&base, &session_id, &[], Some(1000), page);
                self.list_pages(&url, token, &mut |_, items| {
                    thread_ids.extend(items.iter().filter_map(|t| text_field(&t, "id")));
                })
                .await?;
                let mut events: Vec<(Option<Instant>, JsValue)> = Vec::new();
                for thread_id in thread_ids {
                    let target = Target::Thread {
                        session_id: session_id.clone(),
                        thread_id,
                    };
                    let url =
                        |page: Option<&str>| target.history_url(&base, &types, Some(1000), page);
                    self.list_pages(&url, token, &mut |_, items| {
                        events.extend(items.iter().map(|e| {
                            let created = text_field(&e, "created_at");
                            (created.as_deref().and_then(Instant::parse), e)
                        }));
                    })
                    .await?;
                }
                // In creation order: `created_at` compared as instants (fraction digits and
                // offsets vary); ties, and events without a readable time (last), keep their
                // listing order.
                let mut order: Vec<(Option<Instant>, usize)> =
                    events.iter().enumerate().map(|(i, e)| (e.0, i)).collect();
                order.sort_unstable_by_key(|&(at, i)| (at.is_none(), at, i));
                let mut events: Vec<Option<JsValue>> =
                    events.into_iter().map(|(_, e)| Some(e)).collect();
                self.deliver_listed(order.into_iter().filter_map(|(_, i)| events[i].take()));
                Ok(())
            }
        }
    }

    /// Fetches every page of a list route (following `next_page`), handing each page's items
    /// to `on_page`.
    async fn list_pages(
        &mut self,
        url: &dyn Fn(Option<&str>) -> String,
        token: Option<&str>,
        on_page: &mut dyn FnMut(&mut Self, js_sys::Array),
    ) -> Result<(), Outcome> {
        let mut page: Option<String> = None;
        loop {
            let headers = self.config.request_headers(token, "", "application/json");
            let mut attempt = Attempt::new(self.config.idle_timeout_ms)?;
            let body = attempt
                .send(&self.fetch, &url(page.as_deref()), &headers, Expect::Json)
                .await?;
            let (items, next_page) =
                crate::transport::js::parse_page(body.as_deref().unwrap_or("")).ok_or_else(
                    || Outcome::Network(String::from("the history page is not a JSON list page")),
                )?;
            let count = items.length();
            on_page(self, items);
            if self.shared.closed.get() {
                return Ok(());
            }
            match next_page {
                Some(next) if count > 0 => page = Some(next),
                _ => return Ok(()),
            }
        }
    }

    /// Delivers listed events (JSON objects) through the dedupe, then flushes.
    fn deliver_listed(&mut self, items: impl Iterator<Item = JsValue>) {
        let mut pipe = self.pipe.borrow_mut();
        let Pipe {
            dedupe, backoff, ..
        } = &mut *pipe;
        let mut delivery = Delivery::new(self.shared, &self.config, dedupe, backoff);
        for item in items {
            let id = text_field(&item, "id");
            let event = SseEvent {
                event_type: text_field(&item, "type").unwrap_or_else(|| String::from("message")),
                data: js_sys::JSON::stringify(&item)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default(),
                last_event_id: id.clone().unwrap_or_default(),
                id,
            };
            let canonical = data_hash(event.data.as_bytes());
            delivery.deliver(event.as_ref(), Source::Listed(canonical));
        }
        delivery.flush();
    }
}

/// A string field of a JS object.
fn text_field(value: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}
