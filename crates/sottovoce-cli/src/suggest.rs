//! `sottovoce suggest`: turns what visitors asked and the bot did not answer into a definition
//! patch an owner reviews: examples for existing intents the bot was confident about, and
//! candidate new intents, each a group of similar utterances.
//!
//! Input: JSONL, one `{"text": ..., "locale"?: ...}` per line (the unmatched utterances the
//! widget collects with the visitor's consent). An utterance joins an existing intent when the
//! bot's ranking ([`sottovoce::Bot::classify`]) puts it first with confidence at least
//! `--confident` and at least twice the runner-up's, and it is at least `--near` similar to
//! one of that intent's examples (a small bot's softmax is confident about
//! anything: "do you sell gift cards" went to opening hours at 0.51 without it). The others are grouped by average-linkage
//! agglomerative clustering (merge the two most similar groups while their mean pairwise
//! similarity is at least `--min-similarity`).
//!
//! The similarity is the mean of two cosines: of the sentence vectors of the word-vector table
//! this binary ships (minilm-l6-d64, the one a definition's `word_vectors` opts into), which
//! bring paraphrases with different words together ("voucher" and "gift card"), and of bags
//! of character 3-grams of the normalised text, the kind of feature the intent classifier
//! hashes, which hold for the languages and the typos the English-centred vectors read poorly.
//! The classifier's own hashed weights are not used: they separate the bot's intents, and the
//! utterances here are the ones it cannot place.
//!
//! Output (`--patch`): a JSON Patch (RFC 6902) against the definition: `add` operations that
//! append examples to `/intents/<i>/examples/<locale>`, and that append each candidate intent
//! to `/intents` with a reply message to write in every locale (`messages`). `sottovoce build`
//! reads no patch: the owner reviews it, applies it with any JSON Patch tool, and builds.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sottovoce::BotDefinition;

/// Arguments of `sottovoce suggest`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Bot definition (JSON).
    #[arg(long)]
    bot: PathBuf,
    /// Unmatched utterances: JSONL, `{"text": ..., "locale"?: ...}` per line.
    #[arg(long, value_name = "FILE.jsonl")]
    unmatched: PathBuf,
    /// Write the JSON Patch (RFC 6902) here.
    #[arg(long, value_name = "PATCH.json")]
    patch: Option<PathBuf>,
    /// Least confidence for proposing an utterance as an example of an existing intent.
    #[arg(long, default_value_t = 0.35)]
    confident: f32,
    /// Least similarity, in [0, 1], of an utterance to one of the examples of the intent it is
    /// proposed for.
    #[arg(long, default_value_t = 0.6)]
    near: f32,
    /// Least mean similarity, in [0, 1], inside a group.
    #[arg(long, default_value_t = 0.4)]
    min_similarity: f32,
    /// Least utterances for a candidate new intent.
    #[arg(long, default_value_t = 2)]
    min_group: usize,
    /// Print the suggestions as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// One line of the unmatched file.
#[derive(Deserialize, Serialize, Clone)]
pub(crate) struct Unmatched {
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) locale: Option<String>,
}

/// An example proposed for an existing intent.
#[derive(Serialize)]
pub(crate) struct ForIntent {
    pub(crate) intent: String,
    pub(crate) locale: String,
    pub(crate) text: String,
    pub(crate) confidence: f32,
}

/// A candidate new intent.
#[derive(Serialize)]
pub(crate) struct Candidate {
    pub(crate) name: String,
    /// Mean pairwise similarity of its utterances, in [0, 1].
    pub(crate) cohesion: f32,
    pub(crate) utterances: Vec<Unmatched>,
}

/// What `suggest` proposes.
#[derive(Serialize, Default)]
pub(crate) struct Suggestions {
    pub(crate) examples: Vec<ForIntent>,
    pub(crate) candidates: Vec<Candidate>,
    /// Utterances in no group of `min_group` or more.
    pub(crate) unplaced: Vec<Unmatched>,
}

/// Reads the unmatched file; errors name the line.
fn read_unmatched(path: &std::path::Path) -> anyhow::Result<Vec<Unmatched>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}: expected {{\"text\": ..., \"locale\"?: ...}}", path.display(), i + 1)))
        .collect()
}

