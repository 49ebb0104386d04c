//! The indexed scheduler: per weigher a sorted set of hosts, and Fagin's Threshold Algorithm
//! to find the best k candidates without weighing every host.
//!
//! Invariants the walk relies on:
//! * every listed host is in every weigher's set, keyed by the raw value cached at its last
//!   `update`, and its score is computed from that same cached value;
//! * a normalised term is monotone in the raw value (see [`Term::value`]), so the score a host
//!   not yet read can reach is at most the score of the sets' current frontier entries;
//! * a host too full for the flavor in RAM, CPU or disk can never be a candidate, so the walk
//!   may start (or the min search may end) at the first host that could fit.

use std::cmp::Ordering;
use std::collections::btree_set::Range;
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use super::weighers::{
    fit_offsets, merge, multipliers, raw_values, request_amount, sort_weighed, Norm, Raw, CPU,
    DISK, N, RAM,
};
use super::{choose, rank, wanted, Filter, NoValidHost, SelectRequest, Selection};
use crate::engine::Stream;
use crate::model::{Host, HostId, Placement, Resources};
use crate::scenario::WeightMultipliers;

/// (order key, host); a set of these iterates best first. The order key is the raw value,
/// negated when a larger value is better (positive multiplier), so that equal values come in
/// ascending id order in both directions.
type Entry = (i128, HostId);
type Bounds = (Bound<Entry>, Bound<Entry>);

/// Beyond this magnitude a multiplier could push a frontier bound to ±inf (and inf − inf is
/// NaN, which is not monotone); such configurations are scanned instead.
const MAX_INDEXED_MULTIPLIER: f64 = 1e100;

/// Debug builds cross-check every decision on clouds this small against [`super::select_linear`].
#[cfg(debug_assertions)]
const CROSS_CHECK_MAX_HOSTS: usize = 64;

fn order_key(mult: f64, raw: i128) -> i128 {
    if mult > 0.0 {
        -raw
    } else {
        raw
    }
}

/// Inverse of [`order_key`] (it is an involution).
fn raw_of_key(mult: f64, key: i128) -> i128 {
    order_key(mult, key)
}

/// The index of one host set: all hosts, or the hosts of one availability zone.
#[derive(Debug, Clone)]
struct Lists {
    /// Hosts enabled and up at their last update.
    ids: BTreeSet<HostId>,
    /// Hosts disabled or down at their last update. Tested one flag at a time at each
    /// decision, so a service enabled or brought up without an `update` is still found.
    parked: BTreeSet<HostId>,
    /// For each weigher with a non-zero multiplier, the hosts of `ids`, best first.
    sorted: [Option<BTreeSet<Entry>>; N],
}

impl Lists {
    fn new(mults: &[f64; N]) -> Self {
        Lists {
            ids: BTreeSet::new(),
            parked: BTreeSet::new(),
            sorted: std::array::from_fn(|w| (mults[w] != 0.0).then(BTreeSet::new)),
        }
    }

    fn insert(&mut self, h: HostId, raw: &Raw, listed: bool, mults: &[f64; N]) {
        if !listed {
            self.parked.insert(h);
            return;
        }
        self.ids.insert(h);
        for (w, set) in self.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                set.insert((order_key(mults[w], raw[w]), h));
            }
        }
    }

    fn remove(&mut self, h: HostId, raw: &Raw, listed: bool, mults: &[f64; N]) {
        if !listed {
            self.parked.remove(&h);
            return;
        }
        self.ids.remove(&h);
        for (w, set) in self.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                set.remove(&(order_key(mults[w], raw[w]), h));
            }
        }
    }
}

/// One weigher's set during a threshold walk.
struct Walk<'s> {
    set: &'s BTreeSet<Entry>,
    mult: f64,
    cursor: Peekable<Range<'s, Entry>>,
}

/// The scheduler's view of the cloud, kept current by [`SchedulerIndex::update`].
#[derive(Debug, Clone)]
pub struct SchedulerIndex {
    weights: WeightMultipliers,
    mults: [f64; N],
    /// A multiplier is huge or not finite: weigh every candidate instead of walking.
    scan_only: bool,
    /// Per host, as of its last update: weigher inputs, schedulable flag, AZ.
    raw: Vec<Raw>,
    io_ops: Vec<u32>,
    num_instances: Vec<u32>,
    listed: Vec<bool>,
    az: Vec<String>,
    /// Per resource weigher, the smallest fit offset over all hosts (see `fit_offsets`).
    fit_floor: [Option<i128>; N],
    all: Lists,
    by_az: BTreeMap<String, Lists>,
}

