//! The whole cloud state, owned in one place: the single owner that every service handler
//! mutates through the simulator. Plain data; no clock, no queue.

use super::{
    ActionLog, Flavor, FlavorId, Host, HostId, Migration, MigrationId, MigrationStatus, Placement,
    Server, ServerId,
};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// Liveness of a nova-compute process as the simulator tracks it (spec §10.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceLiveness {
    /// The process is stopped: messages to it wait until it starts again.
    pub stopped: bool,
}

#[derive(Debug, Clone, Default)]
pub struct World {
    pub hosts: Vec<Host>,
    pub liveness: Vec<ServiceLiveness>,
    pub flavors: Vec<Flavor>,
    pub servers: Vec<Server>,
    pub migrations: Vec<Migration>,
    pub placement: Placement,
    pub actions: ActionLog,
    /// Servers by name (names are unique among live servers of a scenario). Only looked up,
    /// never iterated: hashed, as every API request resolves its server here.
    pub server_names: FxHashMap<std::sync::Arc<str>, ServerId>,
    /// Per destination host, the migrations in status `finished` (the query of
    /// `migration_get_unconfirmed_by_dest_compute`, kept as an index so a periodic tick never
    /// scans every migration). Ordered by id = query order.
    pub finished_by_dest: Vec<BTreeSet<MigrationId>>,
    /// Per host, `io_workload` of `nova/compute/stats.py` (IoOpsWeigher input).
    pub io_ops: Vec<u32>,
    /// Per host, instances whose `instance.host` is the host.
    pub num_instances: Vec<u32>,
    /// Per host, the live servers whose `host` it is, in id order (the servers
    /// `num_instances` counts): a drain reads its host's servers here instead of scanning
    /// every server, which made a drain of 10 % of 100k hosts quadratic (issue 14).
    pub servers_on_host: Vec<BTreeSet<ServerId>>,
}

impl World {
    pub fn new(hosts: Vec<Host>, flavors: Vec<Flavor>) -> Self {
        let n = hosts.len();
        World {
            placement: Placement::new(&hosts),
            liveness: vec![ServiceLiveness::default(); n],
            hosts,
            flavors,
            servers: Vec::new(),
            migrations: Vec::new(),
            actions: ActionLog::default(),
            server_names: FxHashMap::default(),
            finished_by_dest: vec![BTreeSet::new(); n],
            io_ops: vec![0; n],
            num_instances: vec![0; n],
            servers_on_host: vec![BTreeSet::new(); n],
        }
    }

    pub fn host(&self, h: HostId) -> &Host {
        &self.hosts[h.index()]
    }

    pub fn server(&self, s: ServerId) -> &Server {
        &self.servers[s.index()]
    }

    pub fn migration(&self, m: MigrationId) -> &Migration {
        &self.migrations[m.index()]
    }

    pub fn flavor(&self, f: FlavorId) -> &Flavor {
        &self.flavors[f.index()]
    }

    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| HostId(i as u32))
    }

    /// The live (not deleted) server with this name.
    pub fn find_server(&self, name: &str) -> Option<ServerId> {
        self.server_names
            .get(name)
            .copied()
            .filter(|s| !self.server(*s).is_deleted())
    }

    /// The migration of `server` in status `finished`, as `Migration.get_by_instance_and_status`
    /// looks it up for confirm/revert (spec §3.3 row 6).
    pub fn finished_migration_of(&self, server: ServerId) -> Option<MigrationId> {
        let m = self.server(server).migration?;
        (self.migration(m).status == MigrationStatus::Finished).then_some(m)
    }

    /// True if the servicegroup sees the compute service on `h` as up.
    pub fn service_up(&self, h: HostId) -> bool {
        self.host(h).up
    }
}
