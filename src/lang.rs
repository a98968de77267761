//! Which human language a message is written in, among about thirty of the most used on the
//! web, whether or not the bot speaks it; the visitor's explicit requests for a language ("en
//! español por favor", "auf Deutsch bitte", "بالعربي"); and one sentence per language saying
//! which languages the bot speaks.
//!
//! The bot's own locales are told apart by its trained locale classifier (`nlu`); this module
//! is for what that classifier cannot know: a visitor writing Italian to an English/Spanish bot
//! is not "English with low confidence" but Italian. It needs no training and no data files.
//!
//! # Algorithm
//! 1. **Script.** Every letter is assigned a script by its Unicode block. When one script
//!    other than Latin holds most letters, the script decides: Hangul → `ko`; any kana → `ja`;
//!    Han alone → `zh`; Hebrew, Greek, Thai, Devanagari, Bengali → `he`, `el`, `th`, `hi`, `bn`;
//!    Arabic script → `fa` with Persian-only letters (پ چ ژ گ), else `ar`; Cyrillic → `uk` with
//!    Ukrainian-only letters (і ї є ґ), else `ru`. The confidence is the script's share of the
//!    letters (the same idea as whatlang's script detection, written here from the Unicode
//!    block table).
//! 2. **Latin script.** Each language scores one point per word of the message found in its
//!    list of frequent function words and chat words, and one point per letter the language
//!    uses and most others do not (ñ, ß, ł, ř, ğ, ơ…). The lists ([`LATIN`]) were written by
//!    hand for this module from general knowledge of each language (no corpus was downloaded);
//!    a word may be in several lists. The best language wins; its confidence is its share of
//!    the two best scores (1 when no other language scores), so "de" alone (Spanish,
//!    French, Portuguese, Dutch, Romanian) is never confident.
//!
//! Cost: one pass over the letters, then for Latin script one binary search per word and per
//! non-ASCII letter in one sorted table of every list's entries, each with the set of languages
//! listing it (built at the first Latin-script message); `benches/lang.rs` measures it per message on
//! the golden corpus `tests/fixtures/lang/identify.tsv`, which `tests/lang.rs` also checks.

use crate::text::{Token, TokenKind};

/// A language this module can name: its ISO 639-1 code, its own name, and the sentence that
/// tells a visitor in it which languages the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// ISO 639-1 code (`it`), the primary subtag of a BCP 47 locale.
    pub code: &'static str,
    /// The language's name in itself (`Italiano`): the label of its button.
    pub endonym: &'static str,
    /// "I can answer in {}." in this language; `{}` is the list of languages.
    pub offer: &'static str,
    /// What joins the last two languages of the list (" and ").
    pub and: &'static str,
    /// What joins the others (", ").
    pub comma: &'static str,
    /// Names of the language, lowercased and folded like [`Token::folded`], in itself and in
    /// the languages of the demo bot, for explicit requests ("in italian", "en italiano"),
    /// separated by spaces (one string: a slice of strings would cost a pointer and a length
    /// per name in the wasm).
    pub names: &'static str,
}

macro_rules! lang {
    ($code:literal, $endonym:literal, $offer:literal, $and:literal, $comma:literal, $names:literal) => {
        Language { code: $code, endonym: $endonym, offer: $offer, and: $and, comma: $comma, names: $names }
    };
}

