//! The trace writer over the instance actions of a real run (here because it needs a run; the
//! trace module itself stays below the simulator).

use super::Sim;
use crate::model::{ActionLog, World};
use crate::results::ACTIONS_HEADER;
use crate::trace::row::{RowWriter, Shared};
use crate::trace::writer::{write_actions, TraceWriter};
use std::path::Path;

/// instance_actions.csv as written before the head was formatted once per action: every
/// field of every row through the `RowWriter`.
fn field_by_field(log: &ActionLog, world: &World) -> String {
    let sink = Shared::default();
    let mut out = RowWriter::new(Box::new(sink.clone()), &ACTIONS_HEADER).unwrap();
    for a in &log.actions {
        let head = |out: &mut RowWriter| {
            out.text(&*world.server(a.server).name);
            out.text(a.action.as_str());
            out.id("req-", a.request.0.into());
            out.text(a.project.as_deref().unwrap_or(""));
            out.time(a.start);
            out.text(if a.message_error { "Error" } else { "" });
            out.opt_time(a.finish);
        };
        if log.events(a).next().is_none() {
            head(&mut out);
            for _ in 0..6 {
                out.empty();
            }
            out.end_row().unwrap();
        }
        for e in log.events(a) {
            head(&mut out);
            out.text(e.name.as_str());
            out.time(e.start);
            out.opt_time(e.end.map(|(finish, _)| finish));
            out.text(e.end.map_or("", |(_, r)| r.as_str()));
            out.text(e.host.map_or("", |h| world.host(h).name.as_str()));
            out.text(&*e.details);
            out.end_row().unwrap();
        }
    }
    out.flush().unwrap();
    sink.text()
}

/// The copied heads are the bytes the `RowWriter` formats, quotes included, on every event
/// row; actions without events keep their single row.
#[test]
fn actions_match_field_by_field_writing() {
    let path = Path::new("scenarios/resetstate-mid-resize.toml");
    let scenario = crate::scenario::load(path, &[]).unwrap();
    let mut sim = Sim::new(scenario, TraceWriter::discard()).unwrap();
    // The whole log at the end, rather than written as the run goes.
    sim.trace.hold_records = true;
    sim.run().unwrap();
    let (mut world, ..) = sim.into_parts();
    let log = &world.actions;
    assert!(log.actions.iter().any(|a| log.events(a).count() == 0));
    assert!(log.actions.iter().any(|a| log.events(a).count() > 1));
    // Texts that need quotes, in the repeated head and in the event columns.
    for (i, s) in world.servers.iter_mut().enumerate() {
        s.name = format!("vm,{i}").into();
    }
    world.hosts[0].name = "host \"zero\"".into();
    for (i, a) in world.actions.actions.iter_mut().enumerate() {
        a.project = (i % 2 == 0).then(|| format!("pro\"ject\n{i}").into());
        a.message_error = i % 3 == 0;
    }
    for e in world.actions.all_events_mut() {
        e.details = "a, \"b\"".into();
    }
    let sink = Shared::default();
    write_actions(Box::new(sink.clone()), &world.actions, &world).unwrap();
    let ours = sink.text();
    assert_eq!(ours, field_by_field(&world.actions, &world));
    assert!(ours.contains("\"vm,"));
}

/// The five streamed files of `scenario`'s run, the trace written inline or on its thread.
fn streamed_files(scenario: crate::scenario::Scenario, on_thread: bool) -> (Vec<String>, u64) {
    let sinks: Vec<Shared> = (0..5).map(|_| Shared::default()).collect();
    let sink = |i: usize| -> crate::trace::row::Sink { Box::new(sinks[i].clone()) };
    let trace = TraceWriter::new(sink(0), sink(1), sink(2))
        .and_then(|t| t.with_records(sink(3), sink(4)))
        .unwrap();
    let mut sim = if on_thread {
        Sim::with_trace_thread(scenario, trace).unwrap()
    } else {
        Sim::new(scenario, trace).unwrap()
    };
    sim.run().unwrap();
    sim.finish_records().unwrap();
    let rows = sim.transition_rows();
    (sinks.iter().map(Shared::text).collect(), rows)
}

/// A cold-migration storm: 1,000 servers migrated, half confirmed by their client.
const STORM: &str = r#"
name = "storm"
seed = 3
[nova.DEFAULT]
resize_confirm_window = 60
[[host_groups]]
prefix = "cmp"
count = 100
vcpus = 64
memory_mb = 262144
disk_gb = 4000
[[flavors]]
name = "m1.medium"
vcpus = 2
memory_mb = 4096
disk_gb = 40
[[server_groups]]
prefix = "a"
count = 500
flavor = "m1.medium"
[[server_groups]]
prefix = "b"
count = 500
flavor = "m1.medium"
[[workload.generators]]
name = "confirmed"
action = "migrate"
arrival = { kind = "closed_loop", concurrency = 50, think = { dist = "constant", ms = 0 } }
count = 500
targets = { prefix = "a" }
order = "sequential"
follow_up = "confirm"
[[workload.generators]]
name = "autoconfirmed"
action = "migrate"
arrival = { kind = "poisson", rate_per_s = 20.0 }
count = 500
targets = { prefix = "b" }
order = "sequential"
"#;

/// `trace::pipe`: the trace thread writes the bytes the inline writer writes, every file of
/// every bundled scenario and of a storm that hands over many batches.
#[test]
fn the_trace_thread_writes_the_inline_bytes() {
    let mut most_rows = 0;
    let mut scenarios = vec![(
        "storm".to_string(),
        crate::scenario::parse_str(STORM, "storm.toml", &[]).unwrap(),
    )];
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let scenario = crate::scenario::load(&path, &[]).unwrap();
            scenarios.push((path.display().to_string(), scenario));
        }
    }
    for (path, scenario) in scenarios {
        let (inline, rows) = streamed_files(scenario.clone(), false);
        let (threaded, threaded_rows) = streamed_files(scenario, true);
        assert_eq!(rows, threaded_rows, "{path}");
        for (a, b) in inline.iter().zip(&threaded) {
            assert!(a == b, "{path}: the files differ");
        }
        assert!(inline[0].lines().count() as u64 == rows + 1);
        most_rows = most_rows.max(rows);
    }
    assert!(most_rows > 4 * 1024, "some run hands over several batches");
}

/// A sink that fails once `room` bytes are written.
struct Full {
    room: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if bytes.len() > self.room {
            return Err(std::io::Error::other("disk full"));
        }
        self.room -= bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A write error on the trace thread fails the run, as it does inline.
#[test]
fn a_write_error_on_the_trace_thread_fails_the_run() {
    let path = Path::new("scenarios/capacity-drain.toml");
    for on_thread in [false, true] {
        let scenario = crate::scenario::load(path, &[]).unwrap();
        let full = || -> crate::trace::row::Sink { Box::new(Full { room: 2_000 }) };
        let trace = TraceWriter::new(full(), full(), full()).unwrap();
        let mut sim = if on_thread {
            Sim::with_trace_thread(scenario, trace).unwrap()
        } else {
            Sim::new(scenario, trace).unwrap()
        };
        match sim.run() {
            Err(super::SimError::Io(e)) => assert_eq!(e.to_string(), "disk full"),
            other => panic!("on thread {on_thread}: {other:?}"),
        }
    }
}
