//! Cold migration: conductor, scheduler, prep_resize / resize_instance / finish_resize
//! (spec §4.1), NoValidHost (§4.2), rescheduling to alternates (§4.3) and failures after
//! prep_resize (§4.4).

use super::{Event, Flow, Op, OpId, Sim, D};
use crate::config::{Behaviour, FaultKind, FaultStep};
use crate::model::{
    ActionName, Consumer, EventName, EventResult, HostId, Migration, MigrationId, MigrationStatus,
    MigrationType, PowerState, ServerId, TaskState, VmState,
};
use crate::scheduler::{NoValidHost, SelectRequest};
use crate::trace::Outcome;
use crate::vocab::{Exception, Hop, Purpose, Step};
use std::sync::Arc;

const CON_EVENT: EventName = EventName::ConductorMigrateServer;
const COLD_EVENT: EventName = EventName::ColdMigrate;
const PREP_EVENT: EventName = EventName::ComputePrepResize;
const RESIZE_EVENT: EventName = EventName::ComputeResizeInstance;
const FINISH_EVENT: EventName = EventName::ComputeFinishResize;

impl Sim {
    /// API side of `migrate` once every check passed (spec §3.1 "API side effects", §4.1 step 1).
    pub(super) fn accept_migrate(
        &mut self,
        request: u32,
        server: ServerId,
        requested_host: Option<HostId>,
        project: Arc<str>,
        sync: bool,
        new_flavor: Option<crate::model::FlavorId>,
    ) {
        let request_id = self.request_id_of(request);
        // `API.resize` records `resize` for a flavor change, `migrate` without one.
        let (action, step) = match new_flavor {
            Some(_) => (ActionName::Resize, Step::ResizeApi),
            None => (ActionName::Migrate, Step::MigrateApi),
        };
        let op = self.begin_op(
            Op::new(
                Flow::ColdMigration(super::ColdMigration {
                    requested_host,
                    // `populate_retry` is skipped for a requested host and disabled by
                    // max_attempts = 1.
                    retry: requested_host.is_none() && self.scenario.nova.max_attempts > 1,
                    sync,
                    new_flavor,
                    ..Default::default()
                }),
                Some(request),
                request_id,
                server,
            ),
            Some((action, Some(project))),
        );
        self.change_server(server, Hop::Api, step, Some(op), |s| {
            s.task_state = Some(TaskState::ResizePrep);
        });
        let d = self.draw(D::Conductor);
        self.after(d, Event::ConMigrateServer(op));
    }

    /// Registers an operation, first recording its instance action `(name, project)` when it
    /// has one (with the operation's request id, at the current time).
    pub(super) fn begin_op(
        &mut self,
        op: Op,
        action: Option<(ActionName, Option<Arc<str>>)>,
    ) -> OpId {
        let now = self.now();
        let owner = self.ops.len() as u32;
        let action = action.map(|(name, project)| {
            self.cloud.world.actions.start_owned_action(
                owner,
                op.server,
                name,
                op.request_id,
                project,
                now,
            )
        });
        self.new_op(Op { action, ..op })
    }

    pub(super) fn new_op(&mut self, op: Op) -> OpId {
        let id = OpId(self.ops.len() as u32);
        self.ops.push(op);
        id
    }

    /// True (and the operation ended) if the server was deleted while the operation was in
    /// flight: every later step of Nova would fail with InstanceNotFound.
    pub(super) fn server_gone(&mut self, op: OpId) -> bool {
        let s = self.ops[op.index()].server;
        if !self.cloud.world.server(s).is_deleted()
            && self.cloud.world.server(s).task_state != Some(TaskState::Deleting)
        {
            return false;
        }
        // Every step the operation had scheduled is void: Nova's would each fail with
        // InstanceNotFound.
        self.interrupt(op);
        if let Some(m) = self.ops[op.index()].migration {
            if !self.cloud.world.migration(m).status.is_terminal() {
                self.set_migration_status(
                    m,
                    MigrationStatus::Error,
                    Hop::Conductor,
                    Step::DeletedDuringMove,
                    Some(op),
                );
            }
            // The move's cleanup drops what the migration held; the delete frees the instance.
            self.plc_delete(Consumer::Migration(m));
        }
        if self.ops[op.index()].live().is_some() {
            self.release_live_slot(op);
        }
        // A caller still blocked in the synchronous conductor call gets the API's answer to
        // InstanceNotFound (`MigrateServerController._migrate_live` / `_migrate`: 404).
        if self.ops[op.index()].sync() {
            let name = self.op_server_name(op);
            self.answer_deferred(op, 404, &format!("Instance {name} could not be found."));
        }
        self.complete(
            op,
            Outcome::raised(Exception::InstanceNotFound, "server deleted"),
        );
        true
    }

