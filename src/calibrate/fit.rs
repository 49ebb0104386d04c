//! The fit: each fitted atomic action gets a lognormal (median, sigma) for the step that
//! dominates it, searched so that a full simulated Rally run of the workload — through the
//! polling client, so on the same poll lattice as the measurement — reproduces the measured
//! median, 90 % and 95 % percentiles and spread of that atomic.
//!
//! The search is a golden-section search on ln(median), then on sigma, twice over (the second
//! round in a narrower bracket). The searches of all atomics advance in lock step: one
//! simulated run evaluates every atomic's probe point at once, each search reading its own
//! atomic's loss (an atomic depends almost only on its own step; each step has its own random
//! stream, so a probe of one does not move the draws of another). Every run uses the same seed
//! (common random numbers), so the loss is a deterministic function of the parameters and the
//! whole fit is reproducible. The nova-api latency (every call of the client pays it) is
//! searched too, on the total loss. 7 × (3 + ITERS) runs in all.

use super::CalibrateError;
use crate::config::StepDurations;
use crate::engine::Dist;
use crate::rally::driver::{Driver, WorkloadRun};
use crate::rally::stats::{percentile_centi_ms, Iteration};
use crate::scenario::Scenario;
use crate::sim::Sim;
use crate::trace::writer::TraceWriter;

/// Golden-section steps per search (the bracket shrinks by 0.618 each: 12 steps → 0.3 %).
const ITERS: usize = 12;
/// Sigma bracket of the first round.
const SIGMA_MAX: f64 = 1.2;

/// A step duration of `[steps]` that the fit sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKey {
    Boot,
    Delete,
    DiskCopy,
    ConfirmMigration,
    FinishRevertMigration,
    PreLiveMigration,
}

impl StepKey {
    pub fn key(self) -> &'static str {
        match self {
            StepKey::Boot => "boot",
            StepKey::Delete => "delete",
            StepKey::DiskCopy => "disk_copy",
            StepKey::ConfirmMigration => "confirm_migration",
            StepKey::FinishRevertMigration => "finish_revert_migration",
            StepKey::PreLiveMigration => "pre_live_migration",
        }
    }

    pub fn slot(self, s: &mut StepDurations) -> &mut Dist {
        match self {
            StepKey::Boot => &mut s.boot,
            StepKey::Delete => &mut s.delete,
            StepKey::DiskCopy => &mut s.disk_copy,
            StepKey::ConfirmMigration => &mut s.confirm_migration,
            StepKey::FinishRevertMigration => &mut s.finish_revert_migration,
            StepKey::PreLiveMigration => &mut s.pre_live_migration,
        }
    }

    /// The step that dominates a Rally atomic action of the simulated scenarios.
    pub fn of_atomic(name: &str) -> Option<StepKey> {
        Some(match name {
            "nova.boot_server" => StepKey::Boot,
            "nova.delete_server" => StepKey::Delete,
            // Shutdown + copy + finish: the copy is the part that varies with the disk.
            "nova.resize" | "nova.migrate" => StepKey::DiskCopy,
            "nova.resize_confirm" => StepKey::ConfirmMigration,
            "nova.resize_revert" => StepKey::FinishRevertMigration,
            "nova.live_migrate" => StepKey::PreLiveMigration,
            _ => return None,
        })
    }
}

/// A fitted atomic: its name, its step, and the measured figures it is fitted to.
#[derive(Debug, Clone)]
pub struct Target {
    pub atomic: String,
    pub step: StepKey,
    pub measured: Summary,
}

/// Rally's percentiles (linear interpolation) of a sample, in ms, and its spread p90 − p10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub spread: f64,
}

impl Summary {
    pub fn of(sorted: &[u64]) -> Option<Summary> {
        let p = |q| percentile_centi_ms(sorted, q).map(|c| c as f64 / 100.0);
        Some(Summary {
            n: sorted.len(),
            p50: p(50)?,
            p90: p(90)?,
            p95: p(95)?,
            spread: p(90)? - p(10)?,
        })
    }

    /// Squared relative errors of p50, p90, p95, plus the spread error relative to the median.
    pub fn loss(&self, measured: &Summary) -> f64 {
        let rel = |s: f64, m: f64| ((s - m) / m.max(1.0)).powi(2);
        self.median_loss(measured)
            + rel(self.p90, measured.p90)
            + rel(self.p95, measured.p95)
            + ((self.spread - measured.spread) / measured.p50.max(1.0)).powi(2)
    }

