# mktme-kernel: build, boot, test, measure.
# `make` installs dependencies from package-lock.json when node_modules is missing or
# older than the lock file, then type-checks and compiles the tree to build/.

NODE     ?= node
# V8 flags for every run of the machine: Node 20's V8 has ArrayBuffer.prototype.transfer
# (ECMAScript 2024) only behind this flag, and the line cipher frees node:crypto's answers
# with it (arch/x86/hw/crypto/ecb.ts). Passed only where this node accepts it.
NODE_V8  ?= $(shell $(NODE) --harmony-rab-gsab-transfer -e 0 2>/dev/null && echo --harmony-rab-gsab-transfer)
STAMP    := node_modules/.install-stamp
TSC      := node_modules/.bin/tsc
TAP      := node_modules/.bin/tap
BENCH_FLAGS ?=
TAP_FLAGS ?=

.PHONY: all build run test tap bench fuzz clean

all: build

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

build: $(STAMP)
	$(TSC) -p tsconfig.json
	@# Drop outputs whose source is gone (tsc never deletes), so no stale test runs.
	@find build -name '*.js' | while read -r f; do s="$${f#build/}"; \
	  [ -f "$${s%.js}.ts" ] || rm -f "$$f" "$$f.map"; done

run: $(STAMP)
	@NODE=$(NODE) NODE_V8='$(NODE_V8)' ./tools/shell $(ARGS)

# Every compiled test file in its own node process, two at a time (tests/run.ts);
# TESTS='kvm golden' runs the files whose paths contain one of the words.
test: build
	@$(NODE) build/tests/run.js $(TESTS)

# The same suite under tap's runner, with its coverage report (slower).
tap: build
	$(TAP) $(TAP_FLAGS)

bench: build
	@$(NODE) $(NODE_V8) --expose-gc build/bench/bench.js $(BENCH_FLAGS)

# Seeded fuzz campaign (tools/fuzz): FUZZ_SECONDS of cases from FUZZ_SEED.
FUZZ_SECONDS ?= 30
FUZZ_SEED ?= 1
fuzz: build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) $(NODE) $(NODE_V8) build/tools/fuzz/main.js

clean:
	rm -rf build .tap
