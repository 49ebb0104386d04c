//! The timeline's rows kept as the run writes them, so that `novasim run` writes timeline.json
//! without reading the trace files back (`analysis::timeline` reads the rows kept).
//!
//! Reading them back was most of the cost of a large run's derived files: the timeline shows
//! at most [`super::MAX_HOSTS`] hosts and [`super::MAX_SERVERS`] servers, yet every row of
//! every file had to be read to find the migrations that show on their tracks (100,000-server
//! cold storm: 1.2–1.4 s of reading for a 1.1 s simulation). The trace writer hands each row
//! to a [`TimelineFeed`] with the simulator's ids, which decides by id whether the timeline
//! can need it and keeps a copy of the few that it can, in each file's order. The rows kept
//! ([`KeptRows`]) are then read by the timeline's reader as a results folder's files are, with
//! the totals of the rows not kept: one reader, so the file is the same bytes either way (the
//! tests compare them on every bundled scenario, `run`'s tests).
//!
//! A row is kept when it is of a shown host or server, or when it may show on one's tracks:
//! * hosts.csv: rows of a shown host (the first `max_hosts` to appear, as the reader picks);
//! * transitions.csv: rows of a shown server (the first `max_servers` to appear), and every
//!   row of a migration that shows on a track;
//! * requests.csv, scheduling.csv: rows naming a shown server, or any server while fewer than
//!   `max_servers` have appeared (a name seen there first may still be shown); decisions that
//!   chose a shown host; decisions and events of a migration that shows;
//! * instance_actions.csv: events of a shown server (or any, as for requests) or run by a
//!   shown host.
//!
//! A migration shows on a track when its server is shown, or one of its hosts is: a host its
//! server was on during it, a host the scheduler chose for it, a host whose compute ran one of
//! its events, or its destination in the simulator's record (which covers events written after
//! it ended). Until one of these is seen its rows, decisions and events are held; it is dropped
//! with them once it reaches a terminal status without any (nothing it does afterwards can name
//! another host), so memory holds the shown rows and those of the migrations under way.

use super::writer::{DecisionRow, TransitionRow};
use super::RequestRecord;
use crate::engine::SimTime;
use crate::model::{ActionEvent, HostId, InstanceAction, MigrationId};
use crate::results::{
    ACTIONS_HEADER, HOSTS_HEADER, REQUESTS_HEADER, SCHEDULING_HEADER, TRANSITIONS_HEADER,
};
use rustc_hash::{FxHashMap, FxHashSet};

/// The row files, as indexes into [`TimelineFeed::rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Hosts,
    Transitions,
    Requests,
    Scheduling,
    Actions,
}

impl File {
    const ALL: [File; 5] = [
        File::Hosts,
        File::Transitions,
        File::Requests,
        File::Scheduling,
        File::Actions,
    ];

    fn name(self) -> &'static str {
        match self {
            File::Hosts => crate::results::HOSTS_FILE,
            File::Transitions => crate::results::TRANSITIONS_FILE,
            File::Requests => crate::results::REQUESTS_FILE,
            File::Scheduling => crate::results::SCHEDULING_FILE,
            File::Actions => crate::results::ACTIONS_FILE,
        }
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            File::Hosts => &HOSTS_HEADER,
            File::Transitions => &TRANSITIONS_HEADER,
            File::Requests => &REQUESTS_HEADER,
            File::Scheduling => &SCHEDULING_HEADER,
            File::Actions => &ACTIONS_HEADER,
        }
    }
}

/// A row kept: its position in its file and its bytes as written (newline included).
type Row = (u64, Box<[u8]>);

/// What the feed knows of a migration.
enum Mig {
    /// Not yet seen on a track: its rows, decisions and events are held.
    Undecided {
        request: Option<u32>,
        held: Vec<(File, Row)>,
    },
    /// Shows on a track: all its rows are kept.
    Shown,
    /// Ended without showing: none of its rows are.
    Dropped,
}

/// Whether a host or a server has tracks, once it has appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    No,
    Shown,
    LeftOut,
}

/// The hosts or the servers with tracks: the first `max` to appear in their listing file
/// (hosts.csv, transitions.csv), as the timeline's reader picks them.
struct Tracks {
    /// By id.
    seen: Vec<Seen>,
    /// How many have appeared.
    total: usize,
    /// The shown ones' names, for the rows that name rather than number them.
    shown: FxHashSet<Box<str>>,
    max: usize,
}

impl Tracks {
    fn new(max: usize) -> Tracks {
        Tracks {
            seen: Vec::new(),
            total: 0,
            shown: FxHashSet::default(),
            max,
        }
    }

