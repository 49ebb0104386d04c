//! `[workload] replay_csv`: timed requests from a CSV file, one row per request. The header
//! names the columns (any order); an empty cell means the column's default. Rows become
//! [`RawRequest`]s whose spans point into the CSV text, so their errors name the CSV file,
//! line and column.

use super::context::{Ctx, Source};
use super::error::ScenarioError;
use super::node::Seg;
use super::raw::RawRequest;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

type R<T> = Result<T, ScenarioError>;

/// Every column a replay CSV may have.
pub(crate) const COLUMNS: [&str; 12] = [
    "at_s",
    "action",
    "server",
    "microversion",
    "role",
    "project",
    "host",
    "body",
    "flavor",
    "availability_zone",
    "name",
    "state",
];
/// Columns the header must have.
pub(crate) const REQUIRED: [&str; 3] = ["at_s", "action", "server"];

/// A read replay file: its rows as raw requests with the span of each row's start.
pub(crate) struct Replay {
    pub file: String,
    pub text: String,
    pub rows: Vec<(RawRequest, Range<usize>)>,
}

impl Replay {
    /// The context that locates errors in this CSV.
    pub(crate) fn ctx<'a>(&'a self, overrides: &'a [String]) -> Ctx<'a> {
        Ctx {
            file: &self.file,
            text: &self.text,
            overrides,
            source: Source::Csv,
        }
    }
}

/// Reads and parses the CSV named by `replay_csv` (relative to `base_dir`).
pub(crate) fn read(cx: &Ctx, p: &Spanned<String>, path: &[Seg], base_dir: &Path) -> R<Replay> {
    let rel = p.get_ref();
    if rel.trim().is_empty() {
        return Err(cx.err(&p.span(), path, "must not be empty"));
    }
    let full = base_dir.join(rel);
    let text = super::read_bounded(&full, super::defaults::MAX_REPLAY_BYTES).map_err(|e| {
        cx.err(
            &p.span(),
            path,
            format!("cannot read {}: {e}", crate::text::shown_path(&full)),
        )
    })?;
    let file = full.display().to_string();
    let rows = parse(&file, &text, cx.overrides)?;
    Ok(Replay { file, text, rows })
}

fn csv_err(cx: &Ctx, e: &csv::Error) -> ScenarioError {
    let at = e
        .position()
        .and_then(|p| usize::try_from(p.byte()).ok())
        .unwrap_or(0);
    cx.err(&(at..at), &[], format!("malformed CSV: {e}"))
}

/// Byte spans of the first `n` fields of the record starting at byte `start`.
fn field_spans(text: &str, start: usize, n: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::with_capacity(n);
    let mut i = start.min(bytes.len());
    let mut field_start = i;
    let mut in_quotes = false;
    while i < bytes.len() && spans.len() < n {
        match bytes[i] {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                spans.push(field_start..i);
                field_start = i + 1;
            }
            b'\n' | b'\r' if !in_quotes => break,
            _ => {}
        }
        i += 1;
    }
    if spans.len() < n {
        spans.push(field_start..i);
    }
    while spans.len() < n {
        spans.push(i..i);
    }
    spans
}

fn pos(r: &csv::StringRecord) -> usize {
    r.position()
        .and_then(|p| usize::try_from(p.byte()).ok())
        .unwrap_or(0)
}

/// Parses replay CSV text into raw requests.
pub(crate) fn parse(
    file: &str,
    text: &str,
    overrides: &[String],
) -> R<Vec<(RawRequest, Range<usize>)>> {
    let cx = Ctx {
        file,
        text,
        overrides,
        source: Source::Csv,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut records = rdr.records().filter(|r| {
        r.as_ref()
            .map_or(true, |r| r.iter().any(|f| !f.trim().is_empty()))
    });
    let header = match records.next() {
        None => {
            return Err(cx.err(
                &(0..0),
                &[],
                format!(
                    "empty replay CSV: a header row is required (columns: {})",
                    COLUMNS.join(", ")
                ),
            ))
        }
        Some(r) => r.map_err(|e| csv_err(&cx, &e))?,
    };
    let hstart = pos(&header);
    let hspans = field_spans(text, hstart, header.len());
    let mut columns: Vec<&'static str> = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        let span = hspans.get(i).cloned().unwrap_or(hstart..hstart);
        let Some(col) = COLUMNS.iter().find(|c| **c == h) else {
            return Err(cx.err(
                &span,
                &[],
                format!(
                    "header: unknown column {h:?} (allowed: {})",
                    COLUMNS.join(", ")
                ),
            ));
        };
        if columns.contains(col) {
            return Err(cx.err(&span, &[], format!("header: duplicate column {h:?}")));
        }
        columns.push(col);
    }
    for req in REQUIRED {
        if !columns.contains(&req) {
            return Err(cx.err(
                &(hstart..hstart),
                &[],
                format!(
                    "header: no {req:?} column (required: {})",
                    REQUIRED.join(", ")
                ),
            ));
        }
    }

    let mut rows = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_err(&cx, &e))?;
        let start = pos(&rec);
        let row_span = start..start;
        // The rows are kept in memory until the run: stop at the bound, not at the end of a
        // file that may hold a billion rows.
        if rows.len() as u64 >= super::defaults::MAX_REQUESTS {
            return Err(cx.err(
                &row_span,
                &[],
                format!(
                    "more than {} rows: a scenario may announce at most {} requests",
                    super::defaults::MAX_REQUESTS,
                    super::defaults::MAX_REQUESTS
                ),
            ));
        }
        if rec.len() != columns.len() {
            return Err(cx.err(
                &row_span,
                &[],
                format!(
                    "row has {} fields but the header has {}",
                    rec.len(),
                    columns.len()
                ),
            ));
        }
        let spans = field_spans(text, start, rec.len());
        let cell = |name: &str| -> Option<Spanned<String>> {
            let j = columns.iter().position(|c| *c == name)?;
            let v = rec.get(j)?.trim();
            if v.is_empty() {
                return None;
            }
            let span = spans.get(j).cloned().unwrap_or(row_span.clone());
            Some(Spanned::new(span, v.to_string()))
        };
        let required = |name: &str| -> R<Spanned<String>> {
            cell(name).ok_or_else(|| {
                cx.err(
                    &row_span,
                    &[Seg::from(name)],
                    "missing value (this column is required)",
                )
            })
        };
        let at_cell = required("at_s")?;
        let at_s: f64 = at_cell.get_ref().parse().map_err(|_| {
            cx.err(
                &at_cell.span(),
                &[Seg::from("at_s")],
                format!(
                    "expected a number of seconds, found {:?}",
                    at_cell.get_ref()
                ),
            )
        })?;
        rows.push((
            RawRequest {
                name: cell("name"),
                at_s: Spanned::new(at_cell.span(), at_s),
                action: required("action")?,
                server: required("server")?,
                microversion: cell("microversion"),
                role: cell("role"),
                project: cell("project"),
                host: cell("host"),
                body: cell("body"),
                flavor: cell("flavor"),
                availability_zone: cell("availability_zone"),
                state: cell("state"),
            },
            row_span,
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_spans_respect_quotes() {
        let t = "a,\"b,c\",d\nx";
        let s = field_spans(t, 0, 3);
        assert_eq!(&t[s[0].clone()], "a");
        assert_eq!(&t[s[1].clone()], "\"b,c\"");
        assert_eq!(&t[s[2].clone()], "d");
        assert_eq!(field_spans(t, 100, 2).len(), 2);
    }
}
