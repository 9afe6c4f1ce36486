# rlgf: the only build entry. `make demo` and `make test` are all a newcomer needs.
#
# Determinism contract (README, "Determinism"): no -ffast-math, no FMA contraction, no
# -march=native, no libm transcendental (sim/base/dmath.h has rlgf's own). `make OPT=-march=native`
# is an opt-in whose bits differ (documented in README).

CC      ?= gcc
OPT     ?=
CFLAGS  ?= -O2 -g
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
BASEFLAGS := -DRLGF_VERSION=\"$(VERSION)\" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread -ffp-contract=off -fno-fast-math $(OPT)
PKGS    := hdf5 inih cmocka
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lnettle -lm -pthread

LIB_SRC  := $(sort $(wildcard sim/*/*.c envs/*.c algos/*.c analysis/*.c))
CLI_SRC  := $(sort $(wildcard sim/cli/*.c))
LIB_SRC  := $(filter-out $(CLI_SRC),$(LIB_SRC))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
B ?= build
BIN ?= rlgf
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(B)/tests/%)
A := build/asan
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJ := $(LIB_SRC:%.c=$(A)/%.o)
ASAN_TESTS := $(TEST_SRC:tests/%.c=$(A)/tests/%)

.PHONY: all deps test unit asan e2e demo bench bench-peer bench-deps fuzz fuzz-build clean paper dmath-tables clang-build check-aarch64
all: $(BIN)

deps:
	@tools/deps.sh

$(B)/%.o: %.c $(wildcard sim/*/*.h envs/*.h algos/*.h analysis/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(B)/librlgf.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_SRC:%.c=$(B)/%.o) $(B)/librlgf.a
	$(CC) $(BASEFLAGS) $(CFLAGS) $^ $(PKG_LIBS) -o $@

# rlgf's maths cross-built for aarch64 and run under qemu-user: the same bits as on x86-64
# (installs its cross toolchain and arm64 libraries; not part of `make test`).
check-aarch64:
	@tools/check_aarch64.sh

# The same program built by clang, in its own build directory: tests/e2e_portable.sh checks that
# it writes the same bits as the gcc build.
clang-build: deps
	@$(MAKE) --no-print-directory CC=clang B=build/clang BIN=build/clang/rlgf build/clang/rlgf build/clang/tests/test_dmath build/clang/tests/test_model

$(B)/tests/%: tests/%.c $(B)/librlgf.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) $(PKG_CFLAGS) $< $(B)/librlgf.a $(PKG_LIBS) $(TEST_LIBS) -o $@

# MPFR (the correctly rounded oracle) is linked into the maths test only, never into rlgf.
$(B)/tests/test_dmath $(A)/tests/test_dmath: TEST_LIBS = -lmpfr -lgmp

# Regenerates the tables of rlgf's maths from MPFR (only on purpose: they move every digest).
dmath-tables: deps
	@mkdir -p $(B)
	$(CC) -O1 -Wall -Wextra tools/dmath_gen.c -lmpfr -lgmp -o $(B)/dmath_gen
	$(B)/dmath_gen > sim/base/dmath_tables.h

$(A)/%.o: %.c $(wildcard sim/*/*.h envs/*.h algos/*.h analysis/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -c $< -o $@

$(A)/librlgf.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(A)/tests/%: tests/%.c $(A)/librlgf.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) $< $(A)/librlgf.a $(PKG_LIBS) $(TEST_LIBS) -o $@

# Unit tests (cmocka). Each prints its own summary; the last line sums them up.
unit: $(TESTS)
	@tools/run_tests.sh $(TESTS)

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer. HDF5 keeps global
# state until exit, so leak detection is off here. The one slow IMDB training test is skipped here
# (RLGF_SKIP_SLOW); the same code paths run under the sanitizers at toy and imdb_small size.
asan: deps
	@$(MAKE) --no-print-directory $(ASAN_TESTS)
	@RLGF_SKIP_SLOW=1 ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 tools/run_tests.sh $(ASAN_TESTS)

e2e: rlgf clang-build
	@tools/run_e2e.sh

test: deps
	@$(MAKE) --no-print-directory rlgf $(TESTS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory e2e

demo: deps
	@$(MAKE) --no-print-directory rlgf
	@tools/demo.sh

# The paper: reproduction sweeps, analysis and paper/build/rlgf.pdf (LaTeX from Debian).
# SCALE=small (default, <= 45 min on 2 cores), SCALE=full (larger study), SCALE=tiny (smoke test).
paper: deps
	@$(MAKE) --no-print-directory rlgf
	@tools/paper.sh

# The conformance kit checked through the worked PyTorch adapter (README, "Checking your own
# implementation"). Not part of `make test`: it installs Debian's python3-torch (large) if missing.
.PHONY: conformance-torch
conformance-torch: deps
	@$(MAKE) --no-print-directory rlgf
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep -q "install ok installed" || \
	  { echo "rlgf: installing python3-torch for the PyTorch adapter"; \
	    if [ "$$(id -u)" -eq 0 ]; then S=; else S=sudo; fi; \
	    DEBIAN_FRONTEND=noninteractive $$S apt-get install -y -qq --no-install-recommends python3-torch; }
	@rm -rf $(B)/conformance-kit && ./rlgf conformance export $(B)/conformance-kit
	/usr/bin/python3 tools/conformance_check.py $(B)/conformance-kit --adapter tools/conformance_torch_adapter.py:adapter

# Benchmarks (tools/bench.sh): rlgf next to OpenBLAS (the kernels' yardstick, linked into
# build/bench_kernels only, never into rlgf) and, when Debian's python3-torch is installed, next to
# PyTorch; `make bench-peer` installs it first.
bench: deps bench-deps
	@$(MAKE) --no-print-directory rlgf
	@tools/bench.sh

bench-deps:
	@RLGF_EXTRA_PKGS="libopenblas-dev" tools/deps.sh

bench-peer: deps
	@RLGF_EXTRA_PKGS="libopenblas-dev python3-torch" tools/deps.sh
	@$(MAKE) --no-print-directory bench

$(B)/bench_kernels: tools/bench_kernels.c $(B)/librlgf.a
	$(CC) $(BASEFLAGS) $(CFLAGS) $(PKG_CFLAGS) $< $(B)/librlgf.a $(PKG_LIBS) -lopenblas -o $@

# Fuzzing (libFuzzer, clang from Debian): one harness per hostile input (configs, score files,
# run logs), each run for FUZZ_SECONDS from the committed corpus in tests/fuzz/corpus/.
F := build/fuzz
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -pthread -ffp-contract=off -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined -DRLGF_VERSION=\"fuzz\"
FUZZ_OBJ := $(LIB_SRC:%.c=$(F)/%.o)
FUZZERS := $(patsubst tests/fuzz/%.c,$(F)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

$(F)/%.o: %.c $(wildcard sim/*/*.h envs/*.h algos/*.h analysis/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c $< -o $@

$(F)/librlgf.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(F)/fuzz_%: tests/fuzz/fuzz_%.c $(F)/librlgf.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) $< $(F)/librlgf.a $(PKG_LIBS) -o $@

fuzz-build: deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZERS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tools/fuzz.sh $(FUZZERS)

clean:
	rm -rf build rlgf
