//! Live migration, resetState, injectNetworkInfo, resetNetwork and release profiles: one test per
//! documented behaviour, naming its spec section. Constant default latencies (API 50 ms, CON 20,
//! SCH 30, compute 20, placement 10; pre_live_migration 2 s, VIF plug 1 s, post 1 s + 1 s);
//! transfer 4 GiB over 1000 MiB/s dirtying 100 MiB/s on shared storage = 5 s.

use super::support::{cloud, run, Results};

const SHARED: &str = "[live_migration]\nshared_storage = true\n";

fn live(n: usize, extra: &str) -> Results {
    run(&cloud(
        n,
        &[("vm1", "h1"), ("vm2", "h2")],
        &format!("{SHARED}{extra}"),
    ))
}

fn request(name: &str, at: u64, action: &str, server: &str, more: &str) -> String {
    format!("[[requests]]\nname = \"{name}\"\nat_s = {at}\naction = \"{action}\"\nserver = \"{server}\"\n{more}\n")
}

/// §4.8: the success path, each change on its hop; ACTIVE on DST before `completed`.
#[test]
fn success_timeline_spec_4_8() {
    let r = live(3, &request("lm", 10, "os-migrateLive", "vm1", ""));
    assert_eq!(
        r.story("vm1"),
        vec![
            "0.000 ACTIVE active/  @h1",
            "10.050 MIGRATING active/migrating  @h1",
            "10.070 MIGRATING active/migrating accepted @h1",
            "10.250 MIGRATING active/migrating queued @h1",
            "10.250 MIGRATING active/migrating preparing @h1",
            "13.290 MIGRATING active/migrating running @h1",
            "20.310 ACTIVE active/ running @h3",
            "20.330 ACTIVE active/ completed @h3",
        ]
    );
    assert_eq!(r.request("lm")["answered_s"], "10.050");
    assert_eq!(
        r.events("vm1"),
        vec![
            "live-migration conductor_live_migrate_instance Success ",
            "live-migration compute_check_can_live_migrate_destination Success h3",
            "live-migration compute_check_can_live_migrate_source Success h1",
            "live-migration compute_live_migration Success h1",
            "live-migration compute_pre_live_migration Success h3",
            "live-migration compute_post_live_migration_at_destination Success h3",
        ]
    );
    assert_eq!(r.final_vcpus()["h1"], 0);
    assert_eq!(r.final_vcpus()["h3"], 2);
}

/// §4.9: below 2.34 the answer waits for the conductor; a failed pre-check is a 400 and the
/// server stays ACTIVE with task_state None.
#[test]
fn pre_2_34_is_synchronous_spec_4_9() {
    let r = live(
        2,
        &(request("ok", 10, "os-migrateLive", "vm1", "microversion = \"2.30\"")
            + "[[faults]]\nstep = \"check_can_live_migrate_destination\"\nrequest = \"bad\"\n"
            + &request(
                "bad",
                100,
                "os-migrateLive",
                "vm2",
                "microversion = \"2.33\"",
            )),
    );
    assert_eq!(
        r.request("ok")["answered_s"],
        "10.280",
        "after the conductor's checks"
    );
    assert_eq!(r.request("ok")["http_code"], "202");
    let bad = r.request("bad");
    assert_eq!(bad["http_code"], "400");
    assert!(bad["message"].contains("No valid host"), "{bad:?}");
    assert_eq!(r.last("vm2")["status"], "ACTIVE");
    assert_eq!(r.last("vm2")["migration_status"], "error");
    assert!(r
        .events("vm2")
        .contains(&"live-migration conductor_migrate_server Error ".to_string()));
}

