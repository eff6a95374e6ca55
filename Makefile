# libcodec build, test, benchmark and install.
#
#   make            library (build/lib), header check, C examples (build/bin)
#   make demo       build and run the end-to-end demo
#   make test       every test: Rust, C (plain, valgrind, ASan/UBSan, installed tree), TSan, Python
#   make bench      benchmarks -> bench/RESULTS.md
#   make fuzz       every fuzz target for FUZZ_SECONDS (default 60) each -> docs/fuzzing.md
#                   (FUZZ_SANITIZER=none: coverage only, about 5x the executions per second)
#   make fuzz-smoke regression replay + a short run of every fuzz target (CI)
#   make install    PREFIX=/usr/local LIBDIR=$(PREFIX)/lib INCLUDEDIR=$(PREFIX)/include DESTDIR=
#   make header     regenerate include/codec.h after changing the C surface

CARGO      ?= cargo
CC         ?= cc
CXX        ?= c++
RUSTC      ?= rustc
PYTHON     ?= python3
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
MAJOR   := $(firstword $(subst ., ,$(VERSION)))
SONAME  := libcodec.so.$(MAJOR)
REALSO  := libcodec.so.$(VERSION)
# What a static link of a Rust staticlib needs on Linux (`--print native-static-libs`).
LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

