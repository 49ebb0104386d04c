//! Every event of the simulation, in one closed enum: the compiler reports a forgotten handler.
//! Grouped by the service that handles it.

use super::live::CheckFailure;
use crate::model::HostId;
use crate::scheduler::NoValidHost;

/// Index of an operation in flight (one accepted request, or one periodic auto-confirm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpId(pub u32);

impl OpId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    // ---- workload ----
    /// A request reaches nova-api (index into the request table).
    ApiReceive(u32),
    /// A generator issues its next request.
    GeneratorFire(u32),
    /// A client sends a request prepared earlier (index into the pending requests).
    ClientSubmit(u32),
    /// Closed-loop client `.1` of generator `.0` starts its next iteration.
    ClientNext(u32, u32),
    /// A scripted service change (index into the scenario's service events).
    ServiceChange(u32),
    /// The servicegroup starts seeing host's compute as down (no heartbeat for service_down_time).
    ServiceSeenDown(HostId),
    /// The first heartbeat after a start makes the service up again.
    ServiceSeenUp(HostId),

    // ---- cold migration (spec §4.1–§4.4) ----
    /// CON `migrate_server` / `_cold_migrate`: migration record, allocation swap, call SCH.
    ConMigrateServer(OpId),
    /// SCH `select_destinations` with alternates.
    SchSelectDestinations(OpId),
    /// CON receives the scheduler's answer (the alternates are already in the op: an event
    /// stays small when it carries no vector).
    ConScheduled(OpId, Result<HostId, NoValidHost>),
    /// DST `prep_resize` (claim).
    DstPrepResize(OpId, HostId),
    /// CON `migrate_server` called back by a failed DST to reschedule to an alternate.
    ConReschedule(OpId, HostId),
    /// The reschedule call returns to the failed DST (`Ok` = rescheduled).
    DstRescheduleReturned(OpId, HostId, bool),
    /// SRC `resize_instance` starts.
    SrcResizeInstance(OpId),
    /// SRC `migrate_disk_and_power_off` done.
    SrcDiskMigrated(OpId),
    /// DST `finish_resize` starts.
    DstFinishResize(OpId),
    /// DST `driver.finish_migration` done.
    DstFinishMigration(OpId),

    // ---- confirm / revert / auto-confirm (spec §4.5–§4.7, §6) ----
    /// SRC `confirm_resize`.
    SrcConfirmResize(OpId),
    /// SRC `driver.confirm_migration` done.
    SrcConfirmDone(OpId),
    /// DST `revert_resize`.
    DstRevertResize(OpId),
    /// DST destroy done.
    DstRevertDone(OpId),
    /// SRC `finish_revert_resize`.
    SrcFinishRevertResize(OpId),
    /// SRC `driver.finish_revert_migration` done.
    SrcFinishRevertDone(OpId),
    /// `_poll_unconfirmed_resizes` on a host (only scheduled when it can act).
    PollUnconfirmedResizes(HostId),

    // ---- live migration (spec §4.8–§4.11) ----
    /// CON `live_migrate_instance` (≥ 2.34) or `migrate_server` (< 2.34).
    ConLiveMigrate(OpId),
    /// SCH `select_destinations` for one attempt of the destination loop.
    SchLiveSelect(OpId),
    /// CON on a chosen (or forced) destination: hypervisor checks, then the DST call.
    ConLiveChecks(OpId, HostId),
    /// CON's task fails (NoValidHost from the scheduler).
    ConLiveFailed(OpId, Box<super::live::PreCheckFailure>),
    /// DST `check_can_live_migrate_destination`.
    DstCheckCanLiveMigrateDestination(OpId, HostId),
    /// SRC `check_can_live_migrate_source` (called by DST `.1`).
    SrcCheckCanLiveMigrateSource(OpId, HostId),
    /// SRC's answer reaches DST `.1` (`Some` = failure message, unexpected?).
    DstCheckSourceReturned(OpId, HostId, Option<Box<CheckFailure>>),
    /// The check result reaches CON.
    ConLiveCheckResult(OpId, HostId, Option<Box<CheckFailure>>),
    /// SRC `live_migration` (cast): queued in the executor.
    SrcLiveMigration(OpId),
    DstPreLiveMigration(OpId),
    DstPreLiveMigrationDone(OpId),
    /// `pre_live_migration` returns to SRC (`true` = ok).
    SrcPreLiveMigrationReturned(OpId, bool),
    /// After the VIF-plug wait: the libvirt job starts.
    SrcLiveTransferStart(OpId),
    SrcLivePostCopy(OpId),
    SrcLiveJobEnded(OpId, super::live::JobEnd),
    DstPostLiveMigration(OpId),
    DstPostLiveMigrationDone(OpId),
    SrcPostLiveMigrationDone(OpId),
    DstRollbackLiveMigration(OpId),
    /// SRC `live_migration_abort` (cast): abort operation `.0` of live migration `.1`.
    SrcLiveMigrationAbort(OpId, OpId),

    // ---- other admin actions and drains ----
    /// The instance's host handles injectNetworkInfo / resetNetwork (no state change).
    CmpNetworkAction(OpId, HostId),
    /// A host drain starts.
    DrainStart(u32),

    // ---- build and delete ----
    /// CON `schedule_and_build_instances` → SCH.
    ConBuild(OpId),
    /// Compute `build_and_run_instance` on the chosen host.
    CmpBuild(OpId, HostId),
    /// Boot done.
    CmpBuildDone(OpId, HostId),
    /// SRC `confirm_resize` called by the API's delete of a resized server
    /// (`API._confirm_resize_on_deleting`): the delete, and the confirm operation that carries
    /// the `confirmResize` instance action.
    SrcConfirmOnDeleting(OpId, OpId),
    /// `driver.confirm_migration` done for that call.
    SrcConfirmOnDeletingDone(OpId, OpId),
    /// The call returned to the API, which goes on with the delete.
    ApiDeleteAfterConfirm(OpId),
    /// A caller's RPC call to a compute whose process is stopped (or stopped while serving
    /// it) times out after `rpc_response_timeout` (oslo.messaging's `MessagingTimeout`; the
    /// live-migration calls monitor the callee with `call_monitor_timeout`, the same value).
    RpcCallTimedOut(OpId, RpcCall),
    /// Compute deletes the server.
    CmpDelete(OpId, HostId),
    /// Delete done.
    CmpDeleteDone(OpId, HostId),
}

