//! The event queue: a min-queue ordered by `(time, sequence)` so that no two entries ever tie,
//! with keyed timers that can be cancelled or moved.

use super::time::SimTime;
use priority_queue::PriorityQueue;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::cmp::Reverse;

/// Handle of a scheduled event; unique for the lifetime of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey(u64);

/// A priority queue of events of type `E`. Equal times pop in insertion order.
pub struct EventQueue<E> {
    /// Keys are sequence numbers: hashed by a multiply (Fx), not by SipHash, which cost more
    /// than the heap itself.
    order: PriorityQueue<TimerKey, Reverse<(SimTime, u64)>, FxBuildHasher>,
    payloads: FxHashMap<TimerKey, E>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            order: PriorityQueue::with_default_hasher(),
            payloads: FxHashMap::default(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event popped last (the simulation clock).
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Number of events ever scheduled (a cheap work counter for benchmarks).
    pub fn scheduled_count(&self) -> u64 {
        self.next_seq
    }

    /// Schedules `event` at `at`. Scheduling in the past is clamped to now: causality holds.
    pub fn schedule(&mut self, at: SimTime, event: E) -> TimerKey {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = TimerKey(seq);
        self.order.push(key, Reverse((at, seq)));
        self.payloads.insert(key, event);
        key
    }

    /// Removes a pending event; returns it if it had not fired yet.
    pub fn cancel(&mut self, key: TimerKey) -> Option<E> {
        self.order.remove(&key)?;
        self.payloads.remove(&key)
    }

    /// Moves a pending event to a new time. It takes a fresh sequence number, so it orders
    /// after events already scheduled for that time. Returns false if the event already fired.
    pub fn reschedule(&mut self, key: TimerKey, at: SimTime) -> bool {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order
            .change_priority(&key, Reverse((at, seq)))
            .is_some()
    }

    /// The time of a pending event.
    pub fn time_of(&self, key: TimerKey) -> Option<SimTime> {
        self.order.get_priority(&key).map(|Reverse((t, _))| *t)
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.order.peek().map(|(_, Reverse((t, _)))| *t)
    }

    /// Pops the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (key, Reverse((at, _))) = self.order.pop()?;
        self.now = at;
        let event = self.payloads.remove(&key)?;
        Some((at, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), "b1");
        q.schedule(SimTime(5), "a");
        q.schedule(SimTime(10), "b2");
        q.schedule(SimTime(10), "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn cancel_and_move() {
        let mut q = EventQueue::new();
        let a = q.schedule(SimTime(10), 'a');
        let b = q.schedule(SimTime(20), 'b');
        q.schedule(SimTime(20), 'c');
        assert_eq!(q.cancel(a), Some('a'));
        assert_eq!(q.cancel(a), None);
        assert!(q.reschedule(b, SimTime(20)));
        assert_eq!(q.time_of(b), Some(SimTime(20)));
        // b moved to the same time takes a later sequence number, so c comes first.
        assert_eq!(q.pop(), Some((SimTime(20), 'c')));
        assert_eq!(q.pop(), Some((SimTime(20), 'b')));
        assert!(!q.reschedule(b, SimTime(30)));
        assert_eq!(q.now(), SimTime(20));
    }

    #[test]
    fn past_is_clamped_to_now() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(100), 1);
        q.pop();
        q.schedule(SimTime(50), 2);
        assert_eq!(q.pop(), Some((SimTime(100), 2)));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u64),
        Cancel(usize),
        Move(usize, u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..50).prop_map(Op::Push),
            (0usize..64).prop_map(Op::Cancel),
            (0usize..64, 0u64..50).prop_map(|(i, t)| Op::Move(i, t)),
            Just(Op::Pop),
        ]
    }

    proptest! {
        /// The queue agrees with a BTreeMap shadow keyed by (time, seq) under random operations.
        #[test]
        fn matches_btreemap_shadow(ops in proptest::collection::vec(op(), 1..200)) {
            let mut q = EventQueue::new();
            let mut shadow: BTreeMap<(u64, u64), usize> = BTreeMap::new();
            let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Op::Push(dt) => {
                        let at = q.now().0 + dt;
                        let id = keys.len();
                        let k = q.schedule(SimTime(at), id);
                        shadow.insert((at, seq), id);
                        keys.push((k, (at, seq)));
                        seq += 1;
                    }
                    Op::Cancel(i) if i < keys.len() => {
                        let (k, pos) = keys[i];
                        let was = shadow.remove(&pos).is_some();
                        prop_assert_eq!(q.cancel(k).is_some(), was);
                    }
                    Op::Move(i, dt) if i < keys.len() => {
                        let (k, pos) = keys[i];
                        let at = q.now().0 + dt;
                        let alive = shadow.remove(&pos).is_some();
                        prop_assert_eq!(q.reschedule(k, SimTime(at)), alive);
                        if alive {
                            shadow.insert((at, seq), i);
                            keys[i].1 = (at, seq);
                        }
                        seq += 1;
                    }
                    Op::Pop => {
                        let expected = shadow.pop_first();
                        let got = q.pop();
                        prop_assert_eq!(got.map(|(t, id)| (t.0, id)), expected.map(|((t, _), id)| (t, id)));
                    }
                    _ => {}
                }
            }
        }
    }
}
