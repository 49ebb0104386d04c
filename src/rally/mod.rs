//! `novasim rally`: a real Rally task file run against the cloud of a scenario, in virtual
//! time. The whole task is one simulation: its workloads run one after the other, each
//! runner's concurrency is modelled by iterations that are clients of the same cloud
//! (`driver`), and Rally's statistics, SLA and JSON export are computed from what those clients
//! saw (`stats`, `sla`, `export`). The usual traces of the run are written beside them.
//!
//! Above `sim`, `trace`, `output` and `run`; below `cli`.

pub mod driver;
pub mod export;
pub mod profile;
pub mod runner;
pub mod scenarios;
pub mod sla;
pub mod stats;
pub mod task;

use crate::config::Microversion;
use crate::run::Derived;
use driver::{UserChoice, WorkloadRun};
use profile::Era;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a Rally task could not be run. Messages name the file, and the line or key.
#[derive(Debug, thiserror::Error)]
pub enum RallyError {
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Task {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// A workload that Rally's validation (or novasim) refuses; prefixed with its file by
    /// [`prepare`].
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    #[error("the simulation failed: {0}")]
    Sim(crate::sim::SimError),
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
}

/// What `novasim rally` is asked to do.
#[derive(Debug, Clone)]
pub struct RallyOptions {
    pub task: PathBuf,
    pub cloud: PathBuf,
    /// `--task-args` text (YAML or JSON).
    pub task_args: Option<String>,
    pub task_args_file: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub era: Era,
    /// `--set` overrides of the cloud scenario (`seed=N` included), as for `novasim run`.
    pub overrides: Vec<String>,
    /// Whether the novasim charts and report of the run are drawn too.
    pub derived: Derived,
}

/// A workload ready to run: its configuration as given and what novasim makes of it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub cfg: task::WorkloadCfg,
    pub run: WorkloadRun,
    pub sla: Vec<sla::Criterion>,
    /// Contexts and scenario arguments accepted without effect.
    pub ignored: Vec<String>,
}

/// The result of one workload.
#[derive(Debug, Clone)]
pub struct WorkloadResult {
    pub subtask: usize,
    pub prepared: Prepared,
    pub iterations: Vec<stats::Iteration>,
    pub rows: Vec<stats::Row>,
    pub sla: Vec<sla::SlaResult>,
    /// Virtual time the runner started and the last iteration ended (ms).
    pub start_ms: u64,
    pub end_ms: u64,
}

impl WorkloadResult {
    pub fn pass_sla(&self) -> bool {
        self.sla.iter().all(|s| s.success)
    }
}

/// A finished task.
#[derive(Debug, Clone)]
pub struct TaskResult {
    pub task: task::TaskCfg,
    pub workloads: Vec<WorkloadResult>,
    pub era: Era,
    pub cloud_name: String,
    pub seed: u64,
    pub task_file: String,
}

impl TaskResult {
    pub fn pass_sla(&self) -> bool {
        self.workloads.iter().all(WorkloadResult::pass_sla)
    }
}

/// What a finished `novasim rally` reports.
#[derive(Debug)]
pub struct RallyReport {
    pub dir: PathBuf,
    pub result: TaskResult,
}

fn microversion(v: &Value, path: &str) -> Result<Microversion, RallyError> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(RallyError::Invalid(format!(
                "{path}: not a version: {other}"
            )))
        }
    };
    let bad = || RallyError::Invalid(format!("{path}: {text:?} is not a 2.x microversion"));
    let (major, minor) = text.split_once('.').ok_or_else(bad)?;
    let (major, minor) = (
        major.parse::<u16>().map_err(|_| bad())?,
        minor.parse::<u16>().map_err(|_| bad())?,
    );
    let mv = Microversion(major, minor);
    if major != 2 || mv < Microversion::MIN || mv > Microversion::MAX {
        return Err(bad());
    }
    Ok(mv)
}

/// The contexts novasim models; the others are listed as ignored.
fn contexts(
    c: &Map<String, Value>,
    path: &str,
    run: &mut WorkloadRun,
    ignored: &mut Vec<String>,
) -> Result<(), RallyError> {
    for (name, v) in c {
        let base = name.split('@').next().unwrap_or(name);
        let p = format!("{path}.contexts.{name}");
        match base {
            "users" => {
                let m = v
                    .as_object()
                    .ok_or_else(|| RallyError::Invalid(format!("{p}: must be a mapping")))?;
                let int = |k: &str| -> Result<Option<u32>, RallyError> {
                    match m.get(k) {
                        None => Ok(None),
                        Some(x) => x
                            .as_u64()
                            .filter(|n| (1..=100_000).contains(n))
                            .map(|n| Some(n as u32))
                            .ok_or_else(|| {
                                RallyError::Invalid(format!("{p}.{k}: must be an integer ≥ 1"))
                            }),
                    }
                };
                run.tenants = int("tenants")?.unwrap_or(1);
                run.users_per_tenant = int("users_per_tenant")?.unwrap_or(1);
                run.user_choice = match m.get("user_choice_method").and_then(Value::as_str) {
                    None | Some("random") => UserChoice::Random,
                    Some("round_robin") => UserChoice::RoundRobin,
                    Some(o) => {
                        return Err(RallyError::Invalid(format!(
                            "{p}.user_choice_method: {o:?} is neither random nor round_robin"
                        )))
                    }
                };
                for k in m.keys() {
                    if !matches!(
                        k.as_str(),
                        "tenants" | "users_per_tenant" | "user_choice_method"
                    ) {
                        ignored.push(format!("{p}.{k}"));
                    }
                }
            }
            "api_versions" => {
                if let Some(nova) = v.get("nova") {
                    if let Some(ver) = nova.get("version") {
                        run.microversion = microversion(ver, &format!("{p}.nova.version"))?;
                    }
                }
            }
            _ => ignored.push(format!("{p} (context not modelled)")),
        }
    }
    Ok(())
}

