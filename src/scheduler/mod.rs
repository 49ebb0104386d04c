//! The Nova filter scheduler (spec §8.1) for one request: placement's allocation candidates,
//! host-set reduction, `ComputeFilter`, the weighers, the host-subset choice and the alternates
//! (spec §5.2).
//!
//! Two implementations with the same semantics: [`SchedulerIndex::select`], which finds the
//! best hosts without weighing every host, and [`select_linear`], the full scan it is checked
//! against (property tests; and in debug builds `select` re-runs the scan on clouds of at most
//! 64 hosts and asserts the same answer and the same randomness consumed).
//!
//! The index groups the enabled-and-up hosts whose weigher inputs are all equal (free RAM,
//! vCPUs and disk, I/O ops, hypervisor version, instance count; the inputs of weighers with a
//! zero multiplier are ignored): hosts of a group score the same, so a group is weighed once
//! and only its lowest-id candidates can be among the best.
//! It keeps, for all hosts and for each availability zone, the groups and: per weigher a sorted
//! set of the groups (whose ends give the candidates' min and max, and whose RAM/CPU/disk sets
//! let a search jump past groups too full for the flavor); and classes of groups sharing the
//! inputs of the weighers with few distinct values (I/O ops, hypervisor version, instance
//! count), each with its own RAM/CPU/disk sets. With few groups a decision weighs every group;
//! with many, classes are visited best bound first, and inside a class Fagin's Threshold
//! Algorithm reads the sets until the k-th best host scores more than any unread group can.
//!
//! # Cost of a decision
//!
//! N hosts, G groups (a cloud of identical hosts and a few flavors has tens of groups whatever
//! N is; G ≤ N). `update`: the host leaves one group and joins another — O(1) for a group kept
//! as a bitset, O(s) for a small one of s ≤ max(64, N/256) hosts (see `hostset`); the sets
//! change only when a group appears or empties (O(log G) each). `select` with
//! `requested_host`: O(1). Otherwise, up to 48 groups: O(P + G) group scores, each group's
//! lowest-id hosts tested until k candidates; beyond: O(P + C log C + s + r) set steps, where
//! P = hosts disabled or down at their last `update` (one flag test each, so a flag flipped
//! without `update` still counts), C = classes, s = groups without a candidate skipped at the
//! ends of the sets to find each weigher's candidate min and max, r = groups read by the
//! threshold walks. On the cold-migration storm bench (1,000 hosts, 10,000 servers) a decision
//! weighs about 9 groups. Worst case O(N) steps: every host in a group of its own and most
//! hosts non-candidates for a reason the sets cannot skip (a nearly full cloud where hosts with
//! free vCPUs lack RAM, long ignore lists), or the weighers ranking groups in opposite orders
//! so no walk stops early. A failed decision also reads the
//! smallest of the "could fit" ranges of the RAM/CPU/disk sets to tell `NoCandidates` from
//! `FilteredOut` (all hosts if no resource weigher is active).

mod fit_tree;
mod hostset;
mod index;
mod linear;
mod weighers;
mod window;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cmp::Ordering;

use rand::Rng;

use crate::engine::Stream;
use crate::model::{Host, HostId, Placement, Resources};

pub use index::SchedulerIndex;
pub use linear::select_linear;

/// One scheduling request (a `RequestSpec` reduced to what the pipeline reads).
#[derive(Debug, Clone, Copy)]
pub struct SelectRequest<'a> {
    /// The flavor's VCPU / MEMORY_MB / DISK_GB.
    pub resources: Resources,
    /// `RequestSpec.ignore_hosts` (e.g. the source host).
    pub ignore_hosts: &'a [HostId],
    /// `RequestSpec.requested_destination`: only this host may be chosen.
    pub requested_host: Option<HostId>,
    /// Only hosts whose `availability_zone` equals this.
    pub availability_zone: Option<&'a str>,
    /// `max_attempts − 1` for cold migration, 0 otherwise.
    pub num_alternates: usize,
    /// `[filter_scheduler] host_subset_size` (≥ 1; 0 is treated as 1).
    pub host_subset_size: usize,
}

/// The scheduler's answer: the chosen host and, for cold migration, the alternates in weighed
/// order (never containing the chosen host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub selected: HostId,
    pub alternates: Vec<HostId>,
}

/// Why no host was selected (both are `NoValidHost` in Nova; the reason text differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoValidHost {
    /// Placement returned no allocation candidate: no enabled host has the capacity.
    NoCandidates,
    /// Placement had candidates but host-set reduction or the filters removed them all.
    FilteredOut,
}

impl NoValidHost {
    /// The exception message Nova records: `NoValidHost` formats "No valid host was found.
    /// %(reason)s" with an empty reason when placement returns nothing and "There are not
    /// enough hosts available." when the filters remove everything (spec §8.1 steps 2 and 4).
    pub fn message(self) -> &'static str {
        match self {
            NoValidHost::NoCandidates => "No valid host was found.",
            NoValidHost::FilteredOut => {
                "No valid host was found. There are not enough hosts available."
            }
        }
    }
}

/// The per-host predicates of one request, read live from `hosts` and `placement`.
pub(crate) struct Filter<'r> {
    hosts: &'r [Host],
    placement: &'r Placement,
    req: &'r SelectRequest<'r>,
    /// `ignore_hosts`, sorted, so a long retry list costs log time per test (borrowed when it
    /// already is: a single source host, most often).
    ignore: Cow<'r, [HostId]>,
    az_in_placement: bool,
}

