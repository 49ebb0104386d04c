//! One test per dated behaviour of the release table (`novasim::config::CHANGES`, README
//! "Release profiles"): the same scenario under the release just before the behaviour and the
//! release that introduced it, each test naming the Nova function and version it mirrors.

use super::support::{cloud, run, run_with, Results};
use novasim::config::{Behaviour, Release};

/// `text` with `release = "<r>"` after the name.
fn at(release: &str, text: &str) -> String {
    text.replacen(
        "name = \"t\"\n",
        &format!("name = \"t\"\nrelease = \"{release}\"\n"),
        1,
    )
}

/// The release just before `b` and the release that introduced it.
fn around(b: Behaviour) -> (String, String) {
    let since = b.change().release();
    let before = Release::all()
        .take_while(|r| *r < since)
        .last()
        .unwrap_or_else(|| panic!("{b:?} is older than every release"));
    (before.name().to_string(), since.name().to_string())
}

/// Runs `text` under the release before `b` and under the one that introduced it.
fn both(b: Behaviour, text: &str) -> (Results, Results) {
    let (before, since) = around(b);
    (run(&at(&before, text)), run(&at(&since, text)))
}

fn request(name: &str, at_s: f64, action: &str, server: &str, more: &str) -> String {
    format!(
        "[[requests]]\nname = \"{name}\"\nat_s = {at_s}\naction = \"{action}\"\nserver = \"{server}\"\n{more}"
    )
}

fn total_vcpus(r: &Results) -> u64 {
    r.final_vcpus().values().sum()
}

/// Times of the transitions of `server` whose migration status is `status`.
fn times_with(r: &Results, server: &str, status: &str) -> Vec<f64> {
    r.transitions
        .iter()
        .filter(|t| t["server"] == server && t["migration_status"] == status)
        .map(|t| t["time_s"].parse().expect("time"))
        .collect()
}

/// `API.confirm_resize` checks the source service from 22.0.0 (e4601c77fb): victoria answers
/// 409; ussuri answers 204 and the confirm waits for the stopped source to start.
#[test]
fn confirm_with_source_down_api_confirm_resize_22_0_0() {
    let text = cloud(2, &[("vm1", "h1")], "")
        + &request("m", 10.0, "migrate", "vm1", "")
        + "[[service_events]]\nat_s = 50\nhost = \"h1\"\nchange = \"stop\"\n"
        + &request("c", 200.0, "confirmResize", "vm1", "")
        + "[[service_events]]\nat_s = 400\nhost = \"h1\"\nchange = \"start\"\n";
    assert_eq!(around(Behaviour::ConfirmChecksSourceService).1, "victoria");
    let (ussuri, victoria) = both(Behaviour::ConfirmChecksSourceService, &text);
    assert_eq!(victoria.request("c")["http_code"], "409");
    assert_eq!(victoria.last("vm1")["status"], "VERIFY_RESIZE");
    assert_eq!(ussuri.request("c")["http_code"], "204");
    let done: f64 = ussuri.request("c")["completed_s"].parse().expect("time");
    assert!(done > 400.0, "the confirm waited for h1: {done}");
    assert_eq!(ussuri.last("vm1")["status"], "ACTIVE");
    assert_eq!(ussuri.last("vm1")["migration_status"], "confirmed");
}

