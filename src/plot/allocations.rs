//! allocations.svg: placement usage over time, split into the part held by instances and the
//! part held by migration consumers (capacity held twice during moves), with the placement
//! capacity; for the whole cloud, and per host for clouds of at most [`MAX_HOST_PANELS`] hosts.
//!
//! The resource shown is the one closer to full at its peak (vCPUs or memory), since that is
//! the one that decides where servers fit.

use super::data::{secs, Hosts, Resource};
use super::style::{self, Legend, Swatch};
use super::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;

/// hosts.csv `enabled_up` of a host the scheduler can place on.
const ENABLED_UP: &str = "enabled/up";

/// Above this many hosts, only the cloud total is drawn: small multiples would be unreadable.
pub const MAX_HOST_PANELS: usize = 16;
const TOTAL_H: u32 = 330;
const TOTAL_ONLY_H: u32 = 520;
const HOST_H: u32 = 220;

/// Steps kept per series at most (about one per pixel of the widest panel).
const BUCKETS: usize = 1200;

/// The step function `points` (time-ordered) as one step per bucket of `[0, end]`, each
/// bucket taking `pick` (max or min) of every value the function has in it.
fn envelope(points: &[(f64, f64)], end: f64, pick: fn(f64, f64) -> f64) -> Vec<(f64, f64)> {
    let width = end / BUCKETS as f64;
    let mut out = Vec::with_capacity(2 * BUCKETS);
    let mut i = 0;
    let mut current = points.first().map_or(0.0, |p| p.1);
    for b in 0..BUCKETS {
        let (t0, t1) = (b as f64 * width, (b + 1) as f64 * width);
        let mut v = current;
        while i < points.len() && (points[i].0 < t1 || b + 1 == BUCKETS) {
            v = pick(v, points[i].1);
            current = points[i].1;
            i += 1;
        }
        out.extend([(t0, v), (t1, v)]);
    }
    out
}

/// One step function per quantity: (time s, value) with a vertical step at each change.
#[derive(Default)]
struct Series {
    used: Vec<(f64, f64)>,
    instances: Vec<(f64, f64)>,
    capacity: Vec<(f64, f64)>,
    peak_migration: (f64, f64),
}

impl Series {
    fn push(&mut self, t: f64, used: f64, migration: f64, capacity: f64) {
        for (v, x) in [
            (&mut self.used, used),
            (&mut self.instances, used - migration),
            (&mut self.capacity, capacity),
        ] {
            match v.last_mut() {
                // Several rows at one instant: one step to the last value (no zero-width
                // spikes, which polygon fills would show as seams).
                Some(last) if last.0 == t => last.1 = x,
                Some(&mut (_, prev)) => v.extend([(t, prev), (t, x)]),
                None => v.push((t, x)),
            }
        }
        if migration > self.peak_migration.1 {
            self.peak_migration = (t, migration);
        }
    }

    /// Holds the last values to `end`; then, for long runs, reduces each series to one step
    /// per [`BUCKETS`]th of the time axis (more is below a pixel): the most used and the
    /// least held by instances in each bucket, so peaks of capacity held twice stay visible.
    fn close(&mut self, end: f64) {
        for v in [&mut self.used, &mut self.instances, &mut self.capacity] {
            if let Some(&(_, last)) = v.last() {
                v.push((end, last));
            }
        }
        if self.used.len() > 2 * BUCKETS {
            self.used = envelope(&self.used, end, f64::max);
            self.instances = envelope(&self.instances, end, f64::min);
            self.capacity = envelope(&self.capacity, end, f64::max);
        }
    }

    fn top(&self) -> f64 {
        self.used
            .iter()
            .chain(&self.capacity)
            .map(|p| p.1)
            .fold(0.0, f64::max)
    }
}

pub struct Chart {
    resource: Resource,
    total: Series,
    hosts: Vec<(String, Series)>,
    host_count: usize,
    end: f64,
    legend: Legend,
}

