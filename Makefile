# SPDX-License-Identifier: BSD-2-Clause
#
# make            build .output/luprobe (and the ./luprobe link)
# make demo       install what is missing, build, trace the bundled Go demo
# make test       install what is missing, build, run every test
# make bench      the performance benchmark (not part of make test; BENCH_ARGS=--smoke)
# make fuzz       run the fuzzers for a bounded time
# make stdsig     regenerate src/go/stdsig.tab from the newest Go (STDSIG_GO)
# make man        the manual page, .output/luprobe.1, from docs/luprobe.1.scd (scdoc)
# make install    honours DESTDIR and prefix: the binary, the Lua library, the example
#                 scripts, the manual page, bash completion, the systemd unit, the docs
#
# Overridable: CC CLANG BPFTOOL ARCH CFLAGS GO GO_NEW STDSIG_GO V=1 SANITIZE=1

# SANITIZE=1 builds luprobe with ASan and UBSan into its own directory (and
# the tests run that build); the Go targets and the benchmark's stay in .output
ifeq ($(SANITIZE),1)
OUTPUT ?= .output-asan
else
OUTPUT ?= .output
endif
SHARED := .output
CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# Debian's golang-go (1.19) builds the test targets, whatever Go comes first on PATH;
# the newest other Go (GO_NEW, else found by tests/go/build.sh) builds them again
GO ?= $(or $(wildcard /usr/lib/go/bin/go),go)
# the tests that run go themselves run the same one
GODIR := $(patsubst %/go,%/:,$(filter %/go,$(GO)))
CFLAGS ?= -g -O2
prefix ?= /usr/local
bindir ?= $(prefix)/bin
datadir ?= $(prefix)/share/luprobe
mandir ?= $(prefix)/share/man
docdir ?= $(prefix)/share/doc/luprobe
bashcompdir ?= $(prefix)/share/bash-completion/completions
# systemd reads /usr/local/lib/systemd/system too; Debian 12's place is /lib/systemd/system
unitdir ?= $(prefix)/lib/systemd/system
SCDOC ?= scdoc

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PKGS := lua5.4 libbpf libelf libdw capstone
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
INCLUDES := -I$(OUTPUT) -Isrc -Isrc/go -Ibpf $(PKG_CFLAGS)
# each object's real header dependencies, written as it is compiled
DEPFLAGS = -MMD -MP
CAPSTONE_SONAME := $(or $(shell readelf -d $$(pkg-config --variable=libdir capstone 2>/dev/null)/libcapstone.so 2>/dev/null | sed -n 's/.*soname: \[\(.*\)\]/\1/p'),libcapstone.so.4)
DEFS := -D_GNU_SOURCE -DLUPROBE_VERSION='"$(VERSION)"' -DLUPROBE_LUADIR='"$(datadir)/lua"' \
	-DCAPSTONE_SONAME='"$(CAPSTONE_SONAME)"'
