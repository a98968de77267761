//! The [`Bot`] facade: building a bot (training, loading a model), its model file, and the
//! public entry points of a visit (`new_state`, `begin_visit`, `respond`, `understand`).
//!
//! The `Bot` value itself is the dialogue's engine ([`crate::dialogue`]): a compiled
//! [`Domain`] with the trained classifiers and slot tagger. This module sits on top of it.

use crate::definition::{BotDefinition, DefinitionError, Problem};
use crate::dialogue::{Bot, BotMessage, Input, LanguageGuess, NluResult, Turn, TurnContext};
use crate::domain::{Domain, DEFAULT_THRESHOLD};
use crate::model::{self, Model, ModelError};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::nlu::{IntentClassifier, SentenceEncoder};
#[cfg(feature = "train")]
use crate::nlu::TrainOptions;
use crate::slots::SlotTagger;
#[cfg(feature = "train")]
use crate::slots::{SlotExample, SlotSpan, SlotTrainOptions};
use crate::state::{ConversationState, Customer, Fact, FactSource, Profile, STATE_VERSION};

/// Browsing facts from the site ([`Bot::track`]) kept at most; the oldest goes first.
pub const MAX_SITE_FACTS: usize = 20;

/// Why a bot could not be built or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BotError {
    /// The definition is malformed or inconsistent.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// The model file is not readable by this build.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The definition's `word_vectors` names a table and training was given none.
    #[error("word_vectors: the definition asks for `{0}`, but no word-vector table or sentence encoder was passed to train with (Bot::train_with_vectors: the table minilm-l6-d64 is assets/vectors/minilm-l6-d64.svvec; the encoder all-minilm-l6-v2 runs natively only, through `sottovoce eval --encoder`)")]
    VectorsNotGiven(String),
    /// The definition's `word_vectors` names a table and training was given another one.
    #[error("word_vectors: the definition asks for the word-vector table `{name}` (hash {expected:016x}), but the table passed has hash {found:016x}")]
    VectorsMismatch {
        /// The table the definition names.
        name: String,
        /// Its hash in [`crate::definition::WORD_VECTOR_TABLES`].
        expected: u64,
        /// The hash of the table passed ([`crate::nlu::StaticVectors::hash`]).
        found: u64,
    },
}

#[cfg(feature = "train")]
/// An example's plain text and slot spans (`[value](slot)` markup read); an example without
/// markup, or whose markup is malformed (validation reports it), as it is.
fn plain_example(e: &str) -> (String, Vec<SlotSpan>) {
    match crate::slots::parse_markup(e) {
        Ok(a) if e.contains('[') || e.contains('\\') => (a.text, a.spans),
        _ => (e.to_owned(), Vec::new()),
    }
}

/// Why a locale could not be set ([`Bot::set_locale`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocaleError {
    /// The bot has no locale with this tag or its primary subtag.
    #[error("this bot does not speak `{code}`; its locales are {locales:?}")]
    Unsupported {
        /// The tag asked for.
        code: String,
        /// The bot's locales, in definition order.
        locales: Vec<String>,
    },
    /// The locale's model part has not been added yet ([`Bot::add_locale`]).
    #[error("the model part of `{locale}` is not loaded yet: add it with add_locale first")]
    NotLoaded {
        /// The bot locale asked for.
        locale: String,
    },
}

impl Bot {
    /// Parses, validates and trains a bot from definition JSON (with the `train` feature).
    ///
    /// # Errors
    /// [`BotError::Definition`] with every problem found.
    #[cfg(feature = "train")]
    pub fn from_json(text: &str) -> Result<Bot, BotError> {
        Bot::train(BotDefinition::from_json(text)?)
    }

    /// Trains the intent and locale classifiers and, when examples carry `[value](slot)`
    /// markup, the slot tagger ([`crate::slots`]), all in one pass over the examples.
    ///
    /// The classifiers learn from the plain text (markup removed); the tagger learns every
    /// example with its spans (unmarked examples teach it what is not a slot) and its intent,
    /// so each intent only produces the slots it was annotated with.
    ///
    /// Only with the `train` feature (on by default).
    ///
    /// # Errors
    /// [`BotError::Definition`] if the definition does not validate.
    #[cfg(feature = "train")]
    pub fn train(definition: BotDefinition) -> Result<Bot, BotError> {
        Bot::train_with_vectors(definition, None)
    }

    /// The texts the intent classifier reads from `definition`'s examples, in definition order
    /// (intent, then locale): each example's plain text (`[value](slot)` markup read),
    /// normalised ([`crate::nlu::normalize`]), as its dense block's source embeds them. What a
    /// copy of an encoder pruned for one bot must cover (`sottovoce build --encoder`).
    #[cfg(feature = "train")]
    pub fn training_texts(definition: &BotDefinition) -> Vec<String> {
        definition
            .intents
            .iter()
            .flat_map(|i| i.examples.values().flatten())
            .map(|e| crate::nlu::normalize(&plain_example(e).0))
            .collect()
    }

    /// As [`Bot::train`], with a static word-vector table ([`crate::nlu::StaticVectors`], read from the
    /// bytes of `assets/vectors/`) whose sentence vector joins the intent classifier's features
    /// (the locale classifier stays on n-grams) when the definition opts in with `word_vectors`;
    /// a definition without it ignores the table, so a caller holding one can always pass it.
    /// The model then records the table's hash, and loading it needs the same table
    /// ([`Bot::from_model_with_vectors`]). `None` is [`Bot::train`].
    ///
    /// # Errors
    /// As [`Bot::train`]; [`BotError::VectorsNotGiven`] when the definition names a table and
    /// `vectors` is `None`, [`BotError::VectorsMismatch`] when `vectors` is another table.
    #[cfg(feature = "train")]
    pub fn train_with_vectors(definition: BotDefinition, vectors: Option<&Arc<dyn SentenceEncoder>>) -> Result<Bot, BotError> {
        let problems = definition.validate();
        if !problems.is_empty() {
            return Err(DefinitionError::Invalid(problems).into());
        }
        let vectors = match (&definition.word_vectors, vectors) {
            (None, _) => None,
            (Some(name), None) => return Err(BotError::VectorsNotGiven(name.clone())),
            (Some(name), Some(table)) => {
                let expected = crate::definition::word_vector_table_hash(name).unwrap_or_default();
                if table.source() != expected {
                    return Err(BotError::VectorsMismatch { name: name.clone(), expected, found: table.source() });
                }
                Some(table)
            }
        };
        let options = TrainOptions::default();
        // (plain text, slot spans, intent index, locale index); validation has reported
        // malformed markup already.
        let mut plain: Vec<(String, Vec<SlotSpan>, usize, usize)> = Vec::new();
        for (i, intent) in definition.intents.iter().enumerate() {
            for (locale, examples) in &intent.examples {
                let l = definition.locales.iter().position(|x| x == locale).unwrap_or(0);
                for e in examples {
                    let (text, spans) = plain_example(e);
                    plain.push((text, spans, i, l));
                }
            }
        }
        let by_intent: Vec<(&str, usize)> = plain.iter().map(|(t, _, i, _)| (t.as_str(), *i)).collect();
        let by_locale: Vec<(&str, usize)> = plain.iter().map(|(t, _, _, l)| (t.as_str(), *l)).collect();
        let vector_weight =
            definition.word_vectors.as_deref().map_or(options.vector_weight, crate::definition::word_vector_weight);
        let intent_options = TrainOptions { vectors: vectors.cloned(), vector_weight, ..options.clone() };
        let intents = IntentClassifier::train(&by_intent, definition.intents.len(), &intent_options);
        let locales = IntentClassifier::train(&by_locale, definition.locales.len(), &TrainOptions::locale());
        // One tagger per locale, from that locale's markup only: a language's word order and
        // compounds (German "Daunenweste") do not teach another's ("down vest").
        let mut slots = Vec::new();
        if plain.iter().any(|(_, spans, _, _)| !spans.is_empty()) {
            for l in 0..definition.locales.len() {
                let examples: Vec<SlotExample<'_>> = plain
                    .iter()
                    .filter(|(_, _, _, locale)| *locale == l)
                    .map(|(text, spans, intent, _)| SlotExample { text, spans, intent: *intent })
                    .collect();
                if !examples.iter().any(|e| !e.spans.is_empty()) {
                    slots.push(None);
                    continue;
                }
                let tagger = SlotTagger::train(&examples, &SlotTrainOptions::default()).map_err(|e| {
                    DefinitionError::Invalid(vec![Problem { path: "intents".into(), message: format!("slot markup: {e}") }])
                })?;
                slots.push(Some(tagger));
            }
        }
        let threshold = definition.threshold.unwrap_or(DEFAULT_THRESHOLD);
        Bot::assemble(definition, intents, locales, threshold, slots)
    }

