//! Issue 10: requests that arrive at any instant of another operation. A step for an operation
//! that moved on never applies (it is dropped, counted in the run's stats), and every run here
//! is checked by the invariant checker after every instant (debug builds: see
//! `novasim::sim::Checks`), so a broken allocation or a reopened migration fails the test.

use super::support::{cloud, run, run_checked, Results};

/// Two servers on h1 and a live-migration setup whose phases are long enough to aim at:
/// preparing 10.25–16.29 s (pre_live_migration 5 s), the libvirt job from 16.29 s (to ≈ 61 s
/// when it converges), and a 30 s
/// `_post_live_migration` on the source once the job ended. One job at a time per source, so
/// vm2 waits `queued` until vm1 is done.
fn live_cloud(post_copy: bool, requests: &str) -> String {
    let transfer = if post_copy {
        // Never converges: the completion timeout forces post-copy at 20.79 s.
        "[nova.libvirt]\nlive_migration_completion_timeout = 1\n\
         live_migration_timeout_action = \"force_complete\"\nlive_migration_permit_post_copy = true\n\
         [live_migration]\nshared_storage = true\nbandwidth_mib_s = 100\ndirty_rate_mib_s = 200\n"
    } else {
        "[live_migration]\nshared_storage = true\nbandwidth_mib_s = 100\ndirty_rate_mib_s = 10\n"
    };
    cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h1")],
        &format!(
            "[nova.DEFAULT]\nmax_concurrent_live_migrations = 1\n{transfer}\
             [steps]\npre_live_migration = {{ dist = \"constant\", ms = 5000 }}\n\
             post_live_migration = {{ dist = \"constant\", ms = 30000 }}\n\
             [[requests]]\nname = \"live-vm1\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\n\
             [[requests]]\nname = \"live-vm2\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm2\"\n\
             {requests}"
        ),
    )
}

fn abort_at(server: &str, at_s: f64) -> String {
    format!(
        "[[requests]]\nname = \"abort\"\nat_s = {at_s}\naction = \"abortLiveMigration\"\n\
         server = \"{server}\"\n"
    )
}

/// The migration statuses a server's rows show, in order, without repeats.
fn migration_statuses(r: &Results, server: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in r.transitions.iter().filter(|row| row["server"] == server) {
        let s = &row["migration_status"];
        if !s.is_empty() && out.last() != Some(s) {
            out.push(s.clone());
        }
    }
    out
}

fn abort_event(r: &Results, server: &str) -> String {
    r.events(server)
        .into_iter()
        .find(|e| e.contains("compute_live_migration_abort"))
        .unwrap_or_default()
}

/// Where a server ended: "status @host".
fn ended(r: &Results, server: &str) -> String {
    let last = r.last(server);
    format!("{} @{}", last["status"], last["host"])
}

/// Abort while queued (2.65+, `ComputeManager.live_migration_abort` pops it from
/// `_waiting_live_migrations` and cancels the future): `cancelled`, back ACTIVE on the source,
/// vm1 unaffected.
#[test]
fn abort_while_queued_cancels_without_touching_the_running_job() {
    let r = run(&live_cloud(false, &abort_at("vm2", 12.0)));
    assert_eq!(
        migration_statuses(&r, "vm2"),
        ["accepted", "queued", "cancelled"]
    );
    assert_eq!(ended(&r, "vm2"), "ACTIVE @h1");
    assert!(abort_event(&r, "vm2").contains("Success"));
    assert_eq!(r.last("vm1")["migration_status"], "completed");
    assert_eq!(r.request("abort")["outcome"], "success");
}

/// Abort while preparing: `_do_live_migration` finds itself popped after pre_live_migration
/// and rolls back with `cancelled` (spec §4.8 step 14).
#[test]
fn abort_while_preparing_stops_before_the_transfer() {
    let r = run(&live_cloud(false, &abort_at("vm1", 12.0)));
    assert_eq!(
        migration_statuses(&r, "vm1"),
        ["accepted", "queued", "preparing", "cancelled"]
    );
    assert_eq!(ended(&r, "vm1"), "ACTIVE @h1");
    // The slot is freed: vm2 runs and completes.
    assert_eq!(r.last("vm2")["migration_status"], "completed");
}

