#!/bin/bash
# Makes the Debian 12 root the system test boots, from a cached tarball.
#
#   mb-sys-root.sh ROOT PACKAGE...
#
# ROOT (must not exist or be empty) gets a `debootstrap --variant=minbase
# --include=PACKAGES bookworm` tree. The tree is cached as
# $MB_SYS_CACHE_DIR/bookworm-KEY.tar (default /var/cache/membalancer-tests),
# KEY being a hash of debootstrap's argument list (the sorted package list,
# suite, variant, mirror), so the next run with the same packages only
# unpacks it (a few seconds). Prints the tarball's path on stdout.
#
# Environment: MB_SYS_MIRROR (default: the mirror this machine's apt uses,
# tests/debian-mirror.sh), MB_SYS_CACHE_DIR.
set -euo pipefail

CACHE_DIR=${MB_SYS_CACHE_DIR:-/var/cache/membalancer-tests}
MIRROR=${MB_SYS_MIRROR:-$("$(dirname "$0")/../debian-mirror.sh")}
SUITE=bookworm
VARIANT=minbase

log() { echo "mb-sys-root: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -ge 1 ] || die "usage: $0 ROOT PACKAGE..."
ROOT=$1
shift
PKGS=$(printf '%s\n' "$@" | sed '/^$/d' | sort -u | paste -sd, -)
ARGS="--variant=$VARIANT --include=$PKGS $SUITE ROOT $MIRROR"
KEY=$(printf '%s' "$ARGS" | sha256sum | cut -c1-16)
TARBALL=$CACHE_DIR/$SUITE-$KEY.tar

mkdir -p "$ROOT" "$CACHE_DIR"
[ -z "$(ls -A "$ROOT")" ] || die "$ROOT is not empty"

if [ -f "$TARBALL" ]; then
    t0=$(date +%s%3N)
    tar -C "$ROOT" --numeric-owner -xpf "$TARBALL"
    log "unpacked $TARBALL in $(($(date +%s%3N) - t0)) ms"
else
    log "no cached root for: debootstrap $ARGS"
    log "debootstrap (a few minutes; cached as $TARBALL afterwards)"
    t0=$(date +%s)
    work=$ROOT
    debootstrap --variant="$VARIANT" --include="$PKGS" "$SUITE" "$work" "$MIRROR" \
        >"$CACHE_DIR/debootstrap-$KEY.log" 2>&1 ||
        { tail -n 30 "$CACHE_DIR/debootstrap-$KEY.log" >&2; die "debootstrap failed (log: $CACHE_DIR/debootstrap-$KEY.log)"; }
    # Downloaded .debs are not needed again: keep the cache small.
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb
    tar -C "$ROOT" --numeric-owner -cpf "$TARBALL.tmp.$$" .
    mv "$TARBALL.tmp.$$" "$TARBALL"
    printf '%s\n' "$ARGS" >"$TARBALL.args"
    log "debootstrap took $(($(date +%s) - t0)) s; cached $(du -h "$TARBALL" | cut -f1) in $TARBALL"
fi
echo "$TARBALL"
