#!/usr/bin/env python3
"""Tables of a scripts/bench-vms run (docs/benchmarks.md).

bench-vms-report.py [--json FILE] OUTDIR

Reads OUTDIR/SCENARIO-MODE/ (meta, the consoles stamped with the host's
clock, mb-alloc-poll's alloc.txt, the service's daemon.log) and prints one
table per scenario; --json writes the same figures. Times are the host's ms
since the epoch; an app's runtime is its own (mb-workload's elapsed_ms, from
the end of its delay).

A run lasts from the first alloc.txt sample (every VM booted, the balloons
settled) to the end of its last app (table3, fig2, foreground: the job;
contention: the job and the game). Moves per minute are the balloon target
changes over it: every VM named in the service's "rebalanced:" records (one
per VM a tick moved), divided by its minutes. contention's all-VM swap-out
sums every VM's pswpout over it (to 2.5 s after its end: the consoles print
MB-PSWPOUT every 2 s).

evening (a TV evening: the game, the browser, the game again) has its own
table: the game's two phases, the browser's page loads, every VM's swap-out,
and per SetForeground of the TV shell (shell.log) how long before the app's
phase it was sent and how long after it the new foreground VM first grew.
"""
import json
import os
import re
import statistics
import sys

MODE_ORDER = ["static", "best", "oracle", "paper", "balanced"]
PAGE_KIB = 4


def read_meta(path):
    meta = {"vms": []}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("vm="):
                meta["vms"].append(dict(kv.split("=", 1) for kv in line.split()))
            elif "=" in line:
                k, v = line.split("=", 1)
                meta[k] = v
    return meta


