//! Every default of the scenario schema, in one place. The loader takes an omitted value from
//! here (the Nova options of `NovaConfig` from its `Default` impl in `types.rs`, which this
//! module re-exposes), and docs/scenario-schema.md documents the same numbers.

use super::types::OutputConfig;
use crate::config::{Behaviour, Microversion, Release, Role};
use crate::config::{Latencies, NovaConfig, StepDurations};
use crate::engine::{Dist, Duration, RngStreams};

/// `seed` when omitted.
pub const SEED: u64 = 1;

/// The Nova options of `[nova.*]` that live in `NovaConfig`, at the newest release.
pub fn nova() -> NovaConfig {
    NovaConfig::default()
}

/// The defaults of `[nova.*]` in `release`: `live_migration_wait_for_vif_plug` was False
/// before 19.0.0, and the hypervisor-version weigher (multiplier 1.0 by default) only exists
/// from 28.0.0. The allocation-ratio defaults are `config::default_allocation_ratios`.
pub fn nova_for(release: Release) -> NovaConfig {
    let mut cfg = NovaConfig {
        live_migration_wait_for_vif_plug: release.has(Behaviour::WaitForVifPlugByDefault),
        ..NovaConfig::default()
    };
    if !release.has(Behaviour::HypervisorVersionWeigher) {
        cfg.weights.hypervisor_version = 0.0;
    }
    if !release.has(Behaviour::NumInstancesWeigher) {
        cfg.weights.num_instances = 0.0;
    }
    cfg
}
/// `[DEFAULT] reserved_host_memory_mb`.
pub const RESERVED_HOST_MEMORY_MB: u64 = 512;
/// `[DEFAULT] reserved_host_disk_mb`.
pub const RESERVED_HOST_DISK_MB: u64 = 0;
/// `[DEFAULT] reserved_host_cpus`.
pub const RESERVED_HOST_CPUS: u64 = 0;

/// Host `hypervisor_type`.
pub const HYPERVISOR_TYPE: &str = "QEMU";
/// Host `hypervisor_version` (libvirt's encoding of QEMU 8.2.0).
pub const HYPERVISOR_VERSION: u64 = 8_002_000;
/// Host `availability_zone` (`[DEFAULT] default_availability_zone`).
pub const AVAILABILITY_ZONE: &str = "nova";
/// Host `enabled` and `up`.
pub const HOST_ENABLED: bool = true;
pub const HOST_UP: bool = true;
/// Spacing of `_poll_unconfirmed_resizes` (oslo.service `DEFAULT_INTERVAL`, spec §6.2): a host's
/// periodic phase lies in `[0, PERIODIC_SPACING)`.
pub const PERIODIC_SPACING: Duration = Duration::from_secs(60);

/// A host's periodic-task phase when the scenario does not give one: a draw keyed by the
/// host's name, so adding or reordering hosts does not move the other hosts' phases.
pub fn periodic_phase(seed: u64, host_name: &str) -> Duration {
    Duration(RngStreams::new(seed).keyed_below(
        &format!("periodic-phase/{host_name}"),
        PERIODIC_SPACING.ms(),
    ))
}

/// Server `project` and the caller project of a create request.
pub const PROJECT: &str = "demo";
/// Server `locked`.
pub const LOCKED: bool = false;

/// Caller `microversion` of requests and generators: `latest`, the release's own maximum
/// (`_MAX_API_VERSION` at its tag, e.g. 2.103 at 33.0.0).
pub fn microversion(release: Release) -> Microversion {
    release.max_microversion()
}
/// Caller `role`.
pub const ROLE: Role = Role::Admin;

/// Fault `probability`.
pub const FAULT_PROBABILITY: f64 = 1.0;

/// Fault `message`.
pub fn fault_message(step: &str) -> String {
    format!("Injected failure in {step}")
}

/// Generator `start_s`.
pub const GENERATOR_START: Duration = Duration::ZERO;

/// Generator `follow_up_delay` and closed-loop `think`.
pub fn zero_delay() -> Dist {
    Dist::constant_ms(0)
}

/// `[latency]`.
pub fn latencies() -> Latencies {
    Latencies {
        api: Dist::constant_ms(50),
        conductor: Dist::constant_ms(20),
        scheduler: Dist::constant_ms(30),
        compute: Dist::constant_ms(20),
        placement: Dist::constant_ms(10),
        status_get: Dist::constant_ms(0),
    }
}