LDLIBS := $(PKG_LIBS) -lz -lm -lpthread
# capstone is loaded with dlopen (src/go/capstone_loader.c): only the unit tests link it
LDFLAGS += -Wl,--as-needed

ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SRCS := $(sort $(wildcard src/*.c))
OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
# src/go/: what luprobe knows of Go binaries (it needs only the logger and
# capstone), a static library that luprobe, the unit tests and the fuzzers link
GO_SRCS := $(sort $(wildcard src/go/*.c))
GO_MODULES := $(patsubst src/go/%.c,%,$(GO_SRCS)) stdsig_tab
GO_OBJS := $(patsubst %,$(OUTPUT)/go/%.o,$(GO_MODULES))
LIBGO := $(OUTPUT)/libgo.a
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))
BPF_SRCS := bpf/luprobe.bpf.c
BPF_HDRS := $(wildcard bpf/*.h)

.DELETE_ON_ERROR:
BENCH_BINS := $(SHARED)/bench/bench $(SHARED)/bench/floor
GOENV := GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local \
	$(if $(HOME),,GOCACHE=$(abspath $(SHARED))/gocache)

.PHONY: all deps demo test unit gotargets benchbins bench bench-batteries fuzz fuzz-build install clean format man

all: $(OUTPUT)/luprobe luprobe

luprobe: $(OUTPUT)/luprobe
	$(Q)ln -sf $(OUTPUT)/luprobe luprobe

$(OUTPUT) $(OUTPUT)/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/luprobe.tmp.bpf.o: $(BPF_SRCS) $(BPF_HDRS) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) $(BPF_CFLAGS) \
		-I$(OUTPUT) -Ibpf -c $< -o $@

$(OUTPUT)/luprobe.bpf.o: $(OUTPUT)/luprobe.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/luprobe.skel.h: $(OUTPUT)/luprobe.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name luprobe_bpf > $@

# Only the modules that embed the BPF object wait for the skeleton.
SKEL_USERS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(shell grep -l 'luprobe.skel.h' src/*.c 2>/dev/null))
$(SKEL_USERS): $(OUTPUT)/luprobe.skel.h

$(OUTPUT)/%.o: src/%.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) $(DEFS) $(INCLUDES) -c $< -o $@

$(OUTPUT)/go/%.o: src/go/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) $(DEFS) $(INCLUDES) -c $< -o $@

$(LIBGO): $(GO_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The Go standard library's signatures (src/go/stdsig.tab, 390 KB of text) go
# into the binary gzip-compressed (about 64 KB); src/go/stdsig.c inflates them on
# first use. The same rules serve the fuzzers' copy of libgo.a.
%/stdsig.tab.gz: src/go/stdsig.tab
	$(call msg,GZIP,$@)
	$(Q)mkdir -p $(@D) && gzip -9nc $< > $@

.SECONDARY: $(OUTPUT)/go/stdsig.tab.gz $(SHARED)/fuzz/obj/go/stdsig.tab.gz

%/stdsig_tab.o: %/stdsig.tab.gz
	$(call msg,AS,$@)
	$(Q)printf '%s\n' '.section .rodata.stdsig,"a"' '.globl stdsig_gz' 'stdsig_gz:' \
		'.incbin "$(abspath $<)"' 'stdsig_gz_end:' '.balign 8' '.globl stdsig_gz_size' \
		'stdsig_gz_size:' '.8byte stdsig_gz_end - stdsig_gz' \
		'.section .note.GNU-stack,"",@progbits' | $(CC) -c -x assembler -o $@ -

# make stdsig: regenerate src/go/stdsig.tab from the newest Go on the machine
# (scripts/stdsig/main.go says how); the table records that release
STDSIG_GO ?= $(or $(wildcard /usr/local/go/bin/go),go)
.PHONY: stdsig
stdsig:
	$(call msg,GEN,src/go/stdsig.tab)
	$(Q)cd scripts/stdsig && $(GOENV) $(STDSIG_GO) run . -goroot "$$($(STDSIG_GO) env GOROOT)" \
		-o $(abspath src/go/stdsig.tab)

$(OUTPUT)/luprobe: $(OBJS) $(LIBGO)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(OBJS) $(LIBGO) $(LDLIBS) -o $@

# A unit test links libgo.a and the logger, and the other modules it names on a
# line "// UNIT-DEPS: plan predicate" (a module of libgo.a named there is skipped).
# Its dependency file goes aside: tests/run.py runs every test_* in unit/.
.SECONDEXPANSION:
unit_deps = $(patsubst %,$(OUTPUT)/%.o,$(filter-out log $(GO_MODULES),\
	$(shell sed -n 's|^// UNIT-DEPS:||p' tests/unit/$(1).c)))
$(OUTPUT)/unit/%: tests/unit/%.c $$(call unit_deps,$$*) $(OUTPUT)/log.o $(LIBGO) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)/.deps && $(CC) $(CFLAGS) $(WARN) -MMD -MP -MF $(@D)/.deps/$*.d -MT $@ \
		$(DEFS) $(INCLUDES) -Itests/unit $< $(call unit_deps,$*) $(OUTPUT)/log.o $(LIBGO) \
		$(LDFLAGS) $(LDLIBS) -o $@

unit: $(UNIT_BINS)

gotargets:
	$(Q)GO=$(GO) $(if $(GO_NEW),GO_NEW=$(GO_NEW)) OUTPUT=$(SHARED) tests/go/build.sh

deps:
	$(Q)scripts/install-deps.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all gotargets
	$(Q)scripts/demo.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all man unit gotargets benchbins fuzz-build
	$(Q)PATH=$(GODIR)$$PATH LUPROBE_OUTPUT=$(OUTPUT) LUPROBE_SANITIZE=$(SANITIZE) python3 tests/run.py $(TESTS)

$(SHARED)/bench/bench: $(wildcard bench/go/*.go) bench/go/go.mod
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd bench/go && $(GOENV) $(GO) build -o $(abspath $@) .

# shared by both builds: never with the sanitizers
$(SHARED)/bench/floor: bench/floor.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(filter-out -fsanitize%,$(CFLAGS)) $(WARN) $< $(PKG_LIBS) -o $@

benchbins: $(BENCH_BINS)

# a real Jaeger for the OTLP tests (built once into .cache/jaeger from the module proxy)
.PHONY: jaeger
jaeger:
	$(Q)tests/jaeger.sh >/dev/null

# the benchmark compares with bpftrace: install it too
bench:
	$(Q)LUPROBE_EXTRA_PKGS=bpftrace scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all benchbins
	$(Q)tests/gobins.sh
	$(Q)python3 bench/run.py $(BENCH_ARGS)

# what each battery costs a busy server (wrk on loopback, traced ÷ untraced)
bench-batteries:
	$(Q)LUPROBE_EXTRA_PKGS=wrk scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all gotargets
	$(Q)python3 bench/batteries.py $(BENCH_ARGS)

# Fuzzing (tests/fuzz): libFuzzer targets built by clang with ASan and UBSan
# from their own objects, seeded from the Go targets and the cached release
# binaries, each run for FUZZ_SECONDS (FUZZ_JOBS=2 runs two at a time).
# fuzz-build builds the fuzzers and seeds; tests/e2e/test_fuzz.py runs each briefly.
FUZZ_OUT := $(SHARED)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := gobin godwarf typespec predicate lua
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
# each fuzzer links the fuzzers' own libgo.a, the logger and the modules named here
fuzz_deps_gobin :=
fuzz_deps_godwarf := plan plan_prune plan_map
fuzz_deps_typespec := plan plan_prune plan_map
fuzz_deps_predicate := predicate plan plan_prune plan_map
fuzz_deps_lua := lua_script lua_load trust lua_probe lua_event lua_globals event decode decode_text \
	decode_json decode_lua probe resolve binary compile bounded tracer ring plan plan_prune plan_map \
	predicate lualloc output strbuf util export_lua export otlp_http otlp_nest otlp_proto otlp_json
fuzz_objs = $(patsubst %,$(FUZZ_OUT)/obj/%.o,$(fuzz_deps_$(1)) log)
FUZZ_LIBGO := $(FUZZ_OUT)/libgo.a
FUZZ_GO_OBJS := $(patsubst %,$(FUZZ_OUT)/obj/go/%.o,$(GO_MODULES))
FUZZ_BINS := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))
# the objects are intermediate files of a pattern chain: keep them
.SECONDARY: $(sort $(foreach t,$(FUZZ_TARGETS),$(call fuzz_objs,$(t))) $(FUZZ_GO_OBJS))

$(FUZZ_OUT)/obj/%.o: src/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) $(DEPFLAGS) \
		$(DEFS) $(INCLUDES) -c $< -o $@

$(FUZZ_OUT)/obj/go/%.o: src/go/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) $(DEPFLAGS) \
		$(DEFS) $(INCLUDES) -c $< -o $@

$(FUZZ_LIBGO): $(FUZZ_GO_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# the Lua layer links the tracer, which embeds the BPF object
$(FUZZ_OUT)/obj/tracer.o: $(OUTPUT)/luprobe.skel.h

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_objs,$$*) $(FUZZ_LIBGO)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(FUZZ_OUT)/deps && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) \
		-MMD -MP -MF $(FUZZ_OUT)/deps/fuzz_$*.d -MT $@ $(DEFS) $(INCLUDES) -Itests/fuzz $< \
		$(call fuzz_objs,$*) $(FUZZ_LIBGO) -Wl,--as-needed $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS) gotargets
	$(Q)python3 tests/fuzz/seeds.py $(FUZZ_OUT)/seeds
	$(Q)python3 tests/fuzz/crafted.py $(FUZZ_OUT)/regressions

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

man: $(OUTPUT)/luprobe.1

$(OUTPUT)/luprobe.1: docs/luprobe.1.scd | $(OUTPUT)
	$(call msg,SCDOC,$@)
	$(Q)$(SCDOC) < $< > $@

install: all man
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(datadir)/lua/luprobe $(DESTDIR)$(datadir)/scripts \
		$(DESTDIR)$(mandir)/man1 $(DESTDIR)$(bashcompdir) $(DESTDIR)$(unitdir) \
		$(DESTDIR)$(docdir)
	install -m 0755 $(OUTPUT)/luprobe $(DESTDIR)$(bindir)/luprobe
	install -m 0644 lua/luprobe/*.lua $(DESTDIR)$(datadir)/lua/luprobe/
	install -m 0644 scripts/*.lua $(DESTDIR)$(datadir)/scripts/
	sed 's|@bindir@|$(bindir)|g' deploy/systemd/luprobe-metrics@.service.in > \
		$(DESTDIR)$(unitdir)/luprobe-metrics@.service
	chmod 0644 $(DESTDIR)$(unitdir)/luprobe-metrics@.service
	install -m 0644 $(OUTPUT)/luprobe.1 $(DESTDIR)$(mandir)/man1/luprobe.1
	install -m 0644 dist/luprobe.bash $(DESTDIR)$(bashcompdir)/luprobe
	sed 's|@bindir@|$(bindir)|g' dist/luprobe@.service.in > $(DESTDIR)$(unitdir)/luprobe@.service
	chmod 0644 $(DESTDIR)$(unitdir)/luprobe@.service
	install -m 0644 README.md docs/lua-api.md docs/tutorial.md docs/design.md \
		docs/performance.md docs/reliability.md docs/deploy.md $(DESTDIR)$(docdir)/

format:
	clang-format -i src/*.c src/*.h src/go/*.c src/go/*.h bpf/*.c bpf/*.h \
		tests/unit/*.c tests/unit/*.h

clean:
	rm -rf $(OUTPUT) luprobe

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/go/*.d $(OUTPUT)/unit/.deps/*.d \
	$(FUZZ_OUT)/obj/*.d $(FUZZ_OUT)/obj/go/*.d $(FUZZ_OUT)/deps/*.d)
