//! Rally's statistics of a workload (`rally/task/processing/charts.py` `MainStatsTable`,
//! `rally/task/atomic.py` `merge_atomic_actions`, `rally/task/processing/utils.py`
//! `percentile`), in integer milliseconds.

use serde::Serialize;

/// One timed atomic action of an iteration (`atomic.ActionTimer`), times in ms from the start
/// of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atomic {
    pub name: String,
    pub started_ms: u64,
    pub finished_ms: u64,
    pub failed: bool,
    pub children: Vec<Atomic>,
}

/// The result of one iteration (`ScenarioRunnerResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iteration {
    /// Its number in start order, from 1 (`context["iteration"]`).
    pub number: u32,
    pub timestamp_ms: u64,
    /// Wall time less idle time (`timer.duration() - idle_duration`).
    pub duration_ms: u64,
    pub idle_ms: u64,
    /// `[type, message, traceback]` (`utils.format_exc`); empty when it succeeded.
    pub error: Vec<String>,
    pub atomics: Vec<Atomic>,
}

impl Iteration {
    pub fn failed(&self) -> bool {
        !self.error.is_empty()
    }
}

/// Rally's `percentile(points, p)` of sorted `points` in hundredths of a millisecond:
/// k = (n − 1)·p, linear interpolation between the values at floor(k) and ceil(k), exactly.
pub fn percentile_centi_ms(sorted: &[u64], percent: u64) -> Option<u64> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    let k100 = (n - 1) * percent;
    let (f, r) = ((k100 / 100) as usize, k100 % 100);
    let lo = sorted[f];
    if r == 0 {
        return Some(lo * 100);
    }
    let hi = sorted[f + 1];
    Some(lo * (100 - r) + hi * r)
}

/// `num / den` rounded to an integer, halves to even (Python's `round`).
fn round_half_even(num: u64, den: u64) -> u64 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    }
}

/// One cell row of the table: milliseconds (seconds rounded to 3 decimals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowData {
    pub count: u32,
    pub min: Option<u64>,
    pub median: Option<u64>,
    pub p90: Option<u64>,
    pub p95: Option<u64>,
    pub max: Option<u64>,
    pub avg: Option<u64>,
    /// `"%.1f%%"` of the successes, or `n/a`.
    pub success: String,
}

impl RowData {
    fn of(points: &[u64], successes: u32) -> RowData {
        let mut xs = points.to_vec();
        xs.sort_unstable();
        let count = xs.len() as u32;
        let pct = |p| percentile_centi_ms(&xs, p).map(|c| round_half_even(c, 100));
        let sum: u64 = xs.iter().sum();
        RowData {
            count,
            min: xs.first().copied(),
            median: pct(50),
            p90: pct(90),
            p95: pct(95),
            max: xs.last().copied(),
            avg: (count > 0).then(|| round_half_even(sum, u64::from(count))),
            success: if count > 0 {
                format!("{:.1}%", f64::from(successes) * 100.0 / f64::from(count))
            } else {
                "n/a".into()
            },
        }
    }
}

/// A row of the table with its nested rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `name (xN)` when the action ran N > 1 times in an iteration.
    pub display_name: String,
    pub name: String,
    pub count_per_iteration: u32,
    pub data: RowData,
    pub children: Vec<Row>,
}

/// `merge_atomic_actions`: same-named actions of one iteration summed, first-seen order, two
/// levels of children.
#[derive(Debug, Clone)]
struct Merged {
    name: String,
    duration: u64,
    count: u32,
    failed: bool,
    children: Vec<Merged>,
}

fn merge(actions: &[Atomic], into: &mut Vec<Merged>, depth: u32) {
    for a in actions {
        let i = match into.iter().position(|m| m.name == a.name) {
            Some(i) => i,
            None => {
                into.push(Merged {
                    name: a.name.clone(),
                    duration: 0,
                    count: 0,
                    failed: false,
                    children: Vec::new(),
                });
                into.len() - 1
            }
        };
        let m = &mut into[i];
        m.duration += a.finished_ms - a.started_ms;
        m.count += 1;
        m.failed |= a.failed;
        if !a.children.is_empty() && depth < 2 {
            merge(&a.children, &mut m.children, depth + 1);
        }
    }
}

/// Accumulates points per row, in first-seen order (`MainStatsTable._add_data`).
#[derive(Debug, Default)]
struct Acc {
    display: String,
    name: String,
    count_per_iteration: u32,
    points: Vec<u64>,
    successes: u32,
    children: Vec<Acc>,
}

