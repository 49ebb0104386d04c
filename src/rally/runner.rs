//! Rally's runners in virtual time: when each iteration starts (`rally/plugins/task/runners/
//! constant.py`, `rps.py`, `serial.py`). Rally's threads poll every millisecond; here a start
//! happens at the instant its condition becomes true.

use super::RallyError;
use crate::engine::SimTime;
use serde_json::{Map, Value};

/// Runs-per-second in thousandths (exact integer arithmetic on Rally's float formula).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rps {
    Fixed(u64),
    /// `{start, end, step, duration}` (`_runs_per_second`).
    Ramp {
        start: u64,
        end: u64,
        step: u64,
        duration_ms: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// `times` iterations, `concurrency` at once; `timeout` 0 = none.
    Constant {
        times: u32,
        concurrency: u32,
        timeout_ms: u64,
    },
    /// Iterations start while less than `duration` has passed (at least one; timeout default
    /// 600 s).
    ConstantForDuration {
        duration_ms: u64,
        concurrency: u32,
        timeout_ms: u64,
    },
    Rps {
        times: u32,
        rps: Rps,
        max_concurrency: u32,
        timeout_ms: u64,
    },
    /// One after the other in the main process.
    Serial { times: u32 },
}

/// Upper bound of `times`: a task runs in one process's memory.
const MAX_TIMES: u64 = 1_000_000;

fn err(path: &str, key: &str, msg: impl std::fmt::Display) -> RallyError {
    RallyError::Invalid(format!("{path}.runner.{key}: {msg}"))
}

fn allowed(cfg: &Map<String, Value>, keys: &[&str], path: &str, t: &str) -> Result<(), RallyError> {
    for k in cfg.keys() {
        if !keys.contains(&k.as_str()) {
            return Err(RallyError::Invalid(format!(
                "{path}.runner.{t}: Additional properties are not allowed ('{k}' was unexpected)"
            )));
        }
    }
    Ok(())
}

fn int(
    cfg: &Map<String, Value>,
    key: &str,
    default: u64,
    min: u64,
    path: &str,
) -> Result<u64, RallyError> {
    match cfg.get(key) {
        None => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if n >= min && n <= MAX_TIMES => Ok(n),
            _ => Err(err(
                path,
                key,
                format!("must be an integer in [{min}, {MAX_TIMES}], not {v}"),
            )),
        },
    }
}

/// Seconds (a JSON number) to milliseconds, rounded.
fn secs(
    cfg: &Map<String, Value>,
    key: &str,
    default_ms: u64,
    path: &str,
) -> Result<u64, RallyError> {
    match cfg.get(key) {
        None => Ok(default_ms),
        Some(v) => match v.as_f64() {
            Some(s) if (0.0..=1.0e9).contains(&s) => Ok((s * 1000.0).round() as u64),
            _ => Err(err(
                path,
                key,
                format!("must be a number of seconds ≥ 0, not {v}"),
            )),
        },
    }
}

/// A rate in thousandths of runs per second.
fn milli(v: &Value, path: &str, key: &str) -> Result<u64, RallyError> {
    match v.as_f64() {
        Some(r) if (0.001..=1.0e6).contains(&r) => Ok((r * 1000.0).round() as u64),
        _ => Err(err(path, key, format!("must be a rate ≥ 0.001, not {v}"))),
    }
}

