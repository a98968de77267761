//! Browser binding of sottovoce's product recommender: a [`Catalog`] class that reads the
//! shop's catalog (compiled by `sottovoce build --catalog`, or JSONL) and ranks it for a visitor's request with the core's recommender
//! (`sottovoce::Ranker`). A module of its own (`pkg/sottovoce_catalog.js`), so a page downloads
//! the recommender's code with the catalog, the first time a turn recommends products, and the
//! chat's own bundle stays as small as before. Like the chat binding it only translates.

use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A product recommended for a request: the catalog's row with its name and description in the request's locale. `url` is http: or https:; `image` is as the catalog gives it (check it before use). */
export interface ProductCard {
  id: string;
  name: string;
  description: string;
  category: string;
  price: { amount: number; currency: string };
  url: string;
  image: string | null;
  in_stock: boolean;
}

/** What is known of the visitor: products named by id or name (any locale), e.g. from the profile's `viewed`, `in_cart` and `bought` facts and the product page being viewed. Matching products in their categories rank a little higher; ones already bought, lower. */
export interface RankContext {
  viewing?: string | null;
  viewed?: string[];
  in_cart?: string[];
  bought?: string[];
  /** The products shown for the request this one refines (a turn's `products.products`): "cheaper?" asks for less than the first costs. */
  shown?: string[];
  /** The visitor's sizes ("42", "m"; the profile's `size` facts): when the request names none, products in them rank a little higher. */
  sizes?: string[];
  /** What the visitor does ("climbing"; the profile's `activity` facts): products made for it rank a little higher. */
  interests?: string[];
  /** The visitor's budget in the catalog's currency (the profile's `budget` fact): when the request sets no price limit, dearer products rank lower. */
  budget?: number | null;
  /** What the bot read the request as naming (a turn's `recommend_terms`): searched with the request when the catalog has no text in its language. */
  terms?: string[];
}

/** Products side by side: the cards, and one row per attribute either has: its `key`, its `label` in the comparison's locale (well-known keys translated, others as written), and its `values` in the cards' order in that locale (null where a product lacks it; a bool is ✓ or ✗). */
export interface Comparison {
  products: ProductCard[];
  rows: { key: string; label: string; values: (string | null)[] }[];
}

"#;

#[wasm_bindgen]
extern "C" {
    /// `ProductCard[]` for JavaScript.
    #[wasm_bindgen(typescript_type = "ProductCard[]")]
    pub type ProductCardsJs;

    /// `RankContext` from JavaScript.
    #[wasm_bindgen(typescript_type = "RankContext")]
    pub type RankContextJs;

    /// `Comparison` for JavaScript.
    #[wasm_bindgen(typescript_type = "Comparison")]
    pub type ComparisonJs;
}

/// A product catalog (compiled `.svc` or the JSONL of `sottovoce::Catalog`), indexed once for
/// ranking.
#[wasm_bindgen]
pub struct Catalog {
    ranker: sottovoce::Ranker,
}

/// Products side by side.
#[derive(Serialize)]
struct Comparison<'a> {
    products: Vec<ProductCard<'a>>,
    rows: Vec<Row>,
}

/// One attribute of the compared products.
#[derive(Serialize)]
struct Row {
    key: String,
    label: String,
    values: Vec<Option<String>>,
}

/// A product as the widget shows it: the catalog row in one locale.
#[derive(Serialize)]
struct ProductCard<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    category: &'a str,
    price: &'a sottovoce::Price,
    url: &'a str,
    image: Option<&'a str>,
    in_stock: bool,
}

