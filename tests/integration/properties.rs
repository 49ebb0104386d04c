//! Invariants over random clouds and workloads: capacity never exceeded by the scheduler's own
//! accounting, allocations conserved across every move, every server on exactly one host, status
//! always the §1.3 function of vm_state/task_state.

use novasim::model::{Consumer, HostId, MigrationId, MigrationStatus, ServerId, VmState};
use novasim::scenario::parse_str;
use novasim::sim::Sim;
use novasim::trace::writer::TraceWriter;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    hosts: Vec<(u64, u64)>,
    servers: usize,
    requests: Vec<(u64, usize, usize)>,
    faults: Vec<(usize, u8)>,
    window_s: u64,
    max_attempts: u32,
    service: Vec<(u64, usize, usize)>,
    seed: u64,
}

const ACTIONS: [&str; 5] = [
    "migrate",
    "confirmResize",
    "revertResize",
    "delete",
    "migrate",
];
const STEPS: [&str; 4] = [
    "prep_resize",
    "resize_instance",
    "finish_resize",
    "confirm_resize",
];
const CHANGES: [&str; 4] = ["disable", "enable", "stop", "start"];

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec((2u64..12, 4096u64..24576), 2..7),
        1usize..14,
        proptest::collection::vec((0u64..400, 0usize..5, 0usize..14), 0..30),
        proptest::collection::vec((0usize..4, 10u8..100), 0..3),
        prop_oneof![Just(0u64), 30u64..200],
        1u32..4,
        proptest::collection::vec((0u64..300, 0usize..7, 0usize..4), 0..4),
        0u64..(i64::MAX as u64),
    )
        .prop_map(
            |(hosts, servers, requests, faults, window_s, max_attempts, service, seed)| Case {
                hosts,
                servers,
                requests,
                faults,
                window_s,
                max_attempts,
                service,
                seed,
            },
        )
}

fn scenario_text(c: &Case) -> String {
    let mut t = format!(
        "name = \"prop\"\nseed = {}\n[nova.DEFAULT]\nresize_confirm_window = {}\n[nova.scheduler]\nmax_attempts = {}\n\
         [latency]\ncompute = {{ dist = \"uniform\", min_ms = 5, max_ms = 200 }}\n\
         [steps]\ndisk_copy = {{ dist = \"exponential\", mean_ms = 10000.0 }}\n",
        c.seed, c.window_s, c.max_attempts
    );
    for (i, (vcpus, mem)) in c.hosts.iter().enumerate() {
        t.push_str(&format!(
            "[[hosts]]\nname = \"h{i}\"\nvcpus = {vcpus}\nmemory_mb = {mem}\ndisk_gb = 400\ncpu_allocation_ratio = 1.0\n"
        ));
    }
    t.push_str("[[flavors]]\nname = \"f\"\nvcpus = 2\nmemory_mb = 2048\ndisk_gb = 20\n");
    // Initial servers are created by requests at t=0 so that an over-full random cloud is a
    // NoValidHost outcome, not a setup error.
    for s in 0..c.servers {
        t.push_str(&format!(
            "[[requests]]\nat_s = 0\naction = \"create\"\nserver = \"vm{s}\"\nflavor = \"f\"\nproject = \"demo\"\n"
        ));
    }
    for (at, a, s) in &c.requests {
        t.push_str(&format!(
            "[[requests]]\nat_s = {}\naction = \"{}\"\nserver = \"vm{}\"\n",
            at + 20,
            ACTIONS[*a],
            s % c.servers
        ));
    }
    for (step, pct) in &c.faults {
        t.push_str(&format!(
            "[[faults]]\nstep = \"{}\"\nprobability = {}\n",
            STEPS[*step],
            f64::from(*pct) / 100.0
        ));
    }
    for (at, h, ch) in &c.service {
        t.push_str(&format!(
            "[[service_events]]\nat_s = {}\nhost = \"h{}\"\nchange = \"{}\"\n",
            at,
            h % c.hosts.len(),
            CHANGES[*ch]
        ));
    }
    // Every stopped host comes back, so every parked message is eventually processed.
    for h in 0..c.hosts.len() {
        t.push_str(&format!(
            "[[service_events]]\nat_s = 900\nhost = \"h{h}\"\nchange = \"start\"\n"
        ));
    }
    t
}

