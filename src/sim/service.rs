//! Scripted service events and servicegroup liveness (spec §10.5).

use super::{Event, Sim};
use crate::engine::Duration;
use crate::model::HostId;
use crate::scenario::ServiceChange;

/// `nova/servicegroup/api.py` `INITIAL_REPORTING_DELAY`: first heartbeat 5 s after start.
const INITIAL_REPORTING_DELAY: Duration = Duration::from_secs(5);

impl Sim {
    /// `service_down_time`, overridden to 2.5 × `report_interval` when not larger than it
    /// (`nova/servicegroup/api.py`).
    fn effective_down_time(&self) -> Duration {
        let n = &self.scenario.nova;
        if n.service_down_time <= n.report_interval {
            // int(2.5 × report_interval) in whole seconds.
            Duration::from_secs(n.report_interval.ms() * 5 / 2 / 1000)
        } else {
            n.service_down_time
        }
    }

    pub(super) fn service_change(&mut self, i: u32) {
        let ev = self.scenario.service_events[i as usize].clone();
        let h = ev.host;
        match ev.change {
            ServiceChange::Disable => self.cloud.world.hosts[h.index()].enabled = false,
            ServiceChange::Enable => self.cloud.world.hosts[h.index()].enabled = true,
            ServiceChange::Stop => {
                if self.cloud.world.liveness[h.index()].stopped {
                    return;
                }
                self.cloud.world.liveness[h.index()].stopped = true;
                self.lose_in_flight_work(h);
                self.cancel_liveness_timer(h);
                if self.cloud.world.host(h).up {
                    // The last heartbeat is taken at the stop: seen down service_down_time later.
                    let d = self.effective_down_time();
                    let k = self.after_timer(d, Event::ServiceSeenDown(h));
                    self.computes.hosts[h.index()].liveness_timer = Some(k);
                }
            }
            ServiceChange::Start => {
                if !self.cloud.world.liveness[h.index()].stopped {
                    return;
                }
                self.cloud.world.liveness[h.index()].stopped = false;
                self.cancel_liveness_timer(h);
                if !self.cloud.world.host(h).up {
                    let k = self.after_timer(INITIAL_REPORTING_DELAY, Event::ServiceSeenUp(h));
                    self.computes.hosts[h.index()].liveness_timer = Some(k);
                }
                // `init_host` runs before the RPC server starts consuming.
                self.init_host(h);
                // Messages that waited for the process are consumed now, in arrival order.
                let parked = std::mem::take(&mut self.computes.hosts[h.index()].parked);
                let now = self.now();
                // Re-queued with the epoch they were sent with: a step for an operation cut
                // short meanwhile is still dropped.
                for e in parked {
                    if let (Some(op), Some(_)) = (e.event.op(), e.event.rpc_call()) {
                        self.call_answered_after_restart(op);
                    }
                    // Not `schedule_at`: a parked message still counts in `Op::queued`.
                    self.engine.queue.schedule(now, e);
                }
            }
        }
        self.refresh_index(h);
        self.trace_host(h);
    }

    fn cancel_liveness_timer(&mut self, h: HostId) {
        if let Some(k) = self.computes.hosts[h.index()].liveness_timer.take() {
            self.cancel_timer(k);
        }
    }

    pub(super) fn service_seen(&mut self, h: HostId, up: bool) {
        self.computes.hosts[h.index()].liveness_timer = None;
        self.cloud.world.hosts[h.index()].up = up;
        self.refresh_index(h);
        self.trace_host(h);
    }
}
