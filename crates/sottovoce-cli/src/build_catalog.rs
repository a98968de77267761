//! `sottovoce build --catalog`: compiles a product catalog (JSONL) into the compact versioned
//! file the browser's recommender loads (`sottovoce::Catalog::to_bytes`, `.svc`), reporting
//! products, sizes (raw and gzip) and the time to load and index it; and the seeded synthetic
//! catalogs (`synthetic:N[:SEED]`) used to measure size and latency at scale.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use sottovoce::{Catalog, RankSettings, Ranker};

use crate::gzip::gzip_len;

/// Reads a catalog named on the command line: `synthetic:N` or `synthetic:N:SEED` (a generated
/// catalog of N products, [`synthetic`]), else a file, compiled (`.svc`) or JSONL.
///
/// # Errors
/// An unreadable file, a bad spec, or the catalog's own error (line and field), with the path.
pub(crate) fn read_catalog(spec: &Path) -> anyhow::Result<Catalog> {
    if let Some(rest) = spec.to_str().and_then(|s| s.strip_prefix("synthetic:")) {
        let mut parts = rest.split(':');
        let n = parts.next().and_then(|n| n.parse().ok()).context("synthetic:N[:SEED] needs a product count")?;
        let seed = match parts.next() {
            Some(s) => s.parse().context("synthetic:N:SEED needs a number as seed")?,
            None => 1,
        };
        return Ok(synthetic(n, seed));
    }
    let bytes = std::fs::read(spec).with_context(|| format!("cannot read {}", spec.display()))?;
    Catalog::load(&bytes).with_context(|| spec.display().to_string())
}

