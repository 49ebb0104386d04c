//! The analyses of a results folder: timeline.json, `novasim diff`, `novasim explain`.

use novasim::analysis::{self, AnalysisError};
use novasim::run::run_to_dir;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "novasim-analysis-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ))
}

/// A results folder removed when dropped.
struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a bundled scenario into a fresh temporary folder.
fn run(scenario: &str) -> Folder {
    let sc = novasim::scenario::load(Path::new(&format!("scenarios/{scenario}.toml")), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = temp_dir(scenario);
    run_to_dir(sc, &dir).unwrap_or_else(|e| panic!("{e}"));
    Folder(dir)
}

fn copy(from: &Path, tag: &str) -> Folder {
    let to = temp_dir(tag);
    std::fs::create_dir_all(&to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("ls") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
    Folder(to)
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
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

fn novasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_novasim"))
}

// ------------------------------------------------------------------ timeline

fn check_timeline(scenario: &str) {
    let run = run(scenario);
    let text = std::fs::read_to_string(run.0.join("timeline.json")).expect("timeline.json");
    let doc: Value = serde_json::from_str(&text).expect("timeline.json is JSON");
    let events = doc["traceEvents"].as_array().expect("traceEvents");

    let mut processes = BTreeMap::new();
    let mut threads = BTreeSet::new();
    for e in events.iter().filter(|e| e["ph"] == "M") {
        let key = (
            e["pid"].as_u64().expect("pid"),
            e["tid"].as_u64().expect("tid"),
        );
        match e["name"].as_str() {
            Some("process_name") => {
                processes.insert(key.0, e["args"]["name"].as_str().expect("name").to_string());
            }
            Some("thread_name") => {
                threads.insert(key);
            }
            _ => {}
        }
    }
    let names: BTreeSet<&str> = processes.values().map(String::as_str).collect();
    for h in read_csv(&run.0.join("hosts.csv")) {
        assert!(
            names.contains(format!("host {}", h["host"]).as_str()),
            "{scenario}: host {} has no track",
            h["host"]
        );
    }
    for t in read_csv(&run.0.join("transitions.csv")) {
        let want = format!("server {}", t["server"]);
        assert!(
            names.contains(want.as_str()),
            "{scenario}: {want} has no track"
        );
    }

    // Complete events: non-negative, inside the run, and sequential on each thread.
    let end_us = {
        let s: Value = serde_json::from_str(
            &std::fs::read_to_string(run.0.join("summary.json")).expect("summary"),
        )
        .expect("json");
        let t = analysis::parse_time(s["end_time_s"].as_str().expect("end")).expect("time");
        t.ms() * 1000
    };
    let mut by_thread: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X" || e["ph"] == "i") {
        let key = (
            e["pid"].as_u64().expect("pid"),
            e["tid"].as_u64().expect("tid"),
        );
        assert!(
            threads.contains(&key),
            "{scenario}: thread {key:?} has no name: {e}"
        );
        assert!(
            processes.contains_key(&key.0),
            "{scenario}: process {} has no name",
            key.0
        );
        let ts = e["ts"].as_u64().expect("ts ≥ 0");
        if e["ph"] == "X" {
            let dur = e["dur"].as_u64().expect("dur ≥ 0");
            assert!(ts + dur <= end_us, "{scenario}: span past the end: {e}");
            by_thread.entry(key).or_default().push((ts, dur));
        }
    }
    for (key, mut spans) in by_thread {
        spans.sort();
        for w in spans.windows(2) {
            let ((s0, d0), (s1, d1)) = (w[0], w[1]);
            let nested = s1 + d1 <= s0 + d0;
            assert!(
                s1 >= s0 + d0 || nested,
                "{scenario}: spans overlap on {key:?}: {:?} and {:?}",
                w[0],
                w[1]
            );
        }
    }

    // One instant per API request, with its HTTP code and action.
    for q in read_csv(&run.0.join("requests.csv")) {
        let found = events.iter().any(|e| {
            e["ph"] == "i"
                && e["args"]["request"] == q["request"].as_str()
                && e["args"]["http_code"] == q["http_code"].as_str()
                && e["args"]["action"] == q["action"].as_str()
        });
        assert!(found, "{scenario}: no instant for {}", q["request"]);
    }
    // And one per scheduler decision.
    let decisions = read_csv(&run.0.join("scheduling.csv")).len();
    let instants = events
        .iter()
        .filter(|e| {
            e["ph"] == "i"
                && e["cat"] == "scheduler"
                && processes[&e["pid"].as_u64().expect("pid")].starts_with("server ")
        })
        .count();
    assert_eq!(instants, decisions, "{scenario}: scheduler instants");
}

#[test]
fn timeline_names_every_track_and_keeps_spans_sequential() {
    for s in [
        "teaching",
        "regress-reschedule",
        "live-drain",
        "regress-autoconfirm",
    ] {
        check_timeline(s);
    }
}

#[test]
fn timeline_is_deterministic() {
    let (a, b) = (run("teaching"), run("teaching"));
    let ta = std::fs::read(a.0.join("timeline.json")).expect("a");
    let tb = std::fs::read(b.0.join("timeline.json")).expect("b");
    assert_eq!(ta, tb);
    // Regenerating from the CSVs alone gives the same bytes.
    let path = analysis::write_timeline(&a.0).expect("rewrite");
    assert_eq!(std::fs::read(path).expect("again"), ta);
}

/// Above `MAX_HOSTS` hosts or `MAX_SERVERS` servers only the first of each have tracks, and
/// the document says how many were left out; a request of a left-out server is not shown on
/// the "no server" track.
#[test]
fn a_large_timeline_keeps_the_first_hosts_and_servers() {
    use novasim::analysis::timeline::{MAX_HOSTS, MAX_SERVERS};
    let (hosts, servers) = (MAX_HOSTS + 30, MAX_SERVERS + 20);
    let text = format!(
        r#"
name = "timeline-selection"
seed = 1
[[host_groups]]
prefix = "cmp"
count = {hosts}
vcpus = 64
memory_mb = 262144
disk_gb = 4000
[[flavors]]
name = "m1.small"
vcpus = 1
memory_mb = 2048
disk_gb = 20
[[server_groups]]
prefix = "vm"
count = {servers}
flavor = "m1.small"
[[requests]]
at_s = 1
action = "migrate"
server = "vm1"
[[requests]]
at_s = 1
action = "migrate"
server = "vm{servers}"
"#
    );
    let sc = novasim::scenario::parse_str(&text, "timeline-selection.toml", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = Folder(temp_dir("selection"));
    run_to_dir(sc, &dir.0).unwrap_or_else(|e| panic!("{e}"));
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.0.join("timeline.json")).expect("timeline.json"),
    )
    .expect("JSON");
    assert_eq!(
        doc["otherData"]["left_out"].as_str().expect("left_out"),
        format!(
            "30 hosts and 20 servers: only the first {MAX_HOSTS} hosts and {MAX_SERVERS} \
             servers in declaration order have tracks"
        )
    );
    let processes: Vec<&str> = doc["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(processes.len(), MAX_HOSTS + MAX_SERVERS);
    assert!(processes.contains(&"server vm1") && processes.contains(&"host cmp1"));
    assert!(!processes.contains(&format!("server vm{servers}").as_str()));
    assert!(!processes.contains(&"API (no server)"));
}

// ------------------------------------------------------------------ diff

#[test]
fn diff_of_a_folder_with_itself_is_identical() {
    let run = run("teaching");
    let report = analysis::diff(&run.0, &run.0).expect("diff");
    assert!(report.is_identical());
    assert!(report.to_string().contains("identical"));
    let out = novasim()
        .arg("diff")
        .arg(&run.0)
        .arg(&run.0)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("identical"));
}

