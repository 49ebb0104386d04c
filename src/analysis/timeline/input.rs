//! What the timeline shows, read from a results folder in one streaming pass over each file.
//!
//! The hosts with tracks are the first in declaration order (hosts.csv starts with every host
//! at t = 0), then in order of appearance in transitions.csv, scheduling.csv and
//! instance_actions.csv; the servers, the first in order of appearance in transitions.csv
//! (initial servers in declaration order), requests.csv, scheduling.csv and
//! instance_actions.csv. The files are read in an order compatible with both (hosts.csv,
//! transitions.csv, requests.csv, scheduling.csv, instance_actions.csv), so whether a name has tracks is known the moment it
//! is first seen, and only the rows of hosts and servers with tracks are parsed and kept; the
//! others are only counted (for `left_out`) and looked at for the run's end time. Migrations
//! are the exception: any of them may show on a host with tracks (its destination is known
//! only once the scheduler's decisions are read), so every migration keeps its status changes,
//! a few small records each.
//!
//! Measured on the 1,000,000-server drain's folder (100,000 hosts, 1.7 M transitions, 340 MiB
//! of CSV; one machine shared with other builds): parsing every file whole (`Results::load`)
//! took 8.7–9.9 s and 1,178 MiB of peak RSS; this reader 3.1–3.5 s and 254 MiB.

use crate::analysis::data::{id_number, Destinations};
use crate::engine::SimTime;
use crate::model::MigrationStatus;
use crate::results::{
    each_raw_in, ActionEvent, CsvRow, Decision, HostRow, NameKey, RawRow, ReadError, Request,
    ResultsFolder, Summary, Transition,
};
use crate::trace::timeline_rows::KeptRows;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::Path;

/// Names in first-seen order: the first `limit` are shown (have tracks), the others only
/// counted.
pub(super) struct Selection {
    pub shown: Vec<String>,
    /// The shown names: few, so looked up first (they stay in the cache).
    shown_keys: FxHashSet<NameKey>,
    /// The names of the file that lists them all (hosts.csv for hosts, transitions.csv for
    /// servers), counted for [`Selection::left_out`]; `None` when the run gave the total.
    counted: Option<FxHashSet<NameKey>>,
    total: usize,
    limit: usize,
}

impl Selection {
    /// A selection that counts the names it is shown ([`Selection::count`]), or takes
    /// `total` as their number.
    fn new(limit: usize, total: Option<usize>) -> Selection {
        Selection {
            shown: Vec::new(),
            shown_keys: FxHashSet::default(),
            counted: total.is_none().then(FxHashSet::default),
            total: total.unwrap_or(0),
            limit,
        }
    }

    /// Notes `name` (empty names are none); whether it is shown. Names are shown while there
    /// is room, so a name once left out stays out.
    fn add(&mut self, name: &str) -> bool {
        if name.is_empty() {
            return false;
        }
        let key = NameKey::new(name);
        if self.shown_keys.contains(&key) {
            return true;
        }
        if self.shown.len() < self.limit {
            self.shown.push(name.to_string());
            self.shown_keys.insert(key);
            return true;
        }
        false
    }

    /// Counts `name` as one of the hosts or servers of the run.
    fn count(&mut self, name: &str) {
        if let Some(counted) = &mut self.counted {
            if !name.is_empty() && counted.insert(NameKey::new(name)) {
                self.total += 1;
            }
        }
    }

    /// Hosts or servers of the run without tracks. The listing file is read first, so its
    /// names take the first places: when it names more than `limit`, the shown ones are all
    /// among them; when it names fewer, all of them are shown.
    pub fn left_out(&self) -> usize {
        self.total.saturating_sub(self.limit)
    }
}

/// Where a migration's status changed (a transitions row whose migration status differs from
/// the row before it of the same migration).
pub(super) struct Phase {
    pub at: SimTime,
    /// The migration status as written (empty for none).
    pub status: &'static str,
    /// The row in [`Input::transitions`] when the migration's server is shown.
    pub row: Option<usize>,
}

/// What the trace says about one migration (as `Results::migrations`, without the rows).
pub(super) struct Mig {
    pub id: String,
    pub server: String,
    /// The request that created it.
    pub request: String,
    /// The server's host when the migration was created.
    pub source: String,
    /// Whether its server is shown (known when its first row is read).
    server_shown: bool,
    /// The first host other than the source the server was on during the migration.
    pub moved_to: Option<String>,
    pub phases: Vec<Phase>,
    /// The time of its last row.
    pub last: SimTime,
    /// Destinations chosen over time (scheduler selections, reschedules).
    pub dest_history: Vec<(SimTime, String)>,
}

