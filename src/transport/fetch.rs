//! One connection attempt over `fetch`: request, status and content-type checks, and the
//! streamed body read chunk by chunk. The attempt owns its `AbortController`, its body reader
//! and its idle watchdog; dropping it cancels all three.

use super::js::{api_error, describe, now_ms};
use super::timer::Interval;
use crate::error::Error;
use crate::glue::{ignore_rejection, BodyReader};
use crate::request::{follow_redirect, is_event_stream, is_json, origin_of};
use crate::resume::{parse_retry_after, Outcome};
use gloo_events::EventListener;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Response};

/// What a request expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// `text/event-stream`, read incrementally.
    EventStream,
    /// A JSON document (the list routes).
    Json,
}

/// One request attempt.
#[derive(Debug)]
pub(crate) struct Attempt {
    controller: AbortController,
    /// The body reader (`glue.js`), shared with the abort listener, which cancels it.
    reader: Rc<RefCell<Option<BodyReader>>>,
    timed_out: Rc<Cell<bool>>,
    /// Counts arrivals (the response, then each chunk): the watchdog notices a change at its
    /// next tick, which costs no clock read per chunk.
    arrivals: Rc<Cell<u64>>,
    idle_ms: Option<u64>,
    /// The watchdog counts no idle time while this is set.
    paused: Rc<Cell<bool>>,
    _watchdog: Option<Interval>,
    /// The reject function of the wait in progress: the abort listener calls it, so a `fetch`
    /// or a body that ignores the signal cannot hang the stream past `close()` or the idle
    /// timeout. Each wait races against a promise of its own: racing every read against one
    /// long-lived promise would pile a reaction (holding that read's chunk) onto it per read.
    pending_reject: Rc<RefCell<Option<Function>>>,
    aborted: Rc<Cell<bool>>,
    _abort_listener: EventListener,
}

impl Attempt {
    /// Prepares an attempt; `idle_ms` arms a watchdog that aborts when no byte arrives for
    /// that long (waiting for the response counts too).
    pub(crate) fn new(idle_ms: Option<u64>) -> Result<Attempt, Outcome> {
        let controller = AbortController::new().map_err(|e| Outcome::Network(describe(&e)))?;
        let timed_out = Rc::new(Cell::new(false));
        let paused = Rc::new(Cell::new(false));
        let arrivals = Rc::new(Cell::new(0u64));
        let watchdog = idle_ms.map(|idle| {
            let (c, t, arrived, paused) = (
                controller.clone(),
                timed_out.clone(),
                arrivals.clone(),
                paused.clone(),
            );
            let period = (idle / 4).clamp(25, 5_000) as u32;
            // The last arrival is dated by the tick that noticed it: the timeout fires between
            // `idle` and `idle` + 2 periods (half the idle time at most) after it.
            let (mut seen, mut seen_at) = (0u64, now_ms());
            Interval::new(period, move || {
                let now = now_ms();
                if paused.get() {
                    // Waiting on purpose (the history is being listed): not idle.
                    seen_at = now;
                } else if arrived.get() != seen {
                    seen = arrived.get();
                    seen_at = now;
                } else if !t.get() && now - seen_at >= idle as f64 {
                    t.set(true);
                    c.abort();
                }
            })
        });
        let pending_reject: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
        let aborted = Rc::new(Cell::new(false));
        let reader: Rc<RefCell<Option<BodyReader>>> = Rc::new(RefCell::new(None));
        let abort_listener = {
            let (pending, flag, reader) = (pending_reject.clone(), aborted.clone(), reader.clone());
            EventListener::once(&controller.signal(), "abort", move |_| {
                flag.set(true);
                let reject = pending.borrow_mut().take();
                if let Some(reject) = reject {
                    let _ = reject.call1(&JsValue::UNDEFINED, &JsValue::from_str("aborted"));
                }
                let r = reader.borrow().clone();
                if let Some(r) = r {
                    r.abort();
                }
            })
        };
        Ok(Attempt {
            controller,
            reader,
            timed_out,
            arrivals,
            idle_ms,
            paused,
            _watchdog: watchdog,
            pending_reject,
            aborted,
            _abort_listener: abort_listener,
        })
    }

