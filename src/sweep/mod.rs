//! `novasim sweep`: one scenario over a grid of option values × seeds, on every core.
//!
//! Every run is independent and deterministic: it loads the scenario itself with its own
//! overrides and `seed=N` (so a row of sweep.csv is exactly what `novasim run --set … --seed N`
//! gives), runs through `run_to_dir` into a scratch folder, and keeps only its summary. Rows are
//! collected in grid order, so sweep.csv does not depend on the thread count or on which run
//! finished first.

pub mod grid;
mod lean;
pub mod progress;
pub mod stats;
mod table;

use crate::expect;
use crate::output::ResultsDir;
use crate::run::run_to_dir;
use crate::scenario;
use crate::trace::summary::{self, Summary};
use grid::{Param, Point};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The summary figure plotted by default: the p95 completion latency of migrate requests.
pub const DEFAULT_METRIC: &str = "actions.migrate.completion_latency.p95_ms";

/// `novasim sweep` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Scenario file, e.g. scenarios/capacity-drain.toml
    pub scenario: PathBuf,
    /// An option and the values to sweep it over, e.g.
    /// --set nova.DEFAULT.resize_confirm_window=60,120,300 (repeatable: the grid is the
    /// cartesian product). Values are TOML; commas inside [...], {...} or quotes do not split.
    #[arg(long = "set", value_name = "SECTION.OPTION=V1,V2,…")]
    pub set: Vec<String>,
    /// Seeds of each grid point: a range 1..20 (both ends included), a list 1,5,9, or both.
    /// Default: the scenario's own seed.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Output folder (default: results/<scenario name>-sweep).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The summary.json figure to plot against the first swept option, as a dotted path.
    #[arg(long, default_value = DEFAULT_METRIC)]
    pub metric: String,
    /// Also keep each run's results folder, under DIR/runs/<option=value…>-seed<N>/.
    #[arg(long)]
    pub keep_runs: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A sweep to run (the library form of [`SweepArgs`]).
#[derive(Debug, Clone)]
pub struct Sweep {
    pub scenario: PathBuf,
    pub params: Vec<Param>,
    /// `None`: the scenario's own seed.
    pub seeds: Option<Vec<u64>>,
    /// `None`: results/<name>-sweep.
    pub out: Option<PathBuf>,
    pub metric: String,
    pub keep_runs: bool,
    /// Show a progress bar (on a terminal only).
    pub progress: bool,
}

/// What one run of the grid gave.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub point: Point,
    pub summary: Summary,
    /// (passed, failed) of the scenario's `[[expect]]`, `None` when it has none.
    pub expectations: Option<(usize, usize)>,
    /// The failed checks, described as `run` prints them (expected vs actual).
    pub failed_expectations: Vec<String>,
    /// The value of the plotted metric, when the summary has it.
    pub metric: Option<f64>,
}

/// A finished sweep.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub dir: PathBuf,
    pub params: Vec<Param>,
    pub runs: Vec<RunResult>,
    /// Files written (sweep.csv, then the plots).
    pub files: Vec<PathBuf>,
}

