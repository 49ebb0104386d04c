//! The services of the cloud (API, conductor, scheduler, computes, periodic tasks) as event
//! handlers over one owned `World`, driven by the engine's queue. Each handler runs at its hop,
//! changes state through the helpers below (which write the trace), and schedules the next hop
//! after a sampled latency.
//!
//! ```text
//!   workload ──► API ──cast──► CON ──call──► SCH ──► PLC (claim)
//!                 │             │ cast prep_resize
//!                 │             ▼
//!                 │            DST ──cast resize_instance──► SRC ──cast finish_resize──► DST
//!                 │ confirm ──────────────────────────────► SRC        (VERIFY_RESIZE)
//!                 │ revert  ──► DST ──cast finish_revert_resize──► SRC
//!   DST periodic _poll_unconfirmed_resizes ──(API confirm)──► SRC
//! ```

mod build;
mod client;
mod cold;
mod decisions;
mod events;
mod flows;
mod invariants;
mod live;
mod owners;
mod resize;
mod restart;
mod service;
mod workload;

pub use client::{Answer, ServerView, Submitted, ZoneHost};
pub use events::{Event, OpId, Stamped};
pub use flows::{ColdMigration, Flow, LiveMigration, Op};
pub use invariants::{Checks, Violation};
pub use live::LivePhase;
use owners::{Checker, Cloud, Computes, Engine, Faults, Metrics, TraceSink, Workload};
pub use workload::SetupError;
#[cfg(test)]
mod trace_tests;

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("writing the trace failed: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Invariant(#[from] Violation),
    #[error(transparent)]
    ActionWritten(#[from] crate::model::ActionWritten),
    #[error(
        "livelock at t = {at}: {events} events at one instant without time advancing (the last \
         was {event}); a scenario whose steps take no time and repeat forever"
    )]
    Livelock {
        at: SimTime,
        events: u64,
        event: String,
    },
}

/// The events of the current instant, against a budget that no finite burst reaches.
#[derive(Debug, Clone, Copy)]
struct Instant {
    time: SimTime,
    events: u64,
    budget: u64,
}

use crate::config::{FaultKind, FaultStep};
use crate::engine::{Dist, Duration, SimTime, TimerKey};
use crate::model::{
    Consumer, EventName, EventResult, HostId, MigrationId, MigrationStatus, RequestId, Resources,
    Server, ServerId, Status, TaskState, VmState, World,
};
use crate::scenario::{self, Scenario};
use crate::scheduler::SchedulerIndex;
use crate::trace::pipe::{NameTable, TraceMsg, TracePipe};
use crate::trace::records::RequestLog;
use crate::trace::summary::RequestTally;
use crate::trace::writer::{HostUsageRow, TraceWriter, TransitionRow};
use crate::trace::{Outcome, RunStats, ThroughputRow};
use crate::vocab::{Hop, Step};
use rand::Rng;
use std::io;

/// A fault rule with how often it has fired.
#[derive(Debug, Clone)]
struct FaultState {
    rule: crate::scenario::FaultRule,
    fired: u32,
}

/// Which distribution a duration is drawn from (index into `DurationStreams`).
#[derive(Debug, Clone, Copy)]
enum D {
    Api,
    Conductor,
    Scheduler,
    Compute,
    Placement,
    GuestShutdown,
    DiskCopy,
    FinishMigration,
    ConfirmMigration,
    RevertDestroy,
    FinishRevertMigration,
    Boot,
    Delete,
    PreLiveMigration,
    VifPlug,
    PostLiveMigration,
    PostLiveMigrationAtDestination,
}

const D_NAMES: [&str; 17] = [
    "latency.api",
    "latency.conductor",
    "latency.scheduler",
    "latency.compute",
    "latency.placement",
    "steps.guest_shutdown",
    "steps.disk_copy",
    "steps.finish_migration",
    "steps.confirm_migration",
    "steps.revert_destroy",
    "steps.finish_revert_migration",
    "steps.boot",
    "steps.delete",
    "steps.pre_live_migration",
    "steps.vif_plug",
    "steps.post_live_migration",
    "steps.post_live_migration_at_destination",
];

pub struct Sim {
    /// The scenario, less its initial servers and generators, which moved into the world and
    /// the workload when the run was built.
    pub scenario: Scenario,
    engine: Engine,
    cloud: Cloud,
    computes: Computes,
    workload: Workload,
    faults: Faults,
    metrics: Metrics,
    trace: TraceSink,
    checker: Checker,
    /// Every operation of the run (an accepted request, or a periodic auto-confirm).
    pub ops: Vec<Op>,
    /// One record per submitted API request; written to requests.csv as they are final.
    pub requests: RequestLog,
}

/// What of a server the per-host counters, status counts and trace depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    vm_state: VmState,
    task_state: Option<TaskState>,
    host: Option<HostId>,
    status: Status,
    io_weight: u32,
    deleted: bool,
}

impl Snapshot {
    fn of(s: &Server) -> Snapshot {
        Snapshot {
            vm_state: s.vm_state,
            task_state: s.task_state,
            host: s.host,
            status: s.status(),
            io_weight: Sim::io_weight(s),
            deleted: s.is_deleted(),
        }
    }
}

/// What the scheduler's index last read of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IndexInputs {
    usage: Resources,
    io_ops: u32,
    num_instances: u32,
    enabled: bool,
    up: bool,
}

