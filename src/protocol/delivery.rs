//! Delivering one request (an escalation's create, or one visitor message to the agent) as a
//! sans-IO state machine: the caller feeds [`Event`]s and does what the returned [`Step`] says.
//!
//! The machine never performs I/O or reads a clock: `now_ms` and the jitter stream come in. It
//! decides which HTTP outcomes are worth retrying ([`classify`]): network errors, 408, 425, 429
//! and 5xx; every other non-2xx (400, 401, 403, 404, 409, 413, 422 …) is final, because sending
//! the same request again gets the same answer. Retries back off exponentially (1 s, 2 s, 4 s …
//! capped at 60 s) with "equal jitter" (half the delay fixed, half random), as in AWS's
//! "Exponential Backoff And Jitter" (2015), and never come before a server's `Retry-After`.

use serde::{Deserialize, Serialize};

/// First retry delay, in ms.
pub const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest retry delay, in ms.
pub const BACKOFF_MAX_MS: u64 = 60_000;
/// Longest `Retry-After` honoured, in ms (a larger one is capped to this).
pub const RETRY_AFTER_MAX_MS: u64 = 3_600_000;
/// A send still in flight after this long (the page was closed mid-send) is due again, in ms.
pub const STALE_SEND_MS: u64 = 30_000;

/// What an HTTP status means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: the server has it.
    Delivered,
    /// 408, 425, 429, 5xx: a later attempt may succeed.
    Retry,
    /// Any other status: the same request will be refused again.
    Final,
}

/// Classifies an HTTP status (0, as `fetch` reports no status, is a network error: retry).
pub fn classify(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        0 | 408 | 425 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Final,
    }
}

/// Something that happened to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The caller wants it sent (consent, a page load, a new message).
    SendRequested,
    /// The server answered with `status`; `retry_after_ms` from a `Retry-After` header, if any.
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's `Retry-After`, in ms.
        retry_after_ms: Option<u64>,
    },
    /// The request never got an answer (offline, DNS, CORS, reset).
    NetworkError,
    /// Time passed; `now_ms` says how much.
    Tick,
}

/// What the caller does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Send the request now; this is attempt number `attempt` (from 1).
    SendNow {
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// Nothing until `at_ms` (ms since the Unix epoch); then feed [`Event::Tick`].
    WaitUntil {
        /// When to tick again.
        at_ms: u64,
    },
    /// Delivered; nothing more to do.
    Done,
    /// Refused for good with HTTP `status`; do not send it again.
    Failed {
        /// The final HTTP status.
        status: u16,
    },
}

/// Where one request's delivery stands. Serialize it to keep it across reloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Not sent yet; due now.
    #[default]
    Pending,
    /// A request is in flight (or was, when the page closed).
    InFlight {
        /// Attempt number, from 1.
        attempt: u32,
        /// When it started, ms since the Unix epoch.
        started_ms: u64,
    },
    /// The last attempt failed and may be retried at `next_ms`.
    Waiting {
        /// Attempts made so far.
        attempts: u32,
        /// When the next attempt is due, ms since the Unix epoch.
        next_ms: u64,
    },
    /// The server has it.
    Delivered,
    /// The server refused it for good.
    Rejected {
        /// Attempts made.
        attempts: u32,
        /// The final HTTP status.
        status: u16,
    },
}

impl Delivery {
    /// Feeds `event` at `now_ms`; `rng` is the SplitMix64 state the jitter is drawn from (it
    /// advances only when a retry is scheduled). Returns what to do next.
    ///
    /// An HTTP outcome or network error while nothing is in flight (a late answer to a request
    /// from before a reload) changes nothing.
    pub fn on(&mut self, event: Event, now_ms: u64, rng: &mut u64) -> Step {
        let answer = match event {
            Event::SendRequested | Event::Tick => None,
            Event::NetworkError => Some((0, None)),
            Event::Http { status, retry_after_ms } => Some((status, retry_after_ms)),
        };
        if let Some((status, retry_after_ms)) = answer {
            let Delivery::InFlight { attempt, .. } = *self else {
                return self.next(now_ms);
            };
            *self = match classify(status) {
                Verdict::Delivered => Delivery::Delivered,
                Verdict::Final => Delivery::Rejected { attempts: attempt, status },
                Verdict::Retry => {
                    let wait = backoff_ms(attempt, splitmix(rng)).max(retry_after_ms.unwrap_or(0).min(RETRY_AFTER_MAX_MS));
                    Delivery::Waiting { attempts: attempt, next_ms: now_ms.saturating_add(wait) }
                }
            };
            return self.next(now_ms);
        }
        let attempt = match *self {
            Delivery::Pending => 1,
            Delivery::Waiting { attempts, next_ms } if now_ms >= next_ms => attempts + 1,
            Delivery::InFlight { attempt, started_ms } if now_ms >= started_ms.saturating_add(STALE_SEND_MS) => attempt + 1,
            _ => return self.next(now_ms),
        };
        *self = Delivery::InFlight { attempt, started_ms: now_ms };
        Step::SendNow { attempt }
    }

