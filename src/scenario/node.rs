//! A TOML document as a tree of nodes that remember where they were written.
//!
//! The scenario file is parsed once into this tree (keeping byte spans of every key and value),
//! `--set` overrides are applied to the tree, and the raw serde structs of [`super::raw`] are
//! then deserialised *from the tree* by [`NodeDe`], which supports `toml::Spanned` so the
//! validation can point every error at a line and column. Errors of that deserialisation are
//! [`DeError`]s carrying the span and the key path where they happened.

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_spanned::__unstable as spanned;
use std::fmt;
use std::ops::Range;

/// Spans at or above this offset do not point into the file: they mark values given by the
/// `--set` override number `offset - OVERRIDE_BASE`.
pub(crate) const OVERRIDE_BASE: usize = usize::MAX / 2;

/// Placeholder for "no span reported by the parser"; replaced by [`fill_spans`].
const NO_SPAN: Range<usize> = usize::MAX..usize::MAX;

/// The span used for every node of the `--set` override number `i`.
pub(crate) fn override_span(i: usize) -> Range<usize> {
    let at = OVERRIDE_BASE.saturating_add(i);
    at..at
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

impl Value {
    /// How the value is named in messages ("a string", "a table" …).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub span: Range<usize>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_span: Range<usize>,
    pub node: Node,
}

impl Node {
    pub(crate) fn new(span: Range<usize>, value: Value) -> Node {
        Node { span, value }
    }

    /// The entry `key` of a table node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Table(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.node),
            _ => None,
        }
    }

    pub(crate) fn is_table(&self) -> bool {
        matches!(self.value, Value::Table(_))
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Replaces every span in this subtree (keys included) by `span`.
    pub(crate) fn set_all_spans(&mut self, span: &Range<usize>) {
        self.span = span.clone();
        match &mut self.value {
            Value::Array(items) => items.iter_mut().for_each(|n| n.set_all_spans(span)),
            Value::Table(entries) => {
                for e in entries {
                    e.key_span = span.clone();
                    e.node.set_all_spans(span);
                }
            }
            _ => {}
        }
    }
}

/// Parses TOML text into a node tree. Errors are TOML syntax errors.
pub(crate) fn parse_document(text: &str) -> Result<Node, toml::de::Error> {
    let mut root: Node = toml::from_str(text)?;
    fill_spans(&mut root, &(0..0));
    Ok(root)
}