/// §4.10: from 2.34 the answer is 202 at once; the failure is only in instance actions,
/// with one check event per destination tried; the server is not ERROR.
#[test]
fn from_2_34_checks_are_asynchronous_spec_4_10() {
    let r = live(
        4,
        &(request("lm", 10, "os-migrateLive", "vm1", "")
            + "[[faults]]\nstep = \"check_can_live_migrate_destination\"\n"),
    );
    let lm = r.request("lm");
    assert_eq!(
        (lm["http_code"].as_str(), lm["answered_s"].as_str()),
        ("202", "10.050")
    );
    assert_eq!(lm["outcome"], "failure");
    assert_eq!(r.last("vm1")["status"], "ACTIVE");
    assert_eq!(r.last("vm1")["migration_status"], "error");
    let checks: Vec<String> = r
        .events("vm1")
        .into_iter()
        .filter(|e| e.contains("check_can_live_migrate_destination"))
        .collect();
    // migrate_max_retries = -1: every host but the source is tried, then NoValidHost.
    assert_eq!(checks.len(), 3, "{checks:?}");
    assert!(checks.iter().all(|c| c.contains("Error")));
    let con = r
        .actions
        .iter()
        .find(|a| a["event"] == "conductor_live_migrate_instance")
        .expect("event");
    assert_eq!(con["result"], "Error");
    assert!(
        con["details"].starts_with("No valid host was found"),
        "{con:?}"
    );
    assert_eq!(r.final_vcpus()["h1"], 2, "allocation back on the source");
}

/// §5.1: 0 tries one host, N tries N + 1; the transient `failed` precedes `error`.
#[test]
fn migrate_max_retries_spec_5_1() {
    for (retries, tried) in [(0, 1), (1, 2), (2, 3)] {
        let r = live(
            5,
            &format!(
                "[nova.DEFAULT]\nmigrate_max_retries = {retries}\n[[faults]]\nstep = \"check_can_live_migrate_destination\"\n{}",
                request("lm", 10, "os-migrateLive", "vm1", "")
            ),
        );
        let checks = r
            .events("vm1")
            .iter()
            .filter(|e| e.contains("check_can_live_migrate_destination"))
            .count();
        assert_eq!(checks, tried, "migrate_max_retries = {retries}");
        let statuses: Vec<String> = r
            .transitions
            .iter()
            .filter(|t| t["server"] == "vm1")
            .map(|t| t["migration_status"].clone())
            .collect();
        let n = statuses.len();
        assert_eq!(
            &statuses[n - 3..],
            ["failed", "failed", "error"],
            "{statuses:?}"
        );
        assert!(r
            .actions
            .iter()
            .any(|a| a["details"]
                .contains(&format!("Exceeded maximum number of retries. Exceeded max scheduling retries {tried} for instance"))));
    }
}

/// §5.1 interactions and §8.2: an admin-named host is one attempt; a forced host (< 2.30)
/// bypasses the scheduler — a disabled but up host is accepted.
#[test]
fn named_and_forced_hosts_spec_5_1_and_8_2() {
    let named = live(
        4,
        &(request("lm", 10, "os-migrateLive", "vm1", "host = \"h3\"")
            + "[[faults]]\nstep = \"check_can_live_migrate_destination\"\nhost = \"h3\"\n"),
    );
    assert_eq!(
        named
            .events("vm1")
            .iter()
            .filter(|e| e.contains("check_can_live_migrate_destination"))
            .count(),
        1
    );
    assert_eq!(named.last("vm1")["host"], "h1");
    let forced = live(
        3,
        &("[[service_events]]\nat_s = 0\nhost = \"h3\"\nchange = \"disable\"\n".to_string()
            + &request(
                "lm",
                10,
                "os-migrateLive",
                "vm1",
                "microversion = \"2.29\"\nhost = \"h3\"",
            )),
    );
    assert_eq!(forced.last("vm1")["host"], "h3");
    assert!(forced
        .transitions
        .iter()
        .all(|t| t["hop"] != "SCH" || t["time_s"] == "0.000"));
    let scheduled = live(
        3,
        &("[[service_events]]\nat_s = 0\nhost = \"h3\"\nchange = \"disable\"\n".to_string()
            + &request(
                "lm",
                10,
                "os-migrateLive",
                "vm1",
                "microversion = \"2.30\"\nhost = \"h3\"",
            )),
    );
    assert_eq!(
        scheduled.last("vm1")["host"],
        "h1",
        "2.30 without force: the scheduler refuses a disabled host"
    );
}

