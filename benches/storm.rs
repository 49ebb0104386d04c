//! Migration storms with traces written (to a temporary results folder), reporting simulated
//! events per second, the wall time of each stage of the run and peak memory:
//! * cold: 1,000 hosts, 10,000 servers, every server migrated once, half then confirmed by their
//!   client, half auto-confirmed by `_poll_unconfirmed_resizes`;
//! * live: 1,000 hosts, 10,000 servers, every server live-migrated once (one at a time per
//!   source, `max_concurrent_live_migrations` = 1), 2 % of destination checks failing.
//!
//! Run: `cargo bench --bench storm` (`-- --kind cold|live --hosts 2000 --servers 20000`;
//! `-- --calibrate` times a fixed workload unrelated to novasim instead, see [`calibrate`]).

use novasim::run::{prepare, Derived};
use novasim::scenario::{parse_str_with, InitialPlacement};
use std::time::Instant;

mod common;

fn live_scenario_text(hosts: u64, servers: u64) -> String {
    let cloud = common::live_cloud_text(hosts, servers, 150);
    format!(
        r#"
name = "bench-live-storm"
seed = 7

{cloud}
[[faults]]
step = "check_can_live_migrate_destination"
probability = 0.02

[[workload.generators]]
name = "live"
action = "os-migrateLive"
arrival = {{ kind = "closed_loop", concurrency = 500, think = {{ dist = "constant", ms = 0 }} }}
count = {servers}
targets = "all"
order = "sequential"

[output]
throughput_window_s = 60
"#
    )
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run(kind: &str, hosts: u64, servers: u64) {
    let text = match kind {
        "live" => live_scenario_text(hosts, servers),
        _ => common::cold_storm_text("bench-storm", hosts, servers),
    };
    // As `novasim run` loads it: the run places the initial servers itself.
    let scenario = match parse_str_with(&text, "bench-storm.toml", &[], InitialPlacement::LeftToRun)
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench scenario invalid: {e}");
            std::process::exit(1);
        }
    };
    let out = std::env::temp_dir().join(format!("novasim-bench-{}-{kind}", std::process::id()));
    let fail = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("bench run failed: {e}");
        std::process::exit(1);
    };
    // The stages of `run::run_to_dir_with`, timed apart.
    let started = Instant::now();
    let mut prepared = prepare(scenario, &out, Derived::Skip).unwrap_or_else(|e| fail(&e));
    let setup = started.elapsed().as_secs_f64();
    prepared.simulate().unwrap_or_else(|e| fail(&e));
    let simulated = started.elapsed().as_secs_f64();
    let report = prepared.finish().unwrap_or_else(|e| fail(&e));
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    let s = &report.summary;
    println!("{kind}-migration storm: {hosts} hosts, {servers} servers");
    for (action, a) in &s.actions {
        println!(
            "  {action}: {} ok, {} failed, {} rejected of {} submitted",
            a.succeeded,
            a.failed_async,
            a.submitted - a.succeeded - a.failed_async - a.pending,
            a.submitted
        );
    }
    println!("  migrations: {:?}", s.migration_status);
    println!("  simulated time: {} s", s.end_time_s);
    println!(
        "  events: {}, transition rows: {}",
        report.events, report.transition_rows
    );
    let events = report.events as f64;
    println!(
        "  wall time: {wall:.3} s = setup {setup:.3} s (cloud built, {servers} servers placed \
         through the scheduler) + events {:.3} s (transitions/hosts/scheduling.csv streamed) + \
         end-of-run files {:.3} s (requests, instance actions, throughput, summary)",
        simulated - setup,
        wall - simulated
    );
    println!(
        "  events/s: {:.0} end to end; {:.0} from the first event to the last file written",
        events / wall,
        events / (wall - setup)
    );
}

/// A fixed workload of this machine's own, unrelated to novasim: sorting 3 million
/// pseudo-random integers (branchy, compute-bound work like the simulator's, not a memory
/// stream). `storm-series.sh` runs it between the storms, so a series shows how much of the
/// storms' spread is the machine's: a shared VM slows everything while its host is busy.
fn calibrate() {
    let started = Instant::now();
    let mut x = 1u64;
    let mut values: Vec<u64> = (0..3_000_000)
        .map(|_| {
            // xorshift64: the same values on every machine.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        })
        .collect();
    values.sort_unstable();
    let wall = started.elapsed().as_secs_f64();
    println!(
        "calibration: wall time: {wall:.3} s (checksum {})",
        values[17] & 1
    );
}

/// mimalloc rather than the system allocator: see its entry in Cargo.toml.
#[global_allocator]
static ALLOCATOR: novasim::alloc::MiMalloc = novasim::alloc::MiMalloc;

fn main() {
    if std::env::args().any(|a| a == "--calibrate") {
        calibrate();
        return;
    }
    let hosts = arg("--hosts", 1000);
    let servers = arg("--servers", 10_000);
    let args: Vec<String> = std::env::args().collect();
    let kind = args
        .iter()
        .position(|a| a == "--kind")
        .and_then(|i| args.get(i + 1))
        .map_or("both", String::as_str);
    for k in ["cold", "live"] {
        if kind == k || kind == "both" {
            run(k, hosts, servers);
        }
    }
    if let Some(kib) = common::peak_rss_kib() {
        println!("peak RSS of the process: {:.1} MiB", kib as f64 / 1024.0);
    }
}
