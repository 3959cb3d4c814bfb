//! Integration tests over real loopback HTTP: the server runs in-process on port 0 and is
//! driven by the crate's raw HTTP/1.1 client.

mod api;
mod common;
mod control;
mod faults;
mod list_faults;
mod origin;
mod resume;
mod stream;
