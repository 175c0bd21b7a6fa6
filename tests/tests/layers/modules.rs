//! A crate's modules read from its source, and the file-level import graph between
//! them.
//!
//! The module tree comes from the `mod` declarations, from a crate root (`lib.rs`,
//! `main.rs`, `bin/*.rs`) down, with the compiler's file rules (`x.rs` or `x/mod.rs`,
//! beside `lib.rs` and `mod.rs`, under `x/` for `x.rs`). A `mod` declaration only
//! places a file; it is not an import. An import is a path that names a module of the
//! crate: a `use` (`crate::`, `super::`, `self::`, or a child module by name) or a path
//! in the code (`crate::http::router(..)`). Each resolves to the deepest module it
//! names, so `use crate::room::Room` is an import of `room/mod.rs`, which is what the
//! importer depends on even when that file only re-exports.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::source::{Token, tokens};

/// A module's place in the crate, from the root: `["http", "api"]`.
type ModPath = Vec<String>;

/// An import as written: its line and its path (`crate::http::router`).
pub type Import = (usize, String);

/// importer → imported file → the first import that makes the edge.
type Edges = BTreeMap<PathBuf, BTreeMap<PathBuf, Import>>;

/// Files that import one another around a circle.
#[derive(Debug)]
pub struct Tangle {
    /// One shortest circle: each file with the import that leads to the next; the
    /// last is the first again, with no import.
    pub circle: Vec<(PathBuf, Option<Import>)>,
    /// Every file caught in it (each reaches every other through imports).
    pub files: BTreeSet<PathBuf>,
}

/// One module of a crate.
#[derive(Debug)]
struct Module {
    /// The file it is written in (an inline module's is its parent's).
    file: PathBuf,
    /// Declared only under `#[cfg(test)]`, or inside such a module.
    test_only: bool,
}

/// Every module of a crate and the imports between its files.
#[derive(Debug, Default)]
pub struct Crate {
    modules: BTreeMap<ModPath, Module>,
    /// Each file's module (the outermost one written in it).
    file_modules: BTreeMap<PathBuf, ModPath>,
    edges: Edges,
}

/// What one file says about modules, before it is placed in a crate.
#[derive(Debug, Default)]
struct FileSyntax {
    /// `mod name;` and `mod name { .. }`, by the inline module they are written in.
    declared: Vec<Declaration>,
    /// Paths that may name a module, by the inline module they are written in.
    paths: Vec<Reference>,
}

#[derive(Debug)]
struct Declaration {
    scope: Vec<String>,
    name: String,
    inline: bool,
    test_only: bool,
}

#[derive(Debug)]
struct Reference {
    scope: Vec<String>,
    segments: Vec<String>,
    line: usize,
}

impl Crate {
    /// Read the crate whose root file is `root`.
    pub fn read(root: &Path) -> Crate {
        let mut krate = Crate::default();
        let mut references = Vec::new();
        let dir = root.parent().expect("a crate root is in a directory");
        krate.read_file(root, Vec::new(), dir.to_owned(), false, &mut references);
        for (file, module, reference) in references {
            if let Some((target, text)) = krate.resolve(&module, &reference.segments)
                && target != file
            {
                krate
                    .edges
                    .entry(file.clone())
                    .or_default()
                    .entry(target)
                    .or_insert((reference.line, text));
            }
        }
        krate
    }

    /// The files of the crate's modules, with whether each is test-only.
    pub fn files(&self) -> BTreeMap<&Path, bool> {
        let mut files = BTreeMap::new();
        for module in self.modules.values() {
            let test_only = files.entry(module.file.as_path()).or_insert(true);
            *test_only &= module.test_only;
        }
        files
    }

    fn read_file(
        &mut self,
        file: &Path,
        module: ModPath,
        children_dir: PathBuf,
        test_only: bool,
        references: &mut Vec<(PathBuf, ModPath, Reference)>,
    ) {
        let source = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let syntax = parse(&source);
        self.file_modules.insert(file.to_owned(), module.clone());
        self.modules.insert(
            module.clone(),
            Module {
                file: file.to_owned(),
                test_only,
            },
        );
        for declaration in syntax.declared {
            let in_test = test_only
                || declaration.test_only
                || (1..=declaration.scope.len()).any(|n| {
                    let mut inline = module.clone();
                    inline.extend_from_slice(&declaration.scope[..n]);
                    self.modules.get(&inline).is_some_and(|m| m.test_only)
                });
            let mut path = module.clone();
            path.extend(declaration.scope.iter().cloned());
            path.push(declaration.name.clone());
            if declaration.inline {
                self.modules.insert(
                    path,
                    Module {
                        file: file.to_owned(),
                        test_only: in_test,
                    },
                );
                continue;
            }
            let mut dir = children_dir.clone();
            dir.extend(&declaration.scope);
            let flat = dir.join(format!("{}.rs", declaration.name));
            let nested = dir.join(&declaration.name).join("mod.rs");
            let (child, child_dir) = if flat.exists() {
                (flat, dir.join(&declaration.name))
            } else if nested.exists() {
                (nested, dir.join(&declaration.name))
            } else {
                panic!(
                    "{} declares `mod {}` but neither {} nor {} exists",
                    file.display(),
                    declaration.name,
                    flat.display(),
                    nested.display()
                );
            };
            self.read_file(&child, path, child_dir, in_test, references);
        }
        for reference in syntax.paths {
            let mut at = module.clone();
            at.extend(reference.scope.iter().cloned());
            references.push((file.to_owned(), at, reference));
        }
    }

