//! `sottovoce eval`: not written yet.

/// Arguments of `sottovoce eval`.
#[derive(clap::Args)]
pub(crate) struct Args {}

/// Runs `sottovoce eval`.
pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`sottovoce eval` is not implemented yet")
}
