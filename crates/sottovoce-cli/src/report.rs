//! `sottovoce report`: a self-contained evaluation page (HTML with inline CSS and SVG, no
//! scripts, no external assets) for a bot definition: the confusion matrix, per-intent
//! precision, recall and F1, the misclassified examples, and the curve of out-of-scope recall
//! against in-scope accuracy by threshold.
//!
//! The figures come from k-fold cross-validation over the definition's examples
//! ([`crate::crossval`]) and, with `--heldout`, from held-out rows (JSONL as `eval` reads them:
//! `{"text", "intent", "locale"?}`, `oos` for out of scope; the format of
//! `tests/fixtures/nlu/store-heldout*.jsonl`) scored by the bot trained on every example.
//! Scoring, rates and F1 are `eval`'s ([`crate::eval`]). Every text on the page is escaped.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context};
use sottovoce::BotDefinition;

use crate::eval::{label_counts, precision_recall_f1, rates, score_one, Rule, Scored, OOS};

/// Arguments of `sottovoce report`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Bot definition (JSON).
    definition: PathBuf,
    /// The page to write.
    #[arg(long, value_name = "REPORT.html")]
    html: PathBuf,
    /// Held-out rows to score as well (JSONL, `{"text", "intent", "locale"?}`, `oos` = out of scope).
    #[arg(long, value_name = "FILE.jsonl")]
    heldout: Vec<PathBuf>,
    /// Folds of the cross-validation.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// No progress spinner.
    #[arg(long)]
    quiet: bool,
}

/// One scored row for the page.
struct Row {
    locale: String,
    text: String,
    scored: Scored,
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The rule a bot of `def` runs: its threshold and familiar-wording settings.
fn rule_of(def: &BotDefinition) -> Rule {
    use sottovoce::definition::DialogueSettings;
    let base = DialogueSettings { threshold: def.threshold.unwrap_or(sottovoce::DEFAULT_THRESHOLD), ..DialogueSettings::DEFAULT };
    let s = def.dialogue.clone().unwrap_or_default().resolve(base);
    Rule { threshold: s.threshold, familiar_threshold: s.familiar_threshold, familiar_coverage: s.familiar_coverage }
}

/// Points (threshold, in-scope accuracy, out-of-scope recall) from 0 to 1 by 0.02, the
/// familiar-wording settings of `rule` kept at every threshold.
fn curve(rows: &[&Scored], rule: Rule) -> Vec<(f32, f64, f64)> {
    let owned: Vec<Scored> = rows
        .iter()
        .map(|s| **s)
        .collect();
    (0..=50)
        .map(|i| {
            let threshold = i as f32 / 50.0;
            let (in_ok, oos) = rates(&owned, Rule { threshold, ..rule });
            (threshold, in_ok, oos)
        })
        .collect()
}

/// The inline SVG of the curve: x = out-of-scope recall, y = in-scope accuracy, the bot's
/// threshold marked.
fn curve_svg(points: &[(f32, f64, f64)], threshold: f32) -> String {
    let (w, h, m) = (420.0, 300.0, 40.0);
    let x = |r: f64| m + r * (w - 2.0 * m);
    let y = |a: f64| h - m - a * (h - 2.0 * m);
    let path: Vec<String> = points.iter().map(|&(_, a, r)| format!("{:.1},{:.1}", x(r), y(a))).collect();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"out-of-scope recall against in-scope accuracy by threshold\">\
<rect x=\"{m}\" y=\"{m}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\
<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\" points=\"{}\"/>",
        w - 2.0 * m,
        h - 2.0 * m,
        path.join(" ")
    );
    for &(t, a, r) in points {
        if (t * 10.0).fract().abs() < 1e-4 {
            let _ = write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#1f6feb\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{t:.1}</text>", x(r), y(a), x(r) + 4.0, y(a) - 4.0);
        }
    }
    if let Some(&(_, a, r)) = points.iter().min_by(|p, q| (p.0 - threshold).abs().total_cmp(&(q.0 - threshold).abs())) {
        let _ = write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"none\" stroke=\"#d1242f\" stroke-width=\"2\"/>", x(r), y(a));
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">out-of-scope recall</text>\
<text x=\"12\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">in-scope accuracy</text>\
<text x=\"{m}\" y=\"{}\" font-size=\"9\">0</text><text x=\"{}\" y=\"{}\" font-size=\"9\">1</text><text x=\"{}\" y=\"{}\" font-size=\"9\">1</text></svg>",
        w / 2.0,
        h - 8.0,
        h / 2.0,
        h / 2.0,
        h - m + 12.0,
        w - m,
        h - m + 12.0,
        m - 10.0,
        m + 4.0
    );
    svg
}

