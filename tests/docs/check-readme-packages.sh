#!/usr/bin/env bash
# README's quick start says how many Debian packages its two commands may
# install: that number must be the length of MB_PACKAGES in scripts/deps.sh.
set -euo pipefail
root=$1
n=$(bash -c ". '$root/scripts/deps.sh'; echo \${#MB_PACKAGES[@]}")
said=$(grep -o 'the missing ones of [0-9]* Debian packages' "$root/README.md" | grep -o '[0-9]*' || true)
if [ -z "$said" ]; then
  echo "README.md no longer says 'the missing ones of N Debian packages'" >&2
  exit 1
fi
if [ "$said" != "$n" ]; then
  echo "README.md says $said Debian packages; scripts/deps.sh's MB_PACKAGES has $n" >&2
  exit 1
fi
echo "README.md and scripts/deps.sh agree: $n packages"