/// Period of `_poll_unconfirmed_resizes`: bare `@periodic_task` ⇒ oslo's DEFAULT_INTERVAL 60 s
/// (spec §6.2).
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);

/// Places the initial servers of `scenario` as a run would, on a copy with no workload and no
/// output: the probe the scenario loader calls to report a server that does not fit at its own
/// entry (`scenario::InitialPlacement::Probe`).
pub fn probe_initial_placement(scenario: &Scenario) -> Result<(), scenario::Unplaceable> {
    let probe = Scenario {
        drains: Vec::new(),
        faults: Vec::new(),
        requests: Vec::new(),
        generators: Vec::new(),
        service_events: Vec::new(),
        expectations: Vec::new(),
        ..scenario.clone()
    };
    let sink = || -> crate::trace::row::Sink { Box::new(io::sink()) };
    let trace = TraceWriter::new(sink(), sink(), sink()).expect("writing to io::sink cannot fail");
    match Sim::new(probe, trace) {
        Err(SimError::Setup(SetupError::Unplaceable { server, reason })) => {
            Err(scenario::Unplaceable { server, reason })
        }
        // An I/O error of a sink says nothing about the scenario.
        Ok(_) | Err(_) => Ok(()),
    }
}

/// [`scenario::load`] that also places the initial servers (see [`probe_initial_placement`]),
/// so that one that does not fit is an error naming its entry: what `check` reports.
pub fn load_checked(
    path: &std::path::Path,
    overrides: &[String],
) -> Result<Scenario, scenario::ScenarioError> {
    scenario::load_with(
        path,
        overrides,
        scenario::InitialPlacement::Probe(probe_initial_placement),
    )
}

impl Sim {
    /// Builds the world of `scenario` and places its initial servers (t = 0); the trace is
    /// written as it is handed over, on this thread.
    pub fn new(scenario: Scenario, trace: TraceWriter) -> Result<Sim, SimError> {
        Sim::build(scenario, trace, false)
    }

    /// [`Sim::new`], the trace written by a thread of its own while the simulation goes on
    /// (`trace::pipe`): what `novasim run` does. The files are the same bytes.
    pub fn with_trace_thread(scenario: Scenario, trace: TraceWriter) -> Result<Sim, SimError> {
        Sim::build(scenario, trace, true)
    }

    fn build(
        mut scenario: Scenario,
        trace: TraceWriter,
        trace_thread: bool,
    ) -> Result<Sim, SimError> {
        // Moved out, not copied: the run reads them through `Sim::generators` only.
        let generators = std::mem::take(&mut scenario.generators).into();
        let engine = Engine::new(scenario.seed);
        let world = World::new(scenario.hosts.clone(), scenario.flavors.clone());
        let names = NameTable::new(&world.hosts);
        let sched = SchedulerIndex::new(&world.hosts, &world.placement, scenario.nova.weights)
            .with_placement_query(crate::scheduler::PlacementQuery {
                max_results: scenario.nova.max_placement_results as usize,
                az_in_placement: scenario
                    .release
                    .has(crate::config::Behaviour::AzInPlacement),
            });
        let n = world.hosts.len();
        let faults = Faults {
            rules: scenario
                .faults
                .iter()
                .map(|r| FaultState {
                    rule: r.clone(),
                    fired: 0,
                })
                .collect(),
            rng: engine.rngs.stream("faults"),
        };
        let window_len = scenario.output.throughput_window;
        let mut sim = Sim {
            engine,
            cloud: Cloud {
                world,
                sched,
                index_inputs: vec![None; n],
                index_stale: Vec::new(),
                index_stale_flag: vec![false; n],
            },
            computes: Computes::new(n),
            workload: Workload {
                request_specs: Vec::new(),
                request_pending: Vec::new(),
                request_ids: Vec::new(),
                default_bodies: Default::default(),
                drains: Vec::new(),
                gens: Vec::new(),
                generators,
                next_request_id: 1,
            },
            faults,
            metrics: Metrics {
                stats: RunStats::default(),
                status_counts: vec![0; Status::ALL.len()],
                window: ThroughputRow {
                    start: SimTime::ZERO,
                    end: SimTime::ZERO + window_len,
                    per_action: vec![[0; 5]; crate::config::ActionKind::ALL.len()],
                    statuses: Vec::new(),
                    empty_after: 0,
                },
                throughput: Vec::new(),
            },
            trace: TraceSink {
                pipe: TracePipe::inline(trace, names),
                io_error: None,
                transition_rows: 0,
                hold_records: false,
            },
            checker: Checker {
                checks: Checks::default_for_build(),
                broken: None,
                setup_overcommit: Vec::new(),
                reset_by_admin: Default::default(),
                lost_work: Default::default(),
                left_by_nova: Default::default(),
                servers_left_by_nova: Default::default(),
            },
            ops: Vec::new(),
            requests: RequestLog::default(),
            scenario,
        };
        if trace_thread {
            sim.trace.pipe.start_thread();
        }
        for h in 0..n {
            sim.trace_host(HostId(h as u32));
        }
        sim.reserve_for_workload();
        sim.place_initial_servers()?;
        sim.checker.setup_overcommit = (0..n)
            .map(|h| {
                let h = HostId(h as u32);
                let usage = sim.cloud.world.placement.usage(h);
                (!usage.fits_in(&sim.cloud.world.placement.capacity(h))).then_some(usage)
            })
            .collect();
        sim.schedule_workload();
        for i in 0..sim.scenario.service_events.len() {
            let at = sim.scenario.service_events[i].at;
            sim.schedule_at(at, Event::ServiceChange(i as u32));
        }
        Ok(sim)
    }

