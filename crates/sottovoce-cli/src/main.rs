//! The `sottovoce` command: build models, chat in the terminal, evaluate, serve the demo.
//!
//! Each subcommand lives in its own module and reuses the core crate; nothing here
//! re-implements chatbot logic. Failures are reported by [`report`]: one line per problem with
//! its file, line and field, exit status 1 (2 for a usage error, as clap reports it).

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

mod agent;
mod build;
mod build_catalog;
mod chat;
mod check;
mod crossval;
mod encoder;
mod eval;
mod error_report;
mod eval_catalog;
mod gzip;
mod init;
mod progress;
mod report;
mod serve;
mod suggest;
mod test;

/// sottovoce: a private customer-service chatbot that runs in the visitor's browser.
#[derive(Parser)]
#[command(
    name = "sottovoce",
    version,
    about,
    after_help = "Examples:\n  sottovoce build www/bots/store.json --split\n  sottovoce chat www/bots/store.json\n  \
                  sottovoce test tests/stories/*.yaml\n  sottovoce serve --port 8080\n  \
                  sottovoce completions bash > ~/.local/share/bash-completion/completions/sottovoce\n\n\
                  Errors name the file, line and field; set RUST_BACKTRACE=1 for the whole chain of causes."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a bot definition (JSON) into a model file the widget loads without training.
    #[command(after_help = "Examples:\n  \
        sottovoce build www/bots/store.json                  writes www/bots/store.svm\n  \
        sottovoce build www/bots/store.json -o dist/bot.svm\n  \
        sottovoce build www/bots/store.json --split          also store.common.svm + store.<locale>.svm\n  \
        sottovoce build --catalog www/catalog/cumbre.jsonl   writes www/catalog/cumbre.svc")]
    Build(build::Args),
    /// Chat with a bot in the terminal (definition JSON or model file).
    #[command(after_help = "Examples:\n  \
        sottovoce chat www/bots/store.json\n  \
        sottovoce chat www/bots/store.svm --nlu              show intent and confidence per message\n  \
        sottovoce chat www/bots/store.json --locale es --utc-offset 60\n  \
        sottovoce chat www/bots/store.json --catalog www/catalog/cumbre.jsonl   products, as on the demo page\n  \
        echo 'where is my order?' | sottovoce chat www/bots/store.json\n\n\
        In the chat: /nlu, /state, /forget ENTITY VALUE (or all), /reset, /quit; a number presses that quick reply.")]
    Chat(chat::Args),
    /// Train on a JSONL split and report accuracy, latency and model size.
    #[command(after_help = "Examples:\n  \
        sottovoce eval --train data/train.jsonl --val data/val.jsonl --test data/test.jsonl\n  \
        sottovoce eval --train data/train.jsonl --test data/test.jsonl --json results.json --model out.svm\n  \
        sottovoce eval --train data/train.jsonl --test data/test.jsonl --noise typos\n\n\
        Rows are {\"text\": ..., \"intent\": ...} (intent `oos` for out of scope); settings are chosen on --val, never on --test.")]
    Eval(eval::Args),
    /// Manage the agents who answer escalations in the inbox.
    #[command(after_help = "Examples:\n  \
        printf '%s\\n' \"$PASSWORD\" | sottovoce agent add --db sottovoce.db --email ana@shop.example --password-stdin")]
    Agent(agent::Args),
    /// Run story files (YAML conversations) against a bot; non-zero exit on a failing turn.
    #[command(after_help = "Examples:\n  \
        sottovoce test tests/stories/*.yaml\n  \
        sottovoce test tests/stories/locale.yaml --bot www/bots/store.svm   the compiled model instead of each file's `bot`")]
    Test(test::Args),
    /// Serve the demo site and the escalation server (API, agent inbox) on one origin.
    #[command(after_help = "Examples:\n  \
        sottovoce serve                                      http://127.0.0.1:8080/, www/ and pkg/ from here\n  \
        sottovoce serve --port 0 --bot www/bots/store.json   any free port; the bot compiled at startup\n  \
        SOTTOVOCE_DEMO_AGENT=me@shop.example:secret sottovoce serve --db demo.db")]
    Serve(serve::Args),
    /// Create a new bot (definition, facts, stories, README) from a template.
    Init(init::Args),
    /// Report confusable intents (cross-validation), duplicated and thin examples; exit 1 on errors.
    Check(check::Args),
    /// Write an evaluation page (HTML): confusion matrix, per-intent scores, threshold curve.
    Report(report::Args),
    /// Group unmatched utterances into candidate intents and examples, as a definition patch.
    Suggest(suggest::Args),
    /// Print a shell completion script to standard output.
    #[command(after_help = "Examples:\n  \
        sottovoce completions bash > ~/.local/share/bash-completion/completions/sottovoce\n  \
        sottovoce completions zsh > \"${fpath[1]}/_sottovoce\"\n  \
        sottovoce completions fish > ~/.config/fish/completions/sottovoce.fish")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
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
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "sottovoce", &mut std::io::stdout());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", error_report::render(&error, error_report::backtrace_requested()));
            ExitCode::FAILURE
        }
    }
}
