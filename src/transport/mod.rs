//! Browser glue: `fetch` with a streamed body, timers, lifecycle listeners and the native
//! `EventSource`. Every JS resource here has one Rust owner whose `Drop` releases it.
//!
//! Globals (`fetch`, `setTimeout`, `setInterval`) are bound on the global object, never on
//! `window`, so the same code runs in a Window, a Web Worker and Node.

pub(crate) mod eventsource;
pub(crate) mod fetch;
pub(crate) mod js;
pub(crate) mod lifecycle;
pub(crate) mod timer;
