//! What the benchmarks share.

/// The cold-migration storm of `benches/storm.rs` and `benches/scale.rs`: every server migrated,
/// half confirmed by a closed-loop client, half left to the auto-confirm.
pub fn cold_storm_text(name: &str, hosts: u64, servers: u64) -> String {
    let half = servers / 2;
    let cloud = cloud_toml(hosts);
    format!(
        r#"
name = "{name}"
seed = 7

[nova.DEFAULT]
resize_confirm_window = 60

[latency]
api = {{ dist = "uniform", min_ms = 20, max_ms = 80 }}
compute = {{ dist = "exponential", mean_ms = 20.0 }}

[steps]
disk_copy = {{ dist = "lognormal", median_ms = 20000.0, sigma = 0.4 }}

{cloud}

[[server_groups]]
prefix = "a"
count = {half}
flavor = "m1.medium"

[[server_groups]]
prefix = "b"
count = {half}
flavor = "m1.medium"

[[workload.generators]]
name = "confirmed"
action = "migrate"
arrival = {{ kind = "closed_loop", concurrency = 200, think = {{ dist = "constant", ms = 0 }} }}
count = {half}
targets = {{ prefix = "a" }}
order = "sequential"
follow_up = "confirm"
follow_up_delay = {{ dist = "exponential", mean_ms = 5000.0 }}

[[workload.generators]]
name = "autoconfirmed"
action = "migrate"
arrival = {{ kind = "poisson", rate_per_s = 50.0 }}
count = {half}
targets = {{ prefix = "b" }}
order = "sequential"

[output]
throughput_window_s = 60
"#
    )
}

/// The cloud every benchmark runs on: `hosts` computes of 64 vCPUs, 256 GiB, 4 TB, and the one
/// flavor its servers use.
pub fn cloud_toml(hosts: u64) -> String {
    format!(
        r#"[[host_groups]]
prefix = "cmp"
count = {hosts}
vcpus = 64
memory_mb = 262144
disk_gb = 4000

[[flavors]]
name = "m1.medium"
vcpus = 2
memory_mb = 4096
disk_gb = 40
"#
    )
}

/// The set-up of the live-migration benchmarks: latencies, shared-storage live migration at
/// 1,000 MiB/s with guests dirtying `dirty_rate_mib_s`, `hosts` computes and `servers` servers
/// `vm1`….
pub fn live_cloud_text(hosts: u64, servers: u64, dirty_rate_mib_s: u64) -> String {
    let cloud = cloud_toml(hosts);
    format!(
        r#"[latency]
api = {{ dist = "uniform", min_ms = 20, max_ms = 80 }}
compute = {{ dist = "exponential", mean_ms = 20.0 }}

[live_migration]
bandwidth_mib_s = 1000
dirty_rate_mib_s = {dirty_rate_mib_s}
shared_storage = true

{cloud}

[[server_groups]]
prefix = "vm"
count = {servers}
flavor = "m1.medium"
"#
    )
}

/// The process's peak resident set (VmHWM), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
