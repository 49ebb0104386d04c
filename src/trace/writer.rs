//! CSV writers and the atomic results folder.

use super::row::RowWriter;
use super::{Hop, RequestRecord, Step};
use crate::engine::SimTime;
use crate::model::{ActionLog, World};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub const TRANSITIONS_HEADER: [&str; 11] = [
    "time_s",
    "request",
    "server",
    "host",
    "vm_state",
    "task_state",
    "status",
    "migration",
    "migration_status",
    "hop",
    "step",
];

pub const HOSTS_HEADER: [&str; 12] = [
    "time_s",
    "host",
    "vcpus_used",
    "memory_mb_used",
    "disk_gb_used",
    "vcpus_capacity",
    "memory_mb_capacity",
    "disk_gb_capacity",
    "migration_vcpus",
    "migration_memory_mb",
    "migration_disk_gb",
    "enabled_up",
];

pub const SCHEDULING_HEADER: [&str; 9] = [
    "time_s",
    "request",
    "server",
    "purpose",
    "result",
    "selected",
    "alternates",
    "reason",
    "dropped",
];

/// One row of scheduling.csv.
pub struct DecisionRow<'a> {
    pub time: SimTime,
    pub request: Option<u32>,
    pub server: &'a str,
    /// `initial`, `create`, `migrate` or `reschedule`.
    pub purpose: &'a str,
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
pub struct TransitionRow<'a> {
    pub time: SimTime,
    pub request: Option<u32>,
    pub server: &'a str,
    pub host: &'a str,
    pub vm_state: &'static str,
    pub task_state: &'static str,
    pub status: &'static str,
    pub migration: Option<u32>,
    pub migration_status: &'static str,
    pub hop: Hop,
    pub step: Step<'a>,
}

/// The streamed trace files: transitions.csv, hosts.csv and scheduling.csv. This is the hot
/// path of every state change.
pub struct TraceWriter {
    transitions: RowWriter,
    hosts: RowWriter,
    scheduling: RowWriter,
    pub transition_rows: u64,
    pub host_rows: u64,
}

