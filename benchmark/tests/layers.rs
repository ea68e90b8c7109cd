//! The crate's floors hold: reading `src/` as text, every `crate::`, `super::` and
//! `self::` path outside test modules points at a module on the same floor or below,
//! no two source files import each other (directly or round a circle), no file holds
//! more than 600 lines of code outside its tests, and no module re-exports another's
//! items (every type is imported from where it is defined). The floors are the ones
//! `src/lib.rs` lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and its floor: a module may import only its own floor's and
/// lower floors' modules.
const FLOORS: [(&str, u8); 17] = [
    ("stats", 0),
    ("interval", 0),
    ("units", 0),
    ("placement", 0),
    ("machine", 0),
    ("settings", 1),
    ("engine", 2),
    ("security", 2),
    ("network", 2),
    ("servers", 3),
    ("adapters", 4),
    ("model", 5),
    ("analysis", 6),
    ("render", 7),
    ("wire", 8),
    ("cli", 9),
    ("run", 10),
];

const MAX_CODE_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The module path of a file: `src/engine/probe.rs` is `["engine", "probe"]`,
/// `src/engine/mod.rs` is `["engine"]`, `src/lib.rs` is `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file's text before its test module.
fn without_tests(text: &str) -> &str {
    let mut at = 0;
    while let Some(found) = text[at..].find("#[cfg(test)]") {
        let start = at + found;
        let after = text[start + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod tests") || after.starts_with("pub(crate) mod tests") {
            return &text[..start];
        }
        at = start + 1;
    }
    text
}

/// Lines of code: neither blank nor only a comment.
fn code_lines(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .count()
}

/// Every module path the text names, absolute from the crate root: `crate::a::b`
/// paths, `super::` and `self::` paths resolved against `module`, and each item of a
/// `use` group (`crate::a::{b, c::d}`).
fn named_paths(text: &str, module: &[String], is_mod_rs: bool) -> Vec<Vec<String>> {
    // Normalise `use` groups into one path per item.
    let mut paths = Vec::new();
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for start in ["crate::", "super::", "self::"] {
        let mut at = 0;
        while let Some(found) = flat[at..].find(start) {
            let begin = at + found;
            at = begin + start.len();
            // `self::` inside a longer name (`itself::`) is not a path.
            if begin > 0 {
                let before = flat.as_bytes()[begin - 1];
                if before.is_ascii_alphanumeric() || before == b'_' || before == b':' {
                    continue;
                }
            }
            let rest = &flat[begin..];
            expand(rest, &[], &mut paths);
        }
    }
    paths
        .into_iter()
        .filter_map(|path| resolve(&path, module, is_mod_rs))
        .collect()
}

