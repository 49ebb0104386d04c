//! The trace, written inline or on a thread of its own.
//!
//! Formatting the rows (one transitions.csv row per state change, a hosts.csv row per
//! allocation change, the instance actions, requests and scheduling decisions) and feeding the
//! timeline and the charts with them took about 30 % of a cold storm's instructions, all on the
//! thread that simulates. The simulator describes each row in a small owned message
//! ([`TraceMsg`]) and hands it to a [`TracePipe`]:
//! * inline, the pipe applies each message to its [`TraceWriter`] at once (tests, sweeps);
//! * on a thread (`novasim run`), messages go in batches to a trace thread that applies them
//!   to the same writer, in the order they were sent, while the simulation goes on.
//!
//! One function, [`apply`], turns a message into rows in both cases, so the files are the same
//! bytes either way.
//!
//! On the thread, the first write error stops the writing; the simulation learns it at the
//! next batch it hands over, or when it takes the writer back.

use super::writer::{DecisionRow, HostUsageRow, Names, TraceWriter, TransitionRow};
use super::RequestRecord;
use crate::engine::SimTime;
use crate::model::{ActionEvent, Host, HostId, InstanceAction, ServerId};
use crate::vocab::Purpose;
use std::io;
use std::sync::mpsc::{sync_channel, Receiver, SendError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One row of scheduling.csv, with ids for names.
#[derive(Debug, Clone)]
pub struct DecisionMsg {
    pub time: SimTime,
    pub request: Option<u32>,
    pub server: ServerId,
    pub purpose: Purpose,
    /// `selected` or `NoValidHost`.
    pub result: &'static str,
    pub selected: Option<HostId>,
    pub alternates: Box<[HostId]>,
    pub reason: String,
    /// Space-separated `host:reason` (small clouds only).
    pub dropped: String,
}

/// What the trace is handed, in the order it happens.
#[derive(Debug)]
pub enum TraceMsg {
    /// Server `id` exists from now on, named so (before any row of it).
    ServerName(ServerId, Arc<str>),
    Transition(TransitionRow),
    HostUsage(HostUsageRow),
    Decision(Box<DecisionMsg>),
    Request(Box<RequestRecord>),
    /// A final instance action and its events, in the order they started.
    Action(Box<(InstanceAction, Vec<ActionEvent>)>),
}

/// The names rows give for ids: the hosts' from the start, each server's from its
/// [`TraceMsg::ServerName`].
pub struct NameTable {
    servers: Vec<Arc<str>>,
    hosts: Vec<Box<str>>,
    /// Scratch text of a decision's alternates.
    alternates: String,
}

impl NameTable {
    pub fn new(hosts: &[Host]) -> NameTable {
        NameTable {
            servers: Vec::new(),
            hosts: hosts.iter().map(|h| h.name.as_str().into()).collect(),
            alternates: String::new(),
        }
    }

    fn name_server(&mut self, s: ServerId, name: Arc<str>) {
        let i = s.index();
        // Servers are numbered in the order they are created, so this is nearly always a push.
        if i >= self.servers.len() {
            let unnamed: Arc<str> = Arc::from("");
            self.servers.resize(i, unnamed);
            self.servers.push(name);
        } else {
            self.servers[i] = name;
        }
    }
}

impl Names for NameTable {
    fn server_name(&self, s: ServerId) -> &str {
        self.servers.get(s.index()).map_or("", |n| n)
    }

    fn host_name(&self, h: HostId) -> &str {
        self.hosts.get(h.index()).map_or("", |n| n)
    }
}

/// Writes the rows of `msg`.
pub fn apply(writer: &mut TraceWriter, names: &mut NameTable, msg: TraceMsg) -> io::Result<()> {
    match msg {
        TraceMsg::ServerName(s, name) => {
            names.name_server(s, name);
            Ok(())
        }
        TraceMsg::Transition(r) => writer.transition(&r, names),
        TraceMsg::HostUsage(r) => writer.host_usage(&r, names.host_name(r.host)),
        TraceMsg::Decision(d) => {
            let mut alternates = std::mem::take(&mut names.alternates);
            alternates.clear();
            for (i, &h) in d.alternates.iter().enumerate() {
                if i > 0 {
                    alternates.push(' ');
                }
                alternates.push_str(names.host_name(h));
            }
            let written = writer.decision(&DecisionRow {
                time: d.time,
                request: d.request,
                server: names.server_name(d.server),
                purpose: d.purpose,
                result: d.result,
                selected: d.selected.map_or("", |h| names.host_name(h)),
                alternates: &alternates,
                reason: &d.reason,
                dropped: &d.dropped,
            });
            names.alternates = alternates;
            written
        }
        TraceMsg::Request(r) => writer.request(&r),
        TraceMsg::Action(a) => {
            let (action, events) = &*a;
            writer.action(action, events.iter(), names)
        }
    }
}

/// Messages handed to the trace thread at once: one channel operation per batch, not per row.
const BATCH: usize = 1024;

/// Batches handed over and not yet written. With this many the simulation waits for the
/// trace thread: a slow disk slows the run rather than filling memory.
const IN_FLIGHT: usize = 4;

/// The trace thread's answer to a batch: the batch, emptied for reuse, or the first write
/// error (after which the thread only drains what it is sent).
type Answer = io::Result<Vec<TraceMsg>>;

struct Threaded {
    batch: Vec<TraceMsg>,
    batches: SyncSender<Vec<TraceMsg>>,
    answers: Receiver<Answer>,
    /// Batches sent and not yet answered.
    pending: usize,
    spare: Vec<Vec<TraceMsg>>,
    thread: JoinHandle<Box<(TraceWriter, NameTable)>>,
}

enum Mode {
    /// Boxed: the writer is large, and a pipe is moved as the simulator is built.
    Inline(Box<(TraceWriter, NameTable)>),
    Threaded(Threaded),
    /// Only while switching from one mode to the other.
    Switching,
}

/// Where the simulator sends its trace (see the module doc).
pub struct TracePipe {
    mode: Mode,
}

impl TracePipe {
    pub fn inline(writer: TraceWriter, names: NameTable) -> TracePipe {
        TracePipe {
            mode: Mode::Inline(Box::new((writer, names))),
        }
    }

    /// Moves the writing to a thread of its own (from an inline pipe; a no-op otherwise).
    /// Should the system refuse a thread, the pipe stays inline: the same files, written on
    /// the simulating thread.
    pub fn start_thread(&mut self) {
        if !matches!(self.mode, Mode::Inline(..)) {
            return;
        }
        let (batches, queue) = sync_channel::<Vec<TraceMsg>>(IN_FLIGHT);
        let (answer, answers) = sync_channel::<Answer>(IN_FLIGHT + 1);
        // The writer goes to the thread once it runs, and comes back when it ends (its
        // channel closed).
        let (hand, handed) = sync_channel::<Box<(TraceWriter, NameTable)>>(1);
        let spawned = std::thread::Builder::new()
            .name("novasim-trace".into())
            .spawn(move || {
                let Ok(mut inline) = handed.recv() else {
                    unreachable!("the pipe hands the writer over before it sends anything")
                };
                let (writer, names) = &mut *inline;
                let mut failed = false;
                for mut batch in queue {
                    let mut outcome = Ok(());
                    for msg in batch.drain(..) {
                        if !failed && outcome.is_ok() {
                            outcome = apply(writer, names, msg);
                        }
                    }
                    // The first error is answered once; later batches are only drained.
                    let reply = outcome.map(|()| batch);
                    failed |= reply.is_err();
                    let _ = answer.send(reply);
                }
                inline
            });
        let Ok(thread) = spawned else {
            return;
        };
        let Mode::Inline(inline) = std::mem::replace(&mut self.mode, Mode::Switching) else {
            unreachable!("checked above")
        };
        if let Err(SendError(inline)) = hand.send(inline) {
            // The thread ended before it took the writer (it cannot, but the writer is not
            // lost for it).
            self.mode = Mode::Inline(inline);
            return;
        }
        self.mode = Mode::Threaded(Threaded {
            batch: Vec::with_capacity(BATCH),
            batches,
            answers,
            pending: 0,
            spare: Vec::new(),
            thread,
        });
    }

    /// Hands `msg` over: written now (inline) or soon (on the thread).
    #[inline]
    pub fn send(&mut self, msg: TraceMsg) -> io::Result<()> {
        match &mut self.mode {
            Mode::Inline(inline) => {
                let (writer, names) = &mut **inline;
                apply(writer, names, msg)
            }
            Mode::Threaded(t) => {
                t.batch.push(msg);
                if t.batch.len() >= BATCH {
                    t.hand_over()
                } else {
                    Ok(())
                }
            }
            Mode::Switching => unreachable!("a pipe is never used while it switches"),
        }
    }

    /// The writer, every message sent so far written: the trace thread, if any, is ended and
    /// the pipe writes inline from now on.
    pub fn writer(&mut self) -> io::Result<&mut TraceWriter> {
        if let Mode::Threaded(_) = self.mode {
            let Mode::Threaded(t) = std::mem::replace(&mut self.mode, Mode::Switching) else {
                unreachable!("checked above")
            };
            let (inline, outcome) = t.finish();
            self.mode = Mode::Inline(inline);
            outcome?;
        }
        match &mut self.mode {
            Mode::Inline(inline) => Ok(&mut inline.0),
            _ => unreachable!("inline once the thread is joined"),
        }
    }
}

impl Drop for TracePipe {
    /// Waits for the trace thread (a run that failed drops its pipe unfinished): no thread
    /// outlives the run writing into its folder.
    fn drop(&mut self) {
        if let Mode::Threaded(_) = self.mode {
            let _ = self.writer();
        }
    }
}

impl Threaded {
    fn hand_over(&mut self) -> io::Result<()> {
        // Batches the thread is done with, so that the next batches reuse them.
        while let Ok(answer) = self.answers.try_recv() {
            self.keep(answer)?;
        }
        while self.pending >= IN_FLIGHT {
            self.take_answer()?;
        }
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        self.batches.send(full).map_err(|_| thread_gone())?;
        self.pending += 1;
        Ok(())
    }

    fn take_answer(&mut self) -> io::Result<()> {
        let answer = self.answers.recv().map_err(|_| thread_gone())?;
        self.keep(answer)
    }

    fn keep(&mut self, answer: Answer) -> io::Result<()> {
        self.pending -= 1;
        self.spare.push(answer?);
        Ok(())
    }

    /// Sends what is left, waits for the thread to write it, and takes the writer back with
    /// the first error, if any.
    fn finish(mut self) -> (Box<(TraceWriter, NameTable)>, io::Result<()>) {
        let mut outcome = Ok(());
        if !self.batch.is_empty() {
            let last = std::mem::take(&mut self.batch);
            match self.batches.send(last) {
                Ok(()) => self.pending += 1,
                Err(_) => outcome = Err(thread_gone()),
            }
        }
        while self.pending > 0 {
            if let Err(e) = self.take_answer() {
                if outcome.is_ok() {
                    outcome = Err(e);
                }
            }
        }
        drop(self.batches);
        match self.thread.join() {
            Ok(inline) => (inline, outcome),
            // The thread only formats rows and writes files; should it ever panic, the
            // panic is the run's.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn thread_gone() -> io::Error {
    io::Error::other("the trace thread stopped")
}
