//! `timeline.json`: the results folder as a Chrome trace-event file, to open in Perfetto UI
//! (ui.perfetto.dev) or chrome://tracing.
//!
//! Bounded: at most [`MAX_HOSTS`] hosts and [`MAX_SERVERS`] servers, the first in declaration
//! order, have tracks (a host's tracks still show every migration, event and decision on it);
//! `otherData.left_out` counts the others.
//!
//! Layout: one process per host and one per server (named `host h1`, `server vm1` by
//! `process_name` metadata events), hosts first, each in declaration order.
//! * A server's threads: `status` and `task_state` (one complete event per span spent in a
//!   value), `api & scheduler` (instant events for its API requests, with HTTP code and action,
//!   and for scheduler decisions), `migrations` (the status spans of each `mig-N`; terminal
//!   statuses are instants), `instance actions` (one span per instance-action event) and
//!   `requests` (each request from submission to completion).
//! * A host's threads: `service` (enabled/up spans, decisions that chose the host), `migrations`
//!   (the phases of every migration leaving or entering it), `instance actions` (events its
//!   compute ran); counters of the vCPUs and memory used and held by migrations.
//!
//! Spans that may overlap (two migrations leaving one host) are spread over numbered lanes, so
//! every thread holds only sequential spans and viewers never have to guess a nesting. Times
//! are the trace's milliseconds ×1000 (the format counts microseconds). The output depends
//! only on the CSVs and summary.json (a run hands over the rows of them it kept, see
//! `crate::trace::timeline_rows`), never on the folder's path, so the same results give the
//! same bytes (the file is written in the run's temporary folder, whose name varies).
//!
//! Large runs make large timelines (the 10,000-server storm: ~500,000 events), so events are
//! kept as small records pointing into the parsed rows and formatted only when written.

mod input;

use super::AnalysisError;
use crate::engine::SimTime;
use crate::results::Transition;
use crate::trace::timeline_rows::KeptRows;
use input::{Input, Mig};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The file written into every results folder.
pub use crate::results::TIMELINE_FILE;

/// Migration statuses after which nothing more happens to the migration.
const TERMINAL: [&str; 7] = [
    "confirmed",
    "reverted",
    "error",
    "failed",
    "completed",
    "cancelled",
    "done",
];

// Thread ids. Lanes count up from their base.
const TID_SERVICE: u32 = 1;
const TID_STATUS: u32 = 1;
const TID_TASK: u32 = 2;
const TID_API: u32 = 3;
const TID_MIGRATIONS: u32 = 10_000;
const TID_EVENTS: u32 = 20_000;
const TID_REQUESTS: u32 = 30_000;

const COUNTERS: [&str; 4] = [
    "vcpus used",
    "vcpus held by migrations",
    "memory_mb used",
    "memory_mb held by migrations",
];

/// At most this many hosts and this many servers get tracks: the first in declaration order
/// (the order of the results' rows). Perfetto UI loads a JSON trace whole into the browser's
/// memory, and the full timeline of a million-server run (≈ 13 GB of JSON) neither opens there
/// nor writes in a small fraction of the run. `otherData.left_out` says how many were left out.
/// Hosts carry far more events than servers (every migration through them, four counters per
/// usage change): the 100,000-server cold storm (10,000 hosts) wrote 175 MB of JSON (890,000
/// events) with 500 hosts, and its run held 100 MiB more to keep their rows; with 100 hosts,
/// 48 MB (244,000 events), which Perfetto UI opens in seconds.
pub const MAX_HOSTS: usize = 100;
/// See [`MAX_HOSTS`].
pub const MAX_SERVERS: usize = 2000;

/// Reads the results folder `dir` and writes `dir/timeline.json`; returns its path.
pub fn write_timeline(dir: &Path) -> Result<PathBuf, AnalysisError> {
    write_input(dir, &Input::load(dir, MAX_HOSTS, MAX_SERVERS)?)
}

/// Writes `dir/timeline.json` from the rows the run kept for it (`kept`) and `dir`'s
/// summary.json: the same bytes as [`write_timeline`] on the folder, without reading its
/// trace files again. Returns its path.
pub fn write_timeline_kept(dir: &Path, kept: &KeptRows) -> Result<PathBuf, AnalysisError> {
    write_input(dir, &Input::kept(dir, kept)?)
}