impl SchedulerIndex {
    /// Indexes `hosts` with their current placement usage; I/O ops and instance counts start
    /// at 0 (pass them with [`update`](Self::update)).
    pub fn new(hosts: &[Host], placement: &Placement, weights: WeightMultipliers) -> Self {
        let mults = multipliers(&weights);
        let n = hosts.len().min(placement.host_count());
        let mut idx = SchedulerIndex {
            weights,
            mults,
            scan_only: mults.iter().any(|m| !(m.abs() <= MAX_INDEXED_MULTIPLIER)),
            raw: Vec::with_capacity(n),
            io_ops: vec![0; n],
            num_instances: vec![0; n],
            listed: Vec::with_capacity(n),
            az: Vec::with_capacity(n),
            fit_floor: [None; N],
            all: Lists::new(&mults),
            by_az: BTreeMap::new(),
        };
        for (i, host) in hosts.iter().take(n).enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            let h = HostId(id);
            let raw = raw_values(host, h, placement, 0, 0);
            let listed = host.is_schedulable();
            idx.widen_fit_floor(host, placement.capacity(h));
            idx.all.insert(h, &raw, listed, &mults);
            idx.by_az
                .entry(host.availability_zone.clone())
                .or_insert_with(|| Lists::new(&mults))
                .insert(h, &raw, listed, &mults);
            idx.raw.push(raw);
            idx.listed.push(listed);
            idx.az.push(host.availability_zone.clone());
        }
        idx
    }

    /// Re-read host `h`'s weigher inputs after its placement usage, io_ops or instance count
    /// changed. Also call it after `h`'s enabled/up flags or AZ change: a stale flag costs a
    /// little time per decision, a stale AZ or usage gives wrong decisions (caught in debug
    /// builds on small clouds).
    pub fn update(
        &mut self,
        h: HostId,
        hosts: &[Host],
        placement: &Placement,
        io_ops: u32,
        num_instances: u32,
    ) {
        let i = h.index();
        let Some(host) = hosts.get(i) else { return };
        if i >= self.raw.len() || i >= placement.host_count() {
            return;
        }
        let raw = raw_values(host, h, placement, io_ops, num_instances);
        let listed = host.is_schedulable();
        self.io_ops[i] = io_ops;
        self.num_instances[i] = num_instances;
        self.widen_fit_floor(host, placement.capacity(h));
        if raw == self.raw[i] && listed == self.listed[i] && host.availability_zone == self.az[i]
        {
            return;
        }
        let mults = self.mults;
        let (old_raw, old_listed) = (self.raw[i], self.listed[i]);
        self.all.remove(h, &old_raw, old_listed, &mults);
        if let Some(p) = self.by_az.get_mut(&self.az[i]) {
            p.remove(h, &old_raw, old_listed, &mults);
        }
        if host.availability_zone != self.az[i] {
            self.az[i].clone_from(&host.availability_zone);
        }
        self.all.insert(h, &raw, listed, &mults);
        match self.by_az.get_mut(&self.az[i]) {
            Some(p) => p.insert(h, &raw, listed, &mults),
            None => {
                let mut p = Lists::new(&mults);
                p.insert(h, &raw, listed, &mults);
                self.by_az.insert(self.az[i].clone(), p);
            }
        }
        self.raw[i] = raw;
        self.listed[i] = listed;
    }

    /// Runs the scheduler pipeline for `req` (spec §8.1). `rng` is drawn from only when
    /// `host_subset_size` > 1 and more than one candidate is in the subset.
    pub fn select(
        &self,
        hosts: &[Host],
        placement: &Placement,
        req: &SelectRequest,
        rng: &mut Stream,
    ) -> Result<Selection, NoValidHost> {
        #[cfg(debug_assertions)]
        let reference = (hosts.len() <= CROSS_CHECK_MAX_HOSTS).then(|| {
            let mut r = rng.clone();
            let out = super::select_linear(
                hosts,
                placement,
                self.weights,
                &self.io_ops,
                &self.num_instances,
                req,
                &mut r,
            );
            (out, r)
        });
        let out = self.decide(hosts, placement, req, rng);
        #[cfg(debug_assertions)]
        if let Some((expected, r)) = reference {
            assert!(
                out == expected && r == *rng,
                "SchedulerIndex chose {out:?}, select_linear {expected:?}: was update() called \
                 after every change of a host's placement usage, io_ops, instance count or AZ?"
            );
        }
        out
    }

    fn decide(
        &self,
        hosts: &[Host],
        placement: &Placement,
        req: &SelectRequest,
        rng: &mut Stream,
    ) -> Result<Selection, NoValidHost> {
        let f = Filter::new(hosts, placement, req);
        if let Some(h) = req.requested_host {
            // Only that host survives host-set reduction: one candidate, nothing to weigh.
            if h.index() < self.raw.len() && f.passes(h) {
                return Ok(choose(&[h], req, rng));
            }
            return Err(self.failure(&f, hosts.len()));
        }
        let part = match req.availability_zone {
            None => &self.all,
            Some(az) => match self.by_az.get(az) {
                Some(p) => p,
                None => return Err(self.failure(&f, hosts.len())),
            },
        };
        let k = wanted(req);
        let top = if self.scan_only {
            self.scan(part, &f, k)
        } else {
            self.threshold(part, &f, k)
        };
        if top.is_empty() {
            return Err(self.failure(&f, hosts.len()));
        }
        Ok(choose(&top, req, rng))
    }

    /// Placement's answer decides the message: did any enabled host have the capacity?
    fn failure(&self, f: &Filter, n_hosts: usize) -> NoValidHost {
        let in_placement = if self.scan_only {
            None
        } else {
            // Only hosts in a resource weigher's fit range can have the capacity.
            [CPU, RAM, DISK].iter().find_map(|&w| {
                let set = self.all.sorted[w].as_ref()?;
                let bounds = self.fit_bounds(w, &f.req.resources);
                Some(
                    set.range(bounds).any(|e| f.in_placement(e.1))
                        || self.all.parked.iter().any(|&h| f.in_placement(h)),
                )
            })
        };
        let found = in_placement.unwrap_or_else(|| {
            (0..n_hosts.min(self.raw.len()))
                .filter_map(|i| u32::try_from(i).ok())
                .any(|i| f.in_placement(HostId(i)))
        });
        if found {
            NoValidHost::FilteredOut
        } else {
            NoValidHost::NoCandidates
        }
    }

    /// Order keys a host that fits the request can have in weigher `w`'s set.
    fn fit_bounds(&self, w: usize, req: &Resources) -> Bounds {
        match (request_amount(w, req), self.fit_floor[w]) {
            (Some(amount), Some(floor)) => {
                let lowest_raw = amount + floor;
                if self.mults[w] > 0.0 {
                    (Unbounded, Included((-lowest_raw, HostId(u32::MAX))))
                } else {
                    (Included((lowest_raw, HostId(0))), Unbounded)
                }
            }
            _ => (Unbounded, Unbounded),
        }
    }

    fn widen_fit_floor(&mut self, host: &Host, cap: Resources) {
        for (floor, d) in self.fit_floor.iter_mut().zip(fit_offsets(host, cap)) {
            *floor = match (*floor, d) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (x, None) | (None, x) => x,
            };
        }
    }

    /// The best `k` candidates of `part`, weighing every one of them.
    fn scan(&self, part: &Lists, f: &Filter, k: usize) -> Vec<HostId> {
        let cands: Vec<HostId> = part
            .ids
            .iter()
            .chain(&part.parked)
            .copied()
            .filter(|&h| f.passes(h))
            .collect();
        self.best_of(&cands, k)
    }

    fn best_of(&self, cands: &[HostId], k: usize) -> Vec<HostId> {
        let norm = Norm::over(&self.mults, cands.iter().map(|h| self.raw[h.index()]));
        let mut weighed: Vec<(f64, HostId)> = cands
            .iter()
            .map(|&h| (norm.score(&self.raw[h.index()]), h))
            .collect();
        sort_weighed(&mut weighed);
        weighed.into_iter().take(k).map(|(_, h)| h).collect()
    }

    /// The best `k` candidates of `part` by the Threshold Algorithm, in weighed order.
    fn threshold(&self, part: &Lists, f: &Filter, k: usize) -> Vec<HostId> {
        let req = &f.req.resources;
        // Parked hosts whose flags say schedulable now: weighed directly, counted as read.
        let extras: Vec<HostId> = part.parked.iter().copied().filter(|&h| f.passes(h)).collect();

        // 1. Min and max of each weigher over the candidates, from both ends of its set.
        let mut ext: [Option<(i128, i128)>; N] = [None; N];
        for (w, set) in part.sorted.iter().enumerate() {
            let Some(set) = set else { continue };
            let bounds = self.fit_bounds(w, req);
            let Some(best) = set.range(bounds).find(|e| f.passes(e.1)).map(|e| e.0) else {
                // Every set holds every listed host: none is a candidate.
                return self.best_of(&extras, k);
            };
            let worst = if set.range(bounds).next_back().map(|e| e.0) == Some(best) {
                best // all candidates share the best value
            } else {
                set.range(bounds)
                    .rev()
                    .find(|e| f.passes(e.1))
                    .map_or(best, |e| e.0)
            };
            let m = self.mults[w];
            let (a, b) = (raw_of_key(m, best), raw_of_key(m, worst));
            ext[w] = Some((a.min(b), a.max(b)));
        }
        for &h in &extras {
            let raw = &self.raw[h.index()];
            for w in 0..N {
                if part.sorted[w].is_some() {
                    ext[w] = merge(ext[w], Some((raw[w], raw[w])));
                }
            }
        }
        let norm = Norm::new(&self.mults, &ext);

        // 2. Nothing to weigh: every candidate scores 0 and the lowest ids win.
        if norm.terms.is_empty() {
            let mut top: Vec<HostId> = part
                .ids
                .iter()
                .copied()
                .filter(|&h| f.passes(h))
                .take(k)
                .collect();
            top.extend(&extras);
            top.sort_unstable();
            top.truncate(k);
            return top;
        }

        // 3. Threshold walk: read the sets round-robin, best first, weighing each new host.
        let mut walks = Vec::with_capacity(norm.terms.len());
        for t in &norm.terms {
            let Some(set) = part.sorted[t.weigher].as_ref() else {
                return self.scan(part, f, k); // unreachable: a term needs a multiplier
            };
            walks.push(Walk {
                set,
                mult: self.mults[t.weigher],
                cursor: set.range(self.fit_bounds(t.weigher, req)).peekable(),
            });
        }
        let mut seen: BTreeSet<HostId> = extras.iter().copied().collect();
        let mut top: Vec<(f64, HostId)> = Vec::new();
        for &h in &extras {
            offer(&mut top, (norm.score(&self.raw[h.index()]), h), k);
        }
        let mut unread_ids = part.ids.iter().copied().peekable();
        'walk: loop {
            for t in 0..walks.len() {
                // One set exhausted: every candidate (all are in every set) has been read.
                let Some(&(_, h)) = walks[t].cursor.next() else {
                    break 'walk;
                };
                if seen.insert(h) && f.passes(h) {
                    offer(&mut top, (norm.score(&self.raw[h.index()]), h), k);
                }
                if top.len() >= k && can_stop(&norm, &mut walks, &seen, &mut unread_ids, top[k - 1]) {
                    break 'walk;
                }
            }
        }
        top.into_iter().map(|(_, h)| h).collect()
    }
}

