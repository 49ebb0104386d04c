//! Live migration (spec §3.2, §4.8–§4.11, §5.1, §8.2, §10.2): the conductor's
//! `LiveMigrationTask` with its destination loop and `migrate_max_retries`, the destination and
//! source pre-checks, the per-source executor, pre_live_migration, the transfer, post-migration
//! and every rollback.

use super::{Event, Flow, Op, OpId, Sim, D};
use crate::config::{Behaviour, FaultKind, FaultStep};
use crate::engine::{Duration, TimerKey};
use crate::model::transfer::{self, TransferEnd, TransferInput};
use crate::model::{
    ActionName, Consumer, EventName, EventResult, HostId, Migration, MigrationId, MigrationStatus,
    MigrationType, PowerState, ServerId, TaskState, VmState,
};
use crate::scheduler::{NoValidHost, SelectRequest};
use crate::trace::Outcome;
use crate::vocab::{Exception, Hop, Purpose, RollbackCause, Step};
use std::sync::Arc;

const CHECK_DEST_EVENT: EventName = EventName::ComputeCheckCanLiveMigrateDestination;
const CHECK_SRC_EVENT: EventName = EventName::ComputeCheckCanLiveMigrateSource;
const LIVE_EVENT: EventName = EventName::ComputeLiveMigration;
const PRE_EVENT: EventName = EventName::ComputePreLiveMigration;
const POST_DEST_EVENT: EventName = EventName::ComputePostLiveMigrationAtDestination;
const ROLLBACK_DEST_EVENT: EventName = EventName::ComputeRollbackLiveMigrationAtDestination;

/// How a libvirt job ended (§4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    Completed,
    /// Job FAILED (transfer error) ⇒ `failed`.
    Failed,
    /// Job CANCELLED by `live_migration_completion_timeout` with action abort ⇒ `cancelled`.
    TimedOut,
    /// Job CANCELLED by `live_migration_abort` (the API's abort) ⇒ `cancelled`.
    Aborted,
}

/// Where a live migration is once the conductor has cast it to the source (§4.8 steps 10–20).
/// The abort API acts by phase, as Nova's `ComputeManager.live_migration_abort` does; a job
/// holds an executor slot from `Preparing` to `Post`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LivePhase {
    /// API and conductor: checks and the destination loop; not yet on the source.
    #[default]
    Conductor,
    /// In the source's executor queue (`_waiting_live_migrations`), no slot held.
    Queued,
    /// `_do_live_migration`: pre_live_migration and the VIF-plug wait.
    Preparing,
    /// Preparing, and an abort popped the job from `_waiting_live_migrations`: it rolls back
    /// with `cancelled` at the check after pre_live_migration (§4.8 step 14).
    AbortRequested,
    /// The libvirt job runs; `job` is its planned end (`None`: it never converges).
    Running { job: Option<TimerKey> },
    /// The job switched to post-copy.
    PostCopy { job: Option<TimerKey> },
    /// The job completed: `_post_live_migration` and the destination's post step. No libvirt
    /// job is left to abort.
    Post,
    /// Completed, rolled back or cut short; no slot held.
    Ended,
}

impl LivePhase {
    fn holds_slot(self) -> bool {
        matches!(
            self,
            LivePhase::Preparing
                | LivePhase::AbortRequested
                | LivePhase::Running { .. }
                | LivePhase::PostCopy { .. }
                | LivePhase::Post
        )
    }

    /// The pending end of the libvirt job.
    fn job(self) -> Option<TimerKey> {
        match self {
            LivePhase::Running { job } | LivePhase::PostCopy { job } => job,
            _ => None,
        }
    }
}

/// A failed live-migration check on a compute, as it travels back to the conductor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub class: Exception,
    pub message: String,
    /// An exception outside the conductor's known list (vm_state error, HTTP 500).
    pub unexpected: bool,
}

/// Why the conductor's task failed (§4.9, §5.1).
#[derive(Debug, Clone)]
pub struct PreCheckFailure {
    pub class: Exception,
    pub message: String,
    /// An exception outside `_live_migrate`'s known list: vm_state error, HTTP 500.
    pub unexpected: bool,
}

impl Sim {
    fn conductor_event(&self, op: OpId) -> EventName {
        if self.ops[op.index()].sync() {
            EventName::ConductorMigrateServer
        } else {
            EventName::ConductorLiveMigrateInstance
        }
    }

    fn live_migration(&self, op: OpId) -> MigrationId {
        match self.ops[op.index()].migration {
            Some(m) => m,
            None => {
                unreachable!("live-migration steps run after the conductor created the migration")
            }
        }
    }

