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
    pub vm_state: &'a str,
    pub task_state: &'a str,
    pub status: &'a str,
    pub migration: Option<u32>,
    pub migration_status: &'a str,
    pub hop: Hop,
    pub step: &'a str,
}

/// The streamed trace files: transitions.csv and hosts.csv. Fields are written straight into
/// the CSV writer from stack buffers: this is the hot path of every state change.
pub struct TraceWriter {
    transitions: Csv,
    hosts: Csv,
    scheduling: Csv,
    pub transition_rows: u64,
    pub host_rows: u64,
}

/// Formats `t` as seconds with milliseconds ("61.250") without allocating.
fn time_field(t: SimTime, buf: &mut [u8; 24]) -> &[u8] {
    let ms = t.ms();
    let mut i = buf.len();
    let mut frac = ms % 1000;
    for _ in 0..3 {
        i -= 1;
        buf[i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    i -= 1;
    buf[i] = b'.';
    let mut secs = ms / 1000;
    loop {
        i -= 1;
        buf[i] = b'0' + (secs % 10) as u8;
        secs /= 10;
        if secs == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Formats `prefix` followed by `n` without allocating.
fn id_field<'a>(prefix: &[u8], n: u64, buf: &'a mut [u8; 32]) -> &'a [u8] {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = prefix.len() + digits.len() - i;
    buf[..prefix.len()].copy_from_slice(prefix);
    buf[prefix.len()..len].copy_from_slice(&digits[i..]);
    &buf[..len]
}

impl TraceWriter {
    pub fn new(
        transitions: Box<dyn Write>,
        hosts: Box<dyn Write>,
        scheduling: Box<dyn Write>,
    ) -> io::Result<Self> {
        let mut t = csv_writer(transitions);
        t.write_record(TRANSITIONS_HEADER)?;
        let mut h = csv_writer(hosts);
        h.write_record(HOSTS_HEADER)?;
        let mut s = csv_writer(scheduling);
        s.write_record(SCHEDULING_HEADER)?;
        Ok(TraceWriter {
            transitions: t,
            hosts: h,
            scheduling: s,
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
        let (mut tb, mut ib) = ([0u8; 24], [0u8; 32]);
        let w = &mut self.transitions;
        w.write_field(time_field(r.time, &mut tb))?;
        match r.request {
            Some(id) => w.write_field(id_field(b"req-", id.into(), &mut ib))?,
            None => w.write_field(b"")?,
        }
        w.write_field(r.server)?;
        w.write_field(r.host)?;
        w.write_field(r.vm_state)?;
        w.write_field(r.task_state)?;
        w.write_field(r.status)?;
        match r.migration {
            Some(id) => w.write_field(id_field(b"mig-", id.into(), &mut ib))?,
            None => w.write_field(b"")?,
        }
        w.write_field(r.migration_status)?;
        w.write_field(r.hop.as_str())?;
        w.write_field(r.step)?;
        w.write_record(None::<&[u8]>)?;
        Ok(())
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
        let (mut tb, mut ib) = ([0u8; 24], [0u8; 32]);
        let w = &mut self.hosts;
        w.write_field(time_field(time, &mut tb))?;
        w.write_field(&host.name)?;
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
            w.write_field(id_field(b"", n, &mut ib))?;
        }
        w.write_field(state)?;
        w.write_record(None::<&[u8]>)?;
        Ok(())
    }

    pub fn decision(&mut self, r: &DecisionRow) -> io::Result<()> {
        let (mut tb, mut ib) = ([0u8; 24], [0u8; 32]);
        let w = &mut self.scheduling;
        w.write_field(time_field(r.time, &mut tb))?;
        match r.request {
            Some(id) => w.write_field(id_field(b"req-", id.into(), &mut ib))?,
            None => w.write_field(b"")?,
        }
        for f in [
            r.server,
            r.purpose,
            r.result,
            r.selected,
            r.alternates,
            r.reason,
            r.dropped,
        ] {
            w.write_field(f)?;
        }
        w.write_record(None::<&[u8]>)?;
        Ok(())
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
/// event columns. Fields are written without building intermediate strings.
pub fn write_actions(w: Box<dyn Write>, log: &ActionLog, world: &World) -> io::Result<()> {
    let mut out = csv_writer(w);
    out.write_record(ACTIONS_HEADER)?;
    let (mut tb, mut ib) = ([0u8; 24], [0u8; 32]);
    for a in &log.actions {
        let head = |out: &mut Csv, tb: &mut [u8; 24], ib: &mut [u8; 32]| -> io::Result<()> {
            out.write_field(&world.server(a.server).name)?;
            out.write_field(a.action)?;
            out.write_field(id_field(b"req-", a.request.0.into(), ib))?;
            out.write_field(a.project.as_deref().unwrap_or(""))?;
            out.write_field(time_field(a.start, tb))?;
            out.write_field(if a.message_error { "Error" } else { "" })?;
            match a.finish {
                Some(t) => out.write_field(time_field(t, tb))?,
                None => out.write_field("")?,
            }
            Ok(())
        };
        if a.events.is_empty() {
            head(&mut out, &mut tb, &mut ib)?;
            for _ in 0..6 {
                out.write_field("")?;
            }
            out.write_record(None::<&[u8]>)?;
        }
        for e in &a.events {
            head(&mut out, &mut tb, &mut ib)?;
            out.write_field(e.name)?;
            out.write_field(time_field(e.start, &mut tb))?;
            match e.finish {
                Some(t) => out.write_field(time_field(t, &mut tb))?,
                None => out.write_field("")?,
            }
            out.write_field(e.result.map_or("", |r| r.as_str()))?;
            out.write_field(e.host.map_or("", |h| world.host(h).name.as_str()))?;
            out.write_field(&e.details)?;
            out.write_record(None::<&[u8]>)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_format_like_display() {
        let mut tb = [0u8; 24];
        for ms in [0u64, 5, 61_250, 1_000, 123_456_789] {
            assert_eq!(
                time_field(SimTime(ms), &mut tb),
                SimTime(ms).to_string().as_bytes()
            );
        }
        let mut ib = [0u8; 32];
        assert_eq!(id_field(b"req-", 0, &mut ib), b"req-0");
        assert_eq!(id_field(b"mig-", 40_213, &mut ib), b"mig-40213");
        assert_eq!(
            id_field(b"", u64::MAX, &mut ib),
            u64::MAX.to_string().as_bytes()
        );
    }
}
