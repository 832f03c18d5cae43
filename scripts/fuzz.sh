#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/: the CSV reader, the model-file loader, the IDX reader and
# the .npz loader) with clang++, AddressSanitizer and UndefinedBehaviorSanitizer into build-fuzz/,
# and runs each for a while starting from the committed seeds (tests/corpus/csv and model,
# fuzz/seeds/idx and npz), which are left as they are.
#   scripts/fuzz.sh [seconds per target, default 20]
# A crash, leak or sanitizer report fails the script; the input is kept in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}

# clang and its runtime (libFuzzer and the sanitizers): only the fuzzers need them.
scripts/install-deps.sh clang libclang-rt-14-dev

CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAD_FUZZ=ON \
    -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF -DXGRAD_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_csv fuzz_model fuzz_idx fuzz_npz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p build-fuzz/artifacts
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in csv model idx npz; do
    mkdir -p "$work/$target"
    seeds=tests/corpus/"$target"
    [ -d "$seeds" ] || seeds=fuzz/seeds/"$target"
    cp "$seeds"/* "$work/$target/"
    dict=()
    [ "$target" = csv ] && dict=(-dict=fuzz/csv.dict)
    [ "$target" = model ] && dict=(-dict=fuzz/json.dict)
    echo "fuzz_$target: ${seconds}s from $(ls "$work/$target" | wc -l) seeds"
    build-fuzz/fuzz/fuzz_"$target" "$work/$target" "${dict[@]}" -max_total_time="$seconds" \
        -max_len=8192 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ \
        -print_final_stats=1 2>"$work/$target.log" || { tail -50 "$work/$target.log" >&2; exit 1; }
    grep -E "^stat::(number_of_executed_units|new_units_added)" "$work/$target.log" | sed 's/^/  /'
done
echo "fuzz: no crash"