/// §3.2: body per microversion, policy, force without host, lock, state, unknown host.
#[test]
fn api_checks_spec_3_2() {
    let extra = "[[servers]]\nname = \"off\"\nflavor = \"m1.small\"\nhost = \"h1\"\nvm_state = \"stopped\"\n\
                 [[servers]]\nname = \"locked\"\nflavor = \"m1.small\"\nhost = \"h1\"\nlocked = true\n";
    let reqs = [
        (
            "doc-2.25",
            "vm1",
            "admin",
            "2.25",
            r#"body = '{"os-migrateLive": {"host": null, "block_migration": false, "disk_over_commit": false}}'"#,
        ),
        (
            "force-2.68",
            "vm1",
            "admin",
            "2.68",
            r#"body = '{"os-migrateLive": {"host": "h2", "block_migration": "auto", "force": true}}'"#,
        ),
        (
            "force-no-host",
            "vm1",
            "admin",
            "2.30",
            r#"body = '{"os-migrateLive": {"host": null, "block_migration": "auto", "force": true}}'"#,
        ),
        ("member", "vm1", "member", "latest", ""),
        ("manager-host", "vm1", "manager", "latest", "host = \"h2\""),
        ("locked-manager", "locked", "manager", "latest", ""),
        ("stopped", "off", "admin", "latest", ""),
        (
            "no-such-host",
            "vm1",
            "admin",
            "latest",
            r#"body = '{"os-migrateLive": {"host": "h9", "block_migration": "auto"}}'"#,
        ),
        ("manager", "vm2", "manager", "latest", ""),
    ];
    let mut text = cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h2")],
        &format!("{SHARED}{extra}"),
    );
    for (i, (name, server, role, mv, more)) in reqs.iter().enumerate() {
        text.push_str(&request(
            name,
            10 + i as u64,
            "os-migrateLive",
            server,
            &format!("role = \"{role}\"\nmicroversion = \"{mv}\"\n{more}"),
        ));
    }
    let r = run(&text);
    let code = |n: &str| r.request(n)["http_code"].clone();
    assert_eq!(code("doc-2.25"), "400", "disk_over_commit is gone at 2.25");
    assert_eq!(code("force-2.68"), "400", "force is gone at 2.68");
    assert_eq!(code("force-no-host"), "400");
    assert_eq!(
        r.request("force-no-host")["message"],
        "Can't force to a non-provided destination"
    );
    assert_eq!(code("member"), "403");
    assert_eq!(
        code("manager-host"),
        "403",
        "migrate_live:host is admin-only"
    );
    assert_eq!(code("locked-manager"), "409");
    assert_eq!(code("stopped"), "409");
    assert_eq!(code("no-such-host"), "400");
    assert_eq!(code("manager"), "202");
}

/// §4.11: every rollback row.
#[test]
fn rollbacks_spec_4_11() {
    let pre = live(
        3,
        &(request("lm", 10, "os-migrateLive", "vm1", "")
            + "[[faults]]\nstep = \"pre_live_migration\"\n"),
    );
    let st: Vec<String> = pre
        .transitions
        .iter()
        .filter(|t| t["server"] == "vm1")
        .map(|t| t["migration_status"].clone())
        .collect();
    assert!(
        st.windows(3)
            .any(|w| w == ["preparing", "error", "error"] || w == ["preparing", "error", "failed"]),
        "{st:?}"
    );
    assert_eq!(st.last().map(String::as_str), Some("failed"));
    assert_eq!(
        (
            pre.last("vm1")["status"].as_str(),
            pre.last("vm1")["host"].as_str()
        ),
        ("ACTIVE", "h1")
    );
    assert!(pre
        .events("vm1")
        .contains(&"live-migration compute_pre_live_migration Error h3".to_string()));
    assert_eq!(pre.final_vcpus()["h3"], 0);

    let job = live(
        3,
        &(request("lm", 10, "os-migrateLive", "vm1", "")
            + "[[faults]]\nstep = \"live_migration\"\n"),
    );
    assert_eq!(job.last("vm1")["migration_status"], "failed");
    assert!(job
        .events("vm1")
        .contains(&"live-migration compute_live_migration Success h1".to_string()));

    // Dirtying faster than the link: the completion timeout (800 s/GiB) aborts ⇒ cancelled.
    let slow = run(&cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h2")],
        &("[live_migration]\nshared_storage = true\nbandwidth_mib_s = 100\ndirty_rate_mib_s = 200\n"
            .to_string() + &request("lm", 10, "os-migrateLive", "vm1", "")),
    ));
    assert_eq!(slow.last("vm1")["migration_status"], "cancelled");
    // 4 GiB ⇒ 3200 s timeout, seen at the next 0.5 s monitor tick after running at 13.290 s.
    assert_eq!(slow.last("vm1")["time_s"], "3213.790");

    let post = live(
        3,
        &(request("lm", 10, "os-migrateLive", "vm1", "")
            + "[[faults]]\nstep = \"post_live_migration_at_destination\"\n"),
    );
    let last = post.last("vm1");
    assert_eq!(
        (
            last["status"].as_str(),
            last["host"].as_str(),
            last["migration_status"].as_str()
        ),
        ("ERROR", "h3", "error")
    );
    assert_eq!(
        post.final_vcpus()["h1"],
        2,
        "not reverted: both allocations remain"
    );
    assert_eq!(post.final_vcpus()["h3"], 2);
}