/// Every language the module knows, in no particular order.
pub const LANGUAGES: &[Language] = &[
    lang!("en", "English", "I can answer in {}.", " and ", ", ", "english ingles anglais englisch inglese engels انجليزي الانجليزية الإنجليزية بالانجليزي بالإنجليزي بالانجليزية بالإنجليزية"),
    lang!("es", "Español", "Puedo responder en {}.", " y ", ", ", "spanish español espanol espagnol spanisch espanhol spagnolo spaans castellano الاسبانية الإسبانية بالاسباني بالإسباني بالاسبانية بالإسبانية"),
    lang!("fr", "Français", "Je peux répondre en {}.", " et ", ", ", "french frances francais franzosisch francese frans الفرنسية بالفرنسي بالفرنسية"),
    lang!("de", "Deutsch", "Ich kann auf {} antworten.", " und ", ", ", "german aleman allemand deutsch alemao tedesco duits الالمانية الألمانية بالالماني بالألماني بالالمانية بالألمانية"),
    lang!("pt", "Português", "Posso responder em {}.", " e ", ", ", "portuguese portugues portugais portugiesisch portoghese portugees brasileiro البرتغالية بالبرتغالي بالبرتغالية"),
    lang!("ar", "العربية", "يمكنني الرد بهذه اللغات: {}.", " و", "، ", "arabic arabe arabisch arabo عربي العربية عربية بالعربي بالعربية"),
    lang!("it", "Italiano", "Posso rispondere in {}.", " e ", ", ", "italian italiano italien italienisch italiaans الايطالية الإيطالية بالايطالي بالإيطالي"),
    lang!("nl", "Nederlands", "Ik kan antwoorden in het {}.", " en ", ", ", "dutch neerlandes neerlandais niederlandisch holandes olandese nederlands hollandisch"),
    lang!("pl", "Polski", "Mogę odpowiadać w tych językach: {}.", " i ", ", ", "polish polaco polonais polnisch polski polacco polones"),
    lang!("tr", "Türkçe", "Şu dillerde yanıt verebilirim: {}.", " ve ", ", ", "turkish turco turc turkisch turkce turks"),
    lang!("id", "Bahasa Indonesia", "Saya bisa menjawab dalam bahasa {}.", " dan ", ", ", "indonesian indonesio indonesien indonesisch indonesia"),
    lang!("vi", "Tiếng Việt", "Tôi có thể trả lời bằng {}.", " và ", ", ", "vietnamese vietnamita vietnamien vietnamesisch viet"),
    lang!("sv", "Svenska", "Jag kan svara på {}.", " och ", ", ", "swedish sueco suedois schwedisch svenska svedese"),
    lang!("da", "Dansk", "Jeg kan svare på {}.", " og ", ", ", "danish danes danois danisch dansk danese"),
    lang!("no", "Norsk", "Jeg kan svare på {}.", " og ", ", ", "norwegian noruego norvegien norwegisch norsk norvegese"),
    lang!("fi", "Suomi", "Voin vastata näillä kielillä: {}.", " ja ", ", ", "finnish finlandes finnois finnisch suomi suomeksi finlandese"),
    lang!("cs", "Čeština", "Mohu odpovídat v těchto jazycích: {}.", " a ", ", ", "czech checo tcheque tschechisch cestina cesky ceco"),
    lang!("ro", "Română", "Pot răspunde în {}.", " și ", ", ", "romanian rumano roumain rumanisch romana romeno"),
    lang!("hu", "Magyar", "Ezeken a nyelveken tudok válaszolni: {}.", " és ", ", ", "hungarian hungaro hongrois ungarisch magyar magyarul ungherese"),
    lang!("ru", "Русский", "Я могу отвечать на этих языках: {}.", " и ", ", ", "russian ruso russe russisch russo русский русски русском الروسية بالروسي"),
    lang!("uk", "Українська", "Я можу відповідати цими мовами: {}.", " і ", ", ", "ukrainian ucraniano ukrainien ukrainisch українська українською"),
    lang!("fa", "فارسی", "می‌توانم به این زبان‌ها پاسخ دهم: {}.", " و ", "، ", "persian farsi persa persan persisch فارسی"),
    lang!("he", "עברית", "אני יכול לענות בשפות האלה: {}.", " ו", ", ", "hebrew hebreo hebreu hebraisch עברית بالعبري"),
    lang!("el", "Ελληνικά", "Μπορώ να απαντήσω σε αυτές τις γλώσσες: {}.", " και ", ", ", "greek griego grec griechisch grego greco ελληνικα"),
    lang!("ja", "日本語", "次の言語でお答えできます: {}。", "、", "、", "japanese japones japonais japanisch giapponese 日本語"),
    lang!("zh", "中文", "我可以用以下语言回答：{}。", "和", "、", "chinese chino chinois chinesisch chines cinese 中文 汉语 الصينية"),
    lang!("ko", "한국어", "다음 언어로 답변할 수 있습니다: {}.", ", ", ", ", "korean coreano coreen koreanisch 한국어"),
    lang!("th", "ไทย", "ฉันสามารถตอบเป็นภาษาเหล่านี้ได้: {}", " และ ", ", ", "thai tailandes thailandais thailandisch ภาษาไทย"),
    lang!("hi", "हिन्दी", "मैं इन भाषाओं में जवाब दे सकता हूँ: {}।", " और ", ", ", "hindi हिंदी हिन्दी"),
    lang!("bn", "বাংলা", "আমি এই ভাষাগুলিতে উত্তর দিতে পারি: {}।", " এবং ", ", ", "bengali bengalí bangla বাংলা"),
];

