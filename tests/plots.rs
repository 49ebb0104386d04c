//! The charts (SVG + PNG) and report.html every run writes, and `novasim plot`: each file is
//! there, readable, shows what the CSVs hold, is self-contained, and is the same bytes on every
//! run and every redraw.

use novasim::plot::PLOTS;
use novasim::run::run_to_dir;
use novasim::scenario::{load, parse_str};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Scratch {
    static N: AtomicU32 = AtomicU32::new(0);
    Scratch(std::env::temp_dir().join(format!(
        "novasim-plots-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )))
}

/// Runs a bundled scenario into a fresh folder.
fn run_bundled(name: &str) -> Scratch {
    let sc =
        load(Path::new(&format!("scenarios/{name}.toml")), &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = scratch(name);
    run_to_dir(sc, &out.0).unwrap_or_else(|e| panic!("{e}"));
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of a CSV as column → value maps.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(&dir.join("summary.json"))).expect("summary.json")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Checks the SVG is well-formed as far as a chart needs: one root `svg`, every tag closed in
/// order, no stray `<` or `&` in text.
fn check_xml(name: &str, s: &str) {
    assert!(s.starts_with("<svg "), "{name}: does not start with <svg");
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = s;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(
            !text.contains('&') || text.contains(';'),
            "{name}: unescaped & in {text:?}"
        );
        let close = rest[open..]
            .find('>')
            .map(|i| open + i)
            .unwrap_or_else(|| panic!("{name}: unclosed <"));
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "{name}: < inside a tag: {tag:?}");
        if let Some(end) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop(),
                Some(end),
                "{name}: </{end}> closes the wrong element"
            );
        } else if !tag.ends_with('/') {
            let element = tag.split_whitespace().next().unwrap_or("");
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(element);
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
    assert_eq!(roots, 1, "{name}: {roots} root elements");
    assert!(rest.trim().is_empty(), "{name}: text after the root");
}

/// The contents of the `<text>` elements, unescaped.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let start = t.find('>')? + 1;
            let end = t.find("</text>")?;
            Some(unescape(t[start..end].trim()))
        })
        .collect()
}

fn svg_size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let i = svg.find(&key).unwrap_or_else(|| panic!("no {name}")) + key.len();
        svg[i..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("number")
    };
    (attr("width"), attr("height"))
}

/// Width and height from a PNG's IHDR, after checking the signature.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 33, "PNG too short");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    assert_eq!(png[24], 8, "bit depth");
    assert_eq!(png[25], 2, "RGB");
    assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
    (be(16), be(20))
}

/// Checks every chart file of `dir` and returns each SVG's text contents by chart.
fn check_files(dir: &Path, with_timeline: bool) -> BTreeMap<&'static str, Vec<String>> {
    let mut out = BTreeMap::new();
    for stem in PLOTS {
        let (svg_path, png_path) = (
            dir.join(format!("{stem}.svg")),
            dir.join(format!("{stem}.png")),
        );
        if stem == "timeline" && !with_timeline {
            assert!(!svg_path.exists() && !png_path.exists(), "timeline drawn");
            continue;
        }
        let svg = read(&svg_path);
        check_xml(stem, &svg);
        let (w, h) = svg_size(&svg);
        assert_eq!(
            png_size(&bytes(&png_path)),
            (w, h),
            "{stem}: PNG and SVG sizes"
        );
        assert!(
            (800..=2000).contains(&w) && (200..=6000).contains(&h),
            "{stem}: {w}×{h}"
        );
        out.insert(stem, texts(&svg));
    }
    out
}

fn has(texts: &[String], s: &str) -> bool {
    texts.iter().any(|t| t == s)
}

fn count_prefix(texts: &[String], prefix: &str) -> usize {
    texts.iter().filter(|t| t.starts_with(prefix)).count()
}

