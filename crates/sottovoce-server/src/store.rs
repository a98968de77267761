//! Storage: schema migrations and every query, over SQLite or PostgreSQL (`sqlx::Any`).
//!
//! All SQL uses `$n` placeholders, each used once and in order, which both drivers accept.
//! With SQLite, writes go through a pool of one connection (SQLite has one writer anyway, and
//! queueing in the pool is cheaper than lock retries) while reads use a separate pool; WAL mode
//! lets the readers see every committed write without blocking it.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use crate::identity::Identity;
use crate::ServerError;

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// How long a request waits for a database connection before it is answered 503: the pools'
/// acquire timeout (sqlx's default, 30 s, would leave clients hanging through an outage).
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Why a database failure is the database being out of reach or out of space, not a bug: the
/// API answers these 503 with `Retry-After` ([`crate::error::AppError`]), others 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The disk under the database is full (SQLite `SQLITE_FULL`, PostgreSQL `53100`).
    DiskFull,
    /// The database cannot be reached: connection refused or lost, server shutting down or
    /// starting, no connection free within [`ACQUIRE_TIMEOUT`], an I/O error.
    Unreachable,
}

/// Classifies `e`: `Some` when retrying later can succeed (see [`Unavailable`]), `None` for
/// every other failure (a constraint, a bad query, a corrupt row).
pub fn unavailable(e: &sqlx::Error) -> Option<Unavailable> {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => Some(Unavailable::DiskFull),
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
            Some(Unavailable::Unreachable)
        }
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            match code.as_ref() {
                // PostgreSQL: disk full; connection exceptions (class 08); admin or crash
                // shutdown, cannot connect now (57P01..57P03); out of memory, too many connections.
                "53100" => Some(Unavailable::DiskFull),
                c if c.starts_with("08") || c.starts_with("57P") || c == "53200" || c == "53300" => Some(Unavailable::Unreachable),
                // SQLite (primary code = extended code & 0xff): FULL 13; IOERR 10, CANTOPEN 14
                // (also the read-only file system a full disk can turn into, READONLY 8).
                c => match c.parse::<i64>().map(|n| n & 0xff) {
                    Ok(13) => Some(Unavailable::DiskFull),
                    Ok(8 | 10 | 14) => Some(Unavailable::Unreachable),
                    _ => None,
                },
            }
        }
        _ => None,
    }
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A handle on the database: cheap to clone, shared by all handlers.
#[derive(Debug, Clone)]
pub struct Store {
    writer: AnyPool,
    reader: AnyPool,
    backend: Backend,
    /// The group-commit queue.
    batcher: mpsc::UnboundedSender<Job>,
    /// Whether `escalation.created` and `message.created` webhook deliveries are queued in the
    /// transaction that stores the escalation or message (set by [`Store::queue_webhooks`]).
    outbox: Arc<AtomicBool>,
}

pub use sottovoce::protocol::Message;
use sottovoce::protocol::{Author, ConversationStatus};

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who wrote it.
    pub author: Author,
    /// Display name (agents).
    pub author_name: Option<String>,
    /// Plain text.
    pub text: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Bot annotation: intent.
    pub intent: Option<String>,
    /// Bot annotation: confidence in [0, 1].
    pub confidence: Option<f64>,
    /// Bot annotation: sentiment in [-1, 1].
    pub sentiment: Option<f64>,
    /// The client's id for this message, so a retried send is stored once.
    pub client_id: Option<String>,
}

impl NewMessage {
    /// A message by `author` with `text` at `created_ms`, without name, annotations or client id.
    pub fn new(author: Author, text: String, created_ms: i64) -> NewMessage {
        NewMessage { author, author_name: None, text, created_ms, intent: None, confidence: None, sentiment: None, client_id: None }
    }
}

