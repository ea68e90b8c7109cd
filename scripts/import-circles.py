#!/usr/bin/env python3
"""Finds import circles between the source files of every crate in the workspace.

Each file is a module (src/a/b.rs and src/a/b/mod.rs are `a::b`); a file imports
another when it names a `crate::`, `super::` or `self::` path that lands in it (the
longest module prefix that is a file). Test modules (`#[cfg(test)] mod tests`) are
left out. Takes the workspace folder (default: this repository). Prints each circle found and exits 1 if there is any, 0 otherwise.

benchmark/tests/layers.rs holds the benchmark's floors as well; this script is the
workspace-wide check that CI runs (`python3 scripts/import-circles.py`).
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = re.compile(r"(?<![\w:])(crate|super|self)((?:::(?:\w+|\{[^;]*?\}))+)")


def module_of(src, file):
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts and parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def without_tests(text):
    match = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod tests", text)
    return text[: match.start()] if match else text


def expand(prefix, rest):
    """Every path of `rest` (`::a::{b, c::d}`) after `prefix`."""
    rest = rest.lstrip(":")
    if rest.startswith("{"):
        inner, depth, item, items = rest[1:-1], 0, "", []
        for ch in inner:
            depth += ch == "{"
            depth -= ch == "}"
            if ch == "," and depth == 0:
                items.append(item)
                item = ""
            else:
                item += ch
        items.append(item)
        out = []
        for item in items:
            item = item.strip()
            if item and item != "self":
                head, _, tail = item.partition("::")
                out += expand(prefix + [head.split(" as ")[0].strip()], "::" + tail if tail else "")
            elif item == "self":
                out.append(prefix)
        return out
    head, sep, tail = rest.partition("::")
    if not head:
        return [prefix]
    if head.startswith("{"):
        return expand(prefix, rest)
    return expand(prefix + [head], "::" + tail) if sep else [prefix + [head]]


def edges(src):
    files = {module_of(src, f): f for f in src.rglob("*.rs") if f.name != "main.rs"}
    graph = {}
    for module, file in files.items():
        text = " ".join(without_tests(file.read_text()).split())
        targets = set()
        for start, rest in PATH.findall(text):
            for path in expand([], rest):
                base = list(module)
                if start == "crate":
                    base = []
                elif start == "super":
                    base = base[:-1]
                while path and path[0] == "super":
                    base, path = base[:-1], path[1:]
                full = tuple(base + path)
                for n in range(len(full), 0, -1):
                    if full[:n] in files:
                        target = full[:n]
                        if target != module and target[: len(module)] != module:
                            targets.add(target)
                        break
        graph[module] = targets
    return graph


def circle(graph):
    done, stack = set(), []

    def visit(node):
        if node in stack:
            return stack[stack.index(node):] + [node]
        if node in done:
            return None
        done.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt)
            if found:
                return found
        stack.pop()
        return None

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return None


def main():
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    bad = 0
    for manifest in sorted(root.glob("*/Cargo.toml")):
        src = manifest.parent / "src"
        if not src.is_dir():
            continue
        found = circle(edges(src))
        name = manifest.parent.name
        if found:
            bad = 1
            print(f"{name}: import circle " + " -> ".join("::".join(m) or "lib" for m in found))
        else:
            print(f"{name}: no import circle")
    return bad


if __name__ == "__main__":
    sys.exit(main())
