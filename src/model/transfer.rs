//! The live-migration transfer model (spec §10.2): what the libvirt driver observes while QEMU
//! pre-copies memory, with Nova's downtime escalation and completion timeout. Pure integer
//! arithmetic in MiB and milliseconds, so a constant-parameter migration is computable by hand:
//!
//! ```text
//! disk   = block ? ⌈disk_MiB·1000 / bw⌉ : 0                  (disks first, block migration)
//! iter 0 copies all memory: t0 = ⌈mem·1000 / bw⌉; during it dirty·t0/1000 MiB are dirtied
//! iter i copies what iter i−1 dirtied: t_i = ⌈r_{i−1}·1000 / bw⌉, r_i = min(mem, dirty·t_i/1000)
//! after each iteration, if ⌈r_i·1000/bw⌉ ≤ max downtime now ⇒ pause, copy r_i, done
//! max downtime at elapsed e: step i applies once e > delay·i,
//!   delay = int(downtime_delay × data_gb) s, value int(D/S + (D − D/S)/S · i) ms
//! completion timeout int(completion_timeout × data_gb) s (0 = none): abort ⇒ cancelled;
//!   force_complete ⇒ post-copy if permitted, else pause the guest; either way the memory
//!   still to copy is then copied without new dirtying
//! every outcome is observed by the 0.5 s monitor loop: times round up to a multiple of 500 ms
//! data_gb = max(2, mem GiB) + (block ? max(2, disk GiB) : 0)
//! ```

use crate::config::{LibvirtConfig, TimeoutAction};

/// Poll period of `_live_migration_monitor`.
pub const MONITOR_MS: u64 = 500;

/// Past this offset (2^62 ms, 146 million years) a job that has neither converged nor timed out
/// is `Stuck`: no run lasts that long, and every sum below stays far from u64::MAX.
const HORIZON_MS: u64 = 1 << 62;

/// Inputs of one transfer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransferInput {
    pub memory_mib: u64,
    /// Disk to copy (block migration), MiB; 0 with shared storage.
    pub disk_mib: u64,
    pub bandwidth_mib_s: u64,
    pub dirty_rate_mib_s: u64,
    pub libvirt: LibvirtConfig,
}

/// How the libvirt job ends, in ms after the transfer started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEnd {
    /// Job COMPLETED; `downtime_ms` is the final stop-and-copy.
    Completed {
        at_ms: u64,
        iterations: u32,
        downtime_ms: u64,
    },
    /// Completion timeout with action `abort`: job CANCELLED.
    Cancelled { at_ms: u64 },
    /// Never converges and no completion timeout: the job runs until the run ends.
    Stuck,
}

/// A transfer's plan: its end and, when the timeout forced completion, when that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferPlan {
    pub end: TransferEnd,
    /// Switched to post-copy (`running (post-copy)`) at this offset.
    pub post_copy_at_ms: Option<u64>,
    /// Guest paused by force-complete at this offset.
    pub paused_at_ms: Option<u64>,
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

fn round_up_to_tick(ms: u64) -> u64 {
    ceil_div(ms, MONITOR_MS).saturating_mul(MONITOR_MS)
}

/// `ms_per_gib × data_gb` seconds in milliseconds, as Nova computes it (`int(x × data_gb)`
/// seconds). Saturating: a timeout of 10^9 s/GiB on 2^31 GiB would not fit in u64 ms and used
/// to wrap to a few hundred ms.
fn per_gib_ms(s_per_gib: u64, gb: f64) -> u64 {
    ((s_per_gib as f64 * gb) as u64).saturating_mul(1000)
}

/// Transfer time of `mib` MiB at `bw` MiB/s, in ms (rounded up).
fn copy_ms(mib: u64, bw: u64) -> u64 {
    ceil_div(mib.saturating_mul(1000), bw)
}

/// The first monitor tick strictly after `ms` ("once elapsed time exceeds").
fn tick_after(ms: u64) -> u64 {
    (ms / MONITOR_MS + 1).saturating_mul(MONITOR_MS)
}