/// Abort while the libvirt job runs: `abortJob()`, job CANCELLED, rollback `cancelled`.
#[test]
fn abort_while_running_cancels_the_job() {
    let r = run(&live_cloud(false, &abort_at("vm1", 18.0)));
    assert_eq!(
        migration_statuses(&r, "vm1"),
        ["accepted", "queued", "preparing", "running", "cancelled"]
    );
    assert_eq!(ended(&r, "vm1"), "ACTIVE @h1");
    assert!(abort_event(&r, "vm1").contains("Success"));
    // The rollback names the API's abort, not a completion timeout (the job is CANCELLED in
    // both cases; only `live_migration_abort` called `abortJob()` here).
    let steps: Vec<&str> = r
        .transitions
        .iter()
        .filter(|row| row["server"] == "vm1")
        .map(|row| row["step"].as_str())
        .collect();
    assert!(
        steps.contains(
            &"_rollback_live_migration (aborted by the API: job cancelled): task_state None"
        ),
        "{steps:?}"
    );
}

/// Issue 10, case 1: the job was to switch to post-copy at 20.79 s. Aborted before, the switch
/// must never fire: the migration stays `cancelled`, the server ACTIVE on the source, and the
/// step is dropped (counted).
#[test]
fn abort_before_a_scheduled_post_copy_switch_voids_the_switch() {
    let text = live_cloud(true, &abort_at("vm1", 18.0));
    let r = run(&text);
    assert_eq!(
        migration_statuses(&r, "vm1"),
        ["accepted", "queued", "preparing", "running", "cancelled"]
    );
    assert_eq!(ended(&r, "vm1"), "ACTIVE @h1");
    // The switch fired and was dropped, not merely never scheduled.
    let scenario = novasim::scenario::parse_str(&text, "t.toml", &[]).expect("scenario");
    let mut sim = novasim::sim::Sim::new(scenario, novasim::trace::writer::TraceWriter::discard())
        .expect("sim");
    sim.run().expect("run");
    assert_eq!(sim.stats().stale_steps, 1);
}

/// Once in post-copy the migration is no longer `running`: the API refuses the abort (400,
/// `InvalidMigrationState` in `API.live_migrate_abort`) and the migration completes.
#[test]
fn abort_in_post_copy_is_refused_by_the_api() {
    let r = run(&live_cloud(true, &abort_at("vm1", 30.0)));
    assert_eq!(r.request("abort")["http_code"], "400");
    assert_eq!(r.last("vm1")["migration_status"], "completed");
    assert_eq!(ended(&r, "vm1"), "ACTIVE @h2");
}

/// Issue 10, case 2: the job ended (the migration stays `running` until the source's
/// `_post_live_migration` is done). Nova's `live_migration_abort` reaches
/// `driver.live_migration_abort`, whose `abortJob()` finds no job: the event fails, the
/// migration goes on and completes; the server ends on the destination with its allocation
/// there only (the invariant checker verifies the allocations).
#[test]
fn abort_after_the_job_ended_fails_and_the_migration_completes() {
    let r = run(&live_cloud(false, &abort_at("vm1", 75.0)));
    assert_eq!(r.request("abort")["http_code"], "202");
    assert_eq!(r.request("abort")["outcome"], "failure");
    let ev = abort_event(&r, "vm1");
    assert!(ev.contains("Error"), "{ev}");
    let detail = r
        .actions
        .iter()
        .find(|a| a["event"] == "compute_live_migration_abort")
        .map(|a| a["details"].clone())
        .unwrap_or_default();
    assert!(detail.contains("no job is active"), "{detail}");
    assert_eq!(
        migration_statuses(&r, "vm1"),
        ["accepted", "queued", "preparing", "running", "completed"]
    );
    assert_eq!(ended(&r, "vm1"), "ACTIVE @h2");
    let usage = r.final_vcpus();
    // vm2 moved to h3 afterwards: h1 holds nothing, vm1 is counted once, on h2.
    assert_eq!((usage["h1"], usage["h2"]), (0, 2), "{usage:?}");
}

/// After completion the server is no longer migrating: 409 from the API.
#[test]
fn abort_after_completion_is_refused() {
    let r = run(&live_cloud(false, &abort_at("vm1", 200.0)));
    assert_eq!(r.request("abort")["http_code"], "409");
    assert_eq!(r.last("vm1")["migration_status"], "completed");
}

/// Issue 10, case 1 (delete): the server is deleted while its job runs, before the planned
/// post-copy switch. The move's later steps, the switch included, never apply: the migration
/// ends `error` and stays so; the executor slot is freed for vm2.
#[test]
fn delete_during_the_transfer_voids_the_post_copy_switch() {
    let r = run(&live_cloud(
        true,
        "[[requests]]\nname = \"del\"\nat_s = 18\naction = \"delete\"\nserver = \"vm1\"\n",
    ));
    let statuses = migration_statuses(&r, "vm1");
    assert!(
        !statuses.contains(&"running (post-copy)".to_string()),
        "{statuses:?}"
    );
    assert_eq!(statuses.last().map(String::as_str), Some("error"));
    assert_eq!(r.last("vm1")["vm_state"], "deleted");
    assert_eq!(r.last("vm2")["migration_status"], "completed");
}

