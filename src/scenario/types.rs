//! The validated scenario: what the simulator runs. Built only by `scenario::load` from the raw
//! TOML, so every name here is already resolved to an id and every value is in range.

use crate::engine::{Dist, Duration, SimTime};
use crate::model::{Flavor, FlavorId, Host, HostId, MigrationStatus, Status, VmState};

/// Nova options the simulator honours, under nova.conf's own section and option names
/// (`[nova.DEFAULT]`, `[nova.scheduler]`, `[nova.filter_scheduler]` in the scenario).
#[derive(Debug, Clone, PartialEq)]
pub struct NovaConfig {
    /// `[DEFAULT] resize_confirm_window`, seconds; 0 disables auto-confirm (spec §6.1).
    pub resize_confirm_window: Duration,
    /// `[DEFAULT] migrate_max_retries` (live migration, spec §5.1); −1 = until no host.
    pub migrate_max_retries: i64,
    /// `[DEFAULT] service_down_time`, seconds (spec §10.5).
    pub service_down_time: Duration,
    /// `[DEFAULT] report_interval`, seconds (spec §10.5).
    pub report_interval: Duration,
    /// `[DEFAULT] shutdown_timeout`, seconds: cap on a clean guest shutdown (spec §4.1 step 13).
    pub shutdown_timeout: Duration,
    /// `[scheduler] max_attempts` (spec §5.2), ≥ 1.
    pub max_attempts: u32,
    /// `[filter_scheduler] host_subset_size` (spec §8.1 step 6), ≥ 1.
    pub host_subset_size: u32,
    pub weights: WeightMultipliers,
    /// `[DEFAULT] max_concurrent_live_migrations` per source compute (spec §10.2); 0 is
    /// deprecated and means 1000 (eventlet).
    pub max_concurrent_live_migrations: u32,
    /// `[compute] live_migration_wait_for_vif_plug` (spec §4.8 step 13).
    pub live_migration_wait_for_vif_plug: bool,
    /// `[DEFAULT] vif_plugging_timeout`, seconds.
    pub vif_plugging_timeout: Duration,
    /// `[DEFAULT] vif_plugging_is_fatal`.
    pub vif_plugging_is_fatal: bool,
    /// `[libvirt] live_migration_*` (spec §10.2).
    pub libvirt: LibvirtConfig,
}

/// What the libvirt driver does when `live_migration_completion_timeout` is exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutAction {
    Abort,
    ForceComplete,
}

/// `[libvirt]` live-migration options (spec §10.2, `nova/conf/libvirt.py`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LibvirtConfig {
    /// `live_migration_downtime`, ms (min 100).
    pub downtime_ms: u64,
    /// `live_migration_downtime_steps` (min 3).
    pub downtime_steps: u64,
    /// `live_migration_downtime_delay`, seconds per GiB of data (min 3).
    pub downtime_delay_s: u64,
    /// `live_migration_completion_timeout`, seconds per GiB of data; 0 = no timeout.
    pub completion_timeout_s: u64,
    /// `live_migration_timeout_action`.
    pub timeout_action: TimeoutAction,
    /// `live_migration_permit_post_copy`.
    pub permit_post_copy: bool,
}

impl Default for LibvirtConfig {
    fn default() -> Self {
        LibvirtConfig {
            downtime_ms: 500,
            downtime_steps: 10,
            downtime_delay_s: 75,
            completion_timeout_s: 800,
            timeout_action: TimeoutAction::Abort,
            permit_post_copy: false,
        }
    }
}

/// The Nova release whose behaviour a scenario follows (README, "Release profiles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Release {
    /// 18.0.0 (2018): cold-migrate NoValidHost answered 400 synchronously, resetNetwork present,
    /// admin-only migrate policies, max microversion 2.65.
    Rocky,
    /// 33.0.0 (2026.1), the spec's baseline.
    #[default]
    Gazpacho,
}

impl Release {
    pub const ALL: [Release; 2] = [Release::Rocky, Release::Gazpacho];

    pub fn name(self) -> &'static str {
        match self {
            Release::Rocky => "rocky",
            Release::Gazpacho => "gazpacho",
        }
    }

    /// Accepts the series name, the year form or the version.
    pub fn parse(s: &str) -> Option<Release> {
        match s.to_ascii_lowercase().as_str() {
            "rocky" | "18" | "18.0.0" => Some(Release::Rocky),
            "gazpacho" | "2026.1" | "33" | "33.0.0" | "latest" => Some(Release::Gazpacho),
            _ => None,
        }
    }

    /// The Nova major version (for "since X.0.0" rules of the spec).
    pub fn major(self) -> u32 {
        match self {
            Release::Rocky => 18,
            Release::Gazpacho => 33,
        }
    }

    /// `_MAX_API_VERSION` of the release.
    pub fn max_microversion(self) -> Microversion {
        match self {
            Release::Rocky => Microversion(2, 65),
            Release::Gazpacho => Microversion::MAX,
        }
    }
}

