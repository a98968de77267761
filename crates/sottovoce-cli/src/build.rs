//! `sottovoce build`: trains a bot definition and writes the compiled model file the widget
//! loads instead of training in the page, reporting sizes (raw and gzip) and both load times;
//! with `--catalog`, `main` runs [`crate::build_catalog`] instead.

use std::path::{Path, PathBuf};
use std::time::Instant;

use std::sync::{Arc, OnceLock};

use anyhow::Context;

use crate::gzip::gzip_len;
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
    /// For a definition whose `word_vectors` is `all-minilm-l6-v2` (the accuracy tier): the
    /// directory of the encoder's `model.safetensors` and `tokenizer.json` (`make
    /// encoder-weights` puts them in `target/encoder/all-MiniLM-L6-v2`). Writes beside the model
    /// the bot's copy of the encoder, `<output stem>.sven` (int8 weights, the vocabulary pruned
    /// to the bot's examples), which the widget downloads once and keeps in the Cache API, and
    /// trains with that copy. Embeddings are cached in the directory.
    #[arg(long, value_name = "DIR")]
    encoder: Option<PathBuf>,
    /// Threads that embed the examples with `--encoder` (default: the machine's cores).
    #[arg(long, value_name = "N", requires = "encoder")]
    threads: Option<usize>,
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
    load_bot_with(bytes, None)
}

/// As [`load_bot`] for the bot in the file `path` (its bytes): a model built with the accuracy
/// tier's encoder is loaded with the `.sven` copy beside it (`path` with the extension `.sven`,
/// as `sottovoce build --encoder` writes it), so `chat` and `test` run it as the widget does.
///
/// # Errors
/// As [`load_bot`]; when that copy cannot be read.
pub(crate) fn load_bot_at(path: &Path, bytes: &[u8]) -> anyhow::Result<Bot> {
    if sottovoce::model::is_model(bytes) && Bot::vectors_needed(bytes) == Some(ACCURATE) {
        let copy = path.with_extension("sven");
        let file = std::fs::read(&copy).with_context(|| format!("cannot read {}, the encoder copy this model was built with", copy.display()))?;
        let encoder: Arc<dyn SentenceEncoder> = Arc::new(sottovoce_encoder::BotEncoder::from_file(&file)?);
        return load_bot_with(bytes, Some(&encoder));
    }
    load_bot(bytes)
}

/// As [`load_bot`], with `encoder` (the bot's `.sven` copy of the accuracy tier's encoder)
/// instead of the built-in table when given.
///
/// # Errors
/// As [`Bot::load`].
fn load_bot_with(bytes: &[u8], encoder: Option<&Arc<dyn SentenceEncoder>>) -> anyhow::Result<Bot> {
    let Some(name) = Bot::vectors_needed(bytes) else { return Ok(Bot::load(bytes)?) };
    let table = match encoder {
        Some(e) => Arc::clone(e),
        None if name == ACCURATE => anyhow::bail!(
            "word_vectors: `{name}` is the accuracy tier's encoder: build with `sottovoce build --encoder DIR`, which writes its .sven copy for the widget"
        ),
        None => shipped_encoder(name)?,
    };
    if sottovoce::model::is_model(bytes) {
        Ok(Bot::from_model_with_vectors(bytes, Some(&table))?)
    } else {
        let definition = sottovoce::BotDefinition::from_json(std::str::from_utf8(bytes)?)?;
        Ok(Bot::train_with_vectors(definition, Some(&table))?)
    }
}

/// The `word_vectors` name of the accuracy tier's encoder.
const ACCURATE: &str = "all-minilm-l6-v2";

/// Writes the bot's copy of the encoder in `dir` to `output`'s path with the extension `.sven`
/// ([`sottovoce_encoder::bot_file`]: int8, the vocabulary pruned to the definition's
/// examples, at most [`crate::encoder::COPY_BUDGET`] gzip bytes), prints its size, and returns it with its embeddings of the examples computed
/// on `threads` threads (all cores by default) and cached in `dir`.
///
/// # Errors
/// When the definition does not read, does not name the encoder in `word_vectors`, or a file
/// cannot be read or written.
fn bot_encoder(text: &str, dir: &Path, output: &Path, threads: Option<usize>) -> anyhow::Result<Arc<dyn SentenceEncoder>> {
    let definition = sottovoce::BotDefinition::from_json(text)?;
    anyhow::ensure!(
        definition.word_vectors.as_deref() == Some(ACCURATE),
        "--encoder builds a bot whose word_vectors is `{ACCURATE}` (this one's is {:?})",
        definition.word_vectors
    );
    let (encoder, source) = crate::encoder::read_weights(dir)?;
    let texts = Bot::training_texts(&definition);
    let budget = crate::encoder::copy_budget(crate::encoder::COPY_BUDGET);
    let (file, kept) = sottovoce_encoder::bot_file(encoder, source, sottovoce_encoder::FIRST_TOKENS, &texts, Some(budget));
    let path = output.with_extension("sven");
    std::fs::write(&path, &file).with_context(|| format!("cannot write {}", path.display()))?;
    println!("  encoder copy {}: {kept} tokens kept, {} bytes (gzip {})", path.display(), file.len(), gzip_len(&file));
    let encoder = crate::encoder::CachedEncoder::from_file(&file, dir)?;
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    encoder.warm(&texts, threads)?;
    Ok(Arc::new(encoder))
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Runs `sottovoce build`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let path = args.definition.as_ref().context("give a bot definition or --catalog")?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| path.with_extension("svm"));
    let started = Instant::now();
    let encoder = match &args.encoder {
        Some(dir) => Some(bot_encoder(&text, dir, &output, args.threads).with_context(|| crate::error_report::InFile(path.clone()))?),
        None => None,
    };
    let training = crate::progress::spinner(format!("training {}", path.display()));
    let bot = load_bot_with(text.as_bytes(), encoder.as_ref()).with_context(|| crate::error_report::InFile(path.clone()));
    training.finish_and_clear();
    let bot = bot?;
    let train_ms = ms(started);
    let model = bot.to_model();

    // The model loads back with the encoder as the widget reads it: from the file just written.
    let encoder = match &args.encoder {
        Some(_) => {
            let file = output.with_extension("sven");
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            Some(Arc::new(sottovoce_encoder::BotEncoder::from_file(&bytes)?) as Arc<dyn SentenceEncoder>)
        }
        None => None,
    };
    let started = Instant::now();
    load_bot_with(&model, encoder.as_ref()).with_context(|| {
        format!(
            "{}: the model just built does not load back",
            path.display()
        )
    })?;
    let load_ms = ms(started);

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
        if name == ACCURATE {
            println!("  sentence encoder: {name} (the widget fetches {} to load this model)", output.with_extension("sven").display());
        } else {
            println!("  word vectors: {name} (the widget fetches the table to load this model)");
        }
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
        write_parts(&bot, &output, encoder.as_ref())?;
    }
    Ok(())
}