/// `ComputeManager._poll_unconfirmed_resizes` + `API.confirm_resize` (22.0.0, e4601c77fb): from
/// victoria the auto-confirm retries while the source is down; ussuri sets the migration
/// `confirming` at the first due tick and the cast waits for the source.
#[test]
fn auto_confirm_with_source_down_poll_unconfirmed_resizes_22_0_0() {
    let text = cloud(
        2,
        &[("vm1", "h1")],
        "[nova.DEFAULT]\nresize_confirm_window = 60\n",
    ) + &request("m", 10.0, "migrate", "vm1", "")
        + "[[service_events]]\nat_s = 45\nhost = \"h1\"\nchange = \"stop\"\n\
           [[service_events]]\nat_s = 400\nhost = \"h1\"\nchange = \"start\"\n";
    let (ussuri, victoria) = both(Behaviour::ConfirmChecksSourceService, &text);
    assert_eq!(times_with(&ussuri, "vm1", "confirming"), [120.0]);
    // `novasim explain` tells the two apart from the trace alone.
    let story = |r: &Results| {
        novasim::analysis::explain(&r.dir, "vm1")
            .expect("explain")
            .to_string()
    };
    assert!(story(&ussuri).contains("a release before 22.0.0 does not check it"));
    assert!(story(&victoria).contains("could not confirm and would retry later"));
    let v = times_with(&victoria, "vm1", "confirming");
    assert!(v.len() == 1 && v[0] > 400.0, "{v:?}");
    for r in [&ussuri, &victoria] {
        assert_eq!(r.last("vm1")["migration_status"], "confirmed");
    }
}

/// `ComputeManager.confirm_resize` (20.0.0: 408ef8f84a errors the migration, 03a6d26691
/// deletes the source allocation in a finally): a failed confirm on the source before train
/// leaves the migration `confirming` and the source allocation held.
#[test]
fn confirm_failure_on_source_confirm_resize_20_0_0() {
    let text = cloud(2, &[("vm1", "h1")], "")
        + "[[faults]]\nstep = \"confirm_resize\"\nhost = \"h1\"\n"
        + &request("m", 10.0, "migrate", "vm1", "")
        + &request("c", 100.0, "confirmResize", "vm1", "");
    for b in [
        Behaviour::ConfirmFailureErrorsMigration,
        Behaviour::ConfirmFailureDeletesSourceAllocation,
    ] {
        assert_eq!(around(b), ("stein".into(), "train".into()));
    }
    let (stein, train) = both(Behaviour::ConfirmFailureErrorsMigration, &text);
    assert_eq!(stein.last("vm1")["status"], "ERROR");
    assert_eq!(stein.last("vm1")["migration_status"], "confirming");
    assert_eq!(stein.final_vcpus()["h1"], 2, "M@h1 leaks");
    assert_eq!(train.last("vm1")["status"], "ERROR");
    assert_eq!(train.last("vm1")["migration_status"], "error");
    assert_eq!(train.final_vcpus()["h1"], 0);
    assert_eq!(train.final_vcpus()["h2"], 2);
}

/// `ComputeManager.finish_resize` (20.0.0, ea297d6ffb): before train `_revert_allocation`
/// moves the allocation back to the source while the server sits on the destination; from
/// train the source allocation is deleted.
#[test]
fn finish_resize_failure_finish_resize_20_0_0() {
    let text = cloud(2, &[("vm1", "h1")], "")
        + "[[faults]]\nstep = \"finish_resize\"\nhost = \"h2\"\n"
        + &request("m", 10.0, "migrate", "vm1", "");
    let (stein, train) = both(Behaviour::FinishResizeFailureDropsSourceAllocation, &text);
    for r in [&stein, &train] {
        assert_eq!(r.last("vm1")["status"], "ERROR");
        assert_eq!(r.last("vm1")["host"], "h2");
        assert_eq!(r.last("vm1")["migration_status"], "error");
    }
    assert_eq!(
        (stein.final_vcpus()["h1"], stein.final_vcpus()["h2"]),
        (2, 0)
    );
    assert_eq!(
        (train.final_vcpus()["h1"], train.final_vcpus()["h2"]),
        (0, 2)
    );
}

