//! Property tests (proptest): the stored conversation state round trips and survives a turn;
//! escalation delivery (`protocol::delivery`) never loses nor duplicates a message under any
//! interleaving of sends, failures, retries, reloads and a second tab; entity spans are always
//! char offsets inside the text, whatever the text.

mod fuzz_harness;

use std::collections::BTreeSet;

use proptest::prelude::*;
use sottovoce::protocol::delivery::{Delivery, Event, Step};
use sottovoce::{ConversationState, Input, TurnContext};

/// Visitor messages: phrases the mini bot knows (so forms, handoff and entities run) mixed with
/// any Unicode text.
fn visitor_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "hello", "where is my order", "CU-123456", "talk to a human", "when are you open", "hola", "dónde está mi pedido",
            "yes", "no", "cancel", "my email is ana@example.com", "tomorrow at 5pm", "3 jackets for $20",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
        "[a-z0-9 ]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any conversation (random seed, locale hint, messages and clock, which may go backwards)
    /// serializes, loads back identical, takes one more turn without a panic, and round trips again.
    #[test]
    fn state_round_trips_and_a_loaded_state_takes_a_turn(
        seed in any::<u64>(),
        locale in prop::sample::select(vec!["en", "es", "fr", ""]),
        turns in prop::collection::vec((visitor_text(), -86_400_000i64..86_400_000, -720i32..840), 0..6),
        last in visitor_text(),
    ) {
        let bot = fuzz_harness::mini();
        let mut now: u64 = 1_796_342_400_000;
        let mut state = bot.new_state(locale, seed, now);
        for (text, step, offset) in turns {
            now = now.saturating_add_signed(step);
            bot.respond(&mut state, Input::Text { text }, TurnContext::new(now, offset));
        }
        let json = state.to_json();
        let mut loaded = ConversationState::from_json(&json, "mini").expect("a written state loads");
        prop_assert_eq!(&loaded, &state);
        bot.respond(&mut loaded, Input::Text { text: last }, TurnContext::new(now, 0));
        let again = ConversationState::from_json(&loaded.to_json(), "mini").expect("loads after a turn");
        prop_assert_eq!(again, loaded);
    }

    /// Entity spans are char offsets inside the text with `raw` equal to the chars they cover,
    /// for any text, locale and UTC offset (the fuzz target's check, on proptest's inputs).
    #[test]
    fn entity_spans_are_always_on_char_boundaries(
        locale in any::<u8>(),
        offset in any::<[u8; 2]>(),
        text in prop_oneof![any::<String>(), "[0-9٠-٩۰-۹.,:/$€ -]{0,30}[a-zé\u{301}\u{200f} ]{0,20}"],
    ) {
        let mut data = vec![locale, offset[0], offset[1]];
        data.extend_from_slice(text.as_bytes());
        fuzz_harness::entities(&data);
    }

    /// Escalation delivery under adversity: two tabs share one stored copy of every message's
    /// [`Delivery`]; each may send, get an answer (2xx, 5xx, 429 with Retry-After, a network
    /// error before or after the server stored the request), write its copy to storage, reload
    /// from storage (its requests in flight are cut off) and let time pass. The server stores a
    /// message once per idempotency key (`client_id`), which stays the message's own across
    /// retries, reloads and tabs. Then the network heals: every message ends `Done` in both tabs,
    /// the server holds each exactly once, and no tab ever saw `Done` for a message the server
    /// did not hold.
    #[test]
    fn delivery_never_loses_nor_duplicates_a_message(
        messages in 1usize..4,
        ops in prop::collection::vec(op(), 0..80),
        seed in any::<u64>(),
    ) {
        let mut world = World::new(messages, seed);
        for op in ops {
            world.apply(op);
        }
        world.heal();
        for (msg, stored) in world.server.iter().enumerate() {
            prop_assert_eq!(*stored, 1, "message {} stored {} times", msg, stored);
        }
        for tab in &world.tabs {
            prop_assert!(tab.copy.iter().all(|d| *d == Delivery::Delivered), "{:?}", tab.copy);
        }
        prop_assert!(world.violations.is_empty(), "{:?}", world.violations);
    }
}

