//! `sottovoce build`: trains a bot definition and writes the compiled model file the widget
//! loads instead of training in the page, reporting sizes (raw and gzip) and both load times;
//! with `--catalog`, `main` runs [`crate::build_catalog`] instead.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use sottovoce::nlu::{SentenceEncoder, StaticVectors};
use sottovoce::Bot;

/// Arguments of `sottovoce build`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Bot definition (JSON, see schema/bot-definition.schema.json).
    #[arg(required_unless_present = "catalog")]
    definition: Option<PathBuf>,
    /// Model file to write; default: the definition's path with the extension `.svm` (with
    /// `--catalog`: the catalog's path with the extension `.svc`).
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Compile this product catalog (JSONL, see schema/catalog-row.schema.json) instead of a bot.
    #[arg(long, conflicts_with = "definition")]
    pub(crate) catalog: Option<PathBuf>,
    /// Also write the model in parts: the common file `<output stem>.common.svm` and one part
    /// per locale, `<output stem>.<locale>.svm`, so a page downloads only its visitor's
    /// locale (the widget fetches another part when the visitor switches); prints the bytes
    /// each locale costs.
    #[arg(long)]
    split: bool,
}

/// Size of `bytes` after gzip at the best level, as a web server would send it.
pub(crate) fn gzip_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().map(|v| v.len()).unwrap_or(0)
}

/// The word-vector table the widget ships (assets/vectors, Apache-2.0, see its NOTICE), built
/// into this binary for `build`, `chat`, `test` and `eval --vectors`.
pub(crate) const SHIPPED_VECTORS: &[u8] = include_bytes!("../../../assets/vectors/minilm-l6-d64.svvec");

/// [`SHIPPED_VECTORS`], parsed on first use, for definitions whose `word_vectors` names it.
///
/// # Errors
/// When the definition names a table this binary does not carry.
pub(crate) fn shipped_vectors(name: &str) -> anyhow::Result<Arc<StaticVectors>> {
    static TABLE: OnceLock<Arc<StaticVectors>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        Arc::new(StaticVectors::from_bytes(SHIPPED_VECTORS).expect("the built-in table reads"))
    });
    anyhow::ensure!(
        sottovoce::definition::word_vector_table_hash(name) == Some(table.hash()),
        "word_vectors: this sottovoce carries the table minilm-l6-d64, not `{name}`"
    );
    Ok(Arc::clone(table))
}

/// [`shipped_vectors`] as the dense-block source [`Bot`] trains and loads with.
///
/// # Errors
/// As [`shipped_vectors`].
pub(crate) fn shipped_encoder(name: &str) -> anyhow::Result<Arc<dyn SentenceEncoder>> {
    Ok(shipped_vectors(name)? as Arc<dyn SentenceEncoder>)
}

