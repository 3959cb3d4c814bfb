//! The typed event model (placeholder until the events module lands).
