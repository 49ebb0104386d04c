//! The parts of a run, each with one owner a newcomer can name. `Sim` holds one of each and the
//! operations table; handlers borrow the parts they touch by field, so two parts can be changed
//! in one statement.

use super::events::{OpId, Stamped};
use super::{workload, Violation, D_NAMES};
use crate::engine::{EventQueue, RngStreams, SimTime, Stream, TimerKey};
use crate::model::{HostId, Resources, ServerId, World};
use crate::scheduler::SchedulerIndex;
use crate::trace::pipe::TracePipe;
use crate::trace::{RunStats, ThroughputRow};
use std::collections::VecDeque;
use std::io;

/// The engine: the clock and queue, the random streams, and the per-instant event budget. It
/// knows nothing of Nova.
pub(super) struct Engine {
    pub queue: EventQueue<Stamped>,
    pub rngs: RngStreams,
    /// One stream per duration distribution (see `D`), so that changing one latency's
    /// distribution does not shift the draws of another.
    pub durations: Vec<Stream>,
    pub sched_rng: Stream,
    pub instant: super::Instant,
}

impl Engine {
    pub fn new(seed: u64) -> Engine {
        let rngs = RngStreams::new(seed);
        Engine {
            queue: EventQueue::new(),
            durations: D_NAMES.iter().map(|n| rngs.stream(n)).collect(),
            sched_rng: rngs.stream("scheduler"),
            rngs,
            instant: super::Instant {
                time: SimTime::ZERO,
                events: 0,
                budget: 0,
            },
        }
    }
}

/// The cloud: the world (hosts, servers, migrations, placement, instance actions) and the
/// scheduler's index of it, with the hosts whose index entry may be stale.
pub(super) struct Cloud {
    pub world: World,
    pub sched: SchedulerIndex,
    /// Per host: the inputs the scheduler's index holds (`None` before the first update).
    pub index_inputs: Vec<Option<super::IndexInputs>>,
    /// Hosts whose inputs may have changed since the index last read them, each once: read
    /// just before the next decision, so a host touched several times between two decisions
    /// (claim, then I/O ops up and down) costs one index update or none.
    pub index_stale: Vec<HostId>,
    pub index_stale_flag: Vec<bool>,
}

/// One host's nova-compute process as the run sees it.
#[derive(Default)]
pub(super) struct Compute {
    /// The pending `_poll_unconfirmed_resizes` tick, if one can act.
    pub poll_timer: Option<TimerKey>,
    /// Messages waiting while the process is stopped, with the epochs they were sent with.
    pub parked: Vec<Stamped>,
    /// The pending "seen down" / "seen up" timer of the servicegroup.
    pub liveness_timer: Option<TimerKey>,
    /// Live migrations out of this host holding an executor slot.
    pub live_running: u32,
    /// Live migrations waiting for a slot (`_waiting_live_migrations`).
    pub live_queue: VecDeque<OpId>,
}

/// Every host's compute runtime.
pub(super) struct Computes {
    pub hosts: Vec<Compute>,
    /// How many hosts have a pending poll tick (kept by `Sim::set_poll_timer`).
    pub polls_pending: usize,
    /// The caller's timeout of each RPC call waiting at a stopped compute, cancelled if the
    /// compute starts and answers in time (`sim::restart`).
    pub call_timeouts: std::collections::BTreeMap<OpId, TimerKey>,
}

impl Computes {
    pub fn new(n: usize) -> Computes {
        Computes {
            hosts: (0..n).map(|_| Compute::default()).collect(),
            polls_pending: 0,
            call_timeouts: Default::default(),
        }
    }

    /// The operations with a step waiting at a stopped compute.
    pub fn parked_ops(&self) -> impl Iterator<Item = OpId> + '_ {
        self.hosts
            .iter()
            .flat_map(|c| &c.parked)
            .filter_map(|p| p.event.op())
    }
}

/// The workload: requests prepared and not yet submitted, generators, drains, request ids.
pub(super) struct Workload {
    /// Requests prepared by the workload, submitted or not yet.
    pub request_specs: Vec<workload::PendingRequest>,
    /// For each submitted request record, its index in `request_specs`.
    pub request_pending: Vec<u32>,
    /// For each submitted request record, its id, apart from the record, which leaves once it
    /// is written to requests.csv: the lookup cannot fail.
    pub request_ids: Vec<crate::model::RequestId>,
    /// The documented minimal body of an action at a microversion, for requests without one.
    pub default_bodies: rustc_hash::FxHashMap<
        (crate::config::ActionKind, crate::config::Microversion),
        serde_json::Value,
    >,
    pub drains: Vec<workload::DrainState>,
    pub gens: Vec<workload::GeneratorState>,
    /// The scenario's generators, shared so a handler can read one while mutating the sim.
    pub generators: std::sync::Arc<[crate::scenario::Generator]>,
    /// Request ids (`req-N`), shared by API requests and periodic-task runs.
    pub next_request_id: u32,
}

impl Workload {
    /// The name request `record` was given (empty without one), as its row says; read here
    /// rather than from its record, which leaves once written.
    pub fn request_name(&self, record: u32) -> &str {
        let p = self.request_pending[record as usize];
        let name = self.request_specs[p as usize].name.as_deref();
        name.unwrap_or_default()
    }
}

/// Injected faults: the scenario's rules with how often each fired, and their random stream.
pub(super) struct Faults {
    pub rules: Vec<super::FaultState>,
    pub rng: Stream,
}

/// What the run counts: its statistics, servers per status, throughput windows.
pub(super) struct Metrics {
    pub stats: RunStats,
    pub status_counts: Vec<u64>,
    pub window: ThroughputRow,
    pub throughput: Vec<ThroughputRow>,
}

/// Where the streamed trace goes, and the first error writing it.
pub(super) struct TraceSink {
    pub pipe: TracePipe,
    pub io_error: Option<io::Error>,
    /// Rows handed to transitions.csv.
    pub transition_rows: u64,
    /// Requests and actions stay held until `finish_records` (a test that reads a run's
    /// whole action log); otherwise each is written once final.
    pub hold_records: bool,
}

/// The invariant checker's state (see `invariants`).
pub(super) struct Checker {
    pub checks: super::Checks,
    /// The first broken rule seen inside an instant (a terminal migration reopened), reported
    /// by the next check.
    pub broken: Option<Violation>,
    /// Per host: its usage after the initial placement when pinned servers put it beyond
    /// capacity (the capacity rule then holds against that).
    pub setup_overcommit: Vec<Option<Resources>>,
    /// Servers that os-resetState reset (their states no longer tell their allocations).
    pub reset_by_admin: rustc_hash::FxHashSet<ServerId>,
    /// Servers whose in-flight work a compute stop lost: `_init_instance` resets states only,
    /// so Nova leaves their allocations and migrations as they were.
    pub lost_work: rustc_hash::FxHashSet<ServerId>,
    /// Migrations an older release leaves stuck or holding an allocation (the behaviour table's
    /// leaks, e.g. a failed confirm before 20.0.0): exempt from the terminal-status and
    /// allocation rules.
    pub left_by_nova: rustc_hash::FxHashSet<crate::model::MigrationId>,
    /// Servers Nova leaves with allocations that their states do not tell (e.g. a failed
    /// finish_resize before 20.0.0 moves the allocation back to the source; a live migration
    /// whose destination never ran `post_live_migration_at_destination` is completed with
    /// the server's host still the source).
    pub servers_left_by_nova: rustc_hash::FxHashSet<ServerId>,
}
