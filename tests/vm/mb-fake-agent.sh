#!/bin/sh
# Stand-in for membalancer-guest (busybox sh, runs in the test guest): writes
# one MBG1 sample line per second to the org.smarttv.membalancer.0 port. Used
# by the VM suite only when the real agent is not built (MB_VM_AGENT unset).
port=
for n in /sys/class/virtio-ports/*/name; do
    [ "$(cat "$n" 2>/dev/null)" = org.smarttv.membalancer.0 ] || continue
    d=${n%/name}
    port=/dev/${d##*/}
done
[ -n "$port" ] || { echo "mb-fake-agent: no org.smarttv.membalancer.0 port" >&2; exit 1; }
mi() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
vs() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
seq=0
# Blocks while the host side is not connected; that is fine for a stand-in.
exec 3>"$port"
echo "MBG1 hello version=1 kernel=$(uname -r) page_kib=4" >&3
while :; do
    seq=$((seq + 1))
    echo "MBG1 sample seq=$seq total_kib=$(mi MemTotal) free_kib=$(mi MemFree)" \
        "active_anon_kib=$(mi 'Active(anon)') inactive_anon_kib=$(mi 'Inactive(anon)')" \
        "active_file_kib=$(mi 'Active(file)') inactive_file_kib=$(mi 'Inactive(file)')" \
        "pswpin=$(vs pswpin) pswpout=$(vs pswpout)" >&3
    sleep 1
done
