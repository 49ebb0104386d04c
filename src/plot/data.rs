//! What the charts draw, computed from the typed rows of a results folder
//! ([`crate::results`]). Times are kept as integer milliseconds, like the files.

use super::PlotError;
use crate::config::ActionKind;
use crate::model::{MigrationStatus, Status};
use crate::results::{self, NameKey, Request, ResultsFolder, Transition, THROUGHPUT_COUNTS};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Runs with more servers than this get no timeline chart: rows would be under a few pixels.
pub const MAX_TIMELINE_SERVERS: usize = 300;

/// Milliseconds to seconds for an axis.
pub fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// Position of an action in the simulator's own order (the order of throughput.csv), so
/// colours and panels are the same in every chart and every run; unknown names go last.
pub fn action_rank(name: &str) -> usize {
    ActionKind::ALL
        .iter()
        .position(|a| a.as_str() == name)
        .unwrap_or(ActionKind::ALL.len())
}

/// Number of servers of the run (every server ever created, from summary.json), without
/// reading transitions.csv, which is large for large runs.
pub fn server_count(folder: &ResultsFolder) -> Result<usize, PlotError> {
    Ok(folder.summary()?.servers() as usize)
}

/// The run's simulated end time (summary.json `end_time_s`), if it has one.
pub(crate) fn end_ms(folder: &ResultsFolder) -> Result<Option<u64>, PlotError> {
    Ok(folder.summary()?.end_time_s.map(|t| t.ms()))
}

/// Per-window counts of one action.
#[derive(Debug, Default, Clone)]
pub struct ActionCounts {
    pub name: String,
    pub submitted: Vec<u64>,
    pub rejected: Vec<u64>,
    pub succeeded: Vec<u64>,
    pub failed: Vec<u64>,
}

impl ActionCounts {
    /// Whether the action occurs in the run at all.
    pub fn present(&self) -> bool {
        [
            &self.submitted,
            &self.rejected,
            &self.succeeded,
            &self.failed,
        ]
        .iter()
        .any(|v| v.iter().any(|&n| n > 0))
    }
}

/// throughput.csv.
#[derive(Debug, Default)]
pub struct Throughput {
    /// Window (start, end), ms.
    pub windows: Vec<(u64, u64)>,
    /// Every action of the header, in its order.
    pub actions: Vec<ActionCounts>,
}

impl Throughput {
    pub fn load(folder: &ResultsFolder) -> Result<Throughput, PlotError> {
        let t = folder.throughput()?;
        // The `servers_<STATUS>` columns (samples at the windows' ends) are not read: the
        // status chart is drawn from transitions.csv, exactly.
        let [submitted, _, rejected, succeeded, failed] = THROUGHPUT_COUNTS.map(|c| {
            THROUGHPUT_COUNTS
                .iter()
                .position(|&x| x == c)
                .unwrap_or_default()
        });
        let actions = t
            .actions
            .iter()
            .enumerate()
            .map(|(a, name)| {
                let counts = |k: usize| t.rows.iter().map(|r| r.per_action[a][k]).collect();
                ActionCounts {
                    name: name.to_string(),
                    submitted: counts(submitted),
                    rejected: counts(rejected),
                    succeeded: counts(succeeded),
                    failed: counts(failed),
                }
            })
            .collect();
        let windows = t
            .rows
            .iter()
            .map(|r| (r.window_start_s.ms(), r.window_end_s.ms()))
            .collect();
        Ok(Throughput { windows, actions })
    }
}

/// Rank of a status in the simulator's order (`Status::ALL`, the columns of throughput.csv),
/// so layers and legends are in the same order in every chart; unknown names go last.
pub fn status_rank(s: &str) -> usize {
    Status::ALL
        .iter()
        .position(|x| x.as_str() == s)
        .unwrap_or(Status::ALL.len())
}

/// Servers per status as an exact step function of time, from transitions.csv: each step
/// starts at an instant where some server's status changed and holds the counts after every
/// row of that instant, until the next step (the last one until `end_ms`). A state that lasts
/// 1 ms is a step of 1 ms; nothing is sampled.
#[derive(Debug, Default)]
pub struct StatusSteps {
    /// Statuses that some server had at some instant, in [`status_rank`] order.
    pub statuses: Vec<String>,
    /// (start ms, servers per status of `statuses`), strictly increasing starts.
    pub steps: Vec<(u64, Vec<u64>)>,
    /// The run's end (summary.json `end_time_s`, or the last row if later).
    pub end_ms: u64,
}

