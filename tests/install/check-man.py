#!/usr/bin/env python3
"""The man pages render without groff warnings and document what the
programs and docs/service.md say exists: every option of `membalancerd
--help` in membalancerd.8, every command and option of `membalancerctl
--help` in membalancerctl.1, every key of service.md's configuration
tables in membalancer.conf.5.

check-man.py MEMBALANCERD MEMBALANCERCTL SERVICE_MD membalancerd.8 membalancerctl.1 membalancer.conf.5
"""
import os
import re
import shutil
import subprocess
import sys

failures = []


def fail(message):
    failures.append(message)
    print('FAIL: ' + message)


def skip(message):
    # A missing tool is a failure in CI (STYLE.md), a skip elsewhere.
    if os.environ.get('CI') == 'true':
        sys.exit(f'FAIL: {message} (CI=true: not skipped)')
    print('SKIP: ' + message)
    sys.exit(77)


def page_text(path):
    """The page's troff source as plain words: dashes and fonts undone."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = text.replace('\\-', '-').replace('\\(aq', "'").replace('\\e', '\\')
    text = re.sub(r'\\f[BIRP]|\\f\(..|\\f\[[^]]*\]|\\&|\\ ', '', text)
    return text


def documented(word, text):
    return re.search(r'(?<![\w-])' + re.escape(word) + r'(?![\w-])', text) is not None


def help_of(program):
    run = subprocess.run([program, '--help'], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE=''))
    if run.returncode != 0:
        sys.exit(f'{program} --help exited {run.returncode}')
    return run.stdout


def options_of(help_text):
    """The long options of a GOption --help: lines "  [-x, ]--name[=ARG]  text"."""
    found = []
    for line in help_text.splitlines():
        m = re.match(r'\s+(?:-\w, )?(--[a-z][a-z0-9-]*)', line)
        if m:
            found.append(m.group(1))
    return found


def commands_of(help_text):
    """The commands of membalancerctl's usage: the lower-case words before
    each description in its "Commands:" block ("pause | resume" is two)."""
    found = []
    block = re.search(r'^Commands:\n(.*?)\n\n', help_text, re.S | re.M)
    if block is None:
        sys.exit('membalancerctl --help has no "Commands:" block')
    for line in block.group(1).splitlines():
        synopsis = re.split(r'\s{2,}', line.strip())[0]
        found += [w for w in synopsis.split() if re.fullmatch(r'[a-z][a-z-]*', w)]
    return found


def config_keys(service_md):
    """Keys of the configuration tables: the "| key (`[membalancer]`) |" table
    of "### Configuration" and the `[fake]` table ("[fake]` also takes")."""
    with open(service_md, encoding='utf-8') as f:
        lines = f.read().splitlines()
    keys = []
    in_table = False
    for i, line in enumerate(lines):
        if line.startswith('| key'):
            in_table = True
            continue
        if in_table and line.startswith('|'):
            m = re.match(r'\|\s*`([a-z][a-zA-Z.-]*)`\s*\|', line)
            if m:
                keys.append(m.group(1))
            continue
        in_table = False
    return keys


def main(argv):
    daemon, ctl, service_md, page8, page1, page5 = argv[1:7]

    keys = config_keys(service_md)
    for expected in ('pool', 'interval', 'state-directory', 'balloon-rate'):
        if expected not in keys:
            fail(f'the configuration tables of {service_md} were not read ({expected} missing: {keys})')

    checks = [
        (page8, 'option of membalancerd --help', options_of(help_of(daemon))),
        (page1, 'command of membalancerctl --help', commands_of(help_of(ctl))),
        (page1, 'option of membalancerctl --help', options_of(help_of(ctl))),
        (page5, 'key of the configuration tables of docs/service.md', keys),
    ]
    for page, what, words in checks:
        if len(words) < 3:
            fail(f'too few of "{what}" found: {words}')
        text = page_text(page)
        missing = [w for w in words if not documented(w, text)]
        for w in missing:
            fail(f'{os.path.basename(page)} does not document the {what} {w}')
        print(f'{os.path.basename(page)}: {len(words) - len(missing)}/{len(words)} of "{what}" documented')

    man = shutil.which('man')
    if man is None:
        skip('man (man-db) is not installed: the pages were not rendered')
    env = dict(os.environ, MANWIDTH='80', MAN_DISABLE_SECCOMP='1', LC_ALL='C.UTF-8')
    for page in (page8, page1, page5):
        run = subprocess.run([man, '--warnings', '-E', 'UTF-8', '-l', page],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if run.returncode != 0 or run.stderr.strip():
            fail(f'man -l {os.path.basename(page)} (exit {run.returncode}): {run.stderr.strip()}')
        elif len(run.stdout.splitlines()) < 20:
            fail(f'man -l {os.path.basename(page)} rendered only: {run.stdout!r}')
        else:
            print(f'{os.path.basename(page)}: rendered, {len(run.stdout.splitlines())} lines, no warnings')

    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
