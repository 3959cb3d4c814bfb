//! The SSE parser.