/// `_error_out_instance_on_exception` with `instance_state=instance.vm_state`: prep_resize
/// from 20.0.0 (46cb2fdfe2), resize_instance from 21.0.0 (5a20996405). Before, an
/// InstanceFaultRollback sets a stopped server ACTIVE.
#[test]
fn rollback_on_stopped_server_error_out_instance_on_exception_20_and_21() {
    let stopped = "[[servers]]\nname = \"off\"\nflavor = \"m1.small\"\nhost = \"h1\"\n\
                   vm_state = \"stopped\"\n";
    for (b, step, before, since) in [
        (
            Behaviour::PrepResizeRollbackKeepsVmState,
            "prep_resize",
            "stein",
            "train",
        ),
        (
            Behaviour::ResizeInstanceRollbackKeepsVmState,
            "resize_instance",
            "train",
            "ussuri",
        ),
    ] {
        assert_eq!(around(b), (before.into(), since.into()));
        let text = cloud(2, &[], stopped)
            + &format!("[[faults]]\nstep = \"{step}\"\nkind = \"rollback\"\n")
            + &request("m", 10.0, "migrate", "off", "");
        let (old, new) = both(b, &text);
        assert_eq!(old.last("off")["status"], "ACTIVE", "{step} at {before}");
        assert_eq!(new.last("off")["status"], "SHUTOFF", "{step} at {since}");
        for r in [&old, &new] {
            assert_eq!(r.last("off")["host"], "h1");
        }
    }
}

/// `ComputeManager.live_migration_abort` (25.0.0, 219520d9ce): before yoga an aborted queued
/// live migration is only `cancelled`: the server stays MIGRATING and both allocations stay.
#[test]
fn queued_live_abort_live_migration_abort_25_0_0() {
    let text = cloud(
        3,
        &[("vm1", "h1"), ("vm2", "h1")],
        "[nova.DEFAULT]\nmax_concurrent_live_migrations = 1\n\
         [steps]\npre_live_migration = { dist = \"constant\", ms = 30000 }\n",
    ) + &request("l1", 10.0, "os-migrateLive", "vm1", "")
        + &request("l2", 11.0, "os-migrateLive", "vm2", "")
        + &request("a", 20.0, "abortLiveMigration", "vm2", "");
    assert_eq!(
        around(Behaviour::QueuedLiveAbortRollsBack),
        ("xena".into(), "yoga".into())
    );
    let (xena, yoga) = both(Behaviour::QueuedLiveAbortRollsBack, &text);
    for r in [&xena, &yoga] {
        assert_eq!(r.request("a")["http_code"], "202");
        assert_eq!(r.last("vm2")["migration_status"], "cancelled");
        assert_eq!(r.last("vm1")["status"], "ACTIVE");
    }
    assert_eq!(xena.last("vm2")["status"], "MIGRATING");
    assert_eq!(
        total_vcpus(&xena),
        6,
        "vm2 holds its source and its destination"
    );
    assert_eq!(yoga.last("vm2")["status"], "ACTIVE");
    assert_eq!(yoga.last("vm2")["host"], "h1");
    assert_eq!(total_vcpus(&yoga), 4);
}

/// `MigrateServerController._migrate` and `ServersController._action_confirm_resize`
/// (21.0.0, c71cbae6e0): before ussuri the policy is checked before the lookup, against the
/// caller's own project — an admin-only rule answers another project's member 403; an owner
/// rule passes and the lookup answers 404. From ussuri the lookup comes first: 404 both.
#[test]
fn policy_before_lookup_migrate_server_21_0_0() {
    let other = "role = \"member\"\nproject = \"other\"\n";
    let force_no_host = "microversion = \"2.30\"\n\
        body = '{\"os-migrateLive\": {\"host\": null, \"block_migration\": \"auto\", \"force\": true}}'\n";
    let text = cloud(2, &[("vm1", "h1"), ("vm2", "h1")], "")
        + &request("m", 10.0, "migrate", "vm1", other)
        + &request("c", 20.0, "confirmResize", "vm1", other)
        + &request("d", 5.0, "delete", "vm2", "")
        + &request("f", 30.0, "os-migrateLive", "vm2", force_no_host);
    let (train, ussuri) = both(Behaviour::PolicyAfterLookup, &text);
    assert_eq!(train.request("m")["http_code"], "403");
    assert_eq!(train.request("c")["http_code"], "404");
    assert_eq!(ussuri.request("m")["http_code"], "404");
    assert_eq!(ussuri.request("c")["http_code"], "404");
    // `_migrate_live` before 21.0.0: policy, force parameter, then lookup.
    assert_eq!(train.request("f")["http_code"], "400");
    assert_eq!(ussuri.request("f")["http_code"], "404");
}

