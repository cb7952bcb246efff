#!/bin/bash
# The installed membalancer under a real systemd (docs/system-testing.md).
#
# Makes a Debian 12 root (debootstrap, cached), installs this source tree
# into it (meson install --destdir), boots it with systemd-nspawn (systemd
# as PID 1, the container's own system bus and polkitd) with the host's
# /run/libvirt bound in, boots one TCG guest with the real agent on the
# host's libvirtd, and checks, each as a named step printing PASS/FAIL:
#
#   a-unit        the unit starts, runs as membalancer and owns the name
#   a-activation  with the unit stopped, a client call starts it
#   b-agent       a real guest registered from inside: StatsSource "agent"
#   c-restart     registrations survive `systemctl restart`
#   c-kill9       ... and kill -9 (Restart=on-failure brings it back)
#   d-group       a member of group membalancer may SetPriority
#   d-denied      nobody is refused with AccessDenied
#   e-journal     journald holds the service's structured records
#   f-security    systemd-analyze security (printed; not a pass/fail)
#
# Environment (tests/system/meson.build sets these):
#   MB_SRC_ROOT      the source tree to install
#   MB_SYS_OUT       a directory of the build tree (the install build and
#                    the root live here; the root is deleted at the end)
#   MB_VM_AGENT, MB_VM_WORKLOAD  the guest agent and mb-workload (static)
# Optional: MB_SYS_CACHE_DIR (/var/cache/membalancer-tests), MB_SYS_MIRROR,
# MB_SYS_KEEP=1 (keep the root and the guest's console after a failure).
#
# Exit 77 (skip) when it cannot run at all (not root, no systemd-nspawn,
# debootstrap, QEMU or libvirt), except under CI=true where that fails.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VM_DIR=$HERE/../vm
BASE_DIR=/var/lib/libvirt/images/membalancer-test
IMAGE_DIR=$BASE_DIR/image
RUN_DIR=$BASE_DIR/run
URI=qemu:///system
BUS_NAME=org.smarttv.MemBalancer
OBJ=/org/smarttv/MemBalancer
ID_REBALANCED=515e6cd7b1034ecfa547179e3d47de58
ID_HYPERVISOR_BACK=cda2c8acff134bccb04df13883600015

log() { echo "system-unit: $*" >&2; }
now_ms() { date +%s%3N; }
T_START=$(now_ms)
elapsed() { printf '%d.%01d s' $((($(now_ms) - T_START) / 1000)) $((($(now_ms) - T_START) % 1000 / 100)); }

skip() {
    if [ "${CI:-}" = true ]; then
        log "FAIL: $* (CI=true: a skip counts as a failure)"
        exit 1
    fi
    log "SKIP: $*"
    exit 77
}

# ---- can it run at all? -------------------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, systemd-nspawn, qemu:///system)"
for tool in systemd-nspawn debootstrap nsenter meson virsh libvirtd qemu-system-x86_64 busybox; do
    command -v "$tool" >/dev/null || skip "$tool not installed"
done
: "${MB_SRC_ROOT:?set MB_SRC_ROOT (run through meson test --suite system)}"
: "${MB_SYS_OUT:?set MB_SYS_OUT}"
: "${MB_VM_AGENT:?set MB_VM_AGENT}"
: "${MB_VM_WORKLOAD:?set MB_VM_WORKLOAD}"

OUT=$MB_SYS_OUT
ROOT=$OUT/root
INSTALL_BUILD=$OUT/install-build
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mb-system-unit.XXXXXX")
DOM=mbtest-sys-$$
NSPAWN_PID=
LEADER=
LIBVIRTD_PID=
STARTED=
N_FAIL=0
RESULTS=()

