//! Trace output: the rows of transitions.csv and hosts.csv, written as the run proceeds, and
//! the records that are written at the end (requests, instance actions, throughput, summary).
//! Only reads what the simulator hands it; never touches the engine.

pub mod row;
pub mod summary;
pub mod writer;

use crate::engine::SimTime;
use std::fmt;

/// The process where a step runs (spec §0 hop labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hop {
    Api,
    Conductor,
    Scheduler,
    Source,
    Destination,
    /// The compute host of a server being built or deleted.
    Compute,
    Placement,
    /// A scripted operator action (service disable/enable, process stop/start).
    Operator,
}

impl Hop {
    /// Every hop, in declaration order (the trace writer's dense tables are indexed by it).
    pub const ALL: [Hop; 8] = [
        Hop::Api,
        Hop::Conductor,
        Hop::Scheduler,
        Hop::Source,
        Hop::Destination,
        Hop::Compute,
        Hop::Placement,
        Hop::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Api => "API",
            Hop::Conductor => "CON",
            Hop::Scheduler => "SCH",
            Hop::Source => "SRC",
            Hop::Destination => "DST",
            Hop::Compute => "CMP",
            Hop::Placement => "PLC",
            Hop::Operator => "OPS",
        }
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Success => "success",
            Outcome::Failure(_) => "failure",
        }
    }
}

/// The step column of a transitions row. Most steps are our own fixed texts (`'static`): the
/// writer encodes such a text once, with the migration status and hop before it, instead of
/// reading it on every row.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Fixed(&'static str),
    /// Built at run time (it names a state, a host…): read on every row.
    Text(&'a str),
}

impl From<&'static str> for Step<'static> {
    fn from(s: &'static str) -> Self {
        Step::Fixed(s)
    }
}

/// One API request of the run.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub id: u32,
    pub name: String,
    pub action: &'static str,
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
