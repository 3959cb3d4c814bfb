//! The fetch driver: carries out what the stream's [`Lifecycle`] machine commands (resolve
//! the token, connect, sleep, report), reads each body in chunks (parse, dedupe, deliver) and
//! feeds back how each attempt went. One driver per stream, spawned on the JS event loop;
//! `close()` aborts whatever it is waiting on, and the machine stops.

use super::config::{History, StreamConfig, Token, TransportKind};
use super::handler::{Handler, ReconnectInfo};
use crate::error::{ApiError, Error};
use crate::events::{creation_order, Instant};
use crate::glue::deferred;
use crate::request::{threads_url, Target};
use crate::resume::{
    data_hash, Command, Dedupe, Input, Lifecycle, Outcome, Paging, ResumePoint, RetryOptions, Seen,
    State,
};
use crate::sse::{EventRef, Parser, Sink, SseEvent};
use crate::transport::fetch::{global_fetch, Attempt, Chunk, Expect};
use crate::transport::js::{now_ms, random};
use crate::transport::lifecycle::Lifecycle as PageListeners;
use crate::transport::timer::Sleep;
use gloo_events::EventListener;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

/// The state a stream shares between its loop and its handle.
pub struct Shared {
    closed: Cell<bool>,
    state: Cell<State>,
    resume: RefCell<ResumePoint>,
    /// The requests in flight (the live stream, a list page): `close()` aborts them.
    controllers: RefCell<Vec<AbortController>>,
    /// Ends what the driver waits on (a sleep, an `EventSource`): `close()` and wakes call it.
    waker: RefCell<Option<Function>>,
    /// A wake (online, visible) ended the last wait, rather than its timer.
    woken: Cell<bool>,
    /// The token(s) and custom header values: no error or reason handed out may quote them.
    /// Shared with a handler that reports errors of its own (decode errors found in JavaScript).
    secrets: Rc<RefCell<Vec<String>>>,
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
        let shared = Shared::new(handler, config.last_event_id.as_deref().unwrap_or_default());
        let s = shared.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match config.transport {
                TransportKind::Fetch => run(s, config).await,
                TransportKind::EventSource => crate::transport::eventsource::run(s, config).await,
            }
        });
        Ok(shared)
    }

    /// The shared state of a stream (or a listing) that starts at the resume point `resume`.
    pub(crate) fn new(handler: Rc<dyn Handler>, resume: &str) -> Rc<Shared> {
        Rc::new(Shared {
            closed: Cell::new(false),
            state: Cell::new(State::Connecting),
            resume: RefCell::new(ResumePoint::new(resume)),
            controllers: RefCell::new(Vec::new()),
            waker: RefCell::new(None),
            woken: Cell::new(false),
            secrets: Rc::new(RefCell::new(Vec::new())),
            reconnects: Cell::new(0),
            handler,
        })
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

    /// Closes the stream: idempotent, cancels the fetch, the body reader, list requests and
    /// any pending timer, reports the state `closed` once, and is never reported as an error.
    pub fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let controllers = std::mem::take(&mut *self.controllers.borrow_mut());
        for c in controllers {
            c.abort();
        }
        self.end_wait();
        self.set_state(State::Closed);
    }

    /// Ends a pending backoff delay now (network back online, page visible again), unless
    /// the server asked for it (`Retry-After`).
    pub fn wake(&self) {
        self.woken.set(true);
        self.end_wait();
    }

    fn end_wait(&self) {
        let waker = self.waker.borrow_mut().take();
        if let Some(w) = waker {
            let _ = w.call0(&JsValue::UNDEFINED);
        }
    }

    pub(crate) fn set_state(&self, state: State) {
        if self.state.replace(state) != state {
            self.handler.state(state);
        }
    }

    /// Registers a request in flight, so that `close()` aborts it (at once if already closed).
    pub(crate) fn track(&self, c: &AbortController) {
        if self.closed.get() {
            c.abort();
            return;
        }
        let mut controllers = self.controllers.borrow_mut();
        controllers.retain(|k| !k.signal().aborted());
        controllers.push(c.clone());
    }

    /// Waits `delay_ms` unless closed or woken first; returns whether a wake ended it.
    pub(crate) async fn sleep(&self, delay_ms: u64) -> bool {
        let sleep = Sleep::new(delay_ms);
        self.wait_for(sleep.waker(), sleep.wait()).await
    }

    /// Waits for `done` until `close()` or a wake calls `end` (which must make `done`
    /// complete); returns whether a wake ended it.
    pub(crate) async fn wait_for(&self, end: Function, done: impl std::future::Future) -> bool {
        self.woken.set(false);
        *self.waker.borrow_mut() = Some(end);
        if !self.closed.get() {
            done.await;
        }
        self.waker.borrow_mut().take();
        self.woken.replace(false)
    }

    /// Remembers a secret (a token, a custom header value) to keep out of every message; the
    /// few most recent tokens of a provider are kept.
    pub(crate) fn add_secret(&self, secret: &str) {
        let mut secrets = self.secrets.borrow_mut();
        if secret.len() < crate::error::MIN_SECRET_LEN || secrets.iter().any(|s| s == secret) {
            return;
        }
        if secrets.len() >= 16 {
            secrets.remove(0);
        }
        secrets.push(secret.to_owned());
    }

    /// The secrets, for a handler that reports errors of its own.
    pub(crate) fn secrets(&self) -> Rc<RefCell<Vec<String>>> {
        self.secrets.clone()
    }

    /// Hands an error to the application, with every secret taken out of its text.
    pub(crate) fn report(&self, error: &Error) {
        let secrets = self.secrets.borrow();
        if secrets.is_empty() {
            self.handler.error(error);
            return;
        }
        let mut error = error.clone();
        error.redact(&secrets);
        drop(secrets);
        self.handler.error(&error);
    }

    /// Awaits `fut` unless `close()` comes first (`None`): a token provider that hangs must
    /// not keep a closed stream alive.
    pub(crate) async fn unless_closed<F: std::future::Future>(&self, fut: F) -> Option<F::Output> {
        if self.closed.get() {
            return None;
        }
        let d = deferred();
        let mut ended = Some(JsFuture::from(d.promise()));
        *self.waker.borrow_mut() = Some(d.resolve());
        let mut fut = std::pin::pin!(fut);
        let out = std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(v) = fut.as_mut().poll(cx) {
                return std::task::Poll::Ready(Some(v));
            }
            if let Some(e) = &mut ended {
                if std::future::Future::poll(std::pin::Pin::new(e), cx).is_ready() {
                    ended = None;
                }
            }
            // A wake (online, visible) also ends the deferred: only `close()` ends the wait.
            if ended.is_none() && self.closed.get() {
                return std::task::Poll::Ready(None);
            }
            std::task::Poll::Pending
        })
        .await;
        self.waker.borrow_mut().take();
        out
    }

    /// Carries out a command of the stream's machine that needs no waiting.
    pub(crate) fn apply(&self, command: Command) {
        match command {
            Command::Report(error) => {
                if !self.closed.get() {
                    self.report(&error);
                }
            }
            // After `close()` the state stays `closed`.
            Command::SetState(state) if !self.closed.get() => self.set_state(state),
            Command::SetState(_) => {}
            Command::Reconnecting {
                attempt,
                delay_ms,
                reason,
            } => {
                self.reconnects.set(self.reconnects.get() + 1);
                if !self.closed.get() {
                    let mut reason = reason;
                    crate::error::redact_text(&mut reason, &self.secrets.borrow());
                    self.handler.reconnect(&ReconnectInfo {
                        attempt,
                        delay_ms,
                        reason,
                    });
                }
            }
            Command::Stop => self.close(),
            // The driver's own business.
            Command::ResolveToken { .. }
            | Command::Connect
            | Command::Read
            | Command::Sleep { .. } => {}
        }
    }
}