/// Issue 10, case 3: `post_live_migration_at_destination` clears the task_state, so a cold
/// migrate is accepted (as Nova accepts it) before the source finishes the live migration.
/// The source's completion must not clear the new move's migration: the cold migration reaches
/// VERIFY_RESIZE and confirmResize succeeds.
#[test]
fn a_cold_migrate_accepted_before_the_live_source_finishes_keeps_its_migration() {
    let text = cloud(
        3,
        &[("vm1", "h1")],
        "[live_migration]\nshared_storage = true\n\
         [latency]\ncompute = { dist = \"constant\", ms = 3000 }\n\
         [[requests]]\nname = \"live\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"cold\"\nat_s = PLACEHOLDER\naction = \"migrate\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"confirm\"\nat_s = 200\naction = \"confirmResize\"\nserver = \"vm1\"\n",
    );
    // Aim at the window between the destination's post step and the source's completion.
    let probe = run(&text.replace("PLACEHOLDER", "500"));
    let time_of = |step: &str| -> f64 {
        probe
            .transitions
            .iter()
            .find(|row| row["server"] == "vm1" && row["step"].contains(step))
            .map(|row| row["time_s"].parse().expect("time"))
            .unwrap_or_else(|| panic!("no step {step}"))
    };
    let (dst_done, src_done) = (
        time_of("post_live_migration_at_destination"),
        time_of("_post_live_migration: migration completed"),
    );
    assert!(src_done - dst_done > 1.0, "{dst_done} {src_done}");
    let at = dst_done + 0.5 - 0.05; // the API hop is 50 ms
    let r = run(&text.replace("PLACEHOLDER", &format!("{at:.3}")));
    assert_eq!(r.request("cold")["http_code"], "202");
    assert_eq!(
        r.request("confirm")["http_code"],
        "204",
        "{:?}",
        r.story("vm1")
    );
    assert_eq!(r.last("vm1")["migration_status"], "confirmed");
    assert_eq!(r.last("vm1")["status"], "ACTIVE");
}

/// Issue 10, case 4: a synchronous os-migrateLive (2.30: the API calls the conductor) whose
/// server is deleted while the conductor works. The conductor's task fails with
/// InstanceNotFound, which `MigrateServerController._migrate_live` answers 404.
#[test]
fn a_synchronous_live_migrate_of_a_deleted_server_is_answered() {
    let r = run(&cloud(
        3,
        &[("vm1", "h1")],
        "[latency]\nconductor = { dist = \"constant\", ms = 5000 }\n\
         [[requests]]\nname = \"live\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\nmicroversion = \"2.30\"\n\
         [[requests]]\nname = \"del\"\nat_s = 11\naction = \"delete\"\nserver = \"vm1\"\n",
    ));
    let live = r.request("live");
    assert_eq!(live["http_code"], "404", "{live:?}");
    assert!(live["message"].contains("could not be found"));
    assert_eq!(live["outcome"], "failure");
}

/// vm1 (to h2) holds h1's only executor slot, vm2 (to h3) waits `queued`; h2 stops at 30 s
/// during vm1's transfer (job ends ≈ 61 s, then a 30 s `_post_live_migration` before the call
/// to h2), then `extra`.
fn post_to_stopped_destination(extra: &str) -> String {
    cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h1")],
        &format!(
            "[nova.DEFAULT]\nmax_concurrent_live_migrations = 1\n\
             [live_migration]\nshared_storage = true\nbandwidth_mib_s = 100\ndirty_rate_mib_s = 10\n\
             [steps]\npre_live_migration = {{ dist = \"constant\", ms = 5000 }}\n\
             post_live_migration = {{ dist = \"constant\", ms = 30000 }}\n\
             [[requests]]\nname = \"live-vm1\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm1\"\nhost = \"h2\"\n\
             [[requests]]\nname = \"live-vm2\"\nat_s = 10\naction = \"os-migrateLive\"\nserver = \"vm2\"\nhost = \"h3\"\n\
             [[service_events]]\nat_s = 30\nhost = \"h2\"\nchange = \"stop\"\n{extra}"
        ),
    )
}

