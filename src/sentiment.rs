//! Sentiment of a visitor message, per locale, from a small lexicon with simple negation and
//! intensifier rules (after the ideas of VADER: Hutto and Gilbert 2014, "VADER: A Parsimonious
//! Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM).
//!
//! The lexicons (`src/sentiment/{en,es,fr,de,pt,ar}.tsv`; their notes are in `src/sentiment/README.md`,
//! since the files hold data only: their text ships in every model) were written for this project and
//! carry its license (MIT OR Apache-2.0); about 150 entries each, compiled in with
//! `include_str!` where bots are trained (the `train` feature) and carried by the model file
//! into the runtime, one per locale in that locale's part ([`Lexicon`]); stored folded as the scorer folds words (the Arabic ones normalised as in
//! [`crate::text`]). Each word has a valence in [-4, 4]. Rules, for each lexicon word, with
//! each language's own negators, intensifiers and dampers:
//! - a negator among the three words before it ("not", "never", "nunca", "pas", "nicht",
//!   "não", "مش"...) flips and damps it (× -0.74, VADER's constant);
//! - an intensifier just before it ("very", "muy", "très", "sehr", "muito"...) scales it × 1.3,
//!   a damper ("a bit", "slightly", "algo", "poco") × 0.7; so does one just after it where the
//!   language puts it there (Arabic "سيء جدا", Portuguese "gostei demais");
//! - an Arabic word not in the lexicon is looked up without a prefix (`و`, `ال`, `بال`...);
//! - a word in capitals in a message that is not all capitals × 1.3;
//! - every `!` (up to 3) pushes the sum 0.3 further from zero.
//!
//! The sum is normalised to [-1, 1] as VADER does: `s / sqrt(s² + 15)`.
//!
//! Measured on 252 labelled customer-service messages, 42 per language
//! (`tests/sentiment_accuracy.rs`, classes at ±0.5), three-class accuracy on the held-out
//! half: en 90.5%, es 90.5%, fr 95.2%, de 100%, pt-BR 100%, ar 85.7% (93.7% overall).

use std::borrow::Cow;
#[cfg(feature = "train")]
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text::{Lang, Token, TokenKind, Utterance};

/// At or below this score a message is strongly negative (the empathetic reply variant).
pub const NEGATIVE: f32 = -0.5;
/// At or above this score a message is positive.
pub const POSITIVE: f32 = 0.5;

#[cfg(feature = "train")]
const EN: &str = include_str!("sentiment/en.tsv");
#[cfg(feature = "train")]
const ES: &str = include_str!("sentiment/es.tsv");
#[cfg(feature = "train")]
const FR: &str = include_str!("sentiment/fr.tsv");
#[cfg(feature = "train")]
const DE: &str = include_str!("sentiment/de.tsv");
#[cfg(feature = "train")]
const PT: &str = include_str!("sentiment/pt.tsv");
#[cfg(feature = "train")]
const AR: &str = include_str!("sentiment/ar.tsv");

impl Lang {
    /// (negators, intensifiers before the word, intensifiers after it, dampers), each one
    /// string of folded words separated by spaces. English and Spanish share theirs.
    fn rules(self) -> [&'static str; 4] {
        match self {
            Lang::En | Lang::Es => [NEGATORS, INTENSIFIERS, "", DAMPERS],
            Lang::Fr => [
                "ne n pas jamais rien personne aucun aucune sans ni n'est n'ai n'a n'y n'etait n'ont",
                "tres trop vraiment tellement si super totalement completement absolument extremement hyper vachement carrement",
                "",
                "peu assez plutot legerement",
            ],
            Lang::De => [
                "nicht kein keine keinen keiner keinem nie niemals nichts niemand ohne weder kaum",
                "sehr echt wirklich total voll extrem absolut richtig ziemlich mega so ausserst unglaublich besonders",
                "",
                "etwas bisschen leicht eher",
            ],
            Lang::Pt => [
                "nao nunca nem sem nada ninguem jamais nenhum nenhuma",
                "muito muita bem super totalmente realmente demais tao completamente extremamente bastante mega",
                "demais",
                "pouco meio levemente",
            ],
            // Intensifiers: before the word (كتير زعلان) and after it (سيء جدا, حلو اوي).
            Lang::Ar => [
                "لا ما مش مو مب ليس لم لن غير بدون ابدا محد مافي ماكو مش",
                "كتير كثير مره جدا اوي خالص بجد تماما قوي",
                "جدا اوي خالص كتير كثير مره تماما",
                "شويه شوي نوعا",
            ],
        }
    }
}

/// True when `word` is one of the space-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split(' ').any(|w| w == word)
}

const NEGATORS: &str = "not no never nothing nobody none neither nor without isnt isn't dont don't doesnt doesn't didnt didn't wasnt wasn't arent aren't cant can't cannot wont won't nunca nada nadie ni sin tampoco jamas";
const INTENSIFIERS: &str = "very really so extremely totally total absolutely completely incredibly super truly too muy tan totalmente realmente sumamente completamente bastante";
const DAMPERS: &str = "slightly somewhat bit little kinda algo poco";

