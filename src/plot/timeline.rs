//! timeline.svg: one row per server (labelled with its first host), a bar per status span, and
//! a marker with the new host's name wherever `host` changed, and a red cross where one of the
//! server's migrations failed.

use super::data::{secs, status_rank, Timeline, Track};
use super::style::{self, Legend, Swatch};
use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of the row-label column ("server (host)").
const LABEL_W: u32 = 190;

pub struct Chart<'a> {
    tl: &'a Timeline,
    legend: Legend,
    row_h: u32,
}

impl<'a> Chart<'a> {
    pub fn new(tl: &'a Timeline) -> Chart<'a> {
        let mut present: Vec<&str> = tl
            .tracks
            .iter()
            .flat_map(|t| t.spans.iter().map(|s| s.2.as_str()))
            .filter(|s| *s != "DELETED")
            .collect();
        present.sort_by_key(|s| (status_rank(s), *s));
        present.dedup();
        let mut entries: Vec<(String, Swatch)> = present
            .iter()
            .map(|s| (s.to_string(), Swatch::Box(style::status_color(s))))
            .collect();
        entries.push((
            "host changed (→ new host)".into(),
            Swatch::Marker(style::MARKER),
        ));
        if tl.tracks.iter().any(|t| !t.failed_migrations.is_empty()) {
            entries.push((
                "migration failed (migration status error/failed)".into(),
                Swatch::Cross(style::FAILED),
            ));
        }
        let n = tl.tracks.len();
        // Rows as tall as the count allows while the chart stays a readable page.
        let row_h = match n {
            0..=30 => 26,
            31..=80 => 18,
            81..=150 => 14,
            _ => 11,
        };
        Chart {
            tl,
            legend: Legend::new(entries),
            row_h,
        }
    }
}

impl super::Chart for Chart<'_> {
    fn size(&self) -> (u32, u32) {
        let rows = self.tl.tracks.len().max(1) as u32 * self.row_h;
        let top_axis = if self.tl.tracks.len() > 30 { 52 } else { 0 };
        let h = style::title_height() + self.legend.height(style::WIDTH) + rows + top_axis + 70;
        (style::WIDTH, h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::frame(root, "Server timeline: status and host", &self.legend)?;
        let tracks = &self.tl.tracks;
        if tracks.is_empty() {
            return style::note(&body, "No server in this run.", (100, 40));
        }
        let n = tracks.len();
        let end = secs(self.tl.end_ms).max(1.0);
        let label_size = (self.row_h - 2).min(style::TICK_SIZE);
        // Row i is the band [n-1-i, n-i): the first server on top. The row labels are drawn
        // by hand at band centres (plotters' tick labels cannot be placed per row).
        let area = body.margin(0, 10, 0, 40);
        // A second time axis on top once the rows outgrow a screen.
        let top_axis = if n > 30 { 52 } else { 0 };
        let mut chart = ChartBuilder::on(&area)
            .set_label_area_size(LabelAreaPosition::Top, top_axis)
            .x_label_area_size(48)
            .y_label_area_size(LABEL_W)
            .build_cartesian_2d(0f64..end, 0f64..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(style::GRID.mix(0.0))
            .bold_line_style(style::GRID)
            .x_desc("simulated time (s)")
            .axis_desc_style(style::font(style::AXIS_SIZE))
            .x_label_style(style::font(style::TICK_SIZE))
            .x_label_formatter(&|v| style::num(*v))
            .draw()?;
        let (bx, by) = area.get_base_pixel();
        let row_text = style::font(label_size).pos(Pos::new(HPos::Right, VPos::Center));
        for (i, t) in tracks.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, (n - 1 - i) as f64 + 0.5));
            let label = match t.first_host.as_str() {
                "" => t.server.clone(),
                h => format!("{} ({h})", t.server),
            };
            area.draw(&Text::new(label, (px - bx - 6, py - by), row_text.clone()))?;
        }
        for (i, t) in tracks.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart.draw_series(bars(t, y))?;
        }
        let half = (self.row_h as i32 / 2 - 2).clamp(3, 6);
        let label_font = style::font(label_size);
        let right_edge = chart.plotting_area().get_pixel_range().0.end;
        for (i, t) in tracks.iter().enumerate() {
            let y = (n - 1 - i) as f64 + 0.5;
            let markers: Vec<_> = t
                .moves
                .iter()
                .map(|(at, host)| {
                    let label = format!("→{host}");
                    let (w, h) = label_font.font.box_size(&label).unwrap_or((0, 0));
                    let (w, h) = (w as i32, h as i32);
                    // Right of the marker, or left of it where it would run off the chart.
                    let x = chart.backend_coord(&(secs(*at), y)).0;
                    let (x0, x1, text_x, anchor) = if x + half + 6 + w < right_edge {
                        (half + 1, half + 4 + w, half + 3, HPos::Left)
                    } else {
                        (-half - 4 - w, -half - 1, -half - 3, HPos::Right)
                    };
                    let text = label_font
                        .color(&style::MARKER)
                        .pos(Pos::new(anchor, VPos::Center));
                    // A light box under the label keeps it readable over any status colour.
                    EmptyElement::at((secs(*at), y))
                        + Rectangle::new(
                            [(x0, -h / 2 - 1), (x1, h / 2 + 1)],
                            WHITE.mix(0.75).filled(),
                        )
                        + Polygon::new(
                            vec![(-half, -half), (half, -half), (0, half)],
                            style::MARKER.filled(),
                        )
                        + Text::new(label, (text_x, 0), text)
                })
                .collect();
            chart.draw_series(markers)?;
        }
        // Failed migrations last, over bars and host markers: a red cross at the instant the
        // migration became error/failed (the status bars alone do not show it: a failed cold
        // migration often leaves the server ACTIVE where it was).
        // A white halo under the red, so the cross reads over an ERROR bar too.
        let (halo, cross) = (WHITE.stroke_width(6), style::FAILED.stroke_width(3));
        chart.draw_series(failure_marks(tracks).into_iter().map(|(t, y)| {
            EmptyElement::at((t, y))
                + PathElement::new(vec![(-half, -half), (half, half)], halo)
                + PathElement::new(vec![(-half, half), (half, -half)], halo)
                + PathElement::new(vec![(-half, -half), (half, half)], cross)
                + PathElement::new(vec![(-half, half), (half, -half)], cross)
        }))?;
        Ok(())
    }
}

