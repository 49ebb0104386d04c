//! A results folder as the analyses read it: every file's typed rows (read by
//! [`crate::results`]), and the facts about each migration that several analyses need (its
//! source, destination and request).

use super::AnalysisError;
use crate::engine::SimTime;
use crate::results::ResultsFolder;
pub use crate::results::{ActionEvent, Decision, HostRow, Request, Summary, Transition};
use std::path::Path;

/// A results folder, parsed.
#[derive(Debug)]
pub struct Results {
    pub transitions: Vec<Transition>,
    pub requests: Vec<Request>,
    pub decisions: Vec<Decision>,
    pub events: Vec<ActionEvent>,
    pub hosts: Vec<HostRow>,
    pub summary: Summary,
}

impl Results {
    pub fn load(dir: &Path) -> Result<Results, AnalysisError> {
        let f = ResultsFolder::open(dir)?;
        let summary = f.summary()?.clone();
        let rows = f.into_rows()?;
        Ok(Results {
            transitions: rows.transitions,
            requests: rows.requests,
            decisions: rows.decisions,
            events: rows.events,
            hosts: rows.hosts,
            summary,
        })
    }

    /// The end of the run: summary.json's `end_time_s`, or the last time any file mentions.
    pub fn end_time(&self) -> SimTime {
        let latest = self
            .transitions
            .iter()
            .map(|t| t.time_s)
            .chain(self.hosts.iter().map(|h| h.time_s))
            .chain(self.decisions.iter().map(|d| d.time_s))
            .chain(self.requests.iter().flat_map(|r| {
                [Some(r.submitted_s), r.answered_s, r.completed_s]
                    .into_iter()
                    .flatten()
            }))
            .chain(
                self.events
                    .iter()
                    .flat_map(|e| [e.event_start_s, e.event_finish_s].into_iter().flatten()),
            )
            .max()
            .unwrap_or_default();
        let declared = self.summary.end_time_s.unwrap_or_default();
        latest.max(declared)
    }

    /// Server names in order of first appearance (initial servers in declaration order).
    pub fn server_names(&self) -> Vec<String> {
        let mut names = Names::default();
        for t in &self.transitions {
            names.add(&t.server);
        }
        for r in &self.requests {
            names.add(&r.server);
        }
        for d in &self.decisions {
            names.add(&d.server);
        }
        for e in &self.events {
            names.add(&e.server);
        }
        names.0
    }

    /// Every migration in id order, with where it goes.
    pub fn migrations(&self) -> Vec<MigrationInfo> {
        use std::collections::BTreeMap;
        let mut out: Vec<MigrationInfo> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, t) in self.transitions.iter().enumerate() {
            if t.migration.is_empty() {
                continue;
            }
            match index.get(t.migration.as_str()) {
                Some(&k) => {
                    let m = &mut out[k];
                    m.rows.push(i);
                    if m.moved_to.is_none() && !t.host.is_empty() && t.host != m.source {
                        m.moved_to = Some(t.host.clone());
                    }
                }
                None => {
                    index.insert(&t.migration, out.len());
                    out.push(MigrationInfo {
                        id: t.migration.clone(),
                        server: t.server.clone(),
                        request: t.request.clone(),
                        source: t.host.clone(),
                        moved_to: None,
                        rows: vec![i],
                        dest_history: Vec::new(),
                    });
                }
            }
        }
        // Keyed by (request, server): a request id names one operation on one server.
        let mut by_op: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (k, m) in out.iter().enumerate() {
            // Borrowed from the rows, not from `out`, which is filled in below.
            let first = &self.transitions[m.rows[0]];
            if !first.request.is_empty() {
                by_op.insert((&first.request, &first.server), k);
            }
        }
        let mut dests = Destinations::new(out.len());
        for d in &self.decisions {
            if let Some(&k) = by_op.get(&(d.request.as_str(), d.server.as_str())) {
                dests.decision(k, d.time_s, &d.selected);
            }
        }
        dests.decisions_read();
        for e in &self.events {
            if let Some(&k) = by_op.get(&(e.request.as_str(), e.server.as_str())) {
                dests.compute_event(k, e.event_start_s, &e.host, &out[k].source);
            }
        }
        for (m, history) in out.iter_mut().zip(dests.finish()) {
            m.dest_history = history;
        }
        out.sort_by_key(|m| id_number(&m.id));
        out
    }
}

