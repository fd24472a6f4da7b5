#!/usr/bin/env bash
# Build the kernel, the selftests and the initramfs, boot QEMU and run tests.
#
#   tools/vm-test.sh [-d VARIANT] [-r RESULTS_DIR] [-l LIST] [-x DIR] [--shuffle[=SEED]] [NAME...]
#   tools/vm-test.sh -s [-d VARIANT]     an interactive shell in the VM
#
# Runs the tests of LIST (default selftests/tests.list; a line is NAME MEM
# TIMEOUT TESTS COMMAND: MEM the VM's memory, optionally followed by kernel
# arguments for that boot, as in 256M,movablecore=75%; TESTS the suite's
# declared plan, "-" only in lists outside selftests/ whose producer's own
# plan is all there is), or only the
# NAMEs given (-x adds DIR's programs to the VM's PATH), grouping tests that want
# the same VM memory into one boot; selftests/vm_sanity runs first in each
# boot (the vCPUs, the series, THP, swap, the debug detectors). Every VM has
# UOOM_SMP (default 2) vCPUs. Each VM ends by itself (reboot -f, QEMU
# -no-reboot) or is killed at its deadline. --shuffle runs each boot's tests
# in a random order and prints the seed; --shuffle=SEED repeats an order.
#
# VARIANT is a kernel of tools/kernel-build.sh. "base" is the negative
# control: the unpatched kernel runs selftests/control.list, where each test
# that claims to test the series must FAIL (its row then passes, as suite
# control/NAME) and only those marked "noregress" there may pass.
#
# Writes RESULTS_DIR/vm-VARIANT.tsv (suite, test, PASS|FAIL|SKIP|FLAKY,
# detail; tools/tap.sh reads each test's TAP) and the console, results and
# kernel logs next to it. Exit status: 0 only when every test ran its plan
# and passed (or skipped with a reason), every VM finished, its kernel log
# was captured and has no WARNING/BUG/lockdep/KASAN/hung-task/soft-lockup/RCU
# stall report, and kmemleak (debug kernel) found nothing.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tools/tap.sh
. "$(dirname "$0")/tap.sh"

variant=normal
results=$UOOM_TOP/build/results
list=$UOOM_TOP/selftests/tests.list
extra=()
shell=0
seed=
args=()
for a in "$@"; do
	case $a in
	--shuffle) args+=(-S "$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')") ;;
	--shuffle=*) args+=(-S "${a#--shuffle=}") ;;
	*) args+=("$a") ;;
	esac
done
set -- ${args[@]+"${args[@]}"}
while getopts d:r:l:x:sS: o; do
	case $o in
	d) variant=$OPTARG ;;
	r) results=$OPTARG ;;
	l) list=$OPTARG ;;
	x) extra+=("$OPTARG") ;;
	s) shell=1 ;;
	S) seed=$OPTARG ;;
	*) die "usage: tools/vm-test.sh [-d VARIANT] [-r RESULTS_DIR] [-l LIST] [-x DIR] [--shuffle[=SEED]] [NAME...]" ;;
	esac
done
shift $((OPTIND - 1))
uoom_variant_ok "$variant" || die "unknown kernel variant '$variant' (see tools/kernel-build.sh)"
[[ -z $seed || $seed =~ ^[0-9]+$ ]] || die "--shuffle=$seed: the seed is a number"
control=0
series=1
if [[ $variant == base ]]; then
	control=1
	series=0
	[[ $list == "$UOOM_TOP/selftests/tests.list" ]] && list=$UOOM_TOP/selftests/control.list
fi
# The series with its option off has no files either.
[[ $variant == off ]] && series=0
smp=${UOOM_SMP:-2}
# vm_sanity: 8 checks, and 5 more on the debug kernel (its detectors).
sanity_plan=8
[[ $variant == debug ]] && sanity_plan=13
mkdir -p "$results"
results=$(cd "$results" && pwd)
tsv=$results/vm-$variant.tsv
: >"$tsv"

# --- build ----------------------------------------------------------------
# UOOM_BZIMAGE: test a kernel built by hand from the cached tree instead.
# UOOM_KERNEL_ARGS: extra words for the kernel command line; by default a
# TSC clocksource, since the tinyconfig kernel cannot calibrate one.
uoom_tsc_args
if [[ -n ${UOOM_BZIMAGE:-} ]]; then
	bzimage=$UOOM_BZIMAGE
	[[ -f $bzimage ]] || die "UOOM_BZIMAGE=$bzimage: no such file"
