//! The API layer: body validation per microversion, policy, lock and state checks, in the
//! order Nova evaluates them (spec §2, §3.1, §3.3, §3.4, §9). Pure: each check reads the world
//! and returns either what the accepted request must do or the HTTP error. A rejection is a
//! recorded outcome of the run, never a program error.

mod admin;
pub mod policy;
pub mod schema;

use crate::config::{ActionKind, Caller, Microversion, Role};
use crate::config::{Behaviour, Release};
use crate::model::{HostId, MigrationId, ServerId, VmState, World};
use serde_json::Value;

/// An HTTP error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

/// What an accepted request goes on to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Cold migration (202): `ignore_hosts` and `requested_host` for the RequestSpec.
    /// `sync`: before 21.0.0 the API *called* the conductor and answered when it returned.
    Migrate {
        server: ServerId,
        source: HostId,
        requested_host: Option<HostId>,
        sync: bool,
    },
    /// Live migration (202). `requested_host` restricts the scheduler; `forced` bypasses it.
    /// `sync`: below 2.34 the API calls the conductor and answers when its checks are done.
    LiveMigrate {
        server: ServerId,
        source: HostId,
        requested_host: Option<HostId>,
        forced: bool,
        block_migration: Option<bool>,
        sync: bool,
    },
    /// os-resetState (202), applied synchronously by the API.
    ResetState { server: ServerId, state: VmState },
    /// injectNetworkInfo (202): a cast to the instance's host.
    InjectNetworkInfo { server: ServerId, host: HostId },
    /// resetNetwork (202, before 23.0.0): a cast to the instance's host.
    ResetNetwork { server: ServerId, host: HostId },
    /// Live-migration abort (202): a cast to the source.
    AbortLiveMigration {
        server: ServerId,
        migration: MigrationId,
    },
    /// confirmResize (204) of this `finished` migration.
    Confirm {
        server: ServerId,
        migration: MigrationId,
    },
    /// revertResize (202).
    Revert {
        server: ServerId,
        migration: MigrationId,
    },
    /// Resize (202): a cold migration to `flavor` (spec §3.8).
    Resize {
        server: ServerId,
        flavor: crate::model::FlavorId,
        sync: bool,
    },
    /// Server create (202).
    Create,
    /// Server delete (204).
    Delete { server: ServerId },
}

impl Accepted {
    /// The success code of the action (confirmResize answers 204 for backward compatibility,
    /// spec §3.3).
    pub fn http_code(&self) -> u16 {
        match self {
            Accepted::Confirm { .. } | Accepted::Delete { .. } => 204,
            _ => 202,
        }
    }
}

/// A request as the API sees it.
#[derive(Debug, Clone)]
pub struct ApiRequest<'a> {
    pub action: ActionKind,
    pub server: &'a str,
    pub caller: &'a Caller,
    pub body: &'a Value,
    /// The Nova release the cloud runs (behaviour that changed across releases follows it).
    pub release: Release,
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(404, format!("Instance {name} could not be found."))
}

/// `nova/api/openstack/common.py` `raise_http_conflict_for_instance_invalid_state`.
fn invalid_state(action: &str, name: &str, attr: &str, value: &str) -> ApiError {
    ApiError::new(
        409,
        format!("Cannot '{action}' instance {name} while it is in {attr} {value}"),
    )
}

/// `check_instance_lock`: only non-admins are blocked (spec §2).
fn check_lock(world: &World, s: ServerId, caller: &Caller, name: &str) -> Result<(), ApiError> {
    if world.server(s).locked && caller.role != Role::Admin {
        return Err(ApiError::new(409, format!("Instance {name} is locked")));
    }
    Ok(())
}

/// `check_instance_state(vm_state=allowed, task_state=(None,))` with `must_have_launched`: in
/// this order vm_state, task_state, launched_at (spec §2).
fn check_state(
    world: &World,
    s: ServerId,
    allowed: &[VmState],
    action: &str,
    name: &str,
) -> Result<(), ApiError> {
    let srv = world.server(s);
    if !allowed.contains(&srv.vm_state) {
        return Err(invalid_state(
            action,
            name,
            "vm_state",
            srv.vm_state.as_str(),
        ));
    }
    if let Some(t) = srv.task_state {
        return Err(invalid_state(action, name, "task_state", t.as_str()));
    }
    if !srv.launched {
        return Err(invalid_state(action, name, "launched_at", "None"));
    }
    Ok(())
}

