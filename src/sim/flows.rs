//! Operations as typed state machines: each flow holds only its own fields and states.
//!
//! An operation is an accepted request (or a periodic auto-confirm). What it is decides which
//! events can be its steps: a cold-migration step never finds a live migration's fields, and
//! the live migration's phase is an enum ([`LivePhase`]), not flags. Every step carries the
//! operation's epoch (see `Stamped`), so a step of a course the operation left is dropped.

use super::LivePhase;
use crate::config::FaultKind;
use crate::model::{ActionId, HostId, MigrationId, RequestId, ServerId, TaskState, VmState};

/// The flows, with their own data.
#[derive(Debug, Clone)]
pub enum Flow {
    ColdMigration(ColdMigration),
    LiveMigration(LiveMigration),
    AbortLiveMigration,
    Confirm,
    Revert,
    Create,
    Delete,
    ResetState,
    /// injectNetworkInfo / resetNetwork.
    NetworkAction,
}

/// A cold migration (spec §4.1–§4.4).
#[derive(Debug, Clone, Default)]
pub struct ColdMigration {
    pub requested_host: Option<HostId>,
    /// `retry` present in the filter properties: reschedule on a prep_resize failure.
    pub retry: bool,
    /// The API waits for the conductor (a synchronous RPC call, before 21.0.0).
    pub sync: bool,
    /// The alternates left for rescheduling (spec §5.2).
    pub alternates: Vec<HostId>,
    /// vm_state of the instance as the conductor loaded it (its NoValidHost branch writes it
    /// back, undoing a reset made meanwhile).
    pub conductor_vm_state: Option<VmState>,
    /// A resize: the new flavor (`API.resize` with a flavor id; `None` = migrate, same flavor).
    pub new_flavor: Option<crate::model::FlavorId>,
}

/// A live migration (spec §4.8–§4.11, §5.1).
#[derive(Debug, Clone, Default)]
pub struct LiveMigration {
    pub requested_host: Option<HostId>,
    /// The admin-named destination bypasses the scheduler (spec §8.2).
    pub forced: bool,
    /// Disks are copied (block migration).
    pub block_migration: bool,
    /// The API waits for the conductor (below 2.34).
    pub sync: bool,
    /// Hosts tried so far, the source first (`attempted_hosts`, spec §5.1).
    pub attempted: Vec<HostId>,
    /// The outcome of the VIF-plug wait (false = timed out).
    pub vif_ok: bool,
    /// Where it is past the conductor.
    pub phase: LivePhase,
}

/// One operation in flight.
#[derive(Debug, Clone)]
pub struct Op {
    pub flow: Flow,
    /// Index into the request table; `None` for periodic auto-confirms.
    pub request: Option<u32>,
    /// The request id the instance action and its events carry.
    pub request_id: RequestId,
    pub server: ServerId,
    pub action: Option<ActionId>,
    pub migration: Option<MigrationId>,
    /// Fault to raise when the current step finishes (decided when the step started).
    pub pending_fault: Option<(FaultKind, String)>,
    /// A save with an expected task_state failed after os-resetState: the task_state it tried
    /// to write, which stays pending on the object and is written by the error handler's own
    /// save (`Instance.save` resets its changes only on success).
    pub preempted: Option<TaskState>,
    /// Changes when the operation is cut short (see `Stamped`): steps scheduled before that
    /// are dropped when they fire.
    pub epoch: u32,
    /// Events queued (or parked at a stopped compute) that can act on this operation. With
    /// none, and its request finished, nothing will act on it again: its instance action is
    /// final (`Sim::stream_records`).
    pub queued: u32,
}

impl Op {
    pub fn new(flow: Flow, request: Option<u32>, request_id: RequestId, server: ServerId) -> Op {
        Op {
            flow,
            request,
            request_id,
            server,
            action: None,
            migration: None,
            pending_fault: None,
            preempted: None,
            epoch: 0,
            queued: 0,
        }
    }

    pub fn live(&self) -> Option<&LiveMigration> {
        match &self.flow {
            Flow::LiveMigration(l) => Some(l),
            _ => None,
        }
    }

    /// Whether the API waits for the conductor's answer.
    pub fn sync(&self) -> bool {
        match &self.flow {
            Flow::ColdMigration(c) => c.sync,
            Flow::LiveMigration(l) => l.sync,
            _ => false,
        }
    }
}

impl super::Sim {
    /// The name of the server `op` acts on (shared, not copied).
    pub(super) fn op_server_name(&self, op: super::OpId) -> std::sync::Arc<str> {
        self.cloud
            .world
            .server(self.ops[op.index()].server)
            .name
            .clone()
    }

    /// The cold migration that `op` is. Cold-migration events are only ever scheduled by one.
    pub(super) fn cold_flow(&mut self, op: super::OpId) -> &mut ColdMigration {
        match &mut self.ops[op.index()].flow {
            Flow::ColdMigration(c) => c,
            other => unreachable!("a cold-migration step of a {other:?}"),
        }
    }

    /// The live migration that `op` is. Live-migration events are only ever scheduled by one.
    pub(super) fn live_flow(&mut self, op: super::OpId) -> &mut LiveMigration {
        match &mut self.ops[op.index()].flow {
            Flow::LiveMigration(l) => l,
            other => unreachable!("a live-migration step of a {other:?}"),
        }
    }
}