/// Loads a bot definition (JSON) or compiled model file, as [`Bot::load`], passing the built-in
/// word-vector table when the definition's `word_vectors` (or the model) asks for it.
///
/// # Errors
/// As [`Bot::load`].
pub(crate) fn load_bot(bytes: &[u8]) -> anyhow::Result<Bot> {
    let Some(name) = Bot::vectors_needed(bytes) else { return Ok(Bot::load(bytes)?) };
    let table = shipped_encoder(name)?;
    if sottovoce::model::is_model(bytes) {
        Ok(Bot::from_model_with_vectors(bytes, Some(&table))?)
    } else {
        let definition = sottovoce::BotDefinition::from_json(std::str::from_utf8(bytes)?)?;
        Ok(Bot::train_with_vectors(definition, Some(&table))?)
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Runs `sottovoce build`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let path = args.definition.as_ref().context("give a bot definition or --catalog")?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let started = Instant::now();
    let training = crate::progress::spinner(format!("training {}", path.display()));
    let bot = load_bot(text.as_bytes()).with_context(|| crate::error_report::InFile(path.clone()));
    training.finish_and_clear();
    let bot = bot?;
    let train_ms = ms(started);
    let model = bot.to_model();

    let started = Instant::now();
    load_bot(&model).with_context(|| {
        format!(
            "{}: the model just built does not load back",
            path.display()
        )
    })?;
    let load_ms = ms(started);

    let output = args
        .output
        .clone()
        .unwrap_or_else(|| path.with_extension("svm"));
    std::fs::write(&output, &model)
        .with_context(|| format!("cannot write {}", output.display()))?;

    let def = bot.definition();
    let examples: usize = def
        .intents
        .iter()
        .flat_map(|i| i.examples.values())
        .map(Vec::len)
        .sum();
    println!("built {} from {}", output.display(), display(path));
    println!(
        "  {} intents, {} locales ({}), {} examples, threshold {:.2}",
        def.intents.len(),
        def.locales.len(),
        def.locales.join(", "),
        examples,
        bot.threshold()
    );
    if let Some(name) = &def.word_vectors {
        println!("  word vectors: {name} (the widget fetches the table to load this model)");
    }
    let learned = bot.learned_slots();
    if !learned.is_empty() {
        println!("  learned slots (from [value](slot) markup, one tagger per locale): {}", learned.join(", "));
    }
    println!(
        "  train (from definition): {train_ms:.1} ms; load (from model file): {load_ms:.1} ms"
    );
    println!(
        "  definition {} bytes (gzip {}); model {} bytes (gzip {})",
        text.len(),
        gzip_len(text.as_bytes()),
        model.len(),
        gzip_len(&model)
    );
    if args.split {
        write_parts(&bot, &output)?;
    }
    Ok(())
}

/// Writes the model in parts beside `output` and prints what each locale's first load costs.
///
/// # Errors
/// When the parts cannot be written, or the bot cannot be split or its parts do not load back.
fn write_parts(bot: &Bot, output: &Path) -> anyhow::Result<()> {
    let (common, parts) = bot.to_model_parts()?;
    let stem = output.with_extension("");
    let path = |name: &str| PathBuf::from(format!("{}.{name}.svm", stem.display()));
    std::fs::write(path("common"), &common).with_context(|| format!("cannot write {}", path("common").display()))?;
    let common_gz = gzip_len(&common);
    println!("  in parts: {} {} bytes (gzip {common_gz}), then per locale:", path("common").display(), common.len());
    let mut whole = load_bot(&common)?;
    for (locale, bytes) in &parts {
        std::fs::write(path(locale), bytes).with_context(|| format!("cannot write {}", path(locale).display()))?;
        let gz = gzip_len(bytes);
        println!(
            "    {locale}: {} bytes (gzip {gz}); first load of the model for a visitor in {locale}: gzip {}",
            bytes.len(),
            common_gz + gz
        );
        whole.add_locale(bytes).with_context(|| format!("{}: the part just built does not load", path(locale).display()))?;
    }
    anyhow::ensure!(whole.to_model() == bot.to_model(), "the parts together do not give back the whole model");
    Ok(())
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sottovoce::model::ModelError;
    use sottovoce::BotError;

    const MINI: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/bots/mini.json"
    );

    #[test]
    fn writes_a_model_that_loads_and_answers_like_the_definition() {
        let out =
            std::env::temp_dir().join(format!("sottovoce-build-test-{}.svm", std::process::id()));
        run(Args {
            definition: Some(MINI.into()), catalog: None,
            output: Some(out.clone()),
            split: false,
        })
        .unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        assert!(sottovoce::model::is_model(&bytes));
        let from_model = Bot::load(&bytes).unwrap();
        let trained = Bot::load(&std::fs::read(MINI).unwrap()).unwrap();
        for text in ["where is my order", "quiero hablar con una persona", "zzz"] {
            assert_eq!(
                from_model.understand(text),
                trained.understand(text),
                "{text}"
            );
        }
        assert!(gzip_len(&bytes) < bytes.len());
    }

    #[test]
    fn a_definition_with_word_vectors_builds_with_the_built_in_table() {
        let definition = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/bots/mini-word-vectors.json");
        let out = std::env::temp_dir().join(format!("sottovoce-build-vectors-{}.svm", std::process::id()));
        run(Args { definition: Some(definition.into()), catalog: None, output: Some(out.clone()), split: false }).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        assert!(
            matches!(Bot::from_model(&bytes), Err(BotError::Model(ModelError::VectorsRequired { .. }))),
            "the model records the table"
        );
        let from_model = load_bot(&bytes).unwrap();
        let trained = load_bot(&std::fs::read(definition).unwrap()).unwrap();
        assert_eq!(from_model.definition().word_vectors.as_deref(), Some("minilm-l6-d64"));
        assert_eq!(from_model.understand("where is my order"), trained.understand("where is my order"));
    }

    #[test]
    fn errors_name_the_file() {
        let missing = PathBuf::from("no/such/bot.json");
        let err = run(Args {
            definition: Some(missing), catalog: None,
            output: None,
            split: false,
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("no/such/bot.json"), "{err:#}");
        let bad =
            std::env::temp_dir().join(format!("sottovoce-build-bad-{}.json", std::process::id()));
        std::fs::write(&bad, "{\"format\": 1, \"id\": \"x\"}").unwrap();
        let err = run(Args {
            definition: Some(bad.clone()), catalog: None,
            output: None,
            split: false,
        })
        .unwrap_err();
        let _ = std::fs::remove_file(&bad);
        let text = format!("{err:#}");
        assert!(
            text.contains(&bad.display().to_string()) && text.contains("missing field `name`"),
            "{text}"
        );
    }
}