/// timeline.json of the folder `dir` as bytes, from the rows its run kept (at their limits)
/// or from its files at `max_hosts`/`max_servers`: for tests comparing the two.
#[cfg(test)]
pub(crate) fn timeline_bytes(
    dir: &Path,
    kept: Option<&KeptRows>,
    max_hosts: usize,
    max_servers: usize,
) -> Result<Vec<u8>, AnalysisError> {
    let input = match kept {
        Some(kept) => Input::kept(dir, kept)?,
        None => Input::load(dir, max_hosts, max_servers)?,
    };
    let mut out = Vec::new();
    render(&input, &mut out).map_err(|source| AnalysisError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(out)
}

/// Writes `results` as `dir/timeline.json`; returns its path.
fn write_input(dir: &Path, results: &Input) -> Result<PathBuf, AnalysisError> {
    let path = dir.join(TIMELINE_FILE);
    let io_err = |source| AnalysisError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::create(&path).map_err(io_err)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    render(results, &mut out).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(path)
}

/// Which side of a migration a track shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Source,
    Dest,
}

/// What a record shows; indexes point into the parsed results.
#[derive(Clone, Copy)]
enum What {
    Status(usize),
    Task(usize),
    /// A migration status span (or a terminal instant) starting at one of its phases.
    Phase {
        mig: usize,
        phase: usize,
        side: Side,
    },
    Event {
        ev: usize,
        on_host: bool,
    },
    RequestAnswer(usize),
    RequestSpan(usize),
    Decision {
        d: usize,
        on_host: bool,
    },
    Service(usize),
    Counter {
        row: usize,
        which: usize,
    },
}

/// One trace event before formatting. `end: None` is an instant (or a counter sample).
#[derive(Clone, Copy)]
struct Rec {
    start: SimTime,
    end: Option<SimTime>,
    pid: u32,
    tid: u32,
    what: What,
}

/// Greedy interval colouring: each span goes to the first lane free at its start. Spans must
/// be offered in start order.
#[derive(Default)]
struct Lanes(Vec<SimTime>);

impl Lanes {
    fn place(&mut self, start: SimTime, end: SimTime) -> u32 {
        let lane = match self.0.iter().position(|&e| e <= start) {
            Some(i) => {
                self.0[i] = end;
                i
            }
            None => {
                self.0.push(end);
                self.0.len() - 1
            }
        };
        lane as u32
    }
}

/// Spans that must share a lane (a migration's phases), shown on one or more tracks.
struct Group {
    start: SimTime,
    end: SimTime,
    /// (pid, side) per track.
    tracks: Vec<(u32, Side)>,
    /// (start, end or None for an instant, what); `side` is filled in per track.
    items: Vec<(SimTime, Option<SimTime>, What)>,
}

#[derive(Default)]
struct Builder {
    recs: Vec<Rec>,
    threads: BTreeMap<(u32, u32), String>,
}

impl Builder {
    fn thread(&mut self, pid: u32, tid: u32, name: impl FnOnce() -> String) {
        self.threads.entry((pid, tid)).or_insert_with(name);
    }

    fn rec(&mut self, pid: u32, tid: u32, start: SimTime, end: Option<SimTime>, what: What) {
        let end = end.map(|e| e.max(start));
        self.recs.push(Rec {
            start,
            end,
            pid,
            tid,
            what,
        });
    }

    /// Lanes per track for `groups` (sorted by start here), then their records.
    fn groups(&mut self, mut groups: Vec<Group>, base_tid: u32, thread: &str) {
        groups.sort_by_key(|g| g.start);
        let mut lanes: BTreeMap<u32, Lanes> = BTreeMap::new();
        for g in &groups {
            for &(pid, side) in &g.tracks {
                let lane = lanes.entry(pid).or_default().place(g.start, g.end);
                let tid = base_tid + lane;
                self.thread(pid, tid, || {
                    if lane == 0 {
                        thread.to_string()
                    } else {
                        format!("{thread} #{}", lane + 1)
                    }
                });
                for &(start, end, what) in &g.items {
                    let what = match what {
                        What::Phase { mig, phase, .. } => What::Phase { mig, phase, side },
                        What::Event { ev, .. } => What::Event {
                            ev,
                            on_host: side != Side::Server,
                        },
                        other => other,
                    };
                    self.rec(pid, tid, start, end, what);
                }
            }
        }
    }
}