# ---- clean-up: everything but the cache ----------------------------------
cleanup() {
    local rc=$?
    set +e
    if [ -n "$LEADER" ] && [ -d "/proc/$LEADER" ]; then
        in_ct journalctl --no-pager -u membalancer -o short-monotonic >"$WORK/journal.txt" 2>&1
    fi
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        # SIGTERM makes nspawn halt a booted container cleanly (SIGRTMIN+3).
        kill -TERM "$NSPAWN_PID"
        for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$NSPAWN_PID" 2>/dev/null; then
            log "the container did not power off in 20 s: killing it"
            kill -KILL "$NSPAWN_PID"
        fi
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    virsh -q -c "$URI" destroy "$DOM" >/dev/null 2>&1
    rm -f "$RUN_DIR/$DOM"-*.img
    if [ "$N_FAIL" = 0 ] && [ "$rc" = 0 ]; then rm -f "$RUN_DIR/$DOM.console" "$RUN_DIR/$DOM.xml"; fi
    if [ -n "$LIBVIRTD_PID" ] && [ "$(cat "/proc/$LIBVIRTD_PID/comm" 2>/dev/null)" = libvirtd ]; then
        kill "$LIBVIRTD_PID"
        for _ in $(seq 50); do [ -d "/proc/$LIBVIRTD_PID" ] || break; sleep 0.2; done
        log "stopped the test's libvirtd (pid $LIBVIRTD_PID)"
    fi
    # shellcheck disable=SC2086 # one daemon name per word
    if [ -n "$STARTED" ]; then "$VM_DIR/mb-vm-env.sh" stop $STARTED; fi
    if [ -d "$ROOT" ]; then
        if findmnt -R -n -o TARGET "$ROOT" >/dev/null 2>&1; then
            log "something is still mounted under $ROOT: not deleting it"
            findmnt -R "$ROOT" >&2
        elif [ "${MB_SYS_KEEP:-0}" = 1 ] && [ "$N_FAIL" != 0 ]; then
            log "MB_SYS_KEEP=1: kept $ROOT"
        else
            rm -rf --one-file-system "$ROOT"
        fi
    fi
    if [ "$N_FAIL" != 0 ] || [ "$rc" != 0 ]; then
        [ -f "$WORK/journal.txt" ] && { log "membalancer's journal (last 40 lines):"; tail -n 40 "$WORK/journal.txt" >&2; }
        [ -f "$WORK/console.log" ] && { log "container console (last 20 lines):"; tail -n 20 "$WORK/console.log" >&2; }
    fi
    rm -rf "$WORK"
    log "total $(elapsed)"
    if [ "$rc" = 0 ] && [ "$N_FAIL" != 0 ]; then rc=1; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { log "error: $*"; exit 1; }

# step NAME PASS|FAIL DETAILS: one result line.
step() {
    local name=$1 verdict=$2
    shift 2
    printf 'system-unit: %-13s %s  %s\n' "$name" "$verdict" "$*"
    RESULTS+=("$(printf '%-13s %s  %s' "$name" "$verdict" "$*")")
    if [ "$verdict" != PASS ] && [ "$verdict" != INFO ]; then N_FAIL=$((N_FAIL + 1)); fi
}

# in_ct CMD...: runs CMD in the container (all its namespaces, its root).
in_ct() {
    nsenter -t "$LEADER" -a -r -w \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

prop() { in_ct systemctl show -P "$1" membalancer.service; }

# vm_field FIELD: FIELD of the guest in `membalancerctl status --json`.
vm_json() { in_ct membalancerctl status "$DOM" --json 2>/dev/null; }
# json_field KEY: KEY's value (string quotes dropped) in the JSON on stdin.
json_field() { grep -o '"'"$1"'"[[:space:]]*:[[:space:]]*\("[^"]*"\|[^,}]*\)' | head -n1 | sed 's/^[^:]*:[[:space:]]*//; s/^"//; s/"$//'; }
vm_field() { vm_json | json_field "$1"; }

# ---- 1. the host's libvirtd, reachable by a non-root group member --------
# The daemon in the container runs as user membalancer with
# SupplementaryGroups=libvirt and connects to the host's libvirtd through
# the bound /run/libvirt. A Debian host gives group libvirt the socket
# (systemd's libvirtd.socket, SocketGroup=libvirt, and polkit's
# 60-libvirt.rules); here no systemd and no polkitd run on the host, so the
# test starts libvirtd itself with that socket group and unix auth "none",
# and gives the container's libvirt group the socket's gid (see
# docs/system-testing.md, "libvirt's socket").
T0=$(now_ms)
LIBVIRTD_CONF=$WORK/libvirtd.conf
cat >"$LIBVIRTD_CONF" <<'EOF'
# membalancer system test: the socket of a Debian host (group libvirt, 0770),
# without polkit on the host.
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
EOF
getent group libvirt >/dev/null || skip "no group libvirt on the host (install libvirt-daemon-system)"
lv_pid=$(tr -dc 0-9 </run/libvirtd.pid 2>/dev/null)
if [ -n "$lv_pid" ] && [ "$(cat "/proc/$lv_pid/comm" 2>/dev/null)" = libvirtd ]; then
    log "libvirtd runs already (pid $lv_pid, not ours): using it as it is"
else
    rm -f /run/libvirtd.pid
    libvirtd -d -f "$LIBVIRTD_CONF" || die "libvirtd -f $LIBVIRTD_CONF failed"
    wait_until 30 test -s /run/libvirtd.pid || die "libvirtd wrote no pid file"
    LIBVIRTD_PID=$(tr -dc 0-9 </run/libvirtd.pid)
fi
# The system D-Bus and virtlogd (libvirtd, running now, is left alone).
STARTED=$("$VM_DIR/mb-vm-env.sh" start) || die "mb-vm-env.sh start failed"
SOCK=/run/libvirt/libvirt-sock
LIBVIRT_GID=$(stat -c %g "$SOCK") || die "no $SOCK"
# A non-root member of the socket's group must get a read-write connection.
setpriv --reuid=65534 --regid=65534 --groups="$LIBVIRT_GID" \
    virsh -c "$URI" version >"$WORK/probe" 2>&1 ||
    die "a non-root member of gid $LIBVIRT_GID cannot use $SOCK ($(tail -n1 "$WORK/probe")); a libvirtd started by someone else must have unix_sock_group=libvirt, unix_sock_rw_perms=0770, auth_unix_rw=none (or stop it and let this test start its own)"
log "libvirtd ready: $SOCK group $LIBVIRT_GID ($(getent group "$LIBVIRT_GID" | cut -d: -f1)), $(($(now_ms) - T0)) ms"

# ---- 2. the root, from the cache -----------------------------------------
# What membalancerd and membalancerctl link against (their NEEDED
# libraries' Debian packages) on top of the base set.
T0=$(now_ms)
# debootstrap resolves no virtual packages: polkitd needs default-logind,
# which libpam-systemd provides.
PKGS=(systemd systemd-sysv dbus polkitd libpam-systemd libglib2.0-0 libvirt0 libjson-glib-1.0-0 libpolkit-gobject-1-0)
needed_pkgs() {
    local bin lib path real
    for bin in "$@"; do
        objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }' | while read -r lib; do
            path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3; exit }')
            [ -n "$path" ] || continue
            real=$(realpath "$path")
            dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true
        done
    done | cut -d: -f1 | sort -u
}

