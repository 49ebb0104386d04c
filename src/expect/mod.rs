//! Evaluating a scenario's `[[expect]]` checks after the run.
//!
//! The checks read the results folder (transitions.csv, requests.csv), not the simulator's
//! memory, so the same code checks a run just finished and a folder saved long ago. Each
//! result says what was expected and what happened, in the trace's own words and times.

use crate::engine::{Duration, SimTime};
use crate::results::Request;
use crate::results::{ResultsFolder, Transition as Change};
use crate::scenario::{ExpectCheck, ExpectWhen, Expectation, LatencyKind};
use std::collections::HashMap;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

pub use crate::results::ReadError;

/// The file the results are written to, in the results folder.
pub use crate::results::EXPECTATIONS_FILE as FILE;

/// How many items (requests, times) a result lists before "…".
const LIST_MAX: usize = 5;

/// The outcome of one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectResult {
    /// 1-based position among the scenario's `[[expect]]` tables.
    pub index: usize,
    pub name: Option<String>,
    /// The check: `status`, `migration_status`, `no_http_code`, `percentile`, `outcome_detail`.
    pub kind: &'static str,
    pub passed: bool,
    /// What the scenario expects, e.g. `vm3 VERIFY_RESIZE at 61.000 s`.
    pub expected: String,
    /// What happened, phrased to follow "expected …, ", e.g. `was RESIZE (since 38.210 s)`.
    pub actual: String,
}

impl ExpectResult {
    /// `#2 "name": expected vm3 VERIFY_RESIZE at 61.000 s, was RESIZE (since 38.210 s)`.
    pub fn describe(&self) -> String {
        let label = match &self.name {
            Some(n) => format!("#{} {n:?}", self.index),
            None => format!("#{}", self.index),
        };
        format!("{label}: expected {}, {}", self.expected, self.actual)
    }
}

/// How many of `results` failed.
pub fn failures(results: &[ExpectResult]) -> usize {
    results.iter().filter(|r| !r.passed).count()
}

/// The results as printed after the run's summary.
pub fn render(results: &[ExpectResult]) -> String {
    let mut out = String::new();
    if results.is_empty() {
        return out;
    }
    let failed = failures(results);
    let _ = writeln!(
        out,
        "expectations: {} of {} passed{}",
        results.len() - failed,
        results.len(),
        if failed > 0 {
            format!(", {failed} FAILED")
        } else {
            String::new()
        }
    );
    for r in results {
        let tag = if r.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {tag} {}", r.describe());
    }
    out
}

/// Writes `results` as CSV: `index,name,kind,result,expected,actual`.
pub fn write_csv(results: &[ExpectResult], w: impl io::Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    w.write_record(crate::results::EXPECTATIONS_HEADER)?;
    for r in results {
        w.write_record([
            r.index.to_string().as_str(),
            r.name.as_deref().unwrap_or(""),
            r.kind,
            if r.passed { "pass" } else { "fail" },
            &r.expected,
            &r.actual,
        ])?;
    }
    w.flush()
}

/// Evaluates `expectations` on the results folder `dir` and, when there are any, writes
/// [`FILE`] into it. What `run_to_dir` calls before moving the folder into place.
pub fn check_dir(expectations: &[Expectation], dir: &Path) -> io::Result<Vec<ExpectResult>> {
    if expectations.is_empty() {
        return Ok(Vec::new());
    }
    let results = evaluate(expectations, dir).map_err(io::Error::other)?;
    let mut f = io::BufWriter::new(std::fs::File::create(dir.join(FILE))?);
    write_csv(&results, &mut f)?;
    io::Write::flush(&mut f)?;
    Ok(results)
}

