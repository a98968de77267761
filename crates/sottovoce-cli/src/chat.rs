//! `sottovoce chat`: a terminal REPL with a bot (definition JSON or model file). Bot messages
//! are printed as text, quick replies as numbered options (type the number to press one), links
//! as `label: url`. Without `--locale` each message's language is followed as the widget
//! follows it (the same core call, from the bot's first locale); `--locale CODE` fixes the
//! reply locale as the widget's language menu does (`Bot::set_locale`), so only an explicit
//! request in a message ("en español por favor") changes it. With `--catalog` a turn that
//! recommends prints the products a shop's catalog ranks for it, as the demo page shows them
//! (the same core `Ranker` the page's catalog module runs). A turn that shows what the bot
//! remembers prints the visitor's profile (name, facts, language, customer, topics, taught
//! messages), as the widget's panel lists it; `/forget ENTITY VALUE` removes one entry
//! (`/forget size M`, `/forget name`), and `/forget all` deletes everything, as the widget's
//! "Forget me" does. `/nlu` toggles intent and confidence display, `/state` prints the
//! conversation state as stored by the widget, `/reset` starts over, `/quit` (or end of input)
//! leaves.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sottovoce::catalog::followup::FollowUp;
use sottovoce::{
    Bot, BotMessage, ConversationState, FactSource, Input, PrivacyRequest, QuickReply, RankContext, RankSettings, Ranker, Turn, TurnContext,
};

/// Arguments of `sottovoce chat`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Bot definition (JSON) or compiled model file (`.svm`, from `sottovoce build`).
    bot: PathBuf,
    /// Fix the reply locale for the conversation (BCP 47, one of the bot's locales or its
    /// language: `es`, `es-MX`): the messages' language is not followed. Default: start in the
    /// bot's first locale and follow each message's language, as the widget does.
    #[arg(long)]
    locale: Option<String>,
    /// Show the recognised intent and confidence of every message, the locale detected for it
    /// and the locale the replies are in.
    #[arg(long)]
    nlu: bool,
    /// Seed for reply variation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The visitor's offset from UTC in minutes, east positive (`60` for Madrid in winter,
    /// `-300` for New York): "tomorrow" resolves in that day.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    utc_offset: i32,
    /// Product catalog (JSONL, or compiled `.svc` from `sottovoce build --catalog`), as the
    /// widget's `data-catalog`: a turn that recommends prints the three products that fit best
    /// (and tells the bot which were shown), "compare them" the two side by side, "what goes
    /// with it?" what does. Without it such a turn says what it would have asked a catalog.
    #[arg(long, value_name = "CATALOG")]
    catalog: Option<PathBuf>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Prints bot messages; returns the quick replies now on screen (numbered from 1).
fn show(out: &mut impl Write, messages: &[BotMessage]) -> std::io::Result<Vec<QuickReply>> {
    let mut offered = Vec::new();
    for m in messages {
        for (i, line) in m.text.lines().enumerate() {
            writeln!(out, "{} {line}", if i == 0 { "bot>" } else { "    " })?;
        }
        for link in &m.links {
            writeln!(out, "      {}: {}", link.label, link.url)?;
        }
        offered.extend(m.quick_replies.iter().cloned());
    }
    for (i, q) in offered.iter().enumerate() {
        writeln!(out, "      [{}] {}", i + 1, q.label)?;
    }
    Ok(offered)
}

