//! The conversation follows the customer: continue by email when nobody is online, reopen it
//! from the emailed link, read emailed answers back, send a transcript, and find an identified
//! customer's open escalation from another device. Also the delivery task that takes every
//! agent reply to wherever the visitor now is (email, a messaging channel).
//!
//! Delivery works like the live stream: a change notification only rings the bell; the task
//! then reads, for that conversation, the agent messages after the last one delivered and moves
//! the mark forward with a compare-and-set, so a reply is delivered once even with several
//! server processes, and a sweep every 30 s retries what a failed send left behind.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sottovoce::protocol::{Author, ConversationStatus, EscalationCreated};
use tokio::sync::broadcast;

use crate::api::{constant_time_eq, random_hex, sha256_hex};
use crate::error::{ApiJson, AppError};
use crate::event::{Event, EventKind};
use crate::mail::{self, MailConfig, SmtpConfig};
use crate::presence::BusinessHours;
use crate::store::{now_ms, NewMessage};
use crate::AppState;

/// Settings of presence, email continuity and messaging channels ([`crate::Config::omni`]).
/// The default turns everything off except presence.
#[derive(Debug, Clone, Default)]
pub struct OmniConfig {
    /// Opening hours shown when nobody is online.
    pub business_hours: Option<BusinessHours>,
    /// The SMTP relay; `None`: the widget does not offer email.
    pub smtp: Option<SmtpConfig>,
    /// Links, inbound secret and shop name (needed with `smtp`).
    pub mail: Option<MailConfig>,
    /// Messaging channels the server runs the bot on.
    pub channels: crate::channel::ChannelsConfig,
    /// Where to start the demo's printing SMTP sink ([`start_print_sink`]), if anywhere.
    pub print_sink: Option<String>,
}

/// Where the visitor's token may come from: the bearer header.
async fn visitor(state: &AppState, id: &str, headers: &HeaderMap) -> Result<ConversationStatus, AppError> {
    crate::api::authorize_visitor(&state.inner.store, id, headers, None).await
}

fn mail_settings(state: &AppState) -> Result<(&SmtpConfig, &MailConfig), AppError> {
    let o = &state.inner.config.omni;
    match (&o.smtp, &o.mail) {
        (Some(smtp), Some(mail)) => Ok((smtp, mail)),
        _ => Err(AppError::NotFound("email continuity (this server has no SMTP settings)")),
    }
}

/// `POST /api/escalations/{id}/email` body: the address and the visitor's explicit consent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailBody {
    email: String,
    consent: bool,
}

/// `POST /api/escalations/{id}/email` (visitor token): stores the checked address on this
/// escalation only; agent replies from now on are emailed. 200 `{email}`; 422 without
/// consent or with an address that is not one.
pub(crate) async fn give_email(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Json<Value>, AppError> {
    visitor(&state, &id, &headers).await?;
    mail_settings(&state)?;
    if !body.consent {
        return Err(AppError::invalid("consent", "must be true: the visitor agrees to be written to"));
    }
    let email = mail::check_address(&body.email).map_err(|e| AppError::invalid("email", e.to_string()))?;
    state.inner.store.set_contact(&id, &email, now_ms()).await?;
    Ok(Json(json!({ "id": id, "email": email })))
}

/// `POST /api/escalations/{id}/transcript` (visitor token, body `{}`): emails the whole
/// conversation, redacted, to the address given on it. 202 `{sent_to}`; 409 without one.
pub(crate) async fn email_transcript(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(_): ApiJson<Value>,
) -> Result<Response, AppError> {
    visitor(&state, &id, &headers).await?;
    let (smtp, config) = mail_settings(&state)?;
    let s = &state.inner;
    let contact = s.store.contact(&id).await?.ok_or_else(|| AppError::Conflict("give an email address first".into()))?;
    let header = s.store.conversation(&id).await?.ok_or(AppError::NotFound("conversation"))?;
    let messages = s.store.messages_after(&id, 0).await?;
    let now = now_ms();
    let link = mail::resume_link(config, &id, now);
    let (subject, body) = mail::transcript_email(&header.locale, &config.shop_name, &messages, &link);
    let last = messages.last().map_or(0, |m| m.id);
    let message_id = mail::message_id(&config.link_secret, &id, last, &mail::sender_domain(smtp));
    mail::send(smtp, &contact.email, &subject, body, message_id).await.map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "sent_to": contact.email }))).into_response())
}

/// A new visitor token for `id`, stored hashed beside the original.
async fn mint_token(state: &AppState, id: &str) -> Result<String, AppError> {
    let token = random_hex(32);
    state.inner.store.add_visitor_token(id, &sha256_hex(token.as_bytes()), now_ms()).await?;
    Ok(token)
}

