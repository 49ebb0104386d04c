//! The indexed scheduler: sorted sets of hosts per weigher, hosts grouped into classes by the
//! weighers with few distinct inputs, and Fagin's Threshold Algorithm inside a class.
//!
//! Invariants the search relies on:
//! * a listed host is in every weigher's set and in one class, keyed by the raw values cached
//!   at its last `update`, and its score is computed from those same cached values;
//! * a normalised term is monotone in the raw value (see [`Term::value`]) and float addition
//!   is monotone, so replacing each input by one at least as good never lowers a score;
//! * a host too full for the flavor in RAM, CPU or disk is never a candidate, so a walk may
//!   start (and a min search may end) at the first host of a set that could fit.
//!
//! [`Term::value`]: super::weighers::Term::value

use std::cmp::Ordering;
use std::collections::btree_set::Range;
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use super::weighers::{
    fit_offsets, kind, merge, multipliers, raw_values, request_amount, sort_weighed, Kind, Norm,
    Raw, CONTINUOUS, DISCRETE, N,
};
use super::{choose, rank, wanted, Filter, NoValidHost, SelectRequest, Selection};
use crate::engine::Stream;
use crate::model::{Host, HostId, Placement, Resources};
use crate::scenario::WeightMultipliers;

/// (order key, host); a set of these iterates best first. The order key is the raw value,
/// negated when a larger value is better (positive multiplier), so that equal values come in
/// ascending id order whichever way the weigher points.
type Entry = (i128, HostId);
type Bounds = (Bound<Entry>, Bound<Entry>);

/// A class: the inputs of the [`DISCRETE`] weighers (0 for one with a zero multiplier).
type ClassKey = [i128; DISCRETE.len()];

/// Beyond this magnitude a multiplier could push a bound to ±inf (and inf − inf is NaN, which
/// is not monotone); such configurations are scanned instead.
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

fn free_of(placement: &Placement, h: HostId) -> [i128; 3] {
    let (cap, used) = (placement.capacity(h), placement.usage(h));
    let free = |c: u64, u: u64| i128::from(c) - i128::from(u);
    [
        free(cap.vcpus, used.vcpus),
        free(cap.memory_mb, used.memory_mb),
        free(cap.disk_gb, used.disk_gb),
    ]
}

fn class_key(raw: &Raw, mults: &[f64; N]) -> ClassKey {
    std::array::from_fn(|d| {
        let w = DISCRETE[d];
        if mults[w] != 0.0 {
            raw[w]
        } else {
            0
        }
    })
}

/// Hosts sharing one [`ClassKey`].
#[derive(Debug, Clone)]
struct Class {
    ids: BTreeSet<HostId>,
    /// Per [`CONTINUOUS`] weigher with a non-zero multiplier, the class's hosts best first.
    sorted: [Option<BTreeSet<Entry>>; CONTINUOUS.len()],
}

/// The index of one host set: all hosts, or the hosts of one availability zone.
#[derive(Debug, Clone)]
struct Lists {
    /// Hosts enabled and up at their last update.
    ids: BTreeSet<HostId>,
    /// Hosts disabled or down at their last update. Their flags are tested at each decision,
    /// so a service enabled or brought up without an `update` is still found.
    parked: BTreeSet<HostId>,
    /// Per weigher with a non-zero multiplier, all hosts of `ids` best first: the ends give
    /// the candidates' min and max.
    sorted: [Option<BTreeSet<Entry>>; N],
    classes: BTreeMap<ClassKey, Class>,
}

