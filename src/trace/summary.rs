//! summary.json and the readable summary printed at the end of a run.

use super::{Outcome, RequestRecord};
use crate::engine::SimTime;
use crate::model::World;
use crate::sim::RunStats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Latency percentiles in milliseconds (nearest-rank, so every figure is an observed value).
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
}

impl Percentiles {
    pub fn of(mut xs: Vec<u64>) -> Option<Percentiles> {
        if xs.is_empty() {
            return None;
        }
        xs.sort_unstable();
        let rank = |q: u64| xs[((q * xs.len() as u64).div_ceil(100)).max(1) as usize - 1];
        Some(Percentiles {
            count: xs.len(),
            min_ms: xs[0],
            p50_ms: rank(50),
            p90_ms: rank(90),
            p95_ms: rank(95),
            p99_ms: rank(99),
            max_ms: xs[xs.len() - 1],
            mean_ms: xs.iter().sum::<u64>() / xs.len() as u64,
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
}

pub fn build(
    scenario: &str,
    seed: u64,
    world: &World,
    requests: &[RequestRecord],
    stats: &RunStats,
) -> Summary {
    let mut actions: BTreeMap<String, ActionSummary> = BTreeMap::new();
    let mut completion: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut response: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in requests {
        let a = actions.entry(r.action.to_string()).or_default();
        a.submitted += 1;
        if let Some(t) = r.answered {
            *a.http_codes.entry(r.code).or_default() += 1;
            response
                .entry(r.action)
                .or_default()
                .push(t.since(r.submitted).ms());
        }
        let accepted = (200..300).contains(&r.code);
        match &r.outcome {
            Outcome::Pending => a.pending += 1,
            Outcome::Success => {
                a.succeeded += 1;
                if let Some(c) = r.completed {
                    completion
                        .entry(r.action)
                        .or_default()
                        .push(c.since(r.submitted).ms());
                }
            }
            Outcome::Failure(detail) if accepted => {
                a.failed_async += 1;
                let class = detail.split(':').next().unwrap_or(detail).to_string();
                *a.failures.entry(class).or_default() += 1;
            }
            Outcome::Failure(_) => {}
        }
    }
    for (name, xs) in completion {
        if let Some(a) = actions.get_mut(name) {
            a.completion_latency = Percentiles::of(xs);
        }
    }
    for (name, xs) in response {
        if let Some(a) = actions.get_mut(name) {
            a.response_latency = Percentiles::of(xs);
        }
    }
    let mut final_status = BTreeMap::new();
    for s in &world.servers {
        *final_status
            .entry(s.status().as_str().to_string())
            .or_default() += 1;
    }
    let mut migration_status = BTreeMap::new();
    for m in &world.migrations {
        *migration_status
            .entry(m.status.as_str().to_string())
            .or_default() += 1;
    }
    Summary {
        scenario: scenario.to_string(),
        seed,
        end_time_s: stats.end_time.to_string(),
        events: stats.events,
        requests: requests.len() as u64,
        actions,
        final_status,
        migration_status,
        peak_migration_vcpus: stats.peak_migration_vcpus,
        peak_migration_memory_mb: stats.peak_migration_memory_mb,
        instance_actions: world.actions.actions.len() as u64,
        instance_actions_with_error: world
            .actions
            .actions
            .iter()
            .filter(|a| a.message_error)
            .count() as u64,
    }
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
    for (name, a) in &s.actions {
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
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "servers: {}", statuses(&s.final_status));
    if !s.migration_status.is_empty() {
        let _ = writeln!(out, "migrations: {}", statuses(&s.migration_status));
    }
    let _ = writeln!(
        out,
        "peak capacity held twice by moves: {} vCPU, {} MiB",
        s.peak_migration_vcpus, s.peak_migration_memory_mb
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
}
