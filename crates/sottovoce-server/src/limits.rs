//! Per-key token buckets for rate limits (per IP, per conversation).
//!
//! A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request takes
//! one. Small and exact enough for one process; with several processes each enforces its own
//! share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A set of token buckets, one per key. A rate of `0.0` (or less) allows everything.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// Buckets refilling at `rate` per second, holding at most `burst` (at least 1).
    pub fn new(rate: f64, burst: f64) -> Limiter {
        Limiter { rate, burst: burst.max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token for `key`. `Err(seconds)` says how long until one is available (≥ 1).
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget full buckets: they behave exactly like new ones.
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Limiter;

    #[test]
    fn burst_then_refused_per_key() {
        let limiter = Limiter::new(1.0, 3.0);
        for _ in 0..3 {
            assert_eq!(limiter.check("a"), Ok(()));
        }
        assert_eq!(limiter.check("a"), Err(1));
        assert_eq!(limiter.check("b"), Ok(()));
        assert_eq!(Limiter::new(0.0, 1.0).check("a"), Ok(()));
    }
}