    /// Pauses the idle watchdog (while the body is left unread on purpose) or resumes it.
    pub(crate) fn pause_watchdog(&self, paused: bool) {
        self.paused.set(paused);
    }

    /// The controller, so that `close()` can abort the attempt from outside.
    pub(crate) fn controller(&self) -> &AbortController {
        &self.controller
    }

    /// Waits for `value` (a promise or not), or for the abort, whichever comes first.
    async fn settle(&self, value: &JsValue) -> Result<JsValue, JsValue> {
        let p = Promise::resolve(value);
        if self.aborted.get() {
            ignore_rejection(&p);
            return Err(JsValue::from_str("aborted"));
        }
        let mut reject_slot: Option<Function> = None;
        let abort = Promise::new(&mut |_, reject| reject_slot = Some(reject));
        *self.pending_reject.borrow_mut() = reject_slot;
        let result = JsFuture::from(Promise::race(&js_sys::Array::of2(&p, &abort))).await;
        self.pending_reject.borrow_mut().take();
        result
    }

    fn failure(&self, e: &JsValue) -> Outcome {
        match (self.timed_out.get(), self.idle_ms) {
            (true, Some(idle)) => Outcome::IdleTimeout(idle),
            _ => Outcome::Network(describe(e)),
        }
    }

    /// Sends the request with `fetch` and checks the response. On success the body is ready
    /// to read (event stream) or returned (JSON).
    pub(crate) async fn send(
        &mut self,
        fetch: &Function,
        url: &str,
        headers: &[(String, String)],
        expect: Expect,
    ) -> Result<Option<String>, Outcome> {
        let init = Object::new();
        let header_obj = Object::new();
        for (k, v) in headers {
            set(&header_obj, k, &JsValue::from_str(v));
        }
        set(&init, "method", &JsValue::from_str("GET"));
        set(&init, "headers", &header_obj);
        set(&init, "cache", &JsValue::from_str("no-store"));
        set(&init, "signal", &self.controller.signal());
        // Redirects are the client's to follow, within the origin only: `fetch` would carry
        // the headers (an `x-api-key`, say) to wherever the server points.
        set(&init, "redirect", &JsValue::from_str("manual"));
        // Only a token (which browsers drop at another origin) and the library's own headers:
        // a browser may follow a redirect it hides the target of.
        let only_token = headers.iter().all(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k == "accept" || k == "authorization" || k == "last-event-id"
        });
        let mut url = url.to_owned();
        let mut seen = vec![url.clone()];
        // A browser is left to follow a hidden redirect once, at most.
        let mut following = false;
        let response = loop {
            let returned = fetch
                .call2(&js_sys::global(), &JsValue::from_str(&url), &init)
                .map_err(|e| self.failure(&e))?;
            let response = self.settle(&returned).await.map_err(|e| self.failure(&e))?;
            if !response.is_object() {
                return Err(Outcome::Network(String::from(
                    "fetch resolved to something that is not a Response",
                )));
            }
            let response: Response = response.unchecked_into();
            let status = response.status();
            if response.type_() == web_sys::ResponseType::Opaqueredirect {
                // A browser hides where a redirect leads.
                if !only_token || following {
                    return Err(Outcome::Refused(Error::Redirect {
                        status: 0,
                        to: None,
                        reason: "which the browser does not show; with custom headers a redirect is not followed, so they reach no other origin",
                    }));
                }
                set(&init, "redirect", &JsValue::from_str("follow"));
                following = true;
                continue;
            }
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = response.headers().get("location").ok().flatten();
                cancel_body(&response);
                match follow_redirect(status, &url, location.as_deref(), &seen) {
                    Ok(next) => {
                        seen.push(next.clone());
                        url = next;
                        continue;
                    }
                    Err(e) => return Err(Outcome::Refused(e)),
                }
            }
            // A redirect the browser followed must have stayed within the origin.
            if response.redirected() {
                let (from, to) = (origin_of(&seen[0]), origin_of(&response.url()));
                if from.is_some() && from != to {
                    cancel_body(&response);
                    return Err(Outcome::Refused(Error::Redirect {
                        status: 0,
                        to,
                        reason: "to another origin; its answer is not used",
                    }));
                }
            }
            break response;
        };
        self.arrivals.set(self.arrivals.get() + 1);
        let status = response.status();
        let header = |name: &str| response.headers().get(name).ok().flatten();
        if status != 200 {
            let retry_after_ms =
                header("retry-after").and_then(|v| parse_retry_after(&v, now_ms()));
            let api = match response.text() {
                Ok(p) => self
                    .settle(&p)
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                    .and_then(|t| api_error(&t)),
                Err(_) => None,
            };
            return Err(Outcome::Status {
                status,
                api,
                retry_after_ms,
            });
        }
        let content_type = header("content-type").unwrap_or_default();
        let ok = match expect {
            Expect::EventStream => is_event_stream(&content_type),
            Expect::Json => is_json(&content_type),
        };
        if !ok {
            cancel_body(&response);
            return Err(Outcome::ContentType(content_type));
        }
        match expect {
            Expect::Json => {
                let text = response.text().map_err(|e| self.failure(&e))?;
                let text = self.settle(&text).await.map_err(|e| self.failure(&e))?;
                Ok(text.as_string())
            }
            Expect::EventStream => {
                let body = response.body().ok_or_else(|| {
                    Outcome::Network(String::from("the 200 response has no body"))
                })?;
                let reader = call_method(&body, "getReader").map_err(|e| {
                    Outcome::Network(format!("the response body has no reader: {}", describe(&e)))
                })?;
                *self.reader.borrow_mut() = Some(BodyReader::new(&reader));
                Ok(None)
            }
        }
    }

    /// Reads the body to its end, handing each chunk to `on_chunk` as it arrives (in one
    /// JavaScript loop: no Rust future per chunk; a chunk that is not bytes ends the pump with
    /// `Chunk::NotBytes`). Ends with `Chunk::Next` at the body's clean
    /// end, or with what `on_chunk` returned when that was not `Chunk::Next`.
    pub(crate) async fn pump(
        &mut self,
        mut on_chunk: impl FnMut(&[u8]) -> Chunk + 'static,
    ) -> Result<Chunk, Outcome> {
        let reader = match &*self.reader.borrow() {
            Some(r) => r.clone(),
            None => return Ok(Chunk::Next),
        };
        let arrivals = self.arrivals.clone();
        let mut buf = Vec::new();
        let callback = Closure::<dyn FnMut(Uint8Array) -> u32>::new(move |chunk: Uint8Array| {
            arrivals.set(arrivals.get() + 1);
            buf.resize(chunk.length() as usize, 0);
            chunk.copy_to(&mut buf);
            on_chunk(&buf) as u32
        });
        let ended = JsFuture::from(reader.pump(&callback)).await;
        if self.aborted.get() {
            // Closed, or the idle watchdog fired: a cancelled reader ends like a clean body.
            return Err(self.failure(&JsValue::from_str("aborted")));
        }
        let code = ended.map_err(|e| self.failure(&e))?;
        Ok(match code.as_f64() {
            Some(c) if c == Chunk::Stop as u32 as f64 => Chunk::Stop,
            Some(c) if c == Chunk::NotBytes as u32 as f64 => Chunk::NotBytes,
            _ => Chunk::Next,
        })
    }
}

/// What became of a chunk of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Handled: read the next one.
    Next = 0,
    /// Stop reading: the stream was closed or a terminal event was delivered.
    Stop = 1,
    /// The body yielded something that is not bytes.
    NotBytes = 2,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        // The abort listener cancels the reader.
        self.controller.abort();
    }
}

/// Releases a response's body that will not be read (its connection goes back or closes).
fn cancel_body(response: &Response) {
    if let Some(body) = response.body() {
        if let Ok(p) = call_method(&body, "cancel") {
            ignore_rejection(&p);
        }
    }
}

/// `target[name]()`, with a missing method or a throw as an `Err` instead of an exception.
fn call_method(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    let f = Reflect::get(target, &JsValue::from_str(name))?;
    match f.dyn_ref::<Function>() {
        Some(f) => f.call0(target),
        None => Err(JsValue::from_str(&format!("{name} is not a function"))),
    }
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// The fetch to use: the application's, or the global one.
pub(crate) fn global_fetch() -> Option<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("fetch"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}