/// The [`Language`] of `code`, a BCP 47 tag whose primary subtag is looked up (`pt-BR` → `pt`).
pub fn language(code: &str) -> Option<&'static Language> {
    let primary = primary(code);
    LANGUAGES.iter().find(|l| l.code.eq_ignore_ascii_case(primary))
}

/// The primary subtag of a BCP 47 tag (`pt-BR` → `pt`).
pub fn primary(code: &str) -> &str {
    code.split(['-', '_']).next().unwrap_or(code)
}

/// One Latin-script language's evidence: frequent words (folded like [`Token::folded`]) and
/// the letters it uses that most others do not.
struct Latin {
    code: &'static str,
    /// Separated by spaces (see [`Language::names`]).
    words: &'static str,
    letters: &'static str,
}

/// The Latin-script languages and their evidence, written by hand (see the module docs).
const LATIN: &[Latin] = &[
    Latin { code: "en", letters: "", words: "the and is are was to of in it you i my me we for on with this that what where when how can do does have has not be your our will would please hi hello thanks thank yes an at from there get want need if or about just im dont its they did could should which who why much many any some ok okay hey got still yet wrong out up" },
    Latin { code: "es", letters: "ñ¿¡", words: "el la los las de del que y en un una es por para con no mi mis tu su se lo le como donde cuando cual cuanto cuanta hola gracias quiero necesito tengo tienen tiene puedo puede pedido esta estan esto eso muy pero si hay al favor buenos buenas dias tardes ya tambien hacer quisiera usted ustedes son sus nos me cuantos aun todavia llego envio" },
    Latin { code: "fr", letters: "èêëœûîç", words: "le la les de des du et est un une je tu il elle nous vous ne pas que qui quoi ou en dans pour avec sur mon ma mes votre vos ce cette bonjour merci oui non au aux sont ai avez peux pouvez comment quand combien commande voudrais veux j qu c ca tres bien aussi mais salut suis pourquoi toujours encore" },
    Latin { code: "de", letters: "äöüß", words: "der die das und ist ich du sie wir ihr nicht ein eine einen mit fur auf zu von den dem des wie wo wann was warum kann konnen mochte bitte danke hallo guten tag meine mein meinen haben habe hat sind bin es auch aber noch schon wird bestellung gibt nach bei oder kein keine ja nein gut immer wieder lange" },
    Latin { code: "it", letters: "ìò", words: "il lo la gli le di del della che e un una per con non mio mia miei sono sei ho hai ha abbiamo come dove quando quanto perche ciao grazie buongiorno vorrei voglio posso puoi potete ordine questo questa anche ma piu si nel nella al alla dei delle mi ti ci cosa sto molto gia ancora arrivato spedizione" },
    Latin { code: "pt", letters: "ãõ", words: "o os a as de do da dos das que e em um uma para com nao meu minha seu sua voce voces eu ele ela nos como onde quando quanto ola oi obrigado obrigada quero preciso tenho tem posso pode pedido esta isso isto muito mas sim no na nas ao por favor bom dia tudo bem ja tambem entrega vcs vc chegou ainda" },
    Latin { code: "nl", letters: "", words: "de het een en is van ik je jij u wij we niet dat die wat waar wanneer hoe met voor op naar mijn uw jullie zijn heb hebben heeft kan kunnen wil graag bedankt dank hallo goedemorgen ook maar nog al er bestelling dit deze geen om te nooit altijd waarom" },
    Latin { code: "pl", letters: "ąęłńśźżć", words: "i w z na nie to jest sie co jak gdzie kiedy czy ze do mam moje moj moja prosze dziekuje dzien dobry czesc chce chcialbym moge zamowienie jestem sa ale tak od dla po juz jeszcze bardzo mnie mi pan pani dlaczego" },
    Latin { code: "tr", letters: "ğış", words: "ve bir bu da de ne mi mu ben sen biz siz icin ile var yok nasil nerede zaman merhaba tesekkurler tesekkur ederim lutfen istiyorum siparis siparisim evet hayir cok ama gibi daha olarak nedir benim sizin kadar neden hala" },
    Latin { code: "id", letters: "", words: "dan yang di ke dari ini itu saya aku anda kamu kami kita tidak bisa apa mana kapan bagaimana berapa untuk dengan ada mau ingin terima kasih tolong halo pesanan sudah belum akan juga tapi atau sangat saja dimana kenapa barang sampai" },
    Latin { code: "vi", letters: "ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ", words: "toi ban khong cua va cho mot nhung cac nay gi dau nao bao xin chao cam muon hang roi chua voi tai sao rat" },
    Latin { code: "sv", letters: "åäö", words: "och att det som en ett ar jag du vi ni inte med for pa av till den har kan vill min mitt mina hur var nar vad tack hej ocksa men om ska skulle bestallning finns mycket varfor" },
    Latin { code: "da", letters: "æøå", words: "og at det som en et er jeg du vi ikke med for pa af til den har kan vil min mit mine hvordan hvor hvornar hvad tak hej ogsa men om skal bestilling meget jeres hvorfor" },
    Latin { code: "no", letters: "æøå", words: "og at det som en et er jeg du vi ikke med for pa av til den har kan vil min mitt mine hvordan hvor nar hva takk hei ogsa men om skal bestilling veldig dere hvorfor hvem noen bare" },
    Latin { code: "fi", letters: "äö", words: "jos ne eivat voinko ja on ei se etta kun mina sina me te he olen ole minun sinun mita missa milloin miten kuinka paljon kiitos hei moi haluan voin voitteko tilaus tilaukseni myos mutta tai nyt jo viela oli ovat miksi onko" },
    Latin { code: "cs", letters: "řěů", words: "a je se na v ze to s z do jak kde kdy co proc jsem jsi jsme mam moje muj prosim dekuji dobry den ahoj chci muzete muzu objednavka objednavku ale tak uz jeste velmi neni nemam" },
    Latin { code: "ro", letters: "șțţăî", words: "sa daca imi si este sunt de la cu pe in un o nu ce cum unde cand cat eu tu noi voi meu mea mele vreau pot puteti multumesc buna salut comanda dar sau mai foarte pentru acest aceasta am ai are inca" },
    Latin { code: "hu", letters: "őű", words: "a az es hogy nem egy van vagy is de meg mi ki hol mikor hogyan mennyi koszonom szia jo napot kerem szeretnek tudok rendeles rendelesem en te igen nagyon csak mar ez azt miert meg" },
];