/// The live-migration transfer model (not Nova options: what QEMU and the network do).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveTransfer {
    /// Migration bandwidth between computes, MiB/s.
    pub bandwidth_mib_s: u64,
    /// Rate at which a running guest dirties memory, MiB/s (per server; a flavor may override).
    pub dirty_rate_mib_s: u64,
    /// Instance disks on storage shared by the computes (then `block_migration: "auto"` is
    /// false and no disk is copied).
    pub shared_storage: bool,
}

impl Default for LiveTransfer {
    fn default() -> Self {
        LiveTransfer {
            bandwidth_mib_s: 1000,
            dirty_rate_mib_s: 100,
            shared_storage: false,
        }
    }
}

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

/// `[filter_scheduler] *_weight_multiplier` (spec §8.1 step 5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightMultipliers {
    pub ram: f64,
    pub cpu: f64,
    pub disk: f64,
    pub io_ops: f64,
    pub hypervisor_version: f64,
    pub num_instances: f64,
}

impl Default for WeightMultipliers {
    fn default() -> Self {
        WeightMultipliers {
            ram: 1.0,
            cpu: 1.0,
            disk: 1.0,
            io_ops: -1.0,
            hypervisor_version: 1.0,
            num_instances: 0.0,
        }
    }
}

impl Default for NovaConfig {
    fn default() -> Self {
        NovaConfig {
            resize_confirm_window: Duration::ZERO,
            migrate_max_retries: -1,
            service_down_time: Duration::from_secs(60),
            report_interval: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(60),
            max_attempts: 3,
            host_subset_size: 1,
            weights: WeightMultipliers::default(),
            max_concurrent_live_migrations: 1,
            live_migration_wait_for_vif_plug: true,
            vif_plugging_timeout: Duration::from_secs(300),
            vif_plugging_is_fatal: true,
            libvirt: LibvirtConfig::default(),
        }
    }
}

/// Hop latencies (spec §0 labels, §10.1): the time for a message to reach the service and for
/// the service to process it. Placement is a round trip added inside the step that calls it.
#[derive(Debug, Clone, PartialEq)]
pub struct Latencies {
    pub api: Dist,
    pub conductor: Dist,
    pub scheduler: Dist,
    pub compute: Dist,
    pub placement: Dist,
}

/// Durations of the work inside compute steps (spec §10.3).
#[derive(Debug, Clone, PartialEq)]
pub struct StepDurations {
    /// Clean guest shutdown in `migrate_disk_and_power_off`, capped at `shutdown_timeout`.
    pub guest_shutdown: Dist,
    /// Disk copy SRC → DST in `migrate_disk_and_power_off`.
    pub disk_copy: Dist,
    /// `driver.finish_migration` on DST (spawn/power on).
    pub finish_migration: Dist,
    /// `driver.confirm_migration` on SRC (destroy the old guest).
    pub confirm_migration: Dist,
    /// `driver.destroy` on DST during revert.
    pub revert_destroy: Dist,
    /// `driver.finish_revert_migration` on SRC.
    pub finish_revert_migration: Dist,
    /// Boot of a new server on its host (create), spawning → active.
    pub boot: Dist,
    /// Deletion on the host.
    pub delete: Dist,
    /// DST `pre_live_migration` (volumes, VIF plugging, directories).
    pub pre_live_migration: Dist,
    /// Wait for `network-vif-plugged` after pre_live_migration.
    pub vif_plug: Dist,
    /// SRC `_post_live_migration` work before the call to DST.
    pub post_live_migration: Dist,
    /// DST `post_live_migration_at_destination`.
    pub post_live_migration_at_destination: Dist,
    /// SRC `_rollback_live_migration`.
    pub rollback_live_migration: Dist,
}

/// A step where a failure can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultStep {
    /// DST `prep_resize` (resource claim etc.): rescheduled to alternates (spec §4.3).
    PrepResize,
    /// SRC `resize_instance` / `migrate_disk_and_power_off` (spec §4.4).
    ResizeInstance,
    /// DST `finish_resize` / `driver.finish_migration` (spec §4.4).
    FinishResize,
    /// SRC `confirm_resize` (spec §4.5).
    ConfirmResize,
    /// DST `revert_resize` (spec §4.7).
    RevertResize,
    /// SRC `finish_revert_resize` (spec §4.7).
    FinishRevertResize,
    /// Boot on the chosen host (create).
    Boot,
    /// DST `check_can_live_migrate_destination` (MigrationPreCheckError ⇒ next host, §5.1).
    CheckCanLiveMigrateDestination,
    /// SRC `check_can_live_migrate_source`, as seen by DST (MigrationPreCheckError).
    CheckCanLiveMigrateSource,
    /// DST `pre_live_migration` (§4.11 row 1).
    PreLiveMigration,
    /// `network-vif-plugged` never arrives: a VIF plugging timeout (§4.11 row 1).
    VifPlug,
    /// The libvirt job ends FAILED during the transfer (§4.11 row 2).
    LiveMigrationTransfer,
    /// DST `post_live_migration_at_destination` (§4.11 last row).
    PostLiveMigrationAtDestination,
}

