//! The indexed scheduler. Hosts whose weigher inputs are all equal form one *group*, weighed
//! once: a cloud of identical hosts with a few flavors has a few dozen groups however many
//! hosts it has. With few groups a decision weighs every group; with more, the groups are kept
//! in sorted sets per weigher and in classes by the weighers with few distinct inputs, and
//! Fagin's Threshold Algorithm reads the sets inside a class.
//!
//! The sorted sets and classes serve only that search, so a host set keeps them only while it
//! has more groups than a decision weighs one by one (see [`Lists::ordered`]): below that,
//! a group appearing or emptying, as one host's usage change makes it, costs no set update.
//!
//! Invariants the search relies on:
//! * a listed host is in exactly one group, the one keyed by the raw values cached at its last
//!   `update`; while its host set is ordered, a group is in every weigher's set and in one
//!   class while it has hosts, and a host set with more groups than the scan limit is ordered;
//! * a normalised term is monotone in the raw value (see [`Term::value`]) and float addition
//!   is monotone, so replacing each input by one at least as good never lowers a score;
//! * hosts of one group score the same, so of a group only its `k` lowest-id candidates can be
//!   among the best `k`;
//! * a host too full for the flavor in RAM, CPU or disk is never a candidate, so a walk may
//!   start (and a min search may end) at the first group of a set that could fit.
//!
//! [`Term::value`]: super::weighers::Term::value

use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::btree_set::Range;
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::ops::Bound::{self, Included, Unbounded};

use super::fit_tree::FitTree;
use super::hostset::{dense_threshold, HostSet};
use super::weighers::{
    fit_offsets, kind, merge, multipliers, raw_values, request_amount, sort_weighed, Kind, Norm,
    Raw, CONTINUOUS, DISCRETE, N,
};
use super::window::{Refresh, Window, WindowKey, MAX_WINDOWS};
use super::{choose, rank, wanted, Filter, NoValidHost, PlacementQuery, SelectRequest, Selection};
use crate::config::WeightMultipliers;
use crate::engine::Stream;
use crate::model::{Host, HostId, Placement, Resources};

/// Index of a group in [`Lists::groups`].
pub(super) type GroupId = u32;

/// [`Lists::member`] of a host in no group.
pub(super) const NO_GROUP: GroupId = GroupId::MAX;

/// (order key, group); a set of these iterates best first. The order key is the raw value,
/// negated when a larger value is better (positive multiplier).
type Entry = (i128, GroupId);
type Bounds = (Bound<Entry>, Bound<Entry>);

/// A class: the inputs of the [`DISCRETE`] weighers (0 for one with a zero multiplier).
type ClassKey = [i128; DISCRETE.len()];

/// Beyond this magnitude a multiplier could push a bound to ±inf (and inf − inf is NaN, which
/// is not monotone); such configurations are scanned instead.
const MAX_INDEXED_MULTIPLIER: f64 = 1e100;

/// Up to this many groups a decision weighs every group instead of searching the sets: one
/// score per group is cheaper than the threshold walk's set reads.
const SCAN_GROUPS_MAX: usize = 48;

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

