//! The definition's `triggers` (when the bot speaks first, as a quiet teaser beside the
//! launcher) and `csat` (the satisfaction question at the end of a conversation).
//!
//! Both are owner settings read by the core's `proactive` module and the dialogue; every field is
//! written out in a model file (postcard reads fields by position), so nothing here is skipped
//! when serializing.

use serde::{Deserialize, Serialize};

use super::QuickReplyDef;

/// One proactive trigger: the conditions (all must hold), the teaser it shows and how often.
///
/// ```json
/// { "id": "cart-idle", "when": { "cart": true, "idle_s": 45 }, "message": "proactive-cart",
///   "quick_replies": [{ "label": "shipping_costs-title", "intent": "shipping_costs" }],
///   "promo": "CUMBRE10", "cap": { "visit": 1, "day": 1, "ever": 3 } }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerDef {
    /// Identifier, `[a-z0-9-]+`, unique among triggers; the caps are kept under it, and a page
    /// previews it with `?sottovoce-trigger=<id>`.
    pub id: String,
    /// The conditions; every one that is set must hold (all-of). At least one must be set.
    pub when: TriggerWhen,
    /// Message id of the teaser's text. Its Fluent variables: `$promo` (the code, or `none`),
    /// `$name` (the visitor's name, or `none`).
    pub message: String,
    /// Buttons offered with the teaser once the visitor opens it.
    #[serde(default)]
    pub quick_replies: Vec<QuickReplyDef>,
    /// A promotion code the owner offers with this teaser (`$promo` in its message).
    #[serde(default)]
    pub promo: Option<String>,
    /// How often it may be shown (default: once a visit).
    #[serde(default)]
    pub cap: CapDef,
}

/// The conditions of a [`TriggerDef`], each optional; the set ones combine with "and".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerWhen {
    /// The page's path (with its query), matched as a glob where `*` is any run of characters
    /// (`/checkout*`, `*/products/*`); a pattern without `*` is a prefix (`/help`).
    #[serde(default)]
    pub page: Option<String>,
    /// Seconds on the current page, at least.
    #[serde(default)]
    pub time_on_page_s: Option<u32>,
    /// How far down the page the visitor scrolled, in percent (0–100), at least.
    #[serde(default)]
    pub scroll_pct: Option<u8>,
    /// Seconds since the visitor last moved, scrolled, clicked or typed, at least.
    #[serde(default)]
    pub idle_s: Option<u32>,
    /// Only on exit intent: the pointer leaves the page through its top edge (desktop).
    #[serde(default)]
    pub exit_intent: bool,
    /// Only when the visitor comes back to the page's tab.
    #[serde(default)]
    pub tab_return: bool,
    /// A `track()` event the site reported during this visit (`add_to_cart`,
    /// `checkout_started`, `purchase`, `product_view`).
    #[serde(default)]
    pub event: Option<String>,
    /// `true`: items are in the cart (added with `track("add_to_cart")` and not yet bought);
    /// `false`: the cart is empty.
    #[serde(default)]
    pub cart: Option<bool>,
    /// The visitor's visits so far, this one included, at least.
    #[serde(default)]
    pub min_visits: Option<u32>,
    /// The profile holds a fact about this entity (`viewed`, `product`, `in_cart`…).
    #[serde(default)]
    pub fact: Option<String>,
}

impl TriggerWhen {
    /// True when no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == TriggerWhen::default()
    }
}

/// How often a trigger may be shown: at most `visit` times a visit, `day` times a calendar day
/// (the visitor's), `ever` times in all; `None` is no limit, except `visit`, whose default is 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapDef {
    /// Times per visit; `None` is [`DEFAULT_CAP_PER_VISIT`].
    #[serde(default)]
    pub visit: Option<u32>,
    /// Times per day in the visitor's time zone.
    #[serde(default)]
    pub day: Option<u32>,
    /// Times in all, on this device.
    #[serde(default)]
    pub ever: Option<u32>,
}

/// A trigger's showings per visit when its `cap` sets none.
pub const DEFAULT_CAP_PER_VISIT: u32 = 1;

/// The customer-satisfaction question: asked once a visit when the visitor ends a conversation
/// that answered something (an intent of `after`, such as `thanks` or `goodbye`, after at least
/// one question answered by an intent with a `title`), or when an agent resolves an escalation.
/// Buttons 1 to 5, then an optional comment; kept on the device only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatDef {
    /// Intents that end a conversation (`thanks`, `goodbye`).
    pub after: Vec<String>,
    /// Message id of the question ("How did I do? 1 is poor, 5 is great.").
    pub message: String,
    /// Message id asking for an optional comment after the rating; gets `$rating`.
    pub comment: String,
    /// Message id of the button that declines the comment ("No, thanks").
    pub skip: String,
    /// Message id said once the rating (and comment) are kept.
    pub thanks: String,
}