/// One section of the page: the figures of `rows` (cross-validation or a held-out file).
fn section(html: &mut String, title: &str, def: &BotDefinition, rows: &[Row], rule: Rule) {
    let threshold = rule.threshold;
    let names: Vec<&str> = def.intents.iter().map(|i| i.name.as_str()).collect();
    let n = names.len();
    let in_scope: Vec<&Row> = rows.iter().filter(|r| r.scored.gold.is_some()).collect();
    let pairs: Vec<(usize, usize)> = in_scope.iter().map(|r| (r.scored.gold.unwrap_or(0), r.scored.label)).collect();
    let right = pairs.iter().filter(|(g, p)| g == p).count();
    let n_oos = rows.len() - in_scope.len();
    let _ = write!(
        html,
        "<h2>{}</h2><p>{} rows ({} in scope, {} out of scope). Best intent right: <b>{:.1} %</b>; macro F1 {:.1} %.</p>",
        escape(title),
        rows.len(),
        in_scope.len(),
        n_oos,
        right as f64 * 100.0 / in_scope.len().max(1) as f64,
        crate::eval::macro_f1(&pairs, n) * 100.0
    );

    // Confusion matrix: rows gold, columns predicted (best in-scope intent).
    let mut matrix = vec![vec![0usize; n]; n];
    for &(g, p) in &pairs {
        matrix[g][p] += 1;
    }
    html.push_str("<h3>Confusion matrix</h3><p>Rows: the intent an example belongs to; columns: the intent the bot ranked first. Only intents with rows are shown.</p><div class=\"scroll\"><table class=\"matrix\"><tr><th></th>");
    let shown: Vec<usize> = (0..n).filter(|&i| matrix[i].iter().sum::<usize>() > 0 || matrix.iter().any(|r| r[i] > 0)).collect();
    for &c in &shown {
        let _ = write!(html, "<th class=\"col\"><span>{}</span></th>", escape(names[c]));
    }
    html.push_str("</tr>");
    for &r in &shown {
        let total = matrix[r].iter().sum::<usize>().max(1);
        let _ = write!(html, "<tr><th>{}</th>", escape(names[r]));
        for &c in &shown {
            let v = matrix[r][c];
            let share = v as f64 / total as f64;
            let class = if v == 0 { "" } else if r == c { "ok" } else { "bad" };
            let _ = write!(html, "<td class=\"{class}\" style=\"opacity:{:.2}\">{}</td>", if v == 0 { 1.0 } else { 0.35 + 0.65 * share }, if v == 0 { String::new() } else { v.to_string() });
        }
        html.push_str("</tr>");
    }
    html.push_str("</table></div>");

    // Per intent.
    html.push_str("<h3>Per intent</h3><table><tr><th>intent</th><th>rows</th><th>precision</th><th>recall</th><th>F1</th></tr>");
    for (i, counts) in label_counts(&pairs, n).into_iter().enumerate() {
        if counts.0 + counts.1 + counts.2 == 0 {
            continue;
        }
        let (p, r, f) = precision_recall_f1(counts);
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{:.1} %</td><td>{:.1} %</td><td class=\"{}\">{:.1} %</td></tr>",
            escape(names[i]),
            counts.0 + counts.2,
            p * 100.0,
            r * 100.0,
            if f < 0.8 { "low" } else { "" },
            f * 100.0
        );
    }
    html.push_str("</table>");

    // The curve.
    let scored: Vec<&Scored> = rows.iter().map(|r| &r.scored).collect();
    let points = curve(&scored, rule);
    html.push_str("<h3>Out-of-scope recall against in-scope accuracy, by threshold</h3>");
    if n_oos == 0 {
        html.push_str("<p>No out-of-scope rows here (an <code>out_of_scope</code> intent's examples, or <code>oos</code> rows of a held-out file): out-of-scope recall is 0 at every threshold; the table shows what each threshold costs in scope.</p>");
    } else {
        let _ = write!(html, "<p>Each point is a threshold (labelled every 0.1); the red circle is the bot's, {threshold:.2}. A query is out of scope when the <code>out_of_scope</code> intent wins or the best confidence is below the threshold, unless it is at least the dialogue's <code>familiar_threshold</code> ({:.2}) with the message's n-gram coverage at least <code>familiar_coverage</code> ({:.2}).</p>{}", rule.familiar_threshold, rule.familiar_coverage, curve_svg(&points, threshold));
    }
    html.push_str("<table><tr><th>threshold</th><th>in-scope accuracy</th><th>out-of-scope recall</th></tr>");
    for &(t, a, r) in points.iter().step_by(5) {
        let _ = write!(html, "<tr><td>{t:.1}</td><td>{:.1} %</td><td>{:.1} %</td></tr>", a * 100.0, r * 100.0);
    }
    html.push_str("</table>");

    // Misclassified.
    let wrong: Vec<&&Row> = in_scope.iter().filter(|r| r.scored.gold != Some(r.scored.label)).collect();
    let _ = write!(html, "<h3>Misclassified examples ({})</h3><table><tr><th>locale</th><th>text</th><th>intent</th><th>ranked first</th><th>confidence</th></tr>", wrong.len());
    for r in wrong {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            escape(&r.locale),
            escape(&r.text),
            escape(names[r.scored.gold.unwrap_or(0)]),
            escape(names[r.scored.label]),
            r.scored.probability
        );
    }
    html.push_str("</table>");
}

