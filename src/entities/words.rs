//! The word tables of the languages added after English and Spanish (French, German,
//! Portuguese, Arabic), one compact string per language and kind, and the additive number
//! grammar they share.
//!
//! # Table format
//!
//! A table is one `&str` of `word=code` entries separated by spaces, every word in its folded
//! form ([`crate::text::Fold::KeepEnye`]: `fünf` is `funf`, `أربعة` is `اربعه`; a test checks
//! that each word is its own fold). One string per table rather than arrays of `&str` keeps the
//! runtime wasm small: each `&str` of an array costs a pointer and a length besides its bytes.
//!
//! # Numbers
//!
//! Number codes: a value (`20`), a value with `a` (`1a`: an article, a number only with other
//! number words: `un`, `ein`, `um`), or `&` (the word for "and": `et`, `und`, `e`, `و`). German
//! compounds (`zweiundzwanzig`) and Arabic words with the conjunction glued on (`وعشرون`) are
//! split into table words, longest first. A number is read additively, each part smaller than
//! the one before (`cent vingt-deux`, `hundert fünf`), with the orders of the languages:
//! units before tens after "and" (`zwei-und-zwanzig`, `اثنان وعشرون`), French `quatre-vingt`
//! (4 × 20) and `soixante-dix` (60 + 10), Arabic teens (`ثلاثة عشر`, 3 + 10); `hundert`,
//! `cent`, `مائة` multiply a unit before them; `mille`, `tausend`, `mil`, `ألف`, `million`…
//! multiply what came before (or 1).

use super::Lang;

/// Number words.
const NUM_FR: &str = "zero=0 un=1a une=1a deux=2 trois=3 quatre=4 cinq=5 six=6 sept=7 huit=8 neuf=9 dix=10 onze=11 douze=12 treize=13 quatorze=14 quinze=15 seize=16 vingt=20 vingts=20 trente=30 quarante=40 cinquante=50 soixante=60 septante=70 huitante=80 octante=80 nonante=90 cent=100 cents=100 mille=1000 mil=1000 million=1000000 millions=1000000 milliard=1000000000 milliards=1000000000 et=&";
const NUM_DE: &str = "null=0 ein=1a eine=1a einen=1a einem=1a einer=1a eins=1 zwei=2 zwo=2 drei=3 vier=4 funf=5 fuenf=5 sechs=6 sieben=7 acht=8 neun=9 zehn=10 elf=11 zwolf=12 zwoelf=12 dreizehn=13 vierzehn=14 funfzehn=15 fuenfzehn=15 sechzehn=16 siebzehn=17 achtzehn=18 neunzehn=19 zwanzig=20 dreissig=30 dreizig=30 vierzig=40 funfzig=50 fuenfzig=50 sechzig=60 siebzig=70 achtzig=80 neunzig=90 hundert=100 einhundert=100 tausend=1000 million=1000000 millionen=1000000 milliarde=1000000000 milliarden=1000000000 und=&";
const NUM_PT: &str = "zero=0 um=1a uma=1a dois=2 duas=2 tres=3 quatro=4 cinco=5 seis=6 sete=7 oito=8 nove=9 dez=10 onze=11 doze=12 treze=13 catorze=14 quatorze=14 quinze=15 dezesseis=16 dezasseis=16 dezessete=17 dezassete=17 dezoito=18 dezenove=19 dezanove=19 vinte=20 trinta=30 quarenta=40 cinquenta=50 sessenta=60 setenta=70 oitenta=80 noventa=90 cem=100 cento=100 duzentos=200 duzentas=200 trezentos=300 trezentas=300 quatrocentos=400 quatrocentas=400 quinhentos=500 quinhentas=500 seiscentos=600 seiscentas=600 setecentos=700 setecentas=700 oitocentos=800 oitocentas=800 novecentos=900 novecentas=900 mil=1000 milhao=1000000 milhoes=1000000 bilhao=1000000000 bilhoes=1000000000 e=&";
const NUM_AR: &str = "صفر=0 واحد=1 واحده=1 احد=1a اثنان=2 اثنين=2 اتنين=2 اثنا=2a اثنتا=2a ثلاثه=3 ثلاث=3 تلاته=3 تلات=3 اربعه=4 اربع=4 خمسه=5 خمس=5 سته=6 ست=6a سبعه=7 سبع=7 ثمانيه=8 ثماني=8 ثمان=8 تمانيه=8 تسعه=9 تسع=9 عشره=10 عشر=10 عشرون=20 عشرين=20 ثلاثون=30 ثلاثين=30 تلاتين=30 اربعون=40 اربعين=40 خمسون=50 خمسين=50 ستون=60 ستين=60 سبعون=70 سبعين=70 ثمانون=80 ثمانين=80 تمانين=80 تسعون=90 تسعين=90 مائه=100 مئه=100 ميه=100 ميت=100 مئتان=200 مئتين=200 مائتان=200 مائتين=200 ميتين=200 الف=1000 الاف=1000 الفين=2000 الفان=2000 مليون=1000000 ملايين=1000000 مليار=1000000000 و=&";

