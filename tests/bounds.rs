//! Issue 11, "bounded numbers and bounded memory": every number has a bound at load, in-bound
//! scenarios never overflow, memory follows the cloud and the workload (not simulated time),
//! totals and input files are capped before anything proportional to them is allocated,
//! `check` places the initial servers, and user text never breaks an error line.

use novasim::scenario::{self, parse_str, parse_str_with, InitialPlacement, ScenarioError};
use novasim::sim::Sim;
use novasim::trace::writer::{write_throughput, TraceWriter};
use proptest::prelude::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A small valid scenario followed by `extra` (top-level keys before the tables).
fn with(top: &str, extra: &str) -> String {
    format!(
        "name = \"t\"\n{top}\n\
         [[hosts]]\nname = \"h1\"\nvcpus = 4\nmemory_mb = 4096\ndisk_gb = 100\n\
         [[hosts]]\nname = \"h2\"\nvcpus = 4\nmemory_mb = 4096\ndisk_gb = 100\n\
         [[flavors]]\nname = \"m1\"\nvcpus = 1\nmemory_mb = 512\ndisk_gb = 1\n\
         [[servers]]\nname = \"vm1\"\nflavor = \"m1\"\n\
         {extra}"
    )
}

fn fail(text: &str, overrides: &[&str]) -> String {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    // As `novasim check` loads: with the simulator's probe of the initial placement.
    let probe = InitialPlacement::Probe(novasim::sim::probe_initial_placement);
    match parse_str_with(text, "x.toml", &o, probe) {
        Ok(_) => panic!("should fail:\n{text}\nwith {overrides:?}"),
        Err(e) => e.to_string(),
    }
}

/// `msg` is one line at `x.toml:<line of needle>:` containing every part.
fn assert_at(msg: &str, text: &str, needle: &str, parts: &[&str]) {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?}"));
    let line = text[..at].matches('\n').count() + 1;
    let prefix = format!("x.toml:{line}:");
    assert!(msg.starts_with(&prefix), "expected {prefix}… got: {msg}");
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in: {msg}");
    }
    assert!(
        !msg.contains('\n') && !msg.contains('\u{1b}'),
        "one line: {msg:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Every number has a bound at load.

#[test]
fn every_number_out_of_bounds_is_a_located_error() {
    // (extra text, needle on the offending line, part of the message)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("", "[[hosts]]\nname = \"h9\"\nvcpus = 1048577\nmemory_mb = 1\ndisk_gb = 1\n", "vcpus = 1048577", "vcpus: is too large (got 1048577, at most 1048576)"),
        ("", "[[hosts]]\nname = \"h9\"\nvcpus = 1\nmemory_mb = 9223372036854775807\ndisk_gb = 1\n", "memory_mb = 9223", "memory_mb: is too large"),
        ("", "[[hosts]]\nname = \"h9\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1073741825\n", "disk_gb = 1073741825", "disk_gb: is too large"),
        ("", "[[flavors]]\nname = \"huge\"\nvcpus = 1\nmemory_mb = 1099511627777\ndisk_gb = 1\n", "memory_mb = 1099511627777", "memory_mb: is too large"),
        ("", "[nova.DEFAULT]\ncpu_allocation_ratio = 1000.5\n", "cpu_allocation_ratio", "is too large (got 1000.5, at most 1000)"),
        ("", "[nova.DEFAULT]\nram_allocation_ratio = inf\n", "ram_allocation_ratio", "must be a finite number"),
        ("", "[nova.DEFAULT]\nreserved_host_memory_mb = 1099511627777\n", "reserved_host_memory_mb", "is too large"),
        ("", "[nova.libvirt]\nlive_migration_completion_timeout = 1000000000000000000\n", "live_migration_completion_timeout", "is too large"),
        ("", "[nova.scheduler]\nmax_attempts = 10000001\n", "max_attempts", "is too large"),
        ("", "[nova.filter_scheduler]\nram_weight_multiplier = 1e7\n", "ram_weight_multiplier", "must be within"),
        ("", "[latency]\napi = { dist = \"exponential\", mean_ms = 1e13 }\n", "mean_ms", "is too large"),
        ("", "[latency]\napi = { dist = \"lognormal\", median_ms = 10, sigma = 11 }\n", "sigma", "must be in [0, 10]"),
        ("", "[latency]\napi = { dist = \"constant\", ms = 1e13 }\n", "ms = 1e13", "is too large"),
        ("", "[live_migration]\nbandwidth_mib_s = 1073741825\n", "bandwidth_mib_s", "is too large"),
        ("", "[[requests]]\nat_s = 1e10\naction = \"migrate\"\nserver = \"vm1\"\n", "at_s = 1e10", "at most 1000000000 s"),
        ("end_s = 1e10", "", "end_s", "is too large"),
        ("", "[[faults]]\nstep = \"prep_resize\"\nprobability = 1.5\n", "probability", "must be in [0, 1]"),
        ("", "[[faults]]\nstep = \"prep_resize\"\ntimes = 10000001\n", "times", "is too large"),
        ("", "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\narrival = { kind = \"poisson\", rate_per_s = 1e7 }\ncount = 1\n", "rate_per_s", "is too large"),
        ("", "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\narrival = { kind = \"poisson\", rate_per_s = 1e-12 }\ncount = 1\n", "rate_per_s", "must be >="),
        ("", "[[hosts]]\nname = \"h9\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\nhypervisor_version = 10000000000000\n", "hypervisor_version", "is too large"),
    ];
    for (top, extra, needle, part) in cases {
        let t = with(top, extra);
        assert_at(&fail(&t, &[]), &t, needle, &[part]);
    }
}

