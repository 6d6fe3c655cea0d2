# healhook — one non-recursive Makefile.
#   make            build build/healhook
#   make deps       install missing Debian packages (only what pkg-config/which say is missing)
#   make test       deps + build + every test; ends with "N passed, N failed"
#   make SAN=address,undefined test   the same under sanitizers
#   make BUILD=build-san SAN=address,undefined build-san/unit-tests   unit tests with ASan+UBSan
#   make oom        out-of-memory unit tests: each allocation fails in turn (FAILALLOC=1, ASan)
#   make fuzz [FUZZ_SECONDS=N]   libFuzzer targets (clang) in build-fuzz/, N seconds each
#   make demo       run healhook end to end on this machine
#   make lint       clang-format check
#   make bench      benchmarks (bench/): rewrites docs/performance.md and docs/performance.png

PKGS     := libcurl libgit2 libssh2 libcjson libmicrohttpd sqlite3 libpq libcrypto
BUILD    ?= build
CC       ?= cc
OPT      ?= -O2
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?=
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmbedcrypto -lpthread
ifneq ($(SAN),)
# A sanitizer report is a failure: UBSan stops instead of printing and going on.
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SAN)
endif
# Sanitizer defaults (tests/san_defaults.c) linked into every program of a SAN build.
SAN_OBJ  := $(if $(SAN),$(BUILD)/obj/tests/san_defaults.o)
# FAILALLOC=1: every allocation of healhook's own code (and of cJSON and SQLite) goes through
# the countdown of tests/failalloc.c, for the out-of-memory unit tests (tests/unit/test_oom.c).
ifeq ($(FAILALLOC),1)
CFLAGS   += -include tests/failalloc.h -DHH_FAILALLOC
SAN_OBJ  += $(BUILD)/obj/tests/failalloc.o
endif
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif

LIB_SRC  := $(sort $(wildcard internal/*.c webhook/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
# Fuzz targets (fuzz/fuzz_NAME.c): libFuzzer binaries for `make fuzz`, and replay drivers
# ($(BUILD)/fuzz-replay-NAME, the normal compiler) that `make test` runs over fuzz/corpus/NAME/.
FUZZ_SRC     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(BUILD)/fuzz-replay-%)
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TOOL_SRC:%.c=$(BUILD)/obj/%.d) \
	    $(FUZZ_SRC:%.c=$(BUILD)/obj/%.d) $(BUILD)/obj/fuzz/replay_main.d

.PHONY: test-build all deps test unit lint demo clean fuzz fuzz-build bench oom
all: $(BUILD)/healhook

$(BUILD)/healhook: $(CMD_OBJ) $(SAN_OBJ) $(BUILD)/libhealhook.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(SAN_OBJ) $(BUILD)/libhealhook.a $(LDLIBS)

$(BUILD)/libhealhook.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/unit-tests: $(UNIT_OBJ) $(SAN_OBJ) $(BUILD)/libhealhook.a
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(SAN_OBJ) $(BUILD)/libhealhook.a $(LDLIBS)

# Small test programs (tests/tools/NAME.c → build/tools/NAME) that drive one module against
# real servers started by the integration tests.
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(SAN_OBJ) $(BUILD)/libhealhook.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(SAN_OBJ) $(BUILD)/libhealhook.a $(LDLIBS)

$(BUILD)/fuzz-replay-%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/replay_main.o $(SAN_OBJ) $(BUILD)/libhealhook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer binaries: only built by `make fuzz`, which calls this with CC=clang, BUILD=build-fuzz
# and SAN=fuzzer-no-link,address,undefined (the library gets coverage and sanitizers).
$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/libhealhook.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# Keep the fuzz objects (make would delete them as intermediate files).
.SECONDARY: $(FUZZ_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/fuzz/replay_main.o $(SAN_OBJ)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(DEPS)

deps:
	@sh ci/deps.sh

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

# Sub-make so that pkg-config flags are read after deps installed the libraries.
test: deps
	@$(MAKE) --no-print-directory test-build
	@python3 tests/run.py --build $(BUILD)

# Everything the tests run, without running them (then: python3 tests/run.py [module]).
test-build: all $(BUILD)/unit-tests $(TOOLS) $(FUZZ_REPLAYS)

# Every allocation of the intake path and of history --json made to fail once in turn, under
# ASan+UBSan (LeakSanitizer at exit): tests/unit/test_oom.c, in its own build directory.
oom:
	@$(MAKE) --no-print-directory BUILD=build-oom SAN=address,undefined FAILALLOC=1 build-oom/unit-tests
	@ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=1 build-oom/unit-tests oom_ \
		2>build-oom/oom.log || { grep -v ' level=' build-oom/oom.log | tail -n 60; exit 1; }

demo: deps
	@$(MAKE) --no-print-directory all
	@bash ci/demo.sh $(BUILD)/healhook

# Each fuzz target runs FUZZ_SECONDS on build-fuzz/corpus/NAME, seeded from fuzz/corpus/NAME
# (see fuzz/run.sh and docs/reliability.md). ci/deps.sh fuzz installs clang's libFuzzer.
fuzz:
	@sh ci/deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang SAN=fuzzer-no-link,address,undefined fuzz-build
	@sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

# Installs wrk, webhook, hyperfine, gnuplot and valgrind when missing, then runs every
# benchmark on 127.0.0.1 (about 7 minutes on 2 cores; the first run also fills the 1M-row
# store, kept in build/bench/store1m; HEALHOOK_BENCH_BEFORE=OLD_BINARY adds the before figures).
bench: deps
	@sh bench/deps.sh
	@$(MAKE) --no-print-directory all $(BUILD)/tools/diff_lines $(BUILD)/tools/store_ops $(BUILD)/tools/limits $(BUILD)/tools/nullhttp
	@BUILD=$(abspath $(BUILD)) python3 bench/bench.py

lint:
	@clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC) $(wildcard internal/*.h webhook/*.h)
	@python3 ci/lint.py

clean:
	rm -rf $(BUILD)
