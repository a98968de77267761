//! The bottom layer: one analysis of a message ([`Utterance`]) that every extractor reads, the
//! one accent and case folding, the one hash (FNV-1a with a finaliser) and the one seeded
//! generator (SplitMix64) of the core.
//!
//! Nothing here knows about intents, entities or bots; every other module may use it, and it
//! uses none of them (`tests/layers.rs`).
//!
//! # Folding
//!
//! One table ([`fold`]) lowercases and strips diacritics from the Latin letters of the
//! locales the widget ships (no Unicode tables in the bundle; other letters pass through
//! lowercased). It has two modes, because the two uses disagree on one letter:
//!
//! - [`Fold::Loose`] folds `ñ` to `n`: hashed intent features, where a visitor without a
//!   Spanish keyboard writes "pequeno" and must still meet the examples' "pequeño".
//! - [`Fold::KeepEnye`] keeps `ñ` (and the ordinal indicators `º`, `ª`): word lists and
//!   lexicons (entities, sentiment), where "año" (year) and "ano" are different words and an
//!   entry written with `ñ` must not match its accidental twin. The other accents fold alike.
//!
//! Both modes read Eastern Arabic (`٠`–`٩`) and Persian (`۰`–`۹`) digits as ASCII digits, and
//! normalise Arabic script as search engines do (Lucene's `ArabicNormalizer`, after Larkey,
//! Ballesteros and Connell 2007, "Light Stemming for Arabic Information Retrieval"): the alef
//! variants `أ إ آ ٱ` become `ا`, ta marbuta `ة` becomes `ه`, alef maqsura `ى` becomes `ي`, and
//! the harakat (tashkeel, U+064B–U+065F, superscript alef U+0670) and the tatweel `ـ` are
//! dropped, so "مُمتاز", "ممتـــاز" and "ممتاز" are one word, as are "أريد" and "اريد".
//! Measured (2026-12-04) on the demo bot merged with its fr, de, pt-BR and ar fragments and
//! the Arabic held-out phrasings (122 lines): 95.1% intent accuracy before and after as
//! written; the same lines typed without hamza and ta marbuta (49 of them change) went from
//! 87.7% to 95.1%. The en/es bot's held-out accuracy is unchanged (88.5%, 471/532).

/// Lower- and uppercasing from one compact table, exactly as std's.
mod case;

pub use case::{lowercase_char, to_lowercase, to_uppercase, uppercase_char, CaseMap};

/// FNV-1a's 64-bit offset basis (Fowler, Noll and Vo).
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's 64-bit prime.
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One FNV-1a step over a byte.
#[inline]
pub fn fnv1a_byte(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

/// One FNV-1a step over a whole char (its code point as one 64-bit "byte"): what the hashed
/// n-gram features of stored intent models were trained with.
#[inline]
pub fn fnv1a_char(h: u64, c: char) -> u64 {
    (h ^ c as u64).wrapping_mul(FNV_PRIME)
}

/// FNV-1a, 64 bits, over `bytes`: the identity of a word-vector table's bytes.
///
/// ```
/// assert_eq!(sottovoce::text::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| fnv1a_byte(h, b))
}

/// MurmurHash3's 64-bit finaliser: spreads FNV's weak low bits over the whole word. Finishes
/// the intent features' buckets and the WordPiece vocabulary's hasher.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// SplitMix64's output function (Steele, Lea and Flood 2014): the generator's finaliser, also
/// the one that finishes the slot tagger's feature hashes (stored in models, so it stays).
#[inline]
pub fn splitmix_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea and Flood 2014): the core's one seeded, portable generator. The
/// same seed gives the same sequence on every platform, which training and tests rely on.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The golden-ratio increment added to the state at every step.
    pub const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

    /// The next 64 random bits.
    ///
    /// ```
    /// let mut rng = sottovoce::text::SplitMix64(0);
    /// assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
    /// ```
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(Self::GAMMA);
        splitmix_mix(self.0)
    }

    /// Uniform in [0, 1), 24 bits of precision.
    pub fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `0..n` (`n > 0`; 0 for `n == 0`), by Lemire's multiply-shift over 64 bits.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates shuffle of `items`, drawing each index with a 32-bit multiply-shift (the
    /// order the intent classifiers' stored figures were measured with; `n < 2^32`).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (((self.next_u64() >> 32) * (i as u64 + 1)) >> 32) as usize;
            items.swap(i, j);
        }
    }
}

