//! What to do after each connection attempt, with no I/O: the retry policy (time and
//! randomness are inputs), the classification of outcomes into retry / refresh / stop, and the
//! dedupe that makes every event arrive once across reconnects.

mod decide;
mod dedupe;
mod lifecycle;
mod paging;
mod point;
mod policy;

pub use decide::{decide, parse_retry_after, Decision, Outcome};
pub use dedupe::{data_hash, Dedupe, Seen, DEFAULT_WINDOW};
pub use lifecycle::{Command, Input, Lifecycle, MAX_RETRY_AFTER_MS};
pub use paging::{Paging, MAX_PAGES};
pub use point::{
    has_line_break_or_nul, header_value, unresumable, ResumePoint, MAX_RESUME_ID_BYTES,
};
pub use policy::{Backoff, RetryOptions, MAX_TIMER_MS};

/// The connection state an application sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The first connection attempt is in flight.
    Connecting,
    /// A 200 `text/event-stream` response is being read.
    Open,
    /// Waiting (backoff) or connecting again after a drop.
    Reconnecting,
    /// Over: closed by the application, by the end of the thread, or by a fatal error.
    Closed,
}

impl State {
    /// The string form used in JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Closed => "closed",
        }
    }
}
