//! Instance actions and their events (spec §1.5, §7).

use super::ids::{ActionId, HostId, RequestId, ServerId};
use super::names::{ActionName, EventName};
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
    pub name: EventName,
    pub start: SimTime,
    /// When it finished and how; `None` while it runs.
    pub end: Option<(SimTime, EventResult)>,
    /// The service host that recorded it: a compute host, or `None` for conductor/scheduler.
    pub host: Option<HostId>,
    /// Formatted exception message for failed events (exposed from 2.84 to admins).
    pub details: Box<str>,
    /// The next event of the same action (`NO_EVENT` for its last).
    next: u32,
}

/// End of an action's chain of events.
const NO_EVENT: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceAction {
    pub server: ServerId,
    pub action: ActionName,
    pub request: RequestId,
    /// `None` for the periodic auto-confirm (null user/project, spec §4.6).
    pub project: Option<std::sync::Arc<str>>,
    pub start: SimTime,
    /// `'Error'` once any event finished with Error.
    pub message_error: bool,
    /// Only set by os-resetState (spec §1.5).
    pub finish: Option<SimTime>,
    pub updated_at: SimTime,
    /// First and last of its events in `ActionLog::events` (`NO_EVENT` when it has none).
    first_event: u32,
    last_event: u32,
}

/// All actions of a run, in creation order, and all their events.
///
/// The events of every action live in one table, each chained to the next of its action: a
/// vector per action cost an allocation per action and another when it grew (a cold migration
/// records five events), and was most of a large run's memory.
#[derive(Debug, Clone, Default)]
pub struct ActionLog {
    pub actions: Vec<InstanceAction>,
    events: Vec<ActionEvent>,
}

impl ActionLog {
    pub fn start_action(
        &mut self,
        server: ServerId,
        action: ActionName,
        request: RequestId,
        project: Option<std::sync::Arc<str>>,
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
            first_event: NO_EVENT,
            last_event: NO_EVENT,
        });
        id
    }

    pub fn start_event(
        &mut self,
        action: ActionId,
        name: EventName,
        host: Option<HostId>,
        now: SimTime,
    ) {
        let e = self.events.len() as u32;
        self.events.push(ActionEvent {
            name,
            start: now,
            end: None,
            host,
            details: Box::default(),
            next: NO_EVENT,
        });
        let a = &mut self.actions[action.index()];
        a.updated_at = now;
        match a.last_event {
            NO_EVENT => a.first_event = e,
            last => self.events[last as usize].next = e,
        }
        a.last_event = e;
    }

    /// Finishes the most recently started open event called `name` recorded on `host`. Nova
    /// finishes "the first match" by name in unspecified DB order (spec §11.1); the simulator
    /// finishes the row the caller started (README, Fidelity).
    pub fn finish_event(
        &mut self,
        action: ActionId,
        name: EventName,
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
        let mut latest = None;
        let mut i = a.first_event;
        while i != NO_EVENT {
            let e = &self.events[i as usize];
            if e.name == name && e.host == host && e.end.is_none() {
                latest = Some(i as usize);
            }
            i = e.next;
        }
        if let Some(i) = latest {
            let e = &mut self.events[i];
            e.end = Some((now, result));
            e.details = details.into();
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

    /// The events of `action`, in the order they started.
    pub fn events<'a>(&'a self, action: &InstanceAction) -> impl Iterator<Item = &'a ActionEvent> {
        let mut i = action.first_event;
        std::iter::from_fn(move || {
            let e = self.events.get(i as usize)?;
            i = e.next;
            Some(e)
        })
    }

    /// Every event of every action, in the order they started.
    pub fn all_events_mut(&mut self) -> impl Iterator<Item = &mut ActionEvent> {
        self.events.iter_mut()
    }

    /// Sizes the tables for about `actions` more actions.
    pub fn reserve(&mut self, actions: usize) {
        self.actions.reserve(actions);
        // A cold migration records five events, a confirm one.
        self.events.reserve(actions.saturating_mul(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §1.5: message becomes 'Error' at the first failed event; events finish by name.
    #[test]
    fn error_event_marks_action() {
        let mut log = ActionLog::default();
        let a = log.start_action(
            ServerId(0),
            ActionName::Migrate,
            RequestId(1),
            None,
            SimTime(0),
        );
        log.start_event(a, EventName::ConductorMigrateServer, None, SimTime(10));
        log.start_event(a, EventName::ColdMigrate, None, SimTime(10));
        log.finish_event(
            a,
            EventName::ColdMigrate,
            None,
            EventResult::Error,
            "No valid host",
            SimTime(20),
        );
        let act = log.get(a);
        assert!(act.message_error);
        let events: Vec<_> = log.events(act).collect();
        assert_eq!(events[1].end, Some((SimTime(20), EventResult::Error)));
        assert_eq!(&*events[1].details, "No valid host");
        assert_eq!(events[0].end, None);
        assert_eq!(act.updated_at, SimTime(20));
    }

    /// Events of actions started in turn stay with their own action, in the order they started;
    /// an event finishes the latest open one of its name and host (README, Fidelity).
    #[test]
    fn interleaved_actions_keep_their_events() {
        let mut log = ActionLog::default();
        let a = log.start_action(
            ServerId(0),
            ActionName::Migrate,
            RequestId(1),
            None,
            SimTime(0),
        );
        let b = log.start_action(
            ServerId(1),
            ActionName::Migrate,
            RequestId(2),
            None,
            SimTime(0),
        );
        let empty = log.start_action(
            ServerId(2),
            ActionName::Delete,
            RequestId(3),
            None,
            SimTime(0),
        );
        log.start_event(a, EventName::ComputePrepResize, None, SimTime(1));
        log.start_event(b, EventName::ComputePrepResize, None, SimTime(2));
        log.start_event(
            a,
            EventName::ComputeResizeInstance,
            Some(HostId(4)),
            SimTime(3),
        );
        log.start_event(
            a,
            EventName::ComputeResizeInstance,
            Some(HostId(4)),
            SimTime(4),
        );
        log.start_event(b, EventName::ComputeResizeInstance, None, SimTime(5));
        log.finish_event(
            a,
            EventName::ComputeResizeInstance,
            Some(HostId(4)),
            EventResult::Success,
            "",
            SimTime(6),
        );
        let names = |id| {
            log.events(log.get(id))
                .map(|e| (e.name, e.start.0, e.end.is_some()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(a),
            [
                (EventName::ComputePrepResize, 1, false),
                (EventName::ComputeResizeInstance, 3, false),
                (EventName::ComputeResizeInstance, 4, true)
            ]
        );
        assert_eq!(
            names(b),
            [
                (EventName::ComputePrepResize, 2, false),
                (EventName::ComputeResizeInstance, 5, false)
            ]
        );
        assert!(names(empty).is_empty());
    }
}