impl Runner {
    /// The runner `type` with config `cfg` (the `runner` of workload `path`), Rally's defaults.
    pub fn parse(t: &str, cfg: &Map<String, Value>, path: &str) -> Result<Runner, RallyError> {
        match t {
            "constant" => {
                allowed(cfg, &["times", "concurrency", "timeout", "max_cpu_count"], path, t)?;
                let times = int(cfg, "times", 1, 1, path)? as u32;
                let concurrency = int(cfg, "concurrency", 1, 1, path)? as u32;
                // CheckConstantValidator.
                if concurrency > times {
                    return Err(err(
                        path,
                        "concurrency",
                        "Parameter 'concurrency' means a number of parallel executions of \
                         iterations. Parameter 'times' means total number of iteration \
                         executions. It is redundant (and restricted) to have number of parallel \
                         iterations bigger then total number of iterations.",
                    ));
                }
                Ok(Runner::Constant {
                    times,
                    concurrency,
                    timeout_ms: secs(cfg, "timeout", 0, path)?,
                })
            }
            "constant_for_duration" => {
                allowed(cfg, &["duration", "concurrency", "timeout", "max_cpu_count"], path, t)?;
                if !cfg.contains_key("duration") {
                    return Err(err(path, "duration", "'duration' is a required property"));
                }
                Ok(Runner::ConstantForDuration {
                    duration_ms: secs(cfg, "duration", 0, path)?,
                    concurrency: int(cfg, "concurrency", 1, 1, path)? as u32,
                    timeout_ms: secs(cfg, "timeout", 600_000, path)?,
                })
            }
            "rps" => {
                allowed(cfg, &["times", "rps", "timeout", "max_concurrency", "max_cpu_count"], path, t)?;
                if !cfg.contains_key("times") {
                    return Err(err(path, "times", "'times' is a required property"));
                }
                let times = int(cfg, "times", 1, 1, path)? as u32;
                let rps = match cfg.get("rps") {
                    Some(Value::Object(r)) => {
                        for k in ["start", "end", "step"] {
                            if !r.contains_key(k) {
                                return Err(err(path, "rps", format!("'{k}' is a required property")));
                            }
                        }
                        let (start, end) = (milli(&r["start"], path, "rps.start")?, milli(&r["end"], path, "rps.end")?);
                        let step = milli(&r["step"], path, "rps.step")?;
                        // CheckPRSValidator: start < end, step ≤ end − start.
                        if start >= end || step > end - start {
                            return Err(err(path, "rps", "start must be below end and step at most end − start"));
                        }
                        let duration_ms = match r.get("duration") {
                            None => 1_000,
                            Some(d) => match d.as_f64() {
                                Some(s) if (1.0..=1.0e9).contains(&s) => (s * 1000.0).round() as u64,
                                _ => return Err(err(path, "rps.duration", format!("must be ≥ 1 s, not {d}"))),
                            },
                        };
                        Rps::Ramp { start, end, step, duration_ms }
                    }
                    Some(v) => Rps::Fixed(milli(v, path, "rps")?),
                    None => return Err(err(path, "rps", "'rps' is a required property")),
                };
                Ok(Runner::Rps {
                    times,
                    rps,
                    max_concurrency: int(cfg, "max_concurrency", u64::from(times), 1, path)? as u32,
                    timeout_ms: secs(cfg, "timeout", 0, path)?,
                })
            }
            "serial" => {
                allowed(cfg, &["times"], path, t)?;
                Ok(Runner::Serial {
                    times: int(cfg, "times", 1, 1, path)? as u32,
                })
            }
            other => Err(RallyError::Invalid(format!(
                "{path}.runner: unknown runner {other:?} (known: constant, constant_for_duration, rps, serial)"
            ))),
        }
    }

    /// Per-iteration timeout (the runner kills the iteration's thread), if any.
    pub fn timeout_ms(&self) -> Option<u64> {
        let t = match *self {
            Runner::Constant { timeout_ms, .. }
            | Runner::ConstantForDuration { timeout_ms, .. }
            | Runner::Rps { timeout_ms, .. } => timeout_ms,
            Runner::Serial { .. } => 0,
        };
        (t > 0).then_some(t)
    }

    /// The iterations it will run, when known in advance.
    pub fn times(&self) -> Option<u32> {
        match *self {
            Runner::Constant { times, .. }
            | Runner::Rps { times, .. }
            | Runner::Serial { times } => Some(times),
            Runner::ConstantForDuration { .. } => None,
        }
    }
}

/// What the runner's loop knows of its iterations.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub started: u32,
    pub running: u32,
    /// Iterations still in the FIFO pool of the rps runner: it pops only finished heads
    /// (`pool[0].join(0.001)`), so a finished iteration behind a running one still counts.
    pub pooled: u32,
}

/// The runner's answer at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start one iteration now (then ask again).
    Start,
    /// Ask again at this time (or when an iteration ends, if earlier).
    WakeAt(SimTime),
    /// Ask again when an iteration ends.
    Wait,
    /// No more iterations.
    Done,
}

