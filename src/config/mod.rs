//! nova.conf options and the timing model of a scenario: the configuration vocabulary that
//! the model, the API, the scheduler and the simulator read. It sits below all of them (and below
//! the scenario loader that builds it), so none of them depends on how a scenario is loaded.

use crate::engine::{Dist, Duration};

mod release;
mod request;
pub use release::{
    changes_markdown, default_allocation_ratios, releases_markdown, unlimited_live_migrations,
    Behaviour, Change, Release, UnknownRelease, CHANGES,
};
pub use request::{ActionKind, Caller, Microversion, Role};

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
    /// `[DEFAULT] rpc_response_timeout` (oslo.messaging), seconds: how long a caller waits
    /// for a compute that does not answer (stopped) before MessagingTimeout.
    pub rpc_response_timeout: Duration,
    /// `[DEFAULT] shutdown_timeout`, seconds: cap on a clean guest shutdown (spec §4.1 step 13).
    pub shutdown_timeout: Duration,
    /// `[scheduler] max_attempts` (spec §5.2), ≥ 1.
    pub max_attempts: u32,
    /// `[scheduler] max_placement_results`, ≥ 1: how many allocation candidates placement
    /// returns; on a larger cloud the scheduler never sees the other hosts.
    pub max_placement_results: u32,
    /// `[filter_scheduler] host_subset_size` (spec §8.1 step 6), ≥ 1.
    pub host_subset_size: u32,
    pub weights: WeightMultipliers,
    /// `[DEFAULT] max_concurrent_live_migrations` per source compute (spec §10.2); 0 means
    /// [`unlimited_live_migrations`] of the release.
    pub max_concurrent_live_migrations: u32,
    /// `[compute] live_migration_wait_for_vif_plug` (spec §4.8 step 13); the default follows
    /// the release ([`Behaviour::WaitForVifPlugByDefault`]).
    pub live_migration_wait_for_vif_plug: bool,
    /// `[DEFAULT] vif_plugging_timeout`, seconds.
    pub vif_plugging_timeout: Duration,
    /// `[DEFAULT] vif_plugging_is_fatal`.
    pub vif_plugging_is_fatal: bool,
    /// `[libvirt] live_migration_*` (spec §10.2).
    pub libvirt: LibvirtConfig,
    /// `[DEFAULT] allow_resize_to_same_host`: a resize may pick the source (spec §8.4).
    pub allow_resize_to_same_host: bool,
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
            rpc_response_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(60),
            max_attempts: 3,
            max_placement_results: 1000,
            host_subset_size: 1,
            weights: WeightMultipliers::default(),
            max_concurrent_live_migrations: 1,
            live_migration_wait_for_vif_plug: true,
            vif_plugging_timeout: Duration::from_secs(300),
            vif_plugging_is_fatal: true,
            libvirt: LibvirtConfig::default(),
            allow_resize_to_same_host: false,
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
    /// The round trip of a status GET as a polling client sees it (`novasim rally`): 0 unless
    /// given, so a wait ends exactly on the poll lattice.
    pub status_get: Dist,
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
