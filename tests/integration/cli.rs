//! The command line as a user meets it: exit codes and one-line errors.

use super::support::temp_dir;
use std::process::Command;

fn novasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_novasim"))
}

#[test]
fn run_writes_every_result_file_and_exits_zero() {
    let out = temp_dir("cli");
    let status = novasim()
        .args(["run", "scenarios/teaching.toml", "--quiet", "--out"])
        .arg(&out)
        .status()
        .expect("binary runs");
    assert!(status.success());
    for f in novasim::run::RESULT_FILES {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn check_accepts_bundled_and_rejects_bad_input_with_one_line() {
    let ok = novasim()
        .args(["check", "scenarios/teaching.toml"])
        .output()
        .expect("runs");
    assert!(ok.status.success());

    let bad = temp_dir("bad");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let file = bad.join("bad.toml");
    std::fs::write(&file, "name = \"x\"\n[[hosts]]\nname = \"h1\"\nvcpus = 4\nmemory_mb = 1024\ndisk_gb = 10\ncolour = 3\n")
        .expect("write");
    let out = novasim().arg("check").arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad.toml:7"), "{err}");
    assert!(err.contains("colour"), "{err}");
    let _ = std::fs::remove_dir_all(&bad);
}

#[test]
fn missing_file_and_bad_override_fail_cleanly() {
    let out = novasim()
        .args(["run", "no/such.toml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such.toml"));
    let out = novasim()
        .args([
            "check",
            "scenarios/teaching.toml",
            "--set",
            "nova.DEFAULT.no_such_option=1",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_option"));
}

#[test]
fn a_failed_run_leaves_no_results_folder() {
    // An initial server that cannot be placed fails the run before anything is committed.
    let bad = temp_dir("unplaceable");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let file = bad.join("s.toml");
    std::fs::write(
        &file,
        "name = \"x\"\n[[hosts]]\nname = \"h1\"\nvcpus = 1\nmemory_mb = 1024\ndisk_gb = 10\n\
         [[flavors]]\nname = \"big\"\nvcpus = 8\nmemory_mb = 8192\ndisk_gb = 10\n\
         [[servers]]\nname = \"vm1\"\nflavor = \"big\"\n",
    )
    .expect("write");
    let out_dir = bad.join("out");
    let out = novasim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("vm1"), "{err}");
    // The error names the server's entry, as `check` does.
    assert!(err.contains("s.toml:13:"), "{err}");
    assert!(!out_dir.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&bad).expect("ls").collect();
    assert_eq!(leftovers.len(), 1, "only the scenario file remains");
    let _ = std::fs::remove_dir_all(&bad);
}

/// Issue 11: `run --out` replaces only a folder novasim wrote; anything else is refused with a
/// one-line error before the run, and left as it was.
#[test]
fn out_refuses_what_novasim_did_not_write_and_leaves_it_intact() {
    let d = temp_dir("out-refuse");
    std::fs::create_dir_all(d.join("scenarios")).expect("mkdir");
    std::fs::write(d.join("scenarios/keep.toml"), "name = \"k\"").expect("write");
    std::fs::write(d.join("notes.txt"), "mine").expect("write");
    for target in ["scenarios", "notes.txt", "."] {
        let out = novasim()
            .args(["run", "scenarios/teaching.toml", "--quiet", "--out"])
            .arg(d.join(target))
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("refusing to replace"), "{err}");
    }
    assert_eq!(
        std::fs::read_to_string(d.join("scenarios/keep.toml")).expect("kept"),
        "name = \"k\""
    );
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).expect("kept"),
        "mine"
    );
    let mut names: Vec<_> = std::fs::read_dir(&d)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["notes.txt", "scenarios"],
        "nothing left beside them"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 11: a rerun replaces its own earlier folder, and succeeds after runs killed at any
/// point left their temporaries (a half-written folder; the previous result moved aside with
/// the results path empty): the previous result is never lost.
#[test]
fn a_rerun_replaces_its_own_folder_and_recovers_from_killed_runs() {
    let d = temp_dir("out-rerun");
    let out = d.join("teaching");
    let run = || {
        novasim()
            .args(["run", "scenarios/teaching.toml", "--quiet", "--out"])
            .arg(&out)
            .status()
            .expect("runs")
    };
    assert!(run().success());
    assert!(run().success(), "a folder novasim wrote is replaced");
    // What a run killed between the two renames of a swap leaves (pid 4194999 never exists).
    std::fs::rename(&out, d.join(".teaching.old-4194999-1")).expect("mv");
    std::fs::create_dir(d.join(".teaching.partial-4194999-2")).expect("mkdir");
    assert!(run().success());
    let names: Vec<_> = std::fs::read_dir(&d)
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["teaching"], "temporaries of dead runs removed");
    assert!(out.join("summary.json").is_file());
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 11: `plot` never writes into a folder novasim did not write (a golden trace): it
/// says to use --out, and draws there.
#[test]
fn plot_leaves_a_golden_folder_alone_and_draws_into_out() {
    let d = temp_dir("plot-golden");
    let out = d.join("drawn");
    let before = std::fs::read_dir("tests/golden/teaching")
        .expect("ls")
        .count();
    let refused = novasim()
        .args(["plot", "tests/golden/teaching"])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--out"));
    let drawn = novasim()
        .args(["plot", "tests/golden/teaching", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(drawn.status.success(), "{drawn:?}");
    assert_eq!(
        std::fs::read_dir("tests/golden/teaching")
            .expect("ls")
            .count(),
        before
    );
    assert!(out.join("report.html").is_file());
    assert!(out.join("statuses.png").is_file());
    assert!(out.join(novasim::output::MARKER).is_file());
    // The drawn folder is novasim's own: plot may now redraw it in place.
    let again = novasim().arg("plot").arg(&out).output().expect("runs");
    assert!(again.status.success(), "{again:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 11: kept sweep runs each get a folder of their own, whatever their values clean to,
/// and a value listed twice is refused.
#[test]
fn sweep_kept_runs_never_share_a_folder() {
    let d = temp_dir("sweep-labels");
    let sweep = |values: &str| {
        novasim()
            .args([
                "sweep",
                "scenarios/teaching.toml",
                "--quiet",
                "--keep-runs",
                "--seeds",
                "1",
                "--set",
            ])
            .arg(format!("nova.DEFAULT.resize_confirm_window={values}"))
            .arg("--out")
            .arg(&d)
            .output()
            .expect("runs")
    };
    let dup = sweep("60,60");
    assert_eq!(dup.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("listed twice"));
    assert!(!d.exists());
    let ok = sweep("60,+60");
    // teaching's auto-confirm check pins the 120 s window: with 60 s it fails, so the sweep
    // exits 3 (its folder is written all the same).
    assert_eq!(ok.status.code(), Some(3), "{ok:?}");
    let runs = std::fs::read_dir(d.join("runs")).expect("runs/").count();
    assert_eq!(runs, 2);
    let _ = std::fs::remove_dir_all(&d);
}
