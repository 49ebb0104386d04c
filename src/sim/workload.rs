//! The workload side: initial servers, explicit and replayed requests, generators (Poisson,
//! constant rate, closed loop) with confirm/revert follow-ups, and the API front door.

use super::{Event, Sim, D};
use crate::api::{self, Accepted, ApiRequest};
use crate::config::{ActionKind, Microversion};
use crate::engine::{Duration, Stream};
use crate::model::{ActionName, Consumer, PowerState, RequestId, Server, ServerId, VmState};
use crate::scenario::{Arrival, FollowUp, RequestTemplate, TargetOrder};
use crate::scheduler::SelectRequest;
use crate::trace::{Outcome, RequestRecord};
use crate::vocab::{Hop, Step};
use rand::Rng;
use rand_distr::{Distribution, Exp};
use rustc_hash::FxHashMap;
use serde_json::{json, Value};
use std::sync::Arc;

/// Who issued a request, so its completion can drive what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    Explicit,
    /// Generator `gen`; `client` for closed loops.
    Generated {
        gen: u32,
        client: Option<u32>,
    },
    /// A confirm/revert issued after a generated migrate reached VERIFY_RESIZE.
    FollowUp {
        gen: u32,
        client: Option<u32>,
    },
    /// A request of host drain `drain` (`follow_up`: the confirm of a cold move).
    Drain {
        drain: u32,
        follow_up: bool,
    },
}

/// Run-time state of one host drain.
#[derive(Debug, Default)]
pub(super) struct DrainState {
    /// Servers still to move, in id order.
    pending: std::collections::VecDeque<Arc<str>>,
}

/// A request waiting to be submitted.
#[derive(Debug, Clone)]
pub(super) struct PendingRequest {
    pub name: Option<String>,
    pub template: RequestTemplate,
    pub origin: Origin,
    /// Index of the record once submitted.
    pub record: Option<u32>,
}

/// Run-time state of one generator.
pub(super) struct GeneratorState {
    issued: u64,
    next_target: usize,
    rng: Stream,
    created: u64,
}

/// Why the initial cloud could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("initial server \"{server}\" cannot be placed at t=0: {reason}")]
    Unplaceable { server: String, reason: String },
}

/// The documented minimal body of an action at a microversion.
fn default_body(action: ActionKind, mv: Microversion) -> Value {
    match action {
        ActionKind::Migrate => json!({ "migrate": null }),
        ActionKind::ConfirmResize => json!({ "confirmResize": null }),
        ActionKind::RevertResize => json!({ "revertResize": null }),
        ActionKind::LiveMigrate if mv < Microversion(2, 25) => json!({
            "os-migrateLive": { "host": null, "block_migration": false, "disk_over_commit": false }
        }),
        ActionKind::LiveMigrate => {
            json!({ "os-migrateLive": { "host": null, "block_migration": "auto" } })
        }
        ActionKind::ResetState => json!({ "os-resetState": { "state": "active" } }),
        ActionKind::InjectNetworkInfo => json!({ "injectNetworkInfo": null }),
        ActionKind::ResetNetwork => json!({ "resetNetwork": null }),
        ActionKind::AbortLiveMigration => json!({}),
        // A resize names its flavor: its body is built per request (`resize_body`).
        ActionKind::Create | ActionKind::Delete | ActionKind::Resize => json!({}),
    }
}

/// A create body whose root disk is a volume: a `block_device_mapping_v2` entry with
/// `boot_index` 0 and `destination_type` volume, or the legacy `block_device_mapping` (what
/// novaclient sends for Rally's `{"vda": "<volume>:::0"}`) naming device vda.
pub(super) fn boots_from_volume(body: &Value) -> bool {
    let server = &body["server"];
    let v2 = server["block_device_mapping_v2"]
        .as_array()
        .is_some_and(|bdms| {
            bdms.iter().any(|b| {
                let boot0 =
                    b["boot_index"].as_i64() == Some(0) || b["boot_index"].as_str() == Some("0");
                boot0 && b["destination_type"].as_str() == Some("volume")
            })
        });
    let legacy = server["block_device_mapping"]
        .as_array()
        .is_some_and(|bdms| {
            bdms.iter().any(|b| {
                let dev = b["device_name"].as_str().unwrap_or("");
                dev == "vda" || dev == "/dev/vda"
            })
        });
    v2 || legacy
}

