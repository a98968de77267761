//! What the NLU makes of one visitor message: intent probabilities and ranking, locale,
//! sentiment and entities (rule-based and learned), from one analysis of the text
//! ([`Utterance`]). The input of [`super::decide`]; reads the [`Bot`], changes nothing.

use crate::dialogue::{Bot, NluResult, TurnContext};
use crate::entities::{Entity, ExtractContext};
use crate::lang::Language;
use crate::text::{TokenKind, Utterance};

/// Only this many chars (Unicode scalar values) of a visitor message are read by a turn: the
/// NLU, the product follow-up check and the recommendation request handed to the catalog
/// ranker all see the message's first `MAX_TURN_CHARS` chars, cut on a char boundary. The
/// transcript, and so an escalation, keeps the whole message.
///
/// Why 1000: the longest of the demo bot's 7,611 training examples is 157 chars and the
/// longest of the 1,372 held-out NLU and catalog requests 97 (99% are under 80), so a real
/// question fits six times over; a 256 KiB paste (the server's body limit) took 0.64 to 1.2 s
/// to rank against the demo catalog in a release build before the request was cut, and the
/// wasm widget is slower still (tests/long_messages.rs).
pub const MAX_TURN_CHARS: usize = 1000;

/// Ranking length in [`NluResult::ranking`].
const RANKING_LEN: usize = 5;

/// Everything the NLU computed for a message, including what [`NluResult`] leaves out.
pub(crate) struct Understanding {
    pub(crate) result: NluResult,
    /// Probability of every intent, in definition order.
    pub(crate) intent_probs: Vec<f32>,
    /// The message's n-gram coverage in [0, 1] (`IntentClassifier::coverage`),
    /// which [`crate::definition::DialogueSettings::accepts`] reads beside the confidence.
    pub(crate) coverage: f32,
    /// True when the message is long enough and the locale classifier sure enough that
    /// [`NluResult::locale`] is the language it is written in (the replies may switch to it:
    /// `super::locale` decides).
    pub(crate) locale_is_clear: bool,
    /// The locale classifier's probability of [`NluResult::locale`], in [0, 1].
    pub(crate) locale_confidence: f32,
    /// Words that tell the message's language: letter runs outside its entities (a product
    /// name or an order number says nothing about it); in scripts without spaces every two
    /// letters count as one.
    pub(crate) language_words: usize,
    /// Those of [`Understanding::language_words`] that the bot's examples taught (letter runs
    /// the intent model learned as words, [`crate::nlu::IntentClassifier::knows_word`]): "uh
    /// huh hmm" has three language words and none taught, so it says nothing of a language.
    pub(crate) taught_words: usize,
    /// The message is made of entities alone (no [`Understanding::language_words`]): its
    /// intent, if any, is only the owner's example of exactly these words.
    pub(crate) entity_alone: bool,
    /// The language the visitor explicitly asks for ([`crate::lang::requested`]), spoken by
    /// the bot or not.
    pub(crate) requested: Option<&'static Language>,
    /// A language the bot lacks that the message is clearly in ([`crate::lang::identify`] at
    /// least [`crate::definition::DialogueSettings::foreign_confidence`] sure, with
    /// [`crate::definition::DialogueSettings::foreign_min_words`] language words and as much
    /// evidence).
    pub(crate) foreign: Option<&'static Language>,
    /// The message is clear ([`Understanding::locale_is_clear`]) and written in a script
    /// other than Latin that tells its language by itself ([`crate::lang::Guess::by_script`]),
    /// the language of [`NluResult::locale`], on at least
    /// [`crate::definition::DialogueSettings::locale_confidence`] of its letters: "أين طلبي؟"
    /// is Arabic in two words, where two Latin-script words may be a borrowing ("gracias").
    pub(crate) script_clear: bool,
}

fn clean(p: f32) -> f32 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The language steps of understanding one message, apart from the intent: what
/// [`crate::Bot::detect_language`] reports and [`understand`] builds on.
pub(crate) struct Detection {
    /// The locale classifier's best bot locale (definition index; 0 for a bot of one locale).
    pub(crate) locale_index: usize,
    /// Its probability, in [0, 1] (1 for a bot of one locale).
    pub(crate) locale_confidence: f32,
    /// The built-in identifier's guess among the ~30 languages it knows
    /// ([`crate::lang::identify`]), before any threshold.
    pub(crate) identified: Option<crate::lang::Guess>,
    /// The language the message explicitly asks for ([`crate::lang::requested`]).
    pub(crate) requested: Option<&'static Language>,
}