/// `ComputeManager.__init__` (19.0.0, 1f2a80c195): `max_concurrent_live_migrations = 0` was a
/// `ThreadPoolExecutor()` (5 workers per CPU) at 18.0.0, a GreenThreadPoolExecutor of 1000
/// from stein: six live migrations from a 1-CPU compute queue one at rocky, none at stein.
#[test]
fn unlimited_live_migrations_compute_manager_init_19_0_0() {
    let mut text = String::from(
        "name = \"t\"\nseed = 1\n\
         [nova.DEFAULT]\nmax_concurrent_live_migrations = 0\n\
         [steps]\npre_live_migration = { dist = \"constant\", ms = 30000 }\n\
         [[hosts]]\nname = \"h1\"\nvcpus = 1\nmemory_mb = 65536\ndisk_gb = 1000\n\
         [[hosts]]\nname = \"h2\"\nvcpus = 64\nmemory_mb = 65536\ndisk_gb = 1000\n\
         [[flavors]]\nname = \"tiny\"\nvcpus = 1\nmemory_mb = 512\ndisk_gb = 1\n",
    );
    for i in 1..=6 {
        text.push_str(&format!(
            "[[servers]]\nname = \"vm{i}\"\nflavor = \"tiny\"\nhost = \"h1\"\n"
        ));
    }
    for i in 1..=6 {
        text.push_str(&request(
            &format!("l{i}"),
            10.0,
            "os-migrateLive",
            &format!("vm{i}"),
            "",
        ));
    }
    let waited = |r: &Results| {
        (1..=6)
            .filter(|i| {
                let s = format!("vm{i}");
                let q = times_with(r, &s, "queued");
                let p = times_with(r, &s, "preparing");
                matches!((q.first(), p.first()), (Some(q), Some(p)) if p > q)
            })
            .count()
    };
    let (rocky, stein) = both(Behaviour::GreenLiveMigrationExecutor, &text);
    assert_eq!(waited(&rocky), 1, "5 workers for 1 CPU");
    assert_eq!(waited(&stein), 0);
    for r in [&rocky, &stein] {
        assert!((1..=6).all(|i| r.last(&format!("vm{i}"))["host"] == "h2"));
    }
}

/// `[compute] live_migration_wait_for_vif_plug` (19.0.0, 1a42eb9ec1): False at rocky, so a
/// lost network-vif-plugged event does not matter; from stein the wait times out
/// (`vif_plugging_timeout`, fatal) and the live migration rolls back.
#[test]
fn vif_plug_wait_default_pre_live_migration_19_0_0() {
    let text = cloud(2, &[("vm1", "h1")], "[[faults]]\nstep = \"vif_plug\"\n")
        + &request("l", 10.0, "os-migrateLive", "vm1", "");
    let (rocky, stein) = both(Behaviour::WaitForVifPlugByDefault, &text);
    assert_eq!(rocky.request("l")["outcome"], "success");
    assert_eq!(rocky.last("vm1")["host"], "h2");
    assert_eq!(stein.request("l")["outcome"], "failure");
    assert_eq!(stein.last("vm1")["host"], "h1");
    assert_eq!(stein.last("vm1")["migration_status"], "failed");
}

/// `nova/scheduler/weights/hypervisor_version.py` (28.0.0, e38d6a356b): from bobcat the newer
/// hypervisor wins; at antelope the tie goes to the first declared host.
#[test]
fn hypervisor_version_weigher_28_0_0() {
    let text = cloud(3, &[("vm1", "h1")], "").replacen(
        "name = \"h3\"\n",
        "name = \"h3\"\nhypervisor_version = 9000000\n",
        1,
    ) + &request("m", 10.0, "migrate", "vm1", "");
    let (antelope, bobcat) = both(Behaviour::HypervisorVersionWeigher, &text);
    assert_eq!(antelope.last("vm1")["host"], "h2");
    assert_eq!(bobcat.last("vm1")["host"], "h3");
}

