//! Server create and delete: the demand side of a capacity what-if. Scheduled by the same
//! scheduler; building → active after a boot time (README, Fidelity: no build reschedule).

use super::{Event, Flow, Op, OpId, Sim, D};
use crate::config::FaultStep;
use crate::model::{
    Consumer, EventResult, FlavorId, HostId, MigrationStatus, PowerState, Server, ServerId,
    TaskState, VmState,
};
use crate::scheduler::{NoValidHost, SelectRequest};
use crate::trace::{Hop, Outcome, Step};
use std::sync::Arc;

impl Sim {
    /// Adds a server to the world with its first transitions row.
    pub(super) fn add_server<'a>(
        &mut self,
        server: Server,
        hop: Hop,
        step: impl Into<Step<'a>>,
        op: Option<OpId>,
    ) -> ServerId {
        let id = ServerId(self.cloud.world.servers.len() as u32);
        self.cloud
            .world
            .server_names
            .insert(server.name.clone(), id);
        self.metrics.status_counts[server.status().index()] += 1;
        if let Some(h) = server.host {
            self.cloud.world.io_ops[h.index()] += Self::io_weight(&server);
            self.cloud.world.num_instances[h.index()] += 1;
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
            Some(("create", Some(project))),
        );
        self.add_server(server, Hop::Api, "create: vm_state building", Some(op));
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
        let result = self.schedule(op, s, "create", &req);
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
                self.change_server(
                    s,
                    Hop::Conductor,
                    "schedule_and_build_instances: NoValidHost",
                    Some(op),
                    |srv| {
                        srv.vm_state = VmState::Error;
                        srv.task_state = None;
                    },
                );
                self.complete(op, Outcome::Failure(format!("NoValidHost: {reason}")));
            }
        }
    }

    /// Compute `build_and_run_instance`: spawning on the host.
    pub(super) fn cmp_build(&mut self, op: OpId, host: HostId) {
        if self.server_gone(op) {
            return;
        }
        let s = self.ops[op.index()].server;
        self.event_start(op, "compute__do_build_and_run_instance", Some(host));
        self.change_server(
            s,
            Hop::Compute,
            "build_and_run_instance: task_state spawning",
            Some(op),
            |srv| {
                srv.host = Some(host);
                srv.task_state = Some(TaskState::Spawning);
            },
        );
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
            self.change_server(s, Hop::Compute, "build failed", Some(op), |srv| {
                srv.vm_state = VmState::Error;
                srv.task_state = None;
            });
            self.plc_delete(Consumer::Instance(s));
            self.event_finish(
                op,
                "compute__do_build_and_run_instance",
                Some(host),
                EventResult::Error,
                &msg,
            );
            self.complete(op, Outcome::Failure(format!("build: {msg} -> error")));
            return;
        }
        self.cloud.world.servers[s.index()].power_state = PowerState::Running;
        self.change_server(
            s,
            Hop::Compute,
            "build_and_run_instance: active",
            Some(op),
            |srv| {
                srv.vm_state = VmState::Active;
                srv.task_state = None;
                srv.launched = true;
            },
        );
        self.event_finish(
            op,
            "compute__do_build_and_run_instance",
            Some(host),
            EventResult::Success,
            "",
        );
        self.complete(op, Outcome::Success);
    }

    /// `DELETE /servers/{id}` accepted (204): task deleting, then the host deletes it; a server
    /// without a host is deleted locally by the API.
    pub(super) fn accept_delete(&mut self, request: u32, server: ServerId, project: Arc<str>) {
        let request_id = self.request_id_of(request);
        let op = self.begin_op(
            Op::new(Flow::Delete, Some(request), request_id, server),
            Some(("delete", Some(project))),
        );
        self.change_server(
            server,
            Hop::Api,
            "delete: task_state deleting",
            Some(op),
            |srv| {
                srv.task_state = Some(TaskState::Deleting);
            },
        );
        match self.cloud.world.server(server).host {
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
                self.set_migration_status(m, next, hop, "delete: move ended", Some(op));
            }
            self.plc_delete(Consumer::Migration(m));
        }
        self.change_server(s, hop, "delete: vm_state deleted", Some(op), |srv| {
            srv.vm_state = VmState::Deleted;
            srv.task_state = None;
            srv.migration = None;
        });
        self.plc_delete(Consumer::Instance(s));
        self.complete(op, Outcome::Success);
    }
}
