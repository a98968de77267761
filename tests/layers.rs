//! Layers without cycles: reads every crate's sources, extracts the module dependency graph
//! from `crate::…` and `super::…` paths, and checks (a) that no modules import each other in a
//! cycle, in any crate, and (b) that the core's top-level modules import only from lower layers.
//!
//! The core's layer table is data: `tests/fixtures/layers.txt`, one layer per line, lowest
//! first. Adding a module is one word on one line; a module missing from the table fails.
//!
//! How the graph is read: comments, strings and `#[cfg(test)] mod tests { … }` blocks are
//! skipped (tests may use anything). A path resolves to the longest module it names, following
//! `pub use` re-exports (`crate::Bot` is `bot`). An import between a module and one of its
//! ancestors is the parent/child idiom and is not an edge; any other import is an edge between
//! the two siblings under their nearest common ancestor (`nlu::features` → `text` is
//! `nlu` → `text`; `nlu::features` → `nlu::vectors` is `features` → `vectors` inside `nlu`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path from the crate root (`[]` is the root, `["nlu", "features"]`).
type ModPath = Vec<String>;

/// One crate's modules and the imports between siblings.
#[derive(Debug, Default)]
struct Graph {
    /// Every module of the crate.
    modules: BTreeSet<ModPath>,
    /// Sibling edges: `(parent, from child, to child)` → one example `file: path` for messages.
    edges: BTreeMap<(ModPath, String, String), String>,
}

impl Graph {
    /// Records that `from` uses `to` (both module paths), with `why` as evidence.
    fn add_use(&mut self, from: &[String], to: &[String], why: String) {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        if common == from.len() || common == to.len() {
            return; // the same module, an ancestor or a descendant
        }
        let key = (from[..common].to_vec(), from[common].clone(), to[common].clone());
        self.edges.entry(key).or_insert(why);
    }

    /// Every cycle, as the members of each strongly connected component of more than one
    /// sibling, with the edges among them: `parent: a -> b (file: path), …`.
    fn cycles(&self) -> Vec<String> {
        let mut by_parent: BTreeMap<&ModPath, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
        for (parent, a, b) in self.edges.keys() {
            by_parent.entry(parent).or_default().entry(a).or_default().push(b);
        }
        let mut out = Vec::new();
        for (parent, adj) in by_parent {
            for scc in strongly_connected(&adj) {
                if scc.len() < 2 {
                    continue;
                }
                let inside: BTreeSet<&str> = scc.iter().copied().collect();
                let edges: Vec<String> = self
                    .edges
                    .iter()
                    .filter(|((p, a, b), _)| p == parent && inside.contains(a.as_str()) && inside.contains(b.as_str()))
                    .map(|((_, a, b), why)| format!("{a} -> {b} ({why})"))
                    .collect();
                let at = if parent.is_empty() { "crate".to_string() } else { parent.join("::") };
                out.push(format!("in {at}: {{{}}}: {}", scc.join(", "), edges.join("; ")));
            }
        }
        out
    }

    /// The edges between top-level modules.
    fn top_edges(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.edges.iter().filter(|((p, _, _), _)| p.is_empty()).map(|((_, a, b), why)| (a.as_str(), b.as_str(), why.as_str()))
    }

    /// The top-level modules.
    fn top_modules(&self) -> BTreeSet<&str> {
        self.modules.iter().filter(|m| m.len() == 1).map(|m| m[0].as_str()).collect()
    }
}

/// Tarjan's strongly connected components over a small adjacency map.
fn strongly_connected<'a>(adj: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, adj: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in adj.get(v).map(Vec::as_slice).unwrap_or(&[]) {
            if !s.index.contains_key(w) {
                visit(w, adj, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            scc.sort_unstable();
            s.out.push(scc);
        }
    }
    let mut s = State { index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on_stack: BTreeSet::new(), out: Vec::new() };
    for &v in adj.keys() {
        if !s.index.contains_key(v) {
            visit(v, adj, &mut s);
        }
    }
    s.out
}

