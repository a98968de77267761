//! The `sottovoce` command: build models, chat in the terminal, evaluate, serve the demo.
//!
//! Each subcommand lives in its own module and reuses the core crate; nothing here
//! re-implements chatbot logic.

use clap::{Parser, Subcommand};

mod agent;
mod build;
mod build_catalog;
mod chat;
mod check;
mod crossval;
mod eval;
mod eval_catalog;
mod init;
mod report;
mod serve;
mod suggest;
mod test;

/// sottovoce: a private customer-service chatbot that runs in the visitor's browser.
#[derive(Parser)]
#[command(name = "sottovoce", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a bot definition (JSON) into a model file the widget loads without training.
    Build(build::Args),
    /// Chat with a bot in the terminal (definition JSON or model file).
    Chat(chat::Args),
    /// Train on a JSONL split and report accuracy, latency and model size.
    Eval(eval::Args),
    /// Manage the agents who answer escalations in the inbox.
    Agent(agent::Args),
    /// Run story files (YAML conversations) against a bot; non-zero exit on a failing turn.
    Test(test::Args),
    /// Serve the demo site and the escalation server (API, agent inbox) on one origin.
    Serve(serve::Args),
    /// Create a new bot (definition, facts, stories, README) from a template.
    Init(init::Args),
    /// Report confusable intents (cross-validation), duplicated and thin examples; exit 1 on errors.
    Check(check::Args),
    /// Write an evaluation page (HTML): confusion matrix, per-intent scores, threshold curve.
    Report(report::Args),
    /// Group unmatched utterances into candidate intents and examples, as a definition patch.
    Suggest(suggest::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Build(args) => match &args.catalog {
            Some(catalog) => build_catalog::run(catalog, args.output.as_deref()),
            None => build::run(args),
        },
        Command::Chat(args) => chat::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Test(args) => test::run(args),
        Command::Init(args) => init::run(args),
        Command::Check(args) => check::run(args),
        Command::Report(args) => report::run(args),
        Command::Suggest(args) => suggest::run(args),
    }
}
