# The two commands of the README: `make demo` and `make test`. Both install
# what they need first (scripts/install-deps.sh is idempotent).

CARGO ?= cargo

.PHONY: deps build test lint demo bench bench-render bench-transcode bench-verify bench-live clean-demo

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

# Every benchmark; each prints what it compares against and the ratio.
bench: bench-render bench-transcode bench-verify bench-live

# Msamples/s of the CPU path tracer on the Cornell box (512x512, 128 spp,
# 8 bounces) against Blender's Cycles, which this installs.
bench-render: build
	@scripts/install-deps.sh --bench
	target/debug/mosaic bench render

# Our segment transcoder against the ffmpeg CLI, same 1080p30 ladder.
bench-transcode: build
	target/debug/mosaic bench transcode

# Spot-check fingerprints on a generated corpus: how often honest pairs
# (another preset, bitrate, seed or sample count) are called mismatches
# against how often each attack is caught, the margins between them, and
# what a check costs against the work it checks.
bench-verify: build
	target/debug/mosaic bench verify

# The live path's added latency over a 60 s 720p stream with two workers.
bench-live: build
	@scripts/bench-live.sh

clean-demo:
	rm -rf demo-out
