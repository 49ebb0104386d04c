//! The Nova filter scheduler (spec §8.1) for one request: placement's allocation candidates,
//! host-set reduction, `ComputeFilter`, the weighers, the host-subset choice and the alternates
//! (spec §5.2).
//!
//! Two implementations with the same semantics: [`SchedulerIndex::select`], which keeps every
//! weigher's hosts in a sorted set and runs Fagin's Threshold Algorithm over them, and
//! [`select_linear`], the full scan it is checked against (property test; and in debug builds
//! `select` re-runs the scan for clouds of at most 64 hosts and asserts equality).
//!
//! # Cost of a decision
//!
//! N hosts, W weighers with a non-zero multiplier (≤ 6), k = `host_subset_size` +
//! `num_alternates`. `update` costs O(W log N). A `select` with `requested_host` costs O(1).
//! Otherwise a decision reads, from each weigher's sorted set, the hosts it must skip before the
//! first candidate at both ends (for the RAM/CPU/disk weighers it first jumps past the hosts
//! whose free amount cannot fit the flavor), then walks the sets best-first until the k-th best
//! host provably beats every unread one; it also checks the flags of the hosts that were
//! disabled or down at their last `update`. Typical cost: O(D + W·(s + r)·log N), with D those
//! disabled/down hosts (one flag test each), s the non-candidates at the sets' ends, and
//! r ≈ k·W the hosts read when the weighers roughly agree. Worst case O(N log N): most hosts
//! are non-candidates for a reason the sets cannot skip (full in another resource than the
//! sorted one, ignored, another AZ when no AZ is requested is not one of them: AZs have their
//! own sets), or the weighers rank hosts in opposite orders (e.g. RAM +1 against I/O −1 on a
//! cloud where the emptiest hosts are the busiest). A failed decision may scan O(N) hosts to
//! tell `NoCandidates` from `FilteredOut`.

mod index;
mod linear;
mod weighers;

#[cfg(test)]
mod tests;

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
    /// The exception message Nova records (spec §8.1 steps 2 and 4).
    pub fn message(self) -> &'static str {
        match self {
            NoValidHost::NoCandidates => "No valid host was found. ",
            NoValidHost::FilteredOut => "There are not enough hosts available.",
        }
    }
}

/// The per-host predicates of one request, read live from `hosts` and `placement`.
pub(crate) struct Filter<'r> {
    hosts: &'r [Host],
    placement: &'r Placement,
    req: &'r SelectRequest<'r>,
    /// `ignore_hosts`, sorted, so a long retry list costs log time per test.
    ignore: Vec<HostId>,
}

impl<'r> Filter<'r> {
    pub(crate) fn new(hosts: &'r [Host], placement: &'r Placement, req: &'r SelectRequest<'r>) -> Self {
        let mut ignore = req.ignore_hosts.to_vec();
        ignore.sort_unstable();
        Filter {
            hosts,
            placement,
            req,
            ignore,
        }
    }

    /// An allocation candidate: placement has the capacity and the service is not disabled
    /// (the `COMPUTE_STATUS_DISABLED` forbidden trait, spec §8.1 steps 1–2).
    pub(crate) fn in_placement(&self, h: HostId) -> bool {
        self.hosts.get(h.index()).is_some_and(|host| host.enabled)
            && h.index() < self.placement.host_count()
            && self.placement.fits(h, &self.req.resources)
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

/// Weighed order: total weight descending, then lower id first (our rule for Nova's undefined
/// tie order, spec §11.4). `total_cmp` keeps the order total even for a NaN weight.
pub(crate) fn rank(a: &(f64, HostId), b: &(f64, HostId)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// `_get_sorted_hosts` step 6 plus the alternates: `sorted` holds the best hosts in weighed
/// order — all candidates, or at least `host_subset_size + num_alternates` of them — and is
/// not empty.
pub(crate) fn choose(sorted: &[HostId], req: &SelectRequest, rng: &mut Stream) -> Selection {
    let subset = req.host_subset_size.max(1).min(sorted.len());
    // Draw only for a real choice, so the default subset of 1 leaves the stream untouched.
    let pick = if subset > 1 {
        rng.gen_range(0..subset)
    } else {
        0
    };
    let alternates = sorted
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != pick)
        .map(|(_, &h)| h)
        .take(req.num_alternates)
        .collect();
    Selection {
        selected: sorted[pick],
        alternates,
    }
}

/// How many of the best hosts a decision needs.
pub(crate) fn wanted(req: &SelectRequest) -> usize {
    req.host_subset_size.max(1).saturating_add(req.num_alternates)
}
