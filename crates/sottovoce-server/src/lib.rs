//! The sottovoce escalation server: where a visitor's conversation goes when they need a person.
//!
//! The bot itself runs in the visitor's browser; this server only sees a conversation once the
//! visitor has agreed to hand it to a human. It stores the escalation (transcript with the bot's
//! per-message annotations, the profile fields the owner allows, the locale), hands the visitor
//! an unguessable bearer token for that one conversation, streams agent replies back over
//! Server-Sent Events, and serves the agent inbox (sign-in, list, transcript, suggested replies,
//! reply, resolve).
//!
//! Design decisions and their reasons:
//! - **One SQL dialect, two databases.** Queries go through `sqlx::Any` with `$n` placeholders,
//!   which both SQLite and PostgreSQL accept; only the migrations differ (auto-increment ids).
//!   SQLite (a file, WAL, `synchronous=NORMAL`) is the default because it needs nothing
//!   installed; WAL mode keeps every committed transaction across a process kill (SIGKILL), which
//!   the durability test checks. `synchronous=NORMAL` may lose the last commits on power loss.
//! - **Live delivery is a doorbell, not a pipe.** A change publishes only "conversation X
//!   changed"; every SSE stream then reads what is new from the database, after the last event
//!   id it sent. So a missed or duplicated notification can never lose or duplicate a message,
//!   and a reconnecting client resumes with `Last-Event-ID`. With PostgreSQL the doorbell is
//!   `LISTEN/NOTIFY`, so any number of server processes share one database.
//! - **Secrets are stored hashed.** Visitor tokens and session cookies are 256 random bits from
//!   the OS; the database keeps their SHA-256. A retried escalation with the same idempotency key
//!   gets its token back from a copy sealed with a hash of that key, which only the client knows.
//! - **Text is text.** The server never renders HTML from messages; the inbox builds text nodes
//!   and is served with a strict Content-Security-Policy.
//!
//! Entry points: [`Config`] and [`build_app`] (connects, migrates, starts background tasks and
//! returns the [`axum::Router`]), [`create_agent`] for the `sottovoce agent add` command.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

/// Messaging channels (generic JSON webhook, Telegram) running the bot in the server.
pub mod channel;
/// Agent sign-in, sessions and the agent API (list, open, reply, resolve, live events).
pub mod agents;
/// Agent assist: a summary of the conversation (intents in order, mood trend, counts).
pub mod assist;
/// The visitor API: create an escalation, post and read messages, stream replies.
pub mod api;
/// Command-line options for the escalation server, to flatten into `sottovoce serve`.
pub mod cli;
/// The JSON error type every handler returns, and the JSON body extractor.
pub mod error;
/// The agent inbox page (HTML, JS, CSS compiled in) served under `/inbox/`.
pub mod inbox;
/// Identity verification: the site's HMAC of a customer id, checked in constant time.
pub mod identity;
/// Questions visitors agreed to share: stored, grouped by similarity for owners, exported for `sottovoce suggest`.
pub mod learn;
/// Sales leads, newsletter sign-ups and back-in-stock requests from finished forms.
pub mod leads;
/// Per-key token buckets for rate limits (per IP, per conversation).
pub mod limits;
/// The change notification ("conversation X changed") shared by the store and the live hub.
pub mod event;
/// Live delivery: an in-process broadcast, fed by PostgreSQL `LISTEN/NOTIFY` when available.
pub mod live;
/// Email continuity: replies and transcripts over SMTP, signed resume links, inbound answers.
pub mod mail;
/// Prometheus counters served at `/metrics`.
pub mod metrics;
/// Email continuity, resume links, other devices, and delivery of agent replies off the web.
pub mod omni;
/// Presence, email-contact, extra-token and channel-chat queries.
pub mod omni_store;
/// The owner's numbers: anonymous KPI reports in, dashboard figures and CSV out.
pub mod owner;
/// Agent presence and business hours: who can answer now, and when.
pub mod presence;
/// Card-number redaction applied to every stored text (defence in depth behind the widget).
pub mod redact;
/// A minimal SMTP server that accepts every message (demo and tests).
pub mod smtp_sink;
/// Storage: schema migrations and every query, over SQLite or PostgreSQL (`sqlx::Any`).
pub mod store;
/// Suggested replies for agents, from the bot definition's own reply table.
pub mod suggest;
/// An inbox that triages: explained priorities, assignment, filters, canned replies, presence.
pub mod triage;
/// Assignment, canned-reply and colleague queries.
pub mod triage_store;
/// Signed webhooks (HMAC-SHA256), delivered with retries and backoff.
pub mod webhook;

