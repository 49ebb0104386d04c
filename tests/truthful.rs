//! Issue 11, "charts and statistics that tell the truth": summary.json counts present when
//! zero, sweep errors and confidence intervals, the report's expectations and scenario.

use novasim::model::{MigrationStatus, Status};
use novasim::scenario::ActionKind;
use std::path::{Path, PathBuf};

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