/// The identifier's guess for one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    /// ISO 639-1 code of the language (`it`).
    pub code: &'static str,
    /// In [0, 1]: the script's share of the letters, or for Latin script the best language's
    /// share of the two best scores.
    pub confidence: f32,
    /// The evidence behind it: letters of the script, or the Latin language's points.
    pub evidence: u32,
}

impl Guess {
    /// True when the script alone decided (step 1 of the module's algorithm: Arabic, Cyrillic,
    /// Han…), false for a Latin-script guess from frequent words and letters (step 2), which
    /// a few words can mislead.
    pub fn by_script(&self) -> bool {
        !LATIN.iter().any(|l| l.code == self.code)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Arabic,
    Hebrew,
    Han,
    Kana,
    Hangul,
    Thai,
    Devanagari,
    Bengali,
}

const SCRIPTS: [Script; 11] = [
    Script::Latin,
    Script::Cyrillic,
    Script::Greek,
    Script::Arabic,
    Script::Hebrew,
    Script::Han,
    Script::Kana,
    Script::Hangul,
    Script::Thai,
    Script::Devanagari,
    Script::Bengali,
];

/// The script of a letter, by Unicode block; `None` for other scripts and non-letters.
fn script(c: char) -> Option<Script> {
    Some(match c as u32 {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x400..=0x52F => Script::Cyrillic,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x590..=0x5FF | 0xFB1D..=0xFB4F => Script::Hebrew,
        0x600..=0x6FF | 0x750..=0x77F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Script::Arabic,
        0x900..=0x97F => Script::Devanagari,
        0x980..=0x9FF => Script::Bengali,
        0xE00..=0xE7F => Script::Thai,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF => Script::Han,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        _ => return None,
    })
}

/// Ukrainian words without a Ukrainian-only letter that Russian does not use ("чи": whether).
const UKRAINIAN: &[&str] = &["чи", "що", "мене", "мій", "моє", "будь", "ласка", "дякую", "привіт", "коли"];

/// Latin-script points below which a message is no evidence: one word ("cu", "ok") could be
/// in any of several languages.
const LATIN_MIN_EVIDENCE: u32 = 2;

/// The language `tokens` (of one message, see [`crate::text::tokenize`]) are most likely in,
/// among [`LANGUAGES`]; `None` when there is no evidence at all (digits, marks, an unknown
/// script, Latin script with less than [`LATIN_MIN_EVIDENCE`] points).
pub fn identify(tokens: &[Token]) -> Option<Guess> {
    let mut counts = [0u32; SCRIPTS.len()];
    let mut letters = 0u32;
    for c in tokens.iter().filter(|t| t.kind == TokenKind::Letters).flat_map(|t| t.lower.chars()) {
        if let Some(s) = script(c) {
            counts[SCRIPTS.iter().position(|&x| x == s).unwrap_or(0)] += 1;
            letters += 1;
        }
    }
    let (best, &n) = counts.iter().enumerate().max_by_key(|&(i, n)| (*n, usize::MAX - i))?;
    if n == 0 {
        return None;
    }
    let share = n as f32 / letters as f32;
    let has = |chars: &str| tokens.iter().any(|t| t.lower.chars().any(|c| chars.contains(c)));
    let code = match SCRIPTS[best] {
        Script::Latin => return latin(tokens),
        Script::Cyrillic if has("іїєґ") || tokens.iter().any(|t| UKRAINIAN.contains(&t.lower.as_str())) => "uk",
        Script::Cyrillic => "ru",
        Script::Greek => "el",
        Script::Arabic if has("پچژگکی") => "fa",
        Script::Arabic => "ar",
        Script::Hebrew => "he",
        // Japanese mixes kana into Han; Chinese has none.
        Script::Han | Script::Kana if counts[SCRIPTS.iter().position(|&s| s == Script::Kana).unwrap_or(0)] > 0 => "ja",
        Script::Han | Script::Kana => "zh",
        Script::Hangul => "ko",
        Script::Thai => "th",
        Script::Devanagari => "hi",
        Script::Bengali => "bn",
    };
    Some(Guess { code, confidence: share, evidence: n })
}

/// Every word and letter of [`LATIN`] with the set of languages that list it (bit `i` for
/// `LATIN[i]`), sorted for binary search: built once, at the first Latin-script message.
struct LatinIndex {
    words: Vec<(&'static str, u32)>,
    letters: Vec<(char, u32)>,
}

fn latin_index() -> &'static LatinIndex {
    static INDEX: std::sync::OnceLock<LatinIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut words: Vec<(&'static str, u32)> = Vec::new();
        let mut letters: Vec<(char, u32)> = Vec::new();
        for (i, lang) in LATIN.iter().enumerate() {
            words.extend(lang.words.split(' ').map(|w| (w, 1u32 << i)));
            letters.extend(lang.letters.chars().map(|c| (c, 1u32 << i)));
        }
        fn merge<K: Ord + Copy>(mut v: Vec<(K, u32)>) -> Vec<(K, u32)> {
            crate::sort::sort_by(&mut v, |a, b| a.0.cmp(&b.0));
            let mut out: Vec<(K, u32)> = Vec::with_capacity(v.len());
            for (k, m) in v {
                match out.last_mut() {
                    Some(last) if last.0 == k => last.1 |= m,
                    _ => out.push((k, m)),
                }
            }
            out
        }
        LatinIndex { words: merge(words), letters: merge(letters) }
    })
}

