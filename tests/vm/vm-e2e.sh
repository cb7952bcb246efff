#!/bin/bash
# End-to-end: membalancerd balancing real TCG guests under qemu:///system.
#
# Two guests of 384 MiB each share a 768 MiB pool: "video" streams a disk
# through its page cache, "game" grows its anonymous memory to 520 MiB and
# touches it at random for 100 s (loading, then play). The game runs twice, once with the service paused
# (the static partition) and once balancing; swap-out is read inside the
# guests (/proc/vmstat pswpout, reported on their consoles). Asserts:
#   - the agent's statistics reach the service (StatsSource "agent", moving);
#   - balanced: the game grows, the video VM shrinks and does not swap, and
#     the game swaps far less than paused (the ratio is printed);
#   - the TV panel (membalancer-panel on Xvfb, when MB_PANEL is set) shows
#     the real VMs through it all, and an X key press sequence from
#     xdotool changes the video VM's priority on the bus;
#   - the host's footprint records (QEMU's rss beside the balloon each guest
#     reports) appear, and their margins are logged;
#   - a destroyed VM goes offline, and is picked up with its registration
#     when it starts again; libvirtd killed and restarted mid-run: the
#     service reconnects and keeps balancing.
# Cleans up every domain and process it started.
#
# Environment (tests/vm/meson.build): MB_VM_AGENT, MB_VM_WORKLOAD,
# MB_DAEMON (membalancerd), MB_CTL (membalancerctl). Exit 77 only when not
# root or QEMU/libvirt are not installed.
set -euo pipefail

MB_VM_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/mb-vm-lib.sh
. "$MB_VM_DIR/mb-vm-lib.sh"
VIDEO=mbtest-e2e-video
GAME=mbtest-e2e-game
GAME_WORKLOAD=alloc:520:--seconds:100
VIDEO_WORKLOAD=stream:900:--seconds:600

log() { echo "vm-e2e: $*" >&2; }
fail() {
    log "FAIL: $*"
    exit 1
}

if [ "$(id -u)" != 0 ]; then
    log "SKIP: needs root (qemu:///system)"
    exit 77
fi
for tool in virsh libvirtd qemu-system-x86_64 qemu-img busybox dbus-daemon busctl; do
    command -v "$tool" >/dev/null || {
        log "SKIP: $tool not installed (scripts/deps.sh)"
        exit 77
    }
done
: "${MB_VM_AGENT:?}" "${MB_VM_WORKLOAD:?}" "${MB_DAEMON:?}" "${MB_CTL:?}"

T_START=$(mb_now_ms)
MB_WORK=$(mktemp -d /tmp/mb-e2e-XXXXXX)
STARTED=
RECORDER_PID=
POLL_PID=
OK=0

cleanup() {
    local dom
    if [ -n "$RECORDER_PID" ]; then kill "$RECORDER_PID" 2>/dev/null || true; fi
    if [ -n "$POLL_PID" ]; then kill "$POLL_PID" 2>/dev/null || true; fi
    mb_panel_stop
    mb_service_stop
    for dom in "$VIDEO" "$GAME"; do
        if [ "$OK" != 1 ] && [ -f "$MB_RUN_DIR/$dom.console" ]; then
            log "console of $dom (kept in $MB_RUN_DIR):"
            tail -n 15 "$MB_RUN_DIR/$dom.console" >&2 || true
        fi
        mb_destroy "$dom"
        rm -f "$MB_RUN_DIR/$dom"-*.img
        if [ "$OK" = 1 ]; then rm -f "$MB_RUN_DIR/$dom.console" "$MB_RUN_DIR/$dom.xml"; fi
    done
    if [ "$OK" != 1 ]; then
        log "service log, its sample records left out (all kept in $MB_WORK):"
        grep -v ': sample ' "$MB_WORK/daemon.log" | tail -n 40 >&2 || true
    else
        rm -rf "$MB_WORK"
    fi
    # shellcheck disable=SC2086 # one daemon name per word
    if [ -n "$STARTED" ]; then "$MB_VM_DIR/mb-vm-env.sh" stop $STARTED; fi
}
trap cleanup EXIT
trap 'log "FAIL: line $LINENO: $BASH_COMMAND"' ERR

