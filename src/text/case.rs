//! Unicode lower- and uppercasing from one compact table: the same mapping as std's
//! `char::to_lowercase` / `char::to_uppercase`, for every code point, in about a fifth of the
//! bytes.
//!
//! std's conversion tables list every cased code point with its partner (about 24 KiB in the
//! wasm, 10 KB of gzip); most of Unicode's case pairs come in runs (`A..Z` → `a..z`, `Ā ā Ă ă`
//! alternating), so [`case_table`] stores runs: first code point, count, stride (1 or 2) and
//! the offset to add. The few mappings to several chars (`İ` → `i̇`, `ß` → `SS`, `ﬁ` → `FI`)
//! are listed apart. The table is generated from std itself and a test compares the two on every
//! code point, so it cannot drift from the toolchain's Unicode version unnoticed.
//!
//! [`to_lowercase`] on a whole string differs from `str::to_lowercase` only in the Greek final
//! sigma rule's treatment of case-ignorable characters (see its docs).

use case_table::{LOWER_RUNS, LOWER_SPECIAL, UPPER_RUNS, UPPER_SPECIAL};

/// The generated tables: `(first code point, count << 1 | (stride - 1), offset)` runs sorted by
/// first code point, and `(code point, [up to 3 chars, '\0' padded])` multi-char mappings.
#[rustfmt::skip]
mod case_table;

/// The chars `c` maps to through `runs` and `special` (1 to 3 of them).
fn map(c: char, runs: &[(u32, u16, i32)], special: &[(char, [char; 3])]) -> CaseMap {
    let cp = c as u32;
    // Last run starting at or before `c`.
    let i = runs.partition_point(|r| r.0 <= cp);
    if i > 0 {
        let (start, count_stride, offset) = runs[i - 1];
        let stride = u32::from(count_stride & 1) + 1;
        let count = u32::from(count_stride >> 1);
        let k = cp - start;
        if k % stride == 0 && k / stride < count {
            let mapped = char::from_u32(cp.wrapping_add_signed(offset)).unwrap_or(c);
            return CaseMap { chars: [mapped, '\0', '\0'], next: 0 };
        }
    }
    if let Ok(j) = special.binary_search_by_key(&c, |s| s.0) {
        return CaseMap { chars: special[j].1, next: 0 };
    }
    CaseMap { chars: [c, '\0', '\0'], next: 0 }
}

/// The chars a char maps to (one, or up to three for a few letters), like std's `ToLowercase`.
#[derive(Debug, Clone)]
pub struct CaseMap {
    chars: [char; 3],
    next: usize,
}

impl Iterator for CaseMap {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = *self.chars.get(self.next)?;
        if c == '\0' && self.next > 0 {
            return None;
        }
        self.next += 1;
        Some(c)
    }
}

/// `c` lowercased: exactly `char::to_lowercase` (`'Ä'` → `ä`, `'İ'` → `i̇`).
///
/// ```
/// use sottovoce::text::lowercase_char;
/// assert_eq!(lowercase_char('Ş').collect::<String>(), "ş");
/// assert_eq!(lowercase_char('İ').collect::<String>(), "i\u{307}");
/// ```
pub fn lowercase_char(c: char) -> CaseMap {
    if c.is_ascii() {
        return CaseMap { chars: [c.to_ascii_lowercase(), '\0', '\0'], next: 0 };
    }
    map(c, LOWER_RUNS, LOWER_SPECIAL)
}

/// `c` uppercased: exactly `char::to_uppercase` (`'é'` → `É`, `'ß'` → `SS`).
///
/// ```
/// use sottovoce::text::uppercase_char;
/// assert_eq!(uppercase_char('ß').collect::<String>(), "SS");
/// assert_eq!(uppercase_char('i').collect::<String>(), "I");
/// ```
pub fn uppercase_char(c: char) -> CaseMap {
    if c.is_ascii() {
        return CaseMap { chars: [c.to_ascii_uppercase(), '\0', '\0'], next: 0 };
    }
    map(c, UPPER_RUNS, UPPER_SPECIAL)
}