/// Instance lookup (spec §2 step 3): project-scoped for non-admins, so another project's
/// server is a 404, not a 403.
fn lookup(world: &World, req: &ApiRequest) -> Result<ServerId, ApiError> {
    let s = world
        .find_server(req.server)
        .ok_or_else(|| not_found(req.server))?;
    let owner = &world.server(s).project;
    if req.caller.role != Role::Admin {
        if let Some(p) = &req.caller.project {
            if p != owner {
                return Err(not_found(req.server));
            }
        }
    }
    Ok(s)
}

/// Looks the server up and checks `policy`, in the order of the release (issue 12).
/// From 21.0.0 ([`Behaviour::PolicyAfterLookup`], e.g. `MigrateServerController._migrate`):
/// lookup, then the policy against the server's project. Before: `context.can(rule)` without a
/// target, which oslo.policy checks against the caller's own project, then the lookup — so an
/// admin-only rule answers a non-admin 403 whatever the server, and an owner rule passes and
/// the project-scoped lookup answers 404.
fn lookup_authorized(
    world: &World,
    req: &ApiRequest,
    policy: policy::Policy,
) -> Result<ServerId, ApiError> {
    if req.release.has(Behaviour::PolicyAfterLookup) {
        let s = lookup(world, req)?;
        policy::authorize(policy, req.caller, &world.server(s).project, req.release)?;
        Ok(s)
    } else {
        authorize_untargeted(req, policy)?;
        lookup(world, req)
    }
}

/// `context.can(rule)` without a target (before 21.0.0): oslo.policy's default target is the
/// caller's own project.
fn authorize_untargeted(req: &ApiRequest, policy: policy::Policy) -> Result<(), ApiError> {
    let own = req.caller.project.as_deref().unwrap_or_default();
    policy::authorize(policy, req.caller, own, req.release)
}

/// Runs every synchronous check of `req` against `world`.
pub fn handle(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    // The version negotiation of `nova/api/openstack/wsgi.py` happens before any controller.
    let max = req.release.max_microversion();
    if req.caller.microversion > max {
        return Err(ApiError::new(
            406,
            format!(
                "Version {} is not supported by the API. Minimum is {} and maximum is {}.",
                req.caller.microversion,
                Microversion::MIN,
                max
            ),
        ));
    }
    match req.action {
        ActionKind::Migrate => migrate(world, req),
        ActionKind::ConfirmResize => confirm_resize(world, req),
        ActionKind::RevertResize => revert_resize(world, req),
        ActionKind::Create => create(world, req),
        ActionKind::Delete => delete(world, req),
        ActionKind::LiveMigrate => migrate_live(world, req),
        ActionKind::ResetState => admin::reset_state(world, req),
        ActionKind::InjectNetworkInfo => admin::inject_network_info(world, req),
        ActionKind::ResetNetwork => admin::reset_network(world, req),
        ActionKind::AbortLiveMigration => admin::abort_live_migration(world, req),
        ActionKind::Resize => resize(world, req),
    }
}

