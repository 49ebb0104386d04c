//! Turning a span and a key path into one clear error line.

use super::error::{line_col, ScenarioError};
use super::node::{dotted, quote_key, DeError, Node, Seg, Value, OVERRIDE_BASE};
use std::ops::Range;

/// What the spans of a context point into.
pub(crate) enum Source<'a> {
    /// The scenario TOML (after overrides), for naming sections and array elements.
    Toml(&'a Node),
    /// A replay CSV: paths are column names.
    Csv,
}

/// A file being validated: errors are located in it.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub overrides: &'a [String],
    pub source: Source<'a>,
}

/// `base` followed by the key `k`.
pub(crate) fn at(base: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.push(Seg::Key(k.to_string()));
    p
}

/// `base` followed by the index `i`.
pub(crate) fn at_index(base: &[Seg], i: usize) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.push(Seg::Index(i));
    p
}

impl<'a> Ctx<'a> {
    /// An `Invalid` error about the value at `path`, written at `span`.
    pub(crate) fn err(
        &self,
        span: &Range<usize>,
        path: &[Seg],
        msg: impl std::fmt::Display,
    ) -> ScenarioError {
        self.error(span, path, &msg.to_string(), false)
    }

    /// The error of deserialising the raw structs.
    pub(crate) fn de_err(&self, e: DeError) -> ScenarioError {
        let span = e.span.clone().unwrap_or(0..0);
        self.error(&span, &e.path, &e.msg, e.unknown_key)
    }

    /// "line 12" or "--set …": where a span was written, for "first defined at" notes.
    pub(crate) fn where_(&self, span: &Range<usize>) -> String {
        if span.start >= OVERRIDE_BASE {
            "in a --set override".to_string()
        } else {
            format!("at line {}", line_col(self.text, span.start).0)
        }
    }

    fn error(
        &self,
        span: &Range<usize>,
        path: &[Seg],
        msg: &str,
        unknown_key: bool,
    ) -> ScenarioError {
        let ctx_path = if unknown_key && !path.is_empty() {
            &path[..path.len() - 1]
        } else {
            path
        };
        let context = match &self.source {
            Source::Toml(root) => describe_toml(root, ctx_path),
            Source::Csv => match ctx_path.last() {
                Some(Seg::Key(k)) => format!("column {k:?}"),
                _ => String::new(),
            },
        };
        let mut message = if context.is_empty() {
            if unknown_key && matches!(self.source, Source::Toml(_)) {
                format!("top level: {msg}")
            } else {
                msg.to_string()
            }
        } else {
            format!("{context}: {msg}")
        };
        let (line, col) = if span.start >= OVERRIDE_BASE {
            let i = span.start - OVERRIDE_BASE;
            let o = self.overrides.get(i).map(String::as_str).unwrap_or("?");
            message = format!("--set {}: {message}", crate::text::shown(o));
            (0, 0)
        } else {
            line_col(self.text, span.start)
        };
        ScenarioError::Invalid {
            file: self.file.to_string(),
            line,
            col,
            key: dotted(path),
            message,
        }
    }
}

/// `[nova.DEFAULT] resize_confirm_window`, `[[servers]] "vm3" flavor`,
/// `[[workload.generators]] "storm" arrival.rate_per_s`, `seed`.
fn describe_toml(root: &Node, path: &[Seg]) -> String {
    let mut node = root;
    let mut section: Vec<String> = Vec::new();
    let mut head: Option<String> = None;
    let mut i = 0;
    while i < path.len() {
        let Seg::Key(k) = &path[i] else { break };
        let Some(child) = node.get(k) else { break };
        if let (Value::Array(items), Some(Seg::Index(idx))) = (&child.value, path.get(i + 1)) {
            if items.iter().all(Node::is_table) {
                section.push(quote_key(k));
                head = Some(format!(
                    "[[{}]] {}",
                    section.join("."),
                    element_label(items.get(*idx), *idx)
                ));
                i += 2;
                break;
            }
        }
        if !child.is_table() {
            break;
        }
        section.push(quote_key(k));
        node = child;
        i += 1;
    }
    let head = head.or_else(|| (!section.is_empty()).then(|| format!("[{}]", section.join("."))));
    let rest = dotted(&path[i..]);
    match head {
        Some(h) if rest.is_empty() => h,
        Some(h) => format!("{h} {rest}"),
        None => rest,
    }
}

/// `"vm3"` (its name), `prefix "cmp"` (a group) or `#3` (1-based position).
fn element_label(elem: Option<&Node>, idx: usize) -> String {
    if let Some(n) = elem.and_then(|e| e.get("name")).and_then(Node::as_str) {
        return format!("{n:?}");
    }
    if let Some(p) = elem.and_then(|e| e.get("prefix")).and_then(Node::as_str) {
        return format!("prefix {p:?}");
    }
    format!("#{}", idx + 1)
}