/// The sparse bag of character 3-grams of the normalised text (padded with spaces), L2-normed.
fn trigrams(text: &str) -> BTreeMap<[char; 3], f32> {
    let padded: Vec<char> = format!(" {} ", sottovoce::text::normalize(text)).chars().collect();
    let mut bag: BTreeMap<[char; 3], f32> = BTreeMap::new();
    for w in padded.windows(3) {
        *bag.entry([w[0], w[1], w[2]]).or_default() += 1.0;
    }
    let norm = bag.values().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
    bag.values_mut().for_each(|v| *v /= norm);
    bag
}

/// What two utterances are compared by: sentence vector and 3-gram bag.
struct Features {
    vector: Vec<f32>,
    grams: BTreeMap<[char; 3], f32>,
}

fn similarity(a: &Features, b: &Features) -> f32 {
    let dense: f32 = a.vector.iter().zip(&b.vector).map(|(x, y)| x * y).sum();
    let sparse: f32 = a.grams.iter().filter_map(|(g, v)| b.grams.get(g).map(|w| v * w)).sum();
    (dense.max(0.0) + sparse) / 2.0
}

/// Average-linkage agglomerative clustering: groups of indices, largest first.
fn cluster(features: &[Features], min_similarity: f32) -> Vec<(Vec<usize>, f32)> {
    let n = features.len();
    let sim: Vec<Vec<f32>> = (0..n).map(|i| (0..n).map(|j| similarity(&features[i], &features[j])).collect()).collect();
    let mut groups: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mean = |a: &[usize], b: &[usize]| -> f32 {
        let total: f32 = a.iter().flat_map(|&i| b.iter().map(move |&j| (i, j))).map(|(i, j)| sim[i][j]).sum();
        total / (a.len() * b.len()) as f32
    };
    loop {
        let mut best: Option<(usize, usize, f32)> = None;
        for x in 0..groups.len() {
            for y in x + 1..groups.len() {
                let s = mean(&groups[x], &groups[y]);
                if s >= min_similarity && best.is_none_or(|(_, _, b)| s > b) {
                    best = Some((x, y, s));
                }
            }
        }
        let Some((x, y, _)) = best else { break };
        let moved = groups.swap_remove(y);
        groups[x].extend(moved);
    }
    let mut out: Vec<(Vec<usize>, f32)> = groups
        .into_iter()
        .map(|mut g| {
            g.sort_unstable();
            let cohesion = if g.len() < 2 { 1.0 } else {
                let pairs = g.len() * (g.len() - 1);
                g.iter().flat_map(|&i| g.iter().filter(move |&&j| j != i).map(move |&j| (i, j))).map(|(i, j)| sim[i][j]).sum::<f32>() / pairs as f32
            };
            (g, cohesion)
        })
        .collect();
    out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0[0].cmp(&b.0[0])));
    out
}

