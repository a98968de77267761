//! `sottovoce serve`: the demo site (widget, npm package, compiled bots) over HTTP, with the
//! strict Content-Security-Policy the widget promises to work under.
//!
//! Layout of the site:
//!
//! | path                | from                                                         |
//! |---------------------|--------------------------------------------------------------|
//! | `/`                 | the `--www` folder (the demo page and `sottovoce.js`)        |
//! | `/pkg/`             | the `--pkg` folder (wasm-pack's output)                      |
//! | `/bots/<stem>.svm`  | each `--bot` definition, compiled at startup with [`Bot`]    |
//! | `/bots/<stem>.common.svm`, `/bots/<stem>.<locale>.svm` | the same model in parts (`sottovoce build --split`) |
//! | `/bots/<stem>.json` | the same definition as written (the train-in-page path)     |
//! | `/catalog/<stem>.svc` | each `<www>/catalog/*.jsonl`, compiled at startup (`build --catalog`) |
//!
//! | `/api/`, `/inbox/`, `/healthz`, `/metrics` | the escalation server ([`sottovoce_server`]) |
//!
//! [`router`] builds the whole site as an axum `Router`; [`with_escalation`] merges the
//! escalation server's router into it (one origin, so the widget needs no CORS), and tests drive
//! both without a socket.

use crate::gzip::gzip;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use sottovoce::Bot;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy sent with every response: nothing inline, no `eval`; only
/// WebAssembly compilation (`'wasm-unsafe-eval'`) beyond `'self'`.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

/// Media type of a compiled model file.
const MODEL_MEDIA_TYPE: &str = "application/octet-stream";

/// Arguments of `sottovoce serve`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// TCP port; 0 picks a free one (the URL printed says which).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Folder served at `/` (the demo page and the widget script).
    #[arg(long, default_value = "www")]
    www: PathBuf,
    /// Folder served at `/pkg/` (the npm package built by `make pkg`).
    #[arg(long, default_value = "pkg")]
    pkg: PathBuf,
    /// Bot definition (JSON) to compile at startup and serve as `/bots/<stem>.svm` and
    /// `/bots/<stem>.json`; repeatable. Default: every `*.json` in `<www>/bots/`.
    #[arg(long = "bot")]
    bots: Vec<PathBuf>,
    /// Create (or reset) an agent at start, as `EMAIL:PASSWORD` (at least 8 characters), with
    /// the `owner` role (the KPI dashboard), and print the credentials: for the demo only.
    #[arg(long, env = "SOTTOVOCE_DEMO_AGENT", value_name = "EMAIL:PASSWORD", hide_env_values = true)]
    demo_agent: Option<String>,
    /// The escalation server mounted on the same origin (`--db`, `--allow-origin`, ...).
    /// `--inbox-bot` defaults to the first served bot.
    #[command(flatten)]
    escalation: sottovoce_server::cli::EscalationArgs,
}

/// One bot as served: its definition text and its compiled model.
#[derive(Clone)]
pub(crate) struct ServedBot {
    /// File stem, the name under `/bots/`.
    pub(crate) stem: String,
    /// The definition JSON as read.
    pub(crate) definition: String,
    /// The model file (`Bot::to_model`).
    pub(crate) model: Vec<u8>,
    /// The model file gzipped once at startup (compressing half a megabyte on every request
    /// costs about 90 ms here).
    pub(crate) model_gzip: Vec<u8>,
    /// The same model in parts, served as `<stem>.<name>.svm`: `("common", file, gzip)`, then
    /// one per locale; empty for a bot served whole only.
    pub(crate) parts: Vec<(String, Vec<u8>, Vec<u8>)>,
}

