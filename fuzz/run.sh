#!/usr/bin/env bash
# Runs every corsair fuzz target (or the ones named) for a bounded time.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 20. The committed corpus of each target
# (fuzz/corpus/<target>/) is the starting point, and new inputs that raise
# coverage are added to it. A crash stops the run with a non-zero exit
# code; its input is saved under fuzz/artifacts/<target>/ and reproduced
# with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>`.
#
# The machine has a stable toolchain only; cargo-fuzz needs nightly flags,
# which RUSTC_BOOTSTRAP=1 unlocks. The engine crate forbids unsafe code, so
# targets are built without a sanitizer but with debug assertions (overflow
# checks); FUZZ_SANITIZER=address selects AddressSanitizer instead (a much
# slower build). FUZZ_JOBS runs that many fuzzing processes per target
# (default 1).
set -euo pipefail

cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${1:-20}"
shift || true
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

all_targets=(origin_pattern origin_differential acrh evaluate agent_headers config upstream_response h1_differential)
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi

build_flags=(-s "$sanitizer")
if [ "$sanitizer" = none ]; then
    build_flags+=(--debug-assertions)
fi
echo "== building the fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build "${build_flags[@]}"

status=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048)
    if [ -f "dict/$t.dict" ]; then
        args+=(-dict="dict/$t.dict")
    fi
    if [ "$jobs" -gt 1 ]; then
        args+=(-jobs="$jobs" -workers="$jobs")
    fi
    log="artifacts/$t/run.log"
    echo "== fuzz $t for ${seconds}s"
    if cargo fuzz run "${build_flags[@]}" "$t" "corpus/$t" -- "${args[@]}" >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
        tail -n 40 "$log"
    fi
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')"
    summary+=("$t: $result, $execs executions in ${seconds}s")
done

echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit "$status"
