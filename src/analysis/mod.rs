//! Reading results folders back: a Perfetto / chrome://tracing timeline (`timeline.json`), a
//! comparison of two folders (`novasim diff`) and the story of one server in plain words
//! (`novasim explain`). Everything here works from the files alone, so it applies as well to a
//! golden folder or to results from another version of the simulator.

mod data;
pub mod diff;
pub mod explain;
pub mod timeline;

pub use crate::results::parse_time;
pub use diff::{diff, DiffReport};
pub use explain::{explain, Story};
pub use timeline::write_timeline;

use crate::results::ReadError;
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
    #[error(transparent)]
    Read(ReadError),
    #[error("unknown server {name:?} in {}; known servers: {}", dir.display(), known.join(", "))]
    UnknownServer {
        name: String,
        dir: PathBuf,
        known: Vec<String>,
    },
}

/// A folder or file that is not there keeps its own variant (callers and tests tell them
/// apart); any other reading error is passed on as it is.
impl From<ReadError> for AnalysisError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::NoFolder(p) => AnalysisError::NoFolder(p),
            ReadError::MissingFile(p) => AnalysisError::MissingFile(p),
            e => AnalysisError::Read(e),
        }
    }
}