#[test]
fn teaching_charts_show_what_the_csvs_hold() {
    let run = run_bundled("teaching");
    let dir = &run.0;
    let t = check_files(dir, true);

    // Throughput: one panel per action that occurs, named with its totals.
    let tp = &t["throughput"];
    assert!(has(
        tp,
        "Throughput by action and outcome (each bar spans its window)"
    ));
    assert!(has(tp, "simulated time (s)"));
    assert!(has(tp, "requests per 30 s window"), "{tp:?}");
    for label in [
        "succeeded",
        "failed (after a 2xx answer)",
        "rejected (4xx)",
        "submitted",
    ] {
        assert!(has(tp, label), "legend {label}");
    }
    let rows = csv_rows(&dir.join("throughput.csv"));
    let mut present = BTreeSet::new();
    for col in rows[0].keys() {
        if let Some((action, what)) = col.rsplit_once('_') {
            let counted = ["submitted", "rejected", "succeeded", "failed"].contains(&what);
            if counted && rows.iter().any(|r| r[col] != "0") {
                present.insert(action.to_string());
            }
        }
    }
    assert_eq!(present.len(), 3, "{present:?}");
    for action in [
        "migrate",
        "confirmResize",
        "revertResize",
        "create",
        "delete",
    ] {
        let expected = usize::from(present.contains(action));
        assert_eq!(
            count_prefix(tp, &format!("{action}: ")),
            expected,
            "{action}"
        );
    }
    assert!(
        has(
            tp,
            "migrate: 4 submitted, 3 succeeded, 0 failed, 1 rejected"
        ),
        "{tp:?}"
    );

    // Statuses: only statuses that occur, with their peak.
    let st = &t["statuses"];
    assert!(has(st, "Servers per status over time"));
    assert!(has(st, "servers (every change at its instant)"));
    // Exact peaks: 3 servers resizing at 30.05–38.21 s (window-end samples saw 2), and the
    // 5 s revert (never at a window's end).
    for (status, peak) in [
        ("ACTIVE", 5),
        ("RESIZE", 3),
        ("REVERT_RESIZE", 1),
        ("VERIFY_RESIZE", 3),
    ] {
        assert!(
            has(st, &format!("{status} (peak {peak})")),
            "{status}: {st:?}"
        );
    }
    assert_eq!(count_prefix(st, "ERROR"), 0);

    // Timeline: one row label per server, one marker label per host change.
    let tl = &t["timeline"];
    let transitions = csv_rows(&dir.join("transitions.csv"));
    let mut hosts: BTreeMap<&str, &str> = BTreeMap::new();
    let mut moves = 0;
    for r in &transitions {
        let (server, host) = (r["server"].as_str(), r["host"].as_str());
        if let Some(prev) = hosts.insert(server, host) {
            moves += usize::from(prev != host);
        }
    }
    assert_eq!(hosts.len(), 5);
    for server in hosts.keys() {
        assert_eq!(
            count_prefix(tl, &format!("{server} (")),
            1,
            "row label of {server}"
        );
    }
    assert_eq!(count_prefix(tl, "→"), moves, "{tl:?}");
    assert_eq!(moves, 4, "3 migrations and a revert");
    assert!(has(tl, "vm1 (h1)") && has(tl, "→h2"));

    // Allocations: the cloud and each host, with the part held by migrations.
    let al = &t["allocations"];
    assert!(has(
        al,
        "held by migration consumers (capacity held twice during moves)"
    ));
    assert!(has(
        al,
        "placement capacity (cloud total: enabled and up hosts only)"
    ));
    assert!(has(al, "memory (GiB)"), "teaching is memory-bound: {al:?}");
    assert!(
        has(
            al,
            "Cloud total, 3 hosts — peak held by migrations: 12 GiB at 30.07 s"
        ),
        "{al:?}"
    );
    for host in ["h1", "h2", "h3"] {
        assert!(has(al, host), "panel {host}");
    }

    // Latency: one histogram per action with a successful request.
    let la = &t["latency"];
    assert!(has(la, "completion latency, submitted → completed (s)"));
    for (action, n) in [("migrate", 3), ("confirmResize", 1), ("revertResize", 1)] {
        assert!(
            has(la, &format!("{action} ({n} successful)")),
            "{action}: {la:?}"
        );
        assert_eq!(count_prefix(la, &format!("{action}: {n} successful — ")), 1);
    }
    assert!(la.iter().any(|t| t.contains("p50 28.21 s")), "{la:?}");
}

