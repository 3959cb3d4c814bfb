//! `listThreads` and `listThreadEvents`: async iterators over the REST list routes that follow
//! `next_page` to the end, with `Accept: application/json`, the stream's error kinds and its
//! retry policy.

use super::error::to_js;
use super::options::{count_at_least, function, headers, string, strings, token};
use crate::client::{fetch_page, PageRequest, Shared, Token};
use crate::error::Error;
use crate::glue::iter_result;
use crate::request::{
    normalize_base_url, threads_url, validate_header, validate_id, validate_types, Target,
};
use crate::resume::{Paging, RetryOptions};
use crate::transport::fetch::global_fetch;
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

enum Route {
    Threads { statuses: Vec<String> },
    Events { target: Target, types: Vec<String> },
}

struct Pager {
    base: String,
    session_id: String,
    route: Route,
    limit: Option<u32>,
    token: Token,
    headers: Vec<(String, String)>,
    fetch: Function,
    retry: RetryOptions,
    buffer: VecDeque<JsValue>,
    /// The page to fetch next (see [`Paging::next_page`]).
    paging: Paging,
    /// A paging error, raised once the items before it were handed out.
    pending_error: Option<Error>,
    done: bool,
}

impl Pager {
    fn url(&self, page: Option<&str>) -> String {
        match &self.route {
            Route::Threads { statuses } => {
                threads_url(&self.base, &self.session_id, statuses, self.limit, page)
            }
            Route::Events { target, types } => {
                target.history_url(&self.base, types, self.limit, page)
            }
        }
    }
}

/// An async iterator over the items of a list route (`for await (const item of …)`).
#[wasm_bindgen(skip_typescript)]
pub struct ListIterator {
    pager: Rc<RefCell<Pager>>,
    /// `return()` closes it: the request in flight is aborted, no other is made.
    shared: Rc<Shared>,
    /// The last `next()` promise: a call made before it settled waits for it, so that two
    /// calls in flight get two items in order (and never fetch one page twice).
    last: RefCell<Option<Promise>>,
}

#[wasm_bindgen]
impl ListIterator {
    /// The next item, fetching the next page when needed.
    pub fn next(&self) -> Promise {
        let (pager, shared) = (self.pager.clone(), self.shared.clone());
        let before = self.last.borrow_mut().take();
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            if let Some(before) = before {
                // Its outcome is its caller's; only its end matters here.
                let _ = wasm_bindgen_futures::JsFuture::from(before).await;
            }
            loop {
                let (url, fetch, token, headers, retry) = {
                    let mut p = pager.borrow_mut();
                    if let Some(v) = p.buffer.pop_front() {
                        return Ok(iter_result(false, &v).into());
                    }
                    if let Some(e) = p.pending_error.take() {
                        p.done = true;
                        return Err(to_js(&e));
                    }
                    let Some(page) = p
                        .paging
                        .next_page()
                        .filter(|_| !p.done && !shared.is_closed())
                    else {
                        p.done = true;
                        return Ok(iter_result(true, &JsValue::UNDEFINED).into());
                    };
                    (
                        p.url(page),
                        p.fetch.clone(),
                        p.token.clone(),
                        p.headers.clone(),
                        p.retry,
                    )
                };
                let req = PageRequest {
                    shared: &shared,
                    fetch: &fetch,
                    url: &url,
                    token: &token,
                    headers: &headers,
                    retry,
                    idle_ms: None,
                };
                let fetched = fetch_page(&req, &|_| {}).await;
                let mut p = pager.borrow_mut();
                if shared.is_closed() {
                    // `return()` came while the page was on its way (and aborted it): the
                    // iteration is over, not failed.
                    p.done = true;
                    return Ok(iter_result(true, &JsValue::UNDEFINED).into());
                }
                let (items, next) = fetched.map_err(|e| {
                    p.done = true;
                    to_js(&e)
                })?;
                let count = items.length() as usize;
                p.buffer.extend(items.iter());
                // The items of this page are still handed out; an error ends the listing
                // after them.
                p.pending_error = p.paging.arrived(next.as_deref(), count).err();
            }
        });
        *self.last.borrow_mut() = Some(promise.clone());
        promise
    }

    /// Stops the iteration.
    #[wasm_bindgen(js_name = "return")]
    pub fn return_(&self) -> Promise {
        self.shared.close();
        let mut p = self.pager.borrow_mut();
        p.done = true;
        p.buffer.clear();
        Promise::resolve(&JsValue::from(iter_result(true, &JsValue::UNDEFINED)))
    }
}

fn pager(
    options: &JsValue,
    route: impl FnOnce(&str) -> Result<Route, JsValue>,
) -> Result<ListIterator, JsValue> {
    if !options.is_object() {
        return Err(super::error::invalid(
            "options",
            "pass an object such as { baseUrl, sessionId, token }",
        ));
    }
    let base = normalize_base_url(&string(options, "baseUrl", true)?.unwrap_or_default())
        .map_err(|e| to_js(&e))?;
    let session_id = string(options, "sessionId", true)?.unwrap_or_default();
    validate_id("sessionId", &session_id).map_err(|e| to_js(&e))?;
    let route = route(&session_id)?;
    let hdrs = headers(options)?;
    for (k, v) in &hdrs {
        validate_header(k, v).map_err(|e| to_js(&e))?;
    }
    let limit = count_at_least(options, "limit", 1)?.map(|n| n.min(1000) as u32);
    let fetch = function(options, "fetch")?
        .or_else(global_fetch)
        .ok_or_else(|| {
            super::error::invalid(
                "fetch",
                "this runtime has no global fetch; pass the fetch option",
            )
        })?;
    let max_attempts = count_at_least(options, "maxAttempts", 0)?
        .map(|n| n.min(u32::MAX as usize) as u32)
        .unwrap_or(4);
    Ok(ListIterator {
        shared: Shared::new(Rc::new(crate::client::Quiet), ""),
        last: RefCell::new(None),
        pager: Rc::new(RefCell::new(Pager {
            base,
            session_id,
            route,
            limit,
            token: token(options)?,
            headers: hdrs,
            fetch,
            retry: RetryOptions {
                max_attempts: Some(max_attempts),
                ..RetryOptions::default()
            },
            buffer: VecDeque::new(),
            paging: Paging::new(),
            pending_error: None,
            done: false,
        })),
    })
}

/// `listThreads({ baseUrl, sessionId, token, headers, statuses?, limit? })`: every thread of
/// a session, page by page.
#[wasm_bindgen(js_name = listThreads, skip_typescript)]
pub fn list_threads(options: JsValue) -> Result<ListIterator, JsValue> {
    let statuses = strings(&options, "statuses")?;
    pager(&options, |_| Ok(Route::Threads { statuses }))
}

/// `listThreadEvents({ baseUrl, sessionId, threadId, token, headers, types?, limit? })`: a
/// thread's event history, oldest first, page by page.
#[wasm_bindgen(js_name = listThreadEvents, skip_typescript)]
pub fn list_thread_events(options: JsValue) -> Result<ListIterator, JsValue> {
    let types = strings(&options, "types")?;
    validate_types(&types).map_err(|e| to_js(&e))?;
    let thread_id = string(&options, "threadId", true)?.unwrap_or_default();
    validate_id("threadId", &thread_id).map_err(|e| to_js(&e))?;
    pager(&options, move |sid| {
        Ok(Route::Events {
            target: Target::Thread {
                session_id: sid.to_owned(),
                thread_id,
            },
            types,
        })
    })
}