/// Gives every node without a parser span (implicit tables such as `nova` in
/// `[nova.DEFAULT]`) the span of its key, or of its parent.
fn fill_spans(node: &mut Node, fallback: &Range<usize>) {
    if node.span == NO_SPAN {
        node.span = fallback.clone();
    }
    let here = node.span.clone();
    match &mut node.value {
        Value::Array(items) => items.iter_mut().for_each(|n| fill_spans(n, &here)),
        Value::Table(entries) => {
            for e in entries {
                if e.key_span == NO_SPAN {
                    e.key_span = here.clone();
                }
                let ks = e.key_span.clone();
                fill_spans(&mut e.node, &ks);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Building the tree from the toml deserializer.

const SPANNED_FIELDS: &[&str] = &[
    spanned::START_FIELD,
    spanned::END_FIELD,
    spanned::VALUE_FIELD,
];
const DATETIME_FIELD: &str = "$__toml_private_datetime";

impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        // Ask for a span; deserializers without one for this value fall back to a plain visit.
        d.deserialize_struct(spanned::NAME, SPANNED_FIELDS, NodeVisitor)
    }
}

/// A node deserialised without asking for its span (the value inside a spanned wrapper).
struct Unspanned(Node);

impl<'de> de::Deserialize<'de> for Unspanned {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Unspanned, D::Error> {
        d.deserialize_any(NodeVisitor).map(Unspanned)
    }
}

/// A table key with its span when the parser reports one.
struct Key {
    name: String,
    span: Range<usize>,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_struct(spanned::NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            name: v.to_string(),
            span: NO_SPAN,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        let mut start = None;
        let mut end = None;
        let mut name = None;
        while let Some(k) = map.next_key::<String>()? {
            if k == spanned::START_FIELD {
                start = Some(map.next_value::<usize>()?);
            } else if k == spanned::END_FIELD {
                end = Some(map.next_value::<usize>()?);
            } else {
                name = Some(map.next_value::<String>()?);
            }
        }
        let name = name.ok_or_else(|| de::Error::custom("key without a name"))?;
        let span = match (start, end) {
            (Some(s), Some(e)) => s..e,
            _ => NO_SPAN,
        };
        Ok(Key { name, span })
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::new(NO_SPAN, Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::new(NO_SPAN, Value::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v)
            .map(|i| Node::new(NO_SPAN, Value::Int(i)))
            .map_err(|_| E::custom(format!("integer {v} is too large")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::new(NO_SPAN, Value::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::new(NO_SPAN, Value::Str(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::new(NO_SPAN, Value::Str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Node::new(NO_SPAN, Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(Node::new(NO_SPAN, Value::Table(Vec::new())));
        };
        if first.name == spanned::START_FIELD {
            // A spanned value: start, end, value.
            let start = map.next_value::<usize>()?;
            let mut end = start;
            let mut inner = None;
            while let Some(k) = map.next_key::<Key>()? {
                if k.name == spanned::END_FIELD {
                    end = map.next_value::<usize>()?;
                } else {
                    inner = Some(map.next_value::<Unspanned>()?.0);
                }
            }
            let mut node = inner.ok_or_else(|| de::Error::custom("spanned value missing"))?;
            node.span = start..end.max(start);
            return Ok(node);
        }
        if first.name == DATETIME_FIELD {
            let s = map.next_value::<String>()?;
            return Ok(Node::new(NO_SPAN, Value::Datetime(s)));
        }
        let mut entries = Vec::new();
        let node = map.next_value::<Node>()?;
        entries.push(Entry {
            key: first.name,
            key_span: first.span,
            node,
        });
        while let Some(k) = map.next_key::<Key>()? {
            let node = map.next_value::<Node>()?;
            entries.push(Entry {
                key: k.name,
                key_span: k.span,
                node,
            });
        }
        Ok(Node::new(NO_SPAN, Value::Table(entries)))
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialising raw structs from the tree.

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
}

/// Dotted form of a key path: `servers[2].flavor`.
pub(crate) fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(&quote_key(k));
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A key as written in TOML: bare when possible, else quoted.
pub(crate) fn quote_key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// An error while deserialising the raw structs from the tree.
#[derive(Debug, Clone)]
pub(crate) struct DeError {
    pub msg: String,
    pub span: Option<Range<usize>>,
    /// Path from the root to the offending key (for an unknown key: that key).
    pub path: Vec<Seg>,
    /// The message is about the last key of `path` itself (unknown key), so the context shown
    /// before it is the table holding it.
    pub unknown_key: bool,
}

impl DeError {
    fn new(msg: String) -> DeError {
        DeError {
            msg,
            span: None,
            path: Vec::new(),
            unknown_key: false,
        }
    }
    fn located(mut self, span: &Range<usize>) -> DeError {
        if self.span.is_none() {
            self.span = Some(span.clone());
        }
        self
    }
    fn under(mut self, seg: Seg) -> DeError {
        self.path.insert(0, seg);
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for DeError {}

/// serde's "expected …" texts in the words of a TOML user.
fn human_expected(exp: &dyn de::Expected) -> String {
    let e = exp.to_string();
    match e.as_str() {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "an array".into(),
        "a borrowed string" => "a string".into(),
        _ if e.starts_with("struct ") || e.starts_with("a spanned") => "a table".into(),
        _ => e,
    }
}

fn human_unexpected(u: de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => format!("boolean {b}"),
        U::Signed(i) => format!("integer {i}"),
        U::Unsigned(i) => format!("integer {i}"),
        U::Float(x) => format!("float {x}"),
        U::Str(s) => format!("string {s:?}"),
        U::Map => "a table".into(),
        U::Seq => "an array".into(),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string())
    }
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "expected {}, found {}",
            human_expected(exp),
            human_unexpected(unexp)
        ))
    }
    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "expected {}, found {}",
            human_expected(exp),
            human_unexpected(unexp)
        ))
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let allowed = if expected.is_empty() {
            "none".to_string()
        } else {
            expected.join(", ")
        };
        let mut e = DeError::new(format!("unknown key {field:?} (allowed: {allowed})"));
        e.unknown_key = true;
        e
    }
    fn missing_field(field: &'static str) -> Self {
        DeError::new(format!("missing required key {field:?}"))
    }
    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(format!("duplicate key {field:?}"))
    }
}

/// Deserializer over a borrowed node.
pub(crate) struct NodeDe<'a> {
    pub node: &'a Node,
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => v.visit_str(s),
            Value::Int(i) => v.visit_i64(*i),
            Value::Float(x) => v.visit_f64(*x),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Datetime(s) => Err(DeError::new(format!(
                "datetime values are not supported (found {s})"
            ))),
            Value::Array(items) => v.visit_seq(SeqDe {
                iter: items.iter().enumerate(),
            }),
            Value::Table(entries) => v.visit_map(MapDe {
                iter: entries.iter(),
                current: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        if spanned::is_spanned(name, fields) {
            return v.visit_map(SpannedDe {
                node: self.node,
                state: 0,
            });
        }
        self.deserialize_any(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => v.visit_enum(s.as_str().into_deserializer()),
            _ => self.deserialize_any(v),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct SeqDe<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'de, 'a> SeqAccess<'de> for SeqDe<'a> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(NodeDe { node })
                .map(Some)
                .map_err(|e| e.located(&node.span).under(Seg::Index(i))),
        }
    }
}

struct MapDe<'a> {
    iter: std::slice::Iter<'a, Entry>,
    current: Option<&'a Entry>,
}

impl<'de, 'a> MapAccess<'de> for MapDe<'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some(e) => {
                self.current = Some(e);
                let key: de::value::StrDeserializer<'_, DeError> =
                    e.key.as_str().into_deserializer();
                seed.deserialize(key)
                    .map(Some)
                    .map_err(|err| err.located(&e.key_span).under(Seg::Key(e.key.clone())))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(e) = self.current.take() else {
            return Err(DeError::new("value requested before its key".into()));
        };
        seed.deserialize(NodeDe { node: &e.node })
            .map_err(|err| err.located(&e.node.span).under(Seg::Key(e.key.clone())))
    }
}

/// Presents a node as serde_spanned's private `{start, end, value}` struct.
struct SpannedDe<'a> {
    node: &'a Node,
    state: u8,
}