/// `POST /api/escalations/resume` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResumeBody {
    resume: String,
}

/// `POST /api/escalations/resume` `{resume: "<sv_resume parameter>"}`: a valid, unexpired
/// link's conversation with a fresh visitor token, `{id, token, status, created_ms}`; 401 for
/// a wrong or expired link.
pub(crate) async fn resume(State(state): State<AppState>, ApiJson(body): ApiJson<ResumeBody>) -> Result<Json<EscalationCreated>, AppError> {
    let (_, config) = mail_settings(&state)?;
    let id = mail::check_resume_token(&config.link_secret, body.resume.trim(), now_ms())
        .ok_or(AppError::Unauthorized("this link is wrong or has expired"))?;
    let header = state.inner.store.conversation(&id).await?.ok_or(AppError::NotFound("conversation"))?;
    let token = mint_token(&state, &id).await?;
    Ok(Json(EscalationCreated { id, token, status: header.status, created_ms: header.created_ms }))
}

/// `POST /api/escalations/by-customer` body: the identity the site vouched for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerBody {
    customer_id: String,
    user_hash: String,
}

/// `POST /api/escalations/by-customer` `{customer_id, user_hash}`: the customer's open,
/// verified escalations, each with a fresh token for this device, `{escalations: [{id, token,
/// status, created_ms}]}`. 401 when the hash does not vouch for the id (or no secret is set).
pub(crate) async fn by_customer(State(state): State<AppState>, ApiJson(body): ApiJson<CustomerBody>) -> Result<Json<Value>, AppError> {
    let s = &state.inner;
    let identity = crate::identity::verify(s.config.identity_secret.as_deref(), Some(&body.customer_id), Some(&body.user_hash));
    if identity != crate::identity::Identity::Verified {
        return Err(AppError::Unauthorized("this user_hash does not vouch for this customer id"));
    }
    let mut out = Vec::new();
    for c in s.store.open_for_customer(&body.customer_id).await? {
        let token = mint_token(&state, &c.id).await?;
        out.push(EscalationCreated { id: c.id, token, status: c.status, created_ms: c.created_ms });
    }
    Ok(Json(json!({ "escalations": out })))
}

/// `POST /api/mail/inbound`: a raw RFC 5322 message from the shop's mail relay (any content
/// type), with `X-Sottovoce-Mail-Secret`. The answer is added to the conversation its
/// `In-Reply-To`/`References` names when the sender is the address given on it. 201 `{id,
/// message}`, 200 for a retried Message-ID, 401 wrong secret, 422 a message of nobody's.
pub(crate) async fn inbound(State(state): State<AppState>, headers: HeaderMap, raw: Bytes) -> Result<Response, AppError> {
    let s = &state.inner;
    let (_, config) = mail_settings(&state)?;
    let secret = config.inbound_secret.as_deref().ok_or(AppError::NotFound("inbound mail"))?;
    let given = headers.get("x-sottovoce-mail-secret").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !constant_time_eq(&sha256_hex(given.as_bytes()), &sha256_hex(secret.as_bytes())) {
        return Err(AppError::Unauthorized("wrong inbound mail secret"));
    }
    let inbound = mail::parse_inbound(&config.link_secret, &raw).map_err(|e| AppError::invalid("message", e.to_string()))?;
    let contact = s.store.contact(&inbound.conversation_id).await?;
    if !contact.is_some_and(|c| c.email.eq_ignore_ascii_case(&inbound.from)) {
        return Err(AppError::invalid("from", "is not the address given on this conversation"));
    }
    let (status, _) = s.store.conversation_auth(&inbound.conversation_id).await?.ok_or(AppError::NotFound("conversation"))?;
    if status != ConversationStatus::Open {
        return Err(AppError::Conflict("this conversation was resolved".into()));
    }
    let text: String = crate::redact::card_numbers(&inbound.text).chars().take(4000).collect();
    let new = NewMessage {
        client_id: inbound.message_id.map(|m| format!("mail:{}", sha256_hex(m.as_bytes()))),
        ..NewMessage::new(Author::Visitor, text, now_ms())
    };
    let (message, created) = s.store.add_message(&inbound.conversation_id, &new).await?;
    if created {
        s.live.publish(&s.store, &inbound.conversation_id, EventKind::Message).await;
    }
    let code = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((code, Json(json!({ "id": inbound.conversation_id, "message": message }))).into_response())
}

/// Starts the delivery task (see the module comment).
pub(crate) fn start_delivery(state: AppState) {
    let rx = state.inner.live.subscribe();
    tokio::spawn(deliver_loop(state, rx));
}

