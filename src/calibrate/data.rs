//! Reading measured Rally results: a per-iteration CSV (`iteration`, one column per atomic
//! action, `iteration.duration`, `iteration.idle_duration`, optionally `iteration.error`, in
//! seconds) or Rally's JSON export (`rally task report --json`: tasks → subtasks → workloads →
//! `data` iterations with their `atomic_actions`). Only successful iterations count, as in
//! Rally's statistics; durations become integer milliseconds.

use super::CalibrateError;
use serde_json::Value;
use std::path::Path;

/// The measured iterations of one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Shown name of the file read.
    pub file: String,
    /// Top-level atomic action names, in column (first-seen) order.
    pub atomics: Vec<String>,
    /// Successful iterations in file order: per atomic its duration (ms), absent when the
    /// iteration did not run it.
    pub rows: Vec<Vec<Option<u64>>>,
    /// Failed (or incomplete) iterations skipped.
    pub skipped: usize,
    /// The Rally scenario the file names (JSON export only).
    pub scenario: Option<String>,
    /// The runner's concurrency the file records (JSON export only).
    pub concurrency: Option<u32>,
}

impl Measured {
    /// The durations (ms) of atomic `name` over the rows selected by `keep(index)`, sorted.
    pub fn durations(&self, name: &str, keep: impl Fn(usize) -> bool) -> Vec<u64> {
        let Some(j) = self.atomics.iter().position(|a| a == name) else {
            return Vec::new();
        };
        let mut out: Vec<u64> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .filter_map(|(_, r)| r[j])
            .collect();
        out.sort_unstable();
        out
    }
}

/// Seconds → whole milliseconds; `None` for what is not a finite duration ≥ 0.
fn ms(secs: f64) -> Option<u64> {
    (secs.is_finite() && (0.0..1e9).contains(&secs)).then(|| (secs * 1000.0).round() as u64)
}