impl StatusSteps {
    pub fn load(folder: &ResultsFolder) -> Result<StatusSteps, PlotError> {
        let mut servers: FxHashMap<NameKey, usize> = FxHashMap::default();
        let mut steps = StatusStepsBuilder::default();
        // Only the three columns drawn are read, not whole rows (1.7 M rows in the
        // 1,000,000-server drain: see `ResultsFolder::each_raw`).
        folder.each_raw::<Transition>(|row| {
            let t = row.time(0)?.ms();
            let st = row.str(6)?;
            let status = Status::ALL
                .into_iter()
                .find(|s| s.as_str() == st)
                .ok_or_else(|| row.bad(6, "a server status"))?;
            let next = servers.len();
            let server = *servers.entry(NameKey::new(row.str(2)?)).or_insert(next);
            steps.row(t, server, status);
            Ok(true)
        })?;
        Ok(steps.finish(end_ms(folder)?))
    }

    /// The intervals `[start, end)` (ms) where `status` has a non-zero count, with the count;
    /// adjacent steps of equal count merged. (What the tests read the step function by.)
    #[cfg(test)]
    pub fn intervals(&self, status: &str) -> Vec<(u64, u64, u64)> {
        let Some(k) = self.statuses.iter().position(|s| s == status) else {
            return Vec::new();
        };
        let mut out: Vec<(u64, u64, u64)> = Vec::new();
        for (i, (t, c)) in self.steps.iter().enumerate() {
            let end = self.steps.get(i + 1).map_or(self.end_ms, |s| s.0);
            let n = c[k];
            match out.last_mut() {
                Some(last) if last.1 == *t && last.2 == n => last.1 = end,
                _ => out.push((*t, end, n)),
            }
        }
        out.retain(|iv| iv.2 > 0);
        out
    }
}

/// A vector grown in chunks of at most [`Chunked::CHUNK`] items: a run fills the builders
/// below while it simulates, and a vector grown by doubling would hold its items twice while
/// it moves them, at the peak of the run's memory.
#[derive(Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    const CHUNK: usize = 1 << 16;

    fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(item),
            _ => self.chunks.push(vec![item]),
        }
    }

    fn last_mut(&mut self) -> Option<&mut T> {
        self.chunks.last_mut()?.last_mut()
    }

    /// The items in order, each chunk freed once read.
    fn into_iter(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

/// Builds [`StatusSteps`] from the transitions in time order, each a server's status from its
/// instant on. Servers are the caller's dense indexes (a name's order of first sight in
/// transitions.csv, or the run's `ServerId`s).
///
/// A run feeds this while it simulates, so it holds little: each server's current status, the
/// instants where some status changed and the changes (two bytes each); the steps (a count
/// per status per instant) are made by [`StatusStepsBuilder::finish`], once the simulation's
/// own state is gone.
#[derive(Debug, Default)]
pub struct StatusStepsBuilder {
    /// Per server, its current status (`None` before its first row).
    current: Vec<Option<Status>>,
    /// (t ms, how many changes of `changes` are at t), in time order.
    instants: Chunked<(u64, usize)>,
    /// A server left a status (none: it is new) for another, in time order.
    changes: Chunked<(Option<Status>, Status)>,
    last_t: u64,
}

impl StatusStepsBuilder {
    /// Server `server` has `status` from `t` ms on (`t` never less than the last row's).
    pub fn row(&mut self, t: u64, server: usize, status: Status) {
        self.last_t = t;
        if self.current.len() <= server {
            self.current.resize(server + 1, None);
        }
        let from = self.current[server].replace(status);
        if from == Some(status) {
            return;
        }
        self.changes.push((from, status));
        match self.instants.last_mut() {
            Some((at, n)) if *at == t => *n += 1,
            _ => self.instants.push((t, 1)),
        }
    }

    /// The step function, the last step lasting until `end_ms` (the run's end, if known) or the
    /// last row, whichever is later.
    pub fn finish(self, end_ms: Option<u64>) -> StatusSteps {
        // Columns: every status some server had, in the simulator's order. `Status::ALL` is in
        // declaration order (see the test `statuses_index_their_table`).
        let mut seen = [false; Status::ALL.len()];
        for chunk in &self.changes.chunks {
            for &(_, to) in chunk {
                seen[to as usize] = true;
            }
        }
        let columns: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|&s| seen[s as usize])
            .collect();
        let mut counts = [0u64; Status::ALL.len()];
        let mut steps: Vec<(u64, Vec<u64>)> = Vec::new();
        let mut changes = self.changes.into_iter();
        // The counts of an instant are those after its last row; an instant that changes no
        // count (a server that left a status and came back) is no step.
        for (t, n) in self.instants.into_iter() {
            for (from, to) in changes.by_ref().take(n) {
                if let Some(from) = from {
                    counts[from as usize] -= 1;
                }
                counts[to as usize] += 1;
            }
            let now: Vec<u64> = columns.iter().map(|&s| counts[s as usize]).collect();
            if steps.last().is_none_or(|(_, prev)| *prev != now) {
                steps.push((t, now));
            }
        }
        StatusSteps {
            statuses: columns.iter().map(|s| s.as_str().to_string()).collect(),
            steps,
            end_ms: self.last_t.max(end_ms.unwrap_or(0)),
        }
    }
}

