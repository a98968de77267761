//! The built-in `url` entity: `https://shop.example/track?id=1`, `www.shop.example/returns`,
//! `shop.example.com`. The value is an absolute `http`/`https` URL with the scheme and host in
//! lower case (`https://` is added when the visitor left it out); trailing sentence punctuation
//! and an unbalanced closing parenthesis are not part of it.

use super::text::{glues, Text};
use super::Entity;

/// Top-level domains read without `http://` or `www.` (a bare `e.g.` or `file.txt` is not a URL).
const BARE_TLDS: &[&str] = &[
    "com", "org", "net", "io", "co", "es", "mx", "ar", "cl", "uk", "us", "ca", "de", "fr", "it", "eu", "info", "shop", "store", "app", "dev",
];

fn is_url_char(c: char) -> bool {
    !c.is_whitespace() && !crate::text::is_cjk(c) && !matches!(c, '<' | '>' | '"' | '`' | '{' | '}' | '|' | '\\' | '^')
}

/// Pushes every URL not overlapping an entity already in `out` (e-mail addresses).
pub(crate) fn find(t: &Text<'_>, out: &mut Vec<Entity>) {
    let c = t.chars;
    let lower: Vec<char> = c.iter().map(|c| c.to_ascii_lowercase()).collect();
    let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, x)| lower.get(i + k) == Some(&x));
    let mut i = 0;
    let mut found = Vec::new();
    while i < c.len() {
        if i > 0 && (glues(c[i - 1]) || matches!(c[i - 1], '@' | '.' | '/' | '-' | '_')) {
            i += 1;
            continue;
        }
        let scheme = if at(i, "https://") {
            8
        } else if at(i, "http://") {
            7
        } else if glues(c[i]) {
            0 // `www.…` or a bare domain
        } else {
            i += 1;
            continue;
        };
        let mut end = i + scheme;
        while end < c.len() && is_url_char(c[end]) {
            end += 1;
        }
        // Trailing punctuation belongs to the sentence; `)` only when unbalanced.
        let opens = c[i..end].iter().filter(|&&x| x == '(').count();
        let mut closes = c[i..end].iter().filter(|&&x| x == ')').count();
        while let Some(&last) = c[i + scheme..end].last() {
            if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '’' | '»' | '”') {
                end -= 1;
            } else if last == ')' && closes > opens {
                end -= 1;
                closes -= 1;
            } else {
                break;
            }
        }
        let body: String = c[i + scheme..end].iter().collect();
        let host_end = body.find(['/', '?', '#']).unwrap_or(body.len());
        let host = &body[..host_end];
        let host_name = host.rsplit_once(':').filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit())).map_or(host, |(h, _)| h);
        let labels: Vec<&str> = host_name.split('.').collect();
        let valid_host = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-') && !l.starts_with('-') && !l.ends_with('-'))
            && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic));
        let bare = scheme == 0 && !at(i, "www.");
        let tld = labels.last().map(|l| crate::text::to_lowercase(l)).unwrap_or_default();
        if !valid_host || (bare && !BARE_TLDS.contains(&tld.as_str())) || body.contains('@') {
            i = end.max(i + 1);
            continue;
        }
        let scheme_text = if scheme == 0 { "https://".to_string() } else { lower[i..i + scheme].iter().collect() };
        let value = format!("{scheme_text}{}{}", crate::text::to_lowercase(host), &body[host_end..]);
        found.push(t.entity("url", value, i, end));
        i = end;
    }
    found.retain(|u| !out.iter().any(|e| u.start < e.end && e.start < u.end));
    out.extend(found);
}