/// `{"resize": {"flavorRef": …}}` for the flavor of a resize template (flavors are named by
/// their names here: the simulated cloud has no flavor ids).
fn resize_body_of(world: &crate::model::World, flavor: Option<crate::model::FlavorId>) -> Value {
    let name = flavor.map(|f| world.flavor(f).name.clone());
    json!({ "resize": { "flavorRef": name } })
}

/// Server names to their ids, the `i`th name the `i`th server's.
fn name_index(names: &[Arc<str>]) -> FxHashMap<Arc<str>, ServerId> {
    let mut index = FxHashMap::with_capacity_and_hasher(names.len(), Default::default());
    for (i, name) in names.iter().enumerate() {
        index.insert(Arc::clone(name), ServerId(i as u32));
    }
    index
}

impl Sim {
    /// Places the scenario's initial servers at t = 0: pinned ones where they are pinned, the
    /// others through the scheduler, in declaration order.
    pub(super) fn place_initial_servers(&mut self) -> Result<(), SetupError> {
        // Taken out of the scenario (handlers need `&mut self`); the servers' strings move into
        // the world.
        let initial = std::mem::take(&mut self.scenario.servers);
        self.cloud.world.servers.reserve(initial.len());
        // The initial servers are the world's first, so each one's id is its position. Their
        // name index is built on another core while they are placed: at a million servers its
        // random inserts were a tenth of the placing.
        debug_assert!(self.cloud.world.servers.is_empty());
        let names: Vec<Arc<str>> = initial.iter().map(|s| Arc::clone(&s.name)).collect();
        let (placed, index) = std::thread::scope(|scope| {
            let helper = std::thread::Builder::new().spawn_scoped(scope, || name_index(&names));
            let placed = self.place_servers(initial);
            let index = match helper {
                Ok(helper) => helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // No thread to be had: built here.
                Err(_) => name_index(&names),
            };
            (placed, index)
        });
        self.cloud.world.server_names = index;
        placed
    }

    /// Places `initial` in order, each one added with [`Sim::add_server_unnamed`] (see
    /// `place_initial_servers` for their name index).
    fn place_servers(
        &mut self,
        initial: Vec<crate::scenario::InitialServer>,
    ) -> Result<(), SetupError> {
        for s in initial {
            let resources = self.cloud.world.flavor(s.flavor).resources();
            let host = match s.host {
                Some(h) => h,
                None => {
                    let req = SelectRequest {
                        resources,
                        ignore_hosts: &[],
                        requested_host: None,
                        availability_zone: s.availability_zone.as_deref(),
                        num_alternates: 0,
                        host_subset_size: self.scenario.nova.host_subset_size as usize,
                    };
                    self.sync_index();
                    let chosen = self.cloud.sched.select(
                        &self.cloud.world.hosts,
                        &self.cloud.world.placement,
                        &req,
                        &mut self.engine.sched_rng,
                    );
                    match chosen {
                        Ok(selection) => selection.selected,
                        Err(e) => {
                            return Err(SetupError::Unplaceable {
                                server: s.name.to_string(),
                                reason: e.message().trim_end().to_string(),
                            })
                        }
                    }
                }
            };
            let server = Server {
                name: s.name,
                project: s.project,
                flavor: s.flavor,
                host: Some(host),
                vm_state: s.vm_state,
                task_state: None,
                power_state: match s.vm_state {
                    VmState::Stopped => PowerState::Shutdown,
                    VmState::Paused => PowerState::Paused,
                    _ => PowerState::Running,
                },
                locked: s.locked,
                launched: true,
                old_vm_state: None,
                availability_zone: Some(self.cloud.world.host(host).availability_zone.clone()),
                requested_az: s.availability_zone,
                migration: None,
                volume_backed: false,
            };
            let id = self.add_server_unnamed(server, Hop::Scheduler, Step::InitialPlacement, None);
            // Pinned servers may overcommit, as an existing cloud can.
            self.cloud
                .world
                .placement
                .force_claim(Consumer::Instance(id), host, resources);
            self.after_plc(&[host]);
        }
        Ok(())
    }