/// Validates every workload of `task` against the cloud, before anything runs.
pub fn prepare_workloads(
    task: &task::TaskCfg,
    flavors: &[crate::model::Flavor],
    era: Era,
    file: &str,
) -> Result<Vec<(usize, Prepared)>, RallyError> {
    let mut out = Vec::new();
    let mut index = 0;
    for (si, s) in task.subtasks.iter().enumerate() {
        for w in &s.workloads {
            let located = |e: RallyError| match e {
                RallyError::Invalid(m) => RallyError::Task {
                    file: file.to_string(),
                    line: w.line,
                    message: m,
                },
                other => other,
            };
            let plan =
                scenarios::plan(&w.scenario, &w.args, flavors, era, &w.path).map_err(located)?;
            let runner =
                runner::Runner::parse(&w.runner_type, &w.runner, &w.path).map_err(located)?;
            let sla = sla::parse(&w.sla, &w.path).map_err(located)?;
            let mut run = WorkloadRun {
                index,
                steps: Arc::new(plan.steps),
                runner,
                tenants: 1,
                users_per_tenant: 1,
                user_choice: UserChoice::Random,
                microversion: Microversion::MIN,
            };
            let mut ignored: Vec<String> = plan
                .ignored_args
                .iter()
                .map(|a| {
                    format!(
                        "{}.scenario.{}.{a} (argument not modelled)",
                        w.path, w.scenario
                    )
                })
                .collect();
            contexts(&w.contexts, &w.path, &mut run, &mut ignored).map_err(located)?;
            out.push((
                si,
                Prepared {
                    cfg: w.clone(),
                    run,
                    sla,
                    ignored,
                },
            ));
            index += 1;
        }
    }
    Ok(out)
}

fn read_args(o: &RallyOptions) -> Result<Map<String, Value>, RallyError> {
    match (&o.task_args, &o.task_args_file) {
        (Some(_), Some(_)) => Err(RallyError::Usage(
            "give --task-args or --task-args-file, not both".into(),
        )),
        (Some(t), None) => task::parse_args(t, "--task-args"),
        (None, Some(f)) => {
            let shown = crate::text::shown_path(f);
            let text = std::fs::read_to_string(f).map_err(|e| RallyError::Task {
                file: shown.clone(),
                line: None,
                message: format!("cannot read the task arguments: {e}"),
            })?;
            task::parse_args(&text, &shown)
        }
        (None, None) => Ok(Map::new()),
    }
}

/// Runs the task of `o` and writes its results folder.
pub fn run(o: &RallyOptions) -> Result<RallyReport, RallyError> {
    let args = read_args(o)?;
    let task = task::load(&o.task, &args)?;
    let scenario = crate::sim::load_checked(&o.cloud, &o.overrides)?;
    let file = crate::text::shown_path(&o.task);
    let workloads = prepare_workloads(&task, &scenario.flavors, o.era, &file)?;
    let out = o
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("rally-{}", task_stem(&o.task))));
    let (cloud_name, seed, flavors) = (
        scenario.name.clone(),
        scenario.seed,
        scenario.flavors.clone(),
    );
    let mut prepared_run = crate::run::prepare(scenario, &out, o.derived)?;
    let mut results = Vec::new();
    {
        let sim = prepared_run.sim_mut();
        let mut clock = sim.now();
        for (si, p) in workloads {
            let start = clock;
            let iterations = driver::Driver::new(sim, &p.run, flavors.clone()).run(sim, start)?;
            let end = iterations
                .iter()
                .map(|i| i.timestamp_ms + i.duration_ms + i.idle_ms)
                .max()
                .unwrap_or(start.0);
            // The next workload starts when this one ended (its contexts take no time).
            sim.run_until(crate::engine::SimTime(end))
                .map_err(RallyError::Sim)?;
            clock = crate::engine::SimTime(end.max(start.0));
            let mut ordered = iterations.clone();
            ordered.sort_by_key(|i| (i.timestamp_ms, i.number));
            let rows = stats::table(&ordered);
            let sla = p.sla.iter().map(|c| sla::evaluate(c, &ordered)).collect();
            results.push(WorkloadResult {
                subtask: si,
                prepared: p,
                iterations,
                rows,
                sla,
                start_ms: start.0,
                end_ms: end,
            });
        }
    }
    prepared_run.simulate()?;
    let result = TaskResult {
        task,
        workloads: results,
        era: o.era,
        cloud_name,
        seed,
        task_file: file,
    };
    let report = prepared_run.finish_with(|dir| export::write_all(dir, &result))?;
    Ok(RallyReport {
        dir: report.dir,
        result,
    })
}

fn task_stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "task".into())
}
