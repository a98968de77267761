//! Words a shopper reads for the catalog's well-known attributes: the names of the keys the
//! ranker understands (`gender`, `colour`, `season`…) and of their common English values
//! (`men`, `winter`, `navy`…), in the six locales of the demo (en, es, fr, de, pt, ar), so a
//! comparison table reads "Temporada: invierno" rather than "season: winter".
//!
//! Keys and values not in these tables are the owner's own words: a key is shown with `_` and
//! `-` as spaces, a value as written (or, for a `{locale: text}` attribute, in the shopper's
//! language: see [`crate::catalog::Product::attribute_text_in`]). The translations are ours.

/// Column of each language in the tables below.
const LANGS: [&str; 6] = ["en", "es", "fr", "de", "pt", "ar"];

/// Well-known attribute keys: the key, then its name in each of [`LANGS`].
const KEYS: &[(&str, [&str; 6])] = &[
    ("gender", ["For", "Para", "Pour", "Für", "Para", "لمن"]),
    ("waterproof", ["Waterproof", "Impermeable", "Imperméable", "Wasserdicht", "Impermeável", "مقاوم للماء"]),
    ("season", ["Season", "Temporada", "Saison", "Jahreszeit", "Estação", "الموسم"]),
    ("activity", ["Activity", "Actividad", "Activité", "Aktivität", "Atividade", "النشاط"]),
    ("colour", ["Colour", "Color", "Couleur", "Farbe", "Cor", "اللون"]),
    ("color", ["Color", "Color", "Couleur", "Farbe", "Cor", "اللون"]),
    ("sizes", ["Sizes", "Tallas", "Tailles", "Größen", "Tamanhos", "المقاسات"]),
    ("weight_g", ["Weight (g)", "Peso (g)", "Poids (g)", "Gewicht (g)", "Peso (g)", "الوزن (غ)"]),
    ("material", ["Material", "Material", "Matière", "Material", "Material", "الخامة"]),
    ("brand", ["Brand", "Marca", "Marque", "Marke", "Marca", "العلامة التجارية"]),
    ("capacity_l", ["Capacity (l)", "Capacidad (l)", "Contenance (l)", "Volumen (l)", "Capacidade (l)", "السعة (ل)"]),
    ("persons", ["People", "Personas", "Personnes", "Personen", "Pessoas", "عدد الأشخاص"]),
    (
        "temperature_c",
        ["Comfort temperature (°C)", "Temperatura de confort (°C)", "Température de confort (°C)", "Komforttemperatur (°C)", "Temperatura de conforto (°C)", "درجة حرارة الراحة (°م)"],
    ),
];