# ---- 3. the install build (reused) ---------------------------------------
if [ ! -f "$INSTALL_BUILD/build.ninja" ]; then
    meson setup "$INSTALL_BUILD" "$MB_SRC_ROOT" --prefix=/usr -Dbuildtype=debugoptimized \
        -Dvm-tests=disabled -Dpanel=disabled -Dsimulator=disabled -Dsystem-tests=disabled \
        >"$WORK/setup.log" 2>&1 || { tail -n 30 "$WORK/setup.log" >&2; die "meson setup $INSTALL_BUILD failed"; }
fi
meson compile -C "$INSTALL_BUILD" >"$WORK/compile.log" 2>&1 ||
    { tail -n 30 "$WORK/compile.log" >&2; die "meson compile -C $INSTALL_BUILD failed"; }
log "install build ready ($INSTALL_BUILD): $(($(now_ms) - T0)) ms"

T0=$(now_ms)
mapfile -t extra < <(needed_pkgs "$INSTALL_BUILD/service/membalancerd" "$INSTALL_BUILD/ctl/membalancerctl")
PKGS+=("${extra[@]}")
rm -rf --one-file-system "$ROOT"
TARBALL=$("$HERE/mb-sys-root.sh" "$ROOT" "${PKGS[@]}") || die "no root"
log "root ready from $TARBALL: $(($(now_ms) - T0)) ms"

T0=$(now_ms)
meson install -C "$INSTALL_BUILD" --destdir "$ROOT" --no-rebuild >"$WORK/install.log" 2>&1 ||
    { tail -n 30 "$WORK/install.log" >&2; die "meson install --destdir $ROOT failed"; }
UNIT_FILE=$(find "$ROOT/lib/systemd/system" "$ROOT/usr/lib/systemd/system" -name membalancer.service 2>/dev/null | head -n1)
[ -n "$UNIT_FILE" ] || die "meson install put no membalancer.service into $ROOT"
log "installed into $ROOT ($(wc -l <"$INSTALL_BUILD/meson-logs/install-log.txt") files): $(($(now_ms) - T0)) ms"

