//! The PNG backend: an RGB pixel buffer implementing plotters' `DrawingBackend`.
//!
//! plotters' own bitmap backend fills shapes pixel by pixel and its `ab_glyph` text path
//! rasterizes every glyph outline again for every string and drops each glyph's left bearing
//! (so "cmp10" reads "cmp1 0"). Charts are mostly large flat areas and short labels, so here
//! spans are filled with memory copies, polygons with a scanline fill, and glyphs are placed at
//! their bearings and rasterized once per size. This keeps a chart to milliseconds even in
//! debug builds (the test suite draws the charts of every run it makes). Text metrics are
//! plotters' (pixel scale = the style's size, box height = size / 1.24), so its layout of
//! labels and anchors agrees with what is drawn.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    rasterizer, BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;

type DrawResult = Result<(), DrawingErrorKind<Infallible>>;

/// A rasterized glyph: coverage rows, placed relative to the pen position on the baseline.
struct Glyph {
    left: i32,
    top: i32,
    width: usize,
    coverage: Vec<f32>,
}

pub struct Canvas<'a> {
    width: u32,
    height: u32,
    /// RGB8, row by row, `width` × `height`.
    pixels: &'a mut [u8],
    font: FontRef<'static>,
    /// Keyed by (glyph, size in 1/64 px). These maps are only looked up, never iterated.
    glyphs: HashMap<(GlyphId, u32), Option<Glyph>>,
    /// Laid-out strings by (text, size in 1/64 px): plotters measures a label, then draws it.
    layouts: RefCell<HashMap<(String, u32), Layout>>,
}

/// Pen position of each glyph, and the advance width.
type Layout = (Vec<(GlyphId, i32)>, i32);

impl<'a> Canvas<'a> {
    /// Draws into `pixels`, which must hold `width` × `height` RGB8 pixels.
    pub fn new(pixels: &'a mut [u8], width: u32, height: u32, font: FontRef<'static>) -> Self {
        debug_assert_eq!(pixels.len(), width as usize * height as usize * 3);
        Canvas {
            width,
            height,
            pixels,
            font,
            glyphs: HashMap::new(),
            layouts: RefCell::new(HashMap::new()),
        }
    }

    /// Fills pixels `x0..=x1` of row `y` (clipped), blending when the colour is translucent.
    fn span(&mut self, y: i32, x0: i32, x1: i32, color: BackendColor) {
        if y < 0 || y >= self.height as i32 || color.alpha <= 0.0 {
            return;
        }
        let (x0, x1) = (x0.max(0), x1.min(self.width as i32 - 1));
        if x0 > x1 {
            return;
        }
        let start = (y as usize * self.width as usize + x0 as usize) * 3;
        let row = &mut self.pixels[start..start + (x1 - x0 + 1) as usize * 3];
        let (r, g, b) = color.rgb;
        if color.alpha >= 1.0 {
            row[..3].copy_from_slice(&[r, g, b]);
            // Doubling copies: a span is O(log n) memcpy calls, not a loop over pixels.
            let mut done = 3;
            while done < row.len() {
                let n = done.min(row.len() - done);
                row.copy_within(0..n, done);
                done += n;
            }
        } else {
            let a = color.alpha;
            for px in row.chunks_exact_mut(3) {
                for (d, s) in px.iter_mut().zip([r, g, b]) {
                    *d = (f64::from(s) * a + f64::from(*d) * (1.0 - a)).round() as u8;
                }
            }
        }
    }

    /// One pixel, blended by `alpha` (clipped).
    fn dot(&mut self, x: i32, y: i32, rgb: (u8, u8, u8), alpha: f64) {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        if alpha >= 1.0 {
            self.pixels[i] = rgb.0;
            self.pixels[i + 1] = rgb.1;
            self.pixels[i + 2] = rgb.2;
        } else if alpha > 0.0 {
            let mix = |s: u8, d: u8| (f64::from(s) * alpha + f64::from(d) * (1.0 - alpha)).round();
            self.pixels[i] = mix(rgb.0, self.pixels[i]) as u8;
            self.pixels[i + 1] = mix(rgb.1, self.pixels[i + 1]) as u8;
            self.pixels[i + 2] = mix(rgb.2, self.pixels[i + 2]) as u8;
        }
    }

