//! `[[expect]]`: checks of the run's outcome, validated like the rest of the file so a typo in
//! a server or status name is a load error, not a check that silently fails after the run.
//!
//! Which check a table is follows from its one "subject" key; every other key must belong to
//! that check, so a table never means two things.

use super::{actions, choice, count32, name, opt_name, secs, secs_pos, uint, Names, R};
use crate::config::*;
use crate::engine::SimTime;
use crate::model::{MigrationStatus, Status};
use crate::scenario::context::{at, at_index, Ctx};
use crate::scenario::node::Seg;
use crate::scenario::raw::RawExpect;
use crate::scenario::types::*;
use std::ops::Range;
use toml::Spanned;

/// The keys that say which check a table is.
const SUBJECTS: [&str; 5] = [
    "status",
    "migration_status",
    "no_http_code",
    "percentile",
    "outcome_detail",
];

const LATENCIES: [(&str, LatencyKind); 2] = [
    ("completion", LatencyKind::Completion),
    ("response", LatencyKind::Response),
];

/// Validates every `[[expect]]` table. `end` is the scenario's `end_s`: a time after it can
/// never be observed.
pub(in crate::scenario) fn expectations(
    cx: &Ctx,
    names: &Names,
    raw: &[Spanned<RawExpect>],
    end: Option<SimTime>,
) -> R<Vec<Expectation>> {
    raw.iter()
        .enumerate()
        .map(|(i, e)| expectation(cx, names, e, &[Seg::from("expect"), Seg::from(i)], end))
        .collect()
}

