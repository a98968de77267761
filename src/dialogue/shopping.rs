//! Follow-ups about the products a recommendation showed (issue 11 item 4): the conversation
//! remembers the last request and the products the caller showed for it
//! ([`crate::state::Shopping`]) for [`SHOPPING_TURNS`] visitor turns, and a short message that
//! [`crate::catalog::followup`] reads as a refinement, a comparison or "what goes with it?"
//! is answered from them, without an intent of its own (a new intent once broke two stories).

use crate::catalog::followup::{self, FollowUp};
use crate::dialogue::decide::Decision;
use crate::dialogue::{Bot, ProductFollowUp};
use crate::state::{ConversationState, Shopping, SHOPPING_TURNS};

/// A follow-up found, with what the turn carries.
pub(crate) struct Found {
    /// The recommend intent it belongs to (acted on).
    pub(crate) intent: String,
    /// The refined request, for a refinement.
    pub(crate) recommend: Option<String>,
    /// The request's entity values ([`Shopping::terms`]), for a refinement.
    pub(crate) terms: Vec<String>,
    /// What it asks of which products.
    pub(crate) products: ProductFollowUp,
}

/// The follow-up `text` makes to the conversation's last recommendation, if any, with the state
/// updated for it: a refinement becomes the request (a line added), and every follow-up keeps
/// the recommendation for [`SHOPPING_TURNS`] more turns. Not inside a form; a comparison needs
/// two products shown, "what goes with it?" and "how much are they?" one.
pub(crate) fn follow_up(bot: &Bot, state: &mut ConversationState, text: &str) -> Option<Found> {
    if state.form.is_some() {
        return None;
    }
    let shopping = state.shopping.as_mut().filter(|s| s.turns_left > 0)?;
    bot.domain.intent(&shopping.intent)?;
    let kind = followup::read(text, &state.profile.locale, &bot.domain.entities)?;
    let products = match kind {
        FollowUp::Refine => shopping.shown.clone(),
        FollowUp::Compare if shopping.shown.len() >= 2 => shopping.shown[..2].to_vec(),
        FollowUp::Related if !shopping.shown.is_empty() => shopping.shown[..1].to_vec(),
        FollowUp::Price if !shopping.shown.is_empty() => shopping.shown.clone(),
        FollowUp::Compare | FollowUp::Related | FollowUp::Price => return None,
    };
    let recommend = (kind == FollowUp::Refine).then(|| {
        shopping.request = format!("{}\n{}", shopping.request, text.trim().replace('\n', " "));
        shopping.request.clone()
    });
    shopping.turns_left = SHOPPING_TURNS;
    let terms = if recommend.is_some() { shopping.terms.clone() } else { Vec::new() };
    Some(Found { intent: shopping.intent.clone(), recommend, terms, products: ProductFollowUp { kind, products } })
}

/// After any other turn: a recommendation (`recommend`, the visitor's request or a finished
/// quiz's) starts a new one, keeping `with_products` (the text said instead of the first message
/// once products are shown); anything else brings the last one a turn closer to expiry.
pub(crate) fn after(
    bot: &Bot,
    state: &mut ConversationState,
    decision: &Decision<'_>,
    recommend: Option<&str>,
    terms: &[String],
    with_products: Option<&str>,
) {
    // The recommendation belongs to the intent answered, or to the one that starts the form.
    let intent = match decision {
        Decision::Act { act: crate::dialogue::decide::Act::Answer(answer), .. } => Some(answer.intent),
        Decision::Form { form, .. } => bot.domain.definition.intents.iter().find(|i| i.form.as_deref() == Some(form.name.as_str())),
        Decision::Act { .. } => None,
    };
    match (recommend, intent) {
        (Some(request), Some(intent)) => {
            state.shopping = Some(Shopping {
                intent: intent.name.clone(),
                request: request.replace('\n', " "),
                shown: Vec::new(),
                terms: terms.to_vec(),
                with_products: with_products.map(str::to_owned),
                turns_left: SHOPPING_TURNS,
            });
        }
        _ => {
            if let Some(s) = state.shopping.as_mut() {
                s.turns_left = s.turns_left.saturating_sub(1);
            }
            if state.shopping.as_ref().is_some_and(|s| s.turns_left == 0) {
                state.shopping = None;
            }
        }
    }
}