/// Writes the model in parts beside `output` and prints what each locale's first load costs.
///
/// # Errors
/// When the parts cannot be written, or the bot cannot be split or its parts do not load back.
fn write_parts(bot: &Bot, output: &Path, encoder: Option<&Arc<dyn SentenceEncoder>>) -> anyhow::Result<()> {
    let (common, parts) = bot.to_model_parts()?;
    let stem = output.with_extension("");
    let path = |name: &str| PathBuf::from(format!("{}.{name}.svm", stem.display()));
    std::fs::write(path("common"), &common).with_context(|| format!("cannot write {}", path("common").display()))?;
    let common_gz = gzip_len(&common);
    println!("  in parts: {} {} bytes (gzip {common_gz}), then per locale:", path("common").display(), common.len());
    let mut whole = load_bot_with(&common, encoder)?;
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
            split: false, encoder: None, threads: None,
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
        run(Args { definition: Some(definition.into()), catalog: None, output: Some(out.clone()), split: false, encoder: None, threads: None }).unwrap();
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

    /// The accuracy tier: a definition naming the encoder builds with `--encoder` (the weights
    /// of `make encoder-weights`, which `make test` fetches), writes the bot's `.sven` copy
    /// beside the model, and the model loads back with it, as `chat` and `test` load it.
    #[test]
    fn a_definition_with_the_encoder_builds_its_copy_beside_the_model() {
        let dir = std::env::temp_dir().join(format!("sottovoce-build-encoder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut definition: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(MINI).unwrap()).unwrap();
        definition["word_vectors"] = "all-minilm-l6-v2".into();
        let path = dir.join("mini-accurate.json");
        std::fs::write(&path, definition.to_string()).unwrap();
        let weights = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/encoder/all-MiniLM-L6-v2"));
        let build = |encoder: Option<PathBuf>| run(Args { definition: Some(path.clone()), catalog: None, output: None, split: false, encoder, threads: Some(1) });
        let without = build(None).unwrap_err();
        assert!(format!("{without:#}").contains("sottovoce build --encoder"), "{without:#}");
        build(Some(weights)).unwrap();
        let model = std::fs::read(dir.join("mini-accurate.svm")).unwrap();
        let copy = std::fs::read(dir.join("mini-accurate.sven")).unwrap();
        assert!(copy.starts_with(sottovoce_encoder::MAGIC));
        assert_eq!(Bot::vectors_needed(&model), Some(ACCURATE));
        assert_eq!(Bot::vectors_hash(&model), Some(sottovoce::fnv1a64(&copy)), "the model needs this very copy");
        let bot = load_bot_at(&dir.join("mini-accurate.svm"), &model).unwrap();
        assert_eq!(bot.understand("where's my parcel").intent.as_deref(), Some("track_order"));
        std::fs::remove_file(dir.join("mini-accurate.sven")).unwrap();
        let missing = load_bot_at(&dir.join("mini-accurate.svm"), &model).unwrap_err();
        assert!(format!("{missing:#}").contains("mini-accurate.sven"), "{missing:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn errors_name_the_file() {
        let missing = PathBuf::from("no/such/bot.json");
        let err = run(Args {
            definition: Some(missing), catalog: None,
            output: None,
            split: false, encoder: None, threads: None,
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("no/such/bot.json"), "{err:#}");
        let bad =
            std::env::temp_dir().join(format!("sottovoce-build-bad-{}.json", std::process::id()));
        std::fs::write(&bad, "{\"format\": 1, \"id\": \"x\"}").unwrap();
        let err = run(Args {
            definition: Some(bad.clone()), catalog: None,
            output: None,
            split: false, encoder: None, threads: None,
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