/// Runs `machine` to its end: `step` carries out each command that waits (token, connect,
/// read) and answers the inputs it led to; sleeps, wakes and `close()` are handled here.
/// `apply` carries out the commands that need no waiting (report, state, reconnecting); the
/// run ends at `Stop`, which is left to the caller.
///
/// One copy for every driver (not generic): the step's futures are boxed, which costs an
/// allocation per request and saves a copy of this state machine per driver in the wasm.
pub(crate) async fn drive<'a>(
    shared: &Shared,
    machine: &mut Lifecycle,
    apply: &mut dyn FnMut(Command),
    step: &mut dyn FnMut(Command) -> StepFuture<'a>,
) {
    let mut pending: VecDeque<Command> = machine.handle(Input::Start).into();
    if shared.closed.get() {
        pending.extend(machine.handle(Input::Close));
    }
    while let Some(command) = pending.pop_front() {
        let inputs = match command {
            Command::Sleep { ms } => sleep_until_due(shared, machine, ms, &mut pending).await,
            Command::ResolveToken { .. } | Command::Connect | Command::Read => step(command).await,
            Command::Stop => return,
            other => {
                apply(other);
                Vec::new()
            }
        };
        // `close()` wins over whatever the wait produced (an aborted request, say).
        let inputs = if shared.closed.get() {
            vec![Input::Close]
        } else {
            inputs
        };
        for input in inputs {
            pending.extend(machine.handle(input));
        }
    }
}

