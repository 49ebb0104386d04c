//! Placement's limited answer kept between decisions, on a cloud above
//! `[scheduler] max_placement_results`.
//!
//! Placement answers with the first `limit` enabled hosts, in id order, that have room for the
//! request; the scheduler filters and weighs only those. Walking them again for each decision
//! cost O(limit) reads of scattered host data per decision: placing 1,000,000 servers on
//! 100,000 hosts took 23 s. A [`Window`] holds that answer for one request shape and is kept
//! current by each host update, which changes it only where the host is at or below the
//! window's last host (or when the window holds every fitting host). Inside the window, hosts
//! are kept per weigher group: a decision reads the first candidates of each group (a few
//! dozen) instead of every host of the answer.

use std::collections::{BTreeMap, BTreeSet};

use super::index::GroupId;
use crate::model::HostId;

/// Windows kept at once; the least recently used is dropped beyond this. Every host update
/// refreshes each kept window, and a workload rarely asks for more request shapes at a time.
pub(super) const MAX_WINDOWS: usize = 8;

/// What placement's answer depends on besides the hosts: the resources asked for and, when
/// placement filters by availability zone, the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WindowKey {
    pub(super) need: [i128; 3],
    pub(super) az: Option<String>,
}

impl WindowKey {
    /// Whether a host with these (index) values is in placement's answer, limit aside.
    pub(super) fn admits(&self, enabled: bool, free: &[i128; 3], az: &str) -> bool {
        enabled
            && free.iter().zip(&self.need).all(|(f, n)| f >= n)
            && self.az.as_deref().is_none_or(|a| a == az)
    }
}

/// Placement's answer for one [`WindowKey`]: up to `limit` hosts in ascending id.
#[derive(Debug, Clone)]
pub(super) struct Window {
    pub(super) key: WindowKey,
    hosts: BTreeSet<HostId>,
    /// The same hosts by the group they are in (`index::NO_GROUP` for a host in none), each
    /// set in ascending id: a group's first candidates are the first of its set that pass the
    /// live filters.
    by_group: BTreeMap<GroupId, BTreeSet<HostId>>,
    /// Decision count at the last use, for dropping the least recently used.
    pub(super) last_used: u64,
}

/// How a host update changed a window's hosts, for [`Window::apply`].
pub(super) enum Refresh {
    /// In the window before and after, now in `to` (maybe another group).
    Stays { from: GroupId, to: GroupId },
    /// Left the window (no longer fits); the next fitting host past the old last one, if
    /// the window was full, is `next` with its group.
    Leaves {
        from: GroupId,
        next: Option<(HostId, GroupId)>,
    },
    /// Entered the window in group `to`; the host it pushes out past the limit, if any, is
    /// `pushed` with its group.
    Enters {
        to: GroupId,
        pushed: Option<(HostId, GroupId)>,
    },
}

impl Window {
    pub(super) fn new(
        key: WindowKey,
        hosts: &[HostId],
        group_of: impl Fn(HostId) -> GroupId,
    ) -> Self {
        let mut w = Window {
            key,
            hosts: BTreeSet::new(),
            by_group: BTreeMap::new(),
            last_used: 0,
        };
        for &h in hosts {
            w.insert(h, group_of(h));
        }
        w
    }

    pub(super) fn hosts(&self) -> &BTreeSet<HostId> {
        &self.hosts
    }

    /// The window's hosts by group, groups in id order, [`super::index::NO_GROUP`] last.
    pub(super) fn by_group(&self) -> impl Iterator<Item = (GroupId, &BTreeSet<HostId>)> {
        self.by_group.iter().map(|(&g, hosts)| (g, hosts))
    }

    pub(super) fn contains(&self, h: HostId) -> bool {
        self.hosts.contains(&h)
    }

    pub(super) fn is_full(&self, limit: usize) -> bool {
        self.hosts.len() >= limit
    }

    /// The highest host id in the window.
    pub(super) fn last(&self) -> Option<HostId> {
        self.hosts.last().copied()
    }

    /// Whether a fitting `h` belongs in the window: below its last host, or anywhere while the
    /// window holds every fitting host.
    pub(super) fn reaches(&self, h: HostId, limit: usize) -> bool {
        !self.is_full(limit) || self.last().is_some_and(|last| h <= last)
    }

    pub(super) fn apply(&mut self, h: HostId, change: Refresh) {
        match change {
            Refresh::Stays { from, to } => {
                if from != to {
                    self.remove(h, from);
                    self.insert(h, to);
                }
            }
            Refresh::Leaves { from, next } => {
                self.remove(h, from);
                if let Some((n, g)) = next {
                    self.insert(n, g);
                }
            }
            Refresh::Enters { to, pushed } => {
                self.insert(h, to);
                if let Some((p, g)) = pushed {
                    self.remove(p, g);
                }
            }
        }
    }

    fn insert(&mut self, h: HostId, g: GroupId) {
        self.hosts.insert(h);
        self.by_group.entry(g).or_default().insert(h);
    }

    fn remove(&mut self, h: HostId, g: GroupId) {
        self.hosts.remove(&h);
        if let Some(set) = self.by_group.get_mut(&g) {
            set.remove(&h);
            if set.is_empty() {
                self.by_group.remove(&g);
            }
        }
    }

    /// Debug check: each host is filed under the group `group_of` gives.
    #[cfg(debug_assertions)]
    pub(super) fn filed_by(&self, group_of: impl Fn(HostId) -> GroupId) -> bool {
        let filed: usize = self.by_group.values().map(BTreeSet::len).sum();
        filed == self.hosts.len()
            && self
                .by_group
                .iter()
                .all(|(&g, hosts)| hosts.iter().all(|&h| group_of(h) == g))
    }
}
