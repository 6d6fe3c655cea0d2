# healhook — one non-recursive Makefile.
#   make            build build/healhook
#   make deps       install missing Debian packages (only what pkg-config/which say is missing)
#   make test       deps + build + every test; ends with "N passed, N failed"
#   make SAN=address,undefined test   the same under sanitizers
#   make demo       run healhook end to end on this machine
#   make lint       clang-format check
#   make bench      benchmarks (bench/): rewrites docs/performance.md and docs/performance.png

PKGS     := libcurl libgit2 libssh2 libcjson libmicrohttpd sqlite3
BUILD    ?= build
CC       ?= cc
OPT      ?= -O2
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?=
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmbedcrypto -lpthread
ifneq ($(SAN),)
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SAN)
endif
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif

LIB_SRC  := $(sort $(wildcard internal/*.c webhook/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TOOL_SRC:%.c=$(BUILD)/obj/%.d)

.PHONY: all deps test unit lint demo clean fuzz bench
all: $(BUILD)/healhook

$(BUILD)/healhook: $(CMD_OBJ) $(BUILD)/libhealhook.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libhealhook.a $(LDLIBS)

$(BUILD)/libhealhook.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libhealhook.a
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(BUILD)/libhealhook.a $(LDLIBS)

# Small test programs (tests/tools/NAME.c → build/tools/NAME) that drive one module against
# real servers started by the integration tests.
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(BUILD)/libhealhook.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libhealhook.a $(LDLIBS)

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
	@$(MAKE) --no-print-directory all $(BUILD)/unit-tests $(TOOLS)
	@python3 tests/run.py --build $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash ci/demo.sh $(BUILD)/healhook

# Installs wrk, webhook, hyperfine, gnuplot and valgrind when missing, then runs every
# benchmark on 127.0.0.1 (about 3 minutes on 2 cores).
bench: deps
	@sh bench/deps.sh
	@$(MAKE) --no-print-directory all $(BUILD)/tools/diff_lines
	@BUILD=$(abspath $(BUILD)) python3 bench/bench.py

lint:
	@clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC) $(wildcard internal/*.h webhook/*.h)

clean:
	rm -rf $(BUILD)
