//! The rules every state of the simulated cloud obeys, checked after every instant in tests and
//! debug builds, and on request in release (`novasim run --check-invariants`). A violation
//! stops the run with one line naming the instant, the subject and the rule.
//!
//! Nova itself leaves a few states inconsistent; those are exempt, each named with the Nova
//! function that leaves it so:
//! * a migration in `error` may still hold its allocation (and the instance its allocation on
//!   the other host): `errors_out_migration_ctxt` / `_error_out_instance_on_exception` do not
//!   clean placement up (failed revert, failed `post_live_migration_at_destination`, a compute
//!   step preempted by os-resetState);
//! * a server in ERROR may hold its allocation anywhere, or two;
//! * `reverted` is saved by the destination's `revert_resize` before the source's
//!   `finish_revert_resize` moves the allocation back (spec §4.7 steps 3–6);
//! * a server reset by os-resetState keeps whatever allocations it had (a move in flight, a
//!   failed build): `AdminActionsController._reset_state` only writes the states;
//! * a server whose in-flight work a compute stop lost keeps its allocations and its migration
//!   as they were: `ComputeManager._init_instance` only resets states (a crashed resize stays
//!   `migrating` with both allocations; a queued live migration stays `queued`).
//! * a live migration whose `post_live_migration_at_destination` call timed out (destination
//!   stopped) is `completed` by `_post_live_migration` while the server stays MIGRATING with
//!   host the source and its allocation on the destination;
//! * what an older release leaves behind (`config::CHANGES`): before 20.0.0 a failed confirm
//!   leaves its migration `confirming` with the source allocation, and a failed finish_resize
//!   moves the allocation back to the source of a server on the destination; before 25.0.0 an
//!   aborted queued live migration is `cancelled` with both allocations held.

use super::{LivePhase, Sim};
use crate::engine::SimTime;
use crate::model::{Consumer, HostId, MigrationId, MigrationStatus, Resources, VmState};

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invariant violated at t = {at} s: {subject}: {rule}")]
pub struct Violation {
    pub at: SimTime,
    /// The server, host, migration or request concerned.
    pub subject: String,
    pub rule: String,
}

/// Whether the run checks its invariants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// After every instant and at the end.
    On,
    Off,
}

impl Checks {
    /// On in debug builds (every test), off in release unless asked for.
    pub fn default_for_build() -> Checks {
        if cfg!(debug_assertions) {
            Checks::On
        } else {
            Checks::Off
        }
    }
}

impl Sim {
    fn violation(&self, subject: String, rule: impl Into<String>) -> Violation {
        Violation {
            at: self.now(),
            subject,
            rule: rule.into(),
        }
    }

    fn host_name(&self, h: HostId) -> String {
        format!("host {}", self.cloud.world.host(h).name)
    }

    /// The rules that hold between any two instants.
    pub fn check_instant(&self) -> Result<(), Violation> {
        if let Some(v) = &self.checker.broken {
            return Err(v.clone());
        }
        self.check_placement()?;
        self.check_servers()?;
        self.check_servers_on_host()?;
        self.check_migrations()
    }

    /// Usage is the sum of the allocations, and within capacity (beyond it only where the
    /// scenario pinned initial servers beyond it, and never further).
    fn check_placement(&self) -> Result<(), Violation> {
        let p = &self.cloud.world.placement;
        for (i, counted) in p.recount().into_iter().enumerate() {
            let h = HostId(i as u32);
            let usage = p.usage(h);
            if usage != counted {
                return Err(self.violation(
                    self.host_name(h),
                    format!("usage {usage:?} is not the sum of its allocations {counted:?}"),
                ));
            }
            let cap = p.capacity(h);
            let limit = match self.checker.setup_overcommit.get(i).copied().flatten() {
                Some(pinned) => Resources::new(
                    cap.vcpus.max(pinned.vcpus),
                    cap.memory_mb.max(pinned.memory_mb),
                    cap.disk_gb.max(pinned.disk_gb),
                ),
                None => cap,
            };
            if !usage.fits_in(&limit) {
                return Err(self.violation(
                    self.host_name(h),
                    format!("usage {usage:?} exceeds capacity {limit:?}"),
                ));
            }
        }
        Ok(())
    }

    /// The index of servers by host holds exactly the live servers with a host, each under
    /// its own host.
    fn check_servers_on_host(&self) -> Result<(), Violation> {
        let world = &self.cloud.world;
        let mut hosted = 0usize;
        for (i, s) in world.servers.iter().enumerate() {
            let Some(h) = s.host.filter(|_| !s.is_deleted()) else {
                continue;
            };
            hosted += 1;
            if !world.servers_on_host[h.index()].contains(&crate::model::ServerId(i as u32)) {
                return Err(self.violation(
                    format!("server {}", s.name),
                    "missing from its host's servers_on_host",
                ));
            }
        }
        let indexed: usize = world.servers_on_host.iter().map(|set| set.len()).sum();
        if indexed != hosted {
            return Err(self.violation(
                "servers_on_host".to_string(),
                format!("{indexed} entries for {hosted} live servers with a host"),
            ));
        }
        Ok(())
    }

