//! Issue 11, "charts and statistics that tell the truth": summary.json counts present when
//! zero, sweep errors and confidence intervals, the report's expectations and scenario.

use novasim::config::ActionKind;
use novasim::model::{MigrationStatus, Status};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

fn novasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_novasim"))
}

/// A fresh folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "novasim-truthful-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        Scratch(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every golden summary (and so every run, the golden test comparing them) has every action,
/// status and migration status, zeros included: e.g. teaching has no live migration, no
/// ERROR server, no `error` migration, and still says 0 for each.
#[test]
fn summary_counts_are_present_when_zero() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("tests/golden")
        .expect("tests/golden")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 5);
    for dir in dirs {
        let s = json(&dir.join("summary.json"));
        let name = dir.display();
        for a in ActionKind::ALL {
            let action = &s["actions"][a.as_str()];
            for count in ["submitted", "succeeded", "failed_async", "pending"] {
                assert!(
                    action[count].is_u64(),
                    "{name}: actions.{}.{count} missing",
                    a.as_str()
                );
            }
        }
        for st in Status::ALL {
            assert!(
                s["final_status"][st.as_str()].is_u64(),
                "{name}: final_status.{} missing",
                st.as_str()
            );
        }
        for st in MigrationStatus::ALL {
            assert!(
                s["migration_status"][st.as_str()].is_u64(),
                "{name}: migration_status.{} missing",
                st.as_str()
            );
        }
    }
    let teaching = json(Path::new("tests/golden/teaching/summary.json"));
    assert_eq!(teaching["actions"]["os-migrateLive"]["submitted"], 0);
    assert_eq!(teaching["final_status"]["ERROR"], 0);
    assert_eq!(teaching["migration_status"]["error"], 0);
}

fn teaching() -> String {
    read(Path::new("scenarios/teaching.toml"))
}

fn csv_column(path: &Path, column: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let i = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == column);
    let i = i.unwrap_or_else(|| panic!("{}: no column {column}", path.display()));
    r.records()
        .map(|rec| rec.expect("row")[i].to_string())
        .collect()
}