    pub fn now(&self) -> SimTime {
        self.engine.queue.now()
    }

    /// The simulated cloud (for tests and checks between instants).
    pub fn world(&self) -> &World {
        &self.cloud.world
    }

    /// The run's counters so far.
    pub fn stats(&self) -> &RunStats {
        &self.metrics.stats
    }

    /// The throughput windows stored so far (runs of empty windows are one row each).
    pub fn throughput(&self) -> &[ThroughputRow] {
        &self.metrics.throughput
    }

    /// Processes every event of the next instant; returns false when none is left, or when
    /// only futile retries are (the run has ended early, as `run` would: property tests check
    /// invariants between instants).
    pub fn step(&mut self) -> Result<bool, SimError> {
        match self.engine.queue.peek_time() {
            Some(t) => {
                self.run_until(t)?;
                Ok(self.metrics.stats.ended_early.is_none())
            }
            None => Ok(false),
        }
    }

    /// Processes every event due at or before `until` (tests use it to look at or poke the
    /// world mid-run).
    pub fn run_until(&mut self, until: SimTime) -> Result<(), SimError> {
        while let Some(t) = self.engine.queue.peek_time() {
            if t > until {
                break;
            }
            // Without `end_s`, a queue of nothing but futile retries would never empty.
            if self.computes.polls_pending == self.engine.queue.len() && self.scenario.end.is_none()
            {
                if let Some(why) = self.futile_retries_only() {
                    self.metrics.stats.ended_early = Some(why);
                    break;
                }
            }
            self.roll_windows(t);
            let Some((_, stamped)) = self.engine.queue.pop() else {
                break;
            };
            self.metrics.stats.events += 1;
            self.count_instant(t, &stamped.event)?;
            self.dispatch(stamped);
            if let Some(e) = self.trace.io_error.take() {
                return Err(SimError::Io(e));
            }
            if let Some(e) = self.cloud.world.actions.take_error() {
                return Err(SimError::ActionWritten(e));
            }
            if !self.trace.hold_records && self.records_final() {
                self.stream_records(false)?;
            }
            if self.checker.checks == Checks::On && self.engine.queue.peek_time() != Some(t) {
                self.check_instant()?;
            }
        }
        Ok(())
    }

    /// Turns the invariant checks on or off (on by default in debug builds).
    pub fn set_checks(&mut self, checks: Checks) {
        self.checker.checks = checks;
    }

    /// Runs until no event is left or the scenario's end time; returns the first I/O error of
    /// the trace, if any.
    pub fn run(&mut self) -> Result<(), SimError> {
        let end = self.scenario.end;
        self.run_until(end.unwrap_or(SimTime(u64::MAX)))?;
        let end_time = end.map_or(self.engine.queue.now(), |e| e.max(self.engine.queue.now()));
        self.metrics.stats.end_time = end_time;
        self.roll_windows(end_time);
        self.close_window(end_time);
        self.trace.pipe.writer()?.flush()?;
        if self.checker.checks == Checks::On {
            let natural = self.engine.queue.is_empty();
            self.check_end(natural)?;
        }
        Ok(())
    }

    /// Sets host `h`'s pending poll tick; returns the previous one.
    fn set_poll_timer(&mut self, h: HostId, key: Option<TimerKey>) -> Option<TimerKey> {
        let old = std::mem::replace(&mut self.computes.hosts[h.index()].poll_timer, key);
        self.computes.polls_pending =
            self.computes.polls_pending + usize::from(key.is_some()) - usize::from(old.is_some());
        old
    }

    /// `Some(why)` when every pending event is a `_poll_unconfirmed_resizes` tick and no tick
    /// can change anything any more: each unconfirmed migration waits for a source compute that
    /// is down, or for a task_state (deleting, resize_finish) that nothing left will change.
    /// No other event is pending, so no service comes back and no operation moves on.
    fn futile_retries_only(&self) -> Option<String> {
        // Every pending event a poll tick: checked in O(1) before any host is looked at.
        if self.computes.polls_pending == 0
            || self.computes.polls_pending != self.engine.queue.len()
        {
            return None;
        }
        let polls: Vec<HostId> = (0..self.cloud.world.hosts.len())
            .map(|h| HostId(h as u32))
            .filter(|h| self.computes.hosts[h.index()].poll_timer.is_some())
            .collect();
        if polls.is_empty() || polls.len() != self.engine.queue.len() {
            return None;
        }
        let mut waiting = Vec::new();
        for &h in &polls {
            for &m in &self.cloud.world.finished_by_dest[h.index()] {
                let mig = self.cloud.world.migration(m);
                let srv = self.cloud.world.server(mig.server);
                let blocked_task = matches!(
                    srv.task_state,
                    Some(TaskState::Deleting | TaskState::SoftDeleting | TaskState::ResizeFinish)
                );
                let settled_resized = srv.vm_state == VmState::Resized
                    && srv.task_state.is_none()
                    && !srv.is_deleted();
                let source_down = settled_resized
                    && self
                        .scenario
                        .release
                        .has(crate::config::Behaviour::ConfirmChecksSourceService)
                    && !self.cloud.world.service_up(mig.source);
                if !(blocked_task || source_down) {
                    return None;
                }
                waiting.push(m.to_string());
            }
        }
        Some(format!(
            "only auto-confirm retries that cannot succeed were left at t = {} s ({} waiting for a \
             compute service that is down and has no scheduled start, or a task that nothing \
             will change)",
            self.now(),
            waiting.join(" ")
        ))
    }

