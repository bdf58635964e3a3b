#!/usr/bin/env bash
# fetch-headers.sh — download the pinned Debian header packages of
# specs/inputs.spec and unpack them, with a private apt state (the machine's
# apt configuration, package lists and dpkg database are never touched; root
# is not needed).
#
# Usage:
#   scripts/fetch-headers.sh [--inputs specs/inputs.spec] [--dest .headers]
#       Unpacks every package of inputs.spec into <dest>/pkgs/<pkg>_<version>/
#       (already unpacked packages are not downloaded again) and writes
#       <dest>/resolved.env (make syntax, absolute paths):
#         SOCKGEN_KERNEL_PKG=linux-libc-dev 7.2.13-1
#         SOCKGEN_KERNEL_INCLUDE=<dest>/pkgs/linux-libc-dev_7.2.13-1/usr/include
#         SOCKGEN_SCTP_PKG=libsctp-dev 1.0.21+dfsg-2
#         SOCKGEN_SCTP_INCLUDE=<dest>/pkgs/libsctp-dev_1.0.21+dfsg-2/usr/include
#         SOCKGEN_LIBC_<arch>=<package> <version> <triple> <include dir>
#         SOCKGEN_FALLBACK=0|1
#       A pinned version that Debian no longer serves is replaced by the
#       newest available one, with a message on stderr and SOCKGEN_FALLBACK=1.
#
#   scripts/fetch-headers.sh --kernel-version <prefix> [--dest .headers]
#       Unpacks the newest linux-libc-dev whose version is <prefix> or starts
#       with <prefix>. or <prefix>- (6.1 -> 6.1.x from bookworm, 7.2 -> 7.2.x
#       from sid) and prints only its absolute include dir on stdout.
#
# Progress and errors go to stderr, prefixed "fetch-headers:".
# Environment: FETCH_HEADERS_MIRROR (default http://deb.debian.org/debian),
# FETCH_HEADERS_KEYRING (default /usr/share/keyrings/debian-archive-keyring.gpg).
set -euo pipefail

readonly PROG=fetch-headers
readonly SUITES="sid bookworm"
# Packages are downloaded for one fixed Debian architecture whatever the host
# is, so every machine unpacks the same files (the headers used are the same
# for all of them; only the architecture-specific linux-libc-dev of old
# releases differs, by carrying asm/ for this architecture only).
readonly DEB_ARCH=amd64

