//! The weighers (spec §8.1 step 5, `nova/weights.py`, `nova/scheduler/weights/*.py`) and the
//! min-max normalisation. Nova's other weighers (PCI, affinity, build failure, cross-cell,
//! image properties, metrics) contribute 0 in this model and are left out.

use crate::config::WeightMultipliers;
use crate::model::{Host, HostId, Placement, Resources};

/// Number of modelled weighers.
pub(crate) const N: usize = 6;

/// Index of each weigher in a [`Raw`] row, and the order in which weights are summed.
pub(crate) const RAM: usize = 0;
pub(crate) const CPU: usize = 1;
pub(crate) const DISK: usize = 2;
pub(crate) const IO_OPS: usize = 3;
pub(crate) const HYPERVISOR_VERSION: usize = 4;
pub(crate) const NUM_INSTANCES: usize = 5;

/// Weighers whose inputs take many values (free amounts): each gets a sorted set.
pub(crate) const CONTINUOUS: [usize; 3] = [RAM, CPU, DISK];
/// Weighers whose inputs take few distinct values across a cloud (small counts, a handful of
/// versions): hosts are grouped into classes by them.
pub(crate) const DISCRETE: [usize; 3] = [IO_OPS, HYPERVISOR_VERSION, NUM_INSTANCES];

/// Where weigher `w` sits in [`CONTINUOUS`] or [`DISCRETE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Continuous(usize),
    Discrete(usize),
}

pub(crate) fn kind(w: usize) -> Kind {
    match w {
        RAM => Kind::Continuous(0),
        CPU => Kind::Continuous(1),
        DISK => Kind::Continuous(2),
        IO_OPS => Kind::Discrete(0),
        HYPERVISOR_VERSION => Kind::Discrete(1),
        _ => Kind::Discrete(2),
    }
}

/// A host's raw weigher inputs, as Nova's `HostState` holds them. `i128` so that no
/// combination of `u64` inputs overflows and negative free amounts (overcommitted hosts) stay
/// exact.
pub(crate) type Raw = [i128; N];

/// The multipliers in [`Raw`] order.
pub(crate) fn multipliers(w: &WeightMultipliers) -> [f64; N] {
    let mut m = [0.0; N];
    m[RAM] = w.ram;
    m[CPU] = w.cpu;
    m[DISK] = w.disk;
    m[IO_OPS] = w.io_ops;
    m[HYPERVISOR_VERSION] = w.hypervisor_version;
    m[NUM_INSTANCES] = w.num_instances;
    m
}

/// Raw inputs of host `h`: `free_ram_mb`, free vCPUs (placement capacity − usage),
/// `free_disk_mb`, `num_io_ops`, `hypervisor_version`, `num_instances`.
pub(crate) fn raw_values(
    host: &Host,
    h: HostId,
    placement: &Placement,
    io_ops: u32,
    num_instances: u32,
) -> Raw {
    let usage = placement.usage(h);
    let cap = placement.capacity(h);
    let mut r = [0; N];
    r[RAM] = i128::from(host.memory_mb)
        - i128::from(host.reserved_host_memory_mb)
        - i128::from(usage.memory_mb);
    r[CPU] = i128::from(cap.vcpus) - i128::from(usage.vcpus);
    r[DISK] = i128::from(host.disk_gb) * 1024
        - i128::from(host.reserved_host_disk_mb)
        - i128::from(usage.disk_gb) * 1024;
    r[IO_OPS] = i128::from(io_ops);
    r[HYPERVISOR_VERSION] = i128::from(host.hypervisor_version);
    r[NUM_INSTANCES] = i128::from(num_instances);
    r
}

/// For the resource weighers, `d` such that a host fits `req` in that class only if its raw
/// value is at least `request_amount(req) + d` (exact: `usage + req ≤ capacity` rearranged).
/// `d` differs from 0 only through allocation ratios and reserved amounts; the index keeps the
/// smallest `d` over all hosts so that one jump skips every host too full for the flavor.
pub(crate) fn fit_offsets(host: &Host, cap: Resources) -> [Option<i128>; N] {
    let mut d = [None; N];
    d[RAM] = Some(
        i128::from(host.memory_mb)
            - i128::from(host.reserved_host_memory_mb)
            - i128::from(cap.memory_mb),
    );
    d[CPU] = Some(0);
    d[DISK] = Some(
        i128::from(host.disk_gb) * 1024
            - i128::from(host.reserved_host_disk_mb)
            - i128::from(cap.disk_gb) * 1024,
    );
    d
}

