//! `novasim diff A B`: what differs between two results folders, most telling first — the
//! first diverging transitions (with the rows before them for context), then the summary
//! figures that changed, then the first differing line of every other file.
//!
//! A is read as the old side and B as the new one (`old → new`). `timeline.json` is not
//! compared: it is derived from the other files.

use super::AnalysisError;
use crate::results::{ResultsFolder, RESULT_FILES, SUMMARY_FILE, TRANSITIONS_FILE};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// Rows shown before the first differing transition.
const CONTEXT_ROWS: usize = 3;
/// Rows shown from each side from the first difference on.
const SHOWN_ROWS: usize = 5;
/// Changed summary figures listed before "… more".
const SHOWN_FIGURES: usize = 40;

/// The comparison of two results folders.
#[derive(Debug, Clone)]
pub struct DiffReport {
    pub a: PathBuf,
    pub b: PathBuf,
    /// The first divergence in transitions.csv, if any.
    pub transitions: Option<RowsDiff>,
    /// Changed summary.json figures, in key order.
    pub summary: Vec<FigureChange>,
    /// The other files that differ.
    pub files: Vec<RowsDiff>,
    /// Result files neither folder has.
    pub absent: Vec<String>,
}

/// Where two CSV files first differ.
#[derive(Debug, Clone)]
pub struct RowsDiff {
    pub file: String,
    pub header: Vec<String>,
    /// 1-based line of the first differing row (line 1 is the header; 1 also when only the
    /// columns differ).
    pub line: usize,
    /// The lines before it, equal on both sides: (line, fields).
    pub context: Vec<(usize, Vec<String>)>,
    /// What each side has from `line` on (at most a few lines).
    pub a_rows: Vec<(usize, Vec<String>)>,
    pub b_rows: Vec<(usize, Vec<String>)>,
    /// Columns that differ in the first differing line: (column, A, B).
    pub columns: Vec<(String, String, String)>,
    /// Columns only one side's header has (rows are compared on the others).
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    /// Data rows per side, and how many row positions differ (on the common columns).
    pub a_len: usize,
    pub b_len: usize,
    pub differing: usize,
}

/// One changed summary figure: its JSON path, and its value on each side (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureChange {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl DiffReport {
    pub fn is_identical(&self) -> bool {
        self.transitions.is_none() && self.summary.is_empty() && self.files.is_empty()
    }
}

/// Compares the results folders `a` and `b`. transitions.csv and summary.json must exist on
/// both sides; another result file may be absent from both (a folder written before the file
/// existed), not from one only.
pub fn diff(a: &Path, b: &Path) -> Result<DiffReport, AnalysisError> {
    let open = |dir: &Path| -> Result<ResultsFolder, AnalysisError> {
        let folder = ResultsFolder::open(dir)?;
        folder.file(TRANSITIONS_FILE)?;
        folder.file(SUMMARY_FILE)?;
        Ok(folder)
    };
    let (fa, fb) = (open(a)?, open(b)?);
    let mut absent = Vec::new();
    for f in RESULT_FILES {
        if !a.join(f).is_file() && !b.join(f).is_file() {
            absent.push(f.to_string());
            continue;
        }
        fa.file(f)?;
        fb.file(f)?;
    }
    let mut report = DiffReport {
        a: a.to_path_buf(),
        b: b.to_path_buf(),
        transitions: None,
        summary: Vec::new(),
        files: Vec::new(),
        absent,
    };
    report.transitions = compare_csv(&fa, &fb, TRANSITIONS_FILE, CONTEXT_ROWS)?;
    // The summary as a JSON tree: every figure is compared, whatever its name.
    let (sa, sb) = (fa.summary_json()?, fb.summary_json()?);
    walk(&sa, &sb, &mut String::new(), &mut report.summary);
    for f in RESULT_FILES {
        if f == TRANSITIONS_FILE || !f.ends_with(".csv") || report.absent.iter().any(|x| x == f) {
            continue;
        }
        if let Some(d) = compare_csv(&fa, &fb, f, 0)? {
            report.files.push(d);
        }
    }
    Ok(report)
}

