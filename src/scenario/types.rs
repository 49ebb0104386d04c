//! The validated scenario: what the simulator runs. Built only by `scenario::load` from the raw
//! TOML, so every name here is already resolved to an id and every value is in range.

use crate::config::{
    ActionKind, Caller, FaultKind, FaultStep, Latencies, LiveTransfer, NovaConfig, Release,
    StepDurations,
};
use crate::engine::{Dist, Duration, SimTime};
use crate::model::{Flavor, FlavorId, Host, HostId, MigrationStatus, Status, VmState};

/// A host drain (`[[workload.drains]]`): one request per server on the host, at most
/// `concurrency` at a time, like novaclient's host-evacuate-live / host-servers-migrate.
#[derive(Debug, Clone, PartialEq)]
pub struct Drain {
    pub name: String,
    pub at: SimTime,
    pub host: HostId,
    /// `Migrate` or `LiveMigrate`.
    pub action: ActionKind,
    pub concurrency: u32,
    /// Disable the host's compute service first (operators do, so nothing lands back on it).
    pub disable_first: bool,
    pub caller: Caller,
    /// For cold drains: confirm each resize once VERIFY_RESIZE.
    pub follow_up: FollowUp,
    /// For live drains: the `block_migration` value sent ("auto" from 2.25).
    pub block_migration: Option<serde_json::Value>,
}

/// One fault-injection rule. A rule matches a step when every given filter matches; then it
/// fires with `probability` (1.0 when a request or server is named), at most `times` times.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub step: FaultStep,
    pub probability: f64,
    /// Only the request with this name (explicit requests have names).
    pub request: Option<String>,
    /// Only this server.
    pub server: Option<String>,
    /// Only when the step runs on this host.
    pub host: Option<HostId>,
    pub kind: FaultKind,
    pub times: Option<u32>,
    /// The exception message recorded in the event details and the fault.
    pub message: String,
}

/// One API request of the workload, as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTemplate {
    pub action: ActionKind,
    /// Target server name (for create: the new server's name). Shared: every request a
    /// generator issues for a server, and the request's record, hold the one string.
    pub server: std::sync::Arc<str>,
    pub caller: Caller,
    /// The JSON body. `None` = the action's documented minimal body (`{"migrate": null}` …);
    /// a body is validated per microversion by the API layer (spec §3).
    pub body: Option<serde_json::Value>,
    /// Flavor of a create request.
    pub flavor: Option<FlavorId>,
    /// Availability zone requested by a create request.
    pub availability_zone: Option<String>,
}

/// An explicit timed request (`[[requests]]`) or a replayed CSV row.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedRequest {
    pub name: Option<String>,
    pub at: SimTime,
    pub request: RequestTemplate,
}

/// Which server a generated request targets.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetOrder {
    /// The listed servers in order, each once per pass.
    Sequential,
    /// Uniformly random among the listed servers (stream `workload.<name>`).
    Random,
}

/// How a generator spaces its requests.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// Poisson arrivals at `rate_per_s` requests per second.
    Poisson { rate_per_s: f64 },
    /// One request every `interval`.
    ConstantRate { interval: Duration },
    /// N concurrent clients, each issuing its next request `think` after its previous one
    /// finished (Rally's constant runner).
    ClosedLoop { concurrency: u32, think: Dist },
}

/// What a closed-loop or generated migrate does once the server reaches VERIFY_RESIZE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    None,
    Confirm,
    Revert,
}

/// A generated workload (`[[workload.generators]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Generator {
    pub name: String,
    pub action: ActionKind,
    pub arrival: Arrival,
    pub start: SimTime,
    pub stop: Option<SimTime>,
    /// Total requests to issue (required unless `stop` is set).
    pub count: Option<u64>,
    /// Target server names (for create: the name prefix is the generator's name).
    pub targets: Vec<std::sync::Arc<str>>,
    pub order: TargetOrder,
    pub caller: Caller,
    pub flavor: Option<FlavorId>,
    /// For migrate: issue confirmResize/revertResize `follow_up_delay` after VERIFY_RESIZE.
    pub follow_up: FollowUp,
    pub follow_up_delay: Dist,
}

