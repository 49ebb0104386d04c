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
    assert!(String::from_utf8_lossy(&out.stderr).contains("vm1"));
    assert!(!out_dir.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&bad).expect("ls").collect();
    assert_eq!(leftovers.len(), 1, "only the scenario file remains");
    let _ = std::fs::remove_dir_all(&bad);
}
