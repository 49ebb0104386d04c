//! The sweep's picture: the chosen summary figure against the first swept option, one series
//! per combination of the other options, each with its median over seeds and the min–max
//! spread (band and whiskers). Also the same numbers as text for the terminal.

use super::grid::Param;
use super::stats::{num, Stats};
use super::{RunResult, SweepReport};
use crate::plot::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The font family the plot module registers from its embedded font.
const FONT: &str = "sans-serif";

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
    pub mean: f64,
    /// 95 % confidence interval of the mean over the seeds (Student's t); `None` for one seed.
    pub ci95: Option<(f64, f64)>,
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
                .filter_map(|(x, v)| {
                    let st = Stats::of(&v)?;
                    Some(Spread {
                        x,
                        min: st.min,
                        median: st.median,
                        max: st.max,
                        n: st.n,
                        mean: st.mean,
                        ci95: st.ci95,
                    })
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

/// The plotted numbers as a table for the terminal.
pub fn render_text(report: &SweepReport, metric: &str) -> String {
    let f = figure(metric, &report.params, &report.runs);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} over seeds, by {}: median [min … max], mean and its 95 % confidence interval \
         (Student's t):",
        f.y_label, f.x_label
    );
    for s in &f.series {
        if !s.label.is_empty() {
            let _ = writeln!(out, "  {}", s.label);
        }
        for p in &s.points {
            let st = Stats {
                n: p.n,
                min: p.min,
                median: p.median,
                max: p.max,
                mean: p.mean,
                ci95: p.ci95,
            };
            line(&mut out, &f.x_values[p.x], &st);
        }
        if s.points.is_empty() {
            let _ = writeln!(out, "    (no value)");
        }
    }
    // Nothing swept: one run per x value (seed), so the figures across seeds are on a line of
    // their own.
    if report.params.is_empty() {
        let values: Vec<f64> = report
            .runs
            .iter()
            .filter_map(|r| r.metric)
            .map(|m| m / f.y_scale)
            .collect();
        if let Some(st) = Stats::of(&values) {
            line(&mut out, "all seeds", &st);
        }
    }
    out
}

/// One line of the terminal table: `label  median [min … max]  mean m 95 % CI [lo … hi]`.
fn line(out: &mut String, label: &str, st: &Stats) {
    let ci = st
        .ci95
        .map_or("(no CI from one run)".to_string(), |(lo, hi)| {
            format!("95 % CI [{} … {}]", num(lo), num(hi))
        });
    let _ = writeln!(
        out,
        "    {:>12}  {} [{} … {}]  mean {} {}  ({} run{})",
        label,
        num(st.median),
        num(st.min),
        num(st.max),
        num(st.mean),
        ci,
        st.n,
        if st.n == 1 { "" } else { "s" }
    );
}

/// Picture size in pixels.
pub const SIZE: (u32, u32) = (1100, 650);

/// Series colours (Okabe–Ito, readable by colour-blind viewers), cycled.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0xd5, 0x5e, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x56, 0xb4, 0xe9),
    RGBColor(0x00, 0x00, 0x00),
];

impl Figure {
    /// Where x value `i` is drawn.
    fn x_pos(&self, i: usize) -> f64 {
        match &self.x_numeric {
            Some(xs) => xs[i],
            None => i as f64,
        }
    }

    fn x_range(&self) -> (f64, f64) {
        match &self.x_numeric {
            Some(xs) => {
                let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
                (lo - pad, hi + pad)
            }
            None => (-0.5, self.x_values.len() as f64 - 0.5),
        }
    }