    /// Sizes the per-request tables for the requests the scenario announces (explicit ones and
    /// generator counts, follow-ups included), so that they fill without being copied as they
    /// grow. Only a hint: a generator without a count adds what it issues.
    pub(super) fn reserve_for_workload(&mut self) {
        /// A count this large is a bound, not a plan: do not allocate for it up front.
        const MAX_HINT: u64 = 1 << 20;
        let generated: u64 = self
            .workload
            .generators
            .iter()
            .map(|g| {
                let follow_ups = u64::from(g.follow_up != crate::scenario::FollowUp::None);
                g.count.unwrap_or(0).saturating_mul(1 + follow_ups)
            })
            .fold(0, u64::saturating_add);
        let requests = generated.saturating_add(self.scenario.requests.len() as u64);
        // Every request, server and host can account for a bounded burst of events at one
        // instant; a million more is a loop that never lets time advance.
        let parties = requests
            .saturating_add(self.scenario.servers.len() as u64)
            .saturating_add(self.cloud.world.hosts.len() as u64);
        self.engine.instant.budget = parties.saturating_mul(64).saturating_add(1_000_000);
        let n = requests.min(MAX_HINT) as usize;
        self.workload.request_specs.reserve(n);
        self.workload.request_pending.reserve(n);
        // A cold migration its client does not confirm is confirmed by
        // `_poll_unconfirmed_resizes`, an operation of its own: sized for those too (the table
        // growing past the requests copied it whole and touched it twice).
        let cold = |a: ActionKind| matches!(a, ActionKind::Migrate | ActionKind::Resize);
        let auto_confirms = (self.workload.generators.iter())
            .filter(|g| cold(g.action))
            .map(|g| g.count.unwrap_or(0))
            .chain(
                self.scenario
                    .requests
                    .iter()
                    .filter(|r| cold(r.request.action))
                    .map(|_| 1),
            )
            .fold(0, u64::saturating_add);
        self.ops
            .reserve(requests.saturating_add(auto_confirms).min(MAX_HINT) as usize);
        self.cloud.world.migrations.reserve(n);
    }

    /// Queues the explicit requests and starts the generators.
    pub(super) fn schedule_workload(&mut self) {
        let explicit = self.scenario.requests.clone();
        for r in explicit {
            let i = self.push_pending(r.name.clone(), r.request.clone(), Origin::Explicit);
            self.schedule_at(r.at, Event::ClientSubmit(i));
        }
        let gens = Arc::clone(&self.workload.generators);
        for (g, spec) in gens.iter().enumerate() {
            self.workload.gens.push(GeneratorState {
                issued: 0,
                next_target: 0,
                rng: self.engine.rngs.stream(&format!("workload.{}", spec.name)),
                created: 0,
            });
            self.schedule_at(spec.start, Event::GeneratorFire(g as u32));
        }
        for d in 0..self.scenario.drains.len() {
            self.workload.drains.push(DrainState::default());
            let at = self.scenario.drains[d].at;
            self.schedule_at(at, Event::DrainStart(d as u32));
        }
    }

