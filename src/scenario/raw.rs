//! The scenario file as written: serde structs mirroring the TOML schema
//! (docs/scenario-schema.md), every value wrapped in `Spanned` so validation can say where it
//! was written. Nothing is checked here beyond TOML types and key names; enumerations stay
//! strings so their errors can list the allowed words.

use serde::Deserialize;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: S<String>,
    pub seed: Option<S<i64>>,
    pub end_s: Option<S<f64>>,
    pub release: Option<S<RawRelease>>,
    #[serde(default)]
    pub live_migration: RawLiveMigration,
    #[serde(default)]
    pub nova: RawNova,
    #[serde(default)]
    pub latency: RawLatency,
    #[serde(default)]
    pub steps: RawSteps,
    #[serde(default)]
    pub host_groups: Vec<S<RawHostGroup>>,
    #[serde(default)]
    pub hosts: Vec<S<RawHost>>,
    #[serde(default)]
    pub flavors: Vec<S<RawFlavor>>,
    #[serde(default)]
    pub server_groups: Vec<S<RawServerGroup>>,
    #[serde(default)]
    pub servers: Vec<S<RawServer>>,
    #[serde(default)]
    pub requests: Vec<S<RawRequest>>,
    #[serde(default)]
    pub workload: RawWorkload,
    #[serde(default)]
    pub faults: Vec<S<RawFault>>,
    #[serde(default)]
    pub service_events: Vec<S<RawServiceEvent>>,
    #[serde(default)]
    pub output: RawOutput,
    #[serde(default)]
    pub expect: Vec<S<RawExpect>>,
}

/// `[nova.*]`: nova.conf sections.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNova {
    #[serde(rename = "DEFAULT", default)]
    pub default: RawNovaDefault,
    #[serde(default)]
    pub scheduler: RawNovaScheduler,
    #[serde(default)]
    pub filter_scheduler: RawNovaFilterScheduler,
    #[serde(default)]
    pub compute: RawNovaCompute,
    #[serde(default)]
    pub libvirt: RawNovaLibvirt,
}

/// `[nova.compute]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNovaCompute {
    pub live_migration_wait_for_vif_plug: Option<S<bool>>,
}

/// `[nova.libvirt]`: live-migration options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNovaLibvirt {
    pub live_migration_downtime: Option<S<i64>>,
    pub live_migration_downtime_steps: Option<S<i64>>,
    pub live_migration_downtime_delay: Option<S<i64>>,
    pub live_migration_completion_timeout: Option<S<i64>>,
    pub live_migration_timeout_action: Option<S<String>>,
    pub live_migration_permit_post_copy: Option<S<bool>>,
}

