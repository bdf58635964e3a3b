#!/usr/bin/env bash
# Makes sure the generator's tools are installed: libclang with its C headers
# and the clang of the same LLVM (for the C cross-check; LoongArch needs LLVM 16+).
# Prints the LLVM directory (e.g. /usr/lib/llvm-19) on stdout.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails.
set -euo pipefail

LLVM_VERSION="${LLVM_VERSION:-19}"
PACKAGES="libclang-${LLVM_VERSION}-dev clang-${LLVM_VERSION}"

find_llvm() {
    local dir version
    for dir in $(ls -d /usr/lib/llvm-* 2>/dev/null | sort -V -r); do
        version="${dir##*/llvm-}"
        [[ "$version" =~ ^[0-9]+$ ]] || continue
        (( version >= 16 )) || continue
        if [[ -f "$dir/include/clang-c/Index.h" && -x "$dir/bin/clang" && -e "$dir/lib/libclang.so" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if dir=$(find_llvm); then
    echo "$dir"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-deps: libclang and clang (LLVM >= 16) are needed to generate the bindings." >&2
    echo "ensure-deps: install them with: sudo apt-get install -y --no-install-recommends $PACKAGES" >&2
    exit 1
fi

echo "ensure-deps: installing $PACKAGES (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES >&2
dir=$(find_llvm) || { echo "ensure-deps: $PACKAGES installed but no usable LLVM found under /usr/lib/llvm-*" >&2; exit 1; }
echo "$dir"
