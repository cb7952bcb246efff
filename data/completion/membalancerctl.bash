# bash completion for membalancerctl(1)                        -*- shell-script -*-
# Commands, options, and the names of the registered VMs (asked from the
# service on the same bus as the command line: membalancerctl list --kib).

# The registered VMs: the first column of `list --kib` after its header.
_membalancerctl_vms()
{
    local ctl=membalancerctl IFS=$' \t\n'
    [[ ${_mbctl_words[0]} == */* && -x ${_mbctl_words[0]} ]] && ctl=${_mbctl_words[0]}
    "$ctl" "${_mbctl_bus[@]}" list --kib 2>/dev/null |
        while read -r name _; do
            [[ -n $name && $name != "(balancing" ]] && printf '%s\n' "$name"
        done | tail -n +2
}

_membalancerctl()
{
    local cur prev cword
    local -a words
    if declare -F _get_comp_words_by_ref >/dev/null; then
        # bash-completion: --address=unix:path=... stays one word
        _get_comp_words_by_ref -n =: cur prev words cword
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi

    local commands="list status info register unregister set-priority set-limits set-foreground clear-foreground pause resume rebalance watch"
    local global_opts="--system --session --address --json --kib --help --version"
    local register_opts="--priority --min --max --foreground --update"

    # The command, its arguments so far, and the bus options to pass on.
    local -a _mbctl_bus=() _mbctl_words=("${words[@]}")
    local cmd="" nargs=0 i w
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            --system | --session) _mbctl_bus+=("$w") ;;
            --address) _mbctl_bus+=(--address "${words[i + 1]}"); ((i++)) ;;
            --address=*) _mbctl_bus+=("$w") ;;
            --priority | -p | --min | --max) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then cmd=$w; else ((nargs++)); fi
                ;;
        esac
    done

    case $prev in
        --address | --priority | -p | --min | --max)
            COMPREPLY=()
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        # Before the command the global options, after it the command's own.
        local opts
        case $cmd in
            "") opts=$global_opts ;;
            register) opts=$register_opts ;;
            set-limits) opts="--min --max" ;;
            list) opts="--json --kib" ;;
            status | info) opts="--json" ;;
            watch) opts="--kib" ;;
            *) opts="" ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi

    case $cmd in
        status | unregister | set-foreground | set-priority | set-limits)
            if ((nargs == 0)); then
                local -a vms
                local vm
                mapfile -t vms < <(_membalancerctl_vms)
                COMPREPLY=()
                for vm in "${vms[@]}"; do
                    [[ $vm == "$cur"* ]] && COMPREPLY+=("$vm")
                done
                return
            fi
            ;;
    esac
    COMPREPLY=()
}
complete -F _membalancerctl membalancerctl
