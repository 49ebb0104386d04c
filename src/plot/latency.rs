//! latency.svg: per action, a histogram of the completion latency (submitted → completed) of
//! its successful requests, with the p50 and p95 marked (nearest rank, as in summary.json).

use super::data::Latencies;
use super::style::{self, Legend, Swatch};
use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const PANEL_H: u32 = 250;

/// Nearest-rank percentile of sorted `xs` (the summary's definition).
pub fn percentile(xs: &[u64], q: u64) -> u64 {
    if xs.is_empty() {
        return 0;
    }
    let rank = (q * xs.len() as u64).div_ceil(100).max(1) as usize;
    xs[rank.min(xs.len()) - 1]
}

/// Histogram bins of sorted `xs` (ms): (first edge, bin width, counts).
fn bins(xs: &[u64]) -> (u64, u64, Vec<u64>) {
    let (lo, hi) = (xs[0], xs[xs.len() - 1]);
    // Equal values still get a readable bin around them.
    let span = (hi - lo).max(lo / 10).max(10);
    let target = (2.0 * (xs.len() as f64).sqrt()).clamp(8.0, 40.0);
    let width = (style::nice_step_near(span as f64 / target) as u64).max(1);
    let start = lo / width * width;
    let n = ((hi - start) / width + 1) as usize;
    let mut counts = vec![0u64; n];
    for &x in xs {
        counts[((x - start) / width) as usize] += 1;
    }
    (start, width, counts)
}

pub struct Chart<'a> {
    lat: &'a Latencies,
    legend: Legend,
}

impl<'a> Chart<'a> {
    pub fn new(lat: &'a Latencies) -> Chart<'a> {
        let mut entries: Vec<(String, Swatch)> = lat
            .actions
            .iter()
            .map(|(a, xs)| {
                (
                    format!("{a} ({} successful)", xs.len()),
                    Swatch::Box(style::action_color(a)),
                )
            })
            .collect();
        entries.push((
            "p50 and p95 (nearest rank)".into(),
            Swatch::Dashed(style::CAPACITY),
        ));
        Chart {
            lat,
            legend: Legend::new(entries),
        }
    }
}

impl super::Chart for Chart<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = self.lat.actions.len().max(1) as u32;
        let h = style::title_height() + self.legend.height(style::WIDTH) + panels * PANEL_H;
        (style::WIDTH, h + 10)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::frame(
            root,
            "Completion latency of successful requests, per action",
            &self.legend,
        )?;
        if self.lat.actions.is_empty() {
            return style::note(&body, "No request completed successfully.", (60, 40));
        }
        let panels = body
            .margin(0, 10, 0, 30)
            .split_evenly((self.lat.actions.len(), 1));
        for (area, (action, xs)) in panels.iter().zip(&self.lat.actions) {
            draw_panel(area, action, xs)?;
        }
        Ok(())
    }
}

fn s(ms: u64) -> String {
    format!("{} s", style::num(ms as f64 / 1000.0))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    action: &str,
    xs: &[u64],
) -> DrawResult<DB> {
    let (p50, p95) = (percentile(xs, 50), percentile(xs, 95));
    let caption = format!(
        "{action}: {} successful — min {}, p50 {}, p95 {}, max {}",
        xs.len(),
        s(xs[0]),
        s(p50),
        s(p95),
        s(xs[xs.len() - 1])
    );
    let (start, width, counts) = bins(xs);
    let sec = |ms: u64| ms as f64 / 1000.0;
    let x0 = sec(start.saturating_sub(width));
    let x1 = sec(start + width * (counts.len() as u64 + 1));
    let ymax = counts.iter().copied().max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, style::font(style::CAPTION_SIZE))
        .margin(6)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0u64..ymax + ymax.div_ceil(4))?;
    chart
        .configure_mesh()
        .light_line_style(style::GRID.mix(0.0))
        .bold_line_style(style::GRID)
        .x_desc("completion latency, submitted → completed (s)")
        .y_desc("requests")
        .axis_desc_style(style::font(style::AXIS_SIZE))
        .label_style(style::font(style::TICK_SIZE))
        .x_label_formatter(&|v| style::num(*v))
        .y_labels(6)
        .draw()?;
    let color = style::action_color(action);
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let b = start + width * i as u64;
                Rectangle::new([(sec(b), 0), (sec(b + width), c)], color.filled())
            }),
    )?;
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let b = start + width * i as u64;
                Rectangle::new([(sec(b), 0), (sec(b + width), c)], WHITE.stroke_width(1))
            }),
    )?;
    let top = ymax + ymax.div_ceil(4);
    let label = style::font(style::TICK_SIZE).pos(Pos::new(HPos::Left, VPos::Top));
    for (name, v) in [("p50", p50), ("p95", p95)] {
        let x = sec(v);
        chart.draw_series(DashedLineSeries::new(
            [(x, 0), (x, top)],
            5,
            4,
            style::CAPACITY.stroke_width(2),
        ))?;
        // p95 label one line lower, so equal percentiles do not overprint.
        let dy = if name == "p50" { 2 } else { 18 };
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, top)) + Text::new(name.to_string(), (4, dy), label.clone()),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&xs, 50), 5);
        assert_eq!(percentile(&xs, 95), 10);
        assert_eq!(percentile(&[7], 99), 7);
    }

    #[test]
    fn bins_hold_every_value() {
        for xs in [vec![28_210, 28_210, 28_210], vec![1, 2, 3, 1000, 5000]] {
            let (start, width, counts) = bins(&xs);
            assert_eq!(counts.iter().sum::<u64>(), xs.len() as u64);
            assert!(start <= xs[0] && width > 0);
        }
    }
}
