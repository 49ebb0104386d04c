//! Scenario files: the TOML schema (docs/scenario-schema.md), `--set` overrides, validation
//! into the [`Scenario`] the simulator runs, and one-line errors naming file, line, column and
//! key.
//!
//! Pipeline: TOML text → node tree with spans ([`node`]) → overrides applied to the tree →
//! raw serde structs ([`raw`], `deny_unknown_fields`) → validated [`Scenario`] (`validate`).

mod context;
pub mod defaults;
mod error;
mod node;
mod overrides;
mod raw;
mod replay;
pub mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use error::ScenarioError;
pub use types::*;

use context::{Ctx, Source};
use std::path::Path;

/// Reads, overrides and validates the scenario file at `path`.
///
/// `overrides` are `--set key.path=value` strings (without `--set`), applied in order to the
/// parsed document before validation. The initial servers are not placed: the run places them
/// (see [`load_with`] to have a server that cannot be placed reported at its entry).
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    load_with(path, overrides, InitialPlacement::LeftToRun)
}

/// Whether loading tries the initial placement, and with what.
#[derive(Debug, Clone, Copy)]
pub enum InitialPlacement {
    /// Place the initial servers with this function (the simulator's own placement,
    /// `sim::probe_initial_placement`, passed in so that the loader stays below the simulator);
    /// a server it cannot place is an error at its `[[servers]]` or `[[server_groups]]` entry.
    Probe(PlacementProbe),
    /// Leave the placement to the run.
    LeftToRun,
}

/// Places the initial servers of a validated scenario on a copy of its cloud.
pub type PlacementProbe = fn(&Scenario) -> Result<(), Unplaceable>;

/// An initial server that the placement probe could not place, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaceable {
    pub server: String,
    pub reason: String,
}

/// [`load`], choosing whether the initial placement is probed.
pub fn load_with(
    path: &Path,
    overrides: &[String],
    placement: InitialPlacement,
) -> Result<Scenario, ScenarioError> {
    let text =
        read_bounded(path, defaults::MAX_SCENARIO_BYTES).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    parse_str_with(&text, &path.display().to_string(), overrides, placement)
}

/// Like [`load`] for text already in memory; `file` names it in errors, and relative paths in
/// it (`replay_csv`) are resolved against `file`'s directory.
pub fn parse_str(text: &str, file: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    parse_str_with(text, file, overrides, InitialPlacement::LeftToRun)
}

/// [`parse_str`], choosing whether the initial placement is probed.
pub fn parse_str_with(
    text: &str,
    file: &str,
    overrides: &[String],
    placement: InitialPlacement,
) -> Result<Scenario, ScenarioError> {
    let mut root = node::parse_document(text).map_err(|e| syntax_error(file, text, &e))?;
    overrides::apply(&mut root, overrides, file)?;
    let cx = Ctx {
        file,
        text,
        overrides,
        source: Source::Toml(&root),
    };
    let raw: raw::RawScenario = node::from_node(&root).map_err(|e| cx.de_err(e))?;
    let base_dir = Path::new(file).parent().unwrap_or(Path::new("."));
    let mut scenario = validate::build(&cx, &raw, base_dir, placement)?;
    scenario.source = recorded_source(text, overrides).into();
    Ok(scenario)
}

/// The text a results folder keeps of its scenario: the overrides (which `--set` and `--seed`
/// applied after reading it) as TOML comments, then the file's text as read. No file path:
/// the same scenario gives the same bytes wherever it was read from.
fn recorded_source(text: &str, overrides: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    if !overrides.is_empty() {
        out.push_str("# novasim: this run applied these overrides to the text below:\n");
        for o in overrides {
            // An override is one line (clap gives one argument); a newline inside would end
            // the comment, so it is shown escaped.
            out.push_str("#   --set ");
            out.push_str(&o.replace('\n', "\\n"));
            out.push('\n');
        }
    }
    out.push_str(text);
    out
}

/// Reads a regular file of at most `max` bytes as UTF-8. A FIFO, a device (`/dev/zero`) or a
/// directory is refused before it is opened (opening a FIFO blocks until a writer comes, and
/// reading `/dev/zero` never ends); the opened file is checked again, and read through a reader
/// that stops one byte past `max`, so a file that grows while being read cannot exhaust memory.
pub(crate) fn read_bounded(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let regular = |m: &std::fs::Metadata| -> std::io::Result<()> {
        if m.is_file() {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidInput,
                "not a regular file (a FIFO, device or directory is refused)",
            ))
        }
    };
    let too_large = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!("larger than {} MiB, the most accepted", max >> 20),
        )
    };
    let meta = std::fs::metadata(path)?;
    regular(&meta)?;
    if meta.len() > max {
        return Err(too_large());
    }
    let file = std::fs::File::open(path)?;
    regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| Error::new(ErrorKind::InvalidData, e))
}

fn syntax_error(file: &str, text: &str, e: &toml::de::Error) -> ScenarioError {
    let (line, col) = match e.span() {
        Some(span) => error::line_col(text, span.start),
        None => (1, 1),
    };
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    ScenarioError::Syntax {
        file: file.to_string(),
        line,
        col,
        message: format!("TOML syntax error: {message}"),
    }
}