#[test]
fn overrides_go_through_the_same_bounds() {
    let t = with("", "");
    let msg = fail(&t, &["hosts.0.memory_mb=9223372036854775807"]);
    assert!(
        msg.starts_with("x.toml: --set hosts.0.memory_mb=9223372036854775807: [[hosts]] \"h1\" memory_mb: is too large"),
        "{msg}"
    );
    let msg = fail(
        &t,
        &["nova.libvirt.live_migration_completion_timeout=9223372036854775807"],
    );
    assert!(msg.contains("is too large"), "{msg}");
}

/// Runs a loaded scenario to its end with the traces discarded; returns the sim.
fn run(sc: scenario::Scenario) -> Sim {
    let sink = || -> Box<dyn Write + Send> { Box::new(std::io::sink()) };
    let trace = TraceWriter::new(sink(), sink(), sink()).unwrap();
    let mut sim = Sim::new(sc, trace).expect("placed");
    sim.run().expect("sink");
    sim
}

/// Random scenarios with every size, ratio and time drawn up to its bound: loading and running
/// them never overflows (the test profile has overflow checks on, so a wrap is a panic).
fn in_bound_scenario() -> impl Strategy<Value = String> {
    let size = (
        1u64..=(1 << 20),
        1u64..=(1 << 40),
        1u64..=(1 << 30),
        prop::sample::select(vec![0.001, 1.0, 16.0, 1000.0]),
    );
    let time_ms = prop::sample::select(vec![1u64, 1_000, 3_600_000, 1_000_000_000_000]);
    (
        prop::collection::vec(size, 1..4),
        (1u64..=(1 << 20), 1u64..=(1 << 40), 0u64..=(1 << 30)),
        time_ms.clone(),
        time_ms,
        (0u64..=1_000_000_000, 1u64..=(1 << 30), 0u64..=(1 << 30)),
        any::<u64>(),
    )
        .prop_map(|(hosts, flavor, t1, t2, (timeout, bw, dirty), seed)| {
            let mut s = format!(
                "name = \"p\"\nseed = {}\n[nova.DEFAULT]\nresize_confirm_window = {}\n\
                 [nova.libvirt]\nlive_migration_completion_timeout = {timeout}\n\
                 live_migration_downtime_delay = {}\n\
                 [live_migration]\nbandwidth_mib_s = {bw}\ndirty_rate_mib_s = {dirty}\n\
                 [latency]\ncompute = {{ dist = \"exponential\", mean_ms = {t1} }}\n\
                 [steps]\ndisk_copy = {{ dist = \"lognormal\", median_ms = {t2}, sigma = 10 }}\n\
                 [output]\nthroughput_window_s = 10000\n",
                seed >> 1,
                t1 as f64 / 1000.0,
                timeout.max(3),
            );
            for (i, (v, m, d, r)) in hosts.iter().enumerate() {
                s.push_str(&format!(
                    "[[hosts]]\nname = \"h{i}\"\nvcpus = {v}\nmemory_mb = {m}\ndisk_gb = {d}\n\
                     cpu_allocation_ratio = {r}\nram_allocation_ratio = {r}\ndisk_allocation_ratio = {r}\n\
                     reserved_host_memory_mb = 0\n"
                ));
            }
            let (fv, fm, fd) = flavor;
            s.push_str(&format!(
                "[[flavors]]\nname = \"f\"\nvcpus = {fv}\nmemory_mb = {fm}\ndisk_gb = {fd}\n"
            ));
            // Pinned servers overcommit without a check: usage sums beyond capacity.
            for i in 0..4 {
                s.push_str(&format!(
                    "[[servers]]\nname = \"vm{i}\"\nflavor = \"f\"\nhost = \"h0\"\n"
                ));
            }
            for (i, action) in ["migrate", "os-migrateLive", "migrate", "delete"]
                .iter()
                .enumerate()
            {
                s.push_str(&format!(
                    "[[requests]]\nat_s = {}\naction = \"{action}\"\nserver = \"vm{i}\"\n",
                    (i as u64 * t2) as f64 / 1000.0 % 1e9
                ));
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn in_bound_scenarios_never_overflow(text in in_bound_scenario()) {
        let sc = parse_str(&text, "p.toml", &[]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let sim = run(sc);
        // The stored windows follow the events, not the up to 10^5 windows of the run.
        prop_assert!(sim.throughput().len() < 200, "{} windows stored", sim.throughput().len());
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Memory follows the workload, not simulated time.

/// Counts the bytes and lines written, keeping none.
#[derive(Clone, Default)]
struct Count(Arc<Mutex<(u64, u64)>>);

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let mut c = self.0.lock().unwrap();
        c.0 += b.len() as u64;
        c.1 += b.iter().filter(|&&x| x == b'\n').count() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_late_request_stores_a_few_windows_and_writes_them_all() {
    let t = with(
        "",
        "[output]\nthroughput_window_s = 1\n\
         [[requests]]\nat_s = 500000\naction = \"migrate\"\nserver = \"vm1\"\n",
    );
    let sc = parse_str(&t, "x.toml", &[]).unwrap();
    let sim = run(sc);
    assert!(
        sim.throughput().len() <= 4,
        "{} rows stored",
        sim.throughput().len()
    );
    let end = sim.stats().end_time;
    let (_, _, rows, _, _) = sim.into_parts();
    let count = Count::default();
    write_throughput(Box::new(count.clone()), &rows).unwrap();
    let lines = count.0.lock().unwrap().1;
    // header + one row per 1 s window up to the end, the last one partial
    assert_eq!(lines, 1 + end.ms().div_ceil(1000), "end {end}");
}

#[test]
fn a_request_at_a_billion_seconds_runs_in_bounded_memory() {
    // Before: 1.6·10^7 windows of 60 s stored (a Vec per window), gigabytes. Now refused at
    // load with the default window (a throughput.csv of 1.6·10^7 rows is not what anyone
    // means), at the request's at_s …
    let t = with(
        "",
        "[[requests]]\nat_s = 1e9\naction = \"migrate\"\nserver = \"vm1\"\n",
    );
    assert_at(
        &fail(&t, &[]),
        &t,
        "at_s = 1e9",
        &["[[requests]] #1 at_s: throughput_window_s = 60.000 s gives 16666667 windows up to requests[0].at_s"],
    );
    // … and with hour-long windows it runs, storing a few rows, not 277,778.
    let t = with(
        "",
        "[output]\nthroughput_window_s = 3600\n\
         [[requests]]\nat_s = 1e9\naction = \"migrate\"\nserver = \"vm1\"\n",
    );
    let sim = run(parse_str(&t, "x.toml", &[]).unwrap());
    assert!(
        sim.throughput().len() <= 4,
        "{} rows stored",
        sim.throughput().len()
    );
    let last = sim.throughput().last().unwrap();
    assert!(last.end.ms() > 1_000_000_000_000);
}

#[test]
fn too_many_windows_over_end_s_is_refused() {
    let t = with("end_s = 10000", "[output]\nthroughput_window_s = 0.001\n");
    assert_at(
        &fail(&t, &[]),
        &t,
        "throughput_window_s",
        &[
            "[output] throughput_window_s",
            "gives 10000000 windows",
            "more than 1000000",
        ],
    );
    // Reported at end_s when the window is the default.
    let t = with("end_s = 1e9", "");
    assert_at(&fail(&t, &[]), &t, "end_s", &["end_s", "more than 1000000"]);
}

// ---------------------------------------------------------------------------------------------
// 3. Totals are capped before anything proportional to them is built.

#[test]
fn a_thousand_groups_of_100000_hosts_fail_fast_naming_the_group() {
    let mut t = String::from("name = \"t\"\n");
    for i in 0..1000 {
        t.push_str(&format!(
            "[[host_groups]]\nprefix = \"g{i}-\"\ncount = 100000\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n"
        ));
    }
    let started = std::time::Instant::now();
    let msg = fail(&t, &[]);
    // The second group's `count` (line 10) crosses the bound.
    assert_at(
        &msg,
        &t,
        "count = 100000\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n[[host_groups]]\nprefix = \"g2-\"",
        &[
            "[[host_groups]] prefix \"g1-\" count",
            "brings the scenario to 200000 hosts, more than the 100000",
        ],
    );
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn servers_and_announced_requests_are_capped() {
    let t = with(
        "",
        "[[server_groups]]\nprefix = \"a\"\ncount = 1000000\nflavor = \"m1\"\n",
    );
    // 10^6 in the group plus vm1 > 10^6: reported at the single server that crosses.
    assert_at(
        &fail(&t, &[]),
        &t,
        "name = \"vm1\"",
        &["brings the scenario to 1000001 initial servers"],
    );
    let t = with(
        "",
        "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\n\
         arrival = { kind = \"poisson\", rate_per_s = 1 }\ncount = 6000000\nfollow_up = \"confirm\"\n",
    );
    assert_at(
        &fail(&t, &[]),
        &t,
        "count = 6000000",
        &[
            "[[workload.generators]] \"g\" count",
            "brings the scenario to 12000000 requests",
        ],
    );
}

#[test]
fn generators_without_count_announce_rate_times_duration_or_concurrency() {
    // 1000/s for 10^5 s: 10^8 requests expected, all kept for requests.csv.
    let t = with(
        "",
        "[[workload.generators]]\nname = \"flood\"\naction = \"migrate\"\n\
         arrival = { kind = \"poisson\", rate_per_s = 1000 }\nstop_s = 100000\n",
    );
    assert_at(
        &fail(&t, &[]),
        &t,
        "[[workload.generators]]",
        &["[[workload.generators]] \"flood\": brings the scenario to 100000000 requests"],
    );
    let t = with(
        "",
        "[[workload.generators]]\nname = \"tick\"\naction = \"migrate\"\n\
         arrival = { kind = \"constant\", interval_s = 0.001 }\nstop_s = 100000\n",
    );
    assert!(fail(&t, &[]).contains("brings the scenario to 100000001 requests"));
    let t = with(
        "",
        "[[workload.generators]]\nname = \"crowd\"\naction = \"migrate\"\n\
         arrival = { kind = \"closed_loop\", concurrency = 10000000 }\nstop_s = 10\n\
         [[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\n",
    );
    assert!(fail(&t, &[]).contains("brings the scenario to 10000001 requests"));
}

// ---------------------------------------------------------------------------------------------
// 4. Input files: regular and bounded.

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("novasim-bounds-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[cfg(unix)]
#[test]
fn a_fifo_scenario_is_refused_without_blocking() {
    let d = temp_dir("fifo");
    let p = d.join("s.toml");
    let ok = std::process::Command::new("mkfifo").arg(&p).status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo: skipped");
        return;
    }
    match scenario::load(&p, &[]) {
        Err(e @ ScenarioError::Io { .. }) => {
            assert!(e.to_string().contains("not a regular file"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(unix)]
#[test]
fn dev_zero_as_replay_csv_is_refused_at_its_key() {
    let t = with("", "[workload]\nreplay_csv = \"/dev/zero\"\n");
    assert_at(
        &fail(&t, &[]),
        &t,
        "replay_csv",
        &["[workload] replay_csv: cannot read /dev/zero: not a regular file"],
    );
}

#[test]
fn an_oversized_scenario_is_refused() {
    let d = temp_dir("big");
    let p = d.join("s.toml");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len((64 << 20) + 1).unwrap(); // sparse: no disk used
    let msg = scenario::load(&p, &[]).unwrap_err().to_string();
    assert!(msg.contains("larger than 64 MiB"), "{msg}");
    assert!(!msg.contains('\n'));
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------------------------
// 5. An initial server that cannot be placed is a load error at its entry.

#[test]
fn an_unplaceable_initial_server_is_named_at_load() {
    let t = with(
        "",
        "[[flavors]]\nname = \"big\"\nvcpus = 64\nmemory_mb = 512\ndisk_gb = 1\n\
         [[servers]]\nname = \"vm2\"\nflavor = \"big\"\n",
    );
    assert_at(
        &fail(&t, &[]),
        &t,
        "name = \"vm2\"",
        &[
            "[[servers]] \"vm2\" name: initial server \"vm2\" cannot be placed at t = 0",
            "No valid host",
        ],
    );
    let t = with(
        "",
        "[[server_groups]]\nprefix = \"many\"\ncount = 40\nflavor = \"m1\"\n",
    );
    assert_at(
        &fail(&t, &[]),
        &t,
        "prefix = \"many\"",
        &["[[server_groups]] prefix \"many\" prefix: initial server \"many"],
    );
    // Pinned servers overcommit as before.
    let t = with(
        "",
        "[[flavors]]\nname = \"big\"\nvcpus = 64\nmemory_mb = 512\ndisk_gb = 1\n\
         [[servers]]\nname = \"vm2\"\nflavor = \"big\"\nhost = \"h1\"\n",
    );
    assert!(parse_str(&t, "x.toml", &[]).is_ok());
}

// ---------------------------------------------------------------------------------------------
// 6. User text never breaks an error line.

#[test]
fn control_characters_are_refused_in_names() {
    let cases = [
        (
            "[[hosts]]\nname = \"bad\\u001b[31m\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n",
            "bad\\u001b",
        ),
        (
            "[[flavors]]\nname = \"f\\nx\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n",
            "f\\nx",
        ),
        ("[[servers]]\nname = \"v\\tx\"\nflavor = \"m1\"\n", "v\\tx"),
        (
            "[[servers]]\nname = \"vm9\"\nflavor = \"m1\"\nproject = \"p\\rx\"\n",
            "p\\rx",
        ),
        (
            "[[servers]]\nname = \"vm9\"\nflavor = \"m1\"\navailability_zone = \"a\\u0007\"\n",
            "a\\u0007",
        ),
        (
            "[[requests]]\nname = \"r\\u0000\"\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\n",
            "r\\u0000",
        ),
    ];
    for (extra, needle) in cases {
        let t = with("", extra);
        assert_at(
            &fail(&t, &[]),
            &t,
            needle,
            &["must not contain control characters"],
        );
    }
}

#[test]
fn set_text_is_escaped_in_errors() {
    let t = with("", "");
    let msg = fail(&t, &["nova.DEFAULT.bogus\n\u{1b}[2J=1"]);
    assert!(!msg.contains('\n') && !msg.contains('\u{1b}'), "{msg:?}");
    assert!(msg.contains("\\n\\u{1b}[2J"), "{msg}");
    let msg = fail(&t, &["name=\"a\nb\""]);
    assert!(!msg.contains('\n'), "{msg:?}");
    let msg = fail(&t, &["hosts.0.name=x\u{1b}y"]);
    assert!(!msg.contains('\u{1b}'), "{msg:?}");
    assert!(msg.contains("must not contain control characters"), "{msg}");
}
