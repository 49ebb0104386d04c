//! Cold-migration storm: 1,000 hosts, 10,000 servers, every server migrated once, half then
//! confirmed by their client, half auto-confirmed by `_poll_unconfirmed_resizes`. Traces are
//! written (to a temporary results folder). Reports simulated events per second, wall time and
//! peak memory.
//!
//! Run: `cargo bench --bench storm` (add `-- --hosts 2000 --servers 20000` to scale).

use novasim::run::run_to_dir;
use novasim::scenario::parse_str;
use std::time::Instant;

fn scenario_text(hosts: u64, servers: u64) -> String {
    let half = servers / 2;
    format!(
        r#"
name = "bench-storm"
seed = 7

[nova.DEFAULT]
resize_confirm_window = 60

[latency]
api = {{ dist = "uniform", min_ms = 20, max_ms = 80 }}
compute = {{ dist = "exponential", mean_ms = 20.0 }}

[steps]
disk_copy = {{ dist = "lognormal", median_ms = 20000.0, sigma = 0.4 }}

[[host_groups]]
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

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let hosts = arg("--hosts", 1000);
    let servers = arg("--servers", 10_000);
    let text = scenario_text(hosts, servers);
    let scenario = match parse_str(&text, "bench-storm.toml", &[]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench scenario invalid: {e}");
            std::process::exit(1);
        }
    };
    let out = std::env::temp_dir().join(format!("novasim-bench-{}", std::process::id()));
    let started = Instant::now();
    let report = match run_to_dir(scenario, &out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench run failed: {e}");
            std::process::exit(1);
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    let s = &report.summary;
    let migrate = s.actions.get("migrate");
    println!("cold-migration storm: {hosts} hosts, {servers} servers");
    println!(
        "  migrate: {} ok / {} submitted; confirmResize requests: {}; migrations: {:?}",
        migrate.map_or(0, |a| a.succeeded),
        migrate.map_or(0, |a| a.submitted),
        s.actions.get("confirmResize").map_or(0, |a| a.submitted),
        s.migration_status
    );
    println!("  simulated time: {} s", s.end_time_s);
    println!(
        "  events: {}, transition rows: {}",
        report.events, report.transition_rows
    );
    println!("  wall time: {wall:.3} s");
    println!("  events/s: {:.0}", report.events as f64 / wall);
    if let Some(kib) = peak_rss_kib() {
        println!("  peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
