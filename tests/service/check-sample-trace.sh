#!/usr/bin/env bash
# The benchmark's trace recording, end to end: the real membalancerd (fake
# backend, private session bus) logs its samples as debug records,
# bench/vm/bench-vms-trace.py turns them into a trace, and membalancer-sim
# replays it. A change to the record or to the trace format on one side
# only fails here.
#   check-sample-trace.sh DAEMON CTL CONVERTER SIM
set -euo pipefail
DAEMON=$1 CTL=$2 CONVERTER=$3 SIM=$4
for tool in dbus-run-session python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed"
        exit 77
    fi
done
dir=$(mktemp -d /tmp/mb-test-trace-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/membalancer.conf" <<CONF
[membalancer]
interval = 100
policy = balanced
pool = 1GiB
CONF
cat >"$dir/run.sh" <<RUN
set -eu
G_MESSAGES_DEBUG=membalancer "$DAEMON" --session --backend=fake -c "$dir/membalancer.conf" \
    --state-dir "$dir/state" >"$dir/daemon.log" 2>&1 &
pid=\$!
for i in \$(seq 100); do
    "$CTL" --session info >/dev/null 2>&1 && break
    sleep 0.1
done
"$CTL" --session register game-1 --priority 60 --min 128MiB --max 768MiB >/dev/null
"$CTL" --session register video-1 --priority 40 --min 128MiB --max 768MiB >/dev/null
sleep 3
kill -TERM \$pid
wait \$pid || true
RUN
dbus-run-session -- bash "$dir/run.sh" 2>"$dir/bus.log"
fail() {
    echo "not ok 1 - $*"
    sed 's/^/# /' "$dir/daemon.log" | tail -20
    exit 1
}
echo "1..1"
grep -q 'sample game-1: source=agent' "$dir/daemon.log" || fail "no sample record of game-1 in the daemon's log"
python3 "$CONVERTER" "$dir/daemon.log" --out "$dir/trace.csv" --balloons "$dir/balloons.csv" ||
    fail "the converter failed"
rows=$(grep -c '^[0-9]*,game-1,' "$dir/trace.csv" || true)
[ "$rows" -ge 2 ] || fail "game-1 has $rows trace rows, expected >= 2 (3 s at 100 ms)"
grep -q '^[0-9]*,video-1,' "$dir/trace.csv" || fail "video-1 is missing from the trace"
# The balloon positions move: the game grows while it loads.
moves=$(awk -F, '$2 == "game-1" { print $3 }' "$dir/balloons.csv" | sort -u | wc -l)
[ "$moves" -ge 2 ] || fail "game-1's recorded allocation never moved"
"$SIM" --trace "$dir/trace.csv" --policy static --json >"$dir/sim.json" 2>"$dir/sim.err" ||
    fail "membalancer-sim rejected the trace: $(cat "$dir/sim.err")"
grep -q '"name":"game-1"' "$dir/sim.json" || fail "the simulator's run has no game-1"
echo "ok 1 - $rows trace rows for game-1, $moves balloon positions, replayed by membalancer-sim"
