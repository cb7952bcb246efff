#!/bin/bash
# The shell completion of membalancerctl.
#   check-completion.sh bash COMPLETION_FILE [MEMBALANCERD MEMBALANCERCTL]
#   check-completion.sh zsh COMPLETION_FILE
# bash: the file is sourced in a plain `bash --norc` (no bash-completion
# package), COMP_WORDS/COMP_CWORD are set by hand and COMPREPLY printed.
# VM names come from a stub membalancerctl first on PATH, then (when the
# programs are given and dbus-daemon exists) from the real membalancerctl
# talking to the real membalancerd (fake backend) on a private bus.
set -u
shell=$1
file=$2
failures=0

skip() {
    # A missing tool is a failure in CI (STYLE.md), a skip elsewhere.
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $1 (CI=true: not skipped)"
        exit 1
    fi
    echo "SKIP: $1"
    exit 77
}

if [ "$shell" = zsh ]; then
    command -v zsh >/dev/null || skip "zsh is not installed"
    if zsh -n "$file"; then
        echo "ok: zsh -n $file"
        exit 0
    fi
    echo "FAIL: zsh -n $file"
    exit 1
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# complete WORD... : COMPREPLY for the last word, one per line, sorted.
complete_words() {
    bash --norc --noprofile -c '
        if [ -n "$MB_WITH_BASH_COMPLETION" ]; then
            source "$MB_WITH_BASH_COMPLETION" || exit 1
        fi
        source "$1" || exit 1
        shift
        COMP_WORDS=(membalancerctl "$@")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        _membalancerctl membalancerctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}" | sort' bash "$file" "$@"
}

expect() {
    local want=$1
    shift
    local got
    got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$want" ]; then
        echo "ok: membalancerctl $* -> $got"
    else
        echo "FAIL: membalancerctl $* -> '$got', expected '$want'"
        failures=$((failures + 1))
    fi
}

# The stub prints what `membalancerctl list --kib` prints (ctl/membalancerctl-format.c:
# a header, one VM per line, then its notes), and logs its arguments.
mkdir "$tmp/bin"
cat > "$tmp/bin/membalancerctl" <<'STUB'
#!/bin/sh
printf '%s\n' "$*" >> "$MB_STUB_LOG"
case " $* " in *" list "*) ;; *) exit 2 ;; esac
case " $* " in *" --kib "*) ;; *) exit 2 ;; esac
cat <<'LIST'
NAME     PRIO FG STATE   ALLOC_KIB MIN_KIB MAX_KIB DEMAND_CHANGE_KIB RECLAIM_KIB SWAPOUT_KIB STATS   LAST
tv-game    80  * running    524288  131072 1048576              2048           0           0 agent   need
tv-video   50    running    393216  131072 1048576             -1024      102400           0 balloon donate
web-1      20    offline         0       0 1048576                 0           0           0 none    none
(balancing is stopped: membalancerd cannot reach the hypervisor and is reconnecting; nothing is moved meanwhile)
(balancing is paused)
LIST
STUB
chmod +x "$tmp/bin/membalancerctl"
export MB_STUB_LOG=$tmp/stub.log
PATH=$tmp/bin:$PATH

stub_checks() {
expect "register" reg
expect "set-foreground set-limits set-priority status" s
expect "clear-foreground" cl
expect "--max --min" set-limits tv-game --m
expect "--update" register x --priority 5 --up
expect "tv-game" set-limits tv-g
expect "pause" pa
expect "--priority" register x --pri
expect "--max --min" register x --m
expect "--foreground" register x --priority 5 --fo
expect "--json --kib" list --
expect "--json" status tv-game --
expect "--system" --sy
expect "" register x --priority ""
expect "tv-game tv-video web-1" status ""
expect "tv-game tv-video" unregister tv
expect "web-1" --session set-priority w
expect "" set-priority tv-game ""
expect "tv-game" --address unix:path=/tmp/b set-foreground tv-g
if grep -qx -- '--address unix:path=/tmp/b list --kib' "$MB_STUB_LOG" &&
    grep -qx -- '--session list --kib' "$MB_STUB_LOG"; then
    echo "ok: the bus options are passed on to list --kib"
else
    echo "FAIL: the bus options were not passed on; the stub saw:"
    cat "$MB_STUB_LOG"
    failures=$((failures + 1))
fi
: > "$MB_STUB_LOG"
}

# Without bash-completion (plain bash), then with it when it is installed
# (its _get_comp_words_by_ref keeps --address=unix:path=... one word).
export MB_WITH_BASH_COMPLETION=
echo "# plain bash"
stub_checks
for bc in /usr/share/bash-completion/bash_completion; do
    [ -r "$bc" ] || continue
    echo "# with $bc"
    MB_WITH_BASH_COMPLETION=$bc
    stub_checks
    expect "tv-game tv-video web-1" --address=unix:path=/tmp/b status ""
done

# The real programs: the VM names as the real membalancerctl prints them.
if [ $# -ge 4 ]; then
    daemon=$3
    ctl=$4
    if ! command -v dbus-daemon >/dev/null; then
        skip "dbus-daemon is not installed: the real membalancerctl was not tried"
    fi
    dbus-daemon --session --nofork --print-address=3 3> "$tmp/addr" 2> "$tmp/dbus.log" &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$tmp/addr" ] && break; sleep 0.05; done
    addr=$(head -n1 "$tmp/addr")
    mkdir -m 0700 "$tmp/state"
    : > "$tmp/empty.conf"
    "$daemon" --address "$addr" --backend fake --state-dir "$tmp/state" --interval-ms 100 \
        --config "$tmp/empty.conf" 2> "$tmp/daemon.log" &
    pids+=($!)
    for _ in $(seq 200); do "$ctl" --address "$addr" info >/dev/null 2>&1 && break; sleep 0.05; done
    for vm in tv-game tv-video web-1; do
        "$ctl" --address "$addr" register "$vm" --priority 50 >/dev/null ||
            { echo "FAIL: register $vm"; cat "$tmp/daemon.log"; exit 1; }
    done
    mkdir "$tmp/real"
    ln -s "$(realpath "$ctl")" "$tmp/real/membalancerctl"
    PATH=$tmp/real:$PATH
    expect "tv-game tv-video web-1" --address "$addr" status ""
    expect "tv-game tv-video" --address "$addr" unregister tv-
fi

[ $failures -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