async fn deliver_loop(state: AppState, mut rx: broadcast::Receiver<Event>) {
    let mut sweep = tokio::time::interval(Duration::from_secs(30));
    loop {
        let ids = tokio::select! {
            event = rx.recv() => match event {
                Ok(e) if e.kind == EventKind::Message => vec![e.conversation_id],
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => state.inner.store.undelivered().await.unwrap_or_default(),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = sweep.tick() => state.inner.store.undelivered().await.unwrap_or_default(),
        };
        for id in ids {
            if let Err(e) = deliver(&state, &id).await {
                tracing::warn!(conversation = %id, error = %e, "delivering agent replies failed; retrying later");
            }
        }
    }
}

/// Sends the agent replies of one conversation that its email contact or channel chat has not
/// had yet.
async fn deliver(state: &AppState, id: &str) -> Result<(), String> {
    let s = &state.inner;
    let err = |e: sqlx::Error| e.to_string();
    if let (Some(contact), Some(smtp), Some(config)) = (s.store.contact(id).await.map_err(err)?, &s.config.omni.smtp, &s.config.omni.mail) {
        let header = s.store.conversation(id).await.map_err(err)?.ok_or("no conversation")?;
        let mut mark = contact.last_mailed_id;
        for m in s.store.messages_after(id, mark).await.map_err(err)? {
            if m.author != Author::Agent {
                continue;
            }
            if !s.store.mark_mailed(id, mark, m.id).await.map_err(err)? {
                break; // another process mails these
            }
            let agent = m.author_name.clone().unwrap_or_else(|| config.shop_name.clone());
            let link = mail::resume_link(config, id, now_ms());
            let (subject, body) = mail::reply_email(&header.locale, &config.shop_name, &agent, &m.text, &link);
            let message_id = mail::message_id(&config.link_secret, id, m.id, &mail::sender_domain(smtp));
            if let Err(e) = mail::send(smtp, &contact.email, &subject, body, message_id).await {
                // Put the mark back so the sweep retries this one.
                let _ = s.store.mark_mailed(id, m.id, mark).await;
                return Err(e.to_string());
            }
            mark = m.id;
        }
    }
    crate::channel::deliver(state, id).await
}

/// Command-line options of presence, email continuity and channels (flattened into
/// [`crate::cli::EscalationArgs`]).
#[derive(Debug, Clone, clap::Args)]
pub struct OmniArgs {
    /// Business hours shown when nobody is online, e.g. `mon-fri 09:00-18:00 +01:00`.
    #[arg(long, env = "SOTTOVOCE_BUSINESS_HOURS", value_parser = BusinessHours::parse)]
    pub business_hours: Option<BusinessHours>,
    /// SMTP relay host; with it the widget offers to continue by email.
    #[arg(long, env = "SOTTOVOCE_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port.
    #[arg(long, env = "SOTTOVOCE_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// SMTP security: `starttls`, `tls` (implicit, port 465) or `none` (local relay only).
    #[arg(long, env = "SOTTOVOCE_SMTP_TLS", default_value = "starttls", value_parser = |s: &str| s.parse::<mail::SmtpTls>())]
    pub smtp_tls: mail::SmtpTls,
    /// SMTP AUTH user.
    #[arg(long, env = "SOTTOVOCE_SMTP_USER", requires = "smtp_password")]
    pub smtp_user: Option<String>,
    /// SMTP AUTH password (better given in the environment).
    #[arg(long, env = "SOTTOVOCE_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// Sender of the emails, `Shop <support@shop.example>`.
    #[arg(long, env = "SOTTOVOCE_MAIL_FROM", default_value = "Support <support@localhost.localdomain>")]
    pub mail_from: String,
    /// Start a local SMTP sink on this address that prints every email to stderr, and send
    /// there (the demo: no mail server needed). Overrides `--smtp-host`.
    #[arg(long, value_name = "ADDR")]
    pub smtp_sink: Option<String>,
    /// The shop page an emailed link reopens the conversation on (the widget reads `sv_resume`).
    #[arg(long, env = "SOTTOVOCE_PUBLIC_URL", default_value = "http://127.0.0.1:8080/")]
    pub public_url: String,
    /// Key of the signed links (keep it across restarts; random per start when absent).
    #[arg(long, env = "SOTTOVOCE_LINK_SECRET", hide_env_values = true)]
    pub link_secret: Option<String>,
    /// Secret the inbound-mail relay sends in `X-Sottovoce-Mail-Secret` (`POST /api/mail/inbound`).
    #[arg(long, env = "SOTTOVOCE_INBOUND_MAIL_SECRET", hide_env_values = true)]
    pub inbound_mail_secret: Option<String>,
    /// The shop's name in email subjects.
    #[arg(long, env = "SOTTOVOCE_SHOP_NAME", default_value = "Support")]
    pub shop_name: String,
    /// Telegram bot token: runs the bot (`--inbox-bot`) on `POST /api/channels/telegram`.
    #[arg(long, env = "SOTTOVOCE_TELEGRAM_TOKEN", hide_env_values = true, requires = "telegram_secret")]
    pub telegram_token: Option<String>,
    /// The `secret_token` given to Telegram's `setWebhook`.
    #[arg(long, env = "SOTTOVOCE_TELEGRAM_SECRET", hide_env_values = true)]
    pub telegram_secret: Option<String>,
    /// Telegram Bot API base URL.
    #[arg(long, env = "SOTTOVOCE_TELEGRAM_API", default_value = "https://api.telegram.org")]
    pub telegram_api: String,
    /// Secret of the generic JSON channel (`POST /api/channels/json`), signing both ways.
    #[arg(long, env = "SOTTOVOCE_JSON_CHANNEL_SECRET", hide_env_values = true, requires = "json_channel_reply_url")]
    pub json_channel_secret: Option<String>,
    /// Where the JSON channel posts the bot's and agents' replies.
    #[arg(long, env = "SOTTOVOCE_JSON_CHANNEL_REPLY_URL")]
    pub json_channel_reply_url: Option<String>,
}

impl OmniArgs {
    /// The [`OmniConfig`] these options describe.
    pub fn to_config(&self) -> OmniConfig {
        let sink = self.smtp_sink.as_ref().and_then(|a| a.rsplit_once(':')).and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)));
        let smtp = match (&sink, &self.smtp_host) {
            (Some((host, port)), _) => Some(SmtpConfig { host: host.clone(), port: *port, tls: mail::SmtpTls::None, credentials: None, from: self.mail_from.clone() }),
            (None, Some(host)) => Some(SmtpConfig {
                host: host.clone(),
                port: self.smtp_port,
                tls: self.smtp_tls,
                credentials: self.smtp_user.clone().zip(self.smtp_password.clone()),
                from: self.mail_from.clone(),
            }),
            _ => None,
        };
        let mail = smtp.as_ref().map(|_| MailConfig {
            public_url: self.public_url.clone(),
            link_secret: self.link_secret.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| random_hex(32)),
            link_ttl_ms: 7 * 24 * 3_600_000,
            inbound_secret: self.inbound_mail_secret.clone().filter(|s| !s.is_empty()),
            shop_name: self.shop_name.clone(),
        });
        OmniConfig {
            business_hours: self.business_hours,
            smtp,
            mail,
            channels: crate::channel::ChannelsConfig {
                json: self.json_channel_secret.clone().zip(self.json_channel_reply_url.clone()),
                telegram: self.telegram_token.clone().zip(self.telegram_secret.clone()).map(|(t, s)| (t, s, self.telegram_api.clone())),
            },
            print_sink: self.smtp_sink.clone(),
        }
    }
}