    fn migration_of(&self, op: OpId) -> MigrationId {
        match self.ops[op.index()].migration {
            Some(m) => m,
            None => unreachable!(
                "a compute step of a move runs only after the conductor created its migration"
            ),
        }
    }

    /// CON `migrate_server` → `_cold_migrate` → `MigrationTask._execute` (spec §4.1 steps 2–6).
    pub(super) fn con_migrate_server(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        self.event_start(op, CON_EVENT, None);
        self.event_start(op, COLD_EVENT, None);
        let s = self.ops[op.index()].server;
        let srv = self.cloud.world.server(s);
        let (Some(source), flavor) = (srv.host, srv.flavor) else {
            // The API refused host-less servers (row 10); a delete may have raced.
            self.complete(op, Outcome::raised(Exception::InstanceNotReady, ""));
            return;
        };
        let now = self.now();
        let m = MigrationId(self.cloud.world.migrations.len() as u32);
        // `MigrationTask._execute`: type `resize` when the flavor changes (spec §3.8).
        let new_flavor = self.cold_flow(op).new_flavor;
        let kind = match new_flavor {
            Some(_) => MigrationType::Resize,
            None => MigrationType::Migration,
        };
        self.cloud.world.migrations.push(Migration {
            server: s,
            kind,
            source,
            dest: None,
            status: MigrationStatus::PreMigrating,
            old_flavor: flavor,
            new_flavor: new_flavor.unwrap_or(flavor),
            request: self.ops[op.index()].request_id,
            created_at: now,
            updated_at: now,
        });
        self.ops[op.index()].migration = Some(m);
        self.cold_flow(op).conductor_vm_state = Some(self.cloud.world.server(s).vm_state);
        self.cloud.world.servers[s.index()].migration = Some(m);
        self.trace_server(s, Some(op), Hop::Conductor, Step::ColdMigrateCreated);
        // `replace_allocation_with_migration`: the source allocation now belongs to the migration.
        self.plc_move(Consumer::Instance(s), Consumer::Migration(m));
        let d = self.draw(D::Placement) + self.draw(D::Scheduler);
        self.after(d, Event::SchSelectDestinations(op));
    }

    /// SCH `select_destinations(return_alternates=True)` (spec §8.1, §5.2): filter, weigh, claim
    /// the chosen host for the instance, return it with up to `max_attempts − 1` alternates.
    pub(super) fn sch_select_destinations(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let server = self.ops[op.index()].server;
        let requested_host = self.cold_flow(op).requested_host;
        let srv = self.cloud.world.server(server);
        let m = self.migration_of(op);
        let source = self.cloud.world.migration(m).source;
        // The RequestSpec carries the new flavor: the claim on DST is of the new size.
        let new_flavor = self.cloud.world.migration(m).new_flavor;
        let resources = self.cloud.world.flavor(new_flavor).resources();
        let az = srv.requested_az.clone();
        // `API._allow_resize_to_same_host`: a resize keeps the source a candidate only with
        // `allow_resize_to_same_host`; a migrate never (libvirt reports no same-host trait).
        let same_host =
            self.cold_flow(op).new_flavor.is_some() && self.scenario.nova.allow_resize_to_same_host;
        let ignore = [source];
        let req = SelectRequest {
            resources,
            ignore_hosts: if same_host { &[] } else { &ignore },
            requested_host,
            availability_zone: az.as_deref(),
            num_alternates: self.scenario.nova.max_attempts.saturating_sub(1) as usize,
            host_subset_size: self.scenario.nova.host_subset_size as usize,
        };
        let result = self.schedule(op, server, Purpose::Migrate, &req);
        // allocation_candidates query, then the claim: two placement round trips on success.
        let mut delay = self.draw(D::Placement);
        let answer = match result {
            Ok(sel) => {
                delay = delay + self.draw(D::Placement);
                if self.plc_claim(Consumer::Instance(server), sel.selected, resources) {
                    self.cold_flow(op).alternates = sel.alternates;
                    Ok(sel.selected)
                } else {
                    Err(NoValidHost::NoCandidates)
                }
            }
            Err(e) => Err(e),
        };
        let d = delay + self.draw(D::Conductor);
        self.after(d, Event::ConScheduled(op, answer));
    }