/// Rust source with comments, string and char literals blanked out and `#[cfg(test)] mod …
/// { … }` blocks removed, so only code paths remain.
fn code_only(src: &str) -> String {
    without_test_modules(&blanked(src))
}

/// `code` (literals already blanked) without its `#[cfg(test)] mod name { … }` blocks.
fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(k) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..k]);
        let after = rest[k + "#[cfg(test)]".len()..].trim_start();
        let block = after.strip_prefix("mod ").and_then(|m| m.find(['{', ';']).filter(|&o| m[o..].starts_with('{')).map(|o| o + 4));
        let Some(open) = block else {
            out.push_str("#[cfg(test)]");
            rest = &rest[k + "#[cfg(test)]".len()..];
            continue;
        };
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                end = open + i + 1;
                break;
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Rust source with comments removed and string and char literals emptied.
fn blanked(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(len) = raw_string_len(rest) {
            i += len;
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && (rest[1..].starts_with('\\') || rest[1..].chars().nth(1) == Some('\'')) {
            // A char literal ('x', '\n', '\''), not a lifetime.
            let mut j = i + 2;
            if b[i + 1] == b'\\' {
                j += 1;
            }
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            i = j + 1;
            out.push_str("' '");
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `s`.
fn raw_string_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("br").or_else(|| s.strip_prefix('r'))?;
    let hashes = body.len() - body.trim_start_matches('#').len();
    let body = &body[hashes..];
    let body = body.strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = body.find(&close)?;
    Some(s.len() - body.len() + end + close.len())
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths of a use tree or expression path starting at `code[at..]`, each as its segments
/// (`{a, b::c}` expands; `self`, `*` and `as` aliases end a path). Returns the paths and, for
/// each, the alias it is imported as (its last segment unless `as` renames it).
fn paths_at(code: &str, at: usize) -> Vec<(Vec<String>, String)> {
    fn skip_ws(code: &str, mut i: usize) -> usize {
        while code[i..].starts_with(char::is_whitespace) {
            i += code[i..].chars().next().expect("not at the end").len_utf8();
        }
        i
    }
    fn tree(code: &str, mut i: usize, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) -> usize {
        let mut segs = prefix.to_vec();
        loop {
            i = skip_ws(code, i);
            if code[i..].starts_with('{') {
                i += 1;
                loop {
                    i = skip_ws(code, i);
                    if code[i..].starts_with('}') {
                        return i + 1;
                    }
                    i = tree(code, i, &segs, out);
                    i = skip_ws(code, i);
                    if code[i..].starts_with(',') {
                        i += 1;
                    }
                    if i >= code.len() {
                        return i;
                    }
                }
            }
            let len = code[i..].find(|c: char| !is_ident(c)).unwrap_or(code.len() - i);
            let ident = &code[i..i + len];
            i += len;
            if ident.is_empty() || ident == "self" {
                if code[i..].starts_with('*') {
                    i += 1;
                }
                let last = segs.last().cloned().unwrap_or_default();
                out.push((segs, last));
                return i;
            }
            segs.push(ident.to_string());
            let j = skip_ws(code, i);
            if code[j..].starts_with("::") {
                i = j + 2;
                continue;
            }
            let mut alias = ident.to_string();
            if code[j..].starts_with("as ") {
                let k = skip_ws(code, j + 3);
                let len = code[k..].find(|c: char| !is_ident(c)).unwrap_or(code.len() - k);
                alias = code[k..k + len].to_string();
                i = k + len;
            }
            out.push((segs, alias));
            return i;
        }
    }
    let mut out = Vec::new();
    tree(code, at, &[], &mut out);
    out
}

/// Every `crate::`, `super::` path in `code`, made absolute from module `me`, with whether
/// it is a `pub use` (a re-export).
fn paths_in(code: &str, me: &[String]) -> Vec<(Vec<String>, String, bool)> {
    let mut out = Vec::new();
    for start in ["crate::", "super::", "use "] {
        let mut from = 0;
        while let Some(k) = code[from..].find(start) {
            let at = from + k;
            from = at + start.len();
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == '$' || c == ':') {
                continue;
            }
            let line_start = code[..at].rfind(['\n', ';', '{', '}']).map_or(0, |p| p + 1);
            let head = code[line_start..at].trim();
            let in_use = head.ends_with("use") || start == "use ";
            if start != "use " && head.ends_with("use") {
                continue; // counted from its `use`
            }
            let reexport = in_use && head.starts_with("pub");
            let tree_at = if start == "use " { at + 4 } else { at };
            for (segs, alias) in paths_at(code, tree_at) {
                if let Some(abs) = absolute(&segs, me, in_use) {
                    out.push((abs, alias, reexport));
                }
            }
        }
    }
    out
}

/// An absolute module path for `segs` written in module `me`: `crate::…`, `super::…`, `self::…`,
/// and (in a `use`) a bare path, which names a child of `me`. `None` for other crates.
fn absolute(segs: &[String], me: &[String], in_use: bool) -> Option<Vec<String>> {
    let first = segs.first()?;
    match first.as_str() {
        "crate" => Some(segs[1..].to_vec()),
        "super" => {
            let ups = segs.iter().take_while(|s| *s == "super").count();
            let base = me.len().checked_sub(ups)?;
            Some(me[..base].iter().chain(&segs[ups..]).cloned().collect())
        }
        "self" => Some(me.iter().chain(&segs[1..]).cloned().collect()),
        _ if in_use => Some(me.iter().chain(segs).cloned().collect()),
        _ => None,
    }
}

/// The module path of a source file under `src`: `lib.rs`/`main.rs` are the root, `a/mod.rs`
/// and `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !(parts.is_empty() && (stem == "lib" || stem == "main")) && stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir).expect("readable dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The graph of a crate from its sources: `(module path, code)` per file.
fn graph_of(files: &[(ModPath, String, String)]) -> Graph {
    let mut g = Graph::default();
    for (m, _, _) in files {
        g.modules.insert(m.clone());
    }
    // Re-exports: (module, name) → absolute path.
    let mut reexports: BTreeMap<(ModPath, String), Vec<String>> = BTreeMap::new();
    let mut uses = Vec::new();
    for (m, name, code) in files {
        for (abs, alias, reexport) in paths_in(code, m) {
            if reexport {
                reexports.insert((m.clone(), alias.clone()), abs.clone());
            }
            uses.push((m.clone(), name.clone(), abs));
        }
    }
    let resolve = |mut path: Vec<String>| -> ModPath {
        for _ in 0..8 {
            let k = (0..=path.len()).rev().find(|&k| g.modules.contains(&path[..k])).unwrap_or(0);
            let module = path[..k].to_vec();
            match path.get(k).and_then(|n| reexports.get(&(module.clone(), n.clone()))) {
                Some(target) if target.len() > k || target[..k] != path[..k] => {
                    path = target.iter().chain(&path[k + 1..]).cloned().collect();
                }
                _ => return module,
            }
        }
        path
    };
    let resolved: Vec<_> = uses.into_iter().map(|(m, name, abs)| (m, resolve(abs.clone()), format!("{name}: {}", abs.join("::")))).collect();
    for (m, to, why) in resolved {
        g.add_use(&m, &to, why);
    }
    g
}

/// The graph of the crate whose sources are under `src` (`src/bin/` is other crates).
fn crate_graph(src: &Path) -> Graph {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<(ModPath, String, String)> = paths
        .iter()
        .filter(|p| !p.starts_with(src.join("bin")))
        .map(|p| {
            let name = p.strip_prefix(root).unwrap_or(p).display().to_string();
            (module_of(src, p), name, code_only(&fs::read_to_string(p).expect("readable source")))
        })
        .collect();
    graph_of(&files)
}

/// The layer table: modules per layer, lowest first, and the known upward edges allowed until
/// the branch that removes them lands (`allow a -> b`).
fn layer_table() -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers.txt");
    let text = fs::read_to_string(&path).expect("tests/fixtures/layers.txt");
    let (mut layers, mut allowed) = (Vec::new(), Vec::new());
    for line in text.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("allow ") {
            let (a, b) = rest.split_once("->").expect("allow a -> b");
            allowed.push((a.trim().to_string(), b.trim().to_string()));
        } else {
            layers.push(line.split_whitespace().map(str::to_string).collect());
        }
    }
    (layers, allowed)
}