/// Well-known attribute values (English, lower case, as catalogs tag them), then each of [`LANGS`].
const VALUES: &[(&str, [&str; 6])] = &[
    ("men", ["men", "hombre", "homme", "Herren", "masculino", "رجالي"]),
    ("women", ["women", "mujer", "femme", "Damen", "feminino", "نسائي"]),
    ("unisex", ["unisex", "unisex", "mixte", "Unisex", "unissex", "للجنسين"]),
    ("kids", ["kids", "niños", "enfants", "Kinder", "crianças", "أطفال"]),
    ("spring", ["spring", "primavera", "printemps", "Frühling", "primavera", "الربيع"]),
    ("summer", ["summer", "verano", "été", "Sommer", "verão", "الصيف"]),
    ("autumn", ["autumn", "otoño", "automne", "Herbst", "outono", "الخريف"]),
    ("winter", ["winter", "invierno", "hiver", "Winter", "inverno", "الشتاء"]),
    ("hiking", ["hiking", "senderismo", "randonnée", "Wandern", "caminhada", "المشي الجبلي"]),
    ("trekking", ["trekking", "trekking", "trekking", "Trekking", "trekking", "الترحال"]),
    ("camping", ["camping", "acampada", "camping", "Camping", "acampamento", "التخييم"]),
    ("climbing", ["climbing", "escalada", "escalade", "Klettern", "escalada", "التسلق"]),
    ("snow", ["snow", "nieve", "neige", "Schnee", "neve", "الثلج"]),
    ("travel", ["travel", "viajes", "voyage", "Reisen", "viagem", "السفر"]),
    ("trail-running", ["trail running", "trail running", "trail", "Trailrunning", "trail running", "الجري في المسارات"]),
    ("everyday", ["everyday", "día a día", "quotidien", "Alltag", "dia a dia", "الاستخدام اليومي"]),
    ("black", ["black", "negro", "noir", "schwarz", "preto", "أسود"]),
    ("white", ["white", "blanco", "blanc", "weiß", "branco", "أبيض"]),
    ("grey", ["grey", "gris", "gris", "grau", "cinza", "رمادي"]),
    ("gray", ["gray", "gris", "gris", "grau", "cinza", "رمادي"]),
    ("red", ["red", "rojo", "rouge", "rot", "vermelho", "أحمر"]),
    ("blue", ["blue", "azul", "bleu", "blau", "azul", "أزرق"]),
    ("navy", ["navy", "azul marino", "bleu marine", "marineblau", "azul-marinho", "كحلي"]),
    ("teal", ["teal", "verde azulado", "bleu canard", "petrol", "verde-azulado", "أزرق مخضر"]),
    ("green", ["green", "verde", "vert", "grün", "verde", "أخضر"]),
    ("yellow", ["yellow", "amarillo", "jaune", "gelb", "amarelo", "أصفر"]),
    ("orange", ["orange", "naranja", "orange", "orange", "laranja", "برتقالي"]),
    ("pink", ["pink", "rosa", "rose", "rosa", "rosa", "وردي"]),
    ("purple", ["purple", "morado", "violet", "lila", "roxo", "بنفسجي"]),
    ("brown", ["brown", "marrón", "marron", "braun", "marrom", "بني"]),
    ("beige", ["beige", "beige", "beige", "beige", "bege", "بيج"]),
];

/// The column of `locale`'s language (`es-MX` → `es`), if it is one of [`LANGS`].
fn column(locale: &str) -> Option<usize> {
    let lang = locale.split(['-', '_']).next().unwrap_or(locale);
    LANGS.iter().position(|l| l.eq_ignore_ascii_case(lang))
}

/// The name of attribute `key` in `locale`: the well-known key's translation, else (an
/// unknown key or locale) `key` with `_` and `-` as spaces. Never empty for a non-empty key.
pub fn key_label(key: &str, locale: &str) -> String {
    match (KEYS.iter().find(|(k, _)| *k == key), column(locale)) {
        (Some((_, names)), Some(c)) => names[c].to_owned(),
        _ => key.replace(['_', '-'], " "),
    }
}

/// The well-known attribute `value` (matched without regard to ASCII case) in `locale`, or
/// `None` when the value or the locale is not in the table (show the value as written).
pub fn value_label(value: &str, locale: &str) -> Option<&'static str> {
    let c = column(locale)?;
    VALUES.iter().find(|(v, _)| v.eq_ignore_ascii_case(value)).map(|(_, names)| names[c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_keys_and_values_read_in_the_shoppers_language() {
        assert_eq!(key_label("season", "es"), "Temporada");
        assert_eq!(key_label("weight_g", "pt-BR"), "Peso (g)");
        assert_eq!(key_label("fill_power", "de"), "fill power");
        assert_eq!(key_label("season", "ja"), "season");
        assert_eq!(value_label("Winter", "fr"), Some("hiver"));
        assert_eq!(value_label("navy", "ar"), Some("كحلي"));
        assert_eq!(value_label("GORE-TEX Pro", "es"), None);
        assert_eq!(value_label("men", "ja"), None);
    }

    #[test]
    fn every_row_names_each_language() {
        for (k, names) in KEYS.iter().chain(VALUES) {
            assert!(names.iter().all(|n| !n.trim().is_empty()), "{k} has an empty translation");
        }
    }
}
