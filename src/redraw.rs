//! `novasim plot`: the charts and report.html of a results folder drawn anew, written as a new
//! folder moved into place atomically (the rules of [`crate::output`]). A folder novasim did not
//! write — a golden trace, say — is never written into: draw it with `--out DIR`.
//!
//! Above both `plot` and `report` (it calls both), so that neither depends on the other's
//! caller: `report` reads the charts `plot` drew, and `plot` knows nothing of `report`.

use crate::output::{OutputError, ResultsDir, MARKER};
use std::fs;
use std::path::{Path, PathBuf};

/// Why a results folder could not be redrawn.
#[derive(Debug, thiserror::Error)]
pub enum RedrawError {
    #[error(
        "{0}: not a folder that novasim wrote (no {MARKER} file); draw it elsewhere with \
         --out DIR"
    )]
    NotOurs(String),
    #[error("{0}: no such results folder")]
    NoFolder(String),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("cannot copy {path}: {source}")]
    Copy {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot draw the plots: {0}")]
    Plot(#[from] crate::plot::PlotError),
    #[error("cannot write the report: {0}")]
    Report(#[from] crate::report::ReportError),
}

/// Files that the charts and the report are: not copied from the source, drawn anew.
fn is_derived(name: &str) -> bool {
    name == crate::results::REPORT_FILE || name.ends_with(".svg") || name.ends_with(".png")
}

/// Draws the charts and report of `results` into `out` (default: `results` itself, which must
/// then be a folder novasim wrote). The trace files are copied, the derived files drawn from
/// them, and the new folder replaces `out` in one step. Returns the final folder and the files
/// drawn, by their final paths.
pub fn redraw(results: &Path, out: Option<&Path>) -> Result<(PathBuf, Vec<PathBuf>), RedrawError> {
    let shown = || crate::text::shown_path(results);
    if !results.is_dir() {
        return Err(RedrawError::NoFolder(shown()));
    }
    if out.is_none() && !results.join(MARKER).is_file() {
        return Err(RedrawError::NotOurs(shown()));
    }
    let dir = ResultsDir::create(out.unwrap_or(results))?;
    let copy_err = |path: &Path| {
        let path = crate::text::shown_path(path);
        move |source| RedrawError::Copy { path, source }
    };
    for entry in fs::read_dir(results).map_err(copy_err(results))? {
        let entry = entry.map_err(copy_err(results))?;
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        if text == MARKER || is_derived(text) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        fs::copy(entry.path(), dir.tmp_path().join(&name)).map_err(copy_err(&entry.path()))?;
    }
    let mut drawn = crate::plot::write_all(dir.tmp_path())?;
    drawn.push(crate::report::write(dir.tmp_path())?);
    let final_dir = dir.commit()?;
    let drawn = drawn
        .iter()
        .filter_map(|p| p.file_name().map(|n| final_dir.join(n)))
        .collect();
    Ok((final_dir, drawn))
}
