//! `sottovoce init`: scaffolds a working bot in a new folder from a template: the definition
//! (`bot.json`, with its `facts`), stories (`stories/*.yaml`, whose `bot` is that file) and a
//! README for the owner. `store` is the demo shop (six locales, forms, facts) with its facts
//! and return-form stories; `minimal` is a small two-locale bot (the test fixture `mini.json`
//! with its opening hours as a fact). The templates are built into the binary.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Arguments of `sottovoce init`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The template.
    #[arg(long, value_enum, default_value_t = Template::Store)]
    template: Template,
    /// The folder to create (it must not exist, or be empty).
    dir: PathBuf,
}

/// What a new bot starts from.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Template {
    /// The demo outdoor shop: 40 intents in six locales, return and tracking forms, facts.
    Store,
    /// Seven intents in English and Spanish, one form, one fact.
    Minimal,
}

const README: &str = include_str!("../templates/README.md");
const STORE_BOT: &str = include_str!("../../../www/bots/store.json");
const STORE_STORIES: &[(&str, &str)] = &[
    ("facts.yaml", include_str!("../../../tests/stories/facts.yaml")),
    ("return-form.yaml", include_str!("../../../tests/stories/return-form.yaml")),
];
const MINIMAL_BOT: &str = include_str!("../templates/minimal/bot.json");
const MINIMAL_STORIES: &str = include_str!("../templates/minimal/stories.yaml");

/// The files of `template`: (path in the folder, text).
fn files(template: Template) -> Vec<(String, String)> {
    // The store's stories name the repository's copy of the bot; in the new folder, `bot.json`.
    let relink = |text: &str| text.replace("bot: www/bots/store.json", "bot: bot.json");
    let mut files = vec![("README.md".to_owned(), README.to_owned())];
    match template {
        Template::Store => {
            files.push(("bot.json".to_owned(), STORE_BOT.to_owned()));
            files.extend(STORE_STORIES.iter().map(|(name, text)| (format!("stories/{name}"), relink(text))));
        }
        Template::Minimal => {
            files.push(("bot.json".to_owned(), MINIMAL_BOT.to_owned()));
            files.push(("stories/first.yaml".to_owned(), MINIMAL_STORIES.to_owned()));
        }
    }
    files
}

/// Writes `template` into `dir`, which must not exist or be empty.
///
/// # Errors
/// When `dir` holds files, or a file cannot be written.
fn scaffold(template: Template, dir: &Path) -> anyhow::Result<Vec<String>> {
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        bail!("{} is not empty: init writes only into a new or empty folder", dir.display());
    }
    let files = files(template);
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// Runs `sottovoce init`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let written = scaffold(args.template, &args.dir)?;
    println!("created {} ({:?} template):", args.dir.display(), args.template);
    for name in written {
        println!("  {name}");
    }
    println!("next: cd {} && sottovoce build bot.json && sottovoce test --bot bot.json stories/*.yaml", args.dir.display());
    Ok(())
}
