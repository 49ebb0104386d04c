//! `novasim rally`: Rally's sample tasks run unchanged, each runner's start times in virtual
//! time, the polling lattice, SLA exit codes, deterministic exports, and bad input.
//! `tests/rally/*.yaml` are three real Rally sample tasks, copied unchanged; `tests/rally/const-cloud.toml` has constant latencies, so times can be computed
//! by hand.

use novasim::rally::profile::Era;
use novasim::rally::stats::{Atomic, Iteration};
use novasim::rally::{self, RallyOptions};
use novasim::run::Derived;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("novasim-rally-{tag}-{}-{n}", std::process::id()))
}

fn options(task: &Path, cloud: &str, out: &Path) -> RallyOptions {
    RallyOptions {
        task: task.to_path_buf(),
        cloud: PathBuf::from(cloud),
        task_args: None,
        task_args_file: None,
        out: Some(out.to_path_buf()),
        era: Era::Current,
        overrides: Vec::new(),
        derived: Derived::Skip,
    }
}

/// Writes `text` as a task file and runs it on the constant cloud.
fn run_text(tag: &str, text: &str, era: Era) -> (rally::RallyReport, PathBuf) {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let task = dir.join("task.yaml");
    std::fs::write(&task, text).unwrap();
    let out = dir.join("out");
    let mut o = options(&task, "tests/rally/const-cloud.toml", &out);
    o.era = era;
    let report = rally::run(&o).unwrap_or_else(|e| panic!("{e}"));
    (report, dir)
}

fn starts(report: &rally::RallyReport) -> Vec<u64> {
    let its = &report.result.workloads[0].iterations;
    let t0 = report.result.workloads[0].start_ms;
    its.iter().map(|i| i.timestamp_ms - t0).collect()
}

fn boot_and_delete(runner: &str) -> String {
    format!(
        "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario:\n    NovaServers.boot_and_delete_server:\n      flavor: {{name: m1.tiny}}\n      image: {{name: cirros}}\n  runner:\n    {runner}\n"
    )
}

/// One boot-and-delete iteration on the constant cloud, wall time: boot seen ACTIVE at the
/// GET of 7.05 s (answer 0.05 s + pre-poll 1 s + polls every 2 s; ACTIVE after ≈ 5.2 s), the
/// delete's 404 at the GET of 2.05 s.
const ITERATION_MS: u64 = 7_050 + 2_050;

