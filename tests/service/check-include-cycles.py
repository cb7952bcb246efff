#!/usr/bin/env python3
"""Fails when the service's core files depend on each other in a circle.

A module is a .c file with its headers (mb-tick.c, mb-tick.h and
mb-tick-private.h are one module). Module A depends on module B when a file
of A includes one of B's headers. The check also requires that each core
module's headers declare only functions its own .c defines: then this
graph is also the call graph, and no cycle here means no circle of calls
between the files either.

Usage: check-include-cycles.py SERVICE_DIR [--all]
  checks the core modules (engine, registry, tick, the daemon, manager and
  VM objects); --all checks every module of SERVICE_DIR and prints each
  cycle found.
"""
import os
import re
import sys

CORE = re.compile(r"^mb-(engine.*|registry|tick.*|daemon|manager|vm-object)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(filename):
    stem = os.path.splitext(os.path.basename(filename))[0]
    return stem[: -len("-private")] if stem.endswith("-private") else stem


def graph(service_dir):
    files = [f for f in os.listdir(service_dir) if f.endswith((".c", ".h"))]
    modules = {module_of(f) for f in files}
    edges = {m: set() for m in modules}
    for f in files:
        with open(os.path.join(service_dir, f), encoding="utf-8") as src:
            for inc in INCLUDE.findall(src.read()):
                to = module_of(inc)
                if to in modules and to != module_of(f):
                    edges[module_of(f)].add(to)
    return edges


DECLARED = re.compile(r"^[A-Za-z_][\w \*]*?\b(mb_\w+)\(", re.M)
DEFINED = re.compile(r"^(mb_\w+)\(", re.M)


def misplaced(service_dir, keep):
    """Functions a module's header declares that another module defines."""
    files = [f for f in os.listdir(service_dir) if f.endswith((".c", ".h"))]
    defined_in = {}
    for f in files:
        if f.endswith(".c"):
            with open(os.path.join(service_dir, f), encoding="utf-8") as src:
                for name in DEFINED.findall(src.read()):
                    defined_in[name] = module_of(f)
    wrong = []
    for f in sorted(files):
        if not f.endswith(".h") or not keep(module_of(f)):
            continue
        with open(os.path.join(service_dir, f), encoding="utf-8") as src:
            for name in DECLARED.findall(src.read()):
                where = defined_in.get(name)
                if where is not None and where != module_of(f):
                    wrong.append("%s declares %s, defined in %s" % (f, name, where))
    return wrong


def cycles(edges, keep):
    """Every elementary cycle among the modules keep(m) holds for, once each."""
    found = []
    nodes = sorted(m for m in edges if keep(m))

    def walk(start, node, path):
        for nxt in sorted(edges[node]):
            if not keep(nxt) or nxt < start:
                continue
            if nxt == start:
                found.append(path + [start])
            elif nxt not in path:
                walk(start, nxt, path + [nxt])

    for start in nodes:
        walk(start, start, [start])
    return found


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    edges = graph(sys.argv[1])
    keep = (lambda m: True) if "--all" in sys.argv[2:] else (lambda m: CORE.match(m) is not None)
    core = sorted(m for m in edges if keep(m))
    for m in core:
        print("%s -> %s" % (m, ", ".join(sorted(d for d in edges[m] if keep(d))) or "-"))
    found = cycles(edges, keep)
    for c in found:
        print("cycle: " + " -> ".join(c))
    wrong = misplaced(sys.argv[1], keep)
    for w in wrong:
        print("misplaced: " + w)
    print("%d modules, %d cycles, %d misplaced declarations" % (len(core), len(found), len(wrong)))
    return 1 if found or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