/// True for a cased letter: Unicode's `Cased`, lowercase or uppercase or one of the titlecase
/// letters (`ǅ`, `ᾈ`…).
fn is_cased(c: char) -> bool {
    c.is_lowercase()
        || c.is_uppercase()
        || matches!(c, '\u{1C5}' | '\u{1C8}' | '\u{1CB}' | '\u{1F2}' | '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}' | '\u{1FA8}'..='\u{1FAF}' | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

/// `s` lowercased, as `str::to_lowercase`: each char by [`lowercase_char`], and a capital
/// sigma `Σ` that ends a word (a cased letter before it, none right after) becomes `ς`.
///
/// std also looks through case-ignorable characters (apostrophes, combining marks) on either
/// side of a `Σ` when it applies that rule; this does not, so `"Σ'Α"` and the like differ. No
/// other string and no language the widget serves (English, Spanish, German, French, Italian,
/// Portuguese, Turkish, Arabic) is affected.
///
/// ```
/// use sottovoce::text::to_lowercase;
/// assert_eq!(to_lowercase("İSTANBUL'DA ŞİMDİ"), "i\u{307}stanbul'da şi\u{307}mdi\u{307}");
/// assert_eq!(to_lowercase("ΟΔΟΣ ΣΟΣ"), "\u{3bf}\u{3b4}\u{3bf}\u{3c2} \u{3c3}\u{3bf}\u{3c2}");
/// ```
pub fn to_lowercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == 'Σ' {
            let final_sigma = prev.is_some_and(is_cased) && !chars.peek().is_some_and(|&n| is_cased(n));
            out.push(if final_sigma { 'ς' } else { 'σ' });
        } else {
            out.extend(lowercase_char(c));
        }
        prev = Some(c);
    }
    out
}