    /// The step for the current state without changing it: a pending request waits until now
    /// (tick at once), a send in flight waits for its answer or for [`STALE_SEND_MS`].
    pub fn next(&self, now_ms: u64) -> Step {
        match *self {
            Delivery::Pending => Step::WaitUntil { at_ms: now_ms },
            Delivery::InFlight { started_ms, .. } => Step::WaitUntil { at_ms: started_ms.saturating_add(STALE_SEND_MS) },
            Delivery::Waiting { next_ms, .. } => Step::WaitUntil { at_ms: next_ms },
            Delivery::Delivered => Step::Done,
            Delivery::Rejected { status, .. } => Step::Failed { status },
        }
    }

    /// A page (re)loaded at `now_ms`: no request of this page can be in flight, so a send still
    /// marked as such was cut off and counts as failed, due at once (the idempotency key or
    /// `client_id` makes the retry safe even if the cut-off request had been stored).
    pub fn resume(&mut self, now_ms: u64) {
        if let Delivery::InFlight { attempt, .. } = *self {
            *self = Delivery::Waiting { attempts: attempt, next_ms: now_ms };
        }
    }
}

/// One step of the core's one [`SplitMix64`](crate::text::SplitMix64) stream whose state is
/// `state`: advances it and returns the next number.
pub fn splitmix(state: &mut u64) -> u64 {
    let mut rng = crate::text::SplitMix64(*state);
    let next = rng.next_u64();
    *state = rng.0;
    next
}