/// §10.2: one outgoing live migration per source; the next waits in `queued`.
#[test]
fn executor_queues_per_source_spec_10_2() {
    let r = run(&cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h1")],
        &format!(
            "{SHARED}{}{}",
            request("a", 10, "os-migrateLive", "vm1", ""),
            request("b", 10, "os-migrateLive", "vm2", "")
        ),
    ));
    let preparing = |s: &str| {
        r.transitions
            .iter()
            .find(|t| t["server"] == s && t["migration_status"] == "preparing")
            .map(|t| t["time_s"].clone())
            .unwrap_or_default()
    };
    assert_eq!(preparing("vm1"), "10.250");
    // vm2 waits for vm1's completion at 20.330.
    assert_eq!(preparing("vm2"), "20.330");
}

/// §3.5 and §4.12: resetState is synchronous, checks nothing but policy; a resize awaiting
/// confirmation reset to active keeps its `finished` migration and allocation; confirm is
/// then refused; the periodic task errors the migration without freeing the allocation.
#[test]
fn reset_state_spec_3_5_and_4_12() {
    let text = cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h2")],
        "[nova.DEFAULT]\nresize_confirm_window = 60\n",
    ) + &request("m", 10, "migrate", "vm1", "")
        + &request("reset", 50, "os-resetState", "vm1", "state = \"active\"")
        + &request("confirm", 55, "confirmResize", "vm1", "")
        + &request("err", 60, "os-resetState", "vm2", "state = \"error\"")
        + &request(
            "member",
            61,
            "os-resetState",
            "vm2",
            "state = \"active\"\nrole = \"member\"",
        )
        + &request(
            "bad",
            62,
            "os-resetState",
            "vm2",
            "body = '{\"os-resetState\": {\"state\": \"stopped\"}}'",
        );
    let r = run(&text);
    assert_eq!(r.request("reset")["http_code"], "202");
    assert_eq!(r.request("confirm")["http_code"], "409");
    assert_eq!(r.request("member")["http_code"], "403");
    assert_eq!(r.request("bad")["http_code"], "400");
    assert_eq!(r.last("vm2")["status"], "ERROR");
    let story = r.story("vm1");
    assert!(
        story.contains(&"50.050 ACTIVE active/ finished @h3".to_string()),
        "{story:#?}"
    );
    // finished at 38.210, due 98.210 ⇒ the tick at 120 errors the migration.
    assert!(
        story.contains(&"120.000 ACTIVE active/ error @h3".to_string()),
        "{story:#?}"
    );
    assert_eq!(r.final_vcpus()["h1"], 2, "M@SRC is not freed");
    let reset = r
        .actions
        .iter()
        .find(|a| a["action"] == "resetState")
        .expect("resetState action");
    assert_eq!(reset["action_finish_s"], "50.050");
    assert_eq!(reset["event"], "", "no event");
}

