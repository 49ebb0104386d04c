//! throughput.svg: one panel per action that occurs in the run; per window, bars of requests
//! that succeeded, failed after being accepted, or were rejected with a 4xx, and a line of the
//! requests submitted.

use super::data::{secs, ActionCounts, Throughput};
use super::style::{self, Legend, Swatch};
use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;

const PANEL_H: u32 = 230;

pub struct Chart<'a> {
    tp: &'a Throughput,
    actions: Vec<&'a ActionCounts>,
    legend: Legend,
}

impl<'a> Chart<'a> {
    pub fn new(tp: &'a Throughput) -> Chart<'a> {
        let legend = Legend::new(vec![
            ("succeeded".into(), Swatch::Box(style::SUCCEEDED)),
            (
                "failed (after a 2xx answer)".into(),
                Swatch::Box(style::FAILED),
            ),
            ("rejected (4xx)".into(), Swatch::Box(style::REJECTED)),
            ("submitted".into(), Swatch::Line(style::SUBMITTED)),
        ]);
        Chart {
            tp,
            actions: tp.actions.iter().filter(|a| a.present()).collect(),
            legend,
        }
    }

    fn window_s(&self) -> f64 {
        self.tp
            .windows
            .first()
            .map_or(0.0, |&(s, e)| secs(e.saturating_sub(s)))
    }
}

impl super::Chart for Chart<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = self.actions.len().max(1) as u32;
        let h = style::title_height() + self.legend.height(style::WIDTH) + panels * PANEL_H;
        (style::WIDTH, h + 10)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::frame(root, "Throughput by action and outcome", &self.legend)?;
        if self.actions.is_empty() {
            return style::note(&body, "No API request in this run.", (60, 40));
        }
        let end = self.tp.windows.last().map_or(1.0, |w| secs(w.1).max(1.0));
        let unit = format!("requests per {} s window", style::num(self.window_s()));
        let panels = body
            .margin(0, 10, 0, 30)
            .split_evenly((self.actions.len(), 1));
        for (area, a) in panels.iter().zip(&self.actions) {
            draw_panel(area, a, &self.tp.windows, end, &unit)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: &ActionCounts,
    windows: &[(u64, u64)],
    end: f64,
    unit: &str,
) -> DrawResult<DB> {
    let total = |v: &[u64]| v.iter().sum::<u64>();
    let caption = format!(
        "{}: {} submitted, {} succeeded, {} failed, {} rejected",
        a.name,
        total(&a.submitted),
        total(&a.succeeded),
        total(&a.failed),
        total(&a.rejected)
    );
    let ymax = [&a.submitted, &a.succeeded, &a.failed, &a.rejected]
        .iter()
        .flat_map(|v| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, style::font(style::CAPTION_SIZE))
        .margin(6)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..end, 0u64..ymax + ymax.div_ceil(10))?;
    chart
        .configure_mesh()
        .light_line_style(style::GRID.mix(0.0))
        .bold_line_style(style::GRID)
        .x_desc("simulated time (s)")
        .y_desc(unit)
        .axis_desc_style(style::font(style::AXIS_SIZE))
        .label_style(style::font(style::TICK_SIZE))
        .x_label_formatter(&|v| style::num(*v))
        .y_labels(6)
        .draw()?;
    // The submitted line first: the bars stay visible where they meet it.
    let steps = windows
        .iter()
        .zip(&a.submitted)
        .flat_map(|(&(s, e), &n)| [(secs(s), n), (secs(e), n)]);
    chart.draw_series(LineSeries::new(steps, style::SUBMITTED.stroke_width(2)))?;
    // Three bars side by side in each window, in legend order; at least 4 px wide, so a
    // short last window (the run ends inside it) still shows its bars.
    let px = chart.plotting_area().get_pixel_range().0;
    let min_w = 4.0 * end / f64::from((px.end - px.start).max(1));
    for (k, (counts, color)) in [
        (&a.succeeded, style::SUCCEEDED),
        (&a.failed, style::FAILED),
        (&a.rejected, style::REJECTED),
    ]
    .into_iter()
    .enumerate()
    {
        chart.draw_series(windows.iter().zip(counts).filter(|(_, &n)| n > 0).map(
            |(&(s, e), &n)| {
                let (s, e, w) = (secs(s), secs(e), secs(e.saturating_sub(s)));
                let (bar, gap) = ((w * 0.26).max(min_w), w * 0.02);
                // Bars that do not fit their window end at its end.
                let first = (s + w * 0.08).min(e - 3.0 * bar - 2.0 * gap);
                let x0 = first + (bar + gap) * k as f64;
                Rectangle::new([(x0, 0), (x0 + bar, n)], color.filled())
            },
        ))?;
    }
    Ok(())
}
