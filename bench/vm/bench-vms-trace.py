#!/usr/bin/env python3
"""Turns membalancerd's debug sample records into a simulator trace.

    bench-vms-trace.py DAEMON_LOG [--out TRACE.csv] [--balloons BALLOONS.csv]
                       [--prefix PREFIX] [--source agent]

membalancerd run with G_MESSAGES_DEBUG=membalancer logs every sample it
takes as one debug record (service/mb-vm-object.c, log_sample()):

    membalancer-DEBUG: HH:MM:SS.mmm: sample VM: source=agent t_us=N alloc_kib=N
        total_kib=N free_kib=N active_anon_kib=N inactive_anon_kib=N
        active_file_kib=N inactive_file_kib=N pswpin=N pswpout=N
        swap_used_kib=N psi_some_avg10=F psi_full_avg10=F urgent=N

The trace (docs/simulator.md, "Trace CSV") has one row per VM per whole
second since the first sample of the run: the last sample taken in that
second (urgent samples come between the periodic ones). Only samples from
the given statistics source are kept (default agent: the guest's own
numbers; balloon statistics count differently). VM names lose PREFIX.

--balloons writes the balloon positions the daemon saw: t_ms, vm and
alloc_kib (the allocation the sample was taken at) for every sample.

Exit status: 0, or 1 with one line on stderr (no sample found, a record
that does not parse, an unwritable output).
"""
import re
import sys

FIELDS = ("total_kib", "free_kib", "active_anon_kib", "inactive_anon_kib", "active_file_kib",
          "inactive_file_kib", "pswpin", "pswpout")
HEADER = "t,vm," + ",".join(FIELDS) + ",psi_some_avg10,psi_full_avg10"
RECORD = re.compile(r"\bsample (?P<vm>[^:\s]+): (?P<kv>source=.*)$")


def parse(path, source, prefix):
    samples = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = RECORD.search(line.rstrip("\n"))
            if not m:
                continue
            kv = {}
            for item in m.group("kv").split():
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValueError(f"{path}:{lineno}: '{item}' is not key=value")
                kv[key] = value
            if kv.get("source") != source:
                continue
            try:
                rec = {k: int(kv[k]) for k in FIELDS + ("t_us", "alloc_kib")}
                rec["psi_some_avg10"] = float(kv["psi_some_avg10"])
                rec["psi_full_avg10"] = float(kv["psi_full_avg10"])
            except (KeyError, ValueError) as e:
                raise ValueError(f"{path}:{lineno}: bad sample record ({e})") from None
            vm = m.group("vm")
            rec["vm"] = vm[len(prefix):] if prefix and vm.startswith(prefix) else vm
            samples.append(rec)
    return samples


def clamp_row(r):
    """The trace parser's rules: PSI in [0, 100], free + lists <= total."""
    row = dict(r)
    for k in ("psi_some_avg10", "psi_full_avg10"):
        row[k] = min(max(row[k], 0.0), 100.0)
    lists = ("free_kib", "active_anon_kib", "inactive_anon_kib", "active_file_kib",
             "inactive_file_kib")
    over = sum(row[k] for k in lists) - row["total_kib"]
    if over > 0:
        # A guest's numbers are read at slightly different moments: take
        # the excess from free memory first.
        cut = min(over, row["free_kib"])
        row["free_kib"] -= cut
        over -= cut
        for k in lists[1:]:
            cut = min(over, row[k])
            row[k] -= cut
            over -= cut
    return row


def to_trace(samples):
    t0 = min(s["t_us"] for s in samples)
    per = {}
    for s in sorted(samples, key=lambda s: s["t_us"]):
        sec = (s["t_us"] - t0) // 1000000
        per.setdefault(s["vm"], {})[sec] = s  # the last one in that second
    lines = [HEADER]
    last_counters = {}
    for sec in sorted({sec for rows in per.values() for sec in rows}):
        for vm in sorted(per):
            s = per[vm].get(sec)
            if s is None or s["total_kib"] <= 0:
                continue
            row = clamp_row(s)
            # Counters that went backwards (a reboot) end that VM's trace.
            prev = last_counters.get(vm)
            if prev and (row["pswpin"] < prev[0] or row["pswpout"] < prev[1]):
                per[vm] = {}
                continue
            last_counters[vm] = (row["pswpin"], row["pswpout"])
            lines.append(f"{sec},{vm}," + ",".join(str(row[k]) for k in FIELDS) +
                         f",{row['psi_some_avg10']:.2f},{row['psi_full_avg10']:.2f}")
    return lines, t0


def main(argv):
    args = argv[1:]
    out = balloons = None
    prefix = ""
    source = "agent"
    log = None
    while args:
        a = args.pop(0)
        if a in ("--out", "--balloons", "--prefix", "--source") and args:
            v = args.pop(0)
            if a == "--out":
                out = v
            elif a == "--balloons":
                balloons = v
            elif a == "--prefix":
                prefix = v
            else:
                source = v
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif log is None and not a.startswith("-"):
            log = a
        else:
            print(f"bench-vms-trace: unknown argument {a} (see --help)", file=sys.stderr)
            return 1
    if log is None:
        print("bench-vms-trace: which daemon log? (see --help)", file=sys.stderr)
        return 1
    try:
        samples = parse(log, source, prefix)
        if not samples:
            raise ValueError(f"{log}: no '{source}' sample records (was the daemon run with "
                             "G_MESSAGES_DEBUG=membalancer?)")
        lines, t0 = to_trace(samples)
        text = "\n".join(lines) + "\n"
        if out:
            with open(out, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        if balloons:
            with open(balloons, "w", encoding="utf-8") as f:
                f.write("t_ms,vm,alloc_kib\n")
                for s in samples:
                    f.write(f"{(s['t_us'] - t0) // 1000},{s['vm']},{s['alloc_kib']}\n")
    except (OSError, ValueError) as e:
        print(f"bench-vms-trace: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
