#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (a package of its own, depending on
# the library by path) with -sanitize=fuzzer,address and runs each for
# FUZZ_SECONDS, starting from the committed seed corpus (Fuzz/Corpus/<target>).
# Fails on any crash, trap, sanitizer report or leak; the input that caused it
# is kept in .build-fuzz/artifacts/.
#
#   scripts/fuzz.sh                         every target, 60 s each
#   FUZZ_SECONDS=10 scripts/fuzz.sh         shorter (CI)
#   FUZZ_TARGETS="fuzz-tcp-info" scripts/fuzz.sh
#
# New inputs libFuzzer finds go to .build-fuzz/corpus/<target> (not into the
# repository); copy interesting ones to Fuzz/Corpus/<target> by hand.
# Needs only the Swift toolchain (it ships libFuzzer and the sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
project=$(pwd)

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TARGETS="${FUZZ_TARGETS:-fuzz-address-text fuzz-sockaddr-decode fuzz-control-messages fuzz-tcp-info fuzz-uring-cqe}"
SWIFT="${SWIFT:-swift}"
scratch="$project/.build-fuzz"

say() { echo "fuzz: $*" >&2; }
[[ "$FUZZ_SECONDS" =~ ^[1-9][0-9]*$ ]] || { say "FUZZ_SECONDS must be a positive integer"; exit 1; }

say "building Fuzz/ (release, -sanitize=fuzzer,address)"
(cd Fuzz && "$SWIFT" build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address >&2)
bin=$(cd Fuzz && "$SWIFT" build -c release --scratch-path "$scratch" --show-bin-path)

mkdir -p "$scratch/artifacts"
failed=()
summary=()
for target in $FUZZ_TARGETS; do
    [[ -x "$bin/$target" ]] || { say "no such target: $target"; exit 1; }
    work="$scratch/corpus/$target"
    mkdir -p "$work"
    log="$scratch/$target.log"
    say "running $target for ${FUZZ_SECONDS}s (log: $log)"
    set +e
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        "$bin/$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$target-" \
        "$work" "Fuzz/Corpus/$target" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 | sed 's/corp: //')
    coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | sed 's/cov: //')
    line="$target: ${runs:-?} executions in ${FUZZ_SECONDS}s, corpus ${corpus:-?}, coverage ${coverage:-?} edges, exit $rc"
    summary+=("$line")
    say "$line"
    if (( rc != 0 )) || grep -qE '^==[0-9]+==ERROR|Fatal error|Sanitizer|deadly signal' "$log"; then
        failed+=("$target")
        grep -E '^==[0-9]+==ERROR|Fatal error|SUMMARY|Test unit written|deadly signal' "$log" | head -n 10 >&2 || true
    fi
done

say "summary:"
for line in "${summary[@]}"; do say "  $line"; done
if (( ${#failed[@]} > 0 )); then
    say "FAILED: ${failed[*]} (inputs in $scratch/artifacts/)"
    exit 1
fi
say "PASSED: no crash, trap, sanitizer report or leak"