def read_console(path):
    lines = []
    if not os.path.exists(path):
        return lines
    with open(path, errors="replace") as f:
        for line in f:
            t, _, text = line.rstrip("\n").partition(" ")
            if t.isdigit():
                lines.append((int(t) // 1000, text))
    return lines


def first(lines, pattern, after=None):
    rx = re.compile(pattern)
    for t, text in lines:
        if after is not None and t < after:
            continue
        m = rx.search(text)
        if m:
            return t, m
    return None, None


def last_before(lines, pattern, t_max):
    rx = re.compile(pattern)
    found = None
    for t, text in lines:
        if t > t_max:
            break
        m = rx.search(text)
        if m:
            found = (t, m)
    return found


def pswpout_at(lines, t_max):
    hit = last_before(lines, r"^MB-PSWPOUT (\d+)", t_max)
    return int(hit[1].group(1)) if hit else 0


def read_alloc(path):
    samples = []
    if not os.path.exists(path):
        return samples
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[0].isdigit():
                continue
            vms = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
            samples.append((int(parts[0]), int(parts[1]), {k: int(v) for k, v in vms.items()}))
    return samples


def daemon_records(path, t_ref):
    """The daemon's log records ("HH:MM:SS.mmm: TEXT") as (host ms, TEXT),
    dated with the day (UTC) of t_ref, the nearest to it."""
    if not os.path.exists(path):
        return
    day_ms = t_ref - t_ref % 86400000
    rx = re.compile(r"\b(\d\d):(\d\d):(\d\d)\.(\d\d\d): (.*)$")
    with open(path, errors="replace") as f:
        for line in f:
            m = rx.search(line.rstrip("\n"))
            if not m:
                continue
            h, mi, sec, ms = (int(x) for x in m.groups()[:4])
            t = day_ms + ((h * 60 + mi) * 60 + sec) * 1000 + ms
            if t < t_ref - 43200000:
                t += 86400000  # past midnight
            elif t > t_ref + 43200000:
                t -= 86400000
            yield t, m.group(5)


def first_urgent(path, vm, t_after):
    """The host time (ms) of the first urgent tick for vm at or after t_after,
    from the daemon's debug records ("urgent tick N: VM 'vm'")."""
    rx = re.compile(r"^urgent tick \d+: VM '([^']*)'")
    for t, text in daemon_records(path, t_after):
        m = rx.search(text)
        if m and m.group(1) == vm and t >= t_after:
            return t
    return None


def count_moves(path, t0, t1):
    """Balloon target changes from t0 to t1: the VMs named in the service's
    "rebalanced: VM +N KiB (reason); ..." records (service/mb-tick.c); None
    without a log."""
    if not os.path.isfile(path):
        return None
    rx = re.compile(r"(?:^|;) (\S+) [+-]\d+ KiB \(")
    return sum(len(rx.findall(text[len("rebalanced:"):]))
               for t, text in daemon_records(path, t0)
               if t0 <= t <= t1 and text.startswith("rebalanced:"))


def app_times(lines):
    """An app's (mb-workload alloc) times: armed, start, done and the done
    line's elapsed_ms (None when it did not happen)."""
    t_armed, _ = first(lines, r"mb-workload: alloc armed")
    t_start, _ = first(lines, r"mb-workload: alloc start")
    t_done, m_done = first(lines, r"mb-workload: alloc done .*elapsed_ms=(\d+)")
    return t_armed, t_start, t_done, int(m_done.group(1)) if m_done else None


def first_grow(samples, name, t0, t1):
    """The first alloc.txt sample from t0 to t1 where VM name's balloon gave
    it memory (more than 512 KiB since the sample before)."""
    window = [(t, vms[name]) for t, _, vms in samples if name in vms and t0 <= t <= t1]
    return next((t for (t, kib), (_, prev) in zip(window[1:], window) if kib > prev + 512), None)


def read_shell(path):
    """The TV shell's SetForeground (shell.log, µs stamps): when it was sent
    and when it returned, in ms (None when it was not)."""
    sent = done = None
    if os.path.isfile(path):
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"(\d+) set-foreground( sending)?$", line.strip())
                if m and m.group(2) and sent is None:
                    sent = int(m.group(1)) // 1000
                elif m and not m.group(2) and done is None:
                    done = int(m.group(1)) / 1000
    return sent, done


def mib(kib):
    return round(kib / 1024.0, 1)


def swap_between(lines, t0, t1):
    """A guest's swap-out (MiB) from t0 to t1 (its MB-PSWPOUT lines)."""
    return mib((pswpout_at(lines, t1) - pswpout_at(lines, t0)) * PAGE_KIB)


def run_figures(res, run_dir, consoles, t_run0, t_run1):
    """The run's length, its moves and every VM's swap-out over it."""
    res["run_s"] = round((t_run1 - t_run0) / 1000.0, 1)
    res["moves"] = count_moves(os.path.join(run_dir, "daemon.log"), t_run0, t_run1)
    res["moves_per_min"] = (round(res["moves"] * 60000.0 / (t_run1 - t_run0), 1)
                            if res["moves"] is not None and t_run1 > t_run0 else None)
    # Every VM whose console has its swap counts (an empty one has none).
    res["vm_swap_out_mib"] = {role: swap_between(lines, t_run0, t_run1 + 2500)
                              for role, lines in consoles.items()
                              if first(lines, r"^MB-PSWPOUT ")[0] is not None}
    res["all_swap_out_mib"] = round(sum(res["vm_swap_out_mib"].values()), 1)


def sum_figures(res, samples):
    """The balloons' largest sum, and how many polls saw more than the pool."""
    res["max_sum_mib"] = mib(max(s[1] for s in samples))
    res["max_sum_kib"] = max(s[1] for s in samples)
    res["samples"] = len(samples)
    res["samples_above_pool"] = sum(1 for s in samples if s[1] > res["pool_mib"] * 1024)


def analyse(run_dir):
    meta = read_meta(os.path.join(run_dir, "meta"))
    res = {"scenario": meta["scenario"], "mode": meta["mode"], "pool_mib": int(meta["pool_mib"])}
    if res["scenario"] == "evening":
        return analyse_evening(run_dir, meta, res)
    roles = {vm["role"]: vm for vm in meta["vms"] if "role" in vm}
    consoles = {role: read_console(os.path.join(run_dir, role + ".console")) for role in roles}
    job = consoles.get("job", [])
    t_armed, t_start, t_done, elapsed_ms = app_times(job)
    res["capped"] = os.path.exists(os.path.join(run_dir, "capped"))
    if t_start is None or "job" not in roles:
        res["error"] = "the job never started"
        return res
    t_end = t_done if t_done is not None else (job[-1][0] if job else t_start)
    res["job_runtime_s"] = round(elapsed_ms / 1000.0, 1) if elapsed_ms is not None else None
    res["job_swap_out_mib"] = swap_between(job, t_start, t_end + 2500)
    daemon_log = os.path.join(run_dir, "daemon.log")
    samples = read_alloc(os.path.join(run_dir, "alloc.txt"))

    # The run: from the balloons settling to the end of its last app.
    t_run1 = t_end
    game = consoles.get("game")
    if game is not None:
        g_armed, g_start, g_done, g_elapsed = app_times(game)
        res["game_runtime_s"] = round(g_elapsed / 1000.0, 1) if g_elapsed is not None else None
        if g_start is not None:
            g_end = g_done if g_done is not None else game[-1][0]
            t_run1 = max(t_run1, g_end)
            res["game_swap_out_mib"] = swap_between(game, g_start, g_end + 2500)
            res["game_start_after_job_s"] = round((g_start - t_start) / 1000.0, 2)
            grow = first_grow(samples, roles["game"]["vm"], g_armed or g_start, g_end)
            res["game_first_grow_s"] = round((grow - g_start) / 1000.0, 2) if grow else None
    t_run0 = samples[0][0] if samples else (t_armed or t_start)
    run_figures(res, run_dir, consoles, t_run0, t_run1)

    others = {}
    for role, lines in consoles.items():
        if role != "job":
            others[role] = mib(pswpout_at(lines, t_run1 + 2500) * PAGE_KIB)
    res["other_swap_out_mib"] = others
    if consoles.get("video"):
        video_frames(res, consoles["video"], t_start, t_run1)
    web = consoles.get("web")
    if web:
        ms = [int(m.group(1)) for t, text in web if t_start <= t <= t_run1
              for m in [re.search(r"web burst=\d+ ms=(\d+)", text)] if m]
        if ms:
            res["web_bursts"] = len(ms)
            res["web_burst_median_ms"] = statistics.median(ms)
            res["web_burst_max_ms"] = max(ms)
    t_swap, _ = first(job, r"^MB-WATCH swapout")
    t_psi, _ = first(job, r"^MB-WATCH psi")
    for key, t in (("job_first_swap_out_s", t_swap), ("job_first_psi_s", t_psi)):
        res[key] = round((t - t_start) / 1000.0, 2) if t is not None else None

    # The TV shell's SetForeground (foreground, contention): when it
    # returned, against the job's start.
    t_fg_sent, t_fg_done = read_shell(os.path.join(run_dir, "shell.log"))
    if res["scenario"] in ("foreground", "contention") and t_fg_done is not None:
        res["set_foreground_s"] = round((t_fg_done - t_start) / 1000.0, 2)

    urgent = first_urgent(daemon_log, roles["job"]["vm"], t_start)
    res["job_first_urgent_tick_s"] = round((urgent - t_start) / 1000.0, 2) if urgent else None

    if samples:
        sum_figures(res, samples)
        name = roles["job"]["vm"]
        window = [(t, vms[name]) for t, _, vms in samples
                  if name in vms and (t_armed or t_start) <= t <= t_end]
        if window:
            base = window[0][1]
            # The first time the balloon lets the job's VM grow (it may have
            # given memory away before the job started).
            grow = first_grow(samples, name, t_armed or t_start, t_end)
            top = max(kib for _, kib in window)
            final = next((t for t, kib in window if kib >= top - 1024), None)
            res["job_start_mib"] = mib(base)
            res["job_max_mib"] = mib(top)
            res["job_first_grow_s"] = round((grow - t_start) / 1000.0, 2) if grow else None
            res["job_final_size_s"] = (
                round((final - t_start) / 1000.0, 2) if grow and final else None)
            trigger = [t for t in (t_swap, t_psi) if t is not None and t >= (t_armed or 0)]
            if grow and trigger:
                res["grow_after_trigger_s"] = round((grow - min(trigger)) / 1000.0, 2)
        # From the shell's call (sent) to the job's VM's first grow.
        if t_fg_sent is not None:
            grow = first_grow(samples, name, t_fg_sent, t_end)
            res["set_foreground_to_grow_s"] = (
                round((grow - t_fg_sent) / 1000.0, 2) if grow else None)
    return res


def read_switches(path):
    """The evening shell's SetForeground calls (shell.log, µs stamps): a list
    of {vm, sent, returned (ms, None when it failed)} in order."""
    out = []
    if not os.path.isfile(path):
        return out
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"(\d+) set-foreground (\S+)( sending| failed)?$", line.strip())
            if not m:
                continue
            t = int(m.group(1)) / 1000
            if m.group(3) == " sending":
                out.append({"vm": m.group(2), "sent": t, "returned": None})
            elif m.group(3) is None and out and out[-1]["vm"] == m.group(2):
                out[-1]["returned"] = t
    return out


