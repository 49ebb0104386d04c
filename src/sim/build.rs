//! Server create and delete: the demand side of a capacity what-if. Scheduled by the same
//! scheduler; building → active after a boot time (README, Fidelity: no build reschedule).

use super::resize::CONFIRM_EVENT;
use super::{Event, Flow, Op, OpId, Sim, D};
use crate::config::FaultStep;
use crate::model::{
    ActionName, Consumer, EventName, EventResult, FlavorId, HostId, MigrationId, MigrationStatus,
    PowerState, Server, ServerId, TaskState, VmState,
};
use crate::scheduler::{NoValidHost, SelectRequest};
use crate::trace::pipe::TraceMsg;
use crate::trace::Outcome;
use crate::vocab::{Exception, Hop, Purpose, Step};
use std::sync::Arc;

impl Sim {
    /// Adds a server to the world with its first transitions row.
    pub(super) fn add_server(
        &mut self,
        server: Server,
        hop: Hop,
        step: Step,
        op: Option<OpId>,
    ) -> ServerId {
        let name = server.name.clone();
        let id = self.add_server_unnamed(server, hop, step, op);
        self.cloud.world.server_names.insert(name, id);
        id
    }

    /// [`Sim::add_server`] but for the name index (`World::server_names`), which the caller
    /// keeps.
    pub(super) fn add_server_unnamed(
        &mut self,
        server: Server,
        hop: Hop,
        step: Step,
        op: Option<OpId>,
    ) -> ServerId {
        let id = ServerId(self.cloud.world.servers.len() as u32);
        self.send_trace(TraceMsg::ServerName(id, server.name.clone()));
        self.metrics.status_counts[server.status().index()] += 1;
        if let Some(h) = server.host {
            self.cloud.world.io_ops[h.index()] += Self::io_weight(&server);
            self.cloud.world.num_instances[h.index()] += 1;
            self.cloud.world.servers_on_host[h.index()].insert(id);
        }
        let host = server.host;
        self.cloud.world.servers.push(server);
        if let Some(h) = host {
            self.refresh_index(h);
        }
        self.trace_server(id, op, hop, step);
        id
    }

    /// `POST /servers` accepted (202): the instance is BUILD / scheduling.
    pub(super) fn accept_create(
        &mut self,
        request: u32,
        name: Arc<str>,
        flavor: FlavorId,
        availability_zone: Option<String>,
        project: Arc<str>,
        volume_backed: bool,
    ) {
        let request_id = self.request_id_of(request);
        let server = Server {
            name,
            project: project.clone(),
            flavor,
            host: None,
            vm_state: VmState::Building,
            task_state: Some(TaskState::Scheduling),
            power_state: PowerState::NoState,
            locked: false,
            launched: false,
            old_vm_state: None,
            availability_zone: availability_zone.clone(),
            requested_az: availability_zone,
            migration: None,
            volume_backed,
        };
        // The operation exists first so that the server's first row carries its request id.
        let id = ServerId(self.cloud.world.servers.len() as u32);
        let op = self.begin_op(
            Op::new(Flow::Create, Some(request), request_id, id),
            Some((ActionName::Create, Some(project))),
        );
        self.add_server(server, Hop::Api, Step::CreateApi, Some(op));
        let d = self.draw(D::Conductor);
        self.after(d, Event::ConBuild(op));
    }

    /// CON `schedule_and_build_instances`: SCH round trip with the claim, then cast to the host.
    pub(super) fn con_build(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let s = self.ops[op.index()].server;
        let srv = self.cloud.world.server(s);
        let resources = self.cloud.world.flavor(srv.flavor).resources();
        let az = srv.requested_az.clone();
        let req = SelectRequest {
            resources,
            ignore_hosts: &[],
            requested_host: None,
            availability_zone: az.as_deref(),
            num_alternates: 0,
            host_subset_size: self.scenario.nova.host_subset_size as usize,
        };
        let result = self.schedule(op, s, Purpose::Create, &req);
        match result {
            Ok(sel) if self.plc_claim(Consumer::Instance(s), sel.selected, resources) => {
                let d = self.draw(D::Scheduler)
                    + self.draw(D::Placement)
                    + self.draw(D::Placement)
                    + self.draw(D::Conductor)
                    + self.draw(D::Compute);
                self.after(d, Event::CmpBuild(op, sel.selected));
            }
            other => {
                let reason = other
                    .err()
                    .map_or(NoValidHost::NoCandidates.message(), |e| e.message());
                let reason = reason.trim_end().to_string();
                self.change_server(s, Hop::Conductor, Step::BuildNoValidHost, Some(op), |srv| {
                    srv.vm_state = VmState::Error;
                    srv.task_state = None;
                });
                self.complete(op, Outcome::raised(Exception::NoValidHost, &reason));
            }
        }
    }

