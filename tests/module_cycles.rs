//! The crate's modules form no cycle (issue 10), so each can be understood and changed without
//! the ones above it. From the bottom: `engine`, `config` (nova.conf options and the request
//! vocabulary), `model`, `api` and `scheduler`, the `scenario` loader, `sim`, `trace`, the
//! `results` reader and what reads a results folder (`expect`, `plot`, `analysis`, `report`),
//! then `run`, `sweep` and `cli`. This test reads `src/` for `crate::<module>` paths (unit-test
//! modules included) and fails, listing every cycle, when the graph has one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules that must sit below others: a refactoring that drops one is noticed.
const LAYERS: [&str; 8] = [
    "engine",
    "config",
    "model",
    "api",
    "scheduler",
    "scenario",
    "sim",
    "trace",
];

/// The top-level module a file of `src/` belongs to: `src/x.rs` and `src/x/…` are `x`.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.strip_suffix(".rs").unwrap_or(first).to_string())
}

/// The modules `text` names as `crate::m` or inside `crate::{m, n::…}`; comments are skipped
/// (prose may name a module without using it).
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c, d::{e, f}}`: the names at depth 0 of the group.
                let (mut depth, mut start) = (0usize, 0usize);
                for (k, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            out.insert(head(&group[start..k]));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.insert(head(&group[start..k]));
                            start = k + 1;
                        }
                        _ => {}
                    }
                }
            } else {
                out.insert(head(rest));
            }
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// The first path segment of `s` (`run::X` → `run`).
fn head(s: &str) -> String {
    s.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn scan(dir: &Path, root: &Path, graph: &mut BTreeMap<String, BTreeSet<String>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scan(&path, root, graph);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            let Some(from) = module_of(rel) else { continue };
            let text = std::fs::read_to_string(&path).expect("read");
            for to in referenced(&text) {
                if to != from {
                    graph.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
}

/// Every elementary cycle of `graph` restricted to `nodes`, each once, starting at its
/// smallest module (a small graph: a depth-first search from each node suffices).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>, nodes: &[&str]) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&str> = nodes.iter().copied().collect();
    let edges = |n: &str| -> Vec<String> {
        graph
            .get(n)
            .into_iter()
            .flatten()
            .filter(|m| nodes.contains(m.as_str()))
            .cloned()
            .collect()
    };
    let mut found = Vec::new();
    for &start in &nodes {
        // Paths from `start` through modules greater than it, back to `start`.
        let mut stack: Vec<(Vec<String>, usize)> = vec![(vec![start.to_string()], 0)];
        while let Some((path, next)) = stack.pop() {
            let last = path.last().expect("non-empty").clone();
            let out = edges(&last);
            if next >= out.len() {
                continue;
            }
            stack.push((path.clone(), next + 1));
            let to = &out[next];
            if to == start {
                let mut cycle = path.clone();
                cycle.push(start.to_string());
                found.push(cycle);
            } else if to.as_str() > start && !path.contains(to) {
                let mut longer = path.clone();
                longer.push(to.clone());
                stack.push((longer, 0));
            }
        }
    }
    found
}

#[test]
fn modules_have_no_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    scan(&root, &root, &mut graph);
    let modules: BTreeSet<String> = graph
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .filter(|m| *m != "lib" && *m != "main")
        .cloned()
        .collect();
    for m in LAYERS {
        assert!(modules.contains(m), "module {m} not found in src/");
    }
    let names: Vec<&str> = modules.iter().map(String::as_str).collect();
    let found = cycles(&graph, &names);
    let shown: Vec<String> = found.iter().map(|c| c.join(" -> ")).collect();
    assert!(found.is_empty(), "module cycles:\n  {}", shown.join("\n  "));
}

/// The vocabulary below the loader: the API, the scheduler and the model name no loader type.
#[test]
fn the_loader_sits_above_the_api_and_the_scheduler() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    scan(&root, &root, &mut graph);
    for low in ["engine", "config", "model", "api", "scheduler"] {
        let uses = graph.get(low).cloned().unwrap_or_default();
        for high in ["scenario", "sim", "trace", "results", "run"] {
            assert!(!uses.contains(high), "{low} uses {high}");
        }
    }
}

/// The scanner and the cycle search themselves: a known cycle is found and named.
#[test]
fn a_cycle_is_found_and_named() {
    let text = "use crate::{plot::{self, X}, report};\n// crate::sweep in prose\nfn f() { crate::run::go() }";
    assert_eq!(
        referenced(text),
        ["plot", "report", "run"].map(String::from).into()
    );
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in [
        ("plot", "report"),
        ("report", "run"),
        ("run", "plot"),
        ("run", "results"),
    ] {
        graph.entry(a.into()).or_default().insert(b.into());
    }
    let found = cycles(&graph, &["plot", "report", "run", "results"]);
    assert_eq!(found, vec![vec!["plot", "report", "run", "plot"]]);
}
