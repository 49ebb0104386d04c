//! `novasim explain RESULTS --server NAME`: the story of one server in plain words, for
//! teaching. Every step has its time, the hop that ran it and its cause (the request), and is
//! told from the files of a results folder alone:
//! * requests.csv — what was asked, by whom, at which microversion, and the HTTP answer;
//! * scheduling.csv — which host the scheduler chose, the alternates, why it dropped the others;
//! * transitions.csv — every state change, one sentence per `step` the simulator writes;
//! * instance_actions.csv — compute steps that change no state (the claim in `prep_resize`),
//!   failed events with their details, the periodic auto-confirm (an action with no project);
//! * hosts.csv — the compute service of a host involved going down or up.
//!
//! The wording follows the spec (docs/nova-semantics.md); the sentence for each step
//! text is in [`transition_sentence`].

use super::data::{ActionEvent, Decision, MigrationInfo, Request, Results, Transition};
use super::AnalysisError;
use crate::config::ActionKind;
use crate::engine::SimTime;
use crate::model::{ActionName, EventName};
use crate::vocab::{DropReason, Hop, Purpose, Step as TraceStep};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// One step of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub time: SimTime,
    /// `API`, `CON`, `SCH`, `SRC`, `DST`, `CMP`, `OPS`, or `—` for a bare note.
    pub hop: String,
    /// The request that caused it (empty for initial placement and some periodic work).
    pub request: String,
    pub text: String,
}

/// The story of one server.
#[derive(Debug, Clone)]
pub struct Story {
    pub server: String,
    pub dir: PathBuf,
    pub steps: Vec<Step>,
    /// Where the server stands at the end of the run.
    pub ending: String,
}

impl fmt::Display for Story {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Server {} in {}:", self.server, self.dir.display())?;
        let width = self
            .steps
            .iter()
            .map(|s| s.time.to_string().len())
            .max()
            .unwrap_or(5);
        for s in &self.steps {
            writeln!(f, "{:>width$} s [{}] {}", s.time.to_string(), s.hop, s.text)?;
        }
        writeln!(f, "{}", self.ending)
    }
}

/// Tells the story of `server` in the results folder `dir`. An unknown server is an error that
/// lists the known ones.
pub fn explain(dir: &Path, server: &str) -> Result<Story, AnalysisError> {
    let results = Results::load(dir)?;
    let known = results.server_names();
    if !known.iter().any(|s| s == server) {
        return Err(AnalysisError::UnknownServer {
            name: server.to_string(),
            dir: dir.to_path_buf(),
            known,
        });
    }
    let ctx = Ctx::new(&results, server);
    let steps = ctx.steps();
    Ok(Story {
        server: server.to_string(),
        dir: dir.to_path_buf(),
        ending: ctx.ending(),
        steps,
    })
}

/// Everything the trace holds about one server.
struct Ctx<'a> {
    r: &'a Results,
    server: &'a str,
    rows: Vec<&'a Transition>,
    migs: Vec<MigrationInfo>,
    requests: Vec<&'a Request>,
    decisions: Vec<&'a Decision>,
    events: Vec<&'a ActionEvent>,
}

/// A step before same-instant steps of one cause are merged. `prio` orders what happens at
/// one instant: the operator's host changes, then the API, the scheduler's choice, the state
/// changes, and the instance-action events they produced.
struct Item {
    time: SimTime,
    prio: u8,
    seq: usize,
    hop: String,
    request: String,
    text: String,
}

const P_OPS: u8 = 0;
const P_API: u8 = 1;
const P_SCH: u8 = 2;
const P_STATE: u8 = 3;
const P_EVENT: u8 = 4;

/// Migration statuses after which nothing more happens to the migration.
const TERMINAL: [&str; 7] = [
    "confirmed",
    "reverted",
    "error",
    "failed",
    "completed",
    "cancelled",
    "done",
];

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Up to `max` names, then "and N more".
fn names(list: &[&str], max: usize) -> String {
    let mut shown: Vec<String> = list.iter().take(max).map(|s| s.to_string()).collect();
    if list.len() > max {
        shown.push(format!("{} more", list.len() - max));
    }
    and_list(&shown)
}

fn role_article(role: &str) -> String {
    match role {
        "" => "A".into(),
        "admin" => "The admin's".into(),
        r => format!("A {r}'s"),
    }
}

/// A gloss for an HTTP error code, as the API reference uses it for these actions.
fn code_gloss(code: &str) -> &'static str {
    match code {
        "400" => "Bad Request",
        "403" => "Forbidden: the policy refused it",
        "404" => "Not Found",
        "406" => "Not Acceptable: microversion above the maximum",
        "409" => "Conflict: the server's state or a service forbids it now",
        "410" => "Gone: the API was removed",
        "500" => "Internal Server Error",
        _ => "",
    }
}