/// Evaluates `expectations` on the results folder `dir` (a finished or saved run).
pub fn evaluate(expectations: &[Expectation], dir: &Path) -> Result<Vec<ExpectResult>, ReadError> {
    let servers: HashSet<&str> = expectations
        .iter()
        .filter_map(|e| match &e.check {
            ExpectCheck::ServerStatus { server, .. }
            | ExpectCheck::MigrationStatus { server, .. } => Some(server.as_str()),
            _ => None,
        })
        .collect();
    let folder = ResultsFolder::open(dir)?;
    // Only the rows of the servers checked are kept: a large trace is streamed, not held.
    let mut changes: HashMap<String, Vec<Change>> = HashMap::new();
    if !servers.is_empty() {
        folder.each_transition(|t| {
            if servers.contains(t.server.as_str()) {
                changes.entry(t.server.clone()).or_default().push(t);
            }
            Ok(true)
        })?;
    }
    let needs_requests = expectations.iter().any(|e| {
        !matches!(
            e.check,
            ExpectCheck::ServerStatus { .. } | ExpectCheck::MigrationStatus { .. }
        )
    });
    let requests = if needs_requests {
        folder.requests()?.to_vec()
    } else {
        Vec::new()
    };
    let no_changes = Vec::new();
    Ok(expectations
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let rows = |server: &str| changes.get(server).unwrap_or(&no_changes);
            let (kind, passed, expected, actual) = match &e.check {
                ExpectCheck::ServerStatus {
                    server,
                    status,
                    when,
                } => {
                    let (p, exp, act) = server_status(server, status.as_str(), *when, rows(server));
                    ("status", p, exp, act)
                }
                ExpectCheck::MigrationStatus {
                    server,
                    nth,
                    status,
                    when,
                } => {
                    let (p, exp, act) =
                        migration_status(server, *nth, status.as_str(), *when, rows(server));
                    ("migration_status", p, exp, act)
                }
                ExpectCheck::NoHttpCode { code, action } => {
                    let (p, exp, act) = no_http_code(*code, action.map(|a| a.as_str()), &requests);
                    ("no_http_code", p, exp, act)
                }
                ExpectCheck::Percentile {
                    action,
                    latency,
                    percentile,
                    below,
                } => {
                    let (p, exp, act) =
                        percentile_below(action.as_str(), *latency, *percentile, *below, &requests);
                    ("percentile", p, exp, act)
                }
                ExpectCheck::OutcomeDetail {
                    prefix,
                    action,
                    at_least,
                    at_most,
                } => {
                    let (p, exp, act) = outcome_detail(
                        prefix,
                        action.map(|a| a.as_str()),
                        *at_least,
                        *at_most,
                        &requests,
                    );
                    ("outcome_detail", p, exp, act)
                }
            };
            ExpectResult {
                index: i + 1,
                name: e.name.clone(),
                kind,
                passed,
                expected,
                actual,
            }
        })
        .collect())
}

type Outcome = (bool, String, String);

/// "a, b, c, … (7 in all)".
fn listed(items: &[String]) -> String {
    if items.len() <= LIST_MAX {
        items.join(", ")
    } else {
        format!(
            "{}, … ({} in all)",
            items[..LIST_MAX].join(", "),
            items.len()
        )
    }
}

fn window(when: ExpectWhen) -> String {
    match when {
        ExpectWhen::At(t) => format!("at {t} s"),
        ExpectWhen::Between(a, b) => format!("between {a} and {b} s"),
    }
}

/// Which column of a change a check follows.
type Key = fn(&Change) -> &str;

fn status_of(c: &Change) -> &str {
    c.status.as_str()
}

fn migration_status_of(c: &Change) -> &str {
    c.migration_status_str()
}

/// The value of `key` after every row at or before `t`, with the time it took that value
/// (the first of the run of rows with it). `None` when no row is at or before `t`.
fn value_at(rows: &[Change], t: SimTime, key: Key) -> Option<(&str, SimTime)> {
    let mut cur: Option<(&str, SimTime)> = None;
    for r in rows.iter().take_while(|r| r.time_s <= t) {
        let v = key(r);
        if cur.is_none_or(|(c, _)| c != v) {
            cur = Some((v, r.time_s));
        }
    }
    cur
}

/// Times at which `key` changed to `value` (the first row counts as a change).
fn entries(rows: &[Change], value: &str, key: Key) -> Vec<SimTime> {
    let mut out = Vec::new();
    let mut prev: Option<&str> = None;
    for r in rows {
        let v = key(r);
        if v == value && prev != Some(v) {
            out.push(r.time_s);
        }
        prev = Some(v);
    }
    out
}