impl ServedBot {
    /// Reads and compiles the definition at `path`.
    ///
    /// # Errors
    /// The file cannot be read or the definition does not load (the core's message, with the path).
    pub(crate) fn compile(path: &Path) -> anyhow::Result<ServedBot> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: the file name is not valid UTF-8", path.display()))?
            .to_owned();
        let definition =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let bot = Bot::from_json(&definition).with_context(|| format!("{}", path.display()))?;
        let mut served = ServedBot::new(stem, definition, bot.to_model());
        if bot.definition().locales.len() > 1 {
            let (common, parts) = bot.to_model_parts().with_context(|| format!("{}: splitting the model by locale", path.display()))?;
            served.parts = std::iter::once(("common".to_owned(), common))
                .chain(parts)
                .map(|(name, bytes)| {
                    let gz = gzip(&bytes);
                    (name, bytes, gz)
                })
                .collect();
        }
        Ok(served)
    }

    /// A served bot from its parts; gzips the model.
    pub(crate) fn new(stem: String, definition: String, model: Vec<u8>) -> ServedBot {
        let model_gzip = gzip(&model);
        ServedBot { stem, definition, model, model_gzip, parts: Vec::new() }
    }
}

/// A model file's response: gzipped when the client takes gzip.
fn model_response(headers: &HeaderMap, raw: Vec<u8>, gzip: Vec<u8>) -> axum::response::Response {
    let vary = (header::VARY, "accept-encoding");
    if accepts_gzip(headers) {
        ([(header::CONTENT_TYPE, MODEL_MEDIA_TYPE), (header::CONTENT_ENCODING, "gzip"), vary], gzip).into_response()
    } else {
        ([(header::CONTENT_TYPE, MODEL_MEDIA_TYPE), vary], raw).into_response()
    }
}

/// True when the request's `Accept-Encoding` lists gzip (q=0 is not honoured as a refusal,
/// which no browser sends for gzip).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")))
}

/// The demo site: `www` at `/`, `pkg` at `/pkg/`, each bot under `/bots/`, with the CSP,
/// `nosniff`, `no-cache` (so a rebuilt `pkg/` shows on reload) and gzip on every response.
pub(crate) fn router(www: &Path, pkg: &Path, bots: &[ServedBot], catalogs: &[(String, Vec<u8>)]) -> Router {
    let mut app = Router::new();
    for (stem, bytes) in catalogs {
        let bytes = bytes.clone();
        app = app.route(
            &format!("/catalog/{stem}.svc"),
            get(move || async move { ([(header::CONTENT_TYPE, MODEL_MEDIA_TYPE)], bytes).into_response() }),
        );
    }
    for bot in bots {
        let (model, model_gzip) = (bot.model.clone(), bot.model_gzip.clone());
        let definition = bot.definition.clone();
        app = app
            .route(
                &format!("/bots/{}.svm", bot.stem),
                get(move |headers: HeaderMap| async move { model_response(&headers, model, model_gzip) }),
            )
            .route(
                &format!("/bots/{}.json", bot.stem),
                get(move || async move { ([(header::CONTENT_TYPE, "application/json")], definition).into_response() }),
            );
    }
    for bot in bots {
        for (name, raw, gz) in &bot.parts {
            let (raw, gz) = (raw.clone(), gz.clone());
            app = app.route(
                &format!("/bots/{}.{name}.svm", bot.stem),
                get(move |headers: HeaderMap| async move { model_response(&headers, raw, gz) }),
            );
        }
    }
    // `make pkg` writes .gz siblings of the big files; ServeDir sends them to gzip clients and
    // the compression layer leaves already-encoded responses alone.
    app.nest_service("/pkg", ServeDir::new(pkg).precompressed_gzip())
        .fallback_service(ServeDir::new(www).precompressed_gzip())
        .layer(CompressionLayer::new().gzip(true))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
}

/// The demo site with the escalation server merged in. The site's layers (CSP, gzip,
/// `no-cache`) stay on the site's routes; the server's routes keep their own headers (the inbox
/// its stricter CSP, the event streams no compression).
pub(crate) fn with_escalation(site: Router, escalation: Router) -> Router {
    site.merge(escalation)
}

/// Splits `EMAIL:PASSWORD` at the first colon.
fn parse_demo_agent(value: &str) -> anyhow::Result<(&str, &str)> {
    value
        .split_once(':')
        .filter(|(email, password)| !email.trim().is_empty() && !password.is_empty())
        .context("--demo-agent must be EMAIL:PASSWORD")
}

