//! CSV writers.

use super::row::{encode, RowWriter, Sink};
use super::timeline_rows::TimelineFeed;
use super::RequestRecord;
use crate::config::Microversion;
use crate::engine::SimTime;
use crate::model::{
    ActionEvent, ActionLog, HostId, InstanceAction, MigrationId, MigrationStatus, Resources,
    ServerId, Status, TaskState, VmState, World,
};
use crate::plot::{ChartFeed, HostUsage};
use crate::vocab::{Hop, Purpose, Step};
// The headers belong to the results folder's definition, which the readers share.
pub use crate::results::{
    ACTIONS_HEADER, HOSTS_HEADER, REQUESTS_HEADER, SCHEDULING_HEADER, TRANSITIONS_HEADER,
};
use rustc_hash::FxHashMap;
use std::io;

/// Server and host names by id, for the rows that name them.
pub trait Names {
    fn server_name(&self, s: ServerId) -> &str;
    fn host_name(&self, h: HostId) -> &str;
}

impl Names for World {
    fn server_name(&self, s: ServerId) -> &str {
        &self.server(s).name
    }

    fn host_name(&self, h: HostId) -> &str {
        &self.host(h).name
    }
}

/// One row of hosts.csv: a host's placement usage at `time`.
#[derive(Debug, Clone, Copy)]
pub struct HostUsageRow {
    pub time: SimTime,
    pub host: HostId,
    pub used: Resources,
    pub capacity: Resources,
    /// Held by migrations (on their source or destination).
    pub migration: Resources,
    pub enabled: bool,
    pub up: bool,
}

impl HostUsageRow {
    /// Host `h`'s row now.
    pub fn of(world: &World, h: HostId, time: SimTime) -> HostUsageRow {
        let p = &world.placement;
        let host = world.host(h);
        HostUsageRow {
            time,
            host: h,
            used: p.usage(h),
            capacity: p.capacity(h),
            migration: p.migration_usage(h),
            enabled: host.enabled,
            up: host.up,
        }
    }
}

/// One row of scheduling.csv.
pub struct DecisionRow<'a> {
    pub time: SimTime,
    pub request: Option<u32>,
    pub server: &'a str,
    /// `initial`, `create`, `migrate` or `reschedule`.
    pub purpose: Purpose,
    /// `selected` or `NoValidHost`.
    pub result: &'a str,
    pub selected: &'a str,
    /// Space-separated host names.
    pub alternates: &'a str,
    pub reason: &'a str,
    /// Space-separated `host:reason` (small clouds only).
    pub dropped: &'a str,
}

/// One row of transitions.csv.
#[derive(Debug, Clone, Copy)]
pub struct TransitionRow {
    pub time: SimTime,
    pub request: Option<u32>,
    /// Ids, not names: a server's or host's name is looked up (see [`Names`]) and encoded once.
    pub server: ServerId,
    pub host: Option<HostId>,
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub status: Status,
    pub migration: Option<(MigrationId, MigrationStatus)>,
    /// The destination the simulator has recorded for the migration (not written: the
    /// timeline's feed decides by it which migrations show on a host).
    pub migration_dest: Option<HostId>,
    pub hop: Hop,
    pub step: Step,
}

/// The streamed trace files: transitions.csv, hosts.csv and scheduling.csv (the hot path of
/// every state change), and requests.csv and instance_actions.csv (a row as a request or an
/// action is final).
pub struct TraceWriter {
    transitions: RowWriter,
    hosts: RowWriter,
    scheduling: RowWriter,
    pub requests: RequestsWriter,
    pub actions: ActionsWriter,
    /// The rows timeline.json can show, kept as they are written (`None`: no timeline).
    pub timeline: Option<TimelineFeed>,
    pub transition_rows: u64,
    pub host_rows: u64,
    /// The charts' data, fed with the rows as they are written when the run draws its charts.
    pub charts: Option<ChartFeed>,
    /// Encoded fields that recur on every row (see [`encode`]): a server's or a host's name
    /// (by id; empty until first written — names never change), the state triple, the
    /// migration status with the hop. Copied whole instead of scanned and written field by field.
    server_fields: Vec<Box<[u8]>>,
    host_fields: Vec<Box<[u8]>>,
    /// Indexed by [`state_slot`] and [`migration_hop_slot`].
    states: Vec<Box<[u8]>>,
    migration_hops: Vec<Box<[u8]>>,
    /// The migration status, the hop and a fixed step, by the hop slot and the step's
    /// position in [`Step::FIXED`].
    tails: Vec<Box<[u8]>>,
    /// hosts.csv's resource triples (usage, capacity, migration usage), encoded: a cloud's
    /// usages are sums of a few flavors, so a handful of triples fill most rows (formatting
    /// three numbers per triple was 1 % of the cold storm's instructions).
    triples: FxHashMap<Resources, Box<[u8]>>,
}