#[wasm_bindgen]
impl Catalog {
    /// Reads and indexes the catalog in `text` (JSONL, one product per line).
    ///
    /// # Errors
    /// The core's message naming the first bad line and field.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str) -> Result<Catalog, JsError> {
        Ok(Catalog::index(sottovoce::Catalog::from_jsonl(text)?))
    }

    /// Reads and indexes a catalog from the fetched bytes: the compiled format
    /// (`sottovoce build --catalog`, recognised by its magic bytes), else JSONL text.
    ///
    /// # Errors
    /// The core's message: another format version (rebuild it), a damaged file, or the first
    /// bad JSONL line and field.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<Catalog, JsError> {
        Ok(Catalog::index(sottovoce::Catalog::load(bytes)?))
    }

    fn index(catalog: sottovoce::Catalog) -> Catalog {
        Catalog { ranker: sottovoce::Ranker::new(catalog, sottovoce::RankSettings::default()) }
    }

    /// The `limit` products that best fit `request` (the visitor's words, e.g. a turn's
    /// `recommend`) in `locale`, best first; an out-of-stock product never comes before one in
    /// stock. `context` (optional): what is known of the visitor (`sottovoce::RankContext`).
    ///
    /// # Errors
    /// A `context` of another shape; cards that cannot be converted (a bug).
    pub fn rank(&self, request: &str, locale: &str, limit: usize, context: Option<RankContextJs>) -> Result<ProductCardsJs, JsError> {
        let context: sottovoce::RankContext = match context.map(JsValue::from).filter(|c| !c.is_undefined() && !c.is_null()) {
            Some(c) => serde_wasm_bindgen::from_value(c).map_err(|e| JsError::new(&format!("context: {e}")))?,
            None => sottovoce::RankContext::default(),
        };
        let cards: Vec<ProductCard<'_>> =
            self.ranker.best(request, locale, &context, limit).into_iter().map(|r| self.card(r.product, locale)).collect();
        to_js(&cards)
    }

    /// At most `limit` products that go with the product `id` ("what goes with it?"): the
    /// catalog's `related` ids first, then other categories for the same activities and
    /// seasons (`sottovoce::Ranker::related`), in `locale`.
    ///
    /// # Errors
    /// Cards that cannot be converted (a bug).
    pub fn related(&self, id: &str, locale: &str, limit: usize) -> Result<ProductCardsJs, JsError> {
        let cards: Vec<ProductCard<'_>> = self.ranker.related(id, limit).into_iter().map(|r| self.card(r.product, locale)).collect();
        to_js(&cards)
    }

    /// The products `ids` (those the catalog has, in that order) side by side in `locale`:
    /// their cards and one row per attribute either has.
    ///
    /// # Errors
    /// Values that cannot be converted (a bug).
    pub fn compare(&self, ids: Vec<String>, locale: &str) -> Result<ComparisonJs, JsError> {
        let products = &self.ranker.catalog().products;
        let found: Vec<usize> = ids.iter().filter_map(|id| products.iter().position(|p| &p.id == id)).collect();
        let mut keys: Vec<&String> = found.iter().flat_map(|&i| products[i].attributes.keys()).collect();
        keys.sort();
        keys.dedup();
        let rows = keys
            .into_iter()
            .map(|key| Row {
                key: key.clone(),
                label: sottovoce::attribute_label(key, locale),
                values: found.iter().map(|&i| products[i].attribute_text_in(key, locale)).collect(),
            })
            .collect();
        to_js(&Comparison { products: found.iter().map(|&i| self.card(i, locale)).collect(), rows })
    }

    /// The card of product `i` in `locale`'s language (else any).
    fn card(&self, i: usize, locale: &str) -> ProductCard<'_> {
        let lang = locale.split(['-', '_']).next().unwrap_or(locale);
        let p = &self.ranker.catalog().products[i];
        ProductCard {
            id: &p.id,
            name: p.name_in(lang),
            description: p.description.get(lang).or_else(|| p.description.values().next()).map_or("", String::as_str),
            category: &p.category,
            price: &p.price,
            url: &p.url,
            image: p.image.as_deref(),
            in_stock: p.in_stock,
        }
    }
}

/// Converts to a plain JavaScript value with serde-wasm-bindgen's JSON-compatible settings.
fn to_js<T: Serialize + ?Sized, J: JsCast>(value: &T) -> Result<J, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).map(JsCast::unchecked_into).map_err(|e| JsError::new(&e.to_string()))
}