/// Reads `path`: JSON if its first non-blank character is `{`, else CSV.
pub fn read(path: &Path, workload: Option<usize>) -> Result<Measured, CalibrateError> {
    let file = crate::text::shown_path(path);
    let bytes = std::fs::read(path).map_err(|e| CalibrateError::Input {
        file: file.clone(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| CalibrateError::Input {
        file: file.clone(),
        line: None,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(CalibrateError::Input {
            file,
            line: Some(1),
            message: "empty file: expected a per-iteration CSV header or Rally's JSON export"
                .into(),
        });
    }
    if text.trim_start().starts_with('{') {
        read_json(&text, file, workload)
    } else {
        if workload.is_some() {
            return Err(CalibrateError::Usage(format!(
                "{file}: --workload selects a workload of a JSON export; a CSV holds one"
            )));
        }
        read_csv(&text, file)
    }
}

/// What a column of the CSV is.
enum Column {
    Iteration,
    Atomic(usize),
    Duration,
    Idle,
    Error,
}

fn read_csv(text: &str, file: String) -> Result<Measured, CalibrateError> {
    let err = |line: u64, message: String| CalibrateError::Input {
        file: file.clone(),
        line: Some(line as usize),
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| err(1, format!("bad CSV header: {e}")))?
        .clone();
    let mut atomics: Vec<String> = Vec::new();
    let mut cols = Vec::new();
    for (k, name) in header.iter().enumerate() {
        let name = name.trim();
        let col = match name {
            "iteration" => Column::Iteration,
            "iteration.duration" => Column::Duration,
            "iteration.idle_duration" => Column::Idle,
            "iteration.error" => Column::Error,
            _ if valid_atomic(name) => {
                if atomics.iter().any(|a| a == name) {
                    return Err(err(1, format!("column {}: {name:?} appears twice", k + 1)));
                }
                atomics.push(name.to_string());
                Column::Atomic(atomics.len() - 1)
            }
            _ => {
                return Err(err(
                    1,
                    format!(
                        "column {}: unknown column {name:?} (expected iteration, Rally atomic \
                         actions such as nova.boot_server, iteration.duration, \
                         iteration.idle_duration, iteration.error)",
                        k + 1
                    ),
                ))
            }
        };
        cols.push(col);
    }
    if !cols.iter().any(|c| matches!(c, Column::Duration)) {
        return Err(err(1, "no iteration.duration column".into()));
    }
    if atomics.is_empty() {
        return Err(err(
            1,
            "no atomic action column (e.g. nova.boot_server)".into(),
        ));
    }
    let mut rows = Vec::new();
    let mut skipped = 0;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, format!("bad CSV row: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let mut row = vec![None; atomics.len()];
        let mut failed = false;
        for (cell, col) in rec.iter().zip(&cols) {
            let cell = cell.trim();
            let name = |c: &Column| match c {
                Column::Atomic(j) => atomics[*j].clone(),
                Column::Iteration => "iteration".into(),
                Column::Duration => "iteration.duration".into(),
                Column::Idle => "iteration.idle_duration".into(),
                Column::Error => "iteration.error".into(),
            };
            match col {
                Column::Error => failed |= !cell.is_empty(),
                _ if cell.is_empty() => {
                    if matches!(col, Column::Duration) {
                        return Err(err(line, "iteration.duration is empty".into()));
                    }
                }
                _ => {
                    let v = cell
                        .parse::<f64>()
                        .ok()
                        .and_then(|s| match col {
                            // The zipped reports number rows by their first iteration.
                            Column::Iteration => (s >= 0.0).then_some(0),
                            _ => ms(s),
                        })
                        .ok_or_else(|| {
                            err(
                                line,
                                format!("{}: {cell:?} is not a duration in seconds ≥ 0", name(col)),
                            )
                        })?;
                    if let Column::Atomic(j) = col {
                        row[*j] = Some(v);
                    }
                }
            }
        }
        if failed {
            skipped += 1;
        } else {
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Err(err(
            1,
            "no successful iteration: the file has a header and no usable row".into(),
        ));
    }
    Ok(Measured {
        file,
        atomics,
        rows,
        skipped,
        scenario: None,
        concurrency: None,
    })
}

/// `service.action` (`nova.boot_server`, `cinder.create_volume`, `nova.create_20_rules`).
fn valid_atomic(name: &str) -> bool {
    let Some((service, action)) = name.split_once('.') else {
        return false;
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    };
    service != "iteration"
        && word(service)
        && word(action)
        && service.starts_with(|c: char| c.is_ascii_lowercase())
}

fn read_json(
    text: &str,
    file: String,
    workload: Option<usize>,
) -> Result<Measured, CalibrateError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| CalibrateError::Input {
        file: file.clone(),
        line: Some(e.line()),
        message: format!("not JSON: {e}"),
    })?;
    let bad = |path: &str, message: &str| CalibrateError::Input {
        file: file.clone(),
        line: None,
        message: format!("{path}: {message}"),
    };
    let mut found: Vec<(String, &Value)> = Vec::new();
    let tasks = doc
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("tasks", "missing: not a `rally task report --json` export"))?;
    for (t, task) in tasks.iter().enumerate() {
        let subtasks = task
            .get("subtasks")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(&format!("tasks[{t}].subtasks"), "missing or not a list"))?;
        for (s, sub) in subtasks.iter().enumerate() {
            let ws = sub
                .get("workloads")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    bad(
                        &format!("tasks[{t}].subtasks[{s}].workloads"),
                        "missing or not a list",
                    )
                })?;
            for (k, w) in ws.iter().enumerate() {
                found.push((format!("tasks[{t}].subtasks[{s}].workloads[{k}]"), w));
            }
        }
    }
    let (path, w) = match (workload, found.len()) {
        (_, 0) => return Err(bad("tasks", "no workload")),
        (None, 1) => found.swap_remove(0),
        (None, n) => {
            return Err(CalibrateError::Usage(format!(
                "{file}: {n} workloads; choose one with --workload 1..={n}"
            )))
        }
        (Some(i), n) if (1..=n).contains(&i) => found.swap_remove(i - 1),
        (Some(i), n) => {
            return Err(CalibrateError::Usage(format!(
                "{file}: --workload {i}: the export has {n} workloads"
            )))
        }
    };
    let scenario = w
        .get("scenario")
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next().cloned());
    let concurrency = w
        .get("runner")
        .and_then(Value::as_object)
        .and_then(|m| m.values().next())
        .and_then(|r| r.get("concurrency"))
        .and_then(Value::as_u64)
        .map(|c| c.clamp(1, u32::MAX as u64) as u32);
    let data = w
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(&format!("{path}.data"), "missing or not a list"))?;
    let mut atomics: Vec<String> = Vec::new();
    let mut per_iter: Vec<Vec<(usize, u64)>> = Vec::new();
    let mut skipped = 0;
    for (i, it) in data.iter().enumerate() {
        let ip = format!("{path}.data[{i}]");
        let failed = it
            .get("error")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty());
        if failed {
            skipped += 1;
            continue;
        }
        let acts = it
            .get("atomic_actions")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(&format!("{ip}.atomic_actions"), "missing or not a list"))?;
        let mut row = Vec::new();
        for (a, act) in acts.iter().enumerate() {
            let ap = format!("{ip}.atomic_actions[{a}]");
            let name = act
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("{ap}.name"), "missing or not a string"))?;
            if !valid_atomic(name) {
                return Err(bad(
                    &format!("{ap}.name"),
                    &format!("{name:?} is not a Rally atomic action name"),
                ));
            }
            let time = |k: &str| {
                act.get(k)
                    .and_then(Value::as_f64)
                    .ok_or_else(|| bad(&format!("{ap}.{k}"), "missing or not a number"))
            };
            let (start, end) = (time("started_at")?, time("finished_at")?);
            let d = ms(end - start)
                .ok_or_else(|| bad(&format!("{ap}.finished_at"), "before started_at"))?;
            let j = match atomics.iter().position(|x| x == name) {
                Some(j) => j,
                None => {
                    atomics.push(name.to_string());
                    atomics.len() - 1
                }
            };
            row.push((j, d));
        }
        per_iter.push(row);
    }
    if per_iter.is_empty() {
        return Err(bad(&format!("{path}.data"), "no successful iteration"));
    }
    // An atomic run twice in an iteration counts once with the sum, as the CSV export does.
    let rows = per_iter
        .into_iter()
        .map(|r| {
            let mut row: Vec<Option<u64>> = vec![None; atomics.len()];
            for (j, d) in r {
                row[j] = Some(row[j].unwrap_or(0) + d);
            }
            row
        })
        .collect();
    Ok(Measured {
        file,
        atomics,
        rows,
        skipped,
        scenario,
        concurrency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_milliseconds_and_failed_rows_are_skipped() {
        let m = read_csv(
            "iteration,nova.boot_server,nova.delete_server,iteration.duration,iteration.idle_duration,iteration.error\n\
             1,9.5139,2.8592,11.3732,1.0,\n\
             2,9.0,,9.0,1.0,GetResourceErrorStatus\n\
             3,10.0005,2.0,12.0,0,\n",
            "f.csv".into(),
        )
        .unwrap();
        assert_eq!(m.atomics, ["nova.boot_server", "nova.delete_server"]);
        assert_eq!(
            m.rows,
            [[Some(9514), Some(2859)], [Some(10001), Some(2000)]]
        );
        assert_eq!(m.skipped, 1);
        assert_eq!(m.durations("nova.boot_server", |i| i == 1), [10001]);
    }

    #[test]
    fn the_json_export_sums_an_atomic_run_twice_and_reads_the_runner() {
        let text = r#"{"tasks": [{"subtasks": [{"workloads": [{
            "scenario": {"NovaServers.boot_and_delete_server": {}},
            "runner": {"constant": {"times": 2, "concurrency": 4}},
            "data": [
              {"error": [], "atomic_actions": [
                {"name": "nova.boot_server", "started_at": 10.0, "finished_at": 17.5},
                {"name": "nova.delete_server", "started_at": 17.5, "finished_at": 19.0},
                {"name": "nova.delete_server", "started_at": 19.0, "finished_at": 20.0}]},
              {"error": ["X", "y", ""], "atomic_actions": []}
            ]}]}]}]}"#;
        let m = read_json(text, "r.json".into(), None).unwrap();
        assert_eq!(
            m.scenario.as_deref(),
            Some("NovaServers.boot_and_delete_server")
        );
        assert_eq!(m.concurrency, Some(4));
        assert_eq!(m.rows, [[Some(7500), Some(2500)]]);
        assert_eq!(m.skipped, 1);
        let e = read_json(r#"{"tasks": [{"subtasks": [{"workloads": [{"data": [{"atomic_actions": [{"name": "nova.boot_server", "started_at": 1}]}]}]}]}]}"#, "r.json".into(), None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "r.json: tasks[0].subtasks[0].workloads[0].data[0].atomic_actions[0].finished_at: missing or not a number"
        );
    }
}