# ---- 4. the container's configuration ------------------------------------
# Group libvirt (libvirt-daemon-system's on a real host) with the host
# socket's gid, and two test users: mbtester in group membalancer, and the
# stock nobody. systemd-sysusers creates them at boot with the project's
# sysusers.d/membalancer.conf.
clash=$(awk -F: -v g="$LIBVIRT_GID" '$3 == g && $1 != "libvirt" { print $1 }' "$ROOT/etc/group")
[ -z "$clash" ] || die "gid $LIBVIRT_GID (the host's libvirt socket) is group $clash in the container"
mkdir -p "$ROOT/etc/sysusers.d"
cat >"$ROOT/etc/sysusers.d/mb-system-test.conf" <<EOF || die "cannot write $ROOT/etc/sysusers.d"
# membalancer system test (tests/system/system-unit.sh)
g libvirt $LIBVIRT_GID
u mbtester - "membalancer system test" /nonexistent
m mbtester membalancer
EOF
# A fresh /etc: systemd-sysusers.service (ConditionNeedsUpdate=/etc) runs.
rm -f "$ROOT/etc/.updated" "$ROOT/var/.updated"
systemctl --root="$ROOT" enable membalancer.service >"$WORK/enable.log" 2>&1 ||
    { cat "$WORK/enable.log" >&2; die "systemctl --root enable membalancer.service failed"; }
# Nothing in the container needs a getty or the network.
systemctl --root="$ROOT" mask console-getty.service getty@.service systemd-networkd-wait-online.service \
    >/dev/null 2>&1 || true
echo "mbsys" >"$ROOT/etc/hostname"

# ---- 5. boot it -------------------------------------------------------------
T0=$(now_ms)
systemd-nspawn -D "$ROOT" --register=no --keep-unit -b --console=pipe \
    --bind=/run/libvirt -M "mbsys-$$" >"$WORK/console.log" 2>&1 </dev/null &
NSPAWN_PID=$!

# The container's PID 1: the descendant of nspawn whose NSpid ends in 1.
find_leader() {
    local p
    for p in $(pgrep -P "$NSPAWN_PID") $(for c in $(pgrep -P "$NSPAWN_PID"); do pgrep -P "$c"; done); do
        if awk '$1 == "NSpid:" && $NF == 1 { found = 1 } END { exit !found }' "/proc/$p/status" 2>/dev/null &&
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
            LEADER=$p
            return 0
        fi
    done
    kill -0 "$NSPAWN_PID" 2>/dev/null || { tail -n 20 "$WORK/console.log" >&2; die "systemd-nspawn exited"; }
    return 1
}
wait_until 30 find_leader || die "no systemd in the container after 30 s"
booted() {
    local s
    s=$(in_ct systemctl is-system-running 2>/dev/null)
    [ "$s" = running ] || [ "$s" = degraded ]
}
wait_until 90 booted || die "container not up after 90 s: $(in_ct systemctl is-system-running 2>&1)"
BOOT_STATE=$(in_ct systemctl is-system-running 2>&1)
log "container up ($BOOT_STATE, leader pid $LEADER): $(($(now_ms) - T0)) ms"
for u in membalancer mbtester; do log "sysusers at boot: $(in_ct id "$u" 2>&1)"; done
log "sysusers at boot: $(in_ct getent group libvirt 2>&1)"
if [ "$BOOT_STATE" = degraded ]; then
    log "failed units: $(in_ct systemctl --failed --no-legend --plain | awk '{print $1}' | paste -sd' ')"
fi

