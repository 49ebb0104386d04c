//! `report.html`: one self-contained page per run — the `[[expect]]` results (failures first)
//! when the folder has expectations.csv, the summary (per action: requests, HTTP codes,
//! outcomes, latency percentiles by nearest rank and by Rally's definition), final server and
//! migration statuses, the peak capacity held twice, the charts inlined as SVG, and the
//! scenario that ran (scenario.toml). Inline CSS, no script, no network reference, so it opens
//! anywhere, offline, and is diffable (the bytes depend only on the folder's files); every
//! text from them is HTML-escaped.

use crate::plot::{self, MAX_TIMELINE_SERVERS};
use crate::results::{
    ActionSummary, ExpectationRow as Expectation, Percentiles, ReadError, ResultsFolder, Summary,
    SCENARIO_FILE,
};
use crate::trace::summary::CentiMs;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The file written into every results folder.
pub use crate::results::REPORT_FILE;

/// Why the report could not be written. Displayed as one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: no such results folder", .0.display())]
    NoFolder(PathBuf),
    #[error("{}: missing (draw the plots first: novasim plot FOLDER)", .0.display())]
    MissingPlot(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// expectations.csv of `folder`, failures first (each group in the scenario's order); `None`
/// when the folder has none (a scenario without `[[expect]]`).
fn expectations(folder: &ResultsFolder) -> Result<Option<Vec<Expectation>>, ReportError> {
    let Some(mut rows) = folder.expectations()? else {
        return Ok(None);
    };
    // Failures first: they are what a reader opens the report for.
    rows.sort_by_key(|e| (e.passed, e.index));
    Ok(Some(rows))
}

/// A Rally percentile of summary.json (milliseconds, at most two decimals) in seconds, exact:
/// read back as integer hundredths, so no float is formatted.
fn rally_secs(ms: Option<f64>) -> String {
    match ms {
        Some(x) if x.is_finite() && x >= 0.0 => CentiMs((x * 100.0).round() as u64).to_string(),
        _ => "–".to_string(),
    }
}

/// What each chart shows, under its heading in the report.
const CAPTIONS: [(&str, &str, &str); 5] = [
    (
        "throughput",
        "Throughput",
        "Per action and window: requests that succeeded, failed after being accepted, or were \
         rejected with a 4xx, stacked in one bar that spans exactly the window (what a bar \
         counts happened within its span), and the requests submitted (throughput.csv).",
    ),
    (
        "statuses",
        "Servers per status",
        "Servers in each status over time, stacked: an exact step function of the status \
         changes, each at its instant (transitions.csv).",
    ),
    (
        "timeline",
        "Server timeline",
        "One row per server: its status over time; a marker where its host changed, labelled \
         with the new host; a red cross where one of its migrations failed (migration status \
         error or failed) (transitions.csv).",
    ),
    (
        "allocations",
        "Allocations",
        "Placement usage of the cloud and of each host, split into the part held by instances \
         and the part held by migration consumers: capacity held twice while servers move or \
         wait in VERIFY_RESIZE; the cloud's capacity line counts enabled and up hosts only \
         (hosts.csv).",
    ),
    (
        "latency",
        "Latency",
        "Per action, the completion latency of its successful requests, submission to the end \
         of the asynchronous work (requests.csv).",
    ),
];

/// Reads summary.json and the charts' SVGs in `dir` (drawn by [`plot::write_all`]) and writes
/// `dir/report.html`; returns its path.
pub fn write(dir: &Path) -> Result<PathBuf, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::NoFolder(dir.to_path_buf()));
    }
    let folder = ResultsFolder::open(dir)?;
    let summary = folder.summary()?;
    let servers = summary.servers();
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    for stem in plot::PLOTS {
        if stem == "timeline" && servers > MAX_TIMELINE_SERVERS as u64 {
            notes.push(format!(
                "The server timeline is not drawn: this run has {servers} servers, more than \
                 {MAX_TIMELINE_SERVERS}, and its rows would be too thin to read."
            ));
            continue;
        }
        let path = dir.join(format!("{stem}.svg"));
        if !path.is_file() {
            return Err(ReportError::MissingPlot(path));
        }
        figures.push((stem, inline_svg(&read(&path)?)));
    }
    let checks = expectations(&folder)?;
    let scenario = folder.scenario_text()?;
    let html = render(
        summary,
        &figures,
        &notes,
        checks.as_deref(),
        scenario.as_deref(),
    );
    let out = dir.join(REPORT_FILE);
    std::fs::write(&out, html).map_err(|source| ReportError::Io {
        path: out.clone(),
        source,
    })?;
    Ok(out)
}

fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The SVG as an element of the page: the root's fixed size and namespace attribute are
/// dropped (an inline SVG in HTML needs neither; CSS scales it to the page width).
fn inline_svg(svg: &str) -> String {
    let Some(open) = svg.find("<svg") else {
        return String::new();
    };
    let Some(close) = svg[open..].find('>').map(|i| open + i) else {
        return String::new();
    };
    let tag = &svg[open..close];
    let attr = |name: &str| {
        let key = format!(" {name}=\"");
        tag.find(&key).and_then(|i| {
            let rest = &tag[i + key.len()..];
            rest.find('"').map(|j| rest[..j].to_string())
        })
    };
    let view_box = attr("viewBox").unwrap_or_default();
    let width = attr("width").unwrap_or_default();
    format!(
        "<svg viewBox=\"{}\" style=\"max-width:{}px\" role=\"img\">{}",
        esc(&view_box),
        esc(&width),
        &svg[close + 1..]
    )
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds as seconds with milliseconds, like every time in the results ("61.722").
fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

const CSS: &str = "\
body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:2em auto;max-width:1260px;\
padding:0 1em;color:#212121;line-height:1.4}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;\
border-bottom:1px solid #ddd;padding-bottom:.2em}\
.meta{color:#555}nav a{margin-right:1em}\
table{border-collapse:collapse;margin:.6em 0}\
th,td{border:1px solid #ccc;padding:.25em .7em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
td.text,th.text{text-align:left}\
figure{margin:1em 0 2em}figure svg{width:100%;height:auto;border:1px solid #eee}\
figcaption{color:#444;margin-bottom:.5em}.files{font-size:.9em;color:#555}\
.note{background:#fff8e1;border-left:4px solid #fbc02d;padding:.4em .8em}\
tr.fail td{background:#ffebee}p.fail{color:#b71c1c;font-weight:bold}\
pre.scenario{background:#f7f7f7;border:1px solid #ddd;padding:.6em;overflow-x:auto;\
font-size:.85em}";

fn render(
    s: &Summary,
    figures: &[(&str, String)],
    notes: &[String],
    checks: Option<&[Expectation]>,
    scenario: Option<&str>,
) -> String {
    let mut h = String::new();
    let title = format!("novasim report: {}", s.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\">seed {} · simulated time {} s · {} events · {} requests · {} \
         instance actions ({} with an error)</p>",
        s.seed,
        s.end_time_s.map_or_else(String::new, |t| t.to_string()),
        s.events,
        s.requests,
        s.instance_actions,
        s.instance_actions_with_error
    );
    h.push_str("<nav>");
    if checks.is_some() {
        h.push_str("<a href=\"#expectations\">Expectations</a>");
    }
    h.push_str(
        "<a href=\"#requests\">Requests</a><a href=\"#latency\">Latency</a>\
         <a href=\"#statuses\">Statuses</a><a href=\"#capacity\">Capacity held twice</a>\
         <a href=\"#charts\">Charts</a>",
    );
    if scenario.is_some() {
        h.push_str("<a href=\"#scenario\">Scenario</a>");
    }
    h.push_str("</nav>\n");
    for n in notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    if let Some(checks) = checks {
        expectations_section(&mut h, checks);
    }

    // Actions in the simulator's order, as in the charts; summary.json lists every action
    // (zeros included), the page only those requested.
    let mut actions: Vec<(&String, &ActionSummary)> =
        s.actions.iter().filter(|(_, a)| a.submitted > 0).collect();
    actions.sort_by_key(|(name, _)| (plot::action_rank(name), name.as_str()));

    h.push_str("<h2 id=\"requests\">Requests per action</h2>\n");
    if actions.is_empty() {
        h.push_str("<p>No API request in this run.</p>\n");
    } else {
        h.push_str(
            "<table>\n<tr><th>action</th><th>submitted</th><th class=\"text\">HTTP codes</th><th>ok</th>\
             <th>failed</th><th>pending</th><th class=\"text\">failures</th></tr>\n",
        );
        for (name, a) in &actions {
            let codes = a
                .http_codes
                .iter()
                .map(|(c, n)| format!("{c} × {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let failures = a
                .failures
                .iter()
                .map(|(c, n)| format!("{c} × {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td class=\"text\">{}</td></tr>",
                esc(name),
                a.submitted,
                esc(&codes),
                a.succeeded,
                a.failed_async,
                a.pending,
                esc(&failures)
            );
        }
        h.push_str(
            "</table>\n<p>ok: the asynchronous work succeeded; failed: it failed after \
                    a 2xx answer; pending: not finished when the run ended.</p>\n",
        );
    }

    h.push_str("<h2 id=\"latency\">Latency (s)</h2>\n");
    latency_table(
        &mut h,
        "Completion: submission to the end of the asynchronous work (a migrate ends at \
         VERIFY_RESIZE), successful requests only. p50–p99: nearest rank (the value at rank \
         ⌈q/100 × n⌉ of the sorted latencies, an observed value); Rally p50–p99: Rally's \
         definition (linear interpolation between the sorted values around rank \
         q/100 × (n − 1)), to compare with a Rally report; mean rounded down to the \
         millisecond.",
        &actions,
        |a| a.completion_latency.as_ref(),
    );
    latency_table(
        &mut h,
        "Response: submission to the HTTP answer, every answered request. Percentiles as \
         above.",
        &actions,
        |a| a.response_latency.as_ref(),
    );

    h.push_str("<h2 id=\"statuses\">Final statuses</h2>\n");
    count_table(
        &mut h,
        "server status",
        "servers",
        &s.final_status,
        "No server.",
    );
    count_table(
        &mut h,
        "migration status",
        "migrations",
        &s.migration_status,
        "No migration.",
    );

    h.push_str("<h2 id=\"capacity\">Capacity held twice</h2>\n");
    let _ = writeln!(
        h,
        "<p>While a server moves (and until its resize is confirmed or reverted), placement \
         holds its resources on both hosts: the migration consumer on the source and the \
         instance on the destination. Peak held by migration consumers across the cloud:</p>\n\
         <table>\n<tr><th>resource</th><th>peak</th></tr>\n\
         <tr><td>vCPUs</td><td>{}</td></tr>\n<tr><td>memory (MiB)</td><td>{}</td></tr>\n\
         </table>",
        s.peak_migration_vcpus, s.peak_migration_memory_mb
    );

    h.push_str("<h2 id=\"charts\">Charts</h2>\n");
    for (stem, svg) in figures {
        let (title, caption) = CAPTIONS
            .iter()
            .find(|c| c.0 == *stem)
            .map_or((*stem, ""), |c| (c.1, c.2));
        let _ = writeln!(
            h,
            "<figure id=\"plot-{stem}\">\n<figcaption><strong>{}</strong> — {}</figcaption>\n\
             {svg}\n<p class=\"files\"><a href=\"{stem}.png\">{stem}.png</a> · \
             <a href=\"{stem}.svg\">{stem}.svg</a></p>\n</figure>",
            esc(title),
            esc(caption)
        );
    }
    if let Some(text) = scenario {
        let _ = writeln!(
            h,
            "<h2 id=\"scenario\">Scenario</h2>\n<p>The scenario this run simulated \
             (<a href=\"{file}\">{file}</a>), with the overrides it applied as comments at \
             the top.</p>\n<pre class=\"scenario\">{}</pre>",
            esc(text),
            file = SCENARIO_FILE
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">Made by novasim {} from summary.json and the CSVs of this \
         folder.</p>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

/// The `[[expect]]` results, failures first, as `run` prints them: expected, then actual.
fn expectations_section(h: &mut String, checks: &[Expectation]) {
    let failed = checks.iter().filter(|e| !e.passed).count();
    let _ = writeln!(
        h,
        "<h2 id=\"expectations\">Expectations</h2>\n<p class=\"{}\">{} of {} passed{}.</p>",
        if failed > 0 { "fail" } else { "pass" },
        checks.len() - failed,
        checks.len(),
        match failed {
            0 => String::new(),
            n => format!(", {n} failed (listed first)"),
        }
    );
    if checks.is_empty() {
        return;
    }
    h.push_str(
        "<table>\n<tr><th>result</th><th>#</th><th class=\"text\">name</th>\
         <th class=\"text\">check</th><th class=\"text\">expected</th>\
         <th class=\"text\">actual</th></tr>\n",
    );
    for e in checks {
        let _ = writeln!(
            h,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td class=\"text\">{}</td>\
             <td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
            if e.passed { "pass" } else { "fail" },
            if e.passed { "pass" } else { "FAIL" },
            e.index,
            esc(&e.name),
            esc(&e.kind),
            esc(&e.expected),
            esc(&e.actual)
        );
    }
    h.push_str("</table>\n");
}

fn latency_table(
    h: &mut String,
    intro: &str,
    actions: &[(&String, &ActionSummary)],
    get: impl Fn(&ActionSummary) -> Option<&Percentiles>,
) {
    let _ = writeln!(h, "<p>{}</p>", esc(intro));
    let rows: Vec<_> = actions
        .iter()
        .filter_map(|(name, a)| get(a).map(|p| (name, p)))
        .collect();
    if rows.is_empty() {
        h.push_str("<p>No request.</p>\n");
        return;
    }
    h.push_str(
        "<table>\n<tr><th>action</th><th>count</th><th>min</th><th>p50</th><th>p90</th>\
         <th>p95</th><th>p99</th><th>max</th><th>mean</th><th>Rally p50</th>\
         <th>Rally p90</th><th>Rally p95</th><th>Rally p99</th></tr>\n",
    );
    for (name, p) in rows {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(name), p.count);
        for ms in [
            p.min_ms, p.p50_ms, p.p90_ms, p.p95_ms, p.p99_ms, p.max_ms, p.mean_ms,
        ] {
            let _ = write!(h, "<td>{}</td>", secs(ms));
        }
        for ms in [
            p.p50_rally_ms,
            p.p90_rally_ms,
            p.p95_rally_ms,
            p.p99_rally_ms,
        ] {
            let _ = write!(h, "<td>{}</td>", esc(&rally_secs(ms)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn count_table(h: &mut String, what: &str, unit: &str, m: &BTreeMap<String, u64>, none: &str) {
    // summary.json has every status, zeros included: the table shows those that occur.
    let m: BTreeMap<&String, &u64> = m.iter().filter(|(_, n)| **n > 0).collect();
    if m.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(none));
        return;
    }
    let _ = writeln!(h, "<table>\n<tr><th>{what}</th><th>{unit}</th></tr>");
    for (k, n) in m {
        let _ = writeln!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(k));
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_svg_drops_size_and_namespace() {
        let svg = "<svg width=\"1200\" height=\"700\" viewBox=\"0 0 1200 700\" \
                   xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        let out = inline_svg(svg);
        assert!(out.starts_with("<svg viewBox=\"0 0 1200 700\" style=\"max-width:1200px\""));
        assert!(!out.contains("http"));
        assert!(out.contains("<rect/>"));
    }

    #[test]
    fn rally_percentiles_show_exactly_in_seconds() {
        assert_eq!(rally_secs(Some(38.5)), "0.0385");
        assert_eq!(rally_secs(Some(28_210.0)), "28.210");
        assert_eq!(rally_secs(Some(28_210.05)), "28.21005");
        assert_eq!(rally_secs(None), "–");
    }

    #[test]
    fn times_have_milliseconds() {
        assert_eq!(secs(61_722), "61.722");
        assert_eq!(secs(50), "0.050");
    }
}