/// Runs `sottovoce build --catalog SPEC [-o OUT]`.
///
/// # Errors
/// As [`read_catalog`]; the output cannot be written; the compiled file does not read back equal.
pub(crate) fn run(spec: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let catalog = read_catalog(spec)?;
    let bytes = catalog.to_bytes();
    let started = Instant::now();
    let back = Catalog::from_bytes(&bytes).context("the compiled catalog does not read back")?;
    let decode_ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(back == catalog, "the compiled catalog reads back different (a bug)");
    let started = Instant::now();
    let ranker = Ranker::new(back, RankSettings::default());
    let index_ms = started.elapsed().as_secs_f64() * 1000.0;
    let output: PathBuf = match output {
        Some(o) => o.to_owned(),
        None if spec.exists() => spec.with_extension("svc"),
        None => anyhow::bail!("give -o for a synthetic catalog"),
    };
    std::fs::write(&output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    println!("built {} from {}", output.display(), spec.display());
    println!("  {} products, format {}", ranker.catalog().products.len(), sottovoce::catalog::CATALOG_FORMAT);
    println!("  compiled {} bytes (gzip {})", bytes.len(), gzip_len(&bytes));
    println!("  load (decode) {decode_ms:.1} ms, index {index_ms:.1} ms (native)");
    Ok(())
}

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", 2014).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Category slug, English and Spanish nouns, price range in EUR, clothing-like sizes or shoe sizes.
const CATEGORIES: &[(&str, &str, &str, u32, u32, &str)] = &[
    ("hiking-boots", "hiking boots", "botas de montaña", 69, 259, "shoe"),
    ("trail-shoes", "trail shoes", "zapatillas de trail", 49, 179, "shoe"),
    ("rain-jackets", "rain jacket", "chaqueta impermeable", 49, 379, "wear"),
    ("insulated-jackets", "down jacket", "chaqueta de plumas", 79, 349, "wear"),
    ("fleeces", "fleece", "forro polar", 29, 99, "wear"),
    ("hiking-pants", "hiking trousers", "pantalón de montaña", 35, 119, "wear"),
    ("base-layers", "base layer top", "camiseta térmica", 19, 79, "wear"),
    ("socks", "hiking socks", "calcetines de montaña", 9, 29, "none"),
    ("gloves", "gloves", "guantes", 15, 89, "wear"),
    ("hats", "beanie", "gorro", 12, 39, "none"),
    ("daypacks", "daypack", "mochila de día", 29, 159, "none"),
    ("backpacks", "trekking backpack", "mochila de trekking", 99, 329, "none"),
    ("tents", "tent", "tienda de campaña", 89, 699, "none"),
    ("sleeping-bags", "sleeping bag", "saco de dormir", 39, 499, "none"),
    ("sleeping-mats", "sleeping mat", "esterilla", 19, 199, "none"),
    ("stoves", "camping stove", "hornillo", 29, 189, "none"),
    ("headlamps", "headlamp", "linterna frontal", 15, 99, "none"),
    ("water-bottles", "water bottle", "botella", 9, 45, "none"),
    ("trekking-poles", "trekking poles", "bastones de trekking", 35, 149, "none"),
    ("helmets", "climbing helmet", "casco de escalada", 39, 119, "none"),
];
const SYLLABLES: &[&str] = &["al", "ba", "cor", "del", "es", "fa", "gra", "hu", "is", "ja", "ka", "lo", "mar", "ne", "or", "pi", "qui", "ro", "sa", "te", "u", "va", "xe", "ya", "zor"];
const COLOURS: &[(&str, &str)] = &[("black", "negro"), ("blue", "azul"), ("red", "rojo"), ("green", "verde"), ("grey", "gris"), ("orange", "naranja"), ("yellow", "amarillo"), ("brown", "marrón"), ("purple", "morado")];
const GENDERS: &[(&str, &str, &str)] = &[("men", "men's", "hombre"), ("women", "women's", "mujer"), ("unisex", "unisex", "unisex"), ("kids", "kids'", "niños")];
const SEASONS: &[&str] = &["spring", "summer", "autumn", "winter"];
const ACTIVITIES: &[&str] = &["hiking", "trekking", "trail-running", "camping", "climbing", "snow", "travel", "everyday"];
const MATERIALS: &[(&str, &str)] = &[("recycled polyester", "poliéster reciclado"), ("merino wool", "lana merino"), ("nylon ripstop", "nailon ripstop"), ("leather", "piel"), ("aluminium", "aluminio"), ("down", "plumón")];
const EN_USES: &[&str] = &["long days on rocky trails", "wet weekends in the hills", "fast and light summer routes", "cold mornings at camp", "multi-day treks with a heavy pack", "everyday walks and travel"];
const ES_USES: &[&str] = &["largas jornadas por senderos pedregosos", "fines de semana de lluvia en el monte", "rutas rápidas y ligeras en verano", "mañanas frías en el campamento", "travesías de varios días con mochila pesada", "paseos diarios y viajes"];
const EN_TRAITS: &[&str] = &["light and packable", "tough and easy to repair", "warm without bulk", "breathable on steep climbs", "comfortable from day one", "simple and good value"];
const ES_TRAITS: &[&str] = &["ligero y compacto", "resistente y fácil de reparar", "abriga sin abultar", "transpirable en las subidas", "cómodo desde el primer día", "sencillo y con buena relación calidad-precio"];

/// A catalog of `n` believable outdoor products in English and Spanish, the same for the same
/// `(n, seed)`: 20 categories with their price ranges, made-up model names, gendered and kids'
/// versions, colours, sizes, seasons and activities, waterproof flags, two-sentence
/// descriptions per locale, and about 8% out of stock.
pub(crate) fn synthetic(n: usize, seed: u64) -> Catalog {
    let mut rng = Rng(seed);
    let mut lines = String::with_capacity(n * 900);
    for i in 0..n {
        let &(slug, en_noun, es_noun, lo, hi, sizing) = rng.pick(CATEGORIES);
        let syllables = 2 + rng.below(2);
        let model = capitalise(&(0..syllables).map(|_| *rng.pick(SYLLABLES)).collect::<String>());
        let &(gender, en_who, es_who) = rng.pick(GENDERS);
        let waterproof = rng.chance(35);
        let colours: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(COLOURS).0).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let (en_colour, es_colour) = COLOURS.iter().find(|c| c.0 == colours[0]).copied().unwrap_or(("black", "negro"));
        let &(en_mat, es_mat) = rng.pick(MATERIALS);
        let use_i = rng.below(EN_USES.len());
        let trait_i = rng.below(EN_TRAITS.len());
        let kids = gender == "kids";
        let price = (lo + rng.below((hi - lo + 1) as usize) as u32) as f64 * if kids { 0.6 } else { 1.0 };
        let price = (price.round() - 0.01).max(1.0);
        let sizes: Vec<String> = match sizing {
            "shoe" if kids => (28..=36).map(|s| s.to_string()).collect(),
            "shoe" => { let s = 36 + rng.below(4); (s..s + 8 + rng.below(3)).map(|s| s.to_string()).collect() }
            "wear" if kids => ["4Y", "6Y", "8Y", "10Y", "12Y", "14Y"].iter().map(|s| s.to_string()).collect(),
            "wear" => ["XS", "S", "M", "L", "XL", "XXL"][rng.below(2)..5 + rng.below(2)].iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        };
        let seasons: Vec<&str> = SEASONS.iter().copied().filter(|_| rng.chance(55)).collect();
        let activities: Vec<&str> = (0..1 + rng.below(2)).map(|_| *rng.pick(ACTIVITIES)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let id = format!("syn-{slug}-{i:05}");
        let wp_en = if waterproof { " Waterproof, with taped seams." } else { "" };
        let wp_es = if waterproof { " Impermeable, con costuras selladas." } else { "" };
        let mut attributes = serde_json::json!({
            "gender": gender, "colour": colours, "season": seasons, "activity": activities,
            "material": en_mat, "weight_g": 80 + rng.below(1500), "brand": "Synthetic",
        });
        if waterproof || rng.chance(20) {
            attributes["waterproof"] = waterproof.into();
        }
        if !sizes.is_empty() {
            attributes["sizes"] = sizes.into();
        }
        let row = serde_json::json!({
            "id": id,
            "name": {"en": format!("{model} {en_noun} ({en_who}, {en_colour})"), "es": format!("{es_noun} {model} ({es_who}, {es_colour})")},
            "description": {
                "en": format!("A {en_noun} in {en_mat} for {}: {}.{wp_en}", EN_USES[use_i], EN_TRAITS[trait_i]),
                "es": format!("{} de {es_mat} para {}: {}.{wp_es}", capitalise(es_noun), ES_USES[use_i], ES_TRAITS[trait_i]),
            },
            "category": slug,
            "price": {"amount": price, "currency": "EUR"},
            "url": format!("https://shop.example/p/{id}"),
            "image": format!("/img/{slug}.svg"),
            "in_stock": !rng.chance(8),
            "attributes": attributes,
        });
        lines.push_str(&row.to_string());
        lines.push('\n');
    }
    Catalog::from_jsonl(&lines).expect("the synthetic catalog is valid")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_synthetic_products_compile_under_one_megabyte_gzip_the_same_every_time() {
        let catalog = synthetic(10_000, 1);
        assert_eq!(catalog.products.len(), 10_000);
        let bytes = catalog.to_bytes();
        assert_eq!(bytes, synthetic(10_000, 1).to_bytes(), "deterministic");
        assert_ne!(bytes, synthetic(10_000, 2).to_bytes(), "the seed matters");
        let gz = gzip_len(&bytes);
        assert!(gz <= 1_000_000, "{gz} bytes gzip");
        let ranker = Ranker::new(Catalog::from_bytes(&bytes).unwrap(), RankSettings::default());
        let best = ranker.rank("waterproof hiking boots for women under 150 euros", "en");
        let p = &ranker.catalog().products[best[0].product];
        assert_eq!((p.category.as_str(), p.attribute_values("gender")[0].as_str()), ("hiking-boots", "women"), "{p:?}");
        assert!(p.price.amount < 150.0 && p.attribute_true("waterproof"), "{p:?}");
    }

    #[test]
    fn build_writes_a_compiled_catalog_and_errors_name_the_line() {
        let out = std::env::temp_dir().join(format!("sottovoce-catalog-{}.svc", std::process::id()));
        let demo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/catalog/cumbre.jsonl"));
        run(demo, Some(&out)).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        assert_eq!(Catalog::from_bytes(&bytes).unwrap(), read_catalog(demo).unwrap());
        let bad = std::env::temp_dir().join(format!("sottovoce-catalog-bad-{}.jsonl", std::process::id()));
        std::fs::write(&bad, "\n{\"id\": \"a\"}\n").unwrap();
        let err = format!("{:#}", run(&bad, None).unwrap_err());
        let _ = std::fs::remove_file(&bad);
        assert!(err.contains(&bad.display().to_string()) && err.contains("line 2"), "{err}");
    }
}
