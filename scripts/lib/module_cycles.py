#!/usr/bin/env python3
"""Fail when the modules of a crate import each other in a cycle.

Usage: module_cycles.py [CRATE_SRC_DIR ...]   (default: every crates/*/src and src/)
       module_cycles.py --self-test            (checks the checker on small made-up crates)

A module is one file (`a.rs` or `a/mod.rs` is `a`, `a/b.rs` is `a::b`). An edge A -> B is
any path in A's code (a `use` or an expression) that starts with `crate::` or `super::` and
names something in B. A name that a module only re-exports (`pub use b::Thing;`) counts as
B's, so `use crate::Thing` through lib.rs is an edge to the module that defines `Thing`, not
to lib.rs. A module's own inline `mod tests { use super::*; }` is part of the module. A
parent that only declares its children (`mod b;`) has no edge to them.

Exits 1 and prints each cycle found, 0 when every crate's module graph is acyclic.
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(src):
    """Source without comments, string and char literals (their length kept as spaces)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * src.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', src[i:i + 260]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j + 1
        elif c == "'":
            # a char literal ('a', '\n', '\u{1F600}') or a lifetime ('a)
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def modules(src_dir):
    """Map module path (tuple) -> file for every .rs file under src_dir."""
    mods = {}
    for root, _dirs, files in os.walk(src_dir):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src_dir)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            mods[tuple(parts)] = os.path.join(root, f)
    return mods


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (aliases and globs dropped)."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        depth, start, items = 0, 0, []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:k])
                start = k + 1
        items.append(s[start:])
        for it in items:
            if not it:
                continue
            b = it.find("{")
            if b >= 0 and it.endswith("}"):
                walk(prefix + it[:b], it[b + 1:-1])
            else:
                out.append(prefix + it)

    walk("", tree)
    return [re.sub(r"::\*$", "", p) for p in out]


