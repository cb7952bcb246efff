#!/usr/bin/env python3
"""The simulator's figures in the docs are the simulator's output now:
README.md's paper3-milc run (verbatim), its table of every paper3-JOB
scenario and the rebalance counts its prose quotes, and the --json example
of docs/simulator.md (every value it spells out). A change to the policy
or the model that moves a figure fails here until the docs say it.

check-sim-docs.py MEMBALANCER_SIM README.md docs/simulator.md
"""
import json
import re
import subprocess
import sys

failures = []


def fail(message):
    failures.append(message)
    print('FAIL: ' + message)


def run(sim, *args):
    result = subprocess.run([sim, *args], stdout=subprocess.PIPE, text=True, check=True)
    return result.stdout


def table_rows(output):
    """policy -> (swap MiB, reduction text, runtime, speedup, rebalances)."""
    rows = {}
    for line in output.splitlines()[3:]:
        m = re.match(r'(\w+)\s+([\d.]+)\s+(-|-?[\d.]+ %)\s+(\d+)\s+([\d.]+)\s+(-?[\d.]+)\s+'
                     r'([\d.]+)\s+(\d+)', line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), m.group(3), m.group(4), m.group(5),
                                int(m.group(8)))
    return rows


def readme_cell(row):
    """A cell of README's table: "99.92 % / 13.10x", "no swap / 1.00x",
    "+1472 MiB swap / 0.76x" (VM1 swapped where static did not)."""
    swap, reduction, _, speedup, _ = row
    if reduction == '-':
        what = 'no swap' if swap == 0.0 else f'+{swap:.0f} MiB swap'
    else:
        what = reduction
    return f'{what} / {speedup}x'


def check_readme(sim, path):
    with open(path, encoding='utf-8') as f:
        text = f.read()

    # The run shown verbatim under its command line.
    m = re.search(r'^    \$ build/sim/membalancer-sim (--scenario \S+ --policy all)\n'
                  r'((?:    .*\n)+)', text, re.M)
    if m is None:
        fail(f'{path}: no "$ build/sim/membalancer-sim --scenario ... --policy all" block')
        return
    shown = [line[4:].rstrip() for line in m.group(2).splitlines()]
    output = run(sim, *m.group(1).split())
    real = [line.rstrip() for line in output.splitlines()]
    if shown != real:
        fail(f'{path}: the output under "{m.group(1)}" is not what the simulator prints now:\n'
             + '\n'.join(real))
    else:
        print(f'{path}: "{m.group(1)}" block matches ({len(real)} lines)')

    # The table of every paper3-JOB scenario.
    checked = 0
    milc = None
    for m in re.finditer(r'^\| (paper3-[a-z0-9]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$',
                         text, re.M):
        scenario = m.group(1)
        rows = table_rows(run(sim, '--scenario', scenario, '--policy', 'all'))
        if scenario == 'paper3-milc':
            milc = rows
        for policy, cell in zip(('paper', 'balanced', 'mom'), m.groups()[1:]):
            want = readme_cell(rows[policy])
            if cell.strip() != want:
                fail(f'{path}: {scenario} {policy} says "{cell.strip()}", the simulator "{want}"')
            else:
                checked += 1
    if checked < 8 * 3:
        fail(f'{path}: only {checked} cells of the paper3-JOB table found and right')
    else:
        print(f'{path}: {checked} cells of the paper3-JOB table match')

    # "(32 against 17 for milc)": balanced's and paper's rebalances.
    m = re.search(r'\((\d+)\s+against\s+(\d+)\s+for\s+milc\)', text)
    if m is None or milc is None:
        fail(f'{path}: no "(N against M for milc)" rebalance counts found')
    elif (int(m.group(1)), int(m.group(2))) != (milc['balanced'][4], milc['paper'][4]):
        fail(f'{path}: says "{m.group(0)}", the simulator makes '
             f'{milc["balanced"][4]} (balanced) and {milc["paper"][4]} (paper) rebalances')
    else:
        print(f'{path}: "{m.group(0)}" matches')


def check_simulator_md(sim, path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'^    (\{"scenario":.*?)\n\n', text, re.M | re.S)
    if m is None:
        fail(f'{path}: no --json example found')
        return
    example = m.group(1)
    pairs = r'"(\w+)":("[^"]*"|-?\d+|true|false)'
    head, _, vms = example.partition('"vms"')
    run_fields = dict(re.findall(pairs, head))
    vm_fields = dict(re.findall(pairs, vms))
    runs = json.loads(run(sim, '--scenario', json.loads(run_fields['scenario']),
                          '--policy', 'all', '--json'))
    real = [r for r in runs if r['policy'] == json.loads(run_fields['policy'])]
    if len(real) != 1:
        fail(f'{path}: the example\'s policy {run_fields["policy"]} was not run')
        return
    real = real[0]
    checked = wrong = 0
    for fields, obj, where in ((run_fields, real, 'the run'), (vm_fields, real['vms'][0], 'VM1')):
        for key, value in fields.items():
            if json.loads(value) != obj.get(key):
                fail(f'{path}: the --json example gives {where} "{key}":{value}, '
                     f'the simulator {json.dumps(obj.get(key))}')
                wrong += 1
            checked += 1
    if checked < 8:
        fail(f'{path}: only {checked} values in the --json example')
    elif wrong == 0:
        print(f'{path}: the {checked} values of the --json example match')


def main(argv):
    sim, readme, simulator_md = argv[1:4]
    check_readme(sim, readme)
    check_simulator_md(sim, simulator_md)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
