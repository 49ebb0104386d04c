//! The scheduling log (scheduling.csv): every scheduler decision with what it chose, and — for
//! clouds small enough to read — every host it dropped and why, in the order of Nova's pipeline
//! (spec §8.1). For larger clouds only the outcome is logged: classifying every host would be the
//! full scan the scheduler's index exists to avoid.

use super::{OpId, Sim};
use crate::model::HostId;
use crate::scheduler::SelectRequest;
use crate::trace::pipe::{DecisionMsg, TraceMsg};
use crate::vocab::{DropReason, Exception, Purpose};
use std::fmt::Write as _;

/// Clouds up to this many hosts get the per-host drop reasons.
pub const EXPLAIN_MAX_HOSTS: usize = 200;

impl Sim {
    /// Why `h` is not a candidate for `req`, if it is not (spec §8.1 steps 1–4, in order).
    fn drop_reason(&self, h: HostId, req: &SelectRequest) -> Option<DropReason> {
        let host = self.cloud.world.host(h);
        if !host.enabled {
            Some(DropReason::Disabled)
        } else if !self.cloud.world.placement.fits(h, &req.resources) {
            Some(DropReason::NoCapacity)
        } else if req.requested_host.is_some_and(|r| r != h) {
            Some(DropReason::NotRequested)
        } else if req.ignore_hosts.contains(&h) {
            Some(DropReason::Ignored)
        } else if req
            .availability_zone
            .is_some_and(|az| az != host.availability_zone)
        {
            Some(DropReason::OtherAz)
        } else if !host.up {
            Some(DropReason::Down)
        } else {
            None
        }
    }

    /// One scheduler decision for `op`, logged to scheduling.csv.
    pub(super) fn schedule(
        &mut self,
        op: OpId,
        server: crate::model::ServerId,
        purpose: Purpose,
        req: &SelectRequest,
    ) -> Result<crate::scheduler::Selection, crate::scheduler::NoValidHost> {
        self.sync_index();
        let result = self.cloud.sched.select(
            &self.cloud.world.hosts,
            &self.cloud.world.placement,
            req,
            &mut self.engine.sched_rng,
        );
        match &result {
            Ok(sel) => self.log_decision(
                Some(op),
                server,
                purpose,
                req,
                Ok((sel.selected, &sel.alternates)),
            ),
            Err(e) => self.log_decision(Some(op), server, purpose, req, Err(e.message())),
        }
        result
    }

    /// Writes one row of scheduling.csv.
    pub(super) fn log_decision(
        &mut self,
        op: Option<OpId>,
        server: crate::model::ServerId,
        purpose: Purpose,
        req: &SelectRequest,
        outcome: Result<(HostId, &[HostId]), &str>,
    ) {
        let mut dropped = String::new();
        if self.cloud.world.hosts.len() <= EXPLAIN_MAX_HOSTS {
            for i in 0..self.cloud.world.hosts.len() {
                let h = HostId(i as u32);
                if let Some(reason) = self.drop_reason(h, req) {
                    if !dropped.is_empty() {
                        dropped.push(' ');
                    }
                    let _ = write!(
                        dropped,
                        "{}:{}",
                        self.cloud.world.host(h).name,
                        reason.as_str()
                    );
                }
            }
        }
        let (result, selected, alternates, reason) = match outcome {
            Ok((sel, alts)) => ("selected", Some(sel), alts.into(), String::new()),
            Err(msg) => (
                Exception::NoValidHost.name(),
                None,
                Box::default(),
                msg.to_string(),
            ),
        };
        let request = op.map(|o| self.ops[o.index()].request_id.0);
        let row = DecisionMsg {
            time: self.engine.queue.now(),
            request,
            server,
            purpose,
            result,
            selected,
            alternates,
            reason,
            dropped,
        };
        self.send_trace(TraceMsg::Decision(Box::new(row)));
    }
}