/// Consecutive runs of equal `key` values over `rows` (indexes into `all`), as (start, end,
/// first row) spans; empty values make no span. The last run ends at `end`.
fn runs(
    all: &[Transition],
    rows: &[usize],
    key: impl Fn(&Transition) -> &str,
    end: SimTime,
) -> Vec<(SimTime, SimTime, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(SimTime, usize)> = None;
    for &i in rows {
        let r = &all[i];
        if let Some((start, first)) = open {
            if key(&all[first]) == key(r) {
                continue;
            }
            out.push((start, r.time_s, first));
            open = None;
        }
        if !key(r).is_empty() {
            open = Some((r.time_s, i));
        }
    }
    if let Some((start, first)) = open {
        out.push((start, end, first));
    }
    out
}

/// Track ids of every host and server.
struct Tracks<'a> {
    hosts: Vec<String>,
    servers: Vec<String>,
    host_pid: BTreeMap<&'a str, u32>,
    server_pid: BTreeMap<&'a str, u32>,
    /// Requests that name no server (none today) still get a track.
    orphan_pid: u32,
    /// Hosts and servers left out by [`MAX_HOSTS`] and [`MAX_SERVERS`].
    left_out: (usize, usize),
}

/// Writes the whole timeline document to `out`.
fn render(r: &Input, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let end = r.end;
    let hosts = &r.hosts.shown;
    let servers = &r.servers.shown;
    let left_out = (r.hosts.left_out(), r.servers.left_out());
    let tracks = Tracks {
        host_pid: hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i as u32 + 1))
            .collect(),
        server_pid: servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), (hosts.len() + i) as u32 + 1))
            .collect(),
        orphan_pid: (hosts.len() + servers.len()) as u32 + 1,
        left_out,
        hosts: hosts.clone(),
        servers: servers.clone(),
    };
    let mut b = Builder::default();
    server_states(r, &tracks, end, &mut b);
    migrations(r, &tracks, end, &mut b);
    events(r, &tracks, end, &mut b);
    requests(r, &tracks, end, &mut b);
    decisions(r, &tracks, &mut b);
    host_services(r, &tracks, end, &mut b);
    write_all(r, &tracks, b, out)
}

fn server_states(r: &Input, t: &Tracks, end: SimTime, b: &mut Builder) {
    let mut by_server: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, row) in r.transitions.iter().enumerate() {
        by_server.entry(&row.server).or_default().push(i);
    }
    for name in &t.servers {
        let pid = t.server_pid[name.as_str()];
        b.thread(pid, TID_STATUS, || "status".into());
        let rows = by_server.get(name.as_str()).map_or(&[][..], Vec::as_slice);
        for (s, e, first) in runs(&r.transitions, rows, |x| x.status.as_str(), end) {
            b.rec(pid, TID_STATUS, s, Some(e), What::Status(first));
        }
        for (s, e, first) in runs(&r.transitions, rows, |x| x.task(), end) {
            b.thread(pid, TID_TASK, || "task_state".into());
            b.rec(pid, TID_TASK, s, Some(e), What::Task(first));
        }
    }
}