else
	bzimage=$("$UOOM_TOP/tools/kernel-build.sh" "$variant" | tail -1)
fi
src=$(uoom_srcdir "$variant")
kout=$(uoom_builddir "$variant")
# UOOM_VM_WORK: another work directory, for a second run of the same variant
# at once (the default is shared by every run of it).
work=${UOOM_VM_WORK:-$UOOM_CACHE/vm/$variant}
mkdir -p "$work"

step "building libuoom and the selftests"
make -s -C "$UOOM_TOP/lib" >&2
make -s -C "$UOOM_TOP/selftests" KSRC="$src" KHDR="$kout/usr/include" O="$work/bin" >&2
# Each tool with a "vm" target, and examples/, put their static binaries next
# to the tests.
for d in "$UOOM_TOP"/tools/*/ "$UOOM_TOP"/examples/; do
	grep -q '^vm:' "$d/Makefile" 2>/dev/null || continue
	step "building ${d#"$UOOM_TOP"/} for the VM"
	make -s -C "$d" vm O="$work/bin" >&2
done

step "building the kernel's cgroup selftests (test_core, test_kill, test_memcontrol)"
ksft=$src/tools/testing/selftests/cgroup
mkdir -p "$work/upstream"
for t in test_core test_kill test_memcontrol; do
	make -s -C "$ksft" OUTPUT="$work/upstream" KHDR_INCLUDES="-isystem $kout/usr/include" \
		LDFLAGS=-static "$work/upstream/$t" >"$work/upstream/build.log" 2>&1 ||
		{ cat "$work/upstream/build.log" >&2; die "building $ksft/$t failed"; }
done
mkdir -p "$work/upstream-bin"
cp "$work/upstream"/test_{core,kill,memcontrol} "$work/upstream-bin/"

# The VM's test list: vm_sanity (first in every boot), then LIST.
{
	printf 'vm_sanity 0M 60 %s vm_sanity\n' "$sanity_plan"
	grep -vE '^[[:space:]]*noregress[[:space:]]' "$list" || true
} >"$work/tests.list"
"$UOOM_TOP/tools/mkinitramfs.sh" "$work/initramfs.cpio.gz" "$work/tests.list" \
	"$work/bin" "$work/upstream-bin" ${extra[@]+"${extra[@]}"}

# Host-side margin per boot, for boot and shutdown; the debug kernel is slower,
# and KASAN's shadow, kmemleak and lockdep take memory: its VMs get
# UOOM_DEBUG_MEM_SCALE (default 3) times the memory a test asks for.
boot_slack=60
mem_scale=1
if [[ $variant == debug ]]; then
	boot_slack=240
	mem_scale=${UOOM_DEBUG_MEM_SCALE:-3}
fi

# --- an interactive shell: serial console on this terminal, no deadline ----
if [[ $shell -eq 1 ]]; then
	step "booting the $variant kernel with a shell on this terminal (leave with: reboot -f)"
	rm -f "$work/scratch.img" && truncate -s 512M "$work/scratch.img"
	mkfs.ext4 -q -F "$work/scratch.img"
	rm -f "$work/swap.img" && truncate -s 256M "$work/swap.img"
	mkswap "$work/swap.img" >/dev/null
	exec qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp "$smp" -m 1G \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial mon:stdio -serial null \
		-drive file="$work/scratch.img",if=virtio,format=raw \
		-drive file="$work/swap.img",if=virtio,format=raw \
		-kernel "$bzimage" -initrd "$work/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 ${UOOM_KERNEL_ARGS:+$UOOM_KERNEL_ARGS }UOOM_SMP=$smp UOOM_SERIES=$series UOOM_VARIANT=$variant UOOM_SHELL=1"
fi

# --- which tests, in which boots ------------------------------------------
mapfile -t all < <(grep -vE '^[[:space:]]*(#|$|noregress[[:space:]])' "$list" | awk '{print $1, $2, $3, $4}')
# The negative control's "noregress SUITE TEST" lines: tests that pass on
# the unpatched kernel by design (they check that nothing regressed).
declare -A noregress
while read -r _ suite test; do
	noregress[$suite/$test]=1
done < <(grep -E '^[[:space:]]*noregress[[:space:]]' "$list" || true)
declare -A mem_of to_of declared_of
declared_of[vm_sanity]=$sanity_plan
order=()
for l in "${all[@]}"; do
	read -r name mem to tests <<<"$l"
	[[ $mem =~ ^([0-9]+)M(,[^[:space:]]+)?$ ]] ||
		die "$list: test $name: MEM '$mem' is not like 256M or 256M,movablecore=75% (the VM's memory, then kernel arguments for that boot)"
	mem_of[$name]=$((BASH_REMATCH[1] * mem_scale))M${BASH_REMATCH[2]}
	to_of[$name]=$to
	if [[ $tests =~ ^[0-9]+$ ]]; then
		declared_of[$name]=$tests
	elif [[ $tests != - || $list == "$UOOM_TOP/selftests/"* ]]; then
		die "$list: test $name: TESTS '$tests' is not a number (the suite's declared plan; the column after TIMEOUT)"
	fi
	order+=("$name")
done
if [[ $# -gt 0 ]]; then
	order=()
	for n in "$@"; do
		[[ $n == vm_sanity ]] && continue # it runs first in every boot
		[[ -n ${mem_of[$n]:-} ]] || die "no test '$n' in $list"
		order+=("$n")
	done
fi
mems=()
# No test at all (-l /dev/null): one boot that runs vm_sanity alone.
[[ ${#order[@]} -eq 0 ]] && mems=(256M)
for n in ${order[@]+"${order[@]}"}; do
	[[ " ${mems[*]} " == *" ${mem_of[$n]} "* ]] || mems+=("${mem_of[$n]}")
done
# --shuffle: each boot's tests in an order drawn from the seed.
if [[ -n $seed ]]; then
	step "shuffled test order, seed $seed (repeat with --shuffle=$seed)"
	mapfile -t order < <(printf '%s\n' "${order[@]}" |
		awk -v s="$seed" 'BEGIN {srand(s)} {printf "%.9f %s\n", rand(), $0}' | sort -n | cut -d' ' -f2)
fi

# KVM when it really works: /dev/kvm can exist and still fail (nested, MSRs),
# so a first boot with no tests decides; the answer is kept per host kernel
# and QEMU. UOOM_ACCEL=tcg|kvm overrides.
pick_accel() {
	local probe
	probe=$UOOM_CACHE/accel-$(uname -r)-$(qemu-system-x86_64 --version | head -1 | tr -cd "0-9.")
	if [[ -n ${UOOM_ACCEL:-} ]]; then
		echo "$UOOM_ACCEL"
	elif [[ ! -w /dev/kvm ]]; then
		echo tcg
	elif [[ -f $probe ]]; then
		cat "$probe"
	else
		step "probing KVM (/dev/kvm exists): one empty boot"
		: >"$work/probe.log"
		timeout -k 2 20 qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 256M \
			-nodefaults -no-user-config -display none -no-reboot \
			-serial null -serial file:"$work/probe.log" -kernel "$bzimage" \
			-initrd "$work/initramfs.cpio.gz" -append "console=ttyS0 panic=-1 UOOM_TESTS=" \
			>/dev/null 2>&1 || true
		if grep -q '^# uoom-done' "$work/probe.log"; then echo kvm >"$probe"; else echo tcg >"$probe"; fi
		step "KVM $(grep -q kvm "$probe" && echo works || echo 'does not work here: using TCG')"
		cat "$probe"
	fi
}
accel=$(pick_accel)
cpu=max
[[ $accel == kvm ]] && cpu=host
total=$((${#order[@]} + ${#mems[@]}))
done_n=0
failed=0

splat_re='WARNING:|BUG:|kernel BUG at|Oops|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|KASAN:|UBSAN:|unreferenced object|Kernel panic|INFO: task .* blocked|rcu: INFO:|soft lockup|hard LOCKUP|list_add corruption|list_del corruption'

# A result row; the debug kernel's suites are named debug/SUITE, the
# negative control's control/SUITE.
record() {
	local suite=$1
	[[ $variant == debug ]] && suite=debug/$suite
	[[ $control -eq 1 && $suite != vm && $suite != vm_sanity ]] && suite=control/$suite
	printf '%s\t%s\t%s\t%s\n' "$suite" "$2" "$3" "$4" >>"$tsv"
}

# The negative control's verdict on one row of a test run on the unpatched
# kernel: a test of the series must fail there; a "noregress" one must pass.
control_row() {
	local suite=$1 test=$2 status=$3 detail=$4
	if [[ $test == "(plan)" || $test == "(exit)" ]]; then
		# The harness's own rows: a plan that ran short is still wrong,
		# a non-zero exit is what a failing suite does.
		[[ $test == "(exit)" ]] && return 0
		record "$suite" "$test" "$status" "$detail"
	elif [[ -n ${noregress[$suite/$test]:-} ]]; then
		record "$suite" "$test (noregress)" "$status" "$detail"
	elif [[ $status == FAIL ]]; then
		record "$suite" "$test" PASS "fails on the base kernel: ${detail:0:120}"
	else
		record "$suite" "$test" FAIL "$status on the unpatched base kernel: it does not test the series (if it checks that nothing regressed, mark it 'noregress $suite $test' in ${list#"$UOOM_TOP"/})"
	fi
}

# A test the run never reached (this script stopped early, whatever the
# reason) is a FAIL row of its own, not an absence.
booted=()
not_reached() {
	local n
	for n in ${order[@]+"${order[@]}"}; do
		[[ " ${booted[*]} " == *" $n "* ]] ||
			record "$n" "(run)" FAIL "no result: tools/vm-test.sh stopped before it read this test's boot"
	done
}
trap not_reached EXIT

for mem in "${mems[@]}"; do
	names=(vm_sanity)
	budget=$((boot_slack + 60))
	for n in "${order[@]}"; do
		[[ ${mem_of[$n]} == "$mem" ]] || continue
		names+=("$n")
		budget=$((budget + ${to_of[$n]} + 5))
	done
	# MEM is the VM's memory, then the boot's own kernel arguments, if any.
	msize=${mem%%,*}
	margs=
	[[ $mem == *,* ]] && margs="${mem#*,} " && margs=${margs//,/ }
	tag=$variant-${mem//[^A-Za-z0-9]/_}
	con=$results/console-$tag.log
	res=$results/results-$tag.log
	: >"$res"
	rm -f "$work/scratch.img" && truncate -s 512M "$work/scratch.img"
	mkfs.ext4 -q -F "$work/scratch.img"
	rm -f "$work/swap.img" && truncate -s 256M "$work/swap.img"
	mkswap -q "$work/swap.img" 2>/dev/null || mkswap "$work/swap.img" >/dev/null
	step "boot ($variant kernel, $mem, $accel, limit ${budget}s): ${names[*]}"
	# no5lvl: -cpu max offers LA57; about one KASAN boot in twelve crashed
	# in early boot with 5-level paging (tools/measured/debug-boot-*).
	timeout -k 5 "$budget" qemu-system-x86_64 \
		-machine q35,accel="$accel" -cpu "$cpu" -smp "$smp" -m "$msize" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial file:"$con" -serial file:"$res" \
		-drive file="$work/scratch.img",if=virtio,format=raw \
		-drive file="$work/swap.img",if=virtio,format=raw \
		-kernel "$bzimage" -initrd "$work/initramfs.cpio.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 oops=panic log_buf_len=8M kasan_multi_shot no5lvl kmemleak.verbose=1 ${UOOM_KERNEL_ARGS:+$UOOM_KERNEL_ARGS }${margs}UOOM_SMP=$smp UOOM_SERIES=$series UOOM_VARIANT=$variant UOOM_TESTS=$(
			IFS=,
			echo "${names[*]}"
		)" &
	qpid=$!
	seen=0
	while :; do
		alive=0
		kill -0 "$qpid" 2>/dev/null && alive=1
		while IFS= read -r l; do
			seen=$((seen + 1))
			done_n=$((done_n + 1))
			l=${l%$'\r'}
			step "  test $done_n/$total ${l#\# uoom-end }"
		done < <(grep -a '^# uoom-end ' "$res" | tail -n +$((seen + 1)))
		[[ $alive -eq 1 ]] || break
		sleep 1
	done
	wait "$qpid" && qrc=0 || qrc=$?
	sed -i 's/\r$//' "$res" "$con"

	# Split the results log per test and count its TAP lines.
	for n in "${names[@]}"; do
		block=$(awk -v n="$n" '$0 == "# uoom-begin " n {on=1; next}
			on && index($0, "# uoom-end " n " ") == 1 {print; exit}
			on {print}' "$res")
		endl=$(grep -a "^# uoom-end $n " <<<"$block" || true)
		if [[ -z $endl ]]; then
			record vm "$n" FAIL "did not finish: VM ended or timed out (console: $con)"
			failed=$((failed + 1))
			continue
		fi
		rc=$(sed -n 's/.* rc=\([0-9]*\).*/\1/p' <<<"$endl")
		secs=$(sed -n 's/.* secs=\([0-9]*\).*/\1/p' <<<"$endl")
		# tools/tap.sh turns the test's TAP and exit status into rows: the
		# plan compared with what ran, a crash or a missing result a FAIL.
		{ grep -av '^# uoom-' <<<"$block" || true; } | { uoom_tap_rows "$n" "$rc" "" "${declared_of[$n]:-}" || true; } |
			while IFS=$'\t' read -r _ test status detail; do
				[[ $n == vm_sanity ]] && test="$tag: $test"
				[[ $status == FAIL && $test == *"(exit)"* ]] && detail="$detail after ${secs}s"
				# upstream-run's "not ok N T # FLAKY why; rerun: ok": a
				# known-flaky test whose first run failed, shown as such.
				[[ $status == FAIL && $detail == FLAKY* && $detail == *"rerun: ok" ]] &&
					status=FLAKY detail=${detail#FLAKY }
				if [[ $control -eq 1 && $n != vm_sanity ]]; then
					control_row "$n" "$test" "$status" "$detail"
				else
					record "$n" "$test" "$status" "$detail"
				fi
			done
	done

	booted+=("${names[@]}")
	# The kernel log must have been captured, and say nothing bad.
	if ! grep -aq '^# uoom-dmesg-end' "$res"; then
		record vm "kernel-log-$tag" FAIL "no kernel log captured (the VM did not reach its end; console: $con)"
	fi
	# kmemleak (the debug kernel has it; any kernel that has it is
	# checked): any suspected leak fails the boot.
	if [[ $variant == debug ]] || grep -aq '^# uoom-kmemleak-begin' "$res"; then
		if ! grep -aq '^# uoom-kmemleak-end' "$res"; then
			record vm "kmemleak-$tag" FAIL "no kmemleak report captured (console: $con)"
		else
			sed -n '/^# uoom-kmemleak-begin/,/^# uoom-kmemleak-end/p' "$res" | sed '1d;$d' >"$results/kmemleak-$tag.log"
			if [[ -s $results/kmemleak-$tag.log ]]; then
				record vm "kmemleak-$tag" FAIL "$(grep -c '^unreferenced object' "$results/kmemleak-$tag.log") suspected leaks: $(grep -m1 -A12 '^unreferenced object' "$results/kmemleak-$tag.log" | grep -m1 -E '\[<' | cut -c1-120) (log: $results/kmemleak-$tag.log)"
				head -30 "$results/kmemleak-$tag.log" >&2
			else
				record vm "kmemleak-$tag" PASS ""
			fi
		fi
	fi
	grep -a -A100000 '^# uoom-dmesg-begin' "$res" | sed '1d;/^# uoom-dmesg-end/,$d' >"$results/dmesg-$tag.log" || true
	if ! grep -aq '^# uoom-done' "$res"; then
		record vm "boot-$tag" FAIL "VM did not finish (qemu rc=$qrc; console: $con)"
		tail -15 "$con" >&2
	fi
	if splats=$(grep -aE "$splat_re" "$results/dmesg-$tag.log" "$con"); then
		record vm "kernel-log-$tag" FAIL "kernel report: $(head -1 <<<"$splats" | cut -c1-160)"
		# (head closes the pipe early: under pipefail and set -e that
		# failed the pipeline and ended the script, skipping every later
		# boot of the run.)
		printf '%s\n' "$splats" | head -20 >&2 || true
	else
		record vm "kernel-log-$tag" PASS ""
	fi
done

nfail=$(awk -F'\t' '$3 == "FAIL"' "$tsv" | wc -l)
npass=$(awk -F'\t' '$3 == "PASS"' "$tsv" | wc -l)
step "VM ($variant): $npass passed, $nfail failed (details: $tsv)"
[[ $nfail -eq 0 ]]
