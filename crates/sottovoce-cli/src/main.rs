//! The `sottovoce` command: build models, chat in the terminal, evaluate, serve the demo.

fn main() -> anyhow::Result<()> {
    Ok(())
}