/// `ComputeManager.check_can_live_migrate_destination` (33.0.0, dc51a4271b): a failure of the
/// source's check (here libvirt's InvalidSharedStorage: a non-block live migration without
/// shared storage) is wrapped into a MigrationPreCheckError, so `_find_destination` tries the
/// next host; at flamingo it reaches the conductor as itself and fails the migration at the
/// first host.
#[test]
fn source_check_failure_wrapped_check_can_live_migrate_destination_33_0_0() {
    let text = cloud(
        3,
        &[("vm1", "h1")],
        "[live_migration]\nshared_storage = false\n",
    ) + &request(
        "lm",
        10.0,
        "os-migrateLive",
        "vm1",
        "body = '{\"os-migrateLive\": {\"host\": null, \"block_migration\": false}}'\n",
    );
    let (flamingo, gazpacho) = both(Behaviour::SourceCheckFailureWrapped, &text);
    let checks = |r: &Results| {
        r.actions
            .iter()
            .filter(|a| a["event"] == "compute_check_can_live_migrate_destination")
            .count()
    };
    assert_eq!((checks(&flamingo), checks(&gazpacho)), (1, 2));
    assert!(flamingo.request("lm")["outcome_detail"].starts_with("InvalidSharedStorage"));
    assert!(gazpacho.request("lm")["outcome_detail"].starts_with("NoValidHost"));
    for r in [&flamingo, &gazpacho] {
        assert_eq!(r.last("vm1")["status"], "ACTIVE");
        assert_eq!(r.last("vm1")["migration_status"], "error");
    }
}

/// `map_az_to_placement_aggregate` (28.0.0, 5edd805fe2, `Behaviour::AzInPlacement`): the
/// requested zone is part of placement's query, so a zone without room leaves placement with
/// no candidate ("No valid host was found."); at antelope `AvailabilityZoneFilter` removed the
/// other zone's host after placement returned it ("There are not enough hosts available.").
#[test]
fn az_in_placement_request_filter_28_0_0() {
    let text = cloud(2, &[("vm1", "h1")], "")
        .replacen(
            "name = \"h1\"\nvcpus = 16\n",
            "name = \"h1\"\navailability_zone = \"small\"\nvcpus = 2\ncpu_allocation_ratio = 1.0\n",
            1,
        )
        .replacen(
            "name = \"h2\"\n",
            "name = \"h2\"\navailability_zone = \"big\"\n",
            1,
        )
        + &request(
            "c",
            10.0,
            "create",
            "vm2",
            "flavor = \"m1.small\"\navailability_zone = \"small\"\n",
        );
    let (antelope, bobcat) = both(Behaviour::AzInPlacement, &text);
    assert!(antelope.request("c")["outcome_detail"].contains("There are not enough hosts"));
    assert_eq!(
        bobcat.request("c")["outcome_detail"],
        "NoValidHost: No valid host was found."
    );
}

/// `_MAX_API_VERSION` of each release (`nova/api/openstack/api_version_request.py`): `latest`
/// is the release's own maximum, one above it is 406.
#[test]
fn max_microversion_api_version_request_per_release() {
    for release in Release::all() {
        let max = release.max_microversion();
        let above = format!("2.{}", max.1 + 1);
        let text = at(
            release.name(),
            &(cloud(2, &[("vm1", "h1"), ("vm2", "h1")], "")
                + &request(
                    "latest",
                    10.0,
                    "migrate",
                    "vm1",
                    "microversion = \"latest\"\n",
                )
                + &request(
                    "above",
                    10.0,
                    "migrate",
                    "vm2",
                    &format!("microversion = \"{above}\"\n"),
                )),
        );
        let r = run(&text);
        assert_eq!(
            r.request("latest")["microversion"],
            max.to_string(),
            "{release}"
        );
        assert_ne!(r.request("latest")["http_code"], "406", "{release}");
        assert_eq!(r.request("above")["http_code"], "406", "{release}");
    }
}

