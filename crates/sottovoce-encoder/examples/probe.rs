//! A linear probe of the encoder on an intent dataset: embeds DIR/{train,val,test}.jsonl
//! (`{"text","intent"}` lines), fits a softmax regression on the embeddings alone (SGD, fixed
//! settings: 30 epochs, learning rate 0.5, seeded shuffle), and prints test accuracy on in-scope
//! rows, overall accuracy with `oos` rows rejected below a max-probability threshold chosen on
//! val (when val.jsonl exists), and the p50/p90 of the embedding time per message.
//!
//! Usage: cargo run --release -p sottovoce-encoder --example probe -- MODEL_DIR DATA_DIR [MAX_PER_INTENT]

use sottovoce_encoder::{Encoder, DIM};
use std::collections::BTreeMap;
use std::time::Instant;

fn rows(path: &std::path::Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("jsonl");
            (v["text"].as_str().expect("text").to_string(), v["intent"].as_str().expect("intent").to_string())
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (model, data) = (std::path::Path::new(&args[1]), std::path::Path::new(&args[2]));
    let cap: usize = args.get(3).map_or(usize::MAX, |s| s.parse().expect("cap"));
    let enc = Encoder::new(
        &std::fs::read(model.join("model.safetensors")).expect("weights"),
        &std::fs::read(model.join("tokenizer.json")).expect("tokenizer"),
    )
    .expect("encoder");
    let mut seen = BTreeMap::<String, usize>::new();
    let train: Vec<_> = rows(&data.join("train.jsonl"))
        .into_iter()
        .filter(|(_, i)| i != "oos")
        .filter(|(_, i)| {
            let c = seen.entry(i.clone()).or_default();
            *c += 1;
            *c <= cap
        })
        .collect();
    let (val, test) = (rows(&data.join("val.jsonl")), rows(&data.join("test.jsonl")));
    let labels: Vec<String> = seen.keys().cloned().collect();
    let index = |l: &str| labels.iter().position(|x| x == l);
    let mut times = Vec::new();
    let mut embed_all = |rs: &[(String, String)]| -> Vec<Vec<f32>> {
        rs.iter()
            .map(|(t, _)| {
                let s = Instant::now();
                let e = enc.embed(t);
                times.push(s.elapsed().as_secs_f64() * 1e3);
                e
            })
            .collect()
    };
    let (xtr, xva, xte) = (embed_all(&train), embed_all(&val), embed_all(&test));
    times.sort_by(f64::total_cmp);
    eprintln!(
        "embedded {} messages: p50 {:.2} ms, p90 {:.2} ms",
        times.len(),
        times[times.len() / 2],
        times[times.len() * 9 / 10]
    );
    let k = labels.len();
    let mut w = vec![0.0f32; k * (DIM + 1)];
    let ytr: Vec<usize> = train.iter().map(|(_, l)| index(l).expect("label")).collect();
    let mut order: Vec<usize> = (0..xtr.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let probs = |w: &[f32], x: &[f32]| -> Vec<f32> {
        let z: Vec<f32> = (0..k)
            .map(|c| {
                let r = &w[c * (DIM + 1)..(c + 1) * (DIM + 1)];
                r[DIM] + r[..DIM].iter().zip(x).map(|(a, b)| a * b).sum::<f32>()
            })
            .collect();
        let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f32 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    };
    for _ in 0..30 {
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for &i in &order {
            let p = probs(&w, &xtr[i]);
            for c in 0..k {
                let g = p[c] - if c == ytr[i] { 1.0 } else { 0.0 };
                let r = &mut w[c * (DIM + 1)..(c + 1) * (DIM + 1)];
                for (a, b) in r[..DIM].iter_mut().zip(&xtr[i]) {
                    *a -= 0.5 * g * b;
                }
                r[DIM] -= 0.5 * g;
            }
        }
    }
    let predict = |x: &[f32]| {
        let p = probs(&w, x);
        let (c, m) = p.iter().enumerate().fold((0, 0.0f32), |a, (c, &v)| if v > a.1 { (c, v) } else { a });
        (c, m)
    };
    let score = |xs: &[Vec<f32>], rs: &[(String, String)], t: f32| {
        let (mut ok_in, mut n_in, mut ok_all) = (0, 0, 0);
        for (x, (_, l)) in xs.iter().zip(rs) {
            let (c, m) = predict(x);
            let said = if m < t { "oos" } else { labels[c].as_str() };
            if l != "oos" {
                n_in += 1;
                ok_in += usize::from(labels[c] == *l);
            }
            ok_all += usize::from(said == l);
        }
        (100.0 * ok_in as f64 / n_in.max(1) as f64, 100.0 * ok_all as f64 / rs.len().max(1) as f64)
    };
    let best_t = if val.iter().any(|(_, l)| l == "oos") {
        (0..100).map(|i| i as f32 / 100.0).max_by(|a, b| score(&xva, &val, *a).1.total_cmp(&score(&xva, &val, *b).1)).unwrap_or(0.0)
    } else {
        0.0
    };
    let (inscope, overall) = score(&xte, &test, best_t);
    println!(
        "{}: train {} ({} intents), test {}: in-scope {inscope:.2} %, overall {overall:.2} % (threshold {best_t:.2} on val)",
        data.display(),
        train.len(),
        k,
        test.len()
    );
}