    /// Pen positions of each glyph of `text` (whole pixels, so cached glyphs are reused) and
    /// the advance width, with kerning.
    fn layout(&self, text: &str, size: f32) -> Layout {
        let key = (text.to_string(), (size * 64.0).round() as u32);
        if let Some(l) = self.layouts.borrow().get(&key) {
            return l.clone();
        }
        let font = self.font.as_scaled(PxScale::from(size));
        let mut pen = 0f32;
        let mut prev: Option<GlyphId> = None;
        let mut glyphs = Vec::with_capacity(text.len());
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                pen += font.kern(p, id);
            }
            glyphs.push((id, pen.round() as i32));
            pen += font.h_advance(id);
            prev = Some(id);
        }
        let l = (glyphs, pen.round() as i32);
        self.layouts.borrow_mut().insert(key, l.clone());
        l
    }

    fn glyph(&mut self, id: GlyphId, size: f32) -> Option<&Glyph> {
        let key = (id, (size * 64.0).round() as u32);
        let font = &self.font;
        self.glyphs
            .entry(key)
            .or_insert_with(|| {
                let outlined = font.outline_glyph(id.with_scale(PxScale::from(size)))?;
                let b = outlined.px_bounds();
                let (width, height) = (b.width() as usize, b.height() as usize);
                let mut coverage = vec![0f32; width * height];
                outlined.draw(|x, y, c| {
                    if let Some(v) = coverage.get_mut(y as usize * width + x as usize) {
                        *v = c.min(1.0);
                    }
                });
                Some(Glyph {
                    left: b.min.x as i32,
                    top: b.min.y as i32,
                    width,
                    coverage,
                })
            })
            .as_ref()
    }
}