/// The REPL over any reader and writer (tests drive it with strings); `clock` gives `now_ms`.
/// What a catalog shows for `turn` (the widget's `showCatalogAnswer`, as text): products for
/// its request, ranked with what the visitor's facts say of them, reported to the bot as shown
/// (`Bot::shown`); two products side by side; or what goes with one. Without a catalog, one
/// line saying what the turn asked for. Returns true when it showed products for the request.
fn show_products(
    out: &mut impl Write,
    bot: &Bot,
    state: &mut ConversationState,
    catalog: Option<&Ranker>,
    turn: &Turn,
) -> std::io::Result<bool> {
    let about = turn.products.as_ref();
    let Some(ranker) = catalog else {
        if let Some(request) = turn.recommend.as_deref().filter(|r| !r.is_empty()) {
            writeln!(out, "  (products for {:?} come from a catalog: --catalog FILE)", request.replace('\n', " / "))?;
        } else if let Some(about) = about {
            writeln!(out, "  (a catalog would answer this about {}: --catalog FILE)", about.products.join(", "))?;
        }
        return Ok(false);
    };
    let locale = state.profile.locale.clone();
    let lang = sottovoce::lang::primary(&locale).to_owned();
    let products = &ranker.catalog().products;
    let card = |out: &mut dyn Write, i: usize| -> std::io::Result<()> {
        let p = &products[i];
        let stock = if p.in_stock { "" } else { ", out of stock" };
        writeln!(out, "      * {} ({:.2} {}{stock}) {}", p.name_in(&lang), p.price.amount, p.price.currency, p.url)
    };
    match about.map(|a| (a.kind, &a.products)) {
        Some((kind @ (FollowUp::Compare | FollowUp::Price), ids)) => {
            let found: Vec<usize> = ids.iter().filter_map(|id| products.iter().position(|p| &p.id == id)).collect();
            writeln!(out, "  {}:", if kind == FollowUp::Price { "prices" } else { "compared" })?;
            for &i in &found {
                card(out, i)?;
            }
            let mut keys: Vec<&String> = found.iter().flat_map(|&i| products[i].attributes.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let values: Vec<String> =
                    found.iter().map(|&i| products[i].attribute_text_in(key, &locale).unwrap_or_else(|| "-".to_owned())).collect();
                writeln!(out, "        {}: {}", sottovoce::attribute_label(key, &locale), values.join(" | "))?;
            }
        }
        Some((FollowUp::Related, ids)) => {
            let related = ids.first().map(|id| ranker.related(id, 3)).unwrap_or_default();
            if !related.is_empty() {
                writeln!(out, "  goes with it:")?;
            }
            for r in related {
                card(out, r.product)?;
            }
        }
        _ => {
            let Some(request) = turn.recommend.as_deref().filter(|r| !r.is_empty()) else { return Ok(false) };
            let mut context = RankContext::from_facts(state.profile.facts.iter().map(|f| (f.entity.as_str(), f.value.as_str())));
            context.shown = about.map(|a| a.products.clone()).unwrap_or_default();
            context.terms = turn.recommend_terms.clone();
            let best = ranker.best(request, &locale, &context, 3);
            if best.is_empty() {
                return Ok(false);
            }
            writeln!(out, "  products:")?;
            for r in &best {
                card(out, r.product)?;
            }
            bot.shown(state, best.iter().map(|r| products[r.product].id.clone()).collect());
            return Ok(true);
        }
    }
    Ok(false)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn repl(
    bot: &Bot,
    catalog: Option<&Ranker>,
    locale: Option<&str>,
    seed: u64,
    mut show_nlu: bool,
    input: impl BufRead,
    out: &mut impl Write,
    utc_offset_min: i32,
    mut clock: impl FnMut() -> u64,
) -> anyhow::Result<()> {
    let start = |clock: u64| -> anyhow::Result<sottovoce::ConversationState> {
        let default = bot.definition().default_locale();
        let mut state = bot.new_state(locale.unwrap_or(default), seed, clock);
        if let Some(code) = locale {
            bot.set_locale(&mut state, code)?;
        }
        Ok(state)
    };
    let mut state = start(clock())?;
    let mut offered = show(out, &bot.begin_visit(&mut state, clock()))?;
    for line in input.lines() {
        let line = line.context("cannot read standard input")?;
        let text = line.trim();
        let input = match text {
            "" => continue,
            "/quit" | "/exit" => break,
            "/nlu" => {
                show_nlu = !show_nlu;
                writeln!(
                    out,
                    "(intent display {})",
                    if show_nlu { "on" } else { "off" }
                )?;
                continue;
            }
            "/state" => {
                writeln!(out, "{}", state.to_json())?;
                continue;
            }
            "/reset" => {
                state = start(clock())?;
                offered = show(out, &bot.begin_visit(&mut state, clock()))?;
                continue;
            }
            "/forget all" => {
                // What the widget's "Forget me" does: the stored conversation and profile go.
                state = start(clock())?;
                writeln!(out, "(everything this chat stored is deleted)")?;
                continue;
            }
            _ if text.starts_with("/forget ") => {
                let mut words = text["/forget ".len()..].trim().splitn(2, ' ');
                let entity = words.next().unwrap_or_default();
                let value = words.next().unwrap_or_default().trim();
                let forgotten = state.forget(entity, value);
                writeln!(out, "({})", if forgotten { "forgotten" } else { "nothing stored by that entity and value: /forget ENTITY VALUE, or /forget all" })?;
                continue;
            }
            _ => match text
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|n| offered.get(n))
            {
                Some(q) => {
                    writeln!(out, "you> {}", q.label)?;
                    Input::QuickReply {
                        label: q.label.clone(),
                        intent: q.intent.clone(),
                        locale: q.locale.clone(),
                    }
                }
                None => Input::Text {
                    text: text.to_owned(),
                },
            },
        };
        let turn = bot.respond(&mut state, input, TurnContext::new(clock(), utc_offset_min));
        if show_nlu {
            match &turn.nlu {
                Some(nlu) => {
                    let ranking: Vec<String> = nlu
                        .ranking
                        .iter()
                        .take(3)
                        .map(|(i, c)| format!("{i} {c:.2}"))
                        .collect();
                    let entities: Vec<String> = nlu
                        .entities
                        .iter()
                        .map(|e| format!("{}={}", e.entity, e.value))
                        .collect();
                    writeln!(
                        out,
                        "  (intent {}; {}; locale {}, replies in {}{}{})",
                        turn.intent.as_deref().unwrap_or("fallback"),
                        ranking.join(", "),
                        nlu.locale,
                        state.profile.locale,
                        if entities.is_empty() {
                            ""
                        } else {
                            "; entities "
                        },
                        entities.join(", ")
                    )?;
                }
                None => writeln!(
                    out,
                    "  (intent {} from the button)",
                    turn.intent.as_deref().unwrap_or("fallback")
                )?,
            }
        }
        // The catalog answers first, so that a reply with `with_products` is said in its place
        // when products are shown, as the widget does; the products follow the messages.
        let mut cards = Vec::new();
        let mut messages = turn.messages.clone();
        if show_products(&mut cards, bot, &mut state, catalog, &turn)? {
            if let (Some(instead), Some(first)) = (&turn.with_products, messages.first_mut()) {
                *first = instead.clone();
            }
        }
        let shown = show(out, &messages)?;
        if !shown.is_empty() {
            offered = shown;
        }
        out.write_all(&cards)?;
        match turn.privacy {
            Some(PrivacyRequest::Show) => show_profile(out, &state)?,
            Some(PrivacyRequest::Forget) => writeln!(out, "  (/forget all deletes everything this chat stored; anything else keeps it)")?,
            None => {}
        }
    }
    Ok(())
}