/// A new escalation, validated by the API.
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Random id (`c_` + 32 hex digits).
    pub id: String,
    /// BCP 47 tag.
    pub locale: String,
    /// The bot's id, if the widget sent it.
    pub bot_id: Option<String>,
    /// The page the visitor escalated from.
    pub page_url: Option<String>,
    /// Allowed profile fields, as a JSON object.
    pub profile_json: String,
    /// The site's customer id, when the owner lets it leave the browser.
    pub customer_id: Option<String>,
    /// Whether the site's `user_hash` vouched for `customer_id`.
    pub identity: Identity,
    /// SHA-256 (hex) of the visitor token.
    pub token_hash: String,
    /// SHA-256 (hex) of the idempotency key, if any.
    pub idem_key_hash: Option<String>,
    /// The token XOR a key-derived pad (hex), to answer a retry with the same token.
    pub token_sealed: Option<String>,
    /// SHA-256 (hex) of the canonical request, to refuse a reused key with another body.
    pub body_hash: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// The transcript so far.
    pub transcript: Vec<NewMessage>,
}

/// What an earlier escalation with the same idempotency key stored.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The conversation id.
    pub id: String,
    /// The sealed token (hex).
    pub token_sealed: String,
    /// Hash of the original request.
    pub body_hash: String,
    /// Creation time.
    pub created_ms: i64,
}

/// Outcome of [`Store::create_conversation`].
#[derive(Debug, Clone)]
pub enum Created {
    /// Stored now.
    New,
    /// The idempotency key was used before; here is what it created.
    Replayed(Replay),
}

/// A conversation's header, as agents see it.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    /// The id.
    pub id: String,
    /// Open or resolved.
    pub status: ConversationStatus,
    /// BCP 47 tag.
    pub locale: String,
    /// The bot's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<String>,
    /// The page the visitor escalated from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// The allowed profile fields the visitor agreed to send.
    pub profile: serde_json::Value,
    /// The site's customer id, if it was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// `verified` when the site's `user_hash` matched `customer_id`, else `unverified`.
    pub identity: Identity,
    /// Where the visitor wrote from: `web` (the widget) or a messaging channel (`telegram`,
    /// `json`), see [`crate::channel`].
    pub channel: String,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Last activity, ms since the Unix epoch.
    pub updated_ms: i64,
    /// Number of messages.
    pub message_count: i64,
    /// The most recent message's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_text: Option<String>,
    /// The most recent intent the bot detected in a visitor message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_intent: Option<String>,
    /// The email of the agent it is assigned to; `None`: unassigned.
    pub assignee: Option<String>,
    /// When the oldest visitor message no agent has answered yet was written (ms since the
    /// Unix epoch); `None` when an agent wrote last or the visitor never wrote.
    pub waiting_since_ms: Option<i64>,
    /// Mean sentiment, in [-1, 1], of the visitor's last three annotated messages (the widget's
    /// labels for agents, never a decision; see [`crate::triage`]).
    pub recent_sentiment: Option<f64>,
}

const MIGRATIONS_SQLITE: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "webhook outbox", include_str!("../migrations/sqlite/0002_webhook_outbox.sql")),
    (3, "customer identity", include_str!("../migrations/sqlite/0003_customer_identity.sql")),
    (10, "omnichannel", include_str!("../migrations/sqlite/0010_omnichannel.sql")),
    (12, "triage", include_str!("../migrations/sqlite/0012_triage.sql")),
    (13, "owner kpis", include_str!("../migrations/sqlite/0013_owner_kpis.sql")),
    (14, "shared questions", include_str!("../migrations/sqlite/0014_shared_questions.sql")),
    (16, "submissions", include_str!("../migrations/sqlite/0016_submissions.sql")),
];
const MIGRATIONS_POSTGRES: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "webhook outbox", include_str!("../migrations/postgres/0002_webhook_outbox.sql")),
    (3, "customer identity", include_str!("../migrations/postgres/0003_customer_identity.sql")),
    (10, "omnichannel", include_str!("../migrations/postgres/0010_omnichannel.sql")),
    (12, "triage", include_str!("../migrations/postgres/0012_triage.sql")),
    (13, "owner kpis", include_str!("../migrations/postgres/0013_owner_kpis.sql")),
    (14, "shared questions", include_str!("../migrations/postgres/0014_shared_questions.sql")),
    (16, "submissions", include_str!("../migrations/postgres/0016_submissions.sql")),
];

