//! Placement allocations per consumer (spec §8.1 step 2, §8.5).
//!
//! A consumer is an instance or a migration; each holds at most one allocation, on one host's
//! resource provider. A moving server therefore holds capacity twice: the migration consumer on
//! the source, the instance consumer on the destination.

use super::host::{Host, Resources};
use super::ids::{HostId, MigrationId, ServerId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Consumer {
    Instance(ServerId),
    Migration(MigrationId),
}

/// One held allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub host: HostId,
    pub resources: Resources,
}

#[derive(Debug, Clone, Default)]
pub struct Placement {
    capacity: Vec<Resources>,
    usage: Vec<Resources>,
    /// Part of `usage` held by migration consumers (the "held twice" share).
    migration_usage: Vec<Resources>,
    /// Sum of `migration_usage` over hosts.
    total_migration_usage: Resources,
    instances: Vec<Option<Allocation>>,
    migrations: Vec<Option<Allocation>>,
}

/// The hosts whose usage one placement operation changed, in the order it changed them: at most
/// two, so held inline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touched {
    hosts: [HostId; 2],
    len: usize,
}

impl Touched {
    /// Records `h` unless it is already recorded.
    fn add(&mut self, h: HostId) {
        if !self.contains(&h) {
            self.hosts[self.len] = h;
            self.len += 1;
        }
    }
}

impl std::ops::Deref for Touched {
    type Target = [HostId];

    fn deref(&self) -> &[HostId] {
        &self.hosts[..self.len]
    }
}

impl Placement {
    pub fn new(hosts: &[Host]) -> Self {
        Placement {
            capacity: hosts.iter().map(Host::capacity).collect(),
            usage: vec![Resources::ZERO; hosts.len()],
            migration_usage: vec![Resources::ZERO; hosts.len()],
            total_migration_usage: Resources::ZERO,
            instances: Vec::new(),
            migrations: Vec::new(),
        }
    }

    pub fn capacity(&self, host: HostId) -> Resources {
        self.capacity[host.index()]
    }

    pub fn usage(&self, host: HostId) -> Resources {
        self.usage[host.index()]
    }

    pub fn migration_usage(&self, host: HostId) -> Resources {
        self.migration_usage[host.index()]
    }

    /// Cloud-wide resources held by migration consumers (capacity held twice).
    pub fn total_migration_usage(&self) -> Resources {
        self.total_migration_usage
    }

    /// Capacity left on `host`.
    pub fn free(&self, host: HostId) -> Resources {
        self.capacity[host.index()] - self.usage[host.index()]
    }

    /// True if `req` more fits on `host` (the allocation-candidates test).
    pub fn fits(&self, host: HostId, req: &Resources) -> bool {
        (self.usage[host.index()] + *req).fits_in(&self.capacity[host.index()])
    }

    pub fn allocation(&self, consumer: Consumer) -> Option<Allocation> {
        match consumer {
            Consumer::Instance(s) => self.instances.get(s.index()).copied().flatten(),
            Consumer::Migration(m) => self.migrations.get(m.index()).copied().flatten(),
        }
    }

    fn slot(&mut self, consumer: Consumer) -> &mut Option<Allocation> {
        let (vec, i) = match consumer {
            Consumer::Instance(s) => (&mut self.instances, s.index()),
            Consumer::Migration(m) => (&mut self.migrations, m.index()),
        };
        if vec.len() <= i {
            vec.resize(i + 1, None);
        }
        &mut vec[i]
    }

    fn add_usage(&mut self, consumer: Consumer, a: Allocation) {
        self.usage[a.host.index()] = self.usage[a.host.index()] + a.resources;
        if matches!(consumer, Consumer::Migration(_)) {
            let m = &mut self.migration_usage[a.host.index()];
            *m = *m + a.resources;
            self.total_migration_usage = self.total_migration_usage + a.resources;
        }
    }

    fn sub_usage(&mut self, consumer: Consumer, a: Allocation) {
        self.usage[a.host.index()] = self.usage[a.host.index()] - a.resources;
        if matches!(consumer, Consumer::Migration(_)) {
            let m = &mut self.migration_usage[a.host.index()];
            *m = *m - a.resources;
            self.total_migration_usage = self.total_migration_usage - a.resources;
        }
    }

    /// Claims `resources` on `host` for `consumer`, replacing what it held. Fails (changing
    /// nothing) if it does not fit — placement's capacity check for a claim.
    pub fn claim(&mut self, consumer: Consumer, host: HostId, resources: Resources) -> bool {
        let old = self.allocation(consumer);
        let freed_here = old
            .filter(|a| a.host == host)
            .map_or(Resources::ZERO, |a| a.resources);
        let after = self.usage[host.index()] - freed_here + resources;
        if !after.fits_in(&self.capacity[host.index()]) {
            return false;
        }
        if let Some(a) = old {
            self.sub_usage(consumer, a);
        }
        let new = Allocation { host, resources };
        self.add_usage(consumer, new);
        *self.slot(consumer) = Some(new);
        true
    }

