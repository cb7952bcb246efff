#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt uses for Debian itself (not
# -security), without a trailing slash: deb822 .sources first, then
# one-line .list files, else http://deb.debian.org/debian. $MB_DEBIAN_MIRROR
# wins when set. Used by the roots the system and package suites bootstrap,
# so that they fetch from where apt does on this machine.
set -euo pipefail

mirror=${MB_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*\/debian\/?$/) { print $i; exit } }')
fi
mirror=${mirror:-http://deb.debian.org/debian}
echo "${mirror%/}"