    #[cfg(feature = "train")]
    fn assemble(
        definition: BotDefinition,
        intents: IntentClassifier,
        locales: IntentClassifier,
        threshold: f32,
        slots: Vec<Option<SlotTagger>>,
    ) -> Result<Bot, BotError> {
        let sentiment = definition.locales.iter().map(|l| Some(crate::sentiment::Lexicon::builtin(l))).collect();
        let domain = Domain::compile(definition, threshold).map_err(DefinitionError::Invalid)?;
        Ok(Bot { domain, intents, locales, slots, missing: Vec::new(), model_hash: 0, sentiment, trained: true })
    }

    /// Loads a compiled model file (see [`crate::model`]). The embedded definition is trusted
    /// as `sottovoce build` validated it (it travels without the examples that validation asks
    /// for); its patterns and Fluent messages are compiled again.
    ///
    /// # Errors
    /// [`BotError::Model`] for a foreign, damaged or other-version file;
    /// [`BotError::Definition`] if a pattern or message inside does not compile.
    pub fn from_model(bytes: &[u8]) -> Result<Bot, BotError> {
        Bot::from_model_with_vectors(bytes, None)
    }

    /// As [`Bot::from_model`], attaching `vectors` to a model trained with that word-vector
    /// table ([`Bot::train_with_vectors`]); a model trained without one ignores it.
    ///
    /// # Errors
    /// As [`Bot::from_model`]; [`ModelError::VectorsRequired`] (in [`BotError::Model`]) when
    /// the model needs a table and `vectors` is `None`, [`ModelError::Vectors`] when it needs
    /// another one.
    pub fn from_model_with_vectors(bytes: &[u8], vectors: Option<&Arc<dyn SentenceEncoder>>) -> Result<Bot, BotError> {
        let m = model::decode_with_vectors(bytes, vectors)?;
        // Validated by `sottovoce build`, and without the examples validation asks for.
        let domain = Domain::build(m.definition, m.threshold).map_err(DefinitionError::Invalid)?;
        let model_hash = if m.parts.is_empty() { 0 } else { crate::text::fnv1a64(bytes) };
        Ok(Bot { domain, intents: m.intents, locales: m.locales, slots: m.slots, missing: m.parts, model_hash, sentiment: m.sentiment, trained: false })
    }