/// §3.6, §3.7, §4.13: injectNetworkInfo changes nothing; resetNetwork is 410 since 23.0.0.
#[test]
fn network_actions_spec_3_6_3_7() {
    let r = live(
        2,
        &(request("inject", 10, "injectNetworkInfo", "vm1", "")
            + &request("reset", 11, "resetNetwork", "vm1", "")
            + &request(
                "inject-member",
                12,
                "injectNetworkInfo",
                "vm1",
                "role = \"member\"",
            )),
    );
    assert_eq!(r.request("inject")["http_code"], "202");
    assert_eq!(r.request("inject")["outcome"], "success");
    assert_eq!(r.request("reset")["http_code"], "410");
    assert_eq!(r.request("inject-member")["http_code"], "403");
    assert_eq!(r.story("vm1").len(), 1, "no state change");
    assert!(r.actions.is_empty(), "no instance action");
}

/// Release profiles: rocky answers cold-migrate NoValidHost with a synchronous 400, keeps
/// resetNetwork, admin-only migrate policies, no resetState action, max microversion 2.65.
#[test]
fn rocky_profile() {
    let text = |release: &str| {
        cloud(2, &[("vm1", "h1"), ("vm2", "h1")], "").replace(
            "name = \"t\"\nseed = 1\n",
            &format!("name = \"t\"\nseed = 1\nrelease = \"{release}\"\n"),
        ) + "[[service_events]]\nat_s = 0\nhost = \"h2\"\nchange = \"disable\"\n"
            + &request("nvh", 10, "migrate", "vm1", "microversion = \"2.1\"")
            + &request("rn", 20, "resetNetwork", "vm2", "microversion = \"2.1\"")
            + &request(
                "mgr",
                30,
                "migrate",
                "vm2",
                "role = \"manager\"\nmicroversion = \"2.1\"",
            )
            + &request("mv", 40, "migrate", "vm2", "microversion = \"2.70\"")
            + &request(
                "rs",
                50,
                "os-resetState",
                "vm2",
                "state = \"active\"\nmicroversion = \"2.1\"",
            )
    };
    let rocky = run(&text("rocky"));
    let latest = run(&text("gazpacho"));
    let code = |r: &Results, n: &str| r.request(n)["http_code"].clone();
    assert_eq!(
        (code(&rocky, "nvh"), code(&latest, "nvh")),
        ("400".into(), "202".into())
    );
    assert_eq!(
        rocky.request("nvh")["answered_s"],
        "10.190",
        "after the conductor's scheduling"
    );
    assert_eq!(
        (code(&rocky, "rn"), code(&latest, "rn")),
        ("202".into(), "410".into())
    );
    assert_eq!(
        (code(&rocky, "mgr"), code(&latest, "mgr")),
        ("403".into(), "202".into())
    );
    assert_eq!(
        (code(&rocky, "mv"), code(&latest, "mv")),
        ("406".into(), "202".into())
    );
    let has_reset = |r: &Results| r.actions.iter().any(|a| a["action"] == "resetState");
    assert!(!has_reset(&rocky) && has_reset(&latest));
}

/// Drains: disable first, one request per server, at most `concurrency` at a time.
#[test]
fn cold_drain_with_confirm() {
    let r = run(&cloud(
        3,
        &[("a", "h1"), ("b", "h1"), ("c", "h1")],
        "[[workload.drains]]\nat_s = 5\nhost = \"h1\"\naction = \"migrate\"\nconcurrency = 2\nfollow_up = \"confirm\"\n",
    ));
    for s in ["a", "b", "c"] {
        assert_ne!(r.last(s)["host"], "h1", "{s}");
        assert_eq!(r.last(s)["status"], "ACTIVE", "{s}");
    }
    let confirms = r
        .requests
        .iter()
        .filter(|q| q["action"] == "confirmResize" && q["http_code"] == "204")
        .count();
    assert_eq!(confirms, 3);
    assert!(r
        .hosts
        .iter()
        .any(|h| h["host"] == "h1" && h["time_s"] == "5.000" && h["enabled_up"] == "disabled/up"));
    // Two in flight: c starts only when a's move and confirm are done.
    let started = |s: &str| {
        r.requests
            .iter()
            .find(|q| q["server"] == s)
            .map(|q| q["submitted_s"].clone())
            .unwrap_or_default()
    };
    assert_eq!(started("a"), "5.000");
    assert_eq!(started("b"), "5.000");
    let c: f64 = started("c").parse().expect("c was submitted");
    assert!(c > 30.0, "c starts after a's move and confirm: {c}");
}

