//! Owned timers: `gloo-timers`' `Timeout` and `Interval` clear themselves when dropped (so
//! nothing leaks per connection attempt); a sleep adds the early end that `close()`, `online`
//! or a visible page need.

use crate::glue::deferred;
use crate::resume::MAX_TIMER_MS;
pub(crate) use gloo_timers::callback::Interval;
use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// A delay that `close()`, `online` or a visible page can end early by calling its waker.
#[must_use = "a sleep does nothing unless awaited"]
#[derive(Debug)]
pub(crate) struct Sleep {
    promise: Promise,
    resolve: Function,
    _timeout: Timeout,
}

impl Sleep {
    /// Starts a timer of `ms` milliseconds.
    pub(crate) fn new(ms: u64) -> Sleep {
        let d = deferred();
        let resolve = d.resolve();
        let fire = resolve.clone();
        // A longer delay overflows the timer's 32-bit delay and would fire at once; the retry
        // policy never asks for one.
        let ms = ms.min(MAX_TIMER_MS) as u32;
        let timeout = Timeout::new(ms, move || {
            let _ = fire.call0(&JsValue::UNDEFINED);
        });
        Sleep {
            promise: d.promise(),
            resolve,
            _timeout: timeout,
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