/// One server's row of the timeline.
#[derive(Debug, Default)]
pub struct Track {
    pub server: String,
    /// Host at the server's first row (empty while unscheduled).
    pub first_host: String,
    /// (start ms, end ms, status); consecutive rows of one status merged.
    pub spans: Vec<(u64, u64, String)>,
    /// (time ms, new host) wherever `host` changed.
    pub moves: Vec<(u64, String)>,
    /// (time ms, migration id) where one of the server's migrations became `error` or
    /// `failed` (its first row with that status).
    pub failed_migrations: Vec<(u64, String)>,
}

/// Migration statuses that mean the move failed (cold: `error`; live: `failed`, or `error`).
fn migration_failed(status: Option<MigrationStatus>) -> bool {
    matches!(
        status,
        Some(MigrationStatus::Error | MigrationStatus::Failed)
    )
}

/// transitions.csv as one track per server, in order of first appearance.
#[derive(Debug, Default)]
pub struct Timeline {
    pub tracks: Vec<Track>,
    pub end_ms: u64,
}

impl Timeline {
    pub fn load(folder: &ResultsFolder) -> Result<Timeline, PlotError> {
        // Migrations already marked failed (later rows repeat the status).
        let mut failed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut tracks: Vec<Track> = Vec::new();
        // Per track: the host now (to see changes) and the open span's start and status.
        let mut hosts: Vec<String> = Vec::new();
        let mut open: Vec<(u64, String)> = Vec::new();
        let mut end = 0;
        folder.each_transition(|row| {
            let t = row.time_s.ms();
            end = end.max(t);
            let (name, h, st) = (row.server.as_str(), row.host.as_str(), row.status.as_str());
            let mig = row.migration.as_str();
            let newly_failed = migration_failed(row.migration_status)
                && !mig.is_empty()
                && failed.insert(mig.to_string());
            let i = match index.get(name) {
                Some(&i) => i,
                None => {
                    index.insert(name.to_string(), tracks.len());
                    tracks.push(Track {
                        server: name.to_string(),
                        first_host: h.to_string(),
                        ..Track::default()
                    });
                    hosts.push(h.to_string());
                    open.push((t, st.to_string()));
                    if let (true, Some(track)) = (newly_failed, tracks.last_mut()) {
                        track.failed_migrations.push((t, mig.to_string()));
                    }
                    return Ok(true);
                }
            };
            if newly_failed {
                tracks[i].failed_migrations.push((t, mig.to_string()));
            }
            if !h.is_empty() && h != hosts[i] {
                if hosts[i].is_empty() {
                    tracks[i].first_host = h.to_string();
                } else {
                    tracks[i].moves.push((t, h.to_string()));
                }
                hosts[i] = h.to_string();
            }
            if open[i].1 != st {
                let (s0, prev) = std::mem::replace(&mut open[i], (t, st.to_string()));
                tracks[i].spans.push((s0, t, prev));
            }
            Ok(true)
        })?;
        let end = end.max(end_ms(folder)?.unwrap_or(0));
        for (track, (s0, st)) in tracks.iter_mut().zip(open) {
            track.spans.push((s0, end, st));
        }
        Ok(Timeline {
            tracks,
            end_ms: end,
        })
    }
}

/// Which placement resource the allocation chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Vcpus,
    MemoryMb,
}

