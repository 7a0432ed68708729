#!/usr/bin/env python3
"""Checks the shape of `src/`: layers that only point down, files of one idea.

Draws the graph of `crate::…` and `super::…` references between the modules
of the library crate and fails when
- two top-level modules of `src/` reach each other (directly or round a loop),
- two modules inside one of CHECKED_INSIDE do,
- a file in `src/` is longer than MAX_LINES.

Run from anywhere: `python3 .ci/structure.py` (add `--graph` to print every
edge). Standard library only, so CI needs nothing installed for it.

The references are found in the source text with comments and string
literals removed, so a path in a doc comment or an error message is not an
import. `main.rs` is a separate crate (it uses `crypto_mcp::…`) and is left
out; `lib.rs` is the root that wires every module, so its own references are
not edges.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# Module trees whose children (at every level) must not import each other
# round a loop.
CHECKED_INSIDE = ["mcp"]
# A file this long holds more than one idea.
MAX_LINES = 1000


def module_path(file: Path) -> list[str]:
    """`src/mcp/tool.rs` -> ["mcp", "tool"]; `src/mcp/mod.rs` -> ["mcp"]."""
    parts = list(file.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts == ["lib"]:
        return []
    return parts


def strip_comments_and_strings(text: str) -> str:
    """Blanks out comments, string and char literals, keeping line breaks."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:]) and not _ident_before(text, i):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif c == "b" and text.startswith('b"', i) and not _ident_before(text, i):
            i = _skip_string(text, i + 1, out)
        elif c == '"':
            i = _skip_string(text, i, out)
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            m = re.match(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", text[i:])
            i += len(m.group(0)) if m else 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident_before(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def _skip_string(text: str, i: int, out: list) -> int:
    i += 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\":
            i += 1
        elif text[i] == "\n":
            out.append("\n")
        i += 1
    return i + 1


def use_trees(code: str):
    """Yields every path a `use` item names, braces expanded."""
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        yield from _expand(re.sub(r"\s+", "", m.group(1)))


def _expand(tree: str):
    depth = 0
    for i, c in enumerate(tree):
        if c == "{":
            if depth == 0:
                prefix, inner = tree[:i], tree[i + 1 : tree.rindex("}")]
                for item in _split_top(inner):
                    for path in _expand(item):
                        yield prefix + path
                return
            depth += 1
        elif c == "}":
            depth -= 1
    yield tree


def _split_top(inner: str):
    depth, start = 0, 0
    for i, c in enumerate(inner):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            yield inner[start:i]
            start = i + 1
    if inner[start:]:
        yield inner[start:]


def references(code: str):
    """Every module path, in `use` items or inline: `crate::…`, `super::…`,
    `self::…`, and paths that start with a child module's name."""
    for path in use_trees(code):
        yield path
    without_uses = re.sub(r"\buse\s+[^;]+;", "", code)
    for m in re.finditer(r"(?<![\w:])\w+(?:::\w+)+", without_uses):
        yield m.group(0)


def inline_modules(code: str):
    """Splits a file into the code of each inline `mod name { … }` (such as
    `mod tests`), with the path of names leading to it, since `super` inside
    one means the file's own module."""
    pieces = []

    def walk(text: str, inner: list):
        rest, pos = [], 0
        for m in re.finditer(r"\bmod\s+(\w+)\s*\{", text):
            if m.start() < pos:
                continue
            depth, j = 1, m.end()
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            rest.append(text[pos : m.start()])
            walk(text[m.end() : j - 1], inner + [m.group(1)])
            pos = j
        rest.append(text[pos:])
        pieces.append((inner, "".join(rest)))

    walk(code, [])
    return pieces


def resolve(path: str, here: list[str], modules: set) -> list[str] | None:
    """The module a path lands in, as a list of segments, or None if it
    leaves the crate (`std::…`, `serde::…`)."""
    segments = [re.sub(r"as\w+$", "", s) for s in path.split("::") if s and s != "*"]
    if not segments:
        return None
    base = list(here)
    if segments[0] == "crate":
        base, segments = [], segments[1:]
    elif segments[0] in ("super", "self"):
        while segments and segments[0] in ("super", "self"):
            if segments[0] == "super":
                base = base[:-1]
            segments = segments[1:]
    elif tuple(here + segments[:1]) not in modules:
        return None  # another crate, or a type's associated item
    target = base + segments
    # Trim to the longest prefix that is a module we know.
    while target and tuple(target) not in modules:
        target = target[:-1]
    return target


def main() -> int:
    files = sorted(p for p in SRC.rglob("*.rs") if p.name != "main.rs")
    modules = {tuple(module_path(f)) for f in files}
    # Every prefix of a module path is a module too (`analysis::expr`).
    modules |= {m[:i] for m in modules for i in range(len(m) + 1)}
    edges: set[tuple[tuple, tuple]] = set()
    problems: list[str] = []

    for file in files:
        text = file.read_text(encoding="utf-8")
        rel = file.relative_to(SRC).as_posix()
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        if lines > MAX_LINES:
            problems.append(f"{rel}: {lines} lines (at most {MAX_LINES}: split it by idea)")
        here = module_path(file)
        if not here:
            continue  # lib.rs wires everything
        code = strip_comments_and_strings(text)
        for inner, chunk in inline_modules(code):
            for path in references(chunk):
                target = resolve(path, here + inner, modules)
                if target:
                    edges.add((tuple(here), tuple(target)))

    def graph_at(prefix: tuple) -> dict:
        """Edges between the children of `prefix`; the module's own file
        (`mod.rs`) is a node too, named `prefix`."""
        depth = len(prefix) + 1
        graph: dict = {}
        for a, b in edges:
            if a[: len(prefix)] != prefix or b[: len(prefix)] != prefix:
                continue
            na = a[:depth] if len(a) >= depth else prefix
            nb = b[:depth] if len(b) >= depth else prefix
            if na == nb:
                continue
            graph.setdefault(na, set()).add(nb)
        return graph

    checked = [("top-level modules", ())] + [
        (f"modules inside {'/'.join(m)}/", m)
        for m in sorted(modules)
        if m and m[0] in CHECKED_INSIDE and any(n[: len(m)] == m and len(n) > len(m) for n in modules)
    ]
    for label, prefix in checked:
        graph = graph_at(prefix)
        for cycle in cycles(graph):
            names = " -> ".join("::".join(n) or "crate" for n in cycle + [cycle[0]])
            problems.append(f"import cycle between {label}: {names}")

    if "--graph" in sys.argv:
        for a, b in sorted(edges):
            if a[:1] != b[:1] or a[:1] == ("mcp",):
                print(f"{'::'.join(a)} -> {'::'.join(b)}")

    for problem in problems:
        print(f"structure: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"structure: {len(files)} files, no import cycles, none over {MAX_LINES} lines")
    return 0


def cycles(graph: dict) -> list[list]:
    """One loop through each strongly connected group of two or more modules."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return [loop_through(graph, set(g)) for g in groups]


def loop_through(graph: dict, group: set) -> list:
    """A concrete loop inside a strongly connected group, for the message."""
    start = min(group)
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph.get(path[-1], ()) if w in group)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return path
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            # Fall back to naming the whole group.
            return sorted(group)
        path.append(fresh[0])
        seen.add(fresh[0])


if __name__ == "__main__":
    sys.exit(main())
