//! Email continuity: the agent's replies and transcripts sent over SMTP (`lettre`), in the
//! visitor's locale, with a signed expiring link that reopens the conversation in the widget;
//! and the visitor's emailed answers read back from raw RFC 5322 messages (`mail-parser`),
//! quoted text stripped.
//!
//! Signatures are HMAC-SHA256 under [`MailConfig::link_secret`]: a resume link is
//! `<conversation>.<expiry ms>.<hex tag>`; every message sent carries a Message-ID
//! `<sv.<conversation>.<message id>.<tag>@<domain>>`, so an answer's `In-Reply-To` or
//! `References` names its conversation in a way nobody can forge without the secret. The
//! sender must also be the address the visitor gave.

use std::borrow::Cow;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};
use mail_parser::{HeaderValue, MessageParser};
use sha2::Sha256;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a local relay or a test sink only).
    None,
    /// STARTTLS, required (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Wrapper,
}

impl FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> Result<SmtpTls, String> {
        match s {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Wrapper),
            _ => Err(format!("SMTP TLS must be none, starttls or tls, not {s:?}")),
        }
    }
}

/// The server's SMTP settings.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host name of the relay.
    pub host: String,
    /// Port (25, 465, 587; any for a sink).
    pub port: u16,
    /// Connection security.
    pub tls: SmtpTls,
    /// `user` and `password` for SMTP AUTH, if the relay wants them.
    pub credentials: Option<(String, String)>,
    /// The sender, `Shop support <support@shop.example>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig").field("host", &self.host).field("port", &self.port).field("tls", &self.tls).field("from", &self.from).finish()
    }
}

/// Email continuity settings ([`crate::Config::omni`]).
#[derive(Clone)]
pub struct MailConfig {
    /// The page the resume link opens (the shop, where the widget runs), e.g.
    /// `https://shop.example/`; the link adds `sv_resume=<signed token>` to it.
    pub public_url: String,
    /// The key of resume links and reply Message-IDs (at least 32 random bytes, kept across
    /// restarts or old links stop working).
    pub link_secret: String,
    /// How long a resume link works, in milliseconds (default 7 days).
    pub link_ttl_ms: i64,
    /// The secret the inbound-mail relay sends in `X-Sottovoce-Mail-Secret`; `None` turns the
    /// inbound endpoint off.
    pub inbound_secret: Option<String>,
    /// The shop's name in subjects.
    pub shop_name: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig").field("public_url", &self.public_url).field("link_ttl_ms", &self.link_ttl_ms).finish_non_exhaustive()
    }
}

/// Why an email could not be built or sent, or a message not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The address is not one we can send to.
    #[error("not an email address: {0}")]
    Address(String),
    /// Building the message failed.
    #[error("cannot build the email: {0}")]
    Build(String),
    /// The SMTP relay refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(String),
    /// The inbound message could not be parsed or names no conversation of ours.
    #[error("inbound mail: {0}")]
    Inbound(&'static str),
}

/// Checks an address the visitor typed: RFC 5321 syntax (`lettre::Address`), a dot in the
/// domain, at most 254 characters. Returns it trimmed, domain lower-cased.
///
/// # Errors
/// [`MailError::Address`].
pub fn check_address(text: &str) -> Result<String, MailError> {
    let text = text.trim();
    let bad = || MailError::Address(text.chars().take(80).collect());
    let address = Address::from_str(text).map_err(|_| bad())?;
    let domain = address.domain().to_ascii_lowercase();
    if text.len() > 254 || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad());
    }
    Ok(format!("{}@{domain}", address.user()))
}