/// The language of an analysed message: locale classifier, built-in identifier and explicit
/// request, each computed once.
pub(crate) fn detect(bot: &Bot, utterance: &Utterance<'_>) -> Detection {
    // A bot of one locale needs no locale classifier: its one class has probability 1.
    let (locale_index, locale_confidence) = if bot.domain.definition.locales.len() <= 1 {
        (0, 1.0)
    } else {
        bot.locales
            .predict_utterance(utterance)
            .into_iter()
            .map(clean)
            .enumerate()
            .fold((0, 0.0_f32), |acc, (i, p)| if p > acc.1 { (i, p) } else { acc })
    };
    Detection {
        locale_index,
        locale_confidence,
        identified: crate::lang::identify(utterance.tokens()),
        requested: crate::lang::requested(utterance.tokens()),
    }
}

/// [`detect`] on `text` (its first [`MAX_TURN_CHARS`] chars), analysed without a conversation.
pub(crate) fn detect_language(bot: &Bot, text: &str) -> Detection {
    detect(bot, &Utterance::analyze(nlu_text(text), ""))
}

/// Classifies `text`: intent probabilities, ranking, locale and entities.
///
/// `conversation` is the conversation's reply locale and the turn's clock, when there is a
/// conversation: entities are then read in the locale the reply will be in (number words,
/// decimal comma) with relative dates resolved against the visitor's local time (`now_ms`
/// shifted by `utc_offset_min`: "tomorrow" is the visitor's tomorrow). Without it every supported
/// language is tried and relative dates are skipped.
///
/// `slot_intent` is the intent (definition index) whose learned slots the tagger looks for,
/// such as the one that started the active form; `None` takes the classifier's intent when it
/// is at or above the threshold, and every learned slot otherwise.
pub(crate) fn understand(
    bot: &Bot,
    text: &str,
    conversation: Option<(&str, TurnContext)>,
    slot_intent: Option<usize>,
) -> Understanding {
    let text = nlu_text(text);
    // One analysis of the message, read by every extractor below.
    let utterance = Utterance::analyze(text, conversation.map_or("", |(current, _)| current));
    let def = &bot.domain.definition;
    let (intent_probs, order, coverage) = classify_utterance(bot, &utterance);
    let ranking: Vec<(String, f32)> = order
        .iter()
        .take(RANKING_LEN)
        .map(|&i| (def.intents[i].name.clone(), intent_probs[i]))
        .collect();
    let (best, confidence) = order
        .first()
        .map(|&i| (i, intent_probs[i]))
        .unwrap_or((0, 0.0));
    let mut intent = (bot.domain.settings.accepts(confidence, coverage)
        && !order.is_empty()
        && def.intents[best].name != crate::definition::OUT_OF_SCOPE_INTENT)
        .then(|| def.intents[best].name.clone());

    let detection = detect(bot, &utterance);
    let (locale_index, locale_confidence) = (detection.locale_index, detection.locale_confidence);
    let locale = def
        .locales
        .get(locale_index)
        .cloned()
        .unwrap_or_else(|| def.default_locale().to_owned());
    let settings = &bot.domain.settings;
    let locale_is_clear = locale_confidence >= settings.locale_confidence
        && text.split_whitespace().count() >= usize::from(settings.locale_min_words)
        // A locale whose model part is not loaded has no messages to reply with.
        && !bot.missing.contains(&locale);

    let sentiment_locale = match conversation {
        Some((current, _)) if !locale_is_clear => current,
        _ => locale.as_str(),
    };
    // A locale whose part is not loaded yet has no lexicon: its message reads as neutral.
    let lexicon = def.locales.iter().position(|l| l == sentiment_locale).and_then(|i| bot.sentiment.get(i)?.as_ref());
    let sentiment = lexicon.map_or(0.0, |lexicon| crate::sentiment::score_utterance(&utterance, sentiment_locale, lexicon));
    // A word of the bot's own examples is spelled as meant: no list reads it as a typo.
    // (Lists keep ñ, the intent features fold it: the word is normalised as they read it.)
    let known = |word: &str| bot.intents.knows_word(&crate::text::normalize(word));
    let mut entities = match conversation {
        Some((current, at)) => {
            let reply_locale = if locale_is_clear {
                locale.as_str()
            } else {
                current
            };
            // The words of the locale the classifier finds most likely are read too, after the
            // conversation's, however unsure it is: a short message rarely switches the
            // replies ("demain à 17h" is French at 0.44), yet is a date and a time; a grammar
            // that finds none of its words in the message adds nothing.
            let written = locale.as_str();
            bot.domain.entities.extract_utterance_knowing(
                &utterance,
                &ExtractContext { locale: reply_locale, now_ms: Some(at.now_ms), utc_offset_min: at.utc_offset_min, written },
                &known,
            )
        }
        None => bot.domain.entities.extract_utterance_knowing(&utterance, &ExtractContext::default(), &known),
    };
    // The tagger of the language the message is written in: the classifier's locale when it
    // is sure of it (however short the message), else the conversation's.
    let tag_locale = match conversation {
        Some((current, _)) if locale_confidence < settings.locale_confidence => {
            def.locales.iter().position(|l| l == current).unwrap_or(locale_index)
        }
        _ => locale_index,
    };
    if let Some(Some(tagger)) = bot.slots.get(tag_locale) {
        let tag_intent = slot_intent.or_else(|| intent.is_some().then_some(best));
        add_learned(&mut entities, tagger.tag_utterance(&utterance, tag_intent));
    }
    let (language_words, taught_words) = language_words(&utterance, &entities, &known);
    // An entity alone never decides an intent: "Denver" or "Canada" on its own is not a
    // question about the store's address or shipping abroad, however the classifier ranks
    // the examples that name it. Such a message gets no intent here; the dialogue can still
    // read it as a follow-up to the topic or let an owner entity start its form. Unless the
    // owner wrote exactly these words as an example of the intent: "reembolso" is a refund
    // question, though a synonym of a list entity too.
    let entity_alone = language_words == 0 && !entities.is_empty();
    if entity_alone && !taught_as(bot, best, text) {
        intent = None;
    }
    let speaks = |code: &str| def.locales.iter().any(|l| crate::lang::primary(l).eq_ignore_ascii_case(code));
    let foreign = detection
        .identified
        .filter(|g| {
            g.confidence >= settings.foreign_confidence
                && language_words >= usize::from(settings.foreign_min_words)
                && g.evidence >= u32::from(settings.foreign_min_words)
                && !speaks(g.code)
        })
        .and_then(|g| crate::lang::language(g.code));
    let script_clear = locale_is_clear
        && language_words >= usize::from(settings.locale_min_words)
        && detection.identified.is_some_and(|g| {
            g.by_script()
                && g.confidence >= settings.locale_confidence
                && crate::lang::primary(&locale).eq_ignore_ascii_case(g.code)
        });
    Understanding {
        result: NluResult {
            intent,
            confidence,
            ranking,
            entities,
            locale,
            sentiment,
        },
        intent_probs,
        coverage,
        locale_is_clear,
        locale_confidence,
        language_words,
        taught_words,
        entity_alone,
        requested: detection.requested,
        foreign,
        script_clear,
    }
}