/// `novasim diff`: prints the report; exit code 0 identical, 1 different, 2 error.
pub fn run_cli(a: &Path, b: &Path) -> i32 {
    match diff(a, b) {
        Ok(report) => {
            print!("{report}");
            i32::from(!report.is_identical())
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Every record of a CSV text, the header first. The trace writes one record per line (no
/// field holds a newline), so record i is line i + 1. Read as text, not as the typed rows of
/// [`crate::results`]: a diff must show two folders of different versions (another column, a
/// value the current reader refuses) as they are.
fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| match r {
            Ok(rec) => rec.iter().map(str::to_string).collect(),
            // Not CSV after all: keep the raw line so it can still be shown.
            Err(e) => vec![format!("(unreadable record: {e})")],
        })
        .collect()
}

/// The first differing row of `file` on both sides, with `context` rows before it. Rows are
/// compared on the columns both headers name, so a column added to one side (a newer version
/// of the simulator) is reported once, not as a difference in every row.
fn compare_csv(
    a: &ResultsFolder,
    b: &ResultsFolder,
    file: &str,
    context: usize,
) -> Result<Option<RowsDiff>, AnalysisError> {
    let (ta, tb) = (a.text(file)?, b.text(file)?);
    if ta == tb {
        return Ok(None);
    }
    let (ra, rb) = (records(&ta), records(&tb));
    let empty = Vec::new();
    let (ha, hb) = (ra.first().unwrap_or(&empty), rb.first().unwrap_or(&empty));
    let only_a: Vec<String> = ha.iter().filter(|c| !hb.contains(c)).cloned().collect();
    let only_b: Vec<String> = hb.iter().filter(|c| !ha.contains(c)).cloned().collect();
    // Common columns in A's order, with their index on each side.
    let common: Vec<(usize, usize)> = ha
        .iter()
        .enumerate()
        .filter_map(|(i, c)| hb.iter().position(|x| x == c).map(|j| (i, j)))
        .collect();
    let same_header = ha == hb;
    let project = |rec: &Vec<String>, side_a: bool| -> Vec<String> {
        if same_header {
            return rec.clone();
        }
        common
            .iter()
            .map(|&(i, j)| {
                rec.get(if side_a { i } else { j })
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    };
    let header: Vec<String> = if same_header {
        ha.clone()
    } else {
        common.iter().map(|&(i, _)| ha[i].clone()).collect()
    };
    let n = ra.len().max(rb.len());
    let row_differs = |k: usize| -> bool {
        match (ra.get(k), rb.get(k)) {
            (Some(x), Some(y)) => project(x, true) != project(y, false),
            _ => true,
        }
    };
    let differing = (1..n).filter(|&k| row_differs(k)).count();
    let first = (1..n).find(|&k| row_differs(k));
    if first.is_none() && only_a.is_empty() && only_b.is_empty() {
        // Same records, different bytes (line endings, quoting): say so at line 1.
        return Ok(Some(RowsDiff {
            file: file.to_string(),
            line: 1,
            context: Vec::new(),
            a_rows: Vec::new(),
            b_rows: Vec::new(),
            columns: Vec::new(),
            only_a,
            only_b,
            a_len: ra.len().saturating_sub(1),
            b_len: rb.len().saturating_sub(1),
            differing: 0,
            header,
        }));
    }
    let shown = |recs: &[Vec<String>], side_a: bool, from: usize, to: usize| {
        (from..to.min(recs.len()))
            .map(|k| (k + 1, project(&recs[k], side_a)))
            .collect::<Vec<_>>()
    };
    let (a_rows, b_rows, context_rows) = match first {
        Some(k) => (
            shown(&ra, true, k, k + SHOWN_ROWS),
            shown(&rb, false, k, k + SHOWN_ROWS),
            shown(&ra, true, k.saturating_sub(context).max(1), k),
        ),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let columns = match (a_rows.first(), b_rows.first()) {
        (Some((_, fa)), Some((_, fb))) => (0..fa.len().max(fb.len()))
            .filter(|&i| fa.get(i) != fb.get(i))
            .map(|i| {
                let name = header
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", i + 1));
                let get = |f: &Vec<String>| f.get(i).cloned().unwrap_or_default();
                (name, get(fa), get(fb))
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Some(RowsDiff {
        file: file.to_string(),
        line: first.map_or(1, |k| k + 1),
        context: context_rows,
        a_rows,
        b_rows,
        columns,
        only_a,
        only_b,
        a_len: ra.len().saturating_sub(1),
        b_len: rb.len().saturating_sub(1),
        differing,
        header,
    }))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Appends to `out` every leaf that differs between `a` and `b`, as a dotted path.
fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<FigureChange>) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            // Keys of A (in key order), then the keys only B has.
            let keys = ma.keys().chain(mb.keys().filter(|k| !ma.contains_key(*k)));
            for k in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match (ma.get(k), mb.get(k)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    (va, vb) => leaves(va, vb, path, out),
                }
                path.truncate(len);
            }
        }
        (Value::Array(va), Value::Array(vb)) => {
            for i in 0..va.len().max(vb.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (va.get(i), vb.get(i)) {
                    (Some(x), Some(y)) => walk(x, y, path, out),
                    (x, y) => leaves(x, y, path, out),
                }
                path.truncate(len);
            }
        }
        _ if a == b => {}
        _ => out.push(FigureChange {
            path: path.clone(),
            old: Some(scalar(a)),
            new: Some(scalar(b)),
        }),
    }
}

/// A subtree present on one side only: one change per leaf (an empty object or array is a
/// leaf itself).
fn leaves(a: Option<&Value>, b: Option<&Value>, path: &mut String, out: &mut Vec<FigureChange>) {
    let (v, side_a) = match (a, b) {
        (Some(v), None) => (v, true),
        (None, Some(v)) => (v, false),
        _ => return,
    };
    let nested: Vec<(String, &Value)> = match v {
        Value::Object(m) if !m.is_empty() => m.iter().map(|(k, v)| (format!(".{k}"), v)).collect(),
        Value::Array(xs) if !xs.is_empty() => xs
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("[{i}]"), v))
            .collect(),
        _ => {
            let s = Some(scalar(v));
            out.push(FigureChange {
                path: path.clone(),
                old: if side_a { s.clone() } else { None },
                new: if side_a { None } else { s },
            });
            return;
        }
    };
    for (suffix, child) in nested {
        let len = path.len();
        path.push_str(&suffix);
        if side_a {
            leaves(Some(child), None, path, out);
        } else {
            leaves(None, Some(child), path, out);
        }
        path.truncate(len);
    }
}

/// A titled block of numbered rows with its marker: (title, marker, rows).
type Block<'a> = (&'a str, &'a str, &'a [(usize, Vec<String>)]);

