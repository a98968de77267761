//! The forward pass against the float32 numpy reference (scripts/encoder_reference.py) on the
//! sentences of tests/fixtures/reference.txt: same token ids, cosine ≥ 0.999 per sentence.
//! Needs the weights from `make encoder-weights` (or SOTTOVOCE_ENCODER_DIR).

use sottovoce_encoder::Encoder;
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    std::env::var_os("SOTTOVOCE_ENCODER_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/encoder/all-MiniLM-L6-v2")
    })
}

#[test]
fn matches_the_numpy_reference() {
    let dir = model_dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}; run `make encoder-weights` first", dir.join(name).display()))
    };
    let encoder = Encoder::new(&read("model.safetensors"), &read("tokenizer.json")).expect("encoder");
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/reference.json")).expect("fixture json");
    let cases = fixture.as_array().expect("array");
    assert!(cases.len() >= 5);
    for case in cases {
        let sentence = case["sentence"].as_str().expect("sentence");
        let ids: Vec<u32> =
            case["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().expect("id") as u32).collect();
        assert_eq!(encoder.tokenizer().encode(sentence), ids, "token ids of {sentence:?}");
        let want: Vec<f32> =
            case["embedding"].as_array().expect("embedding").iter().map(|v| v.as_f64().expect("f") as f32).collect();
        let got = encoder.embed(sentence);
        let cos: f32 = got.iter().zip(&want).map(|(a, b)| a * b).sum::<f32>()
            / (got.iter().map(|a| a * a).sum::<f32>().sqrt() * want.iter().map(|a| a * a).sum::<f32>().sqrt());
        assert!(cos >= 0.999, "{sentence:?}: cosine {cos}");
    }
}
