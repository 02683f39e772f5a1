#!/usr/bin/env python3
"""The daemon's module graph, and its cycles (`make graph`).

A module is a .c file of enforcer/daemon/ and its header, if it has one (x.c + x.h). An
edge A -> B means that A needs B:

  inc  A's .c or .h includes B's header ("b.h");
  ref  A's object refers to a function or variable that B's object defines (nm: undefined
       in A, defined in B). Only where the objects are built (OBJDIR, default build/).

Prints one line per module with what it needs, then every cycle among different modules
(one per strongly connected component, as a path A -> B -> ... -> A). Exits 1 when there
is a cycle, 0 when the graph is a DAG, 2 on a usage error. docs/architecture.md has the
intended one-way order; docs/testing.md says how to run this.

Usage: tests/tools/daemon_graph.py [--src enforcer/daemon] [--objdir build] [--no-nm]
"""
import argparse
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules(src):
    """Module name -> the files (x.c, x.h) that make it."""
    mods = {}
    for name in sorted(os.listdir(src)):
        base, ext = os.path.splitext(name)
        if ext in (".c", ".h"):
            mods.setdefault(base, []).append(os.path.join(src, name))
    return mods


def include_edges(mods):
    edges = {m: {} for m in mods}
    for m, files in mods.items():
        for f in files:
            with open(f, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                target = os.path.splitext(os.path.basename(inc))[0]
                # Only the daemon's own headers ("x.h" beside x.c), not ldm/ or common/.
                if "/" in inc or target not in mods or target == m:
                    continue
                edges[m].setdefault(target, set()).add("inc")
    return edges


def nm_symbols(obj, defined):
    args = ["nm", "--defined-only" if defined else "--undefined-only", obj]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        # "ADDR T name" (defined, global: upper case) or "U name" (undefined).
        if defined and len(parts) == 3 and parts[1] in "TDBRGSVW":
            syms.add(parts[2])
        elif not defined and len(parts) == 2 and parts[0] == "U":
            syms.add(parts[1])
    return syms


def ref_edges(mods, src, objdir, edges):
    objs = {m: os.path.join(objdir, src, m + ".o") for m in mods}
    missing = [m for m in mods if any(f.endswith(".c") for f in mods[m])
               and not os.path.exists(objs[m])]
    if missing:
        print("note: no objects for %s in %s: reference edges left out (make first)"
              % (", ".join(missing), objdir), file=sys.stderr)
        return False
    owner = {}
    for m, o in objs.items():
        if os.path.exists(o):
            for s in nm_symbols(o, True):
                owner[s] = m
    for m, o in objs.items():
        if not os.path.exists(o):
            continue
        for s in nm_symbols(o, False):
            t = owner.get(s)
            if t is not None and t != m:
                edges[m].setdefault(t, set()).add("ref")
    return True


def sccs(nodes, edges):
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(root):
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on:
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
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def cycle_in(comp, edges):
    """One cycle through the component's first module, as a list of modules."""
    inside = set(comp)
    start = comp[0]
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in inside and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp + [start]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default="enforcer/daemon")
    ap.add_argument("--objdir", default="build")
    ap.add_argument("--no-nm", action="store_true", help="include edges only")
    a = ap.parse_args()
    if not os.path.isdir(a.src):
        print("daemon_graph: no directory %s" % a.src, file=sys.stderr)
        return 2
    mods = modules(a.src)
    edges = include_edges(mods)
    with_refs = not a.no_nm and ref_edges(mods, a.src, a.objdir, edges)
    print("# %s: %d modules; edges: inc%s" % (a.src, len(mods), ", ref" if with_refs else ""))
    for m in sorted(mods):
        deps = ", ".join("%s (%s)" % (t, "+".join(sorted(k))) for t, k in sorted(edges[m].items()))
        print("%-10s -> %s" % (m, deps if deps else "-"))
    cycles = [c for c in sccs(mods, edges) if len(c) > 1]
    if not cycles:
        print("no cycle")
        return 0
    for comp in cycles:
        print("cycle among %d modules (%s): %s" % (len(comp), ", ".join(comp),
                                                  " -> ".join(cycle_in(comp, edges))))
    return 1


if __name__ == "__main__":
    sys.exit(main())