    /// Compute `build_and_run_instance`: spawning on the host.
    pub(super) fn cmp_build(&mut self, op: OpId, host: HostId) {
        if self.server_gone(op) {
            return;
        }
        let s = self.ops[op.index()].server;
        self.event_start(op, EventName::ComputeBuildAndRunInstance, Some(host));
        self.change_server(s, Hop::Compute, Step::BuildSpawning, Some(op), |srv| {
            srv.host = Some(host);
            srv.task_state = Some(TaskState::Spawning);
        });
        self.ops[op.index()].pending_fault = self.fault_for(FaultStep::Boot, op, host);
        let d = self.draw(D::Boot);
        self.after(d, Event::CmpBuildDone(op, host));
    }

    pub(super) fn cmp_build_done(&mut self, op: OpId, host: HostId) {
        if self.server_gone(op) {
            return;
        }
        let s = self.ops[op.index()].server;
        if let Some((_, msg)) = self.ops[op.index()].pending_fault.take() {
            self.change_server(s, Hop::Compute, Step::BuildFailed, Some(op), |srv| {
                srv.vm_state = VmState::Error;
                srv.task_state = None;
            });
            self.plc_delete(Consumer::Instance(s));
            self.event_finish(
                op,
                EventName::ComputeBuildAndRunInstance,
                Some(host),
                EventResult::Error,
                &msg,
            );
            self.complete(op, Outcome::Failure(format!("build: {msg} -> error")));
            return;
        }
        self.cloud.world.servers[s.index()].power_state = PowerState::Running;
        self.change_server(s, Hop::Compute, Step::BuildActive, Some(op), |srv| {
            srv.vm_state = VmState::Active;
            srv.task_state = None;
            srv.launched = true;
        });
        self.event_finish(
            op,
            EventName::ComputeBuildAndRunInstance,
            Some(host),
            EventResult::Success,
            "",
        );
        self.complete(op, Outcome::Success);
    }

    /// `DELETE /servers/{id}` accepted (204): task deleting, then the host deletes it; a server
    /// without a host is deleted locally by the API.
    /// The migration a delete of `server` confirms first: `API._delete` calls
    /// `_confirm_resize_on_deleting` for a server in vm_state resized, which looks for its
    /// migration in `finished`, then `confirming`.
    pub(super) fn confirms_on_delete(&self, server: ServerId) -> Option<MigrationId> {
        let srv = self.cloud.world.server(server);
        let m = srv.migration?;
        let status = self.cloud.world.migration(m).status;
        (srv.vm_state == VmState::Resized
            && srv.host.is_some()
            && matches!(
                status,
                MigrationStatus::Finished | MigrationStatus::Confirming
            ))
        .then_some(m)
    }

    pub(super) fn accept_delete(&mut self, request: u32, server: ServerId, project: Arc<str>) {
        let request_id = self.request_id_of(request);
        if let Some(m) = self.confirms_on_delete(server) {
            // The API saves task_state deleting, records `confirmResize` and *calls* the
            // source's confirm_resize (cast=False); the delete action and the answer wait.
            let op = self.begin_op(
                Op::new(Flow::Delete, Some(request), request_id, server),
                None,
            );
            self.change_server(server, Hop::Api, Step::DeleteApi, Some(op), |srv| {
                srv.task_state = Some(TaskState::Deleting);
            });
            let confirm = self.begin_op(
                Op {
                    migration: Some(m),
                    ..Op::new(Flow::Confirm, None, request_id, server)
                },
                Some((ActionName::ConfirmResize, Some(project))),
            );
            let d = self.draw(D::Compute);
            self.after(d, Event::SrcConfirmOnDeleting(op, confirm));
            return;
        }
        let op = self.begin_op(
            Op::new(Flow::Delete, Some(request), request_id, server),
            Some((ActionName::Delete, Some(project))),
        );
        self.change_server(server, Hop::Api, Step::DeleteApi, Some(op), |srv| {
            srv.task_state = Some(TaskState::Deleting);
        });
        match self.cloud.world.server(server).host {
            Some(h) => {
                let d = self.draw(D::Compute);
                self.after(d, Event::CmpDelete(op, h));
            }
            None => self.finish_delete(op, Hop::Api),
        }
    }