/// The whole page for `def`: cross-validation, then each held-out file.
///
/// # Errors
/// When a fold does not train, or a held-out file cannot be read or names an unknown intent.
pub(crate) fn page(def: &BotDefinition, source: &str, heldout: &[PathBuf], folds: usize, quiet: bool) -> anyhow::Result<String> {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sottovoce report: {0}</title><style>\
body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:.5em 0}}\
td,th{{border:1px solid #ddd;padding:2px 6px;text-align:left}}.matrix td{{text-align:right;min-width:1.5em}}\
.matrix td.ok{{background:#2da44e;color:#fff}}.matrix td.bad{{background:#d1242f;color:#fff}}\
th.col span{{writing-mode:vertical-rl;transform:rotate(180deg)}}.scroll{{overflow:auto}}td.low{{color:#d1242f;font-weight:bold}}\
</style></head><body><h1>sottovoce report: {0}</h1><p>Bot <b>{1}</b> ({2}), {3} intents, locales {4}; threshold {5:.2}.</p>",
        escape(source),
        escape(&def.name),
        escape(&def.id),
        def.intents.len(),
        escape(&def.locales.join(", ")),
        def.threshold.unwrap_or(sottovoce::DEFAULT_THRESHOLD)
    );
    let outcomes = crate::crossval::cross_validate(def, folds, quiet)?;
    let rows: Vec<Row> = outcomes.into_iter().map(|o| Row { locale: o.locale, text: o.text, scored: o.scored }).collect();
    section(&mut html, &format!("{folds}-fold cross-validation over the examples"), def, &rows, rule_of(def));
    if !heldout.is_empty() {
        let bot = crate::crossval::train(def, quiet)?;
        let labels = crate::crossval::label_of(def);
        // One section for every file together, so in-scope and out-of-scope files (as the demo
        // keeps them) make one curve.
        let mut rows = Vec::new();
        for path in heldout {
            for r in crate::eval::read_split(path)? {
                let gold = if r.intent == OOS {
                    None
                } else {
                    match labels.get(&r.intent) {
                        Some(&i) => Some(i),
                        None => bail!("{}: intent `{}` is not in the bot", path.display(), r.intent),
                    }
                };
                let scored = score_one(&bot, &labels, &r.text, gold);
                rows.push(Row { locale: r.locale.unwrap_or_default(), text: r.text, scored });
            }
        }
        let names: Vec<String> = heldout.iter().map(|p| p.display().to_string()).collect();
        section(&mut html, &format!("Held out: {}", names.join(", ")), def, &rows, Rule::of(&bot));
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

/// Runs `sottovoce report`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let def = crate::crossval::read_definition(&args.definition)?;
    let html = page(&def, &args.definition.display().to_string(), &args.heldout, args.folds, args.quiet)?;
    std::fs::write(&args.html, &html).with_context(|| format!("cannot write {}", args.html.display()))?;
    println!("wrote {} ({} bytes)", args.html.display(), html.len());
    Ok(())
}
