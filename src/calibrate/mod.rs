//! `novasim calibrate`: fits the step distributions of a cloud scenario to measured Rally
//! results, so that the simulated Rally run of the same workload (same scenario, iterations,
//! concurrency, Rally era, through Rally's polling client) reproduces the measured per-atomic
//! distributions. The iterations are split — odd rows (1st, 3rd, …) fit, even rows held out —
//! and the fit is checked on the held-out rows with a fresh seed.
//!
//! Above `rally`, `sim`, `scenario`; below `cli`.

pub mod data;
pub mod fit;
pub mod output;

use crate::rally::driver::WorkloadRun;
use crate::rally::profile::Era;
use crate::rally::runner::Runner;
use crate::rally::scenarios::Kind;
use crate::rally::RallyError;
use fit::{Bench, LogNormal, Summary, Target};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// The fewest iterations a simulated run makes.
const SIMULATED: usize = 200;

/// Why a calibration could not be made. Messages name the file, and the line or field.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Rally(#[from] RallyError),
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    #[error("the simulation failed: {0}")]
    Sim(crate::sim::SimError),
    #[error("{path}: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
}

/// What `novasim calibrate` is asked to do.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    pub results: PathBuf,
    pub cloud: PathBuf,
    pub out: PathBuf,
    pub task: Option<PathBuf>,
    pub era: Era,
    pub seed: Option<u64>,
    pub concurrency: Option<u32>,
    /// The workload of a JSON export with several (1-based).
    pub workload: Option<usize>,
}

/// Fitted vs measured figures of one atomic on one set of iterations.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub atomic: String,
    /// The step fitted for it (`None`: reported, not fitted).
    pub step: Option<&'static str>,
    pub measured: Summary,
    pub simulated: Option<Summary>,
    pub ks: f64,
}

/// The outcome of a calibration.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub scenario: String,
    pub era: Era,
    pub iterations: usize,
    pub skipped: usize,
    pub concurrency: u32,
    pub seed: u64,
    pub fitted: Vec<(String, &'static str, LogNormal)>,
    /// The fitted `[latency] api`.
    pub api: LogNormal,
    /// Atomics of the file the simulated task does not make.
    pub ignored: Vec<String>,
    pub fit_set: Vec<Comparison>,
    pub holdout: Vec<Comparison>,
    pub runs: usize,
    pub out: PathBuf,
}

impl Calibration {
    /// The largest holdout KS distance over the fitted atomics.
    pub fn holdout_ks_max(&self) -> f64 {
        self.holdout
            .iter()
            .filter(|c| c.step.is_some())
            .map(|c| c.ks)
            .fold(0.0, f64::max)
    }
}

/// The Rally scenario whose atomic actions the file holds (module docs of the README):
/// live_migrate → boot_and_live_migrate_server; resize (+ confirm or revert) → resize_server;
/// migrate → boot_and_migrate_server; boot + delete alone → boot_and_delete_server.
pub fn infer(atomics: &[String], file: &str) -> Result<Kind, CalibrateError> {
    let has = |n: &str| atomics.iter().any(|a| a == n);
    let need = |kind: Kind, names: &[&str]| -> Result<Kind, CalibrateError> {
        let missing: Vec<&str> = names.iter().copied().filter(|n| !has(n)).collect();
        if missing.is_empty() {
            Ok(kind)
        } else {
            Err(CalibrateError::Input {
                file: file.to_string(),
                line: Some(1),
                message: format!(
                    "cannot infer the Rally task: {} lacks {} (give --task)",
                    kind_name(kind),
                    missing.join(", ")
                ),
            })
        }
    };
    if has("nova.live_migrate") {
        need(
            Kind::BootAndLiveMigrate,
            &["nova.boot_server", "nova.delete_server"],
        )
    } else if has("nova.resize") {
        let end = if has("nova.resize_revert") {
            "nova.resize_revert"
        } else {
            "nova.resize_confirm"
        };
        need(
            Kind::ResizeServer,
            &["nova.boot_server", end, "nova.delete_server"],
        )
    } else if has("nova.migrate") {
        need(
            Kind::BootAndMigrate,
            &[
                "nova.boot_server",
                "nova.resize_confirm",
                "nova.delete_server",
            ],
        )
    } else if has("nova.boot_server") && has("nova.delete_server") {
        Ok(Kind::BootAndDelete)
    } else {
        Err(CalibrateError::Input {
            file: file.to_string(),
            line: Some(1),
            message: format!(
                "cannot infer the Rally task from the atomic actions {} (known: boot+delete, \
                 boot+resize+resize_confirm+delete, boot+migrate+resize_confirm+delete, \
                 boot+live_migrate(+find_host_to_migrate)+delete); give --task",
                atomics.join(", ")
            ),
        })
    }
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::BootAndDelete => "NovaServers.boot_and_delete_server",
        Kind::BootAndMigrate => "NovaServers.boot_and_migrate_server",
        Kind::BootAndLiveMigrate => "NovaServers.boot_and_live_migrate_server",
        Kind::BootFromVolumeAndLiveMigrate => {
            "NovaServers.boot_server_from_volume_and_live_migrate"
        }
        Kind::ResizeServer => "NovaServers.resize_server",
        Kind::BootFromVolumeAndResize => "NovaServers.boot_server_from_volume_and_resize",
    }
}

