//! CSV writers and the atomic results folder.

use super::{Hop, RequestRecord};
use crate::engine::SimTime;
use crate::model::{ActionLog, World};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

type Csv = csv::Writer<Box<dyn Write>>;

fn csv_writer(w: Box<dyn Write>) -> Csv {
    csv::WriterBuilder::new().from_writer(w)
}

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

/// One row of transitions.csv.
pub struct TransitionRow<'a> {
    pub time: SimTime,
    pub request: Option<u32>,
    pub server: &'a str,
    pub host: &'a str,
    pub vm_state: &'a str,
    pub task_state: &'a str,
    pub status: &'a str,
    pub migration: Option<u32>,
    pub migration_status: &'a str,
    pub hop: Hop,
    pub step: &'a str,
}

/// The streamed trace files: transitions.csv and hosts.csv.
pub struct TraceWriter {
    transitions: Csv,
    hosts: Csv,
    scratch: Vec<String>,
    pub transition_rows: u64,
    pub host_rows: u64,
}

fn opt_id(prefix: &str, id: Option<u32>) -> String {
    id.map(|i| format!("{prefix}{i}")).unwrap_or_default()
}

impl TraceWriter {
    pub fn new(transitions: Box<dyn Write>, hosts: Box<dyn Write>) -> io::Result<Self> {
        let mut t = csv_writer(transitions);
        t.write_record(TRANSITIONS_HEADER)?;
        let mut h = csv_writer(hosts);
        h.write_record(HOSTS_HEADER)?;
        Ok(TraceWriter {
            transitions: t,
            hosts: h,
            scratch: Vec::with_capacity(12),
            transition_rows: 0,
            host_rows: 0,
        })
    }

    /// Writes to sinks that discard everything (for benchmarks of the engine alone).
    pub fn discard() -> Self {
        // Writing a header to io::sink cannot fail.
        match TraceWriter::new(Box::new(io::sink()), Box::new(io::sink())) {
            Ok(w) => w,
            Err(_) => unreachable!("io::sink never fails"),
        }
    }

    pub fn transition(&mut self, r: &TransitionRow) -> io::Result<()> {
        self.transition_rows += 1;
        self.scratch.clear();
        self.scratch.push(r.time.to_string());
        self.scratch.push(opt_id("req-", r.request));
        self.scratch.push(r.server.to_string());
        self.scratch.push(r.host.to_string());
        self.scratch.push(r.vm_state.to_string());
        self.scratch.push(r.task_state.to_string());
        self.scratch.push(r.status.to_string());
        self.scratch.push(opt_id("mig-", r.migration));
        self.scratch.push(r.migration_status.to_string());
        self.scratch.push(r.hop.as_str().to_string());
        self.scratch.push(r.step.to_string());
        self.transitions.write_record(&self.scratch)?;
        Ok(())
    }

    /// A row of hosts.csv with the host's placement usage now.
    pub fn host_usage(&mut self, time: SimTime, world: &World, h: crate::model::HostId) -> io::Result<()> {
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
        let nums = [
            u.vcpus,
            u.memory_mb,
            u.disk_gb,
            c.vcpus,
            c.memory_mb,
            c.disk_gb,
            m.vcpus,
            m.memory_mb,
            m.disk_gb,
        ];
        self.scratch.clear();
        self.scratch.push(time.to_string());
        self.scratch.push(host.name.clone());
        self.scratch.extend(nums.iter().map(u64::to_string));
        self.scratch.push(state.to_string());
        self.hosts.write_record(&self.scratch)?;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.transitions.flush()?;
        self.hosts.flush()
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

fn opt_time(t: Option<SimTime>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

pub fn write_requests(w: Box<dyn Write>, requests: &[RequestRecord]) -> io::Result<()> {
    let mut out = csv_writer(w);
    out.write_record(REQUESTS_HEADER)?;
    for r in requests {
        let detail = match &r.outcome {
            super::Outcome::Failure(d) => d.as_str(),
            _ => "",
        };
        out.write_record([
            format!("req-{}", r.id).as_str(),
            &r.name,
            &r.submitted.to_string(),
            &opt_time(r.answered),
            r.action,
            &r.server,
            &r.microversion,
            r.role,
            &r.code.to_string(),
            &r.message,
            &opt_time(r.completed),
            r.outcome.label(),
            detail,
        ])?;
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
    let mut out = csv_writer(w);
    out.write_record(ACTIONS_HEADER)?;
    for a in &log.actions {
        let server = &world.server(a.server).name;
        let head = [
            server.clone(),
            a.action.to_string(),
            format!("req-{}", a.request.0),
            a.project.clone().unwrap_or_default(),
            a.start.to_string(),
            if a.message_error { "Error".into() } else { String::new() },
            opt_time(a.finish),
        ];
        if a.events.is_empty() {
            let mut row = head.to_vec();
            row.extend(std::iter::repeat_n(String::new(), 6));
            out.write_record(&row)?;
        }
        for e in &a.events {
            let mut row = head.to_vec();
            row.push(e.name.to_string());
            row.push(e.start.to_string());
            row.push(opt_time(e.finish));
            row.push(e.result.map(|r| r.as_str().to_string()).unwrap_or_default());
            row.push(e.host.map(|h| world.host(h).name.clone()).unwrap_or_default());
            row.push(e.details.clone());
            out.write_record(&row)?;
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
    let mut out = csv_writer(w);
    let mut header = vec!["window_start_s".to_string(), "window_end_s".to_string()];
    for a in ActionKind::ALL {
        for what in ["submitted", "accepted", "rejected", "succeeded", "failed"] {
            header.push(format!("{}_{what}", a.as_str()));
        }
    }
    for s in Status::ALL {
        header.push(format!("servers_{}", s.as_str()));
    }
    out.write_record(&header)?;
    for r in rows {
        let mut rec = vec![r.start.to_string(), r.end.to_string()];
        for counts in &r.per_action {
            rec.extend(counts.iter().map(u64::to_string));
        }
        rec.extend(r.statuses.iter().map(u64::to_string));
        out.write_record(&rec)?;
    }
    out.flush()
}