    /// The file of the deepest module `segments` names from inside module `at`, and
    /// the path as written; `None` for a path outside the crate.
    fn resolve(&self, at: &ModPath, segments: &[String]) -> Option<(PathBuf, String)> {
        let text = segments.join("::");
        let mut absolute: ModPath = match segments.first()?.as_str() {
            "crate" => Vec::new(),
            "self" => at.clone(),
            "super" => at.clone(),
            first => {
                let mut child = at.clone();
                child.push(first.to_owned());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                at.clone()
            }
        };
        let mut rest = segments;
        if matches!(segments[0].as_str(), "crate" | "self") {
            rest = &segments[1..];
        }
        while rest.first().is_some_and(|s| s == "super") {
            absolute.pop()?;
            rest = &rest[1..];
        }
        absolute.extend(rest.iter().filter(|s| *s != "self").cloned());
        (0..=absolute.len())
            .rev()
            .find_map(|n| self.modules.get(&absolute[..n]))
            .map(|m| (m.file.clone(), text))
    }

    /// Every tangle of files that import one another around a circle, but a module's
    /// own inside.
    pub fn tangles(&self) -> Vec<Tangle> {
        let nodes: BTreeSet<&PathBuf> = self
            .edges
            .iter()
            .flat_map(|(from, to)| std::iter::once(from).chain(to.keys()))
            .collect();
        let mut tangles = Vec::new();
        for component in strongly_connected(&nodes, &self.edges) {
            if component.len() < 2 || self.is_one_modules_inside(&component) {
                continue;
            }
            let start = component.iter().next().expect("not empty");
            tangles.push(Tangle {
                circle: self.shortest_circle(start, &component),
                files: component,
            });
        }
        tangles
    }

    /// Whether `inner` is written under the module of `outer`.
    fn contains(&self, outer: &PathBuf, inner: &PathBuf) -> bool {
        let (outer, inner) = (&self.file_modules[outer], &self.file_modules[inner]);
        outer.len() < inner.len() && inner.starts_with(outer)
    }

    /// Whether an import links a module with one of its own submodules.
    fn is_within(&self, from: &PathBuf, to: &PathBuf) -> bool {
        self.contains(from, to) || self.contains(to, from)
    }

    /// Whether a circle is a module leaning on its own parts and they on it: one of its
    /// files is the module that holds all the others, and every import among them links
    /// a module with one of its own submodules (a parent re-exports a part, a part
    /// implements the parent's type). A part importing its sibling, or anything leaving
    /// the module, is a circle between layers.
    fn is_one_modules_inside(&self, component: &BTreeSet<PathBuf>) -> bool {
        let held = component.iter().any(|root| {
            component
                .iter()
                .all(|f| f == root || self.contains(root, f))
        });
        held && component.iter().all(|from| {
            self.edges[from]
                .keys()
                .filter(|to| component.contains(*to))
                .all(|to| self.is_within(from, to))
        })
    }

    /// The shortest way from `start` back to itself inside `component` that takes at
    /// least one import between layers (not a module's own inside).
    fn shortest_circle(
        &self,
        start: &PathBuf,
        component: &BTreeSet<PathBuf>,
    ) -> Vec<(PathBuf, Option<Import>)> {
        // A step of the search: a file, and whether the way to it crossed layers.
        type Step<'a> = (&'a PathBuf, bool);
        let mut came_from: BTreeMap<Step, Step> = BTreeMap::new();
        let mut queue = VecDeque::from([(start, false)]);
        let goal = (start, true);
        'search: while let Some(step) = queue.pop_front() {
            for next in self.edges.get(step.0).into_iter().flat_map(|e| e.keys()) {
                let next = (next, step.1 || !self.is_within(step.0, next));
                if !component.contains(next.0) || came_from.contains_key(&next) {
                    continue;
                }
                came_from.insert(next, step);
                if next == goal {
                    break 'search;
                }
                queue.push_back(next);
            }
        }
        let mut files = vec![start.clone()];
        let mut step = came_from[&goal];
        while step != (start, false) {
            files.push(step.0.clone());
            step = came_from[&step];
        }
        files.push(start.clone());
        files.reverse();
        let mut circle: Vec<_> = files
            .windows(2)
            .map(|pair| {
                (
                    pair[0].clone(),
                    Some(self.edges[&pair[0]][&pair[1]].clone()),
                )
            })
            .collect();
        circle.push((start.clone(), None));
        circle
    }
}

