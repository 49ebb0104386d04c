//! Rally's SLA criteria (`rally/plugins/task/sla/*.py`) with their pass rules and detail
//! texts, fed the iterations in timestamp order as `SLAChecker.add_iteration` is. Seconds are
//! floats here, as in Rally: these figures are reported, not simulated.

use super::stats::Iteration;
use super::RallyError;
use serde::Serialize;
use serde_json::{Map, Value};

/// One criterion of a workload's `sla`.
#[derive(Debug, Clone, PartialEq)]
pub enum Criterion {
    FailureRate {
        min: f64,
        max: f64,
    },
    MaxSecondsPerIteration(f64),
    MaxAvgDuration(f64),
    MaxAvgDurationPerAtomic(Vec<(String, f64)>),
    Outliers {
        max: u64,
        min_iterations: u64,
        sigmas: f64,
    },
}

/// `{"criterion", "success", "detail"}` (`sla._format_result`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaResult {
    pub criterion: String,
    pub success: bool,
    pub detail: String,
}

fn num(v: &Value, path: &str) -> Result<f64, RallyError> {
    v.as_f64()
        .ok_or_else(|| RallyError::Invalid(format!("{path}: must be a number, not {v}")))
}

/// Parses the `sla` mapping of workload `path`.
pub fn parse(sla: &Map<String, Value>, path: &str) -> Result<Vec<Criterion>, RallyError> {
    let mut out = Vec::new();
    for (name, v) in sla {
        let p = format!("{path}.sla.{name}");
        let obj = |v: &Value| -> Result<Map<String, Value>, RallyError> {
            v.as_object()
                .cloned()
                .ok_or_else(|| RallyError::Invalid(format!("{p}: must be a mapping, not {v}")))
        };
        let c = match name.as_str() {
            "failure_rate" => {
                let m = obj(v)?;
                if m.is_empty() {
                    return Err(RallyError::Invalid(format!("{p}: needs min or max")));
                }
                let get = |k: &str, d: f64| -> Result<f64, RallyError> {
                    match m.get(k) {
                        None => Ok(d),
                        Some(x) => {
                            let x = num(x, &format!("{p}.{k}"))?;
                            if (0.0..=100.0).contains(&x) {
                                Ok(x)
                            } else {
                                Err(RallyError::Invalid(format!("{p}.{k}: must be in [0, 100]")))
                            }
                        }
                    }
                };
                if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "min" | "max")) {
                    return Err(RallyError::Invalid(format!("{p}: unexpected key {k:?}")));
                }
                Criterion::FailureRate {
                    min: get("min", 0.0)?,
                    max: get("max", 100.0)?,
                }
            }
            "max_seconds_per_iteration" => {
                let x = num(v, &p)?;
                if x <= 0.0 {
                    return Err(RallyError::Invalid(format!("{p}: must be > 0")));
                }
                Criterion::MaxSecondsPerIteration(x)
            }
            "max_avg_duration" => {
                let x = num(v, &p)?;
                if x <= 0.0 {
                    return Err(RallyError::Invalid(format!("{p}: must be > 0")));
                }
                Criterion::MaxAvgDuration(x)
            }
            "max_avg_duration_per_atomic" => {
                let m = obj(v)?;
                if m.is_empty() {
                    return Err(RallyError::Invalid(format!("{p}: names no atomic action")));
                }
                let mut items = Vec::new();
                for (k, x) in &m {
                    items.push((k.clone(), num(x, &format!("{p}.{k}"))?));
                }
                Criterion::MaxAvgDurationPerAtomic(items)
            }
            "outliers" => {
                let m = obj(v)?;
                if let Some(k) = m
                    .keys()
                    .find(|k| !matches!(k.as_str(), "max" | "min_iterations" | "sigmas"))
                {
                    return Err(RallyError::Invalid(format!("{p}: unexpected key {k:?}")));
                }
                let int = |k: &str, d: u64, min: u64| -> Result<u64, RallyError> {
                    match m.get(k) {
                        None => Ok(d),
                        Some(x) => x.as_u64().filter(|n| *n >= min).ok_or_else(|| {
                            RallyError::Invalid(format!("{p}.{k}: must be an integer ≥ {min}"))
                        }),
                    }
                };
                let sigmas = match m.get("sigmas") {
                    None => 3.0,
                    Some(x) => num(x, &format!("{p}.sigmas"))?,
                };
                if sigmas <= 0.0 {
                    return Err(RallyError::Invalid(format!("{p}.sigmas: must be > 0")));
                }
                Criterion::Outliers {
                    max: int("max", 0, 0)?,
                    min_iterations: int("min_iterations", 3, 3)?,
                    sigmas,
                }
            }
            other => {
                return Err(RallyError::Invalid(format!(
                    "{path}.sla: unknown SLA {other:?} (known: failure_rate, \
                     max_seconds_per_iteration, max_avg_duration, max_avg_duration_per_atomic, \
                     outliers)"
                )))
            }
        };
        out.push(c);
    }
    Ok(out)
}

