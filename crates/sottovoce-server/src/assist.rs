//! Agent assist beyond suggested replies: a summary of the conversation an agent reads before
//! the transcript (what the visitor asked about, in order; how their mood moved; who wrote how
//! much, which entities they mentioned), built from the bot's per-message labels and, for the
//! entities, the server's copy of the bot. Labels only: nothing here decides anything.

use serde::Serialize;
use sottovoce::protocol::{Author, Message};

/// How the visitor's mood moved over the conversation. On the wire: `improving`, `steady`,
/// `worsening`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// The last scored message is at least [`TREND_STEP`] above the first.
    Improving,
    /// Within [`TREND_STEP`] either way, or fewer than two scored messages.
    Steady,
    /// The last scored message is at least [`TREND_STEP`] below the first.
    Worsening,
}

/// The smallest change of sentiment (on [-1, 1]) counted as a trend.
pub const TREND_STEP: f64 = 0.3;

/// The visitor's sentiment, first and last scored message, and the trend between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mood {
    /// Sentiment of the first scored visitor message.
    pub first: f64,
    /// Sentiment of the last scored visitor message.
    pub last: f64,
    /// Which way it moved.
    pub trend: Trend,
}

/// What an agent reads first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The intents of the visitor's messages in order, a repeat of the previous one left out
    /// (`["returns", "human"]`).
    pub intents: Vec<String>,
    /// The visitor's mood, when at least one message was scored.
    pub mood: Option<Mood>,
    /// Messages by the visitor, the bot and agents.
    pub visitor_messages: usize,
    /// Bot messages.
    pub bot_messages: usize,
    /// Agent messages.
    pub agent_messages: usize,
    /// Visitor messages the bot found no intent for (what it could not answer).
    pub unrecognised: usize,
    /// Entities the visitor mentioned (order numbers, dates, emails…), read by the server's
    /// copy of the bot (`--inbox-bot`); empty without one.
    pub mentions: Vec<crate::suggest::Mention>,
}

/// Summarises `messages` (oldest first).
pub fn summarise(messages: &[Message]) -> Summary {
    let visitor: Vec<&Message> = messages.iter().filter(|m| m.author == Author::Visitor).collect();
    let mut intents: Vec<String> = Vec::new();
    for intent in visitor.iter().filter_map(|m| m.intent.as_deref()) {
        if intents.last().map(String::as_str) != Some(intent) {
            intents.push(intent.to_owned());
        }
    }
    let scored: Vec<f64> = visitor.iter().filter_map(|m| m.sentiment).collect();
    let mood = match (scored.first(), scored.last()) {
        (Some(&first), Some(&last)) => {
            let trend = if last - first >= TREND_STEP {
                Trend::Improving
            } else if first - last >= TREND_STEP {
                Trend::Worsening
            } else {
                Trend::Steady
            };
            Some(Mood { first, last, trend })
        }
        _ => None,
    };
    Summary {
        intents,
        mood,
        visitor_messages: visitor.len(),
        bot_messages: messages.iter().filter(|m| m.author == Author::Bot).count(),
        agent_messages: messages.iter().filter(|m| m.author == Author::Agent).count(),
        unrecognised: visitor.iter().filter(|m| m.intent.is_none()).count(),
        mentions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: Author, intent: Option<&str>, sentiment: Option<f64>) -> Message {
        Message { id: 0, author, author_name: None, text: "x".into(), created_ms: 0, intent: intent.map(str::to_owned), confidence: None, sentiment }
    }

    #[test]
    fn intents_in_order_and_the_mood_trend() {
        let v = |i, s| message(Author::Visitor, i, s);
        let messages = [
            v(Some("returns"), Some(0.1)),
            message(Author::Bot, None, None),
            v(Some("returns"), None),
            v(None, Some(-0.2)),
            v(Some("human"), Some(-0.7)),
            message(Author::Agent, None, None),
        ];
        let s = summarise(&messages);
        assert_eq!(s.intents, ["returns", "human"]);
        assert_eq!(s.mood, Some(Mood { first: 0.1, last: -0.7, trend: Trend::Worsening }));
        assert_eq!((s.visitor_messages, s.bot_messages, s.agent_messages, s.unrecognised), (4, 1, 1, 1));
        assert_eq!(summarise(&messages[..1]).mood.map(|m| m.trend), Some(Trend::Steady));
        assert_eq!(summarise(&[v(None, Some(-0.5)), v(None, Some(0.0))]).mood.map(|m| m.trend), Some(Trend::Improving));
        assert_eq!(summarise(&[]).mood, None);
    }
}