/// Where each failed migration is marked: (time s, centre of its server's row band).
fn failure_marks(tracks: &[Track]) -> Vec<(f64, f64)> {
    let n = tracks.len();
    tracks
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let y = (n - 1 - i) as f64 + 0.5;
            t.failed_migrations
                .iter()
                .map(move |(at, _)| (secs(*at), y))
        })
        .collect()
}

/// The status bars of one track at band `y` (a deleted server's row ends at its deletion).
fn bars(t: &Track, y: f64) -> impl Iterator<Item = Rectangle<(f64, f64)>> + '_ {
    t.spans
        .iter()
        .filter(|s| s.2 != "DELETED")
        .map(move |(s, e, status)| {
            Rectangle::new(
                [(secs(*s), y + 0.12), (secs(*e), y + 0.88)],
                style::status_color(status).filled(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// capacity-drain: a cross per failed migration, on its server's row at its instant, and
    /// the legend says what a cross means; teaching (no failure) has neither.
    #[test]
    fn failed_migrations_are_crossed_on_their_row() {
        let tl = Timeline::load(
            &crate::results::ResultsFolder::open(Path::new("tests/golden/capacity-drain"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let marks = failure_marks(&tl.tracks);
        assert_eq!(marks.len(), 4);
        let n = tl.tracks.len();
        let row = tl.tracks.iter().position(|t| t.server == "drain-d4");
        let row = row.unwrap_or_else(|| panic!("no drain-d4"));
        assert!(
            marks.contains(&(391.114, (n - 1 - row) as f64 + 0.5)),
            "{marks:?}"
        );
        let has_entry = |c: &Chart| {
            c.legend
                .entries
                .iter()
                .any(|e| e.0.starts_with("migration failed"))
        };
        assert!(has_entry(&Chart::new(&tl)));
        let teaching = Timeline::load(
            &crate::results::ResultsFolder::open(Path::new("tests/golden/teaching"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(failure_marks(&teaching.tracks).is_empty());
        assert!(!has_entry(&Chart::new(&teaching)));
    }
}
