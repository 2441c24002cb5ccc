# The two commands of the README: `make demo` and `make test`. Both install
# what they need first (scripts/install-deps.sh is idempotent).

CARGO ?= cargo

.PHONY: deps build test lint demo bench clean-demo

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --workspace --bins

lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Everything: formatting, lints, unit tests and the end-to-end tests, which
# start real orchestrator and worker processes (built here first).
# (--all-targets builds the binaries with the same features as the tests, so
# nothing is compiled twice.)
test: lint
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace --no-fail-fast

# An orchestrator and two workers on this machine, a render through them.
demo: build
	@scripts/demo.sh

# Msamples/s of the CPU path tracer on the Cornell box (512x512, 128 spp,
# 8 bounces) against Blender's Cycles, which this installs.
bench: build
	@scripts/install-deps.sh --bench
	target/debug/mosaic bench render

clean-demo:
	rm -rf demo-out