/// A webhook delivery waiting in the outbox.
#[derive(Debug, Clone)]
pub struct PendingWebhook {
    /// Row id.
    pub id: i64,
    /// Event name (`escalation.created`…).
    pub event: String,
    /// The exact JSON body to sign and send.
    pub body: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it became due (also the claim token: see [`Store::claim_webhook`]).
    pub next_ms: i64,
}

/// Turns a bare file path into a SQLite URL that creates the file; other URLs pass unchanged.
pub fn normalize_url(url: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:") {
        url.to_owned()
    } else {
        format!("sqlite://{url}?mode=rwc")
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:…{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Connects to `url` (see [`normalize_url`]) and runs the migrations.
    ///
    /// # Errors
    /// [`ServerError::Database`] when the database cannot be opened, [`ServerError::Migrate`]
    /// when a migration fails.
    pub async fn connect(url: &str) -> Result<Store, ServerError> {
        sqlx::any::install_default_drivers();
        let url = normalize_url(url);
        let db_err = |source| ServerError::Database { url: redact_url(&url), source };
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let (writer, reader) = match backend {
            Backend::Sqlite => {
                let options = || {
                    AnyPoolOptions::new().after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                                 PRAGMA wal_autocheckpoint = 0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                };
                let writer = options().max_connections(1).acquire_timeout(ACQUIRE_TIMEOUT).connect(&url).await.map_err(db_err)?;
                let reader = options().max_connections(4).acquire_timeout(ACQUIRE_TIMEOUT).connect(&url).await.map_err(db_err)?;
                (writer, reader)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new().max_connections(16).acquire_timeout(ACQUIRE_TIMEOUT).connect(&url).await.map_err(db_err)?;
                (pool.clone(), pool)
            }
        };
        let table = match backend {
            Backend::Sqlite => MIGRATIONS_SQLITE,
            Backend::Postgres => MIGRATIONS_POSTGRES,
        };
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(
            table
                .iter()
                .map(|(v, d, sql)| Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Borrowed(*sql), false))
                .collect(),
        );
        migrator.run(&writer).await?;
        let outbox = Arc::new(AtomicBool::new(false));
        let (queue, jobs) = mpsc::unbounded_channel();
        let jobs = Arc::new(Mutex::new(jobs));
        // SQLite has one writer; PostgreSQL commits several batches at once.
        let committers = match backend {
            Backend::Sqlite => {
                tokio::spawn(checkpoint(reader.clone()));
                1
            }
            Backend::Postgres => 4,
        };
        for _ in 0..committers {
            tokio::spawn(group_commit(writer.clone(), jobs.clone(), backend == Backend::Postgres, outbox.clone()));
        }
        Ok(Store { writer, reader, backend, batcher: queue, outbox })
    }

    /// From now on, every escalation and message stored also queues its webhook delivery
    /// (`escalation.created`, `message.created`) in the same transaction: an event is in the
    /// outbox exactly when what it reports is in the database, whatever crashes when.
    pub fn queue_webhooks(&self) {
        self.outbox.store(true, Ordering::Relaxed);
    }

    /// True once [`Store::queue_webhooks`] was called (a webhook is configured).
    pub(crate) fn queues_webhooks(&self) -> bool {
        self.outbox.load(Ordering::Relaxed)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads (on SQLite a second pool, so reads never queue behind the writer).
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// The pool that writes (for `pg_notify`).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.reader).await.is_ok()
    }

    /// Finds the escalation an idempotency key (its hash) created, if any.
    pub async fn replay(&self, idem_key_hash: &str) -> Result<Option<Replay>, sqlx::Error> {
        self.replay_on(&self.writer, idem_key_hash).await
    }

    async fn replay_on(&self, pool: &AnyPool, idem_key_hash: &str) -> Result<Option<Replay>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, token_sealed, body_hash, created_ms FROM conversations WHERE idem_key_hash = $1",
        )
        .bind(idem_key_hash)
        .fetch_optional(pool)
        .await?;
        row.map(|r| {
            Ok(Replay {
                id: r.try_get("id")?,
                token_sealed: r.try_get::<Option<String>, _>("token_sealed")?.unwrap_or_default(),
                body_hash: r.try_get::<Option<String>, _>("body_hash")?.unwrap_or_default(),
                created_ms: r.try_get("created_ms")?,
            })
        })
        .transpose()
    }

    /// Stores a conversation and its transcript in one transaction. If its idempotency key was
    /// used before (even by a request racing this one), nothing is written and the earlier
    /// escalation is returned. Returns only once the transaction is committed.
    ///
    /// Concurrent calls are committed together (group commit: one transaction for every
    /// escalation waiting, instead of one each), which is what lets a single SQLite writer keep
    /// up with thousands of escalations per second, and PostgreSQL share one `fsync` among
    /// many. With PostgreSQL the `created` notification ([`crate::live`]) is sent inside that
    /// transaction, so it is delivered exactly when the escalation becomes visible.
    ///
    /// # Errors
    /// Database failures.
    pub async fn create_conversation(&self, c: &NewConversation) -> Result<Created, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.batcher.send((c.clone(), reply)).map_err(|_| sqlx::Error::PoolClosed)?;
        let inserted = answer.await.map_err(|_| sqlx::Error::PoolClosed)??;
        if inserted {
            return Ok(Created::New);
        }
        let key = c.idem_key_hash.as_deref().unwrap_or_default();
        match self.replay(key).await? {
            Some(replay) => Ok(Created::Replayed(replay)),
            None => Err(sqlx::Error::RowNotFound),
        }
    }

    /// The status of a conversation and its token hash, or `None` if there is no such id.
    pub async fn conversation_auth(&self, id: &str) -> Result<Option<(ConversationStatus, String)>, sqlx::Error> {
        let row = sqlx::query("SELECT status, token_hash FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| Ok((status_from_row(&r)?, r.try_get("token_hash")?))).transpose()
    }

    /// Appends a message and bumps the conversation's `updated_ms`. A message whose
    /// `client_id` was stored before is not stored again: the earlier one is returned with
    /// `false`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_message(&self, conversation_id: &str, m: &NewMessage) -> Result<(Message, bool), sqlx::Error> {
        if let Some(client_id) = &m.client_id {
            if let Some(existing) = self.message_by_client_id(&self.reader, conversation_id, client_id).await? {
                return Ok((existing, false));
            }
        }
        let mut conn = self.writer.acquire().await?;
        let outbox = self.outbox.load(Ordering::Relaxed);
        let message = match insert_message(&mut conn, conversation_id, m, outbox).await {
            Ok(message) => message,
            Err(e) if is_unique_violation(&e) => {
                if let Some(client_id) = &m.client_id {
                    if let Some(existing) = self.message_by_client_id(&mut *conn, conversation_id, client_id).await? {
                        return Ok((existing, false));
                    }
                }
                return Err(e);
            }
            Err(e) => {
                discard(conn).await;
                return Err(e);
            }
        };
        Ok((message, true))
    }

    async fn message_by_client_id<'c>(
        &self,
        pool: impl Executor<'c, Database = sqlx::Any>,
        conversation_id: &str,
        client_id: &str,
    ) -> Result<Option<Message>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND client_id = $2"
        ))
        .bind(conversation_id)
        .bind(client_id)
        .fetch_optional(pool)
        .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// Messages of a conversation with id greater than `after`, oldest first (at most 1000).
    pub async fn messages_after(&self, conversation_id: &str, after: i64) -> Result<Vec<Message>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT 1000"
        ))
        .bind(conversation_id)
        .bind(after)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// Conversations with `status`, newest first, at most `limit`.
    pub async fn list_conversations(&self, status: ConversationStatus, limit: i64) -> Result<Vec<Conversation>, sqlx::Error> {
        let rows = sqlx::query(&format!("{CONVERSATION_SELECT} WHERE c.status = $1 ORDER BY c.created_ms DESC, c.id LIMIT $2"))
            .bind(status.as_str())
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// One conversation's header, or `None`.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, sqlx::Error> {
        let row = sqlx::query(&format!("{CONVERSATION_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// Marks a conversation resolved. Returns `false` when there is no such open conversation.
    pub async fn resolve(&self, id: &str, now_ms: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE conversations SET status = 'resolved', resolved_ms = $1, updated_ms = $2 \
             WHERE id = $3 AND status = 'open'",
        )
        .bind(now_ms)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let resolved = done.rows_affected() == 1;
        // With a webhook configured, `escalation.resolved` is queued in the same transaction,
        // as `escalation.created` and `message.created` are.
        if resolved && self.queues_webhooks() {
            queue_event(&mut tx, "escalation.resolved", &serde_json::json!({ "conversation_id": id, "resolved_ms": now_ms })).await?;
        }
        tx.commit().await?;
        Ok(resolved)
    }

    /// Creates an agent or replaces its password hash.
    pub async fn upsert_agent(&self, email: &str, password_hash: &str, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO agents (email, password_hash, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
        )
        .bind(email)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// An agent's id and password hash, by email.
    pub async fn agent_by_email(&self, email: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
        let row = sqlx::query("SELECT id, password_hash FROM agents WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("password_hash")?))).transpose()
    }

    /// Stores a session (by the hash of its cookie token), and forgets expired ones.
    pub async fn create_session(&self, token_hash: &str, agent_id: i64, now_ms: i64, expires_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1").bind(now_ms).execute(&self.writer).await?;
        sqlx::query("INSERT INTO sessions (token_hash, agent_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(agent_id)
            .bind(now_ms)
            .bind(expires_ms)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The agent (id, email) of an unexpired session.
    pub async fn session_agent(&self, token_hash: &str, now_ms: i64) -> Result<Option<(i64, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT a.id, a.email FROM sessions s JOIN agents a ON a.id = s.agent_id \
             WHERE s.token_hash = $1 AND s.expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("email")?))).transpose()
    }

    /// Up to `limit` deliveries due at `now_ms`, oldest first.
    pub async fn due_webhooks(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingWebhook>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, event, body, attempts, next_ms FROM webhook_outbox WHERE next_ms <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingWebhook {
                    id: r.try_get("id")?,
                    event: r.try_get("event")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                    next_ms: r.try_get("next_ms")?,
                })
            })
            .collect()
    }

    /// Claims a due delivery until `lease_until_ms`; `false` when another worker (or process)
    /// claimed it first.
    pub async fn claim_webhook(&self, w: &PendingWebhook, lease_until_ms: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE webhook_outbox SET next_ms = $1 WHERE id = $2 AND next_ms = $3")
            .bind(lease_until_ms)
            .bind(w.id)
            .bind(w.next_ms)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt: retry at `next_ms`.
    pub async fn retry_webhook(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE webhook_outbox SET attempts = $1, next_ms = $2 WHERE id = $3")
            .bind(attempts)
            .bind(next_ms)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Removes a delivery (delivered, or given up).
    pub async fn delete_webhook(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM webhook_outbox WHERE id = $1").bind(id).execute(&self.writer).await?;
        Ok(())
    }

    /// Deletes a session (sign out).
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.writer).await?;
        Ok(())
    }
}