fn tag(secret: &str, purpose: &str, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signed token of a resume link: `<conversation>.<expires_ms>.<tag>`.
pub fn resume_token(secret: &str, conversation_id: &str, expires_ms: i64) -> String {
    let payload = format!("{conversation_id}.{expires_ms}");
    format!("{payload}.{}", tag(secret, "resume", &payload))
}

/// The conversation a resume token opens, if its tag is right (constant time) and it has not
/// expired at `now_ms`.
pub fn check_resume_token(secret: &str, token: &str, now_ms: i64) -> Option<String> {
    let (payload, given) = token.rsplit_once('.')?;
    let (conversation, expires) = payload.rsplit_once('.')?;
    let expires: i64 = expires.parse().ok()?;
    let want = tag(secret, "resume", payload);
    (crate::api::constant_time_eq(&want, given) && now_ms < expires).then(|| conversation.to_owned())
}

/// The resume link: `public_url` with `sv_resume=<token>` added.
pub fn resume_link(config: &MailConfig, conversation_id: &str, now_ms: i64) -> String {
    let token = resume_token(&config.link_secret, conversation_id, now_ms + config.link_ttl_ms);
    let sep = if config.public_url.contains('?') { '&' } else { '?' };
    format!("{}{sep}sv_resume={token}", config.public_url)
}

fn reply_tag(secret: &str, conversation_id: &str) -> String {
    tag(secret, "reply", conversation_id)[..16].to_owned()
}

/// The Message-ID of an email about `conversation_id`, naming it in a signed way.
pub fn message_id(secret: &str, conversation_id: &str, message_id: i64, domain: &str) -> String {
    format!("<sv.{conversation_id}.{message_id}.{}@{domain}>", reply_tag(secret, conversation_id))
}

/// The conversation a Message-ID made by [`message_id`] names, if its tag is right.
fn conversation_of(secret: &str, id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let local = id.split('@').next()?.strip_prefix("sv.")?;
    let mut parts = local.rsplitn(3, '.');
    let (given, _message, conversation) = (parts.next()?, parts.next()?, parts.next()?);
    crate::api::constant_time_eq(&reply_tag(secret, conversation), given).then(|| conversation.to_owned())
}

/// The short texts of one locale: subject of a reply, its lead line, the link line, the
/// "just answer" line, and the transcript subject.
struct Texts {
    reply_subject: &'static str,
    replied: &'static str,
    link: &'static str,
    answer: &'static str,
    transcript_subject: &'static str,
    you: &'static str,
    bot: &'static str,
}

/// The six locales of the demo bot; anything else gets English. `{shop}` and `{agent}` are
/// filled in.
fn texts(locale: &str) -> &'static Texts {
    const EN: Texts = Texts {
        reply_subject: "{shop}: a reply to your question",
        replied: "{agent} replied:",
        link: "Continue the conversation in the chat:",
        answer: "Or simply answer this email.",
        transcript_subject: "{shop}: your conversation",
        you: "You",
        bot: "Assistant",
    };
    const ES: Texts = Texts {
        reply_subject: "{shop}: respuesta a tu consulta",
        replied: "{agent} ha respondido:",
        link: "Continúa la conversación en el chat:",
        answer: "O simplemente responde a este correo.",
        transcript_subject: "{shop}: tu conversación",
        you: "Tú",
        bot: "Asistente",
    };
    const FR: Texts = Texts {
        reply_subject: "{shop} : réponse à votre question",
        replied: "{agent} a répondu :",
        link: "Poursuivez la conversation dans le chat :",
        answer: "Ou répondez simplement à cet e-mail.",
        transcript_subject: "{shop} : votre conversation",
        you: "Vous",
        bot: "Assistant",
    };
    const DE: Texts = Texts {
        reply_subject: "{shop}: Antwort auf Ihre Frage",
        replied: "{agent} hat geantwortet:",
        link: "Setzen Sie das Gespräch im Chat fort:",
        answer: "Oder antworten Sie einfach auf diese E-Mail.",
        transcript_subject: "{shop}: Ihr Gespräch",
        you: "Sie",
        bot: "Assistent",
    };
    const PT: Texts = Texts {
        reply_subject: "{shop}: resposta à sua pergunta",
        replied: "{agent} respondeu:",
        link: "Continue a conversa no chat:",
        answer: "Ou simplesmente responda a este e-mail.",
        transcript_subject: "{shop}: sua conversa",
        you: "Você",
        bot: "Assistente",
    };
    const AR: Texts = Texts {
        reply_subject: "{shop}: رد على سؤالك",
        replied: "رد {agent}:",
        link: "تابع المحادثة في الدردشة:",
        answer: "أو قم بالرد على هذا البريد ببساطة.",
        transcript_subject: "{shop}: محادثتك",
        you: "أنت",
        bot: "المساعد",
    };
    match locale.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase().as_str() {
        "es" => &ES,
        "fr" => &FR,
        "de" => &DE,
        "pt" => &PT,
        "ar" => &AR,
        _ => &EN,
    }
}

