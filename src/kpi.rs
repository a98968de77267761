//! Key figures of one conversation, measured on the device from its stored state, and their
//! anonymous aggregate (counts only: no text, no ids).
//!
//! [`measure`] reads a [`ConversationState`] and says what happened in it (issue 14 item 1):
//! the [`Outcome`] (contained, escalated or abandoned), the fallbacks, the "did you mean" picks
//! (a button of a fallback's suggestions pressed next), the satisfaction ratings, the intents
//! acted on, and the time from the visitor's first message to the first answer. [`Kpis`] adds
//! conversations up, in total and per locale; it holds counts and sums only, so it can be sent
//! to the owner's server without a visitor's words or anything that links two visits. Whether
//! it is sent at all is the owner's setting, never decided here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::state::{ConversationState, Speaker, TranscriptEntry};

pub use crate::protocol::{ConversationKpis, Outcome};

/// Measures one conversation. `is_handoff` says whether an intent's action is `handoff`
/// ([`crate::Bot::kpis`] answers it from the definition).
pub fn measure(state: &ConversationState, is_handoff: impl Fn(&str) -> bool) -> ConversationKpis {
    let t = &state.transcript;
    let mut k = ConversationKpis { locale: state.profile.locale.clone(), ..ConversationKpis::default() };
    let mut escalated = false;
    let mut last_fallback = false;
    for (i, e) in t.iter().enumerate() {
        match e.from {
            Speaker::Agent => escalated = true,
            Speaker::Bot => {}
            Speaker::Visitor => {
                k.messages += 1;
                last_fallback = e.fallback;
                k.fallbacks += u32::from(e.fallback);
                if let Some(intent) = &e.intent {
                    *k.intents.entry(intent.clone()).or_insert(0) += 1;
                    escalated |= is_handoff(intent);
                    k.picks += u32::from(is_pick(&t[..i], e));
                }
            }
        }
    }
    if let Some(first) = t.iter().position(|e| e.from == Speaker::Visitor) {
        k.first_answer_ms = t[first..].iter().find(|e| e.from != Speaker::Visitor).map(|a| a.time_ms.saturating_sub(t[first].time_ms));
    }
    k.csat = state.csat.ratings.iter().map(|r| r.rating).collect();
    if k.messages > 0 {
        k.outcome = Some(if escalated {
            Outcome::Escalated
        } else if last_fallback {
            Outcome::Abandoned
        } else {
            Outcome::Contained
        });
    }
    k
}

/// True when `entry` pressed a button of the bot messages that answered a fallback just before.
fn is_pick(before: &[TranscriptEntry], entry: &TranscriptEntry) -> bool {
    let Some(visitor) = before.iter().rposition(|e| e.from == Speaker::Visitor) else { return false };
    before[visitor].fallback
        && before[visitor + 1..]
            .iter()
            .flat_map(|b| &b.quick_replies)
            .any(|q| q.label == entry.text && q.intent.is_some() && q.intent == entry.intent)
}

/// Conversations added up: counts and sums only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Conversations in which the visitor wrote.
    pub conversations: u32,
    /// Of those, contained.
    pub contained: u32,
    /// Of those, escalated.
    pub escalated: u32,
    /// Of those, abandoned.
    pub abandoned: u32,
    /// Visitor messages.
    pub messages: u32,
    /// Visitor messages answered by the fallback.
    pub fallbacks: u32,
    /// "Did you mean" suggestions pressed.
    pub picks: u32,
    /// Satisfaction ratings by value: index 0 counts the 1s, index 4 the 5s.
    pub csat: [u32; 5],
    /// Intents acted on, with how often.
    pub intents: BTreeMap<String, u32>,
    /// Conversations with a first answer, and the sum of those times in milliseconds.
    pub answered: u32,
    /// Sum of the times to the first answer, in milliseconds.
    pub first_answer_ms: u64,
}

impl Tally {
    /// Adds one conversation.
    pub fn add(&mut self, k: &ConversationKpis) {
        let Some(outcome) = k.outcome else { return };
        self.conversations += 1;
        match outcome {
            Outcome::Contained => self.contained += 1,
            Outcome::Escalated => self.escalated += 1,
            Outcome::Abandoned => self.abandoned += 1,
        }
        self.messages += k.messages;
        self.fallbacks += k.fallbacks;
        self.picks += k.picks;
        for &r in &k.csat {
            if (1..=5).contains(&r) {
                self.csat[usize::from(r - 1)] += 1;
            }
        }
        for (intent, n) in &k.intents {
            *self.intents.entry(intent.clone()).or_insert(0) += n;
        }
        if let Some(ms) = k.first_answer_ms {
            self.answered += 1;
            self.first_answer_ms += ms;
        }
    }

    /// Adds another tally (from another device, or another day).
    pub fn merge(&mut self, other: &Tally) {
        self.conversations += other.conversations;
        self.contained += other.contained;
        self.escalated += other.escalated;
        self.abandoned += other.abandoned;
        self.messages += other.messages;
        self.fallbacks += other.fallbacks;
        self.picks += other.picks;
        for (a, b) in self.csat.iter_mut().zip(other.csat) {
            *a += b;
        }
        for (intent, n) in &other.intents {
            *self.intents.entry(intent.clone()).or_insert(0) += n;
        }
        self.answered += other.answered;
        self.first_answer_ms += other.first_answer_ms;
    }

    /// Contained conversations over conversations, in [0, 1]; 0 when there are none.
    pub fn containment(&self) -> f64 {
        ratio(self.contained, self.conversations)
    }

    /// Escalated conversations over conversations, in [0, 1]; 0 when there are none.
    pub fn escalation_rate(&self) -> f64 {
        ratio(self.escalated, self.conversations)
    }

    /// Fallbacks over visitor messages, in [0, 1]; 0 when there are none.
    pub fn fallback_rate(&self) -> f64 {
        ratio(self.fallbacks, self.messages)
    }

    /// The mean rating from 1 to 5, `None` without ratings.
    pub fn csat_mean(&self) -> Option<f64> {
        let n: u32 = self.csat.iter().sum();
        let sum: u32 = self.csat.iter().zip(1..).map(|(c, r)| c * r).sum();
        (n > 0).then(|| f64::from(sum) / f64::from(n))
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// The anonymous aggregate a site may send: a [`Tally`] in total and per locale.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kpis {
    /// Every conversation.
    pub total: Tally,
    /// Per conversation locale.
    pub locales: BTreeMap<String, Tally>,
}

impl Kpis {
    /// Adds one conversation to the total and to its locale.
    pub fn add(&mut self, k: &ConversationKpis) {
        self.total.add(k);
        if k.outcome.is_some() {
            self.locales.entry(k.locale.clone()).or_default().add(k);
        }
    }

    /// Adds another aggregate.
    pub fn merge(&mut self, other: &Kpis) {
        self.total.merge(&other.total);
        for (locale, t) in &other.locales {
            self.locales.entry(locale.clone()).or_default().merge(t);
        }
    }
}