def video_frames(res, video, t0, t1):
    """The video's frames, late and dropped ones from t0 to t1 (its reports
    every 5 s)."""
    rx = r"video t_ms=\d+ frames=(\d+) late=(\d+) dropped=(\d+)"
    a, b = last_before(video, rx, t0), last_before(video, rx, t1)
    if b:
        base = [int(x) for x in a[1].groups()] if a else [0, 0, 0]
        now = [int(x) for x in b[1].groups()]
        res["video_frames"], res["video_late"], res["video_dropped"] = (
            now[0] - base[0], now[1] - base[1], now[2] - base[2])


def analyse_evening(run_dir, meta, res):
    """evening: the game's phases (alloc with --passes2), the browser's page
    loads (web with --count), the shell's three switches."""
    roles = {vm["role"]: vm for vm in meta["vms"] if "role" in vm}
    consoles = {role: read_console(os.path.join(run_dir, role + ".console")) for role in roles}
    game, web = consoles.get("game", []), consoles.get("web", [])
    res["capped"] = os.path.exists(os.path.join(run_dir, "capped"))
    t_start, _ = first(game, r"mb-workload: alloc start")
    if t_start is None or "game" not in roles or "web" not in roles:
        res["error"] = "the game never started"
        return res
    t_p1, m_p1 = first(game, r"mb-workload: alloc phase=1 done .*elapsed_ms=(\d+)")
    t_p2, _ = first(game, r"mb-workload: alloc phase=2 start")
    t_p2_done, m_p2 = first(game, r"mb-workload: alloc phase=2 done .*elapsed_ms=(\d+)")
    t_done, _ = first(game, r"mb-workload: alloc done")
    t_web_done, _ = first(web, r"mb-workload: web done")
    bursts = [(t, int(m.group(1))) for t, text in web
              for m in [re.search(r"web burst=\d+ ms=(\d+)", text)] if m]
    samples = read_alloc(os.path.join(run_dir, "alloc.txt"))
    last = max([lines[-1][0] for lines in consoles.values() if lines] or [t_start])
    t_run1 = max(t for t in (t_done, t_web_done) if t is not None) if t_done else last
    t_run0 = samples[0][0] if samples else t_start
    res["game_phase1_s"] = round(int(m_p1.group(1)) / 1000.0, 1) if m_p1 else None
    res["game_phase2_s"] = round(int(m_p2.group(1)) / 1000.0, 1) if m_p2 else None
    # The game's swap-out while it runs, waits in the background, runs again.
    t_p1_end = t_p1 if t_p1 is not None else t_run1
    t_p2_start = t_p2 if t_p2 is not None else t_run1
    t_p2_end = t_p2_done if t_p2_done is not None else t_run1
    res["game_swap_out_mib"] = {
        "phase1": swap_between(game, t_start, t_p1_end),
        "background": swap_between(game, t_p1_end, t_p2_start),
        "phase2": swap_between(game, t_p2_start, t_p2_end + 2500)}
    if bursts:
        ms = [b for _, b in bursts]
        res["web_bursts"] = len(ms)
        res["web_burst_median_ms"] = statistics.median(ms)
        res["web_burst_max_ms"] = max(ms)
        t_web_end = t_web_done if t_web_done is not None else bursts[-1][0]
        res["web_pages_swap_out_mib"] = swap_between(web, bursts[0][0] - bursts[0][1],
                                                     t_web_end + 2500)
    run_figures(res, run_dir, consoles, t_run0, t_run1)
    if consoles.get("video"):
        video_frames(res, consoles["video"], t_start, t_run1)
    if samples:
        sum_figures(res, samples)
    # Each switch: how long before its app's phase it was sent (the game's
    # start, the browser's first page load, the game's second phase), and
    # from it to the new foreground VM's first grow (before the next switch).
    phases = [t_start, bursts[0][0] - bursts[0][1] if bursts else None, t_p2]
    switches = read_switches(os.path.join(run_dir, "shell.log"))
    res["switches"] = []
    for i, sw in enumerate(switches):
        t_next = switches[i + 1]["sent"] if i + 1 < len(switches) else t_run1
        grow = first_grow(samples, sw["vm"], sw["sent"], t_next)
        phase = phases[i] if i < len(phases) else None
        res["switches"].append({
            "vm": sw["vm"], "ok": sw["returned"] is not None,
            "before_phase_s": round((phase - sw["sent"]) / 1000.0, 2) if phase else None,
            "first_grow_s": round((grow - sw["sent"]) / 1000.0, 2) if grow else None})
    # A first phase still running at the switch to the browser overlaps it.
    if t_p1 is not None and len(switches) > 1:
        res["phase1_end_before_browser_s"] = round((switches[1]["sent"] - t_p1) / 1000.0, 2)
    return res


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def secs(v):
    return f"{v:.2f} s" if v is not None else "-"