/// The task novasim simulates for an inferred scenario: the cloud's smallest flavor (and the
/// next one up for a resize), Rally's defaults otherwise.
fn generated_task(
    kind: Kind,
    flavors: &[crate::model::Flavor],
    cloud: &str,
) -> Result<crate::rally::task::TaskCfg, CalibrateError> {
    let mut by_size: Vec<&crate::model::Flavor> = flavors.iter().collect();
    by_size.sort_by_key(|f| (f.memory_mb, f.disk_gb, f.vcpus, f.name.clone()));
    let small = by_size.first().ok_or_else(|| {
        CalibrateError::Usage(format!("{cloud}: the cloud has no flavor to boot"))
    })?;
    let mut args = serde_json::json!({
        "flavor": {"name": small.name},
        "image": {"name": "cirros"},
    });
    match kind {
        Kind::ResizeServer | Kind::BootFromVolumeAndResize => {
            let to = by_size.get(1).ok_or_else(|| {
                CalibrateError::Usage(format!(
                    "{cloud}: a resize needs a second flavor to resize to"
                ))
            })?;
            args["to_flavor"] = serde_json::json!({"name": to.name});
            args["confirm"] = Value::Bool(true);
        }
        Kind::BootAndLiveMigrate | Kind::BootFromVolumeAndLiveMigrate => {
            args["block_migration"] = Value::Bool(false);
        }
        _ => {}
    }
    let text = serde_json::json!({
        kind_name(kind): [{
            "args": args,
            "runner": {"type": "constant", "times": 1, "concurrency": 1},
            "context": {"users": {"tenants": 1, "users_per_tenant": 1}},
        }]
    })
    .to_string();
    Ok(crate::rally::task::parse(
        &text,
        "<calibrate task>",
        &Map::new(),
    )?)
}