/// Writes rows as an aligned table: a marker, the line number, then the columns padded to a
/// common width.
fn table(f: &mut fmt::Formatter<'_>, header: &[String], blocks: &[Block<'_>]) -> fmt::Result {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    let mut line_w = "line".len();
    for (_, _, rows) in blocks {
        for (n, r) in rows.iter() {
            line_w = line_w.max(n.to_string().len());
            for (i, v) in r.iter().enumerate() {
                let w = v.chars().count();
                match widths.get_mut(i) {
                    Some(x) => *x = (*x).max(w),
                    None => widths.push(w),
                }
            }
        }
    }
    let row = |marker: &str, n: &str, cells: &[String]| -> String {
        let mut s = format!("    {marker} {n:>line_w$}");
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            s.push_str("  ");
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w.saturating_sub(c.chars().count())));
            }
        }
        s
    };
    writeln!(f, "{}", row(" ", "line", header).trim_end())?;
    for (title, marker, rows) in blocks {
        if rows.is_empty() && title.is_empty() {
            continue;
        }
        if !title.is_empty() {
            writeln!(f, "  {title}")?;
        }
        if rows.is_empty() {
            writeln!(f, "    {marker} (no more rows)")?;
        }
        for (n, r) in rows.iter() {
            writeln!(f, "{}", row(marker, &n.to_string(), r).trim_end())?;
        }
    }
    Ok(())
}

/// Lists at most this many names or changed columns.
const SHOWN_COLUMNS: usize = 12;