/// Spec §3.8 (`ServersController._action_resize` → `_resize`, `API.resize` with a flavor id),
/// checks in evaluation order. Flavors are named by their names (`flavorRef`).
fn resize(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let flavor_ref = schema::resize(req.body)?;
    let s = lookup(world, req)?;
    let owner = &*world.server(s).project;
    policy::authorize(policy::RESIZE, req.caller, owner, req.release)?;
    check_lock(world, s, req.caller, req.server)?;
    check_state(
        world,
        s,
        &[VmState::Active, VmState::Stopped],
        "resize",
        req.server,
    )?;
    let srv = world.server(s);
    let source = srv
        .host
        .ok_or_else(|| ApiError::new(409, format!("Instance {} is not ready", req.server)))?;
    if req.release.has(Behaviour::MigrateChecksSourceService) && !world.service_up(source) {
        // `@check_instance_host(check_is_up=True)` on `API.resize`, as for migrate.
        return Err(ApiError::new(
            409,
            format!(
                "Service is unavailable at this time. The source compute service of instance {} is down.",
                req.server
            ),
        ));
    }
    // `_resize`: FlavorNotFound → 400; `API.resize`: CannotResizeToSameFlavor → 400.
    let flavor = world
        .flavors
        .iter()
        .position(|f| f.name == flavor_ref)
        .map(|i| crate::model::FlavorId(i as u32))
        .ok_or_else(|| ApiError::new(400, "Unable to locate requested flavor."))?;
    if flavor == srv.flavor {
        return Err(ApiError::new(
            400,
            "When resizing, instances must change flavor!",
        ));
    }
    Ok(Accepted::Resize {
        server: s,
        flavor,
        // Like migrate: a call to the conductor before `MigrateCastsToConductor`.
        sync: !req.release.has(Behaviour::MigrateCastsToConductor),
    })
}

/// Spec §3.1, checks in evaluation order (`MigrateServerController._migrate`, `API.resize`).
fn migrate(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let mv = req.caller.microversion;
    // Row 1: below 2.56 there is no schema and `host` is ignored.
    let host_name = if mv >= Microversion(2, 56) {
        schema::migrate_v2_56(req.body)?
    } else {
        None
    };
    // The `:host` rule exists since 28.0.0 (`MigrateHostPolicy`); before it a host falls
    // under `migrate`.
    let rule = if host_name.is_some() && req.release.has(Behaviour::MigrateHostPolicy) {
        policy::MIGRATE_HOST
    } else {
        policy::MIGRATE
    };
    let s = lookup_authorized(world, req, rule)?; // rows 2–3
    check_lock(world, s, req.caller, req.server)?; // row 8
    check_state(
        world,
        s,
        &[VmState::Active, VmState::Stopped],
        "migrate",
        req.server,
    )?; // row 9
    let srv = world.server(s);
    let source = srv
        .host
        .ok_or_else(|| ApiError::new(409, format!("Instance {} is not ready", req.server)))?; // row 10

    // Row 11: `API.resize` checks the source service since 21.0.0
    // (`MigrateChecksSourceService`).
    if req.release.has(Behaviour::MigrateChecksSourceService) && !world.service_up(source) {
        return Err(ApiError::new(
            409,
            format!(
                "Service is unavailable at this time. The source compute service of instance {} is down.",
                req.server
            ),
        ));
    }
    let requested_host = match host_name {
        None => None,
        Some(name) => {
            if world.host(source).name == name {
                // row 12
                return Err(ApiError::new(
                    400,
                    "The target host can't be the same one.".to_string(),
                ));
            }
            // row 13
            Some(world.host_id(&name).ok_or_else(|| {
                ApiError::new(400, format!("Compute host {name} could not be found."))
            })?)
        }
    };
    Ok(Accepted::Migrate {
        server: s,
        source,
        requested_host,
        // Before 21.0.0 (`MigrateCastsToConductor`) the API called the conductor (spec §3.1).
        sync: !req.release.has(Behaviour::MigrateCastsToConductor),
    })
}

