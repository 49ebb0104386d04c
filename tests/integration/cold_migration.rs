//! One test per documented behaviour of the cold-migration family, naming its spec section.
//! Latencies are the documented constant defaults: API 50 ms, CON 20, SCH 30, compute 20,
//! placement 10; guest shutdown 5 s, disk copy 20 s, finish_migration 3 s, confirm 2 s,
//! revert destroy 2 s, finish_revert 3 s.

use super::support::{cloud, run, Results};

fn one_migration(extra: &str) -> Results {
    run(&cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h2")],
        &format!("[[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n{extra}"),
    ))
}

/// §4.1: every state change on its own hop, at the hand-computed time.
#[test]
fn success_timeline_spec_4_1() {
    let r = one_migration("");
    // h3 is emptier than h2 (which holds vm2), and h1 is the excluded source (§8.4).
    assert_eq!(
        r.story("vm1"),
        vec![
            "0.000 ACTIVE active/  @h1",
            "10.050 RESIZE active/resize_prep  @h1",
            "10.070 RESIZE active/resize_prep pre-migrating @h1",
            "10.190 RESIZE active/resize_prep migrating @h1",
            "10.190 RESIZE active/resize_migrating migrating @h1",
            "35.190 RESIZE active/resize_migrating post-migrating @h1",
            "35.190 RESIZE active/resize_migrated post-migrating @h3",
            "35.210 RESIZE active/resize_finish post-migrating @h3",
            "38.210 RESIZE active/resize_finish finished @h3",
            "38.210 VERIFY_RESIZE resized/ finished @h3",
        ]
    );
    let hops: Vec<&str> = r
        .transitions
        .iter()
        .filter(|t| t["server"] == "vm1")
        .map(|t| t["hop"].as_str())
        .collect();
    assert_eq!(
        hops,
        ["SCH", "API", "CON", "SRC", "SRC", "SRC", "SRC", "DST", "DST", "DST"]
    );
    let m = r.request("m");
    assert_eq!(
        (m["http_code"].as_str(), m["answered_s"].as_str()),
        ("202", "10.050")
    );
    assert_eq!(
        (m["completed_s"].as_str(), m["outcome"].as_str()),
        ("38.210", "success")
    );
    assert_eq!(
        r.events("vm1"),
        vec![
            "migrate conductor_migrate_server Success ",
            "migrate cold_migrate Success ",
            "migrate compute_prep_resize Success h3",
            "migrate compute_resize_instance Success h1",
            "migrate compute_finish_resize Success h3",
        ]
    );
}

/// §8.5: while VERIFY_RESIZE the server holds capacity on both hosts.
#[test]
fn verify_resize_holds_capacity_twice_spec_8_5() {
    let r = one_migration("");
    let last = r.final_vcpus();
    assert_eq!(last["h1"], 2, "M@SRC");
    assert_eq!(last["h3"], 2, "I@DST");
    let h1_migration: Vec<&str> = r
        .hosts
        .iter()
        .filter(|h| h["host"] == "h1")
        .map(|h| h["migration_vcpus"].as_str())
        .collect();
    assert_eq!(h1_migration.last(), Some(&"2"));
    assert_eq!(r.report.summary.peak_migration_vcpus, 2);
}

/// §4.5 and §3.3: confirm answers 204, the status stays VERIFY_RESIZE until SRC is done, then
/// the source allocation is deleted.
#[test]
fn confirm_spec_4_5() {
    let r = one_migration(
        "[[requests]]\nname = \"c\"\nat_s = 60\naction = \"confirmResize\"\nserver = \"vm1\"\nrole = \"member\"\n",
    );
    assert_eq!(r.request("c")["http_code"], "204");
    let tail: Vec<String> = r.story("vm1").into_iter().skip(10).collect();
    assert_eq!(
        tail,
        vec![
            "60.050 VERIFY_RESIZE resized/ confirming @h3",
            "62.070 VERIFY_RESIZE resized/ confirmed @h3",
            "62.070 ACTIVE active/ confirmed @h3",
        ]
    );
    assert_eq!(r.final_vcpus()["h1"], 0);
    assert_eq!(r.final_vcpus()["h3"], 2);
    assert!(r
        .events("vm1")
        .contains(&"confirmResize compute_confirm_resize Success h1".to_string()));
}

