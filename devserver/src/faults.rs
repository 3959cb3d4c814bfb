//! Faults armed through `/_control/faults` for the next N stream connections.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What to break, and for how many stream connections.
///
/// Every field but `count` is optional; they combine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Number of stream connections the faults apply to.
    pub count: u32,
    /// End the body after exactly this many bytes (cutting mid-line or mid-character).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_after_bytes: Option<u64>,
    /// Write the body in pieces of at most this many bytes, each its own frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_bytes: Option<usize>,
    /// Sleep this long before every write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_delay_ms: Option<u64>,
    /// Answer this status with an error body instead of the stream (204: empty body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Answer the stream with this (wrong) `Content-Type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Send `retry: <ms>` as the first line of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_ms: Option<u64>,
    /// Send the headers, then nothing for this long before the body starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_ms: Option<u64>,
    /// With `close_after_bytes`: abort the connection (no terminating chunk) instead of ending
    /// the body cleanly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<bool>,
}

impl FaultSpec {
    /// Checks the values that would make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.chunk_bytes == Some(0) {
            return Err("'chunk_bytes' must be > 0.".into());
        }
        if let Some(s) = self.status {
            if !(200..=599).contains(&s) {
                return Err("'status' must be an HTTP status between 200 and 599.".into());
            }
        }
        if let Some(ct) = &self.content_type {
            if axum::http::HeaderValue::from_str(ct).is_err() {
                return Err("'content_type' is not a valid header value.".into());
            }
        }
        Ok(())
    }
}

/// The armed faults, shared by every stream route.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Option<FaultSpec>>,
}

impl Faults {
    /// Arms `spec` (replacing what was armed); returns the number of connections armed.
    pub fn arm(&self, spec: FaultSpec) -> u32 {
        let n = spec.count;
        *self.lock() = (n > 0).then_some(spec);
        n
    }

    /// Disarms everything.
    pub fn disarm(&self) {
        *self.lock() = None;
    }

    /// What is armed now.
    pub fn current(&self) -> Option<FaultSpec> {
        self.lock().clone()
    }

    /// Takes the faults for one connection, counting it.
    pub fn take(&self) -> Option<FaultSpec> {
        let mut armed = self.lock();
        let spec = armed.as_mut()?;
        let taken = spec.clone();
        spec.count -= 1;
        if spec.count == 0 {
            *armed = None;
        }
        Some(taken)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<FaultSpec>> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down() {
        let f = Faults::default();
        assert_eq!(
            f.arm(FaultSpec {
                count: 2,
                stall_ms: Some(5),
                ..Default::default()
            }),
            2
        );
        assert!(f.take().is_some());
        assert!(f.take().is_some());
        assert!(f.take().is_none());
        f.arm(FaultSpec {
            count: 1,
            ..Default::default()
        });
        f.disarm();
        assert!(f.take().is_none());
    }
}