/// The languages the core has word tables for (built-in entities, sentiment lexicons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Es,
    Fr,
    De,
    /// Portuguese (Brazilian and European spellings).
    Pt,
    Ar,
}

impl Lang {
    /// The language of a BCP 47 locale's primary subtag (`pt-BR` → `Pt`), if it is one of these.
    pub(crate) fn of_locale(locale: &str) -> Option<Lang> {
        let primary = locale.split(['-', '_']).next().unwrap_or("");
        [("en", Lang::En), ("es", Lang::Es), ("fr", Lang::Fr), ("de", Lang::De), ("pt", Lang::Pt), ("ar", Lang::Ar)]
            .into_iter()
            .find(|(code, _)| primary.eq_ignore_ascii_case(code))
            .map(|(_, lang)| lang)
    }
}

/// Which folding: see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// `ñ` → `n`, `º` → `o`, `ª` → `a`: hashed intent features.
    Loose,
    /// `ñ`, `º` and `ª` stay: word lists and lexicons.
    KeepEnye,
}

/// One lowercase character's folded form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folded {
    /// The character stays as it is.
    Same(char),
    /// The character is replaced by this ASCII text.
    Ascii(&'static str),
    /// Not a letter or digit: normalisation turns it into a word break.
    Break,
}

/// The ASCII digits, for [`fold`] of Eastern Arabic and Persian digits.
const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The ASCII digit of an Eastern Arabic (`٠`–`٩`) or Persian (`۰`–`۹`) digit; the Arabic
/// decimal separator `٫` is `.` and the thousands separator `٬` is `,`. Every other char is
/// itself. One char for one, so char offsets hold.
pub fn ascii_digit(c: char) -> char {
    match c {
        '\u{660}'..='\u{669}' => char::from(b'0' + (c as u32 - 0x660) as u8),
        '\u{6f0}'..='\u{6f9}' => char::from(b'0' + (c as u32 - 0x6f0) as u8),
        '\u{66b}' => '.',
        '\u{66c}' => ',',
        _ => c,
    }
}

/// True for the chars of scripts written without spaces between words: Han ideographs, kana,
/// Hangul syllables, CJK punctuation and full-width forms. A number or an address next to one
/// is not glued to a word (`明天下午3点`, `3000円`, `邮箱ana@example.com`).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ac00}'..='\u{d7af}' | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
}

/// True for the Arabic marks that normalisation drops: the harakat (U+064B–U+065F), the
/// superscript alef (U+0670) and the tatweel (U+0640), a stretching stroke.
pub fn is_arabic_mark(c: char) -> bool {
    matches!(c, '\u{64b}'..='\u{65f}' | '\u{670}' | '\u{640}')
}

/// Folds one lowercase character (see [`Folded`] and the [module docs](self)).
pub fn fold(c: char, mode: Fold) -> Folded {
    if mode == Fold::KeepEnye && matches!(c, 'ñ' | 'º' | 'ª') {
        return Folded::Same(c);
    }
    Folded::Ascii(match c {
        '\u{660}'..='\u{669}' => DIGITS[(c as u32 - 0x660) as usize],
        '\u{6f0}'..='\u{6f9}' => DIGITS[(c as u32 - 0x6f0) as usize],
        // Arabic (Lucene's ArabicNormalizer): alef variants, ta marbuta, alef maqsura.
        'أ' | 'إ' | 'آ' | 'ٱ' => return Folded::Same('ا'),
        'ة' => return Folded::Same('ه'),
        'ى' => return Folded::Same('ي'),
        c if is_arabic_mark(c) => "",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ª' => "a",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'º' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ţ' | 'ť' | 'ŧ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        c if c.is_alphanumeric() => return Folded::Same(c),
        _ => return Folded::Break,
    })
}

