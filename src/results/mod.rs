//! A results folder: the names and headers of its files, and one typed reader of them.
//!
//! The writers (`run`, `trace`, `expect`) take the file names and column headers from here and
//! every reader (`expect`, `plot`, `analysis`, `report`) reads through [`ResultsFolder`], so a
//! column the writer adds, drops or moves is one change in one place — and a change the reader
//! does not follow fails the header check instead of silently shifting a column. This module
//! sits below all of them: it depends on nothing of the output side, which keeps the module
//! graph among run, plot, report, analysis and expect free of cycles (see tests/module_cycles.rs).

mod folder;
mod rows;

pub(crate) use folder::{each_raw_in, NameKey, RawRow};
pub use folder::{ResultsFolder, Rows};
pub(crate) use rows::CsvRow;
pub use rows::{
    parse_time, ActionEvent, ActionSummary, Decision, ExpectationRow, HostRow, Percentiles,
    Request, Summary, Throughput, ThroughputRow, Transition, THROUGHPUT_COUNTS,
};

use crate::config::ActionKind;
use crate::model::Status;
use std::path::PathBuf;

pub const TRANSITIONS_FILE: &str = "transitions.csv";
pub const SCHEDULING_FILE: &str = "scheduling.csv";
pub const REQUESTS_FILE: &str = "requests.csv";
pub const ACTIONS_FILE: &str = "instance_actions.csv";
pub const THROUGHPUT_FILE: &str = "throughput.csv";
pub const HOSTS_FILE: &str = "hosts.csv";
pub const SUMMARY_FILE: &str = "summary.json";

/// The files every run writes.
pub const RESULT_FILES: [&str; 7] = [
    TRANSITIONS_FILE,
    SCHEDULING_FILE,
    REQUESTS_FILE,
    ACTIONS_FILE,
    THROUGHPUT_FILE,
    HOSTS_FILE,
    SUMMARY_FILE,
];

/// The scenario text a run keeps in its folder (with the overrides it applied, as comments).
/// Not one of [`RESULT_FILES`]: the golden traces do not hold it.
pub const SCENARIO_FILE: &str = "scenario.toml";

/// The `[[expect]]` results (not one of [`RESULT_FILES`]: it exists only for scenarios with
/// expectations).
pub const EXPECTATIONS_FILE: &str = "expectations.csv";

/// The Chrome trace-event timeline derived from the CSVs.
pub const TIMELINE_FILE: &str = "timeline.json";

/// The HTML report derived from the other files.
pub const REPORT_FILE: &str = "report.html";

pub const TRANSITIONS_HEADER: [&str; 11] = [
    "time_s",
    "request",
    "server",
    "host",
    "vm_state",
    "task_state",
    "status",
    "migration",
    "migration_status",
    "hop",
    "step",
];

pub const HOSTS_HEADER: [&str; 12] = [
    "time_s",
    "host",
    "vcpus_used",
    "memory_mb_used",
    "disk_gb_used",
    "vcpus_capacity",
    "memory_mb_capacity",
    "disk_gb_capacity",
    "migration_vcpus",
    "migration_memory_mb",
    "migration_disk_gb",
    "enabled_up",
];

pub const SCHEDULING_HEADER: [&str; 9] = [
    "time_s",
    "request",
    "server",
    "purpose",
    "result",
    "selected",
    "alternates",
    "reason",
    "dropped",
];

pub const REQUESTS_HEADER: [&str; 13] = [
    "request",
    "name",
    "submitted_s",
    "answered_s",
    "action",
    "server",
    "microversion",
    "role",
    "http_code",
    "message",
    "completed_s",
    "outcome",
    "outcome_detail",
];

pub const ACTIONS_HEADER: [&str; 13] = [
    "server",
    "action",
    "request",
    "project",
    "action_start_s",
    "message",
    "action_finish_s",
    "event",
    "event_start_s",
    "event_finish_s",
    "result",
    "host",
    "details",
];

pub const EXPECTATIONS_HEADER: [&str; 6] =
    ["index", "name", "kind", "result", "expected", "actual"];

/// throughput.csv's header: the window, then per action (in [`ActionKind::ALL`] order) one
/// column per count of [`THROUGHPUT_COUNTS`], then `servers_<STATUS>` per [`Status::ALL`].
/// Built, not listed, because it follows those two vocabularies.
pub fn throughput_header() -> Vec<String> {
    let mut header = vec!["window_start_s".to_string(), "window_end_s".to_string()];
    for a in ActionKind::ALL {
        for what in THROUGHPUT_COUNTS {
            header.push(format!("{}_{what}", a.as_str()));
        }
    }
    for s in Status::ALL {
        header.push(format!("servers_{}", s.as_str()));
    }
    header
}

/// Why a results folder could not be read. Displayed as one line that names the file and, for
/// a bad value, its line and column (`path:line:column: …`).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
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
    /// The header is not the writer's: a file from another version, or a writer change the
    /// reader has not followed.
    #[error("{}:1:{column}: column {found:?} where {expected:?} was expected", path.display())]
    Header {
        path: PathBuf,
        /// 1-based.
        column: usize,
        expected: String,
        found: String,
    },
    #[error("{}:{line}:{column}: {field} = {value:?} is not {what}", path.display())]
    Value {
        path: PathBuf,
        line: u64,
        /// 1-based.
        column: usize,
        field: String,
        value: String,
        /// What the column holds, e.g. `a time in seconds`.
        what: &'static str,
    },
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}
