//! What a short message after a recommendation asks about the products shown: a refinement of
//! the request ("cheaper?", "lighter?", "in red?", "for kids?", "¿y en talla M?", "something waterproof
//! instead"), a comparison ("compare these two"), their prices ("how much are they?", "c'est
//! combien ?") or what goes with them ("what goes with it?"). Read from the words alone, in
//! the six demo languages (en, es, fr, de, pt, ar), without any intent of the bot's: a message
//! is a refinement when the request analysis ([`super::rank`]'s constraints) finds a
//! constraint in it and every other word is a filler word ("and", "what about", "instead"…);
//! the caller asks only right after a recommendation.
//! "is", "es", "ist" are not filler words: "is it waterproof?" asks about the product shown.

use crate::entities::EntityExtractor;
use crate::text::{fold_word, tokenize, Fold, TokenKind};

use super::rank::Wants;

/// What a follow-up asks of the products shown last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    /// The previous request with the message's constraints (a request of two lines for
    /// [`super::rank::Ranker::rank_in`]).
    Refine,
    /// The last two products shown, side by side.
    Compare,
    /// What goes with the first product shown.
    Related,
    /// The prices of the products shown ("how much are they?"): every one shown, side by side
    /// as in a comparison, whose first row is the price.
    Price,
}

/// A follow-up has at most this many words.
pub const MAX_WORDS: usize = 8;

/// Folded words that ask for a comparison.
const COMPARE: &[&str] = &[
    "compare", "comparing", "comparison", "difference", "differences", "versus", "vs", "comparar", "compara", "comparalos",
    "comparamelos", "diferencia", "diferencias", "comparer", "comparez", "compares", "vergleich", "vergleiche", "vergleichen",
    "unterschied", "comparacao", "diferenca", "قارن", "مقارنة", "الفرق",
];

/// Folded word sequences that ask what goes with a product.
const RELATED: &[&[&str]] = &[
    &["goes", "with"], &["go", "with"], &["goes", "well"], &["pair", "with"], &["pairs", "with"], &["pairs", "well"],
    &["wear", "with"], &["matches"], &["accessories"], &["what", "else"],
    &["va", "con"], &["van", "con"], &["va", "bien", "con"], &["vaya", "con"], &["pongo", "con"], &["llevar", "con"],
    &["combina"], &["combinar"], &["combino"], &["accesorios"], &["que", "mas"],
    &["va", "avec"], &["vont", "avec"], &["va", "bien", "avec"], &["mets", "avec"], &["porter", "avec"], &["marie", "avec"],
    &["accessoires"],
    &["passt", "dazu"], &["passt", "gut", "dazu"], &["passt", "zu"], &["dazu", "tragen"], &["gehort", "dazu"],
    &["kombiniere"], &["kombinieren"], &["zubehor"],
    &["vai", "com"], &["vai", "bem", "com"], &["combina", "com"], &["usar", "com"], &["acessorios"],
    &["يناسب"], &["يناسبه"], &["اكسسوارات"],
];

/// Folded word sequences that ask a price, in the six languages.
const PRICE: &[&[&str]] = &[
    &["how", "much"], &["price"], &["prices"], &["cost"], &["costs"], &["cuanto"], &["cuantos"], &["cuesta"], &["cuestan"],
    &["precio"], &["precios"], &["combien"], &["prix"], &["coute"], &["coutent"], &["wie", "viel"], &["wieviel"],
    &["kostet"], &["kosten"], &["preis"], &["preise"], &["quanto"], &["quantos"], &["custa"], &["custam"], &["preco"],
    &["precos"], &["بكم"], &["سعر"], &["سعره"], &["سعرها"], &["اسعار"], &["كم"],
];

/// Folded words a price question may carry beside its price words and the filler words:
/// the verbs and pronouns of "how much is it?", "c'est combien ?", "wie viel kosten die?".
const PRICE_FILLER: &[&str] = &[
    "is", "are", "s", "whats", "their", "its", "each", "es", "son", "sale", "salen", "cada", "c", "est", "ca", "sont",
    "ils", "elles", "chacun", "ist", "sind", "sie", "jeweils", "eles", "elas", "sao", "um",
];