/// Step 2 of the module's algorithm: the Latin-script languages' scores.
fn latin(tokens: &[Token]) -> Option<Guess> {
    let index = latin_index();
    let mut scores = [0u32; 32];
    let mut add = |mask: u32| {
        for (i, score) in scores.iter_mut().enumerate().take(LATIN.len()) {
            *score += (mask >> i) & 1;
        }
    };
    for t in tokens {
        if t.kind == TokenKind::Letters {
            if let Ok(at) = index.words.binary_search_by(|(w, _)| (*w).cmp(t.folded.as_str())) {
                add(index.words[at].1);
            }
        }
        for c in t.lower.chars().filter(|c| !c.is_ascii()) {
            if let Ok(at) = index.letters.binary_search_by(|(l, _)| l.cmp(&c)) {
                add(index.letters[at].1);
            }
        }
    }
    let mut best: Option<(usize, u32)> = None;
    let mut second = 0u32;
    for (i, &score) in scores.iter().enumerate().take(LATIN.len()) {
        match best {
            Some((_, b)) if score <= b => second = second.max(score),
            _ => {
                second = best.map_or(0, |(_, b)| b);
                best = Some((i, score));
            }
        }
    }
    let (i, score) = best.filter(|&(_, s)| s >= LATIN_MIN_EVIDENCE)?;
    Some(Guess { code: LATIN[i].code, confidence: score as f32 / (score + second) as f32, evidence: score })
}