MIRROR=${FETCH_HEADERS_MIRROR:-http://deb.debian.org/debian}
KEYRING=${FETCH_HEADERS_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: scripts/fetch-headers.sh [--inputs FILE] [--dest DIR]
       scripts/fetch-headers.sh --kernel-version PREFIX [--dest DIR]

  --inputs FILE           pinned packages (default: specs/inputs.spec of the repository)
  --dest DIR              where packages are unpacked and resolved.env is written
                          (default: .headers of the repository)
  --kernel-version PREFIX unpack the newest linux-libc-dev PREFIX.* and print its
                          include dir on stdout (used by `make kernel-diff`)
EOF
}

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
inputs=$repo_root/specs/inputs.spec
dest=$repo_root/.headers
kernel_prefix=

while (($#)); do
    case $1 in
        --inputs) (($# >= 2)) || die "--inputs needs a file"; inputs=$2; shift 2 ;;
        --inputs=*) inputs=${1#*=}; shift ;;
        --dest) (($# >= 2)) || die "--dest needs a directory"; dest=$2; shift 2 ;;
        --dest=*) dest=${1#*=}; shift ;;
        --kernel-version) (($# >= 2)) || die "--kernel-version needs a version prefix such as 6.1"
            kernel_prefix=$2; shift 2 ;;
        --kernel-version=*) kernel_prefix=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage; die "unknown argument '$1'" ;;
    esac
done

if [[ -n $kernel_prefix && ! $kernel_prefix =~ ^[0-9]+(\.[0-9]+)*$ ]]; then
    die "--kernel-version wants a version prefix such as 6.1 or 7.2, not '$kernel_prefix'"
fi

# --- tools -----------------------------------------------------------------

for tool in apt-get apt-cache; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found: install Debian's apt (the apt package; it runs on any Linux, root is not needed to download)"
done
for tool in dpkg-deb dpkg; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: install Debian's dpkg"
done

# --- destination and private apt state -------------------------------------

mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)
# resolved.env is read by make, which cannot handle blanks inside a path.
[[ $dest != *[[:space:]]* ]] || die "the destination path must not contain blanks: '$dest'"

apt_dir=$dest/apt
pkgs_dir=$dest/pkgs
mkdir -p "$apt_dir/etc/sources.list.d" "$apt_dir/etc/preferences.d" \
    "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$pkgs_dir"

# One run at a time per destination (apt locks its lists; make -j may start
# two kernel-version fetches at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$apt_dir/lock"
    flock 9
fi

# The private apt setup. APT_CONFIG is read before anything else and points
# apt away from /etc/apt entirely (sources, preferences, apt.conf.d with its
# update hooks and extra index targets), so the host's configuration is
# neither used nor changed. Only the host's settings for reaching the mirror
# are carried over: proxies and other http/https options, retries, and the
# Release freshness checks (a machine behind a frozen mirror or a registry
# turns Check-Valid-Until off, and must keep doing so here).
mkdir -p "$apt_dir/etc/apt.conf.d"
: >"$apt_dir/status"            # empty dpkg database: nothing is "installed"
: >"$apt_dir/etc/sources.list"
cat >"$apt_dir/etc/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITES
Components: main
Signed-By: $KEYRING
EOF
host_acquire=$(apt-config dump 2>/dev/null |
    grep -E '^Acquire::((http|https|ftp|socks)::|(Check-Valid-Until|Check-Date|Max-ValidTime|Min-ValidTime|Retries|ForceIPv4|ForceIPv6)[ :])' ||
    true)
{
    echo "Dir::Etc::main \"/dev/null\";"
    echo "Dir::Etc::parts \"$apt_dir/etc/apt.conf.d\";"
    echo "Dir::Etc::sourcelist \"$apt_dir/etc/sources.list\";"
    echo "Dir::Etc::sourceparts \"$apt_dir/etc/sources.list.d\";"
    echo "Dir::Etc::preferences \"/dev/null\";"
    echo "Dir::Etc::preferencesparts \"$apt_dir/etc/preferences.d\";"
    echo "Dir::State \"$apt_dir/state\";"
    echo "Dir::State::status \"$apt_dir/status\";"
    echo "Dir::Cache \"$apt_dir/cache\";"
    echo "Dir::Cache::pkgcache \"pkgcache.bin\";"
    echo "Dir::Cache::srcpkgcache \"\";" # pkgcache.bin alone is enough here
    echo "APT::Architecture \"$DEB_ARCH\";"
    echo "APT::Architectures { \"$DEB_ARCH\"; };"
    echo "Acquire::Languages \"none\";"
    echo "Acquire::GzipIndexes \"true\";" # keep the lists compressed
    # As root apt hands downloads to the _apt user, which cannot write into a
    # private directory, and warns "unsandboxed as root"; download as root.
    if ((EUID == 0)); then echo "APT::Sandbox::User \"root\";"; fi
    if [[ -n $host_acquire ]]; then printf '%s\n' "$host_acquire"; fi
} >"$apt_dir/apt.conf"
export APT_CONFIG=$apt_dir/apt.conf

log=$apt_dir/last.log
inputs_label=${inputs#"$repo_root"/}
updated=0
update_ok=0

# apt_update: refresh the private package lists, once per run. Returns 1 (after
# saying why) when the mirror cannot be reached.
apt_update() {
    if ((updated)); then
        return $((!update_ok))
    fi
    updated=1
    [[ -r $KEYRING ]] ||
        die "$KEYRING is missing: install the debian-archive-keyring package (or set FETCH_HEADERS_KEYRING)"
    say "updating private package lists ($SUITES from $MIRROR)"
    # Error-Mode=any (apt >= 2.1; older apt ignores it): a failed index
    # download is an error, not a warning with exit status 0.
    if apt-get -q -o APT::Update::Error-Mode=any update >"$log" 2>&1; then
        update_ok=1
        return 0
    fi
    say "could not update the package lists from $MIRROR (network failure or mirror problem); apt said:"
    grep -E '^(E|W|Err):' "$log" | sed "s/^/$PROG:   /" >&2 || sed "s/^/$PROG:   /" "$log" >&2
    return 1
}

# newest_first: sort the versions on stdin (one a line) by Debian's version
# ordering, newest first. The lists are short; an insertion sort will do.
newest_first() {
    local v all=() i j t
    while IFS= read -r v; do
        [[ -n $v ]] && all+=("$v")
    done
    for ((i = 1; i < ${#all[@]}; i++)); do
        t=${all[i]}
        for ((j = i - 1; j >= 0; j--)); do
            dpkg --compare-versions "${all[j]}" lt "$t" || break
            all[j + 1]=${all[j]}
        done
        all[j + 1]=$t
    done
    if ((${#all[@]})); then printf '%s\n' "${all[@]}"; fi
}

# available_versions PKG: the versions the mirror offers, newest first.
available_versions() {
    { apt-cache show "$1" 2>/dev/null || true; } | sed -n 's/^Version: //p' | sort -u | newest_first
}

# cached_versions PKG: the versions already unpacked in pkgs/, newest first.
cached_versions() {
    local d
    for d in "$pkgs_dir/$1"_*/; do
        [[ -d $d ]] || continue
        d=${d%/}
        d=${d##*/}
        printf '%s\n' "${d#"$1"_}"
    done | newest_first
}

# unpack PKG VERSION: download PKG=VERSION and unpack it into pkgs/PKG_VERSION
# unless it is there already.
unpack() {
    local pkg=$1 version=$2
    local target=$pkgs_dir/${pkg}_$version
    if [[ -d $target ]]; then
        say "$pkg $version: already unpacked"
        return 0
    fi
    local work=$apt_dir/download
    rm -rf "$work" "$target.partial"
    mkdir -p "$work"
    say "downloading $pkg $version"
    if ! (cd "$work" && apt-get -q download "$pkg=$version") >"$log" 2>&1; then
        say "downloading $pkg $version failed (network failure or mirror problem); apt said:"
        sed "s/^/$PROG:   /" "$log" >&2
        exit 1
    fi
    local debs=("$work"/*.deb)
    [[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "apt-get download of $pkg $version produced no .deb (see $log)"
    dpkg-deb -x "${debs[0]}" "$target.partial" || die "cannot unpack ${debs[0]}"
    mv "$target.partial" "$target"
    rm -rf "$work"
    say "unpacked $pkg $version into ${target#"$PWD"/}"
}

# resolve PKG PINNED: set `chosen` to the version to use (PINNED when it is
# unpacked or downloadable, else the newest one offered, or offline the newest
# one unpacked) and make sure it is unpacked. Sets fallback=1 when PINNED could
# not be used.
fallback=0
resolve() {
    local pkg=$1 pinned=$2 newest
    if [[ -d $pkgs_dir/${pkg}_$pinned ]]; then
        say "$pkg $pinned: already unpacked"
        chosen=$pinned
        return 0
    fi
    if ! apt_update; then
        newest=$(cached_versions "$pkg" | sed -n 1p)
        [[ -n $newest ]] || die "cannot download $pkg $pinned: the package lists could not be updated"
        say "pinned $pkg $pinned is not unpacked and the mirror is unreachable; using the unpacked $newest"
        chosen=$newest
        fallback=1
        return 0
    fi
    local versions
    versions=$(available_versions "$pkg")
    [[ -n $versions ]] || die "$pkg is not offered by $MIRROR ($SUITES); check the package name in $inputs_label"
    if grep -qxF -- "$pinned" <<<"$versions"; then
        chosen=$pinned
    else
        newest=$(head -n 1 <<<"$versions")
        say "pinned $pkg $pinned is no longer downloadable; using newest available $newest"
        chosen=$newest
        fallback=1
    fi
    unpack "$pkg" "$chosen"
}

# --- mode 2: one kernel header tree ----------------------------------------

if [[ -n $kernel_prefix ]]; then
    pkg=linux-libc-dev
    matching() { grep -E "^${kernel_prefix//./\\.}([.-]|$)" || true; }
    if apt_update; then
        chosen=$(available_versions "$pkg" | matching | sed -n 1p)
        [[ -n $chosen ]] || die "no $pkg $kernel_prefix.* is offered by $MIRROR ($SUITES); offered: $(available_versions "$pkg" | tr '\n' ' ')"
        unpack "$pkg" "$chosen"
    else
        chosen=$(cached_versions "$pkg" | matching | sed -n 1p)
        [[ -n $chosen ]] || die "cannot download $pkg $kernel_prefix.*: the package lists could not be updated"
        say "mirror unreachable; using the unpacked $pkg $chosen"
    fi
    include=$pkgs_dir/${pkg}_$chosen/usr/include
    [[ -d $include/linux ]] || die "$include/linux is missing: $pkg $chosen is not a kernel header package?"
    printf '%s\n' "$include"
    exit 0
fi

# --- mode 1: everything in inputs.spec -------------------------------------

[[ -r $inputs ]] || die "cannot read $inputs"

kernel_pkg='' kernel_ver='' sctp_pkg='' sctp_ver=''
libc_arches=()
declare -A libc_pkg=() libc_ver=() libc_triple=()

lineno=0
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    line=${line%%#*}
    read -r -a f <<<"$line" || true
    ((${#f[@]})) || continue
    where="$inputs_label:$lineno"
    case ${f[0]} in
        kernel)
            ((${#f[@]} == 3)) || die "$where: 'kernel' wants 2 columns: package version"
            [[ -z $kernel_pkg ]] || die "$where: a second 'kernel' line"
            kernel_pkg=${f[1]} kernel_ver=${f[2]}
            ;;
        sctp)
            ((${#f[@]} == 3)) || die "$where: 'sctp' wants 2 columns: package version"
            [[ -z $sctp_pkg ]] || die "$where: a second 'sctp' line"
            sctp_pkg=${f[1]} sctp_ver=${f[2]}
            ;;
        libc)
            ((${#f[@]} == 5 || ${#f[@]} == 6)) ||
                die "$where: 'libc' wants 4 or 5 columns: swift-arch package version triple [clang-target]"
            arch=${f[1]}
            [[ $arch =~ ^[A-Za-z0-9_]+$ ]] || die "$where: '$arch' is not a Swift architecture name"
            [[ -z ${libc_pkg[$arch]+x} ]] || die "$where: a second 'libc' line for $arch"
            libc_arches+=("$arch")
            libc_pkg[$arch]=${f[2]} libc_ver[$arch]=${f[3]} libc_triple[$arch]=${f[4]}
            ;;
        *) die "$where: unknown kind '${f[0]}' (expected kernel, libc or sctp)" ;;
    esac
done <"$inputs"

[[ -n $kernel_pkg ]] || die "$inputs_label: no 'kernel' line"
[[ -n $sctp_pkg ]] || die "$inputs_label: no 'sctp' line"
((${#libc_arches[@]})) || die "$inputs_label: no 'libc' line"

chosen=
resolve "$kernel_pkg" "$kernel_ver"
kernel_ver=$chosen
kernel_include=$pkgs_dir/${kernel_pkg}_$kernel_ver/usr/include
[[ -d $kernel_include/linux ]] || die "$kernel_include/linux is missing: is $kernel_pkg a kernel header package?"

resolve "$sctp_pkg" "$sctp_ver"
sctp_ver=$chosen
sctp_include=$pkgs_dir/${sctp_pkg}_$sctp_ver/usr/include
[[ -f $sctp_include/netinet/sctp.h ]] || die "$sctp_include/netinet/sctp.h is missing"

for arch in "${libc_arches[@]}"; do
    resolve "${libc_pkg[$arch]}" "${libc_ver[$arch]}"
    libc_ver[$arch]=$chosen
    inc=$pkgs_dir/${libc_pkg[$arch]}_$chosen/usr/${libc_triple[$arch]}/include
    [[ -f $inc/sys/socket.h ]] ||
        die "$inc/sys/socket.h is missing: is ${libc_triple[$arch]} the triple of ${libc_pkg[$arch]}?"
    # linux-libc-dev keeps each architecture's asm/ under <include>/<triple>/
    [[ -d $kernel_include/${libc_triple[$arch]}/asm ]] ||
        say "warning: $kernel_pkg $kernel_ver has no ${libc_triple[$arch]}/asm/ (needed for $arch)"
done

out=$dest/resolved.env
{
    echo "# Written by scripts/fetch-headers.sh from $inputs_label; do not edit."
    echo "# Make syntax (values contain blanks): include it from a Makefile; in bash"
    echo "# read it with: while IFS='=' read -r key value; do ...; done"
    echo "SOCKGEN_KERNEL_PKG=$kernel_pkg $kernel_ver"
    echo "SOCKGEN_KERNEL_INCLUDE=$kernel_include"
    echo "SOCKGEN_SCTP_PKG=$sctp_pkg $sctp_ver"
    echo "SOCKGEN_SCTP_INCLUDE=$sctp_include"
    for arch in "${libc_arches[@]}"; do
        echo "SOCKGEN_LIBC_$arch=${libc_pkg[$arch]} ${libc_ver[$arch]} ${libc_triple[$arch]} $pkgs_dir/${libc_pkg[$arch]}_${libc_ver[$arch]}/usr/${libc_triple[$arch]}/include"
    done
    echo "SOCKGEN_FALLBACK=$fallback"
} >"$out.tmp"
mv "$out.tmp" "$out"
if ((fallback)); then
    say "wrote $out (SOCKGEN_FALLBACK=1: not every pinned version was used)"
else
    say "wrote $out"
fi
