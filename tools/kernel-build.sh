#!/usr/bin/env bash
# Build a uoom test kernel: linux-source-6.12 + kernel-patches/ + Kconfig.fragment.
#
#   tools/kernel-build.sh [VARIANT]
#
# VARIANT (default normal):
#   normal   the whole series, Kconfig.fragment
#   debug    the whole series, Kconfig.fragment + Kconfig.debug.fragment
#   base     the unpatched kernel, Kconfig.fragment minus CONFIG_MEMCG_OOM_HANDLER
#            (the negative control of make check, and make bench's ratios)
#   off      the whole series with CONFIG_MEMCG_OOM_HANDLER=n
#   nomemcg  the whole series with CONFIG_MEMCG=n (so the option is gone too;
#            make check-series builds it, nothing boots it)
#   pN       the first N patches of the series only (each must build and boot)
#
# Everything lives under $UOOM_CACHE (default ~/.cache/uoom), never in the repo:
#   src/linux-VERSION   the extracted source as a git repo; tag "base" is pristine,
#                       the work tree is checked out at base + the series
#   build/VARIANT       the O= build directory of normal, debug, off and nomemcg, with
#                       uoom.key naming what it holds
#   trees/T/src/linux-VERSION, trees/T/build/VARIANT
#                       the same for the variants of another tree (base, pN):
#                       a git worktree of the same repo at base + N patches,
#                       laid out like the main one so that ccache (CCACHE_BASEDIR)
#                       shares the objects that do not change between trees
#   ccache/             the compiler cache: a second variant costs what differs
#
# The series is applied in a scratch index and the result checked out, so git
# rewrites only files whose content changed: an edited patch rebuilds only what
# it touches, and an unchanged key rebuilds nothing. Prints the bzImage path.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

variant=${1:-normal}
uoom_variant_ok "$variant" ||
	die "unknown kernel variant '$variant': use normal, debug, base, off, nomemcg or p1..p$(($(uoom_series | wc -l) - 1))"

main_src=$(uoom_srcdir)
src=$(uoom_srcdir "$variant")
out=$(uoom_builddir "$variant")
key=$(uoom_kernel_key "$variant")
bzimage=$out/arch/x86/boot/bzImage
git_q() { git -C "$main_src" -c user.name=uoom -c user.email=uoom@localhost "$@"; }

if [[ -f $bzimage && -f $out/uoom.key && $(cat "$out/uoom.key") == "$key" ]]; then
	step "kernel ($variant) is up to date: key $key"
	printf '%s\n' "$bzimage"
	exit 0
fi

"$UOOM_TOP/tools/deps.sh"

# 1. Extract linux-source-6.12 once and record it as the base commit.
want=$(uoom_base_version)
if [[ ! -d $main_src/.git ]] || ! git_q rev-parse -q --verify base >/dev/null; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null) ||
		die "/usr/src/linux-source-6.12.tar.xz not found: apt-get install linux-source-6.12"
	step "extracting $tarball (once; about 1 minute)"
	rm -rf "$main_src" "$main_src.tmp"
	mkdir -p "$main_src.tmp"
	tar -C "$main_src.tmp" -xf "$tarball"
	mv "$main_src.tmp"/linux-source-6.12 "$main_src"
	rmdir "$main_src.tmp"
	step "recording the pristine tree as git tag 'base'"
	git_q init -q
	# Debian's tarball ships a .gitignore that ignores everything: force.
	git_q add -A -f .
	git_q commit -q -m "linux-source-6.12 (pristine)"
	git_q tag base
fi
got=$(make -s -C "$main_src" kernelversion 2>/dev/null || true)
if [[ $got != "$want" ]]; then
	if [[ ${got%.*} == "${want%.*}" ]]; then
		warn "kernel source is $got, the series is based on $want (kernel-patches/BASE): applying anyway"
	else
		die "kernel source in $main_src is '$got', the series needs $want (kernel-patches/BASE): install linux-source-${want%.*}"
	fi
fi

# 2. Apply the first N patches of the series in a scratch index, then check
# out the result in the variant's work tree (a git worktree of the main repo
# for the trees other than the whole series).
mapfile -t patches < <(uoom_series | head -n "$(uoom_variant_npatches "$variant")")
if [[ $src != "$main_src" && ! -e $src/Makefile ]]; then
	step "adding the work tree $src (git worktree at tag base)"
	git_q worktree prune
	mkdir -p "$(dirname "$src")"
	git_q worktree add -q --detach "$src" base