    /// A settled server (no task, no move, ACTIVE/SHUTOFF) holds one allocation, of its
    /// flavor's size, on its own host; a deleted one holds none; VERIFY_RESIZE holds its
    /// destination as the instance and its source as the migration (spec §8.5).
    fn check_servers(&self) -> Result<(), Violation> {
        let p = &self.cloud.world.placement;
        for (i, s) in self.cloud.world.servers.iter().enumerate() {
            let id = crate::model::ServerId(i as u32);
            let subject = || format!("server {}", s.name);
            let inst = p.allocation(Consumer::Instance(id));
            if s.is_deleted() {
                if inst.is_some() {
                    return Err(self.violation(subject(), "deleted but still allocated"));
                }
                continue;
            }
            if s.task_state.is_some()
                || self.states_alone(id)
                || self.checker.servers_left_by_nova.contains(&id)
            {
                continue;
            }
            let size = self.cloud.world.flavor(s.flavor).resources();
            match (s.vm_state, s.migration) {
                (VmState::Active | VmState::Stopped, None) => {
                    let want = s.host.map(|host| (host, size));
                    let got = inst.map(|a| (a.host, a.resources));
                    if got != want {
                        return Err(self.violation(
                            subject(),
                            format!(
                                "settled on {:?} but allocated {:?}",
                                s.host.map(|h| &self.cloud.world.host(h).name),
                                inst.map(|a| &self.cloud.world.host(a.host).name)
                            ),
                        ));
                    }
                }
                (VmState::Resized, Some(m)) => {
                    let mig = self.cloud.world.migration(m);
                    let held = p.allocation(Consumer::Migration(m)).map(|a| a.host);
                    if mig.status == MigrationStatus::Finished
                        && (held != Some(mig.source) || inst.map(|a| a.host) != s.host)
                    {
                        return Err(self.violation(
                            subject(),
                            "VERIFY_RESIZE without its source held by the migration and its \
                             destination by the instance",
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether Nova itself wrote `id`'s states without its allocations (os-resetState, or
    /// `_init_instance` after lost work): the allocation rules do not apply to it.
    fn states_alone(&self, id: crate::model::ServerId) -> bool {
        self.checker.reset_by_admin.contains(&id) || self.checker.lost_work.contains(&id)
    }

    /// A terminal migration holds nothing (but for the leaks named in the module doc).
    fn check_migrations(&self) -> Result<(), Violation> {
        let p = &self.cloud.world.placement;
        for (i, m) in self.cloud.world.migrations.iter().enumerate() {
            let id = MigrationId(i as u32);
            let revert_in_flight = m.status == MigrationStatus::Reverted
                && self.cloud.world.server(m.server).migration == Some(id);
            let leak_allowed = m.status == MigrationStatus::Error
                || self.cloud.world.server(m.server).vm_state == VmState::Error
                || self.states_alone(m.server)
                || self.checker.left_by_nova.contains(&id);
            if m.status.is_terminal() && !revert_in_flight && !leak_allowed {
                if let Some(a) = p.allocation(Consumer::Migration(id)) {
                    return Err(self.violation(
                        MigrationId(i as u32).to_string(),
                        format!(
                            "{} but still holds {:?} on {}",
                            m.status.as_str(),
                            a.resources,
                            self.cloud.world.host(a.host).name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Called on every migration status change: a terminal status is final.
    pub(super) fn check_migration_change(
        &mut self,
        m: MigrationId,
        old: MigrationStatus,
        new: MigrationStatus,
    ) {
        if old.is_terminal() && !new.is_terminal() && self.checker.broken.is_none() {
            self.checker.broken = Some(self.violation(
                m.to_string(),
                format!("terminal status {} became {}", old.as_str(), new.as_str()),
            ));
        }
    }

    /// The rules of a finished run. `natural` is true when the run ended because no event was
    /// left (not at `end_s`).
    pub fn check_end(&self, natural: bool) -> Result<(), Violation> {
        self.check_instant()?;
        // Only the held records: a written one was answered and completed.
        for (_, r) in self.requests.held() {
            if r.completed.is_some() && r.answered.is_none() {
                return Err(self.violation(
                    format!("req-{}", r.id),
                    "its work ended but it was never answered",
                ));
            }
        }
        if !natural {
            return Ok(());
        }
        for (i, r) in self.requests.held() {
            if r.answered.is_none() && !self.request_parked(i) {
                return Err(self.violation(
                    format!("req-{}", r.id),
                    "no event is left and it was never answered",
                ));
            }
        }
        for (i, m) in self.cloud.world.migrations.iter().enumerate() {
            let id = MigrationId(i as u32);
            if m.status.is_terminal()
                || m.status == MigrationStatus::Finished
                || self.checker.lost_work.contains(&m.server)
                || self.checker.left_by_nova.contains(&id)
            {
                continue;
            }
            if !self.migration_work_pending(id) {
                return Err(self.violation(
                    MigrationId(i as u32).to_string(),
                    format!("no event is left and it is still {}", m.status.as_str()),
                ));
            }
        }
        Ok(())
    }

    /// Whether a step of request `r`'s operation waits at a stopped compute that never starts
    /// again (a synchronous caller then waits too: RPC timeouts are not modelled).
    fn request_parked(&self, r: u32) -> bool {
        self.parked_ops()
            .any(|op| self.ops[op.index()].request == Some(r))
    }

    /// The operations with a step waiting at a stopped compute.
    fn parked_ops(&self) -> impl Iterator<Item = super::OpId> + '_ {
        self.computes.parked_ops()
    }

    /// Work of migration `m` that outlives the event queue: a libvirt job that never
    /// converges, or a step parked at a compute that never starts again.
    fn migration_work_pending(&self, m: MigrationId) -> bool {
        let stuck = self.ops.iter().any(|o| {
            o.migration == Some(m)
                && o.live().is_some_and(|l| {
                    matches!(
                        l.phase,
                        LivePhase::Running { job: None } | LivePhase::PostCopy { job: None }
                    )
                })
        });
        stuck
            || self
                .parked_ops()
                .any(|op| self.ops[op.index()].migration == Some(m))
    }
}
