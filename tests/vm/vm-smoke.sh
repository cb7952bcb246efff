#!/bin/bash
# VM suite smoke test: the whole real-VM chain works on this machine.
#
# Starts libvirt (mb-vm-env.sh), builds the guest image, boots two TCG
# guests (one growing anon memory, one streaming a disk through the page
# cache), waits for MB-READY, reads the agent's lines from the host side of
# the virtio-serial channel, shrinks one guest with `virsh setmem --live` and
# checks the agent reports the smaller MemTotal, and waits for both
# workloads to finish. Cleans up everything it started.
#
# Environment (meson sets these; see tests/vm/meson.build):
#   MB_VM_AGENT      the guest agent (static binary; or mb-fake-agent.sh)
#   MB_VM_WORKLOAD   the static mb-workload binary
#   MB_VM_CHAN_READ  the mb-chan-read binary
# Exit 77 (skip) only when not root or QEMU/libvirt are not installed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BASE_DIR=/var/lib/libvirt/images/membalancer-test
IMAGE_DIR=$BASE_DIR/image
RUN_DIR=$BASE_DIR/run
BOOT_TIMEOUT_S=${MB_VM_BOOT_TIMEOUT_S:-60}
URI=qemu:///system

log() { echo "vm-smoke: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }

if [ "$(id -u)" != 0 ]; then log "SKIP: needs root (qemu:///system)"; exit 77; fi
for tool in virsh libvirtd qemu-system-x86_64 qemu-img busybox; do
    command -v "$tool" >/dev/null || { log "SKIP: $tool not installed (scripts/deps.sh)"; exit 77; }
done
: "${MB_VM_AGENT:?set MB_VM_AGENT (run through meson test --suite vm)}"
: "${MB_VM_WORKLOAD:?set MB_VM_WORKLOAD}"
: "${MB_VM_CHAN_READ:?set MB_VM_CHAN_READ}"

T_START=$(now_ms)
ANON=mbtest-smoke-anon-$$
STREAM=mbtest-smoke-stream-$$
STARTED=
READER_PID=
OK=0

cleanup() {
    local dom
    if [ -n "$READER_PID" ]; then kill "$READER_PID" 2>/dev/null || true; fi
    for dom in "$ANON" "$STREAM"; do
        if [ "$OK" != 1 ] && [ -f "$RUN_DIR/$dom.console" ]; then
            log "console of $dom ($RUN_DIR/$dom.console, kept):"
            tail -n 30 "$RUN_DIR/$dom.console" >&2 || true
        fi
        virsh -q -c "$URI" destroy "$dom" >/dev/null 2>&1 || true
        rm -f "$RUN_DIR/$dom"-*.img "$RUN_DIR/$dom.chan"
        if [ "$OK" = 1 ]; then rm -f "$RUN_DIR/$dom.console" "$RUN_DIR/$dom.xml"; fi
    done
    # shellcheck disable=SC2086 # one daemon name per word
    if [ -n "$STARTED" ]; then "$HERE/mb-vm-env.sh" stop $STARTED; fi
}
trap cleanup EXIT

# wait_console DOM PATTERN TIMEOUT_S: waits for an ERE in DOM's console.
wait_console() {
    local f=$RUN_DIR/$1.console deadline=$(($(now_ms) + $3 * 1000))
    until grep -Eq "$2" "$f" 2>/dev/null; do
        [ "$(now_ms)" -lt "$deadline" ] || fail "$1: no /$2/ on the console within $3 s"
        virsh -q -c "$URI" domstate "$1" 2>/dev/null | grep -q running || fail "$1 is not running"
        sleep 0.2
    done
}

# The last total_kib= in the agent's output so far.
last_total_kib() { sed -n 's/.* total_kib=\([0-9]*\).*/\1/p' "$RUN_DIR/$ANON.chan" | tail -n1; }

STARTED=$("$HERE/mb-vm-env.sh" start)
"$HERE/mb-vm-image.sh" "$IMAGE_DIR" "$MB_VM_AGENT" "$MB_VM_WORKLOAD"

T_BOOT=$(now_ms)
MB_VM_IMAGE_DIR=$IMAGE_DIR "$HERE/mb-vm-domain.sh" "$ANON" 256 512 alloc:48:--passes:2 "$RUN_DIR" >/dev/null
MB_VM_IMAGE_DIR=$IMAGE_DIR "$HERE/mb-vm-domain.sh" "$STREAM" 256 256 stream:64:--passes:3 "$RUN_DIR" >/dev/null
wait_console "$ANON" '^MB-READY' "$BOOT_TIMEOUT_S"
BOOT_MS=$(($(now_ms) - T_BOOT))
log "$ANON: MB-READY after $BOOT_MS ms ($(grep -m1 '^MB-READY' "$RUN_DIR/$ANON.console"))"
wait_console "$STREAM" '^MB-READY' "$BOOT_TIMEOUT_S"

# The agent's channel, read from the host side for the rest of the test.
CHAN=$("$HERE/mb-vm-domain.sh" chan-path "$ANON")
"$MB_VM_CHAN_READ" "$CHAN" 100000 120 >"$RUN_DIR/$ANON.chan" &
READER_PID=$!
deadline=$(($(now_ms) + 30000))
until [ -n "$(last_total_kib)" ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "no sample line from the agent on $CHAN within 30 s"
    sleep 0.2
done
log "agent: $(grep -m1 '' "$RUN_DIR/$ANON.chan")"
# The first lines may have waited in the port since boot: take a fresh one.
sleep 2
BEFORE_KIB=$(last_total_kib)

# Shrink by 96 MiB: the agent must report a MemTotal at least 64 MiB lower.
T_SHRINK=$(now_ms)
virsh -q -c "$URI" setmem "$ANON" 160M --live
deadline=$(($(now_ms) + 20000))
while :; do
    AFTER_KIB=$(last_total_kib)
    [ "$AFTER_KIB" -le $((BEFORE_KIB - 65536)) ] && break
    [ "$(now_ms)" -lt "$deadline" ] ||
        fail "MemTotal $BEFORE_KIB -> $AFTER_KIB KiB: setmem 160M not seen within 20 s"
    sleep 0.2
done
log "setmem 160M: agent total_kib $BEFORE_KIB -> $AFTER_KIB in $(($(now_ms) - T_SHRINK)) ms"

wait_console "$ANON" '^MB-WORKLOAD-DONE rc=' 90
wait_console "$STREAM" '^MB-WORKLOAD-DONE rc=' 90
for dom in "$ANON" "$STREAM"; do
    done_line=$(grep -m1 '^MB-WORKLOAD-DONE' "$RUN_DIR/$dom.console")
    log "$dom: $done_line"
    [[ $done_line == "MB-WORKLOAD-DONE rc=0 "* ]] || fail "$dom: workload failed"
done
grep -q '^MB-PSWPOUT [0-9]' "$RUN_DIR/$ANON.console" || fail "no MB-PSWPOUT line on the console"

OK=1
log "PASS in $(($(now_ms) - T_START)) ms (boot to MB-READY $BOOT_MS ms)"