fn status(ok: bool) -> &'static str {
    if ok {
        "Passed"
    } else {
        "Failed"
    }
}

/// Streaming mean (`MeanComputation`).
#[derive(Default)]
struct Mean {
    total: f64,
    count: u64,
}

impl Mean {
    fn add(&mut self, x: f64) {
        self.count += 1;
        self.total += x;
    }
    fn result(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total / self.count as f64)
    }
}

/// Evaluates `c` over `iterations` (in timestamp order).
pub fn evaluate(c: &Criterion, iterations: &[Iteration]) -> SlaResult {
    let secs = |ms: u64| ms as f64 / 1000.0;
    match c {
        Criterion::FailureRate { min, max } => {
            let (mut errors, mut total, mut rate, mut ok) = (0u64, 0u64, 0.0, true);
            for it in iterations {
                total += 1;
                errors += u64::from(it.failed());
                rate = errors as f64 * 100.0 / total as f64;
                ok = *min <= rate && rate <= *max;
            }
            SlaResult {
                criterion: "failure_rate".into(),
                success: ok,
                detail: format!(
                    "Failure rate criteria {min:.2}% <= {rate:.2}% <= {max:.2}% - {}",
                    status(ok)
                ),
            }
        }
        Criterion::MaxSecondsPerIteration(limit) => {
            let (mut worst, mut ok) = (0.0f64, true);
            for it in iterations {
                worst = worst.max(secs(it.duration_ms));
                ok = worst <= *limit;
            }
            SlaResult {
                criterion: "max_seconds_per_iteration".into(),
                success: ok,
                detail: format!(
                    "Maximum seconds per iteration {worst:.2}s <= {limit:.2}s - {}",
                    status(ok)
                ),
            }
        }
        Criterion::MaxAvgDuration(limit) => {
            let (mut mean, mut avg, mut ok) = (Mean::default(), 0.0, true);
            for it in iterations {
                if !it.failed() {
                    mean.add(secs(it.duration_ms));
                    avg = mean.result().unwrap_or(0.0);
                }
                ok = avg <= *limit;
            }
            SlaResult {
                criterion: "max_avg_duration".into(),
                success: ok,
                detail: format!(
                    "Average duration of one iteration {avg:.2}s <= {limit:.2}s - {}",
                    status(ok)
                ),
            }
        }
        Criterion::MaxAvgDurationPerAtomic(items) => {
            let mut means: Vec<(String, Mean)> = Vec::new();
            let mut ok = true;
            let avg_of = |means: &Vec<(String, Mean)>, name: &str| {
                means
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, m)| m.result())
                    .unwrap_or(0.0)
            };
            for it in iterations {
                if !it.failed() {
                    // Top-level actions only, each occurrence counted (`iteration["atomic_actions"]`).
                    for a in &it.atomics {
                        let d = secs(a.finished_ms - a.started_ms);
                        match means.iter_mut().find(|(n, _)| *n == a.name) {
                            Some((_, m)) => m.add(d),
                            None => {
                                let mut m = Mean::default();
                                m.add(d);
                                means.push((a.name.clone(), m));
                            }
                        }
                    }
                }
                ok = items.iter().all(|(n, v)| avg_of(&means, n) <= *v);
            }
            let mut lines =
                vec!["Average duration of one iteration for atomic actions:".to_string()];
            for (n, v) in items {
                lines.push(format!(
                    "Action: '{n}'. {:.2}s <= {v:.2}s",
                    avg_of(&means, n)
                ));
            }
            lines.push(format!("Status: {}", status(ok)));
            SlaResult {
                criterion: "max_avg_duration_per_atomic".into(),
                success: ok,
                detail: lines.join("\n"),
            }
        }
        Criterion::Outliers {
            max,
            min_iterations,
            sigmas,
        } => {
            let (mut n, mut outliers, mut threshold) = (0u64, 0u64, None::<f64>);
            let (mut mean, mut std_mean, mut dev_sum, mut ok) =
                (Mean::default(), 0.0f64, 0.0f64, true);
            for it in iterations {
                if !it.failed() {
                    let d = secs(it.duration_ms);
                    n += 1;
                    // First check against the threshold so far, then update it.
                    if n >= *min_iterations && threshold.is_some_and(|t| t != 0.0 && d > t) {
                        outliers += 1;
                    }
                    mean.add(d);
                    // StdDevComputation (Knuth): dev_sum += (x − mean_prev)(x − mean).
                    let prev = std_mean;
                    std_mean = mean.result().unwrap_or(0.0);
                    dev_sum += (d - prev) * (d - std_mean);
                    if n >= 2 {
                        let std = (dev_sum / (n - 1) as f64).sqrt();
                        threshold = Some(std_mean + sigmas * std);
                    }
                }
                ok = outliers <= *max;
            }
            SlaResult {
                criterion: "outliers".into(),
                success: ok,
                detail: format!(
                    "Maximum number of outliers {outliers} <= {max} - {}",
                    status(ok)
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rally::stats::Atomic;
    use serde_json::json;

    fn it(d: u64, failed: bool) -> Iteration {
        Iteration {
            number: 1,
            timestamp_ms: 0,
            duration_ms: d,
            idle_ms: 0,
            error: if failed {
                vec!["X".into(), "y".into(), String::new()]
            } else {
                vec![]
            },
            atomics: vec![Atomic {
                name: "nova.boot_server".into(),
                started_ms: 0,
                finished_ms: d,
                failed,
                children: vec![],
            }],
        }
    }

    fn crit(v: Value) -> Criterion {
        parse(v.as_object().unwrap(), "w").unwrap().remove(0)
    }

    #[test]
    fn failure_rate_bounds_are_inclusive() {
        let its = [
            it(1000, false),
            it(1000, true),
            it(1000, false),
            it(1000, false),
        ];
        let pass = evaluate(&crit(json!({"failure_rate": {"max": 25}})), &its);
        assert!(pass.success);
        assert_eq!(
            pass.detail,
            "Failure rate criteria 0.00% <= 25.00% <= 25.00% - Passed"
        );
        assert!(!evaluate(&crit(json!({"failure_rate": {"max": 24.9}})), &its).success);
        assert!(!evaluate(&crit(json!({"failure_rate": {"min": 30}})), &its).success);
    }

    #[test]
    fn max_seconds_counts_failed_iterations_too() {
        let its = [it(1000, false), it(5000, true)];
        let r = evaluate(&crit(json!({"max_seconds_per_iteration": 4.0})), &its);
        assert!(!r.success);
        assert_eq!(
            r.detail,
            "Maximum seconds per iteration 5.00s <= 4.00s - Failed"
        );
        assert!(evaluate(&crit(json!({"max_seconds_per_iteration": 5})), &its).success);
    }

    #[test]
    fn averages_skip_failed_iterations() {
        let its = [it(1000, false), it(3000, false), it(100_000, true)];
        let r = evaluate(&crit(json!({"max_avg_duration": 2.0})), &its);
        assert!(r.success, "{}", r.detail);
        assert!(!evaluate(&crit(json!({"max_avg_duration": 1.99})), &its).success);
        let a = evaluate(
            &crit(json!({"max_avg_duration_per_atomic": {"nova.boot_server": 1.5}})),
            &its,
        );
        assert!(!a.success);
        assert_eq!(
            a.detail,
            "Average duration of one iteration for atomic actions:\nAction: 'nova.boot_server'. 2.00s <= 1.50s\nStatus: Failed"
        );
        // An atomic action that never ran averages 0 (`defaultdict(float)`).
        assert!(
            evaluate(
                &crit(json!({"max_avg_duration_per_atomic": {"nova.nothing": 0.1}})),
                &its
            )
            .success
        );
    }

    #[test]
    fn outliers_are_counted_against_the_running_threshold() {
        // 1.0, 1.01, 0.99 s, then 10 s: the threshold after three is 1 + 3·0.01 = 1.03 < 10.
        let mut its: Vec<Iteration> = [1000, 1010, 990, 10_000]
            .iter()
            .map(|&d| it(d, false))
            .collect();
        let r = evaluate(&crit(json!({"outliers": {}})), &its);
        assert!(!r.success);
        assert_eq!(r.detail, "Maximum number of outliers 1 <= 0 - Failed");
        assert!(evaluate(&crit(json!({"outliers": {"max": 1}})), &its).success);
        its.truncate(3);
        assert!(evaluate(&crit(json!({"outliers": {}})), &its).success);
        assert!(parse(
            json!({"outliers": {"min_iterations": 2}})
                .as_object()
                .unwrap(),
            "w"
        )
        .is_err());
        assert!(parse(json!({"nope": 1}).as_object().unwrap(), "w").is_err());
    }
}