# ---- a. the unit runs and owns the name; D-Bus activation -----------------
T0=$(now_ms)
wait_until 30 sh -c "[ \"\$(nsenter -t $LEADER -a -r -w systemctl is-active membalancer.service)\" = active ]"
ACTIVE=$(in_ct systemctl is-active membalancer.service)
PID1=$(prop MainPID)
OWNER=$(in_ct busctl --system status "$BUS_NAME" 2>/dev/null | sed -n 's/^PID=//p')
UNIT_USER=$(in_ct stat -c %U "/proc/$PID1")
UNIT_GROUPS=$(for g in $(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$LEADER/root/proc/$PID1/status" 2>/dev/null); do
    in_ct getent group "$g" | cut -d: -f1; done | paste -sd,)
VERSION=$(in_ct busctl --system get-property "$BUS_NAME" "$OBJ" "$BUS_NAME" Version 2>&1)
CONNECTED=$(in_ct busctl --system get-property "$BUS_NAME" "$OBJ" "$BUS_NAME" Connected 2>&1)
if [ "$ACTIVE" = active ] && [ -n "$OWNER" ] && [ "$OWNER" = "$PID1" ] && [[ $VERSION == s* ]] &&
    [ "$UNIT_USER" = membalancer ] && [[ ,$UNIT_GROUPS, == *,libvirt,* ]] && [ "$CONNECTED" = "b true" ]; then
    step a-unit PASS "active, MainPID $PID1 owns $BUS_NAME, user $UNIT_USER, groups $UNIT_GROUPS, Version $VERSION, Connected $CONNECTED"
else
    step a-unit FAIL "is-active=$ACTIVE MainPID=$PID1 name owner=${OWNER:-none} user=$UNIT_USER (want membalancer) groups=$UNIT_GROUPS (want libvirt) Version=$VERSION Connected=$CONNECTED (want b true)"
    in_ct systemctl status --no-pager -n 15 membalancer.service >&2
fi

in_ct systemctl stop membalancer.service
STOPPED=$(in_ct systemctl is-active membalancer.service)
# The command line (list) starts the stopped service through D-Bus
# activation, and so does any other client's call.
T1=$(now_ms)
LIST_OUT=$(in_ct membalancerctl list 2>&1)
LIST_RC=$?
LIST_MS=$(($(now_ms) - T1))
AFTER_LIST=$(in_ct systemctl is-active membalancer.service)
PID2=$(prop MainPID)
in_ct systemctl stop membalancer.service
STOPPED2=$(in_ct systemctl is-active membalancer.service)
T1=$(now_ms)
CALL_OUT=$(in_ct busctl --system call "$BUS_NAME" "$OBJ" org.freedesktop.DBus.Properties Get ss "$BUS_NAME" Version 2>&1)
CALL_RC=$?
ACT_MS=$(($(now_ms) - T1))
AFTER=$(in_ct systemctl is-active membalancer.service)
PID3=$(prop MainPID)
if [ "$STOPPED" = inactive ] && [ "$LIST_RC" = 0 ] && [ "$AFTER_LIST" = active ] && [ "$PID2" != 0 ] &&
    [ "$PID2" != "$PID1" ] && [ "$STOPPED2" = inactive ] && [ "$CALL_RC" = 0 ] && [ "$AFTER" = active ] &&
    [ "$PID3" != 0 ] && [ "$PID3" != "$PID2" ]; then
    step a-activation PASS "stopped; membalancerctl list started it in $LIST_MS ms (MainPID $PID1 -> $PID2); stopped again; busctl call Get Version -> $CALL_OUT in $ACT_MS ms started it (-> $PID3)"
else
    step a-activation FAIL "after stop: $STOPPED; membalancerctl list rc=$LIST_RC ($(echo "$LIST_OUT" | tail -n1)), then $AFTER_LIST, MainPID $PID2; after stop: $STOPPED2; busctl call rc=$CALL_RC ($(echo "$CALL_OUT" | tail -n1)); then $AFTER, MainPID $PID3"
fi

# ---- b. a real guest's agent statistics through the installed unit --------
T0=$(now_ms)
"$VM_DIR/mb-vm-image.sh" "$IMAGE_DIR" "$MB_VM_AGENT" "$MB_VM_WORKLOAD" >&2 || die "mb-vm-image.sh failed"
MB_VM_IMAGE_DIR=$IMAGE_DIR "$VM_DIR/mb-vm-domain.sh" "$DOM" 256 512 none "$RUN_DIR" >/dev/null ||
    die "mb-vm-domain.sh $DOM failed"
wait_until 90 grep -q '^MB-AGENT' "$RUN_DIR/$DOM.console" ||
    { tail -n 20 "$RUN_DIR/$DOM.console" >&2; die "$DOM: no MB-AGENT on its console in 90 s"; }
# (not anchored: the agent's stderr can share the console's line)
wait_until 60 grep -q 'MB-READY' "$RUN_DIR/$DOM.console" || die "$DOM: no MB-READY"
log "guest $DOM ready: $(($(now_ms) - T0)) ms"

# Register from inside with settings that the later steps look for; min
# 320 MiB above its 256 MiB makes the next interval grow it (a "rebalanced"
# record, reason min).
T0=$(now_ms)
REG=$(in_ct membalancerctl register "$DOM" --priority 60 --min 320MiB --max 480MiB 2>&1)
REG_RC=$?
src=
agent_seen() { src=$(vm_field stats_source); [ "$src" = agent ]; }
if [ "$REG_RC" = 0 ] && wait_until 30 agent_seen; then
    AGENT_MS=$(($(now_ms) - T0))
    sleep 2
    J=$(vm_json)
    step b-agent PASS "StatsSource agent ${AGENT_MS} ms after register; allocated $(echo "$J" | json_field allocated_kib) KiB, active_anon $(echo "$J" | json_field active_anon_kib) KiB, free $(echo "$J" | json_field free_kib) KiB"
else
    step b-agent FAIL "register rc=$REG_RC ($REG); StatsSource '${src:-?}' after 30 s (want agent)"
fi

# ---- c. registrations survive restart and kill -9 --------------------------
# registered_ok: the guest is registered with priority 60, min 320 MiB,
# max 480 MiB, and its statistics come from the agent again.
registered_ok() {
    local j
    j=$(vm_json) || return 1
    [ "$(echo "$j" | json_field priority)" = 60 ] && [ "$(echo "$j" | json_field min_kib)" = 327680 ] &&
        [ "$(echo "$j" | json_field max_kib)" = 491520 ] && [ "$(echo "$j" | json_field stats_source)" = agent ]
}
settings() {
    local j k
    j=$(vm_json)
    for k in priority min_kib max_kib stats_source allocated_kib; do printf '%s=%s ' "$k" "$(echo "$j" | json_field "$k")"; done
}

PID_A=$(prop MainPID)
T0=$(now_ms)
in_ct systemctl restart membalancer.service
PID_B=$(prop MainPID)
if [ "$PID_B" != "$PID_A" ] && wait_until 30 registered_ok; then
    step c-restart PASS "MainPID $PID_A -> $PID_B; back with $(settings)in $(($(now_ms) - T0)) ms"
else
    step c-restart FAIL "MainPID $PID_A -> $PID_B; $(settings) (want priority=60 min_kib=327680 max_kib=491520 stats_source=agent)"
fi

NR0=$(prop NRestarts)
T0=$(now_ms)
# (the shell's kill: minbase has no procps)
in_ct sh -c "kill -KILL $PID_B"
back_up() {
    local p
    p=$(prop MainPID)
    [ "$p" != 0 ] && [ "$p" != "$PID_B" ] && [ "$(in_ct systemctl is-active membalancer.service)" = active ]
}
if wait_until 30 back_up && wait_until 30 registered_ok; then
    step c-kill9 PASS "kill -9 $PID_B: back as $(prop MainPID) (NRestarts $NR0 -> $(prop NRestarts), RestartSec 2 s) with $(settings)in $(($(now_ms) - T0)) ms"
else
    step c-kill9 FAIL "kill -9 $PID_B: is-active $(in_ct systemctl is-active membalancer.service), MainPID $(prop MainPID), NRestarts $NR0 -> $(prop NRestarts); $(settings)"
fi

# ---- d. who may change things ------------------------------------------------
T0=$(now_ms)
TESTER=$(in_ct id mbtester 2>&1)
OUT_G=$(in_ct runuser -u mbtester -- membalancerctl set-priority "$DOM" 70 2>&1)
RC_G=$?
PRIO_G=$(vm_field priority)
if [ "$RC_G" = 0 ] && [ "$PRIO_G" = 70 ]; then
    step d-group PASS "mbtester ($TESTER): set-priority 70 rc 0, Priority now $PRIO_G"
else
    step d-group FAIL "mbtester ($TESTER): set-priority 70 rc $RC_G ($OUT_G), Priority $PRIO_G"
fi

PRIO_0=$(vm_field priority)
OUT_N=$(in_ct runuser -u nobody -- membalancerctl set-priority "$DOM" 10 2>&1)
RC_N=$?
# The error's D-Bus name (membalancerctl prints only its message).
ERR_N=$(in_ct setpriv --reuid=nobody --regid=nogroup --clear-groups \
    dbus-send --system --print-reply --dest="$BUS_NAME" "$OBJ" "$BUS_NAME.SetPriority" \
    string:"$DOM" uint32:10 2>&1)
PRIO_N=$(vm_field priority)
# A decision, not a failure to decide (polkit unreachable or refusing the
# daemon's question is also AccessDenied, but says "could not decide").
if [ "$RC_N" != 0 ] && [[ $ERR_N == *org.smarttv.MemBalancer.Error.AccessDenied* ]] &&
    [[ $ERR_N != *"could not decide"* ]] && [ "$PRIO_N" = "$PRIO_0" ]; then
    step d-denied PASS "nobody: membalancerctl rc $RC_N ($OUT_N); dbus-send: ${ERR_N%%:*}; Priority still $PRIO_N"
else
    step d-denied FAIL "nobody: membalancerctl rc $RC_N ($OUT_N); dbus-send: $ERR_N; Priority $PRIO_0 -> $PRIO_N"
fi

# ---- e. the journal's structured records ------------------------------------
in_ct journalctl --no-pager -u membalancer.service -o json >"$WORK/journal.json" 2>/dev/null
count_id() { grep -c "\"MESSAGE_ID\":\"$1\"" "$WORK/journal.json"; }
N_REC=$(wc -l <"$WORK/journal.json")
N_BACK=$(count_id "$ID_HYPERVISOR_BACK")
N_REB=$(count_id "$ID_REBALANCED")
REB_LINE=$(grep "\"MESSAGE_ID\":\"$ID_REBALANCED\"" "$WORK/journal.json" | grep "\"MB_VM\":\"$DOM\"" | head -n1)
REB_FIELDS=$(echo "$REB_LINE" | grep -o '"\(MB_VM\|MB_MOVE_KIB\|MB_REASON\|MB_POLICY\|_SYSTEMD_UNIT\|_UID\)":"[^"]*"' | paste -sd' ')
# Three starts before this point (boot, activation, restart, kill -9: four).
if [ "$N_BACK" -ge 4 ] && [ -n "$REB_LINE" ] && [[ $REB_FIELDS == *'"_SYSTEMD_UNIT":"membalancer.service"'* ]]; then
    step e-journal PASS "$N_REC records; MESSAGE_ID hypervisor-connected x$N_BACK, rebalanced x$N_REB, e.g. $REB_FIELDS"
else
    step e-journal FAIL "$N_REC records; hypervisor-connected x$N_BACK (want >= 4, one per start), rebalanced x$N_REB with MB_VM=$DOM: ${REB_FIELDS:-none}"
fi

# No GLib criticals or errors: e.g. GLib 2.74's thread pools set new
# threads' scheduling attributes (sched_setattr) and say so when the
# unit's system call filter refuses it.
N_CRIT=$(grep -c '"MESSAGE":"[^"]*\(CRITICAL\|ERROR\|scheduler settings\)' "$WORK/journal.json" || true)
if [ "$N_CRIT" = 0 ]; then
    step e-no-criticals PASS "no CRITICAL, ERROR or scheduler record in $N_REC"
else
    step e-no-criticals FAIL "$N_CRIT records: $(grep '"MESSAGE":"[^"]*\(CRITICAL\|ERROR\|scheduler settings\)' "$WORK/journal.json" | grep -o '"MESSAGE":"[^"]*"' | head -n 3 | paste -sd' ')"
fi

# ---- f. systemd-analyze security ---------------------------------------------
in_ct systemd-analyze security --no-pager membalancer.service >"$WORK/security.txt" 2>&1
EXPOSURE=$(grep -o 'Overall exposure level for membalancer.service: .*' "$WORK/security.txt" | sed 's/\x1b\[[0-9;]*m//g')
sed 's/\x1b\[[0-9;]*m//g' "$WORK/security.txt" | grep -E '^ *✗' | head -n 40 >&2
step f-security INFO "${EXPOSURE:-no exposure figure ($(tail -n1 "$WORK/security.txt"))}"

# ---- summary -------------------------------------------------------------------
echo "system-unit: summary ($(elapsed)):"
printf '  %s\n' "${RESULTS[@]}"
if [ "$N_FAIL" != 0 ]; then
    log "$N_FAIL step(s) failed"
    exit 1
fi
log "PASS"