/// Runs the calibration of `o` and writes the calibrated scenario.
pub fn run(o: &CalibrateOptions) -> Result<Calibration, CalibrateError> {
    let measured = data::read(&o.results, o.workload)?;
    let mut overrides = Vec::new();
    if let Some(seed) = o.seed {
        overrides.push(format!("seed={seed}"));
    }
    let cloud = crate::sim::load_checked(&o.cloud, &overrides)?;
    let cloud_file = crate::text::shown_path(&o.cloud);
    let inferred = infer(&measured.atomics, &measured.file)?;
    if let Some(name) = &measured.scenario {
        if Kind::parse(name) != Some(inferred) {
            return Err(CalibrateError::Input {
                file: measured.file.clone(),
                line: None,
                message: format!(
                    "the workload is {name} but its atomic actions are those of {}",
                    kind_name(inferred)
                ),
            });
        }
    }
    // The task: given (it must be the one the data came from) or generated.
    let (task, task_file, concurrency_of_task) = match &o.task {
        Some(path) => {
            let t = crate::rally::task::load(path, &Map::new())?;
            let file = crate::text::shown_path(path);
            let first = t
                .subtasks
                .first()
                .and_then(|s| s.workloads.first())
                .ok_or_else(|| CalibrateError::Input {
                    file: file.clone(),
                    line: None,
                    message: "no workload".into(),
                })?;
            if Kind::parse(&first.scenario) != Some(inferred) {
                return Err(CalibrateError::Input {
                    file: file.clone(),
                    line: first.line,
                    message: format!(
                        "task mismatch: the task runs {} but {} holds the atomic actions of {}",
                        first.scenario,
                        measured.file,
                        kind_name(inferred)
                    ),
                });
            }
            let c = first
                .runner
                .get("concurrency")
                .and_then(Value::as_u64)
                .map(|c| c.clamp(1, u32::MAX as u64) as u32);
            (t, file, c)
        }
        None => (
            generated_task(inferred, &cloud.flavors, &cloud_file)?,
            "<calibrate task>".to_string(),
            None,
        ),
    };
    let prepared = crate::rally::prepare_workloads(&task, &cloud.flavors, o.era, &task_file)?;
    let (_, p) = prepared
        .into_iter()
        .next()
        .ok_or_else(|| CalibrateError::Usage(format!("{task_file}: no workload")))?;
    let concurrency = o
        .concurrency
        .or(measured.concurrency)
        .or(concurrency_of_task)
        .unwrap_or(1)
        .max(1);
    let n = measured.rows.len();
    let timeout_ms = p.run.runner.timeout_ms().unwrap_or(0);
    // Rally's runner as the data ran it, at its concurrency; at least SIMULATED iterations so
    // that the simulated percentiles are not noisier than the measured ones.
    let run = WorkloadRun {
        runner: Runner::Constant {
            times: n.max(SIMULATED) as u32,
            concurrency,
            timeout_ms,
        },
        ..p.run.clone()
    };
    // The fitted atomics, and those the data has that the simulated task does not make.
    let probe = {
        let mut b = Bench {
            cloud: &cloud,
            run: &WorkloadRun {
                runner: Runner::Constant {
                    times: 1,
                    concurrency: 1,
                    timeout_ms,
                },
                ..run.clone()
            },
            targets: &[],
            runs: 0,
        };
        b.simulate(&[], LogNormal::from(1f64.ln(), 0.0), cloud.seed)?
    };
    let simulated_names: Vec<String> = probe
        .iter()
        .flat_map(|i| i.atomics.iter().map(|a| a.name.clone()))
        .collect();
    if measured
        .atomics
        .iter()
        .any(|a| a == "nova.find_host_to_migrate")
        && !o.era.finds_host_to_migrate()
    {
        return Err(CalibrateError::Usage(format!(
            "{}: nova.find_host_to_migrate exists only in Rally ≤ 0.9: give --rally-profile 0.9",
            measured.file
        )));
    }
    let is_fit = |i: usize| i.is_multiple_of(2);
    let is_holdout = |i: usize| !i.is_multiple_of(2);
    let mut targets = Vec::new();
    let mut reported = Vec::new();
    let mut ignored = Vec::new();
    for a in &measured.atomics {
        if !simulated_names.contains(a) {
            ignored.push(a.clone());
            continue;
        }
        let m = measured.durations(a, is_fit);
        let Some(summary) = Summary::of(&m) else {
            ignored.push(a.clone());
            continue;
        };
        match fit::StepKey::of_atomic(a) {
            Some(step) if !targets.iter().any(|t: &Target| t.step == step) => {
                targets.push(Target {
                    atomic: a.clone(),
                    step,
                    measured: summary,
                })
            }
            _ => reported.push(a.clone()),
        }
    }
    if targets.is_empty() {
        return Err(CalibrateError::Input {
            file: measured.file.clone(),
            line: None,
            message: "no atomic action to fit in the fit half of the iterations".into(),
        });
    }
    let seed = cloud.seed;
    let mut bench = Bench {
        cloud: &cloud,
        run: &run,
        targets: &targets,
        runs: 0,
    };
    let (params, api) = fit::fit(&mut bench, seed)?;
    // The fit set against the fit seed's run; the holdout against a run with a fresh seed.
    let fit_run = bench.simulate(&params, api, seed)?;
    let check_run = bench.simulate(&params, api, seed.wrapping_add(1))?;
    let compare = |iters: &[crate::rally::stats::Iteration], keep: &dyn Fn(usize) -> bool| {
        let mut out = Vec::new();
        for a in targets
            .iter()
            .map(|t| (t.atomic.clone(), Some(t.step.key())))
            .chain(reported.iter().map(|r| (r.clone(), None)))
        {
            let m = measured.durations(&a.0, keep);
            let s = fit::durations(iters, &a.0);
            if let Some(ms) = Summary::of(&m) {
                out.push(Comparison {
                    atomic: a.0.clone(),
                    step: a.1,
                    measured: ms,
                    simulated: Summary::of(&s),
                    ks: fit::ks(&m, &s),
                });
            }
        }
        out
    };
    let fit_set = compare(&fit_run, &is_fit);
    let holdout = compare(&check_run, &is_holdout);
    let result = Calibration {
        scenario: kind_name(inferred).to_string(),
        era: o.era,
        iterations: n,
        skipped: measured.skipped,
        concurrency,
        seed,
        fitted: targets
            .iter()
            .zip(&params)
            .map(|(t, p)| (t.atomic.clone(), t.step.key(), *p))
            .collect(),
        api,
        ignored,
        fit_set,
        holdout,
        runs: bench.runs + 1,
        out: o.out.clone(),
    };
    output::write(&o.cloud, &o.out, &measured.file, &result)?;
    Ok(result)
}