fn check_invariants(sim: &Sim) -> Result<(), TestCaseError> {
    let w = sim.world();
    let p = &w.placement;
    // Scheduler accounting: no host beyond capacity (nothing here is pinned).
    for h in 0..w.hosts.len() {
        let h = HostId(h as u32);
        prop_assert!(
            p.usage(h).fits_in(&p.capacity(h)),
            "host {} over capacity",
            h
        );
    }
    // Conservation: usage equals the sum of the consumers' allocations.
    let recount = p.recount();
    for (i, r) in recount.iter().enumerate() {
        prop_assert_eq!(*r, p.usage(HostId(i as u32)));
    }
    let mut per_host = vec![0u32; w.hosts.len()];
    for (i, s) in w.servers.iter().enumerate() {
        let sid = ServerId(i as u32);
        let inst = p.allocation(Consumer::Instance(sid));
        if s.is_deleted() {
            prop_assert!(inst.is_none(), "deleted {} still allocated", s.name);
            continue;
        }
        // Every placed server is on exactly one host, counted once.
        if let Some(h) = s.host {
            per_host[h.index()] += 1;
        } else {
            prop_assert!(matches!(s.vm_state, VmState::Building | VmState::Error));
        }
        // Every allocation has the flavor's size.
        let size = w.flavor(s.flavor).resources();
        if let Some(a) = inst {
            prop_assert_eq!(a.resources, size);
        }
        // A server whose move is under way or awaits confirmation holds its source through the
        // migration consumer (spec §8.5).
        if let Some(m) = s.migration {
            let mig = w.migration(m);
            let held = p.allocation(Consumer::Migration(m));
            if matches!(
                mig.status,
                MigrationStatus::Migrating
                    | MigrationStatus::PostMigrating
                    | MigrationStatus::Finished
                    | MigrationStatus::Confirming
            ) {
                prop_assert_eq!(
                    held.map(|a| a.host),
                    Some(mig.source),
                    "{} {:?}",
                    s.name,
                    mig.status
                );
                prop_assert_eq!(inst.map(|a| a.host), mig.dest);
            }
        }
    }
    prop_assert_eq!(per_host, w.num_instances.clone());
    // Terminal migrations hold nothing (revert faults, which leak in Nova, are not injected).
    for (i, m) in w.migrations.iter().enumerate() {
        // `reverted` is saved on DST before SRC moves the allocation back (§4.7 steps 3–6).
        let revert_in_flight = m.status == MigrationStatus::Reverted
            && w.server(m.server).migration == Some(MigrationId(i as u32));
        if m.status.is_terminal() && !revert_in_flight {
            let held = p.allocation(Consumer::Migration(MigrationId(i as u32)));
            prop_assert!(
                held.is_none(),
                "mig-{} {:?} still holds {:?}",
                i,
                m.status,
                held
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_between_every_instant(c in case()) {
        let scenario = parse_str(&scenario_text(&c), "prop.toml", &[]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut sim = Sim::new(scenario, TraceWriter::discard()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut steps = 0;
        while sim.step().map_err(|e| TestCaseError::fail(e.to_string()))? {
            check_invariants(&sim)?;
            steps += 1;
            prop_assert!(steps < 200_000, "runaway simulation");
        }
        // At the end no move is half-done: every migration is terminal or awaits confirmation,
        // unless a compute stop lost its work (Nova leaves it so: the simulator's own end check
        // names those exemptions).
        sim.check_end(true).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if sim.stats().lost_steps == 0 {
            for m in &sim.world().migrations {
                prop_assert!(m.status.is_terminal() || m.status == MigrationStatus::Finished, "{:?}", m.status);
            }
        }
    }
}

/// Every row of transitions.csv has the status §1.3 derives from its vm_state and task_state.
#[test]
fn trace_status_is_the_state_map_function() {
    use novasim::model::{status_from_state, TaskState};
    let r =
        super::support::run(&std::fs::read_to_string("scenarios/teaching.toml").expect("scenario"));
    assert!(!r.transitions.is_empty());
    for row in &r.transitions {
        let vm = VmState::parse(&row["vm_state"]).expect("vm_state");
        let task = (!row["task_state"].is_empty())
            .then(|| TaskState::parse(&row["task_state"]).expect("task_state"));
        assert_eq!(
            status_from_state(vm, task).as_str(),
            row["status"],
            "{row:?}"
        );
    }
}
