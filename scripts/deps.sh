# Sourced by scripts/test and scripts/demo: installs the Debian 12 packages
# the build and the tests need, only when one is missing, as root and
# system-wide (README's quick start warns; a throwaway machine is the place).
MB_PACKAGES=(
  gcc meson ninja-build pkg-config
  libglib2.0-dev libglib2.0-dev-bin libglib2.0-bin libcairo2-dev
  dbus dbus-daemon systemd util-linux
  clang-format clang libclang-rt-14-dev valgrind
  libvirt-dev libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
  busybox-static linux-image-amd64 cpio
  libgtk-4-dev libx11-dev gettext xvfb xdotool fonts-dejavu-core adwaita-icon-theme
  libjson-glib-dev locales
  python3-docutils man-db groff-base bash-completion libdbus-1-dev zsh
  libpolkit-gobject-1-dev polkitd
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 python3-gi valac gi-docgen gjs
  dpkg-dev debhelper fakeroot lintian debootstrap systemd-container
)

mb_install_deps() {
  local missing=()
  local p
  for p in "${MB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    # Said before apt-get runs, never asked (CI runs this non-interactively).
    echo "== installing ${#missing[@]} Debian package(s) and what they depend on, as root," \
      "system-wide on this machine, with apt-get: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Configures (or reconfigures) a build directory: mb_setup DIR [meson args...]
mb_setup() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}
