//! Where a conversation is kept: `localStorage` (through web-sys, as the core's JSON), or
//! memory when that is missing, blocked, full or broken. Falling back is silent: the chat goes
//! on, only unsaved.

use serde::Serialize;
use sottovoce::escalation::Escalation;
use sottovoce::ConversationState;
use web_sys::Storage;

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
    /// and the next save overwrites the bad entry. The core checks version and bot id.
    pub(crate) fn load(&self, bot_id: &str) -> Option<ConversationState> {
        let Store::Local(key) = self else { return None };
        ConversationState::from_json(&read(key)?, bot_id).ok()
    }

    /// Saves `state`; on any failure (quota, storage revoked) switches to memory for good.
    pub(crate) fn save(&mut self, state: &ConversationState) {
        if let Store::Local(key) = self {
            if !write(key, state) {
                *self = Store::Memory;
            }
        }
    }

    /// Forgets the stored conversation ("Start over").
    pub(crate) fn clear(&mut self) {
        if let Store::Local(key) = self {
            if !remove(key) {
                *self = Store::Memory;
            }
        }
    }

    /// The escalation kept beside the conversation (key `<key>:escalation`), if any and readable.
    pub(crate) fn load_escalation(&self) -> Option<Escalation> {
        let Store::Local(key) = self else { return None };
        serde_json::from_str(&read(&format!("{key}:escalation"))?).ok()
    }

    /// Saves (or, for `None`, removes) the escalation; on failure switches to memory.
    pub(crate) fn save_escalation(&mut self, escalation: Option<&Escalation>) {
        if let Store::Local(key) = self {
            let key = format!("{key}:escalation");
            let saved = match escalation {
                Some(e) => write(&key, e),
                None => {
                    remove(&key);
                    true
                }
            };
            if !saved {
                *self = Store::Memory;
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

/// `window.localStorage`, or `None` when there is no window, or the getter throws (storage
/// blocked) or returns null. web-sys hands the exception back as an `Err`.
fn local_storage() -> Option<Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The text stored under `key`, if any and readable.
fn read(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// Stores `value` as JSON under `key`; false when storage is gone or refuses (quota).
fn write(key: &str, value: &impl Serialize) -> bool {
    let Ok(text) = serde_json::to_string(value) else { return false };
    local_storage().is_some_and(|s| s.set_item(key, &text).is_ok())
}

/// Removes `key`; false when storage is gone or throws.
fn remove(key: &str) -> bool {
    local_storage().is_some_and(|s| s.remove_item(key).is_ok())
}

/// True when `localStorage` exists and accepts a write and a removal.
fn local_storage_works() -> bool {
    const PROBE: &str = "sottovoce:probe";
    local_storage().is_some_and(|s| s.set_item(PROBE, "1").is_ok() && s.remove_item(PROBE).is_ok())
}