    /// Places an allocation without a capacity check (pinned initial servers may overcommit,
    /// as an operator's existing cloud can). Returns false if it exceeded capacity.
    pub fn force_claim(&mut self, consumer: Consumer, host: HostId, resources: Resources) -> bool {
        if let Some(a) = self.allocation(consumer) {
            self.sub_usage(consumer, a);
        }
        let new = Allocation { host, resources };
        self.add_usage(consumer, new);
        *self.slot(consumer) = Some(new);
        self.usage[host.index()].fits_in(&self.capacity[host.index()])
    }

    /// Deletes the consumer's allocation; returns what it held.
    pub fn delete(&mut self, consumer: Consumer) -> Option<Allocation> {
        let old = self.slot(consumer).take()?;
        self.sub_usage(consumer, old);
        Some(old)
    }

    /// `move_allocations(from, to)` (`nova/scheduler/client/report.py`): the target consumer's
    /// allocations are overwritten by the source's, and the source ends with none. Returns the
    /// hosts whose usage changed.
    pub fn move_allocation(&mut self, from: Consumer, to: Consumer) -> Touched {
        let mut touched = Touched::default();
        let moving = self.delete(from);
        if let Some(old) = self.delete(to) {
            touched.add(old.host);
        }
        if let Some(a) = moving {
            self.add_usage(to, a);
            *self.slot(to) = Some(a);
            touched.add(a.host);
        }
        touched
    }

    /// Sum over consumers of what they hold, per host (for conservation checks).
    pub fn recount(&self) -> Vec<Resources> {
        let mut per_host = vec![Resources::ZERO; self.usage.len()];
        for a in self.instances.iter().chain(&self.migrations).flatten() {
            per_host[a.host.index()] = per_host[a.host.index()] + a.resources;
        }
        per_host
    }

    pub fn host_count(&self) -> usize {
        self.usage.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Duration;

    fn hosts(n: usize) -> Vec<Host> {
        (0..n)
            .map(|i| Host {
                name: format!("h{i}"),
                vcpus: 4,
                memory_mb: 4608,
                disk_gb: 100,
                cpu_allocation_ratio: 1.0,
                ram_allocation_ratio: 1.0,
                disk_allocation_ratio: 1.0,
                reserved_host_cpus: 0,
                reserved_host_memory_mb: 512,
                reserved_host_disk_mb: 0,
                hypervisor_type: "QEMU".into(),
                hypervisor_version: 1,
                availability_zone: "nova".into(),
                enabled: true,
                up: true,
                periodic_phase: Duration::ZERO,
            })
            .collect()
    }

    /// Spec §8.5: during a move the server holds M@SRC and I@DST; confirm deletes M, revert
    /// moves M back over I.
    #[test]
    fn move_holds_twice_then_releases() {
        let mut p = Placement::new(&hosts(2));
        let r = Resources::new(2, 2048, 20);
        let (s, m) = (
            Consumer::Instance(ServerId(0)),
            Consumer::Migration(MigrationId(0)),
        );
        let (h0, h1) = (HostId(0), HostId(1));
        assert!(p.claim(s, h0, r));
        p.move_allocation(s, m); // CON swap
        assert_eq!(p.migration_usage(h0), r);
        assert!(p.claim(s, h1, r)); // SCH claim on DST
        assert_eq!(p.usage(h0), r);
        assert_eq!(p.usage(h1), r);
        // revert: migration → instance overwrites I@DST
        let touched = p.move_allocation(m, s);
        assert_eq!(*touched, [h1, h0]);
        assert_eq!(p.usage(h1), Resources::ZERO);
        assert_eq!(p.allocation(s).map(|a| a.host), Some(h0));
        assert_eq!(p.recount(), vec![r, Resources::ZERO]);
    }

    #[test]
    fn claim_beyond_capacity_fails_and_changes_nothing() {
        let mut p = Placement::new(&hosts(1));
        let big = Resources::new(3, 3000, 10);
        assert!(p.claim(Consumer::Instance(ServerId(0)), HostId(0), big));
        assert!(!p.claim(Consumer::Instance(ServerId(1)), HostId(0), big));
        assert_eq!(p.usage(HostId(0)), big);
        // re-claiming by the same consumer on the same host counts its own holding once
        assert!(p.claim(Consumer::Instance(ServerId(0)), HostId(0), big));
        assert_eq!(p.usage(HostId(0)), big);
    }
}
