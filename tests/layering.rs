//! The crate's layers only point down: every `crate::` path in library code names a
//! module of its own layer or a lower one. The layers are kept in one place, the
//! README's map ("Where things live"); this test reads them from there, so the map
//! and the folders cannot drift apart either.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The README's map: module name -> layer (1 = bottom).
fn layers() -> BTreeMap<String, usize> {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("## Where things live")
        .nth(1)
        .expect("README has a `## Where things live` section");
    let mut map = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | layer | `module` | what |
        if cells.len() < 4 {
            continue;
        }
        let (Ok(layer), Some(module)) = (
            cells[1].parse::<usize>(),
            cells[2].strip_prefix('`').and_then(|m| m.strip_suffix('`')),
        ) else {
            continue;
        };
        assert!(
            map.insert(module.to_string(), layer).is_none(),
            "README map lists `{module}` twice"
        );
    }
    assert!(map.len() > 10, "README map has too few modules: {map:?}");
    map
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Library code of a file: without comments, and without its `#[cfg(test)]` module
/// (tests may reach anywhere).
fn library_code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate-root items each module re-exports from, for `crate::Name` paths.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("burn", "data"),
    ("OpKind", "ops"),
    ("SearchSpace", "space"),
    ("Architecture", "space"),
    ("Genotype", "space"),
    ("Direction", "objective"),
    ("Objective", "objective"),
    ("ObjectiveContext", "objective"),
    ("ParetoArchive", "objective"),
    ("Reward", "objective"),
    ("ReinforceUpdater", "policy"),
    ("UpdaterConfig", "policy"),
    ("ShrinkSchedule", "schedule"),
    ("ShrinkScheduleConfig", "schedule"),
    ("Search", "search"),
    ("SearchConfig", "search"),
    ("SearchResult", "search"),
    ("TableSearchConfig", "search"),
    ("Strategy", "strategy"),
    ("StrategyConfig", "strategy"),
];

/// `crate::a::...`, `crate::{a::.., b}` and `crate::Name` targets in `code`.
fn targets(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        } else {
            out.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out.retain(|t| !t.is_empty());
    out
}

#[test]
fn every_module_is_on_the_map_and_points_only_down() {
    let layers = layers();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unmapped = Vec::new();
    let mut upward = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let is_test_file = rel
            .file_name()
            .is_some_and(|n| n == "tests.rs" || n == "test_support.rs");
        let Some(&layer) = layers.get(&module) else {
            unmapped.push(module);
            continue;
        };
        if is_test_file {
            continue;
        }
        let code = library_code(&fs::read_to_string(file).expect("readable file"));
        for target in targets(&code) {
            let target = ROOT_ITEMS
                .iter()
                .find(|(item, _)| *item == target)
                .map_or(target.clone(), |(_, m)| m.to_string());
            if target == module {
                continue;
            }
            match layers.get(&target) {
                Some(&t) if t > layer => upward.push(format!(
                    "{}: `{module}` (layer {layer}) uses `crate::{target}` (layer {t})",
                    rel.display()
                )),
                Some(_) => {}
                None => unmapped.push(format!("{target} (named in {})", rel.display())),
            }
        }
    }
    unmapped.sort();
    unmapped.dedup();
    assert!(unmapped.is_empty(), "not on the README's map: {unmapped:?}");
    assert!(
        upward.is_empty(),
        "imports that point up:\n{}",
        upward.join("\n")
    );
    // The map lists no folder that is gone.
    for module in layers.keys() {
        assert!(
            src.join(module).is_dir() || src.join(format!("{module}.rs")).is_file(),
            "the README's map lists `{module}`, which is not in src/"
        );
    }
}

#[test]
fn the_scanner_sees_grouped_and_plain_paths() {
    let code = library_code(
        "use crate::{Architecture, search::X};\n// crate::plot::y in a comment\nlet a = crate::cli::run();\n#[cfg(test)]\nmod tests { use crate::cli; }",
    );
    assert_eq!(targets(&code), ["Architecture", "search", "cli"]);
}