/// Ordinal words: for French, Portuguese and Arabic (after `ال` and a feminine `ه` are taken
/// off) whole words; for German, stems that take an ending (`erst-e`, `dritt-en`).
const ORD_FR: &str = "premier=1 premiere=1 second=2 seconde=2 deuxieme=2 troisieme=3 quatrieme=4 cinquieme=5 sixieme=6 septieme=7 huitieme=8 neuvieme=9 dixieme=10 onzieme=11 douzieme=12";
const ORD_DE: &str = "erst=1 zweit=2 dritt=3 viert=4 funft=5 fuenft=5 sechst=6 siebt=7 siebent=7 acht=8 neunt=9 zehnt=10 elft=11 zwolft=12";
const ORD_PT: &str = "primeir=1 segund=2 terceir=3 quart=4 quint=5 sext=6 setim=7 oitav=8 non=9 decim=10";
const ORD_AR: &str = "اول=1 اولي=1 ثاني=2 ثالث=3 رابع=4 خامس=5 سادس=6 سابع=7 ثامن=8 تاسع=9 عاشر=10";

/// Time units: `s` second, `m` minute, `h` hour, `d` day, `w` week, `M` month, `y` year; a
/// leading `2` marks an Arabic dual (`يومين`, two days), `1` an Arabic singular that counts one
/// by itself (`ساعه`, an hour).
const UNIT_FR: &str = "seconde=s secondes=s sec=s minute=m minutes=m min=m mn=m heure=h heures=h jour=d jours=d semaine=w semaines=w mois=M an=y ans=y annee=y annees=y";
const UNIT_DE: &str = "sekunde=s sekunden=s sek=s minute=m minuten=m min=m stunde=h stunden=h std=h tag=d tage=d tagen=d woche=w wochen=w monat=M monate=M monaten=M jahr=y jahre=y jahren=y";
const UNIT_PT: &str = "segundo=s segundos=s seg=s minuto=m minutos=m min=m hora=h horas=h dia=d dias=d semana=w semanas=w mes=M meses=M ano=y anos=y";
const UNIT_AR: &str = "ثانيه=1s ثواني=s ثوان=s دقيقه=1m دقايق=m دقائق=m ساعه=1h ساعات=h يوم=1d ايام=d اسبوع=1w اسابيع=w شهر=1M اشهر=M شهور=M سنه=1y سنوات=y سنين=y عام=1y ثانيتين=2s دقيقتين=2m ساعتين=2h يومين=2d اسبوعين=2w شهرين=2M سنتين=2y";

/// Month names, January first (then `word=n` for other spellings).
const MONTH_FR: &str = "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre janv=1 fevr=2 fev=2 avr=4 juil=7 sept=9 oct=10 nov=11 dec=12";
const MONTH_DE: &str = "januar februar marz april mai juni juli august september oktober november dezember jan=1 janner=1 feb=2 maerz=3 mrz=3 apr=4 jun=6 jul=7 aug=8 sep=9 sept=9 okt=10 nov=11 dez=12";
const MONTH_PT: &str = "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro jan=1 fev=2 mar=3 abr=4 mai=5 jun=6 jul=7 ago=8 set=9 out=10 nov=11 dez=12";
const MONTH_AR: &str = "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر ابريل=4 يونيه=6 يوليه=7 اغسطس=8";

/// Weekday names, Monday first (then `word=n`, 0 = Monday, for other forms).
const DAY_FR: &str = "lundi mardi mercredi jeudi vendredi samedi dimanche";
const DAY_DE: &str = "montag dienstag mittwoch donnerstag freitag samstag sonntag sonnabend=5";
const DAY_PT: &str = "segunda terca quarta quinta sexta sabado domingo";
const DAY_AR: &str = "الاثنين الثلاثاء الاربعاء الخميس الجمعه السبت الاحد اثنين=0 ثلاثاء=1 اربعاء=2 خميس=3 جمعه=4 سبت=5 احد=6 الاتنين=0 التلات=1 التلاتاء=1";

