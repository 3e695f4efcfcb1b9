#!/usr/bin/env python3
"""check_layout.py SRC_DIR BUILD_SRC_DIR: the layout rules ARCHITECTURE.md states, checked.

- no file in src/ over 600 lines, no function over 120;
- no circle between source files: the graph "file A calls a function file B defines" (read from
  the objects' symbol tables with nm) has no cycle;
- dependencies point one way: core <- io and the algorithms <- pipeline <- batch, bench <- cli.
Prints every breach and exits 1 when there is one."""
import collections
import os
import re
import subprocess
import sys

MAX_FILE, MAX_FUNC = 600, 120
# Folder ranks: a file may call into its own rank or a lower one, never a higher one.
RANK = {'core': 0, 'io': 1, 'register': 1, 'radiometry': 1, 'diff': 1, 'detect': 1, 'evidence': 1, 'segment': 1, 'render': 1, 'synth': 1,
        'pipeline': 2, 'batch': 3, 'bench': 3, 'cli': 4}


def long_functions(path):
    """(name, lines) of each function longer than MAX_FUNC: from its signature to its closing brace."""
    out, start, name = [], None, None
    lines = open(path, encoding='utf-8').read().split('\n')
    for i, line in enumerate(lines):
        if start is None:
            m = re.match(r'^[A-Za-z_][\w \*]*?\b(\w+)\(', line)
            if m and not line.startswith(('typedef', 'struct', 'enum', 'union')):
                # the body opens on this line or within the next few (a signature on several lines)
                for j in range(i, min(i + 6, len(lines))):
                    if lines[j].rstrip().endswith('{') and not lines[j].rstrip().endswith('= {'):
                        start, name = i, m.group(1)
                        break
                    if lines[j].rstrip().endswith(';'):
                        break
        elif line.startswith('}'):
            if i - start + 1 > MAX_FUNC:
                out.append((name, i - start + 1))
            start = None
    return out


def symbol_graph(objects):
    """{file: {files it calls}} from nm over the objects (or archives of them)."""
    defs, uses = {}, collections.defaultdict(set)
    for obj in objects:
        for flag, table in (('--defined-only', defs), ('-u', None)):
            text = subprocess.run(['nm', '-A', '-g', flag, obj], capture_output=True, text=True, check=True).stdout
            for line in text.splitlines():
                m = re.match(r'.*?([\w.-]+)\.c\.o:\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$', line)
                if not m:
                    continue
                member, kind, sym = m.groups()
                if table is not None and kind in 'TDBRVW':
                    defs[sym] = member
                elif table is None and kind == 'U':
                    uses[member].add(sym)
    graph = collections.defaultdict(set)
    for member, syms in uses.items():
        for sym in syms:
            if sym in defs and defs[sym] != member:
                graph[member].add(defs[sym])
    return graph


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    src, build = sys.argv[1], sys.argv[2]
    objects = sorted(os.path.join(root, f) for root, _, files in os.walk(build) for f in files if f.endswith('.c.o'))
    bad = []
    for root, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith('.c'):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            n = sum(1 for _ in open(path, encoding='utf-8'))
            if n > MAX_FILE:
                bad.append(f'{rel}: {n} lines, more than {MAX_FILE}')
            for name, length in long_functions(path):
                bad.append(f'{rel}: {name}() is {length} lines, more than {MAX_FUNC}')
    graph = symbol_graph(objects)
    if not graph:
        bad.append('no symbols read from the objects: nothing was checked')
    for comp in cycles(graph):
        bad.append('circle between source files: ' + ' -> '.join(comp))
    for a, targets in sorted(graph.items()):
        fa = a.split('_')[0]
        for b in sorted(targets):
            fb = b.split('_')[0]
            if fa in RANK and fb in RANK and RANK[fb] > RANK[fa]:
                bad.append(f'{a}.c calls into {b}.c: {fa}/ must not depend on {fb}/')
    for line in bad:
        print('FAIL:', line)
    print(f'{len(graph)} files in the call graph; {len(bad)} breaches')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