impl Runner {
    /// The next step of the runner's loop at `now`, the load having started at `t0`.
    pub fn decide(&self, t0: SimTime, now: SimTime, p: Progress) -> Decision {
        let elapsed = now.0 - t0.0;
        match *self {
            Runner::Constant {
                times, concurrency, ..
            } => {
                if p.started >= times {
                    Decision::Done
                } else if p.running < concurrency {
                    Decision::Start
                } else {
                    Decision::Wait
                }
            }
            Runner::ConstantForDuration {
                duration_ms,
                concurrency,
                ..
            } => {
                // `current_duration = -1` before the first: duration 0 runs exactly once.
                if p.started > 0 && elapsed >= duration_ms {
                    Decision::Done
                } else if p.running < concurrency {
                    Decision::Start
                } else {
                    Decision::Wait
                }
            }
            Runner::Serial { times } => {
                if p.started >= times {
                    Decision::Done
                } else if p.running == 0 {
                    Decision::Start
                } else {
                    Decision::Wait
                }
            }
            Runner::Rps {
                times,
                rps,
                max_concurrency,
                ..
            } => {
                if p.started >= times {
                    return Decision::Done;
                }
                if p.started == 0 {
                    return Decision::Start;
                }
                if p.pooled >= max_concurrency {
                    return Decision::Wait;
                }
                let due = SimTime(t0.0 + rps_due_ms(rps, p.started));
                if due <= now {
                    Decision::Start
                } else {
                    Decision::WakeAt(due)
                }
            }
        }
    }
}

/// The first elapsed millisecond `t` at which `i / t ≤ rps(t)` after `i` starts: Rally's loop
/// `while i / (time.time() - start) > runs_per_second(...)` in exact integers (rates in
/// thousandths). For a ramp, `rps(t) = min(start + step·(t/duration − 1), end)`.
pub fn rps_due_ms(rps: Rps, i: u32) -> u64 {
    let i = i as i128;
    // i / (t/1000) ≤ r/1000  ⇔  i·10⁶ ≤ r·t
    let ok = |t: i128| -> bool {
        match rps {
            Rps::Fixed(r) => i * 1_000_000 <= r as i128 * t,
            Rps::Ramp {
                start,
                end,
                step,
                duration_ms,
            } => {
                let d = duration_ms as i128;
                // rate·d = start·d + step·(t − d), capped at end·d.
                let rate_d = (start as i128 * d + step as i128 * (t - d)).min(end as i128 * d);
                rate_d > 0 && i * 1_000_000 * d <= rate_d * t
            }
        }
    };
    // Both sides grow with t: the first t that satisfies it, by doubling then bisection.
    let mut hi: i128 = 1;
    while !ok(hi) {
        hi *= 2;
    }
    let mut lo = hi / 2;
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if ok(lo) && lo > 0 {
        lo as u64
    } else {
        hi as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn defaults_are_rallys() {
        let c = Runner::parse("constant", &Map::new(), "w").unwrap();
        assert_eq!(
            c,
            Runner::Constant {
                times: 1,
                concurrency: 1,
                timeout_ms: 0
            }
        );
        let d = Runner::parse("constant_for_duration", &cfg(json!({"duration": 10})), "w").unwrap();
        assert_eq!(d.timeout_ms(), Some(600_000));
        let r = Runner::parse("rps", &cfg(json!({"times": 5, "rps": 2})), "w").unwrap();
        assert_eq!(
            r,
            Runner::Rps {
                times: 5,
                rps: Rps::Fixed(2000),
                max_concurrency: 5,
                timeout_ms: 0
            }
        );
        assert_eq!(
            Runner::parse("serial", &Map::new(), "w").unwrap(),
            Runner::Serial { times: 1 }
        );
        let e = Runner::parse("constant", &cfg(json!({"times": 2, "concurrency": 3})), "w")
            .unwrap_err();
        assert!(e.to_string().contains("w.runner.concurrency"), "{e}");
        assert!(Runner::parse("gaussian", &Map::new(), "w").is_err());
    }

    #[test]
    fn fixed_rps_starts_iteration_i_at_i_over_rps() {
        // 2 rps: the (i+1)-th start waits until i / t ≤ 2, i.e. t = i/2 s.
        let due: Vec<u64> = (1..5).map(|i| rps_due_ms(Rps::Fixed(2000), i)).collect();
        assert_eq!(due, vec![500, 1000, 1500, 2000]);
        assert_eq!(rps_due_ms(Rps::Fixed(300), 1), 3334);
    }

    #[test]
    fn ramped_rps_follows_the_stage_formula() {
        // start 1, step 1, end 3, duration 1 s: rps(t) = min(1 + (t − 1), 3) = min(t, 3).
        let r = Rps::Ramp {
            start: 1000,
            end: 3000,
            step: 1000,
            duration_ms: 1000,
        };
        // i = 1: 1/t ≤ t ⇒ t = 1 s; i = 4: 4/t ≤ t ⇒ t = 2 s; i = 9: 9/t ≤ 3 ⇒ t = 3 s.
        assert_eq!(rps_due_ms(r, 1), 1000);
        assert_eq!(rps_due_ms(r, 4), 2000);
        assert_eq!(rps_due_ms(r, 9), 3000);
        assert_eq!(rps_due_ms(r, 12), 4000);
    }
}