/// Migration status spans on the server and on its source and destination hosts.
fn migrations(r: &Input, t: &Tracks, end: SimTime, b: &mut Builder) {
    let mut groups = Vec::with_capacity(r.migs.len());
    for (k, m) in r.migs.iter().enumerate() {
        let mut items: Vec<(SimTime, Option<SimTime>, What)> = Vec::new();
        let mut open: Option<usize> = None;
        for (p, phase) in m.phases.iter().enumerate() {
            if let Some(o) = open.take() {
                items[o].1 = Some(phase.at);
            }
            let what = What::Phase {
                mig: k,
                phase: p,
                side: Side::Server,
            };
            if TERMINAL.contains(&phase.status) {
                items.push((phase.at, None, what));
            } else {
                open = Some(items.len());
                items.push((phase.at, Some(end), what));
            }
        }
        let mut tracks = Vec::new();
        if let Some(&pid) = t.server_pid.get(m.server.as_str()) {
            tracks.push((pid, Side::Server));
        }
        if let Some(&pid) = t.host_pid.get(m.source.as_str()) {
            tracks.push((pid, Side::Source));
        }
        if let Some(d) = m.dest().filter(|d| *d != m.source) {
            if let Some(&pid) = t.host_pid.get(d) {
                tracks.push((pid, Side::Dest));
            }
        }
        groups.push(Group {
            start: items.first().map_or(SimTime::ZERO, |i| i.0),
            end: if open.is_some() { end } else { m.last },
            tracks,
            items,
        });
    }
    b.groups(groups, TID_MIGRATIONS, "migrations");
}

/// Instance-action events on the server and on the compute host that ran them.
fn events(r: &Input, t: &Tracks, end: SimTime, b: &mut Builder) {
    let mut groups = Vec::with_capacity(r.events.len());
    for (k, e) in r.events.iter().enumerate() {
        let Some(start) = e.event_start_s else {
            continue;
        };
        let stop = e.event_finish_s.unwrap_or(end);
        let mut tracks = Vec::new();
        if let Some(&pid) = t.server_pid.get(e.server.as_str()) {
            tracks.push((pid, Side::Server));
        }
        if let Some(&pid) = t.host_pid.get(e.host.as_str()) {
            tracks.push((pid, Side::Dest));
        }
        let what = What::Event {
            ev: k,
            on_host: false,
        };
        groups.push(Group {
            start,
            end: stop,
            tracks,
            items: vec![(start, Some(stop), what)],
        });
    }
    b.groups(groups, TID_EVENTS, "instance actions");
}

/// API requests: an instant when answered, and a span until the work completed.
fn requests(r: &Input, t: &Tracks, end: SimTime, b: &mut Builder) {
    let mut groups = Vec::with_capacity(r.requests.len());
    for (k, q) in r.requests.iter().enumerate() {
        let pid = match t.server_pid.get(q.server.as_str()) {
            Some(&pid) => pid,
            // A server left out of the selection, not a request without one.
            None if t.left_out.1 > 0 && !q.server.is_empty() => continue,
            None => t.orphan_pid,
        };
        b.thread(pid, TID_API, || "api & scheduler".into());
        let at = q.answered_s.unwrap_or(q.submitted_s);
        b.rec(pid, TID_API, at, None, What::RequestAnswer(k));
        let stop = q.completed_s.or(q.answered_s).unwrap_or(end);
        groups.push(Group {
            start: q.submitted_s,
            end: stop,
            tracks: vec![(pid, Side::Server)],
            items: vec![(q.submitted_s, Some(stop), What::RequestSpan(k))],
        });
    }
    b.groups(groups, TID_REQUESTS, "requests");
}

/// Scheduler decisions: on the server, and on the host chosen.
fn decisions(r: &Input, t: &Tracks, b: &mut Builder) {
    for (k, d) in r.decisions.iter().enumerate() {
        if let Some(&pid) = t.server_pid.get(d.server.as_str()) {
            b.thread(pid, TID_API, || "api & scheduler".into());
            let what = What::Decision {
                d: k,
                on_host: false,
            };
            b.rec(pid, TID_API, d.time_s, None, what);
        }
        if let Some(&pid) = t.host_pid.get(d.selected.as_str()) {
            b.thread(pid, TID_SERVICE, || "service".into());
            let what = What::Decision {
                d: k,
                on_host: true,
            };
            b.rec(pid, TID_SERVICE, d.time_s, None, what);
        }
    }
}