B       := build
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -pedantic -O1 -g
EXAMPLES := $(patsubst examples-c/%.c,$(B)/bin/%,$(wildcard examples-c/*.c))
CTESTS   := $(patsubst tests/c/%.c,%,$(wildcard tests/c/test_*.c))
VENV     := $(B)/venv
export CODEC_LIBRARY := $(abspath $(B)/lib/$(REALSO))
# Every format is in the library: a test that finds one missing must fail, not skip.
export CODEC_REQUIRE_ALL_FORMATS := 1
export CODEC_STRICT_FORMATS := 1

.PHONY: all lib examples demo test test-rust test-c test-c-plain test-c-valgrind test-c-asan \
        test-tsan test-install test-python test-go test-codecat bench install uninstall header \
        clean venv fuzz fuzz-build fuzz-corpus fuzz-smoke

all: lib examples

# ---------------------------------------------------------------- library
lib: $(B)/lib/$(REALSO) $(B)/lib/libcodec.a $(B)/codec.pc

.PHONY: cargo-build
cargo-build:
	$(CARGO) build --release --lib

$(B)/lib/$(REALSO) $(B)/lib/libcodec.a: cargo-build
	@mkdir -p $(B)/lib
	@cmp -s target/release/libcodec.so $(B)/lib/$(REALSO) || cp target/release/libcodec.so $(B)/lib/$(REALSO)
	@cmp -s target/release/libcodec.a $(B)/lib/libcodec.a || cp target/release/libcodec.a $(B)/lib/libcodec.a
	@ln -sf $(REALSO) $(B)/lib/$(SONAME)
	@ln -sf $(SONAME) $(B)/lib/libcodec.so

# codec.pc for the build tree (prefix = build dir) and, at install time, for PREFIX.
define PCFILE
prefix=$(1)
libdir=$(2)
includedir=$(3)

Name: codec
Description: libcodec: streaming zstd, LZ4 and xz/LZMA with flush, resumable decoders and shared dictionaries
Version: $(VERSION)
Libs: -L$${libdir} -lcodec
Libs.private: $(LIBS_PRIVATE)
Cflags: -I$${includedir}
endef
export PCFILE

$(B)/codec.pc: Cargo.toml Makefile
	@mkdir -p $(B)
	@$(file >$@,$(call PCFILE,$(abspath $(B)),$(abspath $(B)/lib),$(abspath include)))true

# ---------------------------------------------------------------- examples
examples: $(EXAMPLES)

$(B)/bin/%: examples-c/%.c $(wildcard examples-c/*.h) include/codec.h lib
	@mkdir -p $(B)/bin
	$(CC) $(CFLAGS_STRICT) -Iinclude -o $@ $< -L$(B)/lib -lcodec -Wl,-rpath,'$$ORIGIN/../lib'

demo: all
	$(B)/bin/demo

# ---------------------------------------------------------------- tests
test: test-rust test-c test-tsan test-install test-python test-go test-codecat

test-rust:
	$(CARGO) test --release

test-c: test-c-plain test-c-valgrind test-c-asan

$(B)/tests/%: tests/c/%.c $(wildcard tests/c/*.h) include/codec.h lib
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS_STRICT) -Iinclude -Itests/c -o $@ $< -L$(B)/lib -lcodec -lpthread -Wl,-rpath,'$$ORIGIN/../lib'

$(B)/tests/%.asan: tests/c/%.c $(wildcard tests/c/*.h) include/codec.h lib
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS_STRICT) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-Iinclude -Itests/c -o $@ $< -L$(B)/lib -lcodec -lpthread -Wl,-rpath,'$$ORIGIN/../lib'

$(B)/tests/header_cxx: tests/c/header_cxx.cc include/codec.h lib
	@mkdir -p $(B)/tests
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -o $@ $< -L$(B)/lib -lcodec -Wl,-rpath,'$$ORIGIN/../lib'

# The README's C example must compile warning-free and run.
$(B)/tests/readme_example: README.md include/codec.h lib
	@mkdir -p $(B)/tests
	@awk '/^```c$$/{f=1;next} /^```$$/{if(f)exit} f' README.md > $(B)/tests/readme_example.c
	$(CC) $(CFLAGS_STRICT) -Iinclude -o $@ $(B)/tests/readme_example.c -L$(B)/lib -lcodec -Wl,-rpath,'$$ORIGIN/../lib'

test-c-plain: $(addprefix $(B)/tests/,$(CTESTS)) $(B)/tests/header_cxx $(B)/tests/readme_example examples
	@set -e; for t in $(CTESTS); do echo "== C test $$t"; $(B)/tests/$$t; done
	$(B)/tests/header_cxx
	$(B)/tests/readme_example
	@set -e; for e in $(EXAMPLES); do echo "== example $$e"; $$e < /dev/null > /dev/null; done

test-c-valgrind: $(addprefix $(B)/tests/,$(CTESTS)) examples
	@set -e; for t in $(addprefix $(B)/tests/,$(CTESTS)) $(EXAMPLES); do \
		echo "== valgrind $$t"; \
		CODEC_TEST_QUICK=1 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
			--show-leak-kinds=definite $$t < /dev/null > /dev/null; done

test-c-asan: $(addprefix $(B)/tests/,$(addsuffix .asan,$(CTESTS)))
	@set -e; for t in $(CTESTS); do echo "== ASan/UBSan $$t"; \
		ASAN_OPTIONS=detect_leaks=1 $(B)/tests/$$t.asan > /dev/null; done

# The 8-thread shared-dictionary tests (tests/c/test_threads.c, tests/threads.rs) under
# ThreadSanitizer, with libcodec itself and its C libraries instrumented: a separate build of the
# static library (RUSTC_BOOTSTRAP=1 unlocks -Zsanitizer on stable; the cc crate passes
# -fsanitize=thread to the C code), linked with the Rust toolchain's TSan runtime (GCC's libtsan
# lacks entry points LLVM's instrumentation calls). Not helgrind: it cannot see the futex-based
# synchronisation of Rust's std and once_cell and reports hundreds of false races on
# dictionary tables published through them. tests/tsan.supp says what is suppressed and why.
TSAN_DIR := $(B)/tsan
TSAN_TRIPLE := x86_64-unknown-linux-gnu
TSAN_ENV := RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
	CFLAGS=-fsanitize=thread
TSAN_OPTS := TSAN_OPTIONS="suppressions=$(abspath tests/tsan.supp) halt_on_error=1 exitcode=66"

test-tsan:
	$(TSAN_ENV) $(CARGO) build --release --lib --target $(TSAN_TRIPLE) --target-dir $(TSAN_DIR)
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS_STRICT) -fsanitize=thread -Iinclude -Itests/c -c -o $(B)/tests/test_threads.tsan.o tests/c/test_threads.c
	$(CXX) -o $(B)/tests/test_threads.tsan $(B)/tests/test_threads.tsan.o $(TSAN_DIR)/$(TSAN_TRIPLE)/release/libcodec.a \
		-Wl,--whole-archive "$$(ls "$$($(RUSTC) --print sysroot)"/lib/rustlib/$(TSAN_TRIPLE)/lib/librustc-*_rt.tsan.a | head -n1)" \
		-Wl,--no-whole-archive $(LIBS_PRIVATE)
	@echo "== TSan test_threads (C)"
	$(TSAN_OPTS) $(B)/tests/test_threads.tsan
	@echo "== TSan tests/threads.rs"
	$(TSAN_OPTS) $(TSAN_ENV) $(CARGO) test --release --target $(TSAN_TRIPLE) --target-dir $(TSAN_DIR) --test threads

# Install into a staging tree and build a program against it through pkg-config, both
# shared and static.
test-install: lib
	@rm -rf $(B)/stage
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(B)/stage) PREFIX=/usr LIBDIR=/usr/lib INCLUDEDIR=/usr/include
	tests/c/check_install.sh $(abspath $(B)/stage) $(CC)

venv: $(VENV)/.ok
$(VENV)/.ok: python/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r python/requirements-test.txt
	@touch $@

test-python: lib venv
	cd python && ../$(VENV)/bin/python -m pytest -q tests

# The Go package finds libcodec through pkg-config: here the build tree's codec.pc; the
# rpath lets the test binary load build/lib/libcodec.so. Without pkg-config the
# codec_nopkgconfig tag makes CGO_CFLAGS / CGO_LDFLAGS enough.
test-go: lib
	@if command -v go >/dev/null 2>&1 && [ -d go ]; then \
		tags=; command -v pkg-config >/dev/null 2>&1 || tags="-tags codec_nopkgconfig"; \
		cd go && PKG_CONFIG_PATH="$(abspath $(B))$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH}" \
		CGO_CFLAGS="-I$(abspath include)" CGO_LDFLAGS="-L$(abspath $(B)/lib) -lcodec -Wl,-rpath,$(abspath $(B)/lib)" \
		go test $$tags -count=1 ./...; \
	else echo "== Go not installed (or no go/ yet): skipping go test"; fi

# codecat against the real binary: round trips, interop with the zstd / lz4 / xz tools,
# parameters, dictionaries, flushes, errors, and kill -9 / resume with --state.
test-codecat: examples
	$(PYTHON) tests/codecat_test.py $(B)/bin/codecat

# ---------------------------------------------------------------- fuzzing
# libFuzzer through the libfuzzer-sys crate, on stable Rust (RUSTC_BOOTSTRAP=1 unlocks the
# sanitizer flag): coverage-instrumented Rust, AddressSanitizer. fuzz/ is its own workspace
# with its own target directory. See docs/fuzzing.md.
#
# FUZZ_SANITIZER=none builds the same targets with coverage only (panics, overflow checks and
# debug assertions stay on; no ASan, no leak check) in fuzz/target-nosan: about five times the
# executions per second, for long campaigns. CI's smoke always uses ASan.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_SANITIZER ?= address
FUZZ_TARGETS ?= decode_zstd decode_lz4 decode_lz4blocks decode_xz decode_lzma2 decode_lzma decode_auto \
                unmarshal dict_load roundtrip
FUZZ_TRIPLE := x86_64-unknown-linux-gnu
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing

# The cc crate compiles the bundled C libraries with AddressSanitizer too (not with coverage).
# GCC's use-after-scope instrumentation reports a false positive in zstd's optimal parser
# (ZSTD_selectBtGetAllMatches: a const local table that GCC places in .rodata keeps its
# scope poisoning), so that one check is off for C.
FUZZ_CFLAGS := -fno-sanitize-address-use-after-scope

ifeq ($(FUZZ_SANITIZER),address)
FUZZ_TARGET_DIR := target
FUZZ_BUILD = cd fuzz && RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(FUZZ_RUSTFLAGS) -Zsanitizer=address" \
	CFLAGS="$(FUZZ_CFLAGS)" $(CARGO) build --release --target $(FUZZ_TRIPLE) --bins
FUZZ_GEN_CORPUS := ASAN_OPTIONS=detect_leaks=0 fuzz/target/$(FUZZ_TRIPLE)/release/gen_corpus
else ifeq ($(FUZZ_SANITIZER),none)
# Without the ASan runtime nothing provides the coverage callbacks to gen_corpus (it has no
# libFuzzer), so the seed generator is built plainly in its own directory.
FUZZ_TARGET_DIR := target-nosan
FUZZ_BUILD = cd fuzz && RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(FUZZ_RUSTFLAGS)" CARGO_TARGET_DIR=target-nosan \
	$(CARGO) build --release --target $(FUZZ_TRIPLE) $(foreach t,$(FUZZ_TARGETS),--bin $(t)) && \
	CARGO_TARGET_DIR=target-plain $(CARGO) build --release --bin gen_corpus
FUZZ_GEN_CORPUS := fuzz/target-plain/release/gen_corpus
else
$(error FUZZ_SANITIZER must be address or none)
endif

fuzz-build:
	$(FUZZ_BUILD)

# The seed corpus is generated from valid streams of every format, not committed.
fuzz-corpus: fuzz-build
	rm -rf fuzz/corpus/seed
	$(FUZZ_GEN_CORPUS) fuzz/corpus/seed

fuzz: fuzz-corpus
	FUZZ_BIN=$(FUZZ_TARGET_DIR)/$(FUZZ_TRIPLE)/release fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-corpus
	fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# ---------------------------------------------------------------- benchmarks
bench: lib venv
	bench/run.sh

# ---------------------------------------------------------------- install
install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(B)/lib/$(REALSO) $(DESTDIR)$(LIBDIR)/$(REALSO)
	ln -sf $(REALSO) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcodec.so
	install -m 644 $(B)/lib/libcodec.a $(DESTDIR)$(LIBDIR)/libcodec.a
	install -m 644 include/codec.h $(DESTDIR)$(INCLUDEDIR)/codec.h
	@$(file >$(B)/codec.install.pc,$(call PCFILE,$(PREFIX),$(LIBDIR),$(INCLUDEDIR)))true
	install -m 644 $(B)/codec.install.pc $(DESTDIR)$(PKGCONFIGDIR)/codec.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALSO) $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libcodec.so \
		$(DESTDIR)$(LIBDIR)/libcodec.a $(DESTDIR)$(INCLUDEDIR)/codec.h $(DESTDIR)$(PKGCONFIGDIR)/codec.pc

header:
	CODEC_REGENERATE_HEADER=1 $(CARGO) test --test header

clean:
	rm -rf $(B)
	$(CARGO) clean
