//! # threadtail
//!
//! Follow the live event stream of an agent session's thread over Server-Sent Events, with
//! typed events, exact resume and clear errors. See the README for the JavaScript API.
//!
//! The crate is split into a pure core, tested natively with `cargo test`, and thin browser
//! glue compiled only for `wasm32`:
//!
//! - [`sse`]: the WHATWG `text/event-stream` parser, push-based over bytes;
//! - [`events`]: the typed event model and its tolerant decoder;
//! - [`resume`]: retry policy, dedupe and the connection state machine;
//! - [`request`]: URL and header building, id validation;
//! - [`error`]: the error type and its stable kinds.
//!
//! On `wasm32`, `client` is the stream client for Rust web apps, and the JavaScript classes
//! (`ThreadStream`, `SessionStream`, `SseParser`, `listThreads`, `listThreadEvents`) are built
//! on it.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod boundary;
pub mod error;
pub mod events;
mod holes;
pub mod request;
pub mod resume;
pub mod sse;
mod utf16;

#[cfg(target_arch = "wasm32")]
pub mod client;
#[cfg(target_arch = "wasm32")]
mod glue;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod transport;

#[cfg(target_arch = "wasm32")]
pub use js::{
    list_thread_events, list_threads, EventIterator, ListIterator, SessionStream, SseParser,
    ThreadStream,
};

pub use error::{ApiError, DecodeError, Error, ErrorKind};