def table(scen, runs, best_ref):
    out = [f"scenario {scen}"]
    head = ("mode", "runtime s", "vs best", "job swap MiB", "others' swap MiB",
            "video late/drop", "web burst ms med/max", "1st psi/swap/urgent/grow s", "final s",
            "job max MiB", "max sum MiB", "moves/min")
    best = runs.get("best") or best_ref
    best_rt = best.get("job_runtime_s") if best else None
    rows = []
    for mode in MODE_ORDER:
        r = runs.get(mode)
        if r is None and mode == "best" and best_ref is not None:
            r = dict(best_ref, mode="best (table3)")
        if r is None:
            continue
        if "error" in r:
            rows.append((mode, r["error"]) + ("",) * (len(head) - 2))
            continue
        runtime = fmt(r.get("job_runtime_s"))
        if r.get("capped"):
            runtime = f">{runtime}" if runtime != "-" else "capped"
        others = " ".join(f"{k}={fmt(v)}" for k, v in sorted(r.get("other_swap_out_mib", {}).items()))
        video = (f"{r['video_late']}/{r['video_dropped']}" if "video_late" in r else "-")
        web = (f"{fmt(r['web_burst_median_ms'], 0)}/{r['web_burst_max_ms']}"
               if "web_burst_max_ms" in r else "-")
        rt = r.get("job_runtime_s")
        ratio = f"{rt / best_rt:.2f}x" if rt and best_rt else "-"
        firsts = "/".join(fmt(r.get(k), 1) for k in (
            "job_first_psi_s", "job_first_swap_out_s", "job_first_urgent_tick_s",
            "job_first_grow_s"))
        rows.append((r.get("mode", mode), runtime, ratio, fmt(r.get("job_swap_out_mib")),
                     others or "-", video, web, firsts,
                     fmt(r.get("job_final_size_s"), 2), fmt(r.get("job_max_mib")),
                     max_sum(r), fmt(r.get("moves_per_min"))))
    out += columns(head, rows)
    if scen == "foreground":
        out += foreground_lines(runs)
    return "\n".join(out)