/// §3.3 row 6: a second confirm while the first is `confirming` is 400.
#[test]
fn second_confirm_is_400_spec_3_3() {
    let r = one_migration(
        "[[requests]]\nname = \"c1\"\nat_s = 60\naction = \"confirmResize\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"c2\"\nat_s = 61\naction = \"confirmResize\"\nserver = \"vm1\"\n",
    );
    assert_eq!(r.request("c1")["http_code"], "204");
    assert_eq!(r.request("c2")["http_code"], "400");
    assert_eq!(r.request("c2")["message"], "Instance has not been resized.");
}

/// §4.7 8a and §3.4: revert answers 202, REVERT_RESIZE, host back, allocation back to SRC.
#[test]
fn revert_spec_4_7() {
    let r = one_migration(
        "[[requests]]\nname = \"rv\"\nat_s = 60\naction = \"revertResize\"\nserver = \"vm1\"\n",
    );
    assert_eq!(r.request("rv")["http_code"], "202");
    let tail: Vec<String> = r.story("vm1").into_iter().skip(10).collect();
    assert_eq!(
        tail,
        vec![
            "60.050 REVERT_RESIZE resized/resize_reverting finished @h3",
            "60.050 REVERT_RESIZE resized/resize_reverting reverting @h3",
            "62.110 REVERT_RESIZE resized/resize_reverting reverted @h3",
            "62.130 REVERT_RESIZE resized/resize_reverting reverted @h1",
            "65.140 ACTIVE active/ reverted @h1",
        ]
    );
    assert_eq!(r.final_vcpus()["h1"], 2);
    assert_eq!(r.final_vcpus()["h3"], 0);
    let ev = r.events("vm1");
    assert!(ev.contains(&"revertResize compute_revert_resize Success h3".to_string()));
    assert!(ev.contains(&"revertResize compute_finish_revert_resize Success h1".to_string()));
}

/// §4.1 note and §4.7 8b: a stopped server moves as RESIZE, waits as VERIFY_RESIZE, and a revert
/// goes through powering-off to SHUTOFF. It has no guest shutdown to wait for.
#[test]
fn stopped_server_spec_4_1_and_4_7() {
    let text = cloud(3, &[("vm2", "h2")], "")
        + "[[servers]]\nname = \"vm1\"\nflavor = \"m1.small\"\nhost = \"h1\"\nvm_state = \"stopped\"\n\
           [[requests]]\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n\
           [[requests]]\nat_s = 60\naction = \"revertResize\"\nserver = \"vm1\"\n";
    let r = run(&text);
    let story = r.story("vm1");
    assert_eq!(story[1], "10.050 RESIZE stopped/resize_prep  @h1");
    assert!(
        story.contains(&"30.190 RESIZE stopped/resize_migrated post-migrating @h3".to_string()),
        "{story:#?}"
    );
    assert!(
        story.contains(&"33.210 VERIFY_RESIZE resized/ finished @h3".to_string()),
        "{story:#?}"
    );
    let n = story.len();
    assert_eq!(
        story[n - 2],
        "65.140 VERIFY_RESIZE resized/powering-off reverted @h1"
    );
    assert_eq!(story[n - 1], "65.140 SHUTOFF stopped/ reverted @h1");
}