/// `s` uppercased: exactly `str::to_uppercase` (`"straße"` → `"STRASSE"`).
///
/// ```
/// assert_eq!(sottovoce::text::to_uppercase("çağrı"), "ÇAĞRI");
/// ```
pub fn to_uppercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        out.extend(uppercase_char(c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Runs = Vec<(u32, u16, i32)>;
    type Special = Vec<(char, [char; 3])>;

    /// The runs and multi-char mappings of `f` over every code point.
    fn generate(f: fn(char) -> Vec<char>) -> (Runs, Special) {
        let mut runs: Runs = Vec::new();
        let mut special = Vec::new();
        // (first, last, stride, offset) of the run being built.
        let mut open: Option<(u32, u32, u32, i32)> = None;
        let close = |open: &mut Option<(u32, u32, u32, i32)>, runs: &mut Runs| {
            if let Some((first, last, stride, offset)) = open.take() {
                let count = (last - first) / stride + 1;
                runs.push((first, u16::try_from(count << 1 | (stride - 1)).unwrap(), offset));
            }
        };
        for cp in 0x80..=0x10FFFFu32 {
            let Some(c) = char::from_u32(cp) else { continue };
            let mapped = f(c);
            if mapped.len() > 1 {
                let mut chars = ['\0'; 3];
                chars[..mapped.len()].copy_from_slice(&mapped);
                special.push((c, chars));
                continue;
            }
            if mapped[0] == c {
                continue;
            }
            let offset = mapped[0] as i32 - cp as i32;
            match open {
                Some((first, last, stride, o)) if o == offset && (cp - last == stride || (first == last && cp - last == 2)) && (cp - first) / stride < 0x7FFF => {
                    let stride = if first == last { cp - last } else { stride };
                    open = Some((first, cp, stride, o));
                }
                _ => {
                    close(&mut open, &mut runs);
                    open = Some((cp, cp, 1, offset));
                }
            }
            // A stride-2 run must not skip over a char that maps elsewhere: checked below by
            // comparing every code point, so a wrong guess fails the test rather than the bot.
        }
        close(&mut open, &mut runs);
        (runs, special)
    }

    fn render(name: &str, runs: &Runs, special: &Special) -> String {
        let mut s = format!("/// {name}: runs `(first, count << 1 | (stride - 1), offset)`.\npub(super) static {name}_RUNS: &[(u32, u16, i32)] = &[\n");
        for (i, r) in runs.iter().enumerate() {
            s += &format!("{}({:#x}, {}, {}),{}", if i % 6 == 0 { "    " } else { "" }, r.0, r.1, r.2, if i % 6 == 5 { "\n" } else { " " });
        }
        s = s.trim_end().to_owned() + "\n];\n";
        s += &format!("/// {name}: the mappings to several chars.\npub(super) static {name}_SPECIAL: &[(char, [char; 3])] = &[\n");
        for (c, m) in special {
            s += &format!("    ({:?}, [{:?}, {:?}, {:?}]),\n", c, m[0], m[1], m[2]);
        }
        s + "];\n"
    }

    /// The committed table is what std says today (`UPDATE_CASE_TABLE=1` rewrites it), and
    /// it maps every code point exactly as std does.
    #[test]
    fn case_table_is_std_on_every_code_point() {
        let (lr, ls) = generate(|c| c.to_lowercase().collect());
        let (ur, us) = generate(|c| c.to_uppercase().collect());
        let text = format!(
            "//! Generated by `UPDATE_CASE_TABLE=1 cargo test -p sottovoce --lib case_table` from std's\n\
             //! `char::to_lowercase` / `char::to_uppercase`; do not edit (see `src/text/case.rs`).\n\n{}\n{}",
            render("LOWER", &lr, &ls),
            render("UPPER", &ur, &us)
        );
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/text/case/case_table.rs");
        if std::env::var_os("UPDATE_CASE_TABLE").is_some() {
            std::fs::write(path, &text).unwrap();
        } else {
            assert_eq!(std::fs::read_to_string(path).unwrap(), text, "src/text/case/case_table.rs is stale: UPDATE_CASE_TABLE=1");
        }
        for cp in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(cp) else { continue };
            assert_eq!(lowercase_char(c).collect::<String>(), c.to_lowercase().collect::<String>(), "lowercase of U+{cp:04X}");
            assert_eq!(uppercase_char(c).collect::<String>(), c.to_uppercase().collect::<String>(), "uppercase of U+{cp:04X}");
        }
    }

    /// The core reaches no std case conversion (they would bring std's tables back into the
    /// wasm); test code may, to compare.
    #[test]
    fn the_core_calls_no_std_case_conversion() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("text/case.rs") && !path.ends_with("case/case_table.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // Unit tests sit at the end of a file, after `#[cfg(test)]`.
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    for needle in [".to_lowercase()", ".to_uppercase()", "char::to_lowercase", "char::to_uppercase"] {
                        if code.contains(needle) {
                            found.push(format!("{}: {needle}", path.display()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut found);
        assert!(found.is_empty(), "use sottovoce::text's case functions instead: {found:?}");
    }

    /// Real words of the languages the widget serves and will serve, against std.
    #[test]
    fn words_case_as_std_does() {
        let words = [
            // English, Spanish
            "Where is MY Order?", "¿DÓNDE ESTÁ MI PEDIDO? Año, NIÑO, pingüino", "ÑANDÚ",
            // German
            "STRASSE Straße GRÜSSE Öl Äpfel ÜBER ẞ", "Maßstab",
            // French
            "ÇA VA? ÉTÉ, NOËL, Œuvre, CŒUR, Ÿ, ÂME, ÎLE",
            // Italian, Portuguese
            "PERCHÉ CITTÀ PIÙ", "CORAÇÃO, NÃO, AVÓ, PÕE",
            // Turkish: dotted and dotless i
            "İSTANBUL ıŞIK ÇAĞRI Gİ ĞÜŞ iı İı",
            // Arabic (no case; must pass through)
            "أين طلبي؟ شكراً جزيلاً ١٢٣",
            // Ligatures, Greek, Cyrillic, digits, emoji
            "ﬁnance ﬂow ŉ", "ΟΔΟΣ ΟΔΟΣ. Σ", "МОСКВА", "٣ ½ 👍",
        ];
        for w in words {
            assert_eq!(to_lowercase(w), w.to_lowercase(), "{w}");
            assert_eq!(to_uppercase(w), w.to_uppercase(), "{w}");
            let chars: String = w.chars().flat_map(lowercase_char).collect();
            assert_eq!(chars, w.chars().flat_map(char::to_lowercase).collect::<String>(), "{w}");
        }
    }
}
