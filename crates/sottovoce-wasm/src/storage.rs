//! Where a conversation is kept: `localStorage` through gloo-storage (the core's JSON), or
//! memory when that is missing, blocked, full or broken. Falling back is silent: the chat goes
//! on, only unsaved.
//!
//! gloo-storage reaches `localStorage` with `expect_throw`, which throws into JavaScript (and
//! leaves the [`crate::Chat`] borrowed) when the browser blocks storage. So every call first
//! asks web-sys, whose getter hands the exception back as an `Err`, whether storage is there.
//!
//! The JSON goes through serde-wasm-bindgen and the browser's own `JSON.stringify`/`JSON.parse`
//! (gloo-storage's raw strings), not serde_json: that keeps serde_json's parser and printer, and
//! their copies for every stored type, out of the runtime wasm (about 29 KB of gzip). The text
//! is the JSON serde_json wrote before, with one care: the top-level `rng` (a SplitMix64 state,
//! any `u64`) goes beyond JavaScript's exact integers, so it is written and read from the text
//! itself, exactly, and handed to serde-wasm-bindgen as a `BigInt`.

use gloo_storage::{LocalStorage, Storage as _};
use js_sys::{BigInt, Reflect, JSON};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sottovoce::escalation::Escalation;
use sottovoce::ConversationState;
use wasm_bindgen::{JsCast, JsValue};

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
    ///
    /// A state written by a newer version of sottovoce (a `version` above the one this build
    /// reads: another tab or a cached page runs the newer widget) is refused and kept untouched:
    /// the store switches to memory, so this chat never overwrites it.
    pub(crate) fn load(&mut self, bot_id: &str) -> Option<ConversationState> {
        let Store::Local(key) = self else { return None };
        let value = read(key)?;
        let version = Reflect::get(&value, &"version".into()).ok()?.as_f64()?;
        if version > f64::from(sottovoce::STATE_VERSION) {
            *self = Store::Memory;
            return None;
        }
        ConversationState::check_version(u32::try_from(version as u64).ok()?).ok()?;
        let state: ConversationState = serde_wasm_bindgen::from_value(value).ok()?;
        state.check_bot(bot_id).ok()
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
        serde_wasm_bindgen::from_value(read(&format!("{key}:escalation"))?).ok()
    }

    /// Saves (or, for `None`, removes) the escalation; on failure switches to memory.
    pub(crate) fn save_escalation(&mut self, escalation: Option<&Escalation>) {
        if let Store::Local(key) = self {
            let key = format!("{key}:escalation");
            let saved = match escalation {
                Some(e) => write(&key, e),
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

/// What sottovoce keeps in `localStorage`: serde values with a top-level `rng`, a full 64-bit
/// SplitMix64 state that JavaScript numbers cannot hold exactly.
pub(crate) trait Stored: Serialize + DeserializeOwned + Clone {
    /// The top-level `rng` field.
    fn rng(&mut self) -> &mut u64;
}

impl Stored for ConversationState {
    fn rng(&mut self) -> &mut u64 {
        &mut self.rng
    }
}

impl Stored for Escalation {
    fn rng(&mut self) -> &mut u64 {
        &mut self.rng
    }
}

/// Stores `value` as JSON under `key`: serde-wasm-bindgen's JSON-compatible value of it,
/// `JSON.stringify`ed, with the exact `rng` first. False when storage is gone or refuses the
/// write (quota), or the value has no JSON form (serde-wasm-bindgen's error, e.g. another
/// integer beyond 2^53).
fn write<T: Stored>(key: &str, value: &T) -> bool {
    let mut copy = value.clone();
    let rng = std::mem::take(copy.rng());
    let Ok(object) = copy.serialize(&serde_wasm_bindgen::Serializer::json_compatible()) else { return false };
    let removed = Reflect::delete_property(object.unchecked_ref::<js_sys::Object>(), &"rng".into()).is_ok();
    let Some(rest) = removed.then(|| JSON::stringify(&object).ok()).flatten().map(String::from) else { return false };
    let Some(rest) = rest.strip_prefix('{') else { return false };
    let comma = if rest == "}" { "" } else { "," };
    write_text(key, &format!("{{\"rng\":{rng}{comma}{rest}"))
}

/// Stores `text` under `key`; false when storage is gone or refuses it.
fn write_text(key: &str, text: &str) -> bool {
    available() && LocalStorage::raw().set_item(key, text).is_ok()
}

/// The JSON under `key`, parsed, with its top-level `rng` as an exact `BigInt` (serde-wasm-bindgen
/// reads a `u64` from one); `None` when there is no entry, storage is gone, or it is not JSON.
fn read(key: &str) -> Option<JsValue> {
    let text = available().then(|| LocalStorage::raw().get_item(key).ok().flatten())??;
    let value = JSON::parse(&text).ok()?;
    if let Some(rng) = top_level_integer(&text, "rng").and_then(|digits| digits.parse::<u64>().ok()) {
        if value.is_object() {
            Reflect::set(&value, &"rng".into(), &BigInt::from(rng).into()).ok()?;
        }
    }
    Some(value)
}

/// The digits of the unsigned integer that is the value of `key` in the top-level object of
/// the JSON `text` (`None` when there is no such member or its value is not a plain unsigned
/// integer). A scan of the text, not a parse: it follows strings (with their escapes) and
/// nesting only, so call it on text `JSON.parse` accepted.
pub(crate) fn top_level_integer<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i + 1;
                i = start;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let value = text.get(i + 1..)?.trim_start().strip_prefix(':').map(str::trim_start);
                if let (1, Some(value)) = (depth, value) {
                    if text.get(start..i) == Some(key) {
                        let end = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
                        let after = value[end..].trim_start();
                        let plain = end > 0 && (after.starts_with(',') || after.starts_with('}'));
                        return plain.then(|| &value[..end]);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
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
    write_text(PROBE, "1") && remove(PROBE)
}

#[cfg(test)]
mod tests {
    use super::top_level_integer;

    /// (JSON text, the digits of its top-level `rng`).
    const CASES: &[(&str, Option<&str>)] = &[
        (r#"{"version":2,"rng":18446744073709551608,"n":1}"#, Some("18446744073709551608")),
        (r#"{"rng":7}"#, Some("7")),
        (r#"{ "rng" : 42 , "x": []}"#, Some("42")),
        (r#"{"a":{"rng":1},"rng":2}"#, Some("2")),
        (r#"{"a":[{"rng":1}],"b":"{\"rng\":3}","rng":4}"#, Some("4")),
        (r#"{"text":"\\","rng":5}"#, Some("5")),
        (r#"{"a":{"rng":1}}"#, None),
        (r#"{"b":"\"rng\":3"}"#, None),
        (r#"{"rng":1.5}"#, None),
        (r#"{"rng":1e3}"#, None),
        (r#"{"rng":-1}"#, None),
        (r#"{"rng":"9"}"#, None),
        (r#"["rng",1]"#, None),
        (r#"{"unterminated"#, None),
    ];

    #[test]
    fn finds_only_the_top_level_member() {
        for (text, digits) in CASES {
            assert_eq!(top_level_integer(text, "rng"), *digits, "{text}");
        }
    }
}