/// §4.2: NoValidHost after the 202: server back to ACTIVE, migration error, conductor events
/// Error, allocation back on the source.
#[test]
fn no_valid_host_spec_4_2() {
    let r = run(&cloud(
        2,
        &[("vm1", "h1")],
        "[[service_events]]\nat_s = 0\nhost = \"h2\"\nchange = \"disable\"\n\
         [[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.request("m")["http_code"], "202");
    assert_eq!(r.request("m")["outcome"], "failure");
    assert!(r.request("m")["outcome_detail"].starts_with("NoValidHost"));
    assert_eq!(
        r.story("vm1")[1..].to_vec(),
        vec![
            "10.050 RESIZE active/resize_prep  @h1",
            "10.070 RESIZE active/resize_prep pre-migrating @h1",
            "10.140 RESIZE active/resize_prep error @h1",
            "10.140 ACTIVE active/ error @h1",
        ]
    );
    assert_eq!(
        r.events("vm1"),
        vec![
            "migrate conductor_migrate_server Error ",
            "migrate cold_migrate Error ",
        ]
    );
    assert!(r.actions.iter().all(|a| a["message"] == "Error"));
    assert_eq!(r.final_vcpus()["h1"], 2);
    assert_eq!(r.final_vcpus()["h2"], 0);
}

/// §4.3 / §11.2: a prep_resize failure is rescheduled to the next alternate; the failed host's
/// compute_prep_resize ends Success; new conductor events are recorded.
#[test]
fn reschedule_to_alternate_spec_4_3() {
    let r = run(&cloud(
        4,
        &[("vm1", "h1"), ("vm2", "h2")],
        "[[faults]]\nstep = \"prep_resize\"\nhost = \"h3\"\n\
         [[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.request("m")["outcome"], "success");
    assert_eq!(r.last("vm1")["host"], "h4");
    assert_eq!(r.last("vm1")["status"], "VERIFY_RESIZE");
    assert_eq!(
        r.events("vm1"),
        vec![
            "migrate conductor_migrate_server Success ",
            "migrate cold_migrate Success ",
            "migrate compute_prep_resize Success h3",
            "migrate conductor_migrate_server Success ",
            "migrate cold_migrate Success ",
            "migrate compute_prep_resize Success h4",
            "migrate compute_resize_instance Success h1",
            "migrate compute_finish_resize Success h4",
        ]
    );
    assert_eq!(r.final_vcpus()["h3"], 0);
    assert_eq!(r.final_vcpus()["h4"], 2);
}

/// §4.3 steps 3–4: alternates exhausted ⇒ MaxRetriesExceeded at CON (task None, ACTIVE for a
/// moment), then the original exception re-raised on DST ⇒ ERROR.
#[test]
fn alternates_exhausted_errors_the_server_spec_4_3() {
    let r = run(&cloud(
        4,
        &[("vm1", "h1")],
        "[[faults]]\nstep = \"prep_resize\"\n\
         [[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    let story = r.story("vm1");
    let statuses: Vec<&str> = story
        .iter()
        .map(|s| s.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(statuses.last(), Some(&"ERROR"));
    assert!(
        statuses.iter().rev().nth(1) == Some(&"ACTIVE"),
        "{story:#?}"
    );
    let prep: Vec<String> = r
        .events("vm1")
        .into_iter()
        .filter(|e| e.contains("prep_resize"))
        .collect();
    // max_attempts = 3: the selected host and two alternates.
    assert_eq!(
        prep,
        vec![
            "migrate compute_prep_resize Success h2",
            "migrate compute_prep_resize Success h3",
            "migrate compute_prep_resize Error h4",
        ]
    );
    assert_eq!(r.last("vm1")["migration_status"], "error");
    assert_eq!(r.final_vcpus()["h1"], 2);
    let con_errors = r
        .events("vm1")
        .iter()
        .filter(|e| e.contains("conductor_migrate_server Error"))
        .count();
    assert_eq!(con_errors, 1);
}

/// §4.3 step 4: with InstanceFaultRollback the server returns to its original state.
#[test]
fn rollback_fault_restores_state_spec_4_3() {
    let r = run(&cloud(
        4,
        &[("vm1", "h1")],
        "[[faults]]\nstep = \"prep_resize\"\nkind = \"rollback\"\n\
         [[requests]]\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.last("vm1")["status"], "ACTIVE");
    assert_eq!(r.last("vm1")["host"], "h1");
}

/// §4.3 step 5 and §5.2: a targeted host (2.56) has no retry: the first failure is final.
#[test]
fn targeted_host_is_not_rescheduled_spec_4_3() {
    let r = run(&cloud(
        4,
        &[("vm1", "h1")],
        "[[faults]]\nstep = \"prep_resize\"\nhost = \"h2\"\n\
         [[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\nmicroversion = \"2.56\"\nhost = \"h2\"\n",
    ));
    assert_eq!(r.last("vm1")["status"], "ERROR");
    let prep = r
        .events("vm1")
        .into_iter()
        .filter(|e| e.contains("prep_resize"))
        .count();
    assert_eq!(prep, 1);
    assert_eq!(
        r.events("vm1")
            .iter()
            .filter(|e| e.contains("conductor_migrate_server"))
            .count(),
        1
    );
}

/// §5.2: max_attempts = 1 disables rescheduling.
#[test]
fn max_attempts_one_no_reschedule_spec_5_2() {
    let r = run(&cloud(
        4,
        &[("vm1", "h1")],
        "[nova.scheduler]\nmax_attempts = 1\n[[faults]]\nstep = \"prep_resize\"\n\
         [[requests]]\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.last("vm1")["status"], "ERROR");
    assert_eq!(
        r.events("vm1")
            .iter()
            .filter(|e| e.contains("prep_resize"))
            .count(),
        1
    );
}

/// §4.4 row 1: resize_instance fails ⇒ ERROR on the source, DST freed, no reschedule.
#[test]
fn resize_instance_failure_spec_4_4() {
    let r = one_migration("[[faults]]\nstep = \"resize_instance\"\n");
    let last = r.last("vm1");
    assert_eq!(
        (
            last["status"].as_str(),
            last["host"].as_str(),
            last["migration_status"].as_str()
        ),
        ("ERROR", "h1", "error")
    );
    assert_eq!(r.final_vcpus()["h1"], 2);
    assert_eq!(r.final_vcpus()["h3"], 0);
    assert!(r
        .events("vm1")
        .contains(&"migrate compute_resize_instance Error h1".to_string()));
    assert_eq!(
        r.events("vm1")
            .iter()
            .filter(|e| e.contains("prep_resize"))
            .count(),
        1
    );
}

/// §4.4 row 2: finish_resize fails ⇒ ERROR on DST, source allocation deleted, I@DST kept.
#[test]
fn finish_resize_failure_spec_4_4() {
    let r = one_migration("[[faults]]\nstep = \"finish_resize\"\n");
    let last = r.last("vm1");
    assert_eq!(
        (last["status"].as_str(), last["host"].as_str()),
        ("ERROR", "h3")
    );
    assert_eq!(r.final_vcpus()["h1"], 0);
    assert_eq!(r.final_vcpus()["h3"], 2);
}

/// §3.1: the synchronous checks, each with its HTTP code.
#[test]
fn migrate_api_checks_spec_3_1() {
    let extra =
        "[[servers]]\nname = \"locked\"\nflavor = \"m1.small\"\nhost = \"h1\"\nlocked = true\n\
        [[servers]]\nname = \"other\"\nflavor = \"m1.small\"\nhost = \"h1\"\nproject = \"alt\"\n\
        [[service_events]]\nat_s = 0\nhost = \"h3\"\nchange = \"stop\"\n\
        [[servers]]\nname = \"on-h3\"\nflavor = \"m1.small\"\nhost = \"h3\"\n\
        [[servers]]\nname = \"gone\"\nflavor = \"m1.small\"\nhost = \"h2\"\n\
        [[requests]]\nat_s = 1\naction = \"delete\"\nserver = \"gone\"\n";
    let reqs = [
        (
            "bad-body",
            "vm1",
            "admin",
            "2.56",
            "body = '{\"migrate\": {\"host\": \"h2\", \"x\": 1}}'",
        ),
        (
            "old-mv-ignores-host",
            "vm1",
            "admin",
            "2.55",
            "body = '{\"migrate\": {\"host\": \"nope\"}}'",
        ),
        ("deleted", "gone", "admin", "2.56", ""),
        (
            "other-project",
            "other",
            "member",
            "2.56",
            "project = \"demo\"",
        ),
        ("member", "vm2", "member", "2.56", ""),
        (
            "manager-with-host",
            "vm2",
            "manager",
            "2.56",
            "host = \"h2\"",
        ),
        ("locked-manager", "locked", "manager", "2.56", ""),
        ("locked-admin", "locked", "admin", "2.56", ""),
        ("busy", "vm1", "admin", "2.56", ""),
        ("source-down", "on-h3", "admin", "2.56", ""),
        ("same-host", "vm2", "admin", "2.56", "host = \"h1\""),
        (
            "no-such-host",
            "vm2",
            "admin",
            "2.56",
            "body = '{\"migrate\": {\"host\": \"h9\"}}'",
        ),
    ];
    let mut text = cloud(3, &[("vm1", "h1"), ("vm2", "h1")], extra);
    for (i, (name, server, role, mv, more)) in reqs.iter().enumerate() {
        let at = if *name == "source-down" {
            100
        } else {
            10 + i as u64
        };
        text.push_str(&format!(
            "[[requests]]\nname = \"{name}\"\nat_s = {at}\naction = \"migrate\"\nserver = \"{server}\"\nrole = \"{role}\"\nmicroversion = \"{mv}\"\n{more}\n"
        ));
    }
    let r = run(&text);
    let code = |n: &str| r.request(n)["http_code"].clone();
    assert_eq!(code("bad-body"), "400");
    assert_eq!(code("old-mv-ignores-host"), "202");
    assert_eq!(code("deleted"), "404");
    assert_eq!(code("other-project"), "404");
    assert_eq!(code("member"), "403");
    assert_eq!(code("manager-with-host"), "403");
    assert_eq!(code("locked-manager"), "409");
    assert_eq!(code("locked-admin"), "202");
    assert_eq!(code("busy"), "409");
    assert_eq!(
        r.request("busy")["message"],
        "Cannot 'migrate' instance vm1 while it is in task_state resize_migrating"
    );
    assert_eq!(code("source-down"), "409");
    assert_eq!(code("same-host"), "400");
    assert_eq!(code("no-such-host"), "400");
}

/// §3.3 row 7 and §3.4: confirm needs the source compute up, revert does not.
#[test]
fn confirm_needs_source_up_revert_does_not_spec_3_3_3_4() {
    let r = one_migration(
        "[[service_events]]\nat_s = 40\nhost = \"h1\"\nchange = \"stop\"\n\
         [[requests]]\nname = \"c\"\nat_s = 120\naction = \"confirmResize\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"rv\"\nat_s = 121\naction = \"revertResize\"\nserver = \"vm1\"\n\
         [[service_events]]\nat_s = 200\nhost = \"h1\"\nchange = \"start\"\n",
    );
    assert_eq!(r.request("c")["http_code"], "409");
    assert_eq!(r.request("rv")["http_code"], "202");
    // finish_revert_resize waits on h1 until its compute starts again at 200 s.
    let rv = r.request("rv");
    let done: f64 = rv["completed_s"].parse().expect("completed");
    assert!(done >= 200.0, "{rv:?}");
    assert_eq!(r.last("vm1")["status"], "ACTIVE");
}

/// §4.1 + §3.1 row 9: confirm/revert on a server that is not resized are 409.
#[test]
fn confirm_revert_need_resized_spec_3_3() {
    let r = run(&cloud(
        2,
        &[("vm1", "h1")],
        "[[requests]]\nname = \"c\"\nat_s = 1\naction = \"confirmResize\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"rv\"\nat_s = 2\naction = \"revertResize\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.request("c")["http_code"], "409");
    assert_eq!(
        r.request("rv")["message"],
        "Cannot 'revertResize' instance vm1 while it is in vm_state active"
    );
}

/// §6.3: auto-confirm at the first tick at or after finished + window (inclusive).
#[test]
fn auto_confirm_first_tick_at_or_after_window_spec_6_3() {
    // finished at 38.210 on h3 (phase 0): due 38.210 + 81.790 = 120.000, a tick exactly.
    let mut text = one_migration_text();
    text = text.replace(
        "name = \"t\"\nseed = 1\n",
        "name = \"t\"\nseed = 1\n[nova.DEFAULT]\nresize_confirm_window = 81.79\n",
    );
    let r = run(&text);
    let story = r.story("vm1");
    assert!(
        story.contains(&"120.000 VERIFY_RESIZE resized/ confirming @h3".to_string()),
        "{story:#?}"
    );
    assert!(
        story.contains(&"122.020 ACTIVE active/ confirmed @h3".to_string()),
        "{story:#?}"
    );
    let auto = r
        .actions
        .iter()
        .find(|a| a["action"] == "confirmResize")
        .expect("auto-confirm action");
    assert_eq!(auto["project"], "", "periodic task: null project");
    // One millisecond more and it waits a whole period.
    let late = run(&one_migration_text().replace(
        "name = \"t\"\nseed = 1\n",
        "name = \"t\"\nseed = 1\n[nova.DEFAULT]\nresize_confirm_window = 81.791\n",
    ));
    assert!(late
        .story("vm1")
        .contains(&"180.000 VERIFY_RESIZE resized/ confirming @h3".to_string()));
}

fn one_migration_text() -> String {
    cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h2")],
        "[[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n",
    )
}

/// §6.1: resize_confirm_window = 0 disables auto-confirm; no tick is ever scheduled.
#[test]
fn window_zero_never_confirms_spec_6_1() {
    let r = run(&one_migration_text());
    assert_eq!(r.last("vm1")["status"], "VERIFY_RESIZE");
    assert_eq!(r.report.summary.end_time_s, "38.210");
}

/// §6.2 last row and §4.6: the source compute down ⇒ "will retry later", confirmed at a later tick.
#[test]
fn auto_confirm_retries_while_source_down_spec_6_2() {
    let text = one_migration_text().replace(
        "name = \"t\"\nseed = 1\n",
        "name = \"t\"\nseed = 1\n[nova.DEFAULT]\nresize_confirm_window = 60\n",
    ) + "[[service_events]]\nat_s = 40\nhost = \"h1\"\nchange = \"stop\"\n\
          [[service_events]]\nat_s = 150\nhost = \"h1\"\nchange = \"start\"\n";
    let r = run(&text);
    // due 98.210 → tick 120: h1 seen down since 100 ⇒ skipped; 180: up again ⇒ confirm.
    let story = r.story("vm1");
    assert!(
        story.contains(&"180.000 VERIFY_RESIZE resized/ confirming @h3".to_string()),
        "{story:#?}"
    );
    assert!(!story.iter().any(|s| s.starts_with("120.000")));
}

/// §6.2: task_state deleting ⇒ the tick skips the migration; the delete then confirms it.
#[test]
fn auto_confirm_skips_deleting_spec_6_2() {
    let text = one_migration_text().replace(
        "name = \"t\"\nseed = 1\n",
        "name = \"t\"\nseed = 1\n[nova.DEFAULT]\nresize_confirm_window = 60\n[steps]\ndelete = { dist = \"constant\", ms = 30000 }\n",
    ) + "[[requests]]\nat_s = 110\naction = \"delete\"\nserver = \"vm1\"\n";
    let r = run(&text);
    let story = r.story("vm1");
    assert!(
        !story.iter().any(|s| s.contains("confirming")),
        "{story:#?}"
    );
    assert_eq!(r.last("vm1")["status"], "DELETED");
    assert!(
        story.iter().any(|s| s.contains(" confirmed @")),
        "{story:#?}"
    );
    assert_eq!(r.final_vcpus().values().sum::<u64>(), 2, "only vm2 is left");
}

/// §8.1: ComputeFilter drops a down host; placement drops a disabled one; the source is
/// excluded (§8.4); the emptier host wins the weighing.
#[test]
fn scheduler_filters_spec_8_1() {
    let r = run(&cloud(
        4,
        &[("vm1", "h1"), ("vm2", "h4")],
        "[[service_events]]\nat_s = 0\nhost = \"h2\"\nchange = \"disable\"\n\
         [[service_events]]\nat_s = 0\nhost = \"h3\"\nchange = \"stop\"\n\
         [[requests]]\nat_s = 100\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(r.last("vm1")["host"], "h4");
}

/// §10.5: a stopped compute is seen down service_down_time later.
#[test]
fn service_seen_down_after_service_down_time_spec_10_5() {
    let r = run(&cloud(
        2,
        &[("vm1", "h1")],
        "[[service_events]]\nat_s = 10\nhost = \"h1\"\nchange = \"stop\"\n\
         [[requests]]\nname = \"early\"\nat_s = 69\naction = \"migrate\"\nserver = \"vm1\"\n",
    ));
    assert_eq!(
        r.request("early")["http_code"],
        "202",
        "still up at 69.05 s"
    );
    let downs: Vec<&str> = r
        .hosts
        .iter()
        .filter(|h| h["host"] == "h1" && h["enabled_up"] == "enabled/down")
        .map(|h| h["time_s"].as_str())
        .collect();
    assert_eq!(downs.first(), Some(&"70.000"));
}

/// A replayed CSV request log drives requests like `[[requests]]` (scenario `[workload]`).
#[test]
fn replayed_request_log() {
    let dir = super::support::temp_dir("replay");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("log.csv"),
        "at_s,action,server,role,name\n10,migrate,vm1,admin,m\n60,confirmResize,vm1,member,c\n70,delete,vm2,member,d\n",
    )
    .expect("write csv");
    let text = cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h2")],
        "[workload]\nreplay_csv = \"log.csv\"\n",
    );
    std::fs::write(dir.join("s.toml"), text).expect("write scenario");
    let sc = novasim::scenario::load(&dir.join("s.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    novasim::run::run_to_dir(sc, &out).unwrap_or_else(|e| panic!("{e}"));
    let requests = super::support::read_csv(&out.join("requests.csv"));
    let codes: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r["name"].as_str(), r["http_code"].as_str()))
        .collect();
    assert_eq!(codes, [("m", "202"), ("c", "204"), ("d", "204")]);
    let transitions = super::support::read_csv(&out.join("transitions.csv"));
    let last_vm2 = transitions
        .iter()
        .rev()
        .find(|t| t["server"] == "vm2")
        .expect("vm2 rows");
    assert_eq!(last_vm2["status"], "DELETED");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12: deleting a server in VERIFY_RESIZE first confirms the resize
/// (`API._confirm_resize_on_deleting`): the API records a `confirmResize` action and *calls*
/// the source's confirm_resize (cast=False), so the 204 comes only after the source destroyed
/// the old guest (confirm 2 s); then the `delete` action and the cast to the new host.
#[test]
fn deleting_a_resized_server_confirms_first_spec_4_5() {
    let r = one_migration(
        "[[requests]]\nname = \"del\"\nat_s = 100\naction = \"delete\"\nserver = \"vm1\"\n",
    );
    let actions: Vec<(&str, &str)> = r
        .actions
        .iter()
        .filter(|a| a["server"] == "vm1" && a["request"] == r.request("del")["request"])
        .map(|a| (a["action"].as_str(), a["event"].as_str()))
        .collect();
    assert_eq!(
        actions,
        [("confirmResize", "compute_confirm_resize"), ("delete", "")]
    );
    let del = r.request("del");
    assert_eq!(del["http_code"], "204");
    // API 50 ms + call 20 ms + confirm 2 s + reply 20 ms + API 50 ms.
    assert_eq!(del["answered_s"], "102.140");
    let story = r.story("vm1");
    assert!(
        story.contains(&"102.070 ACTIVE active/  @h3".to_string()),
        "{story:?}"
    );
    assert_eq!(r.last("vm1")["status"], "DELETED");
    let vcpus = r.final_vcpus();
    assert_eq!(
        (vcpus["h1"], vcpus["h3"]),
        (0, 0),
        "both of vm1's allocations freed"
    );
}