    /// Counts the events of the current instant: past the budget the run is a livelock (time
    /// no longer advances), reported with the event that fired most.
    fn count_instant(&mut self, t: SimTime, event: &Event) -> Result<(), SimError> {
        if t != self.engine.instant.time {
            self.engine.instant.time = t;
            self.engine.instant.events = 0;
        }
        self.engine.instant.events += 1;
        if self.engine.instant.events > self.engine.instant.budget {
            return Err(SimError::Livelock {
                at: t,
                events: self.engine.instant.events,
                event: event.name(),
            });
        }
        Ok(())
    }

    fn dispatch(&mut self, stamped: Stamped) {
        let event = &stamped.event;
        if let Some(op) = event.op() {
            if self.ops[op.index()].epoch != stamped.epoch {
                self.unqueued(event);
                self.metrics.stats.stale_steps += 1;
                return;
            }
        }
        if let Some(h) = event.compute_host(&self.cloud.world, &self.ops) {
            if self.cloud.world.liveness[h.index()].stopped {
                // A poll tick that fired is no longer pending in the queue: it waits with the
                // other parked messages (the futility test counts queued ticks only).
                if let Event::PollUnconfirmedResizes(p) = stamped.event {
                    self.set_poll_timer(p, None);
                }
                if let (Some(op), Some(call)) = (stamped.event.op(), stamped.event.rpc_call()) {
                    self.call_parked(op, call);
                }
                // Still addressed to its operations (`Op::queued`) until it runs.
                self.computes.hosts[h.index()].parked.push(stamped);
                return;
            }
        }
        self.unqueued(event);
        self.handle(stamped.event);
    }

    fn handle(&mut self, event: Event) {
        use Event::*;
        match event {
            ApiReceive(r) => self.api_receive(r),
            GeneratorFire(g) => self.generator_fire(g),
            ClientSubmit(r) => self.submit_now(r),
            ClientNext(g, c) => self.client_next(g, c),
            ServiceChange(i) => self.service_change(i),
            ServiceSeenDown(h) => self.service_seen(h, false),
            ServiceSeenUp(h) => self.service_seen(h, true),
            ConMigrateServer(op) => self.con_migrate_server(op),
            SchSelectDestinations(op) => self.sch_select_destinations(op),
            ConScheduled(op, result) => self.con_scheduled(op, result),
            DstPrepResize(op, h) => self.dst_prep_resize(op, h),
            ConReschedule(op, failed) => self.con_reschedule(op, failed),
            DstRescheduleReturned(op, h, ok) => self.dst_reschedule_returned(op, h, ok),
            SrcResizeInstance(op) => self.src_resize_instance(op),
            SrcDiskMigrated(op) => self.src_disk_migrated(op),
            DstFinishResize(op) => self.dst_finish_resize(op),
            DstFinishMigration(op) => self.dst_finish_migration(op),
            SrcConfirmResize(op) => self.src_confirm_resize(op),
            SrcConfirmDone(op) => self.src_confirm_done(op),
            DstRevertResize(op) => self.dst_revert_resize(op),
            DstRevertDone(op) => self.dst_revert_done(op),
            SrcFinishRevertResize(op) => self.src_finish_revert_resize(op),
            SrcFinishRevertDone(op) => self.src_finish_revert_done(op),
            PollUnconfirmedResizes(h) => self.poll_unconfirmed_resizes(h),
            ConBuild(op) => self.con_build(op),
            CmpBuild(op, h) => self.cmp_build(op, h),
            CmpBuildDone(op, h) => self.cmp_build_done(op, h),
            SrcConfirmOnDeleting(op, c) => self.src_confirm_on_deleting(op, c),
            SrcConfirmOnDeletingDone(op, c) => self.src_confirm_on_deleting_done(op, c),
            ApiDeleteAfterConfirm(op) => self.api_delete_after_confirm(op),
            RpcCallTimedOut(op, call) => self.rpc_call_timed_out(op, call),
            CmpDelete(op, h) => self.cmp_delete(op, h),
            CmpDeleteDone(op, h) => self.cmp_delete_done(op, h),
            ConLiveMigrate(op) => self.con_live_migrate(op),
            SchLiveSelect(op) => self.sch_live_select(op),
            ConLiveChecks(op, h) => self.con_live_checks(op, h),
            ConLiveFailed(op, f) => {
                if !self.server_gone(op) {
                    self.live_precheck_failed(op, *f)
                }
            }
            DstCheckCanLiveMigrateDestination(op, h) => self.dst_check_destination(op, h),
            SrcCheckCanLiveMigrateSource(op, h) => self.src_check_source(op, h),
            DstCheckSourceReturned(op, h, f) => self.dst_check_source_returned(op, h, f),
            ConLiveCheckResult(op, h, f) => self.con_live_check_result_event(op, h, f),
            SrcLiveMigration(op) => self.src_live_migration(op),
            DstPreLiveMigration(op) => self.dst_pre_live_migration(op),
            DstPreLiveMigrationDone(op) => self.dst_pre_live_migration_done(op),
            SrcPreLiveMigrationReturned(op, ok) => self.src_pre_live_returned(op, ok),
            SrcLiveTransferStart(op) => self.src_live_transfer_start(op),
            SrcLivePostCopy(op) => self.src_live_post_copy(op),
            SrcLiveJobEnded(op, end) => self.src_live_job_ended(op, end),
            DstPostLiveMigration(op) => self.dst_post_live_migration(op),
            DstPostLiveMigrationDone(op) => self.dst_post_live_migration_done(op),
            SrcPostLiveMigrationDone(op) => self.src_post_live_done(op),
            DstRollbackLiveMigration(op) => self.dst_rollback_live_migration(op),
            CmpNetworkAction(op, _) => self.complete(op, Outcome::Success),
            SrcLiveMigrationAbort(abort, op) => self.src_live_migration_abort(abort, op),
            DrainStart(d) => self.drain_start(d),
        }
    }