impl Chart {
    pub fn new(h: &Hosts) -> Chart {
        let resource = pick_resource(h);
        let r = resource as usize;
        let scale = match resource {
            Resource::Vcpus => 1.0,
            Resource::MemoryMb => 1.0 / 1024.0,
        };
        // A run that ends at t = 0 still gets a visible (1 s wide) chart.
        let end = secs(h.end_ms).max(1.0);
        let per_host = h.names.len() <= MAX_HOST_PANELS;
        let mut hosts: Vec<(String, Series)> = if per_host {
            h.names
                .iter()
                .map(|n| (n.clone(), Series::default()))
                .collect()
        } else {
            Vec::new()
        };
        let mut states: Vec<Vec<usize>> = vec![Vec::new(); h.names.len()];
        // Running totals; each host's current row is subtracted when it changes.
        let mut cur: Vec<[u64; 3]> = vec![[0; 3]; h.names.len()];
        let mut sum = [0u64; 3];
        let mut total = Series::default();
        // The cloud's capacity counts enabled-and-up hosts only: a disabled or down host's
        // capacity is not where the scheduler can place anything (the per-host panels keep
        // each host's own placement capacity, and name its state).
        let usable = h.states.iter().position(|s| s == ENABLED_UP);
        for (i, row) in h.rows.iter().enumerate() {
            let capacity = if Some(row.state) == usable {
                row.capacity[r]
            } else {
                0
            };
            let new = [row.used[r], row.migration[r], capacity];
            for k in 0..3 {
                sum[k] = sum[k] - cur[row.host][k] + new[k];
            }
            cur[row.host] = new;
            if states[row.host].last() != Some(&row.state) {
                states[row.host].push(row.state);
            }
            let t = secs(row.t);
            if let Some((_, s)) = hosts.get_mut(row.host) {
                let f = |x: u64| x as f64 * scale;
                s.push(t, f(new[0]), f(new[1]), f(row.capacity[r]));
            }
            // One total point per instant, after all its rows.
            if h.rows.get(i + 1).is_none_or(|next| next.t != row.t) {
                let f = |x: u64| x as f64 * scale;
                total.push(t, f(sum[0]), f(sum[1]), f(sum[2]));
            }
        }
        total.close(end);
        for (i, (name, s)) in hosts.iter_mut().enumerate() {
            s.close(end);
            let seen: Vec<&str> = states[i].iter().map(|&k| h.states[k].as_str()).collect();
            if seen.iter().any(|s| *s != ENABLED_UP) {
                let shown = seen.iter().take(3).copied().collect::<Vec<_>>().join(" → ");
                let more = if seen.len() > 3 { " → …" } else { "" };
                *name = format!("{name} ({shown}{more})");
            }
        }
        let legend = Legend::new(vec![
            ("held by instances".into(), Swatch::Box(style::INSTANCES)),
            (
                "held by migration consumers (capacity held twice during moves)".into(),
                Swatch::Box(style::MIGRATIONS),
            ),
            (
                "placement capacity (cloud total: enabled and up hosts only)".into(),
                Swatch::Dashed(style::CAPACITY),
            ),
        ]);
        Chart {
            resource,
            total,
            hosts,
            host_count: h.names.len(),
            end,
            legend,
        }
    }

    fn unit(&self) -> &'static str {
        match self.resource {
            Resource::Vcpus => "vCPUs",
            Resource::MemoryMb => "memory (GiB)",
        }
    }

    fn grid(&self) -> (usize, usize) {
        let n = self.hosts.len();
        let cols = n.clamp(1, 4);
        (n.div_ceil(cols), cols)
    }
}

/// The resource with the higher peak used/capacity ratio on any host (vCPUs on a tie).
fn pick_resource(h: &Hosts) -> Resource {
    let peak = |r: usize| {
        h.rows
            .iter()
            .filter(|row| row.capacity[r] > 0)
            .map(|row| row.used[r] as f64 / row.capacity[r] as f64)
            .fold(0.0, f64::max)
    };
    if peak(1) > peak(0) {
        Resource::MemoryMb
    } else {
        Resource::Vcpus
    }
}