#[test]
fn the_three_sample_tasks_run_unchanged() {
    for name in ["boot-and-delete", "boot-and-migrate", "resize-server"] {
        let task = PathBuf::from(format!("tests/rally/{name}.yaml"));
        let out = temp_dir(name);
        let report = rally::run(&options(&task, "scenarios/rally/cloud.toml", &out))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.result.pass_sla(), "{name}: SLA failed");
        for w in &report.result.workloads {
            assert_eq!(w.iterations.len(), 10, "{name}");
            assert!(
                w.iterations.iter().all(|i| !i.failed()),
                "{name}: {:?}",
                w.iterations
            );
        }
        for f in [
            "rally.json",
            "rally.html",
            "rally_stats.txt",
            "rally_w1.csv",
            "transitions.csv",
            "requests.csv",
        ] {
            assert!(out.join(f).is_file(), "{name}: no {f}");
        }
        let names: Vec<&str> = report.result.workloads[0]
            .rows
            .iter()
            .map(|r| r.display_name.as_str())
            .collect();
        let expected: &[&str] = match name {
            "boot-and-delete" => &["nova.boot_server", "nova.delete_server", "total"],
            "boot-and-migrate" => &[
                "nova.boot_server",
                "nova.migrate",
                "nova.resize_confirm",
                "nova.delete_server",
                "total",
            ],
            _ => &[
                "nova.boot_server",
                "nova.resize",
                "nova.resize_confirm",
                "nova.delete_server",
                "total",
            ],
        };
        assert_eq!(names, expected, "{name}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn the_resize_changes_the_flavor_in_placement_and_the_trace() {
    let out = temp_dir("resize-trace");
    rally::run(&options(
        Path::new("tests/rally/resize-server.yaml"),
        "tests/rally/const-cloud.toml",
        &out,
    ))
    .unwrap();
    let requests = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    assert_eq!(
        requests.lines().filter(|l| l.contains(",resize,")).count(),
        10,
        "{requests}"
    );
    let transitions = std::fs::read_to_string(out.join("transitions.csv")).unwrap();
    assert!(transitions.contains("finish_resize: flavor := new, task_state resize_finish"));
    // One `resize` instance action per iteration (a row per event of it).
    let actions = std::fs::read_to_string(out.join("instance_actions.csv")).unwrap();
    let resize_actions: std::collections::BTreeSet<&str> = actions
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("resize"))
        .filter_map(|l| l.split(',').nth(2))
        .collect();
    assert_eq!(resize_actions.len(), 10, "{actions}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn serial_runs_one_after_the_other() {
    let (r, dir) = run_text(
        "serial",
        &boot_and_delete("serial: {times: 3}"),
        Era::Current,
    );
    assert_eq!(starts(&r), [0, ITERATION_MS, 2 * ITERATION_MS]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn constant_keeps_concurrency_iterations_in_flight() {
    let (r, dir) = run_text(
        "constant",
        &boot_and_delete("constant: {times: 5, concurrency: 2}"),
        Era::Current,
    );
    let d = ITERATION_MS;
    assert_eq!(starts(&r), [0, 0, d, d, 2 * d]);
    let it = &r.result.workloads[0].iterations[0];
    assert_eq!((it.duration_ms, it.idle_ms), (ITERATION_MS - 1000, 1000));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn constant_for_duration_starts_while_time_is_left() {
    let (r, dir) = run_text(
        "cfd",
        &boot_and_delete("constant_for_duration: {duration: 10, concurrency: 1}"),
        Era::Current,
    );
    assert_eq!(starts(&r), [0, ITERATION_MS]);
    std::fs::remove_dir_all(dir).unwrap();
    // duration 0 runs exactly one iteration (`current_duration = -1`).
    let (r, dir) = run_text(
        "cfd0",
        &boot_and_delete("constant_for_duration: {duration: 0, concurrency: 3}"),
        Era::Current,
    );
    assert_eq!(starts(&r), [0]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rps_fixed_ramped_and_capped() {
    let (r, dir) = run_text(
        "rps",
        &boot_and_delete("rps: {times: 4, rps: 2}"),
        Era::Current,
    );
    assert_eq!(starts(&r), [0, 500, 1000, 1500]);
    std::fs::remove_dir_all(dir).unwrap();
    // rps(t) = min(1 + (t − 1), 3) = min(t, 3): start i waits until i / t ≤ t, t = √i s.
    let (r, dir) = run_text(
        "ramp",
        &boot_and_delete("rps: {times: 5, rps: {start: 1, end: 3, step: 1, duration: 1}}"),
        Era::Current,
    );
    assert_eq!(starts(&r), [0, 1000, 1415, 1733, 2000]);
    std::fs::remove_dir_all(dir).unwrap();
    // max_concurrency 1: the next start waits for the pool to empty.
    let (r, dir) = run_text(
        "cap",
        &boot_and_delete("rps: {times: 3, rps: 10, max_concurrency: 1}"),
        Era::Current,
    );
    assert_eq!(starts(&r), [0, ITERATION_MS, 2 * ITERATION_MS]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_runner_timeout_interrupts_the_iteration() {
    let (r, dir) = run_text(
        "timeout",
        &boot_and_delete("constant: {times: 1, timeout: 3}"),
        Era::Current,
    );
    let it = &r.result.workloads[0].iterations[0];
    assert_eq!(it.error[0], "ThreadTimeoutException");
    assert_eq!(it.error[1], "Iteration interrupted due to timeout.");
    assert_eq!((it.duration_ms, it.idle_ms), (2000, 1000));
    assert!(it.atomics[0].failed);
    assert!(!r.result.pass_sla());
    std::fs::remove_dir_all(dir).unwrap();
}

fn top(it: &Iteration, name: &str) -> u64 {
    let a: &Atomic = it
        .atomics
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no {name}"));
    a.finished_ms - a.started_ms
}

#[test]
fn durations_land_on_the_poll_lattice() {
    // After the call's answer (50 ms) and the pre-poll sleep, a wait lasts a whole number of
    // poll intervals: the status is read at once and then once per interval.
    for (era, boot_poll, boot_pre, resize_poll) in [
        (Era::Current, 2000, 1000, 4000),
        (Era::Legacy, 1000, 1000, 5000),
    ] {
        let out = temp_dir("lattice");
        let mut o = options(
            Path::new("tests/rally/resize-server.yaml"),
            "tests/rally/const-cloud.toml",
            &out,
        );
        o.era = era;
        let r = rally::run(&o).unwrap();
        for it in &r.result.workloads[0].iterations {
            let boot = top(it, "nova.boot_server");
            assert_eq!((boot - 50 - boot_pre) % boot_poll, 0, "{era:?} boot {boot}");
            let resize = top(it, "nova.resize");
            assert_eq!((resize - 50) % resize_poll, 0, "{era:?} resize {resize}");
            assert!(resize > 50, "the resize is never seen done at once");
            let confirm = top(it, "nova.resize_confirm");
            assert_eq!((confirm - 50) % 2000, 0, "{era:?} confirm {confirm}");
            let delete = top(it, "nova.delete_server");
            assert_eq!((delete - 50) % 2000, 0, "{era:?} delete {delete}");
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn a_wait_that_outlasts_its_timeout_fails_with_rallys_text() {
    // Boot takes 5 s; a boot step of 10 min exceeds nova_server_boot_timeout (300 s).
    let dir = temp_dir("slow");
    std::fs::create_dir_all(&dir).unwrap();
    let cloud = std::fs::read_to_string("tests/rally/const-cloud.toml")
        .unwrap()
        .replace(
            "boot = { dist = \"constant\", ms = 5000 }",
            "boot = { dist = \"constant\", ms = 600000 }",
        );
    std::fs::write(dir.join("cloud.toml"), cloud).unwrap();
    std::fs::write(dir.join("task.yaml"), boot_and_delete("serial: {times: 1}")).unwrap();
    let mut o = options(&dir.join("task.yaml"), "", &dir.join("out"));
    o.cloud = dir.join("cloud.toml");
    let r = rally::run(&o).unwrap();
    let it = &r.result.workloads[0].iterations[0];
    assert_eq!(it.error[0], "TimeoutException");
    assert_eq!(
        it.error[1],
        "Rally tired waiting 300.00 seconds for Server s_rally_00000000_00000001:s_rally_00000000_00000001 to become ('ACTIVE') current status BUILD"
    );
    // Polls at 1.05 + 2k s; `time.time() - start > timeout` after each sleep: 300 s is not
    // past the timeout (a GET follows), 302 s is.
    assert_eq!(top(it, "nova.boot_server"), 50 + 1000 + 302_000);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_json_export_is_deterministic() {
    let (a, b) = (temp_dir("det-a"), temp_dir("det-b"));
    for out in [&a, &b] {
        rally::run(&options(
            Path::new("tests/rally/boot-and-migrate.yaml"),
            "scenarios/rally/cloud.toml",
            out,
        ))
        .unwrap();
    }
    for f in [
        "rally.json",
        "rally_stats.txt",
        "rally_w1.csv",
        "transitions.csv",
        "requests.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("rally.json")).unwrap()).unwrap();
    let w = &json["tasks"][0]["subtasks"][0]["workloads"][0];
    assert_eq!(w["total_iteration_count"], 10);
    assert_eq!(w["statistics"]["durations"]["total"]["name"], "total");
    assert_eq!(
        w["statistics"]["durations"]["atomics"][1]["children"][0]["name"],
        "nova.list_hypervisors"
    );
    assert_eq!(w["sla_results"]["sla"][0]["criterion"], "failure_rate");
    assert_eq!(w["data"].as_array().unwrap().len(), 10);
    assert_eq!(json["info"]["format_version"], "1.2");
    // Rally's JSON is indented by 4; the HTML report has the same rows as the table.
    assert!(std::fs::read_to_string(a.join("rally.json"))
        .unwrap()
        .starts_with("{\n    \"info\": {"));
    let html = std::fs::read_to_string(a.join("rally.html")).unwrap();
    for row in [
        "nova.boot_server",
        "nova.migrate",
        "nova.list_hypervisors",
        "nova.resize_confirm",
        "idle_duration",
    ] {
        assert!(
            html.contains(&format!("{row}</td>")),
            "{row} not in rally.html"
        );
    }
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

fn cli(args: &[&str]) -> i32 {
    novasim::cli::main_with_args(
        std::iter::once("novasim")
            .chain(args.iter().copied())
            .map(Into::into),
    )
}

#[test]
fn a_failed_sla_exits_3_with_the_folder_written() {
    let dir = temp_dir("sla");
    std::fs::create_dir_all(&dir).unwrap();
    let task = dir.join("task.yaml");
    std::fs::write(&task, boot_and_delete("serial: {times: 2}\n  sla:\n    max_seconds_per_iteration: 5\n    failure_rate: {max: 0}")).unwrap();
    let out = dir.join("out");
    let code = cli(&[
        "rally",
        task.to_str().unwrap(),
        "--cloud",
        "tests/rally/const-cloud.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 3);
    assert!(out.join("rally.json").is_file());
    let json = std::fs::read_to_string(out.join("rally.json")).unwrap();
    assert!(
        json.contains("Maximum seconds per iteration 8.10s <= 5.00s - Failed"),
        "{json}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_is_one_clear_error_and_no_folder() {
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario:\n    NovaServers.boot_and_dance:\n      flavor: {name: m1.tiny}\n      image: {name: c}\n",
            ":6: subtasks[0].scenario: unknown scenario \"NovaServers.boot_and_dance\"",
        ),
        ("version: 2\ntitle: t\n{% for x in %}\nsubtasks: []\n", ":3: template error"),
        (
            "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario: {NovaServers.boot_and_delete_server: {flavor: {name: \"{{ flavor }}\"}, image: {name: c}}}\n",
            ":5: Please specify template task argument: flavor",
        ),
        (
            "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario: {NovaServers.boot_and_delete_server: {flavor: {name: m1.tiny}, image: {name: c}}}\n  runner: {constant: {times: 0}}\n",
            "subtasks[0].runner.times: must be an integer",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let task = dir.join(format!("task{i}.yaml"));
        std::fs::write(&task, text).unwrap();
        let out = dir.join(format!("out{i}"));
        let e = rally::run(&options(&task, "tests/rally/const-cloud.toml", &out))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&task.display().to_string()), "{e}");
        assert!(e.contains(needle), "expected {needle:?} in {e}");
        assert!(!e.contains('\n'), "one line: {e}");
        let code = cli(&[
            "rally",
            task.to_str().unwrap(),
            "--cloud",
            "tests/rally/const-cloud.toml",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(code, 1);
        assert!(!out.exists(), "no results folder for a bad task");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "half-written folder left: {leftovers:?}"
        );
    }
    assert_eq!(
        cli(&[
            "rally",
            "x.yaml",
            "--cloud",
            "tests/rally/const-cloud.toml",
            "--rally-profile",
            "1.0"
        ]),
        1
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn users_and_api_versions_contexts_shape_the_requests() {
    // The version is quoted: unquoted, YAML reads 2.30 as the number 2.3, and so does Rally.
    let task = "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario:\n    NovaServers.boot_and_live_migrate_server:\n      flavor: {name: m1.tiny}\n      image: {name: cirros}\n  runner: {constant: {times: 6, concurrency: 3}}\n  contexts:\n    users: {tenants: 3, users_per_tenant: 2, user_choice_method: round_robin}\n    api_versions@openstack: {nova: {version: \"2.30\"}}\n";
    let (r, dir) = run_text("ctx", task, Era::Current);
    assert!(
        r.result.pass_sla(),
        "{:?}",
        r.result.workloads[0].iterations
    );
    let requests = std::fs::read_to_string(r.dir.join("requests.csv")).unwrap();
    // Every call at the context's microversion; the live migration by the admin client.
    assert!(
        requests.lines().skip(1).all(|l| l.contains(",2.30,")),
        "{requests}"
    );
    assert_eq!(
        requests
            .lines()
            .filter(|l| l.contains(",os-migrateLive,") && l.contains(",admin,"))
            .count(),
        6
    );
    // Round robin over the tenants: iteration i boots in tenant ((i − 1) mod 3) + 1.
    let actions = std::fs::read_to_string(r.dir.join("instance_actions.csv")).unwrap();
    for (i, tenant) in [(1, 1), (2, 2), (3, 3), (4, 1), (5, 2), (6, 3)] {
        let server = format!("s_rally_00000000_{i:08x},create,");
        let row = actions
            .lines()
            .find(|l| l.starts_with(&server))
            .unwrap_or_else(|| panic!("{server}"));
        assert!(row.contains(&format!(",rally-tenant-{tenant},")), "{row}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `task` on the constant cloud with `extra` appended to the cloud file.
fn run_on(tag: &str, task: &str, extra_cloud: &str, era: Era) -> (rally::RallyReport, PathBuf) {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let cloud = std::fs::read_to_string("tests/rally/const-cloud.toml").unwrap() + extra_cloud;
    std::fs::write(dir.join("cloud.toml"), cloud).unwrap();
    std::fs::write(dir.join("task.yaml"), task).unwrap();
    let mut o = options(&dir.join("task.yaml"), "", &dir.join("out"));
    o.cloud = dir.join("cloud.toml");
    o.era = era;
    (rally::run(&o).unwrap_or_else(|e| panic!("{e}")), dir)
}

#[test]
fn failures_end_the_iteration_with_rallys_exception() {
    // An HTTP error: novaclient's exception, the open atomic action failed.
    let task = "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario:\n    NovaServers.resize_server:\n      flavor: {name: m1.tiny}\n      to_flavor: {name: m1.tiny}\n      image: {name: c}\n  runner: {serial: {times: 2}}\n";
    let (r, dir) = run_on("http", task, "", Era::Current);
    let w = &r.result.workloads[0];
    let it = &w.iterations[0];
    assert_eq!(it.error[0], "BadRequest");
    assert_eq!(
        it.error[1],
        "When resizing, instances must change flavor! (HTTP 400)"
    );
    assert!(it.atomics[1].failed && it.atomics[1].name == "nova.resize");
    let names: Vec<&str> = w.rows.iter().map(|r| r.display_name.as_str()).collect();
    assert_eq!(
        names,
        ["nova.boot_server", "nova.resize", "total"],
        "no <no-name-action>: the failure is inside nova.resize"
    );
    assert_eq!(w.rows[1].data.success, "0.0%");
    assert_eq!(
        w.sla[0].detail,
        "Failure rate criteria 0.00% <= 100.00% <= 0.00% - Failed"
    );
    std::fs::remove_dir_all(dir).unwrap();
    // A server that goes to ERROR while polled: GetResourceErrorStatus.
    let (r, dir) = run_on(
        "error",
        &boot_and_delete("serial: {times: 1}"),
        "[[faults]]\nstep = \"boot\"\n",
        Era::Current,
    );
    let it = &r.result.workloads[0].iterations[0];
    assert_eq!(it.error[0], "GetResourceErrorStatus");
    assert_eq!(
        it.error[1],
        "Resource <Server: s_rally_00000000_00000001> has ERROR status.\n Fault: Status in failure list {'ERROR'}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn legacy_live_migration_names_a_random_host_of_the_zone() {
    // Rally ≤ 0.9: `nova.find_host_to_migrate` picks the destination; the migration then
    // names it, and the host check after ACTIVE passes.
    let task = "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario:\n    NovaServers.boot_and_live_migrate_server:\n      flavor: {name: m1.tiny}\n      image: {name: c}\n  runner: {constant: {times: 8, concurrency: 4}}\n";
    let (r, dir) = run_on("find-host", task, "", Era::Legacy);
    let w = &r.result.workloads[0];
    assert!(
        w.iterations.iter().all(|i| !i.failed()),
        "{:?}",
        w.iterations
    );
    let names: Vec<&str> = w.rows.iter().map(|r| r.display_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "nova.boot_server",
            "nova.find_host_to_migrate",
            "nova.live_migrate",
            "nova.delete_server",
            "total"
        ]
    );
    // At 2.1 a named host is forced (below 2.30, spec §3.2 "Meaning of host"): the scheduler chose only the
    // boots' hosts, and every live migration went where Rally's pick sent it.
    let requests = std::fs::read_to_string(r.dir.join("requests.csv")).unwrap();
    assert_eq!(
        requests
            .lines()
            .filter(|l| l.contains(",os-migrateLive,") && l.contains(",success,"))
            .count(),
        8
    );
    let scheduling = std::fs::read_to_string(r.dir.join("scheduling.csv")).unwrap();
    assert!(
        scheduling
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(3) == Some("create")),
        "{scheduling}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rallys_published_migration_and_resize_samples_run_unchanged() {
    let mut ran = 0;
    for entry in std::fs::read_dir("tests/rally/published").unwrap() {
        let task = entry.unwrap().path();
        if !matches!(
            task.extension().and_then(|e| e.to_str()),
            Some("yaml" | "json")
        ) {
            continue;
        }
        let out = temp_dir("published");
        let mut opts = options(&task, "scenarios/rally/cloud.toml", &out);
        // A block migration needs local instance disks (InvalidLocalStorage on shared ones).
        if task.to_string_lossy().contains("block-migrate") {
            opts.overrides = vec!["live_migration.shared_storage=false".into()];
        }
        let r = rally::run(&opts).unwrap_or_else(|e| panic!("{}: {e}", task.display()));
        assert!(r.result.pass_sla(), "{}", task.display());
        ran += 1;
        std::fs::remove_dir_all(&out).unwrap();
    }
    assert_eq!(ran, 6);
}
