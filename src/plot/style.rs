//! What every chart shares: font sizes, colours, the legend band, number formatting.

use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const FONT: &str = "sans-serif";
// Sizes in plotters' units (an SVG font-size of size / 1.24 px).
pub const TITLE_SIZE: u32 = 26;
pub const CAPTION_SIZE: u32 = 18;
pub const AXIS_SIZE: u32 = 16;
pub const TICK_SIZE: u32 = 14;
pub const LEGEND_SIZE: u32 = 15;
pub const NOTE_SIZE: u32 = 15;

pub const WIDTH: u32 = 1200;

pub const SUBMITTED: RGBColor = RGBColor(0x42, 0x42, 0x42);
pub const SUCCEEDED: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
pub const FAILED: RGBColor = RGBColor(0xc6, 0x28, 0x28);
pub const REJECTED: RGBColor = RGBColor(0xef, 0x6c, 0x00);
pub const INSTANCES: RGBColor = RGBColor(0x64, 0xb5, 0xf6);
pub const MIGRATIONS: RGBColor = RGBColor(0xe6, 0x51, 0x00);
pub const CAPACITY: RGBColor = RGBColor(0x21, 0x21, 0x21);
// Translucent, so grid lines drawn over filled areas read as grid, not as gaps.
pub const GRID: RGBAColor = RGBAColor(0, 0, 0, 0.12);
pub const MARKER: RGBColor = RGBColor(0x21, 0x21, 0x21);

pub fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().into()
}

/// Colour of an action, by its place in the simulator's order (the same in every chart).
pub fn action_color(name: &str) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x94, 0x67, 0xbd),
        RGBColor(0x8c, 0x56, 0x4b),
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0xe3, 0x77, 0xc2),
        RGBColor(0x17, 0xbe, 0xcf),
        RGBColor(0xbc, 0xbd, 0x22),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    PALETTE[super::data::action_rank(name).min(PALETTE.len() - 1)]
}

/// Colour of a server status: green when settled, blue/purple while moving, amber while
/// waiting for a confirm, red for ERROR (the same in the status and timeline charts).
pub fn status_color(status: &str) -> RGBColor {
    match status {
        "ACTIVE" => RGBColor(0x66, 0xbb, 0x6a),
        "BUILD" => RGBColor(0x90, 0xca, 0xf9),
        "DELETED" => RGBColor(0x9e, 0x9e, 0x9e),
        "ERROR" => RGBColor(0xd3, 0x2f, 0x2f),
        "MIGRATING" => RGBColor(0x7b, 0x1f, 0xa2),
        "PAUSED" => RGBColor(0xbd, 0xbd, 0xbd),
        "RESIZE" => RGBColor(0x19, 0x76, 0xd2),
        "REVERT_RESIZE" => RGBColor(0xff, 0x98, 0x00),
        "SHELVED" => RGBColor(0x79, 0x55, 0x48),
        "SHELVED_OFFLOADED" => RGBColor(0xa1, 0x88, 0x7f),
        "SHUTOFF" => RGBColor(0x61, 0x61, 0x61),
        "SOFT_DELETED" => RGBColor(0xcf, 0xd8, 0xdc),
        "SUSPENDED" => RGBColor(0xb0, 0xbe, 0xc5),
        "RESCUE" => RGBColor(0xf0, 0x62, 0x92),
        "VERIFY_RESIZE" => RGBColor(0xfb, 0xc0, 0x2d),
        "UNKNOWN" => RGBColor(0x00, 0x00, 0x00),
        _ => RGBColor(0x60, 0x7d, 0x8b),
    }
}

/// A number for a tick or a label: at most 3 decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
pub enum Swatch {
    Box(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Marker(RGBColor),
    /// A cross (✕), e.g. a failed migration on the timeline.
    Cross(RGBColor),
}

pub struct Legend {
    pub entries: Vec<(String, Swatch)>,
}

const ENTRY_H: i32 = 24;
const SWATCH_W: i32 = 24;
const GAP: i32 = 28;
const PAD: i32 = 10;

impl Legend {
    pub fn new(entries: Vec<(String, Swatch)>) -> Legend {
        Legend { entries }
    }

