//! A run of the grid whose folder is not kept: the same simulation and summary as
//! `run::run_to_dir`, without the files nobody reads (hosts, scheduling, charts, report).
//! Only the files the scenario's `[[expect]]` checks read are written, into a scratch folder
//! removed afterwards. `tests/expect_sweep.rs` checks that its figures equal a full run's.

use crate::expect::{self, ExpectResult};
use crate::output::buffered_file;
use crate::results::{REQUESTS_FILE, TRANSITIONS_FILE};
use crate::scenario::Scenario;
use crate::sim::Sim;
use crate::trace::summary::{self, Summary};
use crate::trace::writer::TraceWriter;
use std::io;
use std::path::Path;

/// Runs `scenario`; `scratch` (created, then removed) holds transitions.csv and requests.csv
/// while its expectations are evaluated.
pub fn run(scenario: Scenario, scratch: &Path) -> Result<(Summary, Vec<ExpectResult>), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", scratch.display());
    let checks = !scenario.expectations.is_empty();
    let trace = if checks {
        std::fs::create_dir_all(scratch).map_err(|e| err(&e))?;
        TraceWriter::new(
            buffered_file(&scratch.join(TRANSITIONS_FILE)).map_err(|e| err(&e))?,
            Box::new(io::sink()),
            Box::new(io::sink()),
        )
        .and_then(|t| {
            let requests = buffered_file(&scratch.join(REQUESTS_FILE))?;
            t.with_records(requests, Box::new(io::sink()))
        })
        .map_err(|e| err(&e))?
    } else {
        TraceWriter::discard()
    };
    let mut sim = Sim::new(scenario, trace).map_err(|e| e.to_string())?;
    sim.run().map_err(|e| err(&e))?;
    // Ends requests.csv (flushed) before it is read.
    let finished = sim.finish_records().map_err(|e| err(&e));
    let (world, requests, _throughput, stats, scenario) = sim.into_parts();
    let summary = summary::build(&scenario.name, scenario.seed, &world, requests, &stats);
    if !checks {
        return Ok((summary, Vec::new()));
    }
    let result = finished
        .and_then(|()| expect::evaluate(&scenario.expectations, scratch).map_err(|e| err(&e)));
    let _ = std::fs::remove_dir_all(scratch);
    Ok((summary, result?))
}