/// §4.12 / §11.8 (README Fidelity): a reset during the disk copy makes the source's save of
/// step 15 (host := DST, task resize_migrated, expected resize_migrating) fail; the error
/// handler's own save writes those pending changes: ERROR with task resize_migrated on the
/// destination host, migration error, the allocation back on the source only. A reset before
/// the source starts fails step 12 at once, leaving task resize_migrating.
#[test]
fn reset_state_preempts_in_flight_steps_spec_4_12() {
    let text = cloud(3, &[("vm1", "h1"), ("vm2", "h1")], "")
        + &request("m1", 10, "migrate", "vm1", "")
        + &request("m2", 10, "migrate", "vm2", "")
        + "[[requests]]\nat_s = 10.1\naction = \"os-resetState\"\nserver = \"vm2\"\nstate = \"active\"\n"
        + &request("reset", 20, "os-resetState", "vm1", "state = \"active\"");
    let r = run(&text);
    let last = r.last("vm1");
    assert_eq!(
        (
            last["time_s"].as_str(),
            last["status"].as_str(),
            last["task_state"].as_str(),
            last["host"].as_str(),
            last["migration_status"].as_str()
        ),
        ("35.190", "ERROR", "resize_migrated", "h2", "error")
    );
    let ev = r
        .actions
        .iter()
        .find(|a| a["server"] == "vm1" && a["event"] == "compute_resize_instance")
        .expect("event");
    assert_eq!(ev["result"], "Error");
    assert!(ev["details"].contains("UnexpectedTaskStateError"), "{ev:?}");
    assert_eq!(
        r.final_vcpus()["h1"],
        4,
        "both servers' allocations are back on h1"
    );
    let vm2 = r.last("vm2");
    assert_eq!(
        (
            vm2["time_s"].as_str(),
            vm2["status"].as_str(),
            vm2["task_state"].as_str()
        ),
        ("10.190", "ERROR", "resize_migrating")
    );
}

/// §4.11 rows 3–4, §7: the abort API (2.24+): a running job is aborted (cancelled); a queued
/// one can be aborted from 2.65 only (400 before), leaving the executor queue.
#[test]
fn abort_live_migration_spec_4_11() {
    let r = run(&cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h1")],
        &format!(
            "{SHARED}{}{}{}{}{}",
            request("a", 10, "os-migrateLive", "vm1", ""),
            request("b", 10, "os-migrateLive", "vm2", ""),
            request(
                "abort-b-2.64",
                11,
                "abortLiveMigration",
                "vm2",
                "microversion = \"2.64\""
            ),
            request(
                "abort-b",
                12,
                "abortLiveMigration",
                "vm2",
                "microversion = \"2.65\""
            ),
            request(
                "abort-a",
                15,
                "abortLiveMigration",
                "vm1",
                "microversion = \"2.24\""
            ),
        ),
    ));
    assert_eq!(
        r.request("abort-b-2.64")["http_code"],
        "400",
        "queued: only from 2.65"
    );
    assert_eq!(r.request("abort-b")["http_code"], "202");
    assert_eq!(r.request("abort-a")["http_code"], "202");
    assert_eq!(r.last("vm2")["migration_status"], "cancelled");
    assert_eq!(r.last("vm1")["migration_status"], "cancelled");
    assert_eq!(
        (
            r.last("vm1")["status"].as_str(),
            r.last("vm1")["host"].as_str()
        ),
        ("ACTIVE", "h1")
    );
    // vm1 was running (from 13.290) when the abort reached SRC at 15.070.
    assert_eq!(r.last("vm1")["time_s"], "15.070");
    assert!(r
        .events("vm1")
        .contains(&"live_migration_cancel compute_live_migration_abort Success h1".to_string()));
    assert_eq!(r.final_vcpus()["h1"], 4);
    assert_eq!(r.final_vcpus().values().sum::<u64>(), 4);
}