mod router;

pub use error::AppError;
pub use router::router;

/// Everything the server needs to start. [`Config::new`] gives safe defaults for a database URL.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path/to/file.db` (created when missing), a bare file path (SQLite), or
    /// `postgres://user@host:port/db`.
    pub database_url: String,
    /// Origins (`https://shop.example`) whose pages may call the visitor API (CORS). Empty: none,
    /// so only same-origin pages can escalate.
    pub allowed_origins: Vec<String>,
    /// Where to POST signed events, if anywhere.
    pub webhook: Option<WebhookConfig>,
    /// A bot definition (JSON) or compiled model whose replies become suggested replies.
    pub bot_path: Option<PathBuf>,
    /// Visitor profile fields an escalation may carry; others are refused.
    pub profile_fields: Vec<String>,
    /// Body size and rate limits.
    pub limits: Limits,
    /// Mark the agent session cookie `Secure` (set this when served over HTTPS).
    pub secure_cookies: bool,
    /// The secret a site signs its customer ids with (`user_hash`, [`identity`]); `None`: every
    /// escalation is unverified.
    pub identity_secret: Option<String>,
    /// Business hours, email continuity and messaging channels ([`omni::OmniConfig`]).
    pub omni: omni::OmniConfig,
    /// A bearer token `/metrics` asks for (`Authorization: Bearer <token>`); `None`: `/metrics`
    /// is open (put it behind the network then).
    pub metrics_token: Option<String>,
    /// How the inbox orders open conversations ([`triage::TriageConfig`]).
    pub triage: triage::TriageConfig,
}

impl Config {
    /// A configuration with the given database and defaults for everything else: no CORS
    /// origins, no webhook, no bot, every profile field the widget can send
    /// ([`sottovoce::protocol::PROFILE_FIELDS`]: `name`, `locale`, `visits`, `first_seen_ms`, `last_seen_ms`, `customer_id`),
    /// [`Limits::default`], cookies not marked `Secure`, no identity secret, `/metrics` open.
    pub fn new(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            allowed_origins: Vec::new(),
            webhook: None,
            bot_path: None,
            profile_fields: sottovoce::protocol::PROFILE_FIELDS.map(String::from).to_vec(),
            limits: Limits::default(),
            secure_cookies: false,
            identity_secret: None,
            omni: omni::OmniConfig::default(),
            metrics_token: None,
            triage: triage::TriageConfig::default(),
        }
    }
}

/// A webhook target: every event is POSTed to `url`, signed with `secret`.
#[derive(Clone)]
pub struct WebhookConfig {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Shared secret for `X-Sottovoce-Signature: sha256=<hex HMAC-SHA256 of the body>`.
    pub secret: String,
    /// How long one delivery attempt may take (a slower receiver counts as failed and is
    /// retried); a crashed process's claimed deliveries go out again after three of these.
    pub timeout: std::time::Duration,
}

impl WebhookConfig {
    /// A target at `url` signed with `secret`, with the default attempt timeout of 10 s.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> WebhookConfig {
        WebhookConfig { url: url.into(), secret: secret.into(), timeout: std::time::Duration::from_secs(10) }
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig").field("url", &self.url).field("secret", &"…").field("timeout", &self.timeout).finish()
    }
}

