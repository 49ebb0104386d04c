//! Resize to another flavor (spec §3.8, `nova/compute/api.py` `API.resize` with a flavor id):
//! the sibling of cold migrate — migration type `resize`, the new flavor claimed on the
//! destination, the old one held by the migration on the source until confirm, restored on
//! revert (§4.7 step 5, `_revert_instance_flavor_host_node`); `allow_resize_to_same_host`
//! (§8.4); and boot from volume (no disk copied by a live migration).

use super::support::{run, Results};

/// Two hosts (or `hosts`), m1.small (2 vCPU) and m1.large (4 vCPU), vm1 m1.small on h1.
fn resize_cloud(hosts: usize, extra: &str) -> String {
    let mut t = String::from("name = \"t\"\nseed = 1\n");
    for i in 1..=hosts {
        t.push_str(&format!(
            "[[hosts]]\nname = \"h{i}\"\nvcpus = 16\nmemory_mb = 32768\ndisk_gb = 500\nperiodic_phase_s = 0\n"
        ));
    }
    t.push_str("[[flavors]]\nname = \"m1.small\"\nvcpus = 2\nmemory_mb = 4096\ndisk_gb = 40\n");
    t.push_str("[[flavors]]\nname = \"m1.large\"\nvcpus = 4\nmemory_mb = 8192\ndisk_gb = 80\n");
    t.push_str("[[servers]]\nname = \"vm1\"\nflavor = \"m1.small\"\nhost = \"h1\"\n");
    t.push_str(extra);
    t
}

const RESIZE: &str = "[[requests]]\nname = \"r\"\nat_s = 10\naction = \"resize\"\nserver = \"vm1\"\nflavor = \"m1.large\"\n";

/// The last hosts.csv row of `host` at or before `t` (seconds, as written).
fn usage(r: &Results, host: &str, t: f64) -> (u64, u64) {
    let row = r
        .hosts
        .iter()
        .rfind(|h| h["host"] == host && h["time_s"].parse::<f64>().unwrap() <= t)
        .unwrap_or_else(|| panic!("no row for {host}"));
    (
        row["vcpus_used"].parse().unwrap(),
        row["migration_vcpus"].parse().unwrap(),
    )
}

#[test]
fn resize_claims_the_new_flavor_and_confirm_frees_the_old_spec_3_8() {
    let r = run(&resize_cloud(2, &format!("{RESIZE}[[requests]]\nname = \"c\"\nat_s = 60\naction = \"confirmResize\"\nserver = \"vm1\"\n")));
    let q = r.request("r");
    assert_eq!(
        (
            q["action"].as_str(),
            q["http_code"].as_str(),
            q["outcome"].as_str()
        ),
        ("resize", "202", "success")
    );
    // VERIFY_RESIZE: m1.large (4) for the instance on h2, m1.small (2) for the migration on h1.
    assert!(
        r.story("vm1")
            .iter()
            .any(|s| s.contains("VERIFY_RESIZE resized/ finished @h2")),
        "{:?}",
        r.story("vm1")
    );
    assert_eq!(usage(&r, "h2", 50.0), (4, 0));
    assert_eq!(usage(&r, "h1", 50.0), (2, 2));
    // Confirm drops the migration's old-flavor allocation on the source.
    assert_eq!(r.request("c")["outcome"], "success");
    assert_eq!(usage(&r, "h1", 1e9), (0, 0));
    assert_eq!(usage(&r, "h2", 1e9), (4, 0));
    assert!(
        r.events("vm1")
            .iter()
            .any(|e| e == "resize compute_prep_resize Success h2"),
        "{:?}",
        r.events("vm1")
    );
    assert!(r
        .transitions
        .iter()
        .any(|t| t["step"] == "finish_resize: flavor := new, task_state resize_finish"));
}

#[test]
fn revert_restores_the_old_flavor_on_the_source_spec_4_7() {
    let r = run(&resize_cloud(2, &format!("{RESIZE}[[requests]]\nname = \"v\"\nat_s = 60\naction = \"revertResize\"\nserver = \"vm1\"\n")));
    assert_eq!(r.request("v")["outcome"], "success");
    assert_eq!(r.last("vm1")["host"], "h1");
    assert_eq!(usage(&r, "h1", 1e9), (2, 0));
    assert_eq!(usage(&r, "h2", 1e9), (0, 0));
    // A second resize after the revert starts again from m1.small: m1.large is a change.
    let r = run(&resize_cloud(2, &format!("{RESIZE}[[requests]]\nname = \"v\"\nat_s = 60\naction = \"revertResize\"\nserver = \"vm1\"\n[[requests]]\nname = \"again\"\nat_s = 120\naction = \"resize\"\nserver = \"vm1\"\nflavor = \"m1.large\"\n")));
    assert_eq!(r.request("again")["http_code"], "202");
}

