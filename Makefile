# PluginHost — set-up, demo, tests and benchmarks. Every target installs what it needs.
SWIFT ?= swift
BIN := $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: all deps build demo test bench clean

all: build

# libffi-dev (for the ParMap plugin) through apt-get when it is missing.
deps:
	@if ! pkg-config --exists libffi 2>/dev/null && [ ! -e /usr/include/x86_64-linux-gnu/ffi.h ] && [ ! -e /usr/include/ffi.h ]; then \
		echo "installing libffi-dev and pkg-config"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libffi-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build

# The main job on the bundled example (the chaos task kind until the ProofCheck plugin lands).
demo: build
	$(BIN)/plugin-host run -j 2 --no-progress chaos --file Examples/chaos-demo.txt; \
	status=$$?; echo "plugin-host exited with status $$status (1 = some tasks failed, as the demo intends)"; \
	[ $$status -le 1 ]

test: build
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: deps
	$(SWIFT) build -c release
	bash Benchmarks/run.sh $(RELEASE_BIN)
	bash Benchmarks/parmap/run.sh $(RELEASE_BIN)

clean:
	rm -rf .build Benchmarks/out
