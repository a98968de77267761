//! `sottovoce-server`: the escalation server alone (no demo site), for tests and benchmarks.
//!
//! `sottovoce serve` mounts the same router next to the demo; this binary exists so the
//! durability test, the two-process test and the load benchmark can start, kill and restart a
//! real server process. It prints `listening on http://<addr>` once it accepts connections.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;

/// The sottovoce escalation server.
#[derive(Parser)]
#[command(name = "sottovoce-server", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
    #[command(flatten)]
    escalation: sottovoce_server::cli::EscalationArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let app = sottovoce_server::build_app(args.escalation.to_config()).await.context("starting the escalation server")?;
    let listener = tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
