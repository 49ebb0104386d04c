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
