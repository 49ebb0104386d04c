//! The command line (clap). `main.rs` only calls [`main_with_args`].

use crate::run::run_to_dir;
use crate::scenario;
use crate::trace::summary;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Deterministic discrete-event simulator of an OpenStack Nova cloud handling server admin
/// actions (cold migration, confirm/revert resize, auto-confirm, create, delete).
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
    /// instance_actions.csv, throughput.csv, hosts.csv, summary.json).
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
    },
    /// Validate a scenario without running it.
    Check {
        scenario: PathBuf,
        #[arg(long = "set", value_name = "SECTION.OPTION=VALUE")]
        set: Vec<String>,
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
    match execute(cli) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("error: {msg}");
            1
        }
    }
}

fn execute(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Check {
            scenario: path,
            set,
        } => {
            let sc = scenario::load(&path, &set).map_err(|e| e.to_string())?;
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
        } => {
            if let Some(seed) = seed {
                set.push(format!("seed={seed}"));
            }
            let sc = scenario::load(&path, &set).map_err(|e| e.to_string())?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
            let seed = sc.seed;
            let report = run_to_dir(sc, &out).map_err(|e| format!("{e} (seed {seed})"))?;
            if !quiet {
                print!("{}", summary::render(&report.summary));
                println!("results written to {}", report.dir.display());
            }
            Ok(())
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