/// Appends the folded form of `word` to `out`: each char lowercased and folded in `mode`;
/// a char that is not a letter or digit (an apostrophe, a hyphen) is kept as it is.
///
/// ```
/// use sottovoce::text::{fold_word_into, Fold};
/// let mut s = String::new();
/// fold_word_into("Años-Straße", Fold::KeepEnye, &mut s);
/// assert_eq!(s, "años-strasse");
/// ```
pub fn fold_word_into(word: &str, mode: Fold, out: &mut String) {
    // ASCII (most words) lower-cases without Unicode tables and has no accents.
    if word.is_ascii() {
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    for lc in word.chars().flat_map(lowercase_char) {
        match fold(lc, mode) {
            Folded::Same(c) => out.push(c),
            Folded::Ascii(s) => out.push_str(s),
            Folded::Break => out.push(lc),
        }
    }
}

/// The folded form of `word` (see [`fold_word_into`]).
pub fn fold_word(word: &str, mode: Fold) -> String {
    let mut out = String::with_capacity(word.len());
    fold_word_into(word, mode, &mut out);
    out
}

/// Most words of a message compared (a lesson is about short questions).
pub const MAX_WORDS: usize = 64;

/// The distinct words of `text` normalised by [`normalize_into`], in order of first
/// appearance, at most [`MAX_WORDS`]. (No sort: a sort's code would be monomorphised anew for the wasm bundle.)
pub fn word_set(text: &str) -> Vec<String> {
    let mut normal = String::new();
    crate::text::normalize_into(text, &mut normal);
    let mut words: Vec<String> = Vec::new();
    for w in normal.split(' ').filter(|w| !w.is_empty()) {
        if words.len() < MAX_WORDS && !words.iter().any(|x| x == w) {
            words.push(w.to_owned());
        }
    }
    words
}

/// Jaccard similarity (shared ÷ all) of two deduplicated word lists, 0 to 1; 0 when either is
/// empty. With [`word_set`]: how alike two short messages are, for a visitor's lessons
/// (`dialogue::taught`) and for grouping the questions a bot could not answer (the escalation
/// server's owner view).
pub fn jaccard(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.iter().filter(|w| b.contains(w)).count();
    common as f32 / (a.len() + b.len() - common) as f32
}

/// True for the characters that join a word rather than break it ("don't" -> "dont").
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`' | '´')
}

/// Normalises `text` into `out` (cleared first): lowercase words of letters and digits,
/// folded [`Fold::Loose`], separated by single spaces, no leading or trailing space.
///
/// Apostrophes join ("what's" -> "whats"); every other non-alphanumeric character breaks words.
pub fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    let mut pending_space = false;
    for c in text.chars() {
        if is_apostrophe(c) {
            continue;
        }
        for lc in lowercase_char(c) {
            let folded = fold(lc, Fold::Loose);
            if matches!(folded, Folded::Ascii("")) {
                continue;
            }
            if matches!(folded, Folded::Break) {
                pending_space = true;
                continue;
            }
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            match folded {
                Folded::Same(c) => out.push(c),
                Folded::Ascii(s) => out.push_str(s),
                Folded::Break => {}
            }
        }
    }
}

/// Normalises `text` (see [`normalize_into`]) into a new string: what the intent features and
/// the word vectors read.
///
/// ```
/// assert_eq!(sottovoce::text::normalize("¿Dónde ESTÁ mi pedido?! It's #A-12"), "donde esta mi pedido its a 12");
/// ```
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of letters (alphabetic, not numeric chars).
    Letters,
    /// A run of digits (numeric chars).
    Digits,
    /// One char that is neither a letter, a digit nor white space.
    Mark,
}

/// One token of an [`Utterance`].
///
/// Offsets count chars of the original text (end exclusive); [`Utterance::byte_range`] turns
/// them into byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// First char.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
    /// Letters, digits or a mark.
    pub kind: TokenKind,
    /// The token as written.
    pub text: String,
    /// Lowercased ([`to_lowercase`]), accents kept: the slot tagger's form.
    pub lower: String,
    /// Lowercased and folded [`Fold::KeepEnye`] (`Dieciséis` → `dieciseis`, `años` stays;
    /// digits as ASCII digits, `٢٠` → `20`): the form word lists match.
    pub folded: String,
}

fn kind_of(c: char) -> Option<TokenKind> {
    if c.is_whitespace() {
        None
    } else if is_arabic_mark(c) {
        Some(TokenKind::Letters)
    } else if c.is_numeric() {
        Some(TokenKind::Digits)
    } else if c.is_alphanumeric() {
        Some(TokenKind::Letters)
    } else {
        Some(TokenKind::Mark)
    }
}