/// The bundled upgrade what-if (`scenarios/upgrade-zed-to-antelope.toml`): `initial_*_allocation_ratio`
/// (27.0.0, 1260cdd492) — every check holds at zed; at antelope exactly the two that document
/// the lost capacity fail.
#[test]
fn upgrade_what_if_initial_allocation_ratio_27_0_0() {
    assert_eq!(
        around(Behaviour::LowerInitialAllocationRatios),
        ("zed".into(), "antelope".into())
    );
    let text = std::fs::read_to_string("scenarios/upgrade-zed-to-antelope.toml")
        .expect("bundled scenario");
    let failed = |r: &Results| {
        r.report
            .expectations
            .iter()
            .filter(|e| !e.passed)
            .map(|e| e.index)
            .collect::<Vec<_>>()
    };
    let zed = run(&text);
    assert_eq!(failed(&zed), Vec::<usize>::new());
    let antelope = run_with(&text, &["release=antelope".to_string()]);
    assert_eq!(failed(&antelope), [1, 3]);
    let nvh = antelope
        .requests
        .iter()
        .filter(|r| r["outcome_detail"].starts_with("NoValidHost"))
        .count();
    assert_eq!(nvh, 16);
}

/// API behaviours at their boundary, each under the release just before and the release that
/// introduced it: `ComputeTaskAPI.resize_instance` a cast (21.0.0, a05ef30fb9), `API.resize`'s
/// source-service check (21.0.0, ea2ea492a3), `_reset_network` removed (23.0.0, 68bc87876f),
/// `_reset_state` recorded (23.0.0, 534b4f3895), `migrate:host` checked (28.0.0, 2d320f9b00).
#[test]
fn api_behaviours_at_their_release() {
    // No host but h1, which holds vm1: NoValidHost.
    let nvh = cloud(1, &[("vm1", "h1")], "") + &request("m", 10.0, "migrate", "vm1", "");
    let (train, ussuri) = both(Behaviour::MigrateCastsToConductor, &nvh);
    assert_eq!(train.request("m")["http_code"], "400");
    assert_eq!(ussuri.request("m")["http_code"], "202");
    assert!(ussuri.request("m")["outcome_detail"].starts_with("NoValidHost"));

    let down = cloud(2, &[("vm1", "h1")], "")
        + "[[service_events]]\nat_s = 0\nhost = \"h1\"\nchange = \"stop\"\n"
        + &request("m", 100.0, "migrate", "vm1", "");
    let (train, ussuri) = both(Behaviour::MigrateChecksSourceService, &down);
    assert_eq!(train.request("m")["http_code"], "202");
    assert_eq!(ussuri.request("m")["http_code"], "409");

    let admin = cloud(1, &[("vm1", "h1")], "")
        + &request("rn", 10.0, "resetNetwork", "vm1", "")
        + &request("rs", 20.0, "os-resetState", "vm1", "state = \"active\"\n");
    for b in [
        Behaviour::ResetNetworkRemoved,
        Behaviour::ResetStateInstanceAction,
    ] {
        assert_eq!(around(b), ("victoria".into(), "wallaby".into()));
    }
    let (victoria, wallaby) = both(Behaviour::ResetNetworkRemoved, &admin);
    assert_eq!(victoria.request("rn")["http_code"], "202");
    assert_eq!(wallaby.request("rn")["http_code"], "410");
    let has_reset = |r: &Results| r.actions.iter().any(|a| a["action"] == "resetState");
    assert!(!has_reset(&victoria) && has_reset(&wallaby));

    let host = cloud(2, &[("vm1", "h1")], "")
        + &request(
            "m",
            10.0,
            "migrate",
            "vm1",
            "role = \"member\"\nmicroversion = \"2.56\"\nhost = \"h2\"\n",
        );
    let (antelope, bobcat) = both(Behaviour::MigrateHostPolicy, &host);
    let denied = |r: &Results| r.request("m")["message"].clone();
    assert_eq!(
        denied(&antelope),
        "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed."
    );
    assert_eq!(
        denied(&bobcat),
        "Policy doesn't allow os_compute_api:os-migrate-server:migrate:host to be performed."
    );
}