/// Runs a stream's machine: its reports, states and reconnects go to the application.
pub(crate) async fn drive_stream(
    shared: &Shared,
    machine: &mut Lifecycle,
    step: &mut dyn FnMut(Command) -> StepFuture<'static>,
) {
    drive(shared, machine, &mut |command| shared.apply(command), step).await;
}

/// What a driver's step answers, later.
pub(crate) type StepFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Input>> + 'a>>;

/// Sleeps `ms`; a wake the machine ignores (a server-mandated wait) sleeps on until due.
async fn sleep_until_due(
    shared: &Shared,
    machine: &mut Lifecycle,
    ms: u64,
    pending: &mut VecDeque<Command>,
) -> Vec<Input> {
    let due = now_ms() + ms as f64;
    loop {
        let left = (due - now_ms()).max(0.0) as u64;
        if !shared.sleep(left).await || shared.closed.get() {
            return vec![Input::TimerFired];
        }
        let commands = machine.handle(Input::Wake);
        if !commands.is_empty() {
            pending.extend(commands);
            return Vec::new();
        }
    }
}

/// Keeps the stream's page-lifecycle and `AbortSignal` listeners for as long as it runs.
pub(crate) fn listeners(
    shared: &Rc<Shared>,
    config: &StreamConfig,
) -> (PageListeners, Option<EventListener>) {
    let weak: Weak<Shared> = Rc::downgrade(shared);
    let lifecycle = PageListeners::new(move || {
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
    /// Where a `retry:` field goes (for the machine's backoff).
    pub(crate) server_retry: &'a mut Option<u64>,
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
        server_retry: &'a mut Option<u64>,
    ) -> Delivery<'a> {
        Delivery {
            shared,
            config,
            dedupe,
            server_retry,
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
            t if crate::events::is_keepalive_type(t) => return,
            "error" => {
                let data = event.data();
                let api = crate::transport::js::api_error(&data).unwrap_or(ApiError {
                    message: Some(data.into_owned()),
                    ..ApiError::default()
                });
                self.shared.report(&Error::InStream { api });
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
        self.handed += 1;
        // Only a new event moves the resume point: an update is of an older one. It moves
        // before the handler runs, so that its listeners see their own event's id.
        if !update && event.id.is_some() {
            self.propose(false, event.last_event_id);
        }
        self.shared.handler.event(event, update);
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
            self.shared.report(&e);
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
        *self.server_retry = Some(ms);
    }
    fn on_error(&mut self, error: Error) {
        if !self.shared.closed.get() {
            self.shared.report(&error);
        }
    }
    fn on_id_only(&mut self, last_event_id: &str) {
        // Inside a replay the id is older than the resume point: it must not move back.
        if !self.shared.closed.get() && !self.terminal && !self.dedupe.replaying() {
            self.propose(true, last_event_id);
        }
    }
}

/// The state of reading a body: what the per-chunk callback of the body pump shares with the
/// driver.
struct ReadState {
    parser: Parser,
    dedupe: Dedupe,
    /// A `retry:` field of the body, for the machine.
    server_retry: Option<u64>,
}

/// The fetch driver of one stream: what the machine's commands need.
struct FetchDriver {
    shared: Rc<Shared>,
    config: Rc<StreamConfig>,
    fetch: Function,
    url: String,
    read_state: Rc<RefCell<ReadState>>,
    /// The token of the next request (resolved by the provider, or the static one).
    token: RefCell<Option<String>>,
    /// The attempt whose body `Read` reads.
    attempt: RefCell<Option<Attempt>>,
    /// The history is to be listed before the body is read (`history: "backfill"`).
    backfill_pending: Cell<bool>,
}

async fn run(shared: Rc<Shared>, config: StreamConfig) {
    let _listeners = listeners(&shared, &config);
    let mut machine = Lifecycle::new(config.retry, matches!(config.token, Token::Provider(_)));
    let Some(fetch) = config.fetch.clone().or_else(global_fetch) else {
        let error = Error::InvalidArgument {
            field: "fetch",
            message: String::from("this runtime has no global fetch; pass the fetch option"),
        };
        for command in machine.handle(Input::Fatal(error)) {
            shared.apply(command);
        }
        return;
    };
    if let Token::Static(token) = &config.token {
        shared.add_secret(token);
    }
    for (_, value) in &config.headers {
        shared.add_secret(value);
    }
    let read_state = ReadState {
        parser: Parser::with_max_event_bytes(config.max_event_bytes),
        dedupe: config.dedupe(),
        server_retry: None,
    };
    let driver = Rc::new(FetchDriver {
        shared: shared.clone(),
        url: config.target.stream_url(&config.base_url, &config.types),
        backfill_pending: Cell::new(false),
        token: RefCell::new(match &config.token {
            Token::Static(t) => Some(t.clone()),
            _ => None,
        }),
        config: Rc::new(config),
        fetch,
        read_state: Rc::new(RefCell::new(read_state)),
        attempt: RefCell::new(None),
    });
    drive_stream(&shared, &mut machine, &mut |command| {
        let d = driver.clone();
        Box::pin(async move { d.step(command).await })
    })
    .await;
    shared.close();
}

impl FetchDriver {
    /// Carries out one command that waits; answers the inputs it led to.
    async fn step(&self, command: Command) -> Vec<Input> {
        match command {
            Command::ResolveToken { refresh } => vec![self.resolve_token(refresh).await],
            Command::Connect => vec![self.connect().await],
            Command::Read => self.read().await,
            _ => Vec::new(),
        }
    }

    async fn resolve_token(&self, refresh: bool) -> Input {
        resolve_token(&self.shared, &self.config.token, refresh, &self.token).await
    }

    fn ended(outcome: Outcome) -> Input {
        Input::Ended {
            outcome,
            now_ms: now_ms(),
            random: random(),
        }
    }

    async fn connect(&self) -> Input {
        let mut attempt = match Attempt::new(self.config.idle_timeout_ms) {
            Ok(a) => a,
            Err(o) => return Self::ended(o),
        };
        self.shared.track(attempt.controller());
        let resume = self.shared.last_event_id();
        let headers = {
            let token = self.token.borrow();
            self.config
                .request_headers(token.as_deref(), &resume, "text/event-stream")
        };
        let sent = attempt
            .send(&self.fetch, &self.url, &headers, Expect::EventStream)
            .await;
        if let Err(o) = sent {
            return Self::ended(o);
        }
        {
            let mut read_state = self.read_state.borrow_mut();
            read_state.parser.reset();
            read_state.parser.set_last_event_id(&resume);
            read_state.dedupe.connected();
        }
        // A live-only server sends nothing of what happened while the stream was away: every
        // connection lists the history again, and the dedupe's replay detection skips what was
        // delivered, so only the gap is delivered. (Not when the stream started from an
        // application's resume point: what came before it was never seen here.)
        if self.config.history == History::Backfill && self.config.last_event_id.is_none() {
            self.backfill_pending.set(true);
        }
        *self.attempt.borrow_mut() = Some(attempt);
        Input::Opened { now_ms: now_ms() }
    }

    /// Reads the body (after listing the history, the first time with `history: "backfill"`).
    async fn read(&self) -> Vec<Input> {
        let Some(mut attempt) = self.attempt.borrow_mut().take() else {
            return Vec::new();
        };
        if self.backfill_pending.get() {
            // The live stream is open and buffers; its idle watchdog waits for the listing.
            attempt.pause_watchdog(true);
            let listed = self.backfill().await;
            attempt.pause_watchdog(false);
            // The body that follows may replay what the listing just delivered (a server
            // that ignores Last-Event-ID): it is watched as a connection of its own.
            self.read_state.borrow_mut().dedupe.connected();
            match listed {
                Ok(()) => self.backfill_pending.set(false),
                Err(_) if self.shared.is_closed() => return Vec::new(),
                // The server's paging would never end: what it listed was delivered, the live
                // stream goes on.
                Err(error @ Error::Paging { .. }) => {
                    self.shared.report(&error);
                    self.backfill_pending.set(false);
                }
                // The history cannot be complete: that is fatal (already retried, and each
                // failure already reported, so the machine only stops).
                Err(_) => return vec![Input::Close],
            }
        }
        // Chunks are handled synchronously as the pump reads them: parse, dedupe, deliver.
        let terminal = Rc::new(Cell::new(false));
        let on_chunk = {
            let (shared, config, read_state, terminal) = (
                self.shared.clone(),
                self.config.clone(),
                self.read_state.clone(),
                terminal.clone(),
            );
            move |chunk: &[u8]| -> Chunk {
                let mut read_state = read_state.borrow_mut();
                let ReadState {
                    parser,
                    dedupe,
                    server_retry,
                } = &mut *read_state;
                let mut delivery = Delivery::new(&shared, &config, dedupe, server_retry);
                parser.push(chunk, &mut delivery);
                delivery.flush();
                if delivery.terminal {
                    terminal.set(true);
                }
                if shared.closed.get() || delivery.terminal {
                    Chunk::Stop
                } else {
                    Chunk::Next
                }
            }
        };
        let pumped = attempt.pump(on_chunk).await;
        drop(attempt);
        let mut inputs = Vec::new();
        if let Some(ms) = self.read_state.borrow_mut().server_retry.take() {
            inputs.push(Input::ServerRetry(ms));
        }
        if self.shared.closed.get() {
            return inputs;
        }
        inputs.push(match pumped {
            Ok(Chunk::Stop) if terminal.get() => Input::Terminal,
            Ok(Chunk::Stop) => return inputs,
            Ok(Chunk::NotBytes) => Self::ended(Outcome::Network(String::from(
                "the response body yielded a chunk that is not bytes",
            ))),
            Ok(Chunk::Next) => {
                self.read_state.borrow_mut().parser.end();
                Self::ended(Outcome::EndOfBody)
            }
            Err(o) => Self::ended(o),
        });
        inputs
    }

    /// Lists the history over REST while the live stream (already open) buffers, and delivers
    /// it through the same dedupe, so history then live arrive each once, in order. A session
    /// stream lists every thread, then each thread's events, and merges them in creation order.
    /// A failed page is retried from the same cursor with the stream's backoff.
    async fn backfill(&self) -> Result<(), Error> {
        let base = &self.config.base_url;
        let types = &self.config.types;
        match &self.config.target {
            Target::Thread { .. } => {
                let target = &self.config.target;
                let url = |page: Option<&str>| target.history_url(base, types, Some(1000), page);
                self.list_pages(&url, &mut |this, items| this.deliver_listed(items.iter()))
                    .await
            }
            Target::Session { session_id } => {
                let mut thread_ids = Vec::new();
                let url = |page: Option<&str>| threads_url(base, session_id, &[], Some(1000), page);
                self.list_pages(&url, &mut |_, items| {
                    thread_ids.extend(items.iter().filter_map(|t| text_field(&t, "id")));
                })
                .await?;
                let mut events: Vec<(Option<Instant>, JsValue)> = Vec::new();
                for thread_id in thread_ids {
                    let target = Target::Thread {
                        session_id: session_id.clone(),
                        thread_id,
                    };
                    // A thread id from the server goes into a path: it must be one.
                    if target.validate().is_err() {
                        continue;
                    }
                    let url =
                        |page: Option<&str>| target.history_url(base, types, Some(1000), page);
                    self.list_pages(&url, &mut |_, items| {
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
                let times: Vec<Option<Instant>> = events.iter().map(|e| e.0).collect();
                let mut events: Vec<Option<JsValue>> =
                    events.into_iter().map(|(_, e)| Some(e)).collect();
                self.deliver_listed(
                    creation_order(&times)
                        .into_iter()
                        .filter_map(|i| events[i].take()),
                );
                Ok(())
            }
        }
    }

    /// Fetches every page of a list route (following `next_page`, see [`Paging`]), handing
    /// each page's items to `on_page`.
    async fn list_pages(
        &self,
        url: &dyn Fn(Option<&str>) -> String,
        on_page: &mut dyn FnMut(&Self, js_sys::Array),
    ) -> Result<(), Error> {
        let mut paging = Paging::new();
        while let Some(cursor) = paging.next_page() {
            let url = url(cursor);
            // A provider is asked again per page (and refreshed after a 401), as for lists.
            let token = match (&self.config.token, self.token.borrow().clone()) {
                (Token::Provider(_), _) => self.config.token.clone(),
                (_, Some(t)) => Token::Static(t),
                (_, None) => Token::None,
            };
            let report = |e: &Error| {
                if !self.shared.closed.get() {
                    self.shared.report(e);
                }
            };
            let req = PageRequest {
                shared: &self.shared,
                fetch: &self.fetch,
                url: &url,
                token: &token,
                headers: &self.config.headers,
                retry: self.config.retry,
                idle_ms: self.config.idle_timeout_ms.map(page_idle_ms),
            };
            let (items, next) = fetch_page(&req, &report).await?;
            let count = items.length() as usize;
            on_page(self, items);
            if self.shared.closed.get() {
                return Ok(());
            }
            paging.arrived(next.as_deref(), count)?;
        }
        Ok(())
    }

    /// Delivers listed events (JSON objects) through the dedupe, then flushes.
    fn deliver_listed(&self, items: impl Iterator<Item = JsValue>) {
        let mut read_state = self.read_state.borrow_mut();
        let ReadState {
            dedupe,
            server_retry,
            ..
        } = &mut *read_state;
        let mut delivery = Delivery::new(&self.shared, &self.config, dedupe, server_retry);
        for item in items {
            let id = text_field(&item, "id");
            let event_type = text_field(&item, "type").unwrap_or_else(|| String::from("message"));
            // Ids and types become SSE fields: a line break in one would not survive the
            // stream's framing, so such an event is delivered without it.
            let id = id.filter(|i| !i.contains(['\r', '\n', '\0']));
            let event = SseEvent {
                event_type: if event_type.contains(['\r', '\n']) {
                    String::from("message")
                } else {
                    event_type
                },
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

/// Asks a token provider (refreshed after a 401) unless `close()` comes first, and keeps the
/// answer in `slot` (and among the secrets). A token no header can carry is fatal: no retry
/// would help. Without a provider there is nothing to ask.
async fn resolve_token(
    shared: &Shared,
    token: &Token,
    refresh: bool,
    slot: &RefCell<Option<String>>,
) -> Input {
    let Token::Provider(provider) = token else {
        return Input::TokenResolved(Ok(()));
    };
    let Some(answer) = shared.unless_closed(provider(refresh)).await else {
        return Input::Close;
    };
    match answer {
        Ok(t) => match super::config::validate_token(&t) {
            Ok(()) => {
                shared.add_secret(&t);
                *slot.borrow_mut() = Some(t);
                Input::TokenResolved(Ok(()))
            }
            Err(error) => Input::Fatal(error),
        },
        Err(message) => Input::TokenResolved(Err(message)),
    }
}

/// What a page request needs.
pub(crate) struct PageRequest<'a> {
    /// The stream (or listing) it belongs to: `close()` aborts it.
    pub(crate) shared: &'a Shared,
    pub(crate) fetch: &'a Function,
    pub(crate) url: &'a str,
    pub(crate) token: &'a Token,
    /// The application's extra headers.
    pub(crate) headers: &'a [(String, String)],
    pub(crate) retry: RetryOptions,
    pub(crate) idle_ms: Option<u64>,
}

/// Fetches one page of a list route on its own [`Lifecycle`]: failures are retried with the
/// backoff of `retry` from the same URL (each reported to `report`), a token provider is asked
/// before each attempt (and refreshed once after a 401), `close()` aborts the request. Returns
/// the page's items and its `next_page`.
pub(crate) async fn fetch_page(
    req: &PageRequest<'_>,
    report: &dyn Fn(&Error),
) -> Result<(js_sys::Array, Option<String>), Error> {
    let provider = matches!(req.token, Token::Provider(_));
    if let Token::Static(t) = req.token {
        req.shared.add_secret(t);
    }
    for (_, value) in req.headers {
        req.shared.add_secret(value);
    }
    let mut machine = Lifecycle::new(req.retry, provider);
    let page: RefCell<Option<(js_sys::Array, Option<String>)>> = RefCell::new(None);
    let last_error: RefCell<Option<Error>> = RefCell::new(None);
    let token: RefCell<Option<String>> = RefCell::new(match req.token {
        Token::Static(t) => Some(t.clone()),
        _ => None,
    });
    let mut apply = |command| {
        if let Command::Report(e) = command {
            report(&e);
            *last_error.borrow_mut() = Some(e);
        }
    };
    let mut step = |command: Command| -> StepFuture<'_> {
        let (page, token) = (&page, &token);
        Box::pin(async move {
            match command {
                Command::ResolveToken { refresh } => {
                    vec![resolve_token(req.shared, req.token, refresh, token).await]
                }
                Command::Connect => {
                    let mut attempt = match Attempt::new(req.idle_ms) {
                        Ok(a) => a,
                        Err(o) => return vec![FetchDriver::ended(o)],
                    };
                    req.shared.track(attempt.controller());
                    let mut headers = Vec::with_capacity(req.headers.len() + 2);
                    headers.push((String::from("Accept"), String::from("application/json")));
                    if let Some(t) = &*token.borrow() {
                        headers.push((String::from("Authorization"), format!("Bearer {t}")));
                    }
                    headers.extend(req.headers.iter().cloned());
                    match attempt
                        .send(req.fetch, req.url, &headers, Expect::Json)
                        .await
                    {
                        Ok(body) => {
                            match crate::transport::js::parse_page(body.as_deref().unwrap_or("")) {
                                Some(found) => {
                                    *page.borrow_mut() = Some(found);
                                    vec![Input::Terminal]
                                }
                                None => vec![Input::Fatal(Error::ContentType {
                                    found: String::from(
                                        "application/json, but not a list page ({\"data\": [...]})",
                                    ),
                                    expected: "application/json",
                                })],
                            }
                        }
                        Err(o) => vec![FetchDriver::ended(o)],
                    }
                }
                _ => Vec::new(),
            }
        })
    };
    drive(req.shared, &mut machine, &mut apply, &mut step).await;
    if let Some(found) = page.into_inner() {
        return Ok(found);
    }
    let mut error = last_error.into_inner().unwrap_or(Error::Network {
        message: String::from("the listing was closed"),
    });
    error.redact(&req.shared.secrets.borrow());
    Err(error)
}

/// The idle timeout of a list page: a page is one JSON document that a server may take a
/// while to start, so the stream's (short) idle timeout is raised to 30 s for it.
pub(crate) fn page_idle_ms(stream_idle_ms: u64) -> u64 {
    stream_idle_ms.max(30_000)
}

/// A string field of a JS object.
fn text_field(value: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}
