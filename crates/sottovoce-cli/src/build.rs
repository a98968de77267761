//! `sottovoce build`: not written yet.

/// Arguments of `sottovoce build`.
#[derive(clap::Args)]
pub(crate) struct Args {}

/// Runs `sottovoce build`.
pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`sottovoce build` is not implemented yet")
}
