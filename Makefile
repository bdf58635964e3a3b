# Sock — developer entry points. The first two are the README's:
#   make generate   regenerate Sources/SockBindings and Sources/Sock/Generated from the pinned headers
#   make test       build and run every test (library and generator)
#   make test-bridges  build and test Bridges/ (SockNIO, SockSystem)
#   make test-load  the long form of the sock-echo load and fault tests (SOCK_LOAD_LONG=1)
#   make bench      build Benchmarks/ in release and print one table: Sock vs C vs SwiftNIO
#   make test-kernels  the library tests in a VM on Debian 12's Linux 6.1 (REPEAT=N runs)
#   make test-sanitizers  the library tests under AddressSanitizer (+ leaks) and ThreadSanitizer
#   make fuzz       libFuzzer targets of Fuzz/, FUZZ_SECONDS (60) each
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

.PHONY: all generate test test-library test-examples test-bridges test-load check-parity test-generator deps headers sock-gen check-generated kernel-diff bench bench-conns docs test-kernels test-sanitizers fuzz clean

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

# The long form of the sock-echo load and fault tests
# (Tests/SockTests/Reactor/SockEchoLoadTests.swift; `make test` runs the short
# form): 1,000 connections echoing 1 GiB, 64 resetting/stalling/flooding
# peers, 100,000 connect/accept/close cycles, in each mode and backend. Uses
# the test build of `make test`. Run by .ci/run after `make test`.
test-load:
	SOCK_LOAD_LONG=1 SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0 $(SWIFT) test --skip-build --filter SockEchoLoad

# Every Swift symbol the Go parity table (a DocC article) names must exist in
# the public symbol graph of Sock and SockBindings.
check-parity:
	$(SWIFT) package dump-symbol-graph --minimum-access-level public >/dev/null
	python3 scripts/check-parity.py --table Sources/Sock/Sock.docc/GoParity.md --index Tests/Parity/go-api-index.txt \
	  --symbol-graphs "$$(dirname "$$($(SWIFT) build --show-bin-path)")/symbolgraph"
	python3 scripts/check-doc-comments.py "$$(dirname "$$($(SWIFT) build --show-bin-path)")/symbolgraph"

test-generator: deps headers
	@llvm=$$(scripts/ensure-deps.sh); cd Generator && $(SWIFT) build --build-tests $(llvm_flags) && $(SWIFT) test --skip-build $(llvm_flags)

# The library tests inside a VM booted on Debian 12's stock kernel (Linux 6.1;
# virtme-ng, QEMU without KVM), with the sctp module loaded: fails on any
# failure and on any skipped SCTP test. REPEAT=N runs the suite N times in
# one boot. As root it installs what it needs (Debian packages, virtme-ng in
# a venv); otherwise it prints the commands. See scripts/test-kernels.sh.
REPEAT ?= 1
test-kernels:
	REPEAT=$(REPEAT) SWIFT=$(SWIFT) scripts/test-kernels.sh

# The library tests under each sanitizer, in build folders of their own
# (.build-asan, .build-tsan). The allocation tests still count there (through
# the sanitizer's malloc hook, Tests/CMallocCounter). AddressSanitizer checks
# for leaks at exit; Tests/Sanitizers/lsan.supp lists the only memory kept on
# purpose (test buffers, the test-only fake syscall table). Any ASan/TSan
# report, or leak, fails the run. SANITIZERS="address" runs one of them.
SANITIZERS ?= address thread
test-sanitizers:
	@for sanitizer in $(SANITIZERS); do \
	  case $$sanitizer in address) scratch=.build-asan;; thread) scratch=.build-tsan;; \
	    *) echo "make: unknown sanitizer $$sanitizer (address, thread)" >&2; exit 1;; esac; \
	  echo "make: test-sanitizers: $$sanitizer ($$scratch)" >&2; \
	  $(SWIFT) build --build-tests --sanitize=$$sanitizer --scratch-path $$scratch; \
	  SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:suppressions=$(CURDIR)/Tests/Sanitizers/asan.supp \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp:print_suppressions=0 \
	  TSAN_OPTIONS=halt_on_error=0:exitcode=66:suppressions=$(CURDIR)/Tests/Sanitizers/tsan.supp \
	    $(SWIFT) test --skip-build --sanitize=$$sanitizer --scratch-path $$scratch; \
	done

# libFuzzer targets (Fuzz/, a package of its own: the library's build gains
# nothing) for address text, sockaddr decoding, control messages, TCP info
# and the io_uring engine's completion handling, built with
# -sanitize=fuzzer,address; each runs FUZZ_SECONDS from the
# seed corpus in Fuzz/Corpus. Fails on any crash, trap or leak.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) scripts/fuzz.sh

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

# The DocC catalog (Sources/Sock/Sock.docc) with swift-docc-plugin, warnings
# as errors; output in .build/docs. The plugin is a dependency only when
# SOCK_DOCS is set, so the library's own builds resolve no package.
docs:
	SOCK_DOCS=1 $(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation \
	  --target Sock --warnings-as-errors --output-path .build/docs

# The many-connection echo benchmark (issue 15 part 4): C epoll, sock-echo
# (poller and async modes), SwiftNIO (pipeline and NIOAsyncChannel),
# FlyingSocks, Go and tokio servers on one pinned core, a C closed-loop load
# generator on the other; medians of interleaved rounds; writes a section of
# Benchmarks/RESULTS.md. Benchmarks/Conns/ensure-deps.sh names (as root:
# installs) Go, cargo + Debian's tokio crate and perf when missing.
# BENCH_CONNS_FLAGS, e.g.: --quick (1 round, 2 s window, 100 connections),
# --rounds 3 --window 5 --impls c-epoll,nio --conns 100,1000 --sizes 64,
# --results FILE, --no-results, --check (half-close echo check), --profile DIR
# (perf record per row). SOCK_ECHO=/path/to/sock-echo uses a prebuilt one.
BENCH_CONNS_FLAGS ?=
bench-conns:
	@Benchmarks/Conns/ensure-deps.sh
	@echo "make: building the servers and the load generator (release) and measuring" >&2
	python3 Benchmarks/Conns/bench-conns.py --swift "$(SWIFT)" $(BENCH_CONNS_FLAGS)

clean:
	rm -rf .build Generator/.build $(HEADERS_DIR)/probes
