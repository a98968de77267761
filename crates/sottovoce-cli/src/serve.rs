//! `sottovoce serve`: not written yet.

/// Arguments of `sottovoce serve`.
#[derive(clap::Args)]
pub(crate) struct Args {}

/// Runs `sottovoce serve`.
pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`sottovoce serve` is not implemented yet")
}
