//! A compute process that stops loses the work it was doing; when it starts again,
//! `ComputeManager.init_host` cleans up its instances (`_init_instance`). Messages sent to it
//! meanwhile wait in its queue (RabbitMQ keeps them) and are consumed after `init_host`; a
//! caller blocked in an RPC call to it gets `MessagingTimeout` after `rpc_response_timeout`.

use super::events::RpcCall;
use super::live::CheckFailure;
use super::{Event, LivePhase, OpId, Sim, D};
use crate::engine::Duration;
use crate::model::{HostId, MigrationStatus, PowerState, ServerId, TaskState, VmState};
use crate::trace::Outcome;
use crate::vocab::{Exception, Hop, RollbackCause, Step};

impl Sim {
    /// The process on `h` stops: every step it was running is void (its operation's later
    /// steps are dropped), its live-migration executor is gone, and a caller waiting on it
    /// times out. What Nova saved so far stays, until `init_host` on restart.
    pub(super) fn lose_in_flight_work(&mut self, h: HostId) {
        let mut lost: Vec<(OpId, Option<RpcCall>)> = Vec::new();
        for stamped in self.engine.queue.pending() {
            let event = &stamped.event;
            let Some(op) = event.op() else { continue };
            // The source's `_do_live_migration` greenthread, blocked in its call to the
            // destination (`pre_live_migration`, `post_live_migration_at_destination`), dies
            // with the process: no one is left to handle the MessagingTimeout.
            if let Event::RpcCallTimedOut(
                _,
                RpcCall::PreLiveMigration | RpcCall::PostLiveMigrationAtDestination,
            ) = event
            {
                let source = self.ops[op.index()]
                    .migration
                    .map(|m| self.cloud.world.migration(m).source);
                if self.ops[op.index()].epoch == stamped.epoch && source == Some(h) {
                    lost.push((op, None));
                }
                continue;
            }
            if !event.is_in_flight()
                || self.ops[op.index()].epoch != stamped.epoch
                || event.compute_host(&self.cloud.world, &self.ops) != Some(h)
            {
                continue;
            }
            // The callers blocked on the stopped process: the conductor on a destination's
            // check (its call monitor hears no heartbeat), the source on `pre_live_migration`
            // or `post_live_migration_at_destination`.
            let caller = match event {
                Event::DstCheckSourceReturned(_, dest, _) => Some(RpcCall::CheckDestination(*dest)),
                Event::DstPreLiveMigrationDone(_) => Some(RpcCall::PreLiveMigration),
                Event::DstPostLiveMigrationDone(_) => Some(RpcCall::PostLiveMigrationAtDestination),
                Event::SrcConfirmOnDeletingDone(..) => Some(RpcCall::ConfirmOnDeleting),
                _ => None,
            };
            lost.push((op, caller));
        }
        // The executor's queue and the libvirt jobs without a pending event (a transfer that
        // never converges) die with the process too.
        let compute = &mut self.computes.hosts[h.index()];
        lost.extend(compute.live_queue.drain(..).map(|op| (op, None)));
        compute.live_running = 0;
        for (i, o) in self.ops.iter().enumerate() {
            let Some(l) = o.live() else { continue };
            let running = matches!(
                l.phase,
                LivePhase::Running { job: None } | LivePhase::PostCopy { job: None }
            );
            if running && l.attempted.first() == Some(&h) {
                lost.push((OpId(i as u32), None));
            }
        }
        lost.sort_by_key(|(op, _)| *op);
        lost.dedup_by_key(|(op, _)| *op);
        let timeout = self.scenario.nova.rpc_response_timeout;
        for (op, caller) in lost {
            self.interrupt(op);
            let server = self.ops[op.index()].server;
            self.checker.lost_work.insert(server);
            self.metrics.stats.lost_steps += 1;
            if let Some(call) = caller {
                self.after(timeout, Event::RpcCallTimedOut(op, call));
            }
        }
    }

    /// A call waits at the stopped compute: its caller times out (the message itself is still
    /// consumed when the process starts, and dropped then as its operation moved on).
    pub(super) fn call_parked(&mut self, op: OpId, call: RpcCall) {
        let timeout = self.scenario.nova.rpc_response_timeout;
        let key = self.after_timer(timeout, Event::RpcCallTimedOut(op, call));
        self.computes.call_timeouts.insert(op, key);
    }

    /// The stopped compute started and consumes the call before its caller gave up: the
    /// caller gets its answer, so its timeout is void.
    pub(super) fn call_answered_after_restart(&mut self, op: OpId) {
        if let Some(key) = self.computes.call_timeouts.remove(&op) {
            self.cancel_timer(key);
        }
    }