/// `raw` with the inputs of weighers whose multiplier is 0 set to 0: they weigh nothing (a
/// zero-multiplier weigher is dropped from every normalisation), so hosts that differ only
/// there belong in one group, and a change of such an input (the instance count, by default)
/// moves no host.
fn weighed_inputs(mut raw: Raw, mults: &[f64; N]) -> Raw {
    for (r, &m) in raw.iter_mut().zip(mults) {
        if m == 0.0 {
            *r = 0;
        }
    }
    raw
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

/// Listed hosts with the same weigher inputs.
#[derive(Debug, Clone, Default)]
struct Group {
    raw: Raw,
    /// Empty while the slot is free.
    hosts: HostSet,
}

/// Groups sharing one [`ClassKey`].
#[derive(Debug, Clone)]
struct Class {
    groups: BTreeSet<GroupId>,
    /// Per [`CONTINUOUS`] weigher with a non-zero multiplier, the class's groups best first.
    sorted: [Option<BTreeSet<Entry>>; CONTINUOUS.len()],
}

/// The index of one host set: all hosts, or the hosts of one availability zone.
#[derive(Debug, Clone)]
struct Lists {
    /// Hosts enabled and up at their last update ("listed").
    ids: BTreeSet<HostId>,
    /// Hosts disabled or down at their last update. Their flags are tested at each decision,
    /// so a service enabled or brought up without an `update` is still found.
    parked: BTreeSet<HostId>,
    /// Slots of groups; freed slots are reused.
    groups: Vec<Group>,
    free_slots: Vec<GroupId>,
    /// The groups with hosts, by their inputs (its length is the number of groups).
    by_raw: FxHashMap<Raw, GroupId>,
    /// Per host, the group it is in ([`NO_GROUP`] if not listed here).
    member: Vec<GroupId>,
    /// A group beyond this many hosts keeps them in a bitset ([`dense_threshold`]).
    dense_at: usize,
    /// Per weigher with a non-zero multiplier, all groups best first: the ends give the
    /// candidates' min and max. Filled only while `ordered`.
    sorted: [Option<BTreeSet<Entry>>; N],
    /// Filled only while `ordered`.
    classes: BTreeMap<ClassKey, Class>,
    /// Whether `sorted` and `classes` hold the groups. They do once there are more than
    /// `order_above` groups (the most a decision weighs one by one, so every threshold search
    /// finds them), and are emptied when fewer than half that many are left. In the cold storm
    /// (3–10 groups) keeping them cost a twentieth of the simulating thread's instructions: a
    /// host alone in its group opens one group and closes another at every usage change.
    ordered: bool,
    order_above: usize,
}

impl Lists {
    fn new(mults: &[f64; N], dense_at: usize, order_above: usize) -> Self {
        Lists {
            ids: BTreeSet::new(),
            parked: BTreeSet::new(),
            groups: Vec::new(),
            free_slots: Vec::new(),
            by_raw: FxHashMap::default(),
            member: Vec::new(),
            dense_at,
            sorted: std::array::from_fn(|w| (mults[w] != 0.0).then(BTreeSet::new)),
            classes: BTreeMap::new(),
            ordered: order_above == 0,
            order_above,
        }
    }

    /// Orders the groups (see `ordered`) if there are more than `order_above` of them.
    fn order_if_many(&mut self, mults: &[f64; N]) {
        if !self.ordered && self.by_raw.len() > self.order_above {
            self.ordered = true;
            let groups: Vec<GroupId> = self.by_raw.values().copied().collect();
            for g in groups {
                self.file_group(g, mults);
            }
        }
    }

    fn group(&self, g: GroupId) -> &Group {
        &self.groups[g as usize]
    }

    fn insert(&mut self, h: HostId, raw: &Raw, listed: bool, mults: &[f64; N]) {
        if listed {
            self.ids.insert(h);
            self.join_group(h, raw, mults);
        } else {
            self.parked.insert(h);
        }
    }

    fn remove(&mut self, h: HostId, listed: bool, mults: &[f64; N]) {
        if listed {
            self.ids.remove(&h);
            self.leave_group(h, mults);
        } else {
            self.parked.remove(&h);
        }
    }

    /// Moves `h` from its old values to its new ones. A usage change of a listed host moves it
    /// between two groups; the sets change only when a group appears or empties. This is the
    /// hot path of every allocation change.
    fn update(&mut self, h: HostId, old_listed: bool, new: (&Raw, bool), mults: &[f64; N]) {
        let (new_raw, new_listed) = new;
        if old_listed && new_listed {
            self.leave_group(h, mults);
            self.join_group(h, new_raw, mults);
        } else {
            self.remove(h, old_listed, mults);
            self.insert(h, new_raw, new_listed, mults);
        }
    }

    fn join_group(&mut self, h: HostId, raw: &Raw, mults: &[f64; N]) {
        let g = match self.by_raw.get(raw) {
            Some(&g) => g,
            None => self.open_group(raw, mults),
        };
        self.groups[g as usize].hosts.insert(h, self.dense_at);
        if self.member.len() <= h.index() {
            self.member.resize(h.index() + 1, NO_GROUP);
        }
        self.member[h.index()] = g;
    }

    fn leave_group(&mut self, h: HostId, mults: &[f64; N]) {
        let Some(slot) = self.member.get_mut(h.index()) else {
            return;
        };
        let g = std::mem::replace(slot, NO_GROUP);
        let Some(group) = self.groups.get_mut(g as usize) else {
            return;
        };
        group.hosts.remove(h, self.dense_at);
        if group.hosts.is_empty() {
            self.close_group(g, mults);
        }
    }

    fn open_group(&mut self, raw: &Raw, mults: &[f64; N]) -> GroupId {
        let g = match self.free_slots.pop() {
            Some(g) => g,
            None => {
                self.groups.push(Group::default());
                // More groups than u32 ids would need more hosts than HostId can name.
                u32::try_from(self.groups.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.groups[g as usize].raw = *raw;
        self.by_raw.insert(*raw, g);
        if self.ordered {
            self.file_group(g, mults);
        } else {
            self.order_if_many(mults);
        }
        g
    }

    /// Puts group `g` in the sorted sets and its class.
    fn file_group(&mut self, g: GroupId, mults: &[f64; N]) {
        let raw = &self.groups[g as usize].raw;
        for (w, set) in self.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                set.insert((order_key(mults[w], raw[w]), g));
            }
        }
        let class = self
            .classes
            .entry(class_key(raw, mults))
            .or_insert_with(|| Class {
                groups: BTreeSet::new(),
                sorted: std::array::from_fn(|c| (mults[CONTINUOUS[c]] != 0.0).then(BTreeSet::new)),
            });
        class.groups.insert(g);
        for (c, set) in class.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                let w = CONTINUOUS[c];
                set.insert((order_key(mults[w], raw[w]), g));
            }
        }
    }

    fn close_group(&mut self, g: GroupId, mults: &[f64; N]) {
        let raw = self.groups[g as usize].raw;
        self.by_raw.remove(&raw);
        self.free_slots.push(g);
        if !self.ordered {
            return;
        }
        if self.by_raw.len() < self.order_above / 2 {
            // Few groups left: decisions weigh them one by one until there are many again.
            self.ordered = false;
            self.sorted.iter_mut().flatten().for_each(BTreeSet::clear);
            self.classes.clear();
            return;
        }
        for (w, set) in self.sorted.iter_mut().enumerate() {
            if let Some(set) = set {
                set.remove(&(order_key(mults[w], raw[w]), g));
            }
        }
        let key = class_key(&raw, mults);
        if let Some(class) = self.classes.get_mut(&key) {
            class.groups.remove(&g);
            for (c, set) in class.sorted.iter_mut().enumerate() {
                if let Some(set) = set {
                    let w = CONTINUOUS[c];
                    set.remove(&(order_key(mults[w], raw[w]), g));
                }
            }
            if class.groups.is_empty() {
                self.classes.remove(&key);
            }
        }
    }
}

