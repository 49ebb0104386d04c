//! Servers (instances).

use super::ids::{FlavorId, HostId, MigrationId};
use super::state::{status_from_state, Status, TaskState, VmState};

/// Power state as the driver reports it (only what the flows read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    NoState,
    Running,
    Paused,
    Shutdown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Shared with the requests that name the server (and the world's name index).
    pub name: std::sync::Arc<str>,
    /// Shared with the instance actions recorded for the server's project.
    pub project: std::sync::Arc<str>,
    pub flavor: FlavorId,
    /// `instance.host`; `None` until scheduled.
    pub host: Option<HostId>,
    pub vm_state: VmState,
    pub task_state: Option<TaskState>,
    pub power_state: PowerState,
    pub locked: bool,
    /// `launched_at` is set (the `must_have_launched` check of `check_instance_state`).
    pub launched: bool,
    /// vm_state stashed by `prep_resize` (`system_metadata['old_vm_state']`) so that revert and
    /// `InstanceFaultRollback` restore it.
    pub old_vm_state: Option<VmState>,
    /// AZ the instance was scheduled in (`instance.availability_zone`).
    pub availability_zone: Option<String>,
    /// AZ requested at boot (kept in the RequestSpec; restricts moves, spec §8.1 step 1).
    pub requested_az: Option<String>,
    /// The move in progress or awaiting confirm/revert (`migration_context`).
    pub migration: Option<MigrationId>,
    /// Booted from a volume: the root disk is on shared (Cinder) storage, so a live migration
    /// copies no disk (`block_migration` "auto" resolves to false).
    pub volume_backed: bool,
}

impl Server {
    /// Drops the pointer to migration `m` when the move it names ends. A later move may have
    /// replaced it already (a cold migrate accepted once `post_live_migration_at_destination`
    /// cleared the task_state, before the source finished the live migration): that one is
    /// kept, as Nova's `migration_context` of the new move is.
    pub fn end_migration(&mut self, m: MigrationId) {
        if self.migration == Some(m) {
            self.migration = None;
        }
    }

    pub fn status(&self) -> Status {
        status_from_state(self.vm_state, self.task_state)
    }

    pub fn is_deleted(&self) -> bool {
        self.vm_state == VmState::Deleted
    }
}