    /// The squared relative error of the median alone: what a median is searched on, so that
    /// a spread not fitted yet does not pull the median (at a fixed sigma the spread grows
    /// with the median).
    pub fn median_loss(&self, measured: &Summary) -> f64 {
        ((self.p50 - measured.p50) / measured.p50.max(1.0)).powi(2)
    }
}

/// Loss of an atomic the simulated run never completed.
const MISSING: f64 = 1e6;

/// The two-sample Kolmogorov–Smirnov distance: sup |F_a − F_b| over both samples (sorted).
pub fn ks(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// A lognormal as written to the scenario: median in whole ms, sigma to 3 decimals (the fit
/// evaluates exactly what it writes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub median_ms: u64,
    pub sigma: f64,
}

impl LogNormal {
    pub fn from(ln_median: f64, sigma: f64) -> LogNormal {
        LogNormal {
            median_ms: ln_median.exp().round().max(1.0) as u64,
            sigma: (sigma.max(0.0) * 1000.0).round() / 1000.0,
        }
    }

    pub fn dist(self) -> Dist {
        Dist::LogNormal {
            median_ms: self.median_ms as f64,
            sigma: self.sigma,
        }
    }
}

/// The simulated workload: the cloud and the Rally workload run on it.
pub struct Bench<'a> {
    pub cloud: &'a Scenario,
    pub run: &'a WorkloadRun,
    pub targets: &'a [Target],
    /// Simulated runs made so far.
    pub runs: usize,
}

/// The sorted successful durations (ms) of top-level atomic `name` in `iters` (an atomic run
/// twice in an iteration counts once with the sum, as Rally's CSV rows do).
pub fn durations(iters: &[Iteration], name: &str) -> Vec<u64> {
    let mut out: Vec<u64> = iters
        .iter()
        .filter(|i| !i.failed())
        .filter_map(|i| {
            i.atomics
                .iter()
                .filter(|a| a.name == name)
                .map(|a| a.finished_ms - a.started_ms)
                .reduce(|x, y| x + y)
        })
        .collect();
    out.sort_unstable();
    out
}

impl Bench<'_> {
    /// The cloud with `params` (one per target) as its step durations and `api` as its
    /// nova-api latency.
    pub fn scenario(&self, params: &[LogNormal], api: LogNormal, seed: u64) -> Scenario {
        let mut s = self.cloud.clone();
        s.seed = seed;
        s.latency.api = api.dist();
        // A status GET is an API call: its round trip is fitted with the API latency.
        s.latency.status_get = api.dist();
        for (t, p) in self.targets.iter().zip(params) {
            *t.step.slot(&mut s.steps) = p.dist();
        }
        s
    }

    /// One full simulated Rally run of the workload, no trace written.
    pub fn simulate(
        &mut self,
        params: &[LogNormal],
        api: LogNormal,
        seed: u64,
    ) -> Result<Vec<Iteration>, CalibrateError> {
        self.runs += 1;
        let scenario = self.scenario(params, api, seed);
        let flavors = scenario.flavors.clone();
        let mut sim = Sim::new(scenario, TraceWriter::discard()).map_err(CalibrateError::Sim)?;
        let start = sim.now();
        Ok(Driver::new(&sim, self.run, flavors).run(&mut sim, start)?)
    }

    /// Per-target losses of one simulated run.
    fn losses(
        &mut self,
        params: &[LogNormal],
        api: LogNormal,
        seed: u64,
        which: Coord,
    ) -> Result<Vec<f64>, CalibrateError> {
        let iters = self.simulate(params, api, seed)?;
        Ok(self
            .targets
            .iter()
            .map(|t| {
                Summary::of(&durations(&iters, &t.atomic)).map_or(MISSING, |s| match which {
                    Coord::LnMedian => s.median_loss(&t.measured),
                    Coord::Sigma => s.loss(&t.measured),
                })
            })
            .collect())
    }
}

/// One golden-section search over [a, b].
#[derive(Debug, Clone, Copy)]
struct Golden {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    fc: f64,
    fd: f64,
}

const INV_PHI: f64 = 0.618_033_988_749_895;

impl Golden {
    fn new(a: f64, b: f64) -> Golden {
        Golden {
            a,
            b,
            c: b - (b - a) * INV_PHI,
            d: a + (b - a) * INV_PHI,
            fc: f64::NAN,
            fd: f64::NAN,
        }
    }