/// Groups already weighed in this decision.
struct Seen(Vec<u64>);

impl Seen {
    fn new(n: usize) -> Self {
        Seen(vec![0; n.div_ceil(64)])
    }

    /// Marks `g`; true if it was not marked yet.
    fn insert(&mut self, g: GroupId) -> bool {
        let (i, bit) = (g as usize / 64, 1u64 << (g % 64));
        match self.0.get_mut(i) {
            Some(word) => {
                let fresh = *word & bit == 0;
                *word |= bit;
                fresh
            }
            None => false,
        }
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
    /// Per weigher, the order keys of the best and worst candidate groups.
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
    /// Up to this many groups, weigh each group instead of searching ([`SCAN_GROUPS_MAX`];
    /// tests set 0 to exercise the search on small clouds).
    scan_groups_max: usize,
    query: PlacementQuery,
    /// Per host, as of its last update: weigher inputs (0 for a zero multiplier, see
    /// [`weighed_inputs`]), schedulable flag, AZ.
    raw: Vec<Raw>,
    io_ops: Vec<u32>,
    num_instances: Vec<u32>,
    listed: Vec<bool>,
    /// Each host's `enabled` at its last update (what the fit tree holds).
    enabled: Vec<bool>,
    az: Vec<String>,
    /// Placement capacity − usage per class (VCPU, MEMORY_MB, DISK_GB): a fit test that
    /// touches neither `Host` nor `Placement`.
    free: Vec<[i128; 3]>,
    /// `free` of the enabled hosts, for placement's limited answer (see `fit_tree`).
    fit: FitTree,
    /// Placement capacity at the last update: the fit floor widens only when it changes.
    capacity: Vec<Resources>,
    /// Per resource weigher, the smallest fit offset over all hosts (see `fit_offsets`).
    fit_floor: [Option<i128>; N],
    all: Lists,
    by_az: BTreeMap<String, Lists>,
    /// While every host is in this one AZ, `by_az` is not kept (it would duplicate `all`,
    /// doubling the cost of every `update`): an AZ request for it reads `all`.
    single_az: Option<String>,
    /// Placement's limited answers of the recent request shapes (above the limit only).
    windows: Vec<Window>,
    /// Decisions taken, the clock of the windows' last use.
    decisions: u64,
}

impl SchedulerIndex {
    /// Indexes `hosts` with their current placement usage; I/O ops and instance counts start
    /// at 0 (pass them with [`update`](Self::update)).
    pub fn new(hosts: &[Host], placement: &Placement, weights: WeightMultipliers) -> Self {
        let mults = multipliers(&weights);
        let n = hosts.len().min(placement.host_count());
        let dense = dense_threshold(n);
        let mut idx = SchedulerIndex {
            weights,
            mults,
            scan_only: mults
                .iter()
                .any(|m| !m.is_finite() || m.abs() > MAX_INDEXED_MULTIPLIER),
            scan_groups_max: SCAN_GROUPS_MAX,
            query: PlacementQuery::default(),
            raw: Vec::with_capacity(n),
            io_ops: vec![0; n],
            num_instances: vec![0; n],
            listed: Vec::with_capacity(n),
            enabled: Vec::with_capacity(n),
            az: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            capacity: Vec::with_capacity(n),
            fit: FitTree::new(std::iter::empty()),
            fit_floor: [None; N],
            all: Lists::new(&mults, dense, SCAN_GROUPS_MAX),
            by_az: BTreeMap::new(),
            single_az: None,
            windows: Vec::new(),
            decisions: 0,
        };
        for (i, host) in hosts.iter().take(n).enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            let h = HostId(id);
            let raw = weighed_inputs(raw_values(host, h, placement, 0, 0), &mults);
            let listed = host.is_schedulable();
            idx.widen_fit_floor(host, placement.capacity(h));
            idx.all.insert(h, &raw, listed, &mults);
            idx.raw.push(raw);
            idx.free.push(free_of(placement, h));
            idx.capacity.push(placement.capacity(h));
            idx.listed.push(listed);
            idx.enabled.push(host.enabled);
            idx.az.push(host.availability_zone.clone());
        }
        idx.fit = FitTree::new(
            hosts
                .iter()
                .zip(&idx.free)
                .map(|(host, free)| host.enabled.then_some(*free)),
        );
        match idx.az.first() {
            Some(first) if idx.az.iter().all(|a| a == first) => idx.single_az = Some(first.clone()),
            _ => idx.build_by_az(),
        }
        idx
    }