/// One row of hosts.csv (the columns the chart uses).
#[derive(Debug, Clone, Copy)]
pub struct HostRow {
    pub t: u64,
    pub host: usize,
    /// Indexed by [`Resource`]: used (all consumers), capacity, held by migrations.
    pub used: [u64; 2],
    pub capacity: [u64; 2],
    pub migration: [u64; 2],
    /// Index into `Hosts::states`.
    pub state: usize,
}

/// hosts.csv.
#[derive(Debug, Default)]
pub struct Hosts {
    /// Host names in order of first appearance (declaration order: every host has a row at 0).
    pub names: Vec<String>,
    pub states: Vec<String>,
    pub rows: Vec<HostRow>,
    pub end_ms: u64,
}

impl Hosts {
    pub fn load(folder: &ResultsFolder) -> Result<Hosts, PlotError> {
        let mut index: FxHashMap<NameKey, usize> = FxHashMap::default();
        let mut hosts = HostsBuilder::default();
        // Straight into the chart's rows, reading only their columns: no row of strings kept.
        folder.each_raw::<results::HostRow>(|row| {
            let name = row.str(1)?;
            let next = index.len();
            let host = *index.entry(NameKey::new(name)).or_insert(next);
            hosts.row(
                host,
                &HostSample {
                    t: row.time(0)?.ms(),
                    name,
                    used: [row.uint(2)?, row.uint(3)?],
                    capacity: [row.uint(5)?, row.uint(6)?],
                    migration: [row.uint(8)?, row.uint(9)?],
                    state: row.str(11)?,
                },
            );
            Ok(true)
        })?;
        Ok(hosts.finish(end_ms(folder)?))
    }
}

/// A host's placement at an instant: the columns of a hosts.csv row the chart draws.
#[derive(Debug, Clone, Copy)]
pub struct HostSample<'a> {
    pub t: u64,
    pub name: &'a str,
    /// Indexed by [`Resource`], as in [`HostRow`].
    pub used: [u64; 2],
    pub capacity: [u64; 2],
    pub migration: [u64; 2],
    /// `enabled/up`, …
    pub state: &'a str,
}

/// Builds [`Hosts`] from the host rows in time order. Hosts are the caller's dense indexes (a
/// name's order of first sight in hosts.csv, or the run's `HostId`s); the chart's are the
/// order of first sight, whatever the caller's.
#[derive(Debug, Default)]
pub struct HostsBuilder {
    /// Every field but the rows, which are in `rows` until [`HostsBuilder::finish`].
    hosts: Hosts,
    rows: Chunked<UsageRow>,
    row_count: usize,
    /// (row of `rows`, capacity, state) where a host's capacity or state is not its previous
    /// row's (a host's first row among them): they change rarely, so rows do not repeat them.
    settings: Vec<(usize, [u64; 2], usize)>,
    /// Per host, its capacity and state now.
    current: Vec<([u64; 2], usize)>,
    /// Per caller's index, the host's index in `hosts.names`.
    slots: Vec<Option<usize>>,
}

/// A [`HostRow`] without its capacity and state (see `HostsBuilder::settings`).
#[derive(Debug)]
struct UsageRow {
    t: u64,
    host: usize,
    used: [u64; 2],
    migration: [u64; 2],
}

impl HostsBuilder {
    pub fn row(&mut self, host: usize, s: &HostSample) {
        let h = &mut self.hosts;
        if self.slots.len() <= host {
            self.slots.resize(host + 1, None);
        }
        let host = *self.slots[host].get_or_insert_with(|| {
            h.names.push(s.name.to_string());
            h.names.len() - 1
        });
        let state = match h.states.iter().position(|st| st == s.state) {
            Some(i) => i,
            None => {
                h.states.push(s.state.to_string());
                h.states.len() - 1
            }
        };
        h.end_ms = h.end_ms.max(s.t);
        let setting = (s.capacity, state);
        if self.current.get(host) != Some(&setting) {
            if host < self.current.len() {
                self.current[host] = setting;
            } else {
                // A host's first row: hosts are numbered in order of first sight.
                self.current.push(setting);
            }
            self.settings.push((self.row_count, s.capacity, state));
        }
        self.rows.push(UsageRow {
            t: s.t,
            host,
            used: s.used,
            migration: s.migration,
        });
        self.row_count += 1;
    }