/// A mistyped --metric is an error before any run, naming it and the closest valid paths;
/// a path into the open HTTP-code map is valid (a run without that code counts 0).
#[test]
fn sweep_refuses_an_unknown_metric_with_suggestions() {
    let tmp = Scratch::new("metric");
    let out = tmp.path("sweep");
    let o = novasim()
        .args(["sweep", "scenarios/teaching.toml", "--quiet", "--metric"])
        .arg("actions.migrate.completion_latency.p96_ms")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("\"actions.migrate.completion_latency.p96_ms\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("actions.migrate.completion_latency.p95_ms"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!out.exists(), "nothing written before the error");
    // Not a number: a whole section.
    let o = novasim()
        .args(["sweep", "scenarios/teaching.toml", "--quiet", "--metric"])
        .arg("actions.migrate")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a number"));
    // Valid: an HTTP code teaching's migrates answered, and one they did not (0).
    for (metric, value) in [
        ("actions.migrate.http_codes.403", "1"),
        ("actions.migrate.http_codes.500", "0"),
        ("final_status.ERROR", "0"),
    ] {
        let o = novasim()
            .args([
                "sweep",
                "scenarios/teaching.toml",
                "--quiet",
                "--metric",
                metric,
            ])
            .arg("--out")
            .arg(&out)
            .output()
            .expect("runs");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{metric}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let csv = out.join("sweep.csv");
        assert_eq!(csv_column(&csv, "metric"), [metric]);
        assert_eq!(csv_column(&csv, "metric_value"), [value]);
    }
}

/// A sweep where the scenario's [[expect]] fails in one run: sweep.csv is written, the exit
/// code is 3, and stderr says which run failed which check.
#[test]
fn sweep_exits_3_when_a_run_fails_its_expectations() {
    let tmp = Scratch::new("expect");
    let scenario = tmp.path("t.toml");
    // vm3 is VERIFY_RESIZE at 50 s only when its disk copies in 5 s (not the default 20 s).
    let text = format!(
        "{}\n[[expect]]\nserver = \"vm3\"\nstatus = \"VERIFY_RESIZE\"\nat_s = 50\n",
        teaching()
    );
    std::fs::write(&scenario, text).expect("write scenario");
    let out = tmp.path("sweep");
    let o = novasim()
        .arg("sweep")
        .arg(&scenario)
        .args([
            "--set",
            "steps.disk_copy={ dist = \"constant\", ms = 5000 },{ dist = \"constant\", ms = 20000 }",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("1 of 2 runs failed expectations"),
        "{stderr}"
    );
    assert!(
        stderr.contains("steps.disk_copy=#2-seed1: 1 of 6 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected vm3 VERIFY_RESIZE at 50.000 s, was RESIZE"),
        "{stderr}"
    );
    let failed = csv_column(&out.join("sweep.csv"), "expectations_failed");
    assert_eq!(failed, ["0", "1"]);
}

/// sweep.csv and the printed table give the mean over seeds with its 95 % confidence interval
/// (Student's t) beside median and range; the same numbers computed here from the rows.
#[test]
fn sweep_gives_a_confidence_interval_of_the_mean() {
    let tmp = Scratch::new("ci");
    let out = tmp.path("sweep");
    let o = novasim()
        .args([
            "sweep",
            "scenarios/capacity-drain.toml",
            "--seeds",
            "1..4",
            "--metric",
            "actions.migrate.completion_latency.p50_ms",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = out.join("sweep.csv");
    let values: Vec<f64> = csv_column(&csv, "metric_value")
        .iter()
        .map(|v| v.parse().expect("number"))
        .collect();
    assert_eq!(values.len(), 4);
    let mean = values.iter().sum::<f64>() / 4.0;
    let var = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0;
    // t for 3 degrees of freedom.
    let half = 3.182 * (var / 4.0).sqrt();
    let fmt = |v: f64| {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    assert_eq!(csv_column(&csv, "metric_seeds"), ["4"; 4]);
    assert_eq!(csv_column(&csv, "metric_mean"), vec![fmt(mean); 4]);
    assert_eq!(
        csv_column(&csv, "metric_ci95_low"),
        vec![fmt(mean - half); 4]
    );
    assert_eq!(
        csv_column(&csv, "metric_ci95_high"),
        vec![fmt(mean + half); 4]
    );
    assert!(half > 0.0, "the seeds differ");
    // The terminal shows it in seconds.
    let line = format!(
        "mean {} 95 % CI [{} … {}]",
        fmt(mean / 1000.0),
        fmt((mean - half) / 1000.0),
        fmt((mean + half) / 1000.0)
    );
    assert!(stdout.contains(&line), "{line}\n{stdout}");
    assert!(stdout.contains("Student's t"), "{stdout}");
}

/// report.html shows the `[[expect]]` results, failures first, and the scenario it ran (kept
/// in the folder as scenario.toml, with the overrides as comments), everything escaped.
#[test]
fn report_shows_expectations_failures_first_and_the_scenario() {
    let tmp = Scratch::new("report");
    let scenario = tmp.path("t.toml");
    let text = format!(
        "# <script>alert('x')</script> & \"quoted\"\n{}\n[[expect]]\nname = \"<b>vm3</b> & co\"\n\
         server = \"vm3\"\nstatus = \"VERIFY_RESIZE\"\nat_s = 50\n",
        teaching()
    );
    std::fs::write(&scenario, &text).expect("write scenario");
    let out = tmp.path("res");
    let o = novasim()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--seed", "1", "--set"])
        .arg("nova.DEFAULT.resize_confirm_window=120")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(3));
    let kept = read(&out.join("scenario.toml"));
    assert!(
        kept.ends_with(&text),
        "the text as read, after the overrides"
    );
    assert!(kept.starts_with("# novasim: this run applied these overrides"));
    assert!(kept.contains("#   --set nova.DEFAULT.resize_confirm_window=120\n"));
    assert!(kept.contains("#   --set seed=1\n"));

    let html = read(&out.join("report.html"));
    assert!(html.contains("<h2 id=\"expectations\">"), "section");
    assert!(html.contains("5 of 6 passed, 1 failed (listed first)."));
    let (first_fail, first_pass) = (
        html.find("<tr class=\"fail\">").expect("a failed row"),
        html.find("<tr class=\"pass\">").expect("a passed row"),
    );
    assert!(first_fail < first_pass, "failures first");
    assert!(html.contains(
        "<td class=\"text\">&lt;b&gt;vm3&lt;/b&gt; &amp; co</td><td class=\"text\">status</td>\
         <td class=\"text\">vm3 VERIFY_RESIZE at 50.000 s</td>\
         <td class=\"text\">was RESIZE (since 30.050 s)</td>"
    ));
    // The scenario, escaped.
    assert!(html.contains("<h2 id=\"scenario\">Scenario</h2>"));
    assert!(
        html.contains("# &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;")
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>vm3"));
    // Redrawn by `novasim plot`: the same page (scenario.toml and expectations.csv are kept).
    let again = tmp.path("again");
    let o = novasim()
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(&again)
        .output()
        .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(read(&again.join("report.html")), html);
}
