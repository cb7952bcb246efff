#!/bin/bash
# check-sysusers.sh SYSUSERS_FILE [LIBVIRT_GROUP]: systemd-sysusers, on an
# empty root, makes the system group and user membalancer (home
# /var/lib/membalancer, no login shell) from our entry, the user a member
# of LIBVIRT_GROUP (created when missing).
set -u
file=$1
libvirt_group=${2:-}
if ! command -v systemd-sysusers >/dev/null; then
    if [ "${CI:-}" = true ]; then echo "FAIL: systemd-sysusers is not installed (CI=true)"; exit 1; fi
    echo "SKIP: systemd-sysusers is not installed"
    exit 77
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc"
if ! systemd-sysusers --root="$root" "$file"; then
    echo "FAIL: systemd-sysusers --root=$root $file"
    exit 1
fi
user=$(grep '^membalancer:' "$root/etc/passwd") || { echo "FAIL: no user membalancer"; cat "$root/etc/passwd"; exit 1; }
group=$(grep '^membalancer:' "$root/etc/group") || { echo "FAIL: no group membalancer"; cat "$root/etc/group"; exit 1; }
echo "passwd: $user"
echo "group:  $group"
IFS=: read -r _ _ uid gid _ home shell <<< "$user"
IFS=: read -r _ _ group_gid _ <<< "$group"
status=0
[ "$gid" = "$group_gid" ] || { echo "FAIL: the user's group is $gid, not membalancer ($group_gid)"; status=1; }
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || { echo "FAIL: uid $uid is not a system uid"; status=1; }
[ "$home" = /var/lib/membalancer ] || { echo "FAIL: home $home"; status=1; }
case $shell in */nologin | */false) ;; *) echo "FAIL: login shell $shell"; status=1 ;; esac
if [ -n "$libvirt_group" ]; then
    members=$(grep "^$libvirt_group:" "$root/etc/group" | cut -d: -f4)
    echo "group:  $(grep "^$libvirt_group:" "$root/etc/group")"
    case ",$members," in *,membalancer,*) ;; *) echo "FAIL: membalancer is not in group $libvirt_group"; status=1 ;; esac
fi
[ $status -eq 0 ] && echo "ok"
exit $status
