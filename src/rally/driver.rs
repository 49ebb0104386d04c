//! Rally's iterations as clients of the simulated cloud, in its virtual time: the runner starts
//! them, each makes its calls and polls the server status as `rally.task.utils.wait_for_status`
//! does (a GET at once, then one after every `check_interval` sleep, a timeout checked after
//! each sleep). A GET reads the cloud at the instant it is sent, after every event of that
//! instant, and its answer reaches the client `[latency] status_get` later (drawn per GET from
//! the client's own stream; 0 unless given): a wait ends on the poll lattice of its call, moved
//! by the GETs' round trips, as a real client's does.

use super::profile::Poll;
use super::runner::{Decision, Progress, Runner};
use super::scenarios::{Call, Step, Until};
use super::stats::{Atomic, Iteration};
use super::RallyError;
use crate::config::{ActionKind, Caller, Microversion, Role};
use crate::engine::{SimTime, Stream};
use crate::model::Flavor;
use crate::scenario::RequestTemplate;
use crate::sim::{Sim, Submitted};
use rand::Rng;
use serde_json::json;
use std::sync::Arc;

/// How iterations pick their user (`users` context `user_choice_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChoice {
    Random,
    RoundRobin,
}

/// What a workload runs with.
#[derive(Debug, Clone)]
pub struct WorkloadRun {
    /// Its place in the task (server names and random streams derive from it).
    pub index: usize,
    pub steps: Arc<Vec<Step>>,
    pub runner: Runner,
    pub tenants: u32,
    pub users_per_tenant: u32,
    pub user_choice: UserChoice,
    pub microversion: Microversion,
}

/// What an iteration waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// Runs at this time.
    At(SimTime),
    /// Runs when the answer of this request is in.
    Answer(Submitted),
    Done,
}

/// A running iteration.
struct Iter {
    number: u32,
    server: String,
    tenant: Arc<str>,
    start: SimTime,
    idle_ms: u64,
    pc: usize,
    wake: Wake,
    /// The wait in progress: its start and whether its sleep is over.
    waiting: Option<SimTime>,
    /// The GET that found the wait over is on its way back to the client.
    get_returning: bool,
    sleeping: bool,
    host_before: Option<String>,
    target_host: Option<String>,
    atomics: Vec<Atomic>,
    /// Path of indices to the innermost open atomic action.
    open: Vec<usize>,
    error: Vec<String>,
    finished: Option<SimTime>,
}

/// novaclient's exception class for an HTTP error code.
fn client_exception(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        413 => "OverLimit",
        501 => "HTTPNotImplemented",
        _ => "ClientException",
    }
}

impl Iter {
    fn open_list(&mut self) -> &mut Vec<Atomic> {
        let mut list = &mut self.atomics;
        for &i in &self.open {
            list = &mut list[i].children;
        }
        list
    }

    fn enter(&mut self, name: &str, now: SimTime) {
        let list = self.open_list();
        list.push(Atomic {
            name: name.to_string(),
            started_ms: now.0,
            finished_ms: now.0,
            failed: false,
            children: Vec::new(),
        });
        let i = list.len() - 1;
        self.open.push(i);
    }

    fn exit(&mut self, now: SimTime, failed: bool) {
        let Some(i) = self.open.pop() else { return };
        let list = self.open_list();
        list[i].finished_ms = now.0;
        list[i].failed |= failed;
    }

    /// The exception ends the iteration: every open atomic action exits failed.
    fn fail(&mut self, now: SimTime, kind: &str, message: String) {
        while !self.open.is_empty() {
            self.exit(now, true);
        }
        self.error = vec![kind.to_string(), message, String::new()];
        self.finished = Some(now);
        self.wake = Wake::Done;
    }
}

/// One workload's run: its iterations and the runner's loop.
pub struct Driver<'a> {
    w: &'a WorkloadRun,
    flavors: Vec<Flavor>,
    t0: SimTime,
    iters: Vec<Iter>,
    /// The iterations not finished yet, in start order (what each instant looks at).
    active: Vec<usize>,
    /// The rps runner's FIFO pool (iteration indices).
    pool: std::collections::VecDeque<usize>,
    runner_done: bool,
    runner_wake: Option<SimTime>,
    /// The cloud's queue holds only auto-confirm retries that cannot succeed (`run_until` does
    /// not advance them): ignored until an iteration sends a request.
    cloud_stalled: bool,
    users: Stream,
    sleeps: Stream,
    hosts: Stream,
    /// Round trips of the status GETs.
    gets: Stream,
}

