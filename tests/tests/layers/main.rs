//! The shape of the code, checked like behaviour: no two files of a crate import each
//! other, directly or around a circle, no source file grows past what one reader
//! holds at once, and no server file but `wire`'s builds a frame (`frames`). All read
//! the source as it is on disk (`modules`, `source`); nothing here starts a server.
//!
//! Every import counts (`use crate::…`, `use super::…`, a child module by name, a
//! path in code such as `crate::http::router(..)`), resolved to the file of the
//! deepest module it names. One kind of circle is allowed: a module and its own parts
//! leaning on each other (a parent re-exports a part, the part implements the
//! parent's type), as long as every import in it links a module with one of its own
//! submodules. A part importing a sibling that reaches back, or anything leaving the
//! module, fails, and the message names the files and the import of each step.
//!
//! Run alone: `cargo test -p kindred-tests --test layers`.

mod frames;
mod modules;
mod source;

use std::path::{Path, PathBuf};

use modules::Crate;

/// The most lines a source file may have; tests and generated data are exempt.
const MAX_LINES: usize = 600;

/// The crates whose module graphs must have no circle, by their roots.
const CHECKED_ROOTS: [&str; 5] = [
    "server/src/lib.rs",
    "server/src/main.rs",
    "loadtest/src/lib.rs",
    "loadtest/src/main.rs",
    "protocol/src/lib.rs",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
        .to_owned()
}

fn shown(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn no_file_imports_itself_around_a_circle() {
    let root = workspace();
    let mut report = Vec::new();
    for krate in CHECKED_ROOTS {
        for tangle in Crate::read(&root.join(krate)).tangles() {
            let steps: Vec<String> = tangle
                .circle
                .iter()
                .map(|(file, import)| match import {
                    Some((line, path)) => format!("{}:{line} (`{path}`)", shown(file)),
                    None => shown(file),
                })
                .collect();
            let caught: Vec<String> = tangle.files.iter().map(|f| shown(f)).collect();
            report.push(format!(
                "  {}\n  ({} files caught in it: {})",
                steps.join("\n    → "),
                caught.len(),
                caught.join(", ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "import circles (each file imports the next; move what both need to a module \
         below them):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_checker_names_circles_between_layers_and_lets_a_module_lean_on_its_parts() {
    // A crate laid out on disk. `a` imports `b::inner` through a path in code and the
    // child imports `a` back with `super::super`; `c` is imported by both and imports
    // nothing, and a doc comment or a string naming a module counts for nothing. `p`
    // re-exports its part, which implements `p`'s type: that is `p`'s inside. `w`
    // does the same, but its part reaches out to `x`, which imports `w`: a circle.
    let dir = std::env::temp_dir().join(format!("kindred-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["b", "p", "w"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "lib.rs",
        "mod a;\nmod b;\nmod c;\n#[cfg(test)]\nmod d;\nmod p;\nmod w;\nmod x;\n",
    );
    write(
        "a.rs",
        "use crate::c::C;\n/// See `crate::d`.\npub fn f() { crate::b::inner::g(); }\n",
    );
    write("b/mod.rs", "pub mod inner;\nuse super::c;\n");
    write(
        "b/inner.rs",
        "pub fn g() { super::super::a::f(); let _ = \"crate::c\"; }\n",
    );
    write("c.rs", "pub struct C;\n");
    write("d.rs", "use crate::a;\n");
    write(
        "p/mod.rs",
        "mod part;\npub use part::Part;\npub struct Whole;\n",
    );
    write("p/part.rs", "use super::Whole;\npub struct Part;\n");
    write(
        "w/mod.rs",
        "mod part;\npub use self::part::Part;\npub struct Whole;\n",
    );
    write(
        "w/part.rs",
        "use super::Whole;\nuse crate::x::X;\npub struct Part;\n",
    );
    write("x.rs", "pub struct X(crate::w::Whole);\n");
    let krate = Crate::read(&dir.join("lib.rs"));
    let tangles = krate.tangles();
    let files = krate.files();
    std::fs::remove_dir_all(&dir).unwrap();
    let named: Vec<Vec<String>> = tangles
        .iter()
        .map(|tangle| {
            tangle
                .circle
                .iter()
                .map(|(file, _)| file.strip_prefix(&dir).unwrap().display().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        named,
        [
            vec!["a.rs", "b/inner.rs", "a.rs"],
            vec!["w/mod.rs", "w/part.rs", "x.rs", "w/mod.rs"],
        ]
    );
    assert_eq!(
        tangles[0].circle[0].1,
        Some((3, "crate::b::inner::g".to_owned())),
        "each import is named by its line and path"
    );
    assert!(
        files[dir.join("d.rs").as_path()],
        "d is declared for tests only"
    );
    assert!(!files[dir.join("a.rs").as_path()]);
}

#[test]
fn no_source_file_is_longer_than_one_reader_holds() {
    let root = workspace();
    // Files declared under `#[cfg(test)]` are tests, wherever they are.
    let mut test_only = std::collections::BTreeSet::new();
    for krate in crate_roots(&root) {
        for (file, only_tests) in Crate::read(&krate).files() {
            if only_tests {
                test_only.insert(file.to_owned());
            }
        }
    }
    let mut long = Vec::new();
    for file in rust_files(&root) {
        let is_test = file.file_name().is_some_and(|n| n == "tests.rs")
            || file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .components()
                .any(|c| c.as_os_str() == "tests")
            || test_only.contains(&file);
        if is_test {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        if text
            .lines()
            .next()
            .is_some_and(|l| l.contains("@generated"))
        {
            continue;
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            long.push(format!("  {} ({lines} lines)", shown(&file)));
        }
    }
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (split each along its jobs):\n{}",
        long.join("\n")
    );
}

/// Every crate root of the workspace: `*/src/lib.rs`, `*/src/main.rs`, `*/src/bin/*.rs`.
fn crate_roots(root: &Path) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for member in std::fs::read_dir(root).unwrap().flatten() {
        let src = member.path().join("src");
        for name in ["lib.rs", "main.rs"] {
            if src.join(name).is_file() {
                roots.push(src.join(name));
            }
        }
        if let Ok(bins) = std::fs::read_dir(src.join("bin")) {
            roots.extend(
                bins.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "rs")),
            );
        }
    }
    roots
}

/// Every `.rs` file of the repository but build output, dependencies and hidden
/// directories.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                files.extend(rust_files(&path));
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
    files
}