/// The request's amount on the scale of weigher `w`'s raw value (see [`fit_offsets`]).
pub(crate) fn request_amount(w: usize, req: &Resources) -> Option<i128> {
    match w {
        RAM => Some(i128::from(req.memory_mb)),
        CPU => Some(i128::from(req.vcpus)),
        DISK => Some(i128::from(req.disk_gb) * 1024),
        _ => None,
    }
}

/// `x as f64`, through `i64` when it fits: the same rounding, but `i128 → f64` is a slow
/// software routine and this runs for every host weighed.
fn to_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        Ok(v) => v as f64,
        Err(_) => wide_to_f64(x),
    }
}

/// Kept out of line: inlined, the optimiser sees that both arms of [`to_f64`] compute
/// `x as f64` and folds them into the slow routine.
#[inline(never)]
fn wide_to_f64(x: i128) -> f64 {
    x as f64
}

/// One weigher that contributes: `multiplier × (raw − min) / (max − min)` (`nova/weights.py`
/// `normalize`, applied in `get_weighed_objects`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Term {
    pub(crate) weigher: usize,
    mult: f64,
    min: f64,
    range: f64,
}

impl Term {
    /// Monotone in `raw` (non-decreasing for a positive multiplier, non-increasing for a
    /// negative one), because every float operation here is; the threshold algorithm relies
    /// on that to bound hosts it has not read.
    pub(crate) fn value(&self, raw: i128) -> f64 {
        self.mult * ((to_f64(raw) - self.min) / self.range)
    }
}

/// The normalisation of one decision: the contributing weighers with their candidate-set
/// min and max.
///
/// The terms sit in a fixed array (at most one per weigher): a decision allocates nothing for
/// its normalisation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Norm {
    slots: [Term; N],
    len: usize,
}

impl Norm {
    /// `extremes[w]` = (min, max) of weigher `w`'s raw value over the candidates, for each
    /// weigher with a non-zero multiplier. A weigher with a zero multiplier or with all
    /// candidates equal (normalised to 0 for all) contributes nothing and is dropped, which is
    /// exact: adding ±0.0 never changes a sum that starts at +0.0.
    pub(crate) fn new(mults: &[f64; N], extremes: &[Option<(i128, i128)>; N]) -> Norm {
        let none = Term {
            weigher: 0,
            mult: 0.0,
            min: 0.0,
            range: 1.0,
        };
        let mut norm = Norm {
            slots: [none; N],
            len: 0,
        };
        for w in 0..N {
            let Some((lo, hi)) = extremes[w] else {
                continue;
            };
            let (min, max) = (to_f64(lo), to_f64(hi));
            if mults[w] == 0.0 || min == max {
                continue;
            }
            norm.slots[norm.len] = Term {
                weigher: w,
                mult: mults[w],
                min,
                range: max - min,
            };
            norm.len += 1;
        }
        norm
    }

    /// The contributing weighers, in weigher order.
    pub(crate) fn terms(&self) -> &[Term] {
        &self.slots[..self.len]
    }

    /// Normalisation over an explicit candidate list.
    pub(crate) fn over(mults: &[f64; N], raws: impl Iterator<Item = Raw>) -> Norm {
        let mut ext: [Option<(i128, i128)>; N] = [None; N];
        for r in raws {
            for w in 0..N {
                ext[w] = Some(match ext[w] {
                    None => (r[w], r[w]),
                    Some((lo, hi)) => (lo.min(r[w]), hi.max(r[w])),
                });
            }
        }
        Norm::new(mults, &ext)
    }

    /// Total weight from one raw value per term (term `t` reads `raw_of(t)`), summed in the
    /// fixed weigher order from +0.0 as Nova's `obj.weight += …` does.
    pub(crate) fn score_by(&self, raw_of: impl Fn(usize) -> i128) -> f64 {
        let mut s = 0.0;
        for (t, term) in self.terms().iter().enumerate() {
            s += term.value(raw_of(t));
        }
        s
    }

    /// Total weight of a host.
    pub(crate) fn score(&self, raw: &Raw) -> f64 {
        self.score_by(|t| raw[self.terms()[t].weigher])
    }
}

/// Sorts `(weight, host)` pairs into weighed order (see [`super::rank`]).
pub(crate) fn sort_weighed(v: &mut [(f64, HostId)]) {
    v.sort_by(super::rank);
}

/// Min and max of two optional ranges.
pub(crate) fn merge(a: Option<(i128, i128)>, b: Option<(i128, i128)>) -> Option<(i128, i128)> {
    match (a, b) {
        (Some((l1, h1)), Some((l2, h2))) => Some((l1.min(l2), h1.max(h2))),
        (x, None) | (None, x) => x,
    }
}
