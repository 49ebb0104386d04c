//! Loader tests: a full example, defaults, one test per class of error (asserting the message
//! and its line), overrides, replay CSV, and garbage input.

use super::*;
use crate::config::*;
use crate::engine::{Dist, Duration, SimTime};
use crate::model::{FlavorId, HostId, VmState};
use proptest::prelude::*;

const FULL: &str = r#"
name = "teaching"
seed = 42
end_s = 3600.5

[nova.DEFAULT]
resize_confirm_window = 300
migrate_max_retries = 2
service_down_time = 60
report_interval = 10
shutdown_timeout = 30
initial_cpu_allocation_ratio = 8.0
ram_allocation_ratio = 1.5
reserved_host_memory_mb = 1024
reserved_host_cpus = 1

[nova.scheduler]
max_attempts = 5

[nova.filter_scheduler]
host_subset_size = 2
ram_weight_multiplier = 2.0
io_ops_weight_multiplier = -3.5

[latency]
api = { dist = "uniform", min_ms = 40, max_ms = 60 }
compute = { dist = "exponential", mean_ms = 25.0 }

[steps]
disk_copy = { dist = "lognormal", median_ms = 20000, sigma = 0.5 }
boot = { dist = "empirical", values_ms = [8000, 10000, 40000], weights = [5, 4, 1] }
delete = { dist = "empirical", values_ms = [1000, 2000.4] }

[[host_groups]]
prefix = "cmp"
count = 3
vcpus = 32
memory_mb = 131072
disk_gb = 2000
availability_zone = "az1"

[[hosts]]
name = "h1"
vcpus = 16
memory_mb = 65536
disk_gb = 1000
periodic_phase_s = 12.5
cpu_allocation_ratio = 2.0
reserved_host_memory_mb = 0
hypervisor_version = 9000000
enabled = false

[[flavors]]
name = "m1.small"
vcpus = 1
memory_mb = 2048
disk_gb = 20

[[flavors]]
name = "m1.large"
vcpus = 4
memory_mb = 8192
disk_gb = 80

[[server_groups]]
prefix = "vm"
count = 3
flavor = "m1.small"

[[servers]]
name = "db1"
flavor = "m1.large"
project = "other"
host = "h1"
vm_state = "stopped"
locked = true
availability_zone = "az1"

[[requests]]
name = "r1"
at_s = 10
action = "migrate"
server = "vm1"
microversion = "2.56"
role = "admin"
host = "cmp2"

[[requests]]
at_s = 5
action = "create"
server = "web1"
flavor = "m1.small"
availability_zone = "az1"

[[requests]]
name = "r3"
at_s = 70.25
action = "confirmResize"
server = "vm1"
role = "member"
project = "demo"
body = '{"confirmResize": null}'

[[requests]]
at_s = 80
action = "delete"
server = "spawn-2"
microversion = "latest"

[workload]
[[workload.generators]]
name = "storm"
action = "migrate"
arrival = { kind = "poisson", rate_per_s = 2.0 }
start_s = 100
stop_s = 700
targets = { prefix = "vm" }
order = "random"
follow_up = "confirm"
follow_up_delay = { dist = "constant", ms = 1500 }

[[workload.generators]]
name = "spawn"
action = "create"
arrival = { kind = "constant", interval_s = 1.5 }
count = 4
flavor = "m1.small"

[[workload.generators]]
name = "loop"
action = "migrate"
arrival = { kind = "closed_loop", concurrency = 2, think = { dist = "constant", ms = 500 } }
count = 10
targets = ["vm2", "db1"]

[[faults]]
step = "prep_resize"
probability = 0.25
host = "cmp2"
kind = "rollback"
times = 1

[[faults]]
step = "finish_resize"
request = "r1"
server = "vm1"
message = "disk full"

[[service_events]]
at_s = 100
host = "h1"
change = "enable"

[[service_events]]
at_s = 200
host = "cmp3"
change = "stop"

[output]
throughput_window_s = 30
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    parse_str(text, "x.toml", &[])
}

fn parse_with(text: &str, overrides: &[&str]) -> Result<Scenario, ScenarioError> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    parse_str(text, "x.toml", &o)
}

/// The error message of a scenario that must fail.
fn fail(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("scenario should fail:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn fail_with(text: &str, overrides: &[&str]) -> String {
    match parse_with(text, overrides) {
        Ok(_) => panic!("scenario should fail with {overrides:?}"),
        Err(e) => e.to_string(),
    }
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    text[..at].matches('\n').count() + 1
}

/// Asserts `msg` starts with `x.toml:<line of needle>:` and contains every part.
fn assert_msg(msg: &str, text: &str, needle: &str, parts: &[&str]) {
    let prefix = format!("x.toml:{}:", line_of(text, needle));
    assert!(msg.starts_with(&prefix), "expected {prefix}… got: {msg}");
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in: {msg}");
    }
    assert!(!msg.contains('\n'), "one line: {msg}");
}

/// The minimal scenario plus `extra` (top-level keys go first, tables last).
fn with(extra: &str) -> String {
    let (top, extra) = if extra.starts_with('[') {
        ("", extra)
    } else {
        (extra, "")
    };
    format!(
        "name = \"t\"\n{top}\
         [[hosts]]\nname = \"h1\"\nvcpus = 4\nmemory_mb = 4096\ndisk_gb = 100\n\
         [[flavors]]\nname = \"m1.small\"\nvcpus = 1\nmemory_mb = 512\ndisk_gb = 1\n\
         [[flavors]]\nname = \"m1.large\"\nvcpus = 2\nmemory_mb = 2048\ndisk_gb = 10\n\
         [[servers]]\nname = \"vm1\"\nflavor = \"m1.small\"\n\
         {extra}"
    )
}

// ---------------------------------------------------------------------------------------------
// Valid input.

