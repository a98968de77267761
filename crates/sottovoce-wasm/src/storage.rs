//! Where a conversation is kept: `localStorage` through gloo-storage, or memory when that is
//! missing, blocked, full or broken. Falling back is silent: the chat goes on, only unsaved.

use gloo_storage::{LocalStorage, Storage};
use sottovoce::escalation::Escalation;
use sottovoce::ConversationState;

/// Prefix of every key sottovoce writes; the `v1` is the storage layout version.
pub(crate) const KEY_PREFIX: &str = "sottovoce:v1:";

/// The conversation store of one [`crate::Chat`].
#[derive(Debug)]
pub(crate) enum Store {
    /// Saved under this `localStorage` key after every change.
    Local(String),
    /// Kept only in the `Chat` object (lost on reload).
    Memory,
}

impl Store {
    /// A store under `key`, or [`Store::Memory`] when `persist` is false or `localStorage`
    /// cannot be read and written right now.
    pub(crate) fn open(key: String, persist: bool) -> Store {
        if persist && local_storage_works() {
            Store::Local(key)
        } else {
            Store::Memory
        }
    }

    /// The stored conversation of bot `bot_id`, or `None` when there is none or it cannot be
    /// used (corrupt JSON, another state version, another bot); the caller then starts afresh
    /// and the next save overwrites the bad entry.
    pub(crate) fn load(&self, bot_id: &str) -> Option<ConversationState> {
        let Store::Local(key) = self else { return None };
        // Read as a JSON value first (gloo-storage parses), then let the core check the version
        // and bot id on the text, so the checks live in one place.
        let value: serde_json::Value = LocalStorage::get(key).ok()?;
        ConversationState::from_json(&value.to_string(), bot_id).ok()
    }

    /// Saves `state`; on any failure (quota, storage revoked) switches to memory for good.
    pub(crate) fn save(&mut self, state: &ConversationState) {
        if let Store::Local(key) = self {
            if LocalStorage::set(key.as_str(), state).is_err() {
                *self = Store::Memory;
            }
        }
    }

    /// Forgets the stored conversation ("Start over").
    pub(crate) fn clear(&mut self) {
        if let Store::Local(key) = self {
            if local_storage_works() {
                LocalStorage::delete(key.as_str());
            } else {
                *self = Store::Memory;
            }
        }
    }

    /// The escalation kept beside the conversation (key `<key>:escalation`), if any and readable.
    pub(crate) fn load_escalation(&self) -> Option<Escalation> {
        let Store::Local(key) = self else { return None };
        LocalStorage::get(format!("{key}:escalation")).ok()
    }

    /// Saves (or, for `None`, removes) the escalation; on failure switches to memory.
    pub(crate) fn save_escalation(&mut self, escalation: Option<&Escalation>) {
        if let Store::Local(key) = self {
            let key = format!("{key}:escalation");
            match escalation {
                Some(e) => {
                    if LocalStorage::set(key.as_str(), e).is_err() {
                        *self = Store::Memory;
                    }
                }
                None => {
                    if local_storage_works() {
                        LocalStorage::delete(key.as_str());
                    }
                }
            }
        }
    }

    /// `"local"` or `"memory"`.
    pub(crate) fn status(&self) -> &'static str {
        match self {
            Store::Local(_) => "local",
            Store::Memory => "memory",
        }
    }
}

/// True when `localStorage` exists and accepts a write and a removal. gloo-storage turns a
/// throwing `window.localStorage` getter into a JavaScript exception, so the probe goes through
/// web-sys, whose methods return the exception as an `Err`.
fn local_storage_works() -> bool {
    const PROBE: &str = "sottovoce:probe";
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return false;
    };
    storage.set_item(PROBE, "1").is_ok() && storage.remove_item(PROBE).is_ok()
}
