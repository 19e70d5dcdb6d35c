#!/usr/bin/env python3
"""Fails when the directories under src/ include each other in a cycle.

    python3 scripts/check-includes.py [--graph] [SRC_DIR]

Reads every `#include "..."` line of the .c and .h files under SRC_DIR (default: the
repository's src/) and builds a graph whose nodes are directories (files directly in
SRC_DIR form the node "."): an edge A -> B means a file in A includes a file in B.  An
include names a file relative to SRC_DIR ("vk/vk_common.h") or to the including file's
directory ("log.h" inside util/); a name that is neither (the generated vn_protocol.h and
vk_dispatch.h, which live in the build directory) adds no edge.

Exit status 0 when the graph has no cycle; 1 after printing each cycle, with the file and
line behind every edge, and what to do; 2 on a usage error.  --graph prints the edges as
well.  docs/design.md ("Layers") lists the layering this check keeps.
"""
import argparse
import os
import re
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def node_of(rel_path):
    d = os.path.dirname(rel_path)
    return d if d else "."


def read_edges(src):
    """{(from_dir, to_dir): (file, line, included name)} for every cross-directory include."""
    edges = {}
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE_RE.match(line)
                    if not m:
                        continue
                    target = resolve(src, rel, m.group(1))
                    if target is None:
                        continue
                    a, b = node_of(rel), node_of(target)
                    if a != b and (a, b) not in edges:
                        edges[(a, b)] = (rel, lineno, m.group(1))
    return edges


def resolve(src, rel, inc):
    """The included file relative to src, or None when it is not under src."""
    for cand in (os.path.join(os.path.dirname(rel), inc), inc):
        cand = os.path.normpath(cand)
        if not cand.startswith("..") and os.path.isfile(os.path.join(src, cand)):
            return cand
    return None


def strongly_connected(nodes, succ):
    """Tarjan's algorithm, iterative; returns the components with more than one node."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(succ.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def one_cycle(comp, succ):
    """A shortest cycle through the first node of a strongly connected component."""
    members = set(comp)
    start = comp[0]
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(succ.get(v, ())):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start, start]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="?", default=os.path.join(here, "..", "src"))
    ap.add_argument("--graph", action="store_true", help="print every edge")
    args = ap.parse_args()
    src = os.path.normpath(args.src)
    if not os.path.isdir(src):
        print(f"check-includes: {src} is not a directory (give the source tree, e.g. src/)",
              file=sys.stderr)
        return 2

    edges = read_edges(src)
    succ, nodes = {}, set()
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
        nodes.update((a, b))
    if args.graph:
        for (a, b), (f, line, inc) in sorted(edges.items()):
            print(f"{a} -> {b}    ({f}:{line}: #include \"{inc}\")")

    comps = strongly_connected(nodes, succ)
    if not comps:
        print(f"check-includes: no include cycle between the {len(nodes)} directories "
              f"of {src}")
        return 0
    for comp in comps:
        cycle = one_cycle(comp, succ)
        print(f"check-includes: include cycle: {' -> '.join(cycle)}", file=sys.stderr)
        for a, b in zip(cycle, cycle[1:]):
            f, line, inc = edges[(a, b)]
            print(f"  {src}/{f}:{line}: #include \"{inc}\"  ({a} -> {b})", file=sys.stderr)
    print("check-includes: a directory may include only the layers below it (docs/design.md, "
          "\"Layers\"): move the shared declaration down, or reach the upper layer through a "
          "hook table", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
