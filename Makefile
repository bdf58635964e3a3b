# Sock — developer entry points. The first two are the README's:
#   make generate   regenerate Sources/SockBindings and Sources/Sock/Generated from the pinned headers
#   make test       build and run every test (library and generator)
#   make test-bridges  build and test Bridges/ (SockNIO, SockSystem)
#   make bench      build Benchmarks/ in release and print one table: Sock vs C vs SwiftNIO
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SWIFT ?= swift
# A kernel uapi tree to generate from instead of the pinned package (e.g. /usr/include).
KERNEL_HEADERS ?=
# Restrict generation to some architectures, e.g. ARCHS="x86_64 arm64".
ARCHS ?=
HEADERS_DIR := .headers
SOCKGEN := Generator/.build/debug/sock-gen

# libclang / clang flags, resolved once per recipe by scripts/ensure-deps.sh.
define llvm_flags
-Xcc -I$$llvm/include -Xlinker -L$$llvm/lib -Xlinker -rpath -Xlinker $$llvm/lib
endef

.PHONY: all generate test test-library test-examples test-bridges check-parity test-generator deps headers sock-gen check-generated kernel-diff bench clean

all: test

deps:
	@scripts/ensure-deps.sh >/dev/null

headers:
	@echo "make: [1/3] fetching the pinned header packages" >&2
	@scripts/fetch-headers.sh --dest $(HEADERS_DIR)

sock-gen: deps
	@echo "make: [2/3] building sock-gen (Generator/)" >&2
	@llvm=$$(scripts/ensure-deps.sh); cd Generator && $(SWIFT) build -q $(llvm_flags) --product sock-gen

# Regenerates the bindings. When the pinned headers can no longer be
# downloaded, generates from the newest ones and reports the kernel diff
# against the committed bindings (Generator/Snapshot).
generate: headers sock-gen
	@echo "make: [3/3] generating Sources/SockBindings and Sources/Sock/Generated" >&2
	@llvm=$$(scripts/ensure-deps.sh); \
	fallback=$$(sed -n 's/^SOCKGEN_FALLBACK=//p' $(HEADERS_DIR)/resolved.env); \
	if [[ "$$fallback" == 1 && -z "$(KERNEL_HEADERS)" ]]; then \
	  echo "make: the pinned headers of specs/inputs.spec are no longer downloadable; generating from the newest ones." >&2; \
	  echo "make: what changes against the committed bindings:" >&2; \
	  $(SOCKGEN) kernel-diff --clang $$llvm/bin/clang --from Generator/Snapshot/model-x86_64.json --from-label "committed bindings" \
	    --to "$$(sed -n 's/^SOCKGEN_KERNEL_INCLUDE=//p' $(HEADERS_DIR)/resolved.env)" --to-label "newest headers" || true; \
	fi; \
	$(SOCKGEN) generate --clang $$llvm/bin/clang --inputs $(HEADERS_DIR)/resolved.env \
	  $(if $(KERNEL_HEADERS),--kernel-headers $(KERNEL_HEADERS)) $(foreach a,$(ARCHS),--arch $(a))

# Fails when the committed bindings are not exactly what the pinned headers generate.
check-generated: headers sock-gen
	@llvm=$$(scripts/ensure-deps.sh); $(SOCKGEN) generate --check --clang $$llvm/bin/clang --inputs $(HEADERS_DIR)/resolved.env

# make kernel-diff FROM=6.1 TO=7.2   (a version prefix of Debian's linux-libc-dev, or a header directory)
FROM ?= 6.1
TO ?= 7.2
kernel-diff: headers sock-gen
	@llvm=$$(scripts/ensure-deps.sh); \
	resolve() { if [[ -d "$$1" ]]; then echo "$$1"; else scripts/fetch-headers.sh --dest $(HEADERS_DIR) --kernel-version "$$1"; fi; }; \
	from=$$(resolve "$(FROM)"); to=$$(resolve "$(TO)"); \
	$(SOCKGEN) kernel-diff --clang $$llvm/bin/clang --inputs $(HEADERS_DIR)/resolved.env \
	  --from "$$from" --to "$$to" --from-label "$(FROM)" --to-label "$(TO)"

test: test-library test-examples check-parity test-generator

# Swift Testing records a backtrace (allocating) for every thrown error unless
# told not to; the zero-allocation tests want the code's allocations only.
test-library:
	$(SWIFT) build --build-tests
	SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0 $(SWIFT) test --skip-build

# Examples/, built in release (the way users build; Swift 6.3.1's optimizer
# crashes on some closure shapes that debug builds accept) and run: the
# README's example (which must match the README's first Swift block), the
# I/O shapes callers write, and Glibc coexistence (`import Foundation`,
# `import Glibc`, `import Sock` with Glibc's C names unqualified).
EXAMPLES := readme-example api-shapes glibc-coexistence
# The example tools need arguments: built here in release (to catch the
# optimizer's crashes), run by Tests/SockTests/ExampleToolTests.swift.
TOOLS := sock-ping sock-tcpinfo sock-fdpass
test-examples:
	python3 scripts/check-readme-example.py README.md Examples/ReadmeExample/main.swift
	@for e in $(EXAMPLES) $(TOOLS); do $(SWIFT) build -c release --product $$e; done
	@bin=$$($(SWIFT) build -c release --show-bin-path); for e in $(EXAMPLES); do echo "make: running $$e" >&2; "$$bin/$$e" >/dev/null; done

# Bridges/ is a package of its own (SockNIO, SockSystem; SwiftNIO and
# swift-system), built in Bridges/.build, so that `make test` and the
# library's test build stay free of NIO. Run by .ci/run after `make test`.
test-bridges:
	cd Bridges && $(SWIFT) build --build-tests && $(SWIFT) test --skip-build

# Every Swift symbol the Go parity table (a DocC article) names must exist in
# the public symbol graph of Sock and SockBindings.
check-parity:
	$(SWIFT) package dump-symbol-graph --minimum-access-level public >/dev/null
	python3 scripts/check-parity.py --table Sources/Sock/Sock.docc/GoParity.md --index Tests/Parity/go-api-index.txt \
	  --symbol-graphs "$$(dirname "$$($(SWIFT) build --show-bin-path)")/symbolgraph"

test-generator: deps headers
	@llvm=$$(scripts/ensure-deps.sh); cd Generator && $(SWIFT) build --build-tests $(llvm_flags) && $(SWIFT) test --skip-build $(llvm_flags)

# Benchmarks/ is a package of its own (package-benchmark, SwiftNIO, a C
# reference); the library gains no dependency. sock-bench-report runs
# sock-pingpong and the package-benchmark suite and prints one markdown table.
# BENCH_FLAGS, e.g.: --quick (1–3 minutes), --pin (pin the two threads),
# --repeats N, --suite-repeats N, --output FILE (also write the table there).
BENCH_FLAGS ?=
bench:
	@echo "make: [1/2] building Benchmarks/ (release)" >&2
	cd Benchmarks && $(SWIFT) build -c release -q && $(SWIFT) build -c release -q --product BenchmarkTool
	@echo "make: [2/2] measuring (4–6 minutes; best on an otherwise idle machine)" >&2
	Benchmarks/.build/release/sock-bench-report $(BENCH_FLAGS)

clean:
	rm -rf .build Generator/.build $(HEADERS_DIR)/probes
