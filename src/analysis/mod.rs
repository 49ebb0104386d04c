//! Reading results folders back: a Perfetto / chrome://tracing timeline (`timeline.json`), a
//! comparison of two folders (`novasim diff`) and the story of one server in plain words
//! (`novasim explain`). Everything here works from the files alone, so it applies as well to a
//! golden folder or to results from another version of the simulator.

mod data;
pub mod diff;
pub mod explain;
pub mod timeline;

pub use data::parse_time;
pub use diff::{diff, DiffReport};
pub use explain::{explain, Story};
pub use timeline::write_timeline;

use std::path::PathBuf;

/// Why a results folder could not be analysed. Displayed as one line.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("{}: no such results folder", .0.display())]
    NoFolder(PathBuf),
    #[error("{}: missing (not a complete results folder)", .0.display())]
    MissingFile(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("unknown server {name:?} in {}; known servers: {}", dir.display(), known.join(", "))]
    UnknownServer {
        name: String,
        dir: PathBuf,
        known: Vec<String>,
    },
}
