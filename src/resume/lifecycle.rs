//! The life of a stream as one explicit state machine, with no I/O (sans-IO).
//!
//! A driver (one per runtime and transport, in `client/` and `transport/`) feeds it what
//! happened ([`Input`]) and carries out what it answers ([`Command`]): resolve the token,
//! connect, read, sleep, report, change state, stop. Time and randomness come in with the inputs, so
//! every path is walked by native tests, and a property test checks the invariants over random
//! input sequences:
//! - at most one request (token or connection) in flight, and a sleep only between them;
//! - nothing at all after [`Command::Stop`];
//! - every delay within `[minDelayMs, maxDelayMs]`, or up to a server's `Retry-After` (capped
//!   at [`MAX_RETRY_AFTER_MS`]), and never beyond the platform timer's limit;
//! - the backoff grows under repeated failure and resets only after a connection stayed open
//!   `healthyAfterMs`; `maxAttempts` consecutive failures end the stream.
//!
//! Events, the parser and the dedupe are not here: they run per chunk in the delivery, and
//! tell the machine only that a terminal event arrived.

use super::decide::{decide, Decision, Outcome};
use super::policy::{Backoff, RetryOptions};
use super::State;
use crate::error::Error;

/// What the machine is told.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin.
    Start,
    /// The token provider answered (`Err`: it failed, with its message).
    TokenResolved(Result<(), String>),
    /// The response is a 200 of the right content type; its body is being read.
    Opened {
        /// The clock, in milliseconds.
        now_ms: f64,
    },
    /// The connection attempt ended (before or after it opened).
    Ended {
        /// How.
        outcome: Outcome,
        /// The clock, in milliseconds.
        now_ms: f64,
        /// Uniform in `[0, 1)`, for the jitter.
        random: f64,
    },
    /// The body carried `retry: ms`: the base delay of the backoff from now on.
    ServerRetry(u64),
    /// A terminal event was delivered (or, for a one-shot request, its answer arrived): the
    /// stream is over.
    Terminal,
    /// The last [`Command::Sleep`] is over.
    TimerFired,
    /// The network came back or the page became visible: a backoff delay may end early.
    Wake,
    /// The application closed the stream (or its `AbortSignal` fired).
    Close,
    /// Something that cannot succeed on any retry (an invalid header value, a URL `fetch`
    /// refuses): report it and stop.
    Fatal(Error),
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask the token provider for a token (`refresh`: a fresh one, after a 401), then feed
    /// [`Input::TokenResolved`].
    ResolveToken {
        /// Whether the last token was refused.
        refresh: bool,
    },
    /// Send the request with the current token and resume point, then feed
    /// [`Input::Opened`] (or [`Input::Ended`] when it failed).
    Connect,
    /// Read the body, then feed [`Input::Ended`] (or [`Input::Terminal`]).
    Read,
    /// Wait this long, then feed [`Input::TimerFired`].
    Sleep {
        /// The delay, within the platform's timer limit.
        ms: u64,
    },
    /// Report an error to the application.
    Report(Error),
    /// The connection state changed.
    SetState(State),
    /// A reconnect is scheduled after a delay.
    Reconnecting {
        /// Consecutive failures so far (1 after a healthy connection).
        attempt: u32,
        /// The delay before it.
        delay_ms: u64,
        /// Why: the error's message, or "the server ended the stream".
        reason: String,
    },
    /// The stream is over: release every resource. No command follows.
    Stop,
}

/// The longest wait a server's `Retry-After` can impose: 10 minutes. A larger value (say
/// `9999999999`) is taken as this; a healthy server never asks for more.
pub const MAX_RETRY_AFTER_MS: u64 = 600_000;

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started.
    Idle,
    /// Waiting for the token provider.
    Token,
    /// A request is in flight.
    Connecting,
    /// The body is being read.
    Open,
    /// A backoff delay; `mandated` when the server set it (`Retry-After`): waking does not
    /// cut it short.
    Waiting { mandated: bool },
    /// Over.
    Closed,
}

/// The state machine of one stream.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    phase: Phase,
    backoff: Backoff,
    /// The token comes from a provider (it can be asked again, and refreshed after a 401).
    provider: bool,
    /// A refresh was asked since the last connection that opened.
    refreshed: bool,
    /// The next connection asks for a refreshed token.
    refresh_next: bool,
    /// The state last reported.
    state: State,
}

impl Lifecycle {
    /// A machine for a stream with these retry options; `provider` when the token comes from
    /// a function (asked before each connection).
    pub fn new(retry: RetryOptions, provider: bool) -> Lifecycle {
        Lifecycle {
            phase: Phase::Idle,
            backoff: Backoff::new(retry),
            provider,
            refreshed: false,
            refresh_next: false,
            state: State::Connecting,
        }
    }

