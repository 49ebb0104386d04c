//! Whole-region runs (issue 14), each stage of `novasim run` with its default options timed
//! apart, with events/s and peak RSS:
//! * drain: `--hosts` hosts (default 100,000) holding `--servers` servers (default 1,000,000),
//!   every 10th host drained by live migration (disabled first, 2 servers at a time);
//! * storm: the cold storm of `benches/storm.rs` at `--servers` servers (default 100,000) on a
//!   tenth as many hosts: every server migrated once, half confirmed, half auto-confirmed.
//!
//! Run: `cargo bench --bench scale -- --kind drain` (or `--kind storm`, `--hosts`, `--servers`;
//! `--derived skip` leaves the derived files out, as `run` never does: the cost of keeping the
//! timeline's rows during the simulation is the difference).
//! One run per process (peak RSS is the process's); the README's Performance table comes from
//! these runs.

use novasim::run::{prepare, Derived};
use novasim::scenario::{parse_str_with, InitialPlacement};
use std::fmt::Write as _;
use std::time::Instant;

mod common;

fn drain_text(hosts: u64, servers: u64) -> String {
    let cloud = common::live_cloud_text(hosts, servers, 100);
    let mut text = format!(
        r#"
name = "bench-scale-drain"
seed = 11

{cloud}
[output]
throughput_window_s = 60
"#
    );
    for h in (1..=hosts).step_by(10) {
        let _ = write!(
            text,
            "\n[[workload.drains]]\nat_s = 10\nhost = \"cmp{h}\"\naction = \"os-migrateLive\"\n\
             concurrency = 2\ndisable_first = true\n"
        );
    }
    text
}

fn peak_rss_mib() -> f64 {
    common::peak_rss_kib().map_or(f64::NAN, |kib| kib as f64 / 1024.0)
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn fail(what: &str, e: &dyn std::fmt::Display) -> ! {
    eprintln!("scale bench: {what}: {e}");
    std::process::exit(1);
}

/// mimalloc rather than the system allocator: see its entry in Cargo.toml.
#[global_allocator]
static ALLOCATOR: novasim::alloc::MiMalloc = novasim::alloc::MiMalloc;

fn main() {
    let kind = arg("--kind").unwrap_or_else(|| "drain".into());
    let number = |name: &str, default: u64| {
        arg(name).map_or(default, |v| v.parse().unwrap_or_else(|e| fail(name, &e)))
    };
    let (text, hosts, servers) = match kind.as_str() {
        "drain" => {
            let servers = number("--servers", 1_000_000);
            let hosts = number("--hosts", servers / 10);
            (drain_text(hosts, servers), hosts, servers)
        }
        "storm" => {
            let servers = number("--servers", 100_000);
            let hosts = number("--hosts", servers / 10);
            (
                common::cold_storm_text("bench-scale-storm", hosts, servers),
                hosts,
                servers,
            )
        }
        other => fail("--kind", &format!("{other:?} is neither drain nor storm")),
    };
    let derived = match arg("--derived").as_deref() {
        None | Some("write") => Derived::Write,
        Some("skip") => Derived::Skip,
        Some(other) => fail("--derived", &format!("{other:?} is neither write nor skip")),
    };
    let out = std::env::temp_dir().join(format!("novasim-scale-{}-{kind}", std::process::id()));
    let clock = Instant::now();
    let mut lap = {
        let mut last = 0.0;
        move || {
            let now = clock.elapsed().as_secs_f64();
            let lap = now - last;
            last = now;
            lap
        }
    };
    // The stages of `run::run_to_dir` (what `novasim run` does), timed apart.
    let scenario = parse_str_with(&text, "bench-scale.toml", &[], InitialPlacement::LeftToRun)
        .unwrap_or_else(|e| fail("scenario", &e));
    let load = lap();
    let mut prepared = prepare(scenario, &out, derived).unwrap_or_else(|e| fail("prepare", &e));
    let build = lap();
    prepared.simulate().unwrap_or_else(|e| fail("simulate", &e));
    let simulate = lap();
    let rss_sim = peak_rss_mib();
    // `finish()` apart: the end-of-run files, the derived ones, the folder moved into place.
    let mut written = prepared
        .write_results()
        .unwrap_or_else(|e| fail("results", &e));
    let files = lap();
    written
        .write_derived()
        .unwrap_or_else(|e| fail("derived", &e));
    let derived = lap();
    let report = written.commit().unwrap_or_else(|e| fail("commit", &e));
    let outputs = files + derived;
    let wall = clock.elapsed().as_secs_f64();
    let written: u64 = std::fs::read_dir(&report.dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&out);
    println!("{kind}: {hosts} hosts, {servers} servers");
    println!(
        "  events: {}, transition rows: {}, simulated time: {} s",
        report.events, report.transition_rows, report.summary.end_time_s
    );
    println!(
        "  wall time: {wall:.2} s = load {load:.2} s + build {build:.2} s (cloud, servers \
         placed) + simulate {simulate:.2} s + write outputs {outputs:.2} s ({:.0} MiB written)",
        written as f64 / 1048576.0
    );
    println!(
        "  write outputs: end-of-run files {files:.2} s, derived {derived:.2} s (timeline.json \
         and the charts side by side, then report.html)"
    );
    println!(
        "  events/s: {:.0} in simulate, {:.0} end to end",
        report.events as f64 / simulate,
        report.events as f64 / wall
    );
    println!(
        "  peak RSS: {:.0} MiB after simulate, {:.0} MiB at the end",
        rss_sim,
        peak_rss_mib()
    );
}