/// The keys written in the table, with their spans, in schema order.
fn present(r: &RawExpect) -> Vec<(&'static str, Range<usize>)> {
    let s = |v: Option<Range<usize>>, k: &'static str| v.map(|span| (k, span));
    [
        s(r.name.as_ref().map(Spanned::span), "name"),
        s(r.server.as_ref().map(Spanned::span), "server"),
        s(r.status.as_ref().map(Spanned::span), "status"),
        s(
            r.migration_status.as_ref().map(Spanned::span),
            "migration_status",
        ),
        s(r.migration.as_ref().map(Spanned::span), "migration"),
        s(r.at_s.as_ref().map(Spanned::span), "at_s"),
        s(r.between_s.as_ref().map(Spanned::span), "between_s"),
        s(r.no_http_code.as_ref().map(Spanned::span), "no_http_code"),
        s(r.action.as_ref().map(Spanned::span), "action"),
        s(r.percentile.as_ref().map(Spanned::span), "percentile"),
        s(r.below_s.as_ref().map(Spanned::span), "below_s"),
        s(r.latency.as_ref().map(Spanned::span), "latency"),
        s(
            r.outcome_detail.as_ref().map(Spanned::span),
            "outcome_detail",
        ),
        s(r.at_most.as_ref().map(Spanned::span), "at_most"),
        s(r.at_least.as_ref().map(Spanned::span), "at_least"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn expectation(
    cx: &Ctx,
    names: &Names,
    e: &Spanned<RawExpect>,
    base: &[Seg],
    end: Option<SimTime>,
) -> R<Expectation> {
    let r = e.get_ref();
    let keys = present(r);
    let subjects: Vec<&(&str, Range<usize>)> =
        keys.iter().filter(|(k, _)| SUBJECTS.contains(k)).collect();
    let kind = match subjects.as_slice() {
        [] => {
            return Err(cx.err(
                &e.span(),
                base,
                format!(
                "says nothing to check: give one of {} (see docs/scenario-schema.md, [[expect]])",
                SUBJECTS.join(", ")
            ),
            ))
        }
        [(k, _)] => *k,
        [(first, _), (second, span), ..] => {
            return Err(cx.err(
                span,
                &at(base, second),
                format!("{first:?} and {second:?} cannot be combined: one check per [[expect]]"),
            ))
        }
    };
    let (needed, optional): (&[&str], &[&str]) = match kind {
        "status" => (&["server", "status"], &["at_s", "between_s"]),
        "migration_status" => (
            &["server", "migration_status"],
            &["migration", "at_s", "between_s"],
        ),
        "no_http_code" => (&["no_http_code"], &["action"]),
        "percentile" => (&["action", "percentile", "below_s"], &["latency"]),
        _ => (&["outcome_detail"], &["action", "at_most", "at_least"]),
    };
    let allowed: Vec<&str> = std::iter::once("name")
        .chain(needed.iter().copied())
        .chain(optional.iter().copied())
        .collect();
    for (k, span) in &keys {
        if !allowed.contains(k) {
            return Err(cx.err(
                span,
                &at(base, k),
                format!(
                    "key {k:?} is not used by a {kind} expectation (keys: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    // A missing key is reported at the table, with the keys this check takes.
    let need = |present: bool, k: &str| -> R<()> {
        if present {
            return Ok(());
        }
        Err(cx.err(
            &e.span(),
            base,
            format!(
                "a {kind} expectation needs {k:?} (keys: {})",
                allowed.join(", ")
            ),
        ))
    };
    for k in needed {
        need(keys.iter().any(|(p, _)| p == k), k)?;
    }
    let server = || -> R<String> {
        let v = required(cx, e, base, &r.server, "server")?;
        names
            .server(cx, v, &at(base, "server"))
            .map(|n| n.to_string())
    };
    let action = |v: &Option<Spanned<String>>| -> R<Option<ActionKind>> {
        v.as_ref()
            .map(|a| choice(cx, a, &at(base, "action"), "action", &actions()))
            .transpose()
    };
    let check =
        match kind {
            "status" => {
                let statuses: Vec<(&str, Status)> =
                    Status::ALL.iter().map(|s| (s.as_str(), *s)).collect();
                let v = required(cx, e, base, &r.status, "status")?;
                ExpectCheck::ServerStatus {
                    server: server()?,
                    status: choice(cx, v, &at(base, "status"), "status", &statuses)?,
                    when: when(cx, e, base, end)?,
                }
            }
            "migration_status" => {
                let statuses: Vec<(&str, MigrationStatus)> = MigrationStatus::ALL
                    .iter()
                    .map(|s| (s.as_str(), *s))
                    .collect();
                let v = required(cx, e, base, &r.migration_status, "migration_status")?;
                ExpectCheck::MigrationStatus {
                    server: server()?,
                    nth: r
                        .migration
                        .as_ref()
                        .map(|n| count32(cx, n, &at(base, "migration"), 1))
                        .transpose()?,
                    status: choice(
                        cx,
                        v,
                        &at(base, "migration_status"),
                        "migration status",
                        &statuses,
                    )?,
                    when: when(cx, e, base, end)?,
                }
            }
            "no_http_code" => {
                let v = required(cx, e, base, &r.no_http_code, "no_http_code")?;
                let code = *v.get_ref();
                let code = u16::try_from(code)
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| {
                        cx.err(
                            &v.span(),
                            &at(base, "no_http_code"),
                            format!("must be an HTTP status code in 100..=599 (got {code})"),
                        )
                    })?;
                ExpectCheck::NoHttpCode {
                    code,
                    action: action(&r.action)?,
                }
            }
            "percentile" => {
                let p = required(cx, e, base, &r.percentile, "percentile")?;
                let q = *p.get_ref();
                let percentile = u8::try_from(q)
                    .ok()
                    .filter(|q| (1..=100).contains(q))
                    .ok_or_else(|| {
                        cx.err(
                            &p.span(),
                            &at(base, "percentile"),
                            format!("must be an integer in 1..=100 (got {q})"),
                        )
                    })?;
                let a = required(cx, e, base, &r.action, "action")?;
                let below = required(cx, e, base, &r.below_s, "below_s")?;
                ExpectCheck::Percentile {
                    action: choice(cx, a, &at(base, "action"), "action", &actions())?,
                    latency: match &r.latency {
                        Some(l) => choice(cx, l, &at(base, "latency"), "latency", &LATENCIES)?,
                        None => LatencyKind::Completion,
                    },
                    percentile,
                    below: secs_pos(cx, below, &at(base, "below_s"))?,
                }
            }
            _ => {
                let v = required(cx, e, base, &r.outcome_detail, "outcome_detail")?;
                let prefix = name(cx, v, &at(base, "outcome_detail"))?;
                let at_most = r
                    .at_most
                    .as_ref()
                    .map(|v| {
                        uint(
                            cx,
                            v,
                            &at(base, "at_most"),
                            0,
                            crate::scenario::defaults::MAX_COUNT,
                        )
                    })
                    .transpose()?;
                let at_least = r
                    .at_least
                    .as_ref()
                    .map(|v| {
                        uint(
                            cx,
                            v,
                            &at(base, "at_least"),
                            0,
                            crate::scenario::defaults::MAX_COUNT,
                        )
                    })
                    .transpose()?;
                match (at_least, at_most, &r.at_least) {
                    (None, None, _) => return Err(cx.err(
                        &e.span(),
                        base,
                        "an outcome_detail expectation needs \"at_most\" or \"at_least\" (or both)",
                    )),
                    (Some(lo), Some(hi), Some(v)) if lo > hi => {
                        return Err(cx.err(
                            &v.span(),
                            &at(base, "at_least"),
                            format!("impossible: at_least ({lo}) is above at_most ({hi})"),
                        ))
                    }
                    _ => {}
                }
                ExpectCheck::OutcomeDetail {
                    prefix,
                    action: action(&r.action)?,
                    at_least,
                    at_most,
                }
            }
        };
    Ok(Expectation {
        name: opt_name(cx, &r.name, &at(base, "name"))?,
        check,
    })
}

/// A key the check requires (its presence was checked against the key lists above; this
/// keeps a mismatch between those lists and the fields an error rather than a panic).
fn required<'a, T>(
    cx: &Ctx,
    e: &Spanned<RawExpect>,
    base: &[Seg],
    v: &'a Option<Spanned<T>>,
    key: &str,
) -> R<&'a Spanned<T>> {
    v.as_ref()
        .ok_or_else(|| cx.err(&e.span(), base, format!("needs {key:?}")))
}

/// `at_s` or `between_s = [start, end]`, exactly one, within the run.
fn when(cx: &Ctx, e: &Spanned<RawExpect>, base: &[Seg], end: Option<SimTime>) -> R<ExpectWhen> {
    let r = e.get_ref();
    let after_end = |t: SimTime, span: &Range<usize>, path: &[Seg], what: &str| -> R<()> {
        match end {
            Some(end) if t > end => Err(cx.err(
                span,
                path,
                format!("{what} {t} s is after the run ends (end_s = {end} s): it can never be observed"),
            )),
            _ => Ok(()),
        }
    };
    match (&r.at_s, &r.between_s) {
        (Some(_), Some(b)) => Err(cx.err(
            &b.span(),
            &at(base, "between_s"),
            "give either at_s or between_s, not both",
        )),
        (None, None) => Err(cx.err(
            &e.span(),
            base,
            "needs a time: at_s = <seconds> or between_s = [<start>, <end>]",
        )),
        (Some(a), None) => {
            let path = at(base, "at_s");
            let t = SimTime(secs(cx, a, &path)?.ms());
            after_end(t, &a.span(), &path, "at_s")?;
            Ok(ExpectWhen::At(t))
        }
        (None, Some(b)) => {
            let path = at(base, "between_s");
            let [lo, hi] = b.get_ref().as_slice() else {
                return Err(cx.err(
                    &b.span(),
                    &path,
                    format!(
                        "must be [start, end] in seconds (got {} value{})",
                        b.get_ref().len(),
                        if b.get_ref().len() == 1 { "" } else { "s" }
                    ),
                ));
            };
            let start = SimTime(secs(cx, lo, &at_index(&path, 0))?.ms());
            let stop = SimTime(secs(cx, hi, &at_index(&path, 1))?.ms());
            if start > stop {
                return Err(cx.err(
                    &b.span(),
                    &path,
                    format!("impossible window: it starts at {start} s, after its end {stop} s"),
                ));
            }
            after_end(start, &b.span(), &path, "the window's start")?;
            Ok(ExpectWhen::Between(start, stop))
        }
    }
}