impl super::Chart for Chart {
    fn size(&self) -> (u32, u32) {
        let head = style::title_height() + self.legend.height(style::WIDTH);
        let body = if self.hosts.is_empty() {
            TOTAL_ONLY_H
        } else {
            TOTAL_H + self.grid().0 as u32 * HOST_H
        };
        (style::WIDTH, head + body + 10)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let what = match self.resource {
            Resource::Vcpus => "vCPUs",
            Resource::MemoryMb => "memory",
        };
        let title = format!("Placement allocations over time: {what} used and held by migrations");
        let body = style::frame(root, &title, &self.legend)?;
        let body = body.margin(0, 10, 10, 30);
        let peak = self.total.peak_migration;
        let caption = format!(
            "Cloud total, {} hosts — peak held by migrations: {} {} at {} s",
            self.host_count,
            style::num(peak.1),
            match self.resource {
                Resource::Vcpus => "vCPUs",
                Resource::MemoryMb => "GiB",
            },
            style::num(peak.0)
        );
        let top = self.total.top();
        if self.hosts.is_empty() {
            panel(
                &body,
                &caption,
                &self.total,
                top,
                self.end,
                self.unit(),
                false,
            )?;
            let note = format!(
                "{} hosts: per-host panels are drawn for at most {MAX_HOST_PANELS} hosts.",
                self.host_count
            );
            return style::note(&body, &note, (90, 40));
        }
        let (total_area, hosts_area) = body.split_vertically(TOTAL_H);
        panel(
            &total_area,
            &caption,
            &self.total,
            top,
            self.end,
            self.unit(),
            false,
        )?;
        // One scale for every host panel, so hosts compare at a glance.
        let host_top = self.hosts.iter().map(|(_, s)| s.top()).fold(0.0, f64::max);
        let cells = hosts_area.split_evenly(self.grid());
        for (area, (name, s)) in cells.iter().zip(&self.hosts) {
            panel(area, name, s, host_top, self.end, self.unit(), true)?;
        }
        Ok(())
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    s: &Series,
    top: f64,
    end: f64,
    unit: &str,
    small: bool,
) -> DrawResult<DB> {
    let (caption_size, tick, axis) = if small {
        (14, 11, 12)
    } else {
        (style::CAPTION_SIZE, style::TICK_SIZE, style::AXIS_SIZE)
    };
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, style::font(caption_size))
        .margin(6)
        .x_label_area_size(if small { 34 } else { 44 })
        .y_label_area_size(if small { 52 } else { 70 })
        .build_cartesian_2d(0f64..end.max(1.0), 0f64..top)?;
    // Used (all consumers) in the migration colour, then the instances' part over it: what
    // stays visible on top is the part held by migrations.
    chart.draw_series(AreaSeries::new(
        s.used.iter().copied(),
        0.0,
        style::MIGRATIONS.filled(),
    ))?;
    chart.draw_series(AreaSeries::new(
        s.instances.iter().copied(),
        0.0,
        style::INSTANCES.filled(),
    ))?;
    chart.draw_series(DashedLineSeries::new(
        s.capacity.iter().copied(),
        6,
        4,
        style::CAPACITY.stroke_width(2),
    ))?;
    // Grid and axes last, so the grid shows over the areas.
    chart
        .configure_mesh()
        .light_line_style(style::GRID.mix(0.0))
        .bold_line_style(style::GRID)
        .x_desc(if small {
            "time (s)"
        } else {
            "simulated time (s)"
        })
        .y_desc(unit)
        .axis_desc_style(style::font(axis))
        .label_style(style::font(tick))
        .x_labels(if small { 4 } else { 10 })
        .y_labels(if small { 4 } else { 6 })
        .x_label_formatter(&|v| style::num(*v))
        .y_label_formatter(&|v| style::num(*v))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::data::HostRow;
    use std::path::Path;

    /// capacity-drain declares 4 disabled hosts among 16: the cloud total's capacity line is
    /// the capacity of the 12 enabled-and-up hosts (recomputed here from hosts.csv), while a
    /// disabled host's panel still shows its own capacity.
    #[test]
    fn cloud_capacity_counts_enabled_and_up_hosts_only() {
        let dir = Path::new("tests/golden/capacity-drain");
        let h = Hosts::load(
            &crate::results::ResultsFolder::open(dir).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = Chart::new(&h);
        let r = c.resource as usize;
        let scale = if c.resource == Resource::MemoryMb {
            1024.0
        } else {
            1.0
        };
        // Each host's last row at t = 0 (placing the initial servers writes several).
        let mut at0: std::collections::BTreeMap<usize, &HostRow> = Default::default();
        for row in h.rows.iter().filter(|row| row.t == 0) {
            at0.insert(row.host, row);
        }
        let first = |state: &str| -> f64 {
            at0.values()
                .filter(|row| h.states[row.state] == state)
                .map(|row| row.capacity[r] as f64)
                .sum::<f64>()
                / scale
        };
        let (usable, disabled) = (first("enabled/up"), first("disabled/up"));
        assert!(usable > 0.0 && disabled > 0.0);
        assert_eq!(c.total.capacity[0].1, usable);
        let drain = c.hosts.iter().find(|(n, _)| n.starts_with("drain1 "));
        let drain = drain.unwrap_or_else(|| panic!("no drain1 panel"));
        assert!(drain.1.capacity[0].1 > 0.0);
        assert!(c
            .legend
            .entries
            .iter()
            .any(|e| e.0.contains("enabled and up")));
    }

    #[test]
    fn envelope_keeps_short_peaks() {
        // A 1 ms spike to 9 in a long run at 1 must survive the reduction.
        let mut points = vec![(0.0, 1.0)];
        for k in 1..5000 {
            let t = k as f64 * 0.1;
            let v = if k == 2500 { 9.0 } else { 1.0 };
            points.extend([(t, 1.0), (t, v)]);
        }
        let max = envelope(&points, 500.0, f64::max);
        assert_eq!(max.len(), 2 * BUCKETS);
        assert_eq!(max.iter().map(|p| p.1).fold(0.0, f64::max), 9.0);
        let min = envelope(&points, 500.0, f64::min);
        assert!(min.iter().all(|p| p.1 == 1.0));
    }
}