/// Relative days: the offset from today (`demain=1`).
const REL_FR: &str = "aujourd=0 demain=1 hier=-1";
const REL_DE: &str = "heute=0 morgen=1 ubermorgen=2 uebermorgen=2 gestern=-1 vorgestern=-2";
const REL_PT: &str = "hoje=0 amanha=1 ontem=-1 anteontem=-2";
const REL_AR: &str = "اليوم=0 النهارده=0 النهاردا=0 غدا=1 بكره=1 بكرا=1 الغد=1 بعدين=1 امس=-1 البارحه=-1 مبارح=-1 امبارح=-1";

/// The kinds of table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Number,
    Ordinal,
    Unit,
    Month,
    Day,
    Relative,
}

/// The table of a kind for a language (`None` for English and Spanish, whose words live with
/// their grammar).
pub(crate) fn table(lang: Lang, kind: Table) -> Option<&'static str> {
    use Table::*;
    let t: [&'static str; 6] = match lang {
        Lang::En | Lang::Es => return None,
        Lang::Fr => [NUM_FR, ORD_FR, UNIT_FR, MONTH_FR, DAY_FR, REL_FR],
        Lang::De => [NUM_DE, ORD_DE, UNIT_DE, MONTH_DE, DAY_DE, REL_DE],
        Lang::Pt => [NUM_PT, ORD_PT, UNIT_PT, MONTH_PT, DAY_PT, REL_PT],
        Lang::Ar => [NUM_AR, ORD_AR, UNIT_AR, MONTH_AR, DAY_AR, REL_AR],
    };
    Some(t[match kind {
        Number => 0,
        Ordinal => 1,
        Unit => 2,
        Month => 3,
        Day => 4,
        Relative => 5,
    }])
}

/// The code of `word` in `table`: after its `=`, or its 1-based position for a bare entry.
pub(crate) fn get(table: &'static str, word: &str) -> Option<&'static str> {
    const POSITIONS: [&str; 12] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];
    let mut bare = 0;
    for entry in table.split(' ') {
        match entry.split_once('=') {
            Some((w, code)) if w == word => return Some(code),
            Some(_) => {}
            None => {
                bare += 1;
                if entry == word {
                    return POSITIONS.get(bare - 1).copied();
                }
            }
        }
    }
    None
}

/// The code of `word` in the table of a kind for a language, parsed as an integer.
pub(crate) fn int(lang: Lang, kind: Table, word: &str) -> Option<i64> {
    get(table(lang, kind)?, word)?.parse().ok()
}

/// A month (1–12) or weekday (0 = Monday) named by a folded word in one of `langs`.
pub(crate) fn calendar(langs: &[Lang], kind: Table, word: &str) -> Option<u32> {
    langs.iter().find_map(|&l| int(l, kind, word)).map(|v| if kind == Table::Day { v as u32 - 1 } else { v as u32 })
}

/// A time unit word of one of `langs`: (the count it carries by itself: 2 for an Arabic dual,
/// 1 for an Arabic singular that counts one, else 0; the unit letter of the [`UNIT_FR`]
/// format: `s`, `m`, `h`, `d`, `w`, `M`, `y`).
pub(crate) fn unit(langs: &[Lang], w: &str) -> Option<(u32, u8)> {
    let code = langs.iter().find_map(|&l| get(table(l, Table::Unit)?, w))?;
    match code.as_bytes() {
        [n @ b'1'..=b'2', u] => Some((u32::from(n - b'0'), *u)),
        [u] => Some((0, *u)),
        _ => None,
    }
}

/// One piece of a number word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A value; `true` for an article (`un`, `ein`).
    Value(u64, bool),
    /// "and".
    And,
}

fn piece(lang: Lang, w: &str) -> Option<Piece> {
    let code = get(table(lang, Table::Number)?, w)?;
    if code == "&" {
        return Some(Piece::And);
    }
    let (digits, article) = code.strip_suffix('a').map_or((code, false), |d| (d, true));
    digits.parse().ok().map(|v| Piece::Value(v, article))
}