/// Runs the sweep and writes DIR/sweep.csv and the plot.
pub fn run(s: &Sweep) -> Result<SweepReport, String> {
    grid::check_distinct(&s.params)?;
    check_metric(&s.metric)?;
    // Every combination is loaded once before any run, so a bad value fails in a second,
    // not after the first hours of the sweep.
    let probe_seeds = [0];
    let mut name = None;
    for p in grid::points(&s.params, &probe_seeds)? {
        let mut ov = p.overrides(&s.params);
        ov.pop(); // the probe seed: validate with the scenario's own
        let sc = crate::sim::load_checked(&s.scenario, &ov).map_err(|e| e.to_string())?;
        name.get_or_insert((sc.name, sc.seed));
    }
    let (name, own_seed) = name.ok_or("the grid is empty")?;
    let seeds = s.seeds.clone().unwrap_or_else(|| vec![own_seed]);
    if seeds.is_empty() {
        return Err("no seeds".into());
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("--seeds: seed {} is listed twice", w[0]));
    }
    let points = grid::points(&s.params, &seeds)?;
    let dir = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{name}-sweep")));
    // The sweep's folder follows the rules of a results folder: only a folder novasim wrote is
    // replaced, and the new one appears whole, kept runs included.
    let folder = ResultsDir::create(&dir).map_err(|e| e.to_string())?;
    let work = folder.tmp_path().to_path_buf();
    let scratch = work.join(".scratch");

    let bar = s.progress.then(|| progress::runs(points.len() as u64));
    let results: Vec<Result<RunResult, String>> = points
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let folder = if s.keep_runs {
                work.join("runs").join(p.label(&s.params))
            } else {
                scratch.join(i.to_string())
            };
            let r = run_one(s, p, &folder);
            if let Some(b) = &bar {
                b.inc();
            }
            r
        })
        .collect();
    drop(bar);
    if scratch.exists() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let runs = results.into_iter().collect::<Result<Vec<_>, _>>()?;

    let (header, rows) = table::build(&s.params, &runs, &s.metric);
    let csv_path = work.join("sweep.csv");
    write_file(&csv_path, |w| table::write(&header, &rows, w))?;
    let mut files = vec![csv_path];
    if runs.iter().any(|r| r.metric.is_some()) {
        files.extend(plot::write(&work, &s.metric, &s.params, &runs)?);
    }
    let dir = folder.commit().map_err(|e| e.to_string())?;
    // Reported by their final paths.
    let files = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| dir.join(n)))
        .collect();
    Ok(SweepReport {
        dir,
        params: s.params.clone(),
        runs,
        files,
    })
}

/// One run of the grid: a full results folder at `folder` when runs are kept, else the lean
/// run (`folder` is then its scratch space).
fn run_one(s: &Sweep, p: &Point, folder: &Path) -> Result<RunResult, String> {
    let label = p.label(&s.params);
    // Every grid point was loaded with the placement probe before the runs started.
    let sc = scenario::load(&s.scenario, &p.overrides(&s.params))
        .map_err(|e| format!("run {label}: {e}"))?;
    let has_expectations = !sc.expectations.is_empty();
    let (summary, expectations) = if s.keep_runs {
        let report = run_to_dir(sc, folder).map_err(|e| format!("run {label}: {e}"))?;
        (report.summary, report.expectations)
    } else {
        lean::run(sc, folder).map_err(|e| format!("run {label}: {e}"))?
    };
    let failed = expect::failures(&expectations);
    Ok(RunResult {
        failed_expectations: expectations
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.describe())
            .collect(),
        point: p.clone(),
        metric: metric(&summary, &s.metric),
        expectations: has_expectations.then(|| (expectations.len() - failed, failed)),
        summary,
    })
}

/// Maps of summary.json whose keys are open sets, listed as they occur (HTTP codes, failure
/// classes): any key is a valid path there, and a key absent from a run is a count of 0.
const OPEN_MAPS: [&str; 2] = ["http_codes", "failures"];

/// Whether `keys[i]` is a key of one of the [`OPEN_MAPS`] (the last key, right under one).
fn in_open_map(keys: &[&str], i: usize) -> bool {
    i + 1 == keys.len() && i > 0 && OPEN_MAPS.contains(&keys[i - 1])
}