    /// The same index, asking placement with `query`.
    pub fn with_placement_query(mut self, query: PlacementQuery) -> Self {
        let kept = self.raw.len() > self.query.max_results;
        // A window is an answer for the old limit and zone rule.
        self.windows.clear();
        self.query = PlacementQuery {
            max_results: query.max_results.max(1),
            ..query
        };
        if !kept && self.raw.len() > self.query.max_results {
            self.fit = FitTree::new(
                self.free
                    .iter()
                    .zip(&self.enabled)
                    .map(|(free, &on)| on.then_some(*free)),
            );
        }
        self
    }

    /// The same index, deciding with the threshold search whenever it has more than `groups`
    /// groups (0: always).
    #[cfg(test)]
    pub(crate) fn with_group_scan_limit(mut self, groups: usize) -> Self {
        self.scan_groups_max = groups;
        let (limit, mults) = (self.scan_limit(), self.mults);
        for part in std::iter::once(&mut self.all).chain(self.by_az.values_mut()) {
            part.order_above = limit;
            part.order_if_many(&mults);
        }
        self
    }

    /// How many groups of hosts the index holds, and whether it keeps them ordered.
    #[cfg(test)]
    pub(crate) fn group_order(&self) -> (usize, bool) {
        (self.all.by_raw.len(), self.all.ordered)
    }

    /// Up to this many groups a decision weighs every group.
    fn scan_limit(&self) -> usize {
        self.scan_groups_max.min(SCAN_GROUPS_MAX)
    }

    /// Builds the per-AZ lists from the hosts' current values.
    fn build_by_az(&mut self) {
        self.single_az = None;
        self.by_az.clear();
        for i in 0..self.raw.len() {
            let Ok(id) = u32::try_from(i) else { break };
            self.by_az
                .entry(self.az[i].clone())
                .or_insert_with(|| {
                    let dense = dense_threshold(self.raw.len());
                    Lists::new(
                        &self.mults,
                        dense,
                        self.scan_groups_max.min(SCAN_GROUPS_MAX),
                    )
                })
                .insert(HostId(id), &self.raw[i], self.listed[i], &self.mults);
        }
    }

    /// Re-read host `h`'s weigher inputs after its placement usage, io_ops or instance count
    /// changed. Also call it after `h`'s enabled/up flags or AZ change: a stale flag only
    /// costs a little time per decision, but a stale AZ or usage gives wrong decisions
    /// (caught in debug builds on small clouds), and so does a host enabled without an update
    /// on a cloud above `max_placement_results` (the fit tree holds only enabled hosts).
    pub fn update(
        &mut self,
        h: HostId,
        hosts: &[Host],
        placement: &Placement,
        io_ops: u32,
        num_instances: u32,
    ) {
        let old_group = self.group_of(h);
        self.update_host(h, hosts, placement, io_ops, num_instances);
        if !self.windows.is_empty() && h.index() < self.raw.len() {
            self.refresh_windows(h, old_group);
        }
    }

    /// The group `h` is in ([`NO_GROUP`] if none).
    fn group_of(&self, h: HostId) -> GroupId {
        self.all.member.get(h.index()).copied().unwrap_or(NO_GROUP)
    }

