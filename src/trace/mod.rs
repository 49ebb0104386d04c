//! Trace output: the rows of transitions.csv, hosts.csv and scheduling.csv, written as the run
//! proceeds; requests.csv and instance_actions.csv, written as their rows become final
//! (`records`, `Sim::stream_records`); and what is written at the end (throughput, summary).
//! The writer also hands the rows the timeline can show to `timeline_rows`, which keeps them.
//! Only reads what the simulator hands it; never touches the engine.

pub mod pipe;
pub mod records;
pub mod row;
pub mod summary;
pub mod timeline_rows;
pub mod writer;

use crate::engine::SimTime;

/// How an accepted request's asynchronous work ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not finished when the run ended.
    Pending,
    Success,
    /// Finished with an error; the text says how (e.g. "NoValidHost", "ERROR").
    Failure(String),
}

impl Outcome {
    /// A failure raised as Nova exception `class`, with what it says (`"Class: detail"`, the
    /// class alone when there is nothing to add): summary.json counts failures by the class.
    pub fn raised(class: crate::vocab::Exception, detail: &str) -> Outcome {
        let detail = detail.trim_end();
        Outcome::Failure(if detail.is_empty() {
            class.name().to_string()
        } else {
            format!("{}: {detail}", class.name())
        })
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Success => "success",
            Outcome::Failure(_) => "failure",
        }
    }
}

/// One API request of the run.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub id: u32,
    pub name: String,
    pub action: crate::config::ActionKind,
    pub server: std::sync::Arc<str>,
    pub microversion: crate::config::Microversion,
    pub role: &'static str,
    pub submitted: SimTime,
    pub answered: Option<SimTime>,
    pub code: u16,
    pub message: String,
    pub completed: Option<SimTime>,
    pub outcome: Outcome,
}

/// Counters of the run, for the summary and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub events: u64,
    pub end_time: SimTime,
    /// Peak over time of resources held by migration consumers, cloud-wide (capacity held twice).
    pub peak_migration_vcpus: u64,
    pub peak_migration_memory_mb: u64,
    /// Steps that fired for an operation that had been cut short since they were scheduled,
    /// and were dropped (see `sim::Stamped`).
    pub stale_steps: u64,
    /// Operations whose in-flight step a compute stop lost (`sim::restart`).
    pub lost_steps: u64,
    /// Set when a run without `end_s` stopped with only futile retries left.
    pub ended_early: Option<String>,
}

/// Throughput accumulator for the current window.
#[derive(Debug, Clone)]
pub struct ThroughputRow {
    pub start: SimTime,
    pub end: SimTime,
    /// Per action (ActionKind::ALL order): submitted, accepted, rejected, succeeded, failed.
    pub per_action: Vec<[u64; 5]>,
    /// Servers per status at the end of the window (Status::ALL order).
    pub statuses: Vec<u64>,
    /// Windows right after this one, each as long as this one, in which nothing happened: not
    /// stored (memory follows the events, not simulated time), written by `write_throughput`
    /// as rows with zero counts and these statuses.
    pub empty_after: u64,
}
