//! Issue 12: a compute process that stops loses the work it was doing; on restart
//! `ComputeManager.init_host` → `_init_instance` resets its instances; a caller blocked in an
//! RPC call to a stopped compute gets MessagingTimeout after `rpc_response_timeout`.
//! Latencies are the documented constant defaults (API 50 ms, CON 20, SCH 30, compute 20,
//! placement 10; disk copy 20 s, pre_live_migration 2 s).

use super::support::{cloud, run};

fn stop_start(host: &str, stop: f64, start: f64) -> String {
    format!(
        "[[service_events]]\nat_s = {stop}\nhost = \"{host}\"\nchange = \"stop\"\n\
         [[service_events]]\nat_s = {start}\nhost = \"{host}\"\nchange = \"start\"\n"
    )
}

/// The source dies during the disk copy (task resize_migrating): the copy is lost; at restart
/// `_init_instance` reverts the crashed migration (`driver.finish_revert_migration`), clears
/// the task; the migration stays `migrating` and both allocations stay — Nova's own leak.
#[test]
fn a_source_restart_during_the_disk_copy_reverts_the_crashed_migration() {
    let r = run(&cloud(
        3,
        &[("vm1", "h1")],
        &format!(
            "[[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n{}",
            stop_start("h1", 20.0, 100.0)
        ),
    ));
    let last = r.last("vm1");
    assert_eq!(
        (
            last["status"].as_str(),
            last["task_state"].as_str(),
            last["host"].as_str()
        ),
        ("ACTIVE", "", "h1")
    );
    assert_eq!(last["migration_status"], "migrating");
    assert_eq!(
        last["step"],
        "_init_instance: crashed migration reverted, task_state None"
    );
    assert_eq!(last["time_s"], "100.000");
    // The copy's completion (35.19 s) never applied: no row after the stop but the reset.
    assert!(!r
        .transitions
        .iter()
        .any(|t| t["server"] == "vm1" && t["migration_status"] == "post-migrating"));
    let vcpus = r.final_vcpus();
    assert_eq!((vcpus["h1"], vcpus["h2"]), (2, 2), "both allocations leak");
    assert_eq!(r.request("m")["outcome"], "pending");
}

/// The destination stops while it runs `pre_live_migration` (10.27–12.27 s), or before the
/// call reaches it: the source's call times out `rpc_response_timeout` (60 s) later;
/// `_do_live_migration` sets the migration `error` and rolls back; the server is ACTIVE on
/// the source without a task.
#[test]
fn pre_live_migration_to_a_stopped_destination_times_out() {
    for stop in ["11", "10.26"] {
        let r = run(&cloud(
            2,
            &[("vm1", "h1")],
            &format!(
                "[live_migration]\nshared_storage = true\n\
         [[service_events]]\nat_s = {stop}\nhost = \"h2\"\nchange = \"stop\"\n\
         [[requests]]\nname = \"lm\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\n"
            ),
        ));
        let rows: Vec<String> = r
            .transitions
            .iter()
            .filter(|t| t["server"] == "vm1")
            .map(|t| format!("{} {} {}", t["time_s"], t["migration_status"], t["step"]))
            .collect();
        let rollback = rows
            .iter()
            .find(|s| s.contains("pre_live_migration timed out"))
            .unwrap_or_else(|| panic!("{rows:?}"));
        let at: f64 = rollback.split(' ').next().unwrap().parse().unwrap();
        let stopped: f64 = stop.parse().unwrap();
        assert!(
            (60.0..60.1).contains(&(at - stopped.max(10.27))),
            "{rows:?}"
        );
        assert!(rows
            .iter()
            .any(|s| s.contains("error _do_live_migration: migration error")));
        let last = r.last("vm1");
        assert_eq!(
            (last["status"].as_str(), last["host"].as_str()),
            ("ACTIVE", "h1")
        );
        assert_eq!(last["task_state"], "");
    }
}