    /// Narrows the bracket; returns the next point to evaluate and whether it is `c`.
    fn step(&mut self) -> (f64, bool) {
        if self.fc <= self.fd {
            self.b = self.d;
            self.d = self.c;
            self.fd = self.fc;
            self.c = self.b - (self.b - self.a) * INV_PHI;
            (self.c, true)
        } else {
            self.a = self.c;
            self.c = self.d;
            self.fc = self.fd;
            self.d = self.a + (self.b - self.a) * INV_PHI;
            (self.d, false)
        }
    }

    fn best(&self) -> f64 {
        if self.fc <= self.fd {
            self.c
        } else {
            self.d
        }
    }
}

/// Which coordinate a search moves (and so which loss it reads: the median's alone, or the
/// full loss for a sigma).
#[derive(Clone, Copy)]
pub enum Coord {
    LnMedian,
    Sigma,
}

/// The parameters under search: one lognormal per target (as ln median, sigma) and the
/// nova-api latency shared by every call of the client.
#[derive(Debug, Clone)]
struct Point {
    ln_median: Vec<f64>,
    sigma: Vec<f64>,
    api: (f64, f64),
}

impl Point {
    fn params(&self) -> (Vec<LogNormal>, LogNormal) {
        (
            self.ln_median
                .iter()
                .zip(&self.sigma)
                .map(|(m, s)| LogNormal::from(*m, *s))
                .collect(),
            LogNormal::from(self.api.0, self.api.1),
        )
    }

    fn set(&mut self, j: usize, which: Coord, x: f64) {
        match which {
            Coord::LnMedian => self.ln_median[j] = x,
            Coord::Sigma => self.sigma[j] = x.max(0.0),
        }
    }
}

/// Searches every target's coordinate `which` in lock step, brackets `range(target index)`.
fn search_steps(
    bench: &mut Bench,
    seed: u64,
    at: &mut Point,
    which: Coord,
    range: impl Fn(usize) -> (f64, f64),
) -> Result<(), CalibrateError> {
    let n = at.ln_median.len();
    let mut g: Vec<Golden> = (0..n)
        .map(|j| {
            let (a, b) = range(j);
            Golden::new(a, b)
        })
        .collect();
    let eval = |xs: &[f64], bench: &mut Bench| {
        let mut p = at.clone();
        for (j, x) in xs.iter().enumerate() {
            p.set(j, which, *x);
        }
        let (steps, api) = p.params();
        bench.losses(&steps, api, seed, which)
    };
    let cs: Vec<f64> = g.iter().map(|x| x.c).collect();
    let fc = eval(&cs, bench)?;
    let ds: Vec<f64> = g.iter().map(|x| x.d).collect();
    let fd = eval(&ds, bench)?;
    for j in 0..n {
        g[j].fc = fc[j];
        g[j].fd = fd[j];
    }
    for _ in 0..ITERS {
        let probes: Vec<(f64, bool)> = g.iter_mut().map(Golden::step).collect();
        let xs: Vec<f64> = probes.iter().map(|p| p.0).collect();
        let f = eval(&xs, bench)?;
        for j in 0..n {
            if probes[j].1 {
                g[j].fc = f[j];
            } else {
                g[j].fd = f[j];
            }
        }
    }
    for (j, gj) in g.iter().enumerate() {
        at.set(j, which, gj.best());
    }
    Ok(())
}

/// Searches the nova-api latency's coordinate `which` on the total loss over [a, b].
fn search_api(
    bench: &mut Bench,
    seed: u64,
    at: &mut Point,
    which: Coord,
    (a, b): (f64, f64),
) -> Result<(), CalibrateError> {
    let eval = |x: f64, bench: &mut Bench| -> Result<f64, CalibrateError> {
        let mut p = at.clone();
        match which {
            Coord::LnMedian => p.api.0 = x,
            Coord::Sigma => p.api.1 = x.max(0.0),
        }
        let (steps, api) = p.params();
        Ok(bench.losses(&steps, api, seed, which)?.iter().sum())
    };
    let mut g = Golden::new(a, b);
    g.fc = eval(g.c, bench)?;
    g.fd = eval(g.d, bench)?;
    for _ in 0..ITERS {
        let (x, is_c) = g.step();
        let f = eval(x, bench)?;
        if is_c {
            g.fc = f;
        } else {
            g.fd = f;
        }
    }
    match which {
        Coord::LnMedian => at.api.0 = g.best(),
        Coord::Sigma => at.api.1 = g.best().max(0.0),
    }
    Ok(())
}

