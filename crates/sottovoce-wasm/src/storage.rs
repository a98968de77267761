//! Where a conversation is kept: `localStorage` through gloo-storage (the core's JSON, typed
//! [`StorageError`]s), or memory when that is missing, blocked, full or broken. Falling back
//! is silent: the chat goes on, only unsaved.
//!
//! gloo-storage reaches `localStorage` with `expect_throw`, which throws into JavaScript (and
//! leaves the [`crate::Chat`] borrowed) when the browser blocks storage. So every call first
//! asks web-sys, whose getter hands the exception back as an `Err`, whether storage is there.

use gloo_storage::errors::StorageError;
use gloo_storage::{LocalStorage, Storage as _};
use serde::Serialize;
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
    /// and the next save overwrites the bad entry. The core's reader checks version and bot id,
    /// so the text is read as it is stored.
    pub(crate) fn load(&self, bot_id: &str) -> Option<ConversationState> {
        let Store::Local(key) = self else { return None };
        let text = available().then(|| LocalStorage::raw().get_item(key).ok().flatten())??;
        ConversationState::from_json(&text, bot_id).ok()
    }

    /// Saves `state`; on any failure (quota, storage revoked) switches to memory for good.
    pub(crate) fn save(&mut self, state: &ConversationState) {
        if let Store::Local(key) = self {
            if write(key, state).is_err() {
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
        available().then(|| LocalStorage::get(format!("{key}:escalation")).ok())?
    }

    /// Saves (or, for `None`, removes) the escalation; on failure switches to memory.
    pub(crate) fn save_escalation(&mut self, escalation: Option<&Escalation>) {
        if let Store::Local(key) = self {
            let key = format!("{key}:escalation");
            let saved = match escalation {
                Some(e) => write(&key, e).is_ok(),
                None => remove(&key),
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

/// True when `window.localStorage` can be reached without an exception: there is a window,
/// and the getter neither throws (storage blocked) nor returns null.
fn available() -> bool {
    web_sys::window().is_some_and(|w| w.local_storage().ok().flatten().is_some())
}

/// Stores `value` as JSON under `key`.
///
/// # Errors
/// gloo-storage's [`StorageError::JsError`] when storage refuses (quota); a
/// [`StorageError::KeyNotFound`] naming `key` when storage is gone.
fn write(key: &str, value: &impl Serialize) -> Result<(), StorageError> {
    if !available() {
        return Err(StorageError::KeyNotFound(key.to_owned()));
    }
    LocalStorage::set(key, value)
}

/// Removes `key`; false when storage is gone.
fn remove(key: &str) -> bool {
    available() && {
        LocalStorage::delete(key);
        true
    }
}

/// True when `localStorage` exists and accepts a write and a removal.
fn local_storage_works() -> bool {
    const PROBE: &str = "sottovoce:probe";
    write(PROBE, &1).is_ok() && remove(PROBE)
}