/// Problems with the core's layering: modules missing from the table (or listed but absent),
/// imports of a module on the same or a higher layer not allowed by an `allow` line, and
/// `allow` lines whose edge no longer exists.
fn layer_problems(g: &Graph, layers: &[Vec<String>], allowed: &[(String, String)]) -> Vec<String> {
    let mut level = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for m in layer {
            level.insert(m.as_str(), i);
        }
    }
    let mut out = Vec::new();
    let present = g.top_modules();
    for m in &present {
        if !level.contains_key(m) {
            out.push(format!("module `{m}` is in no layer: add it to a line of tests/fixtures/layers.txt"));
        }
    }
    for m in level.keys() {
        if !present.contains(m) {
            out.push(format!("tests/fixtures/layers.txt lists `{m}`, which is not a module of the crate"));
        }
    }
    let mut seen = BTreeSet::new();
    for (a, b, why) in g.top_edges() {
        if allowed.iter().any(|(x, y)| x == a && y == b) {
            seen.insert((a, b));
            continue;
        }
        let (Some(&la), Some(&lb)) = (level.get(a), level.get(b)) else { continue };
        if la <= lb {
            let how = if la == lb { "the same layer" } else { "a higher layer" };
            out.push(format!("`{a}` (layer {la}) imports `{b}`, on {how} (layer {lb}): {why}"));
        }
    }
    for (a, b) in allowed {
        if !seen.contains(&(a.as_str(), b.as_str())) {
            out.push(format!("`allow {a} -> {b}` in tests/fixtures/layers.txt: that import is gone, delete the line"));
        }
    }
    out
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cycles of a crate, except those made only of allowed edges of the layer table (which the
/// layer check accounts for).
fn assert_no_cycles(src: &Path, allowed: &[(String, String)]) {
    let g = crate_graph(src);
    assert!(g.modules.len() > 1, "no modules read under {}", src.display());
    let mut pruned = Graph { modules: g.modules.clone(), edges: g.edges.clone() };
    pruned.edges.retain(|(p, a, b), _| !(p.is_empty() && allowed.iter().any(|(x, y)| x == a && y == b)));
    let cycles = pruned.cycles();
    assert!(cycles.is_empty(), "import cycles in {}:\n{}", src.display(), cycles.join("\n"));
}

#[test]
fn the_core_has_no_import_cycle() {
    let (_, allowed) = layer_table();
    assert_no_cycles(&repo().join("src"), &allowed);
}

#[test]
fn the_core_imports_only_downward() {
    let (layers, allowed) = layer_table();
    let problems = layer_problems(&crate_graph(&repo().join("src")), &layers, &allowed);
    assert!(problems.is_empty(), "layering (tests/fixtures/layers.txt):\n{}", problems.join("\n"));
}

#[test]
fn the_cli_has_no_import_cycle() {
    assert_no_cycles(&repo().join("crates/sottovoce-cli/src"), &[]);
}

#[test]
fn the_binding_has_no_import_cycle() {
    assert_no_cycles(&repo().join("crates/sottovoce-wasm/src"), &[]);
}

#[test]
fn the_catalog_binding_has_no_import_cycle() {
    // One module, so no cycle is possible; once it grows, check it like the others.
    let modules = crate_graph(&repo().join("crates/sottovoce-catalog-wasm/src")).modules.len();
    assert_eq!(modules, 1, "the catalog binding has more than one module: use assert_no_cycles here");
}

#[test]
fn the_server_has_no_import_cycle() {
    assert_no_cycles(&repo().join("crates/sottovoce-server/src"), &[]);
}

#[test]
fn the_encoder_has_no_import_cycle() {
    assert_no_cycles(&repo().join("crates/sottovoce-encoder/src"), &[]);
}

#[test]
fn the_encoder_binding_has_no_import_cycle() {
    // One module, so no cycle is possible; once it grows, check it like the others.
    let modules = crate_graph(&repo().join("crates/sottovoce-encoder-wasm/src")).modules.len();
    assert_eq!(modules, 1, "the encoder binding has more than one module: use assert_no_cycles here");
}

/// Every crate of the workspace has its cycle check above: a new crate fails here until it has one.
#[test]
fn every_crate_is_checked() {
    let checked = ["sottovoce-catalog-wasm", "sottovoce-cli", "sottovoce-encoder", "sottovoce-encoder-wasm", "sottovoce-server", "sottovoce-wasm"];
    let mut crates: Vec<String> = fs::read_dir(repo().join("crates"))
        .expect("crates/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| repo().join("crates").join(name).join("src").is_dir())
        .collect();
    crates.sort();
    assert_eq!(crates, checked, "add a `the_…_has_no_import_cycle` test for each new crate in tests/layers.rs");
}

/// The checker itself, on tiny fake crates: it must see a cycle, an upward import, a
/// re-exported name, and a module missing from the table.
#[test]
fn the_checker_finds_cycles_and_upward_imports() {
    let file = |m: &[&str], code: &str| -> (ModPath, String, String) {
        let m: ModPath = m.iter().map(|s| s.to_string()).collect();
        (m.clone(), format!("{}.rs", m.join("/")), code_only(code))
    };
    let g = graph_of(&[
        file(&[], "mod low; mod high; mod nlu; pub use high::Bot;"),
        file(&["low"], "// use crate::high; is only a comment\nuse crate::Bot; fn f() { let s = \"crate::nlu\"; }"),
        file(&["high"], "use crate::low::Thing; pub struct Bot;"),
        file(&["nlu"], "mod a; mod b;"),
        file(&["nlu", "a"], "use super::b::X; use super::super::low;"),
        file(&["nlu", "b"], "pub(crate) fn g() { crate::nlu::a::h() }\n#[cfg(test)]\nmod tests { use crate::high::Bot; }"),
    ]);
    let cycles = g.cycles();
    assert_eq!(cycles.len(), 2, "{cycles:?}");
    assert!(cycles[0].starts_with("in crate: {high, low}: high -> low (high.rs: low::Thing); low -> high (low.rs: Bot)"), "{}", cycles[0]);
    assert!(cycles[1].starts_with("in nlu: {a, b}:"), "{}", cycles[1]);
    let edges: Vec<(&str, &str)> = g.top_edges().map(|(a, b, _)| (a, b)).collect();
    assert_eq!(edges, [("high", "low"), ("low", "high"), ("nlu", "low")], "the comment, the string and the test module add nothing");

    let layers = vec![vec!["low".to_string()], vec!["high".to_string()]];
    let problems = layer_problems(&g, &layers, &[("nlu".into(), "low".into()), ("high".into(), "nlu".into())]);
    assert_eq!(
        problems,
        [
            "module `nlu` is in no layer: add it to a line of tests/fixtures/layers.txt",
            "`low` (layer 0) imports `high`, on a higher layer (layer 1): low.rs: Bot",
            "`allow high -> nlu` in tests/fixtures/layers.txt: that import is gone, delete the line",
        ]
    );
}