impl Lists {
    fn new(mults: &[f64; N]) -> Self {
        Lists {
            ids: BTreeSet::new(),
            parked: BTreeSet::new(),
            sorted: std::array::from_fn(|w| (mults[w] != 0.0).then(BTreeSet::new)),
            classes: BTreeMap::new(),
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
        let class = self
            .classes
            .entry(class_key(raw, mults))
            .or_insert_with(|| Class {
                ids: BTreeSet::new(),
                sorted: std::array::from_fn(|c| (mults[CONTINUOUS[c]] != 0.0).then(BTreeSet::new)),
            });
        class.ids.insert(h);
        for (c, set) in class.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                let w = CONTINUOUS[c];
                set.insert((order_key(mults[w], raw[w]), h));
            }
        }
    }

    /// Moves `h` from its old values to its new ones, touching only the sets whose key
    /// changed: a claim moves the resource sets, an I/O change moves the class. This is the
    /// hot path of every allocation change.
    fn update(&mut self, h: HostId, old: (&Raw, bool), new: (&Raw, bool), mults: &[f64; N]) {
        let ((old_raw, old_listed), (new_raw, new_listed)) = (old, new);
        if old_listed != new_listed || !new_listed {
            self.remove(h, old_raw, old_listed, mults);
            self.insert(h, new_raw, new_listed, mults);
            return;
        }
        for (w, set) in self.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                let (ko, kn) = (
                    order_key(mults[w], old_raw[w]),
                    order_key(mults[w], new_raw[w]),
                );
                if ko != kn {
                    set.remove(&(ko, h));
                    set.insert((kn, h));
                }
            }
        }
        let (old_key, new_key) = (class_key(old_raw, mults), class_key(new_raw, mults));
        if old_key == new_key {
            if let Some(class) = self.classes.get_mut(&old_key) {
                for (c, set) in class.sorted.iter_mut().enumerate() {
                    if let Some(set) = set {
                        let w = CONTINUOUS[c];
                        let (ko, kn) = (
                            order_key(mults[w], old_raw[w]),
                            order_key(mults[w], new_raw[w]),
                        );
                        if ko != kn {
                            set.remove(&(ko, h));
                            set.insert((kn, h));
                        }
                    }
                }
            }
            return;
        }
        if let Some(class) = self.classes.get_mut(&old_key) {
            class.ids.remove(&h);
            for (c, set) in class.sorted.iter_mut().enumerate() {
                if let Some(set) = set {
                    set.remove(&(order_key(mults[CONTINUOUS[c]], old_raw[CONTINUOUS[c]]), h));
                }
            }
            if class.ids.is_empty() {
                self.classes.remove(&old_key);
            }
        }
        let class = self.classes.entry(new_key).or_insert_with(|| Class {
            ids: BTreeSet::new(),
            sorted: std::array::from_fn(|c| (mults[CONTINUOUS[c]] != 0.0).then(BTreeSet::new)),
        });
        class.ids.insert(h);
        for (c, set) in class.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                set.insert((order_key(mults[CONTINUOUS[c]], new_raw[CONTINUOUS[c]]), h));
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
        let key = class_key(raw, mults);
        if let Some(class) = self.classes.get_mut(&key) {
            class.ids.remove(&h);
            for (c, set) in class.sorted.iter_mut().enumerate() {
                if let Some(set) = set {
                    let w = CONTINUOUS[c];
                    set.remove(&(order_key(mults[w], raw[w]), h));
                }
            }
            if class.ids.is_empty() {
                self.classes.remove(&key);
            }
        }
    }
}

/// Hosts already weighed (or found not to be candidates) in this decision.
struct Seen(Vec<u64>);

impl Seen {
    fn new(n: usize) -> Self {
        Seen(vec![0; n.div_ceil(64)])
    }

    /// Marks `h`; true if it was not marked yet.
    fn insert(&mut self, h: HostId) -> bool {
        let bit = 1u64 << (h.index() % 64);
        match self.0.get_mut(h.index() / 64) {
            Some(word) => {
                let fresh = *word & bit == 0;
                *word |= bit;
                fresh
            }
            None => false,
        }
    }

    fn contains(&self, h: HostId) -> bool {
        self.0
            .get(h.index() / 64)
            .is_some_and(|word| word & (1u64 << (h.index() % 64)) != 0)
    }
}

/// Where a normalisation term reads its input during a class walk.
#[derive(Debug, Clone, Copy)]
enum Input {
    /// From the cursor of the walk with this index.
    Walk(usize),
    /// From the class key at this position.
    Class(usize),
}

/// One continuous weigher's set during a class walk.
struct Walk<'s> {
    set: &'s BTreeSet<Entry>,
    mult: f64,
    cursor: Peekable<Range<'s, Entry>>,
}