    /// Id `i`, named `name`, appears in its listing file; whether it is shown.
    fn appear(&mut self, i: usize, name: &str) -> bool {
        if self.seen.len() <= i {
            self.seen.resize(i + 1, Seen::No);
        }
        if self.seen[i] == Seen::No {
            self.total += 1;
            let shown = self.has_room();
            if shown {
                self.shown.insert(name.into());
            }
            self.seen[i] = if shown { Seen::Shown } else { Seen::LeftOut };
        }
        self.seen[i] == Seen::Shown
    }

    fn is_shown(&self, i: usize) -> bool {
        self.seen.get(i) == Some(&Seen::Shown)
    }

    fn has_room(&self) -> bool {
        self.shown.len() < self.max
    }

    /// Whether one named in another file may have tracks: it has them, or there is still
    /// room (it may appear in its listing file later, or be a name no server has, which the
    /// reader shows while there is room).
    fn may_show(&self, name: &str) -> bool {
        self.has_room() || self.shown.contains(name)
    }
}

/// The rows of a run that its timeline can show, kept as the trace writer writes them.
pub struct TimelineFeed {
    hosts: Tracks,
    servers: Tracks,
    /// By migration id (`None`: not seen yet).
    migs: Vec<Option<Mig>>,
    /// The migrations not dropped, by the request that created them: decisions and events
    /// name their operation by its request.
    by_request: FxHashMap<u32, MigrationId>,
    /// Kept rows per file, and each file's next row position.
    rows: [Vec<Row>; 5],
    next: [u64; 5],
    /// The last time any row names.
    latest: SimTime,
}

impl TimelineFeed {
    /// A feed for a timeline of at most `max_hosts` hosts and `max_servers` servers with
    /// tracks.
    pub fn new(max_hosts: usize, max_servers: usize) -> TimelineFeed {
        TimelineFeed {
            hosts: Tracks::new(max_hosts),
            servers: Tracks::new(max_servers),
            migs: Vec::new(),
            by_request: FxHashMap::default(),
            rows: Default::default(),
            next: [0; 5],
            latest: SimTime::ZERO,
        }
    }

    /// The position of the next row of `file`.
    fn position(&mut self, file: File) -> u64 {
        let n = &mut self.next[file as usize];
        *n += 1;
        *n - 1
    }

    fn keep(&mut self, file: File, position: u64, row: &[u8]) {
        self.rows[file as usize].push((position, row.into()));
    }

    fn see(&mut self, times: impl IntoIterator<Item = SimTime>) {
        for t in times {
            self.latest = self.latest.max(t);
        }
    }

    fn host_shown(&self, h: HostId) -> bool {
        self.hosts.is_shown(h.index())
    }

    /// A row of hosts.csv: `h` named `name` at `time`.
    pub fn host_row(&mut self, h: HostId, name: &str, time: SimTime, row: &[u8]) {
        self.see([time]);
        let at = self.position(File::Hosts);
        if self.hosts.appear(h.index(), name) {
            self.keep(File::Hosts, at, row);
        }
    }

    /// A row of transitions.csv.
    /// A row of transitions.csv, of the server named `name`.
    pub fn transition(&mut self, r: &TransitionRow, name: &str, row: &[u8]) {
        self.see([r.time]);
        let at = self.position(File::Transitions);
        let server_shown = self.servers.appear(r.server.index(), name);
        let Some((m, status)) = r.migration else {
            if server_shown {
                self.keep(File::Transitions, at, row);
            }
            return;
        };
        if self.migs.len() <= m.index() {
            self.migs.resize_with(m.index() + 1, || None);
        }
        let entry = &mut self.migs[m.index()];
        if entry.is_none() {
            // Its first row: the request that created it, as the reader takes it.
            *entry = Some(Mig::Undecided {
                request: r.request,
                held: Vec::new(),
            });
            if let Some(q) = r.request {
                self.by_request.insert(q, m);
            }
        }
        let on_shown_host = r.host.is_some_and(|h| self.host_shown(h))
            || r.migration_dest.is_some_and(|h| self.host_shown(h));
        if server_shown || on_shown_host {
            self.show(m);
        }
        self.migration_row(m, File::Transitions, at, row, server_shown);
        if status.is_terminal() {
            self.drop_undecided(m);
        }
    }

    /// A row of requests.csv.
    pub fn request(&mut self, r: &RequestRecord, row: &[u8]) {
        self.see(
            [Some(r.submitted), r.answered, r.completed]
                .into_iter()
                .flatten(),
        );
        let at = self.position(File::Requests);
        if r.server.is_empty() || self.servers.may_show(&r.server) {
            self.keep(File::Requests, at, row);
        }
    }

    /// A row of scheduling.csv.
    pub fn decision(&mut self, r: &DecisionRow, row: &[u8]) {
        self.see([r.time]);
        let at = self.position(File::Scheduling);
        let chose_shown = self.hosts.shown.contains(r.selected);
        let kept = chose_shown || self.servers.may_show(r.server);
        self.operation_row(r.request, File::Scheduling, at, row, kept, chose_shown);
    }

