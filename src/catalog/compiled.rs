//! The compiled catalog file (`.svc`) that `sottovoce build --catalog` writes and the browser's
//! recommender loads without parsing JSON: [`CATALOG_MAGIC`], a little-endian `u16` format
//! version ([`CATALOG_FORMAT`]), then a postcard-encoded body.
//!
//! The body is laid out by column (all ids, then all names, …) rather than product by product,
//! so that gzip finds the repeats of each column close together; locales, categories,
//! currencies and attribute keys are stored once in tables and referred to by index. Attribute
//! values are typed (text, list of texts, integer, number, bool); anything else (a nested
//! object, a list holding numbers) keeps its JSON text, so every catalog the JSONL reader
//! accepts round-trips exactly. A file of another version is rejected with
//! [`CatalogError::Format`]: postcard is not self-describing, so an old body cannot be read as
//! a new one (rebuild it from the JSONL). Format 2 added the `related` column.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{intern, Catalog, CatalogError, Price, Product};

/// First bytes of every compiled catalog.
pub const CATALOG_MAGIC: &[u8; 4] = b"SVC\0";

/// The compiled catalog format version this build reads and writes.
pub const CATALOG_FORMAT: u16 = 2;

/// Returns true when `bytes` look like a compiled catalog (start with [`CATALOG_MAGIC`]).
pub fn is_compiled(bytes: &[u8]) -> bool {
    bytes.starts_with(CATALOG_MAGIC)
}

/// An attribute value as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Value {
    Text(String),
    Texts(Vec<String>),
    Int(i64),
    Number(f64),
    Bool(bool),
    /// Any other JSON value, as its JSON text.
    Json(String),
}

impl Value {
    fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::String(s) => Value::Text(s.clone()),
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap_or_default()),
            serde_json::Value::Number(n) if n.is_f64() => Value::Number(n.as_f64().unwrap_or_default()),
            serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => {
                Value::Texts(items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
            }
            other => Value::Json(other.to_string()),
        }
    }

    fn into_json(self) -> Result<serde_json::Value, CatalogError> {
        Ok(match self {
            Value::Text(s) => s.into(),
            Value::Texts(items) => items.into(),
            Value::Int(n) => n.into(),
            Value::Number(x) => serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into),
            Value::Bool(b) => b.into(),
            Value::Json(text) => serde_json::from_str(&text).map_err(|e| CatalogError::Corrupt(e.to_string()))?,
        })
    }
}

/// The postcard body: one vector per column, `n` products long, and the tables they index.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Body {
    locales: Vec<String>,
    categories: Vec<String>,
    currencies: Vec<String>,
    keys: Vec<String>,
    ids: Vec<String>,
    /// (locale index, text) per product.
    names: Vec<Vec<(u32, String)>>,
    descriptions: Vec<Vec<(u32, String)>>,
    category: Vec<u32>,
    /// Amount, currency index.
    prices: Vec<(f64, u32)>,
    urls: Vec<String>,
    images: Vec<Option<String>>,
    in_stock: Vec<bool>,
    /// (key index, value) per product.
    attributes: Vec<Vec<(u32, Value)>>,
    /// The owner's related products per product, by id (format 2).
    related: Vec<Vec<String>>,
}

impl Catalog {
    /// Encodes the catalog into the compiled format (see the module docs); [`Catalog::from_bytes`]
    /// gives it back equal.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Body::default();
        for p in &self.products {
            let texts = |map: &BTreeMap<String, String>, locales: &mut Vec<String>| {
                map.iter().map(|(l, t)| (intern(locales, l), t.clone())).collect::<Vec<_>>()
            };
            let names = texts(&p.name, &mut b.locales);
            let descriptions = texts(&p.description, &mut b.locales);
            b.names.push(names);
            b.descriptions.push(descriptions);
            b.ids.push(p.id.clone());
            b.category.push(intern(&mut b.categories, &p.category));
            b.prices.push((p.price.amount, intern(&mut b.currencies, &p.price.currency)));
            b.urls.push(p.url.clone());
            b.images.push(p.image.clone());
            b.in_stock.push(p.in_stock);
            let attributes = p.attributes.iter().map(|(k, v)| (intern(&mut b.keys, k), Value::from_json(v))).collect();
            b.attributes.push(attributes);
            b.related.push(p.related.clone());
        }
        let mut out = Vec::with_capacity(64 * self.products.len() + 6);
        out.extend_from_slice(CATALOG_MAGIC);
        out.extend_from_slice(&CATALOG_FORMAT.to_le_bytes());
        out.extend_from_slice(&postcard::to_allocvec(&b).expect("a catalog serializes"));
        out
    }

    /// Decodes a compiled catalog written by [`Catalog::to_bytes`].
    ///
    /// # Errors
    /// [`CatalogError::NotACatalog`] without the magic bytes, [`CatalogError::Format`] for
    /// another format version, [`CatalogError::Corrupt`] for a body that does not decode or
    /// whose columns disagree.
    pub fn from_bytes(bytes: &[u8]) -> Result<Catalog, CatalogError> {
        if !is_compiled(bytes) {
            return Err(CatalogError::NotACatalog);
        }
        let found = bytes.get(4..6).map(|v| u16::from_le_bytes([v[0], v[1]])).ok_or(CatalogError::NotACatalog)?;
        if found != CATALOG_FORMAT {
            return Err(CatalogError::Format { found, expected: CATALOG_FORMAT });
        }
        let b: Body = postcard::from_bytes(&bytes[6..]).map_err(|e| CatalogError::Corrupt(e.to_string()))?;
        let n = b.ids.len();
        let lens = [b.names.len(), b.descriptions.len(), b.category.len(), b.prices.len(), b.urls.len(), b.images.len(), b.in_stock.len(), b.attributes.len(), b.related.len()];
        if lens.iter().any(|&l| l != n) {
            return Err(CatalogError::Corrupt(format!("columns of unequal length: {n} ids, {lens:?}")));
        }
        let at = |table: &[String], i: u32| {
            table.get(i as usize).cloned().ok_or_else(|| CatalogError::Corrupt(format!("table index {i} out of range")))
        };
        let texts = |pairs: Vec<(u32, String)>| -> Result<BTreeMap<String, String>, CatalogError> {
            pairs.into_iter().map(|(l, t)| Ok((at(&b.locales, l)?, t))).collect()
        };
        let mut products = Vec::with_capacity(n);
        let mut names = b.names.into_iter();
        let mut descriptions = b.descriptions.into_iter();
        let mut urls = b.urls.into_iter();
        let mut images = b.images.into_iter();
        let mut attributes = b.attributes.into_iter();
        let mut related = b.related.into_iter();
        for (i, id) in b.ids.into_iter().enumerate() {
            let (amount, currency) = b.prices[i];
            let attributes = attributes.next().unwrap_or_default();
            products.push(Product {
                id,
                name: texts(names.next().unwrap_or_default())?,
                description: texts(descriptions.next().unwrap_or_default())?,
                category: at(&b.categories, b.category[i])?,
                price: Price { amount, currency: at(&b.currencies, currency)? },
                url: urls.next().unwrap_or_default(),
                image: images.next().flatten(),
                in_stock: b.in_stock[i],
                attributes: attributes
                    .into_iter()
                    .map(|(k, v)| Ok((at(&b.keys, k)?, v.into_json()?)))
                    .collect::<Result<_, CatalogError>>()?,
                related: related.next().unwrap_or_default(),
            });
        }
        Ok(Catalog { products })
    }
}