/// Folded words a refinement may carry beside its constraints, in the six languages.
const FILLER: &[&str] = &[
    // en
    "and", "or", "what", "about", "how", "the", "a", "an", "one", "ones", "it", "them", "those", "these", "that", "this",
    "something", "anything", "instead", "rather", "also", "too", "maybe", "please", "do", "you", "have", "got", "any", "in",
    "for", "with", "size", "under", "below", "less", "than", "more", "over", "above", "euros", "euro", "eur", "dollars",
    "show", "me", "only", "just", "now", "then", "ok", "okay", "same", "but", "version", "model", "pair", "there",
    "they", "can", "i", "get", "want", "need", "some", "up", "to", "no", "not", "much", "my", "a",
    // es
    "y", "o", "que", "tal", "el", "la", "los", "las", "un", "una", "uno", "unos", "unas", "lo", "algo", "mejor", "tambien",
    "en", "de", "del", "para", "por", "con", "talla", "menos", "mas", "hay", "tienes", "tienen", "teneis", "muestrame",
    "solo", "pero", "version", "modelo", "mismo", "misma", "hasta", "quiero", "busco", "mi",
    // fr
    "et", "ou", "le", "les", "une", "des", "du", "en", "pour", "avec", "taille", "plus", "moins", "aussi", "quelque",
    "chose", "plutot", "avez", "vous", "il", "y", "a", "version", "modele", "meme", "de",
    // de
    "und", "oder", "was", "mit", "der", "die", "das", "ein", "eine", "einen", "fur", "in", "grosse", "gr", "unter",
    "weniger", "als", "auch", "etwas", "lieber", "stattdessen", "habt", "ihr", "gibt", "modell", "bitte",
    // pt
    "e", "ou", "o", "os", "as", "um", "uma", "em", "no", "na", "para", "pra", "com", "tamanho", "mais", "tambem", "algo",
    "coisa", "vez", "tem", "voces", "modelo", "versao", "de", "do", "da", "ate",
    // ar
    "و", "او", "في", "مع", "هل", "عندكم", "لون", "بلون", "مقاس", "شي", "شيء", "بدل", "من", "اقل", "للماء",
];

