//! Entity extraction: built-in `email` and `number`, and owner-defined regular-expression
//! patterns (regex-lite: linear time, so a hostile message cannot stall the page).

use serde::{Deserialize, Serialize};

use crate::definition::EntityDef;

/// An entity found in a message. Offsets are in Unicode scalar values (chars), end exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Entity name (`email`, `number`, `order_number`…).
    pub entity: String,
    /// Normalised value (a number as digits with `.` decimal point, an order number upper-cased…).
    pub value: String,
    /// The text as it appeared.
    pub raw: String,
    /// Start offset in chars.
    pub start: usize,
    /// End offset in chars, exclusive.
    pub end: usize,
}

/// Extracts built-in and owner-defined entities.
#[derive(Debug, Clone)]
pub struct EntityExtractor {
    _patterns: Vec<(String, regex_lite::Regex, usize, bool)>,
}

impl EntityExtractor {
    /// Compiles the owner-defined patterns.
    ///
    /// # Errors
    /// The first pattern that does not compile (validation reports all of them earlier).
    pub fn new(defs: &[EntityDef]) -> Result<EntityExtractor, regex_lite::Error> {
        let mut patterns = Vec::new();
        for d in defs {
            let EntityDef::Pattern { name, pattern, group, uppercase } = d;
            patterns.push((name.clone(), regex_lite::Regex::new(pattern)?, *group, *uppercase));
        }
        Ok(EntityExtractor { _patterns: patterns })
    }

    /// Every entity found in `text`, in order of start offset.
    pub fn extract(&self, _text: &str) -> Vec<Entity> {
        Vec::new()
    }
}
