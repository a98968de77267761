//! Per-key token buckets for rate limits (per IP, per conversation), and the sign-in throttle
//! (per account and per address, exponential back-off after failures).
//!
//! A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request takes
//! one. Small and exact enough for one process; with several processes each enforces its own
//! share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The client's IP address as text, from `ConnectInfo<SocketAddr>` (present when the router is
/// served with `into_make_service_with_connect_info`), or `"unknown"` without it: the key of
/// every per-address limit.
pub(crate) fn client_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

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

/// Failed sign-ins per key (an account's email, a client address), with back-off.
///
/// The first `free` failures of a key cost nothing; the n-th failure after those locks the key
/// for `2^(n-1)` seconds (1, 2, 4, ...), at most [`LoginThrottle::MAX_LOCK_SECONDS`]. While a
/// key is locked every attempt is refused before the password is checked, the right one
/// included, so guessing gets no faster by being right. A success clears the key. This is
/// OWASP's "Authentication Cheat Sheet" advice (throttle per account and per source, with
/// exponential delay) rather than a hard lock-out an attacker could use to shut an agent out
/// for good.
#[derive(Debug)]
pub struct LoginThrottle {
    free: u32,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// The longest lock after repeated failures, in seconds (15 minutes).
    pub const MAX_LOCK_SECONDS: u64 = 15 * 60;

    /// A throttle letting `free` failures per key pass before locking.
    pub fn new(free: u32) -> LoginThrottle {
        LoginThrottle { free, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` while `key` is locked (≥ 1), else `Ok`.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(key) {
            Some((_, until)) if *until > now => Err(until.duration_since(now).as_secs_f64().ceil().max(1.0) as u64),
            _ => Ok(()),
        }
    }

    /// Counts a failure for `key`, locking it when past the free ones.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            // Forget keys that are not locked and old: an attacker spraying keys cannot grow this.
            failures.retain(|_, (_, until)| *until > now);
        }
        let (count, until) = failures.entry(key.to_owned()).or_insert((0, now));
        *count = count.saturating_add(1);
        if *count > self.free {
            let exponent = (*count - self.free - 1).min(20);
            let seconds = (1u64 << exponent).min(Self::MAX_LOCK_SECONDS);
            *until = now + std::time::Duration::from_secs(seconds);
        }
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub fn succeed(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// Counts open streams (SSE) per key and refuses more than `max` at once.
#[derive(Debug, Clone)]
pub struct StreamSlots {
    max: usize,
    open: std::sync::Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream; dropping it (the client went away) frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    key: String,
    open: std::sync::Arc<Mutex<HashMap<String, usize>>>,
}

impl StreamSlots {
    /// At most `max` streams per key at once (0: no limit).
    pub fn new(max: usize) -> StreamSlots {
        StreamSlots { max, open: std::sync::Arc::default() }
    }

    /// A slot for `key`, or `None` when `max` are open.
    pub fn acquire(&self, key: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key.to_owned()).or_insert(0);
        if self.max > 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(StreamSlot { key: key.to_owned(), open: self.open.clone() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Limiter, LoginThrottle, StreamSlots};

    #[test]
    fn stream_slots_free_on_drop() {
        let slots = StreamSlots::new(2);
        let a = slots.acquire("k");
        let b = slots.acquire("k");
        assert!(a.is_some() && b.is_some());
        assert!(slots.acquire("k").is_none());
        assert!(slots.acquire("other").is_some());
        drop(a);
        assert!(slots.acquire("k").is_some());
    }

    #[test]
    fn login_throttle_backs_off_per_key() {
        let throttle = LoginThrottle::new(2);
        throttle.fail("a");
        throttle.fail("a");
        assert_eq!(throttle.check("a"), Ok(()));
        throttle.fail("a");
        assert_eq!(throttle.check("a"), Err(1));
        throttle.fail("a");
        assert_eq!(throttle.check("a"), Err(2));
        throttle.fail("a");
        assert_eq!(throttle.check("a"), Err(4));
        assert_eq!(throttle.check("b"), Ok(()));
        throttle.succeed("a");
        assert_eq!(throttle.check("a"), Ok(()));
        for _ in 0..40 {
            throttle.fail("c");
        }
        assert_eq!(throttle.check("c"), Err(LoginThrottle::MAX_LOCK_SECONDS));
    }

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
