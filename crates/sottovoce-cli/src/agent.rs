//! `sottovoce agent add`: creates an agent who can sign in to the escalation server's inbox.

use std::io::Read;

use anyhow::{bail, Context};

/// Arguments of `sottovoce agent`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: AgentCommand,
}

#[derive(clap::Subcommand)]
enum AgentCommand {
    /// Create an agent, or set the password of an existing one.
    Add {
        /// The escalation server's database (SQLite file or URL, or `postgres://` URL).
        #[arg(long = "db", env = "SOTTOVOCE_DB", default_value = "sottovoce.db")]
        database_url: String,
        /// The agent's email address (their sign-in name).
        #[arg(long)]
        email: String,
        /// Read the password from standard input (first line) instead of a prompt-less flag,
        /// so it never appears in the shell history or the process list.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make them an owner: they also see the KPI dashboard (`/inbox/dashboard.html`).
        /// Without it an existing owner keeps the role.
        #[arg(long)]
        owner: bool,
    },
}

/// Runs `sottovoce agent`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        AgentCommand::Add { database_url, email, password_stdin, owner } => {
            if !password_stdin {
                bail!("give the password on standard input with --password-stdin");
            }
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input).context("reading the password from standard input")?;
            let password = input.lines().next().unwrap_or("").to_owned();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime
                .block_on(sottovoce_server::create_agent(&database_url, &email, &password))
                .with_context(|| format!("adding agent {email}"))?;
            if owner {
                runtime.block_on(sottovoce_server::set_owner(&database_url, &email, true)).with_context(|| format!("making {email} an owner"))?;
            }
            let role = if owner { "owner" } else { "agent" };
            println!("{role} {} can now sign in", email.trim().to_lowercase());
            Ok(())
        }
    }
}
