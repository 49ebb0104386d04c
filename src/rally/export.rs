//! The files of a Rally run: `rally.json` shaped like `rally task report --json`
//! (`rally/plugins/task/exporters/json_exporter.py`, format 1.2: tasks → subtasks → workloads
//! with statistics, iterations and sla_results), `rally.html`, `rally_stats.txt` (the tables
//! printed) and one `rally_w<N>.csv` per workload in the per-iteration layout of the
//! calibration data (`iteration, <atomic>…, iteration.duration, iteration.idle_duration`) for a
//! calibrator to read. Times are virtual: seconds since the start of the run; dates are the
//! Unix epoch plus that time, so the same task, cloud and seed give the same bytes.

use super::stats::{self, Atomic, Iteration, RowJson};
use super::{TaskResult, WorkloadResult};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::Path;

pub const JSON_FILE: &str = "rally.json";
pub const HTML_FILE: &str = "rally.html";
pub const STATS_FILE: &str = "rally_stats.txt";

/// A deterministic UUID-shaped id for `what` at `n` of the task (seeded).
fn uuid(seed: u64, what: u8, n: usize) -> String {
    let h = crate::engine::rng::stable_hash(format!("{seed}/{what}/{n}").as_bytes());
    let g = crate::engine::rng::stable_hash(format!("{h}").as_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        g >> 52,
        g & 0xffff_ffff_ffff
    )
}

