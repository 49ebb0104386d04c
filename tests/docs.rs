//! The project's Nova reference (`docs/nova-behaviour.md`, issue 12 item 3) keeps up with the
//! code: it names every dated behaviour change of `config::CHANGES` and every fixed trace step
//! of `vocab::Step::FIXED`, each in backquotes as the code spells it; and no Markdown link of
//! the repository's documentation points outside the repository.

use novasim::config::CHANGES;
use novasim::vocab::Step;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The reference with every run of white space made one space, as Markdown reads a code span
/// broken across lines.
fn reference() -> String {
    let path = root().join("docs/nova-behaviour.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_reference_names_every_dated_behaviour() {
    let doc = reference();
    let missing: Vec<String> = CHANGES
        .iter()
        .map(|c| format!("`{:?}`", c.behaviour))
        .filter(|name| !doc.contains(name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/nova-behaviour.md does not describe these behaviours of config::CHANGES: {}",
        missing.join(", ")
    );
}

#[test]
fn the_reference_names_every_trace_step() {
    let doc = reference();
    let missing: Vec<String> = Step::FIXED
        .iter()
        .filter_map(|s| s.fixed_text())
        .map(|text| format!("`{text}`"))
        .filter(|text| !doc.contains(text.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/nova-behaviour.md does not name these trace steps of vocab::Step::FIXED: {}",
        missing.join(", ")
    );
}

/// The relative targets of the Markdown links `[text](target)` of `text`.
fn relative_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or_default().trim();
        let external = target.contains("://") || target.starts_with("mailto:");
        if !target.is_empty() && !external {
            out.push(target.to_string());
        }
        rest = &rest[end..];
    }
    out
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !name.starts_with('.') && name != "target" {
                markdown_files(&p, out);
            }
        } else if name.ends_with(".md") {
            out.push(p);
        }
    }
}

#[test]
fn documentation_links_stay_inside_the_repository() {
    let root = root().canonicalize().expect("repository root");
    let mut files = vec![root.join("README.md")];
    markdown_files(&root.join("docs"), &mut files);
    let mut bad = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable Markdown");
        let dir = file.parent().expect("a file has a folder");
        for target in relative_links(&text) {
            let inside = dir
                .join(&target)
                .canonicalize()
                .is_ok_and(|p| p.starts_with(&root));
            if !inside {
                bad.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "links to missing files or outside the repository: {}",
        bad.join("; ")
    );
}