impl<'de, 'a> MapAccess<'de> for SpannedDe<'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let name = match self.state {
            0 => spanned::START_FIELD,
            1 => spanned::END_FIELD,
            2 => spanned::VALUE_FIELD,
            _ => return Ok(None),
        };
        seed.deserialize(de::value::BorrowedStrDeserializer::<DeError>::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let state = self.state;
        self.state = self.state.saturating_add(1);
        match state {
            0 => seed.deserialize(self.node.span.start.into_deserializer()),
            1 => seed.deserialize(self.node.span.end.into_deserializer()),
            _ => seed.deserialize(NodeDe { node: self.node }),
        }
    }
}

/// Deserialises `T` from the tree; errors carry the span and key path where they happened.
pub(crate) fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, DeError> {
    T::deserialize(NodeDe { node }).map_err(|e| e.located(&node.span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_keys_values_and_tables() {
        let text = "a = 1\n[t.u]\nb = \"x\"\n[[arr]]\nc = [1, 2]\n";
        let root = parse_document(text).expect("parses");
        let a = root.get("a").expect("a");
        assert_eq!(&text[a.span.clone()], "1");
        let t = root.get("t").expect("t");
        assert!(t.span.end <= text.len());
        let b = t.get("u").and_then(|u| u.get("b")).expect("b");
        assert_eq!(&text[b.span.clone()], "\"x\"");
        let Some(Value::Array(arr)) = root.get("arr").map(|n| &n.value) else {
            panic!("arr")
        };
        assert!(arr[0].span.start < text.len());
        let c = arr[0].get("c").expect("c");
        assert_eq!(&text[c.span.clone()], "[1, 2]");
    }
}
