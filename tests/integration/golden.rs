//! Golden traces of the bundled scenarios. A timing or semantics change shows up as a diff here.
//! Regenerating is a deliberate act: `NOVASIM_BLESS=1 cargo test --test integration golden`,
//! then review `git diff tests/golden`.

use super::support::temp_dir;
use novasim::run::{run_to_dir, RESULT_FILES};
use novasim::scenario::load;
use std::path::Path;

fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1);
        }
    }
    format!(
        "line counts differ: expected {}, actual {}",
        expected.lines().count(),
        actual.lines().count()
    )
}

fn check_scenario(path: &Path) {
    let sc = load(path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let name = sc.name.clone();
    let dir = temp_dir("golden");
    run_to_dir(sc, &dir).unwrap_or_else(|e| panic!("{e}"));
    let golden = Path::new("tests/golden").join(&name);
    let bless = std::env::var_os("NOVASIM_BLESS").is_some();
    for f in RESULT_FILES {
        let actual = std::fs::read_to_string(dir.join(f)).expect("result file");
        let expected_path = golden.join(f);
        if bless {
            std::fs::create_dir_all(&golden).expect("mkdir golden");
            std::fs::write(&expected_path, &actual).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "no golden file {} — run with NOVASIM_BLESS=1 and review it",
                expected_path.display()
            )
        });
        assert!(
            expected == actual,
            "{} differs from its golden trace, {}",
            expected_path.display(),
            first_difference(&expected, &actual)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bundled_scenarios_match_their_golden_traces() {
    let mut paths: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for p in paths {
        check_scenario(&p);
    }
}