    /// After `h`'s update, moves it within, into or out of each window, `old_group` being the
    /// group it was in before.
    fn refresh_windows(&mut self, h: HostId, old_group: GroupId) {
        let i = h.index();
        let new_group = self.group_of(h);
        let limit = self.query.max_results;
        for w in 0..self.windows.len() {
            let window = &self.windows[w];
            let fits = window
                .key
                .admits(self.enabled[i], &self.free[i], &self.az[i]);
            let change = match (window.contains(h), fits && window.reaches(h, limit)) {
                (true, true) => Refresh::Stays {
                    from: old_group,
                    to: new_group,
                },
                (true, false) => Refresh::Leaves {
                    from: old_group,
                    // The host after the old last one takes the freed place.
                    next: match window.last() {
                        Some(last) if window.is_full(limit) => self
                            .next_fitting(&window.key, last.index() + 1)
                            .map(|n| (n, self.group_of(n))),
                        _ => None,
                    },
                },
                (false, true) => Refresh::Enters {
                    to: new_group,
                    // h is below the last host (or the window had room): the last one is
                    // pushed out if the window was full.
                    pushed: window
                        .last()
                        .filter(|_| window.is_full(limit))
                        .map(|last| (last, self.group_of(last))),
                },
                (false, false) => continue,
            };
            self.windows[w].apply(h, change);
        }
    }

    /// The first host from id `from` in placement's answer for `key`.
    fn next_fitting(&self, key: &WindowKey, from: usize) -> Option<HostId> {
        self.fit
            .first_fitting_from(from, key.need, 1, |h| self.in_window(key, h))
            .first()
            .copied()
    }

    /// `key`'s placement test on the index's copy of a host's values.
    fn in_window(&self, key: &WindowKey, h: HostId) -> bool {
        let i = h.index();
        i < self.raw.len() && key.admits(self.enabled[i], &self.free[i], &self.az[i])
    }