    /// The caller's `MessagingTimeout`, handled as Nova's caller handles it.
    pub(super) fn rpc_call_timed_out(&mut self, op: OpId, call: RpcCall) {
        self.computes.call_timeouts.remove(&op);
        self.interrupt(op);
        // (The delete's own call is made for a server in task_state deleting.)
        if call != RpcCall::ConfirmOnDeleting && self.server_gone(op) {
            return self.release_live_slot(op);
        }
        let secs = self.scenario.nova.rpc_response_timeout.ms() / 1000;
        match call {
            // The exception leaves `API._delete`: the user gets a 500, the server stays in
            // task_state deleting with its resize unconfirmed.
            RpcCall::ConfirmOnDeleting => {
                self.answer_deferred(
                    op,
                    500,
                    "Unexpected API Error. <class 'oslo_messaging.exceptions.MessagingTimeout'>",
                );
                self.complete(op, Outcome::raised(Exception::MessagingTimeout, ""));
            }
            // `LiveMigrationTask._call_livem_checks_on_host`: MessagingTimeout becomes a
            // MigrationPreCheckError, so `_find_destination` tries another host.
            RpcCall::CheckDestination(dest) => {
                let name = self.cloud.world.host(dest).name.clone();
                let failure = CheckFailure {
                    class: Exception::MigrationPreCheckError,
                    message: format!(
                        "Migration pre-check error: Timeout while checking if we can live migrate to host: {name}"
                    ),
                    unexpected: false,
                };
                self.after(
                    Duration::ZERO,
                    Event::ConLiveCheckResult(op, dest, Some(Box::new(failure))),
                );
            }
            // The destination's call to the source timed out; the destination fails its check
            // with it (wrapped from 33.0.0, see `dst_check_source_returned`).
            RpcCall::CheckSource(dest) => {
                let failure = CheckFailure {
                    class: Exception::MessagingTimeout,
                    message: format!(
                        "Timed out waiting for a reply to check_can_live_migrate_source after {secs} s"
                    ),
                    unexpected: true,
                };
                self.dst_check_source_returned(op, dest, Some(Box::new(failure)));
            }
            // `_do_live_migration`: any exception of `pre_live_migration` sets the migration
            // `error` and rolls back.
            RpcCall::PreLiveMigration => {
                self.pre_live_migration_rollback(op, RollbackCause::PreLiveMigrationTimedOut)
            }
            // `_post_live_migration` logs the exception and cleans the source up all the same.
            RpcCall::PostLiveMigrationAtDestination => self.post_live_without_destination(op),
        }
    }

    /// `ComputeManager.init_host` on `h`: `_init_instance` for each instance whose host is `h`,
    /// before the process consumes its queue.
    pub(super) fn init_host(&mut self, h: HostId) {
        // The host's live servers, in id order (the world's index, not a scan of every server).
        let on_host: Vec<ServerId> = self.cloud.world.servers_on_host[h.index()]
            .iter()
            .copied()
            .collect();
        for s in on_host {
            self.init_instance(h, s);
        }
    }

    /// `_init_instance` (nova/compute/manager.py), the branches reachable here.
    fn init_instance(&mut self, h: HostId, s: ServerId) {
        let srv = self.cloud.world.server(s);
        let (vm, task) = (srv.vm_state, srv.task_state);
        if vm == VmState::Error
            && !matches!(task, Some(TaskState::ResizeMigrating | TaskState::Deleting))
        {
            return;
        }
        let op = self.last_op_of(s);
        if vm == VmState::Building
            || matches!(
                task,
                Some(
                    TaskState::Spawning
                        | TaskState::ResizePrep
                        | TaskState::Deleting
                        | TaskState::PoweringOff
                        | TaskState::ResizeMigrating
                        | TaskState::Migrating
                )
            )
        {
            // `_init_instance` writes states only: whatever the operation in flight holds (or
            // goes on doing, e.g. a live migration whose conductor still waits for a check)
            // no longer matches them.
            self.checker.lost_work.insert(s);
        }
        if vm == VmState::Building || task == Some(TaskState::Spawning) {
            self.change_server(s, Hop::Compute, Step::InitBuildInterrupted, op, |srv| {
                srv.vm_state = VmState::Error;
                srv.task_state = None;
            });
            return;
        }
        match task {
            Some(TaskState::ResizePrep) => {
                self.change_server(s, Hop::Compute, Step::InitResizePrepCleared, op, |srv| {
                    srv.task_state = None;
                });
            }
            // Restart the deletion (`_delete_instance`).
            Some(TaskState::Deleting) => {
                if let Some(op) = op {
                    let d = self.draw(D::Compute);
                    self.after(d, Event::CmpDelete(op, h));
                }
            }
            Some(TaskState::PoweringOff) => {
                self.change_server(s, Hop::Compute, Step::InitStopRetried, op, |srv| {
                    srv.vm_state = VmState::Stopped;
                    srv.power_state = PowerState::Shutdown;
                    srv.task_state = None;
                });
            }
            // The disk copy died with the process: the guest is restarted on the source
            // (unless it was stopped) and the task cleared; the migration and both
            // allocations are left as they are.
            Some(TaskState::ResizeMigrating) => {
                let stopped = self.cloud.world.server(s).old_vm_state == Some(VmState::Stopped);
                self.change_server(
                    s,
                    Hop::Compute,
                    Step::InitCrashedResizeReverted,
                    op,
                    |srv| {
                        srv.power_state = if stopped {
                            PowerState::Shutdown
                        } else {
                            PowerState::Running
                        };
                        srv.task_state = None;
                    },
                );
            }
            // `_reset_live_migration`: a `running` migration is aborted and set `error`.
            Some(TaskState::Migrating) => {
                if let Some(m) = self.cloud.world.server(s).migration {
                    if self.cloud.world.migration(m).status == MigrationStatus::Running {
                        self.set_migration_status(
                            m,
                            MigrationStatus::Error,
                            Hop::Source,
                            Step::InitLiveMigrationError,
                            op,
                        );
                    }
                }
                self.change_server(s, Hop::Source, Step::InitLiveMigrationReset, op, |srv| {
                    srv.task_state = None;
                });
            }
            _ => {}
        }
    }

    /// The latest operation on server `s`, if any (the one `_init_instance` cleans up after).
    fn last_op_of(&self, s: ServerId) -> Option<OpId> {
        self.ops
            .iter()
            .rposition(|o| o.server == s)
            .map(|i| OpId(i as u32))
    }
}
