#!/usr/bin/env bash
# Install what is missing, build, and run every test with ctest.
# --sanitize builds and tests under AddressSanitizer + UndefinedBehaviorSanitizer instead.
# Without it, the suite runs once more for each other instruction set of the elementwise kernels
# this CPU runs (XGRAD_SIMD).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
build_dir=build
[ "${1:-}" = "--sanitize" ] && build_dir=build-sanitize
# allocator_may_return_null: an allocation too large for any memory fails as in a release build
# (std::bad_alloc, which tests/core/test_allocator.cpp checks), not by aborting the process.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
if [ "${1:-}" != "--sanitize" ]; then
    # The elementwise kernels' other instruction sets: the run above used the widest this CPU
    # has; each other one it can run gets the whole suite too (an AVX-512 machine tests AVX2).
    for isa in avx2 scalar; do
        if XGRAD_SIMD=$isa "$build_dir/xgrad" --version | grep -q "kernels: $isa)"; then
            echo "== the whole suite again with the $isa kernels"
            XGRAD_SIMD=$isa ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" \
                --exclude-regex '^(Cli|Corpus)\.'
        fi
    done
fi
