//! The event queue: a min-queue ordered by `(time, sequence)` so that no two entries ever tie,
//! with keyed timers that can be cancelled or moved.
//!
//! Two heaps share one sequence counter, so together they pop in one total order: most events
//! are never cancelled and go to a plain binary heap that carries them inline; the timers that
//! can be cancelled or moved go to the `priority-queue` crate's keyed heap (its index of keys is
//! what makes `cancel` and `reschedule` cheap, and what a plain event need not pay for).

use super::time::SimTime;
use priority_queue::PriorityQueue;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Handle of a cancellable timer; unique for the lifetime of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey(u64);

/// Where an event sits in the total order.
type Stamp = (SimTime, u64);

/// A plain event in the binary heap, ordered by `(time, seq)` only.
struct Plain<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Plain<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Plain<E> {}

impl<E> PartialOrd for Plain<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Plain<E> {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest event must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A priority queue of events of type `E`. Equal times pop in insertion order.
pub struct EventQueue<E> {
    plain: BinaryHeap<Plain<E>>,
    /// Keys are sequence numbers: hashed by a multiply (Fx), not by SipHash.
    timers: PriorityQueue<TimerKey, Reverse<Stamp>, FxBuildHasher>,
    timer_events: FxHashMap<TimerKey, E>,
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
            plain: BinaryHeap::new(),
            timers: PriorityQueue::with_default_hasher(),
            timer_events: FxHashMap::default(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event popped last (the simulation clock).
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn len(&self) -> usize {
        self.plain.len() + self.timers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of events ever scheduled (a cheap work counter for benchmarks).
    pub fn scheduled_count(&self) -> u64 {
        self.next_seq
    }

    /// A time not before now, and the next sequence number: scheduling in the past is clamped
    /// to now, so causality holds.
    fn stamp(&mut self, at: SimTime) -> Stamp {
        let seq = self.next_seq;
        self.next_seq += 1;
        (at.max(self.now), seq)
    }

    /// Schedules `event` at `at`; it cannot be cancelled (see [`Self::schedule_timer`]).
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let (at, seq) = self.stamp(at);
        self.plain.push(Plain { at, seq, event });
    }

    /// Schedules `event` at `at` as a timer that can be cancelled or moved.
    pub fn schedule_timer(&mut self, at: SimTime, event: E) -> TimerKey {
        let (at, seq) = self.stamp(at);
        let key = TimerKey(seq);
        self.timers.push(key, Reverse((at, seq)));
        self.timer_events.insert(key, event);
        key
    }

    /// Removes a pending timer; returns its event if it had not fired yet.
    pub fn cancel(&mut self, key: TimerKey) -> Option<E> {
        self.timers.remove(&key)?;
        self.timer_events.remove(&key)
    }

    /// Moves a pending timer to a new time. It takes a fresh sequence number, so it orders
    /// after events already scheduled for that time. Returns false if the timer already fired.
    pub fn reschedule(&mut self, key: TimerKey, at: SimTime) -> bool {
        let stamp = self.stamp(at);
        self.timers.change_priority(&key, Reverse(stamp)).is_some()
    }

    /// The time of a pending timer.
    pub fn time_of(&self, key: TimerKey) -> Option<SimTime> {
        self.timers.get_priority(&key).map(|Reverse((t, _))| *t)
    }

    /// `(time, seq)` of the next plain event and of the next timer.
    fn heads(&self) -> (Option<Stamp>, Option<Stamp>) {
        (
            self.plain.peek().map(|p| (p.at, p.seq)),
            self.timers.peek().map(|(_, Reverse(stamp))| *stamp),
        )
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        match self.heads() {
            (Some(a), Some(b)) => Some(a.min(b).0),
            (a, b) => a.or(b).map(|(t, _)| t),
        }
    }

    /// Pops the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let timer_first = match self.heads() {
            (Some(a), Some(b)) => b < a,
            (None, Some(_)) => true,
            _ => false,
        };
        if timer_first {
            let (key, Reverse((at, _))) = self.timers.pop()?;
            self.now = at;
            let event = self.timer_events.remove(&key)?;
            Some((at, event))
        } else {
            let Plain { at, event, .. } = self.plain.pop()?;
            self.now = at;
            Some((at, event))
        }
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
        let a = q.schedule_timer(SimTime(10), 'a');
        let b = q.schedule_timer(SimTime(20), 'b');
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
        PushTimer(u64),
        Cancel(usize),
        Move(usize, u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..50).prop_map(Op::Push),
            (0u64..50).prop_map(Op::PushTimer),
            (0usize..64).prop_map(Op::Cancel),
            (0usize..64, 0u64..50).prop_map(|(i, t)| Op::Move(i, t)),
            Just(Op::Pop),
        ]
    }

    proptest! {
        /// The queue agrees with a BTreeMap shadow keyed by (time, seq) under random operations
        /// on plain events and timers.
        #[test]
        fn matches_btreemap_shadow(ops in proptest::collection::vec(op(), 1..200)) {
            let mut q = EventQueue::new();
            let mut shadow: BTreeMap<(u64, u64), usize> = BTreeMap::new();
            let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Op::Push(dt) => {
                        // A plain event: no key; ids of plain events start at 1,000.
                        let at = q.now().0 + dt;
                        q.schedule(SimTime(at), 1_000 + seq as usize);
                        shadow.insert((at, seq), 1_000 + seq as usize);
                        seq += 1;
                    }
                    Op::PushTimer(dt) => {
                        let at = q.now().0 + dt;
                        let id = keys.len();
                        let k = q.schedule_timer(SimTime(at), id);
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