# game_run TAG: boots the game, waits for its workload, sets GAME_SWAP.
game_run() {
    local rc
    mb_boot "$GAME" 384 1024 "$GAME_WORKLOAD"
    # Transient domains exist only while they run: register on first boot.
    if [ -z "$(mb_ctl list | grep -w "$GAME" || true)" ]; then
        mb_ctl register "$GAME" --priority 80 --min 128MiB --max 1GiB --foreground >/dev/null
    fi
    mb_wait_for 30 "$GAME picked up (State running)" mb_state_is "$GAME" running
    mb_wait_for 240 "$GAME workload" mb_console_has "$GAME" '^MB-WORKLOAD-DONE'
    log "$1: $GAME: $(grep -m1 '^MB-WORKLOAD-DONE' "$MB_RUN_DIR/$GAME.console")"
    rc=$(mb_done_field "$GAME" rc)
    [ "$rc" = 0 ] || fail "$1: the game workload failed (rc=$rc)"
    GAME_SWAP=$(mb_done_field "$GAME" pswpout)
    # At the end of its play, not at boot (a guest boots at its maximum).
    GAME_END_KIB=$(mb_vm_prop "$GAME" AllocatedKiB)
}

STARTED=$("$MB_VM_DIR/mb-vm-env.sh" start)
# A run killed by meson's timeout can leave its guests running: they go.
mb_destroy "$VIDEO"
mb_destroy "$GAME"
"$MB_VM_DIR/mb-vm-image.sh" "$MB_IMAGE_DIR" "$MB_VM_AGENT" "$MB_VM_WORKLOAD"

cat >"$MB_WORK/membalancer.conf" <<EOC
[membalancer]
pool = 768MiB
reserve = 0
interval = 1000
min-step = 4MiB
libvirt-uri = $MB_URI
EOC
# Info and debug records too (the agent channel's opening and closing): the
# log is kept when the test fails.
G_MESSAGES_DEBUG=membalancer mb_service_start "$MB_WORK/membalancer.conf"
mb_ctl pause

mb_boot "$VIDEO" 384 1024 "$VIDEO_WORKLOAD"
mb_ctl register "$VIDEO" --priority 40 --min 128MiB --max 1GiB >/dev/null
mb_record "$MB_WORK/timeline.csv" &
RECORDER_PID=$!
# The hypervisor's balloons every 100 ms: the pool is checked on these.
"${MB_ALLOC_POLL:?}" "$MB_URI" mbtest-e2e- 100 >"$MB_WORK/alloc-poll.txt" &
POLL_PID=$!

# 1. Paused: the static partition.
game_run paused
PAUSED_SWAP=$GAME_SWAP
[ "$GAME_END_KIB" -le $((388 * 1024)) ] || fail "paused, yet the game grew to $GAME_END_KIB KiB"
# StatsSource names the source of the last interval's sample, "none" for an
# interval that brought none: the agent's 1 s period and the service's 1 s
# interval drift against each other under TCG, so one read can fall on such
# an interval (a fresh-clone run failed so). The agent must be the source
# within a few intervals.
mb_wait_for 10 "video StatsSource agent" \
    mb_vm_prop_is "$VIDEO" StatsSource agent
A1=$(mb_vm_prop "$VIDEO" InactiveFileKiB)
sleep 3
A2=$(mb_vm_prop "$VIDEO" InactiveFileKiB)
[ "$A1" != "$A2" ] || fail "the video VM's statistics do not move ($A1)"
log "agent statistics reach the service: video inactive file $A1 -> $A2 KiB"
mb_destroy "$GAME"
mb_wait_for 30 "$GAME offline after destroy" mb_state_is "$GAME" offline
VIDEO_SWAP0=$(mb_pswpout "$VIDEO")

