#!/bin/bash
# Starts and stops what the VM suite needs on a machine without systemd:
# the system D-Bus, virtlogd and libvirtd (qemu:///system).
#
#   mb-vm-env.sh start             start what is not running yet; prints the
#                                  names of the daemons it started
#   mb-vm-env.sh stop [NAME...]    stop what `start` started (only NAMEs if given)
#   mb-vm-env.sh status            show each daemon and who started it
#   mb-vm-env.sh restart-libvirtd  kill libvirtd and start it again
#
# What `start` launched is recorded in $MB_VM_STATE_DIR (one NAME.pid per
# daemon), so `stop` never touches daemons someone else runs. A test that may
# run inside another's environment stops only what its own `start` printed:
#   started=$(mb-vm-env.sh start); ...; mb-vm-env.sh stop $started
set -euo pipefail

STATE_DIR=${MB_VM_STATE_DIR:-/run/membalancer-vmtest}
LIBVIRT_URI=qemu:///system
WAIT_S=${MB_VM_ENV_WAIT_S:-30}

log() { echo "mb-vm-env: $*" >&2; }
die() { log "error: $*"; exit 1; }

# pid_gone PID: PID has exited (a zombie counts: PID 1 may be slow to reap).
pid_gone() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || true
    [ -z "$state" ] || [ "$state" = Z ]
}

# pid_alive PID COMM: PID runs and its command name is COMM (not a reused pid).
pid_alive() {
    local pid=$1 comm=$2
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] &&
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] && ! pid_gone "$pid"
}

pidfile_pid() { if [ -r "$1" ]; then tr -dc '0-9' <"$1"; fi; }

dbus_live() {
    [ -S /run/dbus/system_bus_socket ] || return 1
    dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.GetId >/dev/null 2>&1
}

libvirt_live() { virsh -c "$LIBVIRT_URI" version >/dev/null 2>&1; }

# The daemons' own pid files (root defaults).
daemon_pidfile() {
    case $1 in
    dbus-daemon) echo /run/dbus/pid ;;
    virtlogd) echo /run/virtlogd.pid ;;
    libvirtd) echo /run/libvirtd.pid ;;
    esac
}

daemon_running() {
    pid_alive "$(pidfile_pid "$(daemon_pidfile "$1")")" "$1"
}

record() { mkdir -p "$STATE_DIR" && echo "$2" >"$STATE_DIR/$1.pid"; }

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
    local limit=$(($1 * 5)) i=0
    shift
    until "$@"; do
        i=$((i + 1))
        [ "$i" -lt "$limit" ] || return 1
        sleep 0.2
    done
}

start_dbus() {
    if dbus_live; then return 0; fi
    mkdir -p /run/dbus
    # A stale pid file from a dead daemon makes dbus-daemon refuse to start.
    daemon_running dbus-daemon || rm -f /run/dbus/pid
    [ -S /run/dbus/system_bus_socket ] && rm -f /run/dbus/system_bus_socket
    dbus-daemon --system --fork
    wait_for "$WAIT_S" dbus_live || die "system bus did not come up"
    record dbus-daemon "$(pidfile_pid /run/dbus/pid)"
    log "started dbus-daemon (pid $(pidfile_pid /run/dbus/pid))"
    echo dbus-daemon
}

start_virtlogd() {
    if daemon_running virtlogd; then return 0; fi
    virtlogd -d
    wait_for "$WAIT_S" daemon_running virtlogd || die "virtlogd did not start"
    record virtlogd "$(pidfile_pid /run/virtlogd.pid)"
    log "started virtlogd (pid $(pidfile_pid /run/virtlogd.pid))"
    echo virtlogd
}

start_libvirtd() {
    if daemon_running libvirtd && libvirt_live; then return 0; fi
    daemon_running libvirtd || libvirtd -d
    wait_for "$WAIT_S" libvirt_live || die "libvirtd does not answer on $LIBVIRT_URI"
    record libvirtd "$(pidfile_pid /run/libvirtd.pid)"
    log "started libvirtd (pid $(pidfile_pid /run/libvirtd.pid))"
    echo libvirtd
}

# stop_recorded NAME: stops NAME only if we started it and it is still that process.
stop_recorded() {
    local name=$1 f="$STATE_DIR/$1.pid" pid
    [ -f "$f" ] || return 0
    pid=$(pidfile_pid "$f")
    if pid_alive "$pid" "$name"; then
        kill "$pid"
        wait_for 10 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
        log "stopped $name (pid $pid)"
    fi
    rm -f "$f"
}

cmd_start() {
    start_dbus
    start_virtlogd
    start_libvirtd
}

cmd_stop() {
    local name want=" $* "
    for name in libvirtd virtlogd dbus-daemon; do
        if [ $# -eq 0 ] || [[ $want == *" $name "* ]]; then stop_recorded "$name"; fi
    done
    rmdir "$STATE_DIR" 2>/dev/null || true
}

cmd_status() {
    local name pid owner rc=0
    for name in dbus-daemon virtlogd libvirtd; do
        pid=$(pidfile_pid "$(daemon_pidfile "$name")")
        owner=external
        [ -f "$STATE_DIR/$name.pid" ] && owner=mb-vm-env
        if pid_alive "$pid" "$name"; then
            echo "$name: running (pid $pid, started by $owner)"
        else
            echo "$name: stopped"
            rc=1
        fi
    done
    if libvirt_live; then echo "$LIBVIRT_URI: answers"; else echo "$LIBVIRT_URI: no answer"; rc=1; fi
    return "$rc"
}

# Kills libvirtd and starts it again (for the service's reconnect test);
# guests keep running. Ownership stays as it was.
cmd_restart_libvirtd() {
    local pid ours=0
    pid=$(pidfile_pid /run/libvirtd.pid)
    [ -f "$STATE_DIR/libvirtd.pid" ] && ours=1
    if pid_alive "$pid" libvirtd; then
        kill "$pid"
        wait_for 15 pid_gone "$pid" || kill -KILL "$pid"
    fi
    libvirtd -d
    wait_for "$WAIT_S" libvirt_live || die "libvirtd did not come back"
    if [ "$ours" = 1 ]; then record libvirtd "$(pidfile_pid /run/libvirtd.pid)"; fi
    log "restarted libvirtd (pid $pid -> $(pidfile_pid /run/libvirtd.pid))"
}

[ "$(id -u)" = 0 ] || die "must run as root (system bus, qemu:///system)"
case ${1:-} in
start) cmd_start ;;
stop) shift; cmd_stop "$@" ;;
status) cmd_status ;;
restart-libvirtd) cmd_restart_libvirtd ;;
*) echo "usage: $0 start|stop [NAME...]|status|restart-libvirtd" >&2; exit 2 ;;
esac
