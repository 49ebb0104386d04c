//! The typed rows of a results folder's files, parsed by position after the header has been
//! checked against the writer's (see [`CsvRow`]). Times are integer milliseconds, as the
//! simulator wrote them; the states of the closed vocabularies of `crate::model` are enums.

use super::{ReadError, EXPECTATIONS_FILE, THROUGHPUT_FILE};
use crate::config::ActionKind;
use crate::engine::SimTime;
use crate::model::{ActionName, EventName, MigrationStatus, Status, TaskState, VmState};
use crate::vocab::{DropReason, Hop, Purpose, Step};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::Path;

/// Parses a trace time ("61.250": seconds with up to three decimals) into milliseconds with
/// integer arithmetic only, so a time read back is exactly the time written.
pub fn parse_time(s: &str) -> Option<SimTime> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 3 || !digits(whole) || !digits(frac) {
        return None;
    }
    let mut ms: u64 = whole.parse::<u64>().ok()?.checked_mul(1000)?;
    let mut scale = 100;
    for b in frac.bytes() {
        ms = ms.checked_add(u64::from(b - b'0') * scale)?;
        scale /= 10;
    }
    Some(SimTime(ms))
}

/// A file of the folder whose rows are read by position. The file's header is compared with
/// [`CsvRow::header`] before any row, so that reading a column by its position is safe.
pub(crate) trait CsvRow: Sized {
    const FILE: &'static str;
    /// The columns [`CsvRow::parse`] reads, in the order it reads them: the reader's own
    /// list, not the writer's constant, so that a test can hold the two side by side and a
    /// writer change the parser has not followed fails it (`reader_follows_the_writers`).
    fn header() -> Vec<String>;
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError>;
}

/// Column `i` (0-based) of the record at `position` in `path` is not `what`: the error names
/// the file, line, column and field.
pub(crate) fn bad_value(
    path: &Path,
    position: Option<&csv::Position>,
    header: &[String],
    i: usize,
    value: String,
    what: &'static str,
) -> ReadError {
    ReadError::Value {
        path: path.to_path_buf(),
        line: position.map_or(0, |p| p.line()),
        column: i + 1,
        field: header.get(i).cloned().unwrap_or_default(),
        value,
        what,
    }
}

/// One record with typed getters whose errors name the file, line, column and field.
pub(crate) struct Fields<'a> {
    pub path: &'a Path,
    pub header: &'a [String],
    pub rec: &'a csv::StringRecord,
}

impl Fields<'_> {
    pub fn str(&self, i: usize) -> &str {
        self.rec.get(i).unwrap_or("")
    }

    pub fn string(&self, i: usize) -> String {
        self.str(i).to_string()
    }

    pub fn bad(&self, i: usize, what: &'static str) -> ReadError {
        bad_value(
            self.path,
            self.rec.position(),
            self.header,
            i,
            self.string(i),
            what,
        )
    }

    pub fn time(&self, i: usize) -> Result<SimTime, ReadError> {
        parse_time(self.str(i)).ok_or_else(|| self.bad(i, "a time in seconds"))
    }

    pub fn opt_time(&self, i: usize) -> Result<Option<SimTime>, ReadError> {
        match self.str(i) {
            "" => Ok(None),
            s => parse_time(s)
                .map(Some)
                .ok_or_else(|| self.bad(i, "a time in seconds or empty")),
        }
    }

    pub fn uint(&self, i: usize) -> Result<u64, ReadError> {
        self.str(i)
            .parse()
            .map_err(|_| self.bad(i, "a non-negative integer"))
    }

    /// A value of a closed vocabulary read by its parser.
    fn parsed<T>(
        &self,
        i: usize,
        parse: fn(&str) -> Option<T>,
        what: &'static str,
    ) -> Result<T, ReadError> {
        parse(self.str(i)).ok_or_else(|| self.bad(i, what))
    }

    /// A value of a closed vocabulary, `None` when empty if `optional`.
    fn word<T: Copy>(
        &self,
        i: usize,
        all: &[T],
        name: fn(T) -> &'static str,
        what: &'static str,
    ) -> Result<T, ReadError> {
        let s = self.str(i);
        all.iter()
            .copied()
            .find(|&x| name(x) == s)
            .ok_or_else(|| self.bad(i, what))
    }

    fn opt_word<T: Copy>(
        &self,
        i: usize,
        all: &[T],
        name: fn(T) -> &'static str,
        what: &'static str,
    ) -> Result<Option<T>, ReadError> {
        match self.str(i) {
            "" => Ok(None),
            _ => self.word(i, all, name, what).map(Some),
        }
    }
}

