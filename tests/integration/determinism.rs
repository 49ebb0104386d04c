//! Same scenario + same seed ⇒ identical bytes; another seed ⇒ another trace when the scenario
//! draws random numbers.

use super::support::temp_dir;
use novasim::run::{run_to_dir, RESULT_FILES};
use novasim::scenario::load;
use std::path::Path;

fn run_files(scenario: &Path, overrides: &[String]) -> Vec<(String, Vec<u8>)> {
    let sc = load(scenario, overrides).unwrap_or_else(|e| panic!("{e}"));
    let dir = temp_dir("det");
    run_to_dir(sc, &dir).unwrap_or_else(|e| panic!("{e}"));
    let files = RESULT_FILES
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(dir.join(f)).expect("result file"),
            )
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    files
}

#[test]
fn same_seed_same_bytes_for_every_bundled_scenario() {
    let mut checked = 0;
    for entry in std::fs::read_dir("scenarios").expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            assert_eq!(
                run_files(&path, &[]),
                run_files(&path, &[]),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "bundled scenarios found: {checked}");
}

#[test]
fn different_seed_changes_a_random_scenario() {
    let path = Path::new("scenarios/capacity-drain.toml");
    let a = run_files(path, &["seed=1".into()]);
    let b = run_files(path, &["seed=2".into()]);
    let transitions = |f: &Vec<(String, Vec<u8>)>| f[0].1.clone();
    assert_ne!(transitions(&a), transitions(&b));
}