#[test]
fn full_example_parses_to_expected_values() {
    let s = parse(FULL).expect("full example is valid");
    assert_eq!(s.name, "teaching");
    assert_eq!(s.seed, 42);
    assert_eq!(s.end, Some(SimTime(3_600_500)));

    let n = &s.nova;
    assert_eq!(n.resize_confirm_window, Duration::from_secs(300));
    assert_eq!(n.migrate_max_retries, 2);
    assert_eq!(n.service_down_time, Duration::from_secs(60));
    assert_eq!(n.report_interval, Duration::from_secs(10));
    assert_eq!(n.shutdown_timeout, Duration::from_secs(30));
    assert_eq!(n.max_attempts, 5);
    assert_eq!(n.host_subset_size, 2);
    assert_eq!(n.weights.ram, 2.0);
    assert_eq!(n.weights.io_ops, -3.5);
    assert_eq!(n.weights.cpu, 1.0);
    assert_eq!(n.weights.num_instances, 0.0);

    assert_eq!(
        s.latency.api,
        Dist::Uniform {
            min_ms: 40,
            max_ms: 60
        }
    );
    assert_eq!(s.latency.compute, Dist::Exponential { mean_ms: 25.0 });
    assert_eq!(s.latency.conductor, Dist::constant_ms(20));
    assert_eq!(s.latency.placement, Dist::constant_ms(10));
    assert_eq!(
        s.steps.disk_copy,
        Dist::LogNormal {
            median_ms: 20000.0,
            sigma: 0.5
        }
    );
    assert_eq!(
        s.steps.boot,
        Dist::empirical(vec![8000, 10000, 40000], &[5, 4, 1])
    );
    assert_eq!(s.steps.delete, Dist::empirical(vec![1000, 2000], &[1, 1]));
    assert_eq!(s.steps.guest_shutdown, Dist::constant_ms(5000));

    // Host groups first, then [[hosts]].
    let names: Vec<&str> = s.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["cmp1", "cmp2", "cmp3", "h1"]);
    let c1 = &s.hosts[0];
    assert_eq!((c1.vcpus, c1.memory_mb, c1.disk_gb), (32, 131_072, 2000));
    assert_eq!(c1.cpu_allocation_ratio, 8.0); // initial_cpu_allocation_ratio
    assert_eq!(c1.ram_allocation_ratio, 1.5);
    assert_eq!(c1.disk_allocation_ratio, 1.0);
    assert_eq!(c1.reserved_host_memory_mb, 1024);
    assert_eq!(c1.reserved_host_cpus, 1);
    assert_eq!(c1.reserved_host_disk_mb, 0);
    assert_eq!(c1.hypervisor_type, "QEMU");
    assert_eq!(c1.hypervisor_version, 8_002_000);
    assert_eq!(c1.availability_zone, "az1");
    assert!(c1.enabled && c1.up);
    assert_eq!(c1.periodic_phase, defaults::periodic_phase(42, "cmp1"));
    assert!(c1.periodic_phase < Duration::from_secs(60));
    let h1 = &s.hosts[3];
    assert_eq!(h1.periodic_phase, Duration(12_500));
    assert_eq!(h1.cpu_allocation_ratio, 2.0);
    assert_eq!(h1.reserved_host_memory_mb, 0);
    assert_eq!(h1.hypervisor_version, 9_000_000);
    assert_eq!(h1.availability_zone, "nova");
    assert!(!h1.enabled);
    assert_eq!(s.host_id("h1"), Some(HostId(3)));

    assert_eq!(s.flavors.len(), 2);
    assert_eq!(s.flavor_id("m1.large"), Some(FlavorId(1)));

    // Server groups first, then [[servers]].
    let names: Vec<&str> = s.servers.iter().map(|v| &*v.name).collect();
    assert_eq!(names, ["vm1", "vm2", "vm3", "db1"]);
    let vm1 = &s.servers[0];
    assert_eq!(vm1.flavor, FlavorId(0));
    assert_eq!(&*vm1.project, "demo");
    assert_eq!(vm1.host, None);
    assert_eq!(vm1.vm_state, VmState::Active);
    assert!(!vm1.locked);
    assert_eq!(vm1.availability_zone, None);
    let db1 = &s.servers[3];
    assert_eq!(db1.host, Some(HostId(3)));
    assert_eq!(db1.vm_state, VmState::Stopped);
    assert!(db1.locked);
    assert_eq!(&*db1.project, "other");
    assert_eq!(db1.availability_zone.as_deref(), Some("az1"));

    // Requests keep file order.
    assert_eq!(s.requests.len(), 4);
    let r1 = &s.requests[0];
    assert_eq!(r1.name.as_deref(), Some("r1"));
    assert_eq!(r1.at, SimTime(10_000));
    assert_eq!(r1.request.action, ActionKind::Migrate);
    assert_eq!(&*r1.request.server, "vm1");
    assert_eq!(r1.request.caller.microversion, Microversion(2, 56));
    assert_eq!(r1.request.caller.role, Role::Admin);
    assert_eq!(r1.request.caller.project, None);
    assert_eq!(
        r1.request.body,
        Some(serde_json::json!({"migrate": {"host": "cmp2"}}))
    );
    let create = &s.requests[1];
    assert_eq!(create.at, SimTime(5_000));
    assert_eq!(create.name, None);
    assert_eq!(create.request.action, ActionKind::Create);
    assert_eq!(create.request.flavor, Some(FlavorId(0)));
    assert_eq!(create.request.availability_zone.as_deref(), Some("az1"));
    assert_eq!(create.request.caller.project.as_deref(), Some("demo"));
    // `latest` (the default) is the release's own maximum: 2.103 at 33.0.0.
    assert_eq!(create.request.caller.microversion, Microversion(2, 103));
    assert_eq!(create.request.body, None);
    let r3 = &s.requests[2];
    assert_eq!(r3.at, SimTime(70_250));
    assert_eq!(r3.request.caller.role, Role::Member);
    assert_eq!(r3.request.caller.project.as_deref(), Some("demo"));
    assert_eq!(
        r3.request.body,
        Some(serde_json::json!({"confirmResize": null}))
    );
    assert_eq!(&*s.requests[3].request.server, "spawn-2");
    assert_eq!(
        s.requests[3].request.caller.microversion,
        Microversion(2, 103)
    );

    assert_eq!(s.generators.len(), 3);
    let g = &s.generators[0];
    assert_eq!(g.name, "storm");
    assert_eq!(g.action, ActionKind::Migrate);
    assert_eq!(g.arrival, Arrival::Poisson { rate_per_s: 2.0 });
    assert_eq!(g.start, SimTime(100_000));
    assert_eq!(g.stop, Some(SimTime(700_000)));
    assert_eq!(g.count, None);
    assert_eq!(g.targets, ["vm1".into(), "vm2".into(), "vm3".into()]);
    assert_eq!(g.order, TargetOrder::Random);
    assert_eq!(g.follow_up, FollowUp::Confirm);
    assert_eq!(g.follow_up_delay, Dist::constant_ms(1500));
    assert_eq!(g.caller.microversion, Microversion(2, 103));
    assert_eq!(g.caller.role, Role::Admin);
    let sp = &s.generators[1];
    assert_eq!(
        sp.arrival,
        Arrival::ConstantRate {
            interval: Duration(1500)
        }
    );
    assert_eq!(sp.count, Some(4));
    assert_eq!(sp.start, SimTime::ZERO);
    assert!(sp.targets.is_empty());
    assert_eq!(sp.flavor, Some(FlavorId(0)));
    assert_eq!(sp.order, TargetOrder::Sequential);
    assert_eq!(sp.follow_up, FollowUp::None);
    assert_eq!(sp.follow_up_delay, Dist::constant_ms(0));
    let lp = &s.generators[2];
    assert_eq!(
        lp.arrival,
        Arrival::ClosedLoop {
            concurrency: 2,
            think: Dist::constant_ms(500)
        }
    );
    assert_eq!(lp.targets, ["vm2".into(), "db1".into()]);

    assert_eq!(s.faults.len(), 2);
    let f = &s.faults[0];
    assert_eq!(f.step, FaultStep::PrepResize);
    assert_eq!(f.probability, 0.25);
    assert_eq!(f.host, Some(HostId(1)));
    assert_eq!(f.kind, FaultKind::Rollback);
    assert_eq!(f.times, Some(1));
    assert_eq!(f.message, "Injected failure in prep_resize");
    let f = &s.faults[1];
    assert_eq!(f.step, FaultStep::FinishResize);
    assert_eq!(f.probability, 1.0);
    assert_eq!(f.request.as_deref(), Some("r1"));
    assert_eq!(f.server.as_deref(), Some("vm1"));
    assert_eq!(f.kind, FaultKind::Error);
    assert_eq!(f.times, None);
    assert_eq!(f.message, "disk full");

    assert_eq!(
        s.service_events,
        [
            ServiceEvent {
                at: SimTime(100_000),
                host: HostId(3),
                change: ServiceChange::Enable
            },
            ServiceEvent {
                at: SimTime(200_000),
                host: HostId(2),
                change: ServiceChange::Stop
            }
        ]
    );
    assert_eq!(s.output.throughput_window, Duration::from_secs(30));
}