/// An RPC call whose caller waits for the answer (the other compute messages are casts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcCall {
    /// The conductor calls `check_can_live_migrate_destination` on this host.
    CheckDestination(HostId),
    /// The destination (this host) calls `check_can_live_migrate_source` on the source.
    CheckSource(HostId),
    /// The source calls `pre_live_migration` on the destination.
    PreLiveMigration,
    /// The API's delete calls `confirm_resize` on the source (`_confirm_resize_on_deleting`).
    ConfirmOnDeleting,
    /// The source's `_post_live_migration` calls `post_live_migration_at_destination` (a call
    /// with `call_monitor_timeout = rpc_response_timeout`, `ComputeAPI` in compute/rpcapi.py).
    PostLiveMigrationAtDestination,
}

/// An event as queued: with the epoch of the operation it is addressed to at the instant it
/// was scheduled. An operation's epoch changes when it is cut short (rolled back, aborted, its
/// server deleted); a step stamped with an older epoch belongs to a course of the operation
/// that no longer exists and is dropped, never applied.
#[derive(Debug, Clone)]
pub struct Stamped {
    pub event: Event,
    pub epoch: u32,
}

impl Event {
    /// The operation this event is a step of, if any. A live-migration abort is a step of the
    /// abort request: it acts on the migration in whatever phase it finds it.
    pub fn op(&self) -> Option<OpId> {
        use Event::*;
        match self {
            ApiReceive(_)
            | GeneratorFire(_)
            | ClientSubmit(_)
            | ClientNext(..)
            | ServiceChange(_)
            | ServiceSeenDown(_)
            | ServiceSeenUp(_)
            | PollUnconfirmedResizes(_)
            | DrainStart(_) => None,
            ConMigrateServer(op)
            | SchSelectDestinations(op)
            | ConScheduled(op, _)
            | DstPrepResize(op, _)
            | ConReschedule(op, _)
            | DstRescheduleReturned(op, ..)
            | SrcResizeInstance(op)
            | SrcDiskMigrated(op)
            | DstFinishResize(op)
            | DstFinishMigration(op)
            | SrcConfirmResize(op)
            | SrcConfirmDone(op)
            | DstRevertResize(op)
            | DstRevertDone(op)
            | SrcFinishRevertResize(op)
            | SrcFinishRevertDone(op)
            | ConLiveMigrate(op)
            | SchLiveSelect(op)
            | ConLiveChecks(op, _)
            | ConLiveFailed(op, _)
            | DstCheckCanLiveMigrateDestination(op, _)
            | SrcCheckCanLiveMigrateSource(op, _)
            | DstCheckSourceReturned(op, ..)
            | ConLiveCheckResult(op, ..)
            | SrcLiveMigration(op)
            | DstPreLiveMigration(op)
            | DstPreLiveMigrationDone(op)
            | SrcPreLiveMigrationReturned(op, _)
            | SrcLiveTransferStart(op)
            | SrcLivePostCopy(op)
            | SrcLiveJobEnded(op, _)
            | DstPostLiveMigration(op)
            | DstPostLiveMigrationDone(op)
            | SrcPostLiveMigrationDone(op)
            | DstRollbackLiveMigration(op)
            | SrcLiveMigrationAbort(op, _)
            | CmpNetworkAction(op, _)
            | ConBuild(op)
            | CmpBuild(op, _)
            | CmpBuildDone(op, _)
            | SrcConfirmOnDeleting(op, _)
            | SrcConfirmOnDeletingDone(op, _)
            | ApiDeleteAfterConfirm(op)
            | RpcCallTimedOut(op, _)
            | CmpDelete(op, _)
            | CmpDeleteDone(op, _) => Some(*op),
        }
    }