/// Guards against abuse. A rate of `0.0` turns that limit off (the load benchmark does).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body, in bytes (default 256 KiB).
    pub body_bytes: usize,
    /// Sustained API requests per second per client IP (default 20).
    pub ip_per_second: f64,
    /// Burst of API requests per client IP (default 60).
    pub ip_burst: f64,
    /// Sustained visitor messages per second per conversation (default 1).
    pub conversation_per_second: f64,
    /// Burst of visitor messages per conversation (default 10).
    pub conversation_burst: f64,
    /// Failed sign-ins to one account before it backs off (default 5; see
    /// [`limits::LoginThrottle`]).
    pub login_free_per_account: u32,
    /// Failed sign-ins from one client address before it backs off (default 20: an office
    /// behind one NAT shares it).
    pub login_free_per_address: u32,
    /// Live streams (SSE) open at once per conversation token (default 4: a few tabs); more
    /// get 429.
    pub streams_per_conversation: usize,
    /// Live streams (SSE) open at once from one client address, across conversations
    /// (default 64: a NAT of an office or a mobile carrier puts many visitors, each with a few
    /// tabs, behind one address, while one host holding thousands of idle connections is what
    /// the cap stops; 0: no limit); more get 429.
    pub streams_per_address: usize,
    /// Inbox streams (SSE) open at once per signed-in agent (default 8: a few inbox and
    /// dashboard tabs); more get 429. They count against `streams_per_address` too.
    pub streams_per_agent: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes: 256 * 1024,
            ip_per_second: 20.0,
            ip_burst: 60.0,
            conversation_per_second: 1.0,
            conversation_burst: 10.0,
            login_free_per_account: 5,
            login_free_per_address: 20,
            streams_per_conversation: 4,
            streams_per_address: 64,
            streams_per_agent: 8,
        }
    }
}

impl Limits {
    /// No rate limits at all (body limit kept): for benchmarks and trusted networks.
    pub fn unlimited() -> Limits {
        Limits { ip_per_second: 0.0, conversation_per_second: 0.0, ..Limits::default() }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The database could not be opened or reached.
    #[error("cannot open database {url}: {source}")]
    Database {
        /// The URL, with any password removed.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A schema migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A database query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// The bot file (for suggested replies) could not be read or parsed.
    #[error("cannot load bot {path}: {message}")]
    Bot {
        /// The file given as `bot_path`.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An allowed CORS origin is not a valid header value.
    #[error("invalid CORS origin {0:?}")]
    Origin(String),
    /// An agent's email or password is unacceptable.
    #[error("{0}")]
    InvalidAgent(String),
    /// The demo's SMTP sink could not listen on its address.
    #[error("cannot start the SMTP sink on {0}: {1}")]
    SmtpSink(String, std::io::Error),
    /// Hashing a password failed.
    #[error("password hashing failed: {0}")]
    Password(String),
}

/// The shared state behind every handler.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: store::Store,
    pub(crate) live: live::Live,
    pub(crate) config: Config,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) ip_limiter: limits::Limiter,
    pub(crate) conversation_limiter: limits::Limiter,
    pub(crate) login_accounts: limits::LoginThrottle,
    pub(crate) login_addresses: limits::LoginThrottle,
    /// Open visitor streams per conversation id.
    pub(crate) visitor_streams: limits::StreamSlots,
    /// Open visitor and agent streams per client address.
    pub(crate) address_streams: limits::StreamSlots,
    /// Open inbox streams per agent id.
    pub(crate) agent_streams: limits::StreamSlots,
    pub(crate) webhooks: Option<webhook::Webhooks>,
    pub(crate) suggestions: Option<suggest::Suggester>,
    pub(crate) channels: Option<channel::Channels>,
}

impl AppState {
    /// Opens the database, runs migrations, loads the bot (if any) and starts the background
    /// tasks (PostgreSQL listener, webhook delivery). Must run inside a Tokio runtime.
    ///
    /// # Errors
    /// [`ServerError`] when the database, migrations or bot file fail.
    pub async fn new(config: Config) -> Result<AppState, ServerError> {
        for origin in &config.allowed_origins {
            if axum::http::HeaderValue::from_str(origin).is_err() || !origin.contains("://") {
                return Err(ServerError::Origin(origin.clone()));
            }
        }
        if let Some(addr) = &config.omni.print_sink {
            omni::start_print_sink(addr).await.map_err(|e| ServerError::SmtpSink(addr.clone(), e))?;
        }
        let store = store::Store::connect(&config.database_url).await?;
        let metrics = metrics::Metrics::default();
        let live = live::Live::start(&store, &config.database_url).await?;
        let suggestions = match &config.bot_path {
            Some(path) => Some(suggest::Suggester::load(path)?),
            None => None,
        };
        let channels = match (&config.bot_path, config.omni.channels.json.is_some() || config.omni.channels.telegram.is_some()) {
            (Some(path), true) => {
                let err = |message: String| ServerError::Bot { path: path.clone(), message };
                let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
                channel::Channels::new(&config.omni.channels, sottovoce::Bot::load(&bytes).map_err(|e| err(e.to_string()))?)
            }
            _ => None,
        };
        let webhooks = config.webhook.clone().map(|w| webhook::Webhooks::start(w, metrics.clone(), store.clone()));
        let state = AppState {
            inner: Arc::new(Inner {
                store,
                live,
                metrics,
                ip_limiter: limits::Limiter::new(config.limits.ip_per_second, config.limits.ip_burst),
                conversation_limiter: limits::Limiter::new(
                    config.limits.conversation_per_second,
                    config.limits.conversation_burst,
                ),
                login_accounts: limits::LoginThrottle::new(config.limits.login_free_per_account),
                login_addresses: limits::LoginThrottle::new(config.limits.login_free_per_address),
                visitor_streams: limits::StreamSlots::new(config.limits.streams_per_conversation),
                address_streams: limits::StreamSlots::new(config.limits.streams_per_address),
                agent_streams: limits::StreamSlots::new(config.limits.streams_per_agent),
                webhooks,
                suggestions,
                channels,
                config,
            }),
        };
        omni::start_delivery(state.clone());
        Ok(state)
    }