/// What `text`, in `locale`, asks of the products just shown, if it is a follow-up to them.
/// `entities` reads prices and numbers (the ranker's extractor, or the bot's).
pub fn read(text: &str, locale: &str, entities: &EntityExtractor) -> Option<FollowUp> {
    let lang = locale.split(['-', '_']).next().unwrap_or(locale);
    let tokens = tokenize(text);
    let words: Vec<(usize, String)> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind != TokenKind::Mark)
        .map(|(i, t)| (i, fold_word(&t.text, Fold::Loose)))
        .collect();
    if words.is_empty() || words.len() > MAX_WORDS {
        return None;
    }
    let folded: Vec<&str> = words.iter().map(|(_, w)| w.as_str()).collect();
    if folded.iter().any(|w| COMPARE.contains(w)) {
        return Some(FollowUp::Compare);
    }
    let has = |phrases: &[&[&str]]| phrases.iter().any(|phrase| folded.windows(phrase.len()).any(|w| w == *phrase));
    if has(RELATED) {
        return Some(FollowUp::Related);
    }
    // A price question names nothing else: "how much is shipping?" is not about the products.
    let price_word = |w: &str| PRICE.iter().any(|phrase| phrase.contains(&w));
    if has(PRICE) && folded.iter().all(|w| price_word(w) || PRICE_FILLER.contains(w) || FILLER.contains(w)) {
        return Some(FollowUp::Price);
    }
    let wants = Wants::read(text, lang, entities);
    let only_constraints = words.iter().all(|(i, w)| wants.used.contains(i) || FILLER.contains(&w.as_str()));
    (wants.any() && only_constraints).then_some(FollowUp::Refine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_after_a_recommendation_are_read_in_six_languages() {
        let entities = EntityExtractor::new(&[]).unwrap();
        let cases: &[(&str, &str, Option<FollowUp>)] = &[
            ("cheaper?", "en", Some(FollowUp::Refine)),
            ("in red?", "en", Some(FollowUp::Refine)),
            ("for kids?", "en", Some(FollowUp::Refine)),
            ("something waterproof instead", "en", Some(FollowUp::Refine)),
            ("what about under 100 euros?", "en", Some(FollowUp::Refine)),
            ("¿y en talla M?", "es", Some(FollowUp::Refine)),
            ("¿más barato?", "es", Some(FollowUp::Refine)),
            ("et en rouge ?", "fr", Some(FollowUp::Refine)),
            ("moins cher ?", "fr", Some(FollowUp::Refine)),
            ("für Kinder?", "de", Some(FollowUp::Refine)),
            ("und in Größe M?", "de", Some(FollowUp::Refine)),
            ("e em vermelho?", "pt", Some(FollowUp::Refine)),
            ("للاطفال؟", "ar", Some(FollowUp::Refine)),
            ("compare these two", "en", Some(FollowUp::Compare)),
            ("compare them", "en", Some(FollowUp::Compare)),
            ("compáralos", "es", Some(FollowUp::Compare)),
            ("vergleiche die beiden", "de", Some(FollowUp::Compare)),
            ("what goes with it?", "en", Some(FollowUp::Related)),
            ("¿qué va con esto?", "es", Some(FollowUp::Related)),
            ("qu'est-ce qui va avec ?", "fr", Some(FollowUp::Related)),
            ("what goes well with it?", "en", Some(FollowUp::Related)),
            ("what pairs well with it?", "en", Some(FollowUp::Related)),
            ("what would go with this?", "en", Some(FollowUp::Related)),
            ("anything to go with it?", "en", Some(FollowUp::Related)),
            ("what should I wear with it?", "en", Some(FollowUp::Related)),
            ("¿qué va bien con ella?", "es", Some(FollowUp::Related)),
            ("¿qué combina bien con esto?", "es", Some(FollowUp::Related)),
            ("¿qué me pongo con esto?", "es", Some(FollowUp::Related)),
            ("¿algo que vaya con esto?", "es", Some(FollowUp::Related)),
            ("¿con qué lo combino?", "es", Some(FollowUp::Related)),
            ("qu'est-ce qui va bien avec ?", "fr", Some(FollowUp::Related)),
            ("qu'est-ce que je mets avec ?", "fr", Some(FollowUp::Related)),
            ("quoi porter avec ?", "fr", Some(FollowUp::Related)),
            ("ça se marie avec quoi ?", "fr", Some(FollowUp::Related)),
            ("was passt gut dazu?", "de", Some(FollowUp::Related)),
            ("was kann ich dazu tragen?", "de", Some(FollowUp::Related)),
            ("was gehört dazu?", "de", Some(FollowUp::Related)),
            ("womit kombiniere ich das?", "de", Some(FollowUp::Related)),
            ("o que vai bem com isso?", "pt", Some(FollowUp::Related)),
            ("o que combina bem com ela?", "pt", Some(FollowUp::Related)),
            ("o que usar com isso?", "pt", Some(FollowUp::Related)),
            ("com o que combino?", "pt", Some(FollowUp::Related)),
            ("how much are they?", "en", Some(FollowUp::Price)),
            ("what's the price?", "en", Some(FollowUp::Price)),
            ("¿cuánto cuestan?", "es", Some(FollowUp::Price)),
            ("c'est combien ?", "fr", Some(FollowUp::Price)),
            ("wie viel kosten die?", "de", Some(FollowUp::Price)),
            ("quanto custa?", "pt", Some(FollowUp::Price)),
            ("كم سعرها؟", "ar", Some(FollowUp::Price)),
            ("how much is shipping?", "en", None),
            ("combien coûte la livraison ?", "fr", None),
            // Not follow-ups: no constraint, other words, or too long.
            ("thanks!", "en", None),
            // A question about the product shown is not a refinement (tests/stories/follow-ups).
            ("is it waterproof?", "en", None),
            ("¿es impermeable?", "es", None),
            ("how much is shipping?", "en", None),
            ("do you have red tents?", "en", None),
            ("what kind of tent?", "de", None),
            ("and when do you open on sunday in the summer for kids", "en", None),
        ];
        for &(text, locale, expected) in cases {
            assert_eq!(read(text, locale, &entities), expected, "{text} ({locale})");
        }
    }
}
