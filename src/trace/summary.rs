//! summary.json and the readable summary printed at the end of a run.

use super::RunStats;
use super::{Outcome, RequestRecord};
use crate::config::ActionKind;
use crate::engine::SimTime;
use crate::model::{MigrationStatus, Status, World};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How the percentiles of summary.json are defined, written into it so that a reader comparing
/// with another tool knows which figures to compare.
pub const PERCENTILE_DEFINITION: &str = "p50_ms, p90_ms, p95_ms, p99_ms: nearest rank (the \
value at rank ceil(q/100 x n) of the sorted latencies, an observed value); p50_rally_ms, \
p90_rally_ms, p95_rally_ms, p99_rally_ms: Rally's definition (rally.common.utils.percentile, \
used by Rally's reports): linear interpolation between the sorted values at ranks floor(k) and \
ceil(k), k = q/100 x (n - 1), counted from 0, exact to 0.01 ms; mean_ms: the mean rounded \
down to the millisecond";

/// Milliseconds with two decimals, held as integer hundredths so that the figure is exact;
/// written as a JSON integer when whole and with its decimals otherwise (`28210`, `28210.5`).
/// Rally's interpolated percentile of integer milliseconds is always a multiple of 0.01 ms
/// (the weight is q/100 x (n - 1) minus its floor, a multiple of 1/100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CentiMs(pub u64);

impl CentiMs {
    /// The value in milliseconds, exact for any latency a run can have (below 2^53 / 100).
    pub fn ms(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl Serialize for CentiMs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(100) {
            s.serialize_u64(self.0 / 100)
        } else {
            // A correctly rounded quotient, printed by serde_json as its shortest round-trip
            // decimal: exactly the two-decimal value, the same on every machine.
            s.serialize_f64(self.ms())
        }
    }
}

impl std::fmt::Display for CentiMs {
    /// In seconds, like every time of the results, with up to five decimals ("28.2105").
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, frac) = (self.0 / 100_000, self.0 % 100_000);
        let frac = format!("{frac:05}");
        let frac = frac.trim_end_matches('0');
        let frac = if frac.len() < 3 {
            &format!("{frac:0<3}")
        } else {
            frac
        };
        write!(f, "{whole}.{frac}")
    }
}

/// Latency percentiles in milliseconds, by two definitions (see [`PERCENTILE_DEFINITION`]):
/// nearest rank, so every figure is an observed value, and Rally's linear interpolation, so
/// that figures compare with a Rally report of the same requests.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub min_ms: u64,
    pub p50_ms: u64,
    pub p90_ms: u64,
    pub p95_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
    pub mean_ms: u64,
    pub p50_rally_ms: CentiMs,
    pub p90_rally_ms: CentiMs,
    pub p95_rally_ms: CentiMs,
    pub p99_rally_ms: CentiMs,
}

/// The percentiles reported.
const QS: [u64; 4] = [50, 90, 95, 99];

/// 0-based index of the nearest-rank `q`th percentile of `n` sorted values.
fn nearest_rank(q: u64, n: usize) -> usize {
    (q * n as u64).div_ceil(100).max(1) as usize - 1
}

/// Rally's `q`th percentile position among `n` sorted values: k = q/100 x (n - 1) as its
/// floor and the hundredths beyond it.
fn rally_position(q: u64, n: usize) -> (usize, u64) {
    let k100 = q * (n as u64 - 1);
    ((k100 / 100) as usize, k100 % 100)
}

