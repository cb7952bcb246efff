#!/bin/bash
# shellcheck disable=SC2016  # dpkg-query's ${Package} is not the shell's
# The Debian packages (debian/, docs/packaging.md), end to end:
#  1. copy the source tree as it is in the working tree (git ls-files -co
#     --exclude-standard: committed, modified and new files, not ignored
#     ones) to a temporary directory;
#  2. dpkg-buildpackage -b -us -uc there (DEB_BUILD_OPTIONS=nocheck parallel=2);
#  3. lintian on the .changes (fails on errors, prints every tag);
#  4. a fresh Debian 12 root (debootstrap --variant=minbase bookworm, cached
#     as a tarball under /var/cache/membalancer-tests/), the packages'
#     dependencies installed from the mirror, then the packages themselves
#     with apt-get install ./*.deb (policy-rc.d denies starting services);
#  5. the key files and programs checked in the root;
#  6. apt-get purge of the packages, and a listing of the root compared
#     with the one taken before they were installed.
#
# Usage: check-deb.sh SOURCE_DIR [OUTPUT_DIR]
# OUTPUT_DIR (the meson build dir's tests/package) receives the .debs, the
# build log and lintian's output. Exit 77 (skip) when not root or when a tool
# is missing; under CI=true a missing tool fails instead.
# MB_PKG_KEEP=1 keeps the work directory; MB_DEBIAN_MIRROR overrides the mirror.
set -euo pipefail

src=${1:?usage: check-deb.sh SOURCE_DIR [OUTPUT_DIR]}
src=$(cd "$src" && pwd)
out=${2:-}
t_start=$SECONDS

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
    if [ "${CI:-}" = true ]; then
        fail "$* (CI=true: not skipping)"
    fi
    printf 'SKIP: %s\n' "$*"
    exit 77
}
phase_start() { phase_t0=$SECONDS; say "$*"; }
phase_end() { printf '   (%ds)\n' $((SECONDS - phase_t0)); }

if [ "$(id -u)" != 0 ]; then
    printf 'SKIP: needs root (debootstrap, chroot, mounts)\n'
    exit 77
fi

for tool in git tar dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb lintian debootstrap chroot mount umount findmnt sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (apt-get install dpkg-dev debhelper lintian debootstrap)"
done
[ -d "$src/debian" ] || fail "$src/debian not found"
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || skip "$src is not a git checkout (the file list comes from git ls-files)"
if ! unmet=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
    skip "build dependencies missing: ${unmet#*: }"
fi

# The mirror the machine's apt uses for Debian itself (not -security).
mirror=$("$src/tests/debian-mirror.sh")

work=$(mktemp -d /var/tmp/membalancer-check-deb.XXXXXX)
root=$work/root

