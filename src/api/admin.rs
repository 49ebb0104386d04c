//! The admin actions of `AdminActionsController` (spec §3.5–§3.7).

use super::{check_lock, lookup_authorized, policy, schema, Accepted, ApiError, ApiRequest};
use crate::config::{Behaviour, Microversion};
use crate::model::{MigrationStatus, MigrationType, TaskState, World};

/// `_reset_state` (spec §3.5): schema, lookup, admin policy — no lock, state or host check.
pub(super) fn reset_state(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let state = schema::reset_state(req.body)?;
    let s = lookup_authorized(world, req, policy::RESET_STATE)?;
    Ok(Accepted::ResetState { server: s, state })
}

/// `_inject_network_info` (spec §3.6): no vm_state/task_state check; a host-less instance makes
/// `_compute_host` raise a generic NovaException (500).
pub(super) fn inject_network_info(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    schema::action_key_only(req.body, "injectNetworkInfo")?;
    let s = lookup_authorized(world, req, policy::INJECT_NETWORK_INFO)?;
    check_lock(world, s, req.caller, req.server)?;
    let host = world.server(s).host.ok_or_else(|| {
        ApiError::new(
            500,
            "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.",
        )
    })?;
    Ok(Accepted::InjectNetworkInfo { server: s, host })
}

/// `_reset_network` (spec §3.7): removed in 23.0.0 (`ResetNetworkRemoved`: 410 before any
/// lookup or policy check); before that an admin-only cast to the instance's host.
pub(super) fn reset_network(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    if req.release.has(Behaviour::ResetNetworkRemoved) {
        return Err(ApiError::new(
            410,
            "This resource is no longer available in the Nova API.",
        ));
    }
    schema::action_key_only(req.body, "resetNetwork")?;
    let s = lookup_authorized(world, req, policy::RESET_NETWORK)?;
    check_lock(world, s, req.caller, req.server)?;
    let host = world
        .server(s)
        .host
        .ok_or_else(|| ApiError::new(409, format!("Instance {} is not ready", req.server)))?;
    Ok(Accepted::ResetNetwork { server: s, host })
}

/// `ServerMigrationsController.delete` → `API.live_migrate_abort` (spec §4.11, §7): from 2.24;
/// `running` only, `queued`/`preparing` too from 2.65.
pub(super) fn abort_live_migration(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let mv = req.caller.microversion;
    if mv < Microversion(2, 24) {
        return Err(ApiError::new(404, "The resource could not be found."));
    }
    let s = lookup_authorized(world, req, policy::MIGRATIONS_DELETE)?;
    check_lock(world, s, req.caller, req.server)?;
    let srv = world.server(s);
    if srv.task_state != Some(TaskState::Migrating) {
        let state = srv.task_state.map_or("None", TaskState::as_str);
        return Err(ApiError::new(
            409,
            format!(
                "Cannot 'abort live migration' instance {} while it is in task_state {state}",
                req.server
            ),
        ));
    }
    let migration = srv
        .migration
        .filter(|m| world.migration(*m).kind == MigrationType::LiveMigration)
        .ok_or_else(|| {
            ApiError::new(
                404,
                format!("Migration for instance {} could not be found.", req.server),
            )
        })?;
    let status = world.migration(migration).status;
    let abortable = status == MigrationStatus::Running
        || (mv >= Microversion(2, 65)
            && matches!(status, MigrationStatus::Queued | MigrationStatus::Preparing));
    if !abortable {
        return Err(ApiError::new(
            400,
            format!("Migration {migration} state of instance {} is {}. Cannot abort live migration in this state.", req.server, status.as_str()),
        ));
    }
    Ok(Accepted::AbortLiveMigration {
        server: s,
        migration,
    })
}
