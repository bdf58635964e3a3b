#!/usr/bin/env bash
# Runs the whole library test suite inside a virtual machine booted on
# Debian 12's stock kernel (Linux 6.1), with virtme-ng under QEMU without KVM
# (../shared/facts/testing-kernels.md has the measurements behind the recipe).
#
#   scripts/test-kernels.sh            one run of the suite in one boot
#   REPEAT=20 scripts/test-kernels.sh  20 runs in one boot; any failure fails
#
# The tests are built on the host (`swift build --build-tests`) and run in the
# VM with `swift test --skip-build`: the VM sees the host's filesystem
# read-only, so the toolchain and the built tree are usable as they are.
# `modprobe sctp` runs first, and the run fails unless every SCTP test ran
# (0 skipped). Results are written into a host directory (the console drops
# lines) and checked here.
#
# Environment:
#   REPEAT        runs of the suite in the one boot (default 1)
#   KERNEL        the kernel image to boot (default: the newest
#                 /boot/vmlinuz-6.1.* — Debian 12's linux-image-amd64)
#   VM_MEMORY     default 3G;  VM_CPUS  default 2
#   VNG_VENV      where virtme-ng is installed when it is not on PATH
#                 (default /opt/sock-virtme-ng)
#   RUN_TIMEOUT   seconds one run of the suite may take before it is stopped
#                 and reported with the tests it was in (default 900)
#   TEST_FILTER   run only the tests matching it (swift test --filter; for
#                 checking one suite on the old kernel quickly). With it, the
#                 SCTP check is skipped.
#   OUT_DIR       where the VM writes its results (default .build-kernels/out)
#   SWIFT         the swift driver (default swift)
#
# As root, missing packages are installed (apt-get, and pip into a venv);
# otherwise the commands to run are printed and the script fails.
set -euo pipefail
# The whole script is one block, read before it runs: editing this file
# while a long VM run is under way must not change what the running copy does.
{
cd "$(dirname "$0")/.."
project=$(pwd)

REPEAT="${REPEAT:-1}"
VM_MEMORY="${VM_MEMORY:-3G}"
VM_CPUS="${VM_CPUS:-2}"
RUN_TIMEOUT="${RUN_TIMEOUT:-900}"
TEST_FILTER="${TEST_FILTER:-}"
filter_argument=""
if [[ -n "$TEST_FILTER" ]]; then
    [[ "$TEST_FILTER" =~ ^[A-Za-z0-9_.|]+$ ]] || { echo "test-kernels: TEST_FILTER: letters, digits, _ . | only" >&2; exit 1; }
    filter_argument="--filter '$TEST_FILTER'"
fi
VNG_VENV="${VNG_VENV:-/opt/sock-virtme-ng}"
VNG_VERSION=1.42
OUT_DIR="${OUT_DIR:-$project/.build-kernels/out}"
SWIFT="${SWIFT:-swift}"
DEBIAN_PACKAGES="linux-image-amd64 qemu-system-x86 busybox-static"

say() { echo "test-kernels: $*" >&2; }
die() { say "$*"; exit 1; }

[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer (got '$REPEAT')"

# --- dependencies ---------------------------------------------------------

find_kernel() {
    if [[ -n "${KERNEL:-}" ]]; then
        [[ -f "$KERNEL" ]] && { echo "$KERNEL"; return 0; }
        return 1
    fi
    local k
    k=$(ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$k" ]] && { echo "$k"; return 0; }
    return 1
}

missing=()
find_kernel >/dev/null || missing+=(linux-image-amd64)
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[[ -x /bin/busybox || -x /usr/bin/busybox ]] || missing+=(busybox-static)
if (( ${#missing[@]} > 0 )); then
    if [[ -n "${KERNEL:-}" ]] && [[ " ${missing[*]} " == *" linux-image-amd64 "* ]]; then
        die "KERNEL=$KERNEL does not exist"
    fi
    if [[ $(id -u) -ne 0 ]]; then
        say "missing: ${missing[*]}. Install them with:"
        say "  sudo apt-get install -y --no-install-recommends $DEBIAN_PACKAGES"
        exit 1
    fi
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $DEBIAN_PACKAGES >&2
fi
kernel=$(find_kernel) || die "no kernel image found (KERNEL=${KERNEL:-/boot/vmlinuz-6.1.*})"

if ! command -v vng >/dev/null; then
    if [[ -x "$VNG_VENV/bin/vng" ]]; then
        export PATH="$VNG_VENV/bin:$PATH"
    elif [[ $(id -u) -ne 0 ]]; then
        say "virtme-ng is missing. Install it with:"
        say "  python3 -m venv $VNG_VENV && $VNG_VENV/bin/pip install virtme-ng==$VNG_VERSION"
        exit 1
    else
        say "installing virtme-ng $VNG_VERSION into $VNG_VENV (pip)"
        python3 -m venv "$VNG_VENV" >&2 || {
            # Debian's python3 needs python3-venv (ensurepip) for this.
            rm -rf "$VNG_VENV"
            apt-get install -y -qq --no-install-recommends python3-venv python3-pip >&2
            python3 -m venv "$VNG_VENV" >&2
        }
        "$VNG_VENV/bin/pip" install -q "virtme-ng==$VNG_VERSION" >&2
        export PATH="$VNG_VENV/bin:$PATH"
    fi
fi

# --- build on the host ----------------------------------------------------

say "building the tests on the host"
"$SWIFT" build --build-tests >&2

# --- run in the VM --------------------------------------------------------

rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"
# `swift test --skip-build` still opens .build's build database for writing,
# so .build is writable in the VM too (it runs after the build, never during).
build_dir="$project/.build"
swift_path=$(command -v "$SWIFT")
cat >"$OUT_DIR/inner.sh" <<EOF
#!/bin/sh
# Runs inside the VM. Every result goes to files in $OUT_DIR.
out='$OUT_DIR'
export PATH='$(dirname "$swift_path")':"\$PATH"
export HOME=/root
export SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0
cd '$project'
uname -r >"\$out/kernel"
nproc >"\$out/cpus"
modprobe sctp >"\$out/modprobe.log" 2>&1; echo \$? >"\$out/modprobe.rc"
i=1
while [ \$i -le $REPEAT ]; do
    start=\$(date +%s)
    # Line-buffered output (stdbuf), so that a run that hangs shows which
    # test it was in; a run that does not end within RUN_TIMEOUT is stopped.
    timeout -k 10 $RUN_TIMEOUT stdbuf -oL -eL '$SWIFT' test --skip-build $filter_argument >"\$out/run-\$i.log" 2>&1
    echo \$? >"\$out/run-\$i.rc"
    echo \$(( \$(date +%s) - start )) >"\$out/run-\$i.seconds"
    i=\$((i + 1))
done
echo done >"\$out/done"
EOF
chmod +x "$OUT_DIR/inner.sh"

# Boot ~10-60 s, a run ~75-120 s under emulation; allow generously.
timeout_seconds=$(( 300 + REPEAT * (RUN_TIMEOUT + 30) ))
say "booting $(basename "$kernel") (QEMU, no KVM, $VM_CPUS CPUs, $VM_MEMORY) for $REPEAT run(s) of the suite"
vm_start=$(date +%s)
set +e
timeout --kill-after=30 "$timeout_seconds" \
    vng --disable-kvm -r "$kernel" --memory "$VM_MEMORY" --cpus "$VM_CPUS" \
        --overlay-rwdir=/root --rwdir="$OUT_DIR" --rwdir="$build_dir" \
        --exec "$OUT_DIR/inner.sh" >"$OUT_DIR/console.log" 2>&1 </dev/null
vm_rc=$?
set -e
say "the VM ran for $(( $(date +%s) - vm_start )) s (exit $vm_rc)"

# --- check the results on the host ----------------------------------------

[[ -f "$OUT_DIR/kernel" ]] || { tail -n 30 "$OUT_DIR/console.log" >&2; die "the VM did not start the tests (console: $OUT_DIR/console.log)"; }
say "kernel in the VM: $(cat "$OUT_DIR/kernel"), CPUs: $(cat "$OUT_DIR/cpus")"
if [[ "$(cat "$OUT_DIR/modprobe.rc")" != 0 ]]; then
    cat "$OUT_DIR/modprobe.log" >&2
    die "modprobe sctp failed in the VM"
fi

# Tests (and test cases) that started in a log but never ended: where a
# run that hung or crashed was.
unfinished() {
    python3 - "$1" <<'PY' >&2 || true
import re, sys
started, ended = {}, set()
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    if " case passing " in line or line.endswith("Test run started."):
        continue
    m = re.match(r"^\S+ Test (.*) started\.$", line)
    if m:
        started.setdefault(m.group(1), line)
        continue
    m = re.match(r"^\S+ Test (.*?)( with \d+ test cases?)? (passed|failed|skipped)", line)
    if m:
        ended.add(m.group(1))
left = [name for name in started if name not in ended]
for name in left[:20]:
    print("test-kernels:   still running:", name[:300])
PY
}

failed=0
runs=0
for (( i = 1; i <= REPEAT; i++ )); do
    log="$OUT_DIR/run-$i.log"
    if [[ ! -f "$OUT_DIR/run-$i.rc" ]]; then
        say "run $i/$REPEAT: did not finish (VM exit $vm_rc; timeout ${timeout_seconds}s)"
        if [[ -f "$log" ]]; then
            tail -n 5 "$log" >&2
            unfinished "$log"
        fi
        failed=1
        continue
    fi
    runs=$((i))
    rc=$(cat "$OUT_DIR/run-$i.rc")
    summary=$(grep -E '^. Test run with [0-9]+ tests? ' "$log" | tail -n 1 || true)
    total=$(sed -nE 's/^. Test run with ([0-9]+) tests?.*/\1/p' <<<"$summary")
    skipped=$(grep -cE '^➜ Test .* skipped' "$log" || true)
    sctp_skipped=$(grep -E '^➜ Test .* skipped' "$log" | grep -c 'SCTP' || true)
    issues=$(grep -cE '^. Test .* recorded an issue' "$log" || true)
    failing=$(grep -E '^. Test .* failed after' "$log" | grep -vE '^. Test run with' | sed -E 's/^. Test (.*) failed after.*/\1/' || true)
    nfailing=$(grep -E '^. Test .* failed after' "$log" | grep -cvE '^. Test run with' || true)
    say "run $i/$REPEAT: exit $rc, $(cat "$OUT_DIR/run-$i.seconds") s; tests ${total:-?}, failed $nfailing, skipped $skipped (SCTP $sctp_skipped), issues $issues"
    if [[ "$rc" != 0 || -z "$summary" || "$summary" != *" passed after "* ]]; then
        failed=1
        grep -E '^. Test .* recorded an issue' "$log" | head -n 20 >&2 || true
        [[ -n "$failing" ]] && say "failing tests: $(tr '\n' ' ' <<<"$failing")"
        [[ -z "$summary" ]] && tail -n 20 "$log" >&2
        [[ "$rc" == 124 || "$rc" == 137 ]] && say "run $i/$REPEAT: stopped after RUN_TIMEOUT=${RUN_TIMEOUT}s"
        unfinished "$log"
    fi
    if [[ -z "$TEST_FILTER" ]] && (( sctp_skipped > 0 )); then
        failed=1
        grep -E '^➜ Test .* skipped' "$log" | grep 'SCTP' | head -n 5 >&2
        say "run $i/$REPEAT: $sctp_skipped SCTP tests skipped although sctp was loaded"
    fi
    if (( skipped > 0 )); then
        grep -E '^➜ Test .* skipped' "$log" | sed 's/^/test-kernels:   /' >&2
    fi
done

if (( failed )); then
    die "FAILED ($runs of $REPEAT runs finished on $(cat "$OUT_DIR/kernel"); logs in $OUT_DIR)"
fi
say "PASSED: $REPEAT of $REPEAT runs on Linux $(cat "$OUT_DIR/kernel"), no failure, no SCTP test skipped"
exit 0
}
