//! The reference scheduler: every host tested, every candidate weighed and sorted.

use super::weighers::{multipliers, raw_values, sort_weighed, Norm};
use super::{
    choose, placement_candidates, Filter, NoValidHost, PlacementQuery, SelectRequest, Selection,
};
use crate::config::WeightMultipliers;
use crate::engine::Stream;
use crate::model::{Host, HostId, Placement};

/// Full-scan scheduler with the semantics of [`super::SchedulerIndex::select`]. `io_ops[h]`
/// and `num_instances[h]` are host `h`'s weigher inputs (missing entries count as 0); at most
/// `query.max_results` allocation candidates are considered (see
/// [`super::placement_candidates`]).
#[allow(clippy::too_many_arguments)]
pub fn select_linear(
    hosts: &[Host],
    placement: &Placement,
    weights: WeightMultipliers,
    io_ops: &[u32],
    num_instances: &[u32],
    query: PlacementQuery,
    req: &SelectRequest,
    rng: &mut Stream,
) -> Result<Selection, NoValidHost> {
    let f = Filter::new(hosts, placement, req, query);
    let ids = || (0..hosts.len()).filter_map(|i| u32::try_from(i).ok().map(HostId));
    let (candidates, any_in_placement) =
        match placement_candidates(&f, hosts.len(), query.max_results) {
            Some(limited) => {
                let any = !limited.is_empty();
                (limited.into_iter().filter(|&h| f.passes(h)).collect(), any)
            }
            None => {
                let c: Vec<HostId> = ids().filter(|&h| f.passes(h)).collect();
                let any = !c.is_empty() || ids().any(|h| f.in_placement(h));
                (c, any)
            }
        };
    if candidates.is_empty() {
        return Err(if any_in_placement {
            NoValidHost::FilteredOut
        } else {
            NoValidHost::NoCandidates
        });
    }
    Ok(weigh_and_choose(
        hosts,
        placement,
        weights,
        io_ops,
        num_instances,
        &candidates,
        req,
        rng,
    ))
}

/// Weighs `candidates` (non-empty) and makes the choice (spec §8.1 steps 5–6).
#[allow(clippy::too_many_arguments)]
pub(crate) fn weigh_and_choose(
    hosts: &[Host],
    placement: &Placement,
    weights: WeightMultipliers,
    io_ops: &[u32],
    num_instances: &[u32],
    candidates: &[HostId],
    req: &SelectRequest,
    rng: &mut Stream,
) -> Selection {
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
    choose(sorted, req, rng)
}