# 2. Balancing, with libvirtd killed and restarted while the game runs,
# and the TV panel watching.
PANEL=0
if mb_panel_start "$MB_WORK/panel.log"; then PANEL=1; else log "no Xvfb or MB_PANEL: panel not checked"; fi
mb_ctl resume
VIDEO_START_KIB=$(mb_vm_prop "$VIDEO" AllocatedKiB)
(
    sleep 25
    log "restarting libvirtd"
    "$MB_VM_DIR/mb-vm-env.sh" restart-libvirtd
) &
RESTART_PID=$!
game_run balanced
BALANCED_SWAP=$GAME_SWAP
wait "$RESTART_PID" || fail "restarting libvirtd failed"
mb_wait_for 60 "service connected again" test "$(mb_mgr_prop Connected)" = true
grep -qi "reconnect" "$MB_WORK/daemon.log" || fail "no reconnection in the service log"

panel_rows() { grep -q "page: 2 rows" "$MB_WORK/panel.log"; }
video_priority_45() { [ "$(mb_vm_prop "$VIDEO" Priority)" = 45 ]; }
if [ "$PANEL" = 1 ]; then
    mb_panel_alive || fail "membalancer-panel died: $(tail -n 5 "$MB_WORK/panel.log")"
    mb_wait_for 10 "the panel showing both VMs" panel_rows
    SHOT=${MB_VM_OUT:-$MB_WORK}/vm-e2e-panel.png
    mb_panel_shot "$SHOT"
    [ "$(stat -c %s "$SHOT")" -gt 20000 ] || fail "the panel screenshot $SHOT is (nearly) empty"
    if command -v xdotool >/dev/null; then
        # Rows in name order: game, then video. Down, OK, Up (+5), OK.
        WID=$(DISPLAY=$MB_DISPLAY timeout 30 xdotool search --sync --name '^Memory$' | head -n1)
        DISPLAY=$MB_DISPLAY xdotool windowfocus --sync "$WID" key --delay 120 Down Return Up Return
        mb_wait_for 15 "video priority 45 set from the panel" video_priority_45
    fi
    log "panel: showed both VMs through the run and the libvirtd restart; screenshot $SHOT;" \
        "video priority $(mb_vm_prop "$VIDEO" Priority) set with the remote-control keys"
    mb_panel_stop
fi