    /// The word-vector table (a name in [`crate::definition::WORD_VECTOR_TABLES`]) that the
    /// model file or definition JSON in `bytes` needs to load ([`Bot::from_model_with_vectors`],
    /// [`Bot::train_with_vectors`]), or `None` when it needs none, names a table this build does
    /// not know, or is unreadable (loading it then reports why). For a model it decodes the file;
    /// definition JSON is read only with the `train` feature (`None` without it).
    pub fn vectors_needed(bytes: &[u8]) -> Option<&'static str> {
        if model::is_model(bytes) {
            // By the definition inside: a copy made for this bot (a `.sven` file) has a hash of
            // its own, the name says what it was made from.
            let m = model::decode_body(bytes).ok()?;
            m.intents.vectors_required()?;
            crate::definition::word_vector_name(&m.definition.word_vectors?)
        } else {
            Bot::definition_vectors_needed(bytes)
        }
    }

    /// The hash ([`SentenceEncoder::hash`]) of the table or encoder the model file in `bytes`
    /// was trained with, or `None` when it needs none or is unreadable.
    pub fn vectors_hash(bytes: &[u8]) -> Option<u64> {
        match model::decode(bytes) {
            Err(ModelError::VectorsRequired { hash, .. }) => Some(hash),
            _ => None,
        }
    }

    /// The table named by the definition JSON in `bytes`: only with the `train` feature, since
    /// a build without it cannot load definition JSON anyway (and stays without its parser).
    #[cfg(feature = "train")]
    fn definition_vectors_needed(bytes: &[u8]) -> Option<&'static str> {
        let definition = BotDefinition::parse(std::str::from_utf8(bytes).ok()?).ok()?;
        crate::definition::word_vector_name(&definition.word_vectors?)
    }

    #[cfg(not(feature = "train"))]
    fn definition_vectors_needed(_bytes: &[u8]) -> Option<&'static str> {
        None
    }

    /// Loads either a model file or definition JSON, telling them apart by the magic bytes.
    /// Only with the `train` feature; without it, [`Bot::from_model`] is the way in.
    ///
    /// # Errors
    /// As [`Bot::from_model`] or [`Bot::from_json`].
    #[cfg(feature = "train")]
    pub fn load(bytes: &[u8]) -> Result<Bot, BotError> {
        if model::is_model(bytes) {
            Bot::from_model(bytes)
        } else {
            let text = std::str::from_utf8(bytes).map_err(|e| DefinitionError::Syntax {
                line: 1,
                column: 1,
                message: format!("not UTF-8 text: {e}"),
            })?;
            Bot::from_json(text)
        }
    }

    /// Encodes this bot as a model file. The classifiers stand for the examples, which stay
    /// out of it, but for those this bot reads as entities alone and as their own intent
    /// ("reembolso", a list synonym too, under `refunds`), which it keeps as plain text: an
    /// entity alone decides no intent unless an owner wrote exactly it as an example
    /// (`dialogue::understand`).
    pub fn to_model(&self) -> Vec<u8> {
        let mut definition = self.domain.definition.clone();
        for intent in &mut definition.intents {
            for examples in intent.examples.values_mut() {
                *examples = examples
                    .iter()
                    .map(|e| crate::slots::plain_text(e))
                    .filter(|text| {
                        let u = crate::dialogue::understand(self, text, None, None);
                        u.entity_alone && u.result.ranking.first().is_some_and(|(name, _)| *name == intent.name)
                    })
                    .collect();
            }
            intent.examples.retain(|_, examples| !examples.is_empty());
        }
        model::encode(&Model {
            definition,
            intents: self.intents.clone(),
            locales: self.locales.clone(),
            threshold: self.domain.threshold,
            slots: self.slots.clone(),
            parts: self.missing.clone(),
            sentiment: self.sentiment.clone(),
        })
    }

    /// Encodes this bot as a model in parts ([`model::split`]): the common file, which a page
    /// loads first ([`Bot::from_model`]), and one part per locale, added when a visitor needs
    /// that locale ([`Bot::add_locale`]). Returns `(common file, [(locale, part file)])`.
    ///
    /// # Errors
    /// [`ModelError::CannotSplit`] for a bot loaded from a model file (its examples, which
    /// tell the locales' features apart, are not in it).
    #[cfg(feature = "train")]
    pub fn to_model_parts(&self) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), ModelError> {
        if !self.trained {
            return Err(ModelError::CannotSplit("the bot was loaded from a model file, which does not keep its examples".into()));
        }
        let def = &self.domain.definition;
        let texts: Vec<Vec<String>> = def
            .locales
            .iter()
            .map(|locale| {
                def.intents
                    .iter()
                    .flat_map(|i| i.examples.get(locale).into_iter().flatten())
                    .map(|e| plain_example(e).0)
                    .collect()
            })
            .collect();
        let examples: Vec<Vec<&str>> = texts.iter().map(|t| t.iter().map(String::as_str).collect()).collect();
        let whole = model::decode_with_vectors(&self.to_model(), None).map_err(|e| ModelError::CannotSplit(e.to_string()))?;
        model::split(&whole, &examples)
    }

    /// Adds a locale part of a model loaded in parts ([`Bot::to_model_parts`]): from then on
    /// the bot recognises that locale's own phrasings fully and replies in it. Returns the
    /// part's locale. Adding a part twice is an error and changes nothing.
    ///
    /// # Errors
    /// [`ModelError::NotAModel`], [`ModelError::Format`] or [`ModelError::Corrupt`] for a
    /// foreign or damaged file; [`ModelError::PartMismatch`] for a part of another model, of a
    /// locale whose part is loaded already or that the bot does not have;
    /// [`BotError::Definition`] if its messages do not compile.
    pub fn add_locale(&mut self, bytes: &[u8]) -> Result<String, BotError> {
        let part = model::decode_part(bytes)?;
        let mismatch = || ModelError::PartMismatch { locale: part.locale.clone() };
        let Some(at) = self.missing.iter().position(|l| *l == part.locale) else { return Err(mismatch().into()) };
        if part.model != self.model_hash {
            return Err(mismatch().into());
        }
        let mut intents = self.intents.clone();
        intents.absorb(&part.intents).map_err(|_| mismatch())?;
        let mut definition = self.domain.definition.clone();
        definition.messages.insert(part.locale.clone(), part.messages);
        self.domain = Domain::build(definition, self.domain.threshold).map_err(DefinitionError::Invalid)?;
        self.intents = intents;
        let l = self.domain.definition.locales.iter().position(|x| *x == part.locale).unwrap_or(0);
        if let Some(tagger) = part.slots {
            self.slots.resize(self.slots.len().max(self.domain.definition.locales.len()), None);
            self.slots[l] = Some(tagger);
        }
        self.sentiment.resize(self.sentiment.len().max(self.domain.definition.locales.len()), None);
        self.sentiment[l] = part.sentiment;
        self.missing.remove(at);
        Ok(part.locale)
    }

    /// The locale whose part must be added ([`Bot::add_locale`]) before `text` is answered:
    /// the bot locale the message explicitly asks for ([`crate::lang::requested`]), else the
    /// locale the message is clearly written in (the locale classifier at least
    /// `locale_confidence` sure, the message at least `locale_min_words` long, as for a
    /// switch of the reply locale) when its part is missing; `None` otherwise, and always for a
    /// whole model. A page calls it before [`Bot::respond`] and fetches the part first, so
    /// the reply can switch to the visitor's language on that very message.
    pub fn locale_needed(&self, text: &str) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        // An explicit request ("can we speak French?") needs its locale however short it is.
        let utterance = crate::text::Utterance::analyze(text, "");
        if let Some(lang) = crate::lang::requested(utterance.tokens()) {
            return crate::dialogue::bot_locale(self, lang.code).filter(|l| self.missing.contains(l));
        }
        let settings = &self.domain.settings;
        if text.split_whitespace().count() < usize::from(settings.locale_min_words) {
            return None;
        }
        let probs = self.locales.predict(text);
        let (best, p) = probs.iter().enumerate().fold((0, 0.0f32), |a, (i, &p)| if p > a.1 { (i, p) } else { a });
        let locale = self.domain.definition.locales.get(best)?;
        (p >= settings.locale_confidence && self.missing.contains(locale)).then(|| locale.clone())
    }

    /// The locales of a model loaded in parts whose part has not been added
    /// ([`Bot::add_locale`]), in definition order; empty for a whole model.
    pub fn missing_locales(&self) -> &[String] {
        &self.missing
    }

    /// The slot tagger learned from `locale`'s `[value](slot)` markup, if any of its examples
    /// carries markup (and, for a model in parts, its part is loaded).
    pub fn slot_tagger(&self, locale: &str) -> Option<&SlotTagger> {
        let l = self.domain.definition.locales.iter().position(|x| x == locale)?;
        self.slots.get(l)?.as_ref()
    }

    /// The names of the slots learned from markup, in any locale (sorted, each once).
    pub fn learned_slots(&self) -> Vec<String> {
        let mut names: Vec<String> = self.slots.iter().flatten().flat_map(|t| t.slots().iter().cloned()).collect();
        crate::sort::sort_by(&mut names, |a, b| a.cmp(b));
        names.dedup();
        names
    }

    /// The definition.
    pub fn definition(&self) -> &BotDefinition {
        &self.domain.definition
    }

    /// The confidence threshold in use.
    pub fn threshold(&self) -> f32 {
        self.domain.threshold
    }

    /// The site says who the logged-in visitor is (`sottovoce.identify`): their customer
    /// record, orders included, is kept in `state`'s profile (replacing an earlier one), their
    /// name becomes the visitor's name unless the visitor gave one, and form slots with
    /// `from_site` take their orders instead of asking.
    pub fn identify(&self, state: &mut ConversationState, customer: Customer) {
        if state.profile.name.is_none() {
            state.profile.name = customer.name.clone().filter(|n| !n.trim().is_empty());
        }
        state.profile.customer = Some(customer);
    }

    /// The site reports what the visitor does on its pages (`sottovoce.track`): `event` is
    /// `product_view`, `add_to_cart` or `purchase` with the product's `name`, kept as a fact
    /// (`viewed`, `in_cart`, `bought`; source: the site) for the definition's `profile` days,
    /// newest last, at most [`MAX_SITE_FACTS`] of them. Other events, and every event for a
    /// bot whose definition has no `profile`, are not kept. Returns true when it was kept.
    pub fn track(&self, state: &mut ConversationState, event: &str, name: &str, now_ms: u64) -> bool {
        let Some(profile) = &self.domain.definition.profile else { return false };
        let entity = match event {
            "product_view" => "viewed",
            "add_to_cart" => "in_cart",
            "purchase" => "bought",
            _ => return false,
        };
        let name = name.trim();
        if name.is_empty() {
            return false;
        }
        let days = u64::from(profile.days.unwrap_or(crate::definition::DEFAULT_FACT_DAYS));
        state.profile.remember(Fact {
            entity: entity.to_owned(),
            value: name.to_owned(),
            source: FactSource::Site,
            at_ms: now_ms,
            expires_ms: now_ms.saturating_add(days * 24 * 60 * 60 * 1000),
        });
        let site = state.profile.facts.iter().filter(|f| f.source == FactSource::Site).count();
        if site > MAX_SITE_FACTS {
            let oldest = state.profile.facts.iter().position(|f| f.source == FactSource::Site);
            if let Some(i) = oldest {
                state.profile.facts.remove(i);
            }
        }
        true
    }

    /// The caller showed `products` (ids, best first) for the turn that recommended them
    /// ([`Turn::recommend`]), so that "compare them" and "what goes with it?" know which.
    /// The first time products are shown for a recommendation whose reply has
    /// `with_products`, the transcript's answer to the request becomes that text, as the caller
    /// shows it ([`Turn::with_products`]). Returns false when no recommendation is open (it
    /// expired, or none was made).
    pub fn shown(&self, state: &mut ConversationState, products: Vec<String>) -> bool {
        let Some(shopping) = state.shopping.as_mut() else { return false };
        let said_instead = if products.is_empty() { None } else { shopping.with_products.take() };
        shopping.shown = products;
        // The answer is the bot's entry right after the request (the last visitor entry):
        // the caller shows products before the visitor writes again.
        if let Some(text) = said_instead {
            let at = state.transcript.iter().rposition(|e| e.from == crate::state::Speaker::Visitor);
            if let Some(entry) = at.and_then(|i| state.transcript.get_mut(i + 1)).filter(|e| e.from == crate::state::Speaker::Bot) {
                entry.text = text;
            }
        }
        true
    }

    /// The page reports what just happened (`event`) and how it looks (`page`, with the time):
    /// the event is kept (a new visit after the dialogue's `new_visit_after_min` without one;
    /// `add_to_cart` fills the cart, `purchase` empties it), then the first of the definition's
    /// `triggers` whose conditions all hold and whose caps allow it is counted and returned as
    /// a teaser to show beside the launcher. `None` while the visitor types or has the chat open
    /// (`page.typing`, `page.chat_open`), after they dismissed a teaser this visit
    /// ([`Bot::dismiss_teaser`]), after they chose no tips ([`Bot::no_tips`]), and when no
    /// trigger fires. See [`crate::proactive`](crate::PageEvent) for the conditions.
    ///
    /// ```
    /// # let json = include_str!("../tests/fixtures/bots/mini.json").replacen(
    /// #     "\"fallback\"", r#""triggers": [{"id": "cart", "when": {"cart": true, "idle_s": 30}, "message": "hours-reply"}], "fallback""#, 1);
    /// # let bot = sottovoce::Bot::from_json(&json).unwrap();
    /// use sottovoce::{PageContext, PageEvent};
    /// let mut state = bot.new_state("en", 1, 0);
    /// let page = |idle_ms| PageContext { url: "/".into(), idle_ms, now_ms: 60_000 + idle_ms, ..Default::default() };
    /// let add = PageEvent::Track { event: "add_to_cart".into() };
    /// assert!(bot.proactive(&mut state, &add, &page(0)).is_none(), "not idle yet");
    /// assert_eq!(bot.proactive(&mut state, &PageEvent::Tick, &page(30_000)).unwrap().trigger, "cart");
    /// assert!(bot.proactive(&mut state, &PageEvent::Tick, &page(40_000)).is_none(), "once a visit");
    /// ```
    pub fn proactive(&self, state: &mut ConversationState, event: &crate::PageEvent, page: &crate::PageContext) -> Option<crate::Teaser> {
        crate::proactive::evaluate(self, state, event, page)
    }

    /// The teaser of the trigger `id`, whatever its conditions and caps, counting nothing: the
    /// owner's preview (`?sottovoce-trigger=<id>`). `None` for an unknown id.
    pub fn preview_teaser(&self, state: &ConversationState, id: &str) -> Option<crate::Teaser> {
        crate::proactive::preview(self, state, id)
    }

    /// The visitor clicked the teaser of trigger `id` at `now_ms`: its message (with its quick
    /// replies) is recorded as the bot's in the transcript and returned, the chat's first
    /// message. `None` for an unknown id.
    pub fn open_teaser(&self, state: &mut ConversationState, id: &str, now_ms: u64) -> Option<BotMessage> {
        crate::proactive::open(self, state, id, now_ms)
    }

    /// The visitor dismissed a teaser: no other is shown until their next visit.
    pub fn dismiss_teaser(&self, state: &mut ConversationState) {
        state.proactive.dismissed = true;
    }

    /// The visitor chose "no tips" at `now_ms`: kept as a fact said in chat that never expires
    /// ([`crate::state::NO_TIPS_FACT`]), so no teaser is shown again until they forget it under
    /// What I remember (`Profile::forget`).
    pub fn no_tips(&self, state: &mut ConversationState, now_ms: u64) {
        crate::proactive::stop_tips(state, now_ms)
    }

    /// True while the visitor's "no tips" holds ([`Bot::no_tips`]).
    pub fn tips_off(&self, state: &ConversationState) -> bool {
        crate::proactive::no_tips(state)
    }

    /// An agent resolved the visitor's escalation at `now_ms`: the satisfaction question
    /// (definition's `csat`), recorded in the transcript, for the chat to show; `None` when the
    /// bot has no `csat` or a question is already open. The answer comes as the visitor's next
    /// input ([`Bot::respond`]) and is kept in `state.csat.ratings`.
    pub fn ask_csat(&self, state: &mut ConversationState, now_ms: u64) -> Option<BotMessage> {
        self.csat_after_agent(state, now_ms)
    }

    /// A fresh conversation. `locale_hint` is the browser's language (`es-MX`); the closest
    /// supported locale is chosen. `seed` drives reply variation; `now_ms` is the current time.
    pub fn new_state(&self, locale_hint: &str, seed: u64, now_ms: u64) -> ConversationState {
        let lang = locale_hint.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        let locale = self
            .domain
            .definition
            .locales
            .iter()
            .find(|l| l.eq_ignore_ascii_case(locale_hint))
            .or_else(|| self.domain.definition.locales.iter().find(|l| l.split('-').next() == Some(lang.as_str())))
            .cloned()
            .unwrap_or_else(|| self.domain.definition.default_locale().to_owned());
        ConversationState {
            version: STATE_VERSION,
            bot_id: self.domain.definition.id.clone(),
            transcript: Vec::new(),
            form: None,
            profile: Profile {
                name: None,
                locale,
                visits: 0,
                first_seen_ms: now_ms,
                last_seen_ms: now_ms,
                facts: Vec::new(),
                customer: None,
                locale_chosen: false,
                locale_pending: None,
                topics: Vec::new(),
                taught: Vec::new(),
            },
            rng: seed,
            fallbacks_in_a_row: 0,
            topic: None,
            negatives: 0,
            memory: Default::default(),
            shopping: None,
            proactive: Default::default(),
            csat: Default::default(),
        }
    }

    /// The visitor chooses the reply locale (the widget's language menu): `code` is a BCP 47 tag,
    /// one of the bot's locales (case-insensitive) or its primary subtag (`pt` for `pt-BR`).
    /// Returns the locale set. From then on the replies no longer follow the language of the
    /// visitor's messages until they ask for another language
    /// ([`crate::Profile::locale_chosen`]).
    ///
    /// ```
    /// # let bot = sottovoce::Bot::from_json(include_str!("../tests/fixtures/bots/mini.json")).unwrap();
    /// let mut state = bot.new_state("en", 1, 0);
    /// assert_eq!(bot.set_locale(&mut state, "ES").unwrap(), "es");
    /// assert!(bot.set_locale(&mut state, "it").is_err());
    /// ```
    ///
    /// # Errors
    /// [`LocaleError::Unsupported`] when the bot has no such locale, [`LocaleError::NotLoaded`]
    /// when its model part is missing; the state is unchanged either way.
    pub fn set_locale(&self, state: &mut ConversationState, code: &str) -> Result<String, LocaleError> {
        let locale = crate::dialogue::bot_locale(self, code).ok_or_else(|| LocaleError::Unsupported {
            code: code.to_owned(),
            locales: self.domain.definition.locales.clone(),
        })?;
        if self.missing.contains(&locale) {
            return Err(LocaleError::NotLoaded { locale });
        }
        crate::dialogue::choose_locale(state, &locale);
        Ok(locale)
    }

    /// Starts (or continues) a visit: counts a new visit after 30 minutes away and returns the
    /// greeting for an empty transcript or a returning visitor (by name when known); returns no
    /// messages when the visitor is mid-conversation.
    ///
    /// The returned messages are also appended to the transcript. A visitor who left in the
    /// middle of a form is asked for the missing slot again after the greeting.
    pub fn begin_visit(&self, state: &mut ConversationState, now_ms: u64) -> Vec<BotMessage> {
        self.begin_visit_impl(state, now_ms)
    }

    /// Classifies one message: the locale it is written in, the intent ranking (top 5, best
    /// first, confidences in [0, 1]), the intent when the best is at or above
    /// [`Bot::threshold`] and some word lies outside the message's entities (an entity alone,
    /// "Denver" or "Canada", never decides an intent), and the entities found (every supported language tried, no reference
    /// time), followed by the values of slots learned from the examples' markup, named after
    /// their slot (tagged for the recognised intent, or for every slot below the threshold;
    /// a rule-based entity of the same name over the same words takes precedence). Only the
    /// first 1000 chars are read.
    pub fn understand(&self, text: &str) -> NluResult {
        crate::dialogue::understand(self, text, None, None).result
    }

    /// The language of `text` (its first 1000 chars) as a turn reads it: the locale classifier
    /// over the bot's locales, the built-in identifier for languages it lacks and an explicit
    /// request, from one analysis of the text. What language detection adds to a turn; the
    /// turn's own decision also weighs message length, entities and the conversation
    /// (the hysteresis of `dialogue/locale.rs`, in ARCHITECTURE.md's dialogue layer).
    pub fn detect_language(&self, text: &str) -> LanguageGuess {
        let detection = crate::dialogue::detect_language(self, text);
        let def = &self.domain.definition;
        LanguageGuess {
            locale: def.locales.get(detection.locale_index).cloned().unwrap_or_else(|| def.default_locale().to_owned()),
            confidence: detection.locale_confidence,
            language: detection.identified.map(|g| g.code.to_owned()),
            language_confidence: detection.identified.map_or(0.0, |g| g.confidence),
            requested: detection.requested.map(|l| l.code.to_owned()),
        }
    }

    /// The reply this bot gives for `intent`, rendered in `locale` with the Fluent arguments
    /// `args` (e.g. `name`), for a person to send in its place (the escalation server's
    /// suggested replies for agents): the reply's main message (no variant, no empathy), and
    /// only the links whose URL is complete (no `{slot}` placeholder the agent could not fill)
    /// and allowed ([`crate::is_allowed_url`]); no quick replies. `None` when there is no such
    /// intent or it has no reply of its own (a form, an action).
    pub fn suggested_reply(&self, intent: &str, locale: &str, args: &BTreeMap<String, String>) -> Option<BotMessage> {
        let reply = self.domain.intent(intent)?.reply.as_ref()?;
        let replies = &self.domain.replies;
        let links = reply
            .links
            .iter()
            .filter(|l| !l.url.contains('{') && crate::replies::is_allowed_url(&l.url))
            .map(|l| crate::replies::Link { label: replies.format(locale, &l.label, args), url: l.url.clone() })
            .collect();
        Some(BotMessage {
            id: reply.message.clone(),
            text: replies.format(locale, &reply.message, args),
            quick_replies: Vec::new(),
            links,
        })
    }

    /// The intent classifier alone on `text`: the best intents, best first (at most 5), with
    /// their probabilities in [0, 1], as [`Bot::understand`] ranks them, without the
    /// entities, sentiment, locale or threshold. This is what the browser benchmark times as
    /// classifying an utterance.
    pub fn classify(&self, text: &str) -> Vec<(String, f32)> {
        self.classify_with_coverage(text).0
    }

    /// As [`Bot::classify`], plus how familiar the message's wording is: the share in [0, 1]
    /// of its n-gram feature mass on n-grams the training examples taught
    /// (`IntentClassifier::coverage`). [`Bot::understand`] acts on the best
    /// intent when [`crate::definition::DialogueSettings::accepts`] (of [`Bot::settings`]) says
    /// so for its probability and this coverage.
    pub fn classify_with_coverage(&self, text: &str) -> (Vec<(String, f32)>, f32) {
        let (probs, order, coverage) = crate::dialogue::classify(self, text);
        let ranking = order.into_iter().map(|i| (self.domain.definition.intents[i].name.clone(), probs[i])).collect();
        (ranking, coverage)
    }

    /// Turns the intent classifier's typo correction off or on (on by default; `nlu/typos.rs`):
    /// what `sottovoce eval --no-typo-correction` measures without it.
    #[cfg(feature = "internals")]
    pub fn set_typo_correction(&mut self, on: bool) {
        self.intents.set_typo_correction(on);
    }

    /// The dialogue policy this bot runs: the definition's `dialogue` object and threshold
    /// over the defaults.
    pub fn settings(&self) -> &crate::definition::DialogueSettings {
        &self.domain.settings
    }

    /// Answers one visitor input, updating `state` (transcript, form, profile, locale).
    ///
    /// Decisions, in order: an active form gets first look (a slot value fills it, a
    /// `cancel_form` intent cancels it, anything else re-prompts until the slot's `max_tries`);
    /// then the intent (a pressed quick reply's, or the classifier's when at or above the
    /// threshold) runs its action, reply and form; otherwise the fallback answers with "did you
    /// mean" buttons. The reply locale follows the visitor's language with hysteresis (a clear
    /// message in another of the bot's locales switches when very clear, else the second in a
    /// row does; short messages never switch; an explicit request such as "en español por
    /// favor" wins and sticks, answered by the greeting in that locale); a message clearly in
    /// a language the bot lacks is answered by [`crate::OFFER_MESSAGE_ID`]: which
    /// languages the bot speaks, in that language when known, with one button per locale
    /// ([`crate::QuickReply::locale`]). Whitespace-only
    /// text gets an empty turn and is not recorded. Never fails.
    ///
    /// `at` is the turn's clock: the time, recorded in the transcript and the profile, and the
    /// visitor's UTC offset, against which relative dates in the message are resolved.
    pub fn respond(&self, state: &mut ConversationState, input: Input, at: TurnContext) -> Turn {
        self.respond_impl(state, input, at)
    }

    /// A thumbs up (`up`) or down on the bot's latest answer: the visitor message it answered
    /// is remembered, on this device, as meaning (or not meaning) the intent acted on, and their
    /// later similar messages lean that way ([`crate::TAUGHT_MAX_SHIFT`] at most). Returns false
    /// when there is nothing to rate (no answer yet, or the latest was a fallback). Seen in
    /// `state.profile.taught`; forgotten with `Profile::forget("taught", text)`.
    pub fn feedback(&self, state: &mut ConversationState, up: bool, now_ms: u64) -> bool {
        crate::dialogue::record_thumbs(state, up, now_ms)
    }

    /// The key figures of the conversation in `state` ([`crate::kpi::measure`]): its outcome,
    /// fallbacks, "did you mean" picks, ratings, intents and time to the first answer, with the
    /// definition telling which intents ask for a person. Pure: reads the state only. Add them
    /// up with [`crate::Kpis::add`]; nothing leaves the device unless the caller sends it.
    pub fn kpis(&self, state: &ConversationState) -> crate::ConversationKpis {
        crate::kpi::measure(state, |name| {
            self.domain.intent(name).is_some_and(|i| i.action == Some(crate::definition::Action::Handoff))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Input;

    fn mini() -> Bot {
        Bot::from_json(include_str!("../tests/fixtures/bots/mini.json")).expect("mini bot trains")
    }

    #[test]
    fn a_model_in_parts_loads_locale_by_locale_and_adds_up_to_the_whole() {
        let bot = mini();
        let whole = bot.to_model();
        let (common, parts) = bot.to_model_parts().unwrap();
        assert_eq!(parts.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["en", "es"]);
        // Parts overlap (each carries every intent weight its own examples use), yet a visitor's
        // first load, the common file and one part, is smaller than the whole model.
        for (locale, part) in &parts {
            let first = common.len() + part.len();
            assert!(first < whole.len(), "{locale}: {first} bytes against {} whole", whole.len());
        }
        let mut split = Bot::from_model(&common).unwrap();
        assert_eq!(split.missing_locales(), ["en", "es"]);
        assert_eq!(split.locale_needed("quiero hablar con una persona").as_deref(), Some("es"));
        assert_eq!(split.locale_needed("hola"), None, "too short to tell");
        assert_eq!(split.add_locale(&parts[1].1).unwrap(), "es");
        assert_eq!(split.locale_needed("quiero hablar con una persona"), None, "loaded");
        assert_eq!(split.missing_locales(), ["en"]);
        // A part twice, a part of another model, a model file instead of a part: typed errors,
        // and the bot is unchanged.
        let again = split.add_locale(&parts[1].1).unwrap_err();
        assert!(matches!(again, BotError::Model(ModelError::PartMismatch { ref locale }) if locale == "es"), "{again}");
        let other = Bot::from_json(&include_str!("../tests/fixtures/bots/mini.json").replace("where is my order", "where is my parcel"))
            .unwrap()
            .to_model_parts()
            .unwrap();
        assert!(matches!(split.add_locale(&other.1[0].1), Err(BotError::Model(ModelError::PartMismatch { .. }))));
        assert!(matches!(split.add_locale(&whole), Err(BotError::Model(ModelError::NotAModel))));
        assert_eq!(split.missing_locales(), ["en"]);
        split.add_locale(&parts[0].1).unwrap();
        assert!(split.missing_locales().is_empty());
        assert_eq!(split.to_model(), whole, "common + every part = the whole model");
        let loaded = Bot::from_model(&whole).unwrap();
        // The sentiment lexicons travel in the model (each in its locale's part), not the wasm.
        let angry = "es un servicio pésimo, estoy muy enfadado";
        assert!(loaded.understand(angry).sentiment <= crate::sentiment::NEGATIVE);
        for text in ["where is my order", "quiero hablar con una persona", "zzz", angry] {
            assert_eq!(split.understand(text), loaded.understand(text), "{text}");
        }
    }

    #[test]
    fn a_recommendation_says_its_with_products_message_once_products_are_shown() {
        let mut def = mini().definition().clone();
        let hours = def.intents.iter_mut().find(|i| i.name == "store_hours").unwrap();
        hours.action = Some(crate::definition::Action::Recommend);
        let reply = hours.reply.as_mut().unwrap();
        reply.with_products = Some("thanks-reply".into());
        reply.quick_replies = vec![crate::definition::QuickReplyDef { label: "title-track".into(), intent: Some("track_order".into()) }];
        let bot = Bot::train(def).unwrap();
        let mut state = bot.new_state("en", 1, 0);
        let turn = bot.respond(&mut state, Input::Text { text: "when do you open".into() }, TurnContext::utc(0));
        assert!(turn.recommend.is_some(), "{turn:?}");
        let said = turn.messages[0].clone();
        let instead = turn.with_products.clone().expect("the reply's with_products");
        assert_eq!((said.id.as_str(), instead.id.as_str()), ("hours-reply", "thanks-reply"));
        assert_eq!((instead.quick_replies.clone(), instead.links.clone()), (said.quick_replies.clone(), said.links.clone()), "the reply's buttons and links stay");
        let answer = |state: &ConversationState| state.transcript.last().map(|e| (e.text.clone(), e.quick_replies.len())).unwrap();
        assert_eq!(answer(&state), (said.text.clone(), 1), "the transcript keeps the reply until products are shown");
        // No products shown (nothing in the catalog matched): the reply stands.
        assert!(bot.shown(&mut state, Vec::new()));
        assert_eq!(answer(&state), (said.text.clone(), 1));
        assert!(bot.shown(&mut state, vec!["p1".into()]));
        assert_eq!(answer(&state), (instead.text.clone(), 1), "the transcript says what the visitor saw");
        // Shown again (a refinement's products): said once, nothing else is rewritten.
        bot.respond(&mut state, Input::Text { text: "hello".into() }, TurnContext::utc(0));
        let before = state.transcript.clone();
        assert!(bot.shown(&mut state, vec!["p2".into()]));
        assert_eq!(state.transcript, before);
        // A reply without it, and a turn that recommends nothing, carry none.
        assert!(mini().respond(&mut mini().new_state("en", 1, 0), Input::Text { text: "when do you open".into() }, TurnContext::utc(0)).with_products.is_none());
    }

    #[test]
    fn bot_can_be_shared_between_threads() {
        fn check<T: Send + Sync>() {}
        check::<Bot>();
    }

    #[test]
    fn new_state_picks_the_closest_locale() {
        let bot = mini();
        assert_eq!(bot.new_state("es-MX", 1, 0).profile.locale, "es");
        assert_eq!(bot.new_state("ES", 1, 0).profile.locale, "es");
        assert_eq!(bot.new_state("fr-FR", 1, 0).profile.locale, "en");
        assert_eq!(bot.new_state("", 1, 0).profile.locale, "en");
        let state = bot.new_state("en-GB", 7, 1_000);
        assert_eq!((state.profile.visits, state.profile.first_seen_ms, state.rng), (0, 1_000, 7));
    }

    /// An example made of an entity alone is kept in the model file, so that the owner's
    /// exact words still decide their intent there; another entity alone decides none.
    #[test]
    fn an_entity_alone_decides_only_the_intent_it_is_an_example_of() {
        let mut def: serde_json::Value = serde_json::from_str(include_str!("../tests/fixtures/bots/mini.json")).unwrap();
        def["entities"].as_array_mut().unwrap().extend([
            serde_json::json!({"kind": "list", "name": "resolution", "values": [{"value": "refund", "synonyms": ["reembolso"]}]}),
            serde_json::json!({"kind": "list", "name": "city", "values": [{"value": "denver", "synonyms": []}]}),
        ]);
        def["intents"].as_array_mut().unwrap().push(serde_json::json!({
            "name": "refunds",
            "examples": {
                "en": ["where is my refund", "how do refunds work", "I want my money back"],
                "es": ["reembolso", "dónde está mi reembolso", "cómo funcionan los reembolsos"]
            },
            "reply": {"message": "refunds-reply"}
        }));
        def["intents"][2]["examples"]["en"].as_array_mut().unwrap().push("are you open in denver".into());
        def["messages"]["en"]["refunds-reply"] = "Refunds take 5 days.".into();
        def["messages"]["es"]["refunds-reply"] = "Los reembolsos tardan 5 días.".into();
        let trained = Bot::from_json(&def.to_string()).expect("the bot trains");
        let loaded = Bot::load(&trained.to_model()).unwrap();
        for bot in [&trained, &loaded] {
            assert_eq!(bot.understand("Reembolso").intent.as_deref(), Some("refunds"));
            assert_eq!(bot.understand("reembolso!").intent.as_deref(), Some("refunds"));
            assert_eq!(bot.understand("Denver").intent, None);
        }
        let kept: Vec<(&str, &Vec<String>)> =
            loaded.definition().intents.iter().flat_map(|i| i.examples.values().map(move |e| (i.name.as_str(), e))).collect();
        assert_eq!(kept, vec![("refunds", &vec!["reembolso".to_owned()])]);
        assert!(matches!(loaded.to_model_parts(), Err(ModelError::CannotSplit(_))));
    }

    #[test]
    fn load_tells_models_from_definitions() {
        let bot = mini();
        let model = bot.to_model();
        // Everything but the examples, which the classifiers stand for.
        let mut without_examples = bot.definition().clone();
        without_examples.intents.iter_mut().for_each(|i| i.examples.clear());
        assert_eq!(Bot::load(&model).unwrap().definition(), &without_examples);
        assert!(bot.definition().intents.iter().all(|i| !i.examples.is_empty()));
        assert!(matches!(Bot::load(&[0xff, 0xfe, 0x00]), Err(BotError::Definition(DefinitionError::Syntax { .. }))));
        let mut other = model.clone();
        other[4] = 0xEE;
        assert!(matches!(Bot::load(&other), Err(BotError::Model(ModelError::Format { .. }))));
    }

    #[test]
    fn slot_markup_is_stripped_before_intent_training() {
        let bot = mini();
        let mut def = bot.definition().clone();
        for intent in &mut def.intents {
            for examples in intent.examples.values_mut() {
                for e in examples.iter_mut() {
                    // Mark the first word of every example as a slot value.
                    if let Some((first, rest)) = e.split_once(' ') {
                        *e = format!("[{first}](w) {rest}");
                    }
                }
            }
        }
        let marked = Bot::train(def.clone()).expect("markup validates");
        let mut broken = def;
        broken.intents[0].examples.values_mut().next().unwrap()[0] = "[unclosed bracket".into();
        match Bot::train(broken) {
            Err(BotError::Definition(DefinitionError::Invalid(p))) => {
                assert!(p[0].path.starts_with("intents[0].examples.") && p[0].message.contains("slot markup"), "{p:?}")
            }
            other => panic!("expected a markup problem, got {other:?}"),
        }
        for text in ["where is my parcel", "hello there", "cancel"] {
            assert_eq!(marked.understand(text).ranking, bot.understand(text).ranking, "{text}");
        }
    }

    /// The mini bot with a stock question whose examples mark up products, and a `product`
    /// list entity that knows only socks.
    fn with_products() -> Bot {
        let mut def = mini().definition().clone();
        let examples: Vec<String> = [
            "do you have [red socks](product) in stock",
            "is the [rain jacket](product) available",
            "do you sell [hiking boots](product)",
            "any [wool hats](product) left",
            "do you have [trail shoes](product)",
            "is the [down vest](product) in stock",
            "do you still sell [camping stoves](product)",
            "are the [gloves](product) available",
        ]
        .map(String::from)
        .to_vec();
        let stock = serde_json::json!({"name": "stock", "examples": {"en": examples}, "reply": {"message": "hours-reply", "uses": ["product"]}});
        def.intents.push(serde_json::from_value(stock).unwrap());
        def.entities.push(serde_json::from_value(serde_json::json!({"kind": "list", "name": "product", "values": [{"value": "socks", "synonyms": ["red socks"]}]})).unwrap());
        Bot::train(def).expect("marked-up bot trains")
    }

    #[test]
    fn learned_slots_are_trained_stored_and_found() {
        assert!(mini().slot_tagger("en").is_none(), "no markup, no tagger");
        let bot = with_products();
        assert_eq!(bot.slot_tagger("en").map(|t| t.slots().to_vec()), Some(vec!["product".to_owned()]));
        assert_eq!(bot.learned_slots(), ["product"]);
        let loaded = Bot::from_model(&bot.to_model()).unwrap();
        for text in ["do you have hiking boots", "is the rain jacket available", "do you have red socks in stock"] {
            assert_eq!(loaded.understand(text), bot.understand(text), "{text}");
        }
        let products = |text: &str| -> Vec<(String, String)> {
            bot.understand(text)
                .entities
                .into_iter()
                .filter(|e| e.entity == "product")
                .map(|e| (e.value, e.raw))
                .collect()
        };
        // A learned value is the text as typed…
        assert_eq!(products("do you sell hiking boots"), [("hiking boots".to_owned(), "hiking boots".to_owned())]);
        // …and a list value over the same words keeps its normalised value.
        assert_eq!(products("do you have red socks in stock"), [("socks".to_owned(), "red socks".to_owned())]);
    }

    #[test]
    fn mentions_are_remembered_for_memory_turns() {
        let bot = with_products();
        let mut state = bot.new_state("en", 1, 0);
        bot.respond(&mut state, Input::Text { text: "do you have red socks in stock".into() }, TurnContext::utc(0));
        assert_eq!(state.memory.recall("product"), Some("socks"));
        for _ in 0..crate::dialogue::DEFAULT_MEMORY_TURNS {
            bot.respond(&mut state, Input::Text { text: "hello".into() }, TurnContext::utc(0));
        }
        assert!(state.memory.get("product").is_some(), "kept for the default number of turns");
        bot.respond(&mut state, Input::Text { text: "hello".into() }, TurnContext::utc(0));
        assert!(state.memory.is_empty(), "forgotten after them: {:?}", state.memory);

        let mut def = bot.definition().clone();
        def.memory_turns = Some(1);
        let short = Bot::train(def).unwrap();
        let mut state = short.new_state("en", 1, 0);
        short.respond(&mut state, Input::Text { text: "do you sell hiking boots".into() }, TurnContext::utc(0));
        short.respond(&mut state, Input::Text { text: "hello".into() }, TurnContext::utc(0));
        assert_eq!(state.memory.recall("product"), Some("hiking boots"));
        short.respond(&mut state, Input::Text { text: "hello".into() }, TurnContext::utc(0));
        assert!(state.memory.get("product").is_none_or(|e| e.source == crate::state::MemorySource::Context), "memory_turns 1: {:?}", state.memory);
    }

    #[test]
    fn a_learned_slot_may_not_take_a_builtin_name() {
        let mut def = mini().definition().clone();
        def.intents[0].examples.get_mut("en").unwrap().push("hello [tomorrow](date)".into());
        match Bot::train(def) {
            Err(BotError::Definition(DefinitionError::Invalid(p))) => {
                assert!(p.iter().any(|p| p.path == "intents[0].examples.en[4]" && p.message.contains("built-in")), "{p:?}")
            }
            other => panic!("expected a built-in name problem, got {other:?}"),
        }
    }

    #[test]
    fn a_version_1_model_file_is_a_version_mismatch() {
        let mut bytes = mini().to_model();
        bytes[4..6].copy_from_slice(&1u16.to_le_bytes());
        match Bot::load(&bytes) {
            Err(BotError::Model(ModelError::Format { found: 1, expected })) => assert_eq!(expected, model::MODEL_FORMAT),
            other => panic!("expected a model format error, got {other:?}"),
        }
    }

    #[test]
    fn threshold_comes_from_the_definition_or_the_default() {
        let bot = mini();
        assert_eq!(bot.threshold(), DEFAULT_THRESHOLD);
        let mut def = bot.definition().clone();
        def.threshold = Some(0.8);
        let strict = Bot::train(def).unwrap();
        assert_eq!(strict.threshold(), 0.8);
        assert_eq!(Bot::from_model(&strict.to_model()).unwrap().threshold(), 0.8);
    }
}

#[cfg(test)]
mod recommend_tests {
    use super::*;

    #[test]
    fn a_recommend_intent_hands_the_request_to_the_caller() {
        let definition = r#"{
          "format": 1, "id": "shop", "name": "Shop", "locales": ["en"],
          "intents": [
            { "name": "recommend", "action": "recommend", "reply": { "message": "ideas" },
              "examples": { "en": ["what would you recommend for hiking", "suggest a tent",
                "I need boots for the snow", "help me choose a jacket"] } },
            { "name": "hours", "reply": { "message": "hours" },
              "examples": { "en": ["when are you open", "opening hours", "what time do you close",
                "are you open on sunday"] } }
          ],
          "fallback": { "message": "fallback" },
          "greeting": { "message": "hi", "returning": "hi" },
          "messages": { "en": { "ideas": "Here are a few ideas:", "hours": "9 to 5.",
                                "fallback": "Sorry?", "hi": "Hi!" } }
        }"#;
        let bot = Bot::from_json(definition).unwrap();
        let mut state = bot.new_state("en", 1, 0);
        let say = |state: &mut ConversationState, text: &str| {
            bot.respond(state, Input::Text { text: text.into() }, TurnContext::utc(1_000))
        };
        let turn = say(&mut state, "what would you recommend for winter hiking?");
        assert_eq!(turn.intent.as_deref(), Some("recommend"));
        assert_eq!(turn.recommend.as_deref(), Some("what would you recommend for winter hiking?"));
        assert_eq!(turn.messages[0].text, "Here are a few ideas:");
        assert_eq!(say(&mut state, "when are you open").recommend, None);
        // Validation: the reply said before the products is required.
        let no_reply = definition.replace(r#""reply": { "message": "ideas" },"#, "");
        match BotDefinition::from_json(&no_reply) {
            Err(DefinitionError::Invalid(p)) => assert!(p.iter().any(|p| p.path == "intents[0].reply"), "{p:?}"),
            other => panic!("expected a missing reply problem, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod profile_tests {
    use super::*;
    use crate::state::FactSource;

    const DAY_MS: u64 = 24 * 60 * 60 * 1000;

    fn bot(profile: &str) -> Bot {
        Bot::from_json(&bot_json(profile)).unwrap()
    }

    fn bot_json(profile: &str) -> String {
        let definition = r#"{
          "format": 1, "id": "shop", "name": "Shop", "locales": ["en"],
          "entities": [{ "kind": "list", "name": "product", "values": [{ "value": "boots" }, { "value": "tent" }] },
                       { "kind": "pattern", "name": "order_number", "pattern": "(?i)CU-\\d{6}", "uppercase": true }],
          "intents": [
            { "name": "ask", "reply": { "message": "ok" },
              "examples": { "en": ["do you have boots", "is the tent waterproof", "tell me about the tent",
                "where is order CU-123456"] } },
            { "name": "hours", "reply": { "message": "ok" },
              "examples": { "en": ["when are you open", "opening hours", "what time do you close"] } }
          ],
          "fallback": { "message": "ok" },
          "greeting": { "message": "ok", "returning": "ok" },
          "messages": { "en": { "ok": "OK." } }
          PROFILE
        }"#;
        definition.replace("PROFILE", profile)
    }

    #[test]
    fn facts_the_definition_allows_are_kept_with_source_and_time_until_they_expire() {
        let bot = bot(r#", "profile": { "remember": ["product", "order_number"], "days": 2 }"#);
        let mut state = bot.new_state("en", 1, 0);
        let say = |state: &mut ConversationState, text: &str, at: u64| {
            bot.respond(state, Input::Text { text: text.into() }, TurnContext::utc(at));
        };
        say(&mut state, "do you have boots?", 1_000);
        say(&mut state, "where is cu-482913", 2_000);
        say(&mut state, "and the boots, are they waterproof?", 3_000);
        let facts: Vec<(&str, &str, u64)> =
            state.profile.facts.iter().map(|f| (f.entity.as_str(), f.value.as_str(), f.at_ms)).collect();
        assert_eq!(facts, [("order_number", "CU-482913", 2_000), ("product", "boots", 3_000)]);
        assert!(state.profile.facts.iter().all(|f| f.source == FactSource::Chat && f.expires_ms == f.at_ms + 2 * DAY_MS));
        // Removable one by one...
        assert!(state.profile.forget("order_number", "CU-482913"));
        assert!(!state.profile.forget("order_number", "CU-482913"));
        // ...and gone once expired, at the next turn.
        say(&mut state, "when are you open", 3_000 + 2 * DAY_MS);
        assert!(state.profile.facts.is_empty(), "{:?}", state.profile.facts);
    }

    #[test]
    fn the_sites_browsing_events_are_kept_as_site_facts_up_to_a_limit() {
        let bot = bot(r#", "profile": { "remember": ["product"] }"#);
        let mut state = bot.new_state("en", 1, 0);
        assert!(bot.track(&mut state, "product_view", "Ridgeline Rain Shell", 5));
        assert!(!bot.track(&mut state, "page_view", "/home", 6), "not a product event");
        assert!(!bot.track(&mut state, "add_to_cart", "  ", 7), "no name");
        let f = &state.profile.facts[0];
        assert_eq!((f.entity.as_str(), f.value.as_str(), f.source), ("viewed", "Ridgeline Rain Shell", FactSource::Site));
        assert_eq!(f.expires_ms, 5 + 30 * DAY_MS, "the default 30 days");
        for i in 0..(MAX_SITE_FACTS + 5) {
            bot.track(&mut state, "product_view", &format!("product {i}"), 10 + i as u64);
        }
        assert_eq!(state.profile.facts.len(), MAX_SITE_FACTS);
        assert_eq!(state.profile.facts.last().unwrap().value, format!("product {}", MAX_SITE_FACTS + 4));
        let plain = self::bot("");
        assert!(!plain.track(&mut plain.new_state("en", 1, 0), "product_view", "x", 1), "no profile, nothing kept");
    }

    #[test]
    fn without_a_profile_in_the_definition_nothing_is_kept() {
        let bot = bot("");
        let mut state = bot.new_state("en", 1, 0);
        bot.respond(&mut state, Input::Text { text: "do you have boots?".into() }, TurnContext::utc(1_000));
        assert!(state.profile.facts.is_empty());
    }

    #[test]
    fn a_profile_naming_an_unknown_entity_or_zero_days_does_not_validate() {
        let text = bot_json(r#", "profile": { "remember": ["shoe_size"], "days": 0 }"#);
        match BotDefinition::from_json(&text) {
            Err(DefinitionError::Invalid(p)) => {
                let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
                assert_eq!(paths, ["profile.remember[0]", "profile.days"], "{p:?}");
            }
            other => panic!("expected two problems, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod identify_tests {
    use super::*;
    use crate::state::Order;

    fn order(id: &str, status: &str, placed_at: &str, item: &str) -> Order {
        Order {
            id: id.into(),
            status: status.into(),
            placed_at: Some(placed_at.into()),
            items: vec![item.into()],
            tracking_url: None,
        }
    }

    #[test]
    fn a_logged_in_customer_is_not_asked_for_an_order_number_the_site_knows() {
        let bot = Bot::from_json(include_str!("../www/bots/store.json")).expect("store bot trains");
        let customer = Customer {
            id: "c-42".into(),
            name: Some("Lucía".into()),
            email: None,
            locale: None,
            traits: Default::default(),
            orders: vec![
                order("CU-111111", "delivered", "2026-11-01", "Ridgeline Rain Shell jacket"),
                order("CU-222222", "shipped", "2026-11-20", "Cordillera Mid boots"),
            ],
            user_hash: None,
        };
        let ask = |text: &str| {
            let mut state = bot.new_state("en", 1, 0);
            bot.identify(&mut state, customer.clone());
            assert_eq!(state.profile.name.as_deref(), Some("Lucía"));
            let turn = bot.respond(&mut state, Input::Text { text: text.into() }, TurnContext::utc(1_000));
            (turn.messages[0].text.clone(), state.form.is_none())
        };
        let (text, closed) = ask("where is my order?");
        assert!(text.starts_with("Your order CU-222222 is shipped."), "the newest order: {text}");
        assert!(closed, "nothing left to ask");
        let (text, _) = ask("where is my jacket order?");
        assert!(text.starts_with("Your order CU-111111 is delivered."), "the order with the jacket: {text}");
        // Without identify, the number is asked for as before.
        let mut state = bot.new_state("en", 1, 0);
        let turn = bot.respond(&mut state, Input::Text { text: "where is my order?".into() }, TurnContext::utc(1_000));
        assert_eq!(turn.messages[0].id, "track-order-prompt");
    }
}
