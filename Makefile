# uoom: userspace OOM handling with a kernel fallback.
#   make            the library, examples and tools
#   make check      every test: lint, unit tests, the VM selftests on the
#                   patched kernel, the kernel's own memcg selftests
#                   (DEBUG=1 adds the debug kernel: lockdep, KASAN, kmemleak)
#   make demo       boot the patched kernel in QEMU and play an OOM scenario
#   make check-series  build and boot each prefix of the series, and the
#                   series with its option off (bisectability)
#   make kernel     build the patched kernel (cached in ~/.cache/uoom)
#   make vm         an interactive shell in the VM
#   make install    the library, tools and man pages (PREFIX, DESTDIR)
#   make bench      uoom against the kernel killer, earlyoom and oomd (in the VM)
#   make fuzz       the long libFuzzer run of every parser
PREFIX ?= /usr/local
DESTDIR ?=
VARIANT := $(if $(filter 1,$(DEBUG)),debug,normal)
# Each tools/NAME/Makefile (uoomd, uoomctl, ...) has all, check, install, clean
# and vm (static binaries into O= for the VM image).
TOOLS := $(patsubst %/Makefile,%,$(wildcard tools/*/Makefile))

all:
	$(MAKE) -C lib
	@set -e; for d in $(TOOLS); do $(MAKE) -C $$d; done

deps:
	tools/deps.sh

check:
	tools/check.sh $(if $(filter 1,$(DEBUG)),--debug)

check-series:
	tools/series-check.sh

kernel:
	tools/kernel-build.sh $(VARIANT)

vm:
	tools/vm-shell.sh $(VARIANT)

demo:
	tools/demo.sh

bench:
	tools/bench.sh $(RESULTS)

fuzz:
	tools/fuzz.sh --long

install: all
	$(MAKE) -C lib install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	@set -e; for d in $(TOOLS); do $(MAKE) -C $$d install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR); done

clean:
	rm -rf build selftests/build
	$(MAKE) -C lib clean
	@set -e; for d in $(TOOLS); do $(MAKE) -C $$d clean; done

.PHONY: all deps check check-series kernel vm demo bench fuzz install clean
