//! Ranking metrics over graded judgments, shared by `sottovoce eval --catalog` and the core's
//! judged-set test (`tests/catalog_ndcg.rs`), so both read the same rows and report the same figure.

/// A judged request (`queries.jsonl` row): `{"id", "locale", "text"}`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Query {
    /// The request's id, which judgments name.
    pub id: String,
    /// Its locale (`en`, `es`).
    pub locale: String,
    /// The shopper's words.
    pub text: String,
}

/// One judgment (`qrels.jsonl` row): `{"query_id", "product_id", "grade"}`, grade 2 = exactly
/// what was asked, 1 = acceptable; a product not judged is 0.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Judgment {
    /// The request.
    pub query_id: String,
    /// The product.
    pub product_id: String,
    /// 0, 1 or 2.
    pub grade: u8,
}

/// NDCG@k (Järvelin & Kekäläinen, 2002) of `grades`, the judged grades of the products in
/// ranked order (0 for an unjudged product), against `ideal`, every judged grade sorted best
/// first: DCG with gain 2^grade − 1 and discount log2(rank + 1) over the first `k`, divided by
/// the ideal order's DCG. In [0, 1]; 0 when nothing is judged relevant.
pub fn ndcg(grades: &[u8], ideal: &[u8], k: usize) -> f64 {
    let dcg = |g: &[u8]| -> f64 {
        g.iter().take(k).enumerate().map(|(i, &g)| (2f64.powi(i32::from(g)) - 1.0) / ((i + 2) as f64).log2()).sum()
    };
    let best = dcg(ideal);
    if best == 0.0 {
        0.0
    } else {
        dcg(grades) / best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        assert_eq!(ndcg(&[2, 1, 0], &[2, 1], 3), 1.0);
        let swapped = ndcg(&[1, 2, 0], &[2, 1], 3);
        // (1 + 3/log2 3) / (3 + 1/log2 3)
        let expected = (1.0 + 3.0 / 3f64.log2()) / (3.0 + 1.0 / 3f64.log2());
        assert!((swapped - expected).abs() < 1e-12, "{swapped}");
        assert_eq!(ndcg(&[0, 0, 0], &[2], 3), 0.0);
    }
}