/// One row of transitions.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub time_s: SimTime,
    pub request: String,
    pub server: String,
    pub host: String,
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub status: Status,
    pub migration: String,
    pub migration_status: Option<MigrationStatus>,
    pub hop: Hop,
    pub step: Step,
}

impl Transition {
    /// The task_state as written: empty for None.
    pub fn task(&self) -> &'static str {
        self.task_state.map_or("", TaskState::as_str)
    }

    /// The migration status as written: empty without a migration.
    pub fn migration_status_str(&self) -> &'static str {
        self.migration_status.map_or("", MigrationStatus::as_str)
    }
}

impl CsvRow for Transition {
    const FILE: &'static str = super::TRANSITIONS_FILE;
    fn header() -> Vec<String> {
        strings(&[
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
        ])
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        Ok(Transition {
            time_s: f.time(0)?,
            request: f.string(1),
            server: f.string(2),
            host: f.string(3),
            vm_state: f.word(4, &VmState::ALL, VmState::as_str, "a vm_state")?,
            task_state: f.opt_word(5, &TaskState::ALL, TaskState::as_str, "a task_state")?,
            status: f.word(6, &Status::ALL, Status::as_str, "a server status")?,
            migration: f.string(7),
            migration_status: f.opt_word(
                8,
                &MigrationStatus::ALL,
                MigrationStatus::as_str,
                "a migration status",
            )?,
            hop: f.parsed(
                9,
                Hop::parse,
                "a hop (API, CON, SCH, SRC, DST, CMP, PLC, OPS)",
            )?,
            step: f.parsed(10, Step::parse, "a step this version of novasim writes")?,
        })
    }
}

/// One row of requests.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub request: String,
    pub name: String,
    pub submitted_s: SimTime,
    pub answered_s: Option<SimTime>,
    pub action: ActionKind,
    pub server: String,
    pub microversion: String,
    pub role: String,
    /// `None` while unanswered.
    pub http_code: Option<u16>,
    pub message: String,
    pub completed_s: Option<SimTime>,
    /// `success`, `failure` or `pending`.
    pub outcome: String,
    pub outcome_detail: String,
}

impl Request {
    /// 2xx: the API accepted the request.
    pub fn accepted(&self) -> bool {
        self.http_code.is_some_and(|c| (200..300).contains(&c))
    }

    /// The HTTP code as written: empty while unanswered.
    pub fn code(&self) -> String {
        self.http_code.map_or_else(String::new, |c| c.to_string())
    }
}

impl CsvRow for Request {
    const FILE: &'static str = super::REQUESTS_FILE;
    fn header() -> Vec<String> {
        strings(&[
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
        ])
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        let http_code = match f.str(8) {
            "" => None,
            s => Some(
                s.parse::<u16>()
                    .map_err(|_| f.bad(8, "an HTTP code or empty"))?,
            ),
        };
        Ok(Request {
            request: f.string(0),
            name: f.string(1),
            submitted_s: f.time(2)?,
            answered_s: f.opt_time(3)?,
            action: f.parsed(4, ActionKind::parse, "an API action")?,
            server: f.string(5),
            microversion: f.string(6),
            role: f.string(7),
            http_code,
            message: f.string(9),
            completed_s: f.opt_time(10)?,
            outcome: f.string(11),
            outcome_detail: f.string(12),
        })
    }
}

/// One row of scheduling.csv: a scheduler decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub time_s: SimTime,
    pub request: String,
    pub server: String,
    pub purpose: Purpose,
    pub result: String,
    pub selected: String,
    /// Space-separated host names.
    pub alternates: String,
    pub reason: String,
    /// The hosts dropped and why, in the row's order (small clouds only).
    pub dropped: Vec<(String, DropReason)>,
}

impl CsvRow for Decision {
    const FILE: &'static str = super::SCHEDULING_FILE;
    fn header() -> Vec<String> {
        strings(&[
            "time_s",
            "request",
            "server",
            "purpose",
            "result",
            "selected",
            "alternates",
            "reason",
            "dropped",
        ])
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        Ok(Decision {
            time_s: f.time(0)?,
            request: f.string(1),
            server: f.string(2),
            purpose: f.parsed(
                3,
                Purpose::parse,
                "a purpose (create, migrate, reschedule, live-migrate)",
            )?,
            result: f.string(4),
            selected: f.string(5),
            alternates: f.string(6),
            reason: f.string(7),
            dropped: f
                .str(8)
                .split_whitespace()
                .map(|pair| {
                    let (host, why) = pair.rsplit_once(':').unwrap_or((pair, ""));
                    let why = DropReason::parse(why)
                        .ok_or_else(|| f.bad(8, "space-separated host:reason pairs"))?;
                    Ok((host.to_string(), why))
                })
                .collect::<Result<_, ReadError>>()?,
        })
    }
}