/// Options a release does not have are refused at load, from the release that added them on
/// they are accepted: `initial_*_allocation_ratio` (19.0.0, 08f3ae9606),
/// `live_migration_timeout_action` (19.0.0, 99a075cc94), the hypervisor-version and
/// num-instances weighers (28.0.0, e38d6a356b / ca3fbb4d15).
#[test]
fn options_exist_from_their_release() {
    for (b, table) in [
        (
            Behaviour::InitialAllocationRatioOptions,
            "[nova.DEFAULT]\ninitial_ram_allocation_ratio = 2.0\n",
        ),
        (
            Behaviour::LiveMigrationTimeoutAction,
            "[nova.libvirt]\nlive_migration_timeout_action = \"abort\"\n",
        ),
        (
            Behaviour::HypervisorVersionWeigher,
            "[nova.filter_scheduler]\nhypervisor_version_weight_multiplier = -1.0\n",
        ),
        (
            Behaviour::NumInstancesWeigher,
            "[nova.filter_scheduler]\nnum_instances_weight_multiplier = 1.0\n",
        ),
    ] {
        let (before, since) = around(b);
        let text = cloud(1, &[], table);
        let err = novasim::scenario::parse_str(&at(&before, &text), "t.toml", &[])
            .err()
            .unwrap_or_else(|| panic!("{b:?} accepted at {before}"))
            .to_string();
        assert!(
            err.contains(&format!("does not exist in release {before}")),
            "{err}"
        );
        assert!(err.contains(b.change().commit), "{err}");
        novasim::scenario::parse_str(&at(&since, &text), "t.toml", &[])
            .unwrap_or_else(|e| panic!("{b:?} at {since}: {e}"));
    }
}

/// Policy defaults at their boundary: `enforce_new_defaults` on (27.0.0, d97af33c06) — a
/// reader of the project passes `admin_or_owner` at zed (the request then fails on the state
/// check) and is refused at antelope; the project manager rule on migrate (32.0.0, 06699f26a5).
#[test]
fn policy_defaults_at_their_release() {
    let reader = cloud(1, &[("vm1", "h1")], "")
        + &request("c", 10.0, "confirmResize", "vm1", "role = \"reader\"\n");
    let (zed, antelope) = both(Behaviour::NewPolicyDefaultsEnforced, &reader);
    assert_eq!(zed.request("c")["http_code"], "409");
    assert_eq!(antelope.request("c")["http_code"], "403");

    let manager = cloud(2, &[("vm1", "h1")], "")
        + &request("m", 10.0, "migrate", "vm1", "role = \"manager\"\n");
    let (epoxy, flamingo) = both(Behaviour::ProjectManagerMigratePolicy, &manager);
    assert_eq!(epoxy.request("m")["http_code"], "403");
    assert_eq!(flamingo.request("m")["http_code"], "202");
}

/// Every entry of the behaviour table is exercised by a test of this file at its boundary.
#[test]
fn every_behaviour_of_the_table_is_tested_here() {
    let this = include_str!("releases.rs");
    for c in novasim::config::CHANGES {
        let name = format!("Behaviour::{:?}", c.behaviour);
        assert!(this.contains(&name), "no test of {name} in releases.rs");
    }
}

/// A sweep over releases compares them side by side: the upgrade what-if's ERROR count is 0
/// under zed and 16 under antelope (sweep.csv, one row per release).
#[test]
fn sweep_over_releases() {
    let out = super::support::temp_dir("sweep-releases");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_novasim"))
        .args([
            "sweep",
            "scenarios/upgrade-zed-to-antelope.toml",
            "--set",
            "release=zed,2023.1",
            "--seeds",
            "1..1",
            "--metric",
            "final_status.ERROR",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("novasim sweep");
    // Exit 3: antelope's run fails the checks that pin zed's outcome.
    assert_eq!(status.status.code(), Some(3), "{status:?}");
    let rows = super::support::read_csv(&out.join("sweep.csv"));
    let by_release: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["release"].clone(), r["metric_value"].clone()))
        .collect();
    assert_eq!(
        by_release,
        [("zed".into(), "0".into()), ("2023.1".into(), "16".into())]
    );
    let _ = std::fs::remove_dir_all(&out);
}
