//! `sottovoce eval --catalog`: rank a catalog for judged requests and report NDCG, precision,
//! MRR and latency, for the recommender and for plain BM25 over the same product text.
//!
//! Formats (issue 11): the catalog is the core's JSONL ([`sottovoce::catalog`]); requests are
//! `{"id", "locale", "text"}` rows; judgments `{"query_id", "product_id", "grade"}` rows with 2
//! = exactly what was asked, 1 = acceptable, and every product not listed 0. Metrics, per
//! request, averaged over the requests with at least one judged product:
//! - `ndcg_at_k`: DCG over the first k products with gain 2^grade − 1 and discount
//!   log2(rank + 1), divided by the DCG of the ideal order of the judged grades (Järvelin &
//!   Kekäläinen, 2002);
//! - `precision_at_3`: share of the first three products with grade ≥ 1;
//! - `mrr`: 1 / rank of the first grade-2 product (0 when a request has none);
//! - `latency_us_p50`, `latency_us_p99`: one `rank` call, native, in µs.
//!
//! The catalog may also be compiled (`.svc`) or `synthetic:N[:SEED]` (see
//! [`crate::build_catalog::read_catalog`]); without `--qrels` only latency is reported, which is
//! how a 10,000-product synthetic catalog is timed with the demo's requests.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Deserialize;
use sottovoce::catalog::rank::{RankSettings, Ranker};
use sottovoce::catalog::metrics::{ndcg, Judgment, Query};
use sottovoce::catalog::Catalog;

/// The catalog arguments of `sottovoce eval`.
#[derive(clap::Args)]
pub(crate) struct CatalogArgs {
    /// Product catalog (JSONL, compiled `.svc`, or `synthetic:N[:SEED]`): evaluate
    /// recommendations instead of intents.
    #[arg(long, value_name = "CATALOG.jsonl", requires = "queries")]
    pub(crate) catalog: Option<PathBuf>,
    /// Requests (JSONL): `{"id", "locale", "text"}` per line.
    #[arg(long, value_name = "QUERIES.jsonl")]
    queries: Option<PathBuf>,
    /// Judgments (JSONL): `{"query_id", "product_id", "grade"}` per line, grade 1 or 2;
    /// without them, only latency is measured.
    #[arg(long, value_name = "QRELS.jsonl")]
    qrels: Option<PathBuf>,
    /// The recommender's settings as JSON, each field overriding the default (for choosing
    /// them on dev requests), e.g. `{"category_prior": 0.5}`.
    #[arg(long, value_name = "JSON")]
    rank_settings: Option<String>,
}

/// Reads JSONL rows of `T`, naming the file and line of a bad one.
fn read_rows<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1)))
        .collect()
}

/// The figures of one ranker over a set of requests.
#[derive(Default, Clone)]
struct Figures {
    n: usize,
    ndcg3: f64,
    ndcg10: f64,
    p3: f64,
    mrr: f64,
    latencies_us: Vec<f64>,
}

impl Figures {
    fn add(&mut self, grades: &[u8], ideal: &[u8], us: f64) {
        self.n += 1;
        self.ndcg3 += ndcg(grades, ideal, 3);
        self.ndcg10 += ndcg(grades, ideal, 10);
        self.p3 += grades.iter().take(3).filter(|&&g| g >= 1).count() as f64 / 3.0;
        self.mrr += grades.iter().position(|&g| g == 2).map_or(0.0, |r| 1.0 / (r + 1) as f64);
        self.latencies_us.push(us);
    }

