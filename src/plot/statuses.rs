//! statuses.svg: servers per status over time as stacked areas, sampled at t = 0 (after
//! initial placement) and at each throughput window's end; only statuses that occur.

use super::data::{secs, Throughput};
use super::style::{self, Legend, Swatch};
use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;

const PLOT_H: u32 = 560;

pub struct Chart {
    times: Vec<f64>,
    /// (status, servers at each time), bottom layer first.
    layers: Vec<(String, Vec<u64>)>,
    legend: Legend,
}

impl Chart {
    pub fn new(tp: &Throughput) -> Chart {
        let mut times = vec![0.0];
        times.extend(tp.windows.iter().map(|w| secs(w.1)));
        // A run that ends at t = 0 still gets a visible (1 s wide) chart: hold the last counts.
        let pad = times.last().is_some_and(|&t| t < 1.0);
        if pad {
            times.push(1.0);
        }
        let layers: Vec<(String, Vec<u64>)> = tp
            .statuses
            .iter()
            .map(|(name, counts)| {
                let mut v = vec![tp.initial.get(name).copied().unwrap_or(0)];
                v.extend(counts);
                if pad {
                    v.push(v.last().copied().unwrap_or(0));
                }
                (name.clone(), v)
            })
            .filter(|(_, v)| v.iter().any(|&n| n > 0))
            .collect();
        let legend = Legend::new(
            layers
                .iter()
                .map(|(name, v)| {
                    let peak = v.iter().copied().max().unwrap_or(0);
                    (
                        format!("{name} (peak {peak})"),
                        Swatch::Box(style::status_color(name)),
                    )
                })
                .collect(),
        );
        Chart {
            times,
            layers,
            legend,
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
        // Cumulative sums, so layer j is drawn from 0 up to the total of layers 0..=j.
        let mut cum: Vec<Vec<u64>> = Vec::with_capacity(self.layers.len());
        for (_, v) in &self.layers {
            let below = cum.last().cloned().unwrap_or_else(|| vec![0; v.len()]);
            cum.push(below.iter().zip(v).map(|(a, b)| a + b).collect());
        }
        let top = cum
            .last()
            .and_then(|v| v.iter().copied().max())
            .unwrap_or(0)
            .max(1);
        let end = self.times.last().copied().unwrap_or(0.0).max(1.0);
        let mut chart = ChartBuilder::on(&body.margin(0, 10, 10, 30))
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..end, 0u64..top + top.div_ceil(12))?;
        // Top layer first: each lower layer paints over the part of the one above it.
        for ((name, _), totals) in self.layers.iter().zip(&cum).rev() {
            let color = style::status_color(name);
            chart.draw_series(
                AreaSeries::new(
                    self.times.iter().copied().zip(totals.iter().copied()),
                    0,
                    color.filled(),
                )
                .border_style(WHITE.stroke_width(1)),
            )?;
        }
        // Grid and axes last, so the grid shows over the areas.
        chart
            .configure_mesh()
            .light_line_style(style::GRID.mix(0.0))
            .bold_line_style(style::GRID)
            .x_desc("simulated time (s)")
            .y_desc("servers (at the window's end)")
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