#[test]
fn diff_finds_a_planted_transition_change() {
    let run = run("teaching");
    let planted = copy(&run.0, "planted");
    let path = planted.0.join("transitions.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let row = "35.190,req-1,vm1,h1,active,resize_migrating";
    assert!(
        text.contains(row),
        "teaching changed: update the planted row"
    );
    std::fs::write(
        &path,
        text.replacen(row, "35.290,req-1,vm1,h1,active,resize_migrating", 1),
    )
    .expect("write");
    let line = text.lines().position(|l| l.starts_with(row)).expect("row") + 1;

    let report = analysis::diff(&run.0, &planted.0).expect("diff");
    assert!(!report.is_identical());
    let t = report.transitions.as_ref().expect("transitions differ");
    assert_eq!(t.line, line);
    assert_eq!(
        t.columns,
        [(
            "time_s".to_string(),
            "35.190".to_string(),
            "35.290".to_string()
        )]
    );
    let shown = report.to_string();
    assert!(shown.contains(&format!("line {line}")), "{shown}");
    assert!(shown.contains("35.290"), "{shown}");
    // Context rows before the difference are shown.
    assert!(shown.contains("same on both sides"), "{shown}");

    let out = novasim()
        .arg("diff")
        .arg(&run.0)
        .arg(&planted.0)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("35.290"));
}