impl Mig {
    /// The destination the move finally went to or was last sent to.
    pub fn dest(&self) -> Option<&str> {
        self.moved_to
            .as_deref()
            .or_else(|| self.dest_history.last().map(|(_, h)| h.as_str()))
    }
}

/// The rows of the shown hosts and servers, every migration, and the run's figures.
pub(super) struct Input {
    pub summary: Summary,
    /// The end of the run: summary.json's `end_time_s`, or the last time any file mentions.
    pub end: SimTime,
    pub hosts: Selection,
    pub servers: Selection,
    /// Rows of shown servers (and every row of a shown server's migrations).
    pub transitions: Vec<Transition>,
    /// Requests of shown servers, and any naming no server.
    pub requests: Vec<Request>,
    /// Decisions for a shown server or choosing a shown host.
    pub decisions: Vec<Decision>,
    /// Events with a start, of a shown server or run by a shown host.
    pub events: Vec<ActionEvent>,
    /// hosts.csv rows of shown hosts.
    pub host_rows: Vec<HostRow>,
    /// Every migration, in id order.
    pub migs: Vec<Mig>,
}

/// `field` of `row` as one of the migration statuses, as written (empty for none).
fn migration_status<R: CsvRow>(row: &RawRow<'_, R>, i: usize) -> Result<&'static str, ReadError> {
    let s = row.str(i)?;
    if s.is_empty() {
        return Ok("");
    }
    MigrationStatus::ALL
        .iter()
        .map(|m| m.as_str())
        .find(|m| *m == s)
        .ok_or_else(|| row.bad(i, "a migration status"))
}

/// Where [`Input::read`] finds the rows: a results folder's files, or the rows a run kept
/// for its timeline (`crate::trace::timeline_rows`).
pub(super) trait RowSource {
    fn each_raw<R: CsvRow>(
        &self,
        f: impl FnMut(&RawRow<'_, R>) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError>;
}

impl RowSource for ResultsFolder {
    fn each_raw<R: CsvRow>(
        &self,
        f: impl FnMut(&RawRow<'_, R>) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError> {
        ResultsFolder::each_raw(self, f)
    }
}

impl RowSource for KeptRows {
    fn each_raw<R: CsvRow>(
        &self,
        f: impl FnMut(&RawRow<'_, R>) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError> {
        let rows = self
            .file(R::FILE)
            .ok_or_else(|| ReadError::MissingFile(R::FILE.into()))?;
        each_raw_in::<R>(Path::new(R::FILE), rows, f)
    }
}

/// What a run that kept only the timeline's rows knows of all of them: how many hosts and
/// servers it had, and the last time any row names.
#[derive(Debug, Clone, Copy)]
struct Totals {
    hosts: usize,
    servers: usize,
    latest: SimTime,
}

impl Input {
    /// Reads `dir`, giving tracks to at most `max_hosts` hosts and `max_servers` servers.
    pub fn load(dir: &Path, max_hosts: usize, max_servers: usize) -> Result<Input, ReadError> {
        let f = ResultsFolder::open(dir)?;
        let summary = f.summary()?.clone();
        Input::read(&f, summary, max_hosts, max_servers, None)
    }

    /// Reads the rows a run kept for its timeline, at the run's limits, with the summary.json
    /// of its folder `dir`.
    pub fn kept(dir: &Path, kept: &KeptRows) -> Result<Input, ReadError> {
        let summary = ResultsFolder::open(dir)?.summary()?.clone();
        let totals = Totals {
            hosts: kept.hosts,
            servers: kept.servers,
            latest: kept.latest,
        };
        Input::read(
            kept,
            summary,
            kept.max_hosts,
            kept.max_servers,
            Some(totals),
        )
    }

    /// Reads the rows of `src`. Without `totals`, `src` holds every row; with them, at least
    /// every row of a shown host or server and every row of a migration, decision or event
    /// that shows on one (what `crate::trace::timeline_rows` keeps), in the files' order.
    fn read(
        src: &impl RowSource,
        summary: Summary,
        max_hosts: usize,
        max_servers: usize,
        totals: Option<Totals>,
    ) -> Result<Input, ReadError> {
        let f = src;
        let mut latest = totals.map_or(SimTime::ZERO, |t| t.latest);
        let mut hosts = Selection::new(max_hosts, totals.map(|t| t.hosts));
        let mut servers = Selection::new(max_servers, totals.map(|t| t.servers));

        let mut host_rows = Vec::new();
        f.each_raw::<HostRow>(|row| {
            latest = latest.max(row.time(0)?);
            let host = row.str(1)?;
            hosts.count(host);
            if hosts.add(host) {
                host_rows.push(row.parse()?);
            }
            Ok(true)
        })?;

        let mut transitions = Vec::new();
        let mut migs: Vec<Mig> = Vec::new();
        let mut mig_index: FxHashMap<NameKey, usize> = FxHashMap::default();
        f.each_raw::<Transition>(|row| {
            let t = row.time(0)?;
            latest = latest.max(t);
            let server = row.str(2)?;
            servers.count(server);
            let mut keep = servers.add(server);
            let host = row.str(3)?;
            hosts.add(host);
            let id = row.str(7)?;
            let mut mig = None;
            if !id.is_empty() {
                let key = NameKey::new(id);
                let k = match mig_index.get(&key) {
                    Some(&k) => {
                        let m = &mut migs[k];
                        if m.moved_to.is_none() && !host.is_empty() && host != m.source {
                            m.moved_to = Some(host.to_string());
                        }
                        k
                    }
                    None => {
                        mig_index.insert(key, migs.len());
                        migs.push(Mig {
                            server_shown: keep,
                            id: id.to_string(),
                            server: row.str(2)?.to_string(),
                            request: row.str(1)?.to_string(),
                            source: host.to_string(),
                            moved_to: None,
                            phases: Vec::new(),
                            last: t,
                            dest_history: Vec::new(),
                        });
                        migs.len() - 1
                    }
                };
                // A shown server's migration shows its phases' rows whatever server they name.
                keep |= migs[k].server_shown;
                mig = Some(k);
            }
            if keep {
                transitions.push(row.parse()?);
            }
            if let Some(k) = mig {
                let status = migration_status(row, 8)?;
                let m = &mut migs[k];
                m.last = m.last.max(t);
                if m.phases.last().map_or("", |p| p.status) != status {
                    m.phases.push(Phase {
                        at: t,
                        status,
                        row: keep.then(|| transitions.len() - 1),
                    });
                }
            }
            Ok(true)
        })?;

        let mut requests = Vec::new();
        f.each_raw::<Request>(|row| {
            for i in [2, 3, 10] {
                if let Some(t) = row.opt_time(i)? {
                    latest = latest.max(t);
                }
            }
            let server = row.str(5)?;
            if servers.add(server) || server.is_empty() {
                requests.push(row.parse()?);
            }
            Ok(true)
        })?;

        // Where the scheduler (or the conductor's reschedule) sent each move, in order; keyed
        // by (request, server): a request id names one operation on one server.
        let mut by_op: FxHashMap<(NameKey, NameKey), usize> = FxHashMap::default();
        for (k, m) in migs.iter().enumerate() {
            if !m.request.is_empty() {
                by_op.insert((NameKey::new(&m.request), NameKey::new(&m.server)), k);
            }
        }
        let op = |request: &str, server: &str| (NameKey::new(request), NameKey::new(server));
        let mut dests = Destinations::new(migs.len());
        let mut decisions = Vec::new();
        f.each_raw::<Decision>(|row| {
            let t = row.time(0)?;
            latest = latest.max(t);
            let server = row.str(2)?;
            let mut keep = servers.add(server);
            let selected = row.str(5)?;
            keep |= hosts.add(selected);
            for h in row.str(6)?.split_whitespace() {
                hosts.add(h);
            }
            for pair in row.str(8)?.split_whitespace() {
                hosts.add(pair.rsplit_once(':').map_or(pair, |(h, _)| h));
            }
            if let Some(&k) = by_op.get(&op(row.str(1)?, server)) {
                dests.decision(k, t, selected);
            }
            if keep {
                decisions.push(row.parse()?);
            }
            Ok(true)
        })?;

        dests.decisions_read();
        let mut events = Vec::new();
        f.each_raw::<ActionEvent>(|row| {
            let start = row.opt_time(8)?;
            for t in [start, row.opt_time(9)?].into_iter().flatten() {
                latest = latest.max(t);
            }
            let server = row.str(0)?;
            let host = row.str(11)?;
            let shown = servers.add(server) | hosts.add(host);
            if start.is_none() {
                return Ok(true);
            }
            if let Some(&k) = by_op.get(&op(row.str(2)?, server)) {
                dests.compute_event(k, start, host, &migs[k].source);
            }
            if shown {
                events.push(row.parse()?);
            }
            Ok(true)
        })?;
        drop(by_op);

        for (m, history) in migs.iter_mut().zip(dests.finish()) {
            m.dest_history = history;
        }
        migs.sort_by_key(|m| id_number(&m.id));
        let end = latest.max(summary.end_time_s.unwrap_or_default());
        Ok(Input {
            summary,
            end,
            hosts,
            servers,
            transitions,
            requests,
            decisions,
            events,
            host_rows,
            migs,
        })
    }
}
