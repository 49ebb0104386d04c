//! `[[expect]]` checks in scenarios and `novasim sweep`: exit codes and messages as a user meets
//! them, load errors with their line, sweep rows equal to single runs, and sweep output that
//! does not depend on the number of threads.

use novasim::run::run_to_dir;
use novasim::scenario::{load, parse_str};
use novasim::sweep::{self, grid};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

fn novasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_novasim"))
}

/// A fresh folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "novasim-expect-sweep-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        Scratch(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn teaching() -> String {
    std::fs::read_to_string("scenarios/teaching.toml").expect("teaching scenario")
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv readable");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn expectations_that_hold_pass_and_are_written() {
    let tmp = Scratch::new("pass");
    let out = tmp.path("teaching");
    let o = novasim()
        .args(["run", "scenarios/teaching.toml", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("expectations: 5 of 5 passed"), "{stdout}");
    assert!(
        stdout
            .contains("expected vm1 VERIFY_RESIZE at 40.000 s, was VERIFY_RESIZE (since 38.210 s)"),
        "{stdout}"
    );
    let rows = read_csv(&out.join("expectations.csv"));
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["result"] == "pass"), "{rows:?}");
    assert_eq!(rows[1]["actual"], "mig-2 first reached it at 202.020 s");
}

#[test]
fn a_failed_expectation_exits_3_with_expected_and_actual() {
    let tmp = Scratch::new("fail");
    let scenario = tmp.path("t.toml");
    let text = format!(
        "{}\n[[expect]]\nserver = \"vm3\"\nstatus = \"VERIFY_RESIZE\"\nat_s = 50\n",
        teaching()
    );
    std::fs::write(&scenario, text).expect("write scenario");
    let out = tmp.path("res");
    let o = novasim()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stdout}\n{stderr}");
    let line = "#6: expected vm3 VERIFY_RESIZE at 50.000 s, was RESIZE (since 30.050 s)";
    assert!(stderr.contains(line), "{stderr}");
    assert!(stderr.contains("1 of 6 expectations failed"), "{stderr}");
    assert!(stdout.contains(&format!("FAIL {line}")), "{stdout}");
    // The run itself succeeded: its folder is complete.
    for f in novasim::run::RESULT_FILES {
        assert!(out.join(f).exists(), "{f}");
    }
    let rows = read_csv(&out.join("expectations.csv"));
    assert_eq!(rows[5]["result"], "fail");
    assert_eq!(rows[5]["actual"], "was RESIZE (since 30.050 s)");
    // --quiet still says which check failed.
    let o = novasim()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(3));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains(line));
}

#[test]
fn a_bad_expectation_is_a_load_error_with_its_line() {
    let base = teaching();
    let first = base.lines().count() + 2; // the line of "[[expect]]" appended below
    let cases = [
        (
            "server = \"vm9\"\nstatus = \"ACTIVE\"\nat_s = 1",
            1,
            "unknown server \"vm9\"",
        ),
        (
            "server = \"vm1\"\nstatus = \"VERIFY\"\nat_s = 1",
            2,
            "unknown status \"VERIFY\"",
        ),
        (
            "server = \"vm3\"\nmigration_status = \"confirmed\"\nbetween_s = [422, 360]",
            3,
            "impossible window",
        ),
        (
            "action = \"migrate\"\npercentile = 101\nbelow_s = 9",
            2,
            "1..=100",
        ),
        (
            "no_http_code = 500\nserver = \"vm1\"",
            2,
            "not used by a no_http_code expectation",
        ),
        (
            "server = \"vm1\"\nmigration_status = \"done-ish\"\nat_s = 3",
            2,
            "unknown migration status",
        ),
    ];
    for (body, offset, needle) in cases {
        let text = format!("{base}\n[[expect]]\n{body}\n");
        let e = parse_str(&text, "t.toml", &[]).expect_err(body);
        assert_eq!(e.line(), Some(first + offset), "{e}");
        assert!(e.to_string().contains(needle), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("t.toml:{}:", first + offset)),
            "{e}"
        );
    }
    // And from the command line: exit 1, one line.
    let tmp = Scratch::new("bad");
    let path = tmp.path("bad.toml");
    std::fs::write(&path, format!("{base}\n[[expect]]\nno_http_code = 999\n")).expect("write");
    let o = novasim().arg("check").arg(&path).output().expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!(":{}:", first + 1)), "{stderr}");
}