/// Splits `text` into [`Token`]s: runs of letters, runs of digits, single marks; white space
/// separates. A letter-digit boundary splits (`5pm` → `5`, `pm`), so slot values glued to their
/// neighbours (`2times` in SNIPS) still start and end on token boundaries.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    // (char offset, byte offset, kind) of the token being read.
    let mut current: Option<(usize, usize, TokenKind)> = None;
    let mut flush = |current: &mut Option<(usize, usize, TokenKind)>, end: usize, end_byte: usize| {
        if let Some((start, start_byte, kind)) = current.take() {
            let text = &text[start_byte..end_byte];
            let folded = match kind {
                TokenKind::Letters => fold_word(text, Fold::KeepEnye),
                TokenKind::Digits => text.chars().map(ascii_digit).collect(),
                TokenKind::Mark => to_lowercase(text),
            };
            tokens.push(Token { start, end, kind, text: text.to_owned(), lower: to_lowercase(text), folded });
        }
    };
    let mut n = 0;
    for (i, (b, c)) in text.char_indices().enumerate() {
        n = i + 1;
        let kind = kind_of(c);
        if matches!(current, Some((_, _, k)) if Some(k) == kind && k != TokenKind::Mark) {
            continue;
        }
        flush(&mut current, i, b);
        current = kind.map(|k| (i, b, k));
    }
    flush(&mut current, n, text.len());
    tokens
}

/// A message analysed once, for every extractor of a turn: the chars with their byte offsets,
/// the tokens (letter runs, digit runs, single marks: a letter-digit boundary splits, so
/// `5pm` is `5`, `pm`) with their lowercased and folded forms, and the normalised text the
/// intent and locale classifiers read ([`normalize`]).
#[derive(Debug, Clone)]
pub struct Utterance<'a> {
    src: &'a str,
    locale: &'a str,
    /// The chars, digits as ASCII ([`ascii_digit`]).
    chars: Vec<char>,
    /// Byte offset of each char, plus `src.len()` at the end.
    byte_of: Vec<usize>,
    /// When the text has non-ASCII digits: the text with ASCII digits ([`ascii_digit`]) and
    /// the byte offset of each of its chars, plus its length at the end.
    ascii_digits: Option<(String, Vec<usize>)>,
    tokens: Vec<Token>,
    normalized: String,
}