/// Where each migration's move was sent, over time: the scheduler's (or the conductor's
/// reschedule's) selections, in scheduling.csv order; for a move that bypassed the scheduler
/// (a forced host), the hosts other than its source whose compute ran one of its instance-action
/// events. The one rule for `Results::migrations` and the timeline's streaming reader, which
/// read the same rows (decisions first, then events) with their own lookups.
pub(crate) struct Destinations {
    history: Vec<Vec<(SimTime, String)>>,
    /// Per migration, whether the scheduler chose for it (set once the decisions are read).
    scheduled: Vec<bool>,
}

impl Destinations {
    pub(crate) fn new(migrations: usize) -> Self {
        Destinations {
            history: vec![Vec::new(); migrations],
            scheduled: Vec::new(),
        }
    }

    /// A scheduling.csv row of migration `k`'s operation.
    pub(crate) fn decision(&mut self, k: usize, at: SimTime, selected: &str) {
        if !selected.is_empty() {
            self.history[k].push((at, selected.to_string()));
        }
    }

    /// Every decision is read: the compute events that follow count only for unscheduled moves.
    pub(crate) fn decisions_read(&mut self) {
        self.scheduled = self.history.iter().map(|h| !h.is_empty()).collect();
    }

    /// An instance-action event of migration `k`'s operation, run by `host` from `start`.
    pub(crate) fn compute_event(
        &mut self,
        k: usize,
        start: Option<SimTime>,
        host: &str,
        source: &str,
    ) {
        let Some(start) = start else { return };
        if !host.is_empty() && !self.scheduled.get(k).copied().unwrap_or(false) && host != source {
            self.history[k].push((start, host.to_string()));
        }
    }

    /// Each migration's destinations in time order.
    pub(crate) fn finish(self) -> Vec<Vec<(SimTime, String)>> {
        let mut history = self.history;
        for h in &mut history {
            h.sort_by_key(|(t, _)| *t);
        }
        history
    }
}

/// The number in `req-12` / `mig-3` (for ordering ids numerically).
pub fn id_number(id: &str) -> u64 {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Names in first-seen order without repeats.
#[derive(Default)]
struct Names(Vec<String>, std::collections::BTreeSet<String>);

impl Names {
    fn add(&mut self, n: &str) {
        if !n.is_empty() && self.1.insert(n.to_string()) {
            self.0.push(n.to_string());
        }
    }
}

/// What the trace says about one migration.
#[derive(Debug, Clone)]
pub struct MigrationInfo {
    pub id: String,
    pub server: String,
    /// The request that created it.
    pub request: String,
    /// The server's host when the migration was created.
    pub source: String,
    /// The first host other than the source the server was on during the migration.
    pub moved_to: Option<String>,
    /// Indexes of its transitions rows.
    pub rows: Vec<usize>,
    /// Destinations chosen over time (scheduler selections, reschedules).
    pub dest_history: Vec<(SimTime, String)>,
}

impl MigrationInfo {
    /// The destination the move finally went to or was last sent to.
    pub fn dest(&self) -> Option<&str> {
        self.moved_to
            .as_deref()
            .or_else(|| self.dest_history.last().map(|(_, h)| h.as_str()))
    }

    /// The destination the move was heading to at `t` (the latest choice made at or before it).
    pub fn dest_at(&self, t: SimTime) -> Option<&str> {
        self.dest_history
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|(_, h)| h.as_str())
            .or_else(|| self.dest())
    }

    /// The destination chosen strictly before `t`.
    pub fn dest_before(&self, t: SimTime) -> Option<&str> {
        self.dest_history
            .iter()
            .rev()
            .find(|(at, _)| *at < t)
            .map(|(_, h)| h.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_numerically() {
        assert!(id_number("mig-2") < id_number("mig-10"));
        assert_eq!(id_number("req-7"), 7);
    }
}
