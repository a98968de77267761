//! The owner's tools run as an owner runs them: the real `sottovoce` binary on fixture files,
//! through one helper ([`sottovoce`]). `init` → `build` → `test` in a temporary folder for
//! each template; `check` and `report` on the minimal template and on a definition made
//! confusable; `suggest` on `tests/fixtures/suggest/unmatched.jsonl`, whose lines say (field
//! `expect`) which group or existing intent each must land in.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the binary in `dir` with `args`; returns (success, stdout).
fn sottovoce(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sottovoce")).current_dir(dir).args(args).output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        eprintln!("sottovoce {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    (out.status.success(), stdout)
}

/// A new empty folder under the system's temporary one.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sottovoce-owner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn init_then_build_then_test_passes_for_every_template() {
    for template in ["minimal", "store"] {
        let dir = temp_dir(template);
        let here = std::env::temp_dir();
        assert!(sottovoce(&here, &["init", "--template", template, dir.to_str().unwrap()]).0, "{template}");
        assert!(sottovoce(&dir, &["build", "bot.json"]).0, "{template}: build");
        assert!(dir.join("bot.svm").exists());
        let mut stories: Vec<String> = std::fs::read_dir(dir.join("stories"))
            .unwrap()
            .map(|e| format!("stories/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        stories.sort();
        let mut args = vec!["test", "--bot", "bot.svm"];
        args.extend(stories.iter().map(String::as_str));
        let (ok, out) = sottovoce(&dir, &args);
        assert!(ok && out.contains(" passed, 0 failed"), "{template}: {out}");
        // A second init into the same folder refuses.
        assert!(!sottovoce(&here, &["init", "--template", template, dir.to_str().unwrap()]).0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn check_passes_a_clean_bot_and_reports_duplicates_and_confusable_intents() {
    let dir = temp_dir("check");
    sottovoce(&std::env::temp_dir(), &["init", "--template", "minimal", dir.to_str().unwrap()]);
    let (ok, out) = sottovoce(&dir, &["check", "bot.json", "--json", "--quiet", "--folds", "3"]);
    let findings: Value = serde_json::from_str(&out).unwrap();
    assert!(ok, "{out}");
    assert_eq!(findings["errors"], serde_json::json!([]));
    assert!(findings["cross_validation_accuracy"].as_f64().unwrap() > 0.5, "{out}");
    // Thin intents are warnings: four examples per locale, fewer than the default ten.
    assert!(findings["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("intent `greet` has 4 example(s) in en")));

    // store_hours taught with track_order's examples: a duplicate (an error) and a confusable pair.
    let mut bot: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("bot.json")).unwrap()).unwrap();
    let track = bot["intents"][1]["examples"]["en"].clone();
    bot["intents"][2]["examples"]["en"] = track;
    std::fs::write(dir.join("confused.json"), bot.to_string()).unwrap();
    let (ok, out) = sottovoce(&dir, &["check", "confused.json", "--json", "--quiet", "--folds", "3"]);
    assert!(!ok, "a duplicate across intents is an error");
    let findings: Value = serde_json::from_str(&out).unwrap();
    assert!(findings["errors"][0].as_str().unwrap().contains("is written under intents track_order, store_hours"), "{out}");
    // Reported among the confusable pairs (with four examples an intent, another pair can
    // tie with it on the count of confusions, as greet and cancel do since the idf weighting).
    let pairs = findings["confusable"].as_array().unwrap();
    let pair = pairs
        .iter()
        .find(|p| (p["a"].as_str(), p["b"].as_str()) == (Some("track_order"), Some("store_hours")))
        .unwrap_or_else(|| panic!("track_order and store_hours are not reported as confusable: {out}"));
    assert!(!pair["examples"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_writes_a_self_contained_page_with_escaped_text() {
    let dir = temp_dir("report");
    sottovoce(&std::env::temp_dir(), &["init", "--template", "minimal", dir.to_str().unwrap()]);
    let mut bot: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("bot.json")).unwrap()).unwrap();
    bot["intents"][2]["examples"]["en"].as_array_mut().unwrap().push("<b>open</b> & closed?".into());
    std::fs::write(dir.join("bot.json"), bot.to_string()).unwrap();
    std::fs::write(dir.join("heldout.jsonl"), "{\"text\": \"when do you open\", \"intent\": \"store_hours\"}\n{\"text\": \"what is the capital of peru\", \"intent\": \"oos\"}\n").unwrap();
    let (ok, _) = sottovoce(&dir, &["report", "bot.json", "--html", "report.html", "--heldout", "heldout.jsonl", "--folds", "3", "--quiet"]);
    assert!(ok);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for part in ["Confusion matrix", "Per intent", "<svg", "Misclassified examples", "Held out: heldout.jsonl"] {
        assert!(html.contains(part), "{part}");
    }
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="), "self-contained, no scripts");
    assert!(!html.contains("<b>open</b>"), "examples are escaped");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn suggest_groups_paraphrases_of_missing_intents_and_writes_a_json_patch() {
    let dir = temp_dir("suggest");
    sottovoce(&std::env::temp_dir(), &["init", "--template", "minimal", dir.to_str().unwrap()]);
    let fixture = root().join("tests/fixtures/suggest/unmatched.jsonl");
    let (ok, out) = sottovoce(&dir, &["suggest", "--bot", "bot.json", "--unmatched", fixture.to_str().unwrap(), "--json", "--patch", "patch.json"]);
    assert!(ok);
    let s: Value = serde_json::from_str(&out).unwrap();
    // Where each line landed: "intent:<name>" or "group:<candidate index>".
    let mut landed = std::collections::BTreeMap::new();
    for e in s["examples"].as_array().unwrap() {
        landed.insert(e["text"].as_str().unwrap().to_owned(), format!("intent:{}", e["intent"].as_str().unwrap()));
    }
    for (k, c) in s["candidates"].as_array().unwrap().iter().enumerate() {
        for u in c["utterances"].as_array().unwrap() {
            landed.insert(u["text"].as_str().unwrap().to_owned(), format!("group:{k}"));
        }
    }
    // expected group → the candidate its lines landed in
    let mut group_of: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for line in std::fs::read_to_string(&fixture).unwrap().lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let (text, expect) = (row["text"].as_str().unwrap(), row["expect"].as_str().unwrap());
        let got = landed.get(text).cloned().unwrap_or_else(|| "unplaced".into());
        if expect.starts_with("intent:") {
            assert_eq!(got, expect, "{text}\n{out}");
        } else {
            assert!(got.starts_with("group:"), "{text} is in no group\n{out}");
            let first = group_of.entry(expect.to_owned()).or_insert_with(|| got.clone());
            assert_eq!(*first, got, "{text}: its paraphrases landed elsewhere\n{out}");
        }
    }
    let mut candidates: Vec<&String> = group_of.values().collect();
    candidates.sort();
    candidates.dedup();
    assert_eq!(candidates.len(), group_of.len(), "two missing intents share a group\n{out}");
    // The patch appends the candidates as intents with a message to write in every locale.
    let patch: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("patch.json")).unwrap()).unwrap();
    let ops = patch.as_array().unwrap();
    assert_eq!(ops.iter().filter(|o| o["path"] == "/intents/-").count(), group_of.len());
    assert!(ops.iter().all(|o| o["op"] == "add"));
    let _ = std::fs::remove_dir_all(&dir);
}
