//! Command-line options for the escalation server, to flatten into `sottovoce serve`.
//!
//! ```text
//! #[derive(clap::Args)]
//! struct Args {
//!     #[command(flatten)]
//!     escalation: sottovoce_server::cli::EscalationArgs,
//! }
//! let app = sottovoce_server::build_app(args.escalation.to_config()).await?;
//! ```

use std::path::PathBuf;

use crate::{Config, Limits, WebhookConfig};

/// Options of the escalation server (database, CORS origins, webhook, bot, limits).
#[derive(Debug, Clone, clap::Args)]
pub struct EscalationArgs {
    /// Database: a SQLite file path or `sqlite://` URL (created when missing), or `postgres://`.
    #[arg(long = "db", env = "SOTTOVOCE_DB", default_value = "sottovoce.db")]
    pub database_url: String,
    /// An origin (`https://shop.example`) allowed to call the visitor API; repeat for more.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// URL to POST signed events to (escalation.created, message.created, escalation.resolved).
    #[arg(long, env = "SOTTOVOCE_WEBHOOK_URL", requires = "webhook_secret")]
    pub webhook_url: Option<String>,
    /// Secret for the webhook's HMAC-SHA256 signature (better given in the environment).
    #[arg(long, env = "SOTTOVOCE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Seconds one webhook delivery attempt may take before it counts as failed and is retried.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout: u64,
    /// Bot definition (JSON) or model whose replies are offered to agents as suggestions.
    #[arg(long = "inbox-bot", value_name = "PATH")]
    pub bot_path: Option<PathBuf>,
    /// Profile field the widget may send (repeat); default every field the widget can send: name, locale, visits, first_seen_ms, last_seen_ms, customer_id.
    #[arg(long = "profile-field", value_name = "FIELD")]
    pub profile_fields: Vec<String>,
    /// Turn the per-IP and per-conversation rate limits off (benchmarks, trusted networks).
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Mark the agent session cookie `Secure` (when served over HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Secret the site signs customer ids with: an escalation whose `user_hash` is
    /// HMAC-SHA256(secret, customer id) is marked verified (better given in the environment).
    #[arg(long = "identity-secret", env = "SOTTOVOCE_IDENTITY_SECRET", hide_env_values = true)]
    pub identity_secret: Option<String>,
    /// Business hours, email continuity and messaging channels.
    #[command(flatten)]
    pub omni: crate::omni::OmniArgs,
    /// Bearer token `/metrics` requires (better given in the environment); unset: open.
    #[arg(long = "metrics-token", env = "SOTTOVOCE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Points a customer tier adds to a conversation's priority in the inbox, `value=points`
    /// (e.g. `gold=30`, points 0 to 100); repeat for more. Counted only for verified customers.
    #[arg(long = "tier", value_name = "VALUE=POINTS", value_parser = parse_tier)]
    pub tiers: Vec<(String, i64)>,
    /// The profile field that holds the customer's tier (the widget must be allowed to send it,
    /// e.g. `data-escalation-fields="name,locale,customer_id,traits.tier"` and `--profile-field`).
    #[arg(long = "tier-field", value_name = "FIELD", default_value = "traits.tier")]
    pub tier_field: String,
}

fn parse_tier(setting: &str) -> Result<(String, i64), crate::triage::TierError> {
    crate::triage::TriageConfig::parse_tiers(&[setting]).map(|mut v| v.remove(0))
}

impl EscalationArgs {
    /// The server configuration these options describe.
    pub fn to_config(&self) -> Config {
        let mut config = Config::new(self.database_url.clone());
        config.allowed_origins = self.allowed_origins.clone();
        config.webhook = match (&self.webhook_url, &self.webhook_secret) {
            (Some(url), Some(secret)) => Some(WebhookConfig {
                url: url.clone(),
                secret: secret.clone(),
                timeout: std::time::Duration::from_secs(self.webhook_timeout),
            }),
            _ => None,
        };
        config.bot_path = self.bot_path.clone();
        if !self.profile_fields.is_empty() {
            config.profile_fields = self.profile_fields.clone();
        }
        if self.no_rate_limit {
            config.limits = Limits::unlimited();
        }
        config.secure_cookies = self.secure_cookies;
        config.identity_secret = self.identity_secret.clone().filter(|s| !s.is_empty());
        config.omni = self.omni.to_config();
        config.metrics_token = self.metrics_token.clone().filter(|s| !s.is_empty());
        config.triage = crate::triage::TriageConfig { tier_field: self.tier_field.clone(), tiers: self.tiers.clone() };
        config
    }
}
