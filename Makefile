# uoom: userspace OOM handling with a kernel fallback.
#   make            the library, examples and tools
#   make check      every test: lint, unit tests, the VM selftests on the
#                   patched kernel, the kernel's own memcg selftests
#                   (DEBUG=1 adds the debug kernel: lockdep, KASAN, kmemleak)
#   make demo       boot the patched kernel in QEMU and play an OOM scenario
#   make kernel     build the patched kernel (cached in ~/.cache/uoom)
#   make vm         an interactive shell in the VM
#   make install    the library, tools and man pages (PREFIX, DESTDIR)
PREFIX ?= /usr/local
DESTDIR ?=
VARIANT := $(if $(filter 1,$(DEBUG)),debug,normal)

all:
	@if [ -f lib/Makefile ]; then $(MAKE) -C lib; fi

deps:
	tools/deps.sh

check:
	tools/check.sh $(if $(filter 1,$(DEBUG)),--debug)

kernel:
	tools/kernel-build.sh $(VARIANT)

vm:
	tools/vm-shell.sh $(VARIANT)

demo:
	tools/demo.sh

install: all
	@if [ -f lib/Makefile ]; then $(MAKE) -C lib install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR); fi

clean:
	rm -rf build selftests/build
	@if [ -f lib/Makefile ]; then $(MAKE) -C lib clean; fi

.PHONY: all deps check kernel vm demo install clean