/// Starts the demo's SMTP sink on `addr`, printing each email (subject, recipient, text) to
/// stderr.
///
/// # Errors
/// The address cannot be bound.
pub async fn start_print_sink(addr: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let mut rx = crate::smtp_sink::serve(listener);
    tokio::spawn(async move {
        while let Some(raw) = rx.recv().await {
            let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes());
            let (to, subject, text) = parsed.as_ref().map_or_else(
                || (String::new(), String::new(), raw.clone()),
                |m| {
                    let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
                    (to, m.subject().unwrap_or_default().to_owned(), m.body_text(0).map(|t| t.into_owned()).unwrap_or_default())
                },
            );
            eprintln!("\n--- email to {to}: {subject}\n{text}---");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        omni: OmniArgs,
    }

    #[test]
    fn the_demo_options_configure_a_sink_hours_and_links() {
        Args::command().debug_assert();
        let args = Args::try_parse_from(["serve", "--smtp-sink", "127.0.0.1:2525", "--business-hours", "mon-fri 09:00-18:00 +01:00", "--shop-name", "Cumbre"]).unwrap();
        let config = args.omni.to_config();
        let smtp = config.smtp.expect("the sink is the relay");
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("127.0.0.1", 2525, mail::SmtpTls::None));
        assert_eq!(config.mail.map(|m| (m.shop_name, m.link_secret.len())), Some(("Cumbre".to_owned(), 64)));
        assert!(config.business_hours.is_some() && config.print_sink.is_some());
        assert!(Args::try_parse_from(["serve", "--business-hours", "nights"]).is_err());
        assert!(Args::try_parse_from(["serve", "--smtp-tls", "ssl"]).is_err());
        let none = Args::try_parse_from(["serve"]).unwrap().omni.to_config();
        assert!(none.smtp.is_none() && none.mail.is_none() && none.channels.telegram.is_none());
    }
}
