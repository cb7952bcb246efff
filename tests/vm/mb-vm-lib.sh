# shellcheck shell=bash
# Shared by tests/vm/vm-e2e.sh and scripts/demo (sourced, bash): the
# service on a private bus, guests, waiting and recording.
#
# The caller sets MB_DAEMON, MB_CTL, MB_VM_DIR (tests/vm), MB_WORK (a
# scratch dir) and defines fail(). Guests are 1-vCPU TCG domains from
# mb-vm-domain.sh; their consoles are in $MB_RUN_DIR.

MB_BASE_DIR=/var/lib/libvirt/images/membalancer-test
MB_IMAGE_DIR=$MB_BASE_DIR/image
MB_RUN_DIR=$MB_BASE_DIR/run
MB_URI=qemu:///system
MB_BUS_ADDR=
MB_BUS_PID=
MB_DAEMON_PID=

mb_now_ms() { date +%s%3N; }

mb_ctl() { "$MB_CTL" --address "$MB_BUS_ADDR" "$@"; }

# mb_vm_prop NAME PROPERTY: a VM object's property, as busctl prints it.
mb_vm_prop() {
    busctl --address="$MB_BUS_ADDR" get-property org.smarttv.MemBalancer \
        "/org/smarttv/MemBalancer/vm/${1//-/_2d}" \
        org.smarttv.MemBalancer.VM "$2" | cut -d' ' -f2- | tr -d '"'
}

mb_mgr_prop() {
    busctl --address="$MB_BUS_ADDR" get-property org.smarttv.MemBalancer \
        /org/smarttv/MemBalancer org.smarttv.MemBalancer "$1" | cut -d' ' -f2-
}

# mb_wait_for TIMEOUT_S WHAT COMMAND...: polls until COMMAND succeeds.
mb_wait_for() {
    local timeout_s=$1 what=$2
    local deadline=$(($(mb_now_ms) + timeout_s * 1000))
    shift 2
    until "$@"; do
        [ "$(mb_now_ms)" -lt "$deadline" ] || fail "$what: not within $timeout_s s"
        if [ -n "$MB_DAEMON_PID" ] && ! kill -0 "$MB_DAEMON_PID" 2>/dev/null; then
            fail "membalancerd died"
        fi
        sleep 0.5
    done
}

mb_console_has() { grep -Eq "$2" "$MB_RUN_DIR/$1.console" 2>/dev/null; }
mb_state_is() { [ "$(mb_vm_prop "$1" State)" = "$2" ]; }
mb_vm_prop_is() { [ "$(mb_vm_prop "$1" "$2")" = "$3" ]; }

# mb_boot NAME START_MIB MAX_MIB WORKLOAD: starts a guest, waits for MB-READY.
mb_boot() {
    MB_VM_IMAGE_DIR=$MB_IMAGE_DIR "$MB_VM_DIR/mb-vm-domain.sh" "$1" "$2" "$3" "$4" \
        "$MB_RUN_DIR" >/dev/null
    mb_wait_for 90 "$1 MB-READY" mb_console_has "$1" '^MB-READY'
}

mb_destroy() { virsh -q -c "$MB_URI" destroy "$1" >/dev/null 2>&1 || true; }

# mb_done_field NAME FIELD: a field of the guest's MB-WORKLOAD-DONE line.
mb_done_field() {
    grep -m1 '^MB-WORKLOAD-DONE' "$MB_RUN_DIR/$1.console" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}

# mb_pswpout NAME: the guest's latest swap-out count (pages).
mb_pswpout() {
    sed -n 's/^MB-PSWPOUT \([0-9]*\).*/\1/p' "$MB_RUN_DIR/$1.console" | tail -n1
}

# mb_service_start CONF: a private bus and membalancerd (libvirt backend).
mb_service_start() {
    MB_BUS_ADDR=$(dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$MB_WORK/bus.pid")
    MB_BUS_PID=$(cat "$MB_WORK/bus.pid")
    "$MB_DAEMON" --address "$MB_BUS_ADDR" --backend libvirt --config "$1" \
        --state-dir "$MB_WORK/state" >>"$MB_WORK/daemon.log" 2>&1 &
    MB_DAEMON_PID=$!
    mb_wait_for 30 "membalancerd on the bus" mb_service_ready
}

mb_service_ready() { mb_ctl info >/dev/null 2>&1; }

mb_service_stop() {
    if [ -n "$MB_DAEMON_PID" ]; then kill "$MB_DAEMON_PID" 2>/dev/null || true; fi
    if [ -n "$MB_BUS_PID" ]; then kill "$MB_BUS_PID" 2>/dev/null || true; fi
    MB_DAEMON_PID=
    MB_BUS_PID=
}

# mb_record FILE: appends every VM's allocation once a second (t,vm,alloc_kib)
# until killed; the header is written first.
mb_record() {
    local t=0
    echo "t,vm,alloc_kib" >"$1"
    while :; do
        t=$((t + 1))
        # One compact JSON document; any spacing after ':' is accepted.
        mb_ctl list --json 2>/dev/null |
            grep -o '"name": *"[^"]*"\|"allocated_kib": *[0-9]*' | paste -d' ' - - |
            sed "s/\"name\": *\"\([^\"]*\)\" \"allocated_kib\": *\([0-9]*\)/$t,\1,\2/" >>"$1" || true
        sleep 1
    done
}

# The TV panel on the guests: membalancer-panel ($MB_PANEL) on a private
# Xvfb, talking to the service's bus. mb_panel_start LOG returns 1 (and
# starts nothing) when Xvfb or the panel is missing.
MB_XVFB_PID=
MB_PANEL_PID=
MB_DISPLAY=
mb_panel_start() {
    [ -n "${MB_PANEL:-}" ] && [ -x "$MB_PANEL" ] && [ -x "${MB_XSHOT:-}" ] || return 1
    command -v Xvfb >/dev/null || return 1
    rm -f "$MB_WORK/xvfb.display"
    Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset \
        3>"$MB_WORK/xvfb.display" >/dev/null 2>&1 &
    MB_XVFB_PID=$!
    mb_wait_for 30 "Xvfb" test -s "$MB_WORK/xvfb.display"
    MB_DISPLAY=:$(cat "$MB_WORK/xvfb.display")
    DISPLAY=$MB_DISPLAY GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1 \
        GSETTINGS_BACKEND=memory G_MESSAGES_DEBUG=membalancer-panel \
        "$MB_PANEL" --address "$MB_BUS_ADDR" >"$1" 2>&1 &
    MB_PANEL_PID=$!
}

# mb_panel_shot FILE: the panel's screen as a PNG.
mb_panel_shot() { DISPLAY=$MB_DISPLAY "$MB_XSHOT" "$1" >/dev/null; }

mb_panel_alive() { [ -n "$MB_PANEL_PID" ] && kill -0 "$MB_PANEL_PID" 2>/dev/null; }

mb_panel_stop() {
    local pid
    for pid in "$MB_PANEL_PID" "$MB_XVFB_PID"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    done
    MB_PANEL_PID=
    MB_XVFB_PID=
}