/// Words that ask for a language anywhere in a short message ("can we speak", "por favor",
/// "bitte"), folded like [`Token::folded`], separated by spaces.
const ASKING: &str = "speak talk write answer reply respond switch change language please pls plz hablar hablas habla hablamos hablame escribir escribe responde responder cambiar idioma favor parler parlez parle parlons langue ecrire repondre svp plait sprechen sprichst spricht sprache schreiben antworten bitte falar fala falamos fale lingua escreva parlare parli parla spreken spreek taal تكلم تكلمني تحدث اتكلم كلمني فضلك لغة باللغة";

/// Prepositions that ask for a language right before its name in a message of a few words
/// ("in English", "en español", "auf Deutsch", "em português").
const IN: &[&str] = &["in", "en", "em", "auf", "na", "w", "на", "بال", "بـ", "ب"];

/// Words at most for a message to be an explicit request.
const REQUEST_MAX_WORDS: usize = 8;

/// [`ASKING`] and every language name ([`Language::names`], with the index of its first
/// language in [`LANGUAGES`]), sorted for binary search: built once, at the first short message.
struct RequestIndex {
    asking: Vec<&'static str>,
    names: Vec<(&'static str, usize)>,
}

fn request_index() -> &'static RequestIndex {
    static INDEX: std::sync::OnceLock<RequestIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut asking: Vec<&'static str> = ASKING.split(' ').collect();
        crate::sort::sort_by(&mut asking, |a, b| a.cmp(b));
        let mut names: Vec<(&'static str, usize)> =
            LANGUAGES.iter().enumerate().flat_map(|(i, l)| l.names.split(' ').map(move |n| (n, i))).collect();
        // Stable by name: a name two languages share keeps the first language, as a scan would.
        crate::sort::sort_by(&mut names, |a, b| a.0.cmp(b.0));
        names.dedup_by(|later, first| later.0 == first.0);
        RequestIndex { asking, names }
    })
}