const MESSAGE_COLUMNS: &str = "id, author, author_name, text, created_ms, intent, confidence, sentiment";

const CONVERSATION_SELECT: &str = "SELECT c.id, c.status, c.locale, c.bot_id, c.page_url, c.profile_json, \
     c.customer_id, c.identity, c.channel, c.created_ms, c.updated_ms, \
     (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count, \
     (SELECT m.text FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS last_text, \
     (SELECT m.intent FROM messages m WHERE m.conversation_id = c.id AND m.author = 'visitor' \
        AND m.intent IS NOT NULL ORDER BY m.id DESC LIMIT 1) AS last_intent, \
     (SELECT a.email FROM agents a WHERE a.id = c.assignee_id) AS assignee, \
     (SELECT MIN(m.created_ms) FROM messages m WHERE m.conversation_id = c.id AND m.author = 'visitor' \
        AND m.id > COALESCE((SELECT MAX(r.id) FROM messages r WHERE r.conversation_id = c.id AND r.author = 'agent'), 0)) \
        AS waiting_since_ms, \
     (SELECT AVG(t.s) FROM (SELECT m.sentiment AS s FROM messages m WHERE m.conversation_id = c.id \
        AND m.author = 'visitor' AND m.sentiment IS NOT NULL ORDER BY m.id DESC LIMIT 3) t) AS recent_sentiment \
     FROM conversations c";

