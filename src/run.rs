//! One run of a scenario into a results folder: the main job of the CLI, and what the golden
//! tests and the benchmark call.

use crate::output::{OutputError, ResultsDir};
use crate::plot::ChartFeed;
use crate::results::{
    ACTIONS_FILE, HOSTS_FILE, REQUESTS_FILE, SCHEDULING_FILE, SUMMARY_FILE, THROUGHPUT_FILE,
    TRANSITIONS_FILE,
};
use crate::scenario::Scenario;
use crate::sim::{Sim, SimError};
use crate::trace::summary::{self, Summary};
use crate::trace::timeline_rows::{KeptRows, TimelineFeed};
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
    /// Before `dir`: fields drop in order, and a run dropped unfinished ends its trace thread
    /// (which writes into the folder) before the folder is removed.
    sim: Sim,
    dir: ResultsDir,
    out: PathBuf,
    derived: Derived,
}

/// Stage 1: creates the hidden results folder and the simulator (the cloud built, initial
/// servers placed through the scheduler, their first trace rows written). With
/// `Derived::Write`, the trace writer also keeps the rows the timeline can show and feeds the
/// charts' data as it writes the rows (see `trace::timeline_rows`, `plot::ChartFeed`), so that
/// neither reads the large CSVs back.
pub fn prepare(scenario: Scenario, out: &Path, derived: Derived) -> Result<PreparedRun, RunError> {
    let timeline = (derived == Derived::Write).then(|| {
        use crate::analysis::timeline::{MAX_HOSTS, MAX_SERVERS};
        TimelineFeed::new(MAX_HOSTS, MAX_SERVERS)
    });
    prepare_with(scenario, out, derived, timeline)
}