/// Hosts: service state spans and usage counters.
fn host_services(r: &Input, t: &Tracks, end: SimTime, b: &mut Builder) {
    let mut by_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, h) in r.host_rows.iter().enumerate() {
        by_host.entry(&h.host).or_default().push(i);
    }
    for name in &t.hosts {
        let pid = t.host_pid[name.as_str()];
        b.thread(pid, TID_SERVICE, || "service".into());
        let rows = by_host.get(name.as_str()).map_or(&[][..], Vec::as_slice);
        let mut open: Option<(SimTime, usize)> = None;
        let mut prev: Option<[u64; 4]> = None;
        for (n, &i) in rows.iter().enumerate() {
            let h = &r.host_rows[i];
            // Several rows at one instant (e.g. the initial placements): the last one holds.
            if rows
                .get(n + 1)
                .is_some_and(|&j| r.host_rows[j].time_s == h.time_s)
            {
                continue;
            }
            match open {
                Some((_, o)) if r.host_rows[o].enabled_up == h.enabled_up => {}
                _ => {
                    if let Some((start, o)) = open.take() {
                        b.rec(pid, TID_SERVICE, start, Some(h.time_s), What::Service(o));
                    }
                    open = Some((h.time_s, i));
                }
            }
            let now = [
                h.vcpus_used,
                h.migration_vcpus,
                h.memory_mb_used,
                h.migration_memory_mb,
            ];
            for (which, v) in now.iter().enumerate() {
                if prev.is_none_or(|p| p[which] != *v) {
                    b.rec(pid, 0, h.time_s, None, What::Counter { row: i, which });
                }
            }
            prev = Some(now);
        }
        if let Some((start, o)) = open {
            b.rec(pid, TID_SERVICE, start, Some(end), What::Service(o));
        }
    }
}

/// Appends `s` as a JSON string literal.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    // Trace text rarely needs escaping: copy it whole when it does not.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `"args":{…}` straight into the line, leaving out empty values.
struct Args<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Args<'o> {
    fn new(out: &'o mut String) -> Self {
        out.push_str(",\"args\":{");
        Args { out, first: true }
    }

    fn s(&mut self, key: &str, value: &str) -> &mut Self {
        if !value.is_empty() {
            if !self.first {
                self.out.push(',');
            }
            self.first = false;
            json_str(self.out, key);
            self.out.push(':');
            json_str(self.out, value);
        }
        self
    }

    fn time(&mut self, key: &str, value: Option<SimTime>) -> &mut Self {
        match value {
            Some(t) => self.s(key, &t.to_string()),
            None => self,
        }
    }

    fn end(&mut self) {
        self.out.push_str("}}");
    }
}

fn us(t: SimTime) -> u64 {
    t.ms() * 1000
}

/// `{"name":…,"cat":…,"ph":…,"ts":…[,"dur":…],"pid":…,"tid":…` of a span or instant.
fn head(out: &mut String, name: &str, cat: &str, rec: &Rec) {
    out.push_str("{\"name\":");
    json_str(out, name);
    let _ = write!(out, ",\"cat\":\"{cat}\"");
    match rec.end {
        Some(e) => {
            let _ = write!(
                out,
                ",\"ph\":\"X\",\"ts\":{},\"dur\":{}",
                us(rec.start),
                us(e) - us(rec.start)
            );
        }
        None => {
            let _ = write!(out, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":{}", us(rec.start));
        }
    }
    let _ = write!(out, ",\"pid\":{},\"tid\":{}", rec.pid, rec.tid);
}

