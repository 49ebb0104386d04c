//! The event queue: a min-queue ordered by `(time, sequence)` so that no two entries ever tie,
//! with keyed timers that can be cancelled or moved.
//!
//! It is a radix heap (a monotone integer priority queue) over the time in ms, in 6-bit digits.
//! The front holds the entries at time `last` and pops them in order. Every other entry sits in
//! bucket `(p, d)`: `p` is the most significant digit in which its time differs from `last`, `d`
//! its own digit there, so the lowest non-empty bucket holds the earliest entries. When the front
//! runs dry, a bucket of position 0 (a single time) simply becomes the front; a higher one is
//! redistributed around its smallest time, the new `last`, into the buckets below it. The other
//! buckets keep their places, as the new `last` has the same digits above theirs.
//!
//! Sequence numbers need not be stored: entries of one time always share a bucket, and each
//! bucket (the front too) keeps its entries of one time in sequence order, because an entry
//! enters a bucket either when it is scheduled (the largest sequence number yet: appended) or
//! when a higher bucket is redistributed, in order, into the buckets below it, all empty then.
//!
//! Timers share the buckets, so plain events and timers pop in one total order. A timer's event
//! waits in a map by key, with its current time and sequence number; cancelling or moving it
//! leaves its old entry behind, dropped when it reaches the front (or purged once such entries
//! outnumber the pending ones). Scheduling below `last` (only after a peek refilled the front and
//! no pop followed) re-buckets every entry around the new time: rare, and linear.

use super::time::SimTime;
use rustc_hash::FxHashMap;

/// Handle of a cancellable timer; unique for the lifetime of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey(u64);

/// What an entry carries.
enum Slot<E> {
    /// An event that cannot be cancelled, carried inline.
    Plain(E),
    /// A timer's entry: its key and the sequence number it was (re)scheduled with. The entry is
    /// stale unless the timer is pending with that sequence number still.
    Timer(TimerKey, u64),
    /// Already popped: the front is read with a cursor, and moving out leaves this behind.
    Taken,
}

struct Entry<E> {
    at: u64,
    slot: Slot<E>,
}

/// A pending timer.
struct Timer<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

/// Bits per digit: a bucket per value of a digit, a `u64` of occupied flags per position.
const DIGIT_BITS: u32 = 6;
const RADIX: usize = 1 << DIGIT_BITS;
const POSITIONS: usize = 64_usize.div_ceil(DIGIT_BITS as usize);

/// Stale entries tolerated before a purge is considered (it also needs them to outnumber the
/// pending ones, so its linear cost is amortized over the cancels and moves that made them).
const STALE_SLACK: usize = 64;

/// An emptied bucket keeps its buffer for reuse unless it grew larger than this (a burst); the
/// front drops its popped entries once this many pile up, half of it (a burst at one time).
const KEEP_CAPACITY: usize = 256;

/// A priority queue of events of type `E`. Equal times pop in insertion order.
pub struct EventQueue<E> {
    /// The entries at time `last`, in sequence order; those before `head` are spent.
    front: Vec<Entry<E>>,
    head: usize,
    /// Bucket `(position, digit)` at `position * RADIX + digit`.
    buckets: Box<[Vec<Entry<E>>]>,
    /// Bit `p` is set when position `p` has a non-empty bucket.
    positions: u64,
    /// Bit `d` of `digits[p]` is set when bucket `(p, d)` is not empty.
    digits: [u64; POSITIONS],
    last: u64,
    /// Pending timers by key (Fx: keys are integers, hashed by a multiply).
    timers: FxHashMap<TimerKey, Timer<E>>,
    /// Pending events, plain and timers.
    live: usize,
    /// Entries of timers cancelled or moved since, still in the buckets.
    stale: usize,
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
            front: Vec::new(),
            head: 0,
            buckets: (0..POSITIONS * RADIX).map(|_| Vec::new()).collect(),
            positions: 0,
            digits: [0; POSITIONS],
            last: 0,
            timers: FxHashMap::default(),
            live: 0,
            stale: 0,
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event popped last (the simulation clock).
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Number of events ever scheduled (a cheap work counter for benchmarks).
    pub fn scheduled_count(&self) -> u64 {
        self.next_seq
    }