/// [`prepare`] with the timeline's feed given (its limits a test's own).
pub(crate) fn prepare_with(
    scenario: Scenario,
    out: &Path,
    derived: Derived,
    timeline: Option<TimelineFeed>,
) -> Result<PreparedRun, RunError> {
    let io_err = output_error(out);
    let dir = ResultsDir::create(out)?;
    let mut trace = TraceWriter::new(
        dir.file(TRANSITIONS_FILE).map_err(io_err)?,
        dir.file(HOSTS_FILE).map_err(io_err)?,
        dir.file(SCHEDULING_FILE).map_err(io_err)?,
    )
    .and_then(|t| {
        let requests = dir.file(REQUESTS_FILE)?;
        t.with_records(requests, dir.file(ACTIONS_FILE)?)
    })
    .map_err(io_err)?;
    trace.timeline = timeline;
    if derived == Derived::Write {
        trace = trace.with_chart_feed();
    }
    let sim = Sim::with_trace_thread(scenario, trace)?;
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

    /// Stages 3 to 5: writes the end-of-run files (and the derived ones if prepared so),
    /// checks the expectations, and moves the folder into place.
    pub fn finish(self) -> Result<RunReport, RunError> {
        self.finish_with(|_| Ok(()))
    }

    /// [`PreparedRun::finish`], `extra` writing its own files into the folder (its path given)
    /// before the folder is moved into place.
    pub fn finish_with(
        self,
        extra: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<RunReport, RunError> {
        let mut run = self.write_results()?;
        run.write_derived()?;
        extra(run.dir.tmp_path()).map_err(output_error(&run.out))?;
        run.commit()
    }

    /// Stage 3: writes the end-of-run files (the last requests and actions, throughput.csv,
    /// scenario.toml, summary.json) and checks the expectations against them.
    pub fn write_results(self) -> Result<WrittenRun, RunError> {
        let PreparedRun {
            dir,
            mut sim,
            out,
            derived,
        } = self;
        let io_err = output_error(&out);
        let transition_rows = sim.transition_rows();
        // The requests and actions still held (unfinished ones among them) end their files.
        sim.finish_records().map_err(io_err)?;
        let timeline = sim.take_timeline();
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
        Ok(WrittenRun {
            dir,
            out,
            derived,
            timeline,
            charts,
            report: RunReport {
                dir: PathBuf::new(),
                summary,
                events: stats.events,
                transition_rows,
                expectations,
            },
        })
    }
}

/// A run whose results are written, its folder not yet in place.
pub struct WrittenRun {
    dir: ResultsDir,
    out: PathBuf,
    derived: Derived,
    /// The timeline's rows and the charts' data, fed during the run, until they are drawn.
    timeline: Option<TimelineFeed>,
    charts: Option<ChartFeed>,
    /// Its `dir` set when the folder is in place.
    report: RunReport,
}

impl WrittenRun {
    /// Stage 4: the derived files, if the run was prepared with them, inside the folder
    /// before it is moved into place.
    pub fn write_derived(&mut self) -> Result<(), RunError> {
        if self.derived == Derived::Skip {
            return Ok(());
        }
        let io_err = output_error(&self.out);
        let kept = self.timeline.take().map(TimelineFeed::finish);
        let charts = self.charts.take();
        write_derived(self.dir.tmp_path(), kept.as_ref(), charts).map_err(|e| match e {
            DerivedError::Timeline(e) => io_err(std::io::Error::other(e.to_string())),
            DerivedError::Plot(e) => RunError::from(e),
            DerivedError::Report(e) => RunError::from(e),
        })
    }

    /// The folder, before it is in place.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        self.dir.tmp_path()
    }

    /// The rows the run kept for its timeline, taken instead of written.
    #[cfg(test)]
    pub(crate) fn take_timeline(&mut self) -> Option<TimelineFeed> {
        self.timeline.take()
    }

    /// Stage 5: moves the folder into place.
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
/// come from what the run fed them when given (`timeline`, `charts`), else from the folder's
/// files. They write different files, so they are made side by side; a timeline error is
/// reported before a chart error, as when they ran in turn.
pub fn write_derived(
    dir: &Path,
    timeline: Option<&KeptRows>,
    charts: Option<ChartFeed>,
) -> Result<(), DerivedError> {
    let (timeline, plots) = rayon::join(
        || match timeline {
            Some(kept) => crate::analysis::timeline::write_timeline_kept(dir, kept),
            None => crate::analysis::write_timeline(dir),
        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::timeline::{timeline_bytes, MAX_HOSTS, MAX_SERVERS};

    /// On every bundled scenario, with the run's limits and with limits small enough to
    /// leave most hosts and servers out, at its own seed and three others (other timings,
    /// other faults): the timeline from the rows the run kept (`trace::timeline_rows`) is
    /// the one read back from its files, byte for byte.
    #[test]
    fn kept_rows_give_the_timeline_of_the_files() {
        let mut paths: Vec<_> = std::fs::read_dir("scenarios")
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let own_seed = Vec::new();
        let cases = [(MAX_HOSTS, MAX_SERVERS), (1, 1), (2, 3), (3, 8)]
            .map(|limits| (limits, own_seed.clone()))
            .into_iter()
            .chain((1..=3).map(|seed| ((2, 3), vec![format!("seed={seed}")])));
        for path in &paths {
            for ((max_hosts, max_servers), overrides) in cases.clone() {
                let scenario =
                    crate::scenario::load(path, &overrides).unwrap_or_else(|e| panic!("{e}"));
                let out = std::env::temp_dir().join(format!(
                    "novasim-kept-{}-{max_hosts}-{max_servers}",
                    std::process::id()
                ));
                let feed = TimelineFeed::new(max_hosts, max_servers);
                let mut run = prepare_with(scenario, &out, Derived::Skip, Some(feed))
                    .unwrap_or_else(|e| panic!("{e}"));
                run.simulate().unwrap_or_else(|e| panic!("{e}"));
                let mut written = run.write_results().unwrap_or_else(|e| panic!("{e}"));
                let kept = written.take_timeline().expect("the feed given").finish();
                let dir = written.path();
                let from_kept = timeline_bytes(dir, Some(&kept), max_hosts, max_servers);
                let from_files = timeline_bytes(dir, None, max_hosts, max_servers);
                let (a, b) = (
                    from_kept.unwrap_or_else(|e| panic!("{e}")),
                    from_files.unwrap_or_else(|e| panic!("{e}")),
                );
                assert!(
                    a == b,
                    "{} {overrides:?}, limits {max_hosts}/{max_servers}: the kept rows' \
                     timeline differs",
                    path.display()
                );
            }
        }
    }
}