/// Subject and plain-text body of the email carrying an agent's reply.
pub fn reply_email(locale: &str, shop: &str, agent: &str, text: &str, link: &str) -> (String, String) {
    let t = texts(locale);
    let subject = t.reply_subject.replace("{shop}", shop);
    let body = format!("{}\n\n{text}\n\n{}\n{link}\n\n{}\n", t.replied.replace("{agent}", agent), t.link, t.answer);
    (subject, body)
}

/// Subject and body of a transcript: one `Author: text` paragraph per message, every text
/// through [`crate::redact::card_numbers`] (as stored escalations are).
pub fn transcript_email(locale: &str, shop: &str, messages: &[sottovoce::protocol::Message], link: &str) -> (String, String) {
    use sottovoce::protocol::Author;
    let t = texts(locale);
    let mut body = String::new();
    for m in messages {
        let who: Cow<'_, str> = match m.author {
            Author::Visitor => t.you.into(),
            Author::Bot => t.bot.into(),
            _ => m.author_name.clone().unwrap_or_else(|| shop.to_owned()).into(),
        };
        body.push_str(&format!("{who}: {}\n\n", crate::redact::card_numbers(&m.text)));
    }
    body.push_str(&format!("{}\n{link}\n", t.link));
    (t.transcript_subject.replace("{shop}", shop), body)
}

/// Sends one plain-text email over SMTP with the given Message-ID.
///
/// # Errors
/// [`MailError`] when the addresses, the message or the relay fail.
pub async fn send(smtp: &SmtpConfig, to: &str, subject: &str, body: String, message_id: String) -> Result<(), MailError> {
    let from: Mailbox = smtp.from.parse().map_err(|e| MailError::Address(format!("{}: {e}", smtp.from)))?;
    let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
    let email = Email::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Build(e.to_string()))?;
    let tls = match smtp.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(TlsParameters::new(smtp.host.clone()).map_err(|e| MailError::Smtp(e.to_string()))?),
        SmtpTls::Wrapper => Tls::Wrapper(TlsParameters::new(smtp.host.clone()).map_err(|e| MailError::Smtp(e.to_string()))?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host).port(smtp.port).tls(tls);
    if let Some((user, password)) = &smtp.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    builder.build().send(email).await.map_err(|e| MailError::Smtp(e.to_string()))?;
    Ok(())
}

/// The domain of the sender address, for Message-IDs.
pub fn sender_domain(smtp: &SmtpConfig) -> String {
    smtp.from.parse::<Mailbox>().map(|m| m.email.domain().to_owned()).unwrap_or_else(|_| "sottovoce.invalid".into())
}

/// A visitor's emailed answer, read from a raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The conversation its `In-Reply-To` / `References` names (signature checked).
    pub conversation_id: String,
    /// The sender's address.
    pub from: String,
    /// The new text, quoted part stripped.
    pub text: String,
    /// Its Message-ID (so a relay's retry is stored once).
    pub message_id: Option<String>,
}

