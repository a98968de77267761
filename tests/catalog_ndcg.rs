//! The recommender against plain BM25 on the demo shop's judged requests
//! (`tests/fixtures/catalog/`, issue 11 item 6): NDCG@3 on the dev and the test split, each
//! computed as `sottovoce eval --catalog` does (`sottovoce::catalog::metrics`). Every setting
//! of [`RankSettings::default`] is chosen on the dev split; the test split is only measured.
//! Requires the recommender to stay at least [`MIN_GAIN`] (the goal, 15 points) above
//! BM25 on each split (reached: dev +16.1, test +15.0). With
//! `CATALOG_MISSES=1` it prints the dev requests whose top three are not ideal (never the test
//! split's, which nothing is tuned on); with `RANK_SETTINGS='{…}'` it ranks with those
//! settings, for choosing them on dev.

use std::collections::HashMap;

use serde::Deserialize;
use sottovoce::catalog::metrics::{ndcg, Judgment, Query};
use sottovoce::{Catalog, RankSettings, Ranker};

/// How far above BM25 the recommender's NDCG@3 must be on each split.
const MIN_GAIN: f64 = 0.15;

const CATALOG: &str = include_str!("../www/catalog/cumbre.jsonl");
const SPLITS: &[(&str, &str, &str)] = &[
    ("dev", include_str!("fixtures/catalog/queries-dev.jsonl"), include_str!("fixtures/catalog/qrels-dev.jsonl")),
    ("test", include_str!("fixtures/catalog/queries-test.jsonl"), include_str!("fixtures/catalog/qrels-test.jsonl")),
];

fn rows<T: for<'de> Deserialize<'de>>(text: &str) -> Vec<T> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Mean NDCG@3 and NDCG@10 of `ranker` over the split's judged requests; prints the
/// imperfect ones.
fn ndcg3(ranker: &Ranker, queries: &str, qrels: &str, show: bool) -> (f64, f64) {
    let mut judged: HashMap<String, HashMap<String, u8>> = HashMap::new();
    for j in rows::<Judgment>(qrels) {
        judged.entry(j.query_id).or_default().insert(j.product_id, j.grade);
    }
    let products = &ranker.catalog().products;
    let (mut sum, mut sum10, mut n) = (0.0, 0.0, 0);
    for q in rows::<Query>(queries) {
        let Some(grades_of) = judged.get(&q.id) else { continue };
        let ranked = ranker.rank(&q.text, &q.locale);
        let grades: Vec<u8> = ranked.iter().take(10).map(|r| grades_of.get(&products[r.product].id).copied().unwrap_or(0)).collect();
        let mut ideal: Vec<u8> = grades_of.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let score = ndcg(&grades, &ideal, 3);
        if show && score < 0.999 {
            let top: Vec<String> = ranked.iter().take(3).map(|r| format!("{}({})", products[r.product].id, grades_of.get(&products[r.product].id).copied().unwrap_or(0))).collect();
            println!("{} {:.3} {:?} -> {}", q.id, score, q.text, top.join(" "));
        }
        sum += score;
        sum10 += ndcg(&grades, &ideal, 10);
        n += 1;
    }
    (sum / n as f64, sum10 / n as f64)
}

#[test]
fn the_recommender_beats_bm25_by_the_goal_on_both_splits() {
    let catalog = Catalog::from_jsonl(CATALOG).unwrap();
    // RANK_SETTINGS='{"k1": 1.2}' tries other settings (on dev), as `--rank-settings` does.
    let settings = std::env::var("RANK_SETTINGS").map_or_else(|_| RankSettings::default(), |json| serde_json::from_str(&json).unwrap());
    let ours = Ranker::new(catalog.clone(), settings);
    let bm25 = Ranker::new(catalog, RankSettings::bm25());
    let show = std::env::var_os("CATALOG_MISSES").is_some();
    for &(split, queries, qrels) in SPLITS {
        let ((a, a10), (b, b10)) = (ndcg3(&ours, queries, qrels, show && split == "dev"), ndcg3(&bm25, queries, qrels, false));
        println!("{split}: NDCG@3 {a:.4} vs BM25 {b:.4} ({:+.1} points); NDCG@10 {a10:.4} vs {b10:.4}", 100.0 * (a - b));
        assert!(a - b >= MIN_GAIN, "{split}: {a:.4} is not {MIN_GAIN} above BM25's {b:.4}");
    }
}
