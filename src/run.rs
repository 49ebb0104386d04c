//! One run of a scenario into a results folder: the main job of the CLI, and what the golden
//! tests and the benchmark call.

use crate::output::{OutputError, ResultsDir};
use crate::results::{
    ACTIONS_FILE, HOSTS_FILE, REQUESTS_FILE, SCHEDULING_FILE, SUMMARY_FILE, THROUGHPUT_FILE,
    TRANSITIONS_FILE,
};
use crate::scenario::Scenario;
use crate::sim::{Sim, SimError};
use crate::trace::summary::{self, Summary};
use crate::trace::writer::{self, TraceWriter};
use std::path::{Path, PathBuf};

pub use crate::results::{RESULT_FILES, SCENARIO_FILE};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("cannot write results to {}: {source}", crate::text::shown_path(path))]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Folder(#[from] OutputError),
    #[error("cannot draw the plots: {0}")]
    Plot(#[from] crate::plot::PlotError),
    #[error("cannot write the report: {0}")]
    Report(#[from] crate::report::ReportError),
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub dir: PathBuf,
    pub summary: Summary,
    pub events: u64,
    pub transition_rows: u64,
    /// Results of the scenario's `[[expect]]` checks (also in expectations.csv).
    pub expectations: Vec<crate::expect::ExpectResult>,
}

/// Whether a run also writes the files derived from its traces (timeline.json, the plots,
/// report.html). Benchmarks of the simulator leave them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    Write,
    Skip,
}

/// Runs `scenario` and writes its results atomically to `out`, with every derived file.
pub fn run_to_dir(scenario: Scenario, out: &Path) -> Result<RunReport, RunError> {
    run_to_dir_with(scenario, out, Derived::Write)
}

/// Runs `scenario` and writes its results atomically to `out`.
pub fn run_to_dir_with(
    scenario: Scenario,
    out: &Path,
    derived: Derived,
) -> Result<RunReport, RunError> {
    run_to_dir_checked(
        scenario,
        out,
        derived,
        crate::sim::Checks::default_for_build(),
    )
}

/// Runs `scenario` into `out`, checking the invariants after every instant or not.
pub fn run_to_dir_checked(
    scenario: Scenario,
    out: &Path,
    derived: Derived,
    checks: crate::sim::Checks,
) -> Result<RunReport, RunError> {
    let mut run = prepare(scenario, out, derived)?;
    run.set_checks(checks);
    run.simulate()?;
    run.finish()
}

/// A run between its stages: its results folder (not yet in place) and its simulator. The
/// stages are public so that the benchmark can time them apart.
pub struct PreparedRun {
    dir: ResultsDir,
    sim: Sim,
    out: PathBuf,
    derived: Derived,
}

/// Stage 1: creates the hidden results folder and the simulator (the cloud built, initial
/// servers placed through the scheduler, their first trace rows written). With
/// [`Derived::Write`] the trace also feeds the charts' data as it writes the rows, so that
/// the charts are drawn without reading the large CSVs back.
pub fn prepare(scenario: Scenario, out: &Path, derived: Derived) -> Result<PreparedRun, RunError> {
    let io_err = output_error(out);
    let dir = ResultsDir::create(out)?;
    let trace = TraceWriter::new(
        dir.file(TRANSITIONS_FILE).map_err(io_err)?,
        dir.file(HOSTS_FILE).map_err(io_err)?,
        dir.file(SCHEDULING_FILE).map_err(io_err)?,
    )
    .and_then(|t| {
        let requests = dir.file(REQUESTS_FILE)?;
        t.with_records(requests, dir.file(ACTIONS_FILE)?)
    })
    .map_err(io_err)?;
    let trace = match derived {
        Derived::Write => trace.with_chart_feed(),
        Derived::Skip => trace,
    };
    let sim = Sim::new(scenario, trace)?;
    Ok(PreparedRun {
        dir,
        sim,
        out: out.to_path_buf(),
        derived,
    })
}

/// Maps an I/O error to the results folder it happened in.
fn output_error(out: &Path) -> impl Fn(std::io::Error) -> RunError + Copy + '_ {
    move |source| RunError::Output {
        path: out.to_path_buf(),
        source,
    }
}

impl PreparedRun {
    /// Turns the invariant checks on or off (on by default in debug builds; `run
    /// --check-invariants` turns them on in release).
    pub fn set_checks(&mut self, checks: crate::sim::Checks) {
        self.sim.set_checks(checks);
    }

    /// Stage 2: runs every event, streaming transitions.csv, hosts.csv and scheduling.csv, and
    /// requests.csv and instance_actions.csv as far as their rows are final.
    pub fn simulate(&mut self) -> Result<(), RunError> {
        self.sim.run().map_err(|e| match e {
            SimError::Io(e) => output_error(&self.out)(e),
            e => RunError::Sim(e),
        })
    }

    /// The simulator between instants, for a client that drives it (`crate::rally`).
    pub fn sim_mut(&mut self) -> &mut Sim {
        &mut self.sim
    }