#[test]
fn report_is_self_contained_and_holds_the_summary() {
    let run = run_bundled("capacity-drain");
    let dir = &run.0;
    let html = read(&dir.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg").count(),
        PLOTS.len(),
        "every chart inline"
    );
    for bad in [
        "http://", "https://", "<script", " src=", "<link", "@import",
    ] {
        assert!(!html.contains(bad), "report references {bad}");
    }
    let s = summary(dir);
    let secs = |ms: u64| format!("{}.{:03}", ms / 1000, ms % 1000);
    for (action, a) in s["actions"].as_object().expect("actions") {
        let submitted = a["submitted"].as_u64().expect("submitted");
        // summary.json lists every action, zeros included; the report those requested.
        if submitted == 0 {
            assert!(
                !html.contains(&format!("<tr><td>{action}</td>")),
                "{action}"
            );
            continue;
        }
        let succeeded = a["succeeded"].as_u64().expect("succeeded");
        let failed = a["failed_async"].as_u64().expect("failed");
        assert!(
            html.contains(&format!("<tr><td>{action}</td><td>{submitted}</td>")),
            "{action} submitted"
        );
        assert!(html.contains(&format!("<td>{succeeded}</td><td>{failed}</td>")));
        for (code, n) in a["http_codes"].as_object().expect("codes") {
            assert!(html.contains(&format!("{code} × {n}")), "{action} {code}");
        }
        for (class, n) in a["failures"].as_object().expect("failures") {
            assert!(html.contains(&format!("{class} × {n}")), "{action} {class}");
        }
        let p = &a["completion_latency"];
        let row: String = [
            "min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms",
        ]
        .iter()
        .map(|k| format!("<td>{}</td>", secs(p[k].as_u64().expect("ms"))))
        .collect();
        assert!(html.contains(&row), "{action} latency row {row}");
    }
    for (status, n) in s["final_status"]
        .as_object()
        .expect("final")
        .iter()
        .chain(s["migration_status"].as_object().expect("migrations"))
    {
        // Zero counts are in summary.json, not in the report's tables.
        let row = format!("<tr><td>{status}</td><td>{n}</td></tr>");
        assert_eq!(html.contains(&row), n != 0, "{row}");
    }
    let vcpus = s["peak_migration_vcpus"].as_u64().expect("peak");
    assert!(html.contains(&format!("<tr><td>vCPUs</td><td>{vcpus}</td></tr>")));
    assert_eq!(vcpus, 96);
    assert!(html.contains("NoValidHost × 4"));

    // The large cloud: 88 row labels, one panel per host, the same peak as summary.json.
    let t = check_files(dir, true);
    let servers: BTreeSet<String> = csv_rows(&dir.join("transitions.csv"))
        .into_iter()
        .map(|r| r["server"].clone())
        .collect();
    assert_eq!(servers.len(), 88);
    for server in &servers {
        assert_eq!(
            count_prefix(&t["timeline"], &format!("{server} (")),
            1,
            "{server}"
        );
    }
    let al = &t["allocations"];
    let peak_gib = s["peak_migration_memory_mb"].as_u64().expect("peak") / 1024;
    let caption = format!("Cloud total, 16 hosts — peak held by migrations: {peak_gib} GiB at ");
    assert_eq!(count_prefix(al, &caption), 1, "{al:?}");
    assert!(has(al, "drain1 (disabled/up)") && has(al, "cmp12"));
}

#[test]
fn two_runs_give_identical_charts_and_report() {
    let a = run_bundled("capacity-drain");
    let b = run_bundled("capacity-drain");
    let mut files = vec!["report.html".to_string()];
    for stem in PLOTS {
        files.push(format!("{stem}.svg"));
        files.push(format!("{stem}.png"));
    }
    for f in &files {
        assert!(
            bytes(&a.0.join(f)) == bytes(&b.0.join(f)),
            "{f} differs between runs"
        );
    }
}

fn novasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_novasim"))
}

#[test]
fn plot_command_redraws_the_same_bytes() {
    let run = run_bundled("teaching");
    let dir = &run.0;
    let mut files = vec!["report.html".to_string()];
    for stem in PLOTS {
        files.push(format!("{stem}.svg"));
        files.push(format!("{stem}.png"));
    }
    let before: Vec<Vec<u8>> = files.iter().map(|f| bytes(&dir.join(f))).collect();
    for f in &files {
        std::fs::remove_file(dir.join(f)).expect("remove");
    }
    let out = novasim().arg("plot").arg(dir).output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (f, old) in files.iter().zip(before) {
        assert!(bytes(&dir.join(f)) == old, "{f} redrawn differently");
    }
}