fn header_texts(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Parses a raw RFC 5322 message and finds which conversation it answers.
///
/// # Errors
/// [`MailError::Inbound`] when it does not parse, has no sender, names no conversation with a
/// valid tag, or has no text left after stripping quotes.
pub fn parse_inbound(secret: &str, raw: &[u8]) -> Result<Inbound, MailError> {
    let message = MessageParser::default().parse(raw).ok_or(MailError::Inbound("not an RFC 5322 message"))?;
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .ok_or(MailError::Inbound("no sender"))?
        .to_owned();
    let mut ids = header_texts(message.in_reply_to());
    ids.extend(header_texts(message.references()));
    let conversation_id =
        ids.iter().find_map(|id| conversation_of(secret, id)).ok_or(MailError::Inbound("answers no conversation of ours"))?;
    let body = message.body_text(0).ok_or(MailError::Inbound("no text part"))?;
    let text = strip_quoted(&body);
    if text.is_empty() {
        return Err(MailError::Inbound("nothing but quoted text"));
    }
    Ok(Inbound { conversation_id, from, text, message_id: message.message_id().map(str::to_owned) })
}

/// The new part of an emailed answer: everything before the first quoted line (`>`), the
/// attribution line mail clients put above a quote ("On … wrote:", "El … escribió:",
/// "Le … a écrit :", "Am … schrieb …:", "Em … escreveu:", Arabic "كتب"), an Outlook
/// "-----Original Message-----" / "From:" block, or a signature separator (`-- `); trimmed.
pub fn strip_quoted(body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let mut kept = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let attribution = (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || (lower.starts_with("el ") && lower.ends_with("escribió:"))
            || (lower.starts_with("le ") && (lower.ends_with("a écrit :") || lower.ends_with("a écrit:")))
            || (lower.starts_with("am ") && lower.contains("schrieb"))
            || (lower.starts_with("em ") && lower.ends_with("escreveu:"))
            || (t.contains("كتب") && t.ends_with(':'));
        if t.starts_with('>')
            || attribution
            || line == "-- "
            || lower.starts_with("-----original message")
            || (lower.starts_with("from:") && !kept.is_empty())
        {
            break;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_tokens_check_their_tag_and_expiry() {
        let t = resume_token("k", "c_1", 1_000);
        assert_eq!(check_resume_token("k", &t, 999).as_deref(), Some("c_1"));
        assert_eq!(check_resume_token("k", &t, 1_000), None, "expired");
        assert_eq!(check_resume_token("other", &t, 10), None, "another key");
        assert_eq!(check_resume_token("k", &t.replace("1000", "9999"), 10), None, "extended expiry");
        assert_eq!(check_resume_token("k", "c_1", 10), None);
    }

    #[test]
    fn message_ids_name_their_conversation_only_with_the_right_tag() {
        let id = message_id("k", "c_ab", 7, "shop.example");
        assert_eq!(conversation_of("k", &id).as_deref(), Some("c_ab"));
        assert_eq!(conversation_of("j", &id), None);
        assert_eq!(conversation_of("k", &id.replace("c_ab", "c_ac")), None);
    }

    #[test]
    fn addresses_are_checked() {
        assert_eq!(check_address("  Ana@Example.COM ").unwrap(), "Ana@example.com");
        for bad in ["", "ana", "ana@localhost", "ana@@x.com", "a b@x.com", "ana@x.com.", "<ana@x.com>"] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quoted_text_is_stripped_in_each_clients_style() {
        let cases = [
            ("Yes, thanks!\n\nOn Fri, 4 Dec 2026 at 21:00, Shop <s@shop.example> wrote:\n> Hello", "Yes, thanks!"),
            ("Sí, gracias\r\n\r\nEl vie, 4 dic 2026, Shop escribió:\r\n> Hola", "Sí, gracias"),
            ("Merci\nLe ven. 4 déc. 2026, Shop a écrit :\n> Bonjour", "Merci"),
            ("Danke\nAm Fr., 4. Dez. 2026 um 21:00 schrieb Shop:\n> Hallo", "Danke"),
            ("Obrigado\nEm sex., 4 de dez., Shop escreveu:\n> Oi", "Obrigado"),
            ("Line one\nline two\n-- \nAna", "Line one\nline two"),
            ("Fine\n-----Original Message-----\nFrom: Shop", "Fine"),
            ("> only a quote", ""),
        ];
        for (body, want) in cases {
            assert_eq!(strip_quoted(body), want, "{body:?}");
        }
    }

    #[test]
    fn every_locale_has_its_own_reply_text() {
        let mut seen = std::collections::BTreeSet::new();
        for locale in ["en", "es", "fr", "de", "pt-BR", "ar"] {
            let (subject, body) = reply_email(locale, "Cumbre", "marta", "hello", "https://x/?sv_resume=t");
            assert!(subject.contains("Cumbre") && body.contains("marta") && body.contains("https://x/?sv_resume=t"), "{locale}");
            seen.insert(subject);
        }
        assert_eq!(seen.len(), 6);
        assert_eq!(reply_email("ja", "S", "a", "t", "l"), reply_email("en", "S", "a", "t", "l"));
    }
}