/// Issue 12: libvirt's `check_can_live_migrate_source` storage checks. A block migration with
/// the instance path on shared storage raises InvalidLocalStorage; a non-block one without
/// shared storage (nor boot-from-volume) raises InvalidSharedStorage. Before 33.0.0 the class
/// reaches the conductor as itself, which `_find_destination` does not skip: no retry, the
/// migration is `error`, a synchronous (< 2.34) caller gets 400, the server stays ACTIVE.
#[test]
fn source_storage_checks_fail_without_retry_before_33() {
    let local = |block: &str, storage: &str| {
        run(&with_release(
            "rocky",
            &cloud(
            3,
            &[("vm1", "h1")],
            &format!(
                "[live_migration]\nshared_storage = {storage}\n{}",
                request(
                    "live",
                    10,
                    "os-migrateLive",
                    "vm1",
                    &format!(
                        "microversion = \"2.30\"\nbody = '{{\"os-migrateLive\": {{\"host\": null, \"block_migration\": {block}}}}}'"
                    ),
                ),
            ),
        )))
    };
    for (block, shared, class) in [
        ("true", "true", "InvalidLocalStorage"),
        ("false", "false", "InvalidSharedStorage"),
    ] {
        let r = local(block, shared);
        let q = r.request("live");
        assert_eq!(q["http_code"], "400", "{class}: {q:?}");
        assert_eq!(r.last("vm1")["status"], "ACTIVE");
        assert_eq!(r.last("vm1")["host"], "h1");
        assert_eq!(r.last("vm1")["migration_status"], "error");
        let checks = r
            .events("vm1")
            .iter()
            .filter(|e| e.contains("compute_check_can_live_migrate_source Error"))
            .count();
        assert_eq!(checks, 1, "{class}: one destination tried, no retry");
        assert!(q["outcome_detail"].starts_with(class), "{q:?}");
    }
    // "auto" lets the driver choose: no storage failure either way.
    let r = local("\"auto\"", "false");
    assert_eq!(r.last("vm1")["migration_status"], "completed");
}

/// From 33.0.0 (commit dc51a4271b) `check_can_live_migrate_destination` wraps any source
/// failure into a MigrationPreCheckError, which `_find_destination` skips: every host is tried
/// (each fails the same way) before the conductor gives up.
#[test]
fn source_storage_checks_are_retried_from_33() {
    let r = run(&with_release(
        "gazpacho",
        &cloud(
            3,
            &[("vm1", "h1")],
            &format!(
                "[live_migration]\nshared_storage = false\n{}",
                request(
                    "live",
                    10,
                    "os-migrateLive",
                    "vm1",
                    "body = '{\"os-migrateLive\": {\"host\": null, \"block_migration\": false}}'",
                ),
            ),
        ),
    ));
    let dest_checks: Vec<(&str, &str)> = r
        .actions
        .iter()
        .filter(|e| e["event"] == "compute_check_can_live_migrate_destination")
        .map(|e| (e["host"].as_str(), e["details"].as_str()))
        .collect();
    assert_eq!(dest_checks.len(), 2, "h2 and h3 tried: {dest_checks:?}");
    assert!(dest_checks[0].1.contains(
        "Error while check_can_live_migrate_source from h1 to host h2: InvalidSharedStorage"
    ));
    assert_eq!(r.last("vm1")["status"], "ACTIVE");
    assert_eq!(r.last("vm1")["migration_status"], "error");
    assert!(r.request("live")["outcome_detail"].starts_with("NoValidHost"));
}

/// `cloud`'s text with a top-level `release` key.
fn with_release(release: &str, text: &str) -> String {
    text.replacen(
        "seed = 1\n",
        &format!("seed = 1\nrelease = \"{release}\"\n"),
        1,
    )
}