    /// API side of `os-migrateLive` after its checks (spec §3.2 side effects, §4.8 step 1).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn accept_live_migrate(
        &mut self,
        request: u32,
        server: ServerId,
        requested_host: Option<HostId>,
        forced: bool,
        block_migration: Option<bool>,
        sync: bool,
        project: Arc<str>,
    ) {
        let request_id = self.request_id_of(request);
        // "auto" ⇒ the driver decides from the shared-storage checks.
        // A volume-backed server has its disk on shared storage whatever the computes share.
        let shared =
            self.scenario.live.shared_storage || self.cloud.world.server(server).volume_backed;
        let block = block_migration.unwrap_or(!shared);
        let op = self.begin_op(
            Op::new(
                Flow::LiveMigration(super::LiveMigration {
                    requested_host,
                    forced,
                    block_migration: block,
                    sync,
                    ..Default::default()
                }),
                Some(request),
                request_id,
                server,
            ),
            Some((ActionName::LiveMigration, Some(project))),
        );
        self.change_server(server, Hop::Api, Step::LiveMigrateApi, Some(op), |s| {
            s.task_state = Some(TaskState::Migrating);
        });
        let d = self.draw(D::Conductor);
        self.after(d, Event::ConLiveMigrate(op));
    }

    /// CON `live_migrate_instance` / `migrate_server` → `LiveMigrationTask._execute` (§4.8
    /// steps 2–5).
    pub(super) fn con_live_migrate(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let ev = self.conductor_event(op);
        self.event_start(op, ev, None);
        let s = self.ops[op.index()].server;
        let srv = self.cloud.world.server(s);
        let (Some(source), flavor, power) = (srv.host, srv.flavor, srv.power_state) else {
            self.complete(op, Outcome::raised(Exception::InstanceNotReady, ""));
            return;
        };
        let live = self.live_flow(op);
        let forced_dest = if live.forced {
            live.requested_host
        } else {
            None
        };
        let now = self.now();
        let m = MigrationId(self.cloud.world.migrations.len() as u32);
        self.cloud.world.migrations.push(Migration {
            server: s,
            kind: MigrationType::LiveMigration,
            source,
            dest: forced_dest,
            status: MigrationStatus::Accepted,
            old_flavor: flavor,
            new_flavor: flavor,
            request: self.ops[op.index()].request_id,
            created_at: now,
            updated_at: now,
        });
        self.ops[op.index()].migration = Some(m);
        self.live_flow(op).attempted = vec![source];
        self.cloud.world.servers[s.index()].migration = Some(m);
        self.trace_server(s, Some(op), Hop::Conductor, Step::LiveMigrateCreated);
        // Step 4: power state, then the source service.
        if !matches!(power, PowerState::Running | PowerState::Paused) {
            let name = self.cloud.world.server(s).name.clone();
            return self.live_precheck_failed(
                op,
                PreCheckFailure {
                    class: Exception::InstanceInvalidState,
                    message: format!(
                        "Instance {name} in power_state shutdown. Cannot live migrate while the instance is in this state."
                    ),
                    unexpected: false,
                },
            );
        }
        if !self.cloud.world.service_up(source) {
            let host = self.cloud.world.host(source).name.clone();
            return self.live_precheck_failed(
                op,
                PreCheckFailure {
                    class: Exception::ComputeServiceUnavailable,
                    message: format!("Compute service of {host} is unavailable at this time."),
                    unexpected: false,
                },
            );
        }
        // Step 5: the source allocation now belongs to the migration.
        self.plc_move(Consumer::Instance(s), Consumer::Migration(m));
        match forced_dest {
            Some(dest) => self.con_live_forced(op, dest),
            None => self.con_live_next_attempt(op),
        }
    }

    /// §4.8 step 6b / §8.2: the forced destination, no scheduler and no retry.
    fn con_live_forced(&mut self, op: OpId, dest: HostId) {
        let s = self.ops[op.index()].server;
        let source = self.live_flow(op).attempted[0];
        let fail = |class: Exception, message: String| PreCheckFailure {
            class,
            message,
            unexpected: false,
        };
        let dname = self.cloud.world.host(dest).name.clone();
        if dest == source {
            let name = self.cloud.world.server(s).name.clone();
            return self.live_precheck_failed(
                op,
                fail(
                    Exception::UnableToMigrateToSelf,
                    format!("Unable to migrate instance ({name}) to current host ({dname})."),
                ),
            );
        }
        // A disabled but up host is accepted; a down one is not.
        if !self.cloud.world.service_up(dest) {
            return self.live_precheck_failed(
                op,
                fail(
                    Exception::ComputeServiceUnavailable,
                    format!("Compute service of {dname} is unavailable at this time."),
                ),
            );
        }
        let resources = self
            .cloud
            .world
            .flavor(self.cloud.world.server(s).flavor)
            .resources();
        let free = self.cloud.world.placement.free(dest);
        if free.memory_mb < resources.memory_mb {
            return self.live_precheck_failed(op, fail(Exception::MigrationPreCheckError, format!("Migration pre-check error: Unable to migrate {}: lack of memory on {dname}", self.cloud.world.server(s).name)));
        }
        // The claim copies the source allocation onto the destination.
        let delay = self.draw(D::Placement);
        if !self.plc_claim(Consumer::Instance(s), dest, resources) {
            return self.live_precheck_failed(op, fail(Exception::NoValidHost, format!("No valid host was found. Unable to move instance {} to host {dname}. There is not enough capacity on the host for the instance.", self.cloud.world.server(s).name)));
        }
        self.after(delay, Event::ConLiveChecks(op, dest));
    }

    /// One turn of `_find_destination` (§5.1 step 2): the retry guard, then the scheduler.
    fn con_live_next_attempt(&mut self, op: OpId) {
        let max = self.scenario.nova.migrate_max_retries;
        let tried = self.live_flow(op).attempted.len() as i64 - 1;
        if max != -1 && tried > max {
            let m = self.live_migration(op);
            self.set_migration_status(
                m,
                MigrationStatus::Failed,
                Hop::Conductor,
                Step::FindDestinationMaxRetries,
                Some(op),
            );
            let name = self.op_server_name(op);
            return self.live_precheck_failed(
                op,
                PreCheckFailure {
                    class: Exception::MaxRetriesExceeded,
                    // `_check_not_over_max_retries`: retries = len(attempted_hosts) − 1, the
                    // source included, inside MaxRetriesExceeded's own "Exceeded maximum
                    // number of retries. %(reason)s".
                    message: format!("Exceeded maximum number of retries. Exceeded max scheduling retries {tried} for instance {name} during live migration"),
                    unexpected: false,
                },
            );
        }
        let d = self.draw(D::Placement) + self.draw(D::Scheduler);
        self.after(d, Event::SchLiveSelect(op));
    }

    /// SCH `select_destinations(return_alternates=False)` for a live migration.
    pub(super) fn sch_live_select(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let (s, requested_host) = (
            self.ops[op.index()].server,
            self.live_flow(op).requested_host,
        );
        let srv = self.cloud.world.server(s);
        let resources = self.cloud.world.flavor(srv.flavor).resources();
        let az = srv.requested_az.clone();
        let ignore = self.live_flow(op).attempted.clone();
        let req = SelectRequest {
            resources,
            ignore_hosts: &ignore,
            requested_host,
            availability_zone: az.as_deref(),
            num_alternates: 0,
            host_subset_size: self.scenario.nova.host_subset_size as usize,
        };
        let result = self.schedule(op, s, Purpose::LiveMigrate, &req);
        let mut delay = self.draw(D::Placement);
        match result {
            Ok(sel) if self.plc_claim(Consumer::Instance(s), sel.selected, resources) => {
                delay = delay + self.draw(D::Placement) + self.draw(D::Conductor);
                self.after(delay, Event::ConLiveChecks(op, sel.selected));
            }
            other => {
                let reason = other
                    .err()
                    .map_or(NoValidHost::NoCandidates.message(), |e| e.message());
                let d = delay + self.draw(D::Conductor);
                self.after(
                    d,
                    Event::ConLiveFailed(
                        op,
                        Box::new(PreCheckFailure {
                            class: Exception::NoValidHost,
                            message: reason.trim_end().to_string(),
                            unexpected: false,
                        }),
                    ),
                );
            }
        }
    }

    /// CON on the chosen host: hypervisor compatibility from the DB, then the DST check call
    /// (§4.8 step 6a).
    pub(super) fn con_live_checks(&mut self, op: OpId, dest: HostId) {
        if self.server_gone(op) {
            return;
        }
        let source = self.live_flow(op).attempted[0];
        let (src, dst) = (self.cloud.world.host(source), self.cloud.world.host(dest));
        let failure = if src.hypervisor_type != dst.hypervisor_type {
            Some((
                Exception::InvalidHypervisorType,
                "The supplied hypervisor type of is invalid.".to_string(),
            ))
        } else if src.hypervisor_version > dst.hypervisor_version {
            Some((
                Exception::DestinationHypervisorTooOld,
                "The instance requires a newer hypervisor version than has been provided."
                    .to_string(),
            ))
        } else {
            None
        };
        match failure {
            Some((class, message)) => {
                self.con_live_check_result(op, dest, Err((class, message, false)))
            }
            None => {
                let d = self.draw(D::Compute);
                self.after(d, Event::DstCheckCanLiveMigrateDestination(op, dest));
            }
        }
    }

    /// DST `check_can_live_migrate_destination`: its own checks, then a call to SRC.
    pub(super) fn dst_check_destination(&mut self, op: OpId, dest: HostId) {
        self.event_start(op, CHECK_DEST_EVENT, Some(dest));
        if let Some((kind, msg)) =
            self.fault_for(FaultStep::CheckCanLiveMigrateDestination, op, dest)
        {
            self.event_finish(op, CHECK_DEST_EVENT, Some(dest), EventResult::Error, &msg);
            let d = self.draw(D::Conductor);
            let failure = CheckFailure {
                class: Exception::MigrationPreCheckError,
                message: msg,
                unexpected: kind == FaultKind::Unexpected,
            };
            self.after(
                d,
                Event::ConLiveCheckResult(op, dest, Some(Box::new(failure))),
            );
            return;
        }
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcCheckCanLiveMigrateSource(op, dest));
    }

    /// SRC `check_can_live_migrate_source`, answering DST: the libvirt driver's storage checks
    /// (`LibvirtDriver.check_can_live_migrate_source`: a block migration with the instance
    /// path on shared storage raises InvalidLocalStorage; a non-block one with neither shared
    /// storage nor boot-from-volume raises InvalidSharedStorage), then any injected fault.
    pub(super) fn src_check_source(&mut self, op: OpId, dest: HostId) {
        let source = self.live_flow(op).attempted[0];
        self.event_start(op, CHECK_SRC_EVENT, Some(source));
        let source_name = self.cloud.world.host(source).name.clone();
        // `is_on_shared_storage()`: a shared instance path, or a volume-backed server with no
        // local disk (`is_shared_block_storage`).
        let s = self.ops[op.index()].server;
        let shared = self.scenario.live.shared_storage || self.cloud.world.server(s).volume_backed;
        let failure = match (self.live_flow(op).block_migration, shared) {
            (true, true) => Some(CheckFailure {
                class: Exception::InvalidLocalStorage,
                message: format!(
                    "{source_name} is not on local storage: Block migration can not be used with shared storage."
                ),
                unexpected: false,
            }),
            (false, false) => Some(CheckFailure {
                class: Exception::InvalidSharedStorage,
                message: format!(
                    "{source_name} is not on shared storage: Shared storage live-migration requires either shared storage or boot-from-volume with no local disks."
                ),
                unexpected: false,
            }),
            _ => self
                .fault_for(FaultStep::CheckCanLiveMigrateSource, op, source)
                .map(|(kind, message)| CheckFailure {
                    class: Exception::MigrationPreCheckError,
                    message,
                    unexpected: kind == FaultKind::Unexpected,
                }),
        };
        let (result, msg) = match &failure {
            Some(f) => (EventResult::Error, f.message.as_str()),
            None => (EventResult::Success, ""),
        };
        self.event_finish(op, CHECK_SRC_EVENT, Some(source), result, msg);
        let d = self.draw(D::Compute);
        self.after(
            d,
            Event::DstCheckSourceReturned(op, dest, failure.map(Box::new)),
        );
    }

    /// DST gets SRC's answer. Before 33.0.0 the source's exception reaches the conductor as
    /// itself (a storage check's InvalidLocalStorage/InvalidSharedStorage is not an `Invalid`:
    /// `_find_destination` does not skip the host, `_live_migrate` fails the migration). From
    /// 33.0.0 (commit dc51a4271b, bug 2044235) `ComputeManager.check_can_live_migrate_destination`
    /// wraps any source failure into a MigrationPreCheckError, so the conductor tries another
    /// host. An injected source fault stands for a MigrationPreCheckError in every release.
    pub(super) fn dst_check_source_returned(
        &mut self,
        op: OpId,
        dest: HostId,
        failure: Option<Box<CheckFailure>>,
    ) {
        let source = self.live_flow(op).attempted[0];
        let failure = failure.map(|f| {
            let wrapped = self.scenario.release.has(Behaviour::SourceCheckFailureWrapped);
            match f.class {
                _ if wrapped => Box::new(CheckFailure {
                    class: Exception::MigrationPreCheckError,
                    message: format!(
                        "Migration pre-check error: Error while check_can_live_migrate_source from {} to host {}: {} {}",
                        self.cloud.world.host(source).name,
                        self.cloud.world.host(dest).name,
                        f.class.name(),
                        f.message
                    ),
                    unexpected: false,
                }),
                Exception::MigrationPreCheckError => Box::new(CheckFailure {
                    message: format!("Migration pre-check error: {}", f.message),
                    ..*f
                }),
                _ => f,
            }
        });
        let (result, msg) = match &failure {
            Some(f) => (EventResult::Error, f.message.as_str()),
            None => (EventResult::Success, ""),
        };
        self.event_finish(op, CHECK_DEST_EVENT, Some(dest), result, msg);
        let d = self.draw(D::Conductor);
        self.after(d, Event::ConLiveCheckResult(op, dest, failure));
    }

    /// CON gets the check result (§5.1 step 2.3).
    pub(super) fn con_live_check_result_event(
        &mut self,
        op: OpId,
        dest: HostId,
        failure: Option<Box<CheckFailure>>,
    ) {
        if self.server_gone(op) {
            return;
        }
        let r = match failure {
            None => Ok(()),
            Some(f) => Err((f.class, f.message, f.unexpected)),
        };
        self.con_live_check_result(op, dest, r);
    }

    fn con_live_check_result(
        &mut self,
        op: OpId,
        dest: HostId,
        result: Result<(), (Exception, String, bool)>,
    ) {
        let s = self.ops[op.index()].server;
        match result {
            Ok(()) => {
                // Steps 7–9: AZ, the migration's destination, cast to SRC, event Success.
                let m = self.live_migration(op);
                let az = self.cloud.world.host(dest).availability_zone.clone();
                self.cloud.world.servers[s.index()].availability_zone = Some(az);
                self.cloud.world.migrations[m.index()].dest = Some(dest);
                self.cloud.world.migrations[m.index()].updated_at = self.now();
                let ev = self.conductor_event(op);
                self.event_finish(op, ev, None, EventResult::Success, "");
                if self.ops[op.index()].sync() {
                    self.answer_deferred(op, 202, "");
                }
                let d = self.draw(D::Compute);
                self.after(d, Event::SrcLiveMigration(op));
            }
            Err((class, message, unexpected)) if unexpected => self.live_precheck_failed(
                op,
                PreCheckFailure {
                    class,
                    message,
                    unexpected,
                },
            ),
            Err((class, message, _)) => {
                // `_find_destination` skips a host for an `Invalid` or a MigrationPreCheckError
                // (drop the claim, try the next host); any other class fails the task, whose
                // rollback drops the claim too.
                self.plc_delete(Consumer::Instance(s));
                self.live_flow(op).attempted.push(dest);
                if self.live_flow(op).forced || !class.skips_host() {
                    return self.live_precheck_failed(
                        op,
                        PreCheckFailure {
                            class,
                            message,
                            unexpected: false,
                        },
                    );
                }
                self.con_live_next_attempt(op);
            }
        }
    }

    /// `_live_migrate` exception handling (§4.9 / §4.10): allocation back to the instance,
    /// vm_state unchanged (error for unexpected exceptions), task None, migration error,
    /// conductor event Error; a synchronous caller gets 400/409/500.
    pub(super) fn live_precheck_failed(&mut self, op: OpId, f: PreCheckFailure) {
        let m = self.live_migration(op);
        let s = self.ops[op.index()].server;
        if self
            .cloud
            .world
            .placement
            .allocation(Consumer::Migration(m))
            .is_some()
        {
            self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
        }
        let unexpected = f.unexpected;
        self.change_server(
            s,
            Hop::Conductor,
            Step::LivePreCheckFailed,
            Some(op),
            |srv| {
                if unexpected {
                    srv.vm_state = VmState::Error;
                }
                srv.task_state = None;
                srv.end_migration(m);
            },
        );
        self.set_migration_status(
            m,
            MigrationStatus::Error,
            Hop::Conductor,
            Step::LiveMigrateMigrationError,
            Some(op),
        );
        let ev = self.conductor_event(op);
        // The event's details are the exception's message, without its class
        // (`InstanceActionEvent.pack_action_event_finish` → `exception_to_dict`).
        self.event_finish(op, ev, None, EventResult::Error, &f.message);
        if self.ops[op.index()].sync() {
            let code = if unexpected {
                500
            } else {
                f.class.live_migrate_http_code()
            };
            self.answer_deferred(op, code, &f.message);
        }
        self.complete(op, Outcome::raised(f.class, &f.message));
    }

    // ------------------------------------------------------------------ compute side

    /// SRC `live_migration`: the job goes to the per-source executor (§4.8 step 10, §10.2).
    pub(super) fn src_live_migration(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        let m = self.live_migration(op);
        let source = self.cloud.world.migration(m).source;
        self.event_start(op, LIVE_EVENT, Some(source));
        self.set_migration_status(
            m,
            MigrationStatus::Queued,
            Hop::Source,
            Step::LiveMigrationQueued,
            Some(op),
        );
        // The event only covers the submission to the executor.
        self.event_finish(op, LIVE_EVENT, Some(source), EventResult::Success, "");
        // 0: the executor's own default, which depends on the release
        // (`config::unlimited_live_migrations`, `ComputeManager.__init__`).
        let limit = match self.scenario.nova.max_concurrent_live_migrations {
            0 => crate::config::unlimited_live_migrations(
                self.scenario.release,
                self.cloud.world.host(source).vcpus,
            ),
            n => n,
        };
        if self.computes.hosts[source.index()].live_running < limit {
            self.computes.hosts[source.index()].live_running += 1;
            self.src_live_start(op);
        } else {
            self.live_flow(op).phase = LivePhase::Queued;
            self.computes.hosts[source.index()].live_queue.push_back(op);
        }
    }

    /// An executor slot runs the job: preparing, call DST `pre_live_migration` (§4.8 11–12).
    fn src_live_start(&mut self, op: OpId) {
        self.live_flow(op).phase = LivePhase::Preparing;
        let m = self.live_migration(op);
        self.set_migration_status(
            m,
            MigrationStatus::Preparing,
            Hop::Source,
            Step::LiveMigrationPreparing,
            Some(op),
        );
        let d = self.draw(D::Compute);
        self.after(d, Event::DstPreLiveMigration(op));
    }

    /// Ends the job: frees its executor slot, if it held one, and starts the next queued job.
    pub(super) fn release_live_slot(&mut self, op: OpId) {
        let phase = std::mem::replace(&mut self.live_flow(op).phase, LivePhase::Ended);
        if let Some(k) = phase.job() {
            self.cancel_timer(k);
        }
        // A job that ended in the queue never held a slot.
        if !phase.holds_slot() {
            return;
        }
        let source = self.cloud.world.migration(self.live_migration(op)).source;
        let i = source.index();
        self.computes.hosts[i].live_running = self.computes.hosts[i].live_running.saturating_sub(1);
        while let Some(next) = self.computes.hosts[i].live_queue.pop_front() {
            // A queued job whose server was deleted meanwhile (its migration already ended by
            // the delete) never starts: `_do_live_migration` would fail on InstanceNotFound.
            if self.server_gone(next) {
                continue;
            }
            self.computes.hosts[i].live_running += 1;
            self.src_live_start(next);
            break;
        }
    }

    pub(super) fn dst_pre_live_migration(&mut self, op: OpId) {
        let m = self.live_migration(op);
        let dest = self.cloud.world.migration(m).dest;
        self.event_start(op, PRE_EVENT, dest);
        if let Some(d) = dest {
            self.ops[op.index()].pending_fault = self.fault_for(FaultStep::PreLiveMigration, op, d);
        }
        let d = self.draw(D::PreLiveMigration);
        self.after(d, Event::DstPreLiveMigrationDone(op));
    }

    pub(super) fn dst_pre_live_migration_done(&mut self, op: OpId) {
        let dest = self.cloud.world.migration(self.live_migration(op)).dest;
        let fault = self.ops[op.index()].pending_fault.take();
        let (result, msg) = match &fault {
            Some((_, msg)) => (EventResult::Error, msg.clone()),
            None => (EventResult::Success, String::new()),
        };
        self.event_finish(op, PRE_EVENT, dest, result, &msg);
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcPreLiveMigrationReturned(op, fault.is_none()));
    }

    /// SRC rolls back after `pre_live_migration`: `cancelled` when an abort came meanwhile
    /// (§4.8 step 14), else the call failed for `cause` (`_do_live_migration` sets the
    /// migration `error` first, §4.11 row 1).
    pub(super) fn pre_live_migration_rollback(&mut self, op: OpId, cause: RollbackCause) {
        if self.live_flow(op).phase == LivePhase::AbortRequested {
            self.live_rollback(
                op,
                MigrationStatus::Cancelled,
                false,
                RollbackCause::AbortedWhilePreparing,
            );
        } else {
            self.live_rollback(op, MigrationStatus::Failed, true, cause);
        }
    }

    /// SRC after `pre_live_migration` returned: the VIF-plug wait, or the rollback (§4.11 row 1).
    pub(super) fn src_pre_live_returned(&mut self, op: OpId, ok: bool) {
        if self.server_gone(op) {
            return self.release_live_slot(op);
        }
        if !ok || self.live_flow(op).phase == LivePhase::AbortRequested {
            return self.pre_live_migration_rollback(op, RollbackCause::PreLiveMigrationFailed);
        }
        let nova = &self.scenario.nova;
        let (wait, timeout, fatal) = (
            nova.live_migration_wait_for_vif_plug,
            nova.vif_plugging_timeout,
            nova.vif_plugging_is_fatal,
        );
        let mut delay = Duration::ZERO;
        let mut vif_ok = true;
        if wait {
            let source = self.live_flow(op).attempted[0];
            let plugged = self.draw(D::VifPlug);
            let lost = self.fault_for(FaultStep::VifPlug, op, source).is_some();
            if lost || plugged > timeout {
                delay = timeout;
                vif_ok = !fatal;
            } else {
                delay = plugged;
            }
        }
        self.live_flow(op).vif_ok = vif_ok;
        self.after(delay, Event::SrcLiveTransferStart(op));
    }

    /// The libvirt job starts (§4.8 step 15): running, with its planned end (§10.2).
    pub(super) fn src_live_transfer_start(&mut self, op: OpId) {
        if self.server_gone(op) {
            return self.release_live_slot(op);
        }
        if !self.live_flow(op).vif_ok {
            return self.live_rollback(
                op,
                MigrationStatus::Failed,
                true,
                RollbackCause::VifPlugTimeout,
            );
        }
        let m = self.live_migration(op);
        self.set_migration_status(
            m,
            MigrationStatus::Running,
            Hop::Source,
            Step::LiveMigrationRunning,
            Some(op),
        );
        let s = self.ops[op.index()].server;
        let flavor = self
            .cloud
            .world
            .flavor(self.cloud.world.server(s).flavor)
            .clone();
        let live = self.scenario.live;
        let input = TransferInput {
            memory_mib: flavor.memory_mb,
            // A volume-backed root disk is not copied, even by a block migration.
            disk_mib: if self.live_flow(op).block_migration
                && !self.cloud.world.server(s).volume_backed
            {
                flavor.disk_gb * 1024
            } else {
                0
            },
            bandwidth_mib_s: live.bandwidth_mib_s,
            dirty_rate_mib_s: flavor.dirty_rate_mib_s.unwrap_or(live.dirty_rate_mib_s),
            libvirt: self.scenario.nova.libvirt,
        };
        let plan = transfer::plan(&input);
        let source = self.cloud.world.migration(m).source;
        let fails = self
            .fault_for(FaultStep::LiveMigrationTransfer, op, source)
            .is_some();
        if let Some(at) = plan.post_copy_at_ms {
            self.after(Duration(at), Event::SrcLivePostCopy(op));
        }
        let end = match plan.end {
            // A failing job fails where it would have ended (or at the timeout).
            TransferEnd::Completed { at_ms, .. } if fails => Some((at_ms, JobEnd::Failed)),
            TransferEnd::Completed { at_ms, .. } => Some((at_ms, JobEnd::Completed)),
            TransferEnd::Cancelled { at_ms } => Some((at_ms, JobEnd::TimedOut)),
            // Never converges and no timeout: QEMU keeps copying until the run ends.
            TransferEnd::Stuck => None,
        };
        let job =
            end.map(|(at, end)| self.after_timer(Duration(at), Event::SrcLiveJobEnded(op, end)));
        self.live_flow(op).phase = LivePhase::Running { job };
    }

    pub(super) fn src_live_post_copy(&mut self, op: OpId) {
        if self.server_gone(op) {
            return;
        }
        // Only a running job switches (an abort or a failure ended it, and its epoch dropped
        // this step, unless the job already ended by itself).
        let LivePhase::Running { job } = self.live_flow(op).phase else {
            self.metrics.stats.stale_steps += 1;
            return;
        };
        self.live_flow(op).phase = LivePhase::PostCopy { job };
        let m = self.live_migration(op);
        self.set_migration_status(
            m,
            MigrationStatus::RunningPostCopy,
            Hop::Source,
            Step::LiveMigrationPostCopy,
            Some(op),
        );
    }

    /// The monitor sees the job end (§4.8 step 16 or §4.11 rows 2–3).
    pub(super) fn src_live_job_ended(&mut self, op: OpId, end: JobEnd) {
        if let LivePhase::Running { job } | LivePhase::PostCopy { job } =
            &mut self.live_flow(op).phase
        {
            // Fired, or cancelled by the abort that ends it here.
            *job = None;
        }
        if self.server_gone(op) {
            return self.release_live_slot(op);
        }
        match end {
            JobEnd::Failed => {
                self.live_rollback(op, MigrationStatus::Failed, false, RollbackCause::JobFailed)
            }
            JobEnd::TimedOut => self.live_rollback(
                op,
                MigrationStatus::Cancelled,
                false,
                RollbackCause::CompletionTimeout,
            ),
            JobEnd::Aborted => self.live_rollback(
                op,
                MigrationStatus::Cancelled,
                false,
                RollbackCause::AbortedByApi,
            ),
            JobEnd::Completed => {
                self.live_flow(op).phase = LivePhase::Post;
                // `_post_live_migration` on SRC, then the call to DST.
                let d = self.draw(D::PostLiveMigration) + self.draw(D::Compute);
                self.after(d, Event::DstPostLiveMigration(op));
            }
        }
    }

    pub(super) fn dst_post_live_migration(&mut self, op: OpId) {
        let m = self.live_migration(op);
        let dest = self.cloud.world.migration(m).dest;
        self.event_start(op, POST_DEST_EVENT, dest);
        if let Some(d) = dest {
            self.ops[op.index()].pending_fault =
                self.fault_for(FaultStep::PostLiveMigrationAtDestination, op, d);
        }
        let d = self.draw(D::PostLiveMigrationAtDestination);
        self.after(d, Event::DstPostLiveMigrationDone(op));
    }

    /// `post_live_migration_at_destination` done (§4.8 step 17, or §4.11 last row).
    pub(super) fn dst_post_live_migration_done(&mut self, op: OpId) {
        // Deleted meanwhile: the destination's save raises InstanceNotFound (or
        // UnexpectedDeletingTaskStateError), `_post_live_migration` goes no further with this
        // instance and `_do_live_migration` returns: the slot is free, the deleted server is not
        // brought back.
        if self.server_gone(op) {
            return self.release_live_slot(op);
        }
        let m = self.live_migration(op);
        let s = self.ops[op.index()].server;
        let Some(dest) = self.cloud.world.migration(m).dest else {
            unreachable!("the conductor saved the destination before casting live_migration");
        };
        // Step 17 saves with expected_task_state migrating (os-resetState preempts it).
        let unexpected = self.unexpected_task(op, TaskState::Migrating);
        if let Some(msg) = self.ops[op.index()]
            .pending_fault
            .take()
            .map(|(_, m)| m)
            .or(unexpected)
        {
            // Raised through `driver.live_migration`: the guest already runs on DST, nothing
            // is reverted.
            self.set_migration_status(
                m,
                MigrationStatus::Error,
                Hop::Destination,
                Step::PostAtDestinationMigrationError,
                Some(op),
            );
            self.change_server(
                s,
                Hop::Destination,
                Step::PostAtDestinationFailed,
                Some(op),
                |srv| {
                    srv.host = Some(dest);
                    srv.vm_state = VmState::Error;
                    srv.task_state = None;
                },
            );
            self.event_finish(op, POST_DEST_EVENT, Some(dest), EventResult::Error, &msg);
            self.release_live_slot(op);
            return self.complete(
                op,
                Outcome::Failure(format!(
                    "post_live_migration_at_destination: {msg} -> error"
                )),
            );
        }
        self.change_server(
            s,
            Hop::Destination,
            Step::PostAtDestination,
            Some(op),
            |srv| {
                srv.host = Some(dest);
                srv.task_state = None;
            },
        );
        self.event_finish(op, POST_DEST_EVENT, Some(dest), EventResult::Success, "");
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcPostLiveMigrationDone(op));
    }

    /// Back on SRC: resources refreshed, migration completed, source allocation deleted
    /// (§4.8 steps 18–20). The server was ACTIVE on DST before the migration completed.
    pub(super) fn src_post_live_done(&mut self, op: OpId) {
        if self.server_gone(op) {
            return self.release_live_slot(op);
        }
        self.complete_on_source(op, Step::PostLiveMigrationCompleted);
        self.release_live_slot(op);
        self.complete(op, Outcome::Success);
    }

    /// The end of `_post_live_migration` on SRC: the migration `completed` (row written as
    /// `step`), its source allocation deleted, the server's move over. Returns the server.
    fn complete_on_source(&mut self, op: OpId, step: Step) -> ServerId {
        let m = self.live_migration(op);
        let s = self.ops[op.index()].server;
        self.set_migration_status(m, MigrationStatus::Completed, Hop::Source, step, Some(op));
        self.plc_delete(Consumer::Migration(m));
        self.cloud.world.servers[s.index()].end_migration(m);
        s
    }

    /// `ComputeManager._post_live_migration` when its call to `post_live_migration_at_destination`
    /// raised (here MessagingTimeout: the destination's process is stopped). The exception is
    /// only logged ("it should never affect cleaning up source node"): the migration is
    /// `completed`, its source allocation deleted (`_delete_allocation_after_move`) and
    /// `_do_live_migration` returns, freeing its executor slot for the next queued job. The
    /// destination never set `instance.host` nor cleared the task: the server stays MIGRATING
    /// on the source in the DB, its guest on the destination holding the instance's allocation.
    pub(super) fn post_live_without_destination(&mut self, op: OpId) {
        let s = self.complete_on_source(op, Step::PostLiveMigrationCompletedWithoutDestination);
        // Host (source) and allocation (destination) disagree until an admin resets it.
        self.checker.servers_left_by_nova.insert(s);
        self.release_live_slot(op);
        self.complete(
            op,
            Outcome::raised(
                Exception::MessagingTimeout,
                "post_live_migration_at_destination timed out; migration completed, server left migrating",
            ),
        );
    }

    /// `_rollback_live_migration` on SRC (§4.11): allocation back to the instance, task None,
    /// migration `failed`/`cancelled` (after `error` for a pre_live_migration failure), DST
    /// cleaned up when its disks are not shared.
    pub(super) fn live_rollback(
        &mut self,
        op: OpId,
        status: MigrationStatus,
        error_first: bool,
        cause: RollbackCause,
    ) {
        // Whatever the job had scheduled (a post-copy switch, say) is void from here on.
        self.interrupt(op);
        let m = self.live_migration(op);
        let s = self.ops[op.index()].server;
        if error_first {
            self.set_migration_status(
                m,
                MigrationStatus::Error,
                Hop::Source,
                Step::DoLiveMigrationError,
                Some(op),
            );
        }
        self.plc_move(Consumer::Migration(m), Consumer::Instance(s));
        self.change_server(s, Hop::Source, Step::LiveRollback(cause), Some(op), |srv| {
            srv.task_state = None;
            srv.end_migration(m);
        });
        self.set_migration_status(
            m,
            status,
            Hop::Source,
            Step::LiveRollbackStatus(status),
            Some(op),
        );
        if self.live_flow(op).block_migration {
            let d = self.draw(D::Compute);
            self.after(d, Event::DstRollbackLiveMigration(op));
        }
        self.release_live_slot(op);
        self.complete(
            op,
            Outcome::Failure(format!(
                "live migration {}: {}",
                status.as_str(),
                cause.as_str()
            )),
        );
    }

    /// `ComputeManager.live_migration_abort` on a queued job before 25.0.0: the future is
    /// cancelled and the migration set `cancelled`, nothing else — the server stays MIGRATING,
    /// the migration keeps the source allocation and the instance the destination one.
    fn queued_abort_without_cleanup(&mut self, op: OpId) {
        let m = self.live_migration(op);
        let s = self.ops[op.index()].server;
        self.set_migration_status(
            m,
            MigrationStatus::Cancelled,
            Hop::Source,
            Step::QueuedAbortNoRollback,
            Some(op),
        );
        self.cloud.world.servers[s.index()].end_migration(m);
        self.checker.left_by_nova.insert(m);
        self.release_live_slot(op);
        self.complete(
            op,
            Outcome::Failure("live migration cancelled: aborted while queued".into()),
        );
    }

    /// `rollback_live_migration_at_destination` (cast, event on DST).
    pub(super) fn dst_rollback_live_migration(&mut self, op: OpId) {
        let dest = self.cloud.world.migration(self.live_migration(op)).dest;
        self.event_start(op, ROLLBACK_DEST_EVENT, dest);
        self.event_finish(op, ROLLBACK_DEST_EVENT, dest, EventResult::Success, "");
    }
}

