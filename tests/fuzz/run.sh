#!/usr/bin/env bash
# run.sh SECONDS - builds the libFuzzer harnesses (tests/fuzz as a standalone
# CMake project, clang, ASan+UBSan, no OpenMP), replays every reproducer in
# tests/fuzz/regressions/<target>/, then fuzzes each target for SECONDS seconds
# on a scratch copy of its seed corpus, one target at a time.
# Exits non-zero if any replay or fuzzer finds a crash, leak, timeout or
# out-of-memory, printing the reproducer's path; the last line is
# "N passed, N failed" over the targets.
# Environment: DN_FUZZ_BUILD (build dir, default <repo>/build-fuzz),
# DN_FUZZ_TARGETS (space-separated subset), DN_FUZZ_ARGS (extra libFuzzer flags).
set -u

seconds=${1:-20}
# 0 would mean "no time limit" to libFuzzer.
case $seconds in '' | *[!0-9]* | 0) echo "usage: $0 SECONDS (a positive integer)" >&2; exit 2 ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${DN_FUZZ_BUILD:-$root/build-fuzz}
targets=${DN_FUZZ_TARGETS:-"idx gzip safetensors model pgm png jpeg spec http predict_body learn_params inside_query"}

declare -A max_len=([idx]=8192 [gzip]=32768 [safetensors]=16384 [model]=16384 [pgm]=16384 [png]=16384 [jpeg]=16384
                    [spec]=1024 [http]=9000 [predict_body]=16384 [learn_params]=1100
                    [inside_query]=300)
# A parsed PGM of max_len bytes has at most max_len pixels, so anything near
# 128 MB is an allocation the input did not pay for; elsewhere rss_limit rules.
# predict_body: raw pixels are 4 bytes of float each per input byte, PGMs as above.
# jpeg: a file of max_len bytes holds at most 8 * max_len blocks (each costs a
# bit), 8.4 M pixels: 34 MB of floats, 17 MB of coefficients per component.
declare -A malloc_limit=([pgm]=128 [predict_body]=128 [jpeg]=128)
declare -A dict=([safetensors]=safetensors.dict [model]=safetensors.dict [pgm]=pgm.dict [png]=png.dict
                 [jpeg]=jpeg.dict [spec]=spec.dict [http]=http.dict [predict_body]=pgm.dict
                 [inside_query]=inside_query.dict)

cc=${CC:-clang}
echo "== building in $build"
mkdir -p "$build"
if ! cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER="$cc" >"$build/build.log" 2>&1 ||
   ! cmake --build "$build" -j2 >>"$build/build.log" 2>&1; then
    cat "$build/build.log"
    echo "fuzz build failed (clang with libFuzzer needed; on Debian: apt-get install libclang-rt-14-dev)"
    n=$(wc -w <<<"$targets")
    echo "0 passed, $n failed"
    exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

stamp=$(date +%Y%m%d-%H%M%S)
passed=0
failed=0
for t in $targets; do
    bin=$build/fuzz_$t
    out=$build/artifacts/$t-$stamp
    mkdir -p "$out"
    common=(-rss_limit_mb=2048 -malloc_limit_mb="${malloc_limit[$t]:-2048}" -timeout=10
            -max_len="${max_len[$t]:-4096}")
    ok=1

    # 1. Known reproducers must now pass (each input is run once).
    regressions=("$here/regressions/$t"/*)
    if [ -e "${regressions[0]}" ]; then
        for r in "${regressions[@]}"; do
            [ -f "$r" ] || continue
            if ! nice -n 19 "$bin" "${common[@]}" "$r" >"$out/replay-$(basename "$r").log" 2>&1; then
                echo "FAIL $t: regression $r still fails (log: $out/replay-$(basename "$r").log)"
                grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|invariant failed|ALARM|out-of-memory| in dn_' \
                    "$out/replay-$(basename "$r").log" | head -n 6 | sed 's/^/    /'
                ok=0
            fi
        done
    fi

    # 2. Fuzz for $seconds seconds on a scratch copy of the seeds.
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/digitnet-fuzz-$t.XXXXXX")
    cp -R "$here/corpus/$t/." "$scratch/"
    args=("${common[@]}" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/")
    [ -n "${dict[$t]:-}" ] && args+=(-dict="$here/${dict[$t]}")
    # shellcheck disable=SC2206
    args+=(${DN_FUZZ_ARGS:-})
    nice -n 19 "$bin" "${args[@]}" "$scratch" >"$out/fuzz.log" 2>&1
    rc=$?
    rm -rf "$scratch"
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$out/fuzz.log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        ok=0
        echo "FAIL $t: fuzzer exited $rc (log: $out/fuzz.log)"
        grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|invariant failed|ALARM|out-of-memory|malloc\(' "$out/fuzz.log" |
            head -n 5 | sed 's/^/    /'
        for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$out"/slow-unit-*; do
            [ -f "$a" ] && echo "    reproducer: $a   (replay: $bin $a)"
        done
    fi
    if [ $ok -eq 1 ]; then
        echo "ok   $t: ${execs:-?} runs, ${cov:-cov: ?} in ${seconds}s"
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
