//! The product catalog: the JSONL interchange format, the search index built from it, and
//! product recommendations ranked for a shopper's request ([`rank`]).
//!
//! One product per line (issue 11's interchange format):
//!
//! ```text
//! {"id": "cu-tent-nebula-2", "name": {"en": "Nebula 2 tent", "es": "Tienda Nebula 2"},
//!  "description": {"en": "…", "es": "…"}, "category": "tents",
//!  "price": {"amount": 249.0, "currency": "EUR"}, "url": "https://…", "image": "/img/tent.svg",
//!  "in_stock": true, "attributes": {"persons": 2, "season": ["spring", "summer"]}}
//! ```
//!
//! Its JSON Schema is `schema/catalog-row.schema.json`; `sottovoce build --catalog` compiles a
//! catalog into the binary format of [`compiled`], which the browser loads.
//!
//! `related` (optional) lists the ids of products that go with it, for "what goes with it?".
//!
//! `attributes` are free, but the ranker reads these keys when a product has them: `gender`
//! (`men`, `women`, `unisex`, `kids`), `colour` (English colour words), `sizes` (strings),
//! `waterproof` (bool). Every attribute value, and the key of every `true` one, is also
//! searchable text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod compiled;
pub mod followup;
pub mod labels;
pub mod metrics;
pub mod rank;

pub use compiled::{is_compiled, CATALOG_FORMAT, CATALOG_MAGIC};

/// A price: an amount in the currency's major unit (`149.0` euros) and its ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Amount, ≥ 0, in major units.
    pub amount: f64,
    /// ISO 4217 code (`EUR`).
    pub currency: String,
}

/// One product of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Stable identifier, unique in the catalog.
    pub id: String,
    /// Name per locale: locale → text (at least one).
    pub name: BTreeMap<String, String>,
    /// Description per locale: locale → text.
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    /// Category slug (`hiking-boots`); its words are searchable.
    pub category: String,
    /// The price.
    pub price: Price,
    /// Product page (`http`/`https`).
    pub url: String,
    /// Image URL or path, if any.
    #[serde(default)]
    pub image: Option<String>,
    /// False when it cannot be bought now; such products never rank above one that can.
    #[serde(default = "yes")]
    pub in_stock: bool,
    /// Free attributes: key → string, number, bool, list of strings, or `{locale: text}` for
    /// owner text a shopper reads in their language (`"material": {"en": "leather", "es": "piel"}`).
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Products the owner says go with this one, by id, best first ("what goes with it?");
    /// ids the catalog lacks are ignored. Without them the ranker's category rule answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Index of `s` in `table`, added at the end when new (the compiled format's tables and the
/// ranker's categories and keys).
pub(crate) fn intern(table: &mut Vec<String>, s: &str) -> u32 {
    match table.iter().position(|t| t == s) {
        Some(i) => i as u32,
        None => {
            table.push(s.to_owned());
            (table.len() - 1) as u32
        }
    }
}

impl Product {
    /// The name in `locale`, else in any locale.
    pub fn name_in(&self, locale: &str) -> &str {
        self.name.get(locale).or_else(|| self.name.values().next()).map_or("", String::as_str)
    }