/// Keeps `top` the best `k` offers, in weighed order.
fn offer(top: &mut Vec<(f64, HostId)>, item: (f64, HostId), k: usize) {
    let pos = top.partition_point(|x| rank(x, &item) == Ordering::Less);
    if pos < k {
        top.insert(pos, item);
        top.truncate(k);
    }
}

/// True when no unread host can rank before `kth`, the current k-th best.
///
/// An unread candidate sits at or after every set's cursor, so its score is at most the
/// threshold: the score of the cursors' values. At equal score the lower id ranks first, so on
/// a tie we also need every unread host that can reach the threshold to have a higher id. Such
/// a host has, in each set, the cursor's value (then an id ≥ the cursor's id) or a worse one;
/// if a worse value in set `t` already scores below the threshold, the cursor's id bounds it.
/// Failing that, the lowest unread id does.
fn can_stop(
    norm: &Norm,
    walks: &mut [Walk],
    seen: &BTreeSet<HostId>,
    unread_ids: &mut Peekable<impl Iterator<Item = HostId>>,
    kth: (f64, HostId),
) -> bool {
    let mut frontier: Vec<Entry> = Vec::with_capacity(walks.len());
    for w in walks.iter_mut() {
        match w.cursor.peek() {
            Some(&&e) => frontier.push(e),
            None => return true, // everything read
        }
    }
    let threshold = norm.score_by(|t| raw_of_key(walks[t].mult, frontier[t].0));
    match kth.0.total_cmp(&threshold) {
        Ordering::Greater => return true,
        Ordering::Less => return false,
        Ordering::Equal => {}
    }
    for (t, w) in walks.iter().enumerate() {
        let (key, id) = frontier[t];
        if kth.1 > id {
            continue;
        }
        let strict = match w
            .set
            .range((Excluded((key, HostId(u32::MAX))), Unbounded))
            .next()
        {
            None => true,
            Some(&(worse, _)) => {
                let bound = norm.score_by(|u| {
                    let k = if u == t { worse } else { frontier[u].0 };
                    raw_of_key(walks[u].mult, k)
                });
                bound.total_cmp(&threshold) == Ordering::Less
            }
        };
        if strict {
            return true;
        }
    }
    while unread_ids.next_if(|h| seen.contains(h)).is_some() {}
    unread_ids.peek().is_none_or(|&lowest| kth.1 < lowest)
}
