//! The story driver: runs every story in `tests/fixtures/conversations/*.yaml` and
//! `tests/stories/*.yaml` against its bot with [`sottovoce::stories::run_story`] (the same
//! runner as `sottovoce test`), and reports each failing turn with what was expected and what
//! came out.
//!
//! Every story runs twice: with the bot trained from its definition, and with the same bot
//! after a round trip through the compiled model file (`sottovoce build`'s format), so both load
//! paths of the widget are covered by the same scripts. The format is documented in
//! `src/stories.rs`. `CONVERSATION=part-of-a-path cargo test --test conversations` runs a subset.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sottovoce::stories::{run_story, StoryFile};
use sottovoce::Bot;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The two bots for one definition: trained, and loaded back from its model file.
fn load_bots(path: &str) -> Result<[(&'static str, Bot); 2], String> {
    let bytes =
        std::fs::read(root().join(path)).map_err(|e| format!("cannot read bot {path}: {e}"))?;
    let trained = Bot::load(&bytes).map_err(|e| format!("bot {path}: {e}"))?;
    let from_model =
        Bot::from_model(&trained.to_model()).map_err(|e| format!("bot {path} (model): {e}"))?;
    Ok([("trained", trained), ("model", from_model)])
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "yaml"));
    files.sort();
    files
}

#[test]
fn stories() {
    let mut files = yaml_files(&root().join("tests/fixtures/conversations"));
    files.extend(yaml_files(&root().join("tests/stories")));
    assert!(files.len() > 1, "no story files found");

    let only = std::env::var("CONVERSATION").ok();
    let mut bots: HashMap<String, [(&'static str, Bot); 2]> = HashMap::new();
    let mut failures = Vec::new();
    let (mut stories, mut turns) = (0, 0);
    for path in &files {
        let file = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        if only.as_ref().is_some_and(|o| !file.contains(o.as_str())) {
            continue;
        }
        let parsed: StoryFile = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_yaml::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        for story in parsed.into_stories(&file) {
            let Some(bot_path) = story.bot.clone() else {
                failures.push(format!("{}: no `bot`", story.name));
                continue;
            };
            if !bots.contains_key(&bot_path) {
                match load_bots(&bot_path) {
                    Ok(pair) => {
                        bots.insert(bot_path.clone(), pair);
                    }
                    Err(e) => {
                        failures.push(format!("{}: {e}", story.name));
                        continue;
                    }
                }
            }
            for (label, bot) in &bots[&bot_path] {
                let report = run_story(bot, &story);
                if !report.passed() {
                    failures.push(format!("[{label}] {report}"));
                }
            }
            stories += 1;
            turns += story.turns.len();
        }
    }
    eprintln!("stories: {stories} in {} file(s), {turns} turn(s), each run trained and from the model file", files.len());
    assert!(
        failures.is_empty(),
        "{} failing stories:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
