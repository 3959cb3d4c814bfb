//! The wasm-bindgen layer: JavaScript classes and functions that convert and forward to the
//! Rust client and parser. No behaviour lives here that the Rust API lacks.

mod error;
mod list;
mod options;
mod parser;
mod stream;

pub use list::{list_thread_events, list_threads, ListIterator};
pub use parser::SseParser;
pub use stream::{EventIterator, SessionStream, ThreadStream};

#[cfg(feature = "dev-panic-hook")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// `Debug` for the exported classes: their insides are JS handles, so the name says enough.
macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    )*};
}

opaque_debug!(
    ListIterator,
    SseParser,
    EventIterator,
    ThreadStream,
    SessionStream
);