def scan(text):
    """(paths used, re-exports) of one stripped file, with the inline module each sits in."""
    # inline modules: track `mod name {` by brace depth
    stack = []  # (name, depth at which it opened)
    depth = 0
    positions = []  # (offset, tuple(inline module stack))
    token = re.compile(r"\bmod\s+(" + IDENT + r")\s*\{|\{|\}")
    events = []
    for m in token.finditer(text):
        events.append(m)
    ctx_at = []  # sorted list of (offset, ctx)
    ctx_at.append((0, ()))
    for m in events:
        if m.group(1):
            depth += 1
            stack.append((m.group(1), depth))
            ctx_at.append((m.end(), tuple(s[0] for s in stack)))
        elif m.group(0) == "{":
            depth += 1
        else:
            if stack and stack[-1][1] == depth:
                stack.pop()
                ctx_at.append((m.end(), tuple(s[0] for s in stack)))
            depth -= 1

    def ctx(off):
        lo = ()
        for o, c in ctx_at:
            if o <= off:
                lo = c
            else:
                break
        return lo

    uses = []  # (ctx, path string, is_pub_use)
    use_re = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
    covered = []
    for m in use_re.finditer(text):
        covered.append((m.start(), m.end()))
        for p in expand_use(m.group(2)):
            uses.append((ctx(m.start()), p, bool(m.group(1))))
    path_re = re.compile(r"(?<![A-Za-z0-9_:])((?:crate|super|self)(?:::(?:" + IDENT + r"|\*))+)")
    for m in path_re.finditer(text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        uses.append((ctx(m.start()), m.group(1), False))
    # `child::item` in an expression names a child module (resolve() drops it otherwise)
    rel_re = re.compile(r"(?<![A-Za-z0-9_:])(" + IDENT + r"(?:::" + IDENT + r")+)")
    for m in rel_re.finditer(text):
        if any(a <= m.start() < b for a, b in covered) or m.group(1).split("::")[0] in ("crate", "super", "self"):
            continue
        uses.append((ctx(m.start()), m.group(1), False))
    return uses


def resolve(mod, inline, path, mods):
    """Absolute segments of `path` written in module `mod` inside inline modules `inline`."""
    segs = path.split("::")
    here = list(mod) + list(inline)
    if segs[0] == "crate":
        base, rest = [], segs[1:]
    elif segs[0] in ("super", "self"):
        base, rest = here, segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    else:
        # a relative `use child::x` inside a module names its own child module
        base, rest = here, segs
        if not rest or tuple(here + rest[:1]) not in mods:
            return None
    return base + rest


def owner(abs_segs, mods, reexports, seen=None):
    """The file module that owns the item named by abs_segs."""
    seen = seen or set()
    best = ()
    for k in range(len(abs_segs), -1, -1):
        if tuple(abs_segs[:k]) in mods:
            best = tuple(abs_segs[:k])
            break
    rest = abs_segs[len(best):]
    if rest:
        key = (best, rest[0])
        if key in reexports and key not in seen:
            seen.add(key)
            return owner(reexports[key] + rest[1:], mods, reexports, seen)
    return best


def crate_cycles(src_dir):
    mods = modules(src_dir)
    scanned = {}
    reexports = {}
    for mod, f in mods.items():
        with open(f, encoding="utf-8") as fh:
            text = strip(fh.read())
        scanned[mod] = scan(text)
        for inline, p, is_pub in scanned[mod]:
            if is_pub and not inline:
                a = resolve(mod, inline, p, mods)
                if a and a[-1] != "*":
                    reexports[(mod, a[-1])] = a
    edges = {m: set() for m in mods}
    for mod, uses in scanned.items():
        for inline, p, is_pub in uses:
            if is_pub:
                # a re-export is a pass-through: who names it reaches the defining module
                continue
            a = resolve(mod, inline, p, mods)
            if a is None:
                continue
            a = [s for s in a if s != "*"]
            o = owner(a, mods, reexports)
            if o != mod and o in mods:
                edges[mod].add(o)
    return find_cycles(edges)


def find_cycles(edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append((sorted(comp), {c: sorted(edges[c] & set(comp)) for c in comp}))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def name(m):
    return "::".join(m) if m else "crate root"


name_of = name


SELF_TESTS = [
    # (name, {file: source}, modules expected in a cycle, or None for no cycle)
    ("use in both directions", {
        "lib.rs": "mod a;\nmod b;\n",
        "a.rs": "use crate::b::Thing;\npub(crate) struct Other;\n",
        "b.rs": "use crate::a::Other;\npub(crate) struct Thing;\n",
    }, ["a", "b"]),
    ("a child using its parent that uses it", {
        "lib.rs": "mod local;\n",
        "local/mod.rs": "mod disk;\nuse disk::Root;\npub(crate) const PROVIDER: &str = \"local\";\n",
        "local/disk.rs": "pub(crate) struct Root;\nfn f() -> &'static str { super::PROVIDER }\n",
    }, ["local", "local::disk"]),
    ("a path in an expression, three modules round", {
        "lib.rs": "mod a;\nmod b;\nmod c;\n",
        "a.rs": "pub fn f() { crate::b::g() }\n",
        "b.rs": "use crate::c;\npub fn g() { c::h() }\n",
        "c.rs": "pub fn h() { let _ = crate::a::f; }\n",
    }, ["a", "b", "c"]),
    ("grouped use", {
        "lib.rs": "mod a;\nmod b;\n",
        "a.rs": "use crate::{b::{x, y as z}, other};\npub fn w() {}\n",
        "b.rs": "pub fn x() { crate::a::w() }\npub fn y() {}\n",
    }, ["a", "b"]),
    ("re-exports, constants at the root, inline tests, comments and strings", {
        "lib.rs": "mod a;\nmod b;\npub use a::Thing;\npub use b::other;\npub const PROVIDER: &str = \"x\";\n",
        "a.rs": "use crate::PROVIDER;\npub struct Thing;\n// crate::b::other\nconst S: &str = \"crate::b::other\";\n"
                "#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        "b.rs": "use crate::Thing;\npub fn other() -> char { '\"' }\n/* use crate::b; */\n",
    }, None),
]


def self_test():
    import tempfile
    failures = 0
    for name, files, expected in SELF_TESTS:
        with tempfile.TemporaryDirectory() as d:
            for f, src in files.items():
                path = os.path.join(d, f)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(src)
            found = [[name_of(m) for m in comp] for comp, _ in crate_cycles(d)]
        want = [sorted(expected)] if expected else []
        if sorted(map(sorted, found)) != want:
            failures += 1
            print(f"self-test {name!r}: expected cycles {want}, found {found}")
    if failures:
        return 1
    print(f"module cycles self-test: {len(SELF_TESTS)} cases pass")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dirs = argv[1:]
    if not dirs:
        dirs = sorted(
            os.path.join(root, "crates", c, "src")
            for c in os.listdir(os.path.join(root, "crates"))
            if os.path.isdir(os.path.join(root, "crates", c, "src"))
        )
        if os.path.isdir(os.path.join(root, "src")):
            dirs.append(os.path.join(root, "src"))
    failed = False
    for d in dirs:
        for comp, inner in crate_cycles(d):
            failed = True
            print(f"{os.path.relpath(d, root)}: modules import each other in a cycle: "
                  + ", ".join(name(c) for c in comp))
            for c in comp:
                print(f"    {name(c)} -> " + ", ".join(name(x) for x in inner[c]))
    if failed:
        return 1
    print(f"module cycles: none in {len(dirs)} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
