//! The README's and ARCHITECTURE's relative links and images point at files that exist (the
//! screenshots of `make screenshots`, schemas, examples): a moved file breaks this test, not the
//! page a newcomer reads.

use std::path::Path;

/// `text` without its fenced code blocks (```) and code spans, whose `[..](..)` are examples,
/// not links.
fn prose(text: &str) -> String {
    let outside_fences = text.split("```").step_by(2).collect::<Vec<_>>().join("\n");
    outside_fences.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the Markdown links and images `[..](target)` in `text` that are paths in the
/// repository (not URLs or in-page anchors), without any `#fragment`.
fn relative_targets(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split('#').next().unwrap_or("");
            let external = target.contains("://") || target.starts_with("mailto:") || target.is_empty();
            (!external && !target.contains(' ')).then_some(target)
        })
        .collect()
}

#[test]
fn relative_links_in_the_docs_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for doc in ["README.md", "ARCHITECTURE.md"] {
        let text = prose(&std::fs::read_to_string(root.join(doc)).unwrap());
        for target in relative_targets(&text) {
            assert!(root.join(target).exists(), "{doc} links to {target}, which does not exist");
            checked += 1;
        }
    }
    assert!(checked >= 4, "the README's screenshots at least: {checked} links found");
}

#[test]
fn only_repository_paths_are_checked() {
    let text = "see [a](docs/a.png) and [b](https://x.example/b) and [c](#anchor) and ![d](img/d.png#x)";
    assert_eq!(relative_targets(text), ["docs/a.png", "img/d.png"]);
    assert_eq!(relative_targets(&prose("x\n```json\n[y](product)\n```\n[z](z.md) `[w](slot)`")), ["z.md"]);
}