/// The destination of the job holding the only executor slot stops during its transfer:
/// `_post_live_migration`'s call to `post_live_migration_at_destination` gets no answer and
/// times out `rpc_response_timeout` (60 s) later. Nova only logs it (`ComputeManager.
/// _post_live_migration`: it "should never affect cleaning up source node"): vm1's migration is
/// `completed`, its source allocation deleted, vm1 left MIGRATING with host h1 (the destination
/// never set it) and its allocation on h2; `_do_live_migration` returns and the executor starts
/// the queued vm2, which completes. Before, the call waited forever at h2 and vm2 stayed
/// `queued` with nothing to release it.
#[test]
fn a_post_call_to_a_stopped_destination_times_out_and_frees_the_slot() {
    let r = run_checked(&post_to_stopped_destination(""));
    assert_eq!(
        migration_statuses(&r, "vm1"),
        ["accepted", "queued", "preparing", "running", "completed"]
    );
    let last = r.last("vm1");
    assert_eq!(
        last["step"],
        "_post_live_migration: post_live_migration_at_destination timed out, migration completed"
    );
    assert_eq!(
        (
            last["status"].as_str(),
            last["task_state"].as_str(),
            last["host"].as_str()
        ),
        ("MIGRATING", "migrating", "h1")
    );
    // The destination never ran its step: no event for it.
    assert!(!r
        .events("vm1")
        .iter()
        .any(|e| e.contains("post_live_migration_at_destination")));
    assert!(r.request("live-vm1")["outcome_detail"].starts_with("MessagingTimeout"));
    // vm2 starts once the slot is freed, and completes.
    let freed: f64 = last["time_s"].parse().expect("time");
    let started = r
        .transitions
        .iter()
        .find(|t| t["server"] == "vm2" && t["migration_status"] == "preparing")
        .expect("vm2 leaves the queue");
    assert_eq!(started["time_s"].parse::<f64>().expect("time"), freed);
    assert_eq!(
        migration_statuses(&r, "vm2"),
        ["accepted", "queued", "preparing", "running", "completed"]
    );
    assert_eq!(ended(&r, "vm2"), "ACTIVE @h3");
    assert_eq!(r.request("live-vm2")["outcome"], "success");
    // vm1's guest holds h2 (the instance's claim), vm2 h3; the source h1 holds nothing.
    let vcpus = r.final_vcpus();
    assert_eq!((vcpus["h1"], vcpus["h2"], vcpus["h3"]), (0, 2, 2));
}

/// As above, but the source h1 stops too (100 s) while its call waits at h2: the
/// `_do_live_migration` greenthread blocked in the call dies with the process, so no timeout
/// completes vm1's migration (and vm2's queued job dies with the executor). At restart (200 s)
/// `_init_instance` → `_reset_live_migration` sets vm1's `running` migration `error` and clears
/// both tasks; vm2's stays `queued` (Nova only resets a running one).
#[test]
fn a_source_stopped_while_its_post_call_waits_completes_nothing() {
    let r = run_checked(&post_to_stopped_destination(
        "[[service_events]]\nat_s = 100\nhost = \"h1\"\nchange = \"stop\"\n\
         [[service_events]]\nat_s = 200\nhost = \"h1\"\nchange = \"start\"\n",
    ));
    assert!(!r
        .transitions
        .iter()
        .any(|t| t["step"].contains("post_live_migration_at_destination timed out")));
    assert_eq!(
        migration_statuses(&r, "vm1"),
        ["accepted", "queued", "preparing", "running", "error"]
    );
    assert_eq!(migration_statuses(&r, "vm2"), ["accepted", "queued"]);
    for vm in ["vm1", "vm2"] {
        let last = r.last(vm);
        assert_eq!(
            (
                last["status"].as_str(),
                last["host"].as_str(),
                last["time_s"].as_str()
            ),
            ("ACTIVE", "h1", "200.000"),
            "{vm}"
        );
    }
    assert_eq!(r.request("live-vm1")["outcome"], "pending");
}