/// The words of a message as `(as written, folded)`: runs of letters, digits, `'`, `’` and `-`
/// (adjacent tokens of the utterance join), folded as the entity extractors fold
/// ([`Fold::KeepEnye`](crate::text::Fold::KeepEnye): `Pésimo` → `pesimo`) with `’` as `'`, so lexicon and message meet.
fn words<'a>(utterance: &Utterance<'a>) -> Vec<(&'a str, Cow<'a, str>)> {
    let tokens = utterance.tokens();
    let joins = |t: &Token| t.kind != TokenKind::Mark || matches!(t.text.as_str(), "'" | "’" | "-");
    // Token index ranges of the words.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (k, t) in tokens.iter().enumerate().filter(|(_, t)| joins(t)) {
        match spans.last_mut() {
            Some((_, last)) if *last + 1 == k && tokens[*last].end == t.start => *last = k,
            _ => spans.push((k, k)),
        }
    }
    spans
        .into_iter()
        .map(|(a, b)| {
            let raw = utterance.slice(tokens[a].start, tokens[b].end);
            // A word of ASCII lower case, digits, `'` and `-` is its own folded form: no copy.
            let folded = if raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'\'' || b == b'-') {
                Cow::Borrowed(raw)
            } else {
                Cow::Owned(tokens[a..=b].iter().map(|t| if t.text == "’" { "'" } else { t.folded.as_str() }).collect())
            };
            (raw, folded)
        })
        .collect()
}

/// One language's sentiment lexicon: its `word<TAB>valence` text, and the entries parsed from
/// it, sorted by word (parsed once: scanning the text for every word of every message was the
/// slowest step of understanding a message in WebAssembly).
///
/// A bot built with the `train` feature takes the built-in lexicon of each of its locales
/// ([`Lexicon::builtin`]); the model file carries it (as the text) in the locale's part, so the
/// runtime wasm holds no lexicon and a visitor downloads only their language's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Lexicon {
    source: String,
    entries: Vec<(Box<str>, f32)>,
}

impl From<String> for Lexicon {
    /// Parses `word<TAB>valence` lines (not `#` comments, valence a number); of a word listed
    /// twice, the first line counts. Lines that do not parse are skipped.
    fn from(source: String) -> Lexicon {
        let mut entries: Vec<(Box<str>, f32)> = source
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (w, v) = l.split_once('\t')?;
                // Parsed as f64 (which the entities and Fluent parse anyway) and narrowed: the
                // same f32 for every valence in the lexicons (a test checks), without the wasm
                // carrying std's f32 parser as well.
                Some((w.into(), v.trim().parse::<f64>().ok()? as f32))
            })
            .collect();
        // Stable: the first line of a word stays first, and dedup keeps it.
        crate::sort::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, first| later.0 == first.0);
        Lexicon { source, entries }
    }
}

impl From<Lexicon> for String {
    fn from(lexicon: Lexicon) -> String {
        lexicon.source
    }
}

impl Lexicon {
    /// The built-in lexicon of `locale` (`en`, `es`, `fr`, `de`, `pt`, `ar` and their regional
    /// variants; English for any other).
    #[cfg(feature = "train")]
    pub fn builtin(locale: &str) -> Lexicon {
        Lexicon::from(builtin(Lang::of_locale(locale).unwrap_or(Lang::En)).1.to_owned())
    }
}

/// The built-in lexicon text of `lang`, with its index among the six.
#[cfg(feature = "train")]
fn builtin(lang: Lang) -> (usize, &'static str) {
    match lang {
        Lang::En => (0, EN),
        Lang::Es => (1, ES),
        Lang::Fr => (2, FR),
        Lang::De => (3, DE),
        Lang::Pt => (4, PT),
        Lang::Ar => (5, AR),
    }
}

fn valence(lexicon: &[(Box<str>, f32)], word: &str) -> Option<f32> {
    lexicon
        .binary_search_by(|e| (*e.0).cmp(word))
        .ok()
        .map(|i| lexicon[i].1)
}

/// The Arabic prefixes a word may carry (and, the, with the, for the), longest first: the light
/// stemming of Larkey, Ballesteros and Connell (2007), prefixes only.
const ARABIC_PREFIXES: [&str; 6] = ["وال", "بال", "لل", "ال", "و", "ب"];

/// The valence of a word, or for Arabic of the word without a prefix (`والخدمه` → `خدمه`).
fn valence_in(lexicon: &[(Box<str>, f32)], lang: Lang, word: &str) -> Option<f32> {
    valence(lexicon, word).or_else(|| {
        (lang == Lang::Ar)
            .then(|| ARABIC_PREFIXES.iter().find_map(|p| word.strip_prefix(p).filter(|w| w.chars().count() >= 2).and_then(|w| valence(lexicon, w))))
            .flatten()
    })
}

