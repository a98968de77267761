//! Live delivery: an in-process broadcast, fed by PostgreSQL `LISTEN/NOTIFY` when available.
//!
//! An [`Event`] only says that a conversation changed; listeners read what is new from the
//! database (see the crate docs). With SQLite, events go straight into the broadcast. With
//! PostgreSQL, they go out through `pg_notify` and come back, to this process and every other
//! process on the same database, through a `LISTEN` connection; so there is exactly one path
//! and no process is special.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

pub use crate::event::{Event, EventKind, CHANNEL};
use crate::store::{Backend, Store};
use crate::ServerError;

/// The broadcast hub.
#[derive(Debug, Clone)]
pub struct Live {
    sender: broadcast::Sender<Event>,
    backend: Backend,
}

impl Live {
    /// Creates the hub; with PostgreSQL, also starts the task that `LISTEN`s and forwards.
    ///
    /// # Errors
    /// [`ServerError::Database`] when the listening connection cannot be opened.
    pub async fn start(store: &Store, database_url: &str) -> Result<Live, ServerError> {
        let (sender, _) = broadcast::channel(4096);
        let live = Live { sender: sender.clone(), backend: store.backend() };
        if store.backend() == Backend::Postgres {
            let url = crate::store::normalize_url(database_url);
            let mut listener = PgListener::connect(&url).await.map_err(|source| ServerError::Database {
                url: crate::store::redact_url(&url),
                source,
            })?;
            listener.listen(CHANNEL).await?;
            tokio::spawn(async move {
                loop {
                    // `recv` reconnects by itself after a lost connection; events sent while it
                    // was down are caught by the streams' periodic re-reads.
                    match listener.recv().await {
                        Ok(notification) => {
                            if let Ok(event) = serde_json::from_str::<Event>(notification.payload()) {
                                let _ = sender.send(event);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
        Ok(live)
    }

    /// Tells every listener (in every process, with PostgreSQL) that a conversation changed.
    /// Failures are logged, not returned: the change is already stored and streams re-read
    /// the database periodically.
    pub async fn publish(&self, store: &Store, conversation_id: &str, kind: EventKind) {
        let event = Event { conversation_id: conversation_id.to_owned(), kind };
        match self.backend {
            Backend::Sqlite => {
                let _ = self.sender.send(event);
            }
            Backend::Postgres => {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(event.payload())
                    .execute(store.writer())
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "pg_notify failed");
                }
            }
        }
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
