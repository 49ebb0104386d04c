//! The command line (clap). `main.rs` only calls [`main_with_args`].

use crate::run::{run_to_dir_checked, Derived, RunError};
use crate::scenario;
use crate::trace::summary;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Deterministic discrete-event simulator of an OpenStack Nova cloud handling server admin
/// actions (cold and live migration, confirm/revert resize, auto-confirm, resetState,
/// injectNetworkInfo, resetNetwork, create, delete).
///
/// A scenario (TOML) declares hosts, flavors, servers, nova.conf options, latencies, faults
/// and a workload; `run` simulates it and writes exact, reproducible traces.
#[derive(Debug, Parser)]
#[command(name = "novasim", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and write results/<name>/ (transitions.csv, requests.csv,
    /// instance_actions.csv, throughput.csv, hosts.csv, summary.json), with charts drawn from
    /// them (throughput, statuses, timeline, allocations, latency: .svg and .png) and
    /// report.html.
    ///
    /// The scenario's [[expect]] checks are evaluated after the run, printed after the summary
    /// and written to expectations.csv. Exit code 3 when one of them fails (the results folder
    /// is still written); 1 on bad input; 2 on a bad command line.
    Run {
        /// Scenario file, e.g. scenarios/teaching.toml
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder (default: results/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override any scenario key, e.g. --set nova.DEFAULT.resize_confirm_window=300
        /// (repeatable).
        #[arg(long = "set", value_name = "SECTION.OPTION=VALUE")]
        set: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Check the simulator's invariants after every instant (always on in debug builds):
        /// a violation stops the run with one line naming the instant, subject and rule.
        #[arg(long)]
        check_invariants: bool,
    },
    /// Run a scenario over a grid of option values × seeds on every core and write
    /// DIR/sweep.csv (one row per run, with the --metric's median, range, mean and 95 %
    /// confidence interval over the seeds of its grid point) and a plot of that figure,
    /// sweep.svg/sweep.png.
    ///
    /// A --metric that is not a number of summary.json is an error (exit 1) before any run.
    /// Exit code 3 when the scenario's [[expect]] checks failed in some run (sweep.csv is
    /// still written; the failed runs and checks are printed).
    Sweep(crate::sweep::SweepArgs),
    /// Run a Rally task file (Jinja2 template, YAML or JSON, format v1 or v2) against the cloud
    /// of a scenario, in virtual time: NovaServers boot/delete, migrate, live migrate, boot from
    /// volume and live migrate, resize; runners constant, constant_for_duration, rps, serial;
    /// Rally's polling client, statistics table, SLA and JSON export.
    ///
    /// Writes DIR (default results/rally-<task name>): rally.json (`rally task report --json`
    /// shape), rally.html, rally_stats.txt, rally_w<N>.csv (per-iteration atomic durations),
    /// and the run's usual traces, charts and report. Exit code 3 when an SLA failed (the
    /// folder is still written); 1 on bad input; 2 on a bad command line.
    Rally {
        /// Rally task file, e.g. tests/rally/resize-server.yaml (a Rally sample)
        task: PathBuf,
        /// Scenario file whose cloud (hosts, flavors, nova.conf, latencies, seed) runs the task.
        #[arg(long)]
        cloud: PathBuf,
        /// Task arguments (YAML or JSON mapping), as `rally task start --task-args`.
        #[arg(long)]
        task_args: Option<String>,
        /// File of task arguments, as `rally task start --task-args-file`.
        #[arg(long)]
        task_args_file: Option<PathBuf>,
        /// Results folder (default: results/rally-<task file name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rally era whose poll intervals, pre-poll sleeps and plugin behaviour to follow:
        /// current (rally-openstack ≥ 2.2), 2.1 (Rally ≥ 0.10 / rally-openstack < 2.2), 0.9
        /// (Rally ≤ 0.9).
        #[arg(long, default_value = "current")]
        rally_profile: String,
        /// Override the cloud scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override any key of the cloud scenario, as for `run` (repeatable).
        #[arg(long = "set", value_name = "SECTION.OPTION=VALUE")]
        set: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Fit the [latency] api and [steps] distributions of a cloud scenario to measured Rally
    /// results (a per-iteration CSV or Rally's JSON export), so that the simulated Rally run of
    /// the same workload, through Rally's polling client, reproduces the measured per-atomic
    /// median, 90 %, 95 % and spread. Odd iterations fit, even ones are held out and checked
    /// (Kolmogorov–Smirnov distance). The task is given (--task) or inferred from the atomic
    /// action names. Writes the calibrated scenario atomically and prints the comparison.
    Calibrate {
        /// Per-iteration CSV (iteration, atomic actions…, iteration.duration,
        /// iteration.idle_duration) or `rally task report --json` export.
        results: PathBuf,
        /// Scenario file whose cloud runs the workload; its [latency] api and [steps] are fitted.
        #[arg(long)]
        cloud: PathBuf,
        /// The calibrated scenario to write.
        #[arg(long)]
        out: PathBuf,
        /// The Rally task file that produced the results (default: inferred from the atomics).
        #[arg(long)]
        task: Option<PathBuf>,
        /// Rally era of the measurement: current, 2.1, 0.9 (as for `rally`).
        #[arg(long, default_value = "current")]
        rally_profile: String,
        /// Override the cloud scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Runner concurrency of the measurement (default: the JSON export's, the task's, or 1).
        #[arg(long)]
        concurrency: Option<u32>,
        /// Workload of a JSON export that holds several (1-based, in file order).
        #[arg(long)]
        workload: Option<usize>,
    },
    /// Validate a scenario without running it.
    Check {
        scenario: PathBuf,
        #[arg(long = "set", value_name = "SECTION.OPTION=VALUE")]
        set: Vec<String>,
    },
    /// Compare two results folders (e.g. a result and tests/golden/<name>): the first
    /// diverging transitions, changed summary figures, other differing files. Exit code 0 if
    /// identical, 1 if different, 2 on error.
    Diff {
        /// The old side, e.g. tests/golden/teaching
        a: PathBuf,
        /// The new side, e.g. results/teaching
        b: PathBuf,
    },
    /// Tell the story of one server in a results folder, step by step, in plain words.
    Explain {
        /// Results folder, e.g. results/teaching
        results: PathBuf,
        /// The server's name, e.g. vm1
        #[arg(long)]
        server: String,
    },
    /// Redraw the charts (throughput, statuses, timeline, allocations, latency; SVG and PNG)
    /// and report.html of a results folder from its CSVs and summary.json. The folder is
    /// replaced atomically; a folder novasim did not write (e.g. a golden trace) is only read:
    /// give --out.
    Plot {
        /// Results folder, e.g. results/teaching
        results: PathBuf,
        /// Write the redrawn folder here instead (same rules as `run --out`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs the CLI; returns the process exit code. Errors are printed as one line on stderr.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    // `diff` has three outcomes (identical, different, error): it returns its own exit code.
    if let Command::Diff { a, b } = &cli.command {
        return crate::analysis::diff::run_cli(a, b);
    }
    match execute(cli) {
        Ok(()) => 0,
        Err(Failure::Expectations(msg)) => {
            eprintln!("{msg}");
            3
        }
        Err(Failure::Error(msg)) => {
            eprintln!("error: {msg}");
            1
        }
    }
}

/// Why a command did not succeed: a one-line error (exit 1), or a run whose `[[expect]]`
/// checks failed (exit 3; the run itself and its results folder are fine).
enum Failure {
    Error(String),
    Expectations(String),
}

impl From<String> for Failure {
    fn from(msg: String) -> Failure {
        Failure::Error(msg)
    }
}

fn execute(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        // A sweep whose runs failed their `[[expect]]` checks exits 3, like `run`.
        Command::Sweep(args) => match crate::sweep::run_cli(&args)? {
            None => Ok(()),
            Some(failed) => Err(Failure::Expectations(failed)),
        },
        Command::Diff { .. } => unreachable!("diff returns its exit code from main_with_args"),
        Command::Rally {
            task,
            cloud,
            task_args,
            task_args_file,
            out,
            rally_profile,
            seed,
            mut set,
            quiet,
        } => {
            if let Some(seed) = seed {
                set.push(format!("seed={seed}"));
            }
            let era =
                crate::rally::profile::Era::parse(&rally_profile).map_err(|e| e.to_string())?;
            let opts = crate::rally::RallyOptions {
                task,
                cloud,
                task_args,
                task_args_file,
                out,
                era,
                overrides: set,
                derived: Derived::Write,
            };
            let report = crate::rally::run(&opts).map_err(|e| e.to_string())?;
            if !quiet {
                print!("{}", crate::rally::export::render_text(&report.result));
                println!("results written to {}", report.dir.display());
            }
            if report.result.pass_sla() {
                Ok(())
            } else {
                let failed: Vec<String> = report
                    .result
                    .workloads
                    .iter()
                    .flat_map(|w| w.sla.iter().filter(|s| !s.success))
                    .map(|s| format!("  {}: {}", s.criterion, s.detail.replace('\n', " ")))
                    .collect();
                Err(Failure::Expectations(format!(
                    "{} SLA criteria failed:\n{}",
                    failed.len(),
                    failed.join("\n")
                )))
            }
        }
        Command::Calibrate {
            results,
            cloud,
            out,
            task,
            rally_profile,
            seed,
            concurrency,
            workload,
        } => {
            let era =
                crate::rally::profile::Era::parse(&rally_profile).map_err(|e| e.to_string())?;
            let opts = crate::calibrate::CalibrateOptions {
                results,
                cloud,
                out,
                task,
                era,
                seed,
                concurrency,
                workload,
            };
            let c = crate::calibrate::run(&opts).map_err(|e| e.to_string())?;
            print!("{}", crate::calibrate::render(&c));
            Ok(())
        }
        Command::Plot { results, out } => {
            let (dir, drawn) =
                crate::redraw::redraw(&results, out.as_deref()).map_err(|e| e.to_string())?;
            println!(
                "{} files drawn into {}",
                drawn.len(),
                crate::text::shown_path(&dir)
            );
            Ok(())
        }
        Command::Explain { results, server } => {
            let story = crate::analysis::explain(&results, &server).map_err(|e| e.to_string())?;
            print!("{story}");
            Ok(())
        }
        Command::Check {
            scenario: path,
            set,
        } => {
            let sc = crate::sim::load_checked(&path, &set).map_err(|e| e.to_string())?;
            println!(
                "{}: ok — scenario \"{}\", {} hosts, {} flavors, {} servers, {} requests, {} generators",
                path.display(),
                sc.name,
                sc.hosts.len(),
                sc.flavors.len(),
                sc.servers.len(),
                sc.requests.len(),
                sc.generators.len()
            );
            Ok(())
        }
        Command::Run {
            scenario: path,
            seed,
            out,
            mut set,
            quiet,
            check_invariants,
        } => {
            if let Some(seed) = seed {
                set.push(format!("seed={seed}"));
            }
            // The run places the initial servers itself; only if that fails is the file loaded
            // again with the placement probe, whose error names the server's entry.
            let sc = scenario::load(&path, &set).map_err(|e| e.to_string())?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
            let seed = sc.seed;
            let progress = (!quiet).then(|| crate::sweep::progress::spinner(&sc.name));
            let checks = if check_invariants {
                crate::sim::Checks::On
            } else {
                crate::sim::Checks::default_for_build()
            };
            let report = run_to_dir_checked(sc, &out, Derived::Write, checks).map_err(|e| {
                use crate::sim::{SetupError, SimError};
                if let RunError::Sim(SimError::Setup(SetupError::Unplaceable { .. })) = e {
                    if let Err(located) = crate::sim::load_checked(&path, &set) {
                        return located.to_string();
                    }
                }
                format!("{e} (seed {seed})")
            })?;
            drop(progress);
            if !quiet {
                print!("{}", summary::render(&report.summary));
                print!("{}", crate::expect::render(&report.expectations));
                println!("results written to {}", report.dir.display());
            }
            match crate::expect::failures(&report.expectations) {
                0 => Ok(()),
                n => Err(Failure::Expectations(format!(
                    "{n} of {} expectations failed (seed {seed}):\n{}",
                    report.expectations.len(),
                    report
                        .expectations
                        .iter()
                        .filter(|r| !r.passed)
                        .map(|r| format!("  {}", r.describe()))
                        .collect::<Vec<_>>()
                        .join("\n")
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