fi
gitw() { git -C "$src" -c user.name=uoom -c user.email=uoom@localhost "$@"; }
idx=$(mktemp "$UOOM_CACHE/index.XXXXXX")
trap 'rm -f "$idx"' EXIT
GIT_INDEX_FILE=$idx gitw read-tree base
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	step "patch $n/${#patches[@]}: $(basename "$p")"
	if ! err=$(GIT_INDEX_FILE=$idx gitw apply --cached --whitespace=nowarn "$p" 2>&1); then
		printf '%s\n' "$err" >&2
		die "patch $n/${#patches[@]} kernel-patches/$(basename "$p") does not apply to $want (the failing file and line are above): rebase it onto base"
	fi
done
tree=$(GIT_INDEX_FILE=$idx gitw write-tree)
if [[ $(gitw rev-parse 'HEAD^{tree}') != "$tree" ]] || [[ -n $(gitw status --porcelain --untracked-files=no) ]]; then
	commit=$(gitw commit-tree "$tree" -p base -m "base + uoom series ($n patches)")
	gitw checkout -q -f --detach "$commit"
fi
step "source ready ($variant): $want + ${#patches[@]} patches in $src"

# ccache, when installed: CCACHE_BASEDIR makes the paths under the cache
# relative, so the trees of base, off and pN share what did not change.
cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
	export CCACHE_DIR=$UOOM_CACHE/ccache CCACHE_BASEDIR=$UOOM_CACHE CCACHE_NOHASHDIR=1
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}
fi

# 3. Configure: tinyconfig + fragments, then check nothing was dropped.
mkdir -p "$out"
mapfile -t frags < <(uoom_fragments "$variant")
case $variant in
base)
	grep -v '^CONFIG_MEMCG_OOM_HANDLER=' "${frags[0]}" >"$out/variant.fragment"
	frags=("$out/variant.fragment")
	;;
off)
	sed 's/^CONFIG_MEMCG_OOM_HANDLER=y$/# CONFIG_MEMCG_OOM_HANDLER is not set/' "${frags[0]}" >"$out/variant.fragment"
	frags=("$out/variant.fragment")
	;;
nomemcg)
	sed -e 's/^CONFIG_MEMCG=y$/# CONFIG_MEMCG is not set/' -e '/^CONFIG_MEMCG_OOM_HANDLER=/d' \
		"${frags[0]}" >"$out/variant.fragment"
	frags=("$out/variant.fragment")
	;;
esac
# The series' KUnit test comes with the patch that adds it, and needs the
# option: the variants without either leave it out.
if [[ $variant == @(base|off|nomemcg) ]] ||
	! grep -qx 'config MEMCG_OOM_HANDLER_KUNIT_TEST' "$src/init/Kconfig"; then
	grep -v '^CONFIG_MEMCG_OOM_HANDLER_KUNIT_TEST=' "${frags[0]}" >"$out/variant.fragment.tmp"
	mv "$out/variant.fragment.tmp" "$out/variant.fragment"
	frags[0]=$out/variant.fragment
fi
step "configuring ($variant): tinyconfig + ${frags[*]##*/}"
make -s -C "$src" O="$out" CC="$cc" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >"$out/merge.log" 2>&1 ||
	{ cat "$out/merge.log" >&2; die "merge_config.sh failed"; }
make -s -C "$src" O="$out" CC="$cc" olddefconfig >/dev/null
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
			grep -qx "$sym=$val" "$out/.config" || {
				warn "${f##*/}: $sym=$val was dropped by Kconfig (now: $(grep -E "(^|# )${sym}[= ]" "$out/.config" || echo absent)); check its dependencies"
				bad=1
			}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			! grep -q "^$sym=" "$out/.config" || {
				warn "${f##*/}: $sym should be unset but is $(grep "^$sym=" "$out/.config")"
				bad=1
			}
		fi
	done <"$f"
done
[[ $bad -eq 0 ]] || die "the kernel configuration lost options of the fragment (above)"

# 4. Build, with a progress line every 30 s.
step "building bzImage ($variant, -j$UOOM_JOBS, $cc; cold: ~5 min normal, ~10 min debug)"
log=$out/build.log
make -C "$src" O="$out" CC="$cc" -j"$UOOM_JOBS" bzImage headers >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null && sleep 1; done
	kill -0 "$pid" 2>/dev/null &&
		step "  building: $(grep -c '^  CC ' "$log" || true) files compiled, last: $(grep '^  [A-Z]' "$log" | tail -1 | awk '{print $2}')"
done
if ! wait "$pid"; then
	grep -E 'error|Error' "$log" | head -20 >&2
	die "kernel build failed: full log in $log"
fi
if grep -E '^[^ ]+:[0-9]+:[0-9]+: warning:' "$log" | grep -v '^scripts/' >"$out/warnings.log"; then
	warn "compiler warnings (in $out/warnings.log):"
	head -20 "$out/warnings.log" >&2
fi
printf '%s\n' "$key" >"$out/uoom.key"
step "kernel ($variant) built: $bzimage ($(du -k "$bzimage" | cut -f1) KiB)"
printf '%s\n' "$bzimage"