    fn push_pending(
        &mut self,
        name: Option<String>,
        template: RequestTemplate,
        origin: Origin,
    ) -> u32 {
        self.workload.request_specs.push(PendingRequest {
            name,
            template,
            origin,
            record: None,
        });
        (self.workload.request_specs.len() - 1) as u32
    }

    pub(super) fn request_id_of(&self, record: u32) -> RequestId {
        self.workload.request_ids[record as usize]
    }

    /// A client sends pending request `p` now: it gets its request id and reaches the API
    /// after the API latency.
    pub(super) fn submit_now(&mut self, p: u32) {
        let id = self.new_request_id();
        let now = self.now();
        let pending = &self.workload.request_specs[p as usize];
        let t = &pending.template;
        let record = RequestRecord {
            id: id.0,
            name: pending.name.clone().unwrap_or_default(),
            action: t.action,
            server: t.server.clone(),
            microversion: t.caller.microversion,
            role: t.caller.role.as_str(),
            submitted: now,
            answered: None,
            code: 0,
            message: String::new(),
            completed: None,
            outcome: Outcome::Pending,
        };
        if let Some(c) = t.action.column() {
            self.metrics.window.per_action[c][0] += 1;
        }
        let r = self.requests.push(record);
        self.workload.request_specs[p as usize].record = Some(r);
        self.workload.request_pending.push(p);
        self.workload.request_ids.push(id);
        let d = self.draw(D::Api);
        self.after(d, Event::ApiReceive(r));
    }