/// Distinct triples kept before [`TraceWriter::triples`] starts over (a cloud of many flavor
/// mixes would otherwise grow it without bound).
const MAX_TRIPLES: usize = 4096;

/// Position of `(vm_state, task_state, status)` in a dense table, by declaration order; `None`
/// if a value lies beyond its `ALL` list (then the fields are written one by one).
fn state_slot(vm: VmState, task: Option<TaskState>, status: Status) -> Option<usize> {
    let (v, t, s) = (
        vm as usize,
        task.map_or(0, |t| t as usize + 1),
        status as usize,
    );
    let (nt, ns) = (TaskState::ALL.len() + 1, Status::ALL.len());
    (v < VmState::ALL.len() && t < nt && s < ns).then_some((v * nt + t) * ns + s)
}

/// Position of `(migration status, hop)` in a dense table (see [`state_slot`]).
fn migration_hop_slot(status: Option<MigrationStatus>, hop: Hop) -> Option<usize> {
    const HOPS: usize = Hop::ALL.len();
    let (m, h) = (status.map_or(0, |m| m as usize + 1), hop as usize);
    (m <= MigrationStatus::ALL.len() && h < HOPS).then_some(m * HOPS + h)
}

/// Entry `i` of `cache`, made by `make` the first time.
fn cached(cache: &mut Vec<Box<[u8]>>, i: usize, make: impl FnOnce() -> Box<[u8]>) -> &[u8] {
    if cache.len() <= i {
        cache.resize(i + 1, Box::default());
    }
    if cache[i].is_empty() {
        cache[i] = make();
    }
    &cache[i]
}

impl TraceWriter {
    pub fn new(transitions: Sink, hosts: Sink, scheduling: Sink) -> io::Result<Self> {
        Ok(TraceWriter {
            transitions: RowWriter::new(transitions, &TRANSITIONS_HEADER)?,
            hosts: RowWriter::new(hosts, &HOSTS_HEADER)?,
            scheduling: RowWriter::new(scheduling, &SCHEDULING_HEADER)?,
            // Discarded unless `with_records` gives them files.
            requests: RequestsWriter::new(Box::new(io::sink()))?,
            actions: ActionsWriter::new(Box::new(io::sink()))?,
            timeline: None,
            transition_rows: 0,
            host_rows: 0,
            charts: None,
            server_fields: Vec::new(),
            host_fields: Vec::new(),
            states: Vec::new(),
            migration_hops: Vec::new(),
            tails: Vec::new(),
            triples: FxHashMap::default(),
        })
    }

    /// Writes requests.csv to `requests` and instance_actions.csv to `actions`.
    pub fn with_records(self, requests: Sink, actions: Sink) -> io::Result<Self> {
        Ok(TraceWriter {
            requests: RequestsWriter::new(requests)?,
            actions: ActionsWriter::new(actions)?,
            ..self
        })
    }

    /// Also feeds the charts' data with the rows written (see [`crate::plot::write_all_fed`]).
    pub fn with_chart_feed(self) -> Self {
        TraceWriter {
            charts: Some(ChartFeed::default()),
            ..self
        }
    }