/// The conductor's `check_can_live_migrate_destination` call to a stopped host times out:
/// `_call_livem_checks_on_host` turns MessagingTimeout into a MigrationPreCheckError and
/// `_find_destination` tries the next host, which succeeds.
#[test]
fn a_check_call_to_a_stopped_destination_times_out_and_the_next_host_is_tried() {
    let r = run(&cloud(
        3,
        &[("vm1", "h1")],
        "[live_migration]\nshared_storage = true\n\
         [[hosts]]\nname = \"h0\"\nvcpus = 64\nmemory_mb = 262144\ndisk_gb = 5000\nperiodic_phase_s = 0\n\
         [[service_events]]\nat_s = 1\nhost = \"h0\"\nchange = \"stop\"\n\
         [[requests]]\nname = \"lm\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\n",
    ));
    let details: Vec<&str> = r
        .actions
        .iter()
        .filter(|a| {
            a["event"] == "conductor_live_migrate_instance" || a["details"].contains("Timeout")
        })
        .map(|a| a["details"].as_str())
        .collect();
    assert_eq!(
        r.last("vm1")["migration_status"],
        "completed",
        "{details:?}"
    );
    assert_ne!(r.last("vm1")["host"], "h0");
    // h0 (emptiest) was tried first, 60 s lost waiting for it.
    let completed: f64 = r.last("vm1")["time_s"].parse().unwrap();
    assert!(completed > 70.0, "{completed}");
}

/// A live migration whose source dies while the job runs: the job is lost; at restart
/// `_reset_live_migration` finds the migration `running`, aborts it and sets `error`, and
/// clears task_state migrating.
#[test]
fn a_source_restart_during_the_transfer_resets_the_live_migration() {
    let r = run(&cloud(
        2,
        &[("vm1", "h1")],
        &format!(
            "[live_migration]\nshared_storage = true\n\
             [[requests]]\nname = \"lm\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\n{}",
            stop_start("h1", 14.0, 30.0)
        ),
    ));
    let last = r.last("vm1");
    assert_eq!(last["step"], "_reset_live_migration: task_state None");
    assert_eq!(
        (
            last["status"].as_str(),
            last["host"].as_str(),
            last["migration_status"].as_str()
        ),
        ("ACTIVE", "h1", "error")
    );
}

/// A build in progress when its compute dies: `_init_instance` sets it ERROR at restart.
#[test]
fn a_build_interrupted_by_a_restart_errors_the_instance() {
    let r = run(&cloud(
        1,
        &[],
        &format!(
            "[[requests]]\nname = \"c\"\nat_s = 10\naction = \"create\"\nserver = \"new\"\nflavor = \"m1.small\"\n{}",
            stop_start("h1", 10.5, 50.0)
        ),
    ));
    let last = r.last("new");
    assert_eq!(
        (last["status"].as_str(), last["step"].as_str()),
        ("ERROR", "_init_instance: build interrupted, vm_state error")
    );
}

/// The source is stopped during the checks: the destination's `check_can_live_migrate_source`
/// call times out. Before 33.0.0 the destination re-raises MessagingTimeout, which the
/// conductor's `_live_migrate` does not expect: vm_state ERROR (bug 2044235). From 33.0.0
/// (dc51a4271b) it is a MigrationPreCheckError: the host is skipped, the server stays ACTIVE.
#[test]
fn a_source_check_timeout_errors_the_instance_before_33() {
    for (release, status) in [("32.0.0", "ERROR"), ("33.0.0", "ACTIVE")] {
        let text = cloud(
            2,
            &[("vm1", "h1")],
            "[live_migration]\nshared_storage = true\n\
             [[service_events]]\nat_s = 10.18\nhost = \"h1\"\nchange = \"stop\"\n\
             [[requests]]\nname = \"lm\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\n",
        )
        .replacen("seed = 1\n", &format!("seed = 1\nrelease = \"{release}\"\n"), 1);
        let r = run(&text);
        let last = r.last("vm1");
        assert_eq!(
            (last["status"].as_str(), last["migration_status"].as_str()),
            (status, "error"),
            "{release}"
        );
    }
}

/// The delete of a resized server calls the source's confirm_resize (`_confirm_resize_on_deleting`);
/// the source dies during the confirm: the API's call times out after `rpc_response_timeout`
/// and the DELETE answers 500, the server left in task_state deleting with its resize
/// unconfirmed.
#[test]
fn a_delete_whose_confirm_call_times_out_answers_500() {
    let r = run(&cloud(
        3,
        &[("vm1", "h1")],
        "[[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"del\"\nat_s = 100\naction = \"delete\"\nserver = \"vm1\"\n\
         [[service_events]]\nat_s = 101\nhost = \"h1\"\nchange = \"stop\"\n",
    ));
    let del = r.request("del");
    assert_eq!(del["http_code"], "500", "{del:?}");
    assert_eq!(del["answered_s"], "161.050");
    let last = r.last("vm1");
    assert_eq!(
        (
            last["status"].as_str(),
            last["task_state"].as_str(),
            last["migration_status"].as_str()
        ),
        ("VERIFY_RESIZE", "deleting", "finished")
    );
}
