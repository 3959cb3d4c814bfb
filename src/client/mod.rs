//! The stream client for wasm applications: `fetch` streaming with headers, exact resume,
//! backoff, typed events. The JavaScript classes are thin layers over this module, and Rust
//! web apps (Leptos, Yew, Dioxus) use it directly:
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")] {
//! use threadtail::client::{Callbacks, StreamConfig, ThreadStream, Token};
//! use threadtail::request::Target;
//!
//! let config = StreamConfig::new(
//!     "https://api.example.com/v1",
//!     Target::Thread { session_id: "sess_…".into(), thread_id: "sthr_…".into() },
//!     Token::Static("…".into()),
//! );
//! let stream = ThreadStream::connect(config, Callbacks::new(|event, _update| {
//!     if let threadtail::events::Payload::ThreadCreated(created) = &event.payload {
//!         // created.parent_thread_id …
//!     }
//! }))
//! .expect("valid options");
//! // … later; dropping the stream closes it too.
//! stream.close();
//! # }
//! ```

mod config;
mod handler;
mod runner;
mod rust_api;

pub use config::{History, StreamConfig, Token, TokenFuture, TransportKind};
pub use handler::{Flushed, Handler, ReconnectInfo};
pub use runner::Shared;
pub(crate) use runner::{
    drive_stream, fetch_page, listeners as runner_listeners, Delivery, PageRequest, Source,
};
pub(crate) use rust_api::Quiet;
pub use rust_api::{list_thread_events, list_threads, Callbacks, EventStream, ThreadStream};
