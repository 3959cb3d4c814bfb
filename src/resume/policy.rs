//! Exponential backoff with full jitter, capped, with a floor so that `retry: 0` cannot
//! busy-loop, reset only after a connection has stayed healthy for a while.

/// The retry options an application can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOptions {
    /// The base delay before the first reconnect (a server `retry:` replaces it).
    pub initial_delay_ms: u64,
    /// The cap of any computed delay (a server's `Retry-After` may ask for more).
    pub max_delay_ms: u64,
    /// Consecutive failed attempts allowed before giving up; `None` retries forever.
    pub max_attempts: Option<u32>,
    /// A connection open this long counts as healthy: the next failure starts from the base
    /// delay again.
    pub healthy_after_ms: u64,
    /// No delay is shorter than this, whatever `retry:` says.
    pub min_delay_ms: u64,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            initial_delay_ms: 1_000,
            max_delay_ms: 30_000,
            max_attempts: None,
            healthy_after_ms: 10_000,
            min_delay_ms: 100,
        }
    }
}

/// The longest delay a timer can wait: `setTimeout` fires at once for anything above
/// 2^31 - 1 ms (about 24.8 days), so a larger delay would become a busy loop.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// The backoff state of one stream.
#[derive(Debug, Clone)]
pub struct Backoff {
    options: RetryOptions,
    /// Consecutive failures since the last healthy connection.
    failures: u32,
    /// The server's latest `retry:` value.
    server_retry_ms: Option<u64>,
    /// When the current connection opened, if it is open.
    opened_at_ms: Option<f64>,
}

impl Backoff {
    /// A fresh backoff.
    pub fn new(options: RetryOptions) -> Backoff {
        Backoff {
            options,
            failures: 0,
            server_retry_ms: None,
            opened_at_ms: None,
        }
    }

    /// The options in force.
    pub fn options(&self) -> &RetryOptions {
        &self.options
    }

    /// Consecutive failures so far (the attempt number of the next reconnect).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A connection opened (200 with the right content type) at `now_ms`.
    pub fn opened(&mut self, now_ms: f64) {
        self.opened_at_ms = Some(now_ms);
    }

    /// The connection that opened ended at `now_ms`: when it stayed open `healthyAfterMs`,
    /// the next failure starts the backoff over, whatever ended it (even a 401 that only
    /// refreshes the token). [`Backoff::next_delay`] does the same when this was not called.
    pub fn ended(&mut self, now_ms: f64) {
        if let Some(opened) = self.opened_at_ms.take() {
            if now_ms - opened >= self.options.healthy_after_ms as f64 {
                self.failures = 0;
            }
        }
    }

    /// The server sent `retry: ms`: it becomes the base delay.
    pub fn set_server_retry(&mut self, ms: u64) {
        self.server_retry_ms = Some(ms);
    }

    /// The base delay: the server's `retry:` if any, else the initial delay, never below the
    /// floor.
    pub fn base_ms(&self) -> u64 {
        self.server_retry_ms
            .unwrap_or(self.options.initial_delay_ms)
            .max(self.options.min_delay_ms)
    }

