#!/usr/bin/env bash
# Runs the README's test command on a bare Debian 12 root, so "works on a fresh Debian 12" is a
# command and not a memory (docs/fresh-debian.md).
#
#   ops/fresh-debian-test.sh [--root DIR] [--keep] [--no-asan] [--shell]
#
# 1. debootstrap --variant=minbase bookworm into DIR (default /var/tmp/promptwall-bookworm): no
#    compiler, no CMake, no Node; only what Debian calls essential. A root left by an earlier run
#    is reused only with --keep (then it is no longer bare: say so when you quote the result).
# 2. Debian's bookworm, bookworm-updates and bookworm-security sources, as a new server has them,
#    the installer's /etc/hosts, and the machine's local CAs (/usr/local/share/ca-certificates,
#    e.g. a TLS-inspecting egress proxy's) so npm reaches its registry.
# 3. A clone of this repository's committed HEAD into DIR/work/main (uncommitted changes are not
#    in it, as they are not in CI's clone), with ../shared beside it when there is one.
# 4. chroot with /proc, /sys, /dev and /dev/pts mounted, an empty environment, and
#    the test command (ops/setup.sh --test, as .ci/run: install packages, build, ctest) run there.
#    --no-asan passes --no-asan to setup.sh (the Release build only: half the time).
#    --shell opens a shell in the root afterwards instead of unmounting at once.
# The log is DIR.log; the last lines printed are ctest's summary. Exit status: the test command's.
#
# What a chroot cannot do shows as a skipped test, never as a pass: the .deb test boots systemd
# in a container and transparent mode builds network namespaces; each says why it skipped.
# Needs root, debootstrap (Debian package) and the Debian mirror; nothing else from outside.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=/var/tmp/promptwall-bookworm
keep=0
shell=0
setup_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift ;;
    --keep) keep=1 ;;
    --no-asan) setup_args+=(--no-asan) ;;
    --shell) shell=1 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-debian-test.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
mirror=${PROMPTWALL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${PROMPTWALL_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

[ "$(id -u)" -eq 0 ] || { echo "fresh-debian-test.sh: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
  echo "== installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
fi

# Everything mounted below the root, ours and what the tests made there (ip netns mounts
# /run/netns), deepest first.
unmount_all() {
  { grep -o " $root/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
}
trap unmount_all EXIT

if [ -e "$root" ] && [ "$keep" = 0 ]; then
  echo "== removing the previous root $root (--keep reuses it)"
  # A root whose mounts outlived an interrupted run: unmount before deleting anything below it.
  unmount_all
  rm -rf --one-file-system "$root"
fi
if [ ! -e "$root/etc/debian_version" ]; then
  echo "== debootstrap --variant=minbase bookworm $root ($mirror)"
  debootstrap --variant=minbase bookworm "$root" "$mirror"
fi

cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# debootstrap writes no /etc/hosts; every installed Debian has the installer's (localhost resolves).
if [ ! -s "$root/etc/hosts" ]; then
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' > "$root/etc/hosts"
fi
# The machine's own local CAs (/usr/local/share/ca-certificates), such as a TLS-inspecting egress
# proxy's: without them npm cannot reach its registry from the root, as it could not from a new
# server at the same site. Debian's ca-certificates (installed by setup.sh) adds them to the store.
npm_env=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  npm_env=(NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt)
fi

echo "== cloning $(git -C "$here" rev-parse --short HEAD) into $root/work/main"
rm -rf "$root/work"
mkdir -p "$root/work"
git clone -q --no-local "$here" "$root/work/main"
if [ -d "$here/../shared" ]; then cp -a "$here/../shared" "$root/work/shared"; fi

for m in proc sys dev dev/pts; do
  mkdir -p "$root/$m"
  case "$m" in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sys "$root/sys" ;;
    dev) mount --bind /dev "$root/dev" ;;
    dev/pts) mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" ;;
  esac
done

echo "== bash .ci/run in the root (log: $root.log)"
set +e
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI=true PROMPTWALL_CHROOT=1 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${npm_env[@]}" \
  bash -c "cd /work/main && bash ops/setup.sh --test ${setup_args[*]:-}" 2>&1 | tee "$root.log"
rc=${PIPESTATUS[0]}
set -e
echo "== the test command exited $rc; ctest's summaries:"
grep -E '^[0-9]+% tests passed|tests failed out of|Total Test time' "$root.log" || true
grep -A400 'The following tests did not run' "$root.log" | grep -E 'Skipped|Disabled' || true
if [ "$shell" = 1 ]; then
  chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -l || true
fi
exit "$rc"
