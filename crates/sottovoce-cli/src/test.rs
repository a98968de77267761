//! `sottovoce test`: runs story files (YAML) against a bot and reports each failing turn with
//! what was expected and what came out; exits non-zero when any story fails.
//!
//! The runner is the core's [`sottovoce::stories::run_story`], the same one
//! `tests/conversations.rs` uses; this module only reads files and prints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sottovoce::stories::{run_story, StoryFile};
use sottovoce::Bot;

/// Arguments of `sottovoce test`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Story files (YAML; format in the core's `stories` module docs).
    #[arg(required = true)]
    stories: Vec<PathBuf>,
    /// Bot definition (JSON) or model file for every story, instead of each file's `bot`
    /// (which is read relative to the current directory).
    #[arg(long)]
    bot: Option<PathBuf>,
}

fn load(path: &Path) -> anyhow::Result<Bot> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read bot {}", path.display()))?;
    crate::build::load_bot_at(path, &bytes).with_context(|| crate::error_report::InFile(path.to_owned()))
}

/// Runs `sottovoce test`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut bots: HashMap<PathBuf, Bot> = HashMap::new();
    let (mut passed, mut failed, mut turns) = (0usize, 0usize, 0usize);
    let progress = crate::progress::bar(args.stories.len() as u64, "stories".into());
    for file in &args.stories {
        progress.inc(1);
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
        let parsed: StoryFile =
            serde_yaml::from_str(&text).with_context(|| format!("{name}: not a story file"))?;
        let stories = parsed.into_stories(&name);
        if stories.is_empty() {
            bail!("{name}: no turns and no stories");
        }
        for story in stories {
            let bot_path = match (&args.bot, &story.bot) {
                (Some(p), _) => p.clone(),
                (None, Some(p)) => PathBuf::from(p),
                (None, None) => bail!("{}: no `bot` in the file; pass --bot", story.name),
            };
            if !bots.contains_key(&bot_path) {
                progress.set_message(format!("training {}", bot_path.display()));
                let bot = load(&bot_path);
                progress.set_message("stories");
                let bot = bot?;
                bots.insert(bot_path.clone(), bot);
            }
            let report = run_story(&bots[&bot_path], &story);
            turns += report.turns;
            if report.passed() {
                passed += 1;
            } else {
                failed += 1;
                progress.suspend(|| println!("FAIL {report}\n"));
            }
        }
    }
    progress.finish_and_clear();
    println!("{passed} passed, {failed} failed ({turns} turns)");
    if failed > 0 {
        // The report is printed; a plain non-zero exit, no error chain on top of it.
        std::process::exit(1);
    }
    Ok(())
}