kill "$RECORDER_PID" 2>/dev/null || true
RECORDER_PID=
VIDEO_MIN_KIB=$(awk -F, -v v="$VIDEO" 'NR > 1 && $2 == v && (m == "" || $3 < m) { m = $3 }
    END { print m + 0 }' "$MB_WORK/timeline.csv")
VIDEO_SWAP1=$(mb_pswpout "$VIDEO")
kill "$POLL_PID" 2>/dev/null || true
POLL_PID=
# Never more than the pool, as libvirt reports the balloons every 100 ms:
# but for a guest booting (libvirt first reports its start size, then the
# guest its balloon at its maximum, 1 GiB, and its driver inflates it to
# the start size of 384 MiB before the service touches it: from its first
# appearance until it is back down to 400 MiB, at most 60 s).
read -r POLL_N POLL_MAX POLL_OVER < <(awk -v pool=$((768 * 1024)) '{
        t = $1; boot = 0
        for (i = 3; i <= NF; i++) {
            split($i, kv, "="); vm = kv[1]
            # A new domain reads its start size until the guest reports its
            # balloon (at its maximum), then inflates: booted once it is back.
            # New: absent from the previous sample (a pause of the poller
            # itself, libvirt slow under a swapping guest, is no new boot).
            if (!(vm in seen) || seen[vm] != prev) { first[vm] = t; state[vm] = 0 }
            seen[vm] = t
            if (state[vm] == 0 && kv[2] >= 900 * 1024) state[vm] = 1
            if (state[vm] == 1 && kv[2] <= 400 * 1024) state[vm] = 2
            if (state[vm] < 2 && t - first[vm] < 60000) boot = 1
        }
        prev = t
        if (boot) next
        n++; if ($2 > max) max = $2; if ($2 > pool) over++
    }
    END { print n + 0, max + 0, over + 0 }' "$MB_WORK/alloc-poll.txt")
log "pool: $POLL_N samples of libvirt's balloons (100 ms apart), largest sum" \
    "$((POLL_MAX / 1024)) MiB of 768 MiB; above the pool: $POLL_OVER"
# Not vacuous: at least 50 s of samples outside the boots (seen: 977-1591).
[ "$POLL_N" -gt 500 ] || fail "too few balloon samples ($POLL_N) to check the pool"
[ "$POLL_OVER" = 0 ] || fail "the balloons held more than the 768 MiB pool in $POLL_OVER samples (largest $POLL_MAX KiB)"
log "game pswpout: paused $PAUSED_SWAP pages, balanced $BALANCED_SWAP pages"
log "game allocation at the end $((GAME_END_KIB / 1024)) MiB; video $((VIDEO_START_KIB / 1024)) MiB" \
    "down to $((VIDEO_MIN_KIB / 1024)) MiB; video pswpout $VIDEO_SWAP0 -> $VIDEO_SWAP1"
[ "$GAME_END_KIB" -ge $((450 * 1024)) ] || fail "the game did not grow ($GAME_END_KIB KiB)"
[ "$VIDEO_MIN_KIB" -le $((VIDEO_START_KIB - 64 * 1024)) ] || fail "the video VM did not shrink"
[ "$VIDEO_SWAP1" = "$VIDEO_SWAP0" ] || fail "the video VM swapped while balanced"
[ "$PAUSED_SWAP" -gt 10000 ] || fail "the paused run swapped too little to compare ($PAUSED_SWAP)"
[ $((BALANCED_SWAP * 4)) -le "$PAUSED_SWAP" ] ||
    fail "balanced swap-out $BALANCED_SWAP is not under a quarter of paused $PAUSED_SWAP"
log "ratio balanced/paused game swap-out: $(awk -v b="$BALANCED_SWAP" -v p="$PAUSED_SWAP" \
    'BEGIN { printf "%.3f", b / p }')"

# What the host sees: QEMU's resident memory beside the balloon each guest
# reports, every regular interval (the daemon's footprint records). Only
# observed; the margins go to the log (docs/service.md, "What the host sees").
for dom in "$VIDEO" "$GAME"; do
    FP=$(awk -v vm="$dom" '$0 ~ ("footprint " vm ":") {
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^rss_kib=/) { sub(/^rss_kib=/, "", $i); r = $i + 0 }
                if ($i ~ /^balloon_kib=/) { sub(/^balloon_kib=/, "", $i); b = $i + 0 }
            }
            d = r - b; n++; if (n == 1 || d < lo) lo = d; if (n == 1 || d > hi) hi = d
            if (r > rmax) rmax = r
        }
        END { printf "%d %d %d %d", n, lo / 1024, hi / 1024, rmax / 1024 }' "$MB_WORK/daemon.log")
    read -r FP_N FP_LO FP_HI FP_RSS <<<"$FP"
    log "$dom: $FP_N footprint records; rss - balloon from $FP_LO to $FP_HI MiB; rss at most $FP_RSS MiB"
    [ "$FP_N" -gt 20 ] || fail "$dom: too few footprint records ($FP_N)"
    [ "$FP_RSS" -gt 0 ] || fail "$dom: libvirt reported no resident memory"
done

# 3. The video VM vanishes mid-run: offline, no crash.
mb_destroy "$VIDEO"
mb_wait_for 30 "$VIDEO offline after destroy" mb_state_is "$VIDEO" offline
mb_ctl list >/dev/null || fail "the service does not answer after a VM vanished"
kill -0 "$MB_DAEMON_PID" || fail "membalancerd died"

OK=1
log "PASS in $(($(mb_now_ms) - T_START)) ms"