/// `_live_migration_data_gb` (libvirt driver).
pub fn data_gb(memory_mib: u64, disk_mib: u64) -> f64 {
    let ram = (memory_mib as f64 / 1024.0).max(2.0);
    let disk = if disk_mib > 0 {
        (disk_mib as f64 / 1024.0).max(2.0)
    } else {
        0.0
    };
    ram + disk
}

/// `nova/virt/libvirt/migration.py` `downtime_steps`: the max downtime in force after
/// `elapsed_ms` (step 0 from the start).
pub fn max_downtime_ms(cfg: &LibvirtConfig, delay_ms: u64, elapsed_ms: u64) -> u64 {
    let d = cfg.downtime_ms.max(100) as f64;
    let steps = cfg.downtime_steps.max(3);
    // Step i applies once elapsed > delay·i; step 0 at the first tick. No delay: all steps.
    let applied = elapsed_ms
        .saturating_sub(1)
        .checked_div(delay_ms)
        .map_or(steps, |i| i.min(steps));
    let s = steps as f64;
    (d / s + ((d - d / s) / s) * applied as f64) as u64
}

/// Plans a transfer (see the module doc for the formula).
pub fn plan(input: &TransferInput) -> TransferPlan {
    let cfg = &input.libvirt;
    let bw = input.bandwidth_mib_s.max(1);
    let gb = data_gb(input.memory_mib, input.disk_mib);
    let delay_ms = per_gib_ms(cfg.downtime_delay_s.max(3), gb);
    let timeout_ms =
        (cfg.completion_timeout_s > 0).then(|| per_gib_ms(cfg.completion_timeout_s, gb));
    let max_d = max_downtime_ms(cfg, delay_ms, u64::MAX);
    let mut elapsed = copy_ms(input.disk_mib, bw);
    let mut remaining = input.memory_mib;
    let mut iterations = 0u32;
    let forced = |remaining: u64, elapsed: u64, timeout: u64| -> TransferPlan {
        let at = tick_after(timeout);
        // Memory copied since this iteration started is no longer to copy.
        let copied = (at.saturating_sub(elapsed)).saturating_mul(bw) / 1000;
        let left = remaining.saturating_sub(copied);
        let done = round_up_to_tick(at.saturating_add(copy_ms(left, bw)));
        match cfg.timeout_action {
            TimeoutAction::Abort => TransferPlan {
                end: TransferEnd::Cancelled { at_ms: at },
                post_copy_at_ms: None,
                paused_at_ms: None,
            },
            TimeoutAction::ForceComplete => TransferPlan {
                end: TransferEnd::Completed {
                    at_ms: done,
                    iterations: 0,
                    downtime_ms: if cfg.permit_post_copy { 0 } else { done - at },
                },
                post_copy_at_ms: cfg.permit_post_copy.then_some(at),
                paused_at_ms: (!cfg.permit_post_copy).then_some(at),
            },
        }
    };
    loop {
        let t = copy_ms(remaining, bw).max(1);
        if let Some(limit) = timeout_ms {
            if elapsed.saturating_add(t) > limit {
                return with_iterations(forced(remaining, elapsed, limit), iterations);
            }
        }
        if elapsed >= HORIZON_MS {
            return TransferPlan {
                end: TransferEnd::Stuck,
                post_copy_at_ms: None,
                paused_at_ms: None,
            };
        }
        elapsed = elapsed.saturating_add(t);
        iterations = iterations.saturating_add(1);
        let dirtied = (input.dirty_rate_mib_s.saturating_mul(t) / 1000).min(input.memory_mib);
        let need = copy_ms(dirtied, bw);
        if need <= max_downtime_ms(cfg, delay_ms, elapsed) {
            return TransferPlan {
                end: TransferEnd::Completed {
                    at_ms: round_up_to_tick(elapsed.saturating_add(need)),
                    iterations,
                    downtime_ms: need,
                },
                post_copy_at_ms: None,
                paused_at_ms: None,
            };
        }
        // Not shrinking and the downtime cannot grow any more: it will never converge.
        let escalation_over = elapsed > delay_ms.saturating_mul(cfg.downtime_steps.max(3));
        if dirtied >= remaining && escalation_over && need > max_d {
            return match timeout_ms {
                None => TransferPlan {
                    end: TransferEnd::Stuck,
                    post_copy_at_ms: None,
                    paused_at_ms: None,
                },
                Some(limit) => {
                    with_iterations(forced(dirtied, limit.max(elapsed), limit), iterations)
                }
            };
        }
        let steps = cfg.downtime_steps.max(3);
        if dirtied == remaining && delay_ms > 0 {
            // Steady state: every next iteration repeats this one until the max downtime steps
            // up or the timeout comes. Jump over them: 1 ms iterations under a delay of hours
            // would otherwise loop billions of times. Exact: the skipped ones change nothing
            // but the elapsed time and the count.
            let applied = (elapsed.saturating_sub(1) / delay_ms).min(steps);
            if applied < steps {
                let mut k = delay_ms.saturating_mul(applied + 1).saturating_sub(elapsed) / t;
                if let Some(limit) = timeout_ms {
                    k = k.min(limit.saturating_sub(elapsed) / t);
                }
                elapsed = elapsed.saturating_add(k.saturating_mul(t));
                iterations = iterations.saturating_add(u32::try_from(k).unwrap_or(u32::MAX));
            }
        }
        remaining = dirtied;
    }
}