/// Spec §3.2, checks in evaluation order (`MigrateServerController._migrate_live`,
/// `API.live_migrate`).
fn migrate_live(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let mv = req.caller.microversion;
    let body = schema::migrate_live(req.body, mv)?; // row 1

    // The `:host` rule exists since 32.0.0 (`ProjectManagerMigratePolicy`).
    let rule = if body.host.is_some() && req.release.has(Behaviour::ProjectManagerMigratePolicy) {
        policy::MIGRATE_LIVE_HOST
    } else {
        policy::MIGRATE_LIVE
    };
    // Rows 2–3. Before 21.0.0 (`PolicyAfterLookup`) `_migrate_live` checked the policy, then
    // the force parameter (row 4), then looked the server up.
    let looked_up = if req.release.has(Behaviour::PolicyAfterLookup) {
        Some(lookup_authorized(world, req, rule)?)
    } else {
        authorize_untargeted(req, rule)?;
        None
    };

    // Row 4: `_get_force_param_for_live_migration` (2.30–2.67).
    let force_in_range = mv >= Microversion(2, 30) && mv < Microversion(2, 68);
    if force_in_range && body.force == Some(true) && body.host.is_none() {
        return Err(ApiError::new(
            400,
            "Can't force to a non-provided destination",
        ));
    }
    let s = match looked_up {
        Some(s) => s,
        None => lookup(world, req)?,
    };
    check_lock(world, s, req.caller, req.server)?; // row 12
    check_state(
        world,
        s,
        &[VmState::Active, VmState::Paused],
        "os-migrateLive",
        req.server,
    )?; // row 13
    let source = world
        .server(s)
        .host
        .ok_or_else(|| ApiError::new(409, format!("Instance {} is not ready", req.server)))?;
    let host = match &body.host {
        None => None,
        // Row 14: ComputeHostNotFound ⇒ 400 (since 18.0.0).
        Some(name) => Some(world.host_id(name).ok_or_else(|| {
            ApiError::new(400, format!("Compute host {name} could not be found."))
        })?),
    };
    // Below 2.30 a host is always forced; in 2.30–2.67 only with force=true (spec §3.2).
    let forced = host.is_some()
        && (mv < Microversion(2, 30) || (force_in_range && body.force == Some(true)));
    Ok(Accepted::LiveMigrate {
        server: s,
        source,
        requested_host: host,
        forced,
        block_migration: body.block_migration,
        sync: mv < Microversion(2, 34),
    })
}

/// Spec §3.3 (`ServersController._confirm_resize`, `API.confirm_resize`).
fn confirm_resize(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    schema::action_key_only(req.body, "confirmResize")?;
    let s = lookup_authorized(world, req, policy::CONFIRM_RESIZE)?;
    check_lock(world, s, req.caller, req.server)?;
    check_state(world, s, &[VmState::Resized], "confirmResize", req.server)?;
    let m = world
        .finished_migration_of(s)
        .ok_or_else(|| ApiError::new(400, "Instance has not been resized."))?;
    // `API.confirm_resize` checks the source service since 22.0.0 (`ConfirmChecksSourceService`);
    // before, the confirm is cast to a source that handles it when it is back.
    if req.release.has(Behaviour::ConfirmChecksSourceService)
        && !world.service_up(world.migration(m).source)
    {
        return Err(ApiError::new(
            409,
            "Service is unavailable at this time. The source compute service is down.",
        ));
    }
    Ok(Accepted::Confirm {
        server: s,
        migration: m,
    })
}

/// Spec §3.4 (`ServersController._revert_resize`, `API.revert_resize`): no service check.
fn revert_resize(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    schema::action_key_only(req.body, "revertResize")?;
    let s = lookup_authorized(world, req, policy::REVERT_RESIZE)?;
    check_lock(world, s, req.caller, req.server)?;
    check_state(world, s, &[VmState::Resized], "revertResize", req.server)?;
    let m = world
        .finished_migration_of(s)
        .ok_or_else(|| ApiError::new(400, "Instance has not been resized."))?;
    Ok(Accepted::Revert {
        server: s,
        migration: m,
    })
}

/// Server create: policy `os_compute_api:servers:create` (project member or admin). The
/// create body is not modelled beyond flavor and AZ (README, Fidelity).
fn create(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let project = req.caller.project.clone().unwrap_or_default();
    policy::authorize(policy::CREATE, req.caller, &project, req.release)?;
    if world.find_server(req.server).is_some() {
        // Nova allows duplicate names; the simulator addresses servers by name, so it refuses.
        return Err(ApiError::new(
            409,
            format!(
                "A server named {} already exists in this scenario.",
                req.server
            ),
        ));
    }
    Ok(Accepted::Create)
}

/// Server delete: `os_compute_api:servers:delete` (member or admin), lock check, any state.
fn delete(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let s = lookup(world, req)?;
    let owner = &*world.server(s).project;
    policy::authorize(policy::DELETE, req.caller, owner, req.release)?;
    check_lock(world, s, req.caller, req.server)?;
    Ok(Accepted::Delete { server: s })
}
