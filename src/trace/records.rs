//! The request records of a run while it goes on: only the unfinished ones (and those after
//! the oldest unfinished one) are held; the others have been written to requests.csv.

use super::summary::RequestTally;
use super::RequestRecord;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// The request records, indexed by record number (the order of submission, which is the order
/// of requests.csv).
///
/// A record is final once it is both answered and completed: nothing sets either twice. The
/// file is in record order, so a final record is written once every earlier one is too: the
/// records from the oldest unfinished one on wait in a ring (a `VecDeque` indexed from
/// `written`), which costs O(1) per record where a map keyed by id would cost a lookup.
#[derive(Debug, Default)]
pub struct RequestLog {
    /// Records `written..`, in order.
    live: VecDeque<RequestRecord>,
    /// How many records have left the ring (written, or kept below).
    written: u32,
    /// What summary.json needs of the records that left.
    tally: RequestTally,
    /// Records that left the ring, when a client reads answers after the fact
    /// (`Sim::answer`, the Rally driver): `None` for a run without one.
    kept: Option<FxHashMap<u32, RequestRecord>>,
}

impl RequestLog {
    /// Appends a record; returns its number.
    pub fn push(&mut self, record: RequestRecord) -> u32 {
        let r = self.written + self.live.len() as u32;
        self.live.push_back(record);
        r
    }

    /// Every record of the run so far.
    pub fn len(&self) -> u32 {
        self.written + self.live.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `r`, while it is held; `None` once written (it was final then).
    pub fn get(&self, r: u32) -> Option<&RequestRecord> {
        match r.checked_sub(self.written) {
            Some(i) => self.live.get(i as usize),
            None => self.kept.as_ref()?.get(&r),
        }
    }

    /// Record `r` to update; `None` once written: it was answered and completed, so there is
    /// nothing left to set.
    pub fn get_mut(&mut self, r: u32) -> Option<&mut RequestRecord> {
        self.live.get_mut(r.checked_sub(self.written)? as usize)
    }

    /// Whether record `r` is answered and completed (so nothing changes it any more).
    pub fn is_final(&self, r: u32) -> bool {
        match r.checked_sub(self.written) {
            Some(i) => self
                .live
                .get(i as usize)
                .is_some_and(|rec| rec.answered.is_some() && rec.completed.is_some()),
            None => true,
        }
    }

    /// Whether the oldest held record is answered and completed (the next to write).
    pub fn front_is_final(&self) -> bool {
        self.live
            .front()
            .is_some_and(|head| head.answered.is_some() && head.completed.is_some())
    }

    /// The records not yet written, with their numbers.
    pub fn held(&self) -> impl Iterator<Item = (u32, &RequestRecord)> + '_ {
        (self.written..).zip(&self.live)
    }

    /// From now on, records that are written are also kept for [`RequestLog::get`]: a client
    /// driving the run reads a request's answer after its work is done.
    pub fn keep_written(&mut self) {
        self.kept.get_or_insert_with(FxHashMap::default);
    }

    /// The oldest held record, taken out once it is final (or unconditionally with `all`, at
    /// the end of the run) and counted for the summary.
    pub fn pop_final(&mut self, all: bool) -> Option<RequestRecord> {
        if !all && !self.front_is_final() {
            return None;
        }
        let record = self.live.pop_front()?;
        self.tally.add(&record);
        if let Some(kept) = &mut self.kept {
            kept.insert(self.written, record.clone());
        }
        self.written += 1;
        Some(record)
    }

    /// The summary's figures, of every record (written or not).
    pub fn into_tally(self) -> RequestTally {
        let mut tally = self.tally;
        for r in &self.live {
            tally.add(r);
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ActionKind, Microversion};
    use crate::engine::SimTime;
    use crate::trace::Outcome;

    fn record(id: u32) -> RequestRecord {
        RequestRecord {
            id,
            name: String::new(),
            action: ActionKind::Migrate,
            server: "vm".into(),
            microversion: Microversion(2, 1),
            role: "admin",
            submitted: SimTime(0),
            answered: None,
            code: 0,
            message: String::new(),
            completed: None,
            outcome: Outcome::Pending,
        }
    }

    fn finish(log: &mut RequestLog, r: u32) {
        let rec = log.get_mut(r).expect("held");
        rec.answered = Some(SimTime(1));
        rec.completed = Some(SimTime(2));
        rec.outcome = Outcome::Success;
    }

    /// Records leave in their order, each once it and every earlier one are final.
    #[test]
    fn records_leave_in_order_once_final() {
        let mut log = RequestLog::default();
        let ids: Vec<u32> = (0..3).map(|i| log.push(record(10 + i))).collect();
        assert_eq!(ids, [0, 1, 2]);
        finish(&mut log, 1);
        assert!(log.pop_final(false).is_none(), "record 0 is not final");
        finish(&mut log, 0);
        let out: Vec<u32> = std::iter::from_fn(|| log.pop_final(false))
            .map(|r| r.id)
            .collect();
        assert_eq!(out, [10, 11]);
        assert!(log.get(0).is_none() && log.get_mut(1).is_none());
        assert!(log.is_final(0) && !log.is_final(2));
        assert_eq!(log.held().map(|(i, _)| i).collect::<Vec<_>>(), [2]);
        assert_eq!(log.pop_final(true).map(|r| r.id), Some(12));
        assert_eq!(log.len(), 3);
    }

    /// A client-driven run reads written records back.
    #[test]
    fn kept_records_stay_readable() {
        let mut log = RequestLog::default();
        log.keep_written();
        let r = log.push(record(7));
        finish(&mut log, r);
        assert!(log.pop_final(false).is_some());
        assert_eq!(log.get(r).map(|rec| rec.id), Some(7));
        assert!(log.get_mut(r).is_none());
    }
}