    /// Writes to sinks that discard everything (for tests and benchmarks of the engine alone).
    pub fn discard() -> Self {
        // Writing a header to io::sink cannot fail.
        match TraceWriter::new(
            Box::new(io::sink()),
            Box::new(io::sink()),
            Box::new(io::sink()),
        ) {
            Ok(w) => w,
            Err(_) => unreachable!("io::sink never fails"),
        }
    }

    pub fn transition(&mut self, r: &TransitionRow, names: &impl Names) -> io::Result<()> {
        self.transition_rows += 1;
        if let Some(charts) = &mut self.charts {
            charts.transition(r.time, r.server, r.status);
        }
        let w = &mut self.transitions;
        w.time(r.time);
        w.opt_id("req-", r.request.map(u64::from));
        w.encoded(cached(&mut self.server_fields, r.server.index(), || {
            encode(&[names.server_name(r.server)])
        }));
        match r.host {
            Some(h) => w.encoded(cached(&mut self.host_fields, h.index(), || {
                encode(&[names.host_name(h)])
            })),
            None => w.empty(),
        }
        let states = || {
            encode(&[
                r.vm_state.as_str(),
                r.task_state.map_or("", TaskState::as_str),
                r.status.as_str(),
            ])
        };
        match state_slot(r.vm_state, r.task_state, r.status) {
            Some(i) => w.encoded(cached(&mut self.states, i, states)),
            None => w.encoded(&states()),
        }
        w.opt_id("mig-", r.migration.map(|(m, _)| u64::from(m.0)));
        let migration_status = r.migration.map(|(_, s)| s);
        let status = migration_status.map_or("", MigrationStatus::as_str);
        match (
            migration_hop_slot(migration_status, r.hop),
            r.step.fixed_index(),
        ) {
            // Most rows: one copy of the three last fields, encoded once per combination.
            (Some(i), Some(s)) => {
                let step = r.step;
                w.encoded(cached(&mut self.tails, i * Step::FIXED.len() + s, || {
                    encode(&[status, r.hop.as_str(), &step.text()])
                }))
            }
            (slot, _) => {
                let migration_hop = || encode(&[status, r.hop.as_str()]);
                match slot {
                    Some(i) => w.encoded(cached(&mut self.migration_hops, i, migration_hop)),
                    None => w.encoded(&migration_hop()),
                }
                w.text(&*r.step.text());
            }
        }
        match &mut self.timeline {
            Some(feed) => {
                w.end_row_then(|row| feed.transition(r, names.server_name(r.server), row))
            }
            None => w.end_row(),
        }
    }

    /// A row of hosts.csv: `r`, of the host named `name`.
    pub fn host_usage(&mut self, r: &HostUsageRow, name: &str) -> io::Result<()> {
        self.host_rows += 1;
        let (time, h) = (r.time, r.host);
        let state = match (r.enabled, r.up) {
            (true, true) => "enabled/up",
            (true, false) => "enabled/down",
            (false, true) => "disabled/up",
            (false, false) => "disabled/down",
        };
        if let Some(charts) = &mut self.charts {
            let usage = HostUsage {
                name,
                used: r.used,
                capacity: r.capacity,
                migration: r.migration,
                state,
            };
            charts.host_usage(time, h, &usage);
        }
        let w = &mut self.hosts;
        w.time(time);
        w.encoded(cached(&mut self.host_fields, h.index(), || encode(&[name])));
        for r in [r.used, r.capacity, r.migration] {
            if self.triples.len() >= MAX_TRIPLES && !self.triples.contains_key(&r) {
                self.triples.clear();
            }
            w.encoded(self.triples.entry(r).or_insert_with(|| {
                encode(&[
                    &r.vcpus.to_string(),
                    &r.memory_mb.to_string(),
                    &r.disk_gb.to_string(),
                ])
            }));
        }
        w.label(state);
        match &mut self.timeline {
            Some(feed) => w.end_row_then(|row| feed.host_row(h, name, time, row)),
            None => w.end_row(),
        }
    }