impl Sim {
    /// The abort API after its checks: action `live_migration_cancel`, cast to SRC.
    pub(super) fn accept_live_abort(
        &mut self,
        r: u32,
        server: ServerId,
        migration: MigrationId,
        project: Arc<str>,
    ) {
        let request_id = self.request_id_of(r);
        let abort = self.begin_op(
            Op {
                migration: Some(migration),
                ..Op::new(Flow::AbortLiveMigration, Some(r), request_id, server)
            },
            Some((ActionName::LiveMigrationCancel, Some(project))),
        );
        let target = self
            .ops
            .iter()
            .rposition(|o| o.live().is_some() && o.migration == Some(migration))
            .map(|i| OpId(i as u32));
        let Some(target) = target else {
            return self.complete(
                abort,
                Outcome::Failure("no live migration in flight".into()),
            );
        };
        let d = self.draw(D::Compute);
        self.after(d, Event::SrcLiveMigrationAbort(abort, target));
    }

    /// SRC `live_migration_abort` (event `compute_live_migration_abort`): a queued job leaves
    /// the executor, a preparing one stops before the transfer, a running one is aborted
    /// (libvirt job CANCELLED); each rolls back with `cancelled` (§4.11).
    pub(super) fn src_live_migration_abort(&mut self, abort: OpId, op: OpId) {
        let m = self.live_migration(op);
        let source = self.cloud.world.migration(m).source;
        self.event_start(abort, EventName::ComputeLiveMigrationAbort, Some(source));
        let refused = match self.live_flow(op).phase {
            LivePhase::Queued => {
                self.computes.hosts[source.index()].live_queue.retain(|o| *o != op);
                if self.scenario.release.has(Behaviour::QueuedLiveAbortRollsBack) {
                    self.live_rollback(
                        op,
                        MigrationStatus::Cancelled,
                        false,
                        RollbackCause::AbortedWhileQueued,
                    );
                } else {
                    self.queued_abort_without_cleanup(op);
                }
                None
            }
            LivePhase::Preparing => {
                self.live_flow(op).phase = LivePhase::AbortRequested;
                None
            }
            LivePhase::Running { job } | LivePhase::PostCopy { job } => {
                if let Some(k) = job {
                    self.cancel_timer(k);
                }
                self.src_live_job_ended(op, JobEnd::Aborted);
                None
            }
            // `driver.live_migration_abort` → libvirt `abortJob()` on a domain whose job ended:
            // libvirtError, the migration goes on.
            LivePhase::Post => {
                Some("libvirtError: Requested operation is not valid: no job is active on the domain".to_string())
            }
            // No longer queued nor running (the API saw it running a moment ago):
            // InvalidMigrationState.
            LivePhase::AbortRequested | LivePhase::Conductor | LivePhase::Ended => Some(format!(
                "InvalidMigrationState: Migration {} state of instance {} is {}. Cannot abort live migration while the migration is in this state.",
                m,
                self.cloud.world.server(self.ops[op.index()].server).name,
                self.cloud.world.migration(m).status.as_str()
            )),
        };
        let (result, details) = match &refused {
            Some(msg) => (EventResult::Error, msg.as_str()),
            None => (EventResult::Success, ""),
        };
        self.event_finish(
            abort,
            EventName::ComputeLiveMigrationAbort,
            Some(source),
            result,
            details,
        );
        match refused {
            Some(msg) => self.complete(abort, Outcome::Failure(msg)),
            None => self.complete(abort, Outcome::Success),
        }
    }
}
