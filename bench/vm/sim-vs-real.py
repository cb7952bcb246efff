#!/usr/bin/env python3
"""Compares a real run's recorded trace with the simulator's run of the
same scenario, second by second around the job's start.

    sim-vs-real.py REAL_TRACE.csv SIM_TRACE.csv [--seconds N] [--every K]

REAL_TRACE.csv is a run's trace.csv from scripts/bench-vms (VMs named job,
video, web); SIM_TRACE.csv is `membalancer-sim --scenario bench-SCEN
--policy P --trace-out FILE` (VMs vm1-job, vm2-video, vm3-web). VMs are
matched by role (the name's last part). Both are aligned on the job's
start: the first sample whose anonymous memory (active + inactive anon +
swapped) is 16 MiB above the job's first sample.

Prints, every K seconds (default 2) for N seconds (default 40) from 4 s
before the job's start: each VM's MemTotal (its balloon) and the job's
anon and cumulative swap-out, real against sim; then per VM the mean
absolute difference of MemTotal over the window, and the job's swap-out at
the end of the window. Exit status 0, or 1 with one line on stderr.
"""
import csv
import sys

ALIGN_KIB = 16 * 1024


def load(path):
    vms = {}
    with open(path, newline="") as f:
        rows = (line for line in f if line.strip() and not line.startswith("#"))
        for r in csv.DictReader(rows):
            role = r["vm"].split("-")[-1]
            vms.setdefault(role, {})[int(r["t"])] = {
                "total": int(r["total_kib"]),
                "anon": int(r["active_anon_kib"]) + int(r["inactive_anon_kib"]),
                "pswpout": int(r["pswpout"]),
                "pswpin": int(r["pswpin"]),
            }
    return vms


def job_start(vms, path):
    job = vms.get("job")
    if not job:
        raise ValueError(f"{path}: no job VM")
    ts = sorted(job)
    base = job[ts[0]]["anon"]
    for t in ts:
        s = job[t]
        swapped = (s["pswpout"] - s["pswpin"]) * 4
        if s["anon"] + max(swapped, 0) >= base + ALIGN_KIB:
            return t
    raise ValueError(f"{path}: the job never grew")


def at(series, t):
    """The sample at t, or the last one before it."""
    best = None
    for u in sorted(series):
        if u > t:
            break
        best = series[u]
    return best


def mib(kib):
    return f"{kib / 1024:.0f}" if kib is not None else "-"


def main(argv):
    args = argv[1:]
    seconds, every = 40, 2
    paths = []
    while args:
        a = args.pop(0)
        if a == "--seconds" and args:
            seconds = int(args.pop(0))
        elif a == "--every" and args:
            every = int(args.pop(0))
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            paths.append(a)
    if len(paths) != 2:
        print("sim-vs-real: want REAL_TRACE.csv SIM_TRACE.csv (see --help)", file=sys.stderr)
        return 1
    try:
        real, sim = load(paths[0]), load(paths[1])
        t_real, t_sim = job_start(real, paths[0]), job_start(sim, paths[1])
    except (OSError, KeyError, ValueError) as e:
        print(f"sim-vs-real: {e}", file=sys.stderr)
        return 1
    roles = [r for r in ("job", "video", "web") if r in real and r in sim]
    head = ["t s"] + [f"{r} MiB real/sim" for r in roles] + ["job anon real/sim",
                                                             "job swap-out MiB real/sim"]
    rows = []
    diff = {r: [] for r in roles}
    for dt in range(-4, seconds + 1):
        row = [str(dt)]
        for r in roles:
            a, b = at(real[r], t_real + dt), at(sim[r], t_sim + dt)
            if a and b:
                diff[r].append(abs(a["total"] - b["total"]))
            row.append(f"{mib(a and a['total'])}/{mib(b and b['total'])}")
        a, b = at(real["job"], t_real + dt), at(sim["job"], t_sim + dt)
        row.append(f"{mib(a and a['anon'])}/{mib(b and b['anon'])}")
        row.append(f"{mib(a and a['pswpout'] * 4)}/{mib(b and b['pswpout'] * 4)}")
        if dt % every == 0:
            rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    for row in [head] + rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
    print()
    for r in roles:
        d = diff[r]
        print(f"{r}: MemTotal differs by {sum(d) / len(d) / 1024:.1f} MiB on average "
              f"over {len(d)} s" if d else f"{r}: no overlap")
    a, b = at(real["job"], t_real + seconds), at(sim["job"], t_sim + seconds)
    print(f"job swap-out after {seconds} s: real {a['pswpout'] * 4 / 1024:.1f} MiB, "
          f"sim {b['pswpout'] * 4 / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