def max_sum(r):
    """The largest sum of the balloons against the pool."""
    return (f"{fmt(r.get('max_sum_mib'))} / {r['pool_mib']}"
            + (f" ({r['samples_above_pool']} above, {r['max_sum_kib']} KiB)"
               if r.get("samples_above_pool") else ""))


def columns(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    return ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip()
            for row in (head,) + tuple(rows)]


def foreground_lines(runs):
    """When the shell's SetForeground returned, and from its call to the job's
    VM's first grow."""
    fg = [f"{m} {fmt(r['set_foreground_s'], 2)} s" for m, r in sorted(runs.items())
          if r.get("set_foreground_s") is not None]
    grow = [f"{m} {secs(r.get('set_foreground_to_grow_s'))}" for m, r in sorted(runs.items())
            if "set_foreground_to_grow_s" in r]
    out = ["SetForeground returned, after the job's start: " + (", ".join(fg) or
           "never (not a foreground run)")]
    if grow:
        out.append("the job's VM first grew, after SetForeground was sent: " + ", ".join(grow))
    return out


def vs_ref(v, ref):
    return round(v / ref, 2) if v and ref else None


def mode_rows(runs, head, row):
    """One row per mode that ran, in MODE_ORDER: row(mode, run), or the
    run's error."""
    return [(mode, r["error"]) + ("",) * (len(head) - 2) if "error" in r else row(mode, r)
            for mode in MODE_ORDER for r in [runs.get(mode)] if r is not None]