fn server_status(server: &str, status: &str, when: ExpectWhen, rows: &[Change]) -> Outcome {
    let expected = match when {
        ExpectWhen::At(t) => format!("{server} {status} at {t} s"),
        ExpectWhen::Between(..) => format!("{server} to enter {status} {}", window(when)),
    };
    let Some(first) = rows.first() else {
        return (
            false,
            expected,
            format!("{server} never appears in transitions.csv"),
        );
    };
    match when {
        ExpectWhen::At(t) => match value_at(rows, t, status_of) {
            None => (
                false,
                expected,
                format!(
                    "{server} did not exist yet (first seen at {} s)",
                    first.time_s
                ),
            ),
            Some((now, since)) => (
                now == status,
                expected,
                format!("was {now} (since {since} s)"),
            ),
        },
        ExpectWhen::Between(a, b) => {
            let times = entries(rows, status, status_of);
            let hit = times.iter().find(|t| (a..=b).contains(*t));
            let actual = match (hit, times.is_empty()) {
                (Some(t), _) => format!("entered it at {t} s"),
                (None, false) => format!(
                    "entered it only at {} s",
                    listed(&times.iter().map(|t| t.to_string()).collect::<Vec<_>>())
                ),
                (None, true) => match rows.last() {
                    Some(l) => format!(
                        "never entered it (last {} since {} s)",
                        l.status.as_str(),
                        { value_at(rows, l.time_s, status_of).map_or(l.time_s, |(_, s)| s) }
                    ),
                    None => "never entered it".to_string(),
                },
            };
            (hit.is_some(), expected, actual)
        }
    }
}

fn ordinal(nth: Option<u32>) -> String {
    match nth {
        None => "last migration".to_string(),
        Some(n) => format!("migration #{n}"),
    }
}

fn migration_status(
    server: &str,
    nth: Option<u32>,
    status: &str,
    when: ExpectWhen,
    rows: &[Change],
) -> Outcome {
    let which = ordinal(nth);
    let expected = match when {
        ExpectWhen::At(t) => format!("{server}'s {which} {status} at {t} s"),
        ExpectWhen::Between(..) => {
            format!(
                "{server}'s {which} to first reach {status} {}",
                window(when)
            )
        }
    };
    // The server's migrations in the order they appear in the trace.
    let mut ids: Vec<&str> = Vec::new();
    for r in rows {
        if !r.migration.is_empty() && !ids.contains(&r.migration.as_str()) {
            ids.push(&r.migration);
        }
    }
    let picked = match nth {
        None => ids.last(),
        Some(n) => ids.get(n as usize - 1),
    };
    let Some(&id) = picked else {
        let actual = match ids.len() {
            0 => format!("{server} has no migration in transitions.csv"),
            1 => format!("{server} has only 1 migration"),
            n => format!("{server} has only {n} migrations"),
        };
        return (false, expected, actual);
    };
    let mine: Vec<Change> = rows.iter().filter(|r| r.migration == id).cloned().collect();
    match when {
        ExpectWhen::At(t) => match value_at(&mine, t, migration_status_of) {
            None => (
                false,
                expected,
                format!(
                    "{id} did not exist yet (created at {} s)",
                    mine.first().map_or(SimTime::ZERO, |c| c.time_s)
                ),
            ),
            Some((now, since)) => (
                now == status,
                expected,
                format!("{id} was {now} (since {since} s)"),
            ),
        },
        ExpectWhen::Between(a, b) => match mine.iter().find(|c| c.migration_status_str() == status)
        {
            Some(c) => (
                (a..=b).contains(&c.time_s),
                expected,
                format!("{id} first reached it at {} s", c.time_s),
            ),
            None => {
                let last = mine
                    .last()
                    .and_then(|l| value_at(&mine, l.time_s, migration_status_of))
                    .map_or(String::new(), |(s, since)| {
                        format!(" (last {s} since {since} s)")
                    });
                (false, expected, format!("{id} never reached it{last}"))
            }
        },
    }
}

fn requests_of(action: Option<&str>) -> String {
    match action {
        Some(a) => format!("{a} requests"),
        None => "requests".to_string(),
    }
}

fn no_http_code(code: u16, action: Option<&str>, requests: &[Request]) -> Outcome {
    let expected = match action {
        Some(a) => format!("no {a} request answered {code}"),
        None => format!("no request answered {code}"),
    };
    let hits: Vec<String> = requests
        .iter()
        .filter(|r| r.http_code == Some(code) && action.is_none_or(|a| r.action.as_str() == a))
        .map(|r| match r.answered_s {
            Some(t) => format!("{} ({} at {t} s)", r.request, r.action),
            None => format!("{} ({})", r.request, r.action),
        })
        .collect();
    let actual = if hits.is_empty() {
        "there was none".to_string()
    } else {
        format!("got {}: {}", hits.len(), listed(&hits))
    };
    (hits.is_empty(), expected, actual)
}