/// Two hosts, random disk copies, a confirm window to sweep: seeds change the figures.
const TINY: &str = r#"
name = "tiny"
[nova.DEFAULT]
resize_confirm_window = 60
[steps]
disk_copy = { dist = "uniform", min_ms = 5000, max_ms = 30000 }
[[hosts]]
name = "a"
vcpus = 8
memory_mb = 16384
disk_gb = 200
periodic_phase_s = 5
[[hosts]]
name = "b"
vcpus = 8
memory_mb = 16384
disk_gb = 200
periodic_phase_s = 35
[[flavors]]
name = "f"
vcpus = 1
memory_mb = 1024
disk_gb = 10
[[server_groups]]
prefix = "vm"
count = 4
flavor = "f"
host = "a"
[[workload.generators]]
name = "mig"
action = "migrate"
arrival = { kind = "constant", interval_s = 5 }
count = 4
targets = { prefix = "vm" }
[[expect]]
no_http_code = 500
[[expect]]
action = "migrate"
percentile = 50
below_s = 20
"#;

#[test]
fn sweep_rows_equal_single_runs() {
    let tmp = Scratch::new("rows");
    let scenario = tmp.path("tiny.toml");
    std::fs::write(&scenario, TINY).expect("write");
    let params = vec![
        grid::parse_param("nova.DEFAULT.resize_confirm_window=0,30").expect("param"),
        // An inline-table value: its commas do not split it.
        grid::parse_param(r#"steps.finish_migration={ dist = "constant", ms = 1000 }"#)
            .expect("param"),
    ];
    let report = sweep::run(&sweep::Sweep {
        scenario: scenario.clone(),
        params: params.clone(),
        seeds: Some(vec![3, 4]),
        out: Some(tmp.path("sweep")),
        metric: sweep::DEFAULT_METRIC.into(),
        keep_runs: false,
        progress: false,
    })
    .expect("sweep");
    assert_eq!(report.runs.len(), 4);
    assert!(
        !tmp.path("sweep").join("runs").exists(),
        "no per-run folders by default"
    );
    let rows = read_csv(&tmp.path("sweep").join("sweep.csv"));
    assert_eq!(rows.len(), 4);
    // The same scenario + overrides + seed run alone, the way `novasim run` does.
    let singles: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..rows.len())
            .map(|i| {
                let (params, scenario, out) =
                    (&params, &scenario, tmp.path(&format!("single-{i}")));
                scope.spawn(move || {
                    let (w, seed) = (i / 2, [3u64, 4][i % 2]);
                    let overrides = vec![
                        format!("{}={}", params[0].key, params[0].values[w]),
                        format!("{}={}", params[1].key, params[1].values[0]),
                        format!("seed={seed}"),
                    ];
                    let sc = load(scenario, &overrides).expect("loads");
                    (w, seed, run_to_dir(sc, &out).expect("runs"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("single run"))
            .collect()
    });
    for (i, (row, (w, seed, single))) in rows.iter().zip(&singles).enumerate() {
        assert_eq!(
            row["nova.DEFAULT.resize_confirm_window"],
            params[0].values[*w]
        );
        assert_eq!(row["steps.finish_migration"], params[1].values[0]);
        assert_eq!(row["seed"], seed.to_string());
        let s = &single.summary;
        let m = &s.actions["migrate"];
        let p = m
            .completion_latency
            .as_ref()
            .expect("successful migrations");
        let expected = [
            ("migrate_submitted", m.submitted.to_string()),
            ("migrate_succeeded", m.succeeded.to_string()),
            ("migrate_failed", m.failed_async.to_string()),
            ("migrate_pending", m.pending.to_string()),
            ("migrate_p50_ms", p.p50_ms.to_string()),
            ("migrate_p95_ms", p.p95_ms.to_string()),
            ("migrate_p99_ms", p.p99_ms.to_string()),
            ("peak_migration_vcpus", s.peak_migration_vcpus.to_string()),
            (
                "peak_migration_memory_mb",
                s.peak_migration_memory_mb.to_string(),
            ),
            ("events", s.events.to_string()),
            ("end_time_s", s.end_time_s.clone()),
            (
                "expectations_passed",
                (single.expectations.len() - novasim::expect::failures(&single.expectations))
                    .to_string(),
            ),
            (
                "expectations_failed",
                novasim::expect::failures(&single.expectations).to_string(),
            ),
        ];
        for (col, want) in expected {
            assert_eq!(row[col], want, "row {i} column {col}");
        }
        // Every final status of the run has its column; the other status columns are 0.
        for (col, v) in row.iter().filter(|(c, _)| c.starts_with("final_")) {
            let status = &col["final_".len()..];
            let want = s.final_status.get(status).copied().unwrap_or(0);
            assert_eq!(*v, want.to_string(), "row {i} column {col}");
        }
        // summary.json lists every status (zeros included); those the run ended with have a
        // column.
        for (status, _) in s.final_status.iter().filter(|(_, &n)| n > 0) {
            assert!(row.contains_key(&format!("final_{status}")), "{status}");
        }
        assert_eq!(&report.runs[i].summary, s, "run {i}");
    }
    assert_ne!(
        rows[0]["migrate_p95_ms"], rows[1]["migrate_p95_ms"],
        "the seeds should give different latencies"
    );
}

#[test]
fn sweep_output_does_not_depend_on_the_thread_count() {
    let tmp = Scratch::new("threads");
    let scenario = tmp.path("tiny.toml");
    std::fs::write(&scenario, TINY).expect("write");
    let sweep_with = |threads: &str, out: &Path, extra: &[&str]| {
        let o = novasim()
            .env("RAYON_NUM_THREADS", threads)
            .arg("sweep")
            .arg(&scenario)
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .expect("runs");
        // TINY's `p50 below 20 s` check fails in every run (its disk copy takes 5–30 s): the
        // sweep is written and exits 3, as `run` does.
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("runs failed expectations"), "{stderr}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let grid = [
        "--set",
        "nova.DEFAULT.resize_confirm_window=0,30,90",
        "--set",
        "nova.scheduler.max_attempts=1,3",
        "--seeds",
        "1..3",
    ];
    let (one, two) = (tmp.path("one"), tmp.path("two"));
    let stdout = sweep_with("1", &one, &grid);
    assert!(stdout.contains("18 runs"), "{stdout}");
    assert!(stdout.contains("on 1 threads"), "{stdout}");
    sweep_with("2", &two, &grid);
    for f in ["sweep.csv", "sweep.svg", "sweep.png"] {
        assert_eq!(
            std::fs::read(one.join(f)).expect("written"),
            std::fs::read(two.join(f)).expect("written"),
            "{f}"
        );
    }
    let rows = read_csv(&one.join("sweep.csv"));
    assert_eq!(rows.len(), 18);
    let order: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["nova.DEFAULT.resize_confirm_window"].clone(),
                r["nova.scheduler.max_attempts"].clone(),
                r["seed"].clone(),
            )
        })
        .collect();
    assert_eq!(order[0], ("0".into(), "1".into(), "1".into()));
    assert_eq!(order[4], ("0".into(), "3".into(), "2".into()));
    assert_eq!(order[17], ("90".into(), "3".into(), "3".into()));

    // --keep-runs: each run's full results folder, named by its options and seed.
    let kept = tmp.path("kept");
    sweep_with(
        "2",
        &kept,
        &[
            "--set",
            "nova.DEFAULT.resize_confirm_window=30",
            "--seeds",
            "2",
            "--keep-runs",
        ],
    );
    let run = kept
        .join("runs")
        .join("nova.DEFAULT.resize_confirm_window=30-seed2");
    assert!(run.join("summary.json").exists(), "{}", run.display());
    assert!(run.join("expectations.csv").exists());
}
