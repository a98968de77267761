//! The built-in `email` entity: an address like `ana.perez+shop@example.co.uk` or
//! `núñez@correo.es`.
//!
//! Deliberately narrower than RFC 5322 (no quoted local parts, no IP-literal domains): it accepts
//! what visitors type into a chat, including non-ASCII letters (EAI/IDN addresses), and rejects
//! `a@b`, `@example.com` and trailing dots. A hand-written scan rather than a regex, because
//! regex-lite has no Unicode letter classes.

use super::text::{glues, Text};
use super::Entity;

fn is_local(c: char) -> bool {
    glues(c) || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

/// Pushes every address in `t`; the value keeps the local part as typed and lower-cases the domain.
pub(crate) fn find(t: &Text<'_>, out: &mut Vec<Entity>) {
    let c = t.chars;
    for at in (0..c.len()).filter(|&i| c[i] == '@') {
        let mut start = at;
        while start > 0 && is_local(c[start - 1]) {
            start -= 1;
        }
        while start < at && !c[start].is_alphanumeric() {
            start += 1;
        }
        if start == at || (start > 0 && c[start - 1] == '@') {
            continue;
        }
        // Domain: labels of letters, digits and inner hyphens, separated by single dots.
        let mut labels = Vec::new();
        let mut j = at + 1;
        loop {
            let label_start = j;
            while j < c.len() && (glues(c[j]) || (c[j] == '-' && j + 1 < c.len() && c[j + 1].is_alphanumeric() && j > label_start)) {
                j += 1;
            }
            if j == label_start {
                break;
            }
            labels.push((label_start, j));
            if j + 1 < c.len() && c[j] == '.' && glues(c[j + 1]) {
                j += 1;
            } else {
                break;
            }
        }
        let Some(&(tld_start, end)) = labels.last() else { continue };
        if labels.len() < 2 || end - tld_start < 2 || !c[tld_start..end].iter().all(|c| c.is_alphabetic()) {
            continue;
        }
        if c.get(end).is_some_and(|&x| x == '@' || x == '_') || out.iter().any(|e| e.start < end && start < e.end) {
            continue;
        }
        let local = t.slice(start, at);
        let domain = crate::text::to_lowercase(t.slice(at + 1, end));
        out.push(t.entity("email", format!("{local}@{domain}"), start, end));
    }
}
