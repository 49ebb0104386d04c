//! `--set key.path=value` overrides, applied to the parsed document before it is
//! deserialised, so they are checked exactly like the file's own keys. The path is dotted
//! TOML keys (quote a key containing dots: `hosts.0."my.key"`); a number selects an element
//! of an array (`hosts.0.vcpus=8`). The value is parsed as a TOML value (`300`, `1.5`, `true`,
//! `"x"`, `[1, 2]`, `{ dist = "constant", ms = 5 }`), falling back to a plain string.

use super::error::ScenarioError;
use super::node::{override_span, parse_document, Entry, Node, Value};
use std::ops::Range;

fn fail(file: &str, o: &str, key: &str, msg: &str) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_string(),
        line: 0,
        col: 0,
        key: key.to_string(),
        message: format!(
            "--set {}: {}",
            crate::text::shown(o),
            crate::text::shown(msg)
        ),
    }
}

/// Splits a dotted key path, honouring double-quoted segments.
fn split_path(path: &str) -> Option<Vec<String>> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    for c in path.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => {
                let s = cur.trim().to_string();
                if s.is_empty() && !was_quoted {
                    return None;
                }
                segs.push(s);
                cur.clear();
                was_quoted = false;
            }
            _ => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    let s = cur.trim().to_string();
    if s.is_empty() && !was_quoted {
        return None;
    }
    segs.push(s);
    Some(segs)
}

/// The value of an override: a TOML value if it parses as one, else the text as a string.
fn parse_value(text: &str, span: &Range<usize>) -> Node {
    let mut node = match parse_document(&format!("v = {text}")) {
        Ok(Node {
            value: Value::Table(mut entries),
            ..
        }) if entries.len() == 1 && entries[0].key == "v" => entries.remove(0).node,
        _ => Node::new(span.clone(), Value::Str(text.to_string())),
    };
    node.set_all_spans(span);
    node
}

/// Sets `segs` (below the already `walked` path) in `node` to `value`, creating tables.
fn insert(
    node: &mut Node,
    walked: &mut Vec<String>,
    segs: &[String],
    value: Node,
    span: &Range<usize>,
) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return Err("empty key path".into());
    };
    let here = walked.join(".");
    walked.push(first.clone());
    let kind = node.value.type_name();
    match &mut node.value {
        Value::Table(entries) => {
            let idx = match entries.iter().position(|e| e.key == *first) {
                Some(p) => p,
                None => {
                    entries.push(Entry {
                        key: first.clone(),
                        key_span: span.clone(),
                        node: Node::new(span.clone(), Value::Table(Vec::new())),
                    });
                    entries.len() - 1
                }
            };
            let entry = &mut entries[idx];
            if rest.is_empty() {
                entry.node = value;
                Ok(())
            } else {
                insert(&mut entry.node, walked, rest, value, span)
            }
        }
        Value::Array(items) => {
            let len = items.len();
            let i: usize = first
                .parse()
                .map_err(|_| format!("{here:?} is an array: {first:?} is not an index"))?;
            let item = items
                .get_mut(i)
                .ok_or_else(|| format!("index {i} is out of range: {here:?} has {len} elements"))?;
            if rest.is_empty() {
                *item = value;
                Ok(())
            } else {
                insert(item, walked, rest, value, span)
            }
        }
        _ => Err(format!(
            "cannot set {:?}: {here:?} is {kind}, not a table",
            walked.join(".")
        )),
    }
}

/// Applies the overrides in order; the override number `i` gets the span `override_span(i)`.
pub(crate) fn apply(
    root: &mut Node,
    overrides: &[String],
    file: &str,
) -> Result<(), ScenarioError> {
    for (i, o) in overrides.iter().enumerate() {
        let Some((path, value)) = o.split_once('=') else {
            return Err(fail(file, o, o, "expected key.path=value"));
        };
        let path = path.trim();
        let Some(segs) = split_path(path) else {
            return Err(fail(file, o, path, "malformed key path"));
        };
        let span = override_span(i);
        let node = parse_value(value.trim(), &span);
        insert(root, &mut Vec::new(), &segs, node, &span).map_err(|e| fail(file, o, path, &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_on_unquoted_dots() {
        assert_eq!(
            split_path("nova.DEFAULT.x"),
            Some(vec!["nova".into(), "DEFAULT".into(), "x".into()])
        );
        assert_eq!(
            split_path("a.\"b.c\".d"),
            Some(vec!["a".into(), "b.c".into(), "d".into()])
        );
        assert_eq!(split_path("a..b"), None);
        assert_eq!(split_path(""), None);
        assert_eq!(split_path("a.\"b"), None);
    }

    #[test]
    fn values_parse_as_toml_or_string() {
        let s = override_span(0);
        assert_eq!(parse_value("300", &s).value, Value::Int(300));
        assert_eq!(parse_value("1.5", &s).value, Value::Float(1.5));
        assert_eq!(parse_value("\"x\"", &s).value, Value::Str("x".into()));
        assert_eq!(parse_value("hello", &s).value, Value::Str("hello".into()));
        assert_eq!(
            parse_value("1\nw = 2", &s).value,
            Value::Str("1\nw = 2".into())
        );
        assert!(parse_value("{ dist = \"constant\", ms = 5 }", &s).is_table());
    }
}