    pub fn decision(&mut self, r: &DecisionRow) -> io::Result<()> {
        let w = &mut self.scheduling;
        w.time(r.time);
        w.opt_id("req-", r.request.map(u64::from));
        for f in [
            r.server,
            r.purpose.as_str(),
            r.result,
            r.selected,
            r.alternates,
            r.reason,
            r.dropped,
        ] {
            w.text(f);
        }
        match &mut self.timeline {
            Some(feed) => w.end_row_then(|row| feed.decision(r, row)),
            None => w.end_row(),
        }
    }

    /// A row of requests.csv (see [`RequestsWriter::request`]), fed to the charts and the
    /// timeline.
    pub fn request(&mut self, r: &RequestRecord) -> io::Result<()> {
        if let Some(charts) = &mut self.charts {
            let succeeded = matches!(r.outcome, super::Outcome::Success);
            charts.request(r.action, r.submitted, r.completed, succeeded);
        }
        self.requests.request(r, self.timeline.as_mut())
    }

    /// The rows of instance action `a` (see [`ActionsWriter::action`]).
    pub fn action<'a>(
        &mut self,
        a: &InstanceAction,
        events: impl Iterator<Item = &'a ActionEvent>,
        names: &impl Names,
    ) -> io::Result<()> {
        self.actions
            .action(a, events, names, self.timeline.as_mut())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.transitions.flush()?;
        self.hosts.flush()?;
        self.scheduling.flush()
    }
}

/// requests.csv, one row per request as the run goes (`records::RequestLog` hands them over
/// in record order).
pub struct RequestsWriter {
    out: RowWriter,
    /// A run uses a handful of microversions: each is formatted once.
    microversions: FxHashMap<Microversion, Box<[u8]>>,
}

impl RequestsWriter {
    pub fn new(w: Sink) -> io::Result<Self> {
        Ok(RequestsWriter {
            out: RowWriter::new(w, &REQUESTS_HEADER)?,
            microversions: FxHashMap::default(),
        })
    }

