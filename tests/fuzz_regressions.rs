//! Crash inputs the fuzzer found, kept as fixtures: every file under
//! `tests/fixtures/fuzz/<target>/` runs through the same target body as `cargo fuzz run <target>`
//! (`tests/fuzz_harness/mod.rs`), so a fixed crash stays fixed under plain `cargo test`.
//! Add a crash with `cp fuzz/artifacts/<target>/crash-* tests/fixtures/fuzz/<target>/`.

mod fuzz_harness;

use std::path::Path;

#[test]
fn every_stored_fuzz_input_runs_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut ran = 0;
    for target in fuzz_harness::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            eprintln!("{target}: {}", file.display());
            fuzz_harness::run(target, &data);
            ran += 1;
        }
    }
    // Every target keeps at least one input (its seed) so each body runs here too.
    assert!(ran >= fuzz_harness::TARGETS.len(), "only {ran} stored inputs");
}
