//! The crate's layers only point down: every `crate::` path in library code names a
//! module of its own layer or a lower one. The layers are kept in one place, the
//! README's map ("Where things live"); this test reads them from there, so the map
//! and the folders cannot drift apart either.
//!
//! The built-in spaces are vertical slices: each folder `spaces/<name>/` holds files of
//! several layers (its space, its supernet, its network, its scoring glue), and each
//! file takes the layer of its role, `spaces::*::<file>` on the map. A path into a
//! space (`crate::spaces::nb201::Nb201Genotype`, or `super::Nb201Genotype` inside the
//! folder) is resolved through the folder's `mod.rs` to the file that defines it.

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
    let test_module = ["#[cfg(test)]\nmod tests", "#[cfg(all(test,"]
        .iter()
        .filter_map(|m| text.find(m))
        .min();
    let text = match test_module {
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

/// Macros defined in `lib.rs` itself, below every layer (`crate::setters!`).
const ROOT_MACROS: &[&str] = &["setters"];

/// Each built-in space's items -> the file (role) that defines them, from the
/// `pub use file::{..}` lines of `spaces/<name>/mod.rs`: (space, item) -> role.
fn space_items(src: &Path) -> BTreeMap<(String, String), String> {
    let mut items = BTreeMap::new();
    let Ok(dirs) = fs::read_dir(src.join("spaces")) else {
        return items;
    };
    for dir in dirs {
        let dir = dir.expect("dir entry").path();
        if !dir.is_dir() {
            continue;
        }
        let space = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let code = library_code(&fs::read_to_string(dir.join("mod.rs")).expect("mod.rs"));
        for statement in code.split(';') {
            let Some(rest) = statement.trim().split("use ").nth(1) else {
                continue;
            };
            let Some((role, names)) = rest.split_once("::") else {
                continue;
            };
            for name in names
                .trim_matches(|c| c == '{' || c == '}' || char::is_whitespace(c))
                .split(',')
            {
                let name = name.trim();
                if !name.is_empty() {
                    items.insert((space.clone(), name.to_string()), role.trim().to_string());
                }
            }
        }
    }
    items
}

/// The map's key of a path into space `space` naming `rest` (`Nb201Genotype`,
/// `genotype::X`): `spaces::*::<role>`.
fn space_key(
    items: &BTreeMap<(String, String), String>,
    space: &str,
    rest: &str,
) -> Option<String> {
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let role = items
        .get(&(space.to_string(), name.clone()))
        .cloned()
        .or_else(|| rest[name.len()..].starts_with("::").then_some(name))?;
    Some(format!("spaces::*::{role}"))
}

/// The map keys of the `crate::spaces::<space>::...` and `super::...` paths in `code`,
/// a file of `spaces/<own>/` when `own` is set.
fn space_targets(
    items: &BTreeMap<(String, String), String>,
    code: &str,
    own: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::spaces::") {
        rest = &rest[i + "crate::spaces::".len()..];
        let space: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest[space.len()..].strip_prefix("::").unwrap_or("");
        let names: Vec<&str> = match after.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .map(str::trim)
                .collect(),
            None => vec![after],
        };
        out.extend(names.iter().filter_map(|n| space_key(items, &space, n)));
    }
    if let Some(own) = own {
        let mut rest = code;
        while let Some(i) = rest.find("super::") {
            rest = &rest[i + "super::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group[..group.find('}').unwrap_or(group.len())]
                    .split(',')
                    .map(str::trim)
                    .collect(),
                None => vec![rest],
            };
            out.extend(names.iter().filter_map(|n| space_key(items, own, n)));
        }
    }
    out
}

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

/// The map key of a file under `src/` and, for a file of a built-in space, its space;
/// `None` for the crate root and the space folders' `mod.rs` (they only declare and
/// re-export). A file of a built-in space takes the layer of its role.
fn map_key(rel: &Path) -> Option<(String, Option<String>)> {
    let parts: Vec<String> = rel
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    match parts.as_slice() {
        [root] if root == "lib" || root == "main" => None,
        [spaces, space, role] if spaces == "spaces" && role != "mod" => {
            Some((format!("spaces::*::{role}"), Some(space.clone())))
        }
        [spaces, ..] if spaces == "spaces" => None,
        [module, ..] => Some((module.clone(), None)),
        [] => None,
    }
}

/// The map lists no folder, file or space role that is gone.
fn assert_no_stale_rows(layers: &BTreeMap<String, usize>, src: &Path) {
    for module in layers.keys() {
        let found = match module.strip_prefix("spaces::*::") {
            Some(role) => fs::read_dir(src.join("spaces"))
                .expect("src/spaces")
                .any(|d| {
                    d.expect("dir entry")
                        .path()
                        .join(format!("{role}.rs"))
                        .is_file()
                }),
            None => src.join(module).is_dir() || src.join(format!("{module}.rs")).is_file(),
        };
        assert!(
            found,
            "the README's map lists `{module}`, which is not in src/"
        );
    }
}

#[test]
fn every_module_is_on_the_map_and_points_only_down() {
    let layers = layers();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let items = space_items(&src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unmapped = Vec::new();
    let mut upward = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let Some((module, own_space)) = map_key(rel) else {
            continue;
        };
        let Some(&layer) = layers.get(&module) else {
            unmapped.push(module);
            continue;
        };
        if rel
            .file_name()
            .is_some_and(|n| n == "tests.rs" || n == "test_support.rs")
        {
            continue;
        }
        let code = library_code(&fs::read_to_string(file).expect("readable file"));
        let mut all = space_targets(&items, &code, own_space.as_deref());
        all.extend(targets(&code).into_iter().filter(|t| t != "spaces"));
        for target in all {
            let target = ROOT_ITEMS
                .iter()
                .find(|(item, _)| *item == target)
                .map_or(target.clone(), |(_, m)| m.to_string());
            if target == module || ROOT_MACROS.contains(&target.as_str()) {
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
    assert_no_stale_rows(&layers, &src);
}

#[test]
fn the_scanner_sees_grouped_and_plain_paths() {
    let code = library_code(
        "use crate::{Architecture, search::X};\n// crate::plot::y in a comment\nlet a = crate::cli::run();\n#[cfg(test)]\nmod tests { use crate::cli; }",
    );
    assert_eq!(targets(&code), ["Architecture", "search", "cli"]);
}

#[test]
fn space_paths_resolve_to_the_file_that_defines_them() {
    let mut items = BTreeMap::new();
    for (item, role) in [("Nb201Genotype", "genotype"), ("Nb201SuperNet", "supernet")] {
        items.insert(("nb201".to_string(), item.to_string()), role.to_string());
    }
    let code = "use crate::spaces::nb201::{Nb201Genotype, Nb201SuperNet};\n\
                use super::supernet::X;\n\
                let n = crate::spaces::nb201::Nb201SuperNet::new();";
    assert_eq!(
        space_targets(&items, code, Some("nb201")),
        [
            "spaces::*::genotype",
            "spaces::*::supernet",
            "spaces::*::supernet",
            "spaces::*::supernet"
        ]
    );
    // Outside the folder, `super::` is not the space's.
    assert_eq!(space_targets(&items, code, None).len(), 3);
    assert_eq!(
        map_key(Path::new("spaces/nb201/space.rs")),
        Some(("spaces::*::space".to_string(), Some("nb201".to_string())))
    );
    assert_eq!(map_key(Path::new("spaces/nb201/mod.rs")), None);
    assert_eq!(
        map_key(Path::new("search/executor.rs")),
        Some(("search".to_string(), None))
    );
}
