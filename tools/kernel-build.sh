#!/usr/bin/env bash
# Build the uoom test kernel: linux-source-6.12 + kernel-patches/ + Kconfig.fragment.
#
#   tools/kernel-build.sh [normal|debug|base]
#
# "base" is the unpatched kernel (for make bench's overhead ratios): the same
# tinyconfig + Kconfig.fragment minus CONFIG_MEMCG_OOM_HANDLER, built from a
# second work tree of the same repo detached at tag base (src/linux-VERSION-base),
# so the patched work tree is never checked out at base.
#
# Everything lives under $UOOM_CACHE (default ~/.cache/uoom), never in the repo:
#   src/linux-VERSION   the extracted source as a git repo; tag "base" is pristine,
#                       the work tree is checked out at base + the series
#   build/VARIANT       the O= build directory, with uoom.key naming what it holds
#
# The series is applied in a scratch index and the result checked out, so git
# rewrites only files whose content changed: an edited patch rebuilds only what
# it touches, and an unchanged key rebuilds nothing. Prints the bzImage path.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

variant=${1:-normal}
[[ $variant == normal || $variant == debug || $variant == base ]] ||
	die "unknown kernel variant '$variant': use 'normal', 'debug' or 'base'"

src=$(uoom_srcdir)
patched_src=$src
out=$(uoom_builddir "$variant")
key=$(uoom_kernel_key "$variant")
bzimage=$out/arch/x86/boot/bzImage
git_q() { git -C "$src" -c user.name=uoom -c user.email=uoom@localhost "$@"; }

if [[ -f $bzimage && -f $out/uoom.key && $(cat "$out/uoom.key") == "$key" ]]; then
	step "kernel ($variant) is up to date: key $key"
	printf '%s\n' "$bzimage"
	exit 0
fi

"$UOOM_TOP/tools/deps.sh"

# 1. Extract linux-source-6.12 once and record it as the base commit.
want=$(uoom_base_version)
if [[ ! -d $src/.git ]] || ! git_q rev-parse -q --verify base >/dev/null; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null) ||
		die "/usr/src/linux-source-6.12.tar.xz not found: apt-get install linux-source-6.12"
	step "extracting $tarball (once; about 1 minute)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball"
	mv "$src.tmp"/linux-source-6.12 "$src"
	rmdir "$src.tmp"
	step "recording the pristine tree as git tag 'base'"
	git_q init -q
	# Debian's tarball ships a .gitignore that ignores everything: force.
	git_q add -A -f .
	git_q commit -q -m "linux-source-6.12 (pristine)"
	git_q tag base
fi
got=$(make -s -C "$src" kernelversion 2>/dev/null || true)
if [[ $got != "$want" ]]; then
	if [[ ${got%.*} == "${want%.*}" ]]; then
		warn "kernel source is $got, the series is based on $want (kernel-patches/BASE): applying anyway"
	else
		die "kernel source in $src is '$got', the series needs $want (kernel-patches/BASE): install linux-source-${want%.*}"
	fi
fi

# 2. Apply the series in a scratch index, then check out the result; the base
# variant builds from its own work tree at tag base instead.
if [[ $variant == base ]]; then
	src=$src-base
	if [[ ! -e $src/Makefile ]]; then
		step "adding the unpatched work tree $src (git worktree at tag base)"
		git -C "$patched_src" worktree prune
		git -C "$patched_src" worktree add -q --detach "$src" base
	fi
	patches=()
else
mapfile -t patches < <(uoom_series)
idx=$(mktemp "$UOOM_CACHE/index.XXXXXX")
trap 'rm -f "$idx"' EXIT
GIT_INDEX_FILE=$idx git_q read-tree base
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	step "patch $n/${#patches[@]}: $(basename "$p")"
	if ! err=$(GIT_INDEX_FILE=$idx git_q apply --cached --whitespace=nowarn "$p" 2>&1); then
		printf '%s\n' "$err" >&2
		die "patch $n/${#patches[@]} kernel-patches/$(basename "$p") does not apply to $want (the failing file and line are above): rebase it onto base"
	fi
done
tree=$(GIT_INDEX_FILE=$idx git_q write-tree)
if [[ $(git_q rev-parse 'HEAD^{tree}') != "$tree" ]] || [[ -n $(git_q status --porcelain --untracked-files=no) ]]; then
	commit=$(git_q commit-tree "$tree" -p base -m "base + uoom series ($n patches)")
	git_q checkout -q -f --detach "$commit"
fi
step "source ready: $want + ${#patches[@]} patches"
fi

# 3. Configure: tinyconfig + fragments, then check nothing was dropped.
mkdir -p "$out"
mapfile -t frags < <(uoom_fragments "$variant")
if [[ $variant == base ]]; then
	grep -v '^CONFIG_MEMCG_OOM_HANDLER=' "${frags[0]}" >"$out/base.fragment"
	frags=("$out/base.fragment")
fi
step "configuring ($variant): tinyconfig + ${frags[*]##*/}"
make -s -C "$src" O="$out" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >"$out/merge.log" 2>&1 ||
	{ cat "$out/merge.log" >&2; die "merge_config.sh failed"; }
make -s -C "$src" O="$out" olddefconfig >/dev/null
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
step "building bzImage ($variant, -j$UOOM_JOBS; cold: ~5 min normal, ~10 min debug)"
log=$out/build.log
make -C "$src" O="$out" -j"$UOOM_JOBS" bzImage headers >"$log" 2>&1 &
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