/// True when `text`, normalised as the classifier reads it, is one of the examples of intent
/// `i` (their slot markup taken out). A model file keeps only the examples for which this
/// matters, those made of entities alone (`Bot::to_model`); a trained bot has them all.
fn taught_as(bot: &Bot, i: usize, text: &str) -> bool {
    let Some(intent) = bot.domain.definition.intents.get(i) else { return false };
    let want = crate::text::normalize(text);
    // A model file keeps these examples as plain text; only a bot trained from a definition
    // (the `train` feature) holds examples with `[value](slot)` markup to read.
    #[cfg(feature = "train")]
    let plain = |e: &String| crate::slots::plain_text(e);
    #[cfg(not(feature = "train"))]
    let plain = |e: &String| e.clone();
    intent.examples.values().flatten().any(|e| crate::text::normalize(&plain(e)) == want)
}

/// [`Understanding::language_words`] and [`Understanding::taught_words`] of a message with
/// these entities; `known` says which words the examples taught.
fn language_words(utterance: &Utterance<'_>, entities: &[Entity], known: &dyn Fn(&str) -> bool) -> (usize, usize) {
    utterance
        .tokens()
        .iter()
        .filter(|t| t.kind == TokenKind::Letters && !entities.iter().any(|e| e.start < t.end && t.start < e.end))
        .fold((0, 0), |(words, taught), t| {
            let spaceless = t.text.chars().any(|c| matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xE00..=0xE7F));
            let count = if spaceless { (t.end - t.start).div_ceil(2) } else { 1 };
            (words + count, taught + usize::from(known(&t.text)))
        })
}