/// A stored wire name (`author`, `status`) that the protocol does not know: a corrupt row.
fn unknown(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_owned(), source: format!("unknown {column} `{value}`").into() }
}

fn status_from_row(r: &AnyRow) -> Result<ConversationStatus, sqlx::Error> {
    let status: String = r.try_get("status")?;
    ConversationStatus::from_name(&status).ok_or_else(|| unknown("status", &status))
}

fn message_from_row(r: &AnyRow) -> Result<Message, sqlx::Error> {
    let author: String = r.try_get("author")?;
    Ok(Message {
        id: r.try_get("id")?,
        author: Author::from_name(&author).ok_or_else(|| unknown("author", &author))?,
        author_name: r.try_get("author_name")?,
        text: r.try_get("text")?,
        created_ms: r.try_get("created_ms")?,
        intent: r.try_get("intent")?,
        confidence: r.try_get("confidence")?,
        sentiment: r.try_get("sentiment")?,
    })
}

fn conversation_from_row(r: &AnyRow) -> Result<Conversation, sqlx::Error> {
    let profile_json: String = r.try_get("profile_json")?;
    Ok(Conversation {
        id: r.try_get("id")?,
        status: status_from_row(r)?,
        locale: r.try_get("locale")?,
        bot_id: r.try_get("bot_id")?,
        page_url: r.try_get("page_url")?,
        profile: serde_json::from_str(&profile_json).unwrap_or(serde_json::Value::Null),
        customer_id: r.try_get("customer_id")?,
        identity: Identity::from_name(&r.try_get::<String, _>("identity")?),
        channel: r.try_get("channel")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
        message_count: r.try_get("message_count")?,
        last_text: r.try_get("last_text")?,
        last_intent: r.try_get("last_intent")?,
        assignee: r.try_get("assignee")?,
        waiting_since_ms: r.try_get("waiting_since_ms")?,
        recent_sentiment: r.try_get("recent_sentiment")?,
    })
}