    fn json(&self) -> serde_json::Value {
        let n = self.n.max(1) as f64;
        let mut l = self.latencies_us.clone();
        l.sort_by(f64::total_cmp);
        let pct = |p: f64| l.get(((l.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
        serde_json::json!({
            "queries": self.n,
            "ndcg_at_3": round(self.ndcg3 / n),
            "ndcg_at_10": round(self.ndcg10 / n),
            "precision_at_3": round(self.p3 / n),
            "mrr": round(self.mrr / n),
            "latency_us_p50": round(pct(0.5)),
            "latency_us_p99": round(pct(0.99)),
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Runs the catalog evaluation and prints a table; with `json`, writes the figures there.
pub(crate) fn run(args: &CatalogArgs, json: Option<&Path>) -> anyhow::Result<()> {
    let (Some(catalog_path), Some(queries_path)) = (&args.catalog, &args.queries) else {
        bail!("--catalog needs --queries");
    };
    let catalog: Catalog = crate::build_catalog::read_catalog(catalog_path)?;
    let queries: Vec<Query> = read_rows(queries_path)?;
    let latency_only = args.qrels.is_none();
    let qrels_path = args.qrels.clone().unwrap_or_default();
    let judgments: Vec<Judgment> = if latency_only { Vec::new() } else { read_rows(&qrels_path)? };
    let ids: HashMap<&str, usize> = catalog.products.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
    let mut qrels: HashMap<&str, HashMap<usize, u8>> = HashMap::new();
    for (i, j) in judgments.iter().enumerate() {
        let Some(&p) = ids.get(j.product_id.as_str()) else {
            bail!("{}:{}: product `{}` is not in the catalog", qrels_path.display(), i + 1, j.product_id);
        };
        if j.grade > 2 {
            bail!("{}:{}: grade {} (grades are 0, 1 or 2)", qrels_path.display(), i + 1, j.grade);
        }
        qrels.entry(j.query_id.as_str()).or_default().insert(p, j.grade);
    }

    let settings = match &args.rank_settings {
        Some(json) => serde_json::from_str(json).context("--rank-settings")?,
        None => RankSettings::default(),
    };
    let rankers = [("sottovoce", settings), ("bm25", RankSettings::bm25())];
    let mut report = serde_json::Map::new();
    let mut table = Vec::new();
    for (name, settings) in rankers {
        let ranker = Ranker::new(catalog.clone(), settings);
        let mut all = Figures::default();
        let mut per_locale: BTreeMap<String, Figures> = BTreeMap::new();
        for q in &queries {
            let unjudged = HashMap::new();
            let judged = match qrels.get(q.id.as_str()).filter(|j| j.values().any(|&g| g > 0)) {
                Some(judged) => judged,
                None if latency_only => &unjudged,
                None => continue,
            };
            let started = Instant::now();
            let ranked = ranker.rank(&q.text, &q.locale);
            let us = started.elapsed().as_secs_f64() * 1e6;
            let grades: Vec<u8> = ranked.iter().take(10).map(|r| judged.get(&r.product).copied().unwrap_or(0)).collect();
            let mut ideal: Vec<u8> = judged.values().copied().collect();
            ideal.sort_unstable_by(|a, b| b.cmp(a));
            all.add(&grades, &ideal, us);
            per_locale.entry(q.locale.clone()).or_default().add(&grades, &ideal, us);
        }
        if all.n == 0 {
            bail!("{}: no request has a judged product in {}", queries_path.display(), qrels_path.display());
        }
        let json_of = |f: &Figures| {
            let mut v = f.json();
            if latency_only {
                // Without judgments the quality figures mean nothing: latency only.
                for key in ["ndcg_at_3", "ndcg_at_10", "precision_at_3", "mrr"] {
                    v.as_object_mut().map(|o| o.remove(key));
                }
            }
            v
        };
        let mut figures = json_of(&all);
        let locales: serde_json::Map<String, serde_json::Value> = per_locale.iter().map(|(l, f)| (l.clone(), json_of(f))).collect();
        figures["per_locale"] = serde_json::Value::Object(locales);
        table.push((name, json_of(&all), per_locale.iter().map(|(l, f)| (l.clone(), json_of(f))).collect::<Vec<_>>()));
        report.insert(name.to_owned(), figures);
    }

    println!(
        "sottovoce eval --catalog: {} ({} products), {} requests, {} judgments",
        catalog_path.display(),
        catalog.products.len(),
        queries.len(),
        judgments.len()
    );
    println!("{:<12} {:<7} {:>7} {:>9} {:>10} {:>8} {:>8} {:>9} {:>9}", "ranker", "locale", "queries", "NDCG@3", "NDCG@10", "P@3", "MRR", "p50 µs", "p99 µs");
    for (name, all, locales) in &table {
        for (locale, f) in std::iter::once(("all".to_owned(), all.clone())).chain(locales.iter().cloned()) {
            println!(
                "{:<12} {:<7} {:>7} {:>9.4} {:>10.4} {:>8.4} {:>8.4} {:>9.1} {:>9.1}",
                name, locale, f["queries"], f["ndcg_at_3"].as_f64().unwrap_or(f64::NAN), f["ndcg_at_10"].as_f64().unwrap_or(f64::NAN),
                f["precision_at_3"].as_f64().unwrap_or(f64::NAN), f["mrr"].as_f64().unwrap_or(f64::NAN),
                f["latency_us_p50"].as_f64().unwrap_or(0.0), f["latency_us_p99"].as_f64().unwrap_or(0.0)
            );
        }
    }
    if let Some(out) = json {
        // The recommender's figures at the top level (the keys), BM25 beside them.
        let mut top = report["sottovoce"].as_object().cloned().unwrap_or_default();
        top.insert("catalog".into(), catalog_path.display().to_string().into());
        top.insert("requests".into(), queries_path.display().to_string().into());
        top.insert("bm25".into(), report["bm25"].clone());
        std::fs::write(out, serde_json::to_string_pretty(&top)? + "\n").with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
