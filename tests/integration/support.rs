//! Running scenarios from tests and reading their results back.

use novasim::run::{run_to_dir, run_to_dir_checked, Derived, RunReport};
use novasim::scenario::parse_str;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub type Row = BTreeMap<String, String>;

/// The files of one finished run, parsed.
pub struct Results {
    pub dir: PathBuf,
    pub report: RunReport,
    pub transitions: Vec<Row>,
    pub requests: Vec<Row>,
    pub actions: Vec<Row>,
    pub hosts: Vec<Row>,
}

impl Drop for Results {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn read_csv(path: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).expect("results file readable");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("csv row");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "novasim-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::SeqCst)
    ))
}

/// Runs a scenario given as TOML text.
pub fn run(text: &str) -> Results {
    run_with(text, &[])
}

pub fn run_with(text: &str, overrides: &[String]) -> Results {
    let scenario = parse_str(text, "test.toml", overrides).unwrap_or_else(|e| panic!("{e}"));
    let dir = temp_dir("run");
    let report = run_to_dir(scenario, &dir).unwrap_or_else(|e| panic!("{e}"));
    results(dir, report)
}

/// Runs a scenario with the invariant checker after every instant and at the end, in release
/// builds too: a violation panics with it.
pub fn run_checked(text: &str) -> Results {
    let scenario = parse_str(text, "test.toml", &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = temp_dir("run");
    let report = run_to_dir_checked(scenario, &dir, Derived::Write, novasim::sim::Checks::On)
        .unwrap_or_else(|e| panic!("{e}"));
    results(dir, report)
}

fn results(dir: PathBuf, report: RunReport) -> Results {
    Results {
        transitions: read_csv(&dir.join("transitions.csv")),
        requests: read_csv(&dir.join("requests.csv")),
        actions: read_csv(&dir.join("instance_actions.csv")),
        hosts: read_csv(&dir.join("hosts.csv")),
        dir,
        report,
    }
}

impl Results {
    /// The transitions of one server, as "time status vm/task mig-status @host" strings.
    pub fn story(&self, server: &str) -> Vec<String> {
        self.transitions
            .iter()
            .filter(|r| r["server"] == server)
            .map(|r| {
                format!(
                    "{} {} {}/{} {} @{}",
                    r["time_s"],
                    r["status"],
                    r["vm_state"],
                    r["task_state"],
                    r["migration_status"],
                    r["host"]
                )
            })
            .collect()
    }

    /// The last transition row of a server.
    pub fn last(&self, server: &str) -> &Row {
        self.transitions
            .iter()
            .rev()
            .find(|r| r["server"] == server)
            .unwrap_or_else(|| panic!("no transition for {server}"))
    }

    pub fn request(&self, name: &str) -> &Row {
        self.requests
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no request named {name}"))
    }

    /// Instance-action event rows of a server as "action event result host".
    pub fn events(&self, server: &str) -> Vec<String> {
        self.actions
            .iter()
            .filter(|r| r["server"] == server)
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r["action"], r["event"], r["result"], r["host"]
                )
            })
            .collect()
    }

    /// Final placement usage (vcpus) of each host, from the last hosts.csv row per host.
    pub fn final_vcpus(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for r in &self.hosts {
            m.insert(r["host"].clone(), r["vcpus_used"].parse().expect("number"));
        }
        m
    }
}

/// A small cloud: `n` hosts h1..hn (16 vCPU, 32 GiB, 500 GB), flavor m1.small (2/4096/40),
/// servers pinned as given, then `extra` TOML appended.
pub fn cloud(n: usize, servers: &[(&str, &str)], extra: &str) -> String {
    let mut t = String::from("name = \"t\"\nseed = 1\n");
    for i in 1..=n {
        t.push_str(&format!(
            "[[hosts]]\nname = \"h{i}\"\nvcpus = 16\nmemory_mb = 32768\ndisk_gb = 500\nperiodic_phase_s = 0\n"
        ));
    }
    t.push_str("[[flavors]]\nname = \"m1.small\"\nvcpus = 2\nmemory_mb = 4096\ndisk_gb = 40\n");
    for (name, host) in servers {
        t.push_str(&format!(
            "[[servers]]\nname = \"{name}\"\nflavor = \"m1.small\"\nhost = \"{host}\"\n"
        ));
    }
    t.push_str(extra);
    t
}
