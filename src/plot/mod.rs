//! Charts of a results folder, written beside its CSVs as SVG and PNG.
//!
//! * `throughput` — per action, requests per window that succeeded, failed after their 2xx
//!   answer, or were rejected (4xx), with the number submitted (throughput.csv);
//! * `statuses` — servers per status over time, stacked, an exact step function of
//!   transitions.csv (every change at its instant);
//! * `timeline` — one row per server, its status over time and where its host changed
//!   (transitions.csv; runs of at most [`MAX_TIMELINE_SERVERS`] servers);
//! * `allocations` — placement usage per host and for the cloud, with the part held by
//!   migration consumers, i.e. capacity held twice during moves (hosts.csv);
//! * `latency` — completion latency histograms of successful requests per action
//!   (requests.csv).
//!
//! Text is drawn with DejaVu Sans embedded in the binary (`font/`, licence beside it) through
//! plotters' `ab_glyph` feature, so no system font library is needed. Output depends only on
//! the CSVs and summary.json (ordered containers, no clock, no folder path), so the same
//! results give the same bytes. `novasim plot` reads them from the CSVs ([`write_all`]); a run
//! feeds the same builders as it writes the rows ([`ChartFeed`], [`write_all_fed`]), so its
//! charts are drawn without reading its large CSVs back, to the same bytes.

mod allocations;
mod canvas;
mod data;
mod encode;
mod feed;
mod latency;
mod statuses;
mod style;
mod throughput;
mod timeline;

use crate::results::{ReadError, ResultsFolder};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use data::{action_rank, server_count, MAX_TIMELINE_SERVERS};
pub use feed::{ChartFeed, HostUsage};

/// The charts, by file stem, in the order they are written and shown in the report.
pub const PLOTS: [&str; 5] = [
    "throughput",
    "statuses",
    "timeline",
    "allocations",
    "latency",
];

/// Why the plots of a results folder could not be made. Displayed as one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{}: no such results folder", .0.display())]
    NoFolder(PathBuf),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{}: cannot draw: {message}", path.display())]
    Render { path: PathBuf, message: String },
    #[error("{}: cannot write: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the embedded plot font cannot be loaded")]
    Font,
}

/// Reads the CSVs in `dir` and writes every chart into `dir` as `<name>.svg` and `<name>.png`;
/// returns the files written. The timeline is skipped (and any old one removed) for runs of
/// more than [`MAX_TIMELINE_SERVERS`] servers.
pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::NoFolder(dir.to_path_buf()));
    }
    font()?;
    // Every input is read before anything is drawn: a missing or bad CSV leaves the folder's
    // charts as they were.
    // transitions.csv (the statuses) and hosts.csv (the allocations) are the large files: read
    // side by side, each through its own folder (a folder caches what it reads, one thread's).
    // 1,000,000-server drain, with a core free: plots 1.6–2.1 → 0.83 s (no gain when both
    // cores are busy). Errors keep the order of a sequential read.
    let (st, others) = rayon::join(
        || ResultsFolder::open(dir).map(|f| data::StatusSteps::load(&f)),
        || {
            ResultsFolder::open(dir).map(|f| {
                (
                    data::Throughput::load(&f),
                    timeline_data(&f),
                    data::Hosts::load(&f),
                    data::Latencies::load(&f),
                )
            })
        },
    );
    let (tp, tl, hosts, lat) = others?;
    let tp = tp?;
    let st = st??;
    let tl = tl?;
    let hosts = hosts?;
    let lat = lat?;
    draw_all(dir, &tp, &st, tl.as_ref(), &hosts, &lat)
}

/// [`write_all`] for a run that has just written `dir`, the statuses, allocations and latency
/// charts drawn from what `feed` gathered as the run wrote its rows rather than from
/// transitions.csv, hosts.csv and requests.csv; the small files (throughput.csv, summary.json,
/// and transitions.csv for the timeline of a small run) are read as by [`write_all`]. Same
/// bytes as [`write_all`] on the folder.
pub fn write_all_fed(dir: &Path, feed: ChartFeed) -> Result<Vec<PathBuf>, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::NoFolder(dir.to_path_buf()));
    }
    font()?;
    let f = ResultsFolder::open(dir)?;
    let tp = data::Throughput::load(&f)?;
    let fed = feed.finish(data::end_ms(&f)?);
    let tl = timeline_data(&f)?;
    draw_all(
        dir,
        &tp,
        &fed.statuses,
        tl.as_ref(),
        &fed.hosts,
        &fed.latencies,
    )
}