/// A name for a group: its two most frequent words of four or more letters, `new_` first.
fn name_for(texts: &[&str], taken: &mut Vec<String>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for text in texts {
        let mut seen = Vec::new();
        for word in sottovoce::text::normalize(text).split(|c: char| !c.is_alphanumeric()) {
            let word: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
            if word.chars().count() >= 4 && !seen.contains(&word) {
                *counts.entry(word.clone()).or_default() += 1;
                seen.push(word);
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut name = String::from("new");
    for (w, _) in words.iter().take(2) {
        name.push('_');
        name.push_str(w);
    }
    let base = name.clone();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{base}_{k}");
        k += 1;
    }
    taken.push(name.clone());
    name
}

/// The suggestions for `unmatched` against `def`.
///
/// # Errors
/// When the bot does not train or the shipped word vectors do not load.
pub(crate) fn suggest(def: &BotDefinition, unmatched: &[Unmatched], args: &Args) -> anyhow::Result<Suggestions> {
    let bot = crate::crossval::train(def, true)?;
    let vectors = crate::build::shipped_vectors(sottovoce::definition::WORD_VECTOR_TABLES[0].0)?;
    let features_of = |text: &str| Features { vector: vectors.embed(text), grams: trigrams(text) };
    // Each intent's examples, compared with an utterance the classifier gives it.
    let examples: BTreeMap<&str, Vec<Features>> = def
        .intents
        .iter()
        .map(|i| (i.name.as_str(), i.examples.values().flatten().map(|e| features_of(&crate::crossval::plain(e))).collect()))
        .collect();
    let mut out = Suggestions::default();
    let mut rest: Vec<Unmatched> = Vec::new();
    for u in unmatched {
        let ranking = bot.classify(&u.text);
        let best = ranking.first().filter(|(name, _)| name != sottovoce::definition::OUT_OF_SCOPE_INTENT);
        let second = ranking.get(1).map_or(0.0, |r| r.1);
        // The classifier alone is overconfident on a small bot (softmax over a few intents):
        // the utterance must also be as close to one of the intent's examples as the members
        // of a group are to each other.
        let near = |intent: &str| {
            let f = features_of(&u.text);
            examples.get(intent).is_some_and(|list| list.iter().any(|e| similarity(&f, e) >= args.near))
        };
        match best {
            Some((intent, p)) if *p >= args.confident && *p >= 2.0 * second && near(intent) => out.examples.push(ForIntent {
                intent: intent.clone(),
                locale: u.locale.clone().unwrap_or_else(|| bot.understand(&u.text).locale),
                text: u.text.clone(),
                confidence: *p,
            }),
            _ => rest.push(u.clone()),
        }
    }
    let features: Vec<Features> = rest.iter().map(|u| features_of(&u.text)).collect();
    let mut taken: Vec<String> = def.intents.iter().map(|i| i.name.clone()).collect();
    for (group, cohesion) in cluster(&features, args.min_similarity) {
        let utterances: Vec<Unmatched> = group.iter().map(|&i| rest[i].clone()).collect();
        if group.len() < args.min_group {
            out.unplaced.extend(utterances);
            continue;
        }
        let texts: Vec<&str> = utterances.iter().map(|u| u.text.as_str()).collect();
        let name = name_for(&texts, &mut taken);
        out.candidates.push(Candidate { name, cohesion, utterances });
    }
    Ok(out)
}

/// The JSON Patch (RFC 6902) that adds `s` to `def`.
pub(crate) fn patch(def: &BotDefinition, s: &Suggestions) -> serde_json::Value {
    let mut ops = Vec::new();
    let locale_of = |u: &Unmatched| u.locale.clone().unwrap_or_else(|| def.default_locale().to_owned());
    // Examples for existing intents: append, or create the locale's list.
    let mut by_place: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for e in &s.examples {
        if let Some(i) = def.intent_index(&e.intent) {
            by_place.entry((i, e.locale.clone())).or_default().push(e.text.clone());
        }
    }
    for ((i, locale), texts) in by_place {
        let path = format!("/intents/{i}/examples/{locale}");
        if def.intents[i].examples.contains_key(&locale) {
            ops.extend(texts.into_iter().map(|t| json!({"op": "add", "path": format!("{path}/-"), "value": t})));
        } else {
            ops.push(json!({"op": "add", "path": path, "value": texts}));
        }
    }
    for c in &s.candidates {
        let mut examples: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in &c.utterances {
            examples.entry(locale_of(u)).or_default().push(u.text.clone());
        }
        let message = format!("{}-reply", c.name);
        ops.push(json!({"op": "add", "path": "/intents/-", "value": {"name": c.name, "examples": examples, "reply": {"message": message}}}));
        for locale in &def.locales {
            let value = format!("(write the answer to: {})", c.utterances[0].text);
            ops.push(json!({"op": "add", "path": format!("/messages/{locale}/{message}"), "value": value}));
        }
    }
    serde_json::Value::Array(ops)
}

/// Runs `sottovoce suggest`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let def = crate::crossval::read_definition(&args.bot)?;
    let unmatched = read_unmatched(&args.unmatched)?;
    let s = suggest(&def, &unmatched, &args)?;
    if let Some(path) = &args.patch {
        std::fs::write(path, serde_json::to_string_pretty(&patch(&def, &s))? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("sottovoce suggest: {} unmatched utterances against {}", unmatched.len(), args.bot.display());
    println!("  examples for existing intents: {}", s.examples.len());
    for e in &s.examples {
        println!("    {} ({}) -> {} ({:.2})", e.text, e.locale, e.intent, e.confidence);
    }
    println!("  candidate new intents: {}", s.candidates.len());
    for c in &s.candidates {
        println!("    {} ({} utterances, cohesion {:.2})", c.name, c.utterances.len(), c.cohesion);
        for u in &c.utterances {
            println!("      {}", u.text);
        }
    }
    println!("  in no group: {}", s.unplaced.len());
    if let Some(path) = &args.patch {
        println!("  patch (RFC 6902 JSON Patch, review it before applying): {}", path.display());
    }
    Ok(())
}