    fn text_width(label: &str) -> i32 {
        // The embedded font measures the text; the fallback only matters if it cannot.
        font(LEGEND_SIZE)
            .font
            .box_size(label)
            .map_or(label.chars().count() as i32 * 8, |(w, _)| w as i32)
    }

    /// Entries laid out left to right, wrapping at `width`: top-left corner of each.
    fn layout(&self, width: u32) -> Vec<(i32, i32)> {
        let (mut x, mut y) = (PAD, 4);
        let mut out = Vec::with_capacity(self.entries.len());
        for (label, _) in &self.entries {
            let w = SWATCH_W + 6 + Self::text_width(label);
            if x > PAD && x + w > width as i32 - PAD {
                x = PAD;
                y += ENTRY_H;
            }
            out.push((x, y));
            x += w + GAP;
        }
        out
    }

    /// Height of the band the legend needs at `width` pixels.
    pub fn height(&self, width: u32) -> u32 {
        if self.entries.is_empty() {
            return 0;
        }
        let last = self.layout(width).last().map_or(0, |p| p.1);
        (last + ENTRY_H + 6) as u32
    }

    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let text = font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
        for ((label, swatch), (x, y)) in self.entries.iter().zip(self.layout(w)) {
            let mid = y + ENTRY_H / 2;
            match *swatch {
                Swatch::Box(c) => area.draw(&Rectangle::new(
                    [(x, mid - 7), (x + SWATCH_W, mid + 7)],
                    c.filled(),
                ))?,
                Swatch::Line(c) => area.draw(&PathElement::new(
                    vec![(x, mid), (x + SWATCH_W, mid)],
                    c.stroke_width(3),
                ))?,
                Swatch::Dashed(c) => {
                    for dx in [0, 10, 20] {
                        area.draw(&PathElement::new(
                            vec![(x + dx, mid), (x + dx + 5, mid)],
                            c.stroke_width(2),
                        ))?;
                    }
                }
                Swatch::Marker(c) => area.draw(&Polygon::new(
                    vec![(x + 6, mid - 6), (x + 18, mid - 6), (x + 12, mid + 6)],
                    c.filled(),
                ))?,
                Swatch::Cross(c) => {
                    for (dy0, dy1) in [(-6, 6), (6, -6)] {
                        area.draw(&PathElement::new(
                            vec![(x + 6, mid + dy0), (x + 18, mid + dy1)],
                            c.stroke_width(3),
                        ))?;
                    }
                }
            }
            area.draw(&Text::new(
                label.clone(),
                (x + SWATCH_W + 6, mid),
                text.clone(),
            ))?;
        }
        Ok(())
    }
}

/// Splits `root` into a title, a legend band and the rest (returned) for the chart itself.
pub fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &Legend,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let body = root.titled(title, font(TITLE_SIZE))?;
    let (w, _) = body.dim_in_pixel();
    let lh = legend.height(w);
    let (band, rest) = body.split_vertically(lh);
    legend.draw(&band)?;
    Ok(rest)
}

/// Height of the title band `frame` takes (plotters' `titled`: text height plus margins).
pub fn title_height() -> u32 {
    TITLE_SIZE * 2
}

/// A line of grey text, e.g. "no successful request".
pub fn note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
) -> DrawResult<DB> {
    area.draw(&Text::new(
        text.to_string(),
        pos,
        font(NOTE_SIZE).color(&RGBColor(0x55, 0x55, 0x55)),
    ))
}

/// The "nice" width (1, 2, 2.5 or 5 × 10^k) nearest to `raw` (in ratio).
pub fn nice_step_near(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let mut best = mag;
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if ((m * mag) / raw).ln().abs() < (best / raw).ln().abs() {
            best = m * mag;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(61.25), "61.25");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(0.5), "0.5");
    }

    #[test]
    fn steps_are_nice() {
        assert_eq!(nice_step_near(10_200.0), 10_000.0);
        assert_eq!(nice_step_near(2_300.0), 2_500.0);
        assert_eq!(nice_step_near(0.0), 1.0);
    }
}
