//! The admin actions of `AdminActionsController` (spec §3.5–§3.7).

use super::{check_lock, lookup, policy, schema, Accepted, ApiError, ApiRequest};
use crate::model::World;

/// `_reset_state` (spec §3.5): schema, lookup, admin policy — no lock, state or host check.
pub(super) fn reset_state(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    let state = schema::reset_state(req.body)?;
    let s = lookup(world, req)?;
    let owner = world.server(s).project.clone();
    policy::authorize(policy::RESET_STATE, req.caller, &owner, req.release)?;
    Ok(Accepted::ResetState { server: s, state })
}

/// `_inject_network_info` (spec §3.6): no vm_state/task_state check; a host-less instance makes
/// `_compute_host` raise a generic NovaException (500).
pub(super) fn inject_network_info(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    schema::action_key_only(req.body, "injectNetworkInfo")?;
    let s = lookup(world, req)?;
    let owner = world.server(s).project.clone();
    policy::authorize(policy::INJECT_NETWORK_INFO, req.caller, &owner, req.release)?;
    check_lock(world, s, req.caller, req.server)?;
    let host = world.server(s).host.ok_or_else(|| {
        ApiError::new(
            500,
            "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.",
        )
    })?;
    Ok(Accepted::InjectNetworkInfo { server: s, host })
}

/// `_reset_network` (spec §3.7): removed in 23.0.0 (410 before any lookup or policy check);
/// before that an admin-only cast to the instance's host.
pub(super) fn reset_network(world: &World, req: &ApiRequest) -> Result<Accepted, ApiError> {
    if req.release.major() >= 23 {
        return Err(ApiError::new(
            410,
            "This resource is no longer available in the Nova API.",
        ));
    }
    schema::action_key_only(req.body, "resetNetwork")?;
    let s = lookup(world, req)?;
    let owner = world.server(s).project.clone();
    policy::authorize(policy::RESET_NETWORK, req.caller, &owner, req.release)?;
    check_lock(world, s, req.caller, req.server)?;
    let host = world
        .server(s)
        .host
        .ok_or_else(|| ApiError::new(409, format!("Instance {} is not ready", req.server)))?;
    Ok(Accepted::ResetNetwork { server: s, host })
}