/// Nearest-rank percentile (as `trace::summary::Percentiles`, so the figures agree).
fn nearest_rank(mut xs: Vec<u64>, q: u8) -> Option<u64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let rank = (u64::from(q) * xs.len() as u64).div_ceil(100).max(1) as usize;
    xs.get(rank - 1).copied()
}

fn percentile_below(
    action: &str,
    latency: LatencyKind,
    q: u8,
    below: Duration,
    requests: &[Request],
) -> Outcome {
    let expected = format!(
        "p{q} of {action} {} latency below {below} s",
        latency.as_str()
    );
    let xs: Vec<u64> = requests
        .iter()
        .filter(|r| r.action.as_str() == action)
        .filter_map(|r| {
            match latency {
                LatencyKind::Completion if r.outcome == "success" => r.completed_s,
                LatencyKind::Completion => None,
                LatencyKind::Response => r.answered_s,
            }
            .map(|t| t.since(r.submitted_s).ms())
        })
        .collect();
    let n = xs.len();
    match nearest_rank(xs, q) {
        None => {
            let which = match latency {
                LatencyKind::Completion => "successful",
                LatencyKind::Response => "answered",
            };
            (
                false,
                expected,
                format!("there was no {which} {action} request"),
            )
        }
        Some(ms) => (
            ms < below.ms(),
            expected,
            format!(
                "was {} s over {n} request{}",
                Duration(ms),
                if n == 1 { "" } else { "s" }
            ),
        ),
    }
}