/// A scripted change of a compute service (`[[service_events]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceChange {
    /// `openstack compute service set --disable`.
    Disable,
    Enable,
    /// The nova-compute process stops: it stops heartbeating (seen down after
    /// `service_down_time`) and messages to it wait until it is back.
    Stop,
    /// The process starts again.
    Start,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    pub at: SimTime,
    pub host: HostId,
    pub change: ServiceChange,
}

/// A server present at t = 0.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialServer {
    pub name: std::sync::Arc<str>,
    pub flavor: FlavorId,
    pub project: std::sync::Arc<str>,
    /// Pinned host; `None` = placed by the scheduler at t = 0 in declaration order.
    pub host: Option<HostId>,
    /// `active` or `stopped`.
    pub vm_state: VmState,
    pub locked: bool,
    pub availability_zone: Option<String>,
}

/// Where and how results are written.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    /// Window of throughput.csv.
    pub throughput_window: Duration,
}

/// A fully validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    /// The Nova release whose behaviour the run follows.
    pub release: Release,
    /// The live-migration transfer model.
    pub live: LiveTransfer,
    /// Host drains of the workload.
    pub drains: Vec<Drain>,
    /// Stop the run at this time even if events remain (generators without a stop need it).
    pub end: Option<SimTime>,
    pub nova: NovaConfig,
    pub hosts: Vec<Host>,
    pub flavors: Vec<Flavor>,
    pub servers: Vec<InitialServer>,
    pub latency: Latencies,
    pub steps: StepDurations,
    pub faults: Vec<FaultRule>,
    pub requests: Vec<TimedRequest>,
    pub generators: Vec<Generator>,
    pub service_events: Vec<ServiceEvent>,
    pub output: OutputConfig,
    /// `[[expect]]`: checks of the run's outcome, evaluated after the run (`crate::expect`).
    pub expectations: Vec<Expectation>,
    /// The scenario as its results folder records it (`scenario.toml`): the file's text, headed
    /// by the `--set` overrides applied to it as comments. Shared, not copied, by the clones
    /// a sweep makes.
    pub source: std::sync::Arc<str>,
}

/// When a state expectation looks at the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectWhen {
    /// The state after every change at or before this time.
    At(SimTime),
    /// The state is reached within `[start, end]` (both included).
    Between(SimTime, SimTime),
}

/// Which latency of a request a percentile expectation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyKind {
    /// Submitted → asynchronous work completed, successful requests only (summary.json's
    /// `completion_latency`).
    Completion,
    /// Submitted → HTTP answer, every answered request (`response_latency`).
    Response,
}

impl LatencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LatencyKind::Completion => "completion",
            LatencyKind::Response => "response",
        }
    }
}

/// What one `[[expect]]` table checks (docs/scenario-schema.md, "[[expect]]").
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectCheck {
    /// `server` + `status` + `at_s` | `between_s`.
    ServerStatus {
        server: String,
        status: Status,
        when: ExpectWhen,
    },
    /// `server` + `migration_status` (+ `migration` = n) + `at_s` | `between_s`.
    MigrationStatus {
        server: String,
        /// 1-based position among the server's migrations; `None` = its last one.
        nth: Option<u32>,
        status: MigrationStatus,
        when: ExpectWhen,
    },
    /// `no_http_code` (+ `action`): no request (of that action) was answered with this code.
    NoHttpCode {
        code: u16,
        action: Option<ActionKind>,
    },
    /// `action` + `percentile` + `below_s` (+ `latency`): the nearest-rank percentile is
    /// strictly below the bound.
    Percentile {
        action: ActionKind,
        latency: LatencyKind,
        percentile: u8,
        below: Duration,
    },
    /// `outcome_detail` + `at_most` / `at_least` (+ `action`): how many requests have an
    /// `outcome_detail` starting with `prefix`.
    OutcomeDetail {
        prefix: String,
        action: Option<ActionKind>,
        at_least: Option<u64>,
        at_most: Option<u64>,
    },
}

/// One `[[expect]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Its `name`, shown in reports.
    pub name: Option<String>,
    pub check: ExpectCheck,
}

impl Scenario {
    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| HostId(i as u32))
    }

    pub fn flavor_id(&self, name: &str) -> Option<FlavorId> {
        self.flavors
            .iter()
            .position(|f| f.name == name)
            .map(|i| FlavorId(i as u32))
    }
}