impl FaultStep {
    pub const ALL: [FaultStep; 13] = [
        FaultStep::PrepResize,
        FaultStep::ResizeInstance,
        FaultStep::FinishResize,
        FaultStep::ConfirmResize,
        FaultStep::RevertResize,
        FaultStep::FinishRevertResize,
        FaultStep::Boot,
        FaultStep::CheckCanLiveMigrateDestination,
        FaultStep::CheckCanLiveMigrateSource,
        FaultStep::PreLiveMigration,
        FaultStep::VifPlug,
        FaultStep::LiveMigrationTransfer,
        FaultStep::PostLiveMigrationAtDestination,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultStep::PrepResize => "prep_resize",
            FaultStep::ResizeInstance => "resize_instance",
            FaultStep::FinishResize => "finish_resize",
            FaultStep::ConfirmResize => "confirm_resize",
            FaultStep::RevertResize => "revert_resize",
            FaultStep::FinishRevertResize => "finish_revert_resize",
            FaultStep::Boot => "boot",
            FaultStep::CheckCanLiveMigrateDestination => "check_can_live_migrate_destination",
            FaultStep::CheckCanLiveMigrateSource => "check_can_live_migrate_source",
            FaultStep::PreLiveMigration => "pre_live_migration",
            FaultStep::VifPlug => "vif_plug",
            FaultStep::LiveMigrationTransfer => "live_migration",
            FaultStep::PostLiveMigrationAtDestination => "post_live_migration_at_destination",
        }
    }
}

/// What the injected exception is, which decides the end state (spec §4.3 step 4, §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A generic exception: the server ends in ERROR where Nova's code says so.
    Error,
    /// `InstanceFaultRollback`: the server goes back to its original vm_state.
    Rollback,
    /// An exception no handler expects (live-migration pre-checks: the instance goes to
    /// ERROR and a synchronous caller gets 500, spec §4.9 step 3).
    Unexpected,
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

/// Roles of the caller (spec §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Manager,
    Member,
    /// A user of the project with none of the roles above (e.g. only `reader`).
    Reader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Reader => "reader",
        }
    }
}

/// API actions the workload can issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Migrate,
    ConfirmResize,
    RevertResize,
    Create,
    Delete,
    LiveMigrate,
    ResetState,
    InjectNetworkInfo,
    ResetNetwork,
    /// `DELETE /servers/{id}/migrations/{migration_id}` on the server's live migration.
    AbortLiveMigration,
}

impl ActionKind {
    pub const ALL: [ActionKind; 10] = [
        ActionKind::Migrate,
        ActionKind::ConfirmResize,
        ActionKind::RevertResize,
        ActionKind::Create,
        ActionKind::Delete,
        ActionKind::LiveMigrate,
        ActionKind::ResetState,
        ActionKind::InjectNetworkInfo,
        ActionKind::ResetNetwork,
        ActionKind::AbortLiveMigration,
    ];

    /// Position in [`ActionKind::ALL`] (column order of throughput.csv).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in scenarios and traces (the API's action key, or create/delete).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Migrate => "migrate",
            ActionKind::ConfirmResize => "confirmResize",
            ActionKind::RevertResize => "revertResize",
            ActionKind::Create => "create",
            ActionKind::Delete => "delete",
            ActionKind::LiveMigrate => "os-migrateLive",
            ActionKind::ResetState => "os-resetState",
            ActionKind::InjectNetworkInfo => "injectNetworkInfo",
            ActionKind::ResetNetwork => "resetNetwork",
            ActionKind::AbortLiveMigration => "abortLiveMigration",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A microversion `major.minor` (only 2.x exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion(pub u16, pub u16);

impl Microversion {
    pub const MIN: Microversion = Microversion(2, 1);
    /// `_MAX_API_VERSION` at the spec's baseline (§0).
    pub const MAX: Microversion = Microversion(2, 104);
}

impl std::fmt::Display for Microversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Who sends a request and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub microversion: Microversion,
    pub role: Role,
    /// The caller's project; `None` means the target server's own project.
    pub project: Option<std::sync::Arc<str>>,
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
