#!/usr/bin/env bash
# Checks the tools `make bench-conns` needs beyond Swift and cc: Go (the `go`
# server), cargo with Debian's tokio crate (the `tokio` server, built offline),
# liburing (the `c-uring` reference), perf (syscalls per request) and taskset
# (pinning). Nothing is installed
# silently: what is missing is named with the exact apt-get command; as root
# (like scripts/ensure-deps.sh) it runs that command, unless
# BENCH_CONNS_INSTALL=0. What stays missing is skipped by the runner, which
# says so in its output.
set -euo pipefail

missing=()
command -v go >/dev/null || missing+=(golang-go)
command -v cargo >/dev/null || missing+=(cargo)
ls -d /usr/share/cargo/registry/tokio-1* >/dev/null 2>&1 || missing+=(librust-tokio-dev)
command -v perf >/dev/null || missing+=(linux-perf)
command -v taskset >/dev/null || missing+=(util-linux)
[[ -f /usr/include/liburing.h ]] || missing+=(liburing-dev)

if ((${#missing[@]} == 0)); then
    exit 0
fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -eq 0 && "${BENCH_CONNS_INSTALL:-1}" != 0 ]]; then
    echo "bench-conns: missing ${missing[*]}; installing: $cmd" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    $cmd >&2 || echo "bench-conns: the install failed; the rows that need it will be skipped" >&2
else
    echo "bench-conns: missing ${missing[*]}. Install with: sudo $cmd" >&2
    echo "bench-conns: until then the rows that need them are skipped (taskset is required)." >&2
    command -v taskset >/dev/null || exit 1
fi