    /// CON after the scheduler answered (spec §4.1 step 7 or §4.2).
    pub(super) fn con_scheduled(&mut self, op: OpId, answer: Result<HostId, NoValidHost>) {
        if self.server_gone(op) {
            return;
        }
        match answer {
            Ok(dest) => {
                let s = self.ops[op.index()].server;
                let az = &self.cloud.world.hosts[dest.index()].availability_zone;
                let srv = &mut self.cloud.world.servers[s.index()];
                // Most moves stay in one AZ: no new string then.
                if srv.availability_zone.as_ref() != Some(az) {
                    srv.availability_zone = Some(az.clone());
                }
                self.event_finish(op, COLD_EVENT, None, EventResult::Success, "");
                self.event_finish(op, CON_EVENT, None, EventResult::Success, "");
                if self.ops[op.index()].sync() {
                    // Before 21.0.0 `migrate_server` was a call: the API answers now.
                    self.answer_deferred(op, 202, "");
                }
                let d = self.draw(D::Compute);
                self.after(d, Event::DstPrepResize(op, dest));
            }
            Err(nvh) => {
                let reason = nvh.message().to_string();
                self.conductor_rollback(op, Step::ColdMigrateNoValidHost);
                self.event_finish(op, COLD_EVENT, None, EventResult::Error, reason.trim_end());
                self.event_finish(
                    op,
                    CON_EVENT,
                    None,
                    EventResult::Error,
                    "No valid host found for cold migrate",
                );
                if self.ops[op.index()].sync() {
                    // Before 21.0.0 NoValidHost reached the API through the call: 400.
                    self.answer_deferred(op, 400, "No valid host found for cold migrate");
                }
                self.complete(op, Outcome::raised(Exception::NoValidHost, &reason));
            }
        }
    }

    /// `MigrationTask.rollback` + `set_vm_state_and_notify` (spec §4.2 steps 7–8): migration
    /// `error`, allocation back to the instance, vm_state kept, task_state None.
    fn conductor_rollback(&mut self, op: OpId, step: Step) {
        let m = self.migration_of(op);
        let s = self.ops[op.index()].server;
        self.set_migration_status(m, MigrationStatus::Error, Hop::Conductor, step, Some(op));
        self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
        // `_cold_migrate` writes the vm_state it loaded (a reset made meanwhile is undone) and
        // task None, without an expected task_state.
        let stale = self.cold_flow(op).conductor_vm_state;
        self.change_server(
            s,
            Hop::Conductor,
            Step::SetVmStateAndNotify,
            Some(op),
            |srv| {
                if let Some(vm) = stale {
                    srv.vm_state = vm;
                }
                srv.task_state = None;
            },
        );
    }