/// Tarjan's strongly connected components of the import graph.
fn strongly_connected(nodes: &BTreeSet<&PathBuf>, edges: &Edges) -> Vec<BTreeSet<PathBuf>> {
    struct Walk<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        components: Vec<BTreeSet<PathBuf>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a PathBuf) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.edges.get(node).into_iter().flat_map(|e| e.keys()) {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.insert(top.clone());
                    if top == node {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in nodes {
        if !walk.index.contains_key(*node) {
            walk.visit(node);
        }
    }
    walk.components
}

/// The module declarations and module paths of one file.
fn parse(source: &str) -> FileSyntax {
    let tokens = tokens(source);
    let mut syntax = FileSyntax::default();
    // One entry per open `{`: the inline module it opens, if it opens one.
    let mut braces: Vec<Option<String>> = Vec::new();
    let scope =
        |braces: &[Option<String>]| -> Vec<String> { braces.iter().flatten().cloned().collect() };
    let mut cfg_test = false;
    let mut i = 0;
    while i < tokens.len() {
        let (token, line) = &tokens[i];
        let next = tokens.get(i + 1).map(|(t, _)| t);
        match token {
            Token::Punct('#') => {
                let open = if next.is_some_and(|t| t.is_punct('!')) {
                    i + 2
                } else {
                    i + 1
                };
                let close = matching(&tokens, open);
                let inside: Vec<&Token> = tokens[open + 1..close].iter().map(|(t, _)| t).collect();
                if inside.len() == 4 && inside[0].is_ident("cfg") && inside[2].is_ident("test") {
                    cfg_test = true;
                }
                i = close + 1;
            }
            Token::Ident(word) if word == "pub" && next.is_some_and(|t| t.is_punct('(')) => {
                i = matching(&tokens, i + 1) + 1;
            }
            Token::Ident(word) if word == "mod" => {
                let Some(Token::Ident(name)) = next else {
                    i += 1;
                    continue;
                };
                let inline = tokens.get(i + 2).is_some_and(|(t, _)| t.is_punct('{'));
                syntax.declared.push(Declaration {
                    scope: scope(&braces),
                    name: name.clone(),
                    inline,
                    test_only: cfg_test,
                });
                cfg_test = false;
                if inline {
                    braces.push(Some(name.clone()));
                    i += 3;
                } else {
                    i += 2;
                }
            }
            Token::Ident(word) if word == "use" => {
                let end = (i..tokens.len())
                    .find(|&j| tokens[j].0.is_punct(';'))
                    .unwrap_or(tokens.len());
                let tree: Vec<&Token> = tokens[i + 1..end].iter().map(|(t, _)| t).collect();
                let mut at = 0;
                let mut paths = Vec::new();
                use_tree(&tree, &mut at, Vec::new(), &mut paths);
                for segments in paths {
                    syntax.paths.push(Reference {
                        scope: scope(&braces),
                        segments,
                        line: *line,
                    });
                }
                cfg_test = false;
                i = end + 1;
            }
            Token::Ident(first)
                if next == Some(&Token::PathSep)
                    && (i == 0 || tokens[i - 1].0 != Token::PathSep) =>
            {
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j).is_some_and(|(t, _)| *t == Token::PathSep) {
                    match tokens.get(j + 1) {
                        Some((Token::Ident(s), _)) => {
                            segments.push(s.clone());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                syntax.paths.push(Reference {
                    scope: scope(&braces),
                    segments,
                    line: *line,
                });
                i = j;
            }
            Token::Punct('{') => {
                braces.push(None);
                cfg_test = false;
                i += 1;
            }
            Token::Punct('}') => {
                braces.pop();
                cfg_test = false;
                i += 1;
            }
            Token::Punct(';') => {
                cfg_test = false;
                i += 1;
            }
            _ => i += 1,
        }
    }
    syntax
}

/// The index of the bracket that closes the one at `open`.
fn matching(tokens: &[(Token, usize)], open: usize) -> usize {
    let mut depth = 0;
    for (j, (token, _)) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    tokens.len() - 1
}

/// The paths of a `use` tree (`a::{b, c::{self, d}} as e`), each from its root.
fn use_tree(tree: &[&Token], at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    while let Some(token) = tree.get(*at) {
        match token {
            Token::PathSep => *at += 1,
            Token::Ident(word) if word == "as" => {
                *at += 2;
                break;
            }
            Token::Ident(segment) => {
                path.push(segment.clone());
                *at += 1;
            }
            Token::Punct('*') => {
                *at += 1;
                break;
            }
            Token::Punct('{') => {
                *at += 1;
                while let Some(token) = tree.get(*at) {
                    if token.is_punct('}') {
                        *at += 1;
                        break;
                    }
                    if token.is_punct(',') {
                        *at += 1;
                        continue;
                    }
                    use_tree(tree, at, path.clone(), out);
                }
                return;
            }
            _ => break,
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}
