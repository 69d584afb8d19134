//! The map stays true: every Torg crate depends only on what ARCHITECTURE.md's crate table
//! allows (read from `cargo metadata`), the domain uses only the outside crates listed for it,
//! and nothing shipped depends on the test kit or the benchmarks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The crate table: crate → what it may depend on (names in backticks in the last column).
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut table = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `torg")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", crate, what, may depend on, ""
        assert!(cells.len() >= 5, "a crate row has three cells: {line}");
        let name = cells[1].trim_matches('`').to_string();
        let deps = cells[3]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect();
        table.insert(name, deps);
    }
    table
}

/// Each workspace crate's normal (not dev or build) dependencies.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut found = BTreeMap::new();
    for p in meta["packages"].as_array().expect("packages") {
        let deps = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str().map(String::from))
            .collect();
        found.insert(p["name"].as_str().expect("name").to_string(), deps);
    }
    found
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    let allowed = allowed();
    let actual = dependencies();
    assert!(
        allowed.len() >= 12,
        "the table lists the crates: {allowed:?}"
    );
    for (name, deps) in &actual {
        let may = allowed
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no row in ARCHITECTURE.md's crate table"));
        for dep in deps {
            // Torg's own crates must be listed; so must every outside crate of the domain.
            let checked = dep.starts_with("torg") || name == "torg-domain";
            assert!(
                !checked || may.contains(dep),
                "{name} depends on {dep}, which ARCHITECTURE.md does not allow it ({may:?})"
            );
        }
    }
    for name in allowed.keys() {
        assert!(
            actual.contains_key(name),
            "ARCHITECTURE.md lists {name}, which is not a crate"
        );
    }
    for (name, deps) in &actual {
        if name != "torg-bench" {
            assert!(
                !deps.contains("torg-bench"),
                "{name} depends on the benchmarks"
            );
        }
        if !matches!(name.as_str(), "torg-bench" | "torg-testkit") {
            assert!(!deps.contains("torg-testkit"), "{name} ships the test kit");
        }
    }
}
