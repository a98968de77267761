//! `sottovoce-loadgen`: the escalation load benchmark.
//!
//! Starts `sottovoce-server` (next to this binary) on a fresh database, or targets `--url`,
//! then keeps `--concurrency` clients posting escalations (a four-message transcript with
//! annotations and an idempotency key, as the widget sends) for `--duration` seconds after a
//! warm-up, over keep-alive HTTP/1.1 connections. Prints escalations per second and latency
//! percentiles, and records the run in `--out` (JSON; one entry per `--label`, replaced on
//! re-run). Every answered escalation is then read back through the visitor API (`--verify`)
//! to prove it was stored, not just acknowledged.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};

/// Escalation load benchmark.
#[derive(Parser)]
#[command(name = "sottovoce-loadgen", about)]
struct Args {
    /// A running server to load (`http://127.0.0.1:8080`); without it, one is started.
    #[arg(long)]
    url: Option<String>,
    /// Database for the started server (default: a fresh SQLite file in a temp directory).
    #[arg(long)]
    db: Option<String>,
    /// Clients sending at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unmeasured seconds before.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Name of this run in the results file (`sqlite`, `postgres`…).
    #[arg(long, default_value = "sqlite")]
    label: String,
    /// Results file (JSON).
    #[arg(long, default_value = "bench-results/escalation-load.json")]
    out: PathBuf,
    /// Read back this many of the answered escalations (0: all of them).
    #[arg(long, default_value_t = 0)]
    verify: usize,
    /// Durability run: SIGKILL the started server this many seconds into the measured load,
    /// restart it on the same database, and read back every escalation answered 2xx.
    #[arg(long, conflicts_with = "url")]
    kill_after: Option<f64>,
}