impl<'a> Ctx<'a> {
    fn new(r: &'a Results, server: &'a str) -> Ctx<'a> {
        Ctx {
            r,
            server,
            rows: r
                .transitions
                .iter()
                .filter(|t| t.server == server)
                .collect(),
            migs: r
                .migrations()
                .into_iter()
                .filter(|m| m.server == server)
                .collect(),
            requests: r.requests.iter().filter(|q| q.server == server).collect(),
            decisions: r.decisions.iter().filter(|d| d.server == server).collect(),
            events: r.events.iter().filter(|e| e.server == server).collect(),
        }
    }

    fn mig(&self, id: &str) -> Option<&MigrationInfo> {
        self.migs.iter().find(|m| m.id == id)
    }

    /// The migration a request worked on: the one it created, else (confirm, revert, delete)
    /// the latest one created by `at`.
    fn mig_for(&self, request: &str, at: SimTime) -> Option<&MigrationInfo> {
        self.migs
            .iter()
            .find(|m| !request.is_empty() && m.request == request)
            .or_else(|| self.migs.iter().rev().find(|m| self.mig_start(m) <= at))
    }

    fn mig_start(&self, m: &MigrationInfo) -> SimTime {
        m.rows
            .first()
            .map_or(SimTime::ZERO, |&i| self.r.transitions[i].time_s)
    }

    /// When the migration reached a terminal status (None: still in progress at the end).
    fn mig_end(&self, m: &MigrationInfo) -> Option<SimTime> {
        m.rows
            .iter()
            .map(|&i| &self.r.transitions[i])
            .find(|t| TERMINAL.contains(&t.migration_status_str()))
            .map(|t| t.time_s)
    }

    /// When the migration was saved `finished` (the start of the confirm window).
    fn mig_finished(&self, m: &MigrationInfo) -> Option<SimTime> {
        m.rows
            .iter()
            .map(|&i| &self.r.transitions[i])
            .find(|t| t.migration_status_str() == "finished")
            .map(|t| t.time_s)
    }

    fn request(&self, id: &str) -> Option<&'a Request> {
        self.requests.iter().copied().find(|q| q.request == id)
    }

    /// The server's host at `t` (after the changes saved at `t`).
    fn host_at(&self, t: SimTime) -> &str {
        self.rows
            .iter()
            .take_while(|r| r.time_s <= t)
            .last()
            .map_or("", |r| r.host.as_str())
    }

    fn steps(&self) -> Vec<Step> {
        let mut items: Vec<Item> = Vec::new();
        let absorbed = self.request_items(&mut items);
        self.decision_items(&mut items);
        self.transition_items(&absorbed, &mut items);
        self.event_items(&mut items);
        self.service_items(&mut items);
        items.sort_by_key(|i| (i.time, i.prio, i.seq));
        // Same instant, hop and cause: one step.
        let mut steps: Vec<Step> = Vec::new();
        for i in items {
            match steps.last_mut() {
                Some(s) if s.time == i.time && s.hop == i.hop && s.request == i.request => {
                    s.text.push(' ');
                    s.text.push_str(&i.text);
                }
                _ => steps.push(Step {
                    time: i.time,
                    hop: i.hop,
                    request: i.request,
                    text: i.text,
                }),
            }
        }
        self.completions(&mut steps);
        steps
    }

    fn push(
        items: &mut Vec<Item>,
        time: SimTime,
        prio: u8,
        hop: &str,
        request: &str,
        text: String,
    ) {
        let seq = items.len();
        items.push(Item {
            time,
            prio,
            seq,
            hop: hop.to_string(),
            request: request.to_string(),
            text,
        });
    }

    /// The API's side of each request. Returns the transitions rows (indexes in `self.rows`)
    /// told as part of an answer.
    fn request_items(&self, items: &mut Vec<Item>) -> BTreeSet<usize> {
        let mut absorbed = BTreeSet::new();
        for q in &self.requests {
            let answered = q.answered_s.unwrap_or(q.submitted_s);
            let mut who = format!(
                "{} {} request ({}",
                role_article(&q.role),
                q.action,
                q.request
            );
            if !q.name.is_empty() {
                who.push_str(&format!(" '{}'", q.name));
            }
            if !q.microversion.is_empty() {
                who.push_str(&format!(", microversion {}", q.microversion));
            }
            who.push(')');
            // API rows of this request saved before the answer: the API waited for the
            // conductor (a synchronous call).
            let early: Vec<usize> = (0..self.rows.len())
                .filter(|&i| {
                    let t = self.rows[i];
                    t.request == q.request && t.hop == Hop::Api && t.time_s < answered
                })
                .collect();
            // The create row names no request (the server did not exist when it was saved).
            let at_answer: Vec<usize> = (0..self.rows.len())
                .filter(|&i| {
                    let t = self.rows[i];
                    let ours = t.request == q.request
                        || (t.request.is_empty() && q.action == ActionKind::Create);
                    ours && t.hop == Hop::Api && t.time_s == answered
                })
                .collect();
            let mig = self.mig_for(&q.request, answered);
            if let Some(&first) = early.first() {
                let t = self.rows[first];
                let clauses: Vec<String> = early
                    .iter()
                    .filter(|&&i| self.rows[i].time_s == t.time_s)
                    .map(|&i| api_clause(self.rows[i], mig))
                    .collect();
                for &i in &early {
                    if self.rows[i].time_s == t.time_s {
                        absorbed.insert(i);
                    }
                }
                let why = match q.action {
                    ActionKind::LiveMigrate => {
                        " Below microversion 2.34 the API calls the conductor and answers only when its checks and scheduling are done."
                    }
                    ActionKind::Migrate => {
                        " Before 21.0.0 the API calls the conductor and answers only after scheduling."
                    }
                    _ => " The API answers only when the work it waits for is done.",
                };
                Self::push(
                    items,
                    t.time_s,
                    P_API,
                    "API",
                    &q.request,
                    format!(
                        "{who} passed the API checks: {}, status {}.{why}",
                        clauses.join(", "),
                        t.status.as_str()
                    ),
                );
            }
            let text = if q.accepted() {
                let clauses: Vec<String> = at_answer
                    .iter()
                    .map(|&i| api_clause(self.rows[i], mig))
                    .collect();
                absorbed.extend(at_answer.iter().copied());
                let state = at_answer.last().map(|&i| self.rows[i]);
                let mut s = if !early.is_empty() {
                    format!("The API answered {} with {}.", q.request, q.code())
                } else {
                    match state {
                        Some(t) => format!(
                            "{who} was accepted ({}): {}, status {}.",
                            q.code(),
                            clauses.join(", "),
                            t.status.as_str()
                        ),
                        None => format!("{who} was accepted ({}).", q.code()),
                    }
                };
                s.push_str(&self.after_accept(q, mig));
                s
            } else {
                let gloss = code_gloss(&q.code());
                let gloss = if gloss.is_empty() {
                    String::new()
                } else {
                    format!(" ({gloss})")
                };
                let message = if q.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", q.message.trim_end_matches('.'))
                };
                let changed = self.rows.iter().any(|t| t.request == q.request);
                if early.is_empty() {
                    format!(
                        "{who} was rejected with {}{gloss}{message}.{}",
                        q.code(),
                        if changed { "" } else { " Nothing changed." }
                    )
                } else {
                    format!(
                        "The API answered {} with {}{gloss}{message}.",
                        q.request,
                        q.code()
                    )
                }
            };
            Self::push(items, answered, P_API, "API", &q.request, text);
        }
        absorbed
    }

    /// What the API does after accepting (the cast it makes).
    fn after_accept(&self, q: &Request, mig: Option<&MigrationInfo>) -> String {
        let (s, d) = match mig {
            Some(m) => (
                m.source.clone(),
                m.dest().unwrap_or("the destination").to_string(),
            ),
            None => ("the source".into(), "the destination".into()),
        };
        let sync_done = q.answered_s.is_some_and(|a| {
            self.rows
                .iter()
                .any(|t| t.request == q.request && t.hop != Hop::Api && t.time_s < a)
        });
        match q.action {
            ActionKind::Migrate | ActionKind::Resize if !sync_done => {
                " The API cast migrate_server to the conductor.".into()
            }
            ActionKind::LiveMigrate if !sync_done => {
                " The API cast live_migrate_instance to the conductor.".into()
            }
            ActionKind::ConfirmResize => format!(
                " The API cast confirm_resize to the source {s}; the status stays VERIFY_RESIZE until {s} is done."
            ),
            ActionKind::RevertResize => format!(" The API cast revert_resize to the destination {d}."),
            ActionKind::Delete => {
                let h = self.host_at(q.answered_s.unwrap_or(q.submitted_s));
                if h.is_empty() {
                    " The server has no host: the API deletes it itself.".into()
                } else {
                    format!(" The API cast the delete to {h}.")
                }
            }
            ActionKind::Create => " The API cast the build to the conductor.".into(),
            ActionKind::ResetState => {
                let at = q.answered_s.unwrap_or(q.submitted_s);
                let busy = self
                    .rows
                    .iter()
                    .take_while(|t| t.time_s < at)
                    .last()
                    .is_some_and(|t| !t.task().is_empty());
                let mut x = String::from(
                    " Nothing else changes: no migration, allocation or host is touched (spec §4.12).",
                );
                if busy {
                    x.push_str(" The operation in flight is not told: its next save that expects a task_state will fail.");
                }
                x
            }
            ActionKind::InjectNetworkInfo | ActionKind::ResetNetwork => {
                " No state changes: one cast to the host, whose driver does nothing (spec §4.13)."
                    .into()
            }
            // A synchronous migrate or live migrate told its story before the answer; an
            // abort's own steps are the source's (instance_actions).
            ActionKind::Migrate
            | ActionKind::Resize
            | ActionKind::LiveMigrate
            | ActionKind::AbortLiveMigration => {
                String::new()
            }
        }
    }

    fn decision_items(&self, items: &mut Vec<Item>) {
        let mut reschedules = 0;
        for d in &self.decisions {
            let mig = self.mig_for(&d.request, d.time_s);
            let source = mig.map_or("", |m| m.source.as_str());
            let text = if d.purpose == Purpose::Reschedule {
                let failed = mig
                    .and_then(|m| m.dest_before(d.time_s))
                    .unwrap_or("the destination");
                if d.result == "selected" {
                    reschedules += 1;
                    let left: Vec<&str> = d.alternates.split_whitespace().collect();
                    let left = if left.is_empty() {
                        "no alternate left".to_string()
                    } else {
                        format!("alternates left: {}", names(&left, 8))
                    };
                    format!(
                        "Reschedule #{reschedules}: prep_resize failed on {failed} (why is not in the results: Nova records it as an instance fault); {failed} gave its claim back and called the conductor (a synchronous call), which claimed the next alternate, {}, in placement and cast prep_resize to it ({left}). {failed}'s compute_prep_resize event still ends Success, because the reschedule worked.",
                        d.selected
                    )
                } else {
                    let why = if d.reason.starts_with("MaxRetriesExceeded") || d.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", d.reason)
                    };
                    format!(
                        "prep_resize failed on {failed} and no alternate is left after {reschedules} reschedule(s): the conductor raises MaxRetriesExceeded, a NoValidHost{why}."
                    )
                }
            } else {
                self.decision_sentence(d, source)
            };
            let hop = if d.purpose == Purpose::Reschedule {
                "CON"
            } else {
                "SCH"
            };
            Self::push(items, d.time_s, P_SCH, hop, &d.request, text);
        }
    }

    fn decision_sentence(&self, d: &Decision, source: &str) -> String {
        let mut by_reason: Vec<(DropReason, Vec<&str>)> = Vec::new();
        for (h, why) in &d.dropped {
            match by_reason.iter_mut().find(|(w, _)| w == why) {
                Some((_, hs)) => hs.push(h),
                None => by_reason.push((*why, vec![h])),
            }
        }
        let targeted = by_reason
            .iter()
            .any(|(w, _)| *w == DropReason::NotRequested);
        let mut parts: Vec<String> = Vec::new();
        for (why, hosts) in &by_reason {
            let gloss = match why {
                DropReason::Ignored => {
                    // The source, and for live migrations the hosts already tried.
                    let (src, tried): (Vec<&str>, Vec<&str>) =
                        hosts.iter().partition(|h| **h == source);
                    if !src.is_empty() {
                        parts.push(format!("{} (the source host is excluded)", names(&src, 8)));
                    }
                    if !tried.is_empty() {
                        parts.push(format!("{} (already tried)", names(&tried, 8)));
                    }
                    continue;
                }
                DropReason::Disabled => "its compute service is disabled",
                DropReason::Down => "its compute service is down",
                DropReason::NoCapacity => "not enough free capacity in placement",
                DropReason::NotRequested => "not the requested host",
                DropReason::OtherAz => "in another availability zone",
            };
            let gloss = if hosts.len() > 1 {
                gloss.replace("its ", "their ")
            } else {
                gloss.to_string()
            };
            parts.push(format!("{} ({gloss})", names(hosts, 8)));
        }
        let dropped_text = if parts.is_empty() {
            String::new()
        } else {
            format!(" It dropped {}.", parts.join(", "))
        };
        let target = if targeted {
            " The request named its destination (a host in the body, microversion ≥ 2.56 for migrate): only that host was considered, and there is no rescheduling."
        } else {
            ""
        };
        if d.result == "selected" {
            let alts: Vec<&str> = d.alternates.split_whitespace().collect();
            let what = match d.purpose {
                Purpose::Create => format!("The scheduler chose {} for the new server and claimed its resources there.", d.selected),
                Purpose::LiveMigrate => format!(
                    "The scheduler chose {} and claimed {}'s resources there in placement (a live migration asks for no alternates).",
                    d.selected, self.server
                ),
                Purpose::Migrate | Purpose::Reschedule => {
                    let alts = if alts.is_empty() {
                        "no alternates".to_string()
                    } else {
                        format!("alternates: {}", names(&alts, 8))
                    };
                    format!(
                        "The scheduler chose {} ({alts}) and claimed {}'s resources on {} in placement; alternates are not claimed.",
                        d.selected, self.server, d.selected
                    )
                }
            };
            format!("{what}{dropped_text}{target}")
        } else {
            let reason = if d.reason.is_empty() {
                d.result.as_str()
            } else {
                d.reason.as_str()
            };
            let meaning = if reason.contains("There are not enough hosts available") {
                " Placement had candidates, but the filters or the ignore list removed them all."
            } else if reason.starts_with("No valid host was found") {
                " Placement returned no candidate host."
            } else {
                ""
            };
            format!("The scheduler found no valid host: {reason}{dropped_text}{meaning}{target}")
        }
    }

    fn transition_items(&self, absorbed: &BTreeSet<usize>, items: &mut Vec<Item>) {
        let mut prev_status = String::new();
        let mut i = 0;
        while i < self.rows.len() {
            let first = self.rows[i];
            let mut j = i;
            let mut sentences = Vec::new();
            let before = prev_status.clone();
            let host_before = if i > 0 {
                self.rows[i - 1].host.as_str()
            } else {
                ""
            };
            while j < self.rows.len()
                && self.rows[j].time_s == first.time_s
                && self.rows[j].hop == first.hop
                && self.rows[j].request == first.request
            {
                let t = self.rows[j];
                if !absorbed.contains(&j) {
                    let prev = if j > 0 { Some(self.rows[j - 1]) } else { None };
                    sentences.push(self.transition_sentence(t, prev));
                }
                prev_status = t.status.as_str().to_string();
                j += 1;
            }
            if !sentences.is_empty() {
                let mut text = sentences.join(" ");
                let host_now = self.rows[j - 1].host.as_str();
                if i > 0 && host_now != host_before && !text.contains("instance.host") {
                    text.push_str(&format!(" instance.host is now {host_now}."));
                }
                let now = self.rows[j - 1].status.as_str();
                if now != before && !text.contains(now) {
                    if before.is_empty() {
                        text.push_str(&format!(" Status {now}."));
                    } else {
                        text.push_str(&format!(" Status {before} → {now}."));
                    }
                }
                Self::push(
                    items,
                    first.time_s,
                    P_STATE,
                    first.hop.as_str(),
                    &first.request,
                    text,
                );
            }
            i = j;
        }
    }

    /// One transitions row in words.
    fn transition_sentence(&self, t: &Transition, prev: Option<&Transition>) -> String {
        let task = if t.task().is_empty() {
            "None"
        } else {
            t.task()
        };
        // The state the row saved, as it is (a failure after os-resetState keeps a task_state).
        let vt = format!("vm_state {}, task_state {task}", t.vm_state.as_str());
        let sentence = self.step_sentence(t, prev, &vt);
        if t.step.is_error_save() && !t.task().is_empty() {
            // Nova's error save also writes the changes of the save that failed.
            return format!(
                "{sentence} task_state {task} remains: the error save also wrote what the failed save (UnexpectedTaskStateError after os-resetState) had pending."
            );
        }
        sentence
    }

    /// The sentence for the row's `step` text.
    fn step_sentence(&self, t: &Transition, prev: Option<&Transition>, vt: &str) -> String {
        let m = self.mig(&t.migration);
        let mid = if t.migration.is_empty() {
            "the migration"
        } else {
            t.migration.as_str()
        };
        let s = m.map_or("the source", |m| m.source.as_str());
        let d = m
            .and_then(|m| m.dest_at(t.time_s))
            .unwrap_or("the destination");
        let h = if t.host.is_empty() {
            "the host"
        } else {
            t.host.as_str()
        };
        let vm = t.vm_state.as_str();
        let srv = self.server;
        let stopped = vm == "stopped";
        match t.step {
            TraceStep::InitialPlacement => format!("Initial placement on {h}: vm_state {vm}."),
            TraceStep::ColdMigrateCreated => format!(
                "The conductor created migration {mid} (pre-migrating) and moved {srv}'s allocation on {s} to the migration consumer; it asks the scheduler for a destination."
            ),
            TraceStep::ColdMigrateNoValidHost => format!(
                "The conductor rolled back: migration {mid} error, the allocation on {s} went back to the instance."
            ),
            TraceStep::ColdMigrateMaxRetries => format!(
                "The conductor rolled back: migration {mid} error, the allocation on {s} went back to the instance; MaxRetriesExceeded goes back to {d}, which called it."
            ),
            TraceStep::SetVmStateAndNotify => {
                let mut x = format!(
                    "set_vm_state_and_notify kept vm_state {vm} and cleared task_state (an instance fault and an error notification are recorded)."
                );
                let answered_before = self
                    .request(&t.request)
                    .and_then(|q| q.answered_s)
                    .is_some_and(|a| a < t.time_s);
                let after_nvh = prev.is_some_and(|p| p.step.is_no_valid_host());
                if after_nvh
                    && answered_before
                    && self.request(&t.request).is_some_and(|q| q.accepted())
                {
                    x.push_str(" The user already had the 202: the failure shows only in the instance actions.");
                }
                x
            }
            TraceStep::LiveMigrateCreated => format!(
                "The conductor created live migration {mid} (accepted), checked the power state and that {s}'s compute service is up, and moved the allocation on {s} to the migration consumer."
            ),
            TraceStep::FindDestinationMaxRetries => format!(
                "No attempt left (migrate_max_retries): the conductor saved migration {mid} failed and raised MaxRetriesExceeded."
            ),
            TraceStep::LivePreCheckFailed => format!(
                "The conductor handled the pre-check failure: the allocation went back to the instance on {s}, vm_state unchanged ({vm}), task_state None (not ERROR: a known pre-check exception)."
            ),
            TraceStep::LiveMigrateMigrationError => {
                if prev.is_some_and(|p| p.migration_status_str() == "failed") {
                    format!("Migration {mid} error (overwriting the transient failed).")
                } else {
                    format!("Migration {mid} error.")
                }
            }
            TraceStep::DeletedDuringMove => {
                format!("The server was deleted during the move: migration {mid} error.")
            }
            TraceStep::BuildNoValidHost => {
                format!("The conductor got NoValidHost for the build: {vt}.")
            }
            TraceStep::PrepResizeReschedule => format!(
                "prep_resize failed on {d}: it set task_state resize_prep again and calls the conductor to reschedule."
            ),
            TraceStep::PrepResizeMigrationError => format!(
                "prep_resize failed on {d}; with no retry information (a requested host, or max_attempts = 1) there is no reschedule: migration {mid} error."
            ),
            TraceStep::PrepResizeFailed => {
                if vm == "error" {
                    format!(
                        "{d} re-raised the original prep_resize exception: {vt} (anything but an InstanceFaultRollback errors the instance)."
                    )
                } else {
                    format!(
                        "{d} re-raised the original exception, an InstanceFaultRollback: {vt}."
                    )
                }
            }
            TraceStep::FinishResizeTask | TraceStep::FinishResizeTaskNewFlavor => {
                let flavor = if t.step == TraceStep::FinishResizeTaskNewFlavor {
                    " and the new flavor is set on the instance"
                } else {
                    ""
                };
                let power = if stopped {
                    "the guest stays powered off, as it was stopped"
                } else {
                    "driver.finish_migration powers the guest on"
                };
                format!(
                    "{d} started finish_resize: task_state resize_finish{flavor}; it binds the ports and volumes to {d} and {power}."
                )
            }
            TraceStep::FinishResizeMigrationFinished => format!(
                "Migration {mid} finished: this save starts the resize_confirm_window clock."
            ),
            TraceStep::FinishResizeResized => format!(
                "vm_state resized, task_state None: VERIFY_RESIZE: the server now holds capacity on both {s} and {d} until confirmed or reverted."
            ),
            TraceStep::FinishResizeMigrationError => {
                format!("finish_resize failed on {d}: migration {mid} error.")
            }
            TraceStep::FinishResizeFailed => {
                if vm == "error" {
                    format!(
                        "{vt}. instance.host is already {d}: the source allocation on {s} is deleted and {d} keeps its claim (a hard reboot on {d} can recover the server)."
                    )
                } else {
                    format!("{vt} (an InstanceFaultRollback or NotImplementedError).")
                }
            }
            TraceStep::AutoConfirm => {
                self.auto_confirm_sentence(t, m, s, d)
            }
            TraceStep::AutoConfirmMigrationError => format!(
                "The periodic task _poll_unconfirmed_resizes on {d} found {mid} finished but the server not in vm_state resized without a task (e.g. after os-resetState, or in ERROR): it set the migration to error without confirming; the allocation held on {s} is not freed."
            ),
            TraceStep::RevertResizeReverted => format!(
                "{d} has destroyed the guest there and dropped its move claim: migration {mid} reverted. It cast finish_revert_resize to {s}."
            ),
            TraceStep::PostAtDestination => format!(
                "{d} ran post_live_migration_at_destination: instance.host := {d}, task_state None; the server runs on {d} before the migration is completed."
            ),
            TraceStep::PostAtDestinationMigrationError => {
                format!("post_live_migration_at_destination failed on {d}: migration {mid} error.")
            }
            TraceStep::PostAtDestinationFailed => {
                format!("{vt}; the allocations are not reverted.")
            }
            TraceStep::RevertMigrationError => {
                format!("The revert failed on {h}: migration {mid} error.")
            }
            TraceStep::RevertFailed => {
                format!("{vt}; the allocations stay as they were.")
            }
            TraceStep::ResizeInstanceMigrating => {
                format!("{s} started resize_instance: migration {mid} migrating.")
            }
            TraceStep::ResizeInstanceTask => {
                if stopped {
                    format!("task_state resize_migrating: {s} copies the disk to {d} (no shutdown: the server is stopped).")
                } else {
                    format!("task_state resize_migrating: {s} shuts the guest down (up to shutdown_timeout) and copies its disk to {d}.")
                }
            }
            TraceStep::ResizeInstancePostMigrating => {
                let done = if stopped {
                    "the disk copy"
                } else {
                    "the shutdown and the disk copy"
                };
                format!("{s} finished {done}: migration {mid} post-migrating.")
            }
            TraceStep::ResizeInstanceMigrated => format!(
                "instance.host := {d}, task_state resize_migrated; {s} cast finish_resize to {d}."
            ),
            TraceStep::ResizeInstanceMigrationError => format!(
                "resize_instance failed on {s}: migration {mid} error (a failure after prep_resize is never rescheduled)."
            ),
            TraceStep::ResizeInstanceFailed => {
                if vm == "error" {
                    format!("{vt}; the allocation goes back to the instance on {s} and {d} is freed.")
                } else {
                    format!("An InstanceFaultRollback: {vt}; the allocation goes back to the instance on {s} and {d} is freed.")
                }
            }
            TraceStep::ConfirmResizeConfirmed => format!(
                "{s} has destroyed the old guest and dropped its move claim: migration {mid} confirmed."
            ),
            TraceStep::ConfirmResizeDone => format!(
                "{vt}; the migration's allocation on {s} is deleted: only {d} holds {srv}'s resources now."
            ),
            TraceStep::ConfirmResizeMigrationError => {
                format!("confirm_resize failed on {s}: migration {mid} error.")
            }
            TraceStep::ConfirmResizeFailed => format!(
                "{vt}; the migration's allocation on {s} is deleted all the same (a finally block)."
            ),
            TraceStep::FinishRevertHost => format!(
                "{s} started finish_revert_resize: instance.host := {s} again; the allocation moves from the migration back to the instance on {s}, freeing {d}."
            ),
            TraceStep::FinishRevertPoweringOff => {
                "The server was stopped before the move: task_state powering-off, then it is stopped.".into()
            }
            TraceStep::FinishRevertDone => {
                if stopped {
                    format!("{s} finished the revert and kept the guest stopped: {vt}.")
                } else {
                    format!("{s} restarted the guest there (driver.finish_revert_migration): {vt}.")
                }
            }
            TraceStep::LiveMigrationQueued => format!(
                "{s} received live_migration: migration {mid} queued in its live-migration executor (max_concurrent_live_migrations per compute)."
            ),
            TraceStep::LiveMigrationPreparing => format!(
                "An executor slot on {s} is free: migration {mid} preparing; {d} runs pre_live_migration and {s} waits for network-vif-plugged."
            ),
            TraceStep::LiveMigrationRunning => {
                format!("The memory transfer from {s} to {d} started: migration {mid} running.")
            }
            TraceStep::LiveMigrationPostCopy => format!(
                "The transfer switched to post-copy: migration {mid} {}.",
                t.migration_status_str()
            ),
            TraceStep::PostLiveMigrationCompleted => format!(
                "{s} cleaned up the source: migration {mid} completed and its allocation on {s} deleted."
            ),
            TraceStep::PostLiveMigrationCompletedWithoutDestination => format!(
                "{d} did not answer post_live_migration_at_destination (its compute is stopped): {s} logged the MessagingTimeout and cleaned up all the same: migration {mid} completed and its allocation on {s} deleted. instance.host stays {s} and task_state migrating, while the guest runs on {d}."
            ),
            TraceStep::DoLiveMigrationError => format!("Migration {mid} error."),
            TraceStep::BuildSpawning => {
                format!("{h} started building the server: task_state spawning.")
            }
            TraceStep::BuildActive => format!("The guest booted on {h}: vm_state active."),
            TraceStep::BuildFailed => format!(
                "The build failed on {h}: vm_state error (a failed boot is not rescheduled); its allocation is deleted."
            ),
            TraceStep::DeleteMoveEnded => format!(
                "The delete ended the pending move: migration {mid} {} (a resize awaiting confirmation is confirmed, as API._confirm_resize_on_deleting does); its allocation is deleted.",
                t.migration_status_str()
            ),
            TraceStep::DeleteDone => {
                format!("{h} deleted the server: vm_state deleted; its allocations are freed.")
            }
            TraceStep::FinishRevertHostErrorSave => format!(
                "{s} started finish_revert_resize, but the save expecting task_state resize_reverting failed (UnexpectedTaskStateError after os-resetState): the error save wrote the pending instance.host := {s}; both allocations stay."
            ),
            TraceStep::LiveRollback(cause) => format!(
                "{s} rolled the live migration back ({}): the allocation went back to the instance on {s}, task_state None.",
                cause.as_str()
            ),
            TraceStep::LiveRollbackStatus(status) => format!("Migration {mid} {}.", status.as_str()),
            TraceStep::QueuedAbortNoRollback => format!(
                "{s} dropped the queued job: migration {mid} cancelled, and nothing else (before 25.0.0 live_migration_abort does not roll back): the server stays MIGRATING and both allocations are held."
            ),
            TraceStep::InitBuildInterrupted => format!(
                "nova-compute on {h} restarted (init_host): the build it was running is lost, so _init_instance set vm_state error, task_state None."
            ),
            TraceStep::InitResizePrepCleared => format!(
                "nova-compute on {h} restarted (init_host): _init_instance cleared task_state resize_prep; the cold migration in flight is not told."
            ),
            TraceStep::InitCrashedResizeReverted => format!(
                "nova-compute on {h} restarted (init_host): the disk copy it was doing is lost, so _init_instance reverted the crashed migration on the hypervisor (driver.finish_revert_migration) and cleared the task: {vt}. Migration {mid} and both allocations stay as they were."
            ),
            TraceStep::InitStopRetried => format!(
                "nova-compute on {h} restarted (init_host): _init_instance retried the stop that was in progress: {vt}."
            ),
            TraceStep::InitLiveMigrationReset => format!(
                "nova-compute on {h} restarted (init_host): the live migration it was running is lost, so _reset_live_migration cleared task_state migrating; the allocations stay as they were."
            ),
            TraceStep::InitLiveMigrationError => format!(
                "_reset_live_migration found migration {mid} running: it aborted the libvirt job and set the migration to error."
            ),
            TraceStep::MigrateApi
            | TraceStep::ResizeApi
            | TraceStep::ConfirmResizeApi
            | TraceStep::RevertResizeApi
            | TraceStep::RevertResizeApiMigration
            | TraceStep::CreateApi
            | TraceStep::DeleteApi
            | TraceStep::LiveMigrateApi
            | TraceStep::ResetState(_) => format!("The API set {}.", api_clause(t, m)),
        }
    }

    fn auto_confirm_sentence(
        &self,
        t: &Transition,
        m: Option<&MigrationInfo>,
        s: &str,
        d: &str,
    ) -> String {
        let mid = t.migration.as_str();
        let mut x = format!(
            "The periodic task _poll_unconfirmed_resizes on the destination {d} found {mid} finished for at least resize_confirm_window and confirmed it itself"
        );
        let no_project = self.events.iter().any(|e| {
            e.request == t.request && e.project.is_empty() && e.action == ActionName::ConfirmResize
        });
        if !t.request.is_empty() {
            x.push_str(&format!(" ({}", t.request));
            if no_project {
                x.push_str(", recorded as a confirmResize action with no user or project: an admin context, so neither lock nor policy applies");
            }
            x.push(')');
        }
        x.push_str(&format!(
            ": migration {mid} confirming; it cast confirm_resize to the source {s}."
        ));
        if let Some(fin) = m.and_then(|m| self.mig_finished(m)) {
            x.push_str(&format!(
                " The migration had been finished since {fin} s, for {} s.",
                SimTime(t.time_s.ms().saturating_sub(fin.ms()))
            ));
            // A source seen down in between: a run could not confirm ("will retry later").
            // Before 22.0.0 neither the API nor the periodic checked the source
            // (`API.confirm_resize`, e4601c77fb): a confirm made while it is down waits for it.
            let downs = self.service_spans(s, fin, t.time_s);
            if self.seen_down_at(s, t.time_s) {
                x.push_str(&format!(
                    " The source {s} was down at that moment: a release before 22.0.0 does not check it, and the confirm waits for the source to start."
                ));
            } else if !downs.is_empty() {
                x.push_str(&format!(
                    " The source {s} was not up ({}); a periodic run in that time could not confirm and would retry later.",
                    downs.join(", ")
                ));
            }
        }
        x
    }

    /// Whether `host`'s service was seen down at `t` (its last hosts.csv row at or before `t`).
    fn seen_down_at(&self, host: &str, t: SimTime) -> bool {
        self.r
            .hosts
            .iter()
            .rev()
            .find(|h| h.host == host && h.time_s <= t)
            .is_some_and(|h| h.enabled_up.ends_with("/down"))
    }

    /// The periods in [from, to) when `host`'s service was not enabled/up, as text.
    fn service_spans(&self, host: &str, from: SimTime, to: SimTime) -> Vec<String> {
        let mut out = Vec::new();
        let mut down_since: Option<(SimTime, &str)> = None;
        for h in self.r.hosts.iter().filter(|h| h.host == host) {
            let up = h.enabled_up == "enabled/up";
            match (down_since, up) {
                (None, false) => down_since = Some((h.time_s, &h.enabled_up)),
                (Some((since, state)), true) => {
                    if h.time_s > from && since < to {
                        out.push(format!("{state} from {since} s to {} s", h.time_s));
                    }
                    down_since = None;
                }
                _ => {}
            }
        }
        if let Some((since, state)) = down_since {
            if since < to {
                out.push(format!("{state} from {since} s"));
            }
        }
        out
    }

    fn event_items(&self, items: &mut Vec<Item>) {
        let mut error_actions: BTreeSet<&str> = BTreeSet::new();
        for e in &self.events {
            let (Some(start), Some(event)) = (e.event_start_s, e.event) else {
                continue;
            };
            let mig = self.mig_for(&e.request, start);
            let source = mig.map_or("", |m| m.source.as_str());
            let dest = mig.and_then(|m| m.dest_at(start)).unwrap_or("");
            let hop = if e.host.is_empty() {
                "CON"
            } else if mig.is_none() {
                "CMP"
            } else if e.host == source {
                "SRC"
            } else {
                "DST"
            };
            let h = e.host.as_str();
            // Starts that no state change shows (the claim, the checks, a confirm under way).
            let shown = self
                .rows
                .iter()
                .any(|t| t.time_s == start && t.request == e.request);
            if !h.is_empty() && !shown {
                let role = if h == source {
                    ", the source,"
                } else if h == dest {
                    ", the destination,"
                } else {
                    ""
                };
                let text = match event {
                    EventName::ComputePrepResize => format!(
                        "{h} received prep_resize (event compute_prep_resize): it claims the resources for {} (the move claim) and, if that works, casts resize_instance to the source {source}.",
                        self.server
                    ),
                    EventName::ComputeConfirmResize => format!(
                        "{h}{role} received confirm_resize (event compute_confirm_resize): it destroys the old guest and its disks there."
                    ),
                    EventName::ComputeRevertResize => format!(
                        "{h}{role} received revert_resize (event compute_revert_resize): it tears the networking down, asks {source} whether the storage is shared, and destroys the guest on {h}."
                    ),
                    EventName::ComputeCheckCanLiveMigrateDestination => format!(
                        "{h} runs check_can_live_migrate_destination, which calls check_can_live_migrate_source on {source}."
                    ),
                    EventName::ComputeCheckCanLiveMigrateSource => {
                        format!("{h}{role} runs check_can_live_migrate_source.")
                    }
                    EventName::ComputePreLiveMigration => format!(
                        "{h} runs pre_live_migration: volume connections, VIF plugging, networking."
                    ),
                    EventName::ComputePostLiveMigrationAtDestination => {
                        format!("{h} runs post_live_migration_at_destination.")
                    }
                    EventName::ComputeRollbackLiveMigrationAtDestination => format!(
                        "{h} cleans up after the failed live migration (rollback_live_migration_at_destination)."
                    ),
                    // Steps whose start the state changes already tell.
                    EventName::ConductorMigrateServer
                    | EventName::ColdMigrate
                    | EventName::ConductorLiveMigrateInstance
                    | EventName::ComputeResizeInstance
                    | EventName::ComputeFinishResize
                    | EventName::ComputeFinishRevertResize
                    | EventName::ComputeLiveMigration
                    | EventName::ComputeLiveMigrationAbort
                    | EventName::ComputeBuildAndRunInstance => {
                        format!("{h}{role} started {event}.")
                    }
                };
                Self::push(items, start, P_EVENT, hop, &e.request, text);
            }
            if e.result == "Error" {
                let at = e.event_finish_s.unwrap_or(start);
                let who = if h.is_empty() {
                    "The conductor's".to_string()
                } else {
                    format!("{h}'s")
                };
                let details = if e.details.is_empty() {
                    String::new()
                } else {
                    format!(": {}", e.details.trim_end_matches('.'))
                };
                let mut text = format!("{who} {event} event ended Error{details}.");
                if error_actions.insert(&e.request) {
                    text.push_str(&format!(
                        " The {} action of {} now has message Error.",
                        e.action, e.request
                    ));
                }
                Self::push(items, at, P_EVENT, hop, &e.request, text);
            }
        }
    }

    /// Changes of the compute service of a host the server is on or moving from or to.
    fn service_items(&self, items: &mut Vec<Item>) {
        let mut last: std::collections::BTreeMap<&str, &str> = Default::default();
        for h in &self.r.hosts {
            let before = last.insert(&h.host, &h.enabled_up);
            let Some(before) = before else {
                continue;
            };
            if before == h.enabled_up {
                continue;
            }
            let t = h.time_s;
            let mut roles = Vec::new();
            if self.host_at(t) == h.host {
                roles.push(format!("{} is on {}", self.server, h.host));
            }
            for m in &self.migs {
                let active = self.mig_start(m) <= t && self.mig_end(m).is_none_or(|e| e >= t);
                if !active {
                    continue;
                }
                if m.source == h.host {
                    roles.push(format!("{} is the source of {}", h.host, m.id));
                } else if m.dest() == Some(h.host.as_str()) {
                    roles.push(format!("{} is the destination of {}", h.host, m.id));
                }
            }
            if roles.is_empty() {
                continue;
            }
            let what = match (before, h.enabled_up.as_str()) {
                (b, a) if b.ends_with("/up") && a.ends_with("/down") => {
                    "is now seen down (no heartbeat for service_down_time)"
                }
                (b, a) if b.ends_with("/down") && a.ends_with("/up") => "is seen up again",
                (b, a) if b.starts_with("enabled") && a.starts_with("disabled") => "was disabled",
                (b, a) if b.starts_with("disabled") && a.starts_with("enabled") => "was enabled",
                _ => "changed",
            };
            let text = format!(
                "{}'s compute service {what}: {before} → {}. {}.",
                h.host,
                h.enabled_up,
                and_list(&roles)
            );
            Self::push(items, t, P_OPS, "OPS", "", text);
        }
    }

    /// Appends each asynchronous request's outcome to the step that completed it.
    fn completions(&self, steps: &mut Vec<Step>) {
        for q in &self.requests {
            if !q.accepted() {
                continue;
            }
            let Some(done) = q.completed_s else {
                continue;
            };
            let text = match q.outcome.as_str() {
                "success" => format!("This completes {} ({}): success.", q.request, q.action),
                "failure" if q.outcome_detail.is_empty() => {
                    format!("{} ({}) ends in failure.", q.request, q.action)
                }
                "failure" => format!(
                    "{} ({}) ends in failure: {}.",
                    q.request,
                    q.action,
                    q.outcome_detail.trim_end_matches('.')
                ),
                _ => continue,
            };
            match steps
                .iter_mut()
                .rev()
                .find(|s| s.time == done && s.request == q.request)
            {
                Some(s) => {
                    s.text.push(' ');
                    s.text.push_str(&text);
                }
                None => {
                    let at = steps.partition_point(|s| s.time <= done);
                    steps.insert(
                        at,
                        Step {
                            time: done,
                            hop: "—".into(),
                            request: q.request.clone(),
                            text,
                        },
                    );
                }
            }
        }
    }

    fn ending(&self) -> String {
        let end = self.r.end_time();
        let mut out = match self.rows.last() {
            Some(t) => {
                let host = if t.host.is_empty() {
                    "no host".to_string()
                } else {
                    format!("on {}", t.host)
                };
                let task = if t.task().is_empty() {
                    "no task".to_string()
                } else {
                    format!("task_state {}", t.task())
                };
                format!(
                    "End of the run ({end} s): {} is {} {host} (vm_state {}, {task}).",
                    self.server,
                    t.status.as_str(),
                    t.vm_state.as_str()
                )
            }
            None => format!(
                "End of the run ({end} s): {} never existed in the simulation (no state was ever saved).",
                self.server
            ),
        };
        let migs: Vec<String> = self
            .migs
            .iter()
            .map(|m| {
                let status = m
                    .rows
                    .last()
                    .map_or("", |&i| self.r.transitions[i].migration_status_str());
                format!(
                    "{} ({} → {}) {status}",
                    m.id,
                    m.source,
                    m.dest().unwrap_or("no destination")
                )
            })
            .collect();
        if !migs.is_empty() {
            out.push_str(&format!(" Migrations: {}.", migs.join("; ")));
        }
        let pending: Vec<&str> = self
            .requests
            .iter()
            .filter(|q| q.outcome == "pending")
            .map(|q| q.request.as_str())
            .collect();
        if !pending.is_empty() {
            out.push_str(&format!(" Still pending: {}.", pending.join(", ")));
        }
        out
    }
}

/// An API transitions row as a clause of the answer: what the API saved.
fn api_clause(t: &Transition, mig: Option<&MigrationInfo>) -> String {
    let mid = mig.map_or(t.migration.as_str(), |m| m.id.as_str());
    match t.step {
        TraceStep::ConfirmResizeApi => format!("migration {mid} confirming"),
        TraceStep::RevertResizeApiMigration => format!("migration {mid} reverting"),
        step => {
            let text = step.text();
            match text.split_once(": ") {
                Some((_, what)) => what.to_string(),
                None => text.into_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_naturally() {
        assert_eq!(and_list(&[]), "");
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(names(&["h1", "h2", "h3"], 2), "h1, h2 and 1 more");
    }
}