/// The pieces of one folded word: itself, or (German and Arabic) the table words it is made of,
/// longest first (`zweiundzwanzig` → `zwei` `und` `zwanzig`; `وعشرون` → `و` `عشرون`).
fn pieces(lang: Lang, w: &str, out: &mut Vec<Piece>) -> bool {
    out.clear();
    if let Some(p) = piece(lang, w) {
        out.push(p);
        return true;
    }
    if !matches!(lang, Lang::De | Lang::Ar) || w.len() > 64 {
        return false;
    }
    let mut rest = w;
    while !rest.is_empty() {
        let cut = rest.char_indices().map(|(b, c)| b + c.len_utf8()).rev().find(|&b| piece(lang, &rest[..b]).is_some());
        let Some(cut) = cut else { return false };
        out.push(piece(lang, &rest[..cut]).expect("found above"));
        rest = &rest[cut..];
    }
    true
}

/// The additive reading of a number: see the [module docs](self).
#[derive(Debug, Default)]
struct Reading {
    total: u64,
    group: u64,
    /// The last part added to the group (0 when none).
    last: u64,
    /// The last scale used (`u64::MAX` when none).
    scale: u64,
    and: bool,
    closed: bool,
    /// Only articles so far.
    articles: bool,
}

impl Reading {
    /// Adds one piece; false when it cannot continue this number (the reading is then spoilt:
    /// the caller restores it).
    fn push(&mut self, lang: Lang, p: Piece) -> bool {
        let Piece::Value(v, article) = p else {
            if self.and || (self.group == 0 && self.total == 0) {
                return false;
            }
            self.and = true;
            return true;
        };
        self.articles &= article;
        let tens = |x: u64| (20..100).contains(&x) && x % 10 == 0;
        if [1_000, 1_000_000, 1_000_000_000].contains(&v) {
            // A scale multiplies the group (or 1).
            if v >= self.scale {
                return false;
            }
            self.total += self.group.max(1) * v;
            (self.group, self.last, self.scale, self.and, self.closed) = (0, 0, v, false, false);
            return true;
        }
        if v >= 1000 {
            // A whole thousands word (`الفين`, two thousand).
            if self.total != 0 || self.group != 0 {
                return false;
            }
            (self.total, self.scale, self.and) = (v, 1000, false);
            return true;
        }
        if v == 100 && self.group != 0 {
            // A multiplier of the unit (or teen) just read: `trois cents`, `dreihundert`.
            if self.group != self.last || self.group >= 100 || self.and {
                return false;
            }
            self.group *= 100;
            self.last = self.group;
            return true;
        }
        let ok = if self.group == 0 {
            true
        } else if self.closed {
            false
        } else if self.last >= 100 {
            v < 100
        } else if tens(self.last) {
            v < 10 || (lang == Lang::Fr && matches!(self.last, 60 | 80) && v < 20)
        } else if self.last == 10 && lang == Lang::Fr {
            v < 10 && !self.and
        } else if self.last == 4 && v == 20 && lang == Lang::Fr && !self.and {
            // quatre-vingt(s): 4 × 20.
            self.group += 76;
            self.last = 80;
            return true;
        } else if self.last < 10 && v == 10 && lang == Lang::Ar && !self.and {
            // ثلاثة عشر: 3 + 10, nothing after.
            self.closed = true;
            true
        } else {
            // Units before tens: zwei-und-zwanzig, اثنان وعشرون.
            let ok = self.last < 10 && tens(v) && self.and && matches!(lang, Lang::De | Lang::Ar);
            self.closed |= ok;
            ok
        };
        if !ok {
            return false;
        }
        self.group += v;
        self.last = v;
        self.and = false;
        true
    }
}

/// The longest number in words of `lang` starting at word `i`: its value and the index of its
/// last word. `gap_ok(k)` says whether words `k - 1` and `k` may be parts of one number.
pub(crate) fn parse(words: &[&crate::text::Token], lang: Lang, i: usize, gap_ok: impl Fn(usize) -> bool) -> Option<(u64, usize)> {
    let mut r = Reading { scale: u64::MAX, articles: true, ..Reading::default() };
    let mut ps = Vec::new();
    let mut last = None;
    for (k, word) in words.iter().enumerate().skip(i) {
        if k > i && !gap_ok(k) {
            break;
        }
        if !pieces(lang, &word.folded, &mut ps) {
            break;
        }
        let saved = (r.total, r.group, r.last, r.scale, r.and, r.closed, r.articles);
        if !ps.iter().all(|&p| r.push(lang, p)) {
            (r.total, r.group, r.last, r.scale, r.and, r.closed, r.articles) = saved;
            break;
        }
        if !r.and {
            last = Some(k);
        }
    }
    let last = last?;
    if r.articles {
        return None;
    }
    Some((r.total + r.group, last))
}