fn escalation(worker: usize, n: u64) -> Value {
    json!({
        "idempotency_key": format!("loadgen-{}-{worker}-{n}", std::process::id()),
        "locale": "en",
        "bot_id": "store",
        "page_url": "https://shop.example/jackets/alpine-shell",
        "profile": { "name": "Load Test", "visits": 2 },
        "transcript": [
            { "author": "visitor", "text": "where is my order CU-482913?", "intent": "order_status", "confidence": 0.93, "sentiment": -0.1 },
            { "author": "bot", "text": "Your order CU-482913 is on its way: https://shop.example/track/CU-482913" },
            { "author": "visitor", "text": "it says delivered but nothing arrived, this is ridiculous", "intent": "complaint", "confidence": 0.71, "sentiment": -0.8 },
            { "author": "visitor", "text": "I want to talk to a person", "intent": "human", "confidence": 0.96, "sentiment": -0.4 }
        ]
    })
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

struct Spawned {
    child: std::process::Child,
    _dir: Option<tempfile_dir::TempDir>,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throw-away directory without another dependency.
mod tempfile_dir {
    pub(crate) struct TempDir(pub(crate) std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn spawn_server(db: Option<&str>) -> anyhow::Result<(Spawned, String, String)> {
    use std::io::BufRead;
    let (db, dir) = match db {
        Some(db) => (db.to_owned(), None),
        None => {
            let dir = std::env::temp_dir().join(format!("sottovoce-loadgen-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            (format!("sqlite://{}?mode=rwc", dir.join("load.db").display()), Some(tempfile_dir::TempDir(dir)))
        }
    };
    let exe = std::env::current_exe()?.with_file_name("sottovoce-server");
    let mut child = std::process::Command::new(&exe)
        .args(["--addr", "127.0.0.1:0", "--no-rate-limit", "--db", &db])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let mut reader = std::io::BufReader::new(child.stdout.take().context("stdout")?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    std::thread::spawn(move || for _ in reader.lines() {});
    let Some(base) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
        bail!("the server did not start: {line:?}");
    };
    Ok((Spawned { child, _dir: dir }, base, db))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (mut server, mut base, db) = match &args.url {
        Some(url) => (None, url.trim_end_matches('/').to_owned(), "external".to_owned()),
        None => {
            let (server, base, db) = spawn_server(args.db.as_deref())?;
            (Some(server), base, db)
        }
    };
    let backend = if db.starts_with("postgres") { "postgres" } else if db == "external" { "external" } else { "sqlite" };
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let endpoint = format!("{base}/api/escalations");

    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let (client, endpoint, measuring, stop, errors) =
            (client.clone(), endpoint.clone(), measuring.clone(), stop.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies_us: Vec<u32> = Vec::new();
            let mut answered: Vec<(String, String)> = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = escalation(worker, n).to_string();
                let started = Instant::now();
                let result = client.post(&endpoint).header("content-type", "application/json").body(body).send().await;
                let ok = match result {
                    Ok(response) if response.status().is_success() => {
                        let value: Value = response.json().await.unwrap_or(Value::Null);
                        let elapsed = started.elapsed();
                        if let (Some(id), Some(token)) = (value["id"].as_str(), value["token"].as_str()) {
                            answered.push((id.to_owned(), token.to_owned()));
                        }
                        if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                            latencies_us.push(elapsed.as_micros().min(u32::MAX as u128) as u32);
                        }
                        true
                    }
                    _ => false,
                };
                if !ok && measuring.load(Ordering::Relaxed) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            (latencies_us, answered)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let mut killed = None;
    if let (Some(after), Some(spawned)) = (args.kill_after, server.as_mut()) {
        tokio::time::sleep(Duration::from_secs_f64(after)).await;
        let _ = spawned.child.kill(); // SIGKILL: no shutdown, no flush
        let _ = spawned.child.wait();
        killed = Some(started.elapsed().as_secs_f64());
        // Keep the load on against the dead server for a moment, as clients would.
        tokio::time::sleep(Duration::from_millis(500)).await;
    } else {
        // A bar over the measured seconds, for a person at a terminal (indicatif draws nothing
        // when stderr is piped, as in CI and the benchmark script).
        let tenths = (args.duration * 10.0).round() as u64;
        let bar = indicatif::ProgressBar::new(tenths);
        bar.set_style(
            indicatif::ProgressStyle::with_template("load [{bar:30}] {elapsed}/{msg}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("{:.0}s", args.duration));
        while started.elapsed().as_secs_f64() < args.duration {
            let left = args.duration - started.elapsed().as_secs_f64();
            tokio::time::sleep(Duration::from_secs_f64(left.clamp(0.0, 0.1))).await;
            bar.set_position((started.elapsed().as_secs_f64() * 10.0) as u64);
        }
        bar.finish_and_clear();
    }
    stop.store(true, Ordering::Relaxed);
    let measured = killed.unwrap_or_else(|| started.elapsed().as_secs_f64());

    let mut latencies = Vec::new();
    let mut answered = Vec::new();
    for worker in workers {
        let (l, a) = worker.await?;
        latencies.extend(l);
        answered.extend(a);
    }
    latencies.sort_unstable();
    let rate = latencies.len() as f64 / measured;
    let (p50, p90, p99, max) =
        (percentile(&latencies, 50.0), percentile(&latencies, 90.0), percentile(&latencies, 99.0), percentile(&latencies, 100.0));
    let errors = errors.load(Ordering::Relaxed);

    // After a kill: restart on the same database (the temporary directory stays with us).
    let mut _restarted = None;
    if killed.is_some() {
        let dir = server.take().and_then(|mut s| s._dir.take());
        let (mut restarted, restarted_base, _) = spawn_server(Some(&db))?;
        restarted._dir = dir;
        base = restarted_base;
        _restarted = Some(restarted);
    }
    // Read every answered escalation back (or a sample), through the visitor API.
    let sample: Vec<&(String, String)> = match answered.len().checked_div(args.verify) {
        None => answered.iter().collect(),
        Some(step) => answered.iter().step_by(step.max(1)).collect(),
    };
    let mut missing = 0usize;
    for chunk in sample.chunks(64) {
        let checks = chunk.iter().map(|(id, token)| {
            let request = client.get(format!("{base}/api/escalations/{id}/messages")).bearer_auth(token).send();
            async move {
                match request.await {
                    Ok(r) if r.status().is_success() => r.json::<Value>().await.map(|v| v["messages"].as_array().map_or(0, Vec::len) == 4).unwrap_or(false),
                    _ => false,
                }
            }
        });
        missing += futures_util::future::join_all(checks).await.into_iter().filter(|ok| !ok).count();
    }

    // What else the machine was doing: the load average when the run ended, and our niceness
    // (field 19 of /proc/self/stat), so a result taken on a shared machine says so.
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok().and_then(|t| t.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()));
    let nice = std::fs::read_to_string("/proc/self/stat").ok().and_then(|t| {
        let after_name = t.rsplit_once(')')?.1.to_owned();
        after_name.split_whitespace().nth(16).and_then(|x| x.parse::<i64>().ok())
    });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    if let Some(at) = killed {
        println!(
            "{}: SIGKILL {:.1} s into the load ({} clients); {} escalations had been answered 2xx; \
             after restart {} found complete, {} missing",
            args.label, at, args.concurrency, answered.len(), sample.len() - missing, missing
        );
    }
    println!(
        "{}: {:.0} escalations/s over {:.1} s with {} clients ({} cores, server and load generator together); \
         latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} errors; {} of {} read back, {} missing",
        args.label, rate, measured, args.concurrency, cores, p50, p90, p99, max, errors, sample.len() - missing, sample.len(), missing
    );

    let run = json!({
        "label": args.label,
        "backend": backend,
        "escalations_per_second": (rate * 10.0).round() / 10.0,
        "latency_ms": { "p50": p50, "p90": p90, "p99": p99, "max": max },
        "requests_measured": latencies.len(),
        "errors": errors,
        "verified": sample.len() - missing,
        "missing": missing,
        "concurrency": args.concurrency,
        "duration_s": (measured * 100.0).round() / 100.0,
        "warmup_s": args.warmup,
        "transcript_messages": 4,
        "cores": cores,
        "load_average_1m_at_end": loadavg,
        "nice": nice,
        "measured_at_unix_ms": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
        "note": match backend {
            "sqlite" => "server and load generator share the machine; SQLite file in WAL mode, synchronous=NORMAL",
            "postgres" => "server, load generator and PostgreSQL (default settings, fsync on) share the machine",
            _ => "external server",
        },
        "goal": { "escalations_per_second": 2000, "p99_ms": 50 },
        "sigkill_after_s": killed,
        "answered_2xx": answered.len(),
    });
    let mut results: BTreeMap<String, Value> = std::fs::read_to_string(&args.out)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| serde_json::from_value(v["runs"].clone()).ok())
        .unwrap_or_default();
    results.insert(args.label.clone(), run);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let doc = json!({ "benchmark": "escalation load (POST /api/escalations)", "tool": "sottovoce-loadgen", "runs": results });
    std::fs::write(&args.out, serde_json::to_string_pretty(&doc)? + "\n").with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote {}", args.out.display());
    if missing > 0 {
        bail!("{missing} answered escalations could not be read back");
    }
    Ok(())
}
