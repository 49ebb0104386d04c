//! What the sweep says about a figure over the seeds of one grid point: median and range, and
//! the mean with its 95 % confidence interval (Student's t). Values are summed in grid order
//! and every operation is IEEE (sqrt included), so the figures are the same on every machine;
//! they are printed with at most 3 decimals.

/// Two-sided 95 % critical values of Student's t for 1 to 30 degrees of freedom (the usual
/// table, to 3 decimals), then 40, 60 and 120; beyond 120, 1.960 (the normal). A df between
/// two rows takes the smaller df's row (the larger t): the interval is never too narrow.
const T95: [(u64, f64); 34] = [
    (1, 12.706),
    (2, 4.303),
    (3, 3.182),
    (4, 2.776),
    (5, 2.571),
    (6, 2.447),
    (7, 2.365),
    (8, 2.306),
    (9, 2.262),
    (10, 2.228),
    (11, 2.201),
    (12, 2.179),
    (13, 2.160),
    (14, 2.145),
    (15, 2.131),
    (16, 2.120),
    (17, 2.110),
    (18, 2.101),
    (19, 2.093),
    (20, 2.086),
    (21, 2.080),
    (22, 2.074),
    (23, 2.069),
    (24, 2.064),
    (25, 2.060),
    (26, 2.056),
    (27, 2.052),
    (28, 2.048),
    (29, 2.045),
    (30, 2.042),
    (40, 2.021),
    (60, 2.000),
    (120, 1.980),
    (u64::MAX, 1.960),
];

/// The t value of a two-sided 95 % interval with `df` degrees of freedom (`df` ≥ 1).
pub fn t95(df: u64) -> f64 {
    T95.iter()
        .rev()
        .find(|(d, _)| *d <= df)
        .map_or(T95[0].1, |r| r.1)
}

/// The figures of one grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Seeds with a value.
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub mean: f64,
    /// The 95 % confidence interval of the mean, (low, high); `None` for a single value.
    pub ci95: Option<(f64, f64)>,
}

impl Stats {
    /// `None` without a value.
    pub fn of(values: &[f64]) -> Option<Stats> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        // Summed in the caller's (grid) order, so the same runs give the same bits.
        let mean = values.iter().sum::<f64>() / n as f64;
        let ci95 = (n >= 2).then(|| {
            let var = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            let half = t95(n as u64 - 1) * (var / n as f64).sqrt();
            (mean - half, mean + half)
        });
        Some(Stats {
            n,
            min: v[0],
            median,
            max: v[n - 1],
            mean,
            ci95,
        })
    }

    /// The same figures divided by `scale` (e.g. ms shown in s).
    pub fn scaled(&self, scale: f64) -> Stats {
        Stats {
            n: self.n,
            min: self.min / scale,
            median: self.median / scale,
            max: self.max / scale,
            mean: self.mean / scale,
            ci95: self.ci95.map(|(a, b)| (a / scale, b / scale)),
        }
    }
}

/// "1.5", "28.21", "300": a figure with at most 3 decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_table_rows() {
        assert_eq!(t95(1), 12.706);
        assert_eq!(t95(4), 2.776);
        assert_eq!(t95(19), 2.093);
        assert_eq!(t95(30), 2.042);
        // Between rows: the smaller df's (wider) value.
        assert_eq!(t95(35), 2.042);
        assert_eq!(t95(45), 2.021);
        assert_eq!(t95(1000), 1.980);
        assert_eq!(t95(u64::MAX), 1.960);
    }

    #[test]
    fn interval_of_the_mean() {
        // 5 values, mean 3, sample sd sqrt(2.5): half-width 2.776 x sqrt(2.5 / 5).
        let s = Stats::of(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap_or_else(|| unreachable!());
        assert_eq!(
            (s.n, s.min, s.median, s.max, s.mean),
            (5, 1.0, 3.0, 5.0, 3.0)
        );
        let (lo, hi) = s.ci95.unwrap_or_default();
        assert_eq!(
            (num(lo), num(hi)),
            ("1.037".to_string(), "4.963".to_string())
        );
        // Two seeds: t = 12.706; one seed: no interval.
        let two = Stats::of(&[10.0, 12.0]).unwrap_or_else(|| unreachable!());
        assert_eq!(two.median, 11.0);
        let (lo, hi) = two.ci95.unwrap_or_default();
        assert_eq!(
            (num(lo), num(hi)),
            ("-1.706".to_string(), "23.706".to_string())
        );
        assert_eq!(Stats::of(&[7.0]).and_then(|s| s.ci95), None);
        assert!(Stats::of(&[]).is_none());
        // Equal values: a zero-width interval.
        let same = Stats::of(&[4.0, 4.0, 4.0]).unwrap_or_else(|| unreachable!());
        assert_eq!(same.ci95, Some((4.0, 4.0)));
    }
}
