//! `calibrated.toml`: the cloud scenario file with the fitted `[steps]` entries replaced in
//! place (toml_edit keeps every other key, comment and layout), headed by a comment saying what
//! was fitted from what and how well. Written atomically: a temporary file beside the target,
//! loaded back as a scenario (so a written file always loads), then renamed over it.

use super::{CalibrateError, Calibration};
use std::path::Path;

/// Marks the header lines, so that calibrating a calibrated file replaces its header.
const MARK: &str = "# calibrate: ";

/// The calibrated scenario text.
pub fn text(
    cloud_text: &str,
    cloud_file: &str,
    data_file: &str,
    c: &Calibration,
) -> Result<String, String> {
    let body: String = cloud_text
        .lines()
        .skip_while(|l| l.starts_with(MARK))
        .flat_map(|l| [l, "\n"])
        .collect();
    let mut doc: toml_edit::DocumentMut = body.parse().map_err(|e| format!("{e}"))?;
    let table = |p: &super::LogNormal| {
        let mut t = toml_edit::InlineTable::new();
        t.insert("dist", "lognormal".into());
        t.insert("median_ms", (p.median_ms as i64).into());
        t.insert("sigma", p.sigma.into());
        toml_edit::value(t)
    };
    doc["latency"]["api"] = table(&c.api);
    // The polling client's status GET is an API call: fitted with it (`Bench::scenario`).
    doc["latency"]["status_get"] = table(&c.api);
    for (_, key, p) in &c.fitted {
        doc["steps"][*key] = table(p);
    }
    let mut head = vec![
        format!(
            "novasim calibrate: [latency] api (and status_get, the same) and [steps] {} fitted to {data_file} ({}, {} successful iterations, \
             concurrency {}, Rally {} poll defaults, seed {}); base cloud {cloud_file}.",
            c.fitted.iter().map(|f| f.1).collect::<Vec<_>>().join(", "),
            c.scenario,
            c.iterations,
            c.concurrency,
            c.era.as_str(),
            c.seed
        ),
        "Fit on the odd iterations (1st, 3rd, ...), checked on the even ones with seed + 1. \
         Seconds, measured/simulated:"
            .to_string(),
    ];
    for r in &c.holdout {
        let sim = |f: fn(&super::Summary) -> f64| {
            r.simulated
                .as_ref()
                .map_or("n/a".into(), |s| format!("{:.3}", f(s) / 1000.0))
        };
        head.push(format!(
            "  holdout {}: p50 {:.3}/{} p90 {:.3}/{} p95 {:.3}/{} KS {:.3}{}",
            r.atomic,
            r.measured.p50 / 1000.0,
            sim(|s| s.p50),
            r.measured.p90 / 1000.0,
            sim(|s| s.p90),
            r.measured.p95 / 1000.0,
            sim(|s| s.p95),
            r.ks,
            if r.step.is_some() {
                ""
            } else {
                " (not fitted)"
            }
        ));
    }
    if !c.ignored.is_empty() {
        head.push(format!(
            "Atomic actions of the data not simulated: {}.",
            c.ignored.join(", ")
        ));
    }
    let mut out: String = head.iter().map(|l| format!("{MARK}{l}\n")).collect();
    out.push_str(&doc.to_string());
    Ok(out)
}

/// Writes the calibrated scenario of `c` to `out`, atomically.
pub fn write(
    cloud: &Path,
    out: &Path,
    data_file: &str,
    c: &Calibration,
) -> Result<(), CalibrateError> {
    let cloud_file = crate::text::shown_path(cloud);
    let shown = crate::text::shown_path(out);
    let io = |e: std::io::Error| CalibrateError::Output {
        path: shown.clone(),
        source: e,
    };
    let cloud_text = std::fs::read_to_string(cloud).map_err(|e| CalibrateError::Output {
        path: cloud_file.clone(),
        source: e,
    })?;
    let text = text(&cloud_text, &cloud_file, data_file, c).map_err(|m| CalibrateError::Input {
        file: cloud_file.clone(),
        line: None,
        message: m,
    })?;
    let name = out
        .file_name()
        .ok_or_else(|| CalibrateError::Usage(format!("--out {shown}: not a file name")))?;
    let tmp = out.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, &text).map_err(io)?;
    // The written file must load as a scenario before it replaces anything.
    if let Err(e) = crate::sim::load_checked(&tmp, &[]) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