/// The part of `text` a turn reads: its first [`MAX_TURN_CHARS`] chars.
pub(crate) fn nlu_text(text: &str) -> &str {
    // A char takes at least a byte: a short text needs no counting.
    if text.len() <= MAX_TURN_CHARS {
        return text;
    }
    match text.char_indices().nth(MAX_TURN_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The intent classifier alone on `text` (its first [`MAX_TURN_CHARS`] chars): the
/// probability of every intent in definition order, in [0, 1], the indices of the best
/// [`RANKING_LEN`], best first, and the message's n-gram coverage in [0, 1].
pub(crate) fn classify(bot: &Bot, text: &str) -> (Vec<f32>, Vec<usize>, f32) {
    classify_utterance(bot, &Utterance::analyze(nlu_text(text), ""))
}

/// As [`classify`], on the message already analysed (and truncated).
fn classify_utterance(bot: &Bot, utterance: &Utterance<'_>) -> (Vec<f32>, Vec<usize>, f32) {
    let (probs, coverage) = bot.intents.predict_with_coverage(utterance);
    let mut intent_probs: Vec<f32> = probs.into_iter().map(clean).collect();
    intent_probs.resize(bot.domain.definition.intents.len(), 0.0);
    let order = best_first(&intent_probs, RANKING_LEN);
    (intent_probs, order, clean(coverage))
}

/// The indices of the `k` largest of `probs`, largest first; ties keep the lower index first,
/// so the result is what a stable descending sort would put first, in one pass over `probs`
/// (the ranking runs on every message, over every intent).
pub(super) fn best_first(probs: &[f32], k: usize) -> Vec<usize> {
    let mut top: Vec<usize> = Vec::with_capacity(k + 1);
    for (i, p) in probs.iter().enumerate() {
        // Once full, most probabilities are no larger than the last kept: one comparison.
        if top.len() == k && top.last().is_some_and(|&j| probs[j].total_cmp(p).is_ge()) {
            continue;
        }
        let at = top
            .iter()
            .position(|&j| probs[j].total_cmp(p).is_lt())
            .unwrap_or(top.len());
        if at < k {
            top.insert(at, i);
            top.truncate(k);
        }
    }
    top
}

/// Adds the slot tagger's values to the rule-based entities, as entities named after their
/// slot, after them.
///
/// Precedence: a rule-based entity of the same name that overlaps a learned span wins, because
/// its value is normalised (the `product` list turns "hiking boot" into `boots`) and it was
/// written by the owner; the learned span is dropped. Elsewhere the learned value is the covered
/// text as typed ("trekking poles"), so a learned slot reaches values no list names. Entities
/// of other names are never suppressed. Dialogue takes the first entity of a name that a slot
/// accepts, so rule-based values come first.
fn add_learned(entities: &mut Vec<Entity>, spans: Vec<crate::slots::SlotSpan>) {
    let rules = entities.len();
    for span in spans {
        let shadowed = entities[..rules].iter().any(|e| {
            e.entity == span.slot && e.start < span.end && span.start < e.end
        });
        if !shadowed {
            entities.push(Entity {
                entity: span.slot,
                value: span.value.clone(),
                raw: span.value,
                start: span.start,
                end: span.end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_first_is_the_head_of_a_stable_descending_sort() {
        let cases: [&[f32]; 5] = [
            &[],
            &[0.5],
            &[0.1, 0.7, 0.1, 0.7, 0.05, 0.3, 0.7, 0.0],
            &[0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
            &[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
        ];
        for probs in cases {
            let mut sorted: Vec<usize> = (0..probs.len()).collect();
            sorted.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
            for k in 0..=probs.len() + 1 {
                let expected: Vec<usize> = sorted.iter().copied().take(k).collect();
                assert_eq!(best_first(probs, k), expected, "{probs:?}, k = {k}");
            }
        }
    }

    #[test]
    fn classify_ranks_as_understand_does() {
        let bot = Bot::from_json(include_str!("../../tests/fixtures/bots/mini.json")).expect("mini bot trains");
        for text in ["where is my order?", "hola", "", &"refund ".repeat(400)] {
            assert_eq!(bot.classify(text), bot.understand(text).ranking, "{text:?}");
        }
        assert!(!bot.classify("where is my order?").is_empty());
    }
}