def contention_table(runs):
    """contention: both apps against oracle's, every VM's swap-out, the
    balloons' largest sum and moves. Stores the ratios in the runs."""
    oracle = runs.get("oracle") or {}
    head = ("mode", "job s", "vs oracle", "job swap MiB", "game s", "vs oracle",
            "game swap MiB", "web swap MiB", "video late/drop", "all VMs' swap MiB",
            "max sum MiB", "moves/min")
    def row(mode, r):
        r["job_vs_oracle"] = vs_ref(r.get("job_runtime_s"), oracle.get("job_runtime_s"))
        r["game_vs_oracle"] = vs_ref(r.get("game_runtime_s"), oracle.get("game_runtime_s"))
        times = []
        for app in ("job", "game"):
            rt = fmt(r.get(f"{app}_runtime_s"))
            if rt == "-" and r.get("capped") and r.get(f"{app}_swap_out_mib") is not None:
                rt = "capped"
            vs = r.get(f"{app}_vs_oracle")
            times += [rt, f"{vs:.2f}x" if vs is not None else "-",
                      fmt(r.get(f"{app}_swap_out_mib"))]
        video = (f"{r['video_late']}/{r['video_dropped']}" if "video_late" in r else "-")
        return (mode, *times, fmt(r.get("vm_swap_out_mib", {}).get("web")), video,
                fmt(r.get("all_swap_out_mib")), max_sum(r), fmt(r.get("moves_per_min")))
    out = ["scenario contention"] + columns(head, mode_rows(runs, head, row))
    out += foreground_lines(runs)
    lag = [f"{m} {secs(r['game_start_after_job_s'])} (its VM first grew "
           f"{secs(r.get('game_first_grow_s'))} after its start)"
           for m, r in sorted(runs.items()) if r.get("game_start_after_job_s") is not None]
    out.append("the game started after the job: " + (", ".join(lag) or "never"))
    return "\n".join(out)


