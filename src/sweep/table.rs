//! sweep.csv: one row per run, columns fixed by the set of runs (not by the order they
//! finished in), so the file is the same whatever the number of threads.

use super::grid::Param;
use super::stats::{num, Stats};
use super::RunResult;
use crate::config::ActionKind;
use crate::model::Status;
use crate::trace::summary::{ActionSummary, Summary};
use std::collections::BTreeSet;

/// The header and rows of sweep.csv.
pub fn build(
    params: &[Param],
    runs: &[RunResult],
    metric: &str,
) -> (Vec<String>, Vec<Vec<String>>) {
    // The metric over the seeds of each grid point, repeated on each of its rows: every row
    // then reads alone, and the file stays one table.
    let mut points: Vec<(&[usize], Vec<f64>)> = Vec::new();
    for r in runs {
        let values = r.point.values.as_slice();
        let i = match points.iter().position(|(v, _)| *v == values) {
            Some(i) => i,
            None => {
                points.push((values, Vec::new()));
                points.len() - 1
            }
        };
        points[i].1.extend(r.metric);
    }
    let stats: Vec<(&[usize], Option<Stats>)> = points
        .into_iter()
        .map(|(v, xs)| (v, Stats::of(&xs)))
        .collect();
    let actions = actions(runs);
    let statuses = statuses(runs);
    let with_expectations = runs.iter().any(|r| r.expectations.is_some());

    let mut header: Vec<String> = params.iter().map(|p| p.key.clone()).collect();
    header.push("seed".into());
    for a in &actions {
        for col in [
            "submitted",
            "succeeded",
            "failed",
            "pending",
            "p50_ms",
            "p95_ms",
            "p99_ms",
        ] {
            header.push(format!("{a}_{col}"));
        }
    }
    header.push("peak_migration_vcpus".into());
    header.push("peak_migration_memory_mb".into());
    header.extend(statuses.iter().map(|s| format!("final_{s}")));
    header.push("events".into());
    header.push("end_time_s".into());
    if with_expectations {
        header.push("expectations_passed".into());
        header.push("expectations_failed".into());
    }
    header.extend(
        [
            "metric",
            "metric_value",
            "metric_seeds",
            "metric_median",
            "metric_min",
            "metric_max",
            "metric_mean",
            "metric_ci95_low",
            "metric_ci95_high",
        ]
        .map(String::from),
    );

    let rows = runs
        .iter()
        .map(|r| {
            let mut row: Vec<String> = params
                .iter()
                .zip(&r.point.values)
                .map(|(p, &v)| p.values[v].clone())
                .collect();
            row.push(r.point.seed.to_string());
            for a in &actions {
                row.extend(action_cells(r.summary.actions.get(a)));
            }
            let s: &Summary = &r.summary;
            row.push(s.peak_migration_vcpus.to_string());
            row.push(s.peak_migration_memory_mb.to_string());
            row.extend(
                statuses
                    .iter()
                    .map(|st| s.final_status.get(st).copied().unwrap_or(0).to_string()),
            );
            row.push(s.events.to_string());
            row.push(s.end_time_s.clone());
            if with_expectations {
                let (passed, failed) = r.expectations.unwrap_or((0, 0));
                row.push(passed.to_string());
                row.push(failed.to_string());
            }
            row.push(metric.to_string());
            row.push(r.metric.map_or(String::new(), num));
            let st = stats
                .iter()
                .find(|(v, _)| *v == r.point.values.as_slice())
                .and_then(|(_, st)| st.as_ref());
            match st {
                Some(st) => {
                    let (lo, hi) = st
                        .ci95
                        .map_or((String::new(), String::new()), |(a, b)| (num(a), num(b)));
                    row.extend([
                        st.n.to_string(),
                        num(st.median),
                        num(st.min),
                        num(st.max),
                        num(st.mean),
                        lo,
                        hi,
                    ]);
                }
                None => {
                    row.push("0".into());
                    row.extend(std::iter::repeat_n(String::new(), 6));
                }
            }
            row
        })
        .collect();
    (header, rows)
}

/// submitted, succeeded, failed (asynchronously, after a 2xx), pending, completion p50/p95/p99
/// (empty without a successful request). An action a run never saw counts 0.
fn action_cells(a: Option<&ActionSummary>) -> [String; 7] {
    let default = ActionSummary::default();
    let a = a.unwrap_or(&default);
    let p = |f: fn(&crate::trace::summary::Percentiles) -> u64| {
        a.completion_latency
            .as_ref()
            .map_or(String::new(), |x| f(x).to_string())
    };
    [
        a.submitted.to_string(),
        a.succeeded.to_string(),
        a.failed_async.to_string(),
        a.pending.to_string(),
        p(|x| x.p50_ms),
        p(|x| x.p95_ms),
        p(|x| x.p99_ms),
    ]
}

/// Every action any run submitted, in the order of `ActionKind::ALL` (throughput.csv's).
/// summary.json lists every action, zeros included; columns of actions no run submitted would
/// only be zeros.
fn actions(runs: &[RunResult]) -> Vec<String> {
    let seen: BTreeSet<&String> = runs
        .iter()
        .flat_map(|r| r.summary.actions.iter())
        .filter(|(_, a)| a.submitted > 0)
        .map(|(name, _)| name)
        .collect();
    let rank = |a: &str| ActionKind::parse(a).map_or(usize::MAX, ActionKind::index);
    let mut out: Vec<String> = seen.into_iter().cloned().collect();
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    out
}

/// Every final status any run ended with, in the order of `Status::ALL`.
fn statuses(runs: &[RunResult]) -> Vec<String> {
    let seen: BTreeSet<&String> = runs
        .iter()
        .flat_map(|r| r.summary.final_status.iter())
        .filter(|(_, &n)| n > 0)
        .map(|(status, _)| status)
        .collect();
    let rank = |s: &str| {
        Status::ALL
            .iter()
            .position(|x| x.as_str() == s)
            .unwrap_or(usize::MAX)
    };
    let mut out: Vec<String> = seen.into_iter().cloned().collect();
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    out
}

/// Writes the table as CSV to `w`.
pub fn write(
    header: &[String],
    rows: &[Vec<String>],
    w: impl std::io::Write,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.flush()
}