/// The fitted parameters: one lognormal per target, and the nova-api latency.
pub fn fit(bench: &mut Bench, seed: u64) -> Result<(Vec<LogNormal>, LogNormal), CalibrateError> {
    let n = bench.targets.len();
    let p50: Vec<f64> = bench
        .targets
        .iter()
        .map(|t| t.measured.p50.max(2.0))
        .collect();
    let shortest = p50.iter().copied().fold(f64::INFINITY, f64::min);
    // Start at the measured median with a moderate spread (the step is at most the atomic),
    // and the cloud's API latency median.
    let api0 = match bench.cloud.latency.api {
        Dist::LogNormal { median_ms, .. } => median_ms,
        ref d => d.mean_ms(),
    }
    .max(1.0);
    let mut at = Point {
        ln_median: p50.iter().map(|m| (0.8 * m).ln()).collect(),
        sigma: vec![0.3; n],
        api: (api0.ln(), 0.3),
    };
    let mut candidates = Vec::new();
    let wide = |j: usize| ((0.02 * p50[j]).ln(), (1.3 * p50[j]).ln());
    search_steps(bench, seed, &mut at, Coord::LnMedian, wide)?;
    candidates.push(at.clone());
    // The API latency: every call of every atomic pays it, so it takes the offsets that the
    // poll lattice alone cannot (a measured 3.0 s on a 2 s lattice).
    search_api(
        bench,
        seed,
        &mut at,
        Coord::LnMedian,
        (5f64.ln(), (0.5 * shortest).max(10.0).ln()),
    )?;
    candidates.push(at.clone());
    let around = at.ln_median.clone();
    search_steps(bench, seed, &mut at, Coord::LnMedian, |j| {
        (around[j] - 0.5, around[j] + 0.5)
    })?;
    candidates.push(at.clone());
    search_steps(bench, seed, &mut at, Coord::Sigma, |_| (0.0, SIGMA_MAX))?;
    candidates.push(at.clone());
    search_api(bench, seed, &mut at, Coord::Sigma, (0.0, 1.0))?;
    candidates.push(at.clone());
    // Last round in narrow brackets around what the others found.
    let around = at.ln_median.clone();
    search_steps(bench, seed, &mut at, Coord::LnMedian, |j| {
        (around[j] - 0.2, around[j] + 0.2)
    })?;
    candidates.push(at.clone());
    let s0 = at.sigma.clone();
    search_steps(bench, seed, &mut at, Coord::Sigma, |j| {
        ((s0[j] - 0.2).max(0.0), s0[j] + 0.2)
    })?;
    candidates.push(at.clone());
    // A later search can lose what an earlier one found when a percentile sits on a lattice
    // step (the lock-step probes move the other atomics too): keep the best point of all, on
    // the full loss of one run each (the first of equals).
    let mut best: Option<(f64, Point)> = None;
    for p in candidates {
        let (steps, api) = p.params();
        let f: f64 = bench.losses(&steps, api, seed, Coord::Sigma)?.iter().sum();
        if best.as_ref().is_none_or(|b| f < b.0) {
            best = Some((f, p));
        }
    }
    Ok(best.map_or(at, |b| b.1).params())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_distance_of_known_samples() {
        assert_eq!(ks(&[1, 2, 3], &[1, 2, 3]), 0.0);
        assert_eq!(ks(&[1, 2], &[3, 4]), 1.0);
        // Ties: at 1, F_a = 1/2, F_b = 0; at 2, 1 and 1/2; at 3, 1 and 1.
        assert!((ks(&[1, 2], &[2, 3]) - 0.5).abs() < 1e-12);
        let d = ks(&[1, 2, 3, 4], &[3, 4, 5, 6]);
        assert!((d - 0.5).abs() < 1e-12, "{d}");
    }

    #[test]
    fn summary_uses_rallys_percentiles() {
        let s = Summary::of(&[1000, 2000, 3000, 4000, 5000]).unwrap();
        assert_eq!((s.p50, s.p90, s.p95), (3000.0, 4600.0, 4800.0));
        assert_eq!(s.spread, 4600.0 - 1400.0);
        assert_eq!(s.loss(&s), 0.0);
    }

    #[test]
    fn golden_section_finds_a_parabola_minimum() {
        let mut g = Golden::new(-3.0, 5.0);
        let f = |x: f64| (x - 1.25).powi(2);
        g.fc = f(g.c);
        g.fd = f(g.d);
        for _ in 0..30 {
            let (x, is_c) = g.step();
            if is_c {
                g.fc = f(x);
            } else {
                g.fd = f(x);
            }
        }
        assert!((g.best() - 1.25).abs() < 1e-3, "{}", g.best());
    }
}
