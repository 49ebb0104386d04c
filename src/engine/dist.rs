//! Distributions of durations. Every latency and step duration of a scenario is one of these;
//! a sample is rounded to whole milliseconds so the clock stays integer.

use super::rng::Stream;
use super::time::Duration;
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};

/// A duration distribution, parameters in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always `ms`.
    Constant { ms: u64 },
    /// Uniform integer in `[min_ms, max_ms]`.
    Uniform { min_ms: u64, max_ms: u64 },
    /// Exponential with mean `mean_ms`.
    Exponential { mean_ms: f64 },
    /// Log-normal given by the median and the shape `sigma` of the underlying normal.
    LogNormal { median_ms: f64, sigma: f64 },
    /// Draws one of `values_ms` with the given relative `weights` (an empirical table).
    Empirical {
        values_ms: Vec<u64>,
        cumulative: Vec<u64>,
    },
}

impl Dist {
    pub fn constant_ms(ms: u64) -> Dist {
        Dist::Constant { ms }
    }

    /// An empirical table from values and integer weights (validated by the scenario loader).
    pub fn empirical(values_ms: Vec<u64>, weights: &[u64]) -> Dist {
        let mut acc = 0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        Dist::Empirical {
            values_ms,
            cumulative,
        }
    }

    /// True when sampling never consumes randomness (so hand-computed timelines hold).
    pub fn is_constant(&self) -> bool {
        matches!(self, Dist::Constant { .. })
    }

    /// The mean, for documentation and summaries.
    pub fn mean_ms(&self) -> f64 {
        match self {
            Dist::Constant { ms } => *ms as f64,
            Dist::Uniform { min_ms, max_ms } => (*min_ms + *max_ms) as f64 / 2.0,
            Dist::Exponential { mean_ms } => *mean_ms,
            Dist::LogNormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            Dist::Empirical {
                values_ms,
                cumulative,
            } => {
                let total = *cumulative.last().unwrap_or(&1) as f64;
                let mut prev = 0;
                let mut sum = 0.0;
                for (v, c) in values_ms.iter().zip(cumulative) {
                    sum += *v as f64 * (c - prev) as f64;
                    prev = *c;
                }
                sum / total
            }
        }
    }

    /// Draws one duration. Constant distributions do not touch the stream.
    pub fn sample(&self, rng: &mut Stream) -> Duration {
        let ms = match self {
            Dist::Constant { ms } => *ms,
            Dist::Uniform { min_ms, max_ms } => rng.gen_range(*min_ms..=*max_ms),
            Dist::Exponential { mean_ms } => match Exp::new(1.0 / mean_ms.max(f64::MIN_POSITIVE)) {
                Ok(d) => round_ms(d.sample(rng)),
                Err(_) => 0,
            },
            Dist::LogNormal { median_ms, sigma } => {
                match LogNormal::new(median_ms.max(f64::MIN_POSITIVE).ln(), *sigma) {
                    Ok(d) => round_ms(d.sample(rng)),
                    Err(_) => round_ms(*median_ms),
                }
            }
            Dist::Empirical {
                values_ms,
                cumulative,
            } => {
                let total = cumulative.last().copied().unwrap_or(0);
                if total == 0 {
                    0
                } else {
                    let x = rng.gen_range(0..total);
                    let i = cumulative.partition_point(|c| *c <= x);
                    values_ms[i.min(values_ms.len() - 1)]
                }
            }
        };
        Duration(ms)
    }
}

/// The longest draw, in ms: the scenario's bound on every time (10^12 ms ≈ 31.7 years). An
/// exponential or log-normal tail can go far beyond its parameters; capping each draw keeps
/// `time + draw` far from overflow, whatever the parameters.
pub const MAX_DRAW_MS: u64 = 1_000_000_000_000;

fn round_ms(x: f64) -> u64 {
    if x > 0.0 {
        // +inf (a log-normal with a huge sigma) is the cap, not 0; NaN fails `x > 0`.
        x.round().min(MAX_DRAW_MS as f64) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngStreams;

    #[test]
    fn draws_are_capped_not_wrapped_or_zeroed() {
        assert_eq!(round_ms(f64::INFINITY), MAX_DRAW_MS);
        assert_eq!(round_ms(1e300), MAX_DRAW_MS);
        assert_eq!(round_ms(f64::NAN), 0);
        assert_eq!(round_ms(-3.0), 0);
        let mut rng = RngStreams::new(1).stream("t");
        let l = Dist::LogNormal {
            median_ms: 1e12,
            sigma: 10.0,
        };
        for _ in 0..1000 {
            assert!(l.sample(&mut rng).0 <= MAX_DRAW_MS);
        }
    }

    #[test]
    fn constant_is_exact_and_consumes_nothing() {
        let mut rng = RngStreams::new(1).stream("t");
        let d = Dist::constant_ms(250);
        assert_eq!(d.sample(&mut rng), Duration(250));
        assert!(d.is_constant());
    }

    #[test]
    fn uniform_stays_in_bounds() {
        let mut rng = RngStreams::new(1).stream("t");
        let d = Dist::Uniform {
            min_ms: 10,
            max_ms: 20,
        };
        for _ in 0..1000 {
            let x = d.sample(&mut rng).0;
            assert!((10..=20).contains(&x));
        }
    }

    #[test]
    fn empirical_respects_weights() {
        let mut rng = RngStreams::new(3).stream("t");
        let d = Dist::empirical(vec![100, 200], &[1, 3]);
        let n = 20_000;
        let twos = (0..n).filter(|_| d.sample(&mut rng).0 == 200).count();
        let frac = twos as f64 / n as f64;
        assert!((0.72..0.78).contains(&frac), "{frac}");
        assert_eq!(d.mean_ms(), 175.0);
    }

    #[test]
    fn exponential_and_lognormal_means_are_close() {
        let mut rng = RngStreams::new(5).stream("t");
        let e = Dist::Exponential { mean_ms: 1000.0 };
        let l = Dist::LogNormal {
            median_ms: 1000.0,
            sigma: 0.5,
        };
        let n = 50_000;
        let me = (0..n).map(|_| e.sample(&mut rng).0 as f64).sum::<f64>() / n as f64;
        let ml = (0..n).map(|_| l.sample(&mut rng).0 as f64).sum::<f64>() / n as f64;
        assert!((me - 1000.0).abs() < 30.0, "{me}");
        assert!((ml - l.mean_ms()).abs() < 30.0, "{ml}");
    }
}