/// `[steps]`.
pub fn steps() -> StepDurations {
    StepDurations {
        guest_shutdown: Dist::constant_ms(5_000),
        disk_copy: Dist::constant_ms(20_000),
        finish_migration: Dist::constant_ms(3_000),
        confirm_migration: Dist::constant_ms(2_000),
        revert_destroy: Dist::constant_ms(2_000),
        finish_revert_migration: Dist::constant_ms(3_000),
        boot: Dist::constant_ms(10_000),
        delete: Dist::constant_ms(2_000),
        pre_live_migration: Dist::constant_ms(2_000),
        vif_plug: Dist::constant_ms(1_000),
        post_live_migration: Dist::constant_ms(1_000),
        post_live_migration_at_destination: Dist::constant_ms(1_000),
    }
}

/// `[output]`.
pub fn output() -> OutputConfig {
    OutputConfig {
        throughput_window: Duration::from_secs(60),
    }
}

// ---------------------------------------------------------------------------------------------
// Bounds (docs/scenario-schema.md "Bounds"). Every number a scenario gives is checked against
// one of these at load. They are far above any real cloud, and chosen so that no computation
// on in-bound values can overflow a u64: the largest products are a host's capacity
// (2^40 MiB × ratio 1000 < 2^50), a placement sum over every server (10^6 servers × 2^50 <
// 2^70 — hence the saturating sums in `model::placement`), and a time plus a draw
// (10^12 ms + 10^12 ms ≪ 2^64).

/// Largest time or duration, in milliseconds: 10^12 ms ≈ 31.7 years of simulated time.
pub const MAX_TIME_MS: u64 = 1_000_000_000_000;
/// [`MAX_TIME_MS`] in seconds, for `_s` keys.
pub const MAX_SECONDS: f64 = 1e9;
/// vCPUs of a host or flavor, and `reserved_host_cpus` (2^20 ≈ 10^6).
pub const MAX_VCPUS: u64 = 1 << 20;
/// MiB of memory of a host or flavor, `reserved_host_memory_mb`, and `reserved_host_disk_mb`
/// (2^40 MiB = 1 EiB).
pub const MAX_MEMORY_MB: u64 = 1 << 40;
/// GiB of disk of a host or flavor (2^30 GiB = 1 EiB).
pub const MAX_DISK_GB: u64 = 1 << 30;
/// Allocation ratios are finite, `> 0` and at most this.
pub const MAX_RATIO: f64 = 1000.0;
/// Counts: retries, attempts, subset size, concurrency, fault `times`, generator `count`,
/// downtime steps, expectation bounds, empirical weights.
pub const MAX_COUNT: u64 = 10_000_000;
/// Bandwidth and dirty rates, MiB/s (2^30 MiB/s = 1 EiB/s).
pub const MAX_RATE_MIB_S: u64 = 1 << 30;
/// `hypervisor_version` (libvirt's encoding: major × 10^6 + minor × 10^3 + patch).
pub const MAX_HYPERVISOR_VERSION: u64 = 1_000_000_000_000;
/// Absolute value of a weigher multiplier.
pub const MAX_WEIGHT_MULTIPLIER: f64 = 1e6;
/// `sigma` of a log-normal distribution (e^(10·4) ≈ 10^17 at four standard deviations: any
/// more is not a latency).
pub const MAX_SIGMA: f64 = 10.0;
/// Poisson `rate_per_s` of a generator.
pub const MAX_RATE_PER_S: f64 = 1e6;

/// One `[[host_groups]]` at most.
pub const MAX_HOST_GROUP_COUNT: u64 = 100_000;
/// One `[[server_groups]]` at most.
pub const MAX_SERVER_GROUP_COUNT: u64 = 1_000_000;
/// Hosts of a scenario in total (groups and single hosts), checked before any is built.
pub const MAX_HOSTS: u64 = 100_000;
/// Initial servers of a scenario in total, checked before any is built.
pub const MAX_SERVERS: u64 = 1_000_000;
/// Requests a scenario announces in total: `[[requests]]`, replay CSV rows, each generator's
/// `count` (twice with a follow-up).
pub const MAX_REQUESTS: u64 = 10_000_000;
/// Rows of throughput.csv when `end_s` is given: `end_s / throughput_window_s` at most.
pub const MAX_WINDOWS: u64 = 1_000_000;
/// Size of a scenario file.
pub const MAX_SCENARIO_BYTES: u64 = 64 << 20;
/// Size of a replay CSV.
pub const MAX_REPLAY_BYTES: u64 = 1 << 30;