    fn update_host(
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
        let raw = weighed_inputs(
            raw_values(host, h, placement, io_ops, num_instances),
            &self.mults,
        );
        let listed = host.is_schedulable();
        self.io_ops[i] = io_ops;
        self.num_instances[i] = num_instances;
        self.free[i] = free_of(placement, h);
        self.enabled[i] = host.enabled;
        // The fit tree is read only on clouds above placement's limit: kept only there (cold
        // storm of 1,000 hosts, callgrind: 1 % of the instructions); `with_placement_query`
        // rebuilds it when a lower limit makes it needed.
        if self.raw.len() > self.query.max_results {
            self.fit.set(i, host.enabled.then_some(self.free[i]));
        }
        let capacity = placement.capacity(h);
        if capacity != self.capacity[i] {
            self.capacity[i] = capacity;
            self.widen_fit_floor(host, capacity);
        }
        // Compared once (a string comparison per host update counts: 0.5 % of the cold storm).
        let same_az = host.availability_zone == self.az[i];
        if raw == self.raw[i] && listed == self.listed[i] && same_az {
            return;
        }
        let (mults, limit) = (self.mults, self.scan_limit());
        let old_listed = self.listed[i];
        if self.single_az.is_some() && !same_az {
            // The cloud stops being one AZ: keep per-AZ lists from now on.
            self.build_by_az();
        }
        self.all.update(h, old_listed, (&raw, listed), &mults);
        if let Some(p) = self.by_az.get_mut(&self.az[i]) {
            p.remove(h, old_listed, &mults);
        }
        if !same_az {
            self.az[i].clone_from(&host.availability_zone);
        }
        if self.single_az.is_none() {
            match self.by_az.get_mut(&self.az[i]) {
                Some(p) => p.insert(h, &raw, listed, &mults),
                None => {
                    let mut p = Lists::new(&mults, dense_threshold(self.raw.len()), limit);
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
        &mut self,
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
                self.query,
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
        &mut self,
        hosts: &[Host],
        placement: &Placement,
        req: &SelectRequest,
        rng: &mut Stream,
    ) -> Result<Selection, NoValidHost> {
        if req.requested_host.is_none() && hosts.len() > self.query.max_results {
            // A cloud larger than placement's limit: only the hosts placement returned are
            // filtered and weighed, so the index (built over every host) is not used.
            let w = self.window(hosts, placement, req);
            let f = Filter::new(hosts, placement, req, self.query);
            return self.weigh_window(&self.windows[w], &f, req, rng);
        }
        let f = Filter::new(hosts, placement, req, self.query);
        if let Some(h) = req.requested_host {
            // Only that host survives host-set reduction: one candidate, nothing to weigh.
            if h.index() < self.raw.len() && f.passes(h) {
                return Ok(choose(vec![h], req, rng));
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
        } else if part.by_raw.len() <= self.scan_limit() {
            self.scan_groups(part, &f, k)
        } else {
            self.search(part, &f, k)
        };
        if top.is_empty() {
            return Err(self.failure(&f, hosts.len()));
        }
        Ok(choose(top, req, rng))
    }

    /// The window of `req`'s shape (made if no kept one matches), marked used.
    fn window(&mut self, hosts: &[Host], placement: &Placement, req: &SelectRequest) -> usize {
        let r = &req.resources;
        let key = WindowKey {
            need: [r.vcpus, r.memory_mb, r.disk_gb].map(i128::from),
            az: req
                .availability_zone
                .filter(|_| self.query.az_in_placement)
                .map(str::to_string),
        };
        self.decisions += 1;
        let w = match self.windows.iter().position(|w| w.key == key) {
            Some(w) => w,
            None => {
                if self.windows.len() >= MAX_WINDOWS {
                    let oldest = (0..self.windows.len())
                        .min_by_key(|&w| self.windows[w].last_used)
                        .unwrap_or(0);
                    self.windows.swap_remove(oldest);
                }
                let answer = self
                    .fit
                    .first_fitting(key.need, self.query.max_results, |h| {
                        self.in_window(&key, h)
                    });
                self.windows
                    .push(Window::new(key, &answer, |h| self.group_of(h)));
                self.windows.len() - 1
            }
        };
        self.windows[w].last_used = self.decisions;
        #[cfg(debug_assertions)]
        {
            // The kept answer is the one placement gives now, from the live hosts.
            let f = Filter::new(hosts, placement, req, self.query);
            let fresh =
                self.fit
                    .first_fitting(self.windows[w].key.need, self.query.max_results, |h| {
                        f.in_placement(h)
                    });
            let kept: Vec<HostId> = self.windows[w].hosts().iter().copied().collect();
            assert_eq!(
                kept, fresh,
                "a placement window went stale: was update() called after every change?"
            );
            assert!(self.windows[w].filed_by(|h| self.group_of(h)));
        }
        #[cfg(not(debug_assertions))]
        let _ = (hosts, placement);
        w
    }

    /// `weigh_and_choose` over placement's limited answer (a window), from the weigher inputs
    /// this index holds (current after `update`; zero-multiplier inputs are 0, which weigh
    /// nothing either way). Hosts of one group score the same, so of each group only its
    /// `wanted` lowest-id candidates can be among the best, and the group's inputs count once
    /// in the normalisation; a host outside every group (brought up without an `update`) is
    /// taken on its own. Reading a few hosts per group instead of every host of the answer:
    /// placing 1,000,000 servers on 100,000 hosts 23.3 → 2.9 s with the windows (`benches/scale.rs
    /// --kind drain`, one run each).
    fn weigh_window(
        &self,
        window: &Window,
        f: &Filter,
        req: &SelectRequest,
        rng: &mut Stream,
    ) -> Result<Selection, NoValidHost> {
        // `passes`, less what placement's answer already tested (enabled, fits).
        let in_az = |h: HostId| {
            req.availability_zone
                .is_none_or(|az| f.hosts[h.index()].availability_zone == az)
        };
        let k = wanted(req);
        let mut picked: Vec<(HostId, Raw)> = Vec::new();
        let mut distinct: Vec<Raw> = Vec::new();
        for (g, members) in window.by_group() {
            let grouped = g != NO_GROUP;
            let mut taken = 0;
            for &h in members {
                if grouped && taken == k {
                    break;
                }
                if f.admits(h) && in_az(h) {
                    let raw = if grouped {
                        self.all.group(g).raw
                    } else {
                        self.raw[h.index()]
                    };
                    if !grouped || taken == 0 {
                        distinct.push(raw);
                    }
                    picked.push((h, raw));
                    taken += 1;
                }
            }
        }
        if picked.is_empty() {
            return Err(if window.hosts().is_empty() {
                NoValidHost::NoCandidates
            } else {
                NoValidHost::FilteredOut
            });
        }
        let norm = Norm::over(&self.mults, distinct.into_iter());
        let mut weighed: Vec<(f64, HostId)> = picked
            .into_iter()
            .map(|(h, raw)| (norm.score(&raw), h))
            .collect();
        if weighed.len() > k {
            // `rank` is a total order: the k best are the same set however they are found.
            weighed.select_nth_unstable_by(k - 1, rank);
            weighed.truncate(k);
        }
        weighed.sort_by(rank);
        Ok(choose(
            weighed.into_iter().map(|(_, h)| h).collect(),
            req,
            rng,
        ))
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

    /// Whether a host of a listed group of `part` that fits `req` satisfies `pred`, reading the
    /// fit ranges of the resource weighers' sets in turn: every fitting group is in each range,
    /// so the first range read to its end has shown them all, and the smallest range bounds
    /// the cost. `None` when no resource weigher has a set (then the caller scans).
    fn any_fitting(
        &self,
        part: &Lists,
        req: &Resources,
        mut pred: impl FnMut(HostId) -> bool,
    ) -> Option<bool> {
        if !part.ordered {
            // Few groups: each is read (every fitting group is among them; `pred` tests the fit).
            let any = (part.by_raw.values()).any(|&g| part.group(g).hosts.iter().any(&mut pred));
            return Some(any);
        }
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
                    Some(&(_, g)) if part.group(g).hosts.iter().any(&mut pred) => {
                        return Some(true)
                    }
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
                    (Unbounded, Included((-lowest_raw, GroupId::MAX)))
                } else {
                    (Included((lowest_raw, 0)), Unbounded)
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

    fn has_candidate(&self, part: &Lists, f: &Filter, g: GroupId) -> bool {
        part.group(g).hosts.iter().any(|h| self.candidate(f, h))
    }

    /// The best `k` candidates of `part`, in weighed order, weighing each group once.
    fn scan_groups(&self, part: &Lists, f: &Filter, k: usize) -> Vec<HostId> {
        let extras = part.parked.iter().copied().filter(|&h| f.passes(h));
        // At most `SCAN_GROUPS_MAX` groups have hosts here: a fixed array, no allocation.
        let mut live = [0 as GroupId; SCAN_GROUPS_MAX];
        let mut n_live = 0;
        for g in (0..part.groups.len()).filter_map(|g| GroupId::try_from(g).ok()) {
            if self.has_candidate(part, f, g) {
                let Some(slot) = live.get_mut(n_live) else {
                    return self.search(part, f, k); // unreachable while the caller checks
                };
                *slot = g;
                n_live += 1;
            }
        }
        let live = &live[..n_live];
        let mut ext: [Option<(i128, i128)>; N] = [None; N];
        let raws = live
            .iter()
            .map(|&g| &part.group(g).raw)
            .chain(extras.clone().map(|h| &self.raw[h.index()]));
        for raw in raws {
            for (w, e) in ext.iter_mut().enumerate() {
                *e = merge(*e, Some((raw[w], raw[w])));
            }
        }
        let norm = Norm::new(&self.mults, &ext);
        let mut s = Search {
            norm: &norm,
            inputs: Vec::new(),
            walked: Vec::new(),
            k,
            span: [None; N],
            top: Vec::with_capacity(k + 1),
            // Each group is offered once below: nothing to remember.
            seen: Seen::new(0),
        };
        for h in extras {
            s.offer(norm.score(&self.raw[h.index()]), h);
        }
        if k == 1 {
            // The first offer already sets the bar a worse group is passed over at.
            for &g in live {
                self.offer_hosts(&mut s, f, part.group(g));
            }
        } else {
            // Best score first: the best group alone often fills the `k` places, and every
            // worse group is then passed over at its score instead of having its hosts tested
            // and offered. The result is the same in any order (`rank` is total). Cold storm
            // (k = 3): 1.2 % fewer instructions.
            let mut scored = [(0.0, 0 as GroupId); SCAN_GROUPS_MAX];
            for (slot, &g) in scored.iter_mut().zip(live) {
                *slot = (norm.score(&part.group(g).raw), g);
            }
            let scored = &mut scored[..live.len()];
            scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
            for &(score, g) in scored.iter() {
                self.offer_scored(&mut s, f, part.group(g), score);
            }
        }
        s.top.into_iter().map(|(_, h)| h).collect()
    }

    /// The best `k` candidates of `part`, in weighed order, without weighing them all.
    fn search(&self, part: &Lists, f: &Filter, k: usize) -> Vec<HostId> {
        debug_assert!(
            part.ordered,
            "a host set with more groups than the scan limit is ordered"
        );
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
        // The same in order keys (best, worst), listed groups only: walks need read no further.
        let mut span: [Option<(i128, i128)>; N] = [None; N];
        for (w, set) in part.sorted.iter().enumerate() {
            let Some(set) = set else { continue };
            let bounds = self.fit_bounds(w, req);
            let Some(best) = set
                .range(bounds)
                .find(|e| self.has_candidate(part, f, e.1))
                .map(|e| e.0)
            else {
                // Every set holds every listed group: none has a candidate.
                return self.best_of(&extras, k);
            };
            let worst = if set.range(bounds).next_back().map(|e| e.0) == Some(best) {
                best // all candidates share the best value
            } else {
                set.range(bounds)
                    .rev()
                    .find(|e| self.has_candidate(part, f, e.1))
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
        if norm.terms().is_empty() {
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
            .terms()
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
            top: Vec::with_capacity(k + 1),
            seen: Seen::new(part.groups.len()),
        };
        for &h in &extras {
            s.offer(norm.score(&self.raw[h.index()]), h);
        }

        // 3. Classes best first by the most any of their groups could score (continuous inputs
        //    at the candidates' best); stop at the first that cannot reach the k-th best. One
        //    that can only tie is still walked: its hosts may have lower ids.
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
            if s.kth()
                .is_some_and(|kth| bound.total_cmp(&kth.0) == Ordering::Less)
            {
                break;
            }
            self.walk_class(&mut s, part, f, key, class);
        }
        s.top.into_iter().map(|(_, h)| h).collect()
    }

    /// Weighs group `g` once per decision and offers its lowest-id candidates: the others of
    /// the group score the same with higher ids, so they rank after `k` offered ones.
    fn offer_group(&self, s: &mut Search, part: &Lists, f: &Filter, g: GroupId) {
        if !s.seen.insert(g) {
            return;
        }
        self.offer_hosts(s, f, part.group(g));
    }

    /// Weighs `group` and offers its lowest-id candidates (see [`Self::offer_group`]).
    fn offer_hosts(&self, s: &mut Search, f: &Filter, group: &Group) {
        self.offer_scored(s, f, group, s.norm.score(&group.raw));
    }

    /// [`Self::offer_hosts`] with the group's score already computed.
    fn offer_scored(&self, s: &mut Search, f: &Filter, group: &Group, score: f64) {
        if s.kth()
            .is_some_and(|kth| score.total_cmp(&kth.0) == Ordering::Less)
        {
            return;
        }
        let mut offered = 0;
        for h in group.hosts.iter() {
            if offered == s.k {
                break;
            }
            if self.candidate(f, h) {
                if !s.offer(score, h) {
                    break; // a higher id at the same score cannot enter either
                }
                offered += 1;
            }
        }
    }

    /// Threshold Algorithm over one class: read its continuous sets round-robin, best first,
    /// until no unread group of the class can score as much as the k-th best.
    fn walk_class(&self, s: &mut Search, part: &Lists, f: &Filter, key: &ClassKey, class: &Class) {
        let mut walks = Vec::with_capacity(s.walked.len());
        for &(w, c) in &s.walked {
            // Both always there (a term needs a non-zero multiplier and a listed candidate);
            // if not, weigh the whole class below.
            let (Some(set), Some((best, worst))) = (class.sorted[c].as_ref(), s.span[w]) else {
                break;
            };
            // No candidate group lies outside the candidates' own span.
            let bounds = (Included((best, 0)), Included((worst, GroupId::MAX)));
            walks.push(Walk {
                mult: self.mults[w],
                cursor: set.range(bounds).peekable(),
            });
        }
        if walks.is_empty() || walks.len() != s.walked.len() {
            // All groups of the class weigh the same, or a set is missing: weigh them all.
            for &g in &class.groups {
                self.offer_group(s, part, f, g);
            }
            return;
        }
        let mut t = 0;
        loop {
            if s.can_stop(key, &mut walks) {
                return;
            }
            // One set exhausted: every candidate group of the class (all are in every set,
            // inside the span) is read.
            let Some(&(_, g)) = walks[t].cursor.next() else {
                return;
            };
            self.offer_group(s, part, f, g);
            t = (t + 1) % walks.len();
        }
    }
}

impl Search<'_> {
    fn kth(&self) -> Option<&(f64, HostId)> {
        self.top.get(self.k.checked_sub(1)?)
    }

    /// Keeps `top` the best `k` offers, in weighed order; false if the offer did not enter.
    fn offer(&mut self, score: f64, h: HostId) -> bool {
        let item = (score, h);
        let pos = self
            .top
            .partition_point(|x| rank(x, &item) == Ordering::Less);
        if pos < self.k {
            self.top.insert(pos, item);
            self.top.truncate(self.k);
            true
        } else {
            false
        }
    }

    /// True when no unread group of the class can score as much as the current k-th best.
    /// An unread group sits at or after every set's cursor, so its score is at most the
    /// threshold: the score of the cursors' values (and the class key). A group that could
    /// only tie is read: its hosts may have lower ids than the k-th.
    fn can_stop(&self, key: &ClassKey, walks: &mut [Walk]) -> bool {
        let Some(&kth) = self.kth() else {
            return false;
        };
        // At most one walk per continuous weigher: a fixed array, no allocation per read.
        let mut frontier = [0i128; CONTINUOUS.len()];
        for (slot, w) in frontier.iter_mut().zip(walks.iter_mut()) {
            match w.cursor.peek() {
                Some(&&(at, _)) => *slot = at,
                None => return true, // everything read
            }
        }
        let threshold = self.norm.score_by(|t| match self.inputs[t] {
            Input::Walk(i) => raw_of_key(walks[i].mult, frontier[i]),
            Input::Class(d) => key[d],
        });
        kth.0.total_cmp(&threshold) == Ordering::Greater
    }
}
