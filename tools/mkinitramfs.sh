#!/usr/bin/env bash
# Make the test initramfs: busybox-static, tools/vm/init, the test list, our
# test binaries and tools, and real programs (stress-ng, earlyoom, oomd)
# copied in with the shared libraries they load.
#
#   tools/mkinitramfs.sh OUT.cpio.gz TESTS.LIST DIR...
#
# Each DIR's files are copied to /uoom/bin (executables) keeping their names.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=$1 list=$2
shift 2
root=$(mktemp -d "$UOOM_CACHE/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root,mnt/scratch,uoom/bin}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$UOOM_TOP/tools/vm/init" "$root/init"
install -m 0755 "$UOOM_TOP/tools/vm/uoom-run" "$root/uoom/bin/uoom-run"
cp "$list" "$root/uoom/tests.list"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

for d in "$@"; do
	[[ -d $d ]] || die "mkinitramfs: $d is not a directory"
	cp -a "$d"/. "$root/uoom/bin/"
done

# A real program and every shared library it loads, at the same paths.
copy_with_libs() {
	local prog=$1 lib
	[[ -x $prog ]] || die "mkinitramfs: $prog not found: run tools/deps.sh"
	mkdir -p "$root$(dirname "$prog")"
	cp -L "$prog" "$root$prog"
	for lib in $(ldd "$prog" | grep -oE '/[^ ]+'); do
		[[ -e $root$lib ]] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for prog in /usr/bin/stress-ng /usr/bin/earlyoom /usr/bin/oomd; do
	copy_with_libs "$prog"
done
[[ -e $root/lib64 ]] || ln -s lib "$root/lib64"

(cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
step "initramfs: $out ($(du -k "$out" | cut -f1) KiB)"
