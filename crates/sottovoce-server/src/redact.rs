//! Card numbers are never stored: a second line of defence behind the widget's own redaction.
//!
//! The widget redacts card numbers and owner-listed patterns before the visitor agrees to send
//! anything. An older or modified client might not, so the server passes every text it stores
//! through the core's [`sottovoce::escalation::redact_cards`] (Luhn-valid runs of 13 to 19
//! digits become the same label the widget uses). The rule is written once, in the core.

/// What a card number becomes.
pub use sottovoce::escalation::CARD_LABEL as LABEL;

/// `text` with every card number replaced by [`LABEL`] (see the core's `redact_cards`).
pub fn card_numbers(text: &str) -> String {
    sottovoce::escalation::redact_cards(text)
}

#[cfg(test)]
mod tests {
    use super::{card_numbers, LABEL};

    #[test]
    fn the_core_rule_applies() {
        assert_eq!(card_numbers("charged twice on 4111 1111 1111 1111!"), format!("charged twice on {LABEL}!"));
        assert_eq!(card_numbers("order CU-482913 arrived"), "order CU-482913 arrived");
    }
}