/// One record as a JSON object.
fn format_rec(out: &mut String, r: &Input, rec: &Rec) {
    match rec.what {
        What::Status(i) | What::Task(i) => {
            let t = &r.transitions[i];
            match rec.what {
                What::Status(_) => head(out, t.status.as_str(), "status", rec),
                _ => head(out, t.task(), "task_state", rec),
            }
            Args::new(out)
                .s("host", &t.host)
                .s("vm_state", t.vm_state.as_str())
                .s("task_state", t.task())
                .s("status", t.status.as_str())
                .s("request", &t.request)
                .s("hop", t.hop.as_str())
                .s("step", &t.step.text())
                .end();
        }
        What::Phase { mig, phase, side } => {
            let m: &Mig = &r.migs[mig];
            let phase = &m.phases[phase];
            let status = phase.status;
            let dest = m.dest().unwrap_or("?");
            let (name, role) = match side {
                Side::Server => (format!("{} {}", m.id, status), ""),
                Side::Source => (
                    format!("{} {} → {dest}: {}", m.server, m.id, status),
                    "source",
                ),
                Side::Dest => (
                    format!("{} {} ← {}: {}", m.server, m.id, m.source, status),
                    "destination",
                ),
            };
            head(out, &name, "migration", rec);
            let mut a = Args::new(out);
            a.s("migration", &m.id)
                .s("server", &m.server)
                .s("source", &m.source)
                .s("dest", dest)
                .s("status", status)
                .s("role", role);
            // The cause once, on the server's track (host tracks repeat the same spans).
            if let (Side::Server, Some(row)) = (side, phase.row) {
                let t = &r.transitions[row];
                a.s("request", &t.request)
                    .s("hop", t.hop.as_str())
                    .s("step", &t.step.text());
            }
            a.end();
        }
        What::Event { ev, on_host } => {
            let e = &r.events[ev];
            if on_host {
                head(
                    out,
                    &format!("{}: {}", e.server, event_name(e)),
                    "instance_action",
                    rec,
                );
            } else {
                head(out, event_name(e), "instance_action", rec);
            }
            Args::new(out)
                .s("server", &e.server)
                .s("action", e.action.as_str())
                .s("request", &e.request)
                .s("project", &e.project)
                .s("result", &e.result)
                .s("host", &e.host)
                .s("details", &e.details)
                .end();
        }
        What::RequestAnswer(k) | What::RequestSpan(k) => {
            let q = &r.requests[k];
            let http_code = q.code();
            let code = if http_code.is_empty() {
                "pending"
            } else {
                http_code.as_str()
            };
            match rec.what {
                What::RequestAnswer(_) => head(
                    out,
                    &format!("{} {} {code}", q.request, q.action),
                    "api",
                    rec,
                ),
                _ => head(out, &format!("{} {}", q.request, q.action), "request", rec),
            }
            Args::new(out)
                .s("request", &q.request)
                .s("name", &q.name)
                .s("action", q.action.as_str())
                .s("server", &q.server)
                .s("microversion", &q.microversion)
                .s("role", &q.role)
                .s("http_code", &http_code)
                .s("message", &q.message)
                .time("submitted_s", Some(q.submitted_s))
                .time("answered_s", q.answered_s)
                .time("completed_s", q.completed_s)
                .s("outcome", &q.outcome)
                .s("outcome_detail", &q.outcome_detail)
                .end();
        }
        What::Decision { d, on_host } => {
            let x = &r.decisions[d];
            let name = if on_host {
                format!("chosen for {} ({})", x.server, x.purpose.as_str())
            } else if x.selected.is_empty() {
                format!("schedule {}: {}", x.purpose.as_str(), x.result)
            } else {
                format!("schedule {}: {}", x.purpose.as_str(), x.selected)
            };
            head(out, &name, "scheduler", rec);
            Args::new(out)
                .s("request", &x.request)
                .s("server", &x.server)
                .s("purpose", x.purpose.as_str())
                .s("result", &x.result)
                .s("selected", &x.selected)
                .s("alternates", &x.alternates)
                .s("reason", &x.reason)
                .s("dropped", &dropped_field(&x.dropped))
                .end();
        }
        What::Service(i) => {
            let h = &r.host_rows[i];
            head(out, &h.enabled_up, "service", rec);
            Args::new(out).s("host", &h.host).end();
        }
        What::Counter { row, which } => {
            let h = &r.host_rows[row];
            let v = [
                h.vcpus_used,
                h.migration_vcpus,
                h.memory_mb_used,
                h.migration_memory_mb,
            ][which];
            out.push_str("{\"name\":");
            json_str(out, COUNTERS[which]);
            let _ = write!(
                out,
                ",\"ph\":\"C\",\"ts\":{},\"pid\":{},\"args\":{{\"value\":{v}}}}}",
                us(rec.start),
                rec.pid
            );
        }
    }
}