/// Prints what the chat keeps about the visitor, one `/forget` line per entry, as the
/// widget's panel lists it with a remove button each.
fn show_profile(out: &mut impl Write, state: &ConversationState) -> std::io::Result<()> {
    let profile = &state.profile;
    let mut entries: Vec<(String, String)> = Vec::new();
    if let Some(name) = &profile.name {
        entries.push((format!("name: {name}"), "name".to_owned()));
    }
    for f in &profile.facts {
        let source = match f.source {
            FactSource::Chat => "said in the chat",
            FactSource::Site => "from the site",
            FactSource::Inferred => "inferred",
        };
        entries.push((format!("{}: {} ({source})", f.entity, f.value), format!("{} {}", f.entity, f.value)));
    }
    if profile.locale_chosen {
        entries.push((format!("language: {} (chosen)", profile.locale), "language".to_owned()));
    }
    if let Some(customer) = &profile.customer {
        entries.push((format!("customer: {} (from the site)", customer.id), "customer".to_owned()));
    }
    for t in &profile.topics {
        entries.push((format!("open topic: {}", t.kind), format!("topic {}", t.kind)));
    }
    for t in &profile.taught {
        entries.push((format!("taught: {:?}", t.text), format!("taught {}", t.text)));
    }
    writeln!(out, "  remembered on this device:")?;
    if entries.is_empty() {
        writeln!(out, "      nothing")?;
    }
    for (shown, forget) in entries {
        writeln!(out, "      * {shown}   (/forget {forget})")?;
    }
    Ok(())
}