    /// A connection attempt failed or ended at `now_ms`. Returns the delay before the next
    /// attempt, or `None` when `max_attempts` is exhausted.
    ///
    /// `random` is uniform in `[0, 1)`; `retry_after_ms` is a server's `Retry-After`, which is
    /// honoured as a lower bound. No delay exceeds [`MAX_TIMER_MS`]. The delay is "full jitter": uniform in `[floor, cap]` where
    /// `cap = min(max, base * 2^(failures - 1))`.
    pub fn next_delay(
        &mut self,
        now_ms: f64,
        random: f64,
        retry_after_ms: Option<u64>,
    ) -> Option<u64> {
        self.ended(now_ms);
        self.failures = self.failures.saturating_add(1);
        if let Some(max) = self.options.max_attempts {
            if self.failures > max {
                return None;
            }
        }
        let floor = self.options.min_delay_ms;
        let exp = self.failures.saturating_sub(1).min(32);
        let cap = self
            .base_ms()
            .saturating_mul(1u64 << exp)
            .min(self.options.max_delay_ms.max(floor));
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let jittered = floor + ((cap.saturating_sub(floor)) as f64 * random) as u64;
        let delay = match retry_after_ms {
            Some(after) => jittered.max(after),
            None => jittered,
        };
        Some(delay.min(MAX_TIMER_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults: 1 s base, 30 s cap, 100 ms floor, 10 s to count as healthy.
    fn opts() -> RetryOptions {
        RetryOptions::default()
    }

    #[test]
    fn grows_exponentially_within_jitter_bounds() {
        let mut b = Backoff::new(opts());
        let caps = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
        for cap in caps {
            let mut lo = b.clone();
            let mut hi = b.clone();
            assert_eq!(lo.next_delay(0.0, 0.0, None), Some(100));
            assert_eq!(hi.next_delay(0.0, 0.999_999_9, None), Some(cap - 1));
            let d = b.next_delay(0.0, 0.5, None).unwrap();
            assert!((100..=cap).contains(&d), "{d} not in [100, {cap}]");
        }
    }

    #[test]
    fn server_retry_sets_the_base_with_a_floor() {
        let mut b = Backoff::new(opts());
        b.set_server_retry(0);
        assert_eq!(b.base_ms(), 100);
        // retry: 0 can never give a delay under the floor, however the dice fall.
        for _ in 0..10 {
            assert!(b.next_delay(0.0, 0.0, None).unwrap() >= 100);
        }
        let mut b = Backoff::new(opts());
        b.set_server_retry(250);
        assert_eq!(b.next_delay(0.0, 0.999_999_9, None), Some(249));
    }

    #[test]
    fn retry_after_is_a_lower_bound() {
        let mut b = Backoff::new(opts());
        assert_eq!(b.next_delay(0.0, 0.0, Some(3_000)), Some(3_000));
        // Retry-After may exceed the cap: the server knows best.
        assert_eq!(b.next_delay(0.0, 0.0, Some(60_000)), Some(60_000));
    }

    #[test]
    fn resets_only_after_a_healthy_connection() {
        let mut b = Backoff::new(opts());
        for _ in 0..4 {
            b.next_delay(0.0, 0.5, None);
        }
        assert_eq!(b.failures(), 4);
        // Open briefly, then fail: still backing off.
        b.opened(1_000.0);
        b.next_delay(2_000.0, 0.5, None);
        assert_eq!(b.failures(), 5);
        // Open for longer than healthy_after: the next failure starts over.
        b.opened(10_000.0);
        b.next_delay(25_000.0, 0.5, None);
        assert_eq!(b.failures(), 1);
    }

    #[test]
    fn max_attempts_gives_up() {
        let mut b = Backoff::new(RetryOptions {
            max_attempts: Some(2),
            ..opts()
        });
        assert!(b.next_delay(0.0, 0.5, None).is_some());
        assert!(b.next_delay(0.0, 0.5, None).is_some());
        assert_eq!(b.next_delay(0.0, 0.5, None), None);
    }

    #[test]
    fn no_delay_overflows_the_timer() {
        let mut b = Backoff::new(RetryOptions {
            max_delay_ms: u64::MAX,
            ..opts()
        });
        for _ in 0..80 {
            let d = b.next_delay(0.0, 0.999, None).unwrap();
            assert!(d <= MAX_TIMER_MS, "{d}");
        }
        assert_eq!(b.next_delay(0.0, 0.999, Some(u64::MAX)), Some(MAX_TIMER_MS));
    }

    #[test]
    fn odd_randoms_do_not_escape_the_bounds() {
        for r in [f64::NAN, -1.0, 2.0, f64::INFINITY] {
            let d = Backoff::new(opts()).next_delay(0.0, r, None).unwrap();
            assert!((100..=1_000).contains(&d), "{r}: {d}");
        }
    }
}
