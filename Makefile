# libmst: build, install and test the C library.
#
#   make                                  release build: target/release/libmst.so and libmst.a,
#                                         and the mst command (target/cli/mst)
#   make install PREFIX=/usr/local [DESTDIR=/pkgroot] [LIBDIR=$(PREFIX)/lib] [BINDIR=$(PREFIX)/bin]
#                [DEBUGDIR=$(LIBDIR)/.debug] [PYTHON=python3] [PYTHONDIR=...]
#   make uninstall PREFIX=... [DESTDIR=...]
#   make test                             scripts/test.sh: every test, as CI runs them
#   make demo [DEMO_ARGS="..."]           scripts/demo.sh: build and run examples/demo.c
#   make clean
#
# install builds first (cargo only checks freshness when nothing changed). Under sudo, where
# root usually has no cargo, run `make` as yourself and then `sudo make install CARGO=true`.

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
CARGO ?= cargo
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/mst
# The installed libmst.so carries no debug info: it goes to DEBUGDIR, where gdb looks for the
# file the library's .gnu_debuglink names (beside the library, in .debug/).
DEBUGDIR ?= $(LIBDIR)/.debug
# The Python package (pure Python) goes where PYTHON looks for packages under PREFIX, if it
# does (Debian's python3 searches /usr/local/lib/python3.X/dist-packages), else to
# $(PREFIX)/lib/python3.X/site-packages, which then goes on PYTHONPATH.
PYTHON ?= python3
python_dir_script = import sys; lib = sys.argv[1]; \
	found = [p for p in sys.path if p.startswith(lib + "/") and p.endswith("-packages")]; \
	print(found[0] if found else "%s/python%d.%d/site-packages" % (lib, *sys.version_info[:2]))
PYTHONDIR ?= $(shell $(PYTHON) -c '$(python_dir_script)' '$(PREFIX)/lib')
OBJCOPY ?= objcopy
DESTDIR ?=
DEMO_ARGS ?=

# The version and description are Cargo.toml's [package] fields, the one place they are written.
package_field = $(shell awk -F'"' '/^\[/{p=($$0=="[package]")} p&&/^$(1) *=/{print $$2; exit}' $(ROOT)/Cargo.toml)
VERSION := $(call package_field,version)
DESCRIPTION := $(call package_field,description)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))

RELEASE := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/release
# The mst command, built under Cargo.toml's `cli` profile (release code; see there why apart).
MST_CLI := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/cli/mst
# rustc writes the system libraries a static link of libmst.a needs here (see `build`).
NATIVE_STATIC_LIBS_FILE := $(RELEASE)/mst-native-static-libs.txt

.PHONY: all build cli install uninstall test demo clean

all: build cli

# `cargo rustc` rather than `cargo build` so rustc can write the static library's native
# dependencies (-lpthread, -ldl, ... and any a -sys crate adds) for mst.pc and mstConfig.cmake.
# scripts/ build the release library through this target too: the same rustc arguments keep
# cargo's fingerprint, so the library is not rebuilt between a script's steps.
build:
	$(CARGO) rustc --manifest-path $(ROOT)/Cargo.toml --release --lib -- \
		--print native-static-libs=$(NATIVE_STATIC_LIBS_FILE)
	@test -s $(NATIVE_STATIC_LIBS_FILE) || { \
		echo "$(NATIVE_STATIC_LIBS_FILE) is missing: run cargo clean -p mst --release and make again" >&2; exit 1; }

cli:
	$(CARGO) build --manifest-path $(ROOT)/Cargo.toml --profile cli --bin mst

# rustc's list, in its order, plus the three libraries every static consumer needs if absent.
static_libs = $(shell awk '{ n = split($$0 " -lpthread -ldl -lm", w, " "); out = "";     \
	for (i = 1; i <= n; i++) if (!seen[w[i]]++ || i <= n - 3) out = out " " w[i];       \
	print substr(out, 2) }' $(NATIVE_STATIC_LIBS_FILE))
# Paths from the installed CMake package to the library and header: the package is relocatable.
from_cmakedir = $(shell realpath -m --relative-to=$(CMAKEDIR) $(1))
pointer_bytes := $(shell echo $$(( $$(getconf LONG_BIT) / 8 )))