#[test]
fn minimal_scenario_takes_every_default() {
    let s = parse("name = \"m\"\n").expect("valid");
    assert_eq!(s.seed, 1);
    assert_eq!(s.end, None);
    assert_eq!(s.nova, NovaConfig::default());
    assert_eq!(s.nova.resize_confirm_window, Duration::ZERO);
    assert_eq!(s.nova.migrate_max_retries, -1);
    assert_eq!(s.nova.max_attempts, 3);
    assert_eq!(s.nova.host_subset_size, 1);
    assert_eq!(s.latency, defaults::latencies());
    assert_eq!(s.latency.api, Dist::constant_ms(50));
    assert_eq!(s.steps, defaults::steps());
    assert_eq!(s.steps.disk_copy, Dist::constant_ms(20_000));
    assert_eq!(s.output.throughput_window, Duration::from_secs(60));
    assert!(s.hosts.is_empty() && s.servers.is_empty() && s.requests.is_empty());
    assert!(s.generators.is_empty() && s.faults.is_empty() && s.service_events.is_empty());

    let s = parse(&with("")).expect("valid");
    let h = &s.hosts[0];
    assert_eq!(h.cpu_allocation_ratio, 4.0);
    assert_eq!(h.ram_allocation_ratio, 1.0);
    assert_eq!(h.disk_allocation_ratio, 1.0);
    assert_eq!(h.reserved_host_memory_mb, 512);
    assert_eq!(h.reserved_host_disk_mb, 0);
    assert_eq!(h.reserved_host_cpus, 0);
    assert_eq!(h.periodic_phase, defaults::periodic_phase(1, "h1"));
}

#[test]
fn periodic_phase_depends_only_on_seed_and_name() {
    let a = parse(&with("")).expect("valid");
    let b = parse(&with(
        "[[host_groups]]\nprefix = \"z\"\ncount = 5\nvcpus = 1\nmemory_mb = 1024\ndisk_gb = 1\n",
    ))
    .expect("valid");
    let h1 = |s: &Scenario| {
        s.hosts
            .iter()
            .find(|h| h.name == "h1")
            .map(|h| h.periodic_phase)
    };
    assert_eq!(h1(&a), h1(&b));
    let c = parse_with(&with(""), &["seed=2"]).expect("valid");
    assert_eq!(h1(&c), Some(defaults::periodic_phase(2, "h1")));
}

/// The configured value is kept; the servicegroup applies Nova's "raised to 2.5 ×
/// report_interval" rule itself (spec §10.5).
#[test]
fn service_down_time_is_kept_as_configured() {
    let s = parse(&with(
        "[nova.DEFAULT]\nservice_down_time = 3\nreport_interval = 3\n",
    ))
    .expect("valid");
    assert_eq!(s.nova.service_down_time, Duration::from_secs(3));
    assert_eq!(s.nova.report_interval, Duration::from_secs(3));
}

#[test]
fn cpu_allocation_ratio_wins_over_initial() {
    let s = parse(&with(
        "[nova.DEFAULT]\ncpu_allocation_ratio = 2.0\ninitial_cpu_allocation_ratio = 16.0\n",
    ))
    .expect("valid");
    assert_eq!(s.hosts[0].cpu_allocation_ratio, 2.0);
}

#[test]
fn pinned_server_may_overcommit_its_host() {
    let t = with(
        "[[flavors]]\nname = \"huge\"\nvcpus = 512\nmemory_mb = 1048576\ndisk_gb = 100000\n\
         [[servers]]\nname = \"big\"\nflavor = \"huge\"\nhost = \"h1\"\n",
    );
    let s = parse(&t).expect("overcommit is allowed");
    assert_eq!(s.servers[1].host, Some(HostId(0)));
}