    /// Whether the stream is over.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The backoff, for a server's `retry:` field.
    pub fn backoff_mut(&mut self) -> &mut Backoff {
        &mut self.backoff
    }

    /// Takes one input; returns the commands to carry out, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Command> {
        let mut out = Vec::new();
        match (self.phase, input) {
            // Nothing happens after the end, whatever arrives late.
            (Phase::Closed, _) => {}
            (_, Input::Close) => self.stop(&mut out),
            (_, Input::Fatal(error)) => {
                out.push(Command::Report(error));
                self.stop(&mut out);
            }
            (Phase::Idle, Input::Start) => self.attempt(&mut out),
            (Phase::Token, Input::TokenResolved(Ok(()))) => {
                self.phase = Phase::Connecting;
                out.push(Command::Connect);
            }
            (Phase::Token, Input::TokenResolved(Err(message))) => {
                let outcome = Outcome::Network(format!("the token provider failed: {message}"));
                // A provider failure is a failed attempt: it backs off like one.
                self.ended(outcome, f64::NAN, 0.5, &mut out);
            }
            (Phase::Connecting, Input::Opened { now_ms }) => {
                self.phase = Phase::Open;
                self.backoff.opened(now_ms);
                self.refreshed = false;
                self.set_state(State::Open, &mut out);
                out.push(Command::Read);
            }
            (
                Phase::Connecting | Phase::Open,
                Input::Ended {
                    outcome,
                    now_ms,
                    random,
                },
            ) => {
                self.backoff.ended(now_ms);
                self.ended(outcome, now_ms, random, &mut out);
            }
            (Phase::Connecting | Phase::Open, Input::Terminal) => self.stop(&mut out),
            (_, Input::ServerRetry(ms)) => self.backoff.set_server_retry(ms),
            (Phase::Waiting { .. }, Input::TimerFired)
            | (Phase::Waiting { mandated: false }, Input::Wake) => self.attempt(&mut out),
            // Anything else is stale (a timer of an earlier phase) or not for this phase.
            _ => {}
        }
        out
    }

    /// Starts an attempt: the token first when a provider gives it.
    fn attempt(&mut self, out: &mut Vec<Command>) {
        if self.provider {
            self.phase = Phase::Token;
            out.push(Command::ResolveToken {
                refresh: std::mem::take(&mut self.refresh_next),
            });
        } else {
            self.phase = Phase::Connecting;
            out.push(Command::Connect);
        }
    }

    fn ended(&mut self, outcome: Outcome, now_ms: f64, random: f64, out: &mut Vec<Command>) {
        let can_refresh = self.provider && !self.refreshed;
        match decide(outcome, can_refresh) {
            Decision::RefreshToken => {
                self.refreshed = true;
                self.refresh_next = true;
                self.attempt(out);
            }
            Decision::Stop(error) => {
                out.push(Command::Report(error));
                self.stop(out);
            }
            Decision::Retry {
                error,
                retry_after_ms,
            } => {
                let retry_after_ms = retry_after_ms.map(|ms| ms.min(MAX_RETRY_AFTER_MS));
                match self.backoff.next_delay(now_ms, random, retry_after_ms) {
                    None => {
                        if let Some(e) = error {
                            out.push(Command::Report(e));
                        }
                        out.push(Command::Report(Error::Network {
                            message: String::from("gave up: retry.maxAttempts reached"),
                        }));
                        self.stop(out);
                    }
                    Some(delay_ms) => {
                        let reason = error
                            .as_ref()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| String::from("the server ended the stream"));
                        if let Some(e) = error {
                            out.push(Command::Report(e));
                        }
                        self.set_state(State::Reconnecting, out);
                        out.push(Command::Reconnecting {
                            attempt: self.backoff.failures(),
                            delay_ms,
                            reason,
                        });
                        self.phase = Phase::Waiting {
                            mandated: retry_after_ms.is_some(),
                        };
                        out.push(Command::Sleep { ms: delay_ms });
                    }
                }
            }
        }
    }

    fn set_state(&mut self, state: State, out: &mut Vec<Command>) {
        if self.state != state {
            self.state = state;
            out.push(Command::SetState(state));
        }
    }

    fn stop(&mut self, out: &mut Vec<Command>) {
        self.set_state(State::Closed, out);
        self.phase = Phase::Closed;
        out.push(Command::Stop);
    }
}

#[cfg(test)]
mod tests;
