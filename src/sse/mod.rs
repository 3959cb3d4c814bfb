//! The `text/event-stream` parser: WHATWG HTML §9.2 "Server-sent events", push-based over bytes.
//!
//! The parser knows nothing about transports: feed it bytes as they arrive from `fetch`, a
//! file, a WebSocket or a test, in chunks of any size, and it reports events, comments, `retry:`
//! values and size-limit errors to a [`Sink`]. Its cost is linear in the bytes fed, however they
//! are chunked.
//!
//! ```
//! use threadtail::sse::{Item, Parser};
//!
//! let mut parser = Parser::new();
//! let mut items: Vec<Item> = Vec::new();
//! parser.push(b"id: 1\nevent: greet\ndata: hel", &mut items);
//! parser.push(b"lo\n\n: keep-alive\n", &mut items);
//! assert_eq!(items.len(), 2);
//! match &items[0] {
//!     Item::Event(e) => {
//!         assert_eq!((e.event_type.as_str(), e.data.as_str()), ("greet", "hello"));
//!         assert_eq!(e.id.as_deref(), Some("1"));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert_eq!(items[1], Item::Comment("keep-alive".into()));
//! ```

mod parser;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use parser::{EventRef, Item, Parser, Sink, SseEvent, DEFAULT_MAX_EVENT_BYTES};
