# PluginHost — set-up, demo, tests and benchmarks. Every target installs what it needs.
SWIFT ?= swift
BIN := $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: all deps test-deps build demo test bench clean

all: build

# libffi-dev (for the ParMap plugin) through apt-get when it is missing.
deps:
	@if ! pkg-config --exists libffi 2>/dev/null && [ ! -e /usr/include/x86_64-linux-gnu/ffi.h ] && [ ! -e /usr/include/ffi.h ]; then \
		echo "installing libffi-dev and pkg-config"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libffi-dev pkg-config; \
	fi

# For the remote-worker tests: real sshd and ssh, iproute2 for network namespaces, python3 for
# the test scripts (and a launcher that damages a blob in transit); Debian's Slurm and munge for
# the Slurm test (no service is started: the test starts its own daemons).
test-deps:
	@if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ip >/dev/null || ! command -v python3 >/dev/null \
	    || [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] || ! command -v srun >/dev/null || [ ! -x /usr/sbin/munged ]; then \
		echo "installing openssh-server, openssh-client, iproute2, python3, slurm-wlm and munge"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client iproute2 python3 slurm-wlm munge; \
	fi

build: deps
	$(SWIFT) build

# The main job on the bundled example: every proof of a small Metamath database, verified by
# two one-shot workers.
demo: build
	$(BIN)/plugin-host run -j 2 proofcheck Examples/proofcheck/implication.mm

# Unit and CLI tests (debug), the engine's tests again through fork servers, then the release
# integration tests: all of iset.mm through the host, two workers filling one blob cache at once,
# workers on two ssh hosts in network namespaces, and workers placed by a real two-node Slurm
# (the README's recipe).
test: build test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	# The engine's suites once more with every local worker forked by a fork server.
	PLUGIN_HOST_TEST_FORK_SERVER=1 $(SWIFT) test --skip-build --filter PluginHostTests
	$(SWIFT) build -c release
	bash Tests/Integration/proofcheck-iset.sh $(RELEASE_BIN)
	bash Tests/Integration/blob-cache-race.sh $(RELEASE_BIN)
	bash Tests/Integration/remote-hosts.sh $(RELEASE_BIN)
	bash Tests/Integration/slurm.sh $(RELEASE_BIN)

bench: deps test-deps
	$(SWIFT) build -c release
	bash Benchmarks/run.sh $(RELEASE_BIN)
	bash Benchmarks/parmap/run.sh $(RELEASE_BIN)
	bash Benchmarks/remote/run.sh $(RELEASE_BIN)

clean:
	rm -rf .build Benchmarks/out