fn add(data: &[Merged], into: &mut Vec<Acc>) {
    for m in data {
        let display = if m.count > 1 {
            format!("{} (x{})", m.name, m.count)
        } else {
            m.name.clone()
        };
        let i = match into.iter().position(|a| a.display == display) {
            Some(i) => i,
            None => {
                into.push(Acc {
                    display,
                    name: m.name.clone(),
                    count_per_iteration: m.count,
                    ..Acc::default()
                });
                into.len() - 1
            }
        };
        let a = &mut into[i];
        a.points.push(m.duration);
        a.successes += u32::from(!m.failed);
        if !m.children.is_empty() {
            add(&m.children, &mut a.children);
        }
    }
}

fn finish(a: Acc) -> Row {
    Row {
        data: RowData::of(&a.points, a.successes),
        display_name: a.display,
        name: a.name,
        count_per_iteration: a.count_per_iteration,
        children: a.children.into_iter().map(finish).collect(),
    }
}

/// The table of `iterations` (every iteration, failed ones included): atomic rows, then
/// `total` with its `duration` and `idle_duration` children.
pub fn table(iterations: &[Iteration]) -> Vec<Row> {
    let mut acc: Vec<Acc> = Vec::new();
    for it in iterations {
        let mut data = Vec::new();
        merge(&it.atomics, &mut data, 0);
        // An error outside any atomic action: `<no-name-action>`.
        if it.failed() && data.last().is_some_and(|m| !m.failed) {
            data.push(Merged {
                name: "<no-name-action>".into(),
                duration: 0,
                count: 1,
                failed: true,
                children: Vec::new(),
            });
        }
        let leaf = |name: &str, d| Merged {
            name: name.into(),
            duration: d,
            count: 1,
            failed: it.failed(),
            children: Vec::new(),
        };
        data.push(Merged {
            children: vec![
                leaf("duration", it.duration_ms),
                leaf("idle_duration", it.idle_ms),
            ],
            ..leaf("total", it.duration_ms + it.idle_ms)
        });
        add(&data, &mut acc);
    }
    // `total` is always last, and present without iterations.
    let total = match acc.iter().position(|a| a.name == "total") {
        Some(i) => acc.remove(i),
        None => Acc {
            display: "total".into(),
            name: "total".into(),
            count_per_iteration: 1,
            ..Acc::default()
        },
    };
    acc.push(total);
    acc.into_iter().map(finish).collect()
}

/// Seconds with 3 decimals, or `n/a`.
pub fn secs(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!("{}.{:03}", ms / 1000, ms % 1000),
        None => "n/a".into(),
    }
}

/// The table as Rally prints it (`rally task detailed`): one line per row, nested rows as
/// ` -> name`.
pub fn render(rows: &[Row]) -> String {
    let mut lines: Vec<[String; 9]> = Vec::new();
    fn walk(r: &Row, depth: usize, out: &mut Vec<[String; 9]>) {
        let name = if depth > 0 {
            format!(" {}> {}", "-".repeat(depth), r.display_name)
        } else {
            r.display_name.clone()
        };
        let d = &r.data;
        out.push([
            name,
            secs(d.min),
            secs(d.median),
            secs(d.p90),
            secs(d.p95),
            secs(d.max),
            secs(d.avg),
            d.success.clone(),
            d.count.to_string(),
        ]);
        for c in &r.children {
            walk(c, depth + 1, out);
        }
    }
    for r in rows {
        walk(r, 0, &mut lines);
    }
    let head = [
        "Action",
        "Min (sec)",
        "Median (sec)",
        "90%ile (sec)",
        "95%ile (sec)",
        "Max (sec)",
        "Avg (sec)",
        "Success",
        "Count",
    ];
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for l in &lines {
        for (i, c) in l.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let sep: String = {
        let mut s = String::from("+");
        for x in &w {
            s.push_str(&"-".repeat(x + 2));
            s.push('+');
        }
        s
    };
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                s.push_str(&format!(" {c}{} |", " ".repeat(pad)));
            } else {
                s.push_str(&format!(" {}{c} |", " ".repeat(pad)));
            }
        }
        s
    };
    let total_w = sep.chars().count() - 2;
    let title = "Response Times (sec)";
    let left = (total_w - title.len()) / 2;
    let mut out = String::new();
    out.push_str(&format!("+{}+\n", "-".repeat(total_w)));
    out.push_str(&format!(
        "|{}{title}{}|\n",
        " ".repeat(left),
        " ".repeat(total_w - title.len() - left)
    ));
    out.push_str(&sep);
    out.push('\n');
    out.push_str(&line(&head.map(String::from)));
    out.push('\n');
    out.push_str(&sep);
    out.push('\n');
    for l in &lines {
        out.push_str(&line(l));
        out.push('\n');
    }
    out.push_str(&sep);
    out.push('\n');
    out
}

/// `{"data": {...}, "count_per_iteration", "name", "display_name", "children"}` of the JSON
/// export (`MainStatsTable.to_dict`).
#[derive(Debug, Serialize)]
pub struct RowJson {
    pub data: DataJson,
    pub count_per_iteration: u32,
    pub name: String,
    pub display_name: String,
    pub children: Vec<RowJson>,
}