/// Metadata first (processes, then threads), then every event by time; one event per line.
fn write_all(
    r: &Input,
    t: &Tracks,
    mut b: Builder,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut line = String::with_capacity(512);
    line.push_str("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"novasim timeline\"");
    if !r.summary.scenario.is_empty() {
        line.push_str(",\"scenario\":");
        json_str(&mut line, &r.summary.scenario);
    }
    let _ = write!(line, ",\"seed\":{}", r.summary.seed);
    if t.left_out != (0, 0) {
        let _ = write!(
            line,
            ",\"left_out\":\"{} hosts and {} servers: only the first {MAX_HOSTS} hosts and \
             {MAX_SERVERS} servers in declaration order have tracks\"",
            t.left_out.0, t.left_out.1
        );
    }
    let _ = write!(
        line,
        ",\"end_time_s\":\"{}\",\"time_unit\":\"ts and dur are microseconds of simulated time\"}},\"traceEvents\":[",
        r.end
    );
    out.write_all(line.as_bytes())?;
    let mut first = true;
    let mut emit = |out: &mut dyn std::io::Write, text: &str| -> std::io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        out.write_all(text.as_bytes())
    };
    let names = t
        .hosts
        .iter()
        .map(|h| format!("host {h}"))
        .chain(t.servers.iter().map(|s| format!("server {s}")));
    let mut processes: Vec<(u32, String)> =
        names.enumerate().map(|(i, n)| (i as u32 + 1, n)).collect();
    if b.threads.keys().any(|(pid, _)| *pid == t.orphan_pid) {
        processes.push((t.orphan_pid, "API (no server)".into()));
    }
    for (pid, name) in &processes {
        line.clear();
        line.push_str("{\"name\":\"process_name\",\"ph\":\"M\",");
        let _ = write!(line, "\"pid\":{pid},\"tid\":0,\"args\":{{\"name\":");
        json_str(&mut line, name);
        line.push_str("}}");
        emit(out, &line)?;
        line.clear();
        let _ = write!(
            line,
            "{{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":{pid},\"tid\":0,\"args\":{{\"sort_index\":{pid}}}}}"
        );
        emit(out, &line)?;
    }
    for ((pid, tid), name) in &b.threads {
        line.clear();
        let _ = write!(
            line,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":"
        );
        json_str(&mut line, name);
        line.push_str("}}");
        emit(out, &line)?;
        // Viewers order threads by this index, else by name.
        line.clear();
        let _ = write!(
            line,
            "{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"sort_index\":{tid}}}}}"
        );
        emit(out, &line)?;
    }
    // Stable: records of one instant and thread keep the order they were made in.
    b.recs.sort_by_key(|rec| (rec.start, rec.pid, rec.tid));
    // Formatting is most of the writing (the 100,000-server cold storm: ~900,000 events, 0.6 s
    // on one core), so batches of records are formatted on every core and written in order:
    // the same bytes, and only one batch held at a time.
    const CHUNK: usize = 4096;
    for batch in b
        .recs
        .chunks(CHUNK * rayon::current_num_threads().max(1) * 2)
    {
        let texts: Vec<String> = batch
            .par_chunks(CHUNK)
            .map(|recs| {
                let mut text = String::with_capacity(recs.len() * 256);
                for rec in recs {
                    text.push_str(",\n");
                    format_rec(&mut text, r, rec);
                }
                text
            })
            .collect();
        for text in &texts {
            // The first event of the file has no comma before it.
            let text = if first { &text[1..] } else { &text[..] };
            first = false;
            out.write_all(text.as_bytes())?;
        }
    }
    out.write_all(b"\n]}\n")
}

/// scheduling.csv's `dropped` field again: space-separated `host:reason`.
fn dropped_field(dropped: &[(String, crate::vocab::DropReason)]) -> String {
    let pairs: Vec<String> = dropped
        .iter()
        .map(|(h, why)| format!("{h}:{}", why.as_str()))
        .collect();
    pairs.join(" ")
}

/// The event column of an instance-action row (empty for an action without events).
fn event_name(e: &crate::results::ActionEvent) -> &'static str {
    e.event.map_or("", crate::model::EventName::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let v: serde_json::Value = serde_json::from_str(&s).expect("valid JSON");
        assert_eq!(v, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn lanes_reuse_the_first_free_one() {
        let mut l = Lanes::default();
        assert_eq!(l.place(SimTime(0), SimTime(10)), 0);
        assert_eq!(l.place(SimTime(5), SimTime(8)), 1);
        assert_eq!(l.place(SimTime(8), SimTime(9)), 1);
        assert_eq!(l.place(SimTime(10), SimTime(20)), 0);
    }
}
