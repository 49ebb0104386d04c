//! throughput.svg: one panel per action that occurs in the run; per window, one stacked bar
//! spanning exactly the window's time (so a bar's x position is a time: the requests it counts
//! happened within its span) — requests that succeeded, then failed after being accepted, then
//! rejected with a 4xx — and a step line of the requests submitted.

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
        let body = style::frame(
            root,
            "Throughput by action and outcome (each bar spans its window)",
            &self.legend,
        )?;
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

/// One bar of a panel: `outcome` 0 succeeded, 1 failed, 2 rejected, stacked in that order
/// from `low` to `high` requests, over the window `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub start_ms: u64,
    pub end_ms: u64,
    pub low: u64,
    pub high: u64,
    pub outcome: usize,
}

/// The bars of one action, window by window; empty counts have no bar.
pub fn bars(a: &ActionCounts, windows: &[(u64, u64)]) -> Vec<Bar> {
    let mut out = Vec::new();
    for (w, &(start_ms, end_ms)) in windows.iter().enumerate() {
        let mut low = 0;
        for (outcome, counts) in [&a.succeeded, &a.failed, &a.rejected].iter().enumerate() {
            let n = counts.get(w).copied().unwrap_or(0);
            if n > 0 {
                out.push(Bar {
                    start_ms,
                    end_ms,
                    low,
                    high: low + n,
                    outcome,
                });
                low += n;
            }
        }
    }
    out
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
    let stacked = bars(a, windows).iter().map(|b| b.high).max().unwrap_or(0);
    let ymax = a
        .submitted
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(stacked)
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
    // Stacked bars, each exactly as wide as its window, so where a bar is says when; a white
    // outline separates neighbouring windows of one colour.
    for bar in bars(a, windows) {
        let color = [style::SUCCEEDED, style::FAILED, style::REJECTED][bar.outcome];
        let corners = [(secs(bar.start_ms), bar.low), (secs(bar.end_ms), bar.high)];
        chart.draw_series([
            Rectangle::new(corners, color.filled()),
            Rectangle::new(corners, WHITE.stroke_width(1)),
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A failure in the first 30 s window is drawn over [0 s, 30 s) — where it happened — not
    /// at a position inside the window that reads as another time.
    #[test]
    fn bars_span_exactly_their_window() {
        let windows = [(0, 30_000), (30_000, 60_000), (60_000, 75_500)];
        let a = ActionCounts {
            name: "migrate".into(),
            submitted: vec![3, 1, 0],
            rejected: vec![0, 1, 0],
            succeeded: vec![2, 0, 1],
            failed: vec![1, 0, 0],
        };
        let b = bars(&a, &windows);
        let bar = |start_ms, end_ms, low, high, outcome| Bar {
            start_ms,
            end_ms,
            low,
            high,
            outcome,
        };
        assert_eq!(
            b,
            vec![
                bar(0, 30_000, 0, 2, 0),
                bar(0, 30_000, 2, 3, 1),
                bar(30_000, 60_000, 0, 1, 2),
                bar(60_000, 75_500, 0, 1, 0),
            ]
        );
    }

    /// On the golden teaching throughput: every bar is one of the windows, and within a
    /// window the bars stack without gap or overlap up to the window's total.
    #[test]
    fn teaching_bars_are_windows_stacked() {
        let tp = Throughput::load(
            &crate::results::ResultsFolder::open(Path::new("tests/golden/teaching"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for a in &tp.actions {
            let b = bars(a, &tp.windows);
            for (w, &(s, e)) in tp.windows.iter().enumerate() {
                let mine: Vec<&Bar> = b.iter().filter(|x| x.start_ms == s).collect();
                assert!(mine.iter().all(|x| x.end_ms == e));
                assert!(mine.windows(2).all(|p| p[0].high == p[1].low));
                let total = a.succeeded[w] + a.failed[w] + a.rejected[w];
                assert_eq!(mine.last().map_or(0, |x| x.high), total);
            }
        }
        let migrate = &tp.actions[0];
        assert_eq!(migrate.name, "migrate");
        assert_eq!(
            bars(migrate, &tp.windows),
            vec![
                Bar {
                    start_ms: 30_000,
                    end_ms: 60_000,
                    low: 0,
                    high: 3,
                    outcome: 0
                },
                Bar {
                    start_ms: 30_000,
                    end_ms: 60_000,
                    low: 3,
                    high: 4,
                    outcome: 2
                },
            ]
        );
    }
}