/// The bot definitions to serve: the ones named, or every `*.json` in `<www>/bots/`.
fn bot_paths(args: &Args) -> anyhow::Result<Vec<PathBuf>> {
    if !args.bots.is_empty() {
        return Ok(args.bots.clone());
    }
    let dir = args.www.join("bots");
    let mut paths = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    Ok(paths)
}

/// Every `<www>/catalog/*.jsonl`, compiled at startup (`sottovoce build --catalog`), to serve
/// as `/catalog/<stem>.svc`: (stem, compiled bytes).
///
/// # Errors
/// A catalog that does not read (its path, line and field).
fn catalogs(www: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(www.join("catalog")) else { return Ok(out) };
    for entry in entries {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).filter(|_| path.extension().is_some_and(|e| e == "jsonl")) else { continue };
        let bytes = crate::build_catalog::read_catalog(&path)?.to_bytes();
        eprintln!("sottovoce serve: compiled {} -> /catalog/{stem}.svc ({} bytes)", path.display(), bytes.len());
        out.push((stem.to_owned(), bytes));
    }
    out.sort();
    Ok(out)
}

/// Runs `sottovoce serve` until Ctrl-C.
///
/// # Errors
/// A bot does not compile, a folder is missing, or the port cannot be bound.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.www.is_dir(), "--www {}: no such folder", args.www.display());
    if !args.pkg.is_dir() {
        eprintln!("sottovoce serve: warning: {} does not exist yet; run `make pkg`", args.pkg.display());
    }
    let mut bots = Vec::new();
    for path in bot_paths(&args)? {
        let started = Instant::now();
        let bot = ServedBot::compile(&path)?;
        eprintln!(
            "sottovoce serve: compiled {} -> /bots/{}.svm ({} bytes, {} ms)",
            path.display(),
            bot.stem,
            bot.model.len(),
            started.elapsed().as_millis()
        );
        bots.push(bot);
    }
    let site = router(&args.www, &args.pkg, &bots, &catalogs(&args.www)?);
    let mut escalation = args.escalation.clone();
    if escalation.bot_path.is_none() {
        escalation.bot_path = bot_paths(&args)?.into_iter().next();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        if let Some(value) = &args.demo_agent {
            let (email, password) = parse_demo_agent(value)?;
            sottovoce_server::create_agent(&escalation.database_url, email, password)
                .await
                .with_context(|| format!("creating the demo agent {email}"))?;
            sottovoce_server::set_owner(&escalation.database_url, email, true)
                .await
                .with_context(|| format!("making the demo agent {email} an owner"))?;
        }
        let server = sottovoce_server::build_app(escalation.to_config())
            .await
            .with_context(|| format!("starting the escalation server on {}", escalation.database_url))?;
        let app = with_escalation(site, server);
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
        println!("sottovoce: serving the demo at http://{host}:{}/", addr.port());
        println!("sottovoce: agent inbox at http://{host}:{}/inbox/ (database {})", addr.port(), escalation.database_url);
        if let Some((email, password)) = args.demo_agent.as_deref().and_then(|v| v.split_once(':')) {
            println!("sottovoce: demo agent: {email} / {password}");
        }
        // Connect info gives the escalation server's per-IP rate limit the client's address.
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("server failed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;

    fn site() -> (tempdir::Dir, Router) {
        let dir = tempdir::Dir::new();
        std::fs::write(dir.path().join("index.html"), "<!doctype html><title>t</title>").unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/x_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        let bots = vec![
            ServedBot::new("demo".into(), "{}".into(), b"SVM\0\x01\0".to_vec()),
            ServedBot::new("big".into(), "x".repeat(4096), Vec::new()),
        ];
        let app = router(dir.path(), &dir.path().join("pkg"), &bots, &[]);
        (dir, app)
    }

    async fn get(app: Router, uri: &str) -> axum::response::Response {
        app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn every_response_carries_the_csp() {
        let (_dir, app) = site();
        for uri in ["/", "/pkg/x_bg.wasm", "/bots/demo.svm", "/missing"] {
            let res = get(app.clone(), uri).await;
            assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY, "{uri}");
            assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        }
    }

    #[tokio::test]
    async fn serves_www_pkg_and_bots_with_their_media_types() {
        let (_dir, app) = site();
        let res = get(app.clone(), "/").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        let res = get(app.clone(), "/pkg/x_bg.wasm").await;
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/wasm");
        let res = get(app.clone(), "/bots/demo.svm").await;
        assert_eq!(res.headers()[header::CONTENT_TYPE], MODEL_MEDIA_TYPE);
        let res = get(app.clone(), "/bots/demo.json").await;
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(get(app, "/bots/other.svm").await.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn compresses_with_gzip_when_asked() {
        let (_dir, app) = site();
        let req = Request::get("/bots/big.json").header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    }

    #[tokio::test]
    async fn the_model_is_sent_gzipped_once_not_twice() {
        use std::io::Read as _;
        let (_dir, app) = site();
        let req = Request::get("/bots/demo.svm").header(header::ACCEPT_ENCODING, "br, gzip").body(Body::empty()).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        let mut model = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut model).unwrap();
        assert_eq!(model, b"SVM\0\x01\0");
        let res = get(app, "/bots/demo.svm").await;
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&body[..], b"SVM\0\x01\0");
    }

    #[tokio::test]
    async fn a_bot_of_several_locales_is_served_in_parts_too() {
        let dir = tempdir::Dir::new();
        let mini = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/bots/mini.json");
        let bot = ServedBot::compile(Path::new(mini)).unwrap();
        assert_eq!(bot.parts.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["common", "en", "es"]);
        let app = router(dir.path(), dir.path(), &[bot.clone()], &[]);
        let body = |res: axum::response::Response| async { axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap() };
        let common = body(get(app.clone(), "/bots/mini.common.svm").await).await;
        let es = body(get(app.clone(), "/bots/mini.es.svm").await).await;
        let mut split = Bot::from_model(&common).unwrap();
        assert_eq!(split.add_locale(&es).unwrap(), "es");
        let whole = Bot::from_model(&body(get(app.clone(), "/bots/mini.svm").await).await).unwrap();
        assert_eq!(whole.definition().locales, split.definition().locales);
        assert_eq!(get(app, "/bots/mini.fr.svm").await.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn precompressed_package_files_are_preferred() {
        let (dir, app) = site();
        std::fs::write(dir.path().join("pkg/x_bg.wasm.gz"), b"pretend gzip").unwrap();
        let req = Request::get("/pkg/x_bg.wasm").header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/wasm");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&body[..], b"pretend gzip");
    }

    #[tokio::test]
    async fn the_escalation_server_shares_the_origin() {
        let (dir, site) = site();
        let db = dir.path().join("esc.db");
        let server = sottovoce_server::build_app(sottovoce_server::Config::new(db.display().to_string())).await.unwrap();
        let app = with_escalation(site, server);
        let res = get(app.clone(), "/healthz").await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = get(app.clone(), "/inbox/").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], sottovoce_server::inbox::CSP);
        let res = get(app.clone(), "/api/openapi.json").await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = get(app.clone(), "/").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        let req = Request::post("/api/escalations")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"locale":"en","transcript":[{"author":"visitor","text":"a person please"}]}"#))
            .unwrap();
        assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::CREATED);
    }

    #[test]
    fn demo_agent_is_email_colon_password() {
        assert_eq!(parse_demo_agent("a@b.example:pass:word").unwrap(), ("a@b.example", "pass:word"));
        assert!(parse_demo_agent("nocolon").is_err());
        assert!(parse_demo_agent(":pw").is_err());
    }

    /// A temporary folder removed on drop (std only, to avoid a dev-dependency).
    mod tempdir {
        pub(super) struct Dir(std::path::PathBuf);
        impl Dir {
            pub(super) fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "sottovoce-serve-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
            pub(super) fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