    /// The row of `r`, handed to `timeline` too.
    pub fn request(
        &mut self,
        r: &RequestRecord,
        timeline: Option<&mut TimelineFeed>,
    ) -> io::Result<()> {
        let out = &mut self.out;
        let detail = match &r.outcome {
            super::Outcome::Failure(d) => d.as_str(),
            _ => "",
        };
        out.id("req-", r.id.into());
        text_or_empty(out, &r.name);
        out.time(r.submitted);
        out.opt_time(r.answered);
        out.label(r.action.as_str());
        text_or_empty(out, &r.server);
        out.encoded(
            self.microversions
                .entry(r.microversion)
                .or_insert_with(|| encode(&[&r.microversion.to_string()])),
        );
        out.label(r.role);
        out.uint(r.code.into());
        text_or_empty(out, &r.message);
        out.opt_time(r.completed);
        out.label(r.outcome.label());
        text_or_empty(out, detail);
        match timeline {
            Some(feed) => out.end_row_then(|row| feed.request(r, row)),
            None => out.end_row(),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A text field; an empty one (most messages and details) is the same bytes without the quote
/// scan and copy.
#[inline]
fn text_or_empty(out: &mut RowWriter, s: &str) {
    if s.is_empty() {
        out.empty();
    } else {
        out.text(s);
    }
}

/// instance_actions.csv: one row per event; an action without events gets one row with empty
/// event columns. Actions are handed over in the order they started, each once nothing can
/// change it any more (see `Sim::stream_records`).
///
/// The seven action columns repeat on every event row of the action, and formatting them again
/// for each row was a large share of this file's cost: they are formatted once per action and
/// their bytes copied for its later events.
pub struct ActionsWriter {
    out: RowWriter,
    /// The action columns of the action being written.
    head: Vec<u8>,
    /// A host name is encoded once for all the events recorded on it.
    host_fields: Vec<Box<[u8]>>,
}

impl ActionsWriter {
    pub fn new(w: Sink) -> io::Result<Self> {
        Ok(ActionsWriter {
            out: RowWriter::new(w, &ACTIONS_HEADER)?,
            head: Vec::new(),
            host_fields: Vec::new(),
        })
    }

    /// The rows of action `a`, whose events are `events` in the order they started, each
    /// handed to `timeline` too.
    pub fn action<'a>(
        &mut self,
        a: &InstanceAction,
        events: impl Iterator<Item = &'a ActionEvent>,
        names: &impl Names,
        mut timeline: Option<&mut TimelineFeed>,
    ) -> io::Result<()> {
        let out = &mut self.out;
        out.text(names.server_name(a.server));
        out.label(a.action.as_str());
        out.id("req-", a.request.0.into());
        text_or_empty(out, a.project.as_deref().unwrap_or(""));
        out.time(a.start);
        if a.message_error {
            out.label("Error");
        } else {
            out.empty();
        }
        out.opt_time(a.finish);
        self.head.clear();
        self.head.extend_from_slice(out.current_row());
        let mut events = events.peekable();
        if events.peek().is_none() {
            for _ in 0..6 {
                out.empty();
            }
            match timeline.as_deref_mut() {
                Some(feed) => out.end_row_then(|row| feed.event(a, None, row))?,
                None => out.end_row()?,
            }
        }
        for (i, e) in events.enumerate() {
            if i > 0 {
                out.encoded(&self.head);
            }
            out.label(e.name.as_str());
            out.time(e.start);
            match e.end {
                Some((finish, result)) => {
                    out.time(finish);
                    out.label(result.as_str());
                }
                None => {
                    out.empty();
                    out.empty();
                }
            }
            match e.host {
                Some(h) => out.encoded(cached(&mut self.host_fields, h.index(), || {
                    encode(&[names.host_name(h)])
                })),
                None => out.empty(),
            }
            text_or_empty(out, &e.details);
            match timeline.as_deref_mut() {
                Some(feed) => out.end_row_then(|row| feed.event(a, Some(e), row))?,
                None => out.end_row()?,
            }
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// instance_actions.csv of every action `log` still holds.
pub fn write_actions(w: Sink, log: &ActionLog, world: &World) -> io::Result<()> {
    let mut out = ActionsWriter::new(w)?;
    for a in &log.actions {
        out.action(a, log.events(a), world, None)?;
    }
    out.flush()
}

/// throughput.csv: per window, per action submitted / accepted / rejected / succeeded / failed,
/// then the number of servers in each status at the window's end.
pub fn write_throughput(w: Sink, rows: &[super::ThroughputRow]) -> io::Result<()> {
    let header = crate::results::throughput_header();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = RowWriter::new(w, &header)?;
    for r in rows {
        out.time(r.start);
        out.time(r.end);
        for &n in r.per_action.iter().flatten().chain(&r.statuses) {
            out.uint(n);
        }
        out.end_row()?;
        // The empty windows after it, made here rather than stored by the run.
        let len = r.end.since(r.start);
        let mut start = r.end;
        for _ in 0..r.empty_after {
            let end = start + len;
            out.time(start);
            out.time(end);
            for _ in r.per_action.iter().flatten() {
                out.uint(0);
            }
            for &n in &r.statuses {
                out.uint(n);
            }
            out.end_row()?;
            start = end;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every state triple and every (migration status, hop) pair has a slot of its own, so
    /// the dense tables never hand one row another's fields.
    #[test]
    fn dense_slots_are_distinct() {
        let tasks = std::iter::once(None).chain(TaskState::ALL.into_iter().map(Some));
        let mut seen = BTreeSet::new();
        for t in tasks {
            for v in VmState::ALL {
                for s in Status::ALL {
                    let slot = state_slot(v, t, s).expect("every value is in its ALL list");
                    assert!(seen.insert(slot), "{v:?} {t:?} {s:?}");
                }
            }
        }
        for (i, h) in Hop::ALL.into_iter().enumerate() {
            assert_eq!(h as usize, i, "Hop::ALL is in declaration order");
        }
        let statuses = std::iter::once(None).chain(MigrationStatus::ALL.into_iter().map(Some));
        let mut seen = BTreeSet::new();
        for m in statuses {
            for h in Hop::ALL {
                let slot = migration_hop_slot(m, h).expect("every hop has a slot");
                assert!(seen.insert(slot), "{m:?} {h:?}");
            }
        }
    }
}
