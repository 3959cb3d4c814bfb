//! The typed event model and its tolerant decoder. Pure: no browser type in sight.
//!
//! An SSE frame's `data` becomes an [`Event`] with [`decode`]: the common envelope (`id`,
//! `type`, `session_thread_id`, …) is typed on [`Event`], the fields of each known event type
//! are typed in a [`Payload`] variant, and every other key is kept in [`Event::extra`].
//!
//! # Tolerance, in one place
//! - Only `type` is required, and it comes from the SSE `event:` name when the JSON lacks it
//!   (`id` likewise from the SSE `id:` line).
//! - An unknown event type is [`Payload::Unknown`], never an error.
//! - Unknown fields are kept in [`Event::extra`]; so are known fields whose value is `null` or
//!   of an unexpected JSON type (say `agent_version` as a string): the typed field is then
//!   `None`, the event is still delivered.
//! - `status`, `role` and `direction` are open enums ([`ThreadStatus`], [`Role`],
//!   [`Direction`]) with an `Other(String)`; [`StopReason`] and [`ContentBlock`] keep unknown
//!   tags as the raw JSON.
//! - Serialising an [`Event`] (serde) gives back the JSON object that was received, with the
//!   wire's snake_case names.
//! - Only a `data` that is not JSON, or JSON but not an object, is a
//!   [`DecodeError`](crate::DecodeError), which names the event and the line and column.
//!
//! ```
//! use threadtail::events::{decode, Payload};
//!
//! let data = r#"{"type":"session.thread_created","parent_thread_id":"sthr_1","agent_version":"2"}"#;
//! let event = decode("session.thread_created", Some("evt_1"), data).unwrap();
//! assert_eq!(event.id.as_deref(), Some("evt_1"));
//! match &event.payload {
//!     Payload::ThreadCreated(created) => {
//!         assert_eq!(created.parent_thread_id.as_deref(), Some("sthr_1"));
//!         // A string where a number was expected: kept raw, not fatal.
//!         assert_eq!(created.agent_version, None);
//!         assert_eq!(event.extra["agent_version"], "2");
//!     }
//!     other => panic!("unexpected payload {other:?}"),
//! }
//! ```

mod content;
mod decode;
mod event;
mod instant;
mod payload;
mod record;
mod stop_reason;
mod values;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod dts_drift;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use content::{Content, ContentBlock};
pub use decode::{
    decode, decode_error, is_keepalive_type, is_terminal_type, SESSION_TERMINAL_TYPES,
    THREAD_TERMINAL_TYPES,
};
pub use event::{Event, ENVELOPE_FIELDS};
pub use instant::{creation_order, Instant};
pub use payload::*;
pub use record::Object;
pub use stop_reason::StopReason;
pub use values::{Direction, Role, ThreadStatus};
