#!/usr/bin/env python3
"""Installs the build into a scratch DESTDIR and compares the installed set
with manifest.txt. A line DIR/** stands for a generated tree (the API
reference): any files under DIR, at least one.

check-manifest.py MESON BUILDDIR MANIFEST PART=yes|no... -- DIR=PATH...
"""
import difflib
import os
import re
import subprocess
import sys
import tempfile


def main(argv):
    meson, builddir, manifest = argv[1:4]
    rest = argv[4:]
    sep = rest.index('--')
    parts = dict(a.split('=', 1) for a in rest[:sep])
    dirs = dict(a.split('=', 1) for a in rest[sep + 1:])

    expected = []
    trees = []
    with open(manifest, encoding='utf-8') as f:
        for number, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].strip()
            if not line:
                continue
            m = re.fullmatch(r'(\S+)((?:\s+\[[a-z-]+\])*)', line)
            if m is None:
                sys.exit(f'{manifest}:{number}: cannot read "{line}"')
            tags = re.findall(r'\[([a-z-]+)\]', m.group(2))
            for tag in tags:
                if tag not in parts:
                    sys.exit(f'{manifest}:{number}: unknown part [{tag}] (known: {", ".join(parts)})')
            if not all(parts[t] == 'yes' for t in tags):
                continue

            def expand(v):
                if v.group(1) not in dirs:
                    sys.exit(f'{manifest}:{number}: unknown directory ${{{v.group(1)}}}')
                return dirs[v.group(1)]
            path = re.sub(r'\$\{([a-z_]+)\}', expand, m.group(1))
            if not path.startswith('/'):
                sys.exit(f'{manifest}:{number}: {path} is not absolute')
            if path.endswith('/**'):
                trees.append(os.path.normpath(path[:-3]))
            else:
                expected.append(os.path.normpath(path))

    with tempfile.TemporaryDirectory(prefix='mb-install-') as tmp:
        destdir = os.path.join(tmp, 'root')
        run = subprocess.run([meson, 'install', '-C', builddir, '--destdir', destdir,
                              '--no-rebuild', '--quiet'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            print(run.stdout)
            sys.exit(f'meson install failed ({run.returncode})')
        installed = []
        for root, subdirs, files in os.walk(destdir):
            for name in files + [d for d in subdirs if os.path.islink(os.path.join(root, d))]:
                installed.append('/' + os.path.relpath(os.path.join(root, name), destdir))

    # A tree's files count as listed; an empty or missing tree as one file missing.
    for tree in trees:
        listed = set(expected)
        inside = [p for p in installed if p.startswith(tree + '/') and p not in listed]
        installed = [p for p in installed if p not in inside]
        expected.append(tree + '/**')
        if inside:
            installed.append(tree + '/**')
    expected.sort()
    installed.sort()
    if expected == installed:
        print(f'{len(installed)} files installed, as manifest.txt says')
        return 0
    print('the installed files differ from tests/install/manifest.txt '
          '(- listed but not installed, + installed but not listed):')
    sys.stdout.writelines(difflib.unified_diff([p + '\n' for p in expected],
                                               [p + '\n' for p in installed],
                                               'manifest.txt', 'installed', n=0))
    print('directories: ' + ' '.join(f'{k}={v}' for k, v in sorted(dirs.items())))
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