    /// DST `prep_resize` (spec §4.1 steps 8–10, §4.3 on failure).
    pub(super) fn dst_prep_resize(&mut self, op: OpId, dest: HostId) {
        if self.server_gone(op) {
            return;
        }
        self.event_start(op, PREP_EVENT, Some(dest));
        let m = self.migration_of(op);
        let s = self.ops[op.index()].server;
        // `_move_claim` fills the destination and re-saves the migration (status unchanged).
        self.cloud.world.migrations[m.index()].dest = Some(dest);
        self.cloud.world.migrations[m.index()].updated_at = self.now();
        let vm = self.cloud.world.server(s).vm_state;
        self.cloud.world.servers[s.index()].old_vm_state = Some(vm);
        if let Some(fault) = self.fault_for(FaultStep::PrepResize, op, dest) {
            self.ops[op.index()].pending_fault = Some(fault);
            // `_revert_allocation`: the migration's allocation goes back to the instance,
            // overwriting (freeing) the instance's claim on this host.
            self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
            if self.cold_flow(op).retry {
                // `_reschedule_resize_or_reraise`: task_state resize_prep again, call CON.
                self.change_server(
                    s,
                    Hop::Destination,
                    Step::PrepResizeReschedule,
                    Some(op),
                    |srv| {
                        srv.task_state = Some(TaskState::ResizePrep);
                    },
                );
                let d = self.draw(D::Conductor);
                self.after(d, Event::ConReschedule(op, dest));
            } else {
                self.prep_resize_failed(op, dest);
            }
            return;
        }
        self.event_finish(op, PREP_EVENT, Some(dest), EventResult::Success, "");
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcResizeInstance(op));
    }

    /// CON `migrate_server` called by the failed DST (spec §4.3 step 2–3): new conductor events,
    /// allocation to the migration again, alternates popped and claimed in order.
    pub(super) fn con_reschedule(&mut self, op: OpId, failed: HostId) {
        if self.server_gone(op) {
            return;
        }
        self.event_start(op, CON_EVENT, None);
        self.event_start(op, COLD_EVENT, None);
        let m = self.migration_of(op);
        let s = self.ops[op.index()].server;
        self.plc_move(Consumer::Instance(s), Consumer::Migration(m));
        let resources = self
            .cloud
            .world
            .flavor(self.cloud.world.migration(m).new_flavor)
            .resources();
        let mut delay = self.draw(D::Placement);
        let mut chosen = None;
        while !self.cold_flow(op).alternates.is_empty() {
            let alt = self.cold_flow(op).alternates.remove(0);
            delay = delay + self.draw(D::Placement);
            if self.plc_claim(Consumer::Instance(s), alt, resources) {
                chosen = Some(alt);
                break;
            }
        }
        let back = self.draw(D::Compute);
        self.log_reschedule(op, s, chosen);
        match chosen {
            Some(alt) => {
                let az = self.cloud.world.host(alt).availability_zone.clone();
                self.cloud.world.servers[s.index()].availability_zone = Some(az);
                self.event_finish(op, COLD_EVENT, None, EventResult::Success, "");
                self.event_finish(op, CON_EVENT, None, EventResult::Success, "");
                let d = self.draw(D::Compute);
                self.after(delay + d, Event::DstPrepResize(op, alt));
                self.after(delay + back, Event::DstRescheduleReturned(op, failed, true));
            }
            None => {
                let name = self.cloud.world.server(s).name.clone();
                let msg = format!(
                    "Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance {name}."
                );
                self.conductor_rollback(op, Step::ColdMigrateMaxRetries);
                self.event_finish(op, COLD_EVENT, None, EventResult::Error, &msg);
                self.event_finish(op, CON_EVENT, None, EventResult::Error, &msg);
                self.after(
                    delay + back,
                    Event::DstRescheduleReturned(op, failed, false),
                );
            }
        }
    }

    /// scheduling.csv row of a reschedule: the alternate claimed, or exhaustion.
    fn log_reschedule(&mut self, op: OpId, s: ServerId, chosen: Option<HostId>) {
        let m = self.migration_of(op);
        let resources = self
            .cloud
            .world
            .flavor(self.cloud.world.migration(m).new_flavor)
            .resources();
        let rest = self.cold_flow(op).alternates.clone();
        let req = SelectRequest {
            resources,
            ignore_hosts: &[],
            requested_host: None,
            availability_zone: None,
            num_alternates: 0,
            host_subset_size: 1,
        };
        match chosen {
            Some(alt) => {
                self.log_decision(Some(op), s, Purpose::Reschedule, &req, Ok((alt, &rest)))
            }
            None => self.log_decision(
                Some(op),
                s,
                Purpose::Reschedule,
                &req,
                Err("MaxRetriesExceeded: no alternate left"),
            ),
        }
    }

    /// The reschedule call returns to the DST that failed (spec §4.3, §11.2).
    pub(super) fn dst_reschedule_returned(&mut self, op: OpId, failed: HostId, rescheduled: bool) {
        if rescheduled {
            // `_reschedule_resize_or_reraise` does not re-raise: the event ends Success.
            self.event_finish(op, PREP_EVENT, Some(failed), EventResult::Success, "");
        } else if !self.server_gone(op) {
            // (Deleted meanwhile: `_error_out_instance_on_exception` saves nothing on an
            // instance that is gone, `_set_instance_obj_error_state` logs InstanceNotFound.)
            self.prep_resize_failed(op, failed);
        }
    }

    /// The original prep_resize exception is re-raised on DST (spec §4.3 step 4–5).
    fn prep_resize_failed(&mut self, op: OpId, dest: HostId) {
        let (kind, msg) = self.ops[op.index()]
            .pending_fault
            .take()
            .unwrap_or((FaultKind::Error, "prep_resize failed".into()));
        let m = self.migration_of(op);
        self.set_migration_status(
            m,
            MigrationStatus::Error,
            Hop::Destination,
            Step::PrepResizeMigrationError,
            Some(op),
        );
        let final_state = self.fail_vm_state(op, kind, Behaviour::PrepResizeRollbackKeepsVmState);
        self.change_server(
            self.ops[op.index()].server,
            Hop::Destination,
            Step::PrepResizeFailed,
            Some(op),
            |srv| {
                srv.vm_state = final_state;
                srv.task_state = None;
            },
        );
        self.event_finish(op, PREP_EVENT, Some(dest), EventResult::Error, &msg);
        self.complete(
            op,
            Outcome::Failure(format!("prep_resize: {msg} -> {}", final_state.as_str())),
        );
    }

    /// `instance.save(expected_task_state=expected)` on a compute: after an os-resetState the
    /// task_state differs and the save raises `UnexpectedTaskStateError`, which the step's
    /// `_error_out_instance_on_exception` turns into vm_state ERROR and
    /// `errors_out_migration_ctxt` into migration `error` (`reverts_task_state` leaves the
    /// task_state alone: "the current task is preempted"). Returns the exception message.
    pub(super) fn unexpected_task(&self, op: OpId, expected: TaskState) -> Option<String> {
        let srv = self.cloud.world.server(self.ops[op.index()].server);
        if srv.task_state == Some(expected) {
            return None;
        }
        Some(format!(
            "UnexpectedTaskStateError: Conflict updating instance {}. Expected: {{'task_state': ['{}']}}. Actual: {{'task_state': {}}}",
            srv.name,
            expected.as_str(),
            srv.task_state.map_or("None".to_string(), |t| format!("'{}'", t.as_str()))
        ))
    }

    /// The vm_state a failed compute step leaves: `InstanceFaultRollback` restores the stashed
    /// state, anything else errors the instance (`_error_out_instance_on_exception`). The
    /// restore needs the step to pass `instance_state=instance.vm_state` (`keeps`: prep_resize
    /// from 20.0.0, resize_instance from 21.0.0); before, the rollback sets ACTIVE, even for a
    /// stopped server.
    fn fail_vm_state(&self, op: OpId, kind: FaultKind, keeps: Behaviour) -> VmState {
        let srv = self.cloud.world.server(self.ops[op.index()].server);
        match kind {
            FaultKind::Rollback if !self.scenario.release.has(keeps) => VmState::Active,
            FaultKind::Rollback => srv.old_vm_state.unwrap_or(srv.vm_state),
            FaultKind::Error | FaultKind::Unexpected => VmState::Error,
        }
    }

    /// SRC `resize_instance` (spec §4.1 steps 11–13).
    pub(super) fn src_resize_instance(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.migration_of(op);
        let (source, s) = (
            self.cloud.world.migration(m).source,
            self.ops[op.index()].server,
        );
        self.event_start(op, RESIZE_EVENT, Some(source));
        self.set_migration_status(
            m,
            MigrationStatus::Migrating,
            Hop::Source,
            Step::ResizeInstanceMigrating,
            Some(op),
        );
        // Step 12 saves with expected_task_state resize_prep: after an os-resetState the save
        // raises before the guest is touched.
        if let Some(msg) = self.unexpected_task(op, TaskState::ResizePrep) {
            self.ops[op.index()].pending_fault = Some((FaultKind::Error, msg));
            self.ops[op.index()].preempted = Some(TaskState::ResizeMigrating);
            self.after(crate::engine::Duration::ZERO, Event::SrcDiskMigrated(op));
            return;
        }
        self.change_server(s, Hop::Source, Step::ResizeInstanceTask, Some(op), |srv| {
            srv.task_state = Some(TaskState::ResizeMigrating);
        });
        // `migrate_disk_and_power_off`: a clean shutdown (capped by shutdown_timeout) of a
        // running guest, then the disk copy.
        let shutdown = if self.cloud.world.server(s).power_state == PowerState::Running {
            self.draw(D::GuestShutdown)
                .min(self.scenario.nova.shutdown_timeout)
        } else {
            crate::engine::Duration::ZERO
        };
        let copy = self.draw(D::DiskCopy);
        self.ops[op.index()].pending_fault = self.fault_for(FaultStep::ResizeInstance, op, source);
        self.after(shutdown + copy, Event::SrcDiskMigrated(op));
    }

    /// End of `migrate_disk_and_power_off` (spec §4.1 steps 14–16, §4.4 first row).
    pub(super) fn src_disk_migrated(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.migration_of(op);
        let s = self.ops[op.index()].server;
        let (source, dest) = (
            self.cloud.world.migration(m).source,
            self.cloud.world.migration(m).dest,
        );
        // Step 15 saves host := DST and task resize_migrated, expecting resize_migrating.
        let injected = self.ops[op.index()].pending_fault.take();
        let unexpected = match injected {
            Some(_) => None,
            None => self.unexpected_task(op, TaskState::ResizeMigrating),
        };
        if unexpected.is_some() {
            self.ops[op.index()].preempted = Some(TaskState::ResizeMigrated);
        }
        if let Some((kind, msg)) = injected.or(unexpected.map(|msg| (FaultKind::Error, msg))) {
            self.set_migration_status(
                m,
                MigrationStatus::Error,
                Hop::Source,
                Step::ResizeInstanceMigrationError,
                Some(op),
            );
            let vm = self.fail_vm_state(op, kind, Behaviour::ResizeInstanceRollbackKeepsVmState);
            let preempted = self.ops[op.index()].preempted.take();
            self.change_server(
                s,
                Hop::Source,
                Step::ResizeInstanceFailed,
                Some(op),
                |srv| {
                    srv.vm_state = vm;
                    // `reverts_task_state` clears the task, except for a preempted save whose
                    // pending task_state (and, at step 15, host) the error save writes.
                    srv.task_state = preempted;
                    if preempted == Some(TaskState::ResizeMigrated) {
                        srv.host = dest;
                    }
                },
            );
            // The allocation goes back to the instance on SRC; DST is freed. No reschedule.
            self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
            self.event_finish(op, RESIZE_EVENT, Some(source), EventResult::Error, &msg);
            self.complete(
                op,
                Outcome::Failure(format!("resize_instance: {msg} -> {}", vm.as_str())),
            );
            return;
        }
        let Some(dest) = dest else {
            unreachable!("prep_resize set the destination before resize_instance");
        };
        self.set_migration_status(
            m,
            MigrationStatus::PostMigrating,
            Hop::Source,
            Step::ResizeInstancePostMigrating,
            Some(op),
        );
        self.cloud.world.servers[s.index()].power_state = PowerState::Shutdown;
        self.change_server(
            s,
            Hop::Source,
            Step::ResizeInstanceMigrated,
            Some(op),
            |srv| {
                srv.host = Some(dest);
                srv.task_state = Some(TaskState::ResizeMigrated);
            },
        );
        self.event_finish(op, RESIZE_EVENT, Some(source), EventResult::Success, "");
        let d = self.draw(D::Compute);
        self.after(d, Event::DstFinishResize(op));
    }

    /// DST `finish_resize` (spec §4.1 step 17).
    pub(super) fn dst_finish_resize(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.migration_of(op);
        let s = self.ops[op.index()].server;
        let dest = self.cloud.world.migration(m).dest;
        self.event_start(op, FINISH_EVENT, dest);
        // Step 17 saves with expected_task_state resize_migrated.
        if let Some(msg) = self.unexpected_task(op, TaskState::ResizeMigrated) {
            self.ops[op.index()].pending_fault = Some((FaultKind::Error, msg));
            self.ops[op.index()].preempted = Some(TaskState::ResizeFinish);
            self.after(crate::engine::Duration::ZERO, Event::DstFinishMigration(op));
            return;
        }
        // `_finish_resize`: a new flavor is set on the instance (`_set_instance_info`) in the
        // same save as resize_finish.
        let new_flavor = self.cold_flow(op).new_flavor;
        let step = match new_flavor {
            Some(_) => Step::FinishResizeTaskNewFlavor,
            None => Step::FinishResizeTask,
        };
        self.change_server(s, Hop::Destination, step, Some(op), |srv| {
            srv.task_state = Some(TaskState::ResizeFinish);
            if let Some(f) = new_flavor {
                srv.flavor = f;
            }
        });
        if let Some(d) = dest {
            self.ops[op.index()].pending_fault = self.fault_for(FaultStep::FinishResize, op, d);
        }
        let d = self.draw(D::FinishMigration);
        self.after(d, Event::DstFinishMigration(op));
    }

    /// `driver.finish_migration` done (spec §4.1 steps 18–20, §4.4 second row).
    pub(super) fn dst_finish_migration(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.migration_of(op);
        let s = self.ops[op.index()].server;
        let dest = self.cloud.world.migration(m).dest;
        // Step 20 saves with expected_task_state resize_finish.
        let unexpected = self
            .unexpected_task(op, TaskState::ResizeFinish)
            .map(|msg| (FaultKind::Error, msg));
        if let Some((kind, msg)) = self.ops[op.index()].pending_fault.take().or(unexpected) {
            self.set_migration_status(
                m,
                MigrationStatus::Error,
                Hop::Destination,
                Step::FinishResizeMigrationError,
                Some(op),
            );
            // NotImplementedError / InstanceFaultRollback leave the instance active.
            let vm = match kind {
                FaultKind::Rollback => VmState::Active,
                FaultKind::Error | FaultKind::Unexpected => VmState::Error,
            };
            let preempted = self.ops[op.index()].preempted.take();
            self.change_server(
                s,
                Hop::Destination,
                Step::FinishResizeFailed,
                Some(op),
                |srv| {
                    srv.vm_state = vm;
                    srv.task_state = preempted;
                },
            );
            if self
                .scenario
                .release
                .has(Behaviour::FinishResizeFailureDropsSourceAllocation)
            {
                // `ComputeManager.finish_resize` (20.0.0 on): the source allocation is
                // deleted; the instance keeps its claim on DST.
                self.plc_delete(Consumer::Migration(m));
            } else {
                // Before 20.0.0 `finish_resize` called `_revert_allocation`: the allocation
                // goes back to the source while the instance's host is already DST.
                self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
                self.checker.servers_left_by_nova.insert(s);
            }
            self.event_finish(op, FINISH_EVENT, dest, EventResult::Error, &msg);
            self.complete(
                op,
                Outcome::Failure(format!("finish_resize: {msg} -> {}", vm.as_str())),
            );
            return;
        }
        // Step 19: the `finished` save starts the confirm window; step 20 is a separate save.
        self.set_migration_status(
            m,
            MigrationStatus::Finished,
            Hop::Destination,
            Step::FinishResizeMigrationFinished,
            Some(op),
        );
        let was_stopped = self.cloud.world.server(s).old_vm_state == Some(VmState::Stopped);
        self.cloud.world.servers[s.index()].power_state = if was_stopped {
            PowerState::Shutdown
        } else {
            PowerState::Running
        };
        self.change_server(
            s,
            Hop::Destination,
            Step::FinishResizeResized,
            Some(op),
            |srv| {
                srv.vm_state = VmState::Resized;
                srv.task_state = None;
                srv.launched = true;
            },
        );
        self.event_finish(op, FINISH_EVENT, dest, EventResult::Success, "");
        self.complete(op, Outcome::Success);
    }
}