    /// A row of instance_actions.csv: `event` of action `a` (`None`: an action without
    /// events, written as one row).
    pub fn event(&mut self, a: &InstanceAction, event: Option<&ActionEvent>, row: &[u8]) {
        if let Some(e) = event {
            self.see([Some(e.start), e.end.map(|(t, _)| t)].into_iter().flatten());
        }
        let at = self.position(File::Actions);
        let on_shown_host = event
            .and_then(|e| e.host)
            .is_some_and(|h| self.host_shown(h));
        let server_may_show = match self.servers.seen.get(a.server.index()) {
            Some(Seen::Shown) => true,
            Some(Seen::LeftOut) => false,
            Some(Seen::No) | None => self.servers.has_room(),
        };
        let kept = on_shown_host || server_may_show;
        self.operation_row(
            Some(a.request.0),
            File::Actions,
            at,
            row,
            kept,
            on_shown_host,
        );
    }

    /// A decision or event row of request `request`'s operation: kept if `kept`, or with
    /// the migration the operation created (which shows if `shows`).
    fn operation_row(
        &mut self,
        request: Option<u32>,
        file: File,
        at: u64,
        row: &[u8],
        kept: bool,
        shows: bool,
    ) {
        match request.and_then(|q| self.by_request.get(&q).copied()) {
            Some(m) => {
                if shows {
                    self.show(m);
                }
                self.migration_row(m, file, at, row, kept);
            }
            None if kept => self.keep(file, at, row),
            None => {}
        }
    }

    /// A row of migration `m`: kept if `kept` or if `m` shows, held while `m` is undecided.
    fn migration_row(&mut self, m: MigrationId, file: File, at: u64, row: &[u8], kept: bool) {
        match &mut self.migs[m.index()] {
            Some(Mig::Shown) => self.keep(file, at, row),
            _ if kept => self.keep(file, at, row),
            Some(Mig::Undecided { held, .. }) => held.push((file, (at, row.into()))),
            _ => {}
        }
    }

    /// Migration `m` shows on a track: its held rows are kept.
    fn show(&mut self, m: MigrationId) {
        let entry = &mut self.migs[m.index()];
        // A dropped migration had ended without any host or server shown, so nothing it does
        // later can show (its rows after the end name its last hosts again).
        debug_assert!(
            !matches!(entry, Some(Mig::Dropped)),
            "migration {m:?} showed after it was dropped"
        );
        if let Some(Mig::Undecided { .. }) = entry {
            if let Some(Mig::Undecided { held, .. }) = entry.replace(Mig::Shown) {
                for (file, row) in held {
                    self.rows[file as usize].push(row);
                }
            }
        }
    }

    /// Migration `m` ended: unless it shows, its rows and those of its operation are dropped.
    fn drop_undecided(&mut self, m: MigrationId) {
        let entry = &mut self.migs[m.index()];
        if let Some(Mig::Undecided { request, .. }) = entry {
            if let Some(q) = request {
                if self.by_request.get(q) == Some(&m) {
                    self.by_request.remove(q);
                }
            }
            *entry = Some(Mig::Dropped);
        }
    }

    /// The rows kept, each file's in its order.
    pub fn finish(mut self) -> KeptRows {
        let mut files: [Vec<u8>; 5] = Default::default();
        for (file, bytes) in File::ALL.into_iter().zip(&mut files) {
            bytes.extend_from_slice(file.header().join(",").as_bytes());
            bytes.push(b'\n');
            // Rows of a migration held until it showed were kept late: back in file order.
            let rows = &mut self.rows[file as usize];
            rows.sort_unstable_by_key(|(at, _)| *at);
            for (_, row) in rows.drain(..) {
                bytes.extend_from_slice(&row);
            }
        }
        KeptRows {
            files,
            max_hosts: self.hosts.max,
            max_servers: self.servers.max,
            hosts: self.hosts.total,
            servers: self.servers.total,
            latest: self.latest,
        }
    }
}

/// The rows a [`TimelineFeed`] kept, and what the run knows of those it did not.
#[derive(Debug)]
pub struct KeptRows {
    /// Each row file's kept rows as CSV text, header first (see [`KeptRows::file`]).
    files: [Vec<u8>; 5],
    pub max_hosts: usize,
    pub max_servers: usize,
    /// Hosts in hosts.csv, servers in transitions.csv, all of them.
    pub hosts: usize,
    pub servers: usize,
    /// The last time any row names.
    pub latest: SimTime,
}

impl KeptRows {
    /// The kept rows of the file named `name` (header first), if it is a row file.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        let file = File::ALL.into_iter().find(|f| f.name() == name)?;
        Some(&self.files[file as usize])
    }
}