#[test]
fn api_checks_of_resize_spec_3_8() {
    // CannotResizeToSameFlavor.
    let r = run(&resize_cloud(2, "[[requests]]\nname = \"same\"\nat_s = 10\naction = \"resize\"\nserver = \"vm1\"\nflavor = \"m1.small\"\n"));
    let q = r.request("same");
    assert_eq!(
        (q["http_code"].as_str(), q["message"].as_str()),
        ("400", "When resizing, instances must change flavor!")
    );
    // FlavorNotFound, through an explicit body.
    let r = run(&resize_cloud(2, "[[requests]]\nname = \"nf\"\nat_s = 10\naction = \"resize\"\nserver = \"vm1\"\nflavor = \"m1.large\"\nbody = '{\"resize\": {\"flavorRef\": \"m9\"}}'\n"));
    let q = r.request("nf");
    assert_eq!(
        (q["http_code"].as_str(), q["message"].as_str()),
        ("400", "Unable to locate requested flavor.")
    );
    // The body schema: flavorRef is required.
    let r = run(&resize_cloud(2, "[[requests]]\nname = \"nb\"\nat_s = 10\naction = \"resize\"\nserver = \"vm1\"\nflavor = \"m1.large\"\nbody = '{\"resize\": {}}'\n"));
    assert_eq!(r.request("nb")["http_code"], "400");
    // A reader cannot resize (os_compute_api:servers:resize is member or admin).
    let r = run(&resize_cloud(
        2,
        &format!("{RESIZE}role = \"reader\"\nproject = \"demo\"\n"),
    ));
    assert_eq!(r.request("r")["http_code"], "403");
}

#[test]
fn allow_resize_to_same_host_spec_8_4() {
    // One host: the source is ignored, so no valid host…
    let r = run(&resize_cloud(1, RESIZE));
    let q = r.request("r");
    assert_eq!(
        (q["http_code"].as_str(), q["outcome"].as_str()),
        ("202", "failure")
    );
    assert!(q["outcome_detail"].starts_with("NoValidHost"), "{q:?}");
    // …unless allow_resize_to_same_host: both flavors on h1 until the confirm.
    let r = run(&resize_cloud(
        1,
        &format!("[nova.DEFAULT]\nallow_resize_to_same_host = true\n{RESIZE}"),
    ));
    assert_eq!(r.request("r")["outcome"], "success");
    assert_eq!(r.last("vm1")["host"], "h1");
    assert_eq!(usage(&r, "h1", 50.0), (6, 2));
    // A migrate never picks its source (libvirt reports no same-host trait).
    let r = run(&resize_cloud(1, "[nova.DEFAULT]\nallow_resize_to_same_host = true\n[[requests]]\nname = \"m\"\nat_s = 10\naction = \"migrate\"\nserver = \"vm1\"\n"));
    assert_eq!(r.request("m")["outcome"], "failure");
}

#[test]
fn a_server_booted_from_volume_live_migrates_without_a_disk_copy() {
    // Two creates, one with a root volume; both live-migrated with block_migration "auto" on
    // computes that share no storage: only the image-backed one copies its 80 GB disk.
    let create = |name: &str, body: &str| {
        format!("[[requests]]\nname = \"{name}\"\nat_s = 1\naction = \"create\"\nserver = \"{name}\"\nflavor = \"m1.large\"\nproject = \"demo\"\n{body}")
    };
    let live = |name: &str| {
        format!("[[requests]]\nname = \"live-{name}\"\nat_s = 100\naction = \"os-migrateLive\"\nserver = \"{name}\"\nmicroversion = \"2.25\"\n")
    };
    let text = resize_cloud(3, &format!(
        "{}{}{}{}",
        create("img", ""),
        create("bfv", "body = '{\"server\": {\"block_device_mapping_v2\": [{\"boot_index\": 0, \"source_type\": \"image\", \"destination_type\": \"volume\", \"volume_size\": 80}]}}'\n"),
        live("img"),
        live("bfv")
    ));
    let r = run(&text);
    let took = |n: &str| {
        let q = r.request(&format!("live-{n}"));
        assert_eq!(q["outcome"], "success", "{q:?}");
        q["completed_s"].parse::<f64>().unwrap() - q["submitted_s"].parse::<f64>().unwrap()
    };
    assert!(
        took("bfv") < took("img"),
        "bfv {} img {}",
        took("bfv"),
        took("img")
    );
}

#[test]
fn a_resize_generator_with_confirm_follow_ups() {
    let r = run(&resize_cloud(
        2,
        "[[servers]]\nname = \"vm2\"\nflavor = \"m1.small\"\nhost = \"h2\"\n[[workload.generators]]\nname = \"g\"\naction = \"resize\"\nflavor = \"m1.large\"\narrival = { kind = \"constant\", interval_s = 10 }\ncount = 2\nfollow_up = \"confirm\"\n",
    ));
    let resized: Vec<_> = r
        .requests
        .iter()
        .filter(|q| q["action"] == "resize")
        .collect();
    let confirmed: Vec<_> = r
        .requests
        .iter()
        .filter(|q| q["action"] == "confirmResize")
        .collect();
    assert_eq!((resized.len(), confirmed.len()), (2, 2), "{:?}", r.requests);
    assert!(confirmed.iter().all(|q| q["outcome"] == "success"));
    // Both servers now hold m1.large (4 vCPU) and no migration allocation.
    let used: u64 = ["h1", "h2"].iter().map(|h| usage(&r, h, 1e9).0).sum();
    assert_eq!(used, 8);
}
