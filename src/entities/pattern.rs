//! Owner-defined `pattern` entities: a regex-lite expression, optionally one capture group of it
//! or a value built from its groups.

use super::text::Text;
use super::Entity;

/// A compiled owner pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    name: String,
    re: regex_lite::Regex,
    group: usize,
    uppercase: bool,
    template: Option<String>,
}

impl Pattern {
    pub(crate) fn new(
        name: &str,
        pattern: &str,
        group: usize,
        uppercase: bool,
        template: Option<String>,
    ) -> Result<Pattern, regex_lite::Error> {
        Ok(Pattern { name: name.to_string(), re: regex_lite::Regex::new(pattern)?, group, uppercase, template })
    }

    /// Pushes one entity per match. With a `group`, the span and value are the group's; a match
    /// where the group did not take part is skipped. With a template, the value is the template
    /// expanded with the match's groups (`Captures::expand`). The pattern reads the text with ASCII
    /// digits (`\d` matches `٣`, the value has `3`); `raw` is as typed.
    pub(crate) fn find(&self, t: &Text<'_>, out: &mut Vec<Entity>) {
        for caps in self.re.captures_iter(t.ascii_digits) {
            let Some(m) = caps.get(self.group) else { continue };
            if m.as_str().is_empty() {
                continue;
            }
            let mut value = String::new();
            match &self.template {
                Some(template) => caps.expand(template, &mut value),
                None => value.push_str(m.as_str()),
            }
            if self.uppercase {
                value = crate::text::to_uppercase(&value);
            }
            out.push(t.entity(&self.name, value, t.char_at_ascii(m.start()), t.char_at_ascii(m.end())));
        }
    }
}
