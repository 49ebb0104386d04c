//! Hosts, flavors and the resource vector placement accounts in (spec §8.1).

use crate::engine::Duration;
use std::ops::{Add, Sub};

/// An amount of the three placement resource classes: VCPU, MEMORY_MB, DISK_GB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Resources {
    pub vcpus: u64,
    pub memory_mb: u64,
    pub disk_gb: u64,
}

impl Resources {
    pub const ZERO: Resources = Resources {
        vcpus: 0,
        memory_mb: 0,
        disk_gb: 0,
    };

    pub fn new(vcpus: u64, memory_mb: u64, disk_gb: u64) -> Self {
        Resources {
            vcpus,
            memory_mb,
            disk_gb,
        }
    }

    /// True if `self` fits within `limit` in every class.
    pub fn fits_in(&self, limit: &Resources) -> bool {
        self.vcpus <= limit.vcpus
            && self.memory_mb <= limit.memory_mb
            && self.disk_gb <= limit.disk_gb
    }
}

/// Saturating: the scenario bounds keep a host's capacity below 2^50 and a claim is checked
/// against it, but pinned initial servers are placed without a check (overcommit), so a sum
/// over every server on one host is only bounded by 10^6 × 2^40 MiB; saturating at u64::MAX
/// keeps such a host "full" instead of wrapping to "empty".
impl Add for Resources {
    type Output = Resources;
    fn add(self, o: Resources) -> Resources {
        Resources::new(
            self.vcpus.saturating_add(o.vcpus),
            self.memory_mb.saturating_add(o.memory_mb),
            self.disk_gb.saturating_add(o.disk_gb),
        )
    }
}

/// Saturating: usage never goes negative even if a caller frees twice (a bug the property
/// tests would catch through conservation, not through an underflow panic).
impl Sub for Resources {
    type Output = Resources;
    fn sub(self, o: Resources) -> Resources {
        Resources::new(
            self.vcpus.saturating_sub(o.vcpus),
            self.memory_mb.saturating_sub(o.memory_mb),
            self.disk_gb.saturating_sub(o.disk_gb),
        )
    }
}

/// A flavor: what a server of this flavor allocates in placement.
#[derive(Debug, Clone, PartialEq)]
pub struct Flavor {
    pub name: String,
    pub vcpus: u64,
    pub memory_mb: u64,
    pub disk_gb: u64,
    /// Memory dirty rate of its guests during a live migration, MiB/s (default: the
    /// scenario's `[live_migration] dirty_rate_mib_s`).
    pub dirty_rate_mib_s: Option<u64>,
}

impl Flavor {
    pub fn resources(&self) -> Resources {
        Resources::new(self.vcpus, self.memory_mb, self.disk_gb)
    }
}

/// A compute host: one nova-compute service with one node and one resource provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub vcpus: u64,
    pub memory_mb: u64,
    pub disk_gb: u64,
    pub cpu_allocation_ratio: f64,
    pub ram_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    pub reserved_host_cpus: u64,
    pub reserved_host_memory_mb: u64,
    pub reserved_host_disk_mb: u64,
    pub hypervisor_type: String,
    pub hypervisor_version: u64,
    pub availability_zone: String,
    /// nova-compute service enabled (a disabled service is excluded by placement's
    /// `COMPUTE_STATUS_DISABLED` trait, spec §8.1 step 1).
    pub enabled: bool,
    /// nova-compute service up per the servicegroup (spec §10.5).
    pub up: bool,
    /// Offset of this compute's periodic-task clock: `_poll_unconfirmed_resizes` runs at
    /// `phase + 60 s × k`, k ≥ 1 (spec §6.3 deterministic model).
    pub periodic_phase: Duration,
}

impl Host {
    /// Placement inventory capacity per class: `int((total − reserved) × allocation_ratio)`
    /// (placement `Inventory` capacity; reserved disk is converted MB → GB rounding up, as
    /// `nova/compute/utils.py` `convert_mb_to_ceil_gb`).
    pub fn capacity(&self) -> Resources {
        // `as u64` saturates (and maps NaN to 0): with the scenario bounds the product is below
        // 2^50, and exact in f64.
        let cap = |total: u64, reserved: u64, ratio: f64| -> u64 {
            (total.saturating_sub(reserved) as f64 * ratio).floor() as u64
        };
        Resources::new(
            cap(
                self.vcpus,
                self.reserved_host_cpus,
                self.cpu_allocation_ratio,
            ),
            cap(
                self.memory_mb,
                self.reserved_host_memory_mb,
                self.ram_allocation_ratio,
            ),
            cap(
                self.disk_gb,
                self.reserved_host_disk_mb.div_ceil(1024),
                self.disk_allocation_ratio,
            ),
        )
    }

    /// ComputeFilter (spec §8.1 step 4): the service must be enabled and up.
    pub fn is_schedulable(&self) -> bool {
        self.enabled && self.up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn host(vcpus: u64, mem: u64, disk: u64) -> Host {
        Host {
            name: "h".into(),
            vcpus,
            memory_mb: mem,
            disk_gb: disk,
            cpu_allocation_ratio: 4.0,
            ram_allocation_ratio: 1.0,
            disk_allocation_ratio: 1.0,
            reserved_host_cpus: 0,
            reserved_host_memory_mb: 512,
            reserved_host_disk_mb: 0,
            hypervisor_type: "QEMU".into(),
            hypervisor_version: 8_002_000,
            availability_zone: "nova".into(),
            enabled: true,
            up: true,
            periodic_phase: Duration::ZERO,
        }
    }

    /// Spec §8.1 step 2: capacity = (total − reserved) × ratio with the §8.1 defaults.
    #[test]
    fn capacity_uses_ratios_and_reserved() {
        let mut h = host(16, 65_536, 1000);
        assert_eq!(h.capacity(), Resources::new(64, 65_024, 1000));
        h.reserved_host_disk_mb = 1025;
        h.cpu_allocation_ratio = 1.5;
        assert_eq!(h.capacity(), Resources::new(24, 65_024, 998));
    }
}