/// The delay before retry number `attempts + 1` after `attempts` failures, in ms: exponential
/// from [`BACKOFF_BASE_MS`], capped at [`BACKOFF_MAX_MS`], half fixed and half drawn from `random`.
pub fn backoff_ms(attempts: u32, random: u64) -> u64 {
    let exp = BACKOFF_BASE_MS.saturating_mul(1u64 << attempts.saturating_sub(1).min(20)).min(BACKOFF_MAX_MS);
    let half = exp / 2;
    half + random % (half + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outcome sequences and the expected decisions, one case per line:
    /// `name: event@now -> step; …`. Events: `send`, `tick`, `net`, `<status>`,
    /// `<status>/<retry-after ms>`. Steps: `send <attempt>`, `wait <from>..<to>` (inclusive
    /// bounds on the absolute `at_ms`, for the jitter), `done`, `failed <status>`.
    const CASES: &str = "
        first try succeeds: send@0 -> send 1; 201@5 -> done; tick@9 -> done
        replayed create is success: send@0 -> send 1; 200@5 -> done
        422 is final, never resent: send@0 -> send 1; 422@10 -> failed 422; tick@999999 -> failed 422; send@999999 -> failed 422
        400 is final: send@0 -> send 1; 400@1 -> failed 400
        401 is final: send@0 -> send 1; 401@1 -> failed 401
        403 is final: send@0 -> send 1; 403@1 -> failed 403
        404 is final: send@0 -> send 1; 404@1 -> failed 404
        409 is final: send@0 -> send 1; 409@1 -> failed 409
        413 is final: send@0 -> send 1; 413@1 -> failed 413
        500 backs off then succeeds: send@0 -> send 1; 500@0 -> wait 500..1000; tick@499 -> wait 500..1000; tick@1000 -> send 2; 201@1001 -> done
        503 then 502 doubles the delay: send@0 -> send 1; 503@0 -> wait 500..1000; tick@1000 -> send 2; 502@1000 -> wait 2000..3000
        network error is retried: send@0 -> send 1; net@0 -> wait 500..1000
        408 is retried: send@0 -> send 1; 408@0 -> wait 500..1000
        429 honours Retry-After: send@0 -> send 1; 429/30000@0 -> wait 30000..30000; tick@30000 -> send 2
        Retry-After shorter than the backoff: send@0 -> send 1; 429/10@0 -> wait 500..1000
        Retry-After is capped at an hour: send@0 -> send 1; 503/99999999@0 -> wait 3600000..3600000
        a retry after a final error is still final: send@0 -> send 1; 500@0 -> wait 500..1000; tick@1000 -> send 2; 422@1000 -> failed 422
        a send in flight waits for its answer: send@0 -> send 1; tick@10 -> wait 30000..30000; send@10 -> wait 30000..30000
        a send cut off by a closed page is due again: send@0 -> send 1; tick@30000 -> send 2
        a late answer with nothing in flight changes nothing: 500@0 -> wait 0..0; send@0 -> send 1
        the delay is capped at a minute: send@0 -> send 1; net@0 -> wait 500..1000; tick@1000 -> send 2; net@1000 -> wait 2000..3000; tick@3000 -> send 3; net@3000 -> wait 5000..7000; tick@7000 -> send 4; net@7000 -> wait 11000..15000; tick@15000 -> send 5; net@15000 -> wait 23000..31000; tick@31000 -> send 6; net@31000 -> wait 47000..63000; tick@63000 -> send 7; net@63000 -> wait 93000..123000; tick@123000 -> send 8; net@123000 -> wait 153000..183000
    ";

    fn event(text: &str) -> Event {
        match text {
            "send" => Event::SendRequested,
            "tick" => Event::Tick,
            "net" => Event::NetworkError,
            _ => {
                let (status, retry_after) = text.split_once('/').map_or((text, None), |(s, r)| (s, Some(r)));
                Event::Http { status: status.parse().unwrap(), retry_after_ms: retry_after.map(|r| r.parse().unwrap()) }
            }
        }
    }

    fn matches(step: Step, expected: &str) -> bool {
        let (kind, arg) = expected.split_once(' ').unwrap_or((expected, ""));
        match (kind, step) {
            ("send", Step::SendNow { attempt }) => arg.parse() == Ok(attempt),
            ("done", Step::Done) => true,
            ("failed", Step::Failed { status }) => arg.parse() == Ok(status),
            ("wait", Step::WaitUntil { at_ms }) => {
                let (lo, hi) = arg.split_once("..").unwrap();
                (lo.parse().unwrap()..=hi.parse().unwrap()).contains(&at_ms)
            }
            _ => false,
        }
    }

    #[test]
    fn outcome_sequences_give_the_expected_steps() {
        let mut cases = 0;
        for line in CASES.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (name, steps) = line.split_once(": ").unwrap();
            for seed in [0, 42, u64::MAX] {
                let (mut delivery, mut rng) = (Delivery::default(), seed);
                for step in steps.split("; ") {
                    let (input, expected) = step.split_once(" -> ").unwrap();
                    let (e, now) = input.split_once('@').unwrap();
                    let got = delivery.on(event(e), now.parse().unwrap(), &mut rng);
                    assert!(matches(got, expected), "{name} (seed {seed}): {input} gave {got:?}, expected {expected}");
                }
            }
            cases += 1;
        }
        assert_eq!(cases, 21);
    }

    #[test]
    fn statuses_are_classified_by_range() {
        for (statuses, verdict) in [
            (&[200, 201, 204][..], Verdict::Delivered),
            (&[0, 408, 425, 429, 500, 502, 503, 504][..], Verdict::Retry),
            (&[301, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422][..], Verdict::Final),
        ] {
            for &s in statuses {
                assert_eq!(classify(s), verdict, "{s}");
            }
        }
    }

    #[test]
    fn a_reload_makes_a_cut_off_send_due_at_once_and_state_round_trips() {
        let (mut d, mut rng) = (Delivery::default(), 7);
        assert_eq!(d.on(Event::SendRequested, 100, &mut rng), Step::SendNow { attempt: 1 });
        d.resume(150);
        assert_eq!(d, Delivery::Waiting { attempts: 1, next_ms: 150 });
        assert_eq!(rng, 7, "no jitter drawn without a retry");
        assert_eq!(d.on(Event::Tick, 150, &mut rng), Step::SendNow { attempt: 2 });
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Delivery>(&json).unwrap(), d, "{json}");
        assert_eq!(serde_json::to_string(&Step::Failed { status: 422 }).unwrap(), r#"{"step":"failed","status":422}"#);
    }
}
