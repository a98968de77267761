//! Text normalisation before feature extraction: lowercase, fold diacritics, drop punctuation.
//!
//! The same function runs at training and at prediction, so "¿Dónde está mi pedido?" and
//! "donde esta mi pedido" produce the same features. Folding is a fixed table for the Latin
//! scripts the widget ships locales for (no Unicode tables in the bundle); other letters pass
//! through lowercased.

/// One lowercase character's accent-free form.
enum Folded {
    /// The character stays as it is.
    Same(char),
    /// The character is replaced by this ASCII text.
    Ascii(&'static str),
    /// Not part of a word: the caller turns it into a word break.
    Break,
}

/// Folds one lowercase character (see [`Folded`]).
fn fold(c: char) -> Folded {
    Folded::Ascii(match c {
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

/// True for the characters that join a word rather than break it ("don't" -> "dont").
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`' | '´')
}

/// Normalises `text` into `out` (cleared first): lowercase words of letters and digits,
/// diacritics folded, separated by single spaces, no leading or trailing space.
///
/// Apostrophes join ("what's" -> "whats"); every other non-alphanumeric character breaks words.
pub(crate) fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    let mut pending_space = false;
    for c in text.chars() {
        if is_apostrophe(c) {
            continue;
        }
        for lc in c.to_lowercase() {
            let folded = fold(lc);
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

/// Normalises `text` (see [`normalize_into`]) into a new string.
///
/// ```
/// assert_eq!(sottovoce::nlu::normalize("¿Dónde ESTÁ mi pedido?! It's #A-12"), "donde esta mi pedido its a 12");
/// ```
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(normalize("  Crème   Brûlée!! "), "creme brulee");
        assert_eq!(normalize("Straße, ÆON"), "strasse aeon");
        assert_eq!(normalize("don't…stop"), "dont stop");
        assert_eq!(normalize("¡Hola! ¿Qué tal?"), "hola que tal");
        assert_eq!(normalize("order #12-34"), "order 12 34");
        assert_eq!(normalize("..."), "");
        assert_eq!(normalize("日本語 テキスト"), "日本語 テキスト");
    }
}