/// The state of one decision's search.
struct Search<'a> {
    norm: &'a Norm,
    inputs: Vec<Input>,
    /// Per walk: the weigher and its position in [`CONTINUOUS`].
    walked: Vec<(usize, usize)>,
    k: usize,
    /// Per weigher, the order keys of the best and worst listed candidates.
    span: [Option<(i128, i128)>; N],
    top: Vec<(f64, HostId)>,
    seen: Seen,
}

/// The scheduler's view of the cloud, kept current by [`SchedulerIndex::update`].
#[derive(Debug, Clone)]
pub struct SchedulerIndex {
    /// Read by the debug cross-check against the full scan only.
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    weights: WeightMultipliers,
    mults: [f64; N],
    /// A multiplier is huge or not finite: weigh every candidate instead of searching.
    scan_only: bool,
    /// Per host, as of its last update: weigher inputs, schedulable flag, AZ.
    raw: Vec<Raw>,
    io_ops: Vec<u32>,
    num_instances: Vec<u32>,
    listed: Vec<bool>,
    az: Vec<String>,
    /// Placement capacity − usage per class (VCPU, MEMORY_MB, DISK_GB): a fit test that
    /// touches neither `Host` nor `Placement`.
    free: Vec<[i128; 3]>,
    /// Per resource weigher, the smallest fit offset over all hosts (see `fit_offsets`).
    fit_floor: [Option<i128>; N],
    all: Lists,
    by_az: BTreeMap<String, Lists>,
    /// While every host is in this one AZ, `by_az` is not kept (it would duplicate `all`,
    /// doubling the cost of every `update`): an AZ request for it reads `all`.
    single_az: Option<String>,
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
            scan_only: mults
                .iter()
                .any(|m| !m.is_finite() || m.abs() > MAX_INDEXED_MULTIPLIER),
            raw: Vec::with_capacity(n),
            io_ops: vec![0; n],
            num_instances: vec![0; n],
            listed: Vec::with_capacity(n),
            az: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            fit_floor: [None; N],
            all: Lists::new(&mults),
            by_az: BTreeMap::new(),
            single_az: None,
        };
        for (i, host) in hosts.iter().take(n).enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            let h = HostId(id);
            let raw = raw_values(host, h, placement, 0, 0);
            let listed = host.is_schedulable();
            idx.widen_fit_floor(host, placement.capacity(h));
            idx.all.insert(h, &raw, listed, &mults);
            idx.raw.push(raw);
            idx.free.push(free_of(placement, h));
            idx.listed.push(listed);
            idx.az.push(host.availability_zone.clone());
        }
        match idx.az.first() {
            Some(first) if idx.az.iter().all(|a| a == first) => idx.single_az = Some(first.clone()),
            _ => idx.build_by_az(),
        }
        idx
    }

    /// Builds the per-AZ lists from the hosts' current values.
    fn build_by_az(&mut self) {
        self.single_az = None;
        self.by_az.clear();
        for i in 0..self.raw.len() {
            let Ok(id) = u32::try_from(i) else { break };
            self.by_az
                .entry(self.az[i].clone())
                .or_insert_with(|| Lists::new(&self.mults))
                .insert(HostId(id), &self.raw[i], self.listed[i], &self.mults);
        }
    }

    /// Re-read host `h`'s weigher inputs after its placement usage, io_ops or instance count
    /// changed. Also call it after `h`'s enabled/up flags or AZ change: a stale flag only
    /// costs a little time per decision, but a stale AZ or usage gives wrong decisions
    /// (caught in debug builds on small clouds).
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
        self.free[i] = free_of(placement, h);
        self.widen_fit_floor(host, placement.capacity(h));
        if raw == self.raw[i] && listed == self.listed[i] && host.availability_zone == self.az[i] {
            return;
        }
        let mults = self.mults;
        let (old_raw, old_listed) = (self.raw[i], self.listed[i]);
        if self.single_az.is_some() && host.availability_zone != self.az[i] {
            // The cloud stops being one AZ: keep per-AZ lists from now on.
            self.build_by_az();
        }
        self.all
            .update(h, (&old_raw, old_listed), (&raw, listed), &mults);
        if let Some(p) = self.by_az.get_mut(&self.az[i]) {
            p.remove(h, &old_raw, old_listed, &mults);
        }
        if host.availability_zone != self.az[i] {
            self.az[i].clone_from(&host.availability_zone);
        }
        if self.single_az.is_none() {
            match self.by_az.get_mut(&self.az[i]) {
                Some(p) => p.insert(h, &raw, listed, &mults),
                None => {
                    let mut p = Lists::new(&mults);
                    p.insert(h, &raw, listed, &mults);
                    self.by_az.insert(self.az[i].clone(), p);
                }
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
            Some(az) if self.single_az.as_deref() == Some(az) => &self.all,
            Some(az) => match self.by_az.get(az) {
                Some(p) => p,
                None => return Err(self.failure(&f, hosts.len())),
            },
        };
        let k = wanted(req);
        let top = if self.scan_only {
            self.scan(part, &f, k)
        } else {
            self.search(part, &f, k)
        };
        if top.is_empty() {
            return Err(self.failure(&f, hosts.len()));
        }
        Ok(choose(&top, req, rng))
    }

    /// A listed host of the searched set is a candidate: fits (by the copy kept current by
    /// `update`) and passes the live flags, requested host and ignore list. Its AZ is the
    /// set's.
    fn candidate(&self, f: &Filter, h: HostId) -> bool {
        let req = &f.req.resources;
        self.free.get(h.index()).is_some_and(|free| {
            free[0] >= i128::from(req.vcpus)
                && free[1] >= i128::from(req.memory_mb)
                && free[2] >= i128::from(req.disk_gb)
        }) && f.admits(h)
    }

    /// Placement's answer decides the message: did any enabled host have the capacity?
    fn failure(&self, f: &Filter, n_hosts: usize) -> NoValidHost {
        if let Some(h) = f.req.requested_host {
            return if f.in_placement(h) {
                NoValidHost::FilteredOut
            } else {
                NoValidHost::NoCandidates
            };
        }
        let found = match self.any_fitting(&self.all, &f.req.resources, |h| f.in_placement(h)) {
            Some(listed) => listed || self.all.parked.iter().any(|&h| f.in_placement(h)),
            None => (0..n_hosts.min(self.raw.len()))
                .filter_map(|i| u32::try_from(i).ok())
                .any(|i| f.in_placement(HostId(i))),
        };
        if found {
            NoValidHost::FilteredOut
        } else {
            NoValidHost::NoCandidates
        }
    }

    /// Whether a listed host of `part` that fits `req` satisfies `pred`, reading the fit ranges
    /// of the resource weighers' sets in turn: every fitting host is in each range, so the
    /// first range read to its end has shown them all, and the smallest range bounds the cost.
    /// `None` when no resource weigher has a set (then the caller scans).
    fn any_fitting(
        &self,
        part: &Lists,
        req: &Resources,
        mut pred: impl FnMut(HostId) -> bool,
    ) -> Option<bool> {
        let mut ranges: Vec<Range<Entry>> = CONTINUOUS
            .iter()
            .filter_map(|&w| Some(part.sorted[w].as_ref()?.range(self.fit_bounds(w, req))))
            .collect();
        if ranges.is_empty() {
            return None;
        }
        loop {
            for r in &mut ranges {
                match r.next() {
                    None => return Some(false),
                    Some(&(_, h)) if pred(h) => return Some(true),
                    Some(_) => {}
                }
            }
        }
    }

    /// Order keys a host that fits the request can have in weigher `w`'s sets.
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

    /// The best `k` candidates of `part`, in weighed order, without weighing them all.
    fn search(&self, part: &Lists, f: &Filter, k: usize) -> Vec<HostId> {
        let req = &f.req.resources;
        // Parked hosts whose flags say schedulable now: weighed directly.
        let extras: Vec<HostId> = part
            .parked
            .iter()
            .copied()
            .filter(|&h| f.passes(h))
            .collect();

        // 1. Min and max of each weigher over the candidates, from both ends of its set. First
        //    make sure there is a candidate, through the smallest fit range.
        if self.any_fitting(part, req, |h| self.candidate(f, h)) == Some(false) {
            return self.best_of(&extras, k);
        }
        let mut ext: [Option<(i128, i128)>; N] = [None; N];
        // The same in order keys (best, worst), listed hosts only: walks need read no further.
        let mut span: [Option<(i128, i128)>; N] = [None; N];
        for (w, set) in part.sorted.iter().enumerate() {
            let Some(set) = set else { continue };
            let bounds = self.fit_bounds(w, req);
            let Some(best) = set
                .range(bounds)
                .find(|e| self.candidate(f, e.1))
                .map(|e| e.0)
            else {
                // Every set holds every listed host: none is a candidate.
                return self.best_of(&extras, k);
            };
            let worst = if set.range(bounds).next_back().map(|e| e.0) == Some(best) {
                best // all candidates share the best value
            } else {
                set.range(bounds)
                    .rev()
                    .find(|e| self.candidate(f, e.1))
                    .map_or(best, |e| e.0)
            };
            let m = self.mults[w];
            let (a, b) = (raw_of_key(m, best), raw_of_key(m, worst));
            ext[w] = Some((a.min(b), a.max(b)));
            span[w] = Some((best, worst));
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
                .filter(|&h| self.candidate(f, h))
                .take(k)
                .collect();
            top.extend(&extras);
            top.sort_unstable();
            top.truncate(k);
            return top;
        }

        let mut walked = Vec::new();
        let inputs: Vec<Input> = norm
            .terms
            .iter()
            .map(|t| match kind(t.weigher) {
                Kind::Continuous(c) => {
                    walked.push((t.weigher, c));
                    Input::Walk(walked.len() - 1)
                }
                Kind::Discrete(d) => Input::Class(d),
            })
            .collect();
        let mut s = Search {
            norm: &norm,
            inputs,
            walked,
            k,
            span,
            top: Vec::new(),
            seen: Seen::new(self.raw.len()),
        };
        for &h in &extras {
            s.seen.insert(h);
            s.offer(norm.score(&self.raw[h.index()]), h);
        }

        // 3. Classes best first by the most any of their hosts could score (continuous inputs
        //    at the candidates' best); stop at the first that cannot reach the k-th best.
        let best_raw =
            |w: usize| ext[w].map_or(0, |(lo, hi)| if self.mults[w] > 0.0 { hi } else { lo });
        let mut classes: Vec<(f64, &ClassKey, &Class)> = part
            .classes
            .iter()
            .map(|(key, class)| {
                let bound = norm.score_by(|t| match s.inputs[t] {
                    Input::Walk(i) => best_raw(s.walked[i].0),
                    Input::Class(d) => key[d],
                });
                (bound, key, class)
            })
            .collect();
        classes.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (bound, key, class) in classes {
            if let Some(&kth) = s.kth() {
                match bound.total_cmp(&kth.0) {
                    Ordering::Less => break,
                    // Its hosts can at best tie, and would rank after the k-th on id.
                    Ordering::Equal if class.ids.first().is_none_or(|&m| m > kth.1) => continue,
                    _ => {}
                }
            }
            self.walk_class(&mut s, f, key, class);
        }
        s.top.into_iter().map(|(_, h)| h).collect()
    }

    /// Threshold Algorithm over one class: read its continuous sets round-robin, best first,
    /// until no unread host of the class can rank before the k-th best.
    fn walk_class(&self, s: &mut Search, f: &Filter, key: &ClassKey, class: &Class) {
        let mut walks = Vec::with_capacity(s.walked.len());
        for &(w, c) in &s.walked {
            // Both always there (a term needs a non-zero multiplier and a listed candidate);
            // if not, weigh the whole class below.
            let (Some(set), Some((best, worst))) = (class.sorted[c].as_ref(), s.span[w]) else {
                break;
            };
            // No listed candidate lies outside the candidates' own span.
            let bounds = (
                Included((best, HostId(0))),
                Included((worst, HostId(u32::MAX))),
            );
            walks.push(Walk {
                set,
                mult: self.mults[w],
                cursor: set.range(bounds).peekable(),
            });
        }
        if walks.len() != s.walked.len() {
            for &h in &class.ids {
                if s.seen.insert(h) && self.candidate(f, h) {
                    s.offer(s.norm.score(&self.raw[h.index()]), h);
                }
            }
            return;
        }
        if walks.is_empty() {
            // All hosts of the class weigh the same: the lowest ids first.
            let mut taken = 0;
            for &h in &class.ids {
                if taken == s.k {
                    break;
                }
                if s.seen.insert(h) && self.candidate(f, h) {
                    s.offer(s.norm.score(&self.raw[h.index()]), h);
                    taken += 1;
                }
            }
            return;
        }
        let mut unread_ids = class.ids.iter().copied().peekable();
        let mut t = 0;
        loop {
            if s.can_stop(key, &mut walks, &mut unread_ids) {
                return;
            }
            // One set exhausted: every candidate of the class (all are in every set) is read.
            let Some(&(_, h)) = walks[t].cursor.next() else {
                return;
            };
            if s.seen.insert(h) && self.candidate(f, h) {
                s.offer(s.norm.score(&self.raw[h.index()]), h);
            }
            t = (t + 1) % walks.len();
        }
    }
}