/// The timeline's data, for runs of at most [`MAX_TIMELINE_SERVERS`] servers.
fn timeline_data(f: &ResultsFolder) -> Result<Option<data::Timeline>, PlotError> {
    match server_count(f)? {
        n if n <= MAX_TIMELINE_SERVERS => data::Timeline::load(f).map(Some),
        _ => Ok(None),
    }
}

/// Draws every chart into `dir`; returns the files written.
fn draw_all(
    dir: &Path,
    tp: &data::Throughput,
    st: &data::StatusSteps,
    tl: Option<&data::Timeline>,
    hosts: &data::Hosts,
    lat: &data::Latencies,
) -> Result<Vec<PathBuf>, PlotError> {
    let mut written = Vec::new();
    written.extend(render(dir, "throughput", &throughput::Chart::new(tp))?);
    written.extend(render(dir, "statuses", &statuses::Chart::new(st))?);
    if let Some(tl) = tl {
        written.extend(render(dir, "timeline", &timeline::Chart::new(tl))?);
    } else {
        // `novasim plot` on a folder whose run was re-made larger: no stale timeline.
        for ext in ["svg", "png"] {
            let path = dir.join(format!("timeline.{ext}"));
            if path.exists() {
                std::fs::remove_file(&path).map_err(|source| PlotError::Io { path, source })?;
            }
        }
    }
    written.extend(render(dir, "allocations", &allocations::Chart::new(hosts))?);
    written.extend(render(dir, "latency", &latency::Chart::new(lat))?);
    Ok(written)
}

/// DejaVu Sans (see font/LICENSE-DejaVu.txt).
static FONT: &[u8] = include_bytes!("font/DejaVuSans.ttf");

/// Registers the embedded font as plotters' "sans-serif" (plotters keeps fonts in a global
/// table, used to lay text out on both backends) and returns it for the PNG text renderer.
/// Parsed once per process.
fn font() -> Result<ab_glyph::FontRef<'static>, PlotError> {
    static PARSED: OnceLock<Option<ab_glyph::FontRef<'static>>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).ok()?;
            ab_glyph::FontRef::try_from_slice(FONT).ok()
        })
        .clone()
        .ok_or(PlotError::Font)
}

/// The drawing error type of a plotters backend, as returned by chart code.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart drawn the same way on any backend (the SVG and the PNG come from one code path);
/// other modules (sweeps) draw their charts through [`render`] too.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Draws `chart` into `dir/<stem>.svg` and `dir/<stem>.png`.
pub fn render<C: Chart>(dir: &Path, stem: &str, chart: &C) -> Result<[PathBuf; 2], PlotError> {
    font()?;
    let (w, h) = chart.size();
    let svg_path = dir.join(format!("{stem}.svg"));
    let render_err = |path: &Path, e: &dyn std::fmt::Display| PlotError::Render {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| render_err(&svg_path, &e))?;
        chart.draw(&root).map_err(|e| render_err(&svg_path, &e))?;
        root.present().map_err(|e| render_err(&svg_path, &e))?;
    }
    write_file(&svg_path, svg.as_bytes())?;

    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![255u8; w as usize * h as usize * 3];
    {
        let root = canvas::Canvas::new(&mut pixels, w, h, font()?).into_drawing_area();
        chart.draw(&root).map_err(|e| render_err(&png_path, &e))?;
        root.present().map_err(|e| render_err(&png_path, &e))?;
    }
    let png = encode::png_rgb(&pixels, w, h).map_err(|e| render_err(&png_path, &e))?;
    write_file(&png_path, &png)?;
    Ok([svg_path, png_path])
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    std::fs::write(path, bytes).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}