    // ------------------------------------------------------------------ time and randomness

    fn draw(&mut self, d: D) -> Duration {
        let dist: &Dist = match d {
            D::Api => &self.scenario.latency.api,
            D::Conductor => &self.scenario.latency.conductor,
            D::Scheduler => &self.scenario.latency.scheduler,
            D::Compute => &self.scenario.latency.compute,
            D::Placement => &self.scenario.latency.placement,
            D::GuestShutdown => &self.scenario.steps.guest_shutdown,
            D::DiskCopy => &self.scenario.steps.disk_copy,
            D::FinishMigration => &self.scenario.steps.finish_migration,
            D::ConfirmMigration => &self.scenario.steps.confirm_migration,
            D::RevertDestroy => &self.scenario.steps.revert_destroy,
            D::FinishRevertMigration => &self.scenario.steps.finish_revert_migration,
            D::Boot => &self.scenario.steps.boot,
            D::Delete => &self.scenario.steps.delete,
            D::PreLiveMigration => &self.scenario.steps.pre_live_migration,
            D::VifPlug => &self.scenario.steps.vif_plug,
            D::PostLiveMigration => &self.scenario.steps.post_live_migration,
            D::PostLiveMigrationAtDestination => {
                &self.scenario.steps.post_live_migration_at_destination
            }
        };
        dist.sample(&mut self.engine.durations[d as usize])
    }

    /// `event` with the current epoch of the operation it is addressed to.
    fn stamp(&self, event: Event) -> Stamped {
        let epoch = event.op().map_or(0, |op| self.ops[op.index()].epoch);
        Stamped { event, epoch }
    }

    /// Schedules `event` at `at`.
    fn schedule_at(&mut self, at: SimTime, event: Event) {
        let stamped = self.stamp(event);
        self.queued(&stamped.event);
        self.engine.queue.schedule(at, stamped);
    }

    /// Counts `event` as addressed to its operations (see `Op::queued`).
    fn queued(&mut self, event: &Event) {
        for op in event.ops().into_iter().flatten() {
            self.ops[op.index()].queued += 1;
        }
    }

    /// `event` left the queue for good: it ran, was dropped, or was cancelled.
    fn unqueued(&mut self, event: &Event) {
        for op in event.ops().into_iter().flatten() {
            let o = &mut self.ops[op.index()];
            debug_assert!(o.queued > 0, "{op:?} was not counted as queued");
            o.queued = o.queued.saturating_sub(1);
        }
    }

    /// Cancels the timer `key`, if it is still pending.
    fn cancel_timer(&mut self, key: TimerKey) {
        if let Some(stamped) = self.engine.queue.cancel(key) {
            self.unqueued(&stamped.event);
        }
    }

    /// Schedules `event` after `delay`.
    fn after(&mut self, delay: Duration, event: Event) {
        let at = self.now() + delay;
        self.schedule_at(at, event);
    }

    /// Schedules `event` after `delay` as a timer that can be cancelled or moved.
    fn after_timer(&mut self, delay: Duration, event: Event) -> TimerKey {
        let at = self.now() + delay;
        self.timer_at(at, event)
    }

    /// Schedules `event` at `at` as a timer that can be cancelled or moved.
    fn timer_at(&mut self, at: SimTime, event: Event) -> TimerKey {
        let stamped = self.stamp(event);
        self.queued(&stamped.event);
        self.engine.queue.schedule_timer(at, stamped)
    }

    /// Cuts operation `op` short: every step scheduled for it until now is dropped when it
    /// fires. What the operation schedules from here on (its rollback's casts) is stamped with
    /// the new epoch and runs.
    fn interrupt(&mut self, op: OpId) {
        let o = &mut self.ops[op.index()];
        o.epoch = o.epoch.wrapping_add(1);
    }

    fn new_request_id(&mut self) -> RequestId {
        let id = RequestId(self.workload.next_request_id);
        self.workload.next_request_id += 1;
        id
    }