    /// The storage handle (tests and the `agent add` command use it directly).
    pub fn store(&self) -> &store::Store {
        &self.inner.store
    }
}

/// Connects, migrates and returns the whole server as a router to serve or merge.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so rate limits see the
/// client's IP (without it every client shares one bucket).
///
/// # Errors
/// See [`AppState::new`].
pub async fn build_app(config: Config) -> Result<Router, ServerError> {
    let state = AppState::new(config).await?;
    Ok(router(state))
}

/// Creates (or replaces the password of) an agent who can sign in to the inbox.
///
/// `email` is trimmed and lower-cased; `password` must be at least 8 characters.
///
/// # Errors
/// [`ServerError::InvalidAgent`] for an unacceptable email or password, other variants for a
/// database failure.
pub async fn create_agent(database_url: &str, email: &str, password: &str) -> Result<(), ServerError> {
    let store = store::Store::connect(database_url).await?;
    let email = agents::normalize_email(email).map_err(ServerError::InvalidAgent)?;
    if password.chars().count() < 8 {
        return Err(ServerError::InvalidAgent("the password must have at least 8 characters".into()));
    }
    let hash = agents::hash_password(password).map_err(ServerError::Password)?;
    store.upsert_agent(&email, &hash, store::now_ms()).await?;
    store.close().await;
    Ok(())
}

/// Gives the agent with `email` the role `owner` (`true`) or `agent`: owners also read the KPI
/// dashboard ([`owner`]).
///
/// # Errors
/// [`ServerError::InvalidAgent`] when there is no such agent; database failures.
pub async fn set_owner(database_url: &str, email: &str, is_owner: bool) -> Result<(), ServerError> {
    let store = store::Store::connect(database_url).await?;
    let email = agents::normalize_email(email).map_err(ServerError::InvalidAgent)?;
    let found = store.set_agent_role(&email, if is_owner { owner::OWNER } else { "agent" }).await?;
    store.close().await;
    if found {
        Ok(())
    } else {
        Err(ServerError::InvalidAgent(format!("no agent {email}")))
    }
}