impl Percentiles {
    pub fn of(mut xs: Vec<u64>) -> Option<Percentiles> {
        let count = xs.len();
        let (&min, &max) = (xs.iter().min()?, xs.iter().max()?);
        let mean_ms = xs.iter().sum::<u64>() / count as u64;
        // Every rank either definition reads, ascending. Selecting one puts every smaller
        // value before it, so the next is selected among the values after it: a few linear
        // passes over a shrinking slice instead of a sort.
        let mut ranks: Vec<usize> = Vec::with_capacity(3 * QS.len());
        for q in QS {
            let (f, r) = rally_position(q, count);
            ranks.push(nearest_rank(q, count));
            ranks.push(f);
            if r > 0 {
                ranks.push(f + 1);
            }
        }
        ranks.sort_unstable();
        ranks.dedup();
        let mut selected = 0;
        for &i in &ranks {
            xs[selected..].select_nth_unstable(i - selected);
            selected = i + 1;
        }
        let near = |q: u64| xs[nearest_rank(q, count)];
        let rally = |q: u64| {
            let (f, r) = rally_position(q, count);
            let lo = xs[f];
            // xs[f + 1] >= xs[f]: both are in their sorted places.
            let hi = if r > 0 { xs[f + 1] } else { lo };
            CentiMs(lo * 100 + (hi - lo) * r)
        };
        Some(Percentiles {
            count,
            min_ms: min,
            p50_ms: near(50),
            p90_ms: near(90),
            p95_ms: near(95),
            p99_ms: near(99),
            max_ms: max,
            mean_ms,
            p50_rally_ms: rally(50),
            p90_rally_ms: rally(90),
            p95_rally_ms: rally(95),
            p99_rally_ms: rally(99),
        })
    }
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct ActionSummary {
    pub submitted: u64,
    /// Count per HTTP code answered.
    pub http_codes: BTreeMap<u16, u64>,
    pub succeeded: u64,
    pub failed_async: u64,
    pub pending: u64,
    /// Count per failure detail class (the text before the first ':'), e.g. "NoValidHost".
    pub failures: BTreeMap<String, u64>,
    /// Submitted → asynchronous work finished, successful requests only.
    pub completion_latency: Option<Percentiles>,
    /// Submitted → HTTP answer, every answered request.
    pub response_latency: Option<Percentiles>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    /// [`PERCENTILE_DEFINITION`].
    pub percentiles: &'static str,
    pub seed: u64,
    pub end_time_s: String,
    pub events: u64,
    pub requests: u64,
    pub actions: BTreeMap<String, ActionSummary>,
    pub final_status: BTreeMap<String, u64>,
    pub migration_status: BTreeMap<String, u64>,
    pub peak_migration_vcpus: u64,
    pub peak_migration_memory_mb: u64,
    pub instance_actions: u64,
    pub instance_actions_with_error: u64,
    /// Why a run without `end_s` stopped before its queue emptied (only retries that cannot
    /// succeed were left); absent when it ran out of events or reached `end_s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_early: Option<String>,
}

/// One action's figures while the requests are counted: latencies gathered for their
/// percentiles.
#[derive(Debug, Clone, Default)]
struct Tally {
    summary: ActionSummary,
    completion: Vec<u64>,
    response: Vec<u64>,
}

/// The requests' figures for summary.json, counted one request at a time: requests.csv is
/// written as the run goes (`trace::records`), so the records are not all held at the end.
/// Every figure is a count or a multiset of latencies, so the order of counting is irrelevant.
#[derive(Debug, Clone)]
pub struct RequestTally {
    requests: u64,
    /// Every action is present, counts 0 included, so that a sweep reading
    /// `actions.<action>.<count>` gets 0 from a run without such a request instead of silently
    /// dropping that run. By [`ActionKind::index`]: a request finds its slot without the string
    /// comparisons of a map keyed by name (0.5 % of the cold storm's instructions).
    actions: Vec<Option<Tally>>,
}

impl Default for RequestTally {
    fn default() -> Self {
        let mut actions = vec![None; ActionKind::every().count()];
        for a in ActionKind::ALL {
            actions[a.index()] = Some(Tally::default());
        }
        RequestTally {
            requests: 0,
            actions,
        }
    }
}

impl RequestTally {
    /// Counts `r` as it is now (a pending request counts as pending).
    pub fn add(&mut self, r: &RequestRecord) {
        self.requests += 1;
        let t = self.actions[r.action.index()].get_or_insert_with(Tally::default);
        let a = &mut t.summary;
        a.submitted += 1;
        if let Some(at) = r.answered {
            *a.http_codes.entry(r.code).or_default() += 1;
            t.response.push(at.since(r.submitted).ms());
        }
        let accepted = (200..300).contains(&r.code);
        match &r.outcome {
            Outcome::Pending => a.pending += 1,
            Outcome::Success => {
                a.succeeded += 1;
                if let Some(c) = r.completed {
                    t.completion.push(c.since(r.submitted).ms());
                }
            }
            Outcome::Failure(detail) if accepted => {
                a.failed_async += 1;
                let class = detail.split(':').next().unwrap_or(detail);
                // The owned key is made once per class, not once per request.
                match a.failures.get_mut(class) {
                    Some(n) => *n += 1,
                    None => {
                        a.failures.insert(class.to_string(), 1);
                    }
                }
            }
            Outcome::Failure(_) => {}
        }
    }
}

pub fn build(
    scenario: &str,
    seed: u64,
    world: &World,
    requests: RequestTally,
    stats: &RunStats,
) -> Summary {
    let instance_actions = world.actions.counts();
    let mut tallies = requests.actions;
    let actions = ActionKind::every()
        .filter_map(|kind| {
            let t = tallies.get_mut(kind.index())?.take()?;
            let mut a = t.summary;
            a.completion_latency = Percentiles::of(t.completion);
            a.response_latency = Percentiles::of(t.response);
            Some((kind.as_str().to_string(), a))
        })
        .collect();
    Summary {
        scenario: scenario.to_string(),
        percentiles: PERCENTILE_DEFINITION,
        seed,
        end_time_s: stats.end_time.to_string(),
        events: stats.events,
        requests: requests.requests,
        actions,
        final_status: count_by_name(Status::ALL, world.servers.iter().map(|s| s.status()), |s| {
            s.as_str()
        }),
        migration_status: count_by_name(
            MigrationStatus::ALL,
            world.migrations.iter().map(|m| m.status),
            |s| s.as_str(),
        ),
        peak_migration_vcpus: stats.peak_migration_vcpus,
        peak_migration_memory_mb: stats.peak_migration_memory_mb,
        ended_early: stats.ended_early.clone(),
        instance_actions: instance_actions.actions,
        instance_actions_with_error: instance_actions.with_error,
    }
}

/// A summary with every field a run's summary can have filled in (latencies of every action
/// included, values meaningless): what `novasim sweep --metric` paths are checked against.
/// HTTP codes and failure classes are open sets, listed as they occur, so they are empty here.
pub fn schema() -> Summary {
    let latency = Percentiles::of(vec![0]);
    let action = ActionSummary {
        completion_latency: latency.clone(),
        response_latency: latency,
        ..ActionSummary::default()
    };
    Summary {
        scenario: String::new(),
        percentiles: PERCENTILE_DEFINITION,
        seed: 0,
        end_time_s: String::new(),
        events: 0,
        requests: 0,
        actions: ActionKind::ALL
            .iter()
            .map(|a| (a.as_str().to_string(), action.clone()))
            .collect(),
        final_status: count_by_name(Status::ALL, std::iter::empty(), |s| s.as_str()),
        migration_status: count_by_name(MigrationStatus::ALL, std::iter::empty(), |s| s.as_str()),
        peak_migration_vcpus: 0,
        ended_early: None,
        peak_migration_memory_mb: 0,
        instance_actions: 0,
        instance_actions_with_error: 0,
    }
}

/// How many of `keys` have each name, every name of `all` present (0 included: a count that
/// is absent when zero makes a sweep drop exactly the runs where it is 0). The keys
/// (statuses) take few values and compare as integers, so they are counted in a short list
/// and named once per value, not once per key.
fn count_by_name<K: Copy + Eq, const N: usize>(
    all: [K; N],
    keys: impl Iterator<Item = K>,
    name: impl Fn(K) -> &'static str,
) -> BTreeMap<String, u64> {
    let mut counts: Vec<(K, u64)> = all.iter().map(|&k| (k, 0)).collect();
    for k in keys {
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    let mut named = BTreeMap::new();
    for (k, n) in counts {
        *named.entry(name(k).to_string()).or_default() += n;
    }
    named
}

fn secs(ms: u64) -> String {
    SimTime(ms).to_string()
}

/// The summary as a newcomer reads it at the end of a run.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} (seed {}): {} events, {} requests, simulated time {} s",
        s.scenario, s.seed, s.events, s.requests, s.end_time_s
    );
    let _ = writeln!(
        out,
        "{:<14} {:>6} {:>16} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "action", "sent", "http", "ok", "failed", "pending", "p50 s", "p95 s", "p99 s", "max s"
    );
    // summary.json lists every action and status, zeros included; the printed summary only
    // what happened.
    for (name, a) in s.actions.iter().filter(|(_, a)| a.submitted > 0) {
        let codes = a
            .http_codes
            .iter()
            .map(|(c, n)| format!("{c}x{n}"))
            .collect::<Vec<_>>()
            .join(",");
        let (p50, p95, p99, max) = a.completion_latency.as_ref().map_or(
            ("-".into(), "-".into(), "-".into(), "-".into()),
            |p| {
                (
                    secs(p.p50_ms),
                    secs(p.p95_ms),
                    secs(p.p99_ms),
                    secs(p.max_ms),
                )
            },
        );
        let _ = writeln!(
            out,
            "{:<14} {:>6} {:>16} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9}",
            name, a.submitted, codes, a.succeeded, a.failed_async, a.pending, p50, p95, p99, max
        );
        for (class, n) in &a.failures {
            let _ = writeln!(out, "{:<14}   failed: {n} x {class}", "");
        }
    }
    let statuses = |m: &BTreeMap<String, u64>| {
        m.iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(why) = &s.ended_early {
        let _ = writeln!(out, "ended early: {why}");
    }
    let _ = writeln!(out, "servers: {}", statuses(&s.final_status));
    if s.migration_status.values().any(|&n| n > 0) {
        let _ = writeln!(out, "migrations: {}", statuses(&s.migration_status));
    }
    let _ = writeln!(
        out,
        "peak capacity held twice by moves: {} vCPU, {} MiB",
        s.peak_migration_vcpus, s.peak_migration_memory_mb
    );
    let _ = writeln!(
        out,
        "percentiles: nearest rank (summary.json also has Rally's interpolated p*_rally_ms)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).collect()).unwrap_or_else(|| unreachable!());
        assert_eq!((p.p50_ms, p.p90_ms, p.p95_ms, p.p99_ms), (50, 90, 95, 99));
        assert_eq!((p.min_ms, p.max_ms, p.mean_ms), (1, 100, 50));
        let one = Percentiles::of(vec![7]).unwrap_or_else(|| unreachable!());
        assert_eq!((one.p50_ms, one.p99_ms), (7, 7));
        assert!(Percentiles::of(vec![]).is_none());
    }

    #[test]
    fn rally_percentiles_interpolate_like_rally() {
        // Rally's utils.percentile on 1..=100: k = q/100 x 99, between values k+1 and k+2.
        let p = Percentiles::of((1..=100).collect()).unwrap_or_else(|| unreachable!());
        assert_eq!(
            (
                p.p50_rally_ms,
                p.p90_rally_ms,
                p.p95_rally_ms,
                p.p99_rally_ms
            ),
            (CentiMs(5050), CentiMs(9010), CentiMs(9505), CentiMs(9901))
        );
        // [10, 20, 30, 40], 95th: k = 2.85, 30 x 0.15 + 40 x 0.85 = 38.5 (Rally's figure);
        // nearest rank gives 40.
        let p = Percentiles::of(vec![40, 10, 30, 20]).unwrap_or_else(|| unreachable!());
        assert_eq!((p.p95_ms, p.p95_rally_ms), (40, CentiMs(3850)));
        assert_eq!(p.p50_rally_ms, CentiMs(2500));
        let one = Percentiles::of(vec![7]).unwrap_or_else(|| unreachable!());
        assert_eq!(one.p99_rally_ms, CentiMs(700));
    }

    #[test]
    fn centi_ms_are_written_exactly() {
        let json = |c: CentiMs| serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(json(CentiMs(3850)), "38.5");
        assert_eq!(json(CentiMs(2_821_000)), "28210");
        assert_eq!(json(CentiMs(1)), "0.01");
        assert_eq!(json(CentiMs(12_345)), "123.45");
        assert_eq!(json(CentiMs(987_654_321_099)), "9876543210.99");
        assert_eq!(CentiMs(3850).to_string(), "0.0385");
        assert_eq!(CentiMs(2_821_000).to_string(), "28.210");
        assert_eq!(CentiMs(2_821_050).to_string(), "28.2105");
    }

    proptest::proptest! {
        /// Rally's percentile, computed in exact integers, equals its floating formula on
        /// the sorted list (Rally's own code) to within float rounding.
        #[test]
        fn rally_agrees_with_its_formula(xs in proptest::collection::vec(0u64..100_000, 1..300)) {
            let p = Percentiles::of(xs.clone()).unwrap_or_else(|| unreachable!());
            let mut v = xs;
            v.sort_unstable();
            let rally = |q: f64| {
                let k = (v.len() - 1) as f64 * q;
                let (f, c) = (k.floor(), k.ceil());
                if f == c {
                    v[k as usize] as f64
                } else {
                    v[f as usize] as f64 * (c - k) + v[c as usize] as f64 * (k - f)
                }
            };
            for (got, q) in [
                (p.p50_rally_ms, 0.50),
                (p.p90_rally_ms, 0.90),
                (p.p95_rally_ms, 0.95),
                (p.p99_rally_ms, 0.99),
            ] {
                proptest::prop_assert!((got.ms() - rally(q)).abs() < 1e-6, "{got:?} q {q}");
            }
        }
    }

    proptest::proptest! {
        /// The selected ranks are the values of the sorted list (duplicates and tiny lists
        /// included, where ranks coincide).
        #[test]
        fn selection_agrees_with_sorting(xs in proptest::collection::vec(0u64..50, 1..300)) {
            let p = Percentiles::of(xs.clone()).unwrap_or_else(|| unreachable!());
            let mut sorted = xs;
            sorted.sort_unstable();
            let n = sorted.len();
            let at = |q: usize| sorted[(q * n).div_ceil(100).max(1) - 1];
            proptest::prop_assert_eq!(
                (p.min_ms, p.p50_ms, p.p90_ms, p.p95_ms, p.p99_ms, p.max_ms),
                (sorted[0], at(50), at(90), at(95), at(99), sorted[n - 1])
            );
            proptest::prop_assert_eq!(p.mean_ms, sorted.iter().sum::<u64>() / n as u64);
        }
    }
}