#[test]
fn plot_command_errors_are_one_line() {
    let missing = scratch("missing");
    let out = novasim()
        .arg("plot")
        .arg(&missing.0)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("no such results folder"),
        "{err}"
    );

    let run = run_bundled("teaching");
    std::fs::remove_file(run.0.join("hosts.csv")).expect("remove");
    std::fs::remove_file(run.0.join("throughput.svg")).expect("remove");
    let out = novasim().arg("plot").arg(&run.0).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("hosts.csv") && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn large_runs_skip_the_timeline_and_per_host_panels() {
    let text = "name = \"many\"\n\
        [[host_groups]]\nprefix = \"h\"\ncount = 20\nvcpus = 64\nmemory_mb = 262144\ndisk_gb = 4000\n\
        [[flavors]]\nname = \"tiny\"\nvcpus = 1\nmemory_mb = 512\ndisk_gb = 1\n\
        [[server_groups]]\nprefix = \"vm\"\ncount = 301\nflavor = \"tiny\"\n";
    let sc = parse_str(text, "many.toml", &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = scratch("many");
    run_to_dir(sc, &out.0).unwrap_or_else(|e| panic!("{e}"));
    let t = check_files(&out.0, false);
    let html = read(&out.0.join("report.html"));
    assert!(html.contains("The server timeline is not drawn: this run has 301 servers"));
    assert_eq!(html.matches("<svg").count(), PLOTS.len() - 1);
    let al = &t["allocations"];
    assert_eq!(count_prefix(al, "Cloud total, 20 hosts"), 1);
    assert!(has(
        al,
        "20 hosts: per-host panels are drawn for at most 16 hosts."
    ));
    assert!(!has(al, "h1"), "no per-host panel");
    assert!(has(&t["throughput"], "No API request in this run."));
    assert!(has(&t["latency"], "No request completed successfully."));
}

/// The chart files of `dir`, by name, with their bytes.
fn chart_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    PLOTS
        .iter()
        .flat_map(|stem| ["svg", "png"].map(|ext| format!("{stem}.{ext}")))
        .filter(|f| dir.join(f).exists())
        .map(|f| {
            let b = bytes(&dir.join(&f));
            (f, b)
        })
        .collect()
}

/// The charts a run drew from the data fed as it wrote its rows are the bytes
/// `plot::write_all` draws from the folder's CSVs (what `novasim plot` does).
fn assert_fed_charts_match_csv_charts(dir: &Path, name: &str) {
    let fed = chart_bytes(dir);
    assert!(fed.len() >= 2 * (PLOTS.len() - 1), "{name}: {fed:?}");
    novasim::plot::write_all(dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let from_csv = chart_bytes(dir);
    assert_eq!(
        fed.keys().collect::<Vec<_>>(),
        from_csv.keys().collect::<Vec<_>>(),
        "{name}"
    );
    for (f, b) in &fed {
        assert!(
            *b == from_csv[f],
            "{name}: {f} differs from the CSVs' chart"
        );
    }
}

#[test]
fn fed_charts_are_the_bytes_of_the_charts_from_the_csvs() {
    let mut names: Vec<String> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let run = run_bundled(name);
        assert_fed_charts_match_csv_charts(&run.0, name);
    }
    // A run without a timeline and without per-host panels.
    let text = "name = \"many\"\n\
        [[host_groups]]\nprefix = \"h\"\ncount = 20\nvcpus = 64\nmemory_mb = 262144\ndisk_gb = 4000\n\
        [[flavors]]\nname = \"tiny\"\nvcpus = 1\nmemory_mb = 512\ndisk_gb = 1\n\
        [[server_groups]]\nprefix = \"vm\"\ncount = 301\nflavor = \"tiny\"\n";
    let sc = parse_str(text, "many.toml", &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = scratch("many-fed");
    run_to_dir(sc, &out.0).unwrap_or_else(|e| panic!("{e}"));
    assert_fed_charts_match_csv_charts(&out.0, "many");
}