/// The sentiment of `text` in `locale` (`en`, `es`, `fr`, `de`, `pt`, `ar`; other locales use
/// English) with the built-in lexicon, in [-1, 1]:
/// negative below zero. Only the first 1000 chars are read; empty text scores 0.
#[cfg(feature = "train")]
pub fn score(text: &str, locale: &str) -> f32 {
    static BUILTIN: [OnceLock<Lexicon>; 6] = [const { OnceLock::new() }; 6];
    let (k, source) = builtin(Lang::of_locale(locale).unwrap_or(Lang::En));
    let lexicon = BUILTIN[k].get_or_init(|| Lexicon::from(source.to_owned()));
    // A char takes at least a byte: a short text needs no counting.
    let end = if text.len() <= 1000 { None } else { text.char_indices().nth(1000) };
    let text = end.map_or(text, |(end, _)| &text[..end]);
    score_utterance(&Utterance::analyze(text, locale), locale, lexicon)
}

/// As [`score`], on a message already analysed (all of it is read: the caller truncates),
/// with `lexicon` (the locale's own: `locale` chooses the negators and intensifiers).
pub fn score_utterance(utterance: &Utterance<'_>, locale: &str, lexicon: &Lexicon) -> f32 {
    let text = utterance.text();
    let lang = Lang::of_locale(locale).unwrap_or(Lang::En);
    let lex = &lexicon.entries[..];
    let [negators, intensifiers, after, dampers] = lang.rules();
    let (raw, words): (Vec<&str>, Vec<Cow<'_, str>>) = words(utterance).into_iter().unzip();
    let all_caps = raw.iter().all(|w| !w.chars().any(char::is_lowercase));
    let mut sum = 0.0_f32;
    for (i, word) in words.iter().enumerate() {
        let Some(mut v) = valence_in(lex, lang, word) else {
            continue;
        };
        if i > 0 {
            let before: &str = &words[i - 1];
            if listed(intensifiers, before) {
                v *= 1.3;
            } else if listed(dampers, before) {
                v *= 0.7;
            }
        }
        if !after.is_empty() && words.get(i + 1).is_some_and(|next| listed(after, next)) {
            v *= 1.3;
        }
        if !all_caps && raw[i].chars().count() > 1 && raw[i].chars().all(|c| !c.is_lowercase()) {
            v *= 1.3;
        }
        if words[i.saturating_sub(3)..i]
            .iter()
            .any(|w| listed(negators, w))
        {
            v *= -0.74;
        }
        sum += v;
    }
    let bangs = text.matches('!').count().min(3) as f32 * 0.3;
    if sum < 0.0 {
        sum -= bangs;
    } else if sum > 0.0 {
        sum += bangs;
    }
    sum / (sum * sum + 15.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valences_read_as_f64_are_the_f32_values() {
        for text in [EN, ES, FR, DE, PT, AR] {
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let Some((_, v)) = line.split_once('\t') else { continue };
                let v = v.trim();
                assert_eq!(v.parse::<f64>().ok().map(|x| x as f32), v.parse::<f32>().ok(), "{line}");
            }
        }
    }

    #[test]
    fn lexicons_parse() {
        for lex in [EN, ES, FR, DE, PT, AR] {
            for line in lex.lines().filter(|l| !l.starts_with('#')) {
                let (w, v) = line.split_once('\t').expect("word<TAB>valence");
                let v: f32 = v.parse().expect("number");
                let folded: Vec<String> = words(&Utterance::analyze(w, "")).into_iter().map(|(_, f)| f.into_owned()).collect();
                assert!((-4.0..=4.0).contains(&v) && folded == [w], "{line}");
            }
        }
    }

    #[test]
    fn scores_follow_the_words_negation_and_intensity() {
        assert_eq!(score("where is my order", "en"), 0.0);
        assert!(score("this is terrible, the worst service ever", "en") <= NEGATIVE);
        assert!(score("thanks, that was great", "en") >= POSITIVE);
        let bad = score("the jacket is bad", "en");
        assert!(score("the jacket is very bad", "en") < bad);
        assert!(score("the jacket is not bad", "en") > 0.0);
        assert!(score("the jacket is bad!!!", "en") < bad);
        assert!(score("es un servicio pésimo, estoy muy enfadado", "es") <= NEGATIVE);
        assert!(score("no está mal", "es") > 0.0);
        assert!(score("muchas gracias, excelente", "es") >= POSITIVE);
        assert_eq!(score("", "en"), 0.0);
        assert!(score("un service nul, je suis très déçu", "fr") <= NEGATIVE);
        assert!(score("das ist nicht schlecht", "de") > 0.0);
        assert!(score("adorei, muito obrigado", "pt-BR") >= POSITIVE);
        let bad = score("الخدمة سيئة", "ar");
        assert!(bad < 0.0 && score("الخدمة سيئة جداً", "ar") < bad, "an intensifier after the word");
        assert!(score("الخدمة مش سيئة", "ar") > 0.0);
    }
}
