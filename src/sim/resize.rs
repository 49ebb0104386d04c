//! Confirm (spec §4.5), auto-confirm by `_poll_unconfirmed_resizes` (§4.6, §6) and revert (§4.7).

use super::{Event, Flow, Op, OpId, Sim, D, POLL_INTERVAL};
use crate::config::{Behaviour, FaultStep};
use crate::engine::SimTime;
use crate::model::{
    ActionName, Consumer, EventName, EventResult, HostId, MigrationId, MigrationStatus, PowerState,
    RequestId, ServerId, TaskState, VmState,
};
use crate::trace::Outcome;
use crate::vocab::{Hop, Step};
use std::sync::Arc;

pub(super) const CONFIRM_EVENT: EventName = EventName::ComputeConfirmResize;
const REVERT_EVENT: EventName = EventName::ComputeRevertResize;
const FINISH_REVERT_EVENT: EventName = EventName::ComputeFinishRevertResize;

impl Sim {
    /// `API.confirm_resize` after its checks (spec §3.3 side effects, §4.5 step 1). Also the
    /// path of the periodic auto-confirm, with `request = None` and a null project (§4.6).
    pub(super) fn accept_confirm(
        &mut self,
        request: Option<u32>,
        request_id: RequestId,
        server: ServerId,
        migration: MigrationId,
        project: Option<Arc<str>>,
        hop: Hop,
    ) {
        let op = self.begin_op(
            Op {
                migration: Some(migration),
                ..Op::new(Flow::Confirm, request, request_id, server)
            },
            Some((ActionName::ConfirmResize, project)),
        );
        let step = if request.is_some() {
            Step::ConfirmResizeApi
        } else {
            Step::AutoConfirm
        };
        // task_state is not changed: the status stays VERIFY_RESIZE until SRC is done.
        self.set_migration_status(migration, MigrationStatus::Confirming, hop, step, Some(op));
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcConfirmResize(op));
    }

    /// SRC `confirm_resize` (spec §4.5 steps 2–3).
    pub(super) fn src_confirm_resize(&mut self, op: OpId) {
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let source = self.cloud.world.migration(m).source;
        self.event_start(op, CONFIRM_EVENT, Some(source));
        if self.server_gone(op) {
            return;
        }
        let status = self.cloud.world.migration(m).status;
        if !matches!(
            status,
            MigrationStatus::Finished | MigrationStatus::Confirming
        ) {
            // Already confirmed, or moved on (e.g. to error): `_confirm_resize` is a no-op.
            self.event_finish(op, CONFIRM_EVENT, Some(source), EventResult::Success, "");
            self.complete(op, Outcome::Success);
            return;
        }
        self.ops[op.index()].pending_fault = self.fault_for(FaultStep::ConfirmResize, op, source);
        let d = self.draw(D::ConfirmMigration);
        self.after(d, Event::SrcConfirmDone(op));
    }

    /// `driver.confirm_migration` done (spec §4.5 steps 4–7).
    pub(super) fn src_confirm_done(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let s = self.ops[op.index()].server;
        let source = self.cloud.world.migration(m).source;
        if let Some((_, msg)) = self.ops[op.index()].pending_fault.take() {
            let release = self.scenario.release;
            // `ComputeManager.confirm_resize`: `@errors_out_migration` since 20.0.0; before,
            // the migration stays `confirming`.
            if release.has(Behaviour::ConfirmFailureErrorsMigration) {
                self.set_migration_status(
                    m,
                    MigrationStatus::Error,
                    Hop::Source,
                    Step::ConfirmResizeMigrationError,
                    Some(op),
                );
            } else {
                self.checker.left_by_nova.insert(m);
            }
            self.change_server(s, Hop::Source, Step::ConfirmResizeFailed, Some(op), |srv| {
                srv.vm_state = VmState::Error;
                srv.task_state = None;
            });
            // The allocation delete runs in a finally block (step 6) since 20.0.0; before,
            // `_delete_allocation_after_move` came after the failing `_confirm_resize` and the
            // source allocation leaks.
            if release.has(Behaviour::ConfirmFailureDeletesSourceAllocation) {
                self.plc_delete(Consumer::Migration(m));
            } else {
                self.checker.left_by_nova.insert(m);
            }
            self.event_finish(op, CONFIRM_EVENT, Some(source), EventResult::Error, &msg);
            self.complete(
                op,
                Outcome::Failure(format!("confirm_resize: {msg} -> error")),
            );
            return;
        }
        self.confirmed_on_source(op, m, s);
        self.event_finish(op, CONFIRM_EVENT, Some(source), EventResult::Success, "");
        self.complete(op, Outcome::Success);
    }

    /// The end of `ComputeManager._confirm_resize` (spec §4.5 steps 4–7): migration
    /// `confirmed`, the instance back to its pre-resize vm_state with no task, the source
    /// allocation (the migration's) deleted. The rows belong to `op`.
    pub(super) fn confirmed_on_source(&mut self, op: OpId, m: MigrationId, s: ServerId) {
        self.set_migration_status(
            m,
            MigrationStatus::Confirmed,
            Hop::Source,
            Step::ConfirmResizeConfirmed,
            Some(op),
        );
        let stopped = self.cloud.world.server(s).power_state == PowerState::Shutdown;
        self.change_server(s, Hop::Source, Step::ConfirmResizeDone, Some(op), |srv| {
            srv.vm_state = if stopped {
                VmState::Stopped
            } else {
                VmState::Active
            };
            srv.task_state = None;
            srv.old_vm_state = None;
            srv.end_migration(m);
        });
        self.plc_delete(Consumer::Migration(m));
    }

    /// `API.revert_resize` after its checks (spec §3.4 side effects, §4.7 step 1).
    pub(super) fn accept_revert(
        &mut self,
        request: u32,
        server: ServerId,
        migration: MigrationId,
        project: Arc<str>,
    ) {
        let request_id = self.request_id_of(request);
        let op = self.begin_op(
            Op {
                migration: Some(migration),
                ..Op::new(Flow::Revert, Some(request), request_id, server)
            },
            Some((ActionName::RevertResize, Some(project))),
        );
        let source = self.cloud.world.migration(migration).source;
        let az = self.cloud.world.host(source).availability_zone.clone();
        self.cloud.world.servers[server.index()].availability_zone = Some(az);
        self.change_server(server, Hop::Api, Step::RevertResizeApi, Some(op), |srv| {
            srv.task_state = Some(TaskState::ResizeReverting);
        });
        self.set_migration_status(
            migration,
            MigrationStatus::Reverting,
            Hop::Api,
            Step::RevertResizeApiMigration,
            Some(op),
        );
        let d = self.draw(D::Compute);
        self.after(d, Event::DstRevertResize(op));
    }

    /// DST `revert_resize` (spec §4.7 step 2): includes the `check_instance_shared_storage` call
    /// to SRC (one round trip) and `driver.destroy`.
    pub(super) fn dst_revert_resize(&mut self, op: OpId) {
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let dest = self.cloud.world.migration(m).dest;
        self.event_start(op, REVERT_EVENT, dest);
        if self.server_gone(op) {
            return;
        }
        if let Some(d) = dest {
            self.ops[op.index()].pending_fault = self.fault_for(FaultStep::RevertResize, op, d);
        }
        let d = self.draw(D::Compute) + self.draw(D::Compute) + self.draw(D::RevertDestroy);
        self.after(d, Event::DstRevertDone(op));
    }

    /// Revert failed on DST or SRC: migration error, vm error, task None (spec §4.7 last line).
    fn revert_failed(
        &mut self,
        op: OpId,
        hop: Hop,
        event: EventName,
        host: Option<HostId>,
        msg: &str,
    ) {
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let s = self.ops[op.index()].server;
        self.set_migration_status(
            m,
            MigrationStatus::Error,
            hop,
            Step::RevertMigrationError,
            Some(op),
        );
        self.change_server(s, hop, Step::RevertFailed, Some(op), |srv| {
            srv.vm_state = VmState::Error;
            srv.task_state = None;
        });
        self.event_finish(op, event, host, EventResult::Error, msg);
        self.complete(op, Outcome::Failure(format!("revert: {msg} -> error")));
    }

    /// DST destroy done (spec §4.7 steps 3–4).
    pub(super) fn dst_revert_done(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let dest = self.cloud.world.migration(m).dest;
        // Step 3's save expects resize_reverting but only dirties instance_extra fields, and
        // `Instance.save` skips the compare when no column changed: a reset does not stop it.
        if let Some((_, msg)) = self.ops[op.index()].pending_fault.take() {
            self.revert_failed(op, Hop::Destination, REVERT_EVENT, dest, &msg);
            return;
        }
        // `drop_move_claim_at_dest`: DST usage dropped in its resource tracker; placement still
        // holds I@DST until SRC moves the allocation back.
        self.set_migration_status(
            m,
            MigrationStatus::Reverted,
            Hop::Destination,
            Step::RevertResizeReverted,
            Some(op),
        );
        self.event_finish(op, REVERT_EVENT, dest, EventResult::Success, "");
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcFinishRevertResize(op));
    }

    /// SRC `finish_revert_resize` (spec §4.7 steps 5–7).
    pub(super) fn src_finish_revert_resize(&mut self, op: OpId) {
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let s = self.ops[op.index()].server;
        let source = self.cloud.world.migration(m).source;
        self.event_start(op, FINISH_REVERT_EVENT, Some(source));
        if self.server_gone(op) {
            return;
        }
        // Step 5 saves flavor and host := SRC expecting resize_reverting, before the allocation
        // moves back: after a reset the error handler's save writes the pending host, and both
        // allocations stay.
        if let Some(msg) = self.unexpected_task(op, TaskState::ResizeReverting) {
            self.change_server(
                s,
                Hop::Source,
                Step::FinishRevertHostErrorSave,
                Some(op),
                |srv| srv.host = Some(source),
            );
            return self.revert_failed(op, Hop::Source, FINISH_REVERT_EVENT, Some(source), &msg);
        }
        // `_revert_instance_flavor_host_node`: the old flavor comes back with the host (a
        // migrate's old and new flavors are the same).
        let old_flavor = self.cloud.world.migration(m).old_flavor;
        self.change_server(s, Hop::Source, Step::FinishRevertHost, Some(op), |srv| {
            srv.host = Some(source);
            srv.flavor = old_flavor;
        });
        self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
        self.ops[op.index()].pending_fault =
            self.fault_for(FaultStep::FinishRevertResize, op, source);
        let d = self.draw(D::Placement) + self.draw(D::FinishRevertMigration);
        self.after(d, Event::SrcFinishRevertDone(op));
    }

    /// `driver.finish_revert_migration` done (spec §4.7 steps 8–9).
    pub(super) fn src_finish_revert_done(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.ops[op.index()].migration.unwrap_or(MigrationId(0));
        let s = self.ops[op.index()].server;
        let source = self.cloud.world.migration(m).source;
        if let Some((_, msg)) = self.ops[op.index()].pending_fault.take() {
            self.revert_failed(op, Hop::Source, FINISH_REVERT_EVENT, Some(source), &msg);
            return;
        }
        let was_stopped = self.cloud.world.server(s).old_vm_state == Some(VmState::Stopped);
        if was_stopped {
            // 8b: powering-off first (vm still resized ⇒ VERIFY_RESIZE), then stop_instance.
            self.change_server(
                s,
                Hop::Source,
                Step::FinishRevertPoweringOff,
                Some(op),
                |srv| {
                    srv.task_state = Some(TaskState::PoweringOff);
                },
            );
            self.cloud.world.servers[s.index()].power_state = PowerState::Shutdown;
        } else {
            self.cloud.world.servers[s.index()].power_state = PowerState::Running;
        }
        self.change_server(s, Hop::Source, Step::FinishRevertDone, Some(op), |srv| {
            srv.vm_state = if was_stopped {
                VmState::Stopped
            } else {
                VmState::Active
            };
            srv.task_state = None;
            srv.launched = true;
            srv.old_vm_state = None;
            srv.end_migration(m);
        });
        self.event_finish(
            op,
            FINISH_REVERT_EVENT,
            Some(source),
            EventResult::Success,
            "",
        );
        self.complete(op, Outcome::Success);
    }

    // ------------------------------------------------------------------ auto-confirm

    /// The first `_poll_unconfirmed_resizes` tick of `host` at or after `due`: ticks run at
    /// `phase + 60 s × k`, k ≥ 1 (spec §6.3, deterministic-phase model).
    pub fn first_tick_at_or_after(&self, host: HostId, due: SimTime) -> SimTime {
        let phase = self.cloud.world.host(host).periodic_phase.ms();
        let p = POLL_INTERVAL.ms();
        let first = phase + p;
        if due.ms() <= first {
            SimTime(first)
        } else {
            SimTime(phase + (due.ms() - phase).div_ceil(p) * p)
        }
    }

    /// Makes sure a tick of `host` runs no later than the first tick at or after `due`. Ticks
    /// that cannot act are never scheduled (an idle compute costs nothing).
    pub(super) fn ensure_poll(&mut self, host: HostId, due: SimTime) {
        if self.scenario.nova.resize_confirm_window.ms() == 0 {
            return;
        }
        let at = self.first_tick_at_or_after(host, due);
        match self.computes.hosts[host.index()].poll_timer {
            Some(k) => match self.engine.queue.time_of(k) {
                Some(t) if t <= at => {}
                Some(_) => {
                    self.engine.queue.reschedule(k, at);
                }
                None => {
                    let k = self.timer_at(at, Event::PollUnconfirmedResizes(host));
                    self.set_poll_timer(host, Some(k));
                }
            },
            None => {
                let k = self.timer_at(at, Event::PollUnconfirmedResizes(host));
                self.set_poll_timer(host, Some(k));
            }
        }
    }

    /// `ComputeManager._poll_unconfirmed_resizes` on `host` (spec §6.2).
    pub(super) fn poll_unconfirmed_resizes(&mut self, host: HostId) {
        self.set_poll_timer(host, None);
        let window = self.scenario.nova.resize_confirm_window;
        if window.ms() == 0 {
            return;
        }
        let now = self.now();
        let cutoff = now - window;
        let finished: Vec<MigrationId> = self.cloud.world.finished_by_dest[host.index()]
            .iter()
            .copied()
            .collect();
        let mut request_id = None;
        let mut next_due: Option<SimTime> = None;
        let mut retry_next_tick = false;
        for m in finished {
            let mig = self.cloud.world.migration(m);
            // `updated_at <= utcnow − resize_confirm_window`, inclusive (spec §6.3).
            if now.ms() < window.ms() || mig.updated_at > cutoff {
                let due = mig.updated_at + window;
                next_due = Some(next_due.map_or(due, |d| d.min(due)));
                continue;
            }
            let s = mig.server;
            let srv = self.cloud.world.server(s);
            let step_err = Step::AutoConfirmMigrationError;
            if srv.is_deleted() || srv.vm_state == VmState::Error {
                self.set_migration_status(
                    m,
                    MigrationStatus::Error,
                    Hop::Destination,
                    step_err,
                    None,
                );
            } else if matches!(
                srv.task_state,
                Some(TaskState::Deleting)
                    | Some(TaskState::SoftDeleting)
                    | Some(TaskState::ResizeFinish)
            ) {
                retry_next_tick = true;
            } else if srv.vm_state != VmState::Resized || srv.task_state.is_some() {
                // e.g. after os-resetState: error, no confirm, M@SRC not freed.
                self.set_migration_status(
                    m,
                    MigrationStatus::Error,
                    Hop::Destination,
                    step_err,
                    None,
                );
            } else if self
                .scenario
                .release
                .has(Behaviour::ConfirmChecksSourceService)
                && !self.cloud.world.service_up(mig.source)
            {
                // `API.confirm_resize` raises ServiceUnavailable: "will retry later" (22.0.0
                // on; before, the confirm is cast and waits for the source to start).
                retry_next_tick = true;
            } else {
                let rid = *request_id.get_or_insert_with(|| {
                    let id = RequestId(self.workload.next_request_id);
                    self.workload.next_request_id += 1;
                    id
                });
                self.accept_confirm(None, rid, s, m, None, Hop::Destination);
            }
        }
        if retry_next_tick {
            let due = now + POLL_INTERVAL;
            next_due = Some(next_due.map_or(due, |d| d.min(due)));
        }
        if let Some(due) = next_due {
            self.ensure_poll(host, due);
        }
    }
}