/// Reads one path (with any `{...}` groups) from the start of `text` into `out`.
fn expand(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut segment = String::new();
    let mut chars = text.char_indices().peekable();
    let mut parts = prefix.to_vec();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else if c == ':' && chars.peek().map(|p| p.1) == Some(':') {
            chars.next();
            parts.push(std::mem::take(&mut segment));
            if chars.peek().map(|p| p.1) == Some('{') {
                // A group: each comma-separated item at depth one.
                let inner_start = i + 3;
                let mut depth = 0;
                let mut item_start = inner_start;
                for (j, c) in text[inner_start..].char_indices() {
                    let j = inner_start + j;
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            expand(text[item_start..j].trim(), &parts, out);
                            return;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(text[item_start..j].trim(), &parts, out);
                            item_start = j + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
        } else {
            break;
        }
    }
    if !segment.is_empty() {
        parts.push(segment);
    }
    if !parts.is_empty() {
        out.push(parts);
    }
}

/// An absolute module path for `path` named inside `module`.
fn resolve(path: &[String], module: &[String], is_mod_rs: bool) -> Option<Vec<String>> {
    let mut base: Vec<String> = module.to_vec();
    // In `a/b.rs` (module a::b), `super` is `a`; in `a/b/mod.rs` (also a::b) it is `a`.
    let _ = is_mod_rs;
    let mut rest = path;
    match rest.first()?.as_str() {
        "crate" => {
            base.clear();
            rest = &rest[1..];
        }
        "self" => rest = &rest[1..],
        "super" => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().filter(|s| s.as_str() != "self").cloned());
    Some(base)
}

fn floor_of(module: &[String]) -> Option<u8> {
    let top = module.first()?;
    FLOORS.iter().find(|(name, _)| name == top).map(|&(_, f)| f)
}

struct Crate {
    /// Module path of each file, and the file's text outside its tests.
    modules: BTreeMap<Vec<String>, (PathBuf, String)>,
}

impl Crate {
    fn read() -> Crate {
        let mut all = Vec::new();
        files(&src(), &mut all);
        let modules = all
            .into_iter()
            .filter(|f| !f.ends_with("main.rs"))
            .map(|file| {
                let text = std::fs::read_to_string(&file).unwrap();
                let code = without_tests(&text).to_owned();
                (module_of(&file), (file, code))
            })
            .collect();
        Crate { modules }
    }

    /// The file module a path lands in: its longest prefix that is a file.
    fn file_module(&self, path: &[String]) -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|prefix| self.modules.contains_key(prefix))
    }

    /// For each file module, the other file modules it names.
    fn edges(&self) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
        self.modules
            .iter()
            .map(|(module, (file, code))| {
                let is_mod_rs = file.ends_with("mod.rs");
                let targets = named_paths(code, module, is_mod_rs)
                    .into_iter()
                    .filter_map(|path| self.file_module(&path))
                    // A module naming its own children (`mod x;` then `x::`) or itself.
                    .filter(|target| target != module && !target.starts_with(module))
                    .collect();
                (module.clone(), targets)
            })
            .collect()
    }
}

#[test]
fn every_module_imports_only_its_floor_and_those_below() {
    let krate = Crate::read();
    let mut wrong = Vec::new();
    for (module, targets) in krate.edges() {
        let Some(floor) = floor_of(&module) else {
            continue;
        };
        for target in targets {
            if let Some(target_floor) = floor_of(&target)
                && target_floor > floor
            {
                wrong.push(format!("{} -> {}", module.join("::"), target.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from a lower floor upwards: {wrong:#?}"
    );
    // Every top-level module has a floor.
    for module in krate.modules.keys().filter(|m| m.len() == 1) {
        assert!(
            floor_of(module).is_some(),
            "{module:?} has no floor in FLOORS"
        );
    }
}

#[test]
fn no_two_files_import_each_other_round_a_circle() {
    let edges = Crate::read().edges();
    // Depth-first search for a back edge, with the circle it closes.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].iter().map(|m| m.join("::")).collect());
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, stack, done) {
                return Some(circle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        let circle = visit(node, &edges, &mut Vec::new(), &mut done);
        assert!(circle.is_none(), "an import circle: {circle:?}");
    }
}

#[test]
fn no_file_is_over_600_lines_of_code_and_nothing_is_re_exported() {
    for (module, (file, code)) in &Crate::read().modules {
        let lines = code_lines(code);
        assert!(
            lines <= MAX_CODE_LINES,
            "{} has {lines} lines of code outside its tests",
            file.display()
        );
        if !module.is_empty() {
            for line in code.lines().map(str::trim) {
                assert!(
                    !(line.starts_with("pub use ") || line.starts_with("pub(crate) use ")),
                    "{} re-exports: {line}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn the_checks_see_what_they_look_for() {
    let module = vec!["analysis".to_owned(), "ranking".to_owned()];
    let paths = named_paths(
        "use crate::model::{RankEntry, Report};\nuse super::checks;\nlet x = crate::stats::rank(&e); itself::no;",
        &module,
        false,
    );
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        shown,
        [
            "model::RankEntry",
            "model::Report",
            "stats::rank",
            "analysis::checks"
        ]
    );
    assert_eq!(without_tests("a\n#[cfg(test)]\nmod tests {}\n"), "a\n");
    assert_eq!(code_lines("// c\n\nfn a() {}\n"), 1);
}
