//! HTTP routes: the API (`/v1` and prefixes), the control API, static files.

pub mod api;
pub mod control;
pub mod static_files;