    /// The rows, lasting until `end_ms` (the run's end, if known) or the last row if later.
    pub fn finish(self, end_ms: Option<u64>) -> Hosts {
        let mut h = self.hosts;
        h.end_ms = h.end_ms.max(end_ms.unwrap_or(0));
        let mut settings = self.settings.into_iter().peekable();
        let mut now = self.current;
        h.rows = Vec::with_capacity(self.row_count);
        for (i, r) in self.rows.into_iter().enumerate() {
            if let Some((_, capacity, state)) = settings.next_if(|s| s.0 == i) {
                now[r.host] = (capacity, state);
            }
            let (capacity, state) = now[r.host];
            h.rows.push(HostRow {
                t: r.t,
                host: r.host,
                used: r.used,
                capacity,
                migration: r.migration,
                state,
            });
        }
        h
    }
}

/// Completion latencies (submitted → completed) of successful requests, per action.
#[derive(Debug, Default)]
pub struct Latencies {
    /// (action, latencies in ms sorted ascending), in [`action_rank`] order.
    pub actions: Vec<(String, Vec<u64>)>,
}

impl Latencies {
    pub fn load(folder: &ResultsFolder) -> Result<Latencies, PlotError> {
        let mut latencies = LatenciesBuilder::default();
        // The four columns drawn, not whole rows; only successes are drawn.
        folder.each_raw::<Request>(|row| {
            if row.bytes(11) != b"success" {
                return Ok(true);
            }
            if let Some(completed) = row.opt_time(10)? {
                let action =
                    ActionKind::parse(row.str(4)?).ok_or_else(|| row.bad(4, "an API action"))?;
                latencies.succeeded(action, row.time(2)?.ms(), completed.ms());
            }
            Ok(true)
        })?;
        Ok(latencies.finish())
    }
}

/// Builds [`Latencies`] from the successful requests that completed.
#[derive(Debug, Default)]
pub struct LatenciesBuilder {
    by_action: BTreeMap<(usize, &'static str), Vec<u64>>,
}

impl LatenciesBuilder {
    /// A request of `action` that succeeded, submitted and completed at these ms.
    pub fn succeeded(&mut self, action: ActionKind, submitted: u64, completed: u64) {
        let name = action.as_str();
        self.by_action
            .entry((action_rank(name), name))
            .or_default()
            .push(completed.saturating_sub(submitted));
    }