impl<'r> Filter<'r> {
    pub(crate) fn new(
        hosts: &'r [Host],
        placement: &'r Placement,
        req: &'r SelectRequest<'r>,
        query: PlacementQuery,
    ) -> Self {
        let ignore = if req.ignore_hosts.is_sorted() {
            Cow::Borrowed(req.ignore_hosts)
        } else {
            let mut sorted = req.ignore_hosts.to_vec();
            sorted.sort_unstable();
            Cow::Owned(sorted)
        };
        Filter {
            hosts,
            placement,
            req,
            ignore,
            az_in_placement: query.az_in_placement,
        }
    }

    /// An allocation candidate: placement has the capacity and the service is not disabled
    /// (the `COMPUTE_STATUS_DISABLED` forbidden trait, spec §8.1 steps 1–2). A requested
    /// destination is passed to placement as `in_tree` (`resources_from_request_spec`), so a
    /// full or disabled requested host leaves placement with no candidate at all.
    pub(crate) fn in_placement(&self, h: HostId) -> bool {
        self.req.requested_host.is_none_or(|r| r == h)
            && self.hosts.get(h.index()).is_some_and(|host| {
                host.enabled
                    && (!self.az_in_placement
                        || self
                            .req
                            .availability_zone
                            .is_none_or(|az| host.availability_zone == az))
            })
            && h.index() < self.placement.host_count()
            && self.placement.fits(h, &self.req.resources)
    }

    /// Survives host-set reduction and `ComputeFilter`, capacity and AZ aside (the index
    /// checks those from its own copy).
    pub(crate) fn admits(&self, h: HostId) -> bool {
        self.hosts
            .get(h.index())
            .is_some_and(|host| host.enabled && host.up)
            && self.req.requested_host.is_none_or(|r| r == h)
            && self.ignore.binary_search(&h).is_err()
    }

    /// Survives placement, host-set reduction (requested host, ignore_hosts), the AZ
    /// restriction and `ComputeFilter` (spec §8.1 steps 1–4).
    pub(crate) fn passes(&self, h: HostId) -> bool {
        let Some(host) = self.hosts.get(h.index()) else {
            return false;
        };
        host.enabled
            && host.up
            && self.req.requested_host.is_none_or(|r| r == h)
            && self
                .req
                .availability_zone
                .is_none_or(|az| host.availability_zone == az)
            && self.ignore.binary_search(&h).is_err()
            && h.index() < self.placement.host_count()
            && self.placement.fits(h, &self.req.resources)
    }
}

/// `[scheduler] max_placement_results`: placement answers `GET /allocation_candidates` with at
/// most this many providers, in its own order, and the scheduler filters and weighs only those
/// (`SchedulerReportClient.get_allocation_candidates` passes it as `limit`; with
/// `[placement] randomize_allocation_candidates = False`, the default, placement keeps its
/// database order, which is the providers' creation order: ascending host id here). `None` when
/// the cloud has no more hosts than the limit: no host is cut.
pub(crate) fn placement_candidates(
    f: &Filter,
    n_hosts: usize,
    limit: usize,
) -> Option<Vec<HostId>> {
    if n_hosts <= limit {
        return None;
    }
    Some(
        (0..n_hosts)
            .filter_map(|i| u32::try_from(i).ok().map(HostId))
            .filter(|&h| f.in_placement(h))
            .take(limit)
            .collect(),
    )
}

/// Nova's default `[scheduler] max_placement_results`.
pub const MAX_PLACEMENT_RESULTS: usize = 1000;

/// How the scheduler asks placement for allocation candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacementQuery {
    /// `[scheduler] max_placement_results` (see [`placement_candidates`]).
    pub max_results: usize,
    /// The requested availability zone is part of placement's query (the
    /// `map_az_to_placement_aggregate` pre-filter, mandatory from 28.0.0, when
    /// `AvailabilityZoneFilter` was removed): a host of another zone is no candidate, and uses
    /// up no place of `max_results`. Before, the filter removed it after placement's answer.
    pub az_in_placement: bool,
}

impl Default for PlacementQuery {
    fn default() -> Self {
        PlacementQuery {
            max_results: MAX_PLACEMENT_RESULTS,
            az_in_placement: true,
        }
    }
}

/// Weighed order: total weight descending, then lower id first (our rule for Nova's undefined
/// tie order, spec §11.4). `total_cmp` keeps the order total even for a NaN weight.
pub(crate) fn rank(a: &(f64, HostId), b: &(f64, HostId)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// `_get_sorted_hosts` step 6 plus the alternates: `sorted` holds the best hosts in weighed
/// order — all candidates, or at least `host_subset_size + num_alternates` of them — and is
/// not empty. It becomes the selection's alternates: the picked host taken out, the rest kept in
/// order up to `num_alternates`.
pub(crate) fn choose(mut sorted: Vec<HostId>, req: &SelectRequest, rng: &mut Stream) -> Selection {
    let subset = req.host_subset_size.max(1).min(sorted.len());
    // Draw only for a real choice, so the default subset of 1 leaves the stream untouched.
    let pick = if subset > 1 {
        rng.gen_range(0..subset)
    } else {
        0
    };
    let selected = sorted.remove(pick);
    sorted.truncate(req.num_alternates);
    Selection {
        selected,
        alternates: sorted,
    }
}

/// How many of the best hosts a decision needs.
pub(crate) fn wanted(req: &SelectRequest) -> usize {
    req.host_subset_size
        .max(1)
        .saturating_add(req.num_alternates)
}