/// The language the visitor explicitly asks for, if the message is such a request: a name of
/// the language ([`Language::names`]) with a word that asks for it ([`ASKING`]: "can we speak
/// French?", "Deutsch bitte"), or right after a preposition in a message of at most four
/// words ("en español", "em português"), or alone ("English"), or in an Arabic word that
/// carries its own preposition ("بالعربي"); at most [`REQUEST_MAX_WORDS`] words.
pub fn requested(tokens: &[Token]) -> Option<&'static Language> {
    let words: Vec<&str> = tokens.iter().filter(|t| t.kind == TokenKind::Letters).map(|t| t.folded.as_str()).collect();
    if words.is_empty() || words.len() > REQUEST_MAX_WORDS {
        return None;
    }
    let index = request_index();
    let asking = words.iter().any(|w| index.asking.binary_search(w).is_ok());
    for (i, w) in words.iter().enumerate() {
        let Ok(at) = index.names.binary_search_by(|(n, _)| n.cmp(w)) else { continue };
        let lang = &LANGUAGES[index.names[at].1];
        let after_in = i > 0 && IN.contains(&words[i - 1]) && words.len() <= 4;
        if asking || after_in || words.len() == 1 || w.starts_with("بال") {
            return Some(lang);
        }
    }
    None
}

/// "I can answer in English and Español." in `lang`, the list being the endonyms of
/// `locales` (a locale this module does not know is named by its code).
pub fn offer(lang: &Language, locales: &[String]) -> String {
    let names: Vec<&str> = locales.iter().map(|l| language(l).map_or(l.as_str(), |x| x.endonym)).collect();
    let mut list = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            list.push_str(if i + 1 == names.len() { lang.and } else { lang.comma });
        }
        list.push_str(name);
    }
    lang.offer.replacen("{}", &list, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    fn guess(text: &str) -> Option<&'static str> {
        identify(&tokenize(text)).map(|g| g.code)
    }

    #[test]
    fn every_language_has_a_sentence_with_one_slot_and_a_unique_code() {
        for (i, l) in LANGUAGES.iter().enumerate() {
            assert_eq!(l.offer.matches("{}").count(), 1, "{}", l.code);
            assert!(LANGUAGES[..i].iter().all(|o| o.code != l.code), "{} twice", l.code);
            assert!(!l.names.is_empty() && !l.names.contains("  "), "{}", l.code);
        }
        for latin in LATIN {
            assert!(language(latin.code).is_some(), "{} has no entry in LANGUAGES", latin.code);
        }
        assert!(LANGUAGES.len() >= 30, "{} languages", LANGUAGES.len());
        assert!(LATIN.len() <= 32, "a language set is a u32 bit mask");
    }

    #[test]
    fn the_offer_lists_the_endonyms() {
        let it = language("it").expect("italian");
        assert_eq!(offer(it, &["en".into(), "es".into()]), "Posso rispondere in English e Español.");
        assert_eq!(offer(language("en").expect("en"), &["en".into(), "pt-BR".into(), "xx".into()]), "I can answer in English, Português and xx.");
    }

    #[test]
    fn nothing_to_go_on_is_no_guess() {
        for text in ["", "12345", "CU-482913", "?!", "🙂"] {
            assert_eq!(guess(text), None, "{text:?}");
        }
    }

    #[test]
    fn requests_need_a_name_and_a_way_of_asking() {
        let code = |text: &str| requested(&tokenize(text)).map(|l| l.code);
        assert_eq!(code("is the manual in English and Spanish?"), None);
        assert_eq!(code("my wife is German"), None);
        assert_eq!(code("Italian"), Some("it"));
        assert_eq!(code("in English"), Some("en"));
    }
}