    /// The attribute `key` as a list of lower-cased strings (a string is a list of one; a
    /// number is its decimal text; a `{locale: text}` object gives every locale's text; a bool
    /// or a missing key is empty).
    pub fn attribute_values(&self, key: &str) -> Vec<String> {
        match self.attributes.get(key) {
            Some(serde_json::Value::String(s)) => vec![crate::text::to_lowercase(s)],
            Some(serde_json::Value::Number(n)) => vec![n.to_string()],
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(crate::text::to_lowercase(s)),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Some(serde_json::Value::Object(texts)) => {
                texts.values().filter_map(serde_json::Value::as_str).map(crate::text::to_lowercase).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The attribute `key` as a shopper in `locale` reads it: a well-known value in their
    /// language ([`labels::value_label`]: `winter` → `invierno`), else as written; list items
    /// joined by ", "; a number's decimal text; a bool as ✓ or ✗; a `{locale: text}` object in
    /// `locale`'s language (else English, else its first). `None` when the product lacks it.
    pub fn attribute_text_in(&self, key: &str, locale: &str) -> Option<String> {
        let word = |v: &serde_json::Value| -> String {
            match v {
                serde_json::Value::String(s) => labels::value_label(s, locale).map_or_else(|| s.clone(), str::to_owned),
                serde_json::Value::Object(texts) => {
                    let lang = locale.split(['-', '_']).next().unwrap_or(locale);
                    [locale, lang, "en"]
                        .iter()
                        .find_map(|l| texts.get(*l))
                        .or_else(|| texts.values().next())
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                }
                other => other.to_string(),
            }
        };
        Some(match self.attributes.get(key)? {
            serde_json::Value::Bool(b) => (if *b { "✓" } else { "✗" }).to_owned(),
            serde_json::Value::Array(items) => items.iter().map(word).collect::<Vec<_>>().join(", "),
            other => word(other),
        })
    }

    /// True when the attribute `key` is the boolean `true`.
    pub fn attribute_true(&self, key: &str) -> bool {
        matches!(self.attributes.get(key), Some(serde_json::Value::Bool(true)))
    }

    /// The attribute `key` when it is a number (`"weight_g": 780` → 780.0); `None` otherwise.
    pub fn attribute_number(&self, key: &str) -> Option<f64> {
        self.attributes.get(key)?.as_f64()
    }
}

/// A catalog: the products in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// The products.
    pub products: Vec<Product>,
}

/// Why a catalog could not be read. Lines are 1-based.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A line is not a JSON product of the expected shape.
    #[error("catalog line {line}: {message}")]
    Syntax {
        /// The line.
        line: usize,
        /// serde_json's description, with the field.
        message: String,
    },
    /// A product parsed but is unusable.
    #[error("catalog line {line}, field `{field}`: {message}")]
    Invalid {
        /// The line.
        line: usize,
        /// The field (`id`, `name`, `price.amount`, `url`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Compiled bytes that do not start with [`CATALOG_MAGIC`].
    #[error("not a compiled sottovoce catalog (it does not start with the SVC magic bytes)")]
    NotACatalog,
    /// A compiled catalog written in another format version.
    #[error("compiled catalog has format {found}, but this sottovoce reads format {expected}; rebuild it with `sottovoce build --catalog`")]
    Format {
        /// The file's version.
        found: u16,
        /// [`CATALOG_FORMAT`].
        expected: u16,
    },
    /// A compiled catalog whose body does not decode (truncated or damaged).
    #[error("compiled catalog is damaged: {0}")]
    Corrupt(String),
    /// Bytes that are neither a compiled catalog nor UTF-8 JSONL.
    #[error("catalog is neither a compiled catalog nor UTF-8 text")]
    NotText,
}

impl Catalog {
    /// Reads a catalog in either format: compiled ([`Catalog::from_bytes`], when `bytes` start
    /// with [`CATALOG_MAGIC`]) or JSONL text ([`Catalog::from_jsonl`]).
    ///
    /// # Errors
    /// Those of the format read; [`CatalogError::NotText`] for bytes that are neither.
    pub fn load(bytes: &[u8]) -> Result<Catalog, CatalogError> {
        if is_compiled(bytes) {
            Catalog::from_bytes(bytes)
        } else {
            Catalog::from_jsonl(std::str::from_utf8(bytes).map_err(|_| CatalogError::NotText)?)
        }
    }

    /// Reads JSONL: one [`Product`] per non-blank line.
    ///
    /// # Errors
    /// The first bad line: [`CatalogError::Syntax`] for a malformed or misshapen line,
    /// [`CatalogError::Invalid`] for a duplicate or empty id, no name, a negative or non-finite
    /// price, or a URL that is not `http`/`https`.
    pub fn from_jsonl(text: &str) -> Result<Catalog, CatalogError> {
        let mut products: Vec<Product> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (i, row) in text.lines().enumerate() {
            let line = i + 1;
            if row.trim().is_empty() {
                continue;
            }
            let product: Product =
                serde_json::from_str(row).map_err(|e| CatalogError::Syntax { line, message: e.to_string() })?;
            let invalid = |field, message: &str| CatalogError::Invalid { line, field, message: message.to_owned() };
            if product.id.trim().is_empty() {
                return Err(invalid("id", "empty"));
            }
            if !ids.insert(product.id.clone()) {
                return Err(invalid("id", &format!("`{}` is used by an earlier product", product.id)));
            }
            if product.name.values().all(|n| n.trim().is_empty()) {
                return Err(invalid("name", "give a name in at least one locale"));
            }
            if !(product.price.amount.is_finite() && product.price.amount >= 0.0) {
                return Err(invalid("price.amount", "must be a number ≥ 0"));
            }
            if !(product.url.starts_with("https://") || product.url.starts_with("http://")) {
                return Err(invalid("url", "must be an http or https URL"));
            }
            products.push(product);
        }
        Ok(Catalog { products })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: &str = r#"{"id": "a", "name": {"en": "Tent"}, "category": "tents", "price": {"amount": 10, "currency": "EUR"}, "url": "https://x.example/a"}"#;

    #[test]
    fn reads_rows_and_names_the_bad_line_and_field() {
        let text = format!("{ROW}\n\n{}", ROW.replace(r#""a""#, r#""b""#));
        let catalog = Catalog::from_jsonl(&text).unwrap();
        assert_eq!(catalog.products.len(), 2);
        assert!(catalog.products[0].in_stock, "in stock unless it says otherwise");
        let dup = format!("{ROW}\n{ROW}");
        assert!(matches!(Catalog::from_jsonl(&dup), Err(CatalogError::Invalid { line: 2, field: "id", .. })));
        let bad_url = ROW.replace("https://x.example/a", "javascript:alert(1)");
        assert!(matches!(Catalog::from_jsonl(&bad_url), Err(CatalogError::Invalid { line: 1, field: "url", .. })));
        let negative = ROW.replace(r#""amount": 10"#, r#""amount": -1"#);
        assert!(matches!(Catalog::from_jsonl(&negative), Err(CatalogError::Invalid { field: "price.amount", .. })));
        match Catalog::from_jsonl(&format!("{ROW}\n{{\"id\": 3}}")) {
            Err(e @ CatalogError::Syntax { line: 2, .. }) => assert!(e.to_string().starts_with("catalog line 2:"), "{e}"),
            other => panic!("expected a syntax error on line 2, got {other:?}"),
        }
    }

    #[test]
    fn the_demo_catalog_round_trips_through_the_compiled_format() {
        let text = include_str!("../www/catalog/cumbre.jsonl");
        let catalog = Catalog::from_jsonl(text).unwrap();
        let bytes = catalog.to_bytes();
        assert!(bytes.starts_with(CATALOG_MAGIC) && bytes[4..6] == CATALOG_FORMAT.to_le_bytes());
        assert_eq!(Catalog::from_bytes(&bytes).unwrap(), catalog);
        assert_eq!(Catalog::load(&bytes).unwrap(), catalog, "load reads the compiled format");
        assert_eq!(Catalog::load(text.as_bytes()).unwrap(), catalog, "and JSONL");
        assert!(bytes.len() < text.len() * 2 / 3, "{} bytes compiled vs {} JSONL", bytes.len(), text.len());
    }

    #[test]
    fn attributes_read_in_the_shoppers_language() {
        let row = ROW[..ROW.len() - 1].to_owned()
            + r#", "attributes": {"season": ["winter", "Spring"], "material": {"en": "leather", "es": "piel"}, "brand": "Cumbre", "waterproof": true, "persons": 2}}"#;
        let p = &Catalog::from_jsonl(&row).unwrap().products[0];
        assert_eq!(p.attribute_text_in("season", "es-MX").as_deref(), Some("invierno, primavera"));
        assert_eq!(p.attribute_text_in("season", "ja").as_deref(), Some("winter, Spring"), "an unknown locale reads them as written");
        assert_eq!(p.attribute_text_in("material", "es").as_deref(), Some("piel"));
        assert_eq!(p.attribute_text_in("material", "fr").as_deref(), Some("leather"), "else English");
        assert_eq!(p.attribute_text_in("brand", "de").as_deref(), Some("Cumbre"));
        assert_eq!(p.attribute_text_in("waterproof", "ar").as_deref(), Some("✓"));
        assert_eq!(p.attribute_text_in("persons", "fr").as_deref(), Some("2"));
        assert_eq!(p.attribute_text_in("colour", "en"), None);
        assert_eq!(p.attribute_values("material"), ["leather", "piel"], "every locale's text is searchable");
    }

    #[test]
    fn odd_attribute_values_round_trip_and_bad_bytes_get_typed_errors() {
        let row = ROW[..ROW.len() - 1].to_owned()
            + r#", "attributes": {"n": 1.5, "big": -3, "mixed": [1, "a"], "nested": {"x": [true]}, "no": false}}"#;
        let catalog = Catalog::from_jsonl(&row).unwrap();
        let bytes = catalog.to_bytes();
        assert_eq!(Catalog::from_bytes(&bytes).unwrap(), catalog);
        assert!(matches!(Catalog::from_bytes(b"SVM\0\x04\x00"), Err(CatalogError::NotACatalog)));
        let mut newer = bytes.clone();
        newer[4..6].copy_from_slice(&(CATALOG_FORMAT + 1).to_le_bytes());
        match Catalog::from_bytes(&newer) {
            Err(e @ CatalogError::Format { found, expected: CATALOG_FORMAT }) => {
                assert_eq!(found, CATALOG_FORMAT + 1);
                assert!(e.to_string().contains("sottovoce build --catalog"), "{e}");
            }
            other => panic!("expected a format error, got {other:?}"),
        }
        assert!(matches!(Catalog::from_bytes(&bytes[..bytes.len() - 3]), Err(CatalogError::Corrupt(_))));
        assert!(matches!(Catalog::load(&[0xff, 0xfe]), Err(CatalogError::NotText)));
    }
}
