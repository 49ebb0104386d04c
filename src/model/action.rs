//! Instance actions and their events (spec §1.5, §7).

use super::ids::{ActionId, HostId, RequestId, ServerId};
use super::names::{ActionName, EventName};
use crate::engine::SimTime;
use std::collections::VecDeque;

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
    /// The event of the same action that started before it (`NO_EVENT` for its first).
    prev: u32,
}

/// End of an action's chain of events.
const NO_EVENT: u32 = u32::MAX;
/// In place of `next` once the event's action is written: the event can leave the table.
const WRITTEN: u32 = u32::MAX - 1;
/// The owner of an action recorded without one: it is written at the end of the run.
pub const NO_OWNER: u32 = u32::MAX;

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
    /// What records its events (the simulator's operation), which decides when it is final.
    pub owner: u32,
    /// First and last of its events in `ActionLog::events` (`NO_EVENT` when it has none).
    first_event: u32,
    last_event: u32,
    /// How many events it has: its written form is sized once.
    event_count: u32,
}

/// An action changed after its rows were written to instance_actions.csv: the file would
/// not say what the run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("instance action {0} changed after its rows were written")]
pub struct ActionWritten(pub ActionId);

/// The actions of a run not yet written, in creation order, and their events.
///
/// The events of every action live in one table, each chained to the next of its action: a
/// vector per action cost an allocation per action and another when it grew (a cold migration
/// records five events), and was most of a large run's memory. Both tables are rings: written
/// actions leave from the front (instance_actions.csv is in creation order), and so do the
/// events at the front once their actions are written. Ids and event indices stay absolute.
#[derive(Debug, Clone, Default)]
pub struct ActionLog {
    /// Actions `written..`.
    pub actions: VecDeque<InstanceAction>,
    written: u32,
    /// Events `events_gone..` (absolute indices, as in the chains).
    events: VecDeque<ActionEvent>,
    events_gone: u32,
    /// Of the written actions, for summary.json.
    counts: ActionCounts,
    /// The first change asked of a written action (see [`ActionLog::take_error`]): the changes
    /// come from deep in the simulator's steps, which report it between events.
    error: Option<ActionWritten>,
}

/// How many actions a run recorded, and how many of them with an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    pub actions: u64,
    pub with_error: u64,
}

impl ActionLog {
    /// Starts an action without an owner (see [`NO_OWNER`]).
    pub fn start_action(
        &mut self,
        server: ServerId,
        action: ActionName,
        request: RequestId,
        project: Option<std::sync::Arc<str>>,
        now: SimTime,
    ) -> ActionId {
        self.start_owned_action(NO_OWNER, server, action, request, project, now)
    }

    pub fn start_owned_action(
        &mut self,
        owner: u32,
        server: ServerId,
        action: ActionName,
        request: RequestId,
        project: Option<std::sync::Arc<str>>,
        now: SimTime,
    ) -> ActionId {
        let id = ActionId(self.written + self.actions.len() as u32);
        self.actions.push_back(InstanceAction {
            server,
            action,
            request,
            project,
            start: now,
            message_error: false,
            finish: None,
            updated_at: now,
            owner,
            first_event: NO_EVENT,
            last_event: NO_EVENT,
            event_count: 0,
        });
        id
    }

    /// Action `action` to change; `None` (and the error remembered) once it is written.
    fn action_mut(&mut self, action: ActionId) -> Option<&mut InstanceAction> {
        let held = action
            .0
            .checked_sub(self.written)
            .and_then(|i| self.actions.get_mut(i as usize));
        if held.is_none() {
            self.error.get_or_insert(ActionWritten(action));
        }
        held
    }

    /// The first change asked of an action after it was written, if any.
    pub fn take_error(&mut self) -> Option<ActionWritten> {
        self.error.take()
    }

    fn event_mut(&mut self, e: u32) -> Option<&mut ActionEvent> {
        self.events
            .get_mut(e.checked_sub(self.events_gone)? as usize)
    }

    pub fn start_event(
        &mut self,
        action: ActionId,
        name: EventName,
        host: Option<HostId>,
        now: SimTime,
    ) {
        let e = self.events_gone + self.events.len() as u32;
        let Some(a) = self.action_mut(action) else {
            return;
        };
        a.updated_at = now;
        let last = a.last_event;
        if last == NO_EVENT {
            a.first_event = e;
        }
        a.last_event = e;
        a.event_count += 1;
        if let Some(last) = self.event_mut(last) {
            last.next = e;
        }
        self.events.push_back(ActionEvent {
            name,
            start: now,
            end: None,
            host,
            details: Box::default(),
            next: NO_EVENT,
            prev: last,
        });
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
        let Some(a) = self.action_mut(action) else {
            return;
        };
        a.updated_at = now;
        if result == EventResult::Error {
            a.message_error = true;
        }
        // From the last started back: the first match is the latest, and it is nearly always
        // the last event itself (an action's events are scattered through the table, so a walk
        // from the first was a cache miss per event: 5.5 % of the cold storm's time).
        let mut i = a.last_event;
        while let Some(e) = self.event_mut(i) {
            if e.name == name && e.host == host && e.end.is_none() {
                e.end = Some((now, result));
                e.details = details.into();
                return;
            }
            i = e.prev;
        }
    }

    pub fn finish_action(&mut self, action: ActionId, now: SimTime) {
        if let Some(a) = self.action_mut(action) {
            a.finish = Some(now);
            a.updated_at = now;
        }
    }