/// Runs `sottovoce chat`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.bot).with_context(|| format!("cannot read {}", args.bot.display()))?;
    let bot = crate::build::load_bot_at(&args.bot, &bytes).with_context(|| crate::error_report::InFile(args.bot.clone()))?;
    eprintln!(
        "{} ({} intents). Type a message; a number presses a button; /nlu, /state, /forget, /reset, /quit.",
        bot.definition().name,
        bot.definition().intents.len()
    );
    let catalog = match &args.catalog {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let catalog = sottovoce::Catalog::load(&bytes).with_context(|| crate::error_report::InFile(path.clone()))?;
            Some(Ranker::new(catalog, RankSettings::default()))
        }
        None => None,
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    repl(
        &bot,
        catalog.as_ref(),
        args.locale.as_deref(),
        args.seed,
        args.nlu,
        stdin.lock(),
        &mut stdout,
        args.utc_offset,
        now_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mini() -> Bot {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/bots/mini.json"
        ))
        .unwrap();
        Bot::load(&text).unwrap()
    }

    fn chat(bot: &Bot, locale: &str, input: &str) -> String {
        chat_with(bot, Some(locale), input)
    }

    fn chat_with(bot: &Bot, locale: Option<&str>, input: &str) -> String {
        let mut out = Vec::new();
        let mut t = 1_780_000_000_000;
        repl(bot, None, locale, 1, true, input.as_bytes(), &mut out, 0, || {
            t += 1000;
            t
        })
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_press_buttons_and_links_are_printed() {
        let bot = mini();
        let out = chat(&bot, "en", "3\n/quit\nnot read\n");
        assert!(
            out.starts_with(
                "bot> Hi! I'm Mini Shop Helper. How can I help?\n      [1] Track an order\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("you> Talk to a person\n  (intent human from the button)\n"),
            "{out}"
        );
        assert!(
            out.contains("      help@mini.example: mailto:help@mini.example\n"),
            "{out}"
        );
        assert!(!out.contains("not read"));
    }

    #[test]
    fn spanish_form_with_cancel_button() {
        let bot = mini();
        let out = chat(&bot, "es", "1\n1\n");
        assert!(out.contains("bot> ¿Cuál es tu número de pedido?"), "{out}");
        assert!(out.contains("you> Cancelar\n"), "{out}");
        assert!(
            out.contains("bot> De acuerdo, dejo de buscar el pedido."),
            "{out}"
        );
    }

    #[test]
    fn state_command_prints_the_stored_json() {
        let out = chat(&mini(), "en", "/state\n");
        assert!(out.contains("\"bot_id\":\"mini\""), "{out}");
    }

    #[test]
    fn a_fixed_locale_is_kept_and_without_one_the_language_is_followed() {
        let bot = mini();
        let spanish = "hola, ¿dónde está mi pedido? todavía no ha llegado y estoy preocupado\n";
        let fixed = chat_with(&bot, Some("en"), spanish);
        assert!(fixed.contains("locale es, replies in en"), "{fixed}");
        let followed = chat_with(&bot, None, spanish);
        assert!(followed.contains("locale es, replies in es"), "{followed}");
        let err = repl(&bot, None, Some("it"), 1, false, "".as_bytes(), &mut Vec::new(), 0, || 0).unwrap_err();
        assert!(err.to_string().contains("does not speak `it`"), "{err}");
    }
}