    fn y_range(&self) -> (f64, f64) {
        let all = self.series.iter().flat_map(|s| &s.points);
        let lo = all.clone().map(|p| p.min).fold(f64::INFINITY, f64::min);
        let hi = all.map(|p| p.max).fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            return (0.0, 1.0);
        }
        // Latencies and counts read best from 0.
        let lo = if lo >= 0.0 { 0.0 } else { lo };
        let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
        (lo, hi + span * 0.08)
    }

    /// Draws the figure on any plotters backend (the SVG and the PNG share this code).
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> DrawResult<DB> {
        let (x0, x1) = self.x_range();
        let (y0, y1) = self.y_range();
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        let categorical = self.x_numeric.is_none();
        // Seeds and counts: no tick between two integers.
        let integral = self
            .x_numeric
            .as_ref()
            .is_some_and(|xs| xs.iter().all(|x| x.fract() == 0.0));
        let x_fmt = move |v: &f64| -> String {
            if integral && v.fract() != 0.0 {
                String::new()
            } else {
                num(*v)
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| num(*v));
        if categorical {
            // The axis's own ticks fall between categories: each value is labelled below.
            mesh.disable_x_mesh().x_labels(0);
        }
        mesh.draw()?;
        if categorical {
            let n = self.x_values.len().max(1);
            // About 7 px per character at 13 px: shorten labels to their slot.
            let slot_chars = (chart.plotting_area().dim_in_pixel().0 as usize / n / 7).max(4);
            let style =
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            for (i, label) in self.x_values.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(i as f64, y0));
                let text = shorten(label, slot_chars);
                root.draw(&Text::new(text, (px, py + 8), style.clone()))?;
                root.draw(&PathElement::new(
                    vec![(px, py), (px, py + 5)],
                    BLACK.stroke_width(1),
                ))?;
            }
        }

        let cap = (x1 - x0) * 0.006;
        for (k, s) in self.series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, &Spread)> = s.points.iter().map(|p| (self.x_pos(p.x), p)).collect();
            if pts.len() >= 2 {
                let band: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|(x, p)| (*x, p.max))
                    .chain(pts.iter().rev().map(|(x, p)| (*x, p.min)))
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))?;
            }
            let whisker = color.mix(0.8).stroke_width(1);
            chart.draw_series(pts.iter().flat_map(|(x, p)| {
                [
                    PathElement::new(vec![(*x, p.min), (*x, p.max)], whisker),
                    PathElement::new(vec![(*x - cap, p.min), (*x + cap, p.min)], whisker),
                    PathElement::new(vec![(*x - cap, p.max), (*x + cap, p.max)], whisker),
                ]
            }))?;
            let label = if self.x_label == "seed" {
                "one run per seed".to_string()
            } else if s.label.is_empty() {
                "median over seeds (band: min–max)".to_string()
            } else {
                s.label.clone()
            };
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(x, p)| (*x, p.median)),
                    color.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
            chart.draw_series(
                pts.iter()
                    .map(|(x, p)| Circle::new((*x, p.median), 4, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xbb, 0xbb, 0xbb))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    }
}

/// `label` cut to `max` characters, with "…" when cut.
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let mut out: String = label.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The picture's title: what is plotted, over how many seeds.
fn title(metric: &str, f: &Figure, runs: &[RunResult]) -> String {
    let mut seeds: Vec<u64> = runs.iter().map(|r| r.point.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    match f.x_label.as_str() {
        "seed" => format!("{metric} per seed"),
        x => format!(
            "{metric} vs {x} ({} seed{} per point)",
            seeds.len(),
            if seeds.len() == 1 { "" } else { "s" }
        ),
    }
}

/// Writes DIR/sweep.svg and DIR/sweep.png.
pub fn write(
    dir: &Path,
    metric: &str,
    params: &[Param],
    runs: &[RunResult],
) -> Result<Vec<PathBuf>, String> {
    let f = figure(metric, params, runs);
    let title = title(metric, &f, runs);
    let chart = Titled { figure: &f, title };
    let files = crate::plot::render(dir, "sweep", &chart).map_err(|e| e.to_string())?;
    Ok(files.to_vec())
}

/// The figure with its title, as the plot module draws charts.
struct Titled<'a> {
    figure: &'a Figure,
    title: String,
}

impl crate::plot::Chart for Titled<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> crate::plot::DrawResult<DB> {
        self.figure.draw(root, &self.title)
    }
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
                percentiles: "",
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
                ended_early: None,
            },
            expectations: None,
            failed_expectations: Vec::new(),
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
                    n: 2,
                    mean: 2.0,
                    ci95: Some((2.0 - 12.706, 2.0 + 12.706)),
                },
                Spread {
                    x: 1,
                    min: 2.0,
                    median: 4.0,
                    max: 9.0,
                    n: 3,
                    mean: 5.0,
                    ci95: Some((
                        5.0 - 4.303 * (13.0f64 / 3.0).sqrt(),
                        5.0 + 4.303 * (13.0f64 / 3.0).sqrt()
                    )),
                },
            ]
        );
        assert!(f.series[1].points.is_empty());
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(300.0), "300");
    }
}
