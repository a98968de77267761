//! `sottovoce chat`: not written yet.

/// Arguments of `sottovoce chat`.
#[derive(clap::Args)]
pub(crate) struct Args {}

/// Runs `sottovoce chat`.
pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`sottovoce chat` is not implemented yet")
}
