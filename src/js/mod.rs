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

/// Bytes handed to JavaScript, reused from batch to batch: the content is `bytes[..len]`, and what lies
/// past it is room kept from earlier batches, so that transcoding into it needs no zeroing.
#[derive(Default)]
struct ReusedBytes {
    bytes: Vec<u8>,
    len: usize,
}

impl ReusedBytes {
    /// The `n` bytes after the content, grown as needed.
    fn room(&mut self, n: usize) -> &mut [u8] {
        let end = self.len + n;
        if self.bytes.len() < end {
            self.bytes.resize(end.max(2 * self.bytes.len()), 0);
        }
        &mut self.bytes[self.len..end]
    }

    fn extend(&mut self, part: &[u8]) {
        self.room(part.len()).copy_from_slice(part);
        self.len += part.len();
    }

    /// Appends the UTF-16LE that `convert` (one of `utf16`'s transcoders) makes of `text`, and
    /// returns where it ends; None, with nothing appended, when `convert` refuses the text.
    fn push_utf16(
        &mut self,
        text: &[u8],
        convert: fn(&[u8], &mut [u8]) -> Option<usize>,
    ) -> Option<u32> {
        let n = convert(text, self.room(crate::utf16::room(text.len())))?;
        self.len += n;
        Some(self.len as u32)
    }

    /// Empties it, keeping up to 1 MiB of room: a huge event does not pin its size for the
    /// life of the stream.
    fn clear(&mut self) {
        self.len = 0;
        if self.bytes.len() > 1 << 20 {
            self.bytes = Vec::new();
        }
    }

    fn content(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Where the content is in wasm memory, and its length (wasm32 memory is at most 4 GiB).
    fn raw(&self) -> (u32, u32) {
        (self.bytes.as_ptr() as u32, self.len as u32)
    }
}

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
