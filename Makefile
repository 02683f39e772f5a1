# ldm-enforcer: one Makefile for build, install, tests, demo and packaging.
# Flags are appended (+=) so that dpkg-buildflags' hardening=+all applies too.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
# systemd's unit directory on Debian 12 (pkg-config systemd --variable=systemdsystemunitdir)
UNITDIR ?= /lib/systemd/system
DESTDIR ?=
VERSION := 0.1.0

CC ?= cc
PKGS := libconfig libseccomp libmnl libnetfilter_queue libcrypto zlib libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wformat=2 -Wno-missing-field-initializers -fstack-protector-strong \
	  -fno-strict-aliasing -pipe
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -I. -Iinclude -Ienforcer -Ilauncher \
	    -DLDM_VERSION='"$(VERSION)"' -DLDM_SYSCONFDIR='"$(SYSCONFDIR)"' \
	    -DLDM_DATADIR='"$(DATADIR)"' $(PKG_CFLAGS)
LDFLAGS += -Wl,-z,relro,-z,now
LDLIBS += $(PKG_LIBS) -lm

ifeq ($(CI),true)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif

ifeq ($(SANITIZE),1)
B ?= build-san
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
B ?= build
endif

# The policy engine and other pure code: enforcer/*.c, linked by every program.
LIB_SRCS := $(wildcard enforcer/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIB := $(B)/libldm.a

# Programs: each is a directory of edge code plus the library.
# kernel/: edge code that asks the kernel, shared by the daemon and ldmctl.
LDMCTL_SRCS := $(wildcard launcher/ldmctl/*.c) $(wildcard launcher/common/*.c) $(wildcard kernel/*.c)
LDMRUN_SRCS := $(wildcard launcher/run/*.c) $(wildcard launcher/common/*.c)
DAEMON_SRCS := $(wildcard enforcer/daemon/*.c) $(wildcard kernel/*.c)
PROGS := $(B)/ldmctl
ifneq ($(wildcard launcher/run/main.c),)
PROGS += $(B)/ldm-run
endif
ifneq ($(wildcard enforcer/daemon/main.c),)
PROGS += $(B)/ldm-enforcerd
endif

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
# Unit tests may also exercise edge modules that hold pure helpers (every program's objects
# but its main.o), and test tools in tests/tools/ link the same.
UNIT_EXTRA_OBJS := $(filter-out %/main.o,$(sort $(LDMCTL_SRCS:%.c=$(B)/%.o) \
	$(LDMRUN_SRCS:%.c=$(B)/%.o) $(DAEMON_SRCS:%.c=$(B)/%.o)))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tests/tools/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAYERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/tests/replay_%)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(B)/bench/%)

# libconfig 1.5 leaks on some syntax errors; its allocations only (tests/lsan.supp).
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

.PHONY: tools all deps deps-present check check-run bench-run unit-tests golden-tests policy-tests fuzz-replay integration-tests \
	install clean format format-check demo fuzz bench update-golden deb vm-check graph

all: $(PROGS)

# Installs every Debian package needed to build, test and run the demo (deps.txt).
deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$$(sed -e 's/#.*//' deps.txt)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/ldmctl: $(LDMCTL_SRCS:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/ldm-run: $(LDMRUN_SRCS:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/ldm-enforcerd: $(DAEMON_SRCS:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(UNIT_EXTRA_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/tests/tools/%: $(B)/tests/tools/%.o $(UNIT_EXTRA_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tools: $(TOOL_BINS)

$(B)/tests/replay_%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/%: $(B)/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer builds need clang; `make fuzz` builds them, `make check` only replays corpora.
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz: $(FUZZERS)

# fuzz_notify reads ldm-run's notification texts (pure, but launcher code) as well.
$(B)/tests/replay_fuzz_notify: $(B)/launcher/run/notifytext.o
$(B)/fuzz/fuzz_notify: launcher/run/notifytext.c

# make check works on a fresh machine too: missing deps.txt packages are installed first
# (as root), then the tests run in a make of their own that sees the installed libraries.
# Installs deps.txt where a package of it is missing (as root), or says what is missing.
deps-present:
	@missing=$$(for p in $$(sed -e 's/#.*//' deps.txt); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q 'ok installed' || \
		echo "$$p"; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then echo "installing" $$missing; $(MAKE) deps; \
		else echo "missing packages (run 'make deps' as root):" $$missing; \
			exit 1; fi; fi

check: deps-present
	$(MAKE) check-run

check-run: all graph unit-tests golden-tests policy-tests fuzz-replay integration-tests

unit-tests: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; LDM_TEST_SRCDIR=$(CURDIR) $$t; done

golden-tests: $(B)/ldmctl
	tests/golden/run.sh $(B)/ldmctl

update-golden: $(B)/ldmctl
	tests/golden/run.sh --update $(B)/ldmctl

# Every shipped policy must pass `ldmctl check`.
policy-tests: $(B)/ldmctl
	$(B)/ldmctl check policies/*.conf

fuzz-replay: $(FUZZ_REPLAYERS)
	@set -e; for r in $(FUZZ_REPLAYERS); do \
		n=$${r##*/replay_fuzz_}; echo "== $$r tests/fuzz/corpus/$$n"; \
		$$r tests/fuzz/corpus/$$n; done

integration-tests: all $(TOOL_BINS)
	@if [ -x tests/integration/run.sh ]; then tests/integration/run.sh $(B); \
	else echo "integration tests: none yet"; fi

# Benchmarks (tests/bench/README.md): the C ones stand alone, the scripts (as root) build
# namespace test beds and use the helper programs; every one prints RESULT rows, gathered
# into one table at the end. Targets are reported (PASS/FAIL), never asserted.
BENCH_HELPERS := $(B)/bench/netload $(B)/bench/nfq_baseline $(B)/bench/unix_connect
bench: deps-present
	$(MAKE) bench-run

bench-run: all $(BENCH_BINS) $(TOOL_BINS)
	@mkdir -p $(B)/bench; out=$(B)/bench/results.txt; : >$$out; \
	for b in $(filter-out $(BENCH_HELPERS),$(BENCH_BINS)); do echo "== $$b"; \
		$$b | tee -a $$out; done; \
	for s in tests/bench/*.sh; do echo "== $$s"; \
		if [ "$$(id -u)" = 0 ]; then $$s $(B) 2>&1 | tee -a $$out; \
		else echo "$$s: skipped (needs root)" | tee -a $$out; fi; done; \
	echo; echo "== results ($$(nproc) CPUs, $$(uname -r))"; \
	grep '^RESULT|' $$out | cut -d'|' -f2- | column -t -s'|'

# As root: installs deps.txt, builds the programs and the test tools, and tells the story of
# tests/integration/demo.sh in private network namespaces. deps runs in a make of its own,
# so that the build's make reads pkg-config's flags after the -dev packages are installed.
demo:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make demo: run it as root (it installs packages and makes network namespaces)"; \
		exit 1; fi
	$(MAKE) deps
	$(MAKE) all tools
	tests/integration/demo.sh $(B)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/ldm/policies \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/ldm/policies
	install -m 0755 $(B)/ldmctl $(DESTDIR)$(BINDIR)/ldmctl
	if [ -e $(B)/ldm-run ]; then install -m 0755 $(B)/ldm-run $(DESTDIR)$(BINDIR)/ldm-run; fi
	if [ -e $(B)/ldm-enforcerd ]; then \
		install -m 0755 $(B)/ldm-enforcerd $(DESTDIR)$(SBINDIR)/ldm-enforcerd; fi
	install -m 0644 policies/*.conf $(DESTDIR)$(DATADIR)/ldm/policies/
	for m in man/*.[1-8]; do s=$${m##*.}; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
		$(DESTDIR)$(DATADIR)/applications
	sed -e 's|/usr/sbin/ldm-enforcerd|$(SBINDIR)/ldm-enforcerd|' \
		packaging/ldm-enforcerd.service >$(DESTDIR)$(UNITDIR)/ldm-enforcerd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ldm-enforcerd.service
	sed -e 's|/usr/sbin/ldm-enforcerd|$(SBINDIR)/ldm-enforcerd|' \
		packaging/ldm-enforcer.logrotate >$(DESTDIR)$(SYSCONFDIR)/logrotate.d/ldm-enforcer
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/logrotate.d/ldm-enforcer
	install -m 0644 packaging/qgroundcontrol-ldm.desktop $(DESTDIR)$(DATADIR)/applications/
	install -d $(DESTDIR)$(DATADIR)/ldm/rsyslog
	install -m 0644 packaging/rsyslog/*.conf $(DESTDIR)$(DATADIR)/ldm/rsyslog/
	@# an edited configuration is never overwritten
	test -e $(DESTDIR)$(SYSCONFDIR)/ldm/enforcer.conf || \
		install -m 0644 packaging/enforcer.conf $(DESTDIR)$(SYSCONFDIR)/ldm/enforcer.conf

# The Debian package, built with dpkg-buildpackage from a copy of the tree (packaging/debian
# becomes debian/ at its top; build trees, dist/ and .git stay out) into dist/.
DEBTMP ?= $(CURDIR)/dist/.build
deb:
	rm -rf $(DEBTMP)
	mkdir -p $(DEBTMP)/ldm-enforcer-$(VERSION)
	tar -cf - --exclude=./.git --exclude=./build --exclude=./build-san --exclude=./dist \
		--exclude=./debian . | tar -xf - -C $(DEBTMP)/ldm-enforcer-$(VERSION)
	cp -a packaging/debian $(DEBTMP)/ldm-enforcer-$(VERSION)/debian
	cd $(DEBTMP)/ldm-enforcer-$(VERSION) && dpkg-buildpackage -b -us -uc
	mv $(DEBTMP)/*.deb $(DEBTMP)/*.buildinfo $(DEBTMP)/*.changes dist/
	rm -rf $(DEBTMP)
	@ls -1 dist/*.deb

# The package on a Debian 12 laptop with systemd, in a QEMU VM under software emulation
# (tests/vm/run.sh, as root): builds the package (or takes VM_DEB) and the test tools, builds
# or reuses the cached image in VM_CACHE, boots it without network and runs the checks.
VM_CACHE ?= $(CURDIR)/build/vm
VM_DEB ?=
vm-check:
	@if [ -z "$(VM_DEB)" ]; then $(MAKE) deb; fi
	$(MAKE) SANITIZE= B=build tools
	VM_CACHE=$(VM_CACHE) tests/vm/run.sh $(VM_DEB)

# The daemon's module graph (tests/tools/daemon_graph.py): #include edges and, from the
# objects (nm), cross-module references; prints the cycles and fails on one. Not part of
# check: struct daemon ties the modules into one today (docs/architecture.md).
graph: $(filter enforcer/daemon/%,$(DAEMON_SRCS:%.c=$(B)/%.o))
	tests/tools/daemon_graph.py --src enforcer/daemon --objdir $(B)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@out=$$(for f in $$(git ls-files '*.c' '*.h'); do \
		clang-format --dry-run $$f 2>&1; done); \
	if [ -n "$$out" ]; then echo "$$out" | head -40; \
		echo "format-check: run 'make format'"; exit 1; fi; echo "format-check: ok"

clean:
	rm -rf build build-san dist

-include $(shell find $(B) -name '*.d' 2>/dev/null)
