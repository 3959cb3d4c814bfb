//! Retry policy, dedupe and the connection state machine.