#[test]
fn generated_create_names_are_known_up_to_count() {
    let gen = "[[workload.generators]]\nname = \"g\"\naction = \"create\"\nflavor = \"m1.small\"\n\
               arrival = { kind = \"constant\", interval_s = 1 }\ncount = 3\n";
    let ok = with(&format!(
        "[[requests]]\nat_s = 9\naction = \"delete\"\nserver = \"g-3\"\n{gen}"
    ));
    parse(&ok).expect("g-3 is generated");
    let t = with(&format!(
        "[[requests]]\nat_s = 9\naction = \"delete\"\nserver = \"g-4\"\n{gen}"
    ));
    assert_msg(
        &fail(&t),
        &t,
        "server = \"g-4\"",
        &["[[requests]] #1 server", "unknown server \"g-4\""],
    );
    // A generator whose names clash with an initial server.
    let t = with(
        "[[servers]]\nname = \"g-2\"\nflavor = \"m1.small\"\n\
         [[workload.generators]]\nname = \"g\"\naction = \"create\"\nflavor = \"m1.small\"\n\
         arrival = { kind = \"constant\", interval_s = 1 }\ncount = 3\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "name = \"g\"",
        &["would create \"g-2\", which already exists"],
    );
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the file, the line, the key.

#[test]
fn syntax_error_names_line_and_column() {
    let t = "name = \"x\"\nseed = \n";
    let m = fail(t);
    assert!(m.starts_with("x.toml:2:"), "{m}");
    assert!(m.contains("TOML syntax error"), "{m}");
    let m = fail("name = \"x\"\n[nova\n");
    assert!(m.starts_with("x.toml:2:"), "{m}");
    let m = fail("name = \"a\"\nname = \"b\"\n");
    assert!(m.starts_with("x.toml:2:") && m.contains("duplicate"), "{m}");
    assert!(matches!(
        parse("x = ").err(),
        Some(ScenarioError::Syntax { line: 1, .. })
    ));
}

#[test]
fn unknown_keys_list_the_allowed_ones() {
    let t = with("[nova.DEFAULT]\nresize_confirm_windw = 1\n");
    assert_msg(
        &fail(&t),
        &t,
        "resize_confirm_windw",
        &[
            "[nova.DEFAULT]: unknown key \"resize_confirm_windw\"",
            "(allowed: resize_confirm_window, migrate_max_retries,",
        ],
    );
    let t = with("colour = 1\n");
    assert_msg(
        &fail(&t),
        &t,
        "colour",
        &["top level: unknown key \"colour\" (allowed: name, seed, end_s, release, live_migration, nova,"],
    );
    let t = with("[nova.conductor]\nx = 1\n");
    assert_msg(
        &fail(&t),
        &t,
        "[nova.conductor]",
        &["[nova]: unknown key \"conductor\" (allowed: DEFAULT, scheduler, filter_scheduler, compute, libvirt)"],
    );
    let t = with("[[servers]]\nname = \"vm2\"\nflavor = \"m1.small\"\nhots = \"h1\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "hots",
        &["[[servers]] \"vm2\": unknown key \"hots\" (allowed: name, flavor,"],
    );
    let t = with("[latency]\napi = { dist = \"constant\", ms = 5, mss = 1 }\n");
    assert_msg(
        &fail(&t),
        &t,
        "mss",
        &["[latency.api]: unknown key \"mss\""],
    );
    // A parameter of another distribution kind.
    let t = with("[latency]\napi = { dist = \"constant\", ms = 5, min_ms = 1 }\n");
    assert_msg(
        &fail(&t),
        &t,
        "api =",
        &["unknown key \"min_ms\" for dist = \"constant\" (allowed: dist, ms)"],
    );
    let t = with(
        "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 1\n\
         arrival = { kind = \"poisson\", rate_per_s = 1, interval_s = 2 }\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "arrival =",
        &["[[workload.generators]] \"g\" arrival.interval_s: unknown key \"interval_s\" for kind = \"poisson\""],
    );
    let t = with(
        "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 1\n\
         arrival = { kind = \"poisson\", rate_per_s = 1 }\ntargets = { prefx = \"v\" }\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "targets",
        &["[[workload.generators]] \"g\" targets: unknown key \"prefx\" (allowed: prefix)"],
    );
}

#[test]
fn wrong_types_name_the_key() {
    let t = with("seed = \"seven\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "seed =",
        &["seed: expected an integer, found string \"seven\""],
    );
    let t = with("[nova.scheduler]\nmax_attempts = 2.5\n");
    assert_msg(
        &fail(&t),
        &t,
        "max_attempts",
        &["[nova.scheduler] max_attempts: expected an integer, found float 2.5"],
    );
    let t = with("[[servers]]\nname = \"vm2\"\nflavor = 3\n");
    assert_msg(
        &fail(&t),
        &t,
        "flavor = 3",
        &["[[servers]] \"vm2\" flavor: expected a string, found integer 3"],
    );
    let t = with("hosts = 5\n");
    let m = fail(&t);
    assert!(
        m.contains("expected an array, found integer 5") || m.contains("TOML"),
        "{m}"
    );
    let t = with(
        "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nmicroversion = 2.56\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "microversion",
        &["[[requests]] #1 microversion: expected a string, found float 2.56"],
    );
    let t = with("[steps]\nboot = 5\n");
    assert_msg(
        &fail(&t),
        &t,
        "boot = 5",
        &["[steps] boot: expected a table, found integer 5"],
    );
    let t = with("[[servers]]\nname = \"vm2\"\nflavor = \"m1.small\"\nlocked = \"yes\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "locked",
        &["locked: expected a boolean, found string \"yes\""],
    );
}

#[test]
fn missing_required_keys() {
    let m = fail("seed = 3\n");
    assert!(m.starts_with("x.toml:1:1: "), "{m}");
    assert!(m.contains("missing required key \"name\""), "{m}");
    let t = with("[[flavors]]\nname = \"f\"\nvcpus = 1\nmemory_mb = 1\n");
    assert_msg(
        &fail(&t),
        &t,
        "[[flavors]]\nname = \"f\"",
        &["[[flavors]] \"f\": missing required key \"disk_gb\""],
    );
    let t = with("[[requests]]\nat_s = 1\naction = \"create\"\nserver = \"new\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "[[requests]]",
        &["[[requests]] #1: a create request needs a flavor"],
    );
}

#[test]
fn unknown_names() {
    let t = with("[[servers]]\nname = \"vm3\"\nflavor = \"m1.hueg\"\n");
    let m = fail(&t);
    assert_msg(
        &m,
        &t,
        "m1.hueg",
        &["[[servers]] \"vm3\" flavor: unknown flavor \"m1.hueg\" (known: m1.small, m1.large)"],
    );
    assert!(
        m.starts_with(&format!("x.toml:{}:10: ", line_of(&t, "m1.hueg"))),
        "{m}"
    );
    let t = with("[[servers]]\nname = \"vm3\"\nflavor = \"m1.small\"\nhost = \"h9\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "h9",
        &["[[servers]] \"vm3\" host: unknown host \"h9\" (known: h1)"],
    );
    let t = with("[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm7\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "vm7",
        &["[[requests]] #1 server: unknown server \"vm7\" (known: vm1)"],
    );
    let t = with("[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nhost = \"h2\"\n");
    assert_msg(&fail(&t), &t, "h2", &["unknown host \"h2\""]);
    let t = with("[[faults]]\nstep = \"boot\"\nrequest = \"r9\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "r9",
        &["[[faults]] #1 request: unknown request \"r9\" (known: none defined)"],
    );
    let t = with("[[faults]]\nstep = \"boot\"\nserver = \"nope\"\n");
    assert_msg(&fail(&t), &t, "nope", &["unknown server \"nope\""]);
    let t = with("[[faults]]\nstep = \"boot\"\nhost = \"nope\"\n");
    assert_msg(&fail(&t), &t, "nope", &["[[faults]] #1 host: unknown host"]);
    let t = with("[[service_events]]\nat_s = 1\nhost = \"h5\"\nchange = \"stop\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "h5",
        &["[[service_events]] #1 host: unknown host \"h5\""],
    );
    let t = with(
        "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 1\n\
         arrival = { kind = \"poisson\", rate_per_s = 1 }\ntargets = [\"vm1\", \"ghost\"]\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "ghost",
        &["[[workload.generators]] \"g\" targets[1]: unknown server \"ghost\""],
    );
    let t = with(
        "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 1\n\
         arrival = { kind = \"poisson\", rate_per_s = 1 }\ntargets = { prefix = \"zz\" }\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "zz",
        &["no initial server name starts with \"zz\""],
    );
}

#[test]
fn duplicate_names() {
    let t = with("[[hosts]]\nname = \"h1\"\nvcpus = 1\nmemory_mb = 1024\ndisk_gb = 1\n");
    let m = fail(&t);
    assert!(
        m.contains("duplicate host name \"h1\" (first defined at line 3)"),
        "{m}"
    );
    assert!(m.starts_with("x.toml:21:8: "), "{m}");
    let t = with(
        "[[host_groups]]\nprefix = \"h\"\ncount = 2\nvcpus = 1\nmemory_mb = 1024\ndisk_gb = 1\n",
    );
    // groups expand first (h1, h2), so the [[hosts]] "h1" is the duplicate
    assert_msg(
        &fail(&t),
        &t,
        "name = \"h1\"",
        &["[[hosts]] \"h1\" name: duplicate host name \"h1\""],
    );
    let t = with("[[flavors]]\nname = \"m1.small\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n");
    assert_msg(
        &fail(&t),
        &t,
        "name = \"m1.small\"\nvcpus = 1\nmemory_mb = 1\n",
        &["[[flavors]] \"m1.small\" name: duplicate flavor name \"m1.small\" (first defined at line 8)"],
    );
    let t = with("[[servers]]\nname = \"vm1\"\nflavor = \"m1.small\"\n");
    let m = fail(&t);
    assert!(
        m.contains("duplicate server name \"vm1\" (first defined at line 18)"),
        "{m}"
    );
    assert!(
        m.starts_with("x.toml:21:8: [[servers]] \"vm1\" name: "),
        "{m}"
    );
    let t = with(
        "[[requests]]\nname = \"r\"\nat_s = 1\naction = \"delete\"\nserver = \"vm1\"\n\
         [[requests]]\nname = \"r\"\nat_s = 2\naction = \"delete\"\nserver = \"vm1\"\n",
    );
    let m = fail(&t);
    assert!(
        m.contains("duplicate request name \"r\" (first defined at line 21)"),
        "{m}"
    );
    assert!(
        m.starts_with("x.toml:26:8: [[requests]] \"r\" name: "),
        "{m}"
    );
    let g = "[[workload.generators]]\nname = \"g\"\naction = \"delete\"\ncount = 1\n\
             arrival = { kind = \"poisson\", rate_per_s = 1 }\n";
    let t = with(&format!("{g}{g}"));
    assert!(fail(&t).contains("duplicate generator name \"g\""));
    let t = with(
        "[[requests]]\nat_s = 1\naction = \"create\"\nserver = \"vm1\"\nflavor = \"m1.small\"\n",
    );
    assert_msg(
        &fail(&t),
        &t,
        "server = \"vm1\"\nflavor",
        &["create of \"vm1\": a server of that name already exists"],
    );
}

#[test]
fn impossible_values() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[[hosts]]\nname = \"h2\"\nvcpus = 0\nmemory_mb = 1\ndisk_gb = 1\n",
            "vcpus = 0",
            "[[hosts]] \"h2\" vcpus: must be >= 1 (got 0)",
        ),
        (
            "[[hosts]]\nname = \"h2\"\nvcpus = 1\nmemory_mb = -5\ndisk_gb = 1\n",
            "memory_mb = -5",
            "memory_mb: must be >= 1 (got -5)",
        ),
        (
            "[[flavors]]\nname = \"f\"\nvcpus = 1\nmemory_mb = 0\ndisk_gb = 0\n",
            "memory_mb = 0",
            "[[flavors]] \"f\" memory_mb: must be >= 1 (got 0)",
        ),
        (
            "[[host_groups]]\nprefix = \"c\"\ncount = 0\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n",
            "count = 0",
            "[[host_groups]] prefix \"c\" count: must be >= 1 (got 0)",
        ),
        (
            "[[faults]]\nstep = \"boot\"\nprobability = 1.5\n",
            "probability",
            "[[faults]] #1 probability: must be in [0, 1] (got 1.5)",
        ),
        (
            "[[faults]]\nstep = \"boot\"\ntimes = 0\n",
            "times",
            "times: must be >= 1 (got 0)",
        ),
        (
            "[nova.scheduler]\nmax_attempts = 0\n",
            "max_attempts",
            "[nova.scheduler] max_attempts: must be >= 1 (got 0)",
        ),
        (
            "[nova.filter_scheduler]\nhost_subset_size = 0\n",
            "host_subset_size",
            "[nova.filter_scheduler] host_subset_size: must be >= 1 (got 0)",
        ),
        (
            "[nova.DEFAULT]\nresize_confirm_window = -1\n",
            "resize_confirm_window",
            "[nova.DEFAULT] resize_confirm_window: must be >= 0 seconds (got -1)",
        ),
        (
            "[nova.DEFAULT]\nmigrate_max_retries = -2\n",
            "migrate_max_retries",
            "[nova.DEFAULT] migrate_max_retries: must be >= -1 (got -2)",
        ),
        (
            "[nova.DEFAULT]\ncpu_allocation_ratio = 0.0\n",
            "cpu_allocation_ratio",
            "cpu_allocation_ratio: must be > 0 (got 0)",
        ),
        (
            "[nova.DEFAULT]\nreport_interval = nan\n",
            "report_interval",
            "report_interval: must be a finite number (got NaN)",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"delete\"\n\
             arrival = { kind = \"poisson\", rate_per_s = 1 }\n",
            "[[workload.generators]]",
            "[[workload.generators]] \"g\": a generator needs \"count\" or \"stop_s\"",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 3\n\
             arrival = { kind = \"closed_loop\", concurrency = 0 }\n",
            "arrival",
            "[[workload.generators]] \"g\" arrival.concurrency: must be >= 1 (got 0)",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 3\n\
             arrival = { kind = \"poisson\", rate_per_s = 0 }\n",
            "arrival",
            "arrival.rate_per_s: must be > 0 (got 0)",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\nstart_s = 10\n\
             stop_s = 5\narrival = { kind = \"poisson\", rate_per_s = 1 }\n",
            "stop_s",
            "stop_s: must be after start_s (10.000 s)",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"delete\"\ncount = 3\n\
             arrival = { kind = \"poisson\", rate_per_s = 1 }\nfollow_up = \"confirm\"\n",
            "follow_up",
            "follow_up is only valid for migrate and resize generators",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"create\"\ncount = 3\n\
             arrival = { kind = \"poisson\", rate_per_s = 1 }\n",
            "[[workload.generators]]",
            "a create generator needs a flavor",
        ),
        (
            "[steps]\nboot = { dist = \"empirical\", values_ms = [1, 2, 3], weights = [1, 2] }\n",
            "boot",
            "[steps.boot] weights: has 2 entries but values_ms has 3",
        ),
        (
            "[steps]\nboot = { dist = \"empirical\", values_ms = [1, 2], weights = [0, 0] }\n",
            "boot",
            "[steps.boot] weights: weights must not all be 0",
        ),
        (
            "[steps]\nboot = { dist = \"empirical\", values_ms = [] }\n",
            "boot",
            "[steps.boot] values_ms: must not be empty",
        ),
        (
            "[steps]\nboot = { dist = \"empirical\", values_ms = [1, -2] }\n",
            "boot",
            "[steps.boot] values_ms[1]: must be >= 0 ms (got -2)",
        ),
        (
            "[latency]\napi = { dist = \"uniform\", min_ms = 150, max_ms = 50 }\n",
            "api",
            "[latency.api] min_ms: min_ms (150) must not exceed max_ms (50)",
        ),
        (
            "[latency]\napi = { dist = \"uniform\", min_ms = 1 }\n",
            "api",
            "[latency.api]: dist = \"uniform\" needs \"max_ms\"",
        ),
        (
            "[latency]\napi = { dist = \"gauss\", ms = 1 }\n",
            "api",
            "[latency.api] dist: unknown distribution \"gauss\" (known: constant, uniform,",
        ),
        (
            "[latency]\napi = { dist = \"lognormal\", median_ms = 10, sigma = -1 }\n",
            "api",
            "[latency.api] sigma: must be in [0, 10] (got -1)",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nmicroversion = \"2.105\"\n",
            "microversion",
            "[[requests]] #1 microversion: microversion 2.105 is outside the supported range 2.1..2.104",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nmicroversion = \"2.0\"\n",
            "microversion",
            "outside the supported range",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nmicroversion = \"2.x\"\n",
            "microversion",
            "malformed microversion \"2.x\"",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nmicroversion = \"2.056\"\n",
            "microversion",
            "malformed microversion \"2.056\"",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nrole = \"root\"\n",
            "role",
            "[[requests]] #1 role: unknown role \"root\" (known: admin, manager, member, reader)",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"evacuate\"\nserver = \"vm1\"\n",
            "evacuate",
            "unknown action \"evacuate\" (known: migrate, confirmResize, revertResize, create, delete, os-migrateLive, os-resetState, injectNetworkInfo, resetNetwork, abortLiveMigration, resize)",
        ),
        (
            "[[requests]]\nat_s = -1\naction = \"migrate\"\nserver = \"vm1\"\n",
            "at_s",
            "[[requests]] #1 at_s: must be >= 0 seconds (got -1)",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\nbody = '{\"migrate\": '\n",
            "body",
            "[[requests]] #1 body: invalid JSON body:",
        ),
        (
            "[[requests]]\nat_s = 1\naction = \"delete\"\nserver = \"vm1\"\nhost = \"h1\"\n",
            "host = \"h1\"\n",
            "host is only valid for migrate",
        ),
        (
            "[[faults]]\nstep = \"live_migrate\"\n",
            "live_migrate",
            "[[faults]] #1 step: unknown step \"live_migrate\" (known: prep_resize, resize_instance,",
        ),
        (
            "[[faults]]\nstep = \"boot\"\nkind = \"panic\"\n",
            "panic",
            "unknown fault kind \"panic\" (known: error, rollback, unexpected)",
        ),
        (
            "[[service_events]]\nat_s = 1\nhost = \"h1\"\nchange = \"reboot\"\n",
            "reboot",
            "unknown service change \"reboot\" (known: disable, enable, stop, start)",
        ),
        (
            "[[servers]]\nname = \"vm2\"\nflavor = \"m1.small\"\nvm_state = \"shelved\"\n",
            "shelved",
            "unknown vm_state \"shelved\" (known: active, stopped, paused)",
        ),
        (
            "[[hosts]]\nname = \"h2\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\nperiodic_phase_s = 60\n",
            "periodic_phase_s",
            "periodic_phase_s: must be in [0, 60) seconds (got 60)",
        ),
        (
            "[output]\nthroughput_window_s = 0\n",
            "throughput_window_s",
            "[output] throughput_window_s: must be > 0 seconds (got 0)",
        ),
        (
            "end_s = -3\n",
            "end_s",
            "end_s: must be >= 0 seconds (got -3)",
        ),
        (
            "[[workload.generators]]\nname = \"g\"\naction = \"migrate\"\ncount = 1\n\
             arrival = { kind = \"burst\" }\n",
            "burst",
            "arrival.kind: unknown arrival kind \"burst\" (known: poisson, constant, closed_loop)",
        ),
    ];
    for (extra, needle, want) in cases {
        let t = with(extra);
        let m = fail(&t);
        assert_msg(&m, &t, needle, &[want]);
    }
    let m = fail("name = \"a/b\"\n");
    assert!(m.contains("cannot be used as a directory name"), "{m}");
    let m = fail("name = \"x\"\nseed = -1\n");
    assert!(
        m.starts_with("x.toml:2:8: seed: must be >= 0 (got -1)"),
        "{m}"
    );
}

#[test]
fn invalid_error_carries_key_path_and_position() {
    let t = with("[[servers]]\nname = \"vm3\"\nflavor = \"m1.hueg\"\n");
    match parse(&t) {
        Err(ScenarioError::Invalid {
            file,
            line,
            col,
            key,
            ..
        }) => {
            assert_eq!(file, "x.toml");
            assert_eq!(line, line_of(&t, "m1.hueg"));
            assert_eq!(col, 10);
            assert_eq!(key, "servers[1].flavor");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Overrides.

#[test]
fn overrides_apply_before_validation() {
    let s = parse_with(
        FULL,
        &[
            "nova.DEFAULT.resize_confirm_window=60",
            "nova.scheduler.max_attempts=1",
            "seed=7",
            "latency.compute={ dist = \"constant\", ms = 100 }",
            "hosts.0.vcpus = 8",
            "output.throughput_window_s=1.5",
            "nova.filter_scheduler.num_instances_weight_multiplier=-1",
            "name=renamed",
        ],
    )
    .expect("valid");
    assert_eq!(s.nova.resize_confirm_window, Duration::from_secs(60));
    assert_eq!(s.nova.max_attempts, 1);
    assert_eq!(s.seed, 7);
    assert_eq!(s.latency.compute, Dist::constant_ms(100));
    assert_eq!(s.hosts[3].vcpus, 8);
    assert_eq!(s.output.throughput_window, Duration(1500));
    assert_eq!(s.nova.weights.num_instances, -1.0);
    assert_eq!(s.name, "renamed");

    // Creating a section that the file does not have.
    let s = parse_with("name = \"m\"\n", &["nova.DEFAULT.migrate_max_retries=0"]).expect("valid");
    assert_eq!(s.nova.migrate_max_retries, 0);
}

#[test]
fn override_errors_mention_set() {
    let m = fail_with(FULL, &["nova.DEFAULT.resize_confirm_windw=60"]);
    assert!(
        m.starts_with(
            "x.toml: --set nova.DEFAULT.resize_confirm_windw=60: [nova.DEFAULT]: unknown key \"resize_confirm_windw\" (allowed: resize_confirm_window,"
        ),
        "{m}"
    );
    let m = fail_with(FULL, &["nova.conductor.workers=2"]);
    assert!(
        m.contains("--set nova.conductor.workers=2: [nova]: unknown key \"conductor\""),
        "{m}"
    );
    let m = fail_with(FULL, &["bogus=1"]);
    assert!(
        m.contains("--set bogus=1: top level: unknown key \"bogus\""),
        "{m}"
    );
    let m = fail_with(FULL, &["nova.scheduler.max_attempts=0"]);
    assert_eq!(
        m,
        "x.toml: --set nova.scheduler.max_attempts=0: [nova.scheduler] max_attempts: must be >= 1 (got 0)"
    );
    let m = fail_with(FULL, &["seed=abc"]);
    assert!(
        m.contains("--set seed=abc: seed: expected an integer, found string \"abc\""),
        "{m}"
    );
    let m = fail_with(FULL, &["seed"]);
    assert!(m.contains("--set seed: expected key.path=value"), "{m}");
    let m = fail_with(FULL, &["seed.x=1"]);
    assert!(
        m.contains("--set seed.x=1: cannot set \"seed.x\": \"seed\" is an integer, not a table"),
        "{m}"
    );
    let m = fail_with(FULL, &["hosts.9.vcpus=1"]);
    assert!(
        m.contains("--set hosts.9.vcpus=1: index 9 is out of range: \"hosts\" has 1 elements"),
        "{m}"
    );
    let m = fail_with(FULL, &["a..b=1"]);
    assert!(m.contains("malformed key path"), "{m}");
    // The second override is the one blamed.
    let m = fail_with(FULL, &["seed=3", "end_s=-1"]);
    assert!(
        m.contains("--set end_s=-1: end_s: must be >= 0 seconds"),
        "{m}"
    );
    assert!(matches!(
        parse_with(FULL, &["seed=-4"]),
        Err(ScenarioError::Invalid {
            line: 0,
            col: 0,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Replay CSV.

/// A file under the temp dir with a name unique to this test and process.
fn temp_file(tag: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("novasim-scenario-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join("requests.csv");
    std::fs::write(&p, contents).expect("write csv");
    p
}

fn replay_scenario(csv: &std::path::Path) -> String {
    with(&format!(
        "[[faults]]\nstep = \"boot\"\nrequest = \"c1\"\n[workload]\nreplay_csv = {:?}\n",
        csv.file_name().and_then(|f| f.to_str()).unwrap_or("")
    ))
}

#[test]
fn replay_csv_rows_become_requests() {
    let csv = "at_s,action,server,microversion,role,project,host,body,flavor,name\n\
               1.5,migrate,vm1,2.56,,,h1,,,\n\
               # a comment\n\
               \n\
               2,create,new1,,member,p2,,,m1.large,c1\n\
               3,confirmResize,vm1,,,,,\"{\"\"confirmResize\"\": null}\",,\n\
               4,delete,new1,,,,,,,\n";
    let p = temp_file("ok", csv);
    let toml_path = p.with_file_name("s.toml");
    let text = replay_scenario(&p);
    std::fs::write(&toml_path, &text).expect("write toml");
    let loaded = load(&toml_path, &[]);
    let _ = std::fs::remove_dir_all(p.parent().unwrap_or(&p));
    let s = loaded.expect("valid replay");
    assert_eq!(s.requests.len(), 4);
    let r = &s.requests[0];
    assert_eq!(r.at, SimTime(1500));
    assert_eq!(r.request.action, ActionKind::Migrate);
    assert_eq!(r.request.caller.microversion, Microversion(2, 56));
    assert_eq!(
        r.request.body,
        Some(serde_json::json!({"migrate": {"host": "h1"}}))
    );
    let c = &s.requests[1];
    assert_eq!(c.name.as_deref(), Some("c1"));
    assert_eq!(c.request.flavor, Some(FlavorId(1)));
    assert_eq!(c.request.caller.role, Role::Member);
    assert_eq!(c.request.caller.project.as_deref(), Some("p2"));
    assert_eq!(
        s.requests[2].request.body,
        Some(serde_json::json!({"confirmResize": null}))
    );
    assert_eq!(&*s.requests[3].request.server, "new1");
    assert_eq!(s.faults[0].request.as_deref(), Some("c1"));
}

#[test]
fn bad_replay_rows_name_the_csv_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "at_s,action,server\n1,migrate,vm1\n2,migrate,ghost\n",
            ":3:11: column \"server\": unknown server \"ghost\"",
            "unknown-server",
        ),
        (
            "at_s,action,server\n1,migrate,vm1\nsoon,migrate,vm1\n",
            ":3:1: column \"at_s\": expected a number of seconds, found \"soon\"",
            "bad-time",
        ),
        (
            "at_s,action,server\n1,migrate\n",
            ":2:1: row has 2 fields but the header has 3",
            "short-row",
        ),
        (
            "at_s,action,server,colour\n",
            ":1:20: header: unknown column \"colour\" (allowed: at_s,",
            "bad-header",
        ),
        (
            "at_s,server\n",
            ":1:1: header: no \"action\" column",
            "missing-col",
        ),
        (
            "at_s,action,server,role\n1,migrate,vm1,god\n",
            ":2:15: column \"role\": unknown role \"god\"",
            "bad-role",
        ),
        (
            "at_s,action,server\n1,create,vm9\n",
            ":2:1: a create request needs a flavor",
            "no-flavor",
        ),
        ("", ":1:1: empty replay CSV", "empty"),
    ];
    for (csv, want, tag) in cases {
        let p = temp_file(tag, csv);
        let text = replay_scenario(&p);
        let m = match parse_str(
            &text,
            &p.with_file_name("s.toml").display().to_string(),
            &[],
        ) {
            Ok(_) => panic!("should fail: {csv}"),
            Err(e) => e.to_string(),
        };
        let _ = std::fs::remove_dir_all(p.parent().unwrap_or(&p));
        let prefix = format!("{}{want}", p.display());
        assert!(m.starts_with(&prefix), "expected {prefix}\n     got {m}");
    }
    // A missing file is reported at the replay_csv key of the scenario.
    let t = with("[workload]\nreplay_csv = \"does-not-exist.csv\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "replay_csv",
        &["[workload] replay_csv: cannot read"],
    );
}

#[test]
fn missing_scenario_file_is_io_error() {
    let p = std::env::temp_dir().join(format!("novasim-nonexistent-{}.toml", std::process::id()));
    match load(&p, &[]) {
        Err(ScenarioError::Io { path, .. }) => assert_eq!(path, p),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Garbage never panics.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_strings_never_panic(s in ".{0,300}") {
        let _ = parse_str(&s, "g.toml", &[]);
    }

    #[test]
    fn garbage_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let s = String::from_utf8_lossy(&b);
        let _ = parse_str(&s, "g.toml", &[]);
    }

    #[test]
    fn mutated_example_never_panics(at in 0usize..4000, len in 0usize..40, junk in ".{0,20}") {
        let mut t = FULL.to_string();
        let start = (at % t.len()..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(t.len());
        let end = (start + len..=t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(t.len());
        t.replace_range(start..end.max(start), &junk);
        let _ = parse_str(&t, "g.toml", &[]);
    }

    #[test]
    fn garbage_overrides_never_panic(o in ".{0,60}") {
        let _ = parse_str(FULL, "g.toml", &[o]);
    }
}

#[test]
fn bundled_scenarios_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        if let Err(e) = load(&p, &[]) {
            panic!("{e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Releases (issue 12).

#[test]
fn release_is_selected_by_name_version_or_year() {
    for (form, name) in [
        ("train", "train"),
        ("TRAIN", "train"),
        ("20.0.0", "train"),
        ("21", "ussuri"),
        ("2023.1", "antelope"),
        ("Bobcat", "bobcat"),
        ("2026.1", "gazpacho"),
        ("latest", "gazpacho"),
    ] {
        let s = parse(&with(&format!("release = \"{form}\"\n"))).expect("valid");
        assert_eq!(s.release.name(), name, "{form}");
    }
    // Bare numbers (TOML reads `--set release=2023.1` as a float) stand for their text.
    for (form, name) in [
        ("2023.1", "antelope"),
        ("21", "ussuri"),
        ("2026.1", "gazpacho"),
    ] {
        let s = parse(&with(&format!("release = {form}\n"))).expect("valid");
        assert_eq!(s.release.name(), name, "{form}");
        let s = parse_with(&with(""), &[&format!("release={form}")]).expect("valid");
        assert_eq!(s.release.name(), name, "--set release={form}");
    }
    assert_eq!(parse(&with("")).expect("valid").release, Release::GAZPACHO);
}

#[test]
fn unknown_release_is_refused_with_the_list() {
    let t = with("release = \"queens\"\n");
    assert_msg(
        &fail(&t),
        &t,
        "queens",
        &[
            "release: unknown release \"queens\" (accepted: rocky (18.0.0), stein (19.0.0), train (20.0.0),",
            "antelope (27.0.0, 2023.1),",
            "gazpacho (33.0.0, 2026.1), latest)",
        ],
    );
}

/// `latest` (and an omitted microversion) is the release's `_MAX_API_VERSION`; a version above
/// it is kept for the API to answer 406.
#[test]
fn latest_microversion_follows_the_release() {
    let req = "[[requests]]\nat_s = 1\naction = \"migrate\"\nserver = \"vm1\"\n";
    for (release, minor) in [("rocky", 65), ("train", 79), ("zed", 93), ("gazpacho", 103)] {
        let s = parse(&with(&format!("release = \"{release}\"\n{req}"))).expect("valid");
        assert_eq!(
            s.requests[0].request.caller.microversion,
            Microversion(2, minor)
        );
        let s = parse(&with(&format!(
            "release = \"{release}\"\n{req}microversion = \"latest\"\n"
        )))
        .expect("valid");
        assert_eq!(
            s.requests[0].request.caller.microversion,
            Microversion(2, minor)
        );
    }
    let s = parse(&with(&format!(
        "release = \"rocky\"\n{req}microversion = \"2.79\"\n"
    )))
    .expect("valid");
    assert_eq!(
        s.requests[0].request.caller.microversion,
        Microversion(2, 79)
    );
}

/// `ComputeNode._from_db_object` (18.0.0: 0.0 ⇒ 16.0 / 1.5 / 1.0), `initial_*_allocation_ratio`
/// (19.0.0–26.0.0: 16.0 / 1.5 / 1.0; 27.0.0 on: 4.0 / 1.0 / 1.0); a host's own ratio wins.
#[test]
fn allocation_ratio_defaults_follow_the_release() {
    for (release, cpu, ram) in [
        ("rocky", 16.0, 1.5),
        ("zed", 16.0, 1.5),
        ("antelope", 4.0, 1.0),
        ("gazpacho", 4.0, 1.0),
    ] {
        let s = parse(&with(&format!("release = \"{release}\"\n"))).expect("valid");
        let h = &s.hosts[0];
        assert_eq!(
            (
                h.cpu_allocation_ratio,
                h.ram_allocation_ratio,
                h.disk_allocation_ratio
            ),
            (cpu, ram, 1.0),
            "{release}"
        );
    }
    let pinned = "release = \"rocky\"\n[[hosts]]\nname = \"h2\"\nvcpus = 4\nmemory_mb = 4096\n\
                  disk_gb = 100\ncpu_allocation_ratio = 2.0\n";
    let s = parse(&with(pinned)).expect("valid");
    let h2 = s.hosts.iter().find(|h| h.name == "h2").expect("h2");
    assert_eq!(h2.cpu_allocation_ratio, 2.0);
    assert_eq!(h2.ram_allocation_ratio, 1.5);
}

/// Options a release does not have are refused, naming the release that added them:
/// `initial_*_allocation_ratio` and `[libvirt] live_migration_timeout_action` (19.0.0), the
/// hypervisor-version and num-instances weighers (28.0.0).
#[test]
fn options_absent_from_the_release_are_refused() {
    let cases = [
        (
            "stein",
            "rocky",
            "[nova.DEFAULT]\ninitial_cpu_allocation_ratio = 8.0\n",
            "initial_cpu_allocation_ratio does not exist in release rocky (18.0.0): it was added in stein (19.0.0) (08f3ae9606",
        ),
        (
            "stein",
            "rocky",
            "[nova.libvirt]\nlive_migration_timeout_action = \"force_complete\"\n",
            "live_migration_timeout_action does not exist in release rocky (18.0.0): it was added in stein (19.0.0) (99a075cc94",
        ),
        (
            "bobcat",
            "antelope",
            "[nova.filter_scheduler]\nhypervisor_version_weight_multiplier = 2.0\n",
            "added in bobcat (28.0.0) (e38d6a356b",
        ),
        (
            "bobcat",
            "2023.1",
            "[nova.filter_scheduler]\nnum_instances_weight_multiplier = 1.0\n",
            "added in bobcat (28.0.0) (ca3fbb4d15",
        ),
    ];
    for (ok, old, table, msg) in cases {
        parse(&with(&format!("release = \"{ok}\"\n{table}"))).expect("valid where it exists");
        let t = with(&format!("release = \"{old}\"\n{table}"));
        let key = table
            .lines()
            .nth(1)
            .and_then(|l| l.split(' ').next())
            .unwrap_or("");
        assert_msg(&fail(&t), &t, key, &[msg]);
    }
}

/// `[compute] live_migration_wait_for_vif_plug`: False at 18.0.0, True from 19.0.0; the weighers
/// added in 28.0.0 contribute nothing before.
#[test]
fn option_defaults_follow_the_release() {
    let at = |r: &str| {
        parse(&with(&format!("release = \"{r}\"\n")))
            .expect("valid")
            .nova
    };
    assert!(!at("rocky").live_migration_wait_for_vif_plug);
    assert!(at("stein").live_migration_wait_for_vif_plug);
    assert_eq!(at("antelope").weights.hypervisor_version, 0.0);
    assert_eq!(at("bobcat").weights.hypervisor_version, 1.0);
    let s = parse(&with(
        "release = \"rocky\"\n[nova.compute]\nlive_migration_wait_for_vif_plug = true\n",
    ))
    .expect("valid");
    assert!(s.nova.live_migration_wait_for_vif_plug);
}

// ---------------------------------------------------------------------------------------------
// Server names found by pattern (a group's) or by hash (the others): the same answers.

const NAME_PREFIXES: [&str; 6] = ["a", "b", "a1", "a0", "ab", "a12"];

fn names_scenario(
    groups: &[(usize, u64)],
    explicit: &[(usize, u64)],
    targets: &[String],
) -> String {
    let mut t = String::from(
        "name = \"n\"\nseed = 1\n[[hosts]]\nname = \"h1\"\nvcpus = 100000\nmemory_mb = 100000000\n\
         disk_gb = 1000000\n[[flavors]]\nname = \"f\"\nvcpus = 1\nmemory_mb = 1\ndisk_gb = 1\n",
    );
    for (p, count) in groups {
        let p = NAME_PREFIXES[*p];
        t.push_str(&format!(
            "[[server_groups]]\nprefix = \"{p}\"\ncount = {count}\nflavor = \"f\"\n"
        ));
    }
    for (p, n) in explicit {
        let p = NAME_PREFIXES[*p];
        t.push_str(&format!("[[servers]]\nname = \"{p}{n}\"\nflavor = \"f\"\n"));
    }
    for (i, target) in targets.iter().enumerate() {
        t.push_str(&format!(
            "[[requests]]\nname = \"r{i}\"\nat_s = 1\naction = \"delete\"\nserver = \"{target}\"\n"
        ));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Against the names written out: the first repeated one is the error; otherwise every
    /// server exists in order and a request finds any of them by name.
    #[test]
    fn server_names_by_pattern_match_the_names_written_out(
        groups in proptest::collection::vec((0..NAME_PREFIXES.len(), 1..30u64), 1..4),
        explicit in proptest::collection::vec((0..NAME_PREFIXES.len(), 1..40u64), 0..4),
        picks in proptest::collection::vec(any::<proptest::sample::Index>(), 0..4),
    ) {
        let mut all: Vec<String> = Vec::new();
        for (p, count) in &groups {
            all.extend((1..=*count).map(|n| format!("{}{n}", NAME_PREFIXES[*p])));
        }
        all.extend(explicit.iter().map(|(p, n)| format!("{}{n}", NAME_PREFIXES[*p])));
        let mut seen = std::collections::HashSet::new();
        let repeated = all.iter().find(|n| !seen.insert(n.as_str())).cloned();
        let targets: Vec<String> = picks.iter().map(|i| all[i.index(all.len())].clone()).collect();
        let text = names_scenario(&groups, &explicit, &targets);
        match (parse_str(&text, "n.toml", &[]), repeated) {
            (Err(e), Some(name)) => {
                let expected = format!("duplicate server name {name:?}");
                prop_assert!(e.to_string().contains(&expected), "{e}\n{text}");
            }
            (Ok(s), None) => {
                let loaded: Vec<&str> = s.servers.iter().map(|s| &*s.name).collect();
                prop_assert_eq!(loaded, all.iter().map(String::as_str).collect::<Vec<_>>());
            }
            (outcome, repeated) => {
                prop_assert!(false, "{outcome:?} but repeated {repeated:?}\n{text}");
            }
        }
    }
}

/// A name a group does not make is unknown, however close (a leading zero, one past the
/// count, the bare prefix).
#[test]
fn names_a_group_does_not_make_are_unknown() {
    for name in ["a01", "a4", "a", "a0", "b1"] {
        let text = names_scenario(&[(0, 3)], &[], &[name.to_string()]);
        let m = fail(&text);
        assert!(
            m.contains(&format!("unknown server {name:?}")),
            "{name}: {m}"
        );
    }
    let text = names_scenario(
        &[(0, 3), (1, 2)],
        &[(2, 5)],
        &["a3".into(), "b2".into(), "a15".into()],
    );
    assert!(parse_str(&text, "n.toml", &[]).is_ok());
}
