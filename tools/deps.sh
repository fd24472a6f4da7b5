#!/usr/bin/env bash
# Install, with apt-get, the Debian packages uoom needs to build and test,
# saying which ones are missing. Does nothing when all are present.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

pkgs=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod rsync
	linux-source-6.12
	# kernel variants (base, off, each patch alone) share objects
	ccache
	# VM and its root filesystem
	qemu-system-x86 busybox-static e2fsprogs
	# library, tools and their tests
	pkg-config liburing-dev libcmocka-dev libinih-dev clang shellcheck
	# uoomctl man page lint (groff -man -ww -z)
	groff-base
	# peers and load generators run inside the VM
	stress-ng earlyoom oomd
	# uoomd's check: man page lint, systemd-analyze verify of its unit
	groff-base man-db systemd
	# make bench: its plots
	gnuplot-nox
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

step "installing ${#missing[@]} Debian packages: ${missing[*]}"
[[ $(id -u) -eq 0 ]] || die "packages missing (${missing[*]}) and not root: install them with apt-get, or run as root"
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$UOOM_CACHE" || die "cannot create the cache directory $UOOM_CACHE (set UOOM_CACHE to a writable path)"
apt-get update -qq || die "apt-get update failed: check the Debian mirror in /etc/apt/sources.list"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$UOOM_CACHE/apt.log" 2>&1 || {
	tail -20 "$UOOM_CACHE/apt.log" >&2
	die "apt-get install failed (log: $UOOM_CACHE/apt.log)"
}
step "installed: ${missing[*]}"