/// One row of instance_actions.csv: one event, or an action without events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEvent {
    pub server: String,
    pub action: ActionName,
    pub request: String,
    pub project: String,
    pub action_start_s: Option<SimTime>,
    pub message: String,
    pub action_finish_s: Option<SimTime>,
    /// `None` on the row of an action without events.
    pub event: Option<EventName>,
    pub event_start_s: Option<SimTime>,
    pub event_finish_s: Option<SimTime>,
    pub result: String,
    pub host: String,
    pub details: String,
}

impl CsvRow for ActionEvent {
    const FILE: &'static str = super::ACTIONS_FILE;
    fn header() -> Vec<String> {
        strings(&[
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
        ])
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        Ok(ActionEvent {
            server: f.string(0),
            action: f.parsed(1, ActionName::parse, "an instance action name")?,
            request: f.string(2),
            project: f.string(3),
            action_start_s: f.opt_time(4)?,
            message: f.string(5),
            action_finish_s: f.opt_time(6)?,
            event: match f.str(7) {
                "" => None,
                _ => Some(f.parsed(7, EventName::parse, "an instance-action event name")?),
            },
            event_start_s: f.opt_time(8)?,
            event_finish_s: f.opt_time(9)?,
            result: f.string(10),
            host: f.string(11),
            details: f.string(12),
        })
    }
}

/// One row of hosts.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRow {
    pub time_s: SimTime,
    pub host: String,
    pub vcpus_used: u64,
    pub memory_mb_used: u64,
    pub disk_gb_used: u64,
    pub vcpus_capacity: u64,
    pub memory_mb_capacity: u64,
    pub disk_gb_capacity: u64,
    pub migration_vcpus: u64,
    pub migration_memory_mb: u64,
    pub migration_disk_gb: u64,
    /// e.g. `enabled/up`.
    pub enabled_up: String,
}

impl CsvRow for HostRow {
    const FILE: &'static str = super::HOSTS_FILE;
    fn header() -> Vec<String> {
        strings(&[
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
        ])
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        Ok(HostRow {
            time_s: f.time(0)?,
            host: f.string(1),
            vcpus_used: f.uint(2)?,
            memory_mb_used: f.uint(3)?,
            disk_gb_used: f.uint(4)?,
            vcpus_capacity: f.uint(5)?,
            memory_mb_capacity: f.uint(6)?,
            disk_gb_capacity: f.uint(7)?,
            migration_vcpus: f.uint(8)?,
            migration_memory_mb: f.uint(9)?,
            migration_disk_gb: f.uint(10)?,
            enabled_up: f.string(11),
        })
    }
}

/// The counts throughput.csv has per action, in column order.
pub const THROUGHPUT_COUNTS: [&str; 5] =
    ["submitted", "accepted", "rejected", "succeeded", "failed"];

/// One window of throughput.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThroughputRow {
    pub window_start_s: SimTime,
    pub window_end_s: SimTime,
    /// Per action of [`Throughput::actions`], the counts of [`THROUGHPUT_COUNTS`].
    pub per_action: Vec<[u64; 5]>,
    /// Servers per status of [`Throughput::statuses`] at the window's end.
    pub servers: Vec<u64>,
}

impl CsvRow for ThroughputRow {
    const FILE: &'static str = THROUGHPUT_FILE;
    fn header() -> Vec<String> {
        let mut h = strings(&["window_start_s", "window_end_s"]);
        for a in crate::config::ActionKind::ALL {
            h.extend(THROUGHPUT_COUNTS.map(|c| format!("{}_{c}", a.as_str())));
        }
        h.extend(Status::ALL.map(|s| format!("servers_{}", s.as_str())));
        h
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        let actions = crate::config::ActionKind::ALL.len();
        let mut per_action = Vec::with_capacity(actions);
        for a in 0..actions {
            let mut counts = [0; 5];
            for (k, n) in counts.iter_mut().enumerate() {
                *n = f.uint(2 + a * 5 + k)?;
            }
            per_action.push(counts);
        }
        let first = 2 + actions * 5;
        let servers = (0..Status::ALL.len())
            .map(|s| f.uint(first + s))
            .collect::<Result<_, _>>()?;
        Ok(ThroughputRow {
            window_start_s: f.time(0)?,
            window_end_s: f.time(1)?,
            per_action,
            servers,
        })
    }
}