def evening_table(runs):
    """evening: the game's phases and the browser's page loads against
    oracle's, the swap-out, and per switch the lead and the first grow."""
    oracle = runs.get("oracle") or {}
    head = ("mode", "game p1 s", "vs oracle", "game p2 s", "vs oracle",
            "game swap MiB p1/bg/p2", "page load ms med/max", "vs oracle", "web swap MiB",
            "video late/drop", "all VMs' swap MiB", "max sum MiB", "moves/min")
    def row(mode, r):
        cells = []
        for phase in ("phase1", "phase2"):
            key = f"game_{phase}_s"
            r[f"game_{phase}_vs_oracle"] = vs = vs_ref(r.get(key), oracle.get(key))
            rt = fmt(r.get(key))
            cells += ["capped" if rt == "-" and r.get("capped") else rt,
                      f"{vs:.2f}x" if vs is not None else "-"]
        swap = "/".join(fmt(r["game_swap_out_mib"].get(k))
                        for k in ("phase1", "background", "phase2"))
        r["web_burst_vs_oracle"] = vs = vs_ref(r.get("web_burst_median_ms"),
                                               oracle.get("web_burst_median_ms"))
        web = (f"{fmt(r['web_burst_median_ms'], 0)}/{r['web_burst_max_ms']}"
               if "web_burst_max_ms" in r else "-")
        video = (f"{r['video_late']}/{r['video_dropped']}" if "video_late" in r else "-")
        return (mode, *cells, swap, web, f"{vs:.2f}x" if vs is not None else "-",
                fmt(r.get("web_pages_swap_out_mib")), video, fmt(r.get("all_swap_out_mib")),
                max_sum(r), fmt(r.get("moves_per_min")))
    out = ["scenario evening"] + columns(head, mode_rows(runs, head, row))
    names = ("to the game (launch)", "to the browser", "back to the game")
    for i, name in enumerate(names):
        cells = []
        for mode in MODE_ORDER:
            sw = (runs.get(mode) or {}).get("switches") or []
            if i < len(sw):
                cells.append(f"{mode} {secs(sw[i]['before_phase_s'])} / "
                             f"{secs(sw[i]['first_grow_s'])}"
                             + ("" if sw[i]["ok"] else " (failed)"))
        out.append(f"SetForeground {name}, sent before the app's phase / "
                   f"its VM's first grow after it: " + (", ".join(cells) or "never"))
    ends = [f"{m} {secs(r['phase1_end_before_browser_s'])}" for m in MODE_ORDER
            for r in [runs.get(m) or {}] if r.get("phase1_end_before_browser_s") is not None]
    out.append("the game's first phase ended before the switch to the browser "
               "(negative: after it): " + (", ".join(ends) or "-"))
    return "\n".join(out)


def sim_table(outdir, scen, runs):
    """The simulator's bench-SCEN against the real runs (docs/simulator.md):
    the job's swap-out per policy, from OUTDIR/sim-SCEN.json (written by
    scripts/bench-vms with membalancer-sim --json). Stores the figures in
    runs[mode]["sim_job_swap_out_mib"]."""
    path = os.path.join(outdir, f"sim-{scen}.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        sims = json.load(f)
    head = ("policy", "real job swap MiB", "sim job swap MiB", "sim vs real",
            "real runtime s", "sim runtime s")
    rows = []
    for s in sims:
        mode = s.get("policy")
        real = runs.get(mode)
        if real is None or not s.get("vms"):
            continue
        job = s["vms"][0]
        sim_mib = round(job["swap_out_kib"] / 1024.0, 1)
        real["sim_job_swap_out_mib"] = sim_mib
        real_mib = real.get("job_swap_out_mib")
        if real_mib is None:
            diff = "-"
        elif real_mib == 0:
            diff = "equal" if sim_mib == 0 else f"+{fmt(sim_mib)} MiB"
        else:
            diff = f"{(sim_mib - real_mib) / real_mib * 100:+.0f} %"
        rows.append((mode, fmt(real_mib), fmt(sim_mib), diff,
                     fmt(real.get("job_runtime_s")) if not real.get("capped") else "capped",
                     str(job.get("runtime_s", "-"))))
    if not rows:
        return None
    out = [f"simulator bench-{scen} against the real runs (job swap-out)"] + columns(head, rows)
    return "\n".join(out)


def main(argv):
    json_path = None
    if len(argv) >= 3 and argv[1] == "--json":
        json_path = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outdir = argv[1]
    results = {}
    for entry in sorted(os.listdir(outdir)):
        d = os.path.join(outdir, entry)
        if os.path.isfile(os.path.join(d, "meta")):
            r = analyse(d)
            results.setdefault(r["scenario"], {})[r["mode"]] = r
    order = [s for s in ("table3", "fig2", "foreground", "contention", "evening")
             if s in results]
    order += [s for s in results if s not in order]
    for scen in order:
        best_ref = results.get("table3", {}).get("best") if scen == "foreground" else None
        if scen == "contention":
            print(contention_table(results[scen]))
        elif scen == "evening":
            print(evening_table(results[scen]))
        else:
            print(table(scen, results[scen], best_ref))
        print()
        sim = sim_table(outdir, scen, results[scen])
        if sim:
            print(sim)
            print()
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