fn secs(ms: f64) -> String {
    format!("{:.3}", ms / 1000.0)
}

/// The comparison table printed on stdout.
pub fn render(c: &Calibration) -> String {
    let mut out = format!(
        "calibrated {} ({} successful iterations, {} failed skipped; concurrency {}; Rally {} \
         poll defaults; seed {}; {} simulated runs)\n",
        c.scenario,
        c.iterations,
        c.skipped,
        c.concurrency,
        c.era.as_str(),
        c.seed,
        c.runs
    );
    out.push_str(&format!(
        "fitted [latency] api = lognormal median {} ms, sigma {:.3}   (every call)\nfitted [steps]:\n",
        c.api.median_ms, c.api.sigma
    ));
    for (a, step, p) in &c.fitted {
        out.push_str(&format!(
            "  {step} = lognormal median {} ms, sigma {:.3}   (from {a})\n",
            p.median_ms, p.sigma
        ));
    }
    if !c.ignored.is_empty() {
        out.push_str(&format!(
            "not simulated (ignored): {}\n",
            c.ignored.join(", ")
        ));
    }
    out.push_str(&table(c));
    out.push_str(&format!(
        "holdout KS max (fitted atomics): {:.3}\nwritten to {}\n",
        c.holdout_ks_max(),
        crate::text::shown_path(&c.out)
    ));
    out
}

/// Measured vs simulated per atomic and set, seconds.
pub fn table(c: &Calibration) -> String {
    let mut out = String::from(
        "set      atomic                      n    p50 meas/sim     p90 meas/sim     \
         p95 meas/sim     spread meas/sim  KS\n",
    );
    for (set, rows) in [("fit", &c.fit_set), ("holdout", &c.holdout)] {
        for r in rows {
            let s = |f: fn(&Summary) -> f64| {
                format!(
                    "{:>7}/{:<8}",
                    secs(f(&r.measured)),
                    r.simulated.as_ref().map_or("n/a".into(), |x| secs(f(x)))
                )
            };
            let name = if r.step.is_some() {
                r.atomic.clone()
            } else {
                format!("{} (not fitted)", r.atomic)
            };
            out.push_str(&format!(
                "{set:<8} {name:<27} {:>4} {} {} {} {} {:.3}\n",
                r.measured.n,
                s(|x| x.p50),
                s(|x| x.p90),
                s(|x| x.p95),
                s(|x| x.spread),
                r.ks
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn the_task_is_inferred_from_the_atomic_names() {
        let cases = [
            ("nova.boot_server,nova.delete_server", Kind::BootAndDelete),
            (
                "nova.boot_server,nova.resize,nova.resize_confirm,nova.delete_server",
                Kind::ResizeServer,
            ),
            (
                "nova.boot_server,nova.resize,nova.resize_revert,nova.delete_server",
                Kind::ResizeServer,
            ),
            (
                "nova.boot_server,nova.migrate,nova.resize_confirm,nova.delete_server",
                Kind::BootAndMigrate,
            ),
            (
                "nova.create_2_security_groups,nova.boot_server,cinder.create_volume,\
                 nova.find_host_to_migrate,nova.live_migrate,nova.delete_server",
                Kind::BootAndLiveMigrate,
            ),
        ];
        for (atomics, kind) in cases {
            assert_eq!(infer(&names(atomics), "f.csv").unwrap(), kind, "{atomics}");
        }
    }

    #[test]
    fn what_cannot_be_inferred_is_refused_naming_what_lacks() {
        let e = infer(
            &names("nova.boot_server,nova.resize,nova.delete_server"),
            "f.csv",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "f.csv:1: cannot infer the Rally task: NovaServers.resize_server lacks \
             nova.resize_confirm (give --task)"
        );
        let e = infer(&names("nova.boot_server,nova.stop_server"), "f.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.csv:1: cannot infer the Rally task from the atomic actions nova.boot_server, nova.stop_server"), "{e}");
    }
}