    /// Every operation this event can act on: its own, and the one a delete's confirm or a
    /// live-migration abort acts on (see `Op::queued`).
    pub fn ops(&self) -> [Option<OpId>; 2] {
        use Event::*;
        let other = match self {
            SrcLiveMigrationAbort(_, other)
            | SrcConfirmOnDeleting(_, other)
            | SrcConfirmOnDeletingDone(_, other) => Some(*other),
            _ => None,
        };
        [self.op(), other]
    }

    /// The variant's name, for messages about the event loop.
    pub fn name(&self) -> String {
        let text = format!("{self:?}");
        text.split(['(', ' '])
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// Whether this event is the end of work a compute process is doing (a driver call, a wait
    /// for a reply, the libvirt job's monitor) rather than a message arriving at it: such work
    /// is lost when the process stops, where a message waits in its queue.
    pub fn is_in_flight(&self) -> bool {
        use Event::*;
        matches!(
            self,
            DstRescheduleReturned(..)
                | SrcDiskMigrated(_)
                | DstFinishMigration(_)
                | SrcConfirmDone(_)
                | DstRevertDone(_)
                | SrcFinishRevertDone(_)
                | DstCheckSourceReturned(..)
                | DstPreLiveMigrationDone(_)
                | SrcPreLiveMigrationReturned(..)
                | SrcLiveTransferStart(_)
                | SrcLivePostCopy(_)
                | SrcLiveJobEnded(..)
                | DstPostLiveMigrationDone(_)
                | SrcPostLiveMigrationDone(_)
                | CmpBuildDone(..)
                | SrcConfirmOnDeletingDone(..)
                | CmpDeleteDone(..)
        )
    }

    /// The call whose caller waits while this message waits at a stopped compute.
    pub fn rpc_call(&self) -> Option<RpcCall> {
        match *self {
            Event::DstCheckCanLiveMigrateDestination(_, dest) => {
                Some(RpcCall::CheckDestination(dest))
            }
            Event::SrcCheckCanLiveMigrateSource(_, dest) => Some(RpcCall::CheckSource(dest)),
            Event::DstPreLiveMigration(_) => Some(RpcCall::PreLiveMigration),
            Event::SrcConfirmOnDeleting(..) => Some(RpcCall::ConfirmOnDeleting),
            Event::DstPostLiveMigration(_) => Some(RpcCall::PostLiveMigrationAtDestination),
            _ => None,
        }
    }

    /// The compute host whose nova-compute process handles this event, if any: such events wait
    /// while that process is stopped (spec §10.5, casts are not processed until it returns).
    pub fn compute_host(&self, world: &crate::model::World, ops: &[super::Op]) -> Option<HostId> {
        use Event::*;
        match self {
            DstPrepResize(_, h)
            | DstRescheduleReturned(_, h, _)
            | CmpBuild(_, h)
            | CmpBuildDone(_, h)
            | CmpDelete(_, h)
            | CmpDeleteDone(_, h)
            | CmpNetworkAction(_, h)
            | DstCheckCanLiveMigrateDestination(_, h)
            | DstCheckSourceReturned(_, h, _)
            | PollUnconfirmedResizes(h) => Some(*h),
            SrcConfirmOnDeleting(_, confirm) | SrcConfirmOnDeletingDone(_, confirm) => ops
                [confirm.index()]
            .migration
            .map(|m| world.migration(m).source),
            SrcCheckCanLiveMigrateSource(op, _)
            | SrcLiveMigration(op)
            | SrcPreLiveMigrationReturned(op, _)
            | SrcLiveTransferStart(op)
            | SrcLivePostCopy(op)
            | SrcLiveJobEnded(op, _)
            | SrcPostLiveMigrationDone(op) => {
                ops[op.index()].migration.map(|m| world.migration(m).source)
            }
            DstPreLiveMigration(op)
            | DstPreLiveMigrationDone(op)
            | DstPostLiveMigration(op)
            | DstPostLiveMigrationDone(op)
            | DstRollbackLiveMigration(op) => ops[op.index()]
                .migration
                .and_then(|m| world.migration(m).dest),
            SrcResizeInstance(op)
            | SrcDiskMigrated(op)
            | SrcConfirmResize(op)
            | SrcConfirmDone(op)
            | SrcFinishRevertResize(op)
            | SrcFinishRevertDone(op) => {
                ops[op.index()].migration.map(|m| world.migration(m).source)
            }
            DstFinishResize(op)
            | DstFinishMigration(op)
            | DstRevertResize(op)
            | DstRevertDone(op) => ops[op.index()]
                .migration
                .and_then(|m| world.migration(m).dest),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every queued event is moved on each heap level it passes: keep it small (payloads that
    /// need a vector live in the op, rare large ones are boxed).
    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<super::Event>() <= 24);
        assert!(std::mem::size_of::<super::Stamped>() <= 32);
    }
}