/// The figure at the dotted `path` of summary.json (`end_time_s`, a string there, is read as
/// a number); `None` when the summary has no such number, e.g. no successful migrate.
pub fn metric(summary: &Summary, path: &str) -> Option<f64> {
    let json = serde_json::to_value(summary).ok()?;
    let keys: Vec<&str> = path.split('.').collect();
    let mut v = &json;
    for (i, key) in keys.iter().enumerate() {
        match v.get(key) {
            Some(next) => v = next,
            None if in_open_map(&keys, i) && v.is_object() => return Some(0.0),
            None => return None,
        }
    }
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Checks that `path` names a number of summary.json's schema ([`summary::schema`]), so that
/// a mistyped `--metric` fails before the runs instead of giving a sweep without its figure.
/// The error is one line naming the metric and the closest valid paths.
pub fn check_metric(path: &str) -> Result<(), String> {
    let schema = serde_json::to_value(summary::schema()).map_err(|e| e.to_string())?;
    let keys: Vec<&str> = path.split('.').collect();
    let mut v = &schema;
    let mut found = true;
    for (i, key) in keys.iter().enumerate() {
        match v.get(key) {
            Some(next) => v = next,
            None if in_open_map(&keys, i) && v.is_object() => return Ok(()),
            None => {
                found = false;
                break;
            }
        }
    }
    let number = found && (v.is_number() || path == "end_time_s");
    if number {
        return Ok(());
    }
    let mut leaves = Vec::new();
    number_paths(&schema, &mut String::new(), &mut leaves);
    let mut close: Vec<(usize, &String)> =
        leaves.iter().map(|l| (edit_distance(path, l), l)).collect();
    close.sort();
    let close: Vec<&str> = close.iter().take(3).map(|(_, l)| l.as_str()).collect();
    let what = if found {
        "is not a number in summary.json"
    } else {
        "is not in summary.json"
    };
    Err(format!(
        "--metric {path:?} {what}; closest valid paths: {} (any HTTP code or failure class \
         after actions.<action>.http_codes. or .failures.)",
        close.join(", ")
    ))
}

/// Every dotted path of `v` that holds a number (and `end_time_s`), in key order.
fn number_paths(v: &serde_json::Value, prefix: &mut String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(k);
                number_paths(x, prefix, out);
                prefix.truncate(len);
            }
        }
        serde_json::Value::Number(_) => out.push(prefix.clone()),
        _ if prefix == "end_time_s" => out.push(prefix.clone()),
        _ => {}
    }
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Writes `path` (inside the sweep's hidden folder) through a buffer.
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), String> {
    let err = |e: std::io::Error| format!("cannot write {}: {e}", crate::text::shown_path(path));
    let f = std::fs::File::create(path).map_err(err)?;
    let mut w = std::io::BufWriter::new(f);
    write(&mut w).map_err(err)?;
    std::io::Write::flush(&mut w).map_err(err)
}

/// `novasim sweep`: runs, then prints where the files are and the metric per grid value.
/// `Ok(Some(message))` when the scenario's `[[expect]]` checks failed in some runs (the sweep
/// is written; the caller exits 3 with the message, as `run` does).
pub fn run_cli(args: &SweepArgs) -> Result<Option<String>, String> {
    let params = args
        .set
        .iter()
        .map(|s| grid::parse_param(s))
        .collect::<Result<Vec<_>, _>>()?;
    let seeds = args.seeds.as_deref().map(grid::parse_seeds).transpose()?;
    let started = std::time::Instant::now();
    let report = run(&Sweep {
        scenario: args.scenario.clone(),
        params,
        seeds,
        out: args.out.clone(),
        metric: args.metric.clone(),
        keep_runs: args.keep_runs,
        progress: !args.quiet,
    })?;
    if !report.runs.iter().any(|r| r.metric.is_some()) {
        eprintln!(
            "warning: no run's summary.json has a number at {:?}: no plot written",
            args.metric
        );
    }
    if !args.quiet {
        print!("{}", plot::render_text(&report, &args.metric));
        println!(
            "{} runs in {:.1} s on {} threads; written: {}",
            report.runs.len(),
            started.elapsed().as_secs_f64(),
            rayon::current_num_threads(),
            report
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(expectation_failures(&report))
}

/// Which runs failed an `[[expect]]` check, and how, or `None` when none did.
pub fn expectation_failures(report: &SweepReport) -> Option<String> {
    let failed: Vec<&RunResult> = report
        .runs
        .iter()
        .filter(|r| !r.failed_expectations.is_empty())
        .collect();
    if failed.is_empty() {
        return None;
    }
    let mut msg = format!(
        "{} of {} runs failed expectations (sweep.csv is written, column expectations_failed):",
        failed.len(),
        report.runs.len()
    );
    for r in failed {
        let (passed, n_failed) = r.expectations.unwrap_or((0, r.failed_expectations.len()));
        msg.push_str(&format!(
            "\n  {}: {n_failed} of {} failed",
            r.point.label(&report.params),
            passed + n_failed
        ));
        for d in &r.failed_expectations {
            msg.push_str(&format!("\n    {d}"));
        }
    }
    Some(msg)
}

mod plot;