    /// SRC `confirm_resize` for the delete: the old guest is destroyed
    /// (`driver.confirm_migration`). No fault is injected here (README, Fidelity).
    pub(super) fn src_confirm_on_deleting(&mut self, op: OpId, confirm: OpId) {
        let m = self.ops[confirm.index()]
            .migration
            .unwrap_or(MigrationId(0));
        let source = self.cloud.world.migration(m).source;
        self.event_start(confirm, CONFIRM_EVENT, Some(source));
        let d = self.draw(D::ConfirmMigration);
        self.after(d, Event::SrcConfirmOnDeletingDone(op, confirm));
    }

    /// `ComputeManager._confirm_resize` done: migration confirmed, the source allocation
    /// deleted, and the instance saved with its pre-resize vm_state and task_state None
    /// (its save accepts an expected task_state of deleting), then the call returns.
    pub(super) fn src_confirm_on_deleting_done(&mut self, op: OpId, confirm: OpId) {
        let m = self.ops[confirm.index()]
            .migration
            .unwrap_or(MigrationId(0));
        let s = self.ops[op.index()].server;
        let source = self.cloud.world.migration(m).source;
        self.confirmed_on_source(op, m, s);
        self.event_finish(
            confirm,
            CONFIRM_EVENT,
            Some(source),
            EventResult::Success,
            "",
        );
        let d = self.draw(D::Compute);
        self.after(d, Event::ApiDeleteAfterConfirm(op));
    }

    /// Back in `API._delete`: the `delete` action, the answer, and the cast to the host.
    pub(super) fn api_delete_after_confirm(&mut self, op: OpId) {
        let s = self.ops[op.index()].server;
        let now = self.now();
        let project = self.cloud.world.server(s).project.clone();
        let request_id = self.ops[op.index()].request_id;
        let action = self.cloud.world.actions.start_owned_action(
            op.0,
            s,
            ActionName::Delete,
            request_id,
            Some(project),
            now,
        );
        self.ops[op.index()].action = Some(action);
        self.answer_deferred(op, 204, "");
        match self.cloud.world.server(s).host {
            Some(h) => {
                let d = self.draw(D::Compute);
                self.after(d, Event::CmpDelete(op, h));
            }
            None => self.finish_delete(op, Hop::Api),
        }
    }

    pub(super) fn cmp_delete(&mut self, op: OpId, host: HostId) {
        let d = self.draw(D::Delete);
        self.after(d, Event::CmpDeleteDone(op, host));
    }

    pub(super) fn cmp_delete_done(&mut self, op: OpId, _host: HostId) {
        self.finish_delete(op, Hop::Compute);
    }

    /// The server is gone: its allocations (instance and any move in progress) are deleted; a
    /// resize awaiting confirmation is confirmed as part of the delete
    /// (`API._confirm_resize_on_deleting`).
    fn finish_delete(&mut self, op: OpId, hop: Hop) {
        let s = self.ops[op.index()].server;
        if let Some(m) = self.cloud.world.server(s).migration {
            let status = self.cloud.world.migration(m).status;
            let next = if status == MigrationStatus::Finished {
                MigrationStatus::Confirmed
            } else {
                MigrationStatus::Error
            };
            if !status.is_terminal() {
                self.set_migration_status(m, next, hop, Step::DeleteMoveEnded, Some(op));
            }
            self.plc_delete(Consumer::Migration(m));
        }
        self.change_server(s, hop, Step::DeleteDone, Some(op), |srv| {
            srv.vm_state = VmState::Deleted;
            srv.task_state = None;
            srv.migration = None;
        });
        self.plc_delete(Consumer::Instance(s));
        self.complete(op, Outcome::Success);
    }
}