    /// nova-api handles request `r`: every synchronous check, then the accepted work.
    pub(super) fn api_receive(&mut self, r: u32) {
        let p = self.workload.request_pending[r as usize] as usize;
        let template = &self.workload.request_specs[p].template;
        let resize_body;
        let body = match &template.body {
            Some(b) => b,
            None if template.action == ActionKind::Resize => {
                resize_body = resize_body_of(&self.cloud.world, template.flavor);
                &resize_body
            }
            // Built once per action and microversion, not per request.
            None => self
                .workload
                .default_bodies
                .entry((template.action, template.caller.microversion))
                .or_insert_with(|| default_body(template.action, template.caller.microversion)),
        };
        let req = ApiRequest {
            action: template.action,
            server: &template.server,
            caller: &template.caller,
            body,
            release: self.scenario.release,
        };
        let result = api::handle(&self.cloud.world, &req);
        let caller_project = template.caller.project.clone();
        let column = template.action.column();
        let now = self.now();
        let acc = match result {
            Err(e) => {
                // Held: written records are answered, and this one is answered only here.
                if let Some(rec) = self.requests.get_mut(r) {
                    rec.answered = Some(now);
                    rec.code = e.code;
                    rec.message = e.message;
                    rec.completed = Some(now);
                    rec.outcome = Outcome::Failure(format!("HTTP {}", e.code));
                }
                if let Some(c) = column {
                    self.metrics.window.per_action[c][2] += 1;
                }
                self.on_request_done(r, false);
                return;
            }
            Ok(acc) => acc,
        };
        // A synchronous RPC call answers when the conductor returns (`answer_deferred`).
        let sync = match acc {
            Accepted::Migrate { sync, .. }
            | Accepted::LiveMigrate { sync, .. }
            | Accepted::Resize { sync, .. } => sync,
            // Deleting a resized server waits for the source's confirm (a call).
            Accepted::Delete { server } => self.confirms_on_delete(server).is_some(),
            _ => false,
        };
        if let Some(rec) = self.requests.get_mut(r).filter(|_| !sync) {
            rec.answered = Some(now);
            rec.code = acc.http_code();
            if let Some(c) = column {
                self.metrics.window.per_action[c][1] += 1;
            }
        }
        let project_of = |world: &crate::model::World, s: crate::model::ServerId| {
            caller_project
                .clone()
                .unwrap_or_else(|| world.server(s).project.clone())
        };
        match acc {
            Accepted::Migrate {
                server,
                requested_host,
                sync,
                ..
            } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_migrate(r, server, requested_host, project, sync, None);
            }
            Accepted::Resize {
                server,
                flavor,
                sync,
            } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_migrate(r, server, None, project, sync, Some(flavor));
            }
            Accepted::LiveMigrate {
                server,
                requested_host,
                forced,
                block_migration,
                sync,
                ..
            } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_live_migrate(
                    r,
                    server,
                    requested_host,
                    forced,
                    block_migration,
                    sync,
                    project,
                );
            }
            Accepted::Confirm { server, migration } => {
                let project = project_of(&self.cloud.world, server);
                let rid = self.request_id_of(r);
                self.accept_confirm(Some(r), rid, server, migration, Some(project), Hop::Api);
            }
            Accepted::Revert { server, migration } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_revert(r, server, migration, project);
            }
            Accepted::Create => {
                let t = &self.workload.request_specs[p].template;
                let flavor = t.flavor.unwrap_or(crate::model::FlavorId(0));
                let (name, az) = (t.server.clone(), t.availability_zone.clone());
                let volume_backed = t.body.as_ref().is_some_and(boots_from_volume);
                let project =
                    caller_project.unwrap_or_else(|| crate::scenario::defaults::PROJECT.into());
                self.accept_create(r, name, flavor, az, project, volume_backed);
            }
            Accepted::Delete { server } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_delete(r, server, project);
            }
            Accepted::ResetState { server, state } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_reset_state(r, server, state, project);
            }
            Accepted::InjectNetworkInfo { server, host }
            | Accepted::ResetNetwork { server, host } => {
                self.accept_network_action(r, server, host);
            }
            Accepted::AbortLiveMigration { server, migration } => {
                let project = project_of(&self.cloud.world, server);
                self.accept_live_abort(r, server, migration, project);
            }
        }
    }

    /// Answers a request whose API handler waited for a synchronous conductor call: the reply
    /// travels back to the API, which answers then.
    pub(super) fn answer_deferred(&mut self, op: super::OpId, code: u16, message: &str) {
        let Some(r) = self.ops[op.index()].request else {
            return;
        };
        let d = self.draw(D::Api);
        let at = self.now() + d;
        // A written record was answered already.
        let Some(rec) = self.requests.get_mut(r) else {
            return;
        };
        if rec.answered.is_some() {
            return;
        }
        rec.answered = Some(at);
        rec.code = code;
        rec.message = message.to_string();
        if let Some(c) = rec.action.column() {
            self.metrics.window.per_action[c][if code < 300 { 1 } else { 2 }] += 1;
        }
    }

    /// `os-resetState` (spec §3.5, §4.12): synchronous in the API; since 23.0.0 a `resetState`
    /// action with its finish time, no event.
    fn accept_reset_state(
        &mut self,
        r: u32,
        server: crate::model::ServerId,
        state: VmState,
        project: Arc<str>,
    ) {
        let request_id = self.request_id_of(r);
        // `AdminActionsController._reset_state` records the action since 23.0.0.
        let recorded = self
            .scenario
            .release
            .has(crate::config::Behaviour::ResetStateInstanceAction);
        let op = self.begin_op(
            super::Op::new(super::Flow::ResetState, Some(r), request_id, server),
            recorded.then_some((ActionName::ResetState, Some(project))),
        );
        let action = self.ops[op.index()].action;
        let now = self.now();
        // os-resetState writes the states only: from here the server's allocations need not
        // match them (see `invariants`).
        self.checker.reset_by_admin.insert(server);
        self.change_server(server, Hop::Api, Step::ResetState(state), Some(op), |s| {
            s.vm_state = state;
            s.task_state = None;
        });
        if let Some(a) = action {
            self.cloud.world.actions.finish_action(a, now);
        }
        self.complete(op, Outcome::Success);
    }

    /// injectNetworkInfo / resetNetwork (spec §3.6, §3.7, §4.13): one cast to the host, one
    /// NEU read there, a driver no-op; no action, no event, no state change.
    fn accept_network_action(
        &mut self,
        r: u32,
        server: crate::model::ServerId,
        host: crate::model::HostId,
    ) {
        let request_id = self.request_id_of(r);
        let op = self.new_op(super::Op::new(
            super::Flow::NetworkAction,
            Some(r),
            request_id,
            server,
        ));
        let d = self.draw(D::Compute) + self.draw(D::Placement);
        self.after(d, Event::CmpNetworkAction(op, host));
    }

    // ------------------------------------------------------------------ generators

    fn generator_may_issue(&self, g: usize) -> bool {
        let spec = &self.workload.generators[g];
        let state = &self.workload.gens[g];
        spec.count.is_none_or(|c| state.issued < c) && spec.stop.is_none_or(|s| self.now() < s)
    }

    /// Builds and submits the next request of generator `g` (for closed-loop client `client`).
    fn generator_issue(&mut self, g: usize, client: Option<u32>) {
        let spec = Arc::clone(&self.workload.generators);
        let spec = &spec[g];
        let state = &mut self.workload.gens[g];
        state.issued += 1;
        let server = if spec.action == ActionKind::Create {
            state.created += 1;
            format!("{}-{}", spec.name, state.created).into()
        } else if spec.targets.is_empty() {
            "".into()
        } else {
            let i = match spec.order {
                TargetOrder::Sequential => {
                    let i = state.next_target % spec.targets.len();
                    state.next_target += 1;
                    i
                }
                TargetOrder::Random => state.rng.gen_range(0..spec.targets.len()),
            };
            spec.targets[i].clone()
        };
        let template = RequestTemplate {
            action: spec.action,
            server,
            caller: spec.caller.clone(),
            body: None,
            flavor: spec.flavor,
            availability_zone: None,
        };
        let p = self.push_pending(
            None,
            template,
            Origin::Generated {
                gen: g as u32,
                client,
            },
        );
        self.submit_now(p);
    }

    pub(super) fn generator_fire(&mut self, g: u32) {
        let gi = g as usize;
        match self.workload.generators[gi].arrival {
            Arrival::ClosedLoop { concurrency, .. } => {
                for c in 0..concurrency {
                    if self.generator_may_issue(gi) {
                        self.generator_issue(gi, Some(c));
                    }
                }
            }
            Arrival::Poisson { rate_per_s } => {
                if !self.generator_may_issue(gi) {
                    return;
                }
                self.generator_issue(gi, None);
                let gap = match Exp::new(rate_per_s / 1000.0) {
                    Ok(e) => e.sample(&mut self.workload.gens[gi].rng).round() as u64,
                    Err(_) => return,
                };
                self.after(Duration(gap), Event::GeneratorFire(g));
            }
            Arrival::ConstantRate { interval } => {
                if !self.generator_may_issue(gi) {
                    return;
                }
                self.generator_issue(gi, None);
                self.after(interval, Event::GeneratorFire(g));
            }
        }
    }

    /// A request finished (answered with an error, or its asynchronous work ended).
    pub(super) fn on_request_done(&mut self, r: u32, ok: bool) {
        let p = self.workload.request_pending[r as usize];
        let origin = self.workload.request_specs[p as usize].origin;
        let (gen, client, follow_up_done) = match origin {
            Origin::Explicit => return,
            Origin::Drain { drain, follow_up } => {
                return self.drain_request_done(r, drain, follow_up, ok)
            }
            Origin::Generated { gen, client } => (gen as usize, client, false),
            Origin::FollowUp { gen, client } => (gen as usize, client, true),
        };
        let specs = Arc::clone(&self.workload.generators);
        let spec = &specs[gen];
        if !follow_up_done
            && ok
            && matches!(spec.action, ActionKind::Migrate | ActionKind::Resize)
            && spec.follow_up != FollowUp::None
        {
            let action = match spec.follow_up {
                FollowUp::Confirm => ActionKind::ConfirmResize,
                _ => ActionKind::RevertResize,
            };
            let server = self.workload.request_specs[p as usize]
                .template
                .server
                .clone();
            let template = RequestTemplate {
                action,
                server,
                caller: spec.caller.clone(),
                body: None,
                flavor: None,
                availability_zone: None,
            };
            let np = self.push_pending(
                None,
                template,
                Origin::FollowUp {
                    gen: gen as u32,
                    client,
                },
            );
            let d = spec
                .follow_up_delay
                .sample(&mut self.workload.gens[gen].rng);
            self.after(d, Event::ClientSubmit(np));
            return;
        }
        if let (Some(c), Arrival::ClosedLoop { think, .. }) = (client, &spec.arrival) {
            if self.generator_may_issue(gen) {
                let d = think.sample(&mut self.workload.gens[gen].rng);
                self.after(d, Event::ClientNext(gen as u32, c));
            }
        }
    }

    /// A closed-loop client's next iteration.
    pub(super) fn client_next(&mut self, gen: u32, client: u32) {
        if self.generator_may_issue(gen as usize) {
            self.generator_issue(gen as usize, Some(client));
        }
    }
}