    /// Stage 3: writes the end-of-run files (and the derived ones if prepared to), checks the
    /// expectations, and moves the folder into place.
    pub fn finish(self) -> Result<RunReport, RunError> {
        self.finish_with(|_| Ok(()))
    }

    /// [`PreparedRun::finish`], `extra` writing its own files into the folder (its path given)
    /// before the folder is moved into place.
    pub fn finish_with(
        self,
        extra: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<RunReport, RunError> {
        let derived = self.derived;
        let mut ended = self.write_end_files()?;
        if derived == Derived::Write {
            ended.write_derived()?;
        }
        extra(ended.dir.tmp_path()).map_err(output_error(&ended.out))?;
        ended.commit()
    }

    /// Stage 3a of [`PreparedRun::finish`] (apart for the benchmark): the end-of-run files and
    /// the expectations' check.
    pub fn write_end_files(self) -> Result<EndedRun, RunError> {
        let PreparedRun {
            dir, mut sim, out, ..
        } = self;
        let io_err = output_error(&out);
        let transition_rows = sim.transition_rows();
        // The requests and actions still held (unfinished ones among them) end their files.
        sim.finish_records().map_err(io_err)?;
        let charts = sim.take_chart_feed();
        let (world, requests, throughput, stats, scenario) = sim.into_parts();
        writer::write_throughput(dir.file(THROUGHPUT_FILE).map_err(io_err)?, &throughput)
            .map_err(io_err)?;
        let summary = summary::build(&scenario.name, scenario.seed, &world, requests, &stats);
        // The scenario as run, so that the folder (and its report) says what produced it.
        let mut f = dir.file(SCENARIO_FILE).map_err(io_err)?;
        f.write_all(scenario.source.as_bytes()).map_err(io_err)?;
        f.flush().map_err(io_err)?;
        drop(f);
        // What follows reads the files back: the simulation state is not held meanwhile.
        drop((world, throughput));
        let mut f = dir.file(SUMMARY_FILE).map_err(io_err)?;
        serde_json::to_writer_pretty(&mut f, &summary).map_err(|e| io_err(e.into()))?;
        f.write_all(b"\n").map_err(io_err)?;
        f.flush().map_err(io_err)?;
        drop(f);
        // Read back from the files just written, so a saved folder is checked the same way.
        let expectations =
            crate::expect::check_dir(&scenario.expectations, dir.tmp_path()).map_err(io_err)?;
        Ok(EndedRun {
            report: RunReport {
                dir: out.clone(),
                summary,
                events: stats.events,
                transition_rows,
                expectations,
            },
            dir,
            out,
            charts,
        })
    }
}

/// A run whose end-of-run files are written, its folder not yet in place.
pub struct EndedRun {
    dir: ResultsDir,
    out: PathBuf,
    /// The charts' data fed during the run, until the charts are drawn.
    charts: Option<crate::plot::ChartFeed>,
    report: RunReport,
}

impl EndedRun {
    /// Stage 3b: the derived files, inside the folder before it is moved into place; the charts
    /// from the data fed during the run if it was prepared to feed them, else from the CSVs.
    pub fn write_derived(&mut self) -> Result<(), RunError> {
        write_derived_from(self.dir.tmp_path(), self.charts.take()).map_err(|e| match e {
            DerivedError::Timeline(e) => {
                output_error(&self.out)(std::io::Error::other(e.to_string()))
            }
            DerivedError::Plot(e) => RunError::from(e),
            DerivedError::Report(e) => RunError::from(e),
        })
    }

    /// Stage 3c: moves the folder into place.
    pub fn commit(self) -> Result<RunReport, RunError> {
        let dir = self.dir.commit()?;
        Ok(RunReport { dir, ..self.report })
    }
}

/// Why a derived file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DerivedError {
    #[error(transparent)]
    Timeline(#[from] crate::analysis::AnalysisError),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
}

/// The files derived from a results folder's CSVs and summary.json: timeline.json, the charts
/// and report.html (which shows the charts, so it comes last). The timeline and the charts
/// read the same files independently and write different ones, so they are made side by side
/// (1,000,000-server drain: 2.0 s + 0.8 s one after the other); a timeline error is reported
/// before a chart error, as when they ran in turn.
pub fn write_derived(dir: &Path) -> Result<(), DerivedError> {
    write_derived_from(dir, None)
}

/// [`write_derived`], the charts drawn from `charts` (fed as the run wrote `dir`) if given.
fn write_derived_from(
    dir: &Path,
    charts: Option<crate::plot::ChartFeed>,
) -> Result<(), DerivedError> {
    let (timeline, plots) = rayon::join(
        || crate::analysis::write_timeline(dir),
        || match charts {
            Some(feed) => crate::plot::write_all_fed(dir, feed),
            None => crate::plot::write_all(dir),
        },
    );
    timeline?;
    plots?;
    crate::report::write(dir)?;
    Ok(())
}

use std::io::Write as _;
