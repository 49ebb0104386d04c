//! What a run writes is what the reader of a results folder reads: every file of a fresh run
//! parses with its header checked column by column, so a writer change that `src/results` does
//! not follow fails here (and in `results::rows::tests::reader_follows_the_writers`).

use novasim::model::Status;
use novasim::results::{ResultsFolder, RESULT_FILES};
use novasim::run::run_to_dir;
use novasim::scenario::load;
use std::path::Path;

#[test]
fn a_fresh_run_reads_back_through_the_typed_reader() {
    let out = std::env::temp_dir().join(format!("novasim-reader-{}", std::process::id()));
    let sc = load(Path::new("scenarios/teaching.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let report = run_to_dir(sc, &out).unwrap_or_else(|e| panic!("{e}"));
    let r = ResultsFolder::open(&out).unwrap_or_else(|e| panic!("{e}"));
    let ok =
        |res: Result<usize, novasim::results::ReadError>| res.unwrap_or_else(|e| panic!("{e}"));
    for f in RESULT_FILES {
        assert!(r.file(f).is_ok(), "{f}");
    }
    let rows = ok(r.transitions().map(<[_]>::len));
    assert_eq!(rows as u64, report.transition_rows);
    ok(r.requests().map(<[_]>::len));
    ok(r.decisions().map(<[_]>::len));
    ok(r.action_events().map(<[_]>::len));
    ok(r.hosts().map(<[_]>::len));
    let tp = r.throughput().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tp.statuses, Status::ALL.to_vec());
    let summary = r.summary().unwrap_or_else(|e| panic!("{e}"));
    // The summary's end time reads back as the integer milliseconds it was written from.
    let end = summary.end_time_s.expect("end_time_s");
    assert_eq!(end.to_string(), report.summary.end_time_s);
    let checks = r
        .expectations()
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("teaching has [[expect]]");
    assert_eq!(checks.len(), report.expectations.len());
    assert!(checks.iter().all(|c| c.passed));
    assert!(r
        .scenario_text()
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some());
    std::fs::remove_dir_all(&out).expect("rm");
}