/// The position named by an ordinal word (folded) of a language of the tables: French and
/// Portuguese words whole (`deuxième`; `terceira`: stem and `o`, `a`, `os`, `as`), German stems
/// with an ending (`dritten`), Arabic words without `ال` and a feminine `ه` (`الثالثه`).
pub(crate) fn ordinal(lang: Lang, w: &str) -> Option<u64> {
    let t = table(lang, Table::Ordinal)?;
    let found = match lang {
        Lang::De => ["e", "er", "en", "es", "em"].iter().find_map(|e| get(t, w.strip_suffix(e)?)),
        Lang::Pt => ["o", "a", "os", "as"].iter().find_map(|e| get(t, w.strip_suffix(e)?)),
        Lang::Ar => {
            let w = w.strip_prefix("ال").unwrap_or(w);
            get(t, w).or_else(|| get(t, w.strip_suffix('ه')?))
        }
        _ => get(t, w),
    };
    found?.parse().ok()
}

/// A digit number's scale word (`2 millions`, `3 Millionen`, `٢ مليون`): its factor.
pub(crate) fn scale(lang: Lang, w: &str) -> Option<u64> {
    match piece(lang, w)? {
        Piece::Value(v, _) if [1_000, 1_000_000, 1_000_000_000].contains(&v) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{fold_word, Fold, Utterance};

    fn read(text: &str, lang: Lang) -> Option<u64> {
        let u = Utterance::analyze(text, "");
        let words: Vec<_> = u.tokens().iter().filter(|t| t.kind == crate::text::TokenKind::Letters).collect();
        parse(&words, lang, 0, |_| true).filter(|(_, last)| *last + 1 == words.len()).map(|(v, _)| v)
    }

    #[test]
    fn every_table_word_is_its_own_fold() {
        for lang in [Lang::Fr, Lang::De, Lang::Pt, Lang::Ar] {
            for kind in [Table::Number, Table::Ordinal, Table::Unit, Table::Month, Table::Day, Table::Relative] {
                for entry in table(lang, kind).unwrap().split(' ') {
                    let w = entry.split_once('=').map_or(entry, |(w, _)| w);
                    assert_eq!(fold_word(w, Fold::KeepEnye), w, "{lang:?} {kind:?}");
                }
            }
        }
    }

    #[test]
    fn numbers_in_words() {
        for (text, lang, want) in [
            ("vingt-deux", Lang::Fr, Some(22)),
            ("soixante-dix", Lang::Fr, Some(70)),
            ("soixante et onze", Lang::Fr, Some(71)),
            ("quatre-vingts", Lang::Fr, Some(80)),
            ("quatre-vingt-dix-sept", Lang::Fr, Some(97)),
            ("deux mille vingt-six", Lang::Fr, Some(2026)),
            ("cent un", Lang::Fr, Some(101)),
            ("trois cents", Lang::Fr, Some(300)),
            ("une", Lang::Fr, None),
            ("zweiundzwanzig", Lang::De, Some(22)),
            ("einundzwanzig", Lang::De, Some(21)),
            ("dreihundertfünf", Lang::De, Some(305)),
            ("zweitausendsechsundzwanzig", Lang::De, Some(2026)),
            ("siebzehn", Lang::De, Some(17)),
            ("ein", Lang::De, None),
            ("vinte e dois", Lang::Pt, Some(22)),
            ("cento e vinte e cinco", Lang::Pt, Some(125)),
            ("dois mil e quinhentos", Lang::Pt, Some(2500)),
            ("duzentas", Lang::Pt, Some(200)),
            ("uma", Lang::Pt, None),
            ("اثنان وعشرون", Lang::Ar, Some(22)),
            ("ثلاثة عشر", Lang::Ar, Some(13)),
            ("خمسمائة", Lang::Ar, Some(500)),
            ("ثلاثة آلاف", Lang::Ar, Some(3000)),
            ("مائة وخمسة وعشرون", Lang::Ar, Some(125)),
            ("ألفين", Lang::Ar, Some(2000)),
        ] {
            assert_eq!(read(text, lang), want, "{text}");
        }
    }

    #[test]
    fn ordinal_words() {
        for (w, lang, want) in [
            ("deuxieme", Lang::Fr, Some(2)),
            ("dritten", Lang::De, Some(3)),
            ("acht", Lang::De, None),
            ("terceira", Lang::Pt, Some(3)),
            ("الثالثه", Lang::Ar, Some(3)),
            ("الاولي", Lang::Ar, Some(1)),
        ] {
            assert_eq!(ordinal(lang, w), want, "{w}");
        }
    }
}
