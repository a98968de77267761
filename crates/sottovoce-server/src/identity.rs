//! Identity verification for escalations: the site vouches for a logged-in customer with
//! `user_hash = HMAC-SHA256(identity secret, customer id)` (lower-case hex), computed on its own
//! server, and this server checks it in constant time.
//!
//! The scheme is Intercom's identity verification and Chatwoot's `identifier_hash`: the secret
//! never reaches the browser, so a visitor cannot claim another customer's id. A missing or
//! wrong hash never refuses the escalation (the visitor's message always arrives); it only
//! leaves the conversation [`Identity::Unverified`], which the agent inbox shows.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// Whether the agent can trust the customer id an escalation carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// The `user_hash` is the HMAC of the customer id under the configured secret.
    Verified,
    /// No customer id, no hash, a wrong hash, or no secret configured.
    Unverified,
}

impl Identity {
    /// The stored and wire name: `verified` or `unverified`.
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::Verified => "verified",
            Identity::Unverified => "unverified",
        }
    }

    /// The value named by [`Identity::as_str`]; anything else is unverified.
    pub fn from_name(name: &str) -> Identity {
        if name == "verified" {
            Identity::Verified
        } else {
            Identity::Unverified
        }
    }
}

/// Checks `user_hash` (hex) against HMAC-SHA256(`secret`, `customer_id`) in constant time
/// (`hmac`'s `verify_slice`). [`Identity::Unverified`] when any of the three is missing or the
/// hash is not hex or does not match.
pub fn verify(secret: Option<&str>, customer_id: Option<&str>, user_hash: Option<&str>) -> Identity {
    let (Some(secret), Some(id), Some(hash)) = (secret, customer_id, user_hash) else {
        return Identity::Unverified;
    };
    let Ok(tag) = hex::decode(hash) else {
        return Identity::Unverified;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    if mac.verify_slice(&tag).is_ok() {
        Identity::Verified
    } else {
        Identity::Unverified
    }
}

/// The `user_hash` a site computes for `customer_id` (hex HMAC-SHA256 under `secret`); for
/// tests and the documentation's examples.
pub fn user_hash(secret: &str, customer_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(customer_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_hash_under_a_configured_secret_verifies() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let rfc = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(user_hash("Jefe", "what do ya want for nothing?"), rfc);
        let good = user_hash("s3cret", "c-42");
        let cases = [
            ("verified", Some("s3cret"), Some("c-42"), Some(good.as_str()), Identity::Verified),
            ("upper-case hex", Some("s3cret"), Some("c-42"), Some(&*good.to_uppercase()), Identity::Verified),
            ("another customer's hash", Some("s3cret"), Some("c-43"), Some(good.as_str()), Identity::Unverified),
            ("wrong secret", Some("other"), Some("c-42"), Some(good.as_str()), Identity::Unverified),
            ("absent hash", Some("s3cret"), Some("c-42"), None, Identity::Unverified),
            ("no secret configured", None, Some("c-42"), Some(good.as_str()), Identity::Unverified),
            ("no customer", Some("s3cret"), None, Some(good.as_str()), Identity::Unverified),
            ("not hex", Some("s3cret"), Some("c-42"), Some("zz"), Identity::Unverified),
            ("truncated", Some("s3cret"), Some("c-42"), Some(&good[..62]), Identity::Unverified),
        ];
        for (case, secret, id, hash, expected) in cases {
            assert_eq!(verify(secret, id, hash), expected, "{case}");
        }
    }
}
