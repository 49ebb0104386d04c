//! Showing user text (names, paths, `--set` values) in one-line messages: control characters
//! are escaped, so a name cannot break a line or send a terminal escape.

use std::path::Path;

/// `s` with its control characters escaped as Rust does (`\n`, `\u{1b}`).
pub fn shown(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// A path for a message: lossy UTF-8, control characters escaped.
pub fn shown_path(p: &Path) -> String {
    shown(&p.to_string_lossy())
}

/// The first control character of `s`, for validation errors that refuse them in names.
pub fn first_control(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_other_text_kept() {
        assert_eq!(shown("vm-1 é"), "vm-1 é");
        assert_eq!(shown("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(first_control("ok"), None);
        assert_eq!(first_control("a\tb"), Some('\t'));
    }
}
