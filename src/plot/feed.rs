//! The charts' data fed by a run as it writes its trace rows, so that the run draws its charts
//! without reading its large CSVs back. The feed calls the same builders as the CSV loaders of
//! [`super::data`] (`novasim plot`), with the simulator's typed values and dense ids instead
//! of parsed text and names, so both give the same charts to the byte.

use super::data::{
    HostSample, Hosts, HostsBuilder, Latencies, LatenciesBuilder, StatusSteps, StatusStepsBuilder,
};
use crate::config::ActionKind;
use crate::engine::SimTime;
use crate::model::{HostId, Resources, ServerId, Status};

/// What the statuses, allocations and latency charts draw, gathered during a run.
#[derive(Debug, Default)]
pub struct ChartFeed {
    statuses: StatusStepsBuilder,
    hosts: HostsBuilder,
    latencies: LatenciesBuilder,
}

/// A host's placement as a row of hosts.csv has it.
#[derive(Debug, Clone, Copy)]
pub struct HostUsage<'a> {
    pub name: &'a str,
    pub used: Resources,
    pub capacity: Resources,
    pub migration: Resources,
    /// hosts.csv `state`: `enabled/up`, …
    pub state: &'a str,
}

/// The charts' data at the end of a run (see [`ChartFeed::finish`]).
#[derive(Debug)]
pub struct FedCharts {
    pub statuses: StatusSteps,
    pub hosts: Hosts,
    pub latencies: Latencies,
}

impl ChartFeed {
    /// A row of transitions.csv.
    pub fn transition(&mut self, time: SimTime, server: ServerId, status: Status) {
        self.statuses.row(time.ms(), server.index(), status);
    }

    /// A row of hosts.csv.
    pub fn host_usage(&mut self, time: SimTime, host: HostId, u: &HostUsage) {
        // The placement resources drawn, in [`super::data::Resource`] order.
        let drawn = |r: Resources| [r.vcpus, r.memory_mb];
        self.hosts.row(
            host.index(),
            &HostSample {
                t: time.ms(),
                name: u.name,
                used: drawn(u.used),
                capacity: drawn(u.capacity),
                migration: drawn(u.migration),
                state: u.state,
            },
        );
    }

    /// A row of requests.csv: its action, times and whether it succeeded.
    pub fn request(
        &mut self,
        action: ActionKind,
        submitted: SimTime,
        completed: Option<SimTime>,
        succeeded: bool,
    ) {
        if let (true, Some(completed)) = (succeeded, completed) {
            self.latencies
                .succeeded(action, submitted.ms(), completed.ms());
        }
    }

    /// The charts' data, steps and rows lasting until `end_ms` (summary.json `end_time_s`).
    pub fn finish(self, end_ms: Option<u64>) -> FedCharts {
        FedCharts {
            statuses: self.statuses.finish(end_ms),
            hosts: self.hosts.finish(end_ms),
            latencies: self.latencies.finish(),
        }
    }
}