/// Copies the SQLite WAL into the database twice a second, off the request path.
///
/// With `synchronous=NORMAL` a commit never waits for the disk; only a checkpoint calls
/// `fsync`. SQLite's automatic checkpoint would run inside whichever commit crosses 1000 pages,
/// so one unlucky request would wait for the disk (seconds, on a busy one). Here a reader
/// connection does it instead (PASSIVE: never blocks the writer); the pool closing ends it.
async fn checkpoint(reader: AnyPool) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if reader.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&reader).await {
            if reader.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

type Job = (NewConversation, oneshot::Sender<Result<bool, sqlx::Error>>);

/// Commits every waiting escalation in one transaction, answers each, repeats. Several of
/// these may share the queue; each takes what is waiting when it is free.
async fn group_commit(writer: AnyPool, jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>, notify: bool, outbox: Arc<AtomicBool>) {
    loop {
        let batch = {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < 256 {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        let result = match writer.acquire().await {
            Ok(mut conn) => {
                let result = commit_batch(&mut conn, &batch, notify, outbox.load(Ordering::Relaxed)).await;
                if result.is_err() {
                    discard(conn).await;
                }
                result
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(inserted) => {
                for ((_, reply), inserted) in batch.into_iter().zip(inserted) {
                    let _ = reply.send(Ok(inserted));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, n = batch.len(), "group commit failed");
                // sqlx errors do not clone: each waiting request gets one of the same class, so a
                // database out of reach or out of space still answers 503 (see `unavailable`).
                for (_, reply) in batch {
                    let message = format!("group commit failed: {e}");
                    let copy = match unavailable(&e) {
                        Some(Unavailable::DiskFull) => sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::StorageFull, message)),
                        Some(Unavailable::Unreachable) => sqlx::Error::Io(std::io::Error::other(message)),
                        None => sqlx::Error::Protocol(message),
                    };
                    let _ = reply.send(Err(copy));
                }
            }
        }
    }
}

/// One transaction for a batch of escalations: for each, whether it was inserted (`false`: its
/// idempotency key was taken). With PostgreSQL (`notify`) the `created` notification is sent
/// inside it, and with `outbox` the `escalation.created` webhook delivery is queued inside it.
async fn commit_batch(conn: &mut sqlx::AnyConnection, batch: &[Job], notify: bool, outbox: bool) -> Result<Vec<bool>, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let mut inserted = Vec::with_capacity(batch.len());
    for (c, _) in batch {
        let new = insert_conversation(&mut tx, c).await?;
        if new && notify {
            let event = crate::event::Event { conversation_id: c.id.clone(), kind: crate::event::EventKind::Created };
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::event::CHANNEL)
                .bind(event.payload())
                .execute(&mut *tx)
                .await?;
        }
        if new && outbox {
            let header = sqlx::query(&format!("{CONVERSATION_SELECT} WHERE c.id = $1")).bind(&c.id).fetch_one(&mut *tx).await?;
            let rows = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY id"))
                .bind(&c.id)
                .fetch_all(&mut *tx)
                .await?;
            let messages = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>()?;
            let data = serde_json::json!({ "conversation": conversation_from_row(&header)?, "messages": messages });
            queue_event(&mut tx, "escalation.created", &data).await?;
        }
        inserted.push(new);
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Appends a message in one transaction (bumping the conversation's `updated_ms`, and queueing
/// its `message.created` delivery when `outbox`); returns it as stored.
async fn insert_message(conn: &mut sqlx::AnyConnection, conversation_id: &str, m: &NewMessage, outbox: bool) -> Result<Message, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    // Lock the conversation's row first: messages of one conversation then take their ids
    // and commit in the same order, so a stream that has sent id n never misses a smaller
    // id committed later (PostgreSQL sequences alone do not promise that).
    sqlx::query("UPDATE conversations SET updated_ms = $1 WHERE id = $2")
        .bind(m.created_ms)
        .bind(conversation_id)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query(
        "INSERT INTO messages (conversation_id, created_ms, author, author_name, text, intent, \
         confidence, sentiment, client_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    );
    let row = bind_message(row, conversation_id, m).fetch_one(&mut *tx)
    .await?;
    let message = Message {
        id: row.try_get("id")?,
        author: m.author,
        author_name: m.author_name.clone(),
        text: m.text.clone(),
        created_ms: m.created_ms,
        intent: m.intent.clone(),
        confidence: m.confidence,
        sentiment: m.sentiment,
    };
    if outbox {
        let data = serde_json::json!({ "conversation_id": conversation_id, "message": message });
        queue_event(&mut tx, "message.created", &data).await?;
    }
    tx.commit().await?;
    Ok(message)
}

/// The body of a webhook delivery: `{"event", "delivery_id", "created_ms", "data"}`, where
/// `delivery_id` is 16 random bytes in hex (the receiver drops duplicates by it).
pub fn webhook_body(event: &str, data: &serde_json::Value, created_ms: i64) -> String {
    use rand_core::RngCore;
    let mut id = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut id);
    serde_json::json!({ "event": event, "delivery_id": hex::encode(id), "created_ms": created_ms, "data": data }).to_string()
}

/// Queues a delivery of `event` with `data`, due now, on `conn` (inside the caller's transaction).
pub(crate) async fn queue_event(conn: &mut sqlx::AnyConnection, event: &str, data: &serde_json::Value) -> Result<(), sqlx::Error> {
    let now = now_ms();
    sqlx::query("INSERT INTO webhook_outbox (event, body, attempts, next_ms, created_ms) VALUES ($1, $2, 0, $3, $4)")
        .bind(event)
        .bind(webhook_body(event, data, now))
        .bind(now)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the nine columns of a `messages` row, in the order of the INSERTs above.
fn bind_message<'q>(query: AnyQuery<'q>, conversation_id: &'q str, m: &'q NewMessage) -> AnyQuery<'q> {
    query
        .bind(conversation_id)
        .bind(m.created_ms)
        .bind(m.author.as_str())
        .bind(&m.author_name)
        .bind(&m.text)
        .bind(&m.intent)
        .bind(m.confidence)
        .bind(m.sentiment)
        .bind(&m.client_id)
}

/// Closes a writer connection whose transaction failed, instead of giving it back to the pool.
///
/// When a statement or the COMMIT fails on a full disk, SQLite may roll the whole transaction
/// back by itself or keep it open; sqlx's count of open transactions on the connection can then
/// disagree with SQLite's, and the connection's later "transactions" become savepoints inside
/// one that never commits: every write on it is answered 2xx and then lost (266 escalations in
/// `tests/faults.rs` before this). A fresh connection has no such history.
async fn discard(conn: sqlx::pool::PoolConnection<sqlx::Any>) {
    tracing::warn!("closing a database connection after a failed transaction");
    let _ = sqlx::Connection::close(conn.detach()).await;
}

/// Inserts a conversation and its transcript; `false` (and nothing written) when its
/// idempotency key is already taken.
async fn insert_conversation(tx: &mut sqlx::Transaction<'_, sqlx::Any>, c: &NewConversation) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO conversations (id, created_ms, updated_ms, status, locale, bot_id, page_url, \
         profile_json, token_hash, idem_key_hash, token_sealed, body_hash, customer_id, identity) \
         VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
    )
    .bind(&c.id)
    .bind(c.created_ms)
    .bind(c.created_ms)
    .bind(&c.locale)
    .bind(&c.bot_id)
    .bind(&c.page_url)
    .bind(&c.profile_json)
    .bind(&c.token_hash)
    .bind(&c.idem_key_hash)
    .bind(&c.token_sealed)
    .bind(&c.body_hash)
    .bind(&c.customer_id)
    .bind(c.identity.as_str())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    // One multi-row INSERT per 50 messages: a round trip per message would dominate.
    for chunk in c.transcript.chunks(50) {
        let mut sql = String::from(
            "INSERT INTO messages (conversation_id, created_ms, author, author_name, text, intent, \
             confidence, sentiment, client_id) VALUES ",
        );
        let mut n = 0;
        for i in 0..chunk.len() {
            sql.push_str(if i > 0 { ", (" } else { "(" });
            for j in 0..9 {
                n += 1;
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for m in chunk {
            query = bind_message(query, &c.id, m);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(true)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