impl<'a> Utterance<'a> {
    /// Analyses `text`. `locale` is the conversation's locale when known (`""` otherwise): a
    /// hint for the extractors that need a language, never used to tokenise or fold, so the
    /// analysis is the same whatever the locale.
    ///
    /// ```
    /// use sottovoce::text::{TokenKind, Utterance};
    /// let u = Utterance::analyze("¡Llega el 5º día!", "es");
    /// assert_eq!(u.normalized(), "llega el 5o dia");
    /// let t = &u.tokens()[3];
    /// assert_eq!((t.kind, t.start, t.end), (TokenKind::Digits, 10, 11));
    /// assert_eq!(u.tokens()[4].folded, "º");
    /// assert_eq!(u.slice(1, 6), "Llega");
    /// ```
    pub fn analyze(text: &'a str, locale: &'a str) -> Utterance<'a> {
        let mut chars = Vec::with_capacity(text.len());
        let mut byte_of = Vec::with_capacity(text.len() + 1);
        let mut folded_digits = false;
        for (b, c) in text.char_indices() {
            let d = ascii_digit(c);
            folded_digits |= d != c;
            chars.push(d);
            byte_of.push(b);
        }
        byte_of.push(text.len());
        let ascii_digits = folded_digits.then(|| {
            let s: String = chars.iter().collect();
            let mut at: Vec<usize> = s.char_indices().map(|(b, _)| b).collect();
            at.push(s.len());
            (s, at)
        });
        let tokens = tokenize(text);
        let mut normalized = String::with_capacity(text.len());
        normalize_into(text, &mut normalized);
        Utterance { src: text, locale, chars, byte_of, ascii_digits, tokens, normalized }
    }

    /// The text with Eastern Arabic and Persian digits written as ASCII digits
    /// ([`ascii_digit`]; the text itself when it has none): what owner patterns such as
    /// `CU-\d{6}` match. Its chars are the text's, one for one; [`Utterance::char_at_ascii`]
    /// maps its byte offsets to char offsets.
    pub fn ascii_digits(&self) -> &str {
        self.ascii_digits.as_ref().map_or(self.src, |(s, _)| s)
    }

    /// The char offset of a byte offset of [`Utterance::ascii_digits`] that starts a char.
    pub fn char_at_ascii(&self, byte: usize) -> usize {
        match &self.ascii_digits {
            Some((_, at)) => at.partition_point(|&b| b < byte),
            None => self.char_at(byte),
        }
    }

    /// The text as given.
    pub fn text(&self) -> &'a str {
        self.src
    }

    /// The locale hint given to [`Utterance::analyze`].
    pub fn locale(&self) -> &'a str {
        self.locale
    }

    /// The text's chars, Eastern Arabic and Persian digits as ASCII digits ([`ascii_digit`]).
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The tokens, in order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The normalised text ([`normalize`]).
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The char offset of a byte offset that starts a char (as regex matches do).
    pub fn char_at(&self, byte: usize) -> usize {
        self.byte_of.partition_point(|&b| b < byte)
    }

    /// The byte range of the char span `start..end` (`end <= chars().len()`).
    pub fn byte_range(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        self.byte_of[start]..self.byte_of[end]
    }

    /// The text of the char span `start..end` (`end <= chars().len()`).
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.src[self.byte_range(start, end)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_accents_and_punctuation() {
        for (text, want) in [
            ("  Crème   Brûlée!! ", "creme brulee"),
            ("Straße, ÆON", "strasse aeon"),
            ("don't…stop", "dont stop"),
            ("¡Hola! ¿Qué tal? Año", "hola que tal ano"),
            ("order #12-34", "order 12 34"),
            ("...", ""),
            ("日本語 テキスト", "日本語 テキスト"),
        ] {
            assert_eq!(normalize(text), want, "{text:?}");
        }
    }

    #[test]
    fn word_folding_keeps_enye_only_in_its_mode() {
        for (word, loose, keep) in [
            ("Dieciséis", "dieciseis", "dieciseis"),
            ("AÑO", "ano", "año"),
            ("Łódź", "lodz", "lodz"),
            ("it’s", "it’s", "it’s"),
        ] {
            assert_eq!((fold_word(word, Fold::Loose).as_str(), fold_word(word, Fold::KeepEnye).as_str()), (loose, keep), "{word}");
        }
    }

    #[test]
    fn tokens_and_offsets() {
        let u = Utterance::analyze("¡Veintidós niños! Play R&B at 5pm", "");
        let words: Vec<&str> = u.tokens().iter().map(|t| t.folded.as_str()).collect();
        assert_eq!(words, ["¡", "veintidos", "niños", "!", "play", "r", "&", "b", "at", "5", "pm"]);
        let t = &u.tokens()[2];
        assert_eq!((t.start, t.end, t.text.as_str(), t.lower.as_str()), (11, 16, "niños", "niños"));
        assert_eq!(u.char_at("¡Veintidós".len()), 10);
        assert_eq!(u.slice(1, 10), "Veintidós");
        assert_eq!(u.byte_range(1, 10), 2..12);
        let t = tokenize("Cita Romántica  x");
        assert_eq!((t[1].start, t[1].end, t[2].start), (5, 14, 16));
    }

    #[test]
    fn arabic_is_normalised_and_its_digits_are_ascii() {
        for (text, want) in [
            ("أريد إرجاع الطلبية", "اريد ارجاع الطلبيه"),
            ("مُمْتَاز جداً", "ممتاز جدا"),
            ("ممتـــاز", "ممتاز"),
            ("آسف على الفوضى", "اسف علي الفوضي"),
            ("طلب رقم ٣٤٥ و ۱۲", "طلب رقم 345 و 12"),
            ("سعر ١٢٫٥ ـ", "سعر 12 5"),
        ] {
            assert_eq!(normalize(text), want, "{text:?}");
        }
        assert_eq!(fold_word("الإثنين", Fold::KeepEnye), "الاثنين");
        let u = Utterance::analyze("رقم CU-١٢٣٤٥٦ و٢", "ar");
        assert_eq!(u.ascii_digits(), "رقم CU-123456 و2");
        assert_eq!(u.text(), "رقم CU-١٢٣٤٥٦ و٢");
        let at = u.ascii_digits().find("123").unwrap();
        assert_eq!(u.char_at_ascii(at), 7);
        assert_eq!(u.slice(7, 13), "١٢٣٤٥٦");
        assert_eq!(u.chars()[7], '1');
        let digits: Vec<&str> = u.tokens().iter().filter(|t| t.kind == TokenKind::Digits).map(|t| t.folded.as_str()).collect();
        assert_eq!(digits, ["123456", "2"]);
        let plain = Utterance::analyze("CU-123456", "en");
        assert_eq!((plain.ascii_digits(), plain.char_at_ascii(3)), ("CU-123456", 3));
    }

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        let mut rng = SplitMix64(1234567);
        // Reference values of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
        let mut v: Vec<u32> = (0..10).collect();
        SplitMix64(7).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }
}