/// What the server does with one request, and what the tab hears back.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Stored (or found by its key): 201 / 200.
    Ok,
    /// Stored, but the answer never arrived (connection reset after the commit).
    StoredThenNetworkError,
    /// Never reached the server.
    NetworkError,
    /// Not stored: a retryable status, with an optional Retry-After in ms.
    Status(u16, Option<u64>),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Send { tab: usize, msg: usize },
    Tick { tab: usize, msg: usize },
    Answer { tab: usize, which: usize, answer: Answer },
    Persist { tab: usize },
    Reload { tab: usize, cut_off_requests_reached_server: bool },
    Advance { ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let answer = prop_oneof![
        Just(Answer::Ok),
        Just(Answer::StoredThenNetworkError),
        Just(Answer::NetworkError),
        (prop::sample::select(vec![408u16, 425, 429, 500, 502, 503, 504]), prop::option::of(0u64..10_000_000))
            .prop_map(|(s, r)| Answer::Status(s, r)),
    ];
    prop_oneof![
        (0..2usize, 0..4usize).prop_map(|(tab, msg)| Op::Send { tab, msg }),
        (0..2usize, 0..4usize).prop_map(|(tab, msg)| Op::Tick { tab, msg }),
        (0..2usize, any::<usize>(), answer).prop_map(|(tab, which, answer)| Op::Answer { tab, which, answer }),
        (0..2usize).prop_map(|tab| Op::Persist { tab }),
        (0..2usize, any::<bool>()).prop_map(|(tab, reached)| Op::Reload { tab, cut_off_requests_reached_server: reached }),
        (0u64..120_000).prop_map(|ms| Op::Advance { ms }),
    ]
}

/// One tab: its in-memory copy of every message's delivery and its requests in flight.
struct Tab {
    copy: Vec<Delivery>,
    in_flight: Vec<usize>,
    rng: u64,
}

/// Two tabs, their shared storage, the server's stored count per message, and the clock.
struct World {
    tabs: [Tab; 2],
    storage: Vec<Delivery>,
    server: Vec<u32>,
    keys: BTreeSet<String>,
    now: u64,
    violations: Vec<String>,
}

impl World {
    fn new(messages: usize, seed: u64) -> World {
        // The widget stores a message (Pending) before it first sends it.
        let storage = vec![Delivery::Pending; messages];
        let tab = |rng| Tab { copy: storage.clone(), in_flight: Vec::new(), rng };
        World { tabs: [tab(seed), tab(seed ^ 1)], storage, server: vec![0; messages], keys: BTreeSet::new(), now: 1_796_342_400_000, violations: Vec::new() }
    }

    /// The server receives message `msg` under its idempotency key: stored when the key is new,
    /// found (200, nothing stored) when it is not, as the server's `client_id` check does.
    fn store(&mut self, msg: usize) {
        let key = format!("m{msg}");
        if self.keys.insert(key) {
            self.server[msg] += 1;
        }
    }

    fn event(&mut self, tab: usize, msg: usize, event: Event) {
        let now = self.now;
        let t = &mut self.tabs[tab];
        let step = t.copy[msg].on(event, now, &mut t.rng);
        match step {
            Step::SendNow { .. } => t.in_flight.push(msg),
            Step::Done if self.server[msg] == 0 => self.violations.push(format!("tab {tab} saw message {msg} done before the server had it")),
            Step::Failed { status } => self.violations.push(format!("tab {tab} gave up on message {msg} after {status}")),
            _ => {}
        }
    }

    fn apply(&mut self, op: Op) {
        let messages = self.storage.len();
        match op {
            Op::Send { tab, msg } => self.event(tab, msg % messages, Event::SendRequested),
            Op::Tick { tab, msg } => self.event(tab, msg % messages, Event::Tick),
            Op::Answer { tab, which, answer } => {
                if self.tabs[tab].in_flight.is_empty() {
                    return;
                }
                let at = which % self.tabs[tab].in_flight.len();
                let msg = self.tabs[tab].in_flight.remove(at);
                let event = match answer {
                    Answer::Ok => {
                        self.store(msg);
                        Event::Http { status: 201, retry_after_ms: None }
                    }
                    Answer::StoredThenNetworkError => {
                        self.store(msg);
                        Event::NetworkError
                    }
                    Answer::NetworkError => Event::NetworkError,
                    Answer::Status(status, retry_after_ms) => Event::Http { status, retry_after_ms },
                };
                self.event(tab, msg, event);
            }
            // Last writer wins, the harsher case: a tab may overwrite the other's `Delivered`.
            Op::Persist { tab } => self.storage.clone_from(&self.tabs[tab].copy),
            Op::Reload { tab, cut_off_requests_reached_server } => {
                for msg in std::mem::take(&mut self.tabs[tab].in_flight) {
                    if cut_off_requests_reached_server {
                        self.store(msg);
                    }
                }
                self.tabs[tab].copy = self.storage.clone();
                let now = self.now;
                self.tabs[tab].copy.iter_mut().for_each(|d| d.resume(now));
            }
            Op::Advance { ms } => self.now += ms,
        }
    }

    /// The network heals: time passes in hours, every due send is answered 201.
    fn heal(&mut self) {
        for _ in 0..64 {
            self.now += 3_600_001;
            for tab in 0..2 {
                for msg in 0..self.storage.len() {
                    self.event(tab, msg, Event::Tick);
                }
                while let Some(msg) = self.tabs[tab].in_flight.pop() {
                    self.store(msg);
                    self.event(tab, msg, Event::Http { status: 200, retry_after_ms: None });
                }
            }
        }
    }
}

