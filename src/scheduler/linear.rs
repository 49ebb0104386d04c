//! The reference scheduler: every host tested, every candidate weighed and sorted.

use super::weighers::{multipliers, raw_values, sort_weighed, Norm};
use super::{choose, Filter, NoValidHost, SelectRequest, Selection};
use crate::config::WeightMultipliers;
use crate::engine::Stream;
use crate::model::{Host, HostId, Placement};

/// Full-scan scheduler with the semantics of [`super::SchedulerIndex::select`]. `io_ops[h]`
/// and `num_instances[h]` are host `h`'s weigher inputs (missing entries count as 0).
pub fn select_linear(
    hosts: &[Host],
    placement: &Placement,
    weights: WeightMultipliers,
    io_ops: &[u32],
    num_instances: &[u32],
    req: &SelectRequest,
    rng: &mut Stream,
) -> Result<Selection, NoValidHost> {
    let f = Filter::new(hosts, placement, req);
    let ids = || (0..hosts.len()).filter_map(|i| u32::try_from(i).ok().map(HostId));
    let candidates: Vec<HostId> = ids().filter(|&h| f.passes(h)).collect();
    if candidates.is_empty() {
        return Err(if ids().any(|h| f.in_placement(h)) {
            NoValidHost::FilteredOut
        } else {
            NoValidHost::NoCandidates
        });
    }
    let raw = |h: HostId| {
        let i = h.index();
        raw_values(
            &hosts[i],
            h,
            placement,
            io_ops.get(i).copied().unwrap_or(0),
            num_instances.get(i).copied().unwrap_or(0),
        )
    };
    let mults = multipliers(&weights);
    let norm = Norm::over(&mults, candidates.iter().map(|&h| raw(h)));
    let mut weighed: Vec<(f64, HostId)> = candidates
        .iter()
        .map(|&h| (norm.score(&raw(h)), h))
        .collect();
    sort_weighed(&mut weighed);
    let sorted: Vec<HostId> = weighed.into_iter().map(|(_, h)| h).collect();
    Ok(choose(sorted, req, rng))
}
