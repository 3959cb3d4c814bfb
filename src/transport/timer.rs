//! Owned timers: a sleep that can be ended early, and an interval. Dropping either clears it.

use super::js::{clear_interval, clear_timeout, set_interval, set_timeout};
use crate::glue::deferred;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A delay that `close()`, `online` or a visible page can end early by calling its waker.
#[must_use = "a sleep does nothing unless awaited"]
#[derive(Debug)]
pub(crate) struct Sleep {
    promise: Promise,
    resolve: Function,
    handle: JsValue,
}

impl Sleep {
    /// Starts a timer of `ms` milliseconds.
    pub(crate) fn new(ms: u64) -> Sleep {
        let d = deferred();
        let resolve = d.resolve();
        let handle = set_timeout(&resolve, ms as f64);
        Sleep {
            promise: d.promise(),
            resolve,
            handle,
        }
    }

    /// A function that ends the sleep now when called.
    pub(crate) fn waker(&self) -> Function {
        self.resolve.clone()
    }

    /// Waits until the timer fires or the waker is called.
    pub(crate) async fn wait(&self) {
        let _ = JsFuture::from(self.promise.clone()).await;
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// A repeating timer that owns its callback; dropping it clears the interval and frees the
/// closure (so nothing leaks per connection attempt).
#[derive(Debug)]
pub(crate) struct Interval {
    handle: JsValue,
    _closure: Closure<dyn FnMut()>,
}

impl Interval {
    /// Calls `f` every `ms` milliseconds until dropped.
    pub(crate) fn new(ms: u64, f: impl FnMut() + 'static) -> Interval {
        let closure = Closure::<dyn FnMut()>::new(f);
        let handle = set_interval(closure.as_ref().unchecked_ref(), ms as f64);
        Interval {
            handle,
            _closure: closure,
        }
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        clear_interval(&self.handle);
    }
}