impl TraceWriter {
    pub fn new(
        transitions: Box<dyn Write>,
        hosts: Box<dyn Write>,
        scheduling: Box<dyn Write>,
    ) -> io::Result<Self> {
        Ok(TraceWriter {
            transitions: RowWriter::new(transitions, &TRANSITIONS_HEADER)?,
            hosts: RowWriter::new(hosts, &HOSTS_HEADER)?,
            scheduling: RowWriter::new(scheduling, &SCHEDULING_HEADER)?,
            transition_rows: 0,
            host_rows: 0,
        })
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

    pub fn transition(&mut self, r: &TransitionRow) -> io::Result<()> {
        self.transition_rows += 1;
        let w = &mut self.transitions;
        w.time(r.time);
        w.opt_id("req-", r.request.map(u64::from));
        w.text(r.server);
        w.text(r.host);
        w.label(r.vm_state);
        w.label(r.task_state);
        w.label(r.status);
        w.opt_id("mig-", r.migration.map(u64::from));
        w.label(r.migration_status);
        w.label(r.hop.as_str());
        match r.step {
            Step::Fixed(s) => w.fixed_text(s),
            Step::Text(s) => w.text(s),
        }
        w.end_row()
    }

    /// A row of hosts.csv with the host's placement usage now.
    pub fn host_usage(
        &mut self,
        time: SimTime,
        world: &World,
        h: crate::model::HostId,
    ) -> io::Result<()> {
        self.host_rows += 1;
        let p = &world.placement;
        let (u, c, m) = (p.usage(h), p.capacity(h), p.migration_usage(h));
        let host = world.host(h);
        let state = match (host.enabled, host.up) {
            (true, true) => "enabled/up",
            (true, false) => "enabled/down",
            (false, true) => "disabled/up",
            (false, false) => "disabled/down",
        };
        let w = &mut self.hosts;
        w.time(time);
        w.text(&host.name);
        for n in [
            u.vcpus,
            u.memory_mb,
            u.disk_gb,
            c.vcpus,
            c.memory_mb,
            c.disk_gb,
            m.vcpus,
            m.memory_mb,
            m.disk_gb,
        ] {
            w.uint(n);
        }
        w.label(state);
        w.end_row()
    }

    pub fn decision(&mut self, r: &DecisionRow) -> io::Result<()> {
        let w = &mut self.scheduling;
        w.time(r.time);
        w.opt_id("req-", r.request.map(u64::from));
        for f in [
            r.server,
            r.purpose,
            r.result,
            r.selected,
            r.alternates,
            r.reason,
            r.dropped,
        ] {
            w.text(f);
        }
        w.end_row()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.transitions.flush()?;
        self.hosts.flush()?;
        self.scheduling.flush()
    }
}

pub const REQUESTS_HEADER: [&str; 13] = [
    "request",
    "name",
    "submitted_s",
    "answered_s",
    "action",
    "server",
    "microversion",
    "role",
    "http_code",
    "message",
    "completed_s",
    "outcome",
    "outcome_detail",
];

pub fn write_requests(w: Box<dyn Write>, requests: &[RequestRecord]) -> io::Result<()> {
    let mut out = RowWriter::new(w, &REQUESTS_HEADER)?;
    for r in requests {
        let detail = match &r.outcome {
            super::Outcome::Failure(d) => d.as_str(),
            _ => "",
        };
        out.id("req-", r.id.into());
        out.text(&r.name);
        out.time(r.submitted);
        out.opt_time(r.answered);
        out.label(r.action);
        out.text(&r.server);
        out.text(&r.microversion);
        out.label(r.role);
        out.uint(r.code.into());
        out.text(&r.message);
        out.opt_time(r.completed);
        out.label(r.outcome.label());
        out.text(detail);
        out.end_row()?;
    }
    out.flush()
}

pub const ACTIONS_HEADER: [&str; 13] = [
    "server",
    "action",
    "request",
    "project",
    "action_start_s",
    "message",
    "action_finish_s",
    "event",
    "event_start_s",
    "event_finish_s",
    "result",
    "host",
    "details",
];

/// instance_actions.csv: one row per event; an action without events gets one row with empty
/// event columns.
pub fn write_actions(w: Box<dyn Write>, log: &ActionLog, world: &World) -> io::Result<()> {
    let mut out = RowWriter::new(w, &ACTIONS_HEADER)?;
    for a in &log.actions {
        let head = |out: &mut RowWriter| {
            out.text(&world.server(a.server).name);
            out.label(a.action);
            out.id("req-", a.request.0.into());
            out.text(a.project.as_deref().unwrap_or(""));
            out.time(a.start);
            out.text(if a.message_error { "Error" } else { "" });
            out.opt_time(a.finish);
        };
        if a.events.is_empty() {
            head(&mut out);
            for _ in 0..6 {
                out.empty();
            }
            out.end_row()?;
        }
        for e in &a.events {
            head(&mut out);
            out.label(e.name);
            out.time(e.start);
            out.opt_time(e.finish);
            out.label(e.result.map_or("", |r| r.as_str()));
            out.text(e.host.map_or("", |h| world.host(h).name.as_str()));
            out.text(&e.details);
            out.end_row()?;
        }
    }
    out.flush()
}

/// A results folder written atomically: files go to a hidden sibling folder that is renamed
/// into place only when every file is complete. A failed run leaves no folder that looks
/// complete (the hidden one is removed when this is dropped uncommitted).
pub struct ResultsDir {
    final_path: PathBuf,
    tmp_path: PathBuf,
    committed: bool,
}

impl ResultsDir {
    pub fn create(final_path: &Path) -> io::Result<Self> {
        let parent = final_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        fs::create_dir_all(parent)?;
        let leaf = final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "results".into());
        let tmp_path = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
        if tmp_path.exists() {
            fs::remove_dir_all(&tmp_path)?;
        }
        fs::create_dir_all(&tmp_path)?;
        Ok(ResultsDir {
            final_path: final_path.to_path_buf(),
            tmp_path,
            committed: false,
        })
    }

    pub fn file(&self, name: &str) -> io::Result<Box<dyn Write>> {
        Ok(Box::new(BufWriter::with_capacity(
            1 << 16,
            fs::File::create(self.tmp_path.join(name))?,
        )))
    }

    pub fn path(&self) -> &Path {
        &self.final_path
    }

    /// The hidden folder the files are written to before `commit`.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp_path
    }

    /// Moves the finished folder into place, replacing an older result of the same name.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        if self.final_path.exists() {
            let old = self.tmp_path.with_extension("old");
            fs::rename(&self.final_path, &old)?;
            fs::rename(&self.tmp_path, &self.final_path)?;
            fs::remove_dir_all(&old)?;
        } else {
            fs::rename(&self.tmp_path, &self.final_path)?;
        }
        self.committed = true;
        Ok(self.final_path.clone())
    }
}

impl Drop for ResultsDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp_path);
        }
    }
}

/// throughput.csv: per window, per action submitted / accepted / rejected / succeeded / failed,
/// then the number of servers in each status at the window's end.
pub fn write_throughput(w: Box<dyn Write>, rows: &[crate::sim::ThroughputRow]) -> io::Result<()> {
    use crate::model::Status;
    use crate::scenario::ActionKind;
    let mut header = vec!["window_start_s".to_string(), "window_end_s".to_string()];
    for a in ActionKind::ALL {
        for what in ["submitted", "accepted", "rejected", "succeeded", "failed"] {
            header.push(format!("{}_{what}", a.as_str()));
        }
    }
    for s in Status::ALL {
        header.push(format!("servers_{}", s.as_str()));
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = RowWriter::new(w, &header)?;
    for r in rows {
        out.time(r.start);
        out.time(r.end);
        for &n in r.per_action.iter().flatten().chain(&r.statuses) {
            out.uint(n);
        }
        out.end_row()?;
    }
    out.flush()
}