fn some_names(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(SHOWN_COLUMNS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN_COLUMNS {
        s.push_str(&format!(" … and {} more", names.len() - SHOWN_COLUMNS));
    }
    s
}

fn columns_line(f: &mut fmt::Formatter<'_>, d: &RowsDiff) -> fmt::Result {
    if d.columns.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = d
        .columns
        .iter()
        .map(|(c, a, b)| format!("{c}: {a:?} → {b:?}"))
        .collect();
    writeln!(f, "  line {} differs in {}", d.line, some_names(&parts))
}

/// One differing CSV file. `full`: the context rows and a few rows of each side (for
/// transitions.csv); otherwise the first differing row of each side, as a table when it is
/// narrow enough to read.
fn rows_diff(
    f: &mut fmt::Formatter<'_>,
    d: &RowsDiff,
    a: &Path,
    b: &Path,
    full: bool,
) -> fmt::Result {
    write!(f, "{}: ", d.file)?;
    if d.a_rows.is_empty() && d.b_rows.is_empty() {
        if d.only_a.is_empty() && d.only_b.is_empty() {
            writeln!(f, "same records, different bytes (line endings or quoting)")?;
        } else {
            writeln!(
                f,
                "the rows agree on every common column; A has {} rows, B has {}",
                d.a_len, d.b_len
            )?;
        }
    } else {
        writeln!(
            f,
            "first difference at line {} (data row {}); {} row(s) differ by position; A has {} rows, B has {}",
            d.line,
            d.line.saturating_sub(1),
            d.differing,
            d.a_len,
            d.b_len
        )?;
    }
    if !d.only_a.is_empty() {
        writeln!(f, "  columns only in A: {}", some_names(&d.only_a))?;
    }
    if !d.only_b.is_empty() {
        writeln!(f, "  columns only in B: {}", some_names(&d.only_b))?;
    }
    if d.a_rows.is_empty() && d.b_rows.is_empty() {
        return Ok(());
    }
    if full {
        let (ta, tb) = (
            format!("A ({}):", a.display()),
            format!("B ({}):", b.display()),
        );
        let context_title = if d.context.is_empty() {
            ""
        } else {
            "same on both sides:"
        };
        table(
            f,
            &d.header,
            &[
                (context_title, " ", &d.context),
                (&ta, "-", &d.a_rows),
                (&tb, "+", &d.b_rows),
            ],
        )?;
    } else {
        let a_first = &d.a_rows[..d.a_rows.len().min(1)];
        let b_first = &d.b_rows[..d.b_rows.len().min(1)];
        let width: usize = (0..d.header.len())
            .map(|i| {
                let cell = |rows: &[(usize, Vec<String>)]| {
                    rows.first()
                        .and_then(|(_, r)| r.get(i))
                        .map_or(0, |c| c.chars().count())
                };
                d.header[i]
                    .chars()
                    .count()
                    .max(cell(a_first))
                    .max(cell(b_first))
                    + 2
            })
            .sum();
        if width <= 160 {
            table(f, &d.header, &[("", "-", a_first), ("", "+", b_first)])?;
        }
    }
    columns_line(f, d)
}

impl fmt::Display for DiffReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (self.a.display(), self.b.display());
        if self.is_identical() {
            return writeln!(
                f,
                "{a} and {b} are identical ({} files compared)",
                RESULT_FILES.len() - self.absent.len()
            );
        }
        writeln!(f, "{a} (A, old) and {b} (B, new) differ")?;
        writeln!(f)?;
        match &self.transitions {
            Some(d) => rows_diff(f, d, &self.a, &self.b, true)?,
            None => writeln!(f, "transitions.csv: identical")?,
        }
        writeln!(f)?;
        if self.summary.is_empty() {
            writeln!(f, "summary.json: identical")?;
        } else {
            writeln!(
                f,
                "summary.json: {} figure(s) changed (old → new)",
                self.summary.len()
            )?;
            for c in self.summary.iter().take(SHOWN_FIGURES) {
                let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
                writeln!(f, "  {}: {} → {}", c.path, show(&c.old), show(&c.new))?;
            }
            if self.summary.len() > SHOWN_FIGURES {
                writeln!(f, "  … and {} more", self.summary.len() - SHOWN_FIGURES)?;
            }
        }
        for d in &self.files {
            writeln!(f)?;
            rows_diff(f, d, &self.a, &self.b, false)?;
        }
        let same: Vec<&str> = RESULT_FILES
            .iter()
            .copied()
            .filter(|n| *n != "transitions.csv" && *n != "summary.json")
            .filter(|n| !self.files.iter().any(|d| d.file == *n))
            .filter(|n| !self.absent.iter().any(|x| x == n))
            .collect();
        if !same.is_empty() {
            writeln!(f)?;
            writeln!(f, "identical: {}", same.join(", "))?;
        }
        if !self.absent.is_empty() {
            writeln!(f, "in neither folder: {}", self.absent.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walk_lists_changed_and_one_sided_leaves() {
        let a = json!({"x": 1, "o": {"p": [1, 2], "q": "s"}, "gone": {"k": 1}});
        let b = json!({"x": 2, "o": {"p": [1, 3, 4], "q": "s"}, "new": {}});
        let mut out = Vec::new();
        walk(&a, &b, &mut String::new(), &mut out);
        let paths: Vec<_> = out.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["gone.k", "o.p[1]", "o.p[2]", "x", "new"]);
        assert_eq!(out[3].old.as_deref(), Some("1"));
        assert_eq!(out[2].old, None);
        assert_eq!(out[0].new, None);
        assert_eq!(out[4].new.as_deref(), Some("{}"));
    }

    #[test]
    fn records_split_quoted_commas() {
        assert_eq!(
            records("h1,h2,h3\na,\"b, c\",d\n"),
            [vec!["h1", "h2", "h3"], vec!["a", "b, c", "d"]]
        );
    }
}