/// throughput.csv: its windows, with the names the columns of each row stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throughput {
    /// Action names in column order ([`crate::config::ActionKind::ALL`]).
    pub actions: Vec<&'static str>,
    /// Status names in column order ([`Status::ALL`]).
    pub statuses: Vec<Status>,
    pub rows: Vec<ThroughputRow>,
}

/// One row of expectations.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectationRow {
    /// 1-based position among the scenario's `[[expect]]` tables.
    pub index: u64,
    pub name: String,
    pub kind: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
}

impl CsvRow for ExpectationRow {
    const FILE: &'static str = EXPECTATIONS_FILE;
    fn header() -> Vec<String> {
        strings(&["index", "name", "kind", "result", "expected", "actual"])
    }
    fn parse(f: &Fields<'_>) -> Result<Self, ReadError> {
        let passed = match f.str(3) {
            "pass" => true,
            "fail" => false,
            _ => return Err(f.bad(3, "pass or fail")),
        };
        Ok(ExpectationRow {
            index: f.uint(0)?,
            name: f.string(1),
            kind: f.string(2),
            passed,
            expected: f.string(4),
            actual: f.string(5),
        })
    }
}

fn strings(header: &[&str]) -> Vec<String> {
    header.iter().map(|s| s.to_string()).collect()
}

/// summary.json, as the readers see it. Every field defaults, so a folder written before a
/// figure existed still reads; maps keyed by name stay maps because their keys are open sets
/// (HTTP codes, failure classes) or are listed in full by the writer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    #[serde(deserialize_with = "de_opt_time")]
    pub end_time_s: Option<SimTime>,
    pub events: u64,
    pub requests: u64,
    pub actions: BTreeMap<String, ActionSummary>,
    pub final_status: BTreeMap<String, u64>,
    pub migration_status: BTreeMap<String, u64>,
    pub peak_migration_vcpus: u64,
    pub peak_migration_memory_mb: u64,
    pub instance_actions: u64,
    pub instance_actions_with_error: u64,
}

impl Summary {
    /// Every server the run ever had (created ones included).
    pub fn servers(&self) -> u64 {
        self.final_status.values().sum()
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ActionSummary {
    pub submitted: u64,
    pub http_codes: BTreeMap<String, u64>,
    pub succeeded: u64,
    pub failed_async: u64,
    pub pending: u64,
    pub failures: BTreeMap<String, u64>,
    pub completion_latency: Option<Percentiles>,
    pub response_latency: Option<Percentiles>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Percentiles {
    pub count: u64,
    pub min_ms: u64,
    pub p50_ms: u64,
    pub p90_ms: u64,
    pub p95_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
    pub mean_ms: u64,
    /// Rally's interpolated percentiles: multiples of 0.01 ms, written exactly (absent from
    /// folders written before they existed).
    pub p50_rally_ms: Option<f64>,
    pub p90_rally_ms: Option<f64>,
    pub p95_rally_ms: Option<f64>,
    pub p99_rally_ms: Option<f64>,
}

/// `end_time_s` is a string ("202.020") so that JSON never rounds it; read as milliseconds.
fn de_opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SimTime>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Ok(None);
    }
    parse_time(&s)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("end_time_s {s:?} is not a time")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each reader's columns are the writer's, in the writer's order. When this fails, the
    /// writer changed a file: change the row's `parse` (and its `header`) to follow it.
    #[test]
    fn reader_follows_the_writers() {
        use super::super as results;
        let writer = |h: &[&str]| strings(h);
        assert_eq!(Transition::header(), writer(&results::TRANSITIONS_HEADER));
        assert_eq!(Request::header(), writer(&results::REQUESTS_HEADER));
        assert_eq!(Decision::header(), writer(&results::SCHEDULING_HEADER));
        assert_eq!(ActionEvent::header(), writer(&results::ACTIONS_HEADER));
        assert_eq!(HostRow::header(), writer(&results::HOSTS_HEADER));
        assert_eq!(
            ExpectationRow::header(),
            writer(&results::EXPECTATIONS_HEADER)
        );
        assert_eq!(ThroughputRow::header(), results::throughput_header());
    }

    #[test]
    fn times_read_back_exactly() {
        assert_eq!(parse_time("61.250"), Some(SimTime(61_250)));
        assert_eq!(parse_time("0.005"), Some(SimTime(5)));
        assert_eq!(parse_time("0.000"), Some(SimTime(0)));
        assert_eq!(parse_time("7"), Some(SimTime(7_000)));
        assert_eq!(parse_time("7.5"), Some(SimTime(7_500)));
        for bad in ["", ".5", "1.2345", "-1", "-1.000", "1e3", "a.b", "x.000"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
