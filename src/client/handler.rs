//! What a stream reports to the application.

use crate::error::Error;
use crate::sse::EventRef;

/// Details of a scheduled reconnect.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectInfo {
    /// The attempt number (1 for the first reconnect after a good connection).
    pub attempt: u32,
    /// The delay before it, in milliseconds.
    pub delay_ms: u64,
    /// Why: the error message, or "the server ended the stream".
    pub reason: String,
}

/// What a [`Handler::flush`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flushed {
    /// The stream must stop reading: a terminal event (by its JSON `type`) was delivered, or
    /// the stream was closed.
    pub stop: bool,
    /// How many of the events buffered since the last flush reached the application (a
    /// buffering handler may stop before the end of its buffer, when the application closes
    /// the stream in a listener); `None`: all of them.
    pub handed: Option<usize>,
}

/// Receives a stream's events and lifecycle. Methods take `&self` because an application's
/// callback may call back into the stream (`close()`, `on()`): implementors use interior
/// mutability and must not hold a borrow across the calls they make.
pub trait Handler {
    /// An event to deliver (already deduplicated, in order). `update` is true when an event
    /// with this id was delivered before with other content. A handler may buffer events until
    /// [`Handler::flush`], which the stream calls after each chunk.
    fn event(&self, event: EventRef<'_>, update: bool);
    /// Delivers what `event` buffered.
    fn flush(&self) -> Flushed {
        Flushed::default()
    }
    /// Whether the handler buffers events and reports in [`Flushed::handed`] how far it
    /// delivered them; otherwise an event counts as delivered when `event` is called.
    fn buffers(&self) -> bool {
        false
    }
    /// An error (fatal or not; `Error::retryable` tells).
    fn error(&self, error: &Error);
    /// The connection state changed.
    fn state(&self, state: crate::resume::State);
    /// A reconnect is scheduled.
    fn reconnect(&self, info: &ReconnectInfo);
    /// While a buffered batch is being delivered: how many of its events were handed over so
    /// far (a listener reading `lastEventId` asks). `None` outside a delivery.
    fn handing(&self) -> Option<usize> {
        None
    }
}

impl std::fmt::Debug for dyn Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}
