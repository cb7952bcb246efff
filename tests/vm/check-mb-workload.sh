#!/usr/bin/env bash
# mb-workload's phases on the host (no VM): alloc's second phase
# (--passes2, --resume-s), web's --count, and the notices (--notice-ms) the
# benchmark's evening times its SetForeground calls from
# (scripts/bench-vms). Small sizes: a few seconds in all.
#
#   check-mb-workload.sh MB_WORKLOAD
set -euo pipefail
WORKLOAD=$1
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fail() {
    echo "check-mb-workload: $*" >&2
    cat "$OUT"/*.out >&2 2>/dev/null || true
    exit 1
}
# has FILE REGEX: FILE has a line matching REGEX.
has() { grep -Eq "$2" "$1" || fail "$1: no line matching '$2'"; }
# line_no FILE REGEX: the number of the first line matching REGEX.
line_no() { grep -En "$2" "$1" | head -n 1 | cut -d: -f1; }
# field FILE REGEX NAME: the number after NAME= on the first line matching REGEX.
field() { grep -E "$2" "$1" | head -n 1 | sed -n "s/.* $3=\([0-9]*\).*/\1/p"; }
# between V LO HI: LO <= V <= HI (timings on a shared machine: loose).
between() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# The game: 1 s delay (its notice 400 ms before the start), 4 MiB, one
# pass, then in the background until 2 s after its start (its notice 400 ms
# before), one more pass.
"$WORKLOAD" alloc 4 --step-mib 4 --passes 1 --delay-s 1 --passes2 1 --resume-s 2 \
    --notice-ms 400 >"$OUT/alloc.out" || fail "alloc exited with $?"
f=$OUT/alloc.out
has "$f" '^mb-workload: alloc armed delay_s=1$'
has "$f" '^mb-workload: alloc soon phase=start in_ms=[0-9]+$'
has "$f" '^mb-workload: alloc phase=1 done mib=4 steady_ms=[0-9]+ steady_touch_ns=[0-9]+ elapsed_ms=[0-9]+$'
has "$f" '^mb-workload: alloc soon phase=resume in_ms=[0-9]+$'
has "$f" '^mb-workload: alloc phase=2 start t_ms=[0-9]+$'
# The notices come (at most) 400 ms ahead; the second phase starts 2 s
# after the first's start, not before.
between "$(field "$f" 'soon phase=start' in_ms)" 0 400 || fail "start notice: $(grep 'soon phase=start' "$f")"
between "$(field "$f" 'soon phase=resume' in_ms)" 0 400 || fail "resume notice: $(grep 'soon phase=resume' "$f")"
between "$(field "$f" 'phase=2 start' t_ms)" 2000 10000 || fail "phase 2: $(grep 'phase=2 start' "$f")"
has "$f" '^mb-workload: alloc phase=2 done mib=4 steady_touch_ns=[0-9]+ elapsed_ms=[0-9]+$'
has "$f" '^mb-workload: alloc done mib=4 touches=[0-9]+ steady_ms=[0-9]+ steady_touch_ns=[0-9]+ elapsed_ms=[0-9]+$'
prev=0
for rx in 'armed' 'soon phase=start' 'alloc start' 'phase=1 done' 'soon phase=resume' \
    'phase=2 start' 'phase=2 done' 'alloc done'; do
    n=$(line_no "$f" "$rx")
    [ "$n" -gt "$prev" ] || fail "alloc's '$rx' line comes too early (line $n)"
    prev=$n
done
# The whole run lasts the 2 s to the second phase and the phase itself.
elapsed=$(sed -n 's/^mb-workload: alloc done .*elapsed_ms=\([0-9]*\)$/\1/p' "$f")
[ "$elapsed" -ge 2000 ] || fail "alloc done after $elapsed ms, before its second phase was due"

# Without the new options alloc prints what it always did: no phase lines.
"$WORKLOAD" alloc 4 --step-mib 4 --passes 1 >"$OUT/plain.out" || fail "plain alloc exited with $?"
if grep -Eq 'phase=|soon' "$OUT/plain.out"; then fail "plain alloc printed a phase line"; fi
has "$OUT/plain.out" '^mb-workload: alloc done mib=4 '

# The browser: two 1 MiB pages 1 s apart after a 1 s delay, then done.
"$WORKLOAD" web 1 --base-mib 1 --every-s 1 --hold-ms 10 --count 2 --delay-s 1 \
    --notice-ms 300 >"$OUT/web.out" || fail "web exited with $?"
f=$OUT/web.out
has "$f" '^mb-workload: web soon phase=start in_ms=[0-9]+$'
between "$(field "$f" 'soon phase=start' in_ms)" 0 300 || fail "web's notice: $(grep soon "$f")"
has "$f" '^mb-workload: web done bursts=2 '
[ "$(grep -c '^mb-workload: web burst=' "$f")" = 2 ] || fail "web made other than 2 bursts"

# A bad value is a usage error, as before.
if "$WORKLOAD" alloc 4 --passes2 x 2>/dev/null; then fail "alloc --passes2 x was accepted"; fi
echo "check-mb-workload: ok"
