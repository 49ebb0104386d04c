//! Instance actions and their events (spec §1.5, §7).

use super::ids::{ActionId, HostId, RequestId, ServerId};
use crate::engine::SimTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventResult {
    Success,
    Error,
}

impl EventResult {
    pub fn as_str(self) -> &'static str {
        match self {
            EventResult::Success => "Success",
            EventResult::Error => "Error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionEvent {
    pub name: &'static str,
    pub start: SimTime,
    pub finish: Option<SimTime>,
    pub result: Option<EventResult>,
    /// The service host that recorded it: a compute host, or `None` for conductor/scheduler.
    pub host: Option<HostId>,
    /// Formatted exception message for failed events (exposed from 2.84 to admins).
    pub details: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceAction {
    pub server: ServerId,
    pub action: &'static str,
    pub request: RequestId,
    /// `None` for the periodic auto-confirm (null user/project, spec §4.6).
    pub project: Option<String>,
    pub start: SimTime,
    /// `'Error'` once any event finished with Error.
    pub message_error: bool,
    /// Only set by os-resetState (spec §1.5).
    pub finish: Option<SimTime>,
    pub updated_at: SimTime,
    pub events: Vec<ActionEvent>,
}

/// All actions of a run, in creation order.
#[derive(Debug, Clone, Default)]
pub struct ActionLog {
    pub actions: Vec<InstanceAction>,
}

impl ActionLog {
    pub fn start_action(
        &mut self,
        server: ServerId,
        action: &'static str,
        request: RequestId,
        project: Option<String>,
        now: SimTime,
    ) -> ActionId {
        let id = ActionId(self.actions.len() as u32);
        self.actions.push(InstanceAction {
            server,
            action,
            request,
            project,
            start: now,
            message_error: false,
            finish: None,
            updated_at: now,
            events: Vec::new(),
        });
        id
    }

    pub fn start_event(
        &mut self,
        action: ActionId,
        name: &'static str,
        host: Option<HostId>,
        now: SimTime,
    ) {
        let a = &mut self.actions[action.index()];
        a.updated_at = now;
        a.events.push(ActionEvent {
            name,
            start: now,
            finish: None,
            result: None,
            host,
            details: String::new(),
        });
    }

    /// Finishes the most recently started open event called `name` recorded on `host`. Nova
    /// finishes "the first match" by name in unspecified DB order (spec §11.1); the simulator
    /// finishes the row the caller started (README, Fidelity).
    pub fn finish_event(
        &mut self,
        action: ActionId,
        name: &str,
        host: Option<HostId>,
        result: EventResult,
        details: &str,
        now: SimTime,
    ) {
        let a = &mut self.actions[action.index()];
        a.updated_at = now;
        if result == EventResult::Error {
            a.message_error = true;
        }
        if let Some(e) = a
            .events
            .iter_mut()
            .rev()
            .find(|e| e.name == name && e.host == host && e.result.is_none())
        {
            e.finish = Some(now);
            e.result = Some(result);
            e.details = details.to_string();
        }
    }

    pub fn finish_action(&mut self, action: ActionId, now: SimTime) {
        let a = &mut self.actions[action.index()];
        a.finish = Some(now);
        a.updated_at = now;
    }

    pub fn get(&self, action: ActionId) -> &InstanceAction {
        &self.actions[action.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §1.5: message becomes 'Error' at the first failed event; events finish by name.
    #[test]
    fn error_event_marks_action() {
        let mut log = ActionLog::default();
        let a = log.start_action(ServerId(0), "migrate", RequestId(1), None, SimTime(0));
        log.start_event(a, "conductor_migrate_server", None, SimTime(10));
        log.start_event(a, "cold_migrate", None, SimTime(10));
        log.finish_event(
            a,
            "cold_migrate",
            None,
            EventResult::Error,
            "No valid host",
            SimTime(20),
        );
        let act = log.get(a);
        assert!(act.message_error);
        assert_eq!(act.events[1].result, Some(EventResult::Error));
        assert_eq!(act.events[0].result, None);
        assert_eq!(act.updated_at, SimTime(20));
    }
}