    /// A time not before now, and the next sequence number: scheduling in the past is clamped
    /// to now, so causality holds.
    fn stamp(&mut self, at: SimTime) -> (SimTime, u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        (at.max(self.now), seq)
    }

    /// Schedules `event` at `at`; it cannot be cancelled (see [`Self::schedule_timer`]).
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let (at, _) = self.stamp(at);
        self.live += 1;
        self.push(at.0, Slot::Plain(event));
    }

    /// Schedules `event` at `at` as a timer that can be cancelled or moved.
    pub fn schedule_timer(&mut self, at: SimTime, event: E) -> TimerKey {
        let (at, seq) = self.stamp(at);
        let key = TimerKey(seq);
        self.timers.insert(key, Timer { at, seq, event });
        self.live += 1;
        self.push(at.0, Slot::Timer(key, seq));
        key
    }

    /// Removes a pending timer; returns its event if it had not fired yet.
    pub fn cancel(&mut self, key: TimerKey) -> Option<E> {
        let timer = self.timers.remove(&key)?;
        self.live -= 1;
        self.stale += 1;
        self.purge_if_stale();
        Some(timer.event)
    }

    /// Moves a pending timer to a new time. It takes a fresh sequence number, so it orders
    /// after events already scheduled for that time. Returns false if the timer already fired.
    pub fn reschedule(&mut self, key: TimerKey, at: SimTime) -> bool {
        let (at, seq) = self.stamp(at);
        let Some(timer) = self.timers.get_mut(&key) else {
            return false;
        };
        timer.at = at;
        timer.seq = seq;
        self.stale += 1;
        self.push(at.0, Slot::Timer(key, seq));
        self.purge_if_stale();
        true
    }

    /// The time of a pending timer.
    pub fn time_of(&self, key: TimerKey) -> Option<SimTime> {
        self.timers.get(&key).map(|t| t.at)
    }

    /// Every pending event, in no particular order (a scan of the whole queue: for rare
    /// questions such as "what work is in flight on this host", not for the hot path).
    pub fn pending(&self) -> impl Iterator<Item = &E> + '_ {
        let entries = self.front[self.head..]
            .iter()
            .chain(self.buckets.iter().flatten());
        entries.filter_map(|e| match &e.slot {
            Slot::Plain(event) => Some(event),
            Slot::Timer(key, seq) => self
                .timers
                .get(key)
                .filter(|t| t.seq == *seq)
                .map(|t| &t.event),
            Slot::Taken => None,
        })
    }

    /// Time of the next event, if any. It may refill the front (hence `&mut`); the order of the
    /// events does not change.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.settle().then_some(SimTime(self.last))
    }

    /// Pops the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if !self.settle() {
            return None;
        }
        let slot = std::mem::replace(&mut self.front.get_mut(self.head)?.slot, Slot::Taken);
        self.head += 1;
        let event = match slot {
            Slot::Plain(event) => event,
            Slot::Timer(key, _) => self.timers.remove(&key)?.event,
            Slot::Taken => return None,
        };
        self.live -= 1;
        self.now = SimTime(self.last);
        Some((self.now, event))
    }

    /// Whether an entry is pending (plain entries always are).
    fn is_live(timers: &FxHashMap<TimerKey, Timer<E>>, slot: &Slot<E>) -> bool {
        match slot {
            Slot::Plain(_) => true,
            Slot::Timer(key, seq) => timers.get(key).is_some_and(|t| t.seq == *seq),
            Slot::Taken => false,
        }
    }

    /// Puts an entry in its bucket; its time must not be below `last`.
    #[inline(always)]
    fn insert(&mut self, entry: Entry<E>) {
        let diff = entry.at ^ self.last;
        if diff == 0 {
            if self.head >= KEEP_CAPACITY && self.head * 2 >= self.front.len() {
                self.compact_front();
            }
            self.front.push(entry);
        } else {
            let position = (63 - diff.leading_zeros()) / DIGIT_BITS;
            let digit = (entry.at >> (position * DIGIT_BITS)) as usize & (RADIX - 1);
            self.buckets[position as usize * RADIX + digit].push(entry);
            self.digits[position as usize] |= 1 << digit;
            self.positions |= 1 << position;
        }
    }

    /// Drops the popped entries at the start of the front.
    #[cold]
    fn compact_front(&mut self) {
        self.front.drain(..self.head);
        self.head = 0;
    }

    /// Adds a newly scheduled entry (it has the largest sequence number yet).
    #[inline]
    fn push(&mut self, at: u64, slot: Slot<E>) {
        if at < self.last {
            self.rebuild(at);
        }
        self.insert(Entry { at, slot });
    }

    /// Makes the head of the front a pending entry, skipping stale ones and refilling the front
    /// as needed; false when no event is pending.
    #[inline(always)]
    fn settle(&mut self) -> bool {
        loop {
            match self.front.get(self.head) {
                Some(Entry {
                    slot: Slot::Plain(_),
                    ..
                }) => return true,
                Some(Entry { slot, .. }) => {
                    if Self::is_live(&self.timers, slot) {
                        return true;
                    }
                    self.head += 1;
                    self.stale -= 1;
                }
                None => {
                    if !self.refill() {
                        return false;
                    }
                }
            }
        }
    }

    /// Refills the spent front from the lowest non-empty bucket; false if there is none.
    #[inline]
    fn refill(&mut self) -> bool {
        self.front.clear();
        self.head = 0;
        if self.positions == 0 {
            return false;
        }
        let position = self.positions.trailing_zeros() as usize;
        let digit = self.digits[position].trailing_zeros() as usize;
        self.digits[position] &= !(1 << digit);
        if self.digits[position] == 0 {
            self.positions &= !(1 << position);
        }
        let index = position * RADIX + digit;
        if position == 0 {
            // One time: the bucket becomes the front as it is.
            std::mem::swap(&mut self.front, &mut self.buckets[index]);
            self.last = self.front.first().map_or(self.last, |e| e.at);
            Self::recycle(&mut self.buckets[index]);
        } else {
            self.redistribute(index);
        }
        true
    }

    /// Redistributes a bucket, the lowest non-empty one, around its smallest time.
    #[inline(never)]
    fn redistribute(&mut self, index: usize) {
        let mut bucket = std::mem::take(&mut self.buckets[index]);
        self.last = bucket.iter().map(|e| e.at).min().unwrap_or(self.last);
        // They agree with the new `last` on this bucket's digit and above: they all go lower.
        for entry in bucket.drain(..) {
            self.insert(entry);
        }
        Self::recycle(&mut bucket);
        self.buckets[index] = bucket;
    }

    /// Lets an emptied bucket keep its buffer unless a burst made it large.
    fn recycle(bucket: &mut Vec<Entry<E>>) {
        if bucket.capacity() > KEEP_CAPACITY {
            *bucket = Vec::new();
        }
    }

    /// Re-buckets every pending entry around `last` (at most the time of any entry) and drops
    /// the stale ones. Entries of one time come out of one bucket in sequence order and go into
    /// one bucket in that order, so the order holds.
    #[cold]
    fn rebuild(&mut self, last: u64) {
        let mut all: Vec<Entry<E>> = self.front.drain(self.head..).collect();
        self.front.clear();
        self.head = 0;
        for bucket in self.buckets.iter_mut() {
            all.append(bucket);
        }
        self.positions = 0;
        self.digits = [0; POSITIONS];
        self.last = last;
        self.stale = 0;
        for entry in all {
            if Self::is_live(&self.timers, &entry.slot) {
                self.insert(entry);
            }
        }
    }

    fn purge_if_stale(&mut self) {
        if self.stale > STALE_SLACK && self.stale > self.live {
            self.rebuild(self.last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    impl<E> EventQueue<E> {
        /// Checks the bucket invariants and the counts; returns the number of entries.
        fn check(&self) -> usize {
            assert!(self.head <= self.front.len());
            let front = &self.front[self.head..];
            assert!(front.iter().all(|e| e.at == self.last));
            for (index, bucket) in self.buckets.iter().enumerate() {
                let (position, digit) = (index / RADIX, index % RADIX);
                let flagged = self.digits[position] >> digit & 1 == 1;
                assert_eq!(flagged, !bucket.is_empty(), "bucket ({position}, {digit})");
                for e in bucket {
                    let diff = e.at ^ self.last;
                    assert!(e.at > self.last);
                    assert_eq!((63 - diff.leading_zeros()) / DIGIT_BITS, position as u32);
                    assert_eq!(
                        (e.at >> (position as u32 * DIGIT_BITS)) as usize % RADIX,
                        digit
                    );
                }
            }
            for (position, digits) in self.digits.iter().enumerate() {
                assert_eq!(self.positions >> position & 1 == 1, *digits != 0);
            }
            let entries = || front.iter().chain(self.buckets.iter().flatten());
            assert!(entries().all(|e| !matches!(e.slot, Slot::Taken)));
            let live = entries()
                .filter(|e| Self::is_live(&self.timers, &e.slot))
                .count();
            assert_eq!(live, self.live);
            assert_eq!(entries().count(), live + self.stale);
            assert!(self.now.0 <= self.last || self.live == 0);
            live + self.stale
        }
    }

    fn drain<E>(q: &mut EventQueue<E>) -> Vec<(u64, E)> {
        std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect()
    }

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), "b1");
        q.schedule(SimTime(5), "a");
        q.schedule(SimTime(10), "b2");
        q.schedule(SimTime(10), "b3");
        let order: Vec<_> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
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

    /// Where the entries at `at` sit: `None` for the front, else `(position, digit)`.
    fn place<E>(q: &EventQueue<E>, at: u64) -> Option<(usize, usize)> {
        if q.front[q.head..].iter().any(|e| e.at == at) {
            return None;
        }
        let index = q.buckets.iter().position(|b| b.iter().any(|e| e.at == at));
        index.map(|i| (i / RADIX, i % RADIX))
    }

    /// Entries of one time keep their insertion order on their way down: redistributed from
    /// position 2 to position 1, then to position 0, swapped in as the front, with pushes at that
    /// time appended at every stage.
    #[test]
    fn equal_times_stay_fifo_on_the_way_down() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5000), "a1");
        q.schedule(SimTime(3), "x");
        q.schedule(SimTime(5000), "a2");
        q.schedule(SimTime(4900), "y");
        q.schedule(SimTime(5001), "b1");
        assert_eq!(q.pop(), Some((SimTime(3), "x")));
        q.schedule(SimTime(5000), "a3");
        assert_eq!(place(&q, 5000), Some((2, 1)));
        // Redistributed around 4900: the 5000s go to position 1 together.
        assert_eq!(q.pop(), Some((SimTime(4900), "y")));
        assert_eq!(place(&q, 5000), Some((1, 14)));
        q.schedule(SimTime(5000), "a4");
        q.schedule(SimTime(4995), "w");
        q.check();
        // Redistributed around 4995: the 5000s go to position 0.
        assert_eq!(q.pop(), Some((SimTime(4995), "w")));
        assert_eq!(place(&q, 5000), Some((0, 8)));
        q.schedule(SimTime(5000), "a5");
        q.check();
        // Swapped in as the front; a push at that time then appends.
        assert_eq!(q.pop(), Some((SimTime(5000), "a1")));
        assert_eq!(place(&q, 5000), None);
        q.schedule(SimTime(5000), "a6");
        q.schedule(SimTime(5001), "b2");
        q.check();
        let rest: Vec<_> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        assert_eq!(rest, ["a2", "a3", "a4", "a5", "a6", "b1", "b2"]);
    }

    /// A chain of events at one time (each scheduling the next at now) keeps the front small,
    /// and a burst at one time keeps its order when the front drops its popped entries.
    #[test]
    fn events_at_one_time_keep_the_front_small() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(7), 0u32);
        for i in 1..10_000 {
            assert_eq!(q.pop(), Some((SimTime(7), i - 1)));
            q.schedule(SimTime(7), i);
            assert!(q.front.len() <= 2 * KEEP_CAPACITY + 1);
        }
        for i in 10_000..11_000 {
            q.schedule(SimTime(7), i);
        }
        for i in 9_999..10_600 {
            assert_eq!(q.pop(), Some((SimTime(7), i)));
        }
        for i in 11_000..11_010 {
            q.schedule(SimTime(7), i);
        }
        q.check();
        let rest: Vec<_> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        assert_eq!(rest, (10_600..11_010).collect::<Vec<_>>());
    }

    /// Timers and plain events at one time interleave by sequence number, through refills.
    #[test]
    fn timers_and_plain_events_share_one_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(500), 0);
        let k1 = q.schedule_timer(SimTime(500), 1);
        q.schedule(SimTime(500), 2);
        let k3 = q.schedule_timer(SimTime(100), 3);
        q.schedule(SimTime(500), 4);
        assert!(q.reschedule(k3, SimTime(500)));
        let k6 = q.schedule_timer(SimTime(600), 6);
        assert!(q.reschedule(k6, SimTime(500)));
        assert_eq!(q.time_of(k1), Some(SimTime(500)));
        assert_eq!(q.len(), 6);
        let order: Vec<_> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        assert_eq!(order, vec![0, 1, 2, 4, 3, 6]);
        assert_eq!(q.time_of(k1), None);
        assert!(q.is_empty());
        q.check();
    }

    /// A peek that redistributes a bucket raises `last` above now; scheduling between now and
    /// that time afterwards (at now, too) must still come out first, equal times in order.
    #[test]
    fn schedule_below_a_peeked_time() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), "a");
        assert_eq!(q.pop(), Some((SimTime(10), "a")));
        q.schedule(SimTime(50), "b1");
        q.schedule(SimTime(50), "b2");
        q.schedule(SimTime(90), "c");
        assert_eq!(q.peek_time(), Some(SimTime(50)));
        assert_eq!(q.now(), SimTime(10));
        q.schedule(SimTime(30), "d");
        q.schedule(SimTime(10), "e");
        q.schedule(SimTime(5), "f"); // clamped to now = 10
        q.schedule(SimTime(50), "b3");
        q.check();
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        assert_eq!(
            drain(&mut q),
            vec![
                (10, "e"),
                (10, "f"),
                (30, "d"),
                (50, "b1"),
                (50, "b2"),
                (50, "b3"),
                (90, "c")
            ]
        );
    }

    /// A timer moved below a peeked time, and one moved after a peek to the peeked time.
    #[test]
    fn reschedule_below_a_peeked_time() {
        let mut q = EventQueue::new();
        let k = q.schedule_timer(SimTime(80), 'k');
        q.schedule(SimTime(40), 'p');
        let j = q.schedule_timer(SimTime(90), 'j');
        assert_eq!(q.peek_time(), Some(SimTime(40)));
        assert!(q.reschedule(k, SimTime(20)));
        assert!(q.reschedule(j, SimTime(40)));
        q.check();
        assert_eq!(drain(&mut q), vec![(20, 'k'), (40, 'p'), (40, 'j')]);
        q.check();
    }

    /// Times near `u64::MAX` use the top bucket, and scheduling after the clock got there is
    /// clamped to it.
    #[test]
    fn times_near_the_end_of_time() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(u64::MAX), 'z');
        q.schedule(SimTime(u64::MAX - 1), 'y');
        let k = q.schedule_timer(SimTime(u64::MAX), 't');
        q.schedule(SimTime(0), 'a');
        q.schedule(SimTime(1 << 63), 'm');
        assert_eq!(q.pop(), Some((SimTime(0), 'a')));
        assert_eq!(q.pop(), Some((SimTime(1 << 63), 'm')));
        assert_eq!(q.pop(), Some((SimTime(u64::MAX - 1), 'y')));
        assert_eq!(q.pop(), Some((SimTime(u64::MAX), 'z')));
        q.schedule(SimTime(5), 'c');
        assert!(q.reschedule(k, SimTime(7)));
        assert_eq!(q.time_of(k), Some(SimTime(u64::MAX)));
        assert_eq!(drain(&mut q), vec![(u64::MAX, 'c'), (u64::MAX, 't')]);
        assert_eq!(q.now(), SimTime(u64::MAX));
    }

    /// Entries left by cancelled and moved timers are purged once they outnumber the live
    /// ones, and never pop.
    #[test]
    fn stale_entries_are_bounded() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(1), 0u32);
        let keys: Vec<_> = (0..10)
            .map(|i| q.schedule_timer(SimTime(1_000_000), i))
            .collect();
        for round in 0..1_000u64 {
            for &k in &keys {
                assert!(q.reschedule(k, SimTime(1_000_000 - round)));
            }
            assert!(q.check() <= 2 * (STALE_SLACK + q.len()));
        }
        for &k in &keys[5..] {
            assert!(q.cancel(k).is_some());
        }
        assert_eq!(q.len(), 6);
        let got = drain(&mut q);
        assert_eq!(
            got,
            [
                (1, 0),
                (999_001, 0),
                (999_001, 1),
                (999_001, 2),
                (999_001, 3),
                (999_001, 4)
            ]
        );
        assert_eq!(q.check(), 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A plain event `dt` after now.
        Push(u64),
        /// A plain event at an absolute time (often in the past: clamped).
        PushAt(u64),
        /// A plain event up to 10 s after now (digits of higher positions).
        PushWide(u64),
        /// A plain event `dt` before the end of time.
        PushFar(u64),
        PushTimer(u64),
        Cancel(usize),
        Move(usize, u64),
        Pop,
        Peek,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..50).prop_map(Op::Push),
            1 => (0u64..200).prop_map(Op::PushAt),
            1 => (0u64..10_000).prop_map(Op::PushWide),
            1 => (0u64..4).prop_map(Op::PushFar),
            2 => (0u64..50).prop_map(Op::PushTimer),
            1 => (0usize..64).prop_map(Op::Cancel),
            2 => (0usize..64, 0u64..50).prop_map(|(i, t)| Op::Move(i, t)),
            4 => Just(Op::Pop),
            2 => Just(Op::Peek),
        ]
    }

    proptest! {
        /// The queue agrees with a BTreeMap shadow keyed by (time, seq) under random operations
        /// on plain events and timers, with peeks that raise `last` above now before more
        /// events are scheduled below it.
        #[test]
        fn matches_btreemap_shadow(ops in proptest::collection::vec(op(), 1..300)) {
            let mut q = EventQueue::new();
            let mut shadow: BTreeMap<(u64, u64), usize> = BTreeMap::new();
            let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Push(_) | Op::PushAt(_) | Op::PushWide(_) | Op::PushFar(_) => {
                        // A plain event: no key; ids of plain events start at 1,000.
                        let at = match op {
                            Op::Push(dt) | Op::PushWide(dt) => now.saturating_add(dt),
                            Op::PushAt(t) => t,
                            Op::PushFar(dt) => u64::MAX - dt,
                            _ => unreachable!(),
                        };
                        q.schedule(SimTime(at), 1_000 + seq as usize);
                        shadow.insert((at.max(now), seq), 1_000 + seq as usize);
                        seq += 1;
                    }
                    Op::PushTimer(dt) => {
                        let at = now.saturating_add(dt);
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
                        let at = now.saturating_add(dt);
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
                        if let Some(((t, _), _)) = expected {
                            now = t;
                        }
                    }
                    Op::Peek => {
                        let expected = shadow.first_key_value().map(|((t, _), _)| *t);
                        prop_assert_eq!(q.peek_time().map(|t| t.0), expected);
                    }
                    _ => {}
                }
                prop_assert_eq!(q.now().0, now);
                prop_assert_eq!(q.len(), shadow.len());
                prop_assert_eq!(q.scheduled_count(), seq);
                for &(k, (at, s)) in &keys {
                    let pending = shadow.contains_key(&(at, s));
                    prop_assert_eq!(q.time_of(k).map(|t| t.0), pending.then_some(at));
                }
                q.check();
            }
        }
    }

    /// `pending` lists every scheduled event once: plain ones, timers at their current time,
    /// not the cancelled or moved entries left behind, not what was popped.
    #[test]
    fn pending_lists_each_scheduled_event_once() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5), 1);
        let moved = q.schedule_timer(SimTime(7), 2);
        let cancelled = q.schedule_timer(SimTime(9), 3);
        q.schedule(SimTime(1_000_000), 4);
        q.schedule(SimTime(0), 5);
        assert!(q.reschedule(moved, SimTime(70)));
        assert_eq!(q.cancel(cancelled), Some(3));
        assert_eq!(q.pop(), Some((SimTime(0), 5)));
        let mut seen: Vec<i32> = q.pending().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 4]);
        assert_eq!(seen.len(), q.len());
    }
}