fn with_iterations(mut p: TransferPlan, n: u32) -> TransferPlan {
    if let TransferEnd::Completed { iterations, .. } = &mut p.end {
        *iterations = n;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(memory_mib: u64, disk_mib: u64, bw: u64, dirty: u64) -> TransferInput {
        TransferInput {
            memory_mib,
            disk_mib,
            bandwidth_mib_s: bw,
            dirty_rate_mib_s: dirty,
            libvirt: LibvirtConfig::default(),
        }
    }

    /// Spec §10.2: downtime steps 50, 95, 140, … 500 ms for the defaults.
    #[test]
    fn downtime_steps_spec_10_2() {
        let cfg = LibvirtConfig::default();
        let delay = 150_000; // 2 GiB ⇒ int(75 × 2) = 150 s
        assert_eq!(max_downtime_ms(&cfg, delay, 1), 50);
        assert_eq!(max_downtime_ms(&cfg, delay, 150_000), 50);
        assert_eq!(max_downtime_ms(&cfg, delay, 150_001), 95);
        assert_eq!(max_downtime_ms(&cfg, delay, 300_001), 140);
        assert_eq!(max_downtime_ms(&cfg, delay, u64::MAX), 500);
        assert_eq!(data_gb(1024, 0), 2.0);
        assert_eq!(data_gb(8192, 40 * 1024), 48.0);
    }

    /// Hand-computed: 4096 MiB at 1000 MiB/s, dirtying 100 MiB/s, shared storage.
    /// iter1 4096 ms (dirties 409 MiB ⇒ 409 ms > 50), iter2 409 ms (dirties 40 MiB ⇒ 40 ms
    /// ≤ 50 ms max downtime): 4096 + 409 + 40 = 4545 ⇒ observed at the 5000 ms monitor tick.
    #[test]
    fn converging_transfer_by_hand() {
        let p = plan(&input(4096, 0, 1000, 100));
        assert_eq!(
            p.end,
            TransferEnd::Completed {
                at_ms: 5000,
                iterations: 2,
                downtime_ms: 40
            }
        );
    }

    /// Block migration copies the disk first: 20 GiB at 1000 MiB/s = 20480 ms.
    #[test]
    fn block_migration_copies_disk_first() {
        let p = plan(&input(4096, 20 * 1024, 1000, 100));
        assert_eq!(
            p.end,
            TransferEnd::Completed {
                at_ms: 25_500,
                iterations: 2,
                downtime_ms: 40
            }
        );
    }

    /// Dirtying faster than the link: the completion timeout (800 s/GiB × 2 GiB = 1600 s)
    /// aborts (default action) ⇒ cancelled at the first monitor tick after it.
    #[test]
    fn non_converging_is_cancelled_at_timeout() {
        let p = plan(&input(2048, 0, 100, 200));
        assert_eq!(p.end, TransferEnd::Cancelled { at_ms: 1_600_500 });
    }

    #[test]
    fn force_complete_pauses_or_post_copies() {
        let mut i = input(2048, 0, 100, 200);
        i.libvirt.timeout_action = TimeoutAction::ForceComplete;
        let paused = plan(&i);
        assert_eq!(paused.paused_at_ms, Some(1_600_500));
        assert!(matches!(paused.end, TransferEnd::Completed { at_ms, .. } if at_ms > 1_600_500));
        i.libvirt.permit_post_copy = true;
        let pc = plan(&i);
        assert_eq!(pc.post_copy_at_ms, Some(1_600_500));
        assert!(matches!(
            pc.end,
            TransferEnd::Completed { downtime_ms: 0, .. }
        ));
    }

    /// Issue 11: a completion timeout of 10^18 s/GiB made `int(timeout × data_gb) × 1000`
    /// wrap (to 384 ms for some sizes) and cancel the job at once. At the largest values the
    /// bounds allow, and beyond, nothing wraps: the timeout is later than the run can last.
    #[test]
    fn huge_timeout_and_sizes_do_not_wrap() {
        let mut i = input(1 << 40, 1 << 40, 1, 1 << 30);
        i.libvirt.completion_timeout_s = u64::MAX / 2;
        i.libvirt.downtime_delay_s = u64::MAX / 2;
        let p = plan(&i);
        assert!(
            !matches!(p.end, TransferEnd::Cancelled { at_ms } if at_ms < 1_000_000_000),
            "{p:?}"
        );
        let mut i = input(2048, 0, 100, 200);
        i.libvirt.completion_timeout_s = 1_000_000_000;
        assert_eq!(
            plan(&i).end,
            TransferEnd::Cancelled {
                at_ms: 2_000_000_000_500
            }
        );
    }

    /// A 1 MiB guest on a fast link with 10^7 downtime steps of 10^9 s/GiB each: 1 ms
    /// iterations for 4·10^16 ms before the max downtime reaches 1 ms. Planned at once (steady
    /// iterations are jumped over, the count saturates), not in 4·10^16 turns of the loop.
    #[test]
    fn steady_iterations_are_jumped_over() {
        let mut i = input(1, 0, 1 << 30, 1 << 30);
        i.libvirt.downtime_steps = 10_000_000;
        i.libvirt.downtime_delay_s = 1_000_000_000;
        i.libvirt.completion_timeout_s = 0;
        assert_eq!(
            plan(&i).end,
            TransferEnd::Completed {
                at_ms: 40_000_000_000_000_500,
                iterations: u32::MAX,
                downtime_ms: 1
            }
        );
        // By hand: 1 ms iterations dirtying 1 MiB (1 ms to copy); the max downtime
        // int(0.5 + 0.4975·i) ms reaches 1 ms at step 2, once elapsed > 2 × 6 s (delay
        // 3 s/GiB × 2 GiB): iteration 12001 ends at 12001 ms, + 1 ms, monitor tick 12500.
        let mut i = input(1, 0, 1000, 1000);
        i.libvirt.downtime_steps = 200;
        i.libvirt.downtime_delay_s = 3;
        i.libvirt.downtime_ms = 100;
        assert_eq!(
            plan(&i).end,
            TransferEnd::Completed {
                at_ms: 12_500,
                iterations: 12_001,
                downtime_ms: 1
            }
        );
    }

    #[test]
    fn no_timeout_never_converging_is_stuck() {
        let mut i = input(2048, 0, 100, 200);
        i.libvirt.completion_timeout_s = 0;
        assert_eq!(plan(&i).end, TransferEnd::Stuck);
    }
}
