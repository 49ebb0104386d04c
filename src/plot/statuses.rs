//! statuses.svg: servers per status over time as stacked areas, an exact step function of
//! transitions.csv: every change drawn at its instant, a state lasting 1 ms a 1 ms step (thin
//! but there, and exact in the SVG's coordinates). Only statuses that occur.

use super::data::{secs, StatusSteps};
use super::style::{self, Legend, Swatch};
use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;

const PLOT_H: u32 = 560;

/// Steps drawn at most, about two per pixel of the plot's width: beyond, a run's steps are
/// reduced to the counts at the end of each of `MAX_STEPS` equal slices of the time axis
/// (a change shorter than a slice is below a pixel wide anyway).
const MAX_STEPS: usize = 2400;

pub struct Chart {
    /// The step function's vertices per layer: (time s, top of the layer) with a vertical
    /// edge at each change; bottom layer first, the stack's cumulative tops.
    layers: Vec<(String, Vec<(f64, u64)>)>,
    end: f64,
    top: u64,
    legend: Legend,
}

/// (start ms, counts) steps, at most [`MAX_STEPS`] of them (see there).
fn reduce(steps: &[(u64, Vec<u64>)], end_ms: u64) -> Vec<(u64, Vec<u64>)> {
    if steps.len() <= MAX_STEPS {
        return steps.to_vec();
    }
    let mut out: Vec<(u64, Vec<u64>)> = Vec::with_capacity(MAX_STEPS + 1);
    let mut i = 0;
    for b in 0..MAX_STEPS as u64 {
        let (t0, t1) = (
            end_ms * b / MAX_STEPS as u64,
            end_ms * (b + 1) / MAX_STEPS as u64,
        );
        while i + 1 < steps.len() && steps[i + 1].0 <= t1 {
            i += 1;
        }
        out.push((t0.max(steps[0].0), steps[i].1.clone()));
    }
    out.dedup_by(|b, a| a.1 == b.1);
    out
}

impl Chart {
    pub fn new(s: &StatusSteps) -> Chart {
        // A run that ends at t = 0 still gets a visible (1 s wide) chart: hold the last counts.
        let end_ms = s.end_ms.max(1000);
        let steps = reduce(&s.steps, end_ms);
        let mut below: Vec<u64> = vec![0; steps.len()];
        let mut layers = Vec::new();
        let mut legend = Vec::new();
        for (k, name) in s.statuses.iter().enumerate() {
            let own: Vec<u64> = steps.iter().map(|(_, c)| c[k]).collect();
            let peak = s.steps.iter().map(|(_, c)| c[k]).max().unwrap_or(0);
            if peak == 0 {
                continue;
            }
            let tops: Vec<u64> = below.iter().zip(&own).map(|(a, b)| a + b).collect();
            let mut pts = Vec::with_capacity(2 * steps.len());
            for (i, (t, _)) in steps.iter().enumerate() {
                let next = steps.get(i + 1).map_or(end_ms, |n| n.0);
                pts.extend([(secs(*t), tops[i]), (secs(next), tops[i])]);
            }
            layers.push((name.clone(), pts));
            legend.push((
                format!("{name} (peak {peak})"),
                Swatch::Box(style::status_color(name)),
            ));
            below = tops;
        }
        Chart {
            top: below.iter().copied().max().unwrap_or(0).max(1),
            layers,
            end: secs(end_ms),
            legend: Legend::new(legend),
        }
    }
}

impl super::Chart for Chart {
    fn size(&self) -> (u32, u32) {
        let h = style::title_height() + self.legend.height(style::WIDTH) + PLOT_H;
        (style::WIDTH, h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::frame(root, "Servers per status over time", &self.legend)?;
        let top = self.top;
        let mut chart = ChartBuilder::on(&body.margin(0, 10, 10, 30))
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..self.end, 0u64..top + top.div_ceil(12))?;
        // Top layer first: each lower layer paints over the part of the one above it.
        for (name, pts) in self.layers.iter().rev() {
            let color = style::status_color(name);
            chart.draw_series(AreaSeries::new(pts.iter().copied(), 0, color.filled()))?;
        }
        // Grid and axes last, so the grid shows over the areas.
        chart
            .configure_mesh()
            .light_line_style(style::GRID.mix(0.0))
            .bold_line_style(style::GRID)
            .x_desc("simulated time (s)")
            .y_desc("servers (every change at its instant)")
            .axis_desc_style(style::font(style::AXIS_SIZE))
            .label_style(style::font(style::TICK_SIZE))
            .x_label_formatter(&|v| style::num(*v))
            .y_labels(8)
            .draw()?;
        if self.layers.is_empty() {
            style::note(&body, "No server in this run.", (100, 40))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The layer geometry of the teaching run: REVERT_RESIZE's band is 1 server thick from
    /// 70.05 s to 75.14 s and nowhere else, with vertical edges at those instants.
    #[test]
    fn revert_resize_is_drawn_over_its_exact_span() {
        let s = StatusSteps::load(
            &crate::results::ResultsFolder::open(Path::new("tests/golden/teaching"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = Chart::new(&s);
        let layer = |name: &str| {
            let i = c.layers.iter().position(|l| l.0 == name);
            &c.layers[i.unwrap_or_else(|| panic!("no layer {name}"))].1
        };
        let (below, own) = (layer("RESIZE"), layer("REVERT_RESIZE"));
        assert_eq!(below.len(), own.len());
        let thick: Vec<(f64, f64)> = below
            .chunks(2)
            .zip(own.chunks(2))
            .filter(|(b, o)| o[0].1 > b[0].1)
            .map(|(_, o)| (o[0].0, o[1].0))
            .collect();
        assert_eq!(thick, vec![(70.05, 75.14)]);
        assert_eq!(c.top, 5);
        assert_eq!(c.end, 202.02);
    }

    #[test]
    fn long_runs_are_reduced_to_slices() {
        let steps: Vec<(u64, Vec<u64>)> = (0..10_000).map(|i| (i * 10, vec![i % 3])).collect();
        let r = reduce(&steps, 100_000);
        assert!(r.len() <= MAX_STEPS);
        assert_eq!(r[0].0, 0);
        assert!(r.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