/// `[live_migration]`: the transfer model.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLiveMigration {
    pub bandwidth_mib_s: Option<S<i64>>,
    pub dirty_rate_mib_s: Option<S<i64>>,
    pub shared_storage: Option<S<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNovaDefault {
    pub resize_confirm_window: Option<S<f64>>,
    pub migrate_max_retries: Option<S<i64>>,
    pub service_down_time: Option<S<f64>>,
    pub report_interval: Option<S<f64>>,
    pub rpc_response_timeout: Option<S<f64>>,
    pub shutdown_timeout: Option<S<f64>>,
    pub cpu_allocation_ratio: Option<S<f64>>,
    pub initial_cpu_allocation_ratio: Option<S<f64>>,
    pub ram_allocation_ratio: Option<S<f64>>,
    pub initial_ram_allocation_ratio: Option<S<f64>>,
    pub disk_allocation_ratio: Option<S<f64>>,
    pub initial_disk_allocation_ratio: Option<S<f64>>,
    pub reserved_host_memory_mb: Option<S<i64>>,
    pub reserved_host_disk_mb: Option<S<i64>>,
    pub reserved_host_cpus: Option<S<i64>>,
    pub max_concurrent_live_migrations: Option<S<i64>>,
    pub vif_plugging_timeout: Option<S<f64>>,
    pub vif_plugging_is_fatal: Option<S<bool>>,
    pub allow_resize_to_same_host: Option<S<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNovaScheduler {
    pub max_attempts: Option<S<i64>>,
    pub max_placement_results: Option<S<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNovaFilterScheduler {
    pub host_subset_size: Option<S<i64>>,
    pub ram_weight_multiplier: Option<S<f64>>,
    pub cpu_weight_multiplier: Option<S<f64>>,
    pub disk_weight_multiplier: Option<S<f64>>,
    pub io_ops_weight_multiplier: Option<S<f64>>,
    pub hypervisor_version_weight_multiplier: Option<S<f64>>,
    pub num_instances_weight_multiplier: Option<S<f64>>,
}

/// A distribution: `{ dist = "...", <parameters> }`. Which parameters are allowed depends on
/// `dist`; validation rejects the others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDist {
    pub dist: S<String>,
    pub ms: Option<S<f64>>,
    pub min_ms: Option<S<f64>>,
    pub max_ms: Option<S<f64>>,
    pub mean_ms: Option<S<f64>>,
    pub median_ms: Option<S<f64>>,
    pub sigma: Option<S<f64>>,
    pub values_ms: Option<S<Vec<S<f64>>>>,
    pub weights: Option<S<Vec<S<i64>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLatency {
    pub api: Option<S<RawDist>>,
    pub conductor: Option<S<RawDist>>,
    pub scheduler: Option<S<RawDist>>,
    pub compute: Option<S<RawDist>>,
    pub placement: Option<S<RawDist>>,
    pub status_get: Option<S<RawDist>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSteps {
    pub guest_shutdown: Option<S<RawDist>>,
    pub disk_copy: Option<S<RawDist>>,
    pub finish_migration: Option<S<RawDist>>,
    pub confirm_migration: Option<S<RawDist>>,
    pub revert_destroy: Option<S<RawDist>>,
    pub finish_revert_migration: Option<S<RawDist>>,
    pub boot: Option<S<RawDist>>,
    pub delete: Option<S<RawDist>>,
    pub pre_live_migration: Option<S<RawDist>>,
    pub vif_plug: Option<S<RawDist>>,
    pub post_live_migration: Option<S<RawDist>>,
    pub post_live_migration_at_destination: Option<S<RawDist>>,
}

/// The host shape shared by `[[hosts]]` and `[[host_groups]]`.
#[derive(Debug, Clone)]
pub(crate) struct RawHostFields {
    pub vcpus: S<i64>,
    pub memory_mb: S<i64>,
    pub disk_gb: S<i64>,
    pub cpu_allocation_ratio: Option<S<f64>>,
    pub ram_allocation_ratio: Option<S<f64>>,
    pub disk_allocation_ratio: Option<S<f64>>,
    pub reserved_host_cpus: Option<S<i64>>,
    pub reserved_host_memory_mb: Option<S<i64>>,
    pub reserved_host_disk_mb: Option<S<i64>>,
    pub hypervisor_type: Option<S<String>>,
    pub hypervisor_version: Option<S<i64>>,
    pub availability_zone: Option<S<String>>,
    pub enabled: Option<S<bool>>,
    pub up: Option<S<bool>>,
    pub periodic_phase_s: Option<S<f64>>,
}

/// Defines a host table type: its own identifying keys plus the shared host shape.
macro_rules! host_table {
    ($(#[$m:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $(pub $field: $ty,)*
            pub vcpus: S<i64>,
            pub memory_mb: S<i64>,
            pub disk_gb: S<i64>,
            pub cpu_allocation_ratio: Option<S<f64>>,
            pub ram_allocation_ratio: Option<S<f64>>,
            pub disk_allocation_ratio: Option<S<f64>>,
            pub reserved_host_cpus: Option<S<i64>>,
            pub reserved_host_memory_mb: Option<S<i64>>,
            pub reserved_host_disk_mb: Option<S<i64>>,
            pub hypervisor_type: Option<S<String>>,
            pub hypervisor_version: Option<S<i64>>,
            pub availability_zone: Option<S<String>>,
            pub enabled: Option<S<bool>>,
            pub up: Option<S<bool>>,
            pub periodic_phase_s: Option<S<f64>>,
        }

        impl $name {
            pub(crate) fn fields(&self) -> RawHostFields {
                RawHostFields {
                    vcpus: self.vcpus.clone(),
                    memory_mb: self.memory_mb.clone(),
                    disk_gb: self.disk_gb.clone(),
                    cpu_allocation_ratio: self.cpu_allocation_ratio.clone(),
                    ram_allocation_ratio: self.ram_allocation_ratio.clone(),
                    disk_allocation_ratio: self.disk_allocation_ratio.clone(),
                    reserved_host_cpus: self.reserved_host_cpus.clone(),
                    reserved_host_memory_mb: self.reserved_host_memory_mb.clone(),
                    reserved_host_disk_mb: self.reserved_host_disk_mb.clone(),
                    hypervisor_type: self.hypervisor_type.clone(),
                    hypervisor_version: self.hypervisor_version.clone(),
                    availability_zone: self.availability_zone.clone(),
                    enabled: self.enabled.clone(),
                    up: self.up.clone(),
                    periodic_phase_s: self.periodic_phase_s.clone(),
                }
            }
        }
    };
}

host_table!(
    /// `[[hosts]]`
    RawHost { name: S<String> }
);
host_table!(
    /// `[[host_groups]]`
    RawHostGroup { prefix: S<String>, count: S<i64> }
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlavor {
    pub name: S<String>,
    pub vcpus: S<i64>,
    pub memory_mb: S<i64>,
    pub disk_gb: S<i64>,
    pub dirty_rate_mib_s: Option<S<i64>>,
}

/// The server shape shared by `[[servers]]` and `[[server_groups]]`.
#[derive(Debug, Clone)]
pub(crate) struct RawServerFields {
    pub flavor: S<String>,
    pub project: Option<S<String>>,
    pub host: Option<S<String>>,
    pub vm_state: Option<S<String>>,
    pub locked: Option<S<bool>>,
    pub availability_zone: Option<S<String>>,
}

macro_rules! server_table {
    ($(#[$m:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $(pub $field: $ty,)*
            pub flavor: S<String>,
            pub project: Option<S<String>>,
            pub host: Option<S<String>>,
            pub vm_state: Option<S<String>>,
            pub locked: Option<S<bool>>,
            pub availability_zone: Option<S<String>>,
        }

        impl $name {
            pub(crate) fn fields(&self) -> RawServerFields {
                RawServerFields {
                    flavor: self.flavor.clone(),
                    project: self.project.clone(),
                    host: self.host.clone(),
                    vm_state: self.vm_state.clone(),
                    locked: self.locked.clone(),
                    availability_zone: self.availability_zone.clone(),
                }
            }
        }
    };
}

server_table!(
    /// `[[servers]]`
    RawServer { name: S<String> }
);
server_table!(
    /// `[[server_groups]]`
    RawServerGroup { prefix: S<String>, count: S<i64> }
);

/// `[[requests]]`, and one row of the replay CSV (built by `replay`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub name: Option<S<String>>,
    pub at_s: S<f64>,
    pub action: S<String>,
    pub server: S<String>,
    pub microversion: Option<S<String>>,
    pub role: Option<S<String>>,
    pub project: Option<S<String>>,
    pub host: Option<S<String>>,
    pub body: Option<S<String>>,
    pub flavor: Option<S<String>>,
    pub availability_zone: Option<S<String>>,
    pub state: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkload {
    pub replay_csv: Option<S<String>>,
    #[serde(default)]
    pub generators: Vec<S<RawGenerator>>,
    #[serde(default)]
    pub drains: Vec<S<RawDrain>>,
}

/// `[[workload.drains]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDrain {
    pub name: Option<S<String>>,
    pub at_s: S<f64>,
    pub host: S<String>,
    pub action: S<String>,
    pub concurrency: Option<S<i64>>,
    pub disable_first: Option<S<bool>>,
    pub microversion: Option<S<String>>,
    pub role: Option<S<String>>,
    pub follow_up: Option<S<String>>,
    pub block_migration: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGenerator {
    pub name: S<String>,
    pub action: S<String>,
    pub arrival: S<RawArrival>,
    pub start_s: Option<S<f64>>,
    pub stop_s: Option<S<f64>>,
    pub count: Option<S<i64>>,
    pub targets: Option<S<RawTargets>>,
    pub order: Option<S<String>>,
    pub microversion: Option<S<String>>,
    pub role: Option<S<String>>,
    pub project: Option<S<String>>,
    pub flavor: Option<S<String>>,
    pub follow_up: Option<S<String>>,
    pub follow_up_delay: Option<S<RawDist>>,
}

/// `arrival = { kind = "...", <parameters> }`; parameters checked against `kind` later.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArrival {
    pub kind: S<String>,
    pub rate_per_s: Option<S<f64>>,
    pub interval_s: Option<S<f64>>,
    pub concurrency: Option<S<i64>>,
    pub think: Option<S<RawDist>>,
}

/// `release`: a name or version. A bare number (`release = 2023.1`, or `--set release=21`,
/// which TOML reads as a number) stands for its text.
#[derive(Debug)]
pub(crate) struct RawRelease(pub String);

impl<'de> Deserialize<'de> for RawRelease {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawRelease, D::Error> {
        use serde::de::{self, Visitor};
        struct V;
        impl Visitor<'_> for V {
            type Value = RawRelease;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"a release name or version, e.g. "train", "20.0.0" or "2023.1""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRelease, E> {
                Ok(RawRelease(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawRelease, E> {
                Ok(RawRelease(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawRelease, E> {
                Ok(RawRelease(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawRelease, E> {
                Ok(RawRelease(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `targets = "all" | ["vm1", …] | { prefix = "vm" }`.
#[derive(Debug)]
pub(crate) enum RawTargets {
    Word(String),
    List(Vec<S<String>>),
    Prefix(S<String>),
}

/// `{ prefix = "vm" }` form of `targets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrefix {
    prefix: S<String>,
}

impl<'de> Deserialize<'de> for RawTargets {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawTargets, D::Error> {
        use serde::de::{self, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTargets;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#""all", an array of server names or { prefix = "..." }"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTargets, E> {
                Ok(RawTargets::Word(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawTargets, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<S<String>>()? {
                    names.push(n);
                }
                Ok(RawTargets::List(names))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawTargets, A::Error> {
                let p = RawPrefix::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawTargets::Prefix(p.prefix))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    pub step: S<String>,
    pub probability: Option<S<f64>>,
    pub request: Option<S<String>>,
    pub server: Option<S<String>>,
    pub host: Option<S<String>>,
    pub kind: Option<S<String>>,
    pub times: Option<S<i64>>,
    pub message: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServiceEvent {
    pub at_s: S<f64>,
    pub host: S<String>,
    pub change: S<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutput {
    pub throughput_window_s: Option<S<f64>>,
}

/// `[[expect]]`: one check of the run's outcome. Which check it is follows from the one
/// "subject" key present (`status`, `migration_status`, `no_http_code`, `percentile`,
/// `outcome_detail`); validation rejects the keys that check does not use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub name: Option<S<String>>,
    pub server: Option<S<String>>,
    pub status: Option<S<String>>,
    pub migration_status: Option<S<String>>,
    pub migration: Option<S<i64>>,
    pub at_s: Option<S<f64>>,
    pub between_s: Option<S<Vec<S<f64>>>>,
    pub no_http_code: Option<S<i64>>,
    pub action: Option<S<String>>,
    pub percentile: Option<S<i64>>,
    pub below_s: Option<S<f64>>,
    pub latency: Option<S<String>>,
    pub outcome_detail: Option<S<String>>,
    pub at_most: Option<S<i64>>,
    pub at_least: Option<S<i64>>,
}