impl DrawingBackend for Canvas<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn ensure_prepared(&mut self) -> DrawResult {
        Ok(())
    }

    fn present(&mut self) -> DrawResult {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> DrawResult {
        self.dot(point.0, point.1, color.rgb, color.alpha);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult {
        if style.stroke_width() == 1 && from.1 == to.1 {
            self.span(from.1, from.0.min(to.0), from.0.max(to.0), style.color());
            return Ok(());
        }
        if style.stroke_width() == 1 && from.0 == to.0 {
            let c = style.color();
            for y in from.1.min(to.1)..=from.1.max(to.1) {
                self.dot(from.0, y, c.rgb, c.alpha);
            }
            return Ok(());
        }
        rasterizer::draw_line(self, from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        if !fill {
            return rasterizer::draw_rect(self, upper_left, bottom_right, style, fill);
        }
        let (x0, x1) = (
            upper_left.0.min(bottom_right.0),
            upper_left.0.max(bottom_right.0),
        );
        let (y0, y1) = (
            upper_left.1.min(bottom_right.1),
            upper_left.1.max(bottom_right.1),
        );
        for y in y0.max(0)..=y1.min(self.height as i32 - 1) {
            self.span(y, x0, x1, style.color());
        }
        Ok(())
    }

    /// Even-odd scanline fill sampled at whole rows; an edge covers rows [y_min, y_max).
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> DrawResult {
        let v: Vec<BackendCoord> = vert.into_iter().collect();
        if v.len() < 3 {
            return match (v.first(), v.last()) {
                (Some(&a), Some(&b)) => self.draw_line(a, b, style),
                _ => Ok(()),
            };
        }
        let color = style.color();
        // Non-horizontal edges as (y_min, y_max, x at y_min, dx/dy), sorted by y_min.
        let mut edges: Vec<(i32, i32, f64, f64)> = v
            .iter()
            .zip(v.iter().cycle().skip(1))
            .filter(|(a, b)| a.1 != b.1)
            .map(|(&a, &b)| {
                let (p, q) = if a.1 < b.1 { (a, b) } else { (b, a) };
                let slope = f64::from(q.0 - p.0) / f64::from(q.1 - p.1);
                (p.1, q.1, f64::from(p.0), slope)
            })
            .collect();
        if edges.is_empty() {
            // Flat polygon: its outline is one row.
            let (lo, hi) = v.iter().fold((i32::MAX, i32::MIN), |(lo, hi), p| {
                (lo.min(p.0), hi.max(p.0))
            });
            self.span(v[0].1, lo, hi, color);
            return Ok(());
        }
        edges.sort_by_key(|e| e.0);
        let y_lo = edges[0].0.max(0);
        let y_hi = edges
            .iter()
            .map(|e| e.1)
            .max()
            .unwrap_or(0)
            .min(self.height as i32);
        let mut next = 0;
        let mut active: Vec<usize> = Vec::new();
        let mut xs: Vec<f64> = Vec::new();
        for y in y_lo..y_hi {
            while next < edges.len() && edges[next].0 <= y {
                active.push(next);
                next += 1;
            }
            active.retain(|&i| edges[i].1 > y);
            xs.clear();
            xs.extend(active.iter().map(|&i| {
                let (y0, _, x0, slope) = edges[i];
                x0 + slope * f64::from(y - y0)
            }));
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                self.span(y, pair[0].round() as i32, pair[1].round() as i32, color);
            }
        }
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        let size = style.size() as f32;
        let (_, width) = self.layout(text, size);
        Ok((width.max(0) as u32, (size / 1.24) as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> DrawResult {
        let color = style.color();
        if color.alpha <= 0.0 {
            return Ok(());
        }
        let size = style.size() as f32;
        let (glyphs, width) = self.layout(text, size);
        let height = (size / 1.24) as i32;
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        // Capitals centred in the layout box: DejaVu Sans' cap height is ~0.63 of the pixel
        // scale, so the baseline sits half a cap height below the box's middle.
        let baseline = (height as f32 / 2.0 + 0.313 * size).round() as i32;
        let trans = style.transform();
        let mut dots: Vec<(i32, i32, f32)> = Vec::new();
        for (id, pen) in glyphs {
            let Some(g) = self.glyph(id, size) else {
                continue;
            };
            for (i, &c) in g.coverage.iter().enumerate() {
                if c > 0.0 {
                    let lx = dx + pen + g.left + (i % g.width) as i32;
                    let ly = dy + baseline + g.top + (i / g.width) as i32;
                    let (tx, ty) = trans.transform(lx, ly);
                    dots.push((pos.0 + tx, pos.1 + ty, c));
                }
            }
        }
        for (x, y, c) in dots {
            self.dot(x, y, color.rgb, color.alpha * f64::from(c));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    fn canvas(buf: &mut Vec<u8>, w: u32, h: u32) -> Canvas<'_> {
        let font = super::super::font().unwrap_or_else(|e| panic!("{e}"));
        *buf = vec![255; (w * h * 3) as usize];
        Canvas::new(buf, w, h, font)
    }

    fn at(c: &Canvas, x: usize, y: usize) -> [u8; 3] {
        let i = (y * c.width as usize + x) * 3;
        [c.pixels[i], c.pixels[i + 1], c.pixels[i + 2]]
    }

    #[test]
    fn rectangles_fill_inclusive_and_clip() {
        let mut buf = Vec::new();
        let mut c = canvas(&mut buf, 20, 10);
        c.draw_rect((2, 3), (30, 5), &RED, true).unwrap();
        assert_eq!(at(&c, 2, 3), [255, 0, 0]);
        assert_eq!(at(&c, 19, 5), [255, 0, 0]);
        assert_eq!(at(&c, 1, 3), [255, 255, 255]);
        assert_eq!(at(&c, 5, 6), [255, 255, 255]);
    }

    #[test]
    fn polygons_fill_their_inside() {
        let mut buf = Vec::new();
        let mut c = canvas(&mut buf, 20, 20);
        c.fill_polygon(vec![(2, 2), (17, 2), (17, 17), (2, 17)], &BLUE)
            .unwrap();
        assert_eq!(at(&c, 10, 10), [0, 0, 255]);
        assert_eq!(at(&c, 1, 10), [255, 255, 255]);
        assert_eq!(at(&c, 10, 18), [255, 255, 255]);
    }

    #[test]
    fn text_leaves_ink() {
        let mut buf = Vec::new();
        let mut c = canvas(&mut buf, 80, 30);
        let style = ("sans-serif", 16).into_font().color(&BLACK);
        c.draw_text("cmp10", &style, (2, 2)).unwrap();
        assert!(c.pixels.iter().any(|&p| p < 128));
    }
}
