#!/bin/bash
# Starts and cleans up the VM suite's transient TCG guests on qemu:///system.
#
#   mb-vm-domain.sh NAME MEM_MIB MAX_MIB WORKLOAD OUTDIR
#       Writes OUTDIR/NAME.xml, a swap disk OUTDIR/NAME-swap.img and, for a
#       stream workload, a data disk OUTDIR/NAME-data.img, and starts the
#       guest (virsh create: gone when destroyed). NAME gets the `mbtest-`
#       prefix if it lacks it; the final name is printed on stdout. The
#       console goes to OUTDIR/NAME.console. WORKLOAD is the guest's
#       mb.workload= value (see mb-vm-image.sh), or `none`.
#   mb-vm-domain.sh chan-path NAME
#       Prints the host socket of NAME's org.smarttv.membalancer.0 channel.
#   mb-vm-domain.sh cleanup [OUTDIR...]
#       Destroys every mbtest-* domain, removes their mbtest-* disks, and the
#       mbtest-*.img files left in each OUTDIR. Console files stay for debugging.
#
# Environment: MB_VM_IMAGE_DIR (vmlinuz and initrd.img from mb-vm-image.sh;
# default /var/lib/libvirt/images/membalancer-test/image), MB_VM_SWAP_MIB
# (default 1024), MB_VM_DATA_MIB (default: the stream size + 16).
set -euo pipefail

URI=qemu:///system
PREFIX=mbtest-
BASE_DIR=/var/lib/libvirt/images/membalancer-test
IMAGE_DIR=${MB_VM_IMAGE_DIR:-$BASE_DIR/image}
CHANNEL=org.smarttv.membalancer.0

die() { echo "mb-vm-domain: error: $*" >&2; exit 1; }
virsh_q() { virsh -q -c "$URI" "$@"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

domain_xml() {
    local name=$1 mem=$2 max=$3 workload=$4 outdir=$5 data=$6
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$max</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$IMAGE_DIR/vmlinuz</kernel>
    <initrd>$IMAGE_DIR/initrd.img</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=3 mb.workload=$workload</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='unsafe'/>
      <source file='$outdir/$name-swap.img'/>
      <target dev='vdb' bus='virtio'/>
      <serial>mbswap</serial>
    </disk>
EOF
    if [ -n "$data" ]; then
        cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='unsafe'/>
      <source file='$data'/>
      <target dev='vdc' bus='virtio'/>
      <serial>mbdata</serial>
      <readonly/>
    </disk>
EOF
    fi
    cat <<EOF
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$outdir/$name.console'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='$CHANNEL'/>
    </channel>
    <memballoon model='virtio'>
      <stats period='1'/>
    </memballoon>
  </devices>
</domain>
EOF
}

cmd_create() {
    [ $# -eq 5 ] || { echo "usage: $0 NAME MEM_MIB MAX_MIB WORKLOAD OUTDIR" >&2; exit 2; }
    local name=$1 mem=$2 max=$3 workload=$4 outdir=$5 data='' data_mib
    [[ $name == "$PREFIX"* ]] || name=$PREFIX$name
    [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad domain name $name"
    if ! is_uint "$mem" || ! is_uint "$max" || [ "$mem" -gt "$max" ]; then
        die "need MEM_MIB <= MAX_MIB"
    fi
    [[ $workload =~ ^[A-Za-z0-9_:.-]+$ ]] || die "bad workload $workload"
    if [ ! -r "$IMAGE_DIR/vmlinuz" ] || [ ! -r "$IMAGE_DIR/initrd.img" ]; then
        die "no image in $IMAGE_DIR (run mb-vm-image.sh)"
    fi
    mkdir -p "$outdir"
    outdir=$(cd "$outdir" && pwd)

    qemu-img create -q -f raw "$outdir/$name-swap.img" "${MB_VM_SWAP_MIB:-1024}M"
    if [[ $workload == stream:* ]]; then
        data_mib=${workload#stream:}
        data_mib=${data_mib%%:*}
        is_uint "$data_mib" || die "bad stream size in $workload"
        data_mib=${MB_VM_DATA_MIB:-$((data_mib + 16))}
        data=$outdir/$name-data.img
        # Random content: a sparse file of zeros would be read back without I/O.
        head -c "$((data_mib * 1024 * 1024))" /dev/urandom >"$data"
    elif [[ $workload == video:* ]]; then
        # A video never read twice within the guest's memory: a sparse disk
        # larger than it (the guest's page cache fills all the same).
        data=$outdir/$name-data.img
        rm -f "$data"
        truncate -s "${MB_VM_DATA_MIB:-2048}M" "$data"
    fi
    domain_xml "$name" "$mem" "$max" "$workload" "$outdir" "$data" >"$outdir/$name.xml"
    rm -f "$outdir/$name.console"
    virsh_q create "$outdir/$name.xml" >/dev/null || die "virsh create $outdir/$name.xml failed"
    echo "$name"
}

cmd_chan_path() {
    [ $# -eq 1 ] || { echo "usage: $0 chan-path NAME" >&2; exit 2; }
    local path
    path=$(virsh_q dumpxml "$1" |
        sed -n "/<channel type='unix'>/,/<\/channel>/{
            s/.*<source mode='bind' path='\([^']*\)'.*/\1/p}" |
        grep -F "$CHANNEL" | head -n1) || true
    [ -n "$path" ] || die "no $CHANNEL channel socket for $1"
    echo "$path"
}

cmd_cleanup() {
    local dom f dir
    for dom in $(virsh_q list --all --name | grep "^$PREFIX" || true); do
        local disks
        disks=$(virsh_q domblklist "$dom" --details | awk '$2 == "disk" { print $4 }')
        virsh_q destroy "$dom" >/dev/null 2>&1 || true
        virsh_q undefine "$dom" >/dev/null 2>&1 || true
        for f in $disks; do
            case ${f##*/} in "$PREFIX"*) rm -f "$f" ;; esac
        done
        echo "mb-vm-domain: destroyed $dom" >&2
    done
    for dir in "$@"; do
        [ -d "$dir" ] || continue
        find "$dir" -maxdepth 1 -name "$PREFIX*.img" -delete
    done
}

case ${1:-} in
cleanup) shift; cmd_cleanup "$@" ;;
chan-path) shift; cmd_chan_path "$@" ;;
-h | --help | '') echo "usage: $0 NAME MEM_MIB MAX_MIB WORKLOAD OUTDIR | chan-path NAME | cleanup [OUTDIR...]" >&2; exit 2 ;;
*) cmd_create "$@" ;;
esac