impl Search<'_> {
    fn kth(&self) -> Option<&(f64, HostId)> {
        self.top.get(self.k.checked_sub(1)?)
    }

    /// Keeps `top` the best `k` offers, in weighed order.
    fn offer(&mut self, score: f64, h: HostId) {
        let item = (score, h);
        let pos = self
            .top
            .partition_point(|x| rank(x, &item) == Ordering::Less);
        if pos < self.k {
            self.top.insert(pos, item);
            self.top.truncate(self.k);
        }
    }

    /// True when no unread host of the class can rank before the current k-th best.
    ///
    /// An unread host sits at or after every set's cursor, so its score is at most the
    /// threshold: the score of the cursors' values (and the class key). At equal score the
    /// lower id ranks first, so on a tie every unread host that can reach the threshold must
    /// also have a higher id. Such a host has, in each set, the cursor's value (then an id ≥
    /// the cursor's id) or a worse one; if a worse value in set `i` already scores below the
    /// threshold (float rounding may absorb the difference), the cursor's id bounds it.
    /// Failing that, the lowest unread id of the class does.
    fn can_stop(
        &self,
        key: &ClassKey,
        walks: &mut [Walk],
        unread_ids: &mut Peekable<impl Iterator<Item = HostId>>,
    ) -> bool {
        let Some(&kth) = self.kth() else {
            return false;
        };
        // At most one walk per continuous weigher: a fixed array, no allocation per read.
        let mut frontier: [Entry; CONTINUOUS.len()] = [(0, HostId(0)); CONTINUOUS.len()];
        for (slot, w) in frontier.iter_mut().zip(walks.iter_mut()) {
            match w.cursor.peek() {
                Some(&&e) => *slot = e,
                None => return true, // everything read
            }
        }
        let score_at = |keys: &dyn Fn(usize) -> i128| {
            self.norm.score_by(|t| match self.inputs[t] {
                Input::Walk(i) => raw_of_key(walks[i].mult, keys(i)),
                Input::Class(d) => key[d],
            })
        };
        let threshold = score_at(&|i| frontier[i].0);
        match kth.0.total_cmp(&threshold) {
            Ordering::Greater => return true,
            Ordering::Less => return false,
            Ordering::Equal => {}
        }
        for (i, w) in walks.iter().enumerate() {
            let (at, id) = frontier[i];
            if kth.1 > id {
                continue;
            }
            let strict = match w
                .set
                .range((Excluded((at, HostId(u32::MAX))), Unbounded))
                .next()
            {
                None => true,
                Some(&(worse, _)) => {
                    let bound = score_at(&|j| if j == i { worse } else { frontier[j].0 });
                    bound.total_cmp(&threshold) == Ordering::Less
                }
            };
            if strict {
                return true;
            }
        }
        while unread_ids.next_if(|&h| self.seen.contains(h)).is_some() {}
        unread_ids.peek().is_none_or(|&lowest| kth.1 < lowest)
    }
}