/// vm1 is deleted during its `_post_live_migration` (75 s, the job ended ≈ 61 s): the
/// destination's `post_live_migration_at_destination` then finds the instance gone
/// (InstanceNotFound on its save), `_do_live_migration` returns and frees the slot. The deleted
/// server is not brought back (it used to be saved ERROR on h2, and vm2's queued job, started
/// by the freed slot, was then taken for a live server's); vm2 runs and completes.
#[test]
fn a_delete_during_post_live_migration_frees_the_slot_without_reviving_the_server() {
    let r = run_checked(&live_cloud(
        false,
        "[[requests]]\nname = \"del\"\nat_s = 75\naction = \"delete\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.last("vm1")["status"], "DELETED");
    assert!(!r
        .transitions
        .iter()
        .any(|t| t["server"] == "vm1" && t["vm_state"] == "error"));
    assert_eq!(
        migration_statuses(&r, "vm2"),
        ["accepted", "queued", "preparing", "running", "completed"]
    );
    assert_eq!(r.last("vm2")["status"], "ACTIVE");
    assert_eq!(r.request("live-vm2")["outcome"], "success");
}

/// The interleaving the random test found (seed 5921357202721254, stein): two live migrations
/// of vm0 (the second accepted after an os-resetState), mig-0 to h1 holding the only slot on h2,
/// mig-1 queued behind it; h1 stops at 25 s during mig-0's transfer. mig-0's call to
/// `post_live_migration_at_destination` times out and `_post_live_migration` completes it,
/// freeing the slot: mig-1 runs and completes. Before, mig-1 stayed `queued` for ever.
#[test]
fn the_found_queued_behind_a_stopped_destination_interleaving_ends() {
    let r = run_checked(
        "name = \"interleave\"\nseed = 5921357202721254\nrelease = \"stein\"\n\
         [nova.DEFAULT]\nresize_confirm_window = 0\nmigrate_max_retries = 0\n\
         max_concurrent_live_migrations = 1\n[nova.scheduler]\nmax_attempts = 1\n\
         [nova.libvirt]\nlive_migration_completion_timeout = 2\n\
         live_migration_permit_post_copy = false\nlive_migration_timeout_action = \"force_complete\"\n\
         [live_migration]\nshared_storage = false\nbandwidth_mib_s = 100\ndirty_rate_mib_s = 0\n\
         [latency]\ncompute = { dist = \"uniform\", min_ms = 5, max_ms = 400 }\n\
         conductor = { dist = \"uniform\", min_ms = 5, max_ms = 300 }\n\
         [steps]\ndisk_copy = { dist = \"exponential\", mean_ms = 8000.0 }\n\
         pre_live_migration = { dist = \"uniform\", min_ms = 100, max_ms = 6000 }\n\
         post_live_migration = { dist = \"uniform\", min_ms = 100, max_ms = 6000 }\n\
         [[hosts]]\nname = \"h0\"\nvcpus = 4\nmemory_mb = 8192\ndisk_gb = 400\ncpu_allocation_ratio = 1.0\n\
         [[hosts]]\nname = \"h1\"\nvcpus = 4\nmemory_mb = 12121\ndisk_gb = 400\ncpu_allocation_ratio = 1.0\n\
         [[hosts]]\nname = \"h2\"\nvcpus = 4\nmemory_mb = 12122\ndisk_gb = 400\ncpu_allocation_ratio = 1.0\n\
         [[hosts]]\nname = \"h3\"\nvcpus = 4\nmemory_mb = 8192\ndisk_gb = 400\ncpu_allocation_ratio = 1.0\n\
         [[flavors]]\nname = \"f\"\nvcpus = 2\nmemory_mb = 2048\ndisk_gb = 20\n\
         [[requests]]\nat_s = 0\naction = \"create\"\nserver = \"vm0\"\nflavor = \"f\"\nproject = \"demo\"\n\
         [[requests]]\nname = \"lm-a\"\nat_s = 20.000\naction = \"os-migrateLive\"\nserver = \"vm0\"\nmicroversion = \"2.25\"\n\
         body = '{\"os-migrateLive\": {\"host\": null, \"block_migration\": true}}'\n\
         [[requests]]\nat_s = 20.000\naction = \"os-resetState\"\nserver = \"vm0\"\nmicroversion = \"2.1\"\nstate = \"active\"\n\
         [[requests]]\nname = \"lm-b\"\nat_s = 20.000\naction = \"os-migrateLive\"\nserver = \"vm0\"\nmicroversion = \"2.25\"\n\
         [[service_events]]\nat_s = 25\nhost = \"h1\"\nchange = \"stop\"\n",
    );
    let statuses: Vec<(String, String)> = r
        .transitions
        .iter()
        .filter(|t| t["server"] == "vm0" && !t["migration"].is_empty())
        .map(|t| (t["migration"].clone(), t["migration_status"].clone()))
        .collect();
    let final_status = |m: &str| {
        statuses
            .iter()
            .rev()
            .find(|(id, _)| id == m)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    };
    assert_eq!(final_status("mig-0"), "completed", "{statuses:?}");
    assert_eq!(final_status("mig-1"), "completed", "{statuses:?}");
    assert!(r.transitions.iter().any(|t| t["migration"] == "mig-0"
        && t["step"].contains("post_live_migration_at_destination timed out")));
    assert!(r.request("lm-b")["outcome_detail"].starts_with("MessagingTimeout"));
    assert_eq!(r.request("lm-a")["outcome"], "success");
    assert_eq!(ended(&r, "vm0"), "ACTIVE @h0");
}

/// Found by the random test (seed 823966468942627, rocky): a cold migrate accepted while a
/// delete confirms vm0's resize fails prep_resize with a reschedule and no alternate left; the
/// delete ends between the conductor's rollback (209.392 s) and the failed destination's return
/// (209.653 s). prep_resize's `_error_out_instance_on_exception` then saves nothing: the
/// instance is gone (`_set_instance_obj_error_state` logs InstanceNotFound). vm0 stays
/// DELETED; it used to be saved back ACTIVE on h1 with no allocation.
#[test]
fn a_prep_resize_failure_returning_after_the_delete_leaves_the_server_deleted() {
    let r = run_checked(
        r#"name = "interleave"
seed = 823966468942627
release = "rocky"
[nova.DEFAULT]
resize_confirm_window = 0
migrate_max_retries = 0
max_concurrent_live_migrations = 1
[nova.scheduler]
max_attempts = 2
[nova.libvirt]
live_migration_completion_timeout = 2
live_migration_permit_post_copy = false
[live_migration]
shared_storage = false
bandwidth_mib_s = 100
dirty_rate_mib_s = 0
[latency]
compute = { dist = "uniform", min_ms = 5, max_ms = 400 }
conductor = { dist = "uniform", min_ms = 5, max_ms = 300 }
[steps]
disk_copy = { dist = "exponential", mean_ms = 8000.0 }
pre_live_migration = { dist = "uniform", min_ms = 100, max_ms = 6000 }
post_live_migration = { dist = "uniform", min_ms = 100, max_ms = 6000 }
[[hosts]]
name = "h0"
vcpus = 4
memory_mb = 8192
disk_gb = 400
cpu_allocation_ratio = 1.0
[[hosts]]
name = "h1"
vcpus = 4
memory_mb = 8192
disk_gb = 400
cpu_allocation_ratio = 1.0
[[hosts]]
name = "h2"
vcpus = 4
memory_mb = 8192
disk_gb = 400
cpu_allocation_ratio = 1.0
[[flavors]]
name = "f"
vcpus = 2
memory_mb = 2048
disk_gb = 20
[[requests]]
at_s = 0
action = "create"
server = "vm0"
flavor = "f"
project = "demo"
[[requests]]
at_s = 27.640
action = "migrate"
server = "vm0"
microversion = "2.1"
[[requests]]
at_s = 20.000
action = "migrate"
server = "vm0"
microversion = "2.1"
[[requests]]
at_s = 20.000
action = "create"
server = "new2"
microversion = "2.1"
flavor = "f"
project = "demo"
[[requests]]
at_s = 20.061
action = "create"
server = "new3"
microversion = "2.1"
flavor = "f"
project = "demo"
[[requests]]
name = "migrate-3"
at_s = 208.193
action = "migrate"
server = "vm0"
microversion = "2.1"
[[requests]]
name = "del"
at_s = 204.498
action = "delete"
server = "vm0"
microversion = "2.1"
[[faults]]
step = "prep_resize"
probability = 0.12
kind = "error"
[[faults]]
step = "prep_resize"
probability = 0.35
kind = "rollback"
"#,
    );
    assert_eq!(r.last("vm0")["status"], "DELETED");
    assert!(!r
        .transitions
        .iter()
        .any(|t| t["server"] == "vm0" && t["step"] == "prep_resize failed"));
    assert_eq!(r.request("del")["outcome"], "success");
    assert_eq!(r.request("migrate-3")["outcome"], "failure");
    // Only new2 and new3 (2 vCPU each) hold anything: vm0 left nothing allocated.
    assert_eq!(r.final_vcpus().values().sum::<u64>(), 4);
}

/// Issue 10, case 5: the auto-confirm of a resize whose source compute stopped and never
/// starts again retries every minute forever (`_poll_unconfirmed_resizes`: "will retry
/// later"). Without `end_s` the run ends once only such retries are left, and says so.
#[test]
fn a_run_with_only_futile_auto_confirm_retries_left_ends() {
    let r = run(&cloud(
        2,
        &[("vm1", "h1")],
        "[nova.DEFAULT]\nresize_confirm_window = 60\n\
         [[requests]]\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n\
         [[service_events]]\nat_s = 50\nhost = \"h1\"\nchange = \"stop\"\n",
    ));
    let why = r.report.summary.ended_early.clone().expect("ended early");
    assert!(why.contains("auto-confirm"), "{why}");
    assert_eq!(r.last("vm1")["status"], "VERIFY_RESIZE");
    assert_eq!(r.last("vm1")["migration_status"], "finished");
}

mod random {
    //! Issue 10: random small clouds under random concurrent requests, at random instants and
    //! microversions, with random faults on every step and compute services stopped and
    //! started, under every release (18.0.0 to 33.0.0). Each case runs with the invariant checker after
    //! every instant (debug build) and its end-of-run rules; any violation, livelock or panic
    //! fails the case, and proptest shrinks it to a minimal scenario.

    use novasim::config::FaultStep;
    use novasim::scenario::parse_str;
    use novasim::sim::{Checks, Sim};
    use novasim::trace::writer::TraceWriter;
    use proptest::prelude::*;

    const ACTIONS: [&str; 11] = [
        "migrate",
        "os-migrateLive",
        "os-migrateLive",
        "confirmResize",
        "revertResize",
        "abortLiveMigration",
        "delete",
        "os-resetState",
        "create",
        "injectNetworkInfo",
        "migrate",
    ];
    const MICROVERSIONS: [&str; 9] = [
        "2.1", "2.24", "2.25", "2.30", "2.33", "2.34", "2.56", "2.65", "2.68",
    ];
    /// Every release, oldest first (index 0 has no `live_migration_timeout_action`).
    const RELEASES: [&str; 16] = [
        "rocky", "stein", "train", "ussuri", "victoria", "wallaby", "xena", "yoga", "zed",
        "2023.1", "2023.2", "2024.1", "2024.2", "2025.1", "2025.2", "2026.1",
    ];
    const CHANGES: [&str; 4] = ["disable", "enable", "stop", "start"];
    const KINDS: [&str; 3] = ["error", "rollback", "unexpected"];

    #[derive(Debug, Clone)]
    struct Request {
        at_ms: u64,
        action: usize,
        server: usize,
        microversion: usize,
        /// Live migration: 0 scheduler, 1 named host, 2 forced host (body), 3 block (body).
        variant: u8,
        host: usize,
    }

    #[derive(Debug, Clone)]
    struct Case {
        release: usize,
        hosts: Vec<(u64, u64)>,
        servers: usize,
        requests: Vec<Request>,
        faults: Vec<(usize, u8, usize)>,
        service: Vec<(u64, usize, usize)>,
        /// Every stopped compute starts again at 900 s (else some stay down for good).
        restart_all: bool,
        /// resize_confirm_window, migrate_max_retries, max_concurrent_live_migrations,
        /// max_attempts.
        knobs: (u64, u32, u32, u32),
        /// shared storage, dirty rate MiB/s, post-copy permitted, force_complete on timeout.
        live: (bool, u64, bool, bool),
        seed: u64,
    }

    fn request() -> impl Strategy<Value = Request> {
        (
            0u64..240_000,
            0..ACTIONS.len(),
            0usize..8,
            0..MICROVERSIONS.len() + 1,
            0u8..4,
            0usize..5,
        )
            .prop_map(
                |(at_ms, action, server, microversion, variant, host)| Request {
                    at_ms,
                    action,
                    server,
                    microversion,
                    variant,
                    host,
                },
            )
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            0..RELEASES.len(),
            proptest::collection::vec((4u64..17, 8192u64..32769), 2..5),
            1usize..6,
            proptest::collection::vec(request(), 0..20),
            proptest::collection::vec((0..FaultStep::ALL.len(), 10u8..101, 0..KINDS.len()), 0..4),
            proptest::collection::vec((0u64..300, 0usize..5, 0..CHANGES.len()), 0..4),
            any::<bool>(),
            (
                prop_oneof![Just(0u64), 20u64..200],
                0u32..3,
                1u32..3,
                1u32..4,
            ),
            (
                any::<bool>(),
                prop_oneof![Just(0u64), 10u64..200],
                any::<bool>(),
                any::<bool>(),
            ),
            any::<u64>(),
        )
            .prop_map(
                |(
                    release,
                    hosts,
                    servers,
                    requests,
                    faults,
                    service,
                    restart_all,
                    knobs,
                    live,
                    seed,
                )| {
                    Case {
                        release,
                        hosts,
                        servers,
                        requests,
                        faults,
                        service,
                        restart_all,
                        knobs,
                        live,
                        seed: seed % (1 << 53),
                    }
                },
            )
    }

    fn text(c: &Case) -> String {
        let (window, retries, concurrent, attempts) = c.knobs;
        let (shared, dirty, post_copy, force_complete) = c.live;
        let mut t = format!(
            "name = \"interleave\"\nseed = {}\nrelease = \"{}\"\n\
             [nova.DEFAULT]\nresize_confirm_window = {window}\nmigrate_max_retries = {retries}\n\
             max_concurrent_live_migrations = {concurrent}\n\
             [nova.scheduler]\nmax_attempts = {attempts}\n\
             [nova.libvirt]\nlive_migration_completion_timeout = 2\n\
             live_migration_permit_post_copy = {post_copy}\n{}\
             [live_migration]\nshared_storage = {shared}\nbandwidth_mib_s = 100\ndirty_rate_mib_s = {dirty}\n\
             [latency]\ncompute = {{ dist = \"uniform\", min_ms = 5, max_ms = 400 }}\n\
             conductor = {{ dist = \"uniform\", min_ms = 5, max_ms = 300 }}\n\
             [steps]\ndisk_copy = {{ dist = \"exponential\", mean_ms = 8000.0 }}\n\
             pre_live_migration = {{ dist = \"uniform\", min_ms = 100, max_ms = 6000 }}\n\
             post_live_migration = {{ dist = \"uniform\", min_ms = 100, max_ms = 6000 }}\n",
            c.seed,
            RELEASES[c.release],
            // The option exists from 19.0.0 (stein) on.
            match (c.release, force_complete) {
                (0, _) => "",
                (_, true) => "live_migration_timeout_action = \"force_complete\"\n",
                (_, false) => "live_migration_timeout_action = \"abort\"\n",
            },
        );
        for (i, (vcpus, mem)) in c.hosts.iter().enumerate() {
            t.push_str(&format!(
                "[[hosts]]\nname = \"h{i}\"\nvcpus = {vcpus}\nmemory_mb = {mem}\ndisk_gb = 400\n\
                 cpu_allocation_ratio = 1.0\n"
            ));
        }
        t.push_str("[[flavors]]\nname = \"f\"\nvcpus = 2\nmemory_mb = 2048\ndisk_gb = 20\n");
        // Servers are created at t = 0, so an over-full cloud is a NoValidHost, not a setup
        // error; later creates add vm<servers>… .
        for s in 0..c.servers {
            t.push_str(&format!(
                "[[requests]]\nat_s = 0\naction = \"create\"\nserver = \"vm{s}\"\nflavor = \"f\"\n\
                 project = \"demo\"\n"
            ));
        }
        let hosts = c.hosts.len();
        for (i, r) in c.requests.iter().enumerate() {
            let action = ACTIONS[r.action];
            let server = if action == "create" {
                format!("new{i}")
            } else {
                format!("vm{}", r.server % c.servers)
            };
            t.push_str(&format!(
                "[[requests]]\nat_s = {}.{:03}\naction = \"{action}\"\nserver = \"{server}\"\n",
                20 + r.at_ms / 1000,
                r.at_ms % 1000
            ));
            if let Some(mv) = MICROVERSIONS.get(r.microversion) {
                t.push_str(&format!("microversion = \"{mv}\"\n"));
            }
            let host = format!("h{}", r.host % hosts);
            match action {
                "create" => t.push_str("flavor = \"f\"\nproject = \"demo\"\n"),
                "os-resetState" => t.push_str(if r.variant % 2 == 0 {
                    "state = \"active\"\n"
                } else {
                    "state = \"error\"\n"
                }),
                "os-migrateLive" => match r.variant {
                    1 => t.push_str(&format!("host = \"{host}\"\n")),
                    2 => t.push_str(&format!(
                        "body = '{{\"os-migrateLive\": {{\"host\": \"{host}\", \"block_migration\": \"auto\", \"force\": true}}}}'\n"
                    )),
                    3 => t.push_str(
                        "body = '{\"os-migrateLive\": {\"host\": null, \"block_migration\": true}}'\n",
                    ),
                    _ => {}
                },
                "migrate" if r.variant == 1 => t.push_str(&format!("host = \"{host}\"\n")),
                _ => {}
            }
        }
        for (step, pct, kind) in &c.faults {
            t.push_str(&format!(
                "[[faults]]\nstep = \"{}\"\nprobability = {}\nkind = \"{}\"\n",
                FaultStep::ALL[*step].as_str(),
                f64::from(*pct) / 100.0,
                KINDS[*kind]
            ));
        }
        for (at, h, ch) in &c.service {
            t.push_str(&format!(
                "[[service_events]]\nat_s = {at}\nhost = \"h{}\"\nchange = \"{}\"\n",
                h % hosts,
                CHANGES[*ch]
            ));
        }
        if c.restart_all {
            for h in 0..hosts {
                t.push_str(&format!(
                    "[[service_events]]\nat_s = 900\nhost = \"h{h}\"\nchange = \"start\"\n"
                ));
            }
        }
        t
    }

    /// Cases per CI run: `NOVASIM_INTERLEAVINGS` overrides (e.g. 20000 for a soak).
    fn cases() -> u32 {
        std::env::var("NOVASIM_INTERLEAVINGS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000)
    }

    /// A soak (`NOVASIM_INTERLEAVINGS` set) runs each case in a child process with a time limit,
    /// so a run that never ends is reported with its scenario instead of hanging.
    fn config() -> ProptestConfig {
        let soak = std::env::var_os("NOVASIM_INTERLEAVINGS").is_some();
        ProptestConfig {
            cases: cases(),
            timeout: if soak { 20_000 } else { 0 },
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_interleaving_keeps_the_invariants(c in case()) {
            let text = text(&c);
            let scenario = parse_str(&text, "interleave.toml", &[])
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            let mut sim = Sim::new(scenario, TraceWriter::discard())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            sim.set_checks(Checks::On);
            sim.run().map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        }
    }
}