# Unmount everything under the root (deepest first); only then remove the
# work directory, never across a file system boundary.
unmount_root() {
    [ -d "$root" ] || return 0
    local m
    for m in $(findmnt -rn -o TARGET | grep -F "$root" | sort -r); do
        case $m in "$root"|"$root"/*) umount "$m" 2>/dev/null || umount -l "$m" || true ;; esac
    done
}
cleanup() {
    local rc=$?
    unmount_root
    if findmnt -rn -o TARGET | grep -qF "$root"; then
        printf 'WARNING: mounts left under %s; not removing it\n' "$root" >&2
    elif [ "${MB_PKG_KEEP:-0}" = 1 ]; then
        printf 'kept %s\n' "$work"
    else
        rm -rf --one-file-system "$work"
    fi
    printf '== total time %ds\n' $((SECONDS - t_start))
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. the source tree, with uncommitted changes ----
phase_start "copying the working tree of $src"
mkdir -p "$work/src/membalancer"
(cd "$src" && git ls-files -co --exclude-standard -z |
    while IFS= read -r -d '' f; do
        # files deleted in the working tree are still in the index
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done | tar --null -T - -cf -) | tar -xf - -C "$work/src/membalancer"
printf '   %s files, %s (HEAD %s%s)\n' "$(find "$work/src/membalancer" -type f | wc -l)" \
    "$(du -sh "$work/src/membalancer" | cut -f1)" "$(git -C "$src" rev-parse --short HEAD)" \
    "$(git -C "$src" diff --quiet HEAD -- 2>/dev/null || echo ', with uncommitted changes')"
phase_end

# ---- 2. the binary packages ----
phase_start "dpkg-buildpackage -b -us -uc (DEB_BUILD_OPTIONS=nocheck parallel=2)"
if ! (cd "$work/src/membalancer" &&
      DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log"
    [ -n "$out" ] && mkdir -p "$out" && cp "$work/build.log" "$out/"
    fail "dpkg-buildpackage failed (log above)"
fi
phase_end
changes=$(ls "$work"/src/membalancer_*.changes)
debs=()
for d in "$work"/src/*.deb; do
    case $d in *-dbgsym_*) ;; *) debs+=("$d") ;; esac
done
[ "${#debs[@]}" -gt 0 ] || fail "no .deb built"
say "packages"
printf '   %-44s %10s %14s\n' "file" "size" "installed-size"
for d in "$work"/src/*.deb; do
    printf '   %-44s %10s %11s KiB\n' "$(basename "$d")" "$(stat -c %s "$d")" \
        "$(dpkg-deb -f "$d" Installed-Size)"
done
pkgs=()
for d in "${debs[@]}"; do pkgs+=("$(dpkg-deb -f "$d" Package)"); done
for p in membalancer membalancer-panel membalancer-panel-dev membalancer-guest membalancer-sim \
    libmembalancer-1-0 libmembalancer-1-dev gir1.2-membalancer-1; do
    printf '%s\n' "${pkgs[@]}" | grep -qx "$p" || fail "package $p was not built"
done

# ---- 3. lintian ----
phase_start "lintian --fail-on error $(basename "$changes")"
lintian_rc=0
lintian --fail-on error --display-info "$changes" >"$work/lintian.txt" 2>&1 || lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.txt" | sed 's/^/   /' || true
printf '   summary: %s error(s), %s warning(s), %s info, %s pedantic (not shown)\n' \
    "$(grep -c '^E: ' "$work/lintian.txt" || true)" "$(grep -c '^W: ' "$work/lintian.txt" || true)" \
    "$(grep -c '^I: ' "$work/lintian.txt" || true)" \
    "$(lintian --pedantic "$changes" 2>/dev/null | grep -c '^P: ' || true)"
if [ -n "$out" ]; then
    mkdir -p "$out"
    rm -f "$out"/*.deb
    cp "$work/build.log" "$work/lintian.txt" "$work"/src/*.deb "$changes" "$out/"
fi
[ "$lintian_rc" = 0 ] || fail "lintian reports errors (exit $lintian_rc)"
phase_end

# ---- 4. a fresh Debian 12 root ----
# debootstrap OPTIONS SUITE TARGET MIRROR; the cache key is all but TARGET.
bootstrap_opts=(--variant=minbase --arch="$(dpkg --print-architecture)")
key=$(printf '%s\n' "$(debootstrap --version 2>/dev/null || true)" "${bootstrap_opts[@]}" bookworm "$mirror" | sha256sum | cut -c1-16)
cache=/var/cache/membalancer-tests/debootstrap-bookworm-minbase-$key.tar.gz
mkdir -p "$root"
if [ -f "$cache" ]; then
    phase_start "base root from the cache $cache"
    tar -xzpf "$cache" -C "$root"
else
    phase_start "debootstrap ${bootstrap_opts[*]} bookworm ROOT $mirror (cached afterwards as $cache)"
    if ! debootstrap "${bootstrap_opts[@]}" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log"
        fail "debootstrap failed"
    fi
    mkdir -p /var/cache/membalancer-tests
    rm -rf --one-file-system "$root"/var/cache/apt/archives/*.deb
    tar -czpf "$cache.tmp" -C "$root" . && mv "$cache.tmp" "$cache"
fi
phase_end

# The chroot's kernel file systems and a private /dev (the host's is not
# bound in); unmounted by the trap.
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=0755,size=16m devtmp "$root/dev"
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<<"$n"
    mknod -m 0666 "$root/dev/$name" c "$major" "$minor"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
mount -t tmpfs -o mode=0755 run "$root/run"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# No service starts in the chroot (invoke-rc.d, deb-systemd-invoke).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
in_root() { chroot "$root" "$@"; }
apt_in_root() { in_root apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "$@"; }

phase_start "apt-get update; the packages' dependencies from $mirror"
apt_in_root update >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log"; fail "apt-get update failed"; }
# Every Depends/Pre-Depends of the .debs except the packages themselves,
# installed first so that the listing before the packages holds them.
deps=$(for d in "${debs[@]}"; do
        dpkg-deb -f "$d" Pre-Depends
        dpkg-deb -f "$d" Depends
    done | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$' |
    grep -Ev "^($(IFS='|'; echo "${pkgs[*]}"))( |$)" | sort -u | paste -sd, -)
printf '   %s\n' "$deps"
apt_in_root satisfy "$deps" >>"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log"; fail "installing the dependencies failed"; }
printf '   %s packages in the root\n' "$(in_root dpkg-query -W -f '${Package}\n' | wc -l)"
phase_end

# A listing of the root: path, type, mode, owner (not the pseudo file
# systems, not /tmp where the .debs are copied).
listing() {
    (cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
        -o -path ./tmp \) -prune -o -printf '%p %y %m %u:%g\n') | LC_ALL=C sort
}
listing >"$work/before.txt"
in_root dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/pkgs-before.txt"

phase_start "apt-get install ./*.deb in the root"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
names=()
for d in "${debs[@]}"; do names+=("./$(basename "$d")"); done
if ! in_root sh -c 'cd /tmp/debs && exec apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends install "$@"' \
        sh "${names[@]}" >"$work/install.log" 2>&1; then
    tail -n 40 "$work/install.log"
    fail "apt-get install ./*.deb failed"
fi
grep -E 'newly installed|^Setting up membalancer' "$work/install.log" | sed 's/^/   /'
in_root dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/pkgs-installed.txt"
extra=$(LC_ALL=C comm -13 "$work/pkgs-before.txt" "$work/pkgs-installed.txt" |
    grep -Evx "$(IFS='|'; echo "${pkgs[*]}")" || true)
[ -z "$extra" ] || fail "apt installed more than the packages: $extra"
phase_end

# ---- 5. the key files ----
say "checks in the installed root"
checks=0
check() {
    local what=$1; shift
    if "$@" >"$work/check.out" 2>&1; then
        printf '   ok   %s\n' "$what"
        checks=$((checks + 1))
    else
        printf '   FAIL %s\n' "$what"
        sed 's/^/        /' "$work/check.out"
        fail "check failed: $what"
    fi
}
check "daemon /usr/libexec/membalancerd is executable" test -x "$root/usr/libexec/membalancerd"
check "membalancerd --help runs in the root" in_root /usr/libexec/membalancerd --help
if in_root membalancerctl --version >"$work/ctl-version" 2>&1; then
    check "membalancerctl --version runs in the root: $(head -n1 "$work/ctl-version")" \
        grep -q "$(dpkg-deb -f "${debs[0]}" Version)" "$work/ctl-version"
else
    printf '   NOTE membalancerctl --version: %s (ctl/membalancerctl.c has no --version); running --help instead\n' \
        "$(head -n1 "$work/ctl-version")"
    check "membalancerctl --help runs in the root" in_root membalancerctl --help
fi
check "unit /lib/systemd/system/membalancer.service" test -f "$root/lib/systemd/system/membalancer.service"
check "unit enabled by the postinst (multi-user.target.wants)" \
    test -L "$root/etc/systemd/system/multi-user.target.wants/membalancer.service"
check "D-Bus alias dbus-org.smarttv.MemBalancer.service" \
    test -L "$root/etc/systemd/system/dbus-org.smarttv.MemBalancer.service"
check "D-Bus policy and activation file" test -f "$root/usr/share/dbus-1/system.d/org.smarttv.MemBalancer.conf" \
    -a -f "$root/usr/share/dbus-1/system-services/org.smarttv.MemBalancer.service"
check "sysusers user membalancer created: $(in_root getent passwd membalancer || true)" in_root getent passwd membalancer
check "sysusers group membalancer created: $(in_root getent group membalancer || true)" in_root getent group membalancer
check "man page membalancerd(8)" test -f "$root/usr/share/man/man8/membalancerd.8.gz"
check "journal catalog" test -f "$root/usr/lib/systemd/catalog/membalancer.catalog"
check "German catalogue" test -f "$root/usr/share/locale/de/LC_MESSAGES/membalancer.mo"
# (no grep -q: with pipefail, dpkg-deb's broken pipe would count as no match)
if dpkg-deb -c "$work"/src/membalancer_*_*.deb | grep 'usr/share/polkit-1/actions/.' >/dev/null; then
    check "polkit actions file" test -f "$root/usr/share/polkit-1/actions/org.smarttv.MemBalancer.policy"
    check "polkit rules file" test -f "$root/usr/share/polkit-1/rules.d/membalancer.rules"
else
    printf '   note this build has no polkit support: no polkit files to check\n'
fi
check "membalancer-guest --help runs (static)" in_root membalancer-guest --help
check "guest unit and init script" test -f "$root/lib/systemd/system/membalancer-guest.service" \
    -a -x "$root/etc/init.d/membalancer-guest"
check "membalancer-sim --help runs" in_root membalancer-sim --help
check "membalancer-sim runs a scenario" in_root membalancer-sim --scenario paper2 --policy static --max-ticks 20
check "panel plugin installed" test -f "$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/membalancer/libmembalancer-panel-plugin.so"
check "membalancer-panel's libraries resolve" sh -c "! chroot '$root' ldd /usr/bin/membalancer-panel | grep 'not found'"
arch_libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
check "panel plugin header and pkg-config file" test -f "$root/usr/include/membalancer-panel-1/tv-settings-plugin.h" \
    -a -f "$root$arch_libdir/pkgconfig/membalancer-panel-1.pc"
check "membalancer-panel-1's variable plugin names the installed plugin" sh -c \
    "p=\$(PKG_CONFIG_PATH='$root$arch_libdir/pkgconfig' pkg-config --variable=plugin membalancer-panel-1) && test -f '$root'\$p"
# A settings app compiles against the root's header with the root's .pc
# (its GLib headers included), as it would on the device's SDK.
printf '#include <tv-settings-plugin.h>\nTvSettingsPluginInitFunc f;\nunsigned v = TV_SETTINGS_PLUGIN_ABI_VERSION;\n' >"$work/shell.c"
check "a settings app compiles with pkg-config --cflags membalancer-panel-1" sh -c \
    "cc -fsyntax-only \$(PKG_CONFIG_SYSROOT_DIR='$root' PKG_CONFIG_LIBDIR='$root$arch_libdir/pkgconfig:$root/usr/share/pkgconfig' pkg-config --cflags membalancer-panel-1) '$work/shell.c'"
check "libmembalancer-1.so.0 and its libraries resolve" \
    sh -c "! chroot '$root' ldd $arch_libdir/libmembalancer-1.so.0 | grep 'not found'"
check "libmembalancer exports only membalancer_* (the generated proxies stay inside)" \
    sh -c "! objdump -T '$root$arch_libdir/libmembalancer-1.so.0' | awk '\$4 != \"*UND*\" && \$2 == \"g\"' | grep -v ' membalancer_'"
check "pkg-config file membalancer-1, headers" test -f "$root$arch_libdir/pkgconfig/membalancer-1.pc" \
    -a -f "$root/usr/include/membalancer-1/membalancer.h"
check "typelib, GIR, vapi" test -f "$root$arch_libdir/girepository-1.0/Membalancer-1.typelib" \
    -a -f "$root/usr/share/gir-1.0/Membalancer-1.gir" -a -f "$root/usr/share/vala/vapi/membalancer-1.vapi"
check "API reference" test -f "$root/usr/share/doc/membalancer-1/index.html"

# ---- 6. purge, and what is left ----
phase_start "apt-get purge ${pkgs[*]}"
in_root sh -c 'echo "# a local change" >>/etc/membalancer/membalancer.conf'
mkdir -p "$root/var/lib/membalancer" && echo state >"$root/var/lib/membalancer/state"
apt_in_root purge "${pkgs[@]}" >"$work/purge.log" 2>&1 || { tail -n 30 "$work/purge.log"; fail "apt-get purge failed"; }
awk '/REMOVED:/ { print; getline; print } /^Purging/' "$work/purge.log" | sed 's/^/   /' || true
phase_end
listing >"$work/after.txt"
# What apt and dpkg keep of their own (state, caches, logs) and the
# membalancer user's entries (Debian policy lets system users stay; the
# shadow tools' backups come with them).
allowed='^\./(var/lib/dpkg|var/lib/apt|var/cache/apt|var/cache/debconf|var/cache/ldconfig|var/log)(/| )|^\./etc/(passwd|group|shadow|gshadow)- '
LC_ALL=C comm -13 "$work/before.txt" "$work/after.txt" >"$work/new.txt"
LC_ALL=C comm -23 "$work/before.txt" "$work/after.txt" >"$work/gone.txt"
left=$(grep -Ev "$allowed" "$work/new.txt" || true)
gone=$(grep -Ev "$allowed" "$work/gone.txt" || true)
say "after purge: root listing compared with the one before install"
printf '   %s paths before, %s after; new: %s (%s in apt/dpkg state), changed or gone: %s (%s in apt/dpkg state)\n' \
    "$(wc -l <"$work/before.txt")" "$(wc -l <"$work/after.txt")" \
    "$(wc -l <"$work/new.txt")" "$(grep -Ec "$allowed" "$work/new.txt" || true)" \
    "$(wc -l <"$work/gone.txt")" "$(grep -Ec "$allowed" "$work/gone.txt" || true)"
if [ -n "$left" ] || [ -n "$gone" ]; then
    if [ -n "$left" ]; then printf '   left behind:\n'; printf '%s\n' "$left" | sed 's/^/     /'; fi
    if [ -n "$gone" ]; then printf '   changed or removed:\n'; printf '%s\n' "$gone" | sed 's/^/     /'; fi
    fail "the purge left files behind or changed the root"
fi
printf '   ok   nothing of the packages is left\n'
checks=$((checks + 1))
if in_root getent passwd membalancer >/dev/null; then
    printf '   note the membalancer user and group stay after purge (Debian policy 9.2.2 allows system users to remain)\n'
fi
in_root dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/pkgs-after.txt"
cmp -s "$work/pkgs-before.txt" "$work/pkgs-after.txt" || fail "the package set after purge differs from the one before install"
printf '   ok   the same %s packages as before install\n' "$(wc -l <"$work/pkgs-after.txt")"
checks=$((checks + 1))

say "PASS: ${#debs[@]} packages built, lintian without errors, $checks checks in a fresh bookworm root"