# The release build keeps line tables (Cargo.toml: debug = 1) for backtraces and profilers;
# most of the .so is that. Installed, the code goes stripped and the debug info beside it; the
# mst command is installed stripped.
install: build cli
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(DEBUGDIR)
	install -d $(DESTDIR)$(BINDIR)
	$(OBJCOPY) --strip-debug $(MST_CLI) $(MST_CLI).stripped
	install -m 0755 $(MST_CLI).stripped $(DESTDIR)$(BINDIR)/mst
	install -D -m 0644 $(ROOT)/doc/mst.1 $(DESTDIR)$(PREFIX)/share/man/man1/mst.1
	$(OBJCOPY) --only-keep-debug $(RELEASE)/libmst.so $(RELEASE)/libmst.so.$(VERSION).debug
	$(OBJCOPY) --strip-debug --add-gnu-debuglink=$(RELEASE)/libmst.so.$(VERSION).debug \
		$(RELEASE)/libmst.so $(RELEASE)/libmst.so.stripped
	install -m 0755 $(RELEASE)/libmst.so.stripped $(DESTDIR)$(LIBDIR)/libmst.so.$(VERSION)
	install -m 0644 $(RELEASE)/libmst.so.$(VERSION).debug $(DESTDIR)$(DEBUGDIR)/libmst.so.$(VERSION).debug
	ln -sfn libmst.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmst.so.$(MAJOR)
	ln -sfn libmst.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libmst.so
	install -m 0644 $(RELEASE)/libmst.a $(DESTDIR)$(LIBDIR)/libmst.a
	install -m 0644 $(ROOT)/include/mst.h $(ROOT)/include/mst.hpp $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@DESCRIPTION@|$(DESCRIPTION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(static_libs)|g' \
	    $(ROOT)/mst.pc.in > $(RELEASE)/mst.pc
	install -m 0644 $(RELEASE)/mst.pc $(DESTDIR)$(PKGCONFIGDIR)/mst.pc
	sed -e 's|@LIBDIR_FROM_CMAKEDIR@|$(call from_cmakedir,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR_FROM_CMAKEDIR@|$(call from_cmakedir,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@MAJOR@|$(MAJOR)|g' \
	    -e 's|@STATIC_LIBS@|$(subst $() ,;,$(static_libs))|g' \
	    $(ROOT)/cmake/mstConfig.cmake.in > $(RELEASE)/mstConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@MAJOR@|$(MAJOR)|g' \
	    -e 's|@POINTER_BYTES@|$(pointer_bytes)|g' \
	    $(ROOT)/cmake/mstConfigVersion.cmake.in > $(RELEASE)/mstConfigVersion.cmake
	install -m 0644 $(RELEASE)/mstConfig.cmake $(RELEASE)/mstConfigVersion.cmake $(DESTDIR)$(CMAKEDIR)/
	@test -n '$(PYTHONDIR)' || { echo "$(PYTHON) did not run: set PYTHON or PYTHONDIR" >&2; exit 1; }
	install -d $(DESTDIR)$(PYTHONDIR)/mst
	install -m 0644 $(ROOT)/python/src/mst/*.py $(DESTDIR)$(PYTHONDIR)/mst/
	printf '# Written by make install: where it put libmst.\nLIBDIR = "%s"\n' '$(LIBDIR)' \
		> $(DESTDIR)$(PYTHONDIR)/mst/_installed.py
	@echo "installed libmst $(VERSION) under $(DESTDIR)$(PREFIX); for a system library directory, run ldconfig"

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libmst.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmst.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libmst.so $(DESTDIR)$(LIBDIR)/libmst.a \
	      $(DESTDIR)$(INCLUDEDIR)/mst.h $(DESTDIR)$(INCLUDEDIR)/mst.hpp $(DESTDIR)$(PKGCONFIGDIR)/mst.pc \
	      $(DESTDIR)$(CMAKEDIR)/mstConfig.cmake $(DESTDIR)$(CMAKEDIR)/mstConfigVersion.cmake \
	      $(DESTDIR)$(DEBUGDIR)/libmst.so.$(VERSION).debug
	rm -f $(DESTDIR)$(BINDIR)/mst $(DESTDIR)$(PREFIX)/share/man/man1/mst.1
	rm -rf $(DESTDIR)$(PYTHONDIR)/mst
	-rmdir $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(DEBUGDIR) 2>/dev/null

test:
	bash $(ROOT)/scripts/test.sh

demo:
	bash $(ROOT)/scripts/demo.sh $(DEMO_ARGS)

clean:
	$(CARGO) clean --manifest-path $(ROOT)/Cargo.toml
	rm -rf $(ROOT)/build