impl Sim {
    /// A host drain starts: optionally disable the compute service, then one request per
    /// server on the host, at most `concurrency` in flight (spec issue 3, item 7).
    pub(super) fn drain_start(&mut self, d: u32) {
        let drain = self.scenario.drains[d as usize].clone();
        if drain.disable_first {
            self.cloud.world.hosts[drain.host.index()].enabled = false;
            self.refresh_index(drain.host);
            self.trace_host(drain.host);
        }
        let world = &self.cloud.world;
        let on_host: std::collections::VecDeque<Arc<str>> = world.servers_on_host
            [drain.host.index()]
        .iter()
        .map(|&s| world.server(s).name.clone())
        .collect();
        self.workload.drains[d as usize].pending = on_host;
        for _ in 0..drain.concurrency {
            self.drain_next(d);
        }
    }

    fn drain_next(&mut self, d: u32) {
        let Some(server) = self.workload.drains[d as usize].pending.pop_front() else {
            return;
        };
        let drain = &self.scenario.drains[d as usize];
        let body = match (drain.action, &drain.block_migration) {
            (ActionKind::LiveMigrate, Some(bm)) => {
                let mut b = default_body(ActionKind::LiveMigrate, drain.caller.microversion);
                b["os-migrateLive"]["block_migration"] = bm.clone();
                Some(b)
            }
            _ => None,
        };
        let template = RequestTemplate {
            action: drain.action,
            server,
            caller: drain.caller.clone(),
            body,
            flavor: None,
            availability_zone: None,
        };
        let name = Some(drain.name.clone());
        let p = self.push_pending(
            name,
            template,
            Origin::Drain {
                drain: d,
                follow_up: false,
            },
        );
        self.submit_now(p);
    }

    fn drain_request_done(&mut self, r: u32, d: u32, follow_up: bool, ok: bool) {
        let drain = &self.scenario.drains[d as usize];
        if !follow_up
            && ok
            && drain.action == ActionKind::Migrate
            && drain.follow_up == FollowUp::Confirm
        {
            let p = self.workload.request_pending[r as usize];
            let template = RequestTemplate {
                action: ActionKind::ConfirmResize,
                server: self.workload.request_specs[p as usize]
                    .template
                    .server
                    .clone(),
                caller: drain.caller.clone(),
                body: None,
                flavor: None,
                availability_zone: None,
            };
            let name = Some(drain.name.clone());
            let np = self.push_pending(
                name,
                template,
                Origin::Drain {
                    drain: d,
                    follow_up: true,
                },
            );
            self.submit_now(np);
            return;
        }
        self.drain_next(d);
    }
}