    /// Decides whether an injected fault fires for `step` of `op` running on `host`.
    fn fault_for(
        &mut self,
        step: FaultStep,
        op: OpId,
        host: HostId,
    ) -> Option<(FaultKind, String)> {
        let o = &self.ops[op.index()];
        let req_name = o.request.map(|r| self.workload.request_name(r));
        let server = &*self.cloud.world.server(o.server).name;
        for f in &mut self.faults.rules {
            let r = &f.rule;
            if r.step != step
                || r.host.is_some_and(|h| h != host)
                || r.server.as_deref().is_some_and(|s| s != server)
                || r.request.as_deref().is_some_and(|n| Some(n) != req_name)
                || r.times.is_some_and(|t| f.fired >= t)
            {
                continue;
            }
            // Only a probability strictly between 0 and 1 consumes randomness.
            let fires = if r.probability >= 1.0 {
                true
            } else if r.probability <= 0.0 {
                false
            } else {
                self.faults.rng.gen_bool(r.probability)
            };
            if fires {
                f.fired += 1;
                return Some((r.kind, r.message.clone()));
            }
        }
        None
    }

    // ------------------------------------------------------------------ state changes + trace

    fn record_io(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            if self.trace.io_error.is_none() {
                self.trace.io_error = Some(e);
            }
        }
    }

    /// `nova/compute/stats.py` `io_workload`: building, or resize_prep / resize_migrating.
    pub(crate) fn io_weight(s: &Server) -> u32 {
        u32::from(
            s.vm_state == VmState::Building
                || matches!(
                    s.task_state,
                    Some(TaskState::ResizePrep) | Some(TaskState::ResizeMigrating)
                ),
        )
    }

    /// Applies `change` to server `s`, keeps the per-host counters, the status counts and the
    /// scheduler index in step, and writes a transitions row if anything visible changed.
    fn change_server(
        &mut self,
        s: ServerId,
        hop: Hop,
        step: Step,
        op: Option<OpId>,
        change: impl FnOnce(&mut Server),
    ) {
        let before = Snapshot::of(self.cloud.world.server(s));
        change(&mut self.cloud.world.servers[s.index()]);
        let after = Snapshot::of(self.cloud.world.server(s));
        if before == after {
            return;
        }
        self.metrics.status_counts[before.status.index()] =
            self.metrics.status_counts[before.status.index()].saturating_sub(1);
        self.metrics.status_counts[after.status.index()] += 1;
        let mut touched: [Option<HostId>; 2] = [None, None];
        if let Some(h) = before.host {
            let i = h.index();
            self.cloud.world.io_ops[i] =
                self.cloud.world.io_ops[i].saturating_sub(before.io_weight);
            if !before.deleted {
                self.cloud.world.num_instances[i] =
                    self.cloud.world.num_instances[i].saturating_sub(1);
            }
            touched[0] = Some(h);
        }
        if let Some(h) = after.host {
            let i = h.index();
            self.cloud.world.io_ops[i] += after.io_weight;
            if !after.deleted {
                self.cloud.world.num_instances[i] += 1;
            }
            if touched[0] != Some(h) {
                touched[1] = Some(h);
            }
        }
        // Most changes keep the server where it is: the index of servers by host is touched
        // only when the server moves, appears or is deleted (removing and re-inserting on every
        // change cost 2.6 % of the cold storm's instructions: 0.517 → 0.503·10⁹, callgrind).
        let on = |snap: &Snapshot| snap.host.filter(|_| !snap.deleted);
        if on(&before) != on(&after) {
            if let Some(h) = on(&before) {
                self.cloud.world.servers_on_host[h.index()].remove(&s);
            }
            if let Some(h) = on(&after) {
                self.cloud.world.servers_on_host[h.index()].insert(s);
            }
        }
        for h in touched.into_iter().flatten() {
            self.refresh_index(h);
        }
        self.trace_server(s, op, hop, step);
    }

    /// Notes that host `h`'s scheduler inputs may have changed; the index reads them before
    /// the next decision ([`Self::sync_index`]).
    fn refresh_index(&mut self, h: HostId) {
        if let Some(flag) = self.cloud.index_stale_flag.get_mut(h.index()) {
            if !*flag {
                *flag = true;
                self.cloud.index_stale.push(h);
            }
        }
    }

    /// Re-reads into the scheduler's index every host noted by `refresh_index` whose inputs
    /// differ from what the index holds (most state changes touch none of them: the index
    /// update is the costliest step of an event). Called before every decision.
    fn sync_index(&mut self) {
        let mut stale = std::mem::take(&mut self.cloud.index_stale);
        for h in stale.drain(..) {
            let i = h.index();
            self.cloud.index_stale_flag[i] = false;
            let host = &self.cloud.world.hosts[i];
            let inputs = IndexInputs {
                usage: self.cloud.world.placement.usage(h),
                io_ops: self.cloud.world.io_ops[i],
                num_instances: self.cloud.world.num_instances[i],
                enabled: host.enabled,
                up: host.up,
            };
            if self.cloud.index_inputs[i] == Some(inputs) {
                continue;
            }
            self.cloud.index_inputs[i] = Some(inputs);
            self.cloud.sched.update(
                h,
                &self.cloud.world.hosts,
                &self.cloud.world.placement,
                inputs.io_ops,
                inputs.num_instances,
            );
        }
        self.cloud.index_stale = stale; // keeps its capacity
    }

    /// Writes one transitions row with the server's and its current migration's state.
    fn trace_server(&mut self, s: ServerId, op: Option<OpId>, hop: Hop, step: Step) {
        let mig =
            op.and_then(|o| self.ops[o.index()].migration)
                .or(self.cloud.world.server(s).migration);
        self.trace_row(s, mig, op, hop, step);
    }

    /// Writes one transitions row: the server's state and migration `mig`'s status now.
    fn trace_row(
        &mut self,
        s: ServerId,
        mig: Option<MigrationId>,
        op: Option<OpId>,
        hop: Hop,
        step: Step,
    ) {
        let srv = self.cloud.world.server(s);
        let row = TransitionRow {
            time: self.engine.queue.now(),
            request: op.map(|o| self.ops[o.index()].request_id.0),
            server: s,
            host: srv.host,
            vm_state: srv.vm_state,
            task_state: srv.task_state,
            status: srv.status(),
            migration: mig.map(|m| (m, self.cloud.world.migration(m).status)),
            migration_dest: mig.and_then(|m| self.cloud.world.migration(m).dest),
            hop,
            step,
        };
        self.trace.transition_rows += 1;
        self.send_trace(TraceMsg::Transition(row));
    }

    /// Hands `msg` to the trace, keeping the first error.
    #[inline]
    pub(super) fn send_trace(&mut self, msg: TraceMsg) {
        let r = self.trace.pipe.send(msg);
        self.record_io(r);
    }

    /// Saves a migration's status (bumping `updated_at`), keeps the `finished` index and writes
    /// a transitions row.
    fn set_migration_status(
        &mut self,
        m: MigrationId,
        status: MigrationStatus,
        hop: Hop,
        step: Step,
        op: Option<OpId>,
    ) {
        let now = self.now();
        let mig = &mut self.cloud.world.migrations[m.index()];
        let old = mig.status;
        mig.updated_at = now;
        if old == status {
            return;
        }
        mig.status = status;
        let (server, dest) = (mig.server, mig.dest);
        self.check_migration_change(m, old, status);
        if let Some(d) = dest {
            if old == MigrationStatus::Finished {
                self.cloud.world.finished_by_dest[d.index()].remove(&m);
                // Nothing left to confirm on this host: its pending tick could not act.
                if self.cloud.world.finished_by_dest[d.index()].is_empty() {
                    if let Some(k) = self.set_poll_timer(d, None) {
                        self.cancel_timer(k);
                    }
                }
            }
            if status == MigrationStatus::Finished {
                self.cloud.world.finished_by_dest[d.index()].insert(m);
                self.ensure_poll(d, now + self.scenario.nova.resize_confirm_window);
            }
        }
        let op = op.filter(|o| self.ops[o.index()].migration == Some(m));
        // The row shows this migration even if the server has since moved on to another one.
        self.trace_row(server, Some(m), op, hop, step);
    }

    fn trace_host(&mut self, h: HostId) {
        let row = HostUsageRow::of(&self.cloud.world, h, self.now());
        self.send_trace(TraceMsg::HostUsage(row));
    }

    /// Placement operations that also keep the trace, the scheduler index and the peak of
    /// capacity held twice current.
    fn plc_move(&mut self, from: Consumer, to: Consumer) {
        let touched = self.cloud.world.placement.move_allocation(from, to);
        self.after_plc(&touched);
    }

    fn plc_claim(&mut self, consumer: Consumer, host: HostId, res: Resources) -> bool {
        let old_host = self
            .cloud
            .world
            .placement
            .allocation(consumer)
            .map(|a| a.host);
        if !self.cloud.world.placement.claim(consumer, host, res) {
            return false;
        }
        match old_host.filter(|o| *o != host) {
            Some(o) => self.after_plc(&[host, o]),
            None => self.after_plc(&[host]),
        }
        true
    }

    fn plc_delete(&mut self, consumer: Consumer) {
        if let Some(a) = self.cloud.world.placement.delete(consumer) {
            self.after_plc(&[a.host]);
        }
    }

    fn after_plc(&mut self, touched: &[HostId]) {
        for &h in touched {
            self.refresh_index(h);
            self.trace_host(h);
        }
        let held = self.cloud.world.placement.total_migration_usage();
        self.metrics.stats.peak_migration_vcpus =
            self.metrics.stats.peak_migration_vcpus.max(held.vcpus);
        self.metrics.stats.peak_migration_memory_mb = self
            .metrics
            .stats
            .peak_migration_memory_mb
            .max(held.memory_mb);
    }

    // ------------------------------------------------------------------ instance actions

    fn event_start(&mut self, op: OpId, name: EventName, host: Option<HostId>) {
        if let Some(a) = self.ops[op.index()].action {
            let now = self.now();
            self.cloud.world.actions.start_event(a, name, host, now);
        }
    }

    fn event_finish(
        &mut self,
        op: OpId,
        name: EventName,
        host: Option<HostId>,
        result: EventResult,
        details: &str,
    ) {
        if let Some(a) = self.ops[op.index()].action {
            let now = self.now();
            self.cloud
                .world
                .actions
                .finish_event(a, name, host, result, details, now);
        }
    }

    // ------------------------------------------------------------------ request completion

    /// Marks the request behind `op` finished and lets its generator react.
    fn complete(&mut self, op: OpId, outcome: Outcome) {
        let Some(r) = self.ops[op.index()].request else {
            return;
        };
        let now = self.now();
        // A written record was completed already.
        let Some(rec) = self.requests.get_mut(r) else {
            return;
        };
        if rec.completed.is_some() {
            return;
        }
        // A caller blocked in a synchronous call learns the outcome with the answer.
        rec.completed = Some(rec.answered.map_or(now, |a| a.max(now)));
        let ok = outcome == Outcome::Success;
        rec.outcome = outcome;
        if let Some(i) = rec.action.column() {
            self.metrics.window.per_action[i][if ok { 3 } else { 4 }] += 1;
        }
        self.on_request_done(r, ok);
    }

    // ------------------------------------------------------------------ throughput windows

    fn roll_windows(&mut self, t: SimTime) {
        if t >= self.metrics.window.end && self.metrics.window.end > self.metrics.window.start {
            let end = self.metrics.window.end;
            self.close_window(end);
            // The windows that end at or before `t` saw no event: counted on the row just
            // closed instead of stored (or even visited) one by one.
            let len = self
                .metrics
                .window
                .end
                .since(self.metrics.window.start)
                .ms();
            if t >= self.metrics.window.end && len > 0 {
                if let Some(last) = self.metrics.throughput.last_mut() {
                    let skip = t.since(self.metrics.window.start).ms() / len;
                    last.empty_after += skip;
                    self.metrics.window.start =
                        SimTime(self.metrics.window.start.ms() + skip * len);
                    self.metrics.window.end = self.metrics.window.start + Duration(len);
                }
            }
        }
    }

    fn close_window(&mut self, end: SimTime) {
        let len = self.scenario.output.throughput_window;
        let mut row = ThroughputRow {
            start: end,
            end: end + len,
            per_action: vec![[0; 5]; self.metrics.window.per_action.len()],
            statuses: Vec::new(),
            empty_after: 0,
        };
        std::mem::swap(&mut row, &mut self.metrics.window);
        row.end = end;
        row.statuses = self.metrics.status_counts.clone();
        if row.end > row.start || self.metrics.throughput.is_empty() {
            self.metrics.throughput.push(row);
        }
    }

    // ------------------------------------------------------------------ streamed records

    /// Writes the requests and instance actions that are final, in the files' order (records
    /// by number, actions by creation), each once every earlier one is written: memory holds
    /// the unfinished ones and those after the oldest of them, not the run's history. With
    /// `all` (the run is over), every one left. Called between events, so a handler never
    /// finds its own record gone.
    fn stream_records(&mut self, all: bool) -> io::Result<()> {
        while let Some(r) = self.requests.pop_final(all) {
            self.trace.pipe.send(TraceMsg::Request(Box::new(r)))?;
        }
        while let Some(owner) = self.cloud.world.actions.front().map(|a| a.owner) {
            if !all && !self.op_settled(owner) {
                break;
            }
            if let Some(taken) = self.cloud.world.actions.take_front() {
                self.trace.pipe.send(TraceMsg::Action(Box::new(taken)))?;
            }
        }
        Ok(())
    }

    /// Whether the oldest held request or instance action is final, so that `stream_records`
    /// has something to write. Most events finalise neither: testing this inline before the
    /// call saved 0.8 % of the cold storm's instructions.
    #[inline]
    fn records_final(&self) -> bool {
        self.requests.front_is_final()
            || (self.cloud.world.actions.front()).is_some_and(|a| self.op_settled(a.owner))
    }

    /// Whether operation `owner` can no longer act, so its instance action is final: no event
    /// that can act on it is queued or parked, and its request is answered and completed (a
    /// live migration waiting in its source's executor has no event, but its request is not
    /// finished). Whatever else reaches an operation (an abort, `init_host`) acts on one whose
    /// request is not finished; should that ever fail, the run stops with
    /// `SimError::ActionWritten` rather than write a wrong file. An action without an owner
    /// waits for the end.
    fn op_settled(&self, owner: u32) -> bool {
        let Some(op) = self.ops.get(owner as usize) else {
            return false;
        };
        op.queued == 0 && op.request.is_none_or(|r| self.requests.is_final(r))
    }

    /// Writes every request and instance action left, and flushes requests.csv and
    /// instance_actions.csv: the end of the run.
    pub fn finish_records(&mut self) -> io::Result<()> {
        self.stream_records(true)?;
        let writer = self.trace.pipe.writer()?;
        writer.requests.flush()?;
        writer.actions.flush()
    }

    /// Consumes the simulator, returning the trace writer (for flushing by the caller).
    pub fn into_parts(self) -> (World, RequestTally, Vec<ThroughputRow>, RunStats, Scenario) {
        (
            self.cloud.world,
            self.requests.into_tally(),
            self.metrics.throughput,
            self.metrics.stats,
            self.scenario,
        )
    }

    /// The charts' data the trace fed, if it was asked to (see `TraceWriter::with_chart_feed`).
    pub fn take_chart_feed(&mut self) -> Option<crate::plot::ChartFeed> {
        // After the run, which took the writer back (and reported any error of the thread).
        self.trace.pipe.writer().ok()?.charts.take()
    }

    pub fn transition_rows(&self) -> u64 {
        self.trace.transition_rows
    }

    /// The rows kept for the timeline (once the run's records are finished).
    pub fn take_timeline(&mut self) -> Option<crate::trace::timeline_rows::TimelineFeed> {
        self.trace.pipe.writer().ok()?.timeline.take()
    }
}