#[test]
fn diff_lists_a_changed_summary_figure_by_path() {
    let run = run("teaching");
    let changed = copy(&run.0, "summary");
    let path = changed.0.join("summary.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let figure = "\"p50_ms\": 28210";
    assert!(text.contains(figure));
    std::fs::write(&path, text.replacen(figure, "\"p50_ms\": 30000", 1)).expect("write");

    let report = analysis::diff(&run.0, &changed.0).expect("diff");
    assert!(report.transitions.is_none());
    assert_eq!(report.summary.len(), 1);
    let c = &report.summary[0];
    assert_eq!(c.path, "actions.migrate.completion_latency.p50_ms");
    assert_eq!(
        (c.old.as_deref(), c.new.as_deref()),
        (Some("28210"), Some("30000"))
    );
    let shown = report.to_string();
    assert!(
        shown.contains("actions.migrate.completion_latency.p50_ms: 28210 → 30000"),
        "{shown}"
    );
}

#[test]
fn diff_reports_other_files_and_fails_cleanly_on_missing_input() {
    let run = run("teaching");
    let changed = copy(&run.0, "hosts");
    let path = changed.0.join("hosts.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replacen("enabled/up", "disabled/up", 1)).expect("write");
    let report = analysis::diff(&run.0, &changed.0).expect("diff");
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].file, "hosts.csv");
    assert_eq!(report.files[0].line, 2);

    // A column only one side has (a newer simulator) is reported once, not in every row.
    let wider = copy(&run.0, "wider");
    let path = wider.0.join("requests.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let with_column: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "extra" } else { "" }))
        .collect();
    std::fs::write(&path, with_column).expect("write");
    let report = analysis::diff(&run.0, &wider.0).expect("diff");
    assert_eq!(report.files.len(), 1);
    let d = &report.files[0];
    assert_eq!(
        (d.differing, d.only_b.as_slice()),
        (0, &["extra".to_string()][..])
    );
    assert!(report.to_string().contains("columns only in B: extra"));

    let missing = temp_dir("missing");
    let out = novasim()
        .arg("diff")
        .arg(&run.0)
        .arg(&missing)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no such results folder"), "{err}");

    std::fs::remove_file(changed.0.join("scheduling.csv")).expect("rm");
    assert!(matches!(
        analysis::diff(&run.0, &changed.0),
        Err(AnalysisError::MissingFile(_))
    ));
    let out = novasim()
        .arg("diff")
        .arg(&run.0)
        .arg(&changed.0)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

// ------------------------------------------------------------------ explain

#[test]
fn explain_tells_a_confirmed_cold_migration() {
    let run = run("teaching");
    let story = analysis::explain(&run.0, "vm1")
        .expect("explain")
        .to_string();
    for needle in [
        "10.050 s [API] The admin's migrate request (req-1",
        "accepted (202): task_state resize_prep, status RESIZE",
        "The scheduler chose h2 (alternates: h3)",
        "h1 (the source host is excluded)",
        "VERIFY_RESIZE: the server now holds capacity on both h1 and h2",
        "confirmResize request (req-6",
        "migration mig-0 confirmed",
        "vm1 is ACTIVE on h2",
    ] {
        assert!(story.contains(needle), "missing {needle:?} in:\n{story}");
    }
    // In time order.
    let times: Vec<u64> = story
        .lines()
        .filter_map(|l| l.split(" s [").next())
        .filter_map(|t| analysis::parse_time(t.trim()))
        .map(|t| t.ms())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{story}");

    let auto = analysis::explain(&run.0, "vm3")
        .expect("explain")
        .to_string();
    assert!(auto.contains("_poll_unconfirmed_resizes"), "{auto}");
    assert!(auto.contains("no user or project"), "{auto}");
    let rejected = analysis::explain(&run.0, "vm4")
        .expect("explain")
        .to_string();
    assert!(rejected.contains("rejected with 403"), "{rejected}");
}

#[test]
fn explain_tells_reschedules_and_the_final_error() {
    let run = run("regress-reschedule");
    let story = analysis::explain(&run.0, "vm2")
        .expect("explain")
        .to_string();
    for needle in [
        "Reschedule #1: prep_resize failed on h2",
        "Reschedule #2: prep_resize failed on h4",
        "MaxRetriesExceeded",
        "Status ACTIVE → ERROR",
        "h5's compute_prep_resize event ended Error: Unexpected error while claiming",
        "vm2 is ERROR on h1",
    ] {
        assert!(story.contains(needle), "missing {needle:?} in:\n{story}");
    }
}

#[test]
fn explain_of_an_unknown_server_lists_the_known_ones() {
    let run = run("teaching");
    match analysis::explain(&run.0, "nope") {
        Err(AnalysisError::UnknownServer { known, .. }) => {
            assert_eq!(known, ["vm1", "vm2", "vm3", "vm4", "vm5"]);
        }
        other => panic!("expected UnknownServer, got {other:?}"),
    }
    let out = novasim()
        .arg("explain")
        .arg(&run.0)
        .args(["--server", "nope"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("vm1, vm2, vm3, vm4, vm5"), "{err}");
}