#[derive(Debug, Serialize)]
pub struct DataJson {
    pub iteration_count: u32,
    pub min: serde_json::Value,
    pub median: serde_json::Value,
    #[serde(rename = "90%ile")]
    pub p90: serde_json::Value,
    #[serde(rename = "95%ile")]
    pub p95: serde_json::Value,
    pub max: serde_json::Value,
    pub avg: serde_json::Value,
    pub success: String,
}

/// Milliseconds as Rally's rounded seconds, or "n/a".
pub fn secs_json(ms: Option<u64>) -> serde_json::Value {
    match ms {
        Some(ms) => serde_json::json!(ms as f64 / 1000.0),
        None => serde_json::json!("n/a"),
    }
}

impl From<&Row> for RowJson {
    fn from(r: &Row) -> RowJson {
        let d = &r.data;
        RowJson {
            data: DataJson {
                iteration_count: d.count,
                min: secs_json(d.min),
                median: secs_json(d.median),
                p90: secs_json(d.p90),
                p95: secs_json(d.p95),
                max: secs_json(d.max),
                avg: secs_json(d.avg),
                success: d.success.clone(),
            },
            count_per_iteration: r.count_per_iteration,
            name: r.name.clone(),
            display_name: r.display_name.clone(),
            children: r.children.iter().map(RowJson::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(n: u32, d: u64, idle: u64, atomics: Vec<Atomic>, error: bool) -> Iteration {
        Iteration {
            number: n,
            timestamp_ms: 0,
            duration_ms: d,
            idle_ms: idle,
            error: if error {
                vec!["E".into(), "m".into(), String::new()]
            } else {
                vec![]
            },
            atomics,
        }
    }

    fn a(name: &str, s: u64, f: u64, children: Vec<Atomic>) -> Atomic {
        Atomic {
            name: name.into(),
            started_ms: s,
            finished_ms: f,
            failed: false,
            children,
        }
    }

    #[test]
    fn percentiles_are_rallys_on_a_fixed_vector() {
        // Rally: percentile([1.2, 2.3, 3.1, 4.7, 5.0, 8.9, 10.4], p) with k = 6p:
        // 0.5 → 4.7; 0.9 → k = 5.4: 8.9·0.6 + 10.4·0.4 = 9.5; 0.95 → k = 5.7: 8.9·0.3 + 10.4·0.7
        // = 9.95.
        let xs = [1200, 2300, 3100, 4700, 5000, 8900, 10400];
        assert_eq!(percentile_centi_ms(&xs, 50), Some(470_000));
        assert_eq!(percentile_centi_ms(&xs, 90), Some(950_000));
        assert_eq!(percentile_centi_ms(&xs, 95), Some(995_000));
        // [10, 20, 30, 40] ms, 95th: k = 2.85, 30·0.15 + 40·0.85 = 38.5 ms → 0.038 (half to even).
        let row = RowData::of(&[40, 10, 30, 20], 4);
        assert_eq!(row.p95, Some(38));
        assert_eq!(row.p90, Some(37));
        assert_eq!(row.median, Some(25));
        assert_eq!(row.avg, Some(25));
        assert_eq!(row.success, "100.0%");
        assert_eq!(percentile_centi_ms(&[], 50), None);
    }

    #[test]
    fn table_nests_merges_and_ends_with_total() {
        let its = vec![
            it(
                1,
                5000,
                1000,
                vec![
                    a("nova.boot_server", 0, 3000, vec![]),
                    a(
                        "nova.live_migrate",
                        3000,
                        6000,
                        vec![a("nova.list_hypervisors", 3000, 3000, vec![])],
                    ),
                ],
                false,
            ),
            it(
                2,
                7000,
                0,
                vec![
                    a("nova.boot_server", 0, 3000, vec![]),
                    a("nova.boot_server", 3000, 4000, vec![]),
                ],
                true,
            ),
        ];
        let rows = table(&its);
        let names: Vec<&str> = rows.iter().map(|r| r.display_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "nova.boot_server",
                "nova.live_migrate",
                "nova.boot_server (x2)",
                "<no-name-action>",
                "total"
            ]
        );
        assert_eq!(rows[1].children[0].display_name, "nova.list_hypervisors");
        let total = &rows[4];
        assert_eq!(total.data.count, 2);
        assert_eq!(total.data.min, Some(6000));
        assert_eq!(total.data.success, "50.0%");
        assert_eq!(total.children[1].display_name, "idle_duration");
        assert_eq!(rows[2].data.max, Some(4000));
        let text = render(&rows);
        assert!(text.contains("| nova.boot_server "), "{text}");
        assert!(text.contains("|  -> nova.list_hypervisors "), "{text}");
        assert!(text.contains("|  -> idle_duration "), "{text}");
    }
}