/// Virtual milliseconds as an ISO date from the epoch (`created_at` and the like).
fn date(ms: u64) -> String {
    let s = ms / 1000;
    let (days, rem) = (s / 86_400, s % 86_400);
    // Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

#[derive(Serialize)]
struct AtomicJson {
    name: String,
    started_at: Value,
    finished_at: Value,
    children: Vec<AtomicJson>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    failed: bool,
}

fn atomic_json(a: &Atomic) -> AtomicJson {
    AtomicJson {
        name: a.name.clone(),
        started_at: secs(a.started_ms),
        finished_at: secs(a.finished_ms),
        children: a.children.iter().map(atomic_json).collect(),
        failed: a.failed,
    }
}

#[derive(Serialize)]
struct Output {
    additive: Vec<Value>,
    complete: Vec<Value>,
}

#[derive(Serialize)]
struct IterationJson {
    timestamp: Value,
    duration: Value,
    idle_duration: Value,
    error: Vec<String>,
    output: Output,
    atomic_actions: Vec<AtomicJson>,
}

#[derive(Serialize)]
struct Durations {
    total: RowJson,
    atomics: Vec<RowJson>,
}

#[derive(Serialize)]
struct Statistics {
    durations: Durations,
}

#[derive(Serialize)]
struct SlaResults {
    sla: Vec<super::sla::SlaResult>,
}

#[derive(Serialize)]
struct WorkloadJson {
    uuid: String,
    description: String,
    runner: Map<String, Value>,
    hooks: Vec<Value>,
    scenario: Map<String, Value>,
    min_duration: Value,
    max_duration: Value,
    start_time: Value,
    load_duration: Value,
    full_duration: Value,
    statistics: Statistics,
    data: Vec<IterationJson>,
    failed_iteration_count: usize,
    total_iteration_count: usize,
    created_at: String,
    updated_at: String,
    contexts: Map<String, Value>,
    contexts_results: Vec<Value>,
    position: usize,
    pass_sla: bool,
    sla_results: SlaResults,
    sla: Map<String, Value>,
}

#[derive(Serialize)]
struct SubtaskJson {
    uuid: String,
    title: String,
    description: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    sla: Map<String, Value>,
    workloads: Vec<WorkloadJson>,
}

#[derive(Serialize)]
struct TaskJson {
    uuid: String,
    title: String,
    description: String,
    status: &'static str,
    tags: Vec<String>,
    env_uuid: String,
    env_name: String,
    created_at: String,
    updated_at: String,
    pass_sla: bool,
    subtasks: Vec<SubtaskJson>,
}

#[derive(Serialize)]
struct Info {
    rally_version: String,
    generated_at: String,
    format_version: &'static str,
}

#[derive(Serialize)]
struct Report {
    info: Info,
    tasks: Vec<TaskJson>,
}

fn workload_json(r: &TaskResult, w: &WorkloadResult, n: usize, position: usize) -> WorkloadJson {
    let cfg = &w.prepared.cfg;
    let mut ordered: Vec<&Iteration> = w.iterations.iter().collect();
    ordered.sort_by_key(|i| (i.timestamp_ms, i.number));
    let durations: Vec<u64> = ordered.iter().map(|i| i.duration_ms).collect();
    let rows: Vec<RowJson> = w.rows.iter().map(RowJson::from).collect();
    let mut rows = rows;
    let total = rows.pop().expect("the table always ends with total");
    let mut runner = Map::new();
    runner.insert(cfg.runner_type.clone(), Value::Object(cfg.runner.clone()));
    let mut scenario = Map::new();
    scenario.insert(cfg.scenario.clone(), Value::Object(cfg.args.clone()));
    WorkloadJson {
        uuid: uuid(r.seed, 3, n),
        description: cfg.description.clone(),
        runner,
        hooks: Vec::new(),
        scenario,
        min_duration: durations.iter().min().map_or(Value::Null, |&d| secs(d)),
        max_duration: durations.iter().max().map_or(Value::Null, |&d| secs(d)),
        start_time: secs(w.start_ms),
        load_duration: secs(w.end_ms - w.start_ms),
        full_duration: secs(w.end_ms - w.start_ms),
        statistics: Statistics {
            durations: Durations {
                total,
                atomics: rows,
            },
        },
        data: ordered
            .iter()
            .map(|i| IterationJson {
                timestamp: secs(i.timestamp_ms),
                duration: secs(i.duration_ms),
                idle_duration: secs(i.idle_ms),
                error: i.error.clone(),
                output: Output {
                    additive: Vec::new(),
                    complete: Vec::new(),
                },
                atomic_actions: i.atomics.iter().map(atomic_json).collect(),
            })
            .collect(),
        failed_iteration_count: w.iterations.iter().filter(|i| i.failed()).count(),
        total_iteration_count: w.iterations.len(),
        created_at: date(w.start_ms),
        updated_at: date(w.end_ms),
        contexts: cfg.contexts.clone(),
        contexts_results: Vec::new(),
        position,
        pass_sla: w.pass_sla(),
        sla_results: SlaResults { sla: w.sla.clone() },
        sla: cfg.sla.clone(),
    }
}

/// The `rally task report --json` document of `r`, keys in Rally's order.
pub fn json_text(r: &TaskResult) -> String {
    let end = r.workloads.iter().map(|w| w.end_ms).max().unwrap_or(0);
    let mut subtasks = Vec::new();
    let mut n = 0;
    for (si, s) in r.task.subtasks.iter().enumerate() {
        let mine: Vec<&WorkloadResult> = r.workloads.iter().filter(|w| w.subtask == si).collect();
        let mut workloads = Vec::new();
        for (position, w) in mine.iter().enumerate() {
            workloads.push(workload_json(r, w, n, position));
            n += 1;
        }
        let start = mine.first().map_or(0, |w| w.start_ms);
        let stop = mine.last().map_or(0, |w| w.end_ms);
        subtasks.push(SubtaskJson {
            uuid: uuid(r.seed, 2, si),
            title: s.title.clone(),
            description: s.description.clone(),
            status: "finished",
            created_at: date(start),
            updated_at: date(stop),
            sla: Map::new(),
            workloads,
        });
    }
    let report = Report {
        info: Info {
            rally_version: format!(
                "novasim {} (Rally {} defaults)",
                env!("CARGO_PKG_VERSION"),
                r.era.as_str()
            ),
            generated_at: date(end),
            format_version: "1.2",
        },
        tasks: vec![TaskJson {
            uuid: uuid(r.seed, 1, 0),
            title: r.task.title.clone(),
            description: r.task.description.clone(),
            status: "finished",
            tags: Vec::new(),
            env_uuid: uuid(r.seed, 0, 0),
            env_name: format!("novasim:{}", r.cloud_name),
            created_at: date(0),
            updated_at: date(end),
            pass_sla: r.pass_sla(),
            subtasks,
        }],
    };
    // Serialised from the structs, not a `Value`, so that keys keep the exporter's order;
    // indented by 4 as `json.dumps(results, sort_keys=False, indent=4)`.
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if report.serialize(&mut ser).is_err() {
        return String::new();
    }
    let mut text = String::from_utf8(buf).unwrap_or_default();
    text.push('\n');
    text
}

/// What `rally task start` prints per workload: its title, the table, durations, SLA.
pub fn render_text(r: &TaskResult) -> String {
    let mut out = String::new();
    for (n, w) in r.workloads.iter().enumerate() {
        let cfg = &w.prepared.cfg;
        let sub = &r.task.subtasks[w.subtask];
        out.push_str(&"-".repeat(80));
        out.push('\n');
        out.push_str(&format!(
            "Workload {} — {} ({}) — runner {} {}\n",
            n + 1,
            cfg.scenario,
            sub.title,
            cfg.runner_type,
            Value::Object(cfg.runner.clone())
        ));
        let failed = w.iterations.iter().filter(|i| i.failed()).count();
        out.push_str(&format!(
            "{} iterations, {failed} failed\n",
            w.iterations.len()
        ));
        out.push_str(&stats::render(&w.rows));
        out.push_str(&format!(
            "Load duration: {}\nFull duration: {}\n",
            stats::secs(Some(w.end_ms - w.start_ms)),
            stats::secs(Some(w.end_ms - w.start_ms))
        ));
        for s in &w.sla {
            out.push_str(&format!(
                "SLA {} {}: {}\n",
                s.criterion,
                if s.success { "PASS" } else { "FAIL" },
                s.detail.replace('\n', " ")
            ));
        }
        let mut errors: Vec<&Iteration> = w.iterations.iter().filter(|i| i.failed()).collect();
        errors.truncate(3);
        for e in errors {
            out.push_str(&format!(
                "  iteration {}: {}: {}\n",
                e.number,
                e.error[0],
                e.error[1].replace('\n', " ")
            ));
        }
        for note in &w.prepared.ignored {
            out.push_str(&format!("  note: {note}\n"));
        }
    }
    out.push_str(&"-".repeat(80));
    out.push('\n');
    out.push_str(&format!(
        "SLA: {} (Rally {} defaults, cloud {}, seed {})\n",
        if r.pass_sla() { "all passed" } else { "FAILED" },
        r.era.as_str(),
        r.cloud_name,
        r.seed
    ));
    out
}

/// `iteration, <atomic>…, iteration.duration, iteration.idle_duration, iteration.error` in
/// seconds (the calibration data's layout, plus the error type of a failed iteration).
pub fn iterations_csv(w: &WorkloadResult) -> String {
    let mut names: Vec<String> = Vec::new();
    for it in &w.iterations {
        for a in &it.atomics {
            if !names.contains(&a.name) {
                names.push(a.name.clone());
            }
        }
    }
    let mut out = String::from("iteration");
    for n in &names {
        out.push(',');
        out.push_str(n);
    }
    out.push_str(",iteration.duration,iteration.idle_duration,iteration.error\n");
    for it in &w.iterations {
        out.push_str(&it.number.to_string());
        for n in &names {
            out.push(',');
            let d: Option<u64> = it
                .atomics
                .iter()
                .filter(|a| &a.name == n)
                .map(|a| a.finished_ms - a.started_ms)
                .reduce(|x, y| x + y);
            if let Some(d) = d {
                out.push_str(&stats::secs(Some(d)));
            }
        }
        out.push_str(&format!(
            ",{},{},{}\n",
            stats::secs(Some(it.duration_ms)),
            stats::secs(Some(it.idle_ms)),
            it.error.first().cloned().unwrap_or_default()
        ));
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained HTML report: per workload its table, SLA and failed iterations.
pub fn html(r: &TaskResult) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    h.push_str(&esc(&r.task.title));
    h.push_str(" — novasim Rally report</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.fail{color:#b00}.pass{color:#070}.sub td:first-child{padding-left:2em;font-style:italic}</style></head><body>\n");
    h.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p>Task file {}, cloud <b>{}</b>, seed {}, Rally {} poll defaults. Virtual time: every duration is what Rally's client would have measured against the simulated cloud.</p>\n<p>SLA: <b class=\"{}\">{}</b></p>\n",
        esc(&r.task.title),
        esc(&r.task.description),
        esc(&r.task_file),
        esc(&r.cloud_name),
        r.seed,
        r.era.as_str(),
        if r.pass_sla() { "pass" } else { "fail" },
        if r.pass_sla() { "passed" } else { "failed" }
    ));
    for (n, w) in r.workloads.iter().enumerate() {
        let cfg = &w.prepared.cfg;
        h.push_str(&format!(
            "<h2>{}. {} <small>({})</small></h2>\n<p>runner {} {}; {} iterations, {} failed; load duration {} s</p>\n",
            n + 1,
            esc(&cfg.scenario),
            esc(&r.task.subtasks[w.subtask].title),
            esc(&cfg.runner_type),
            esc(&Value::Object(cfg.runner.clone()).to_string()),
            w.iterations.len(),
            w.iterations.iter().filter(|i| i.failed()).count(),
            stats::secs(Some(w.end_ms - w.start_ms))
        ));
        h.push_str("<table><tr><th>Action</th><th>Min (sec)</th><th>Median (sec)</th><th>90%ile (sec)</th><th>95%ile (sec)</th><th>Max (sec)</th><th>Avg (sec)</th><th>Success</th><th>Count</th></tr>\n");
        fn rows(h: &mut String, r: &stats::Row, depth: usize) {
            let d = &r.data;
            h.push_str(&format!(
                "<tr{}><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                if depth > 0 { " class=\"sub\"" } else { "" },
                "&nbsp;".repeat(depth * 2),
                esc(&r.display_name),
                stats::secs(d.min),
                stats::secs(d.median),
                stats::secs(d.p90),
                stats::secs(d.p95),
                stats::secs(d.max),
                stats::secs(d.avg),
                esc(&d.success),
                d.count
            ));
            for c in &r.children {
                rows(h, c, depth + 1);
            }
        }
        for row in &w.rows {
            rows(&mut h, row, 0);
        }
        h.push_str("</table>\n<ul>\n");
        for s in &w.sla {
            h.push_str(&format!(
                "<li class=\"{}\">{}: {}</li>\n",
                if s.success { "pass" } else { "fail" },
                esc(&s.criterion),
                esc(&s.detail).replace('\n', "<br>")
            ));
        }
        h.push_str("</ul>\n");
        let failed: Vec<&Iteration> = w.iterations.iter().filter(|i| i.failed()).collect();
        if !failed.is_empty() {
            h.push_str("<h3>Failed iterations</h3><table><tr><th>Iteration</th><th>Started (s)</th><th>Error</th></tr>\n");
            for i in failed {
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td style=\"text-align:left\">{}: {}</td></tr>\n",
                    i.number,
                    stats::secs(Some(i.timestamp_ms)),
                    esc(&i.error[0]),
                    esc(&i.error[1])
                ));
            }
            h.push_str("</table>\n");
        }
        for note in &w.prepared.ignored {
            h.push_str(&format!("<p><small>note: {}</small></p>\n", esc(note)));
        }
    }
    h.push_str("</body></html>\n");
    h
}

/// Writes the Rally files of `r` into `dir`.
pub fn write_all(dir: &Path, r: &TaskResult) -> std::io::Result<()> {
    let write = |name: &str, text: &[u8]| -> std::io::Result<()> {
        let mut f = crate::output::buffered_file(&dir.join(name))?;
        f.write_all(text)?;
        f.flush()
    };
    write(JSON_FILE, json_text(r).as_bytes())?;
    write(HTML_FILE, html(r).as_bytes())?;
    write(STATS_FILE, render_text(r).as_bytes())?;
    for (n, w) in r.workloads.iter().enumerate() {
        write(
            &format!("rally_w{}.csv", n + 1),
            iterations_csv(w).as_bytes(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ids_are_deterministic() {
        assert_eq!(date(0), "1970-01-01T00:00:00");
        assert_eq!(date(86_400_000 + 3_723_000), "1970-01-02T01:02:03");
        assert_eq!(uuid(7, 1, 0), uuid(7, 1, 0));
        assert_ne!(uuid(7, 1, 0), uuid(7, 1, 1));
        assert_eq!(uuid(7, 1, 0).len(), 36);
    }
}