impl<'a> Driver<'a> {
    pub fn new(sim: &Sim, w: &'a WorkloadRun, flavors: Vec<Flavor>) -> Driver<'a> {
        let stream = |what: &str| sim.client_stream(&format!("rally.{}.{what}", w.index));
        Driver {
            w,
            flavors,
            t0: SimTime::ZERO,
            iters: Vec::new(),
            active: Vec::new(),
            pool: Default::default(),
            runner_done: false,
            runner_wake: None,
            cloud_stalled: false,
            users: stream("users"),
            sleeps: stream("sleep"),
            gets: stream("status_get"),
            // `random.choice` of `_find_host_to_migrate`: a stream of its own.
            hosts: stream("find_host_to_migrate"),
        }
    }

    fn progress(&mut self) -> Progress {
        while let Some(&h) = self.pool.front() {
            if self.iters[h].finished.is_some() {
                self.pool.pop_front();
            } else {
                break;
            }
        }
        let iters = &self.iters;
        self.active.retain(|&i| iters[i].finished.is_none());
        let running = self.active.len() as u32;
        Progress {
            started: self.iters.len() as u32,
            running,
            pooled: self.pool.len() as u32,
        }
    }

    fn start_iteration(&mut self, now: SimTime) {
        let number = self.iters.len() as u32 + 1;
        let (t, u) = (self.w.tenants.max(1), self.w.users_per_tenant.max(1));
        // `_choose_user`: a random user, or round robin over sorted tenants.
        let tenant = match self.w.user_choice {
            UserChoice::Random => self.users.gen_range(0..t * u) / u,
            UserChoice::RoundRobin => (number - 1) % t,
        };
        self.iters.push(Iter {
            number,
            server: format!("s_rally_{:08x}_{:08x}", self.w.index, number),
            tenant: format!("rally-tenant-{}", tenant + 1).into(),
            start: now,
            idle_ms: 0,
            pc: 0,
            wake: Wake::At(now),
            waiting: None,
            get_returning: false,
            sleeping: false,
            host_before: None,
            target_host: None,
            atomics: Vec::new(),
            open: Vec::new(),
            error: Vec::new(),
            finished: None,
        });
        self.pool.push_back(self.iters.len() - 1);
        self.active.push(self.iters.len() - 1);
    }

    /// Runs the workload to its last iteration; returns the iterations in start order.
    pub fn run(mut self, sim: &mut Sim, start: SimTime) -> Result<Vec<Iteration>, RallyError> {
        self.t0 = start.max(sim.now());
        let mut now = self.t0;
        loop {
            self.settle(sim, now)?;
            let iters = &self.iters;
            self.active.retain(|&i| iters[i].finished.is_none());
            if self.runner_done && self.active.is_empty() {
                break;
            }
            // The next instant: a wake-up, an answer already decided, a runner timeout, or the
            // cloud's next event.
            let mut next: Option<SimTime> = self.runner_wake;
            let mut consider = |t: SimTime| next = Some(next.map_or(t, |n: SimTime| n.min(t)));
            let timeout = self.w.runner.timeout_ms();
            for it in self.active.iter().map(|&i| &self.iters[i]) {
                match it.wake {
                    Wake::At(t) => consider(t),
                    Wake::Answer(s) => {
                        if let Some(a) = sim.answer(s) {
                            consider(a.at.max(now));
                        }
                    }
                    Wake::Done => {}
                }
                if let Some(t) = timeout {
                    consider(SimTime(it.start.0 + t));
                }
            }
            let cloud = if self.cloud_stalled {
                None
            } else {
                sim.next_event_time()
            };
            match (cloud, next) {
                (Some(c), n) if n.is_none_or(|n| c <= n) => {
                    sim.run_until(c).map_err(RallyError::Sim)?;
                    // A queue of nothing but futile retries does not advance (`run_until`).
                    if sim.next_event_time() == Some(c) {
                        self.cloud_stalled = true;
                    }
                    now = c.max(now);
                }
                (_, Some(n)) => now = n.max(now),
                (_, None) => {
                    return Err(RallyError::Invalid(format!(
                        "workload {}: its iterations wait for answers the cloud will never give (t = {} s)",
                        self.w.index, now
                    )))
                }
            }
        }
        Ok(self
            .iters
            .into_iter()
            .map(|it| {
                let end = it.finished.unwrap_or(it.start);
                let wall = end.0 - it.start.0;
                Iteration {
                    number: it.number,
                    timestamp_ms: it.start.0,
                    duration_ms: wall - it.idle_ms.min(wall),
                    idle_ms: it.idle_ms.min(wall),
                    error: it.error,
                    atomics: it.atomics,
                }
            })
            .collect())
    }

    /// Everything due at `now`: runner timeouts, iterations' steps, the runner's starts.
    fn settle(&mut self, sim: &mut Sim, now: SimTime) -> Result<(), RallyError> {
        loop {
            let mut did = false;
            if let Some(t) = self.w.runner.timeout_ms() {
                for &i in &self.active {
                    let it = &mut self.iters[i];
                    if it.finished.is_some() {
                        continue;
                    }
                    if it.start.0 + t <= now.0 {
                        // `timeout_thread` → `terminate_thread`.
                        it.fail(
                            now,
                            "ThreadTimeoutException",
                            "Iteration interrupted due to timeout.".into(),
                        );
                        did = true;
                    }
                }
            }
            for k in 0..self.active.len() {
                let i = self.active[k];
                let due = match self.iters[i].wake {
                    Wake::At(t) => t <= now,
                    Wake::Answer(s) => sim.answer(s).is_some_and(|a| a.at <= now),
                    Wake::Done => false,
                };
                if due {
                    self.step(i, sim, now);
                    did = true;
                }
            }
            if !self.runner_done {
                if self.runner_wake.is_some_and(|t| t <= now) {
                    self.runner_wake = None;
                }
                let p = self.progress();
                match self.w.runner.decide(self.t0, now, p) {
                    Decision::Start => {
                        self.start_iteration(now);
                        did = true;
                    }
                    Decision::WakeAt(t) => self.runner_wake = Some(t),
                    Decision::Wait => {}
                    Decision::Done => self.runner_done = true,
                }
            }
            if !did {
                return Ok(());
            }
        }
    }

    fn user(&self, it: &Iter) -> Caller {
        Caller {
            microversion: self.w.microversion,
            role: Role::Member,
            project: Some(it.tenant.clone()),
        }
    }

    fn admin(&self) -> Caller {
        Caller {
            microversion: self.w.microversion,
            role: Role::Admin,
            project: None,
        }
    }

    fn template(&self, it: &Iter, call: &Call) -> RequestTemplate {
        let mv = self.w.microversion;
        let (action, caller, body, flavor) = match call {
            Call::Boot { flavor, volume } => {
                let name = self.flavors[flavor.0 as usize].name.clone();
                let mut server = json!({ "name": it.server, "flavorRef": name });
                if *volume {
                    // novaclient's legacy mapping of Rally's `{"vda": "<volume>:::0"}`.
                    server["imageRef"] = json!("");
                    server["block_device_mapping"] = json!([
                        { "device_name": "vda", "volume_id": format!("{}-volume", it.server),
                          "delete_on_termination": "0" }
                    ]);
                }
                (
                    ActionKind::Create,
                    self.user(it),
                    Some(json!({ "server": server })),
                    Some(*flavor),
                )
            }
            Call::Delete => (ActionKind::Delete, self.user(it), None, None),
            Call::Migrate => (ActionKind::Migrate, self.admin(), None, None),
            Call::LiveMigrate {
                block_migration,
                disk_over_commit,
            } => {
                let host = it.target_host.clone();
                // novaclient drops disk_over_commit from 2.25.
                let body = if mv < Microversion(2, 25) {
                    json!({ "os-migrateLive": { "host": host, "block_migration": block_migration,
                                               "disk_over_commit": disk_over_commit } })
                } else {
                    json!({ "os-migrateLive": { "host": host, "block_migration": block_migration } })
                };
                (ActionKind::LiveMigrate, self.admin(), Some(body), None)
            }
            Call::Resize(f) => {
                let name = self.flavors[f.0 as usize].name.clone();
                (
                    ActionKind::Resize,
                    self.user(it),
                    Some(json!({ "resize": { "flavorRef": name } })),
                    Some(*f),
                )
            }
            Call::Confirm => (ActionKind::ConfirmResize, self.user(it), None, None),
            Call::Revert => (ActionKind::RevertResize, self.user(it), None, None),
        };
        RequestTemplate {
            action,
            server: it.server.as_str().into(),
            caller,
            body,
            flavor,
            availability_zone: None,
        }
    }

    /// Runs iteration `i` from its current step until it blocks or ends.
    fn step(&mut self, i: usize, sim: &mut Sim, now: SimTime) {
        let steps = Arc::clone(&self.w.steps);
        loop {
            let it = &mut self.iters[i];
            if it.finished.is_some() {
                return;
            }
            let Some(step) = steps.get(it.pc) else {
                it.finished = Some(now);
                it.wake = Wake::Done;
                return;
            };
            match step {
                Step::Enter(name) => {
                    it.enter(name, now);
                    it.pc += 1;
                }
                Step::Exit => {
                    it.exit(now, false);
                    it.pc += 1;
                }
                Step::Call(call) => match it.wake {
                    Wake::Answer(s) => {
                        let Some(a) = sim.answer(s) else { return };
                        if (200..300).contains(&a.code) {
                            it.pc += 1;
                            it.wake = Wake::At(now);
                        } else {
                            it.fail(
                                now,
                                client_exception(a.code),
                                format!("{} (HTTP {})", a.message, a.code),
                            );
                            return;
                        }
                    }
                    _ => {
                        let template = self.template(&self.iters[i], call);
                        let name = format!("rally-{}-{}", self.w.index, self.iters[i].number);
                        let s = sim.submit_at(now, Some(name), template);
                        self.iters[i].wake = Wake::Answer(s);
                        self.cloud_stalled = false;
                        return;
                    }
                },
                Step::Sleep { ms, idle } => {
                    if it.sleeping {
                        it.sleeping = false;
                        it.pc += 1;
                    } else {
                        it.sleeping = true;
                        if *idle {
                            it.idle_ms += ms;
                        }
                        it.wake = Wake::At(SimTime(now.0 + ms));
                        return;
                    }
                }
                Step::SleepBetween { min_ms, max_ms } => {
                    if it.sleeping {
                        it.sleeping = false;
                        it.pc += 1;
                    } else {
                        let ms = if max_ms > min_ms {
                            self.sleeps.gen_range(*min_ms..=*max_ms)
                        } else {
                            *min_ms
                        };
                        let it = &mut self.iters[i];
                        it.sleeping = true;
                        it.idle_ms += ms;
                        it.wake = Wake::At(SimTime(now.0 + ms));
                        return;
                    }
                }
                Step::Wait { until, poll } => {
                    if it.get_returning {
                        it.get_returning = false;
                        it.pc += 1;
                        continue;
                    }
                    let get = sim.scenario.latency.status_get.sample(&mut self.gets);
                    let it = &mut self.iters[i];
                    if !poll_once(it, sim, now, until, *poll, get.ms()) {
                        return;
                    }
                }
                Step::RecordHost => {
                    it.host_before = sim.get_server(&it.server).and_then(|v| v.host);
                    it.pc += 1;
                }
                Step::HostChanged { exception, prefix } => {
                    let host = sim.get_server(&it.server).and_then(|v| v.host);
                    if host == it.host_before {
                        let h = host.unwrap_or_default();
                        it.fail(now, exception, format!("{prefix}: {h}"));
                        return;
                    }
                    it.pc += 1;
                }
                Step::FindHost => {
                    let view = sim.get_server(&it.server);
                    let (host, az) = view.map_or((None, None), |v| (v.host, v.availability_zone));
                    let candidates: Vec<String> = sim
                        .zone_hosts()
                        .into_iter()
                        .filter(|h| Some(&h.availability_zone) == az.as_ref())
                        .filter(|h| Some(&h.name) != host.as_ref() && h.available)
                        .map(|h| h.name)
                        .collect();
                    if candidates.is_empty() {
                        it.fail(
                            now,
                            "InvalidHostException",
                            "No valid host found to migrate".into(),
                        );
                        return;
                    }
                    let pick = self.hosts.gen_range(0..candidates.len());
                    let it = &mut self.iters[i];
                    it.target_host = Some(candidates[pick].clone());
                    it.pc += 1;
                }
                Step::AtLeastTwoComputes { what } => {
                    if sim.zone_hosts().len() < 2 {
                        it.fail(
                            now,
                            "RallyException",
                            format!("Less than 2 compute nodes, skipping {what}"),
                        );
                        return;
                    }
                    it.pc += 1;
                }
            }
        }
    }
}

/// One turn of `wait_for_status` / `wait_is_ready` at `now`: true when the wait is over and
/// the iteration goes on; false when it sleeps until the next poll or failed.
fn poll_once(
    it: &mut Iter,
    sim: &Sim,
    now: SimTime,
    until: &Until,
    poll: Poll,
    get_ms: u64,
) -> bool {
    let start = *it.waiting.get_or_insert(now);
    // Woken after a sleep: `if time.time() - start > timeout: raise TimeoutException`.
    if now > start && now.0 - start.0 > poll.timeout_ms {
        let view = sim.get_server(&it.server);
        let status = view.as_ref().map_or("DELETED", |v| v.status.as_str());
        let desired = match until {
            Until::Status(s) => format!("('{s}')"),
            Until::Deleted => "('DELETED')".to_string(),
            Until::ActiveElsewhere => format!(
                "server to become ACTIVE on a host other than {}",
                it.host_before.clone().unwrap_or_default()
            ),
        };
        it.fail(
            now,
            "TimeoutException",
            format!(
                "Rally tired waiting {:.2} seconds for Server {}:{} to become {desired} current status {status}",
                poll.timeout_ms as f64 / 1000.0,
                it.server,
                it.server
            ),
        );
        return false;
    }
    let view = sim.get_server(&it.server);
    let ready = match (until, &view) {
        (Until::Deleted, None) => true,
        (Until::Deleted, Some(v)) if v.status == crate::model::Status::Error => {
            // `failure_statuses=["error"]` applies to the delete wait too.
            it.fail(now, "GetResourceErrorStatus", format!(
                "Resource <Server: {}> has ERROR status.\n Fault: Status in failure list {{'ERROR'}}", it.server));
            return false;
        }
        (Until::Deleted, Some(_)) => false,
        (_, None) => {
            it.fail(
                now,
                "GetResourceNotFound",
                format!("Resource <Server: {}> is not found.", it.server),
            );
            return false;
        }
        (Until::Status(s), Some(v)) => {
            if v.status.as_str() == *s {
                true
            } else if v.status == crate::model::Status::Error {
                it.fail(now, "GetResourceErrorStatus", format!(
                    "Resource <Server: {}> has ERROR status.\n Fault: Status in failure list {{'ERROR'}}", it.server));
                return false;
            } else {
                false
            }
        }
        (Until::ActiveElsewhere, Some(v)) => {
            if v.status == crate::model::Status::Error {
                it.fail(
                    now,
                    "GetResourceErrorStatus",
                    format!(
                        "Resource <Server: {}> has ERROR status.\n Fault: n/a",
                        it.server
                    ),
                );
                return false;
            }
            v.status == crate::model::Status::Active && v.host != it.host_before
        }
    };
    if ready {
        it.waiting = None;
        if get_ms == 0 {
            it.pc += 1;
            return true;
        }
        it.get_returning = true;
        it.wake = Wake::At(SimTime(now.0 + get_ms));
        false
    } else {
        // The answer, then `time.sleep(check_interval)`.
        it.wake = Wake::At(SimTime(now.0 + get_ms + poll.interval_ms));
        false
    }
}