    pub fn finish(self) -> Latencies {
        Latencies {
            actions: self
                .by_action
                .into_iter()
                .map(|((_, name), mut xs)| {
                    xs.sort_unstable();
                    (name.to_string(), xs)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden(name: &str) -> ResultsFolder {
        ResultsFolder::open(&std::path::Path::new("tests/golden").join(name))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The golden teaching trace: vm2's revert shows REVERT_RESIZE from 70.050 s (the API's
    /// save) until 75.140 s (finish_revert_resize on the source), exactly; sampled at the
    /// windows' ends (every 30 s) it was never seen.
    #[test]
    fn statuses_are_an_exact_step_function_of_the_transitions() {
        let s = StatusSteps::load(&golden("teaching")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.intervals("REVERT_RESIZE"), vec![(70_050, 75_140, 1)]);
        // vm1: RESIZE from the API's save at 10.050 s, VERIFY_RESIZE at 38.210 s.
        assert_eq!(s.intervals("RESIZE")[0], (10_050, 20_050, 1));
        assert_eq!(
            s.intervals("VERIFY_RESIZE"),
            vec![
                (38_210, 48_210, 1),
                (48_210, 58_210, 2),
                (58_210, 62_070, 3),
                (62_070, 70_050, 2),
                (70_050, 202_020, 1),
            ]
        );
        assert_eq!(s.end_ms, 202_020);
        // Every instant counts all 5 servers.
        assert!(s.steps.iter().all(|(_, c)| c.iter().sum::<u64>() == 5));
        assert_eq!(
            s.statuses,
            ["ACTIVE", "RESIZE", "REVERT_RESIZE", "VERIFY_RESIZE"]
        );
    }

    /// `StatusStepsBuilder` indexes its table by `status as usize`.
    #[test]
    fn statuses_index_their_table() {
        for (i, s) in Status::ALL.into_iter().enumerate() {
            assert_eq!(s as usize, i, "{s:?}");
        }
    }

    /// Rows (t, server, status) → steps: the counts after an instant's last row, a row that
    /// changes nothing merged away, columns in the simulator's order whatever the first sight.
    #[test]
    fn status_steps_by_table() {
        use Status::{Active, Build, Error};
        /// Rows, the run's end, then the statuses, steps and end expected.
        type Case = (
            &'static [(u64, usize, Status)],
            Option<u64>,
            &'static [&'static str],
            &'static [(u64, &'static [u64])],
            u64,
        );
        let cases: [Case; 4] = [
            (&[], None, &[], &[], 0),
            (
                &[(0, 0, Build), (0, 1, Build), (5, 0, Active), (7, 1, Error)],
                Some(10),
                &["ACTIVE", "BUILD", "ERROR"],
                &[(0, &[0, 2, 0]), (5, &[1, 1, 0]), (7, &[1, 0, 1])],
                10,
            ),
            // Server 1 goes BUILD → ACTIVE → BUILD within 3 ms: no step there; the end is the
            // last row when later than the run's.
            (
                &[
                    (0, 0, Build),
                    (0, 1, Build),
                    (3, 1, Active),
                    (3, 1, Build),
                    (9, 0, Build),
                ],
                Some(4),
                &["ACTIVE", "BUILD"],
                &[(0, &[0, 2])],
                9,
            ),
            // Dense server indexes in any order.
            (
                &[(1, 7, Active), (2, 3, Active), (4, 7, Build)],
                None,
                &["ACTIVE", "BUILD"],
                &[(1, &[1, 0]), (2, &[2, 0]), (4, &[1, 1])],
                4,
            ),
        ];
        for (rows, end, statuses, steps, end_ms) in cases {
            let mut b = StatusStepsBuilder::default();
            for &(t, server, status) in rows {
                b.row(t, server, status);
            }
            let s = b.finish(end);
            assert_eq!(s.statuses, statuses, "{rows:?}");
            let got: Vec<(u64, &[u64])> = s.steps.iter().map(|(t, c)| (*t, &c[..])).collect();
            assert_eq!(got, steps, "{rows:?}");
            assert_eq!(s.end_ms, end_ms, "{rows:?}");
        }
    }

    /// Hosts are the chart's in order of first sight, whatever the caller's indexes; states
    /// likewise.
    #[test]
    fn hosts_by_first_sight() {
        let mut b = HostsBuilder::default();
        let sample = |t, name, state| HostSample {
            t,
            name,
            used: [1, 2],
            capacity: [3, 4],
            migration: [0, 0],
            state,
        };
        b.row(9, &sample(0, "b", "enabled/up"));
        b.row(2, &sample(0, "a", "enabled/up"));
        b.row(9, &sample(5, "b", "disabled/up"));
        let h = b.finish(Some(3));
        assert_eq!(h.names, ["b", "a"]);
        assert_eq!(h.states, ["enabled/up", "disabled/up"]);
        let rows: Vec<(u64, usize, usize)> =
            h.rows.iter().map(|r| (r.t, r.host, r.state)).collect();
        assert_eq!(rows, [(0, 0, 0), (0, 1, 0), (5, 0, 1)]);
        assert_eq!(h.end_ms, 5);
    }

    /// Latencies per action in the simulator's order, sorted.
    #[test]
    fn latencies_by_action() {
        let mut b = LatenciesBuilder::default();
        b.succeeded(ActionKind::ALL[1], 100, 400);
        b.succeeded(ActionKind::ALL[0], 0, 50);
        b.succeeded(ActionKind::ALL[1], 0, 100);
        let l = b.finish();
        let names = ActionKind::ALL.map(|a| a.as_str().to_string());
        assert_eq!(
            l.actions,
            [
                (names[0].clone(), vec![50]),
                (names[1].clone(), vec![100, 300]),
            ]
        );
    }

    /// capacity-drain's last four migrations end in NoValidHost (migration `error`), the
    /// first at 391.114 s: each is on its server's track once, at its first `error` row.
    #[test]
    fn failed_migrations_are_on_their_tracks() {
        let tl = Timeline::load(&golden("capacity-drain")).unwrap_or_else(|e| panic!("{e}"));
        let failed: Vec<(&str, u64, &str)> = tl
            .tracks
            .iter()
            .flat_map(|t| {
                t.failed_migrations
                    .iter()
                    .map(move |(at, m)| (t.server.as_str(), *at, m.as_str()))
            })
            .collect();
        assert_eq!(failed.len(), 4, "{failed:?}");
        assert!(
            failed.contains(&("drain-d4", 391_114, "mig-24")),
            "{failed:?}"
        );
        let teaching = Timeline::load(&golden("teaching")).unwrap_or_else(|e| panic!("{e}"));
        assert!(teaching
            .tracks
            .iter()
            .all(|t| t.failed_migrations.is_empty()));
    }
}