    #[cfg(test)]
    pub fn get(&self, action: ActionId) -> &InstanceAction {
        &self.actions[(action.0 - self.written) as usize]
    }

    fn event(&self, e: u32) -> Option<&ActionEvent> {
        self.events.get(e.checked_sub(self.events_gone)? as usize)
    }

    /// The events of `action`, in the order they started.
    pub fn events<'a>(&'a self, action: &InstanceAction) -> impl Iterator<Item = &'a ActionEvent> {
        let mut i = action.first_event;
        std::iter::from_fn(move || {
            let e = self.event(i)?;
            i = e.next;
            Some(e)
        })
    }

    /// Every event held, in the order they started.
    pub fn all_events_mut(&mut self) -> impl Iterator<Item = &mut ActionEvent> {
        self.events.iter_mut()
    }

    /// The oldest action held (the next to write).
    pub fn front(&self) -> Option<&InstanceAction> {
        self.actions.front()
    }

    /// Takes the oldest action out, to be written, with its events in the order they started:
    /// moved out, not copied (the details' strings go with them). The events leave the table
    /// once every event before them has (events of actions that started earlier and are still
    /// held stay in place).
    pub fn take_front(&mut self) -> Option<(InstanceAction, Vec<ActionEvent>)> {
        let a = self.actions.pop_front()?;
        self.written += 1;
        self.counts.actions += 1;
        self.counts.with_error += u64::from(a.message_error);
        let mut events = Vec::with_capacity(a.event_count as usize);
        let mut i = a.first_event;
        while let Some(e) = self.event_mut(i) {
            let next = std::mem::replace(&mut e.next, WRITTEN);
            events.push(ActionEvent {
                details: std::mem::take(&mut e.details),
                next: NO_EVENT,
                ..*e
            });
            i = next;
        }
        while self.events.front().is_some_and(|e| e.next == WRITTEN) {
            self.events.pop_front();
            self.events_gone += 1;
        }
        Some((a, events))
    }

    /// Every action of the run, written or held.
    pub fn counts(&self) -> ActionCounts {
        let held = self.actions.iter();
        ActionCounts {
            actions: self.counts.actions + self.actions.len() as u64,
            with_error: self.counts.with_error + held.filter(|a| a.message_error).count() as u64,
        }
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

    /// Written actions leave from the front with their events; the events of an action still
    /// held stay (and its chain with them) even when they started before a written one's;
    /// a change asked of a written action is reported, not applied.
    #[test]
    fn written_actions_leave_with_their_events() {
        let mut log = ActionLog::default();
        let start = |log: &mut ActionLog, s| {
            log.start_owned_action(
                s,
                ServerId(s),
                ActionName::Migrate,
                RequestId(s),
                None,
                SimTime(0),
            )
        };
        let (a, b) = (start(&mut log, 0), start(&mut log, 1));
        log.start_event(b, EventName::ComputePrepResize, None, SimTime(1));
        log.start_event(a, EventName::ComputePrepResize, None, SimTime(2));
        log.start_event(b, EventName::ColdMigrate, None, SimTime(3));
        log.finish_event(
            b,
            EventName::ColdMigrate,
            None,
            EventResult::Error,
            "x",
            SimTime(4),
        );
        assert_eq!(log.front().map(|x| x.owner), Some(0));
        let (taken, events) = log.take_front().expect("a is held");
        // a leaves with its own event only, moved out whole.
        assert_eq!((taken.owner, taken.server), (0, ServerId(0)));
        let starts: Vec<_> = events.iter().map(|e| (e.name, e.start.0)).collect();
        assert_eq!(starts, [(EventName::ComputePrepResize, 2)]);
        // b's first event is still at the front of the table: nothing left it.
        assert_eq!(log.events.len(), 3);
        let c = start(&mut log, 2);
        assert_eq!(c, ActionId(2));
        log.start_event(c, EventName::ColdMigrate, None, SimTime(5));
        let names: Vec<_> = log.events(log.get(b)).map(|e| e.start.0).collect();
        assert_eq!(names, [1, 3]);
        assert_eq!(
            log.counts(),
            ActionCounts {
                actions: 3,
                with_error: 1
            }
        );
        let (taken, events) = log.take_front().expect("b is held");
        // b leaves with both its events in the order they started, its failed one's details
        // and result moved with it.
        assert_eq!(taken.owner, 1);
        assert!(taken.message_error);
        let rows: Vec<_> = (events.iter())
            .map(|e| (e.name, e.start.0, e.end, &*e.details))
            .collect();
        assert_eq!(
            rows,
            [
                (EventName::ComputePrepResize, 1, None, ""),
                (
                    EventName::ColdMigrate,
                    3,
                    Some((SimTime(4), EventResult::Error)),
                    "x"
                )
            ]
        );
        // b's events and a's left; c's stays.
        assert_eq!(log.events.len(), 1);
        assert_eq!(
            log.events(log.get(c))
                .map(|e| e.start.0)
                .collect::<Vec<_>>(),
            [5]
        );
        assert_eq!(
            log.counts(),
            ActionCounts {
                actions: 3,
                with_error: 1
            }
        );
        assert_eq!(log.take_error(), None);
        log.start_event(a, EventName::ColdMigrate, None, SimTime(6));
        log.finish_action(b, SimTime(6));
        assert_eq!(log.take_error(), Some(ActionWritten(a)));
        assert_eq!(log.take_error(), None);
        assert_eq!(log.events.len(), 1);
    }
}