fn outcome_detail(
    prefix: &str,
    action: Option<&str>,
    at_least: Option<u64>,
    at_most: Option<u64>,
    requests: &[Request],
) -> Outcome {
    let bound = match (at_least, at_most) {
        (Some(lo), Some(hi)) if lo == hi => format!("exactly {lo}"),
        (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
        (Some(lo), None) => format!("at least {lo}"),
        (None, Some(hi)) => format!("at most {hi}"),
        (None, None) => "any number of".to_string(),
    };
    let expected = format!(
        "{bound} {} with outcome_detail starting with {prefix:?}",
        requests_of(action)
    );
    let hits: Vec<String> = requests
        .iter()
        .filter(|r| {
            r.outcome_detail.starts_with(prefix) && action.is_none_or(|a| r.action.as_str() == a)
        })
        .map(|r| r.request.clone())
        .collect();
    let n = hits.len() as u64;
    let passed = at_least.is_none_or(|lo| n >= lo) && at_most.is_none_or(|hi| n <= hi);
    let actual = if hits.is_empty() {
        "got 0".to_string()
    } else {
        format!("got {n}: {}", listed(&hits))
    };
    (passed, expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MigrationStatus, Status, VmState};

    fn change(ms: u64, status: &str, mig: &str, mig_status: &str) -> Change {
        let status = Status::ALL.into_iter().find(|s| s.as_str() == status);
        let mig_status = MigrationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == mig_status);
        Change {
            time_s: SimTime(ms),
            request: String::new(),
            server: "vm".into(),
            host: "h1".into(),
            vm_state: VmState::Active,
            task_state: None,
            status: status.expect("status"),
            migration: mig.into(),
            migration_status: mig_status,
            hop: crate::vocab::Hop::Api,
            step: crate::vocab::Step::MigrateApi,
        }
    }

    fn trace() -> Vec<Change> {
        vec![
            change(0, "ACTIVE", "", ""),
            change(30_050, "RESIZE", "", ""),
            change(30_070, "RESIZE", "mig-2", "pre-migrating"),
            change(58_210, "RESIZE", "mig-2", "finished"),
            change(58_210, "VERIFY_RESIZE", "mig-2", "finished"),
            change(200_000, "VERIFY_RESIZE", "mig-2", "confirming"),
            change(202_020, "VERIFY_RESIZE", "mig-2", "confirmed"),
            change(202_020, "ACTIVE", "mig-2", "confirmed"),
        ]
    }

    #[test]
    fn status_at_a_time_says_since_when() {
        let (ok, exp, act) = server_status(
            "vm3",
            "VERIFY_RESIZE",
            ExpectWhen::At(SimTime(40_000)),
            &trace(),
        );
        assert!(!ok);
        assert_eq!(exp, "vm3 VERIFY_RESIZE at 40.000 s");
        assert_eq!(act, "was RESIZE (since 30.050 s)");
        let (ok, _, act) = server_status(
            "vm3",
            "VERIFY_RESIZE",
            ExpectWhen::At(SimTime(58_210)),
            &trace(),
        );
        assert!(ok, "{act}");
        let (ok, _, act) = server_status("vm3", "ACTIVE", ExpectWhen::At(SimTime(0)), &[]);
        assert!(!ok);
        assert_eq!(act, "vm3 never appears in transitions.csv");
    }

    #[test]
    fn status_entered_within_a_window() {
        let w = ExpectWhen::Between(SimTime(200_000), SimTime(203_000));
        let (ok, _, act) = server_status("vm3", "ACTIVE", w, &trace());
        assert!(ok, "{act}");
        assert_eq!(act, "entered it at 202.020 s");
        let w = ExpectWhen::Between(SimTime(100_000), SimTime(150_000));
        let (ok, _, act) = server_status("vm3", "ACTIVE", w, &trace());
        assert!(!ok);
        assert_eq!(act, "entered it only at 0.000, 202.020 s");
    }

    #[test]
    fn migration_first_reaches_a_status() {
        let w = ExpectWhen::Between(SimTime(200_000), SimTime(203_000));
        let (ok, exp, act) = migration_status("vm3", None, "confirmed", w, &trace());
        assert!(ok, "{act}");
        assert_eq!(
            exp,
            "vm3's last migration to first reach confirmed between 200.000 and 203.000 s"
        );
        assert_eq!(act, "mig-2 first reached it at 202.020 s");
        let (ok, _, act) = migration_status("vm3", Some(2), "confirmed", w, &trace());
        assert!(!ok);
        assert_eq!(act, "vm3 has only 1 migration");
        let (ok, _, act) = migration_status(
            "vm3",
            Some(1),
            "finished",
            ExpectWhen::At(SimTime(61_000)),
            &trace(),
        );
        assert!(ok);
        assert_eq!(act, "mig-2 was finished (since 58.210 s)");
    }

    fn req(
        id: &str,
        action: &str,
        code: u16,
        sub: u64,
        done: u64,
        outcome: &str,
        d: &str,
    ) -> Request {
        Request {
            request: id.into(),
            name: String::new(),
            submitted_s: SimTime(sub),
            answered_s: Some(SimTime(sub + 50)),
            action: crate::config::ActionKind::parse(action).expect("an action"),
            server: "vm".into(),
            microversion: "2.104".into(),
            role: "admin".into(),
            http_code: Some(code),
            message: String::new(),
            completed_s: Some(SimTime(done)),
            outcome: outcome.into(),
            outcome_detail: d.into(),
        }
    }

    #[test]
    fn request_checks() {
        let rs = vec![
            req("req-1", "migrate", 202, 0, 28_210, "success", ""),
            req(
                "req-2",
                "migrate",
                202,
                0,
                40_000,
                "failure",
                "NoValidHost: No valid host was found.",
            ),
            req("req-3", "migrate", 500, 0, 50, "failure", "HTTP 500"),
        ];
        assert!(!no_http_code(500, None, &rs).0);
        assert_eq!(
            no_http_code(500, None, &rs).2,
            "got 1: req-3 (migrate at 0.050 s)"
        );
        assert!(no_http_code(500, Some("delete"), &rs).0);
        let (ok, exp, act) = percentile_below(
            "migrate",
            LatencyKind::Completion,
            95,
            Duration(30_000),
            &rs,
        );
        assert!(ok);
        assert_eq!(exp, "p95 of migrate completion latency below 30.000 s");
        assert_eq!(act, "was 28.210 s over 1 request");
        assert!(
            !percentile_below(
                "migrate",
                LatencyKind::Completion,
                95,
                Duration(28_210),
                &rs
            )
            .0
        );
        assert!(!outcome_detail("NoValidHost", None, None, Some(0), &rs).0);
        assert!(outcome_detail("NoValidHost", None, Some(1), Some(1), &rs).0);
        assert_eq!(nearest_rank((1..=100).collect(), 95), Some(95));
    }
}
