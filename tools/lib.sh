# shellcheck shell=bash
# Shared helpers for uoom's scripts: messages, errors, cache paths and keys.
# Sourced, never run.

UOOM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UOOM_CACHE=${UOOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uoom}
UOOM_JOBS=${UOOM_JOBS:-$(nproc)}
export UOOM_TOP UOOM_CACHE

_uoom_t0=${_uoom_t0:-$(date +%s)}
export _uoom_t0

# step "what": a progress line with the time since the whole run started.
step() {
	local t=$(($(date +%s) - _uoom_t0))
	printf '[%3d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*" >&2
}

warn() { printf 'uoom: warning: %s\n' "$*" >&2; }
die() { printf 'uoom: error: %s\n' "$*" >&2; exit 1; }

# The kernel version the series is based on, from kernel-patches/BASE.
uoom_base_version() {
	local v
	v=$(sed -n '1{s/[[:space:]].*//;p}' "$UOOM_TOP/kernel-patches/BASE")
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		die "kernel-patches/BASE: first word '$v' is not a version like 6.12.117"
	printf '%s\n' "$v"
}

# The patches of the series, in order, as absolute paths.
uoom_series() {
	local line
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[[ -n $line ]] || continue
		[[ -f $UOOM_TOP/kernel-patches/$line ]] ||
			die "kernel-patches/series names '$line', which does not exist in kernel-patches/"
		printf '%s\n' "$UOOM_TOP/kernel-patches/$line"
	done <"$UOOM_TOP/kernel-patches/series"
}

# Kernel variants (tools/kernel-build.sh): normal, debug, base, off, nomemcg, pN.
uoom_variant_ok() {
	local n
	case $1 in
	normal | debug | base | off | nomemcg) return 0 ;;
	p[1-9]*)
		n=${1#p}
		[[ $n =~ ^[0-9]+$ ]] && ((n < $(uoom_series | wc -l)))
		;;
	*) return 1 ;;
	esac
}

# How many patches of the series a variant's tree carries.
uoom_variant_npatches() {
	case $1 in
	base) echo 0 ;;
	p*) echo "${1#p}" ;;
	*) uoom_series | wc -l ;;
	esac
}

# The tree a variant builds from: "series" for the whole series, else its own.
uoom_variant_tree() {
	case $1 in
	base | p*) echo "$1" ;;
	*) echo series ;;
	esac
}

# Fragments that configure a variant (only debug adds the debug one).
uoom_fragments() {
	printf '%s\n' "$UOOM_TOP/Kconfig.fragment"
	[[ $1 == debug ]] && printf '%s\n' "$UOOM_TOP/Kconfig.debug.fragment"
	return 0
}

# A key for everything that decides what the kernel build produces: the base,
# the series, the fragments and the build script itself.
uoom_kernel_key() {
	local variant=$1
	{
		printf 'variant %s\n' "$variant"
		cat "$UOOM_TOP/kernel-patches/BASE"
		uoom_series | head -n "$(uoom_variant_npatches "$variant")" | xargs -r cat
		uoom_fragments "$variant" | xargs cat
		cat "$UOOM_TOP/tools/kernel-build.sh"
	} | sha256sum | cut -c1-16
}

# The source and build directories of a variant (default: the whole series).
# Other trees live under trees/T with the same layout (see kernel-build.sh).
uoom_treeroot() {
	local t
	t=$(uoom_variant_tree "${1:-normal}")
	if [[ $t == series ]]; then printf '%s\n' "$UOOM_CACHE"; else printf '%s/trees/%s\n' "$UOOM_CACHE" "$t"; fi
}
uoom_srcdir() { printf '%s/src/linux-%s\n' "$(uoom_treeroot "${1:-normal}")" "$(uoom_base_version)"; }
uoom_builddir() { printf '%s/build/%s\n' "$(uoom_treeroot "$1")" "$1"; }

# The tinyconfig kernel has no ACPI, so no HPET/PM timer to calibrate the
# TSC against: it falls back to jiffies (4 ms steps), useless for latencies.
# Under TCG the guest's TSC is the host's, so give its frequency and trust it.
# Sets and exports UOOM_KERNEL_ARGS unless the caller set it.
uoom_tsc_args() {
	local mhz
	[[ -z ${UOOM_KERNEL_ARGS:-} ]] || return 0
	mhz=$(awk -F': *' '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo)
	if [[ -n $mhz ]] && grep -qw constant_tsc /proc/cpuinfo; then
		UOOM_KERNEL_ARGS="tsc_early_khz=$(awk -v m="$mhz" 'BEGIN {printf "%d", m * 1000}') tsc=reliable clocksource=tsc"
		export UOOM_KERNEL_ARGS
	else
		warn "no constant TSC frequency in /proc/cpuinfo: the VM's clock will step by 4 ms"
	fi
}
