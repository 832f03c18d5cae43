#!/usr/bin/env bash
# Issue 15's elementwise benchmark: chains of tanh, sigmoid, exp, log and mul_add at 64 ... 1 048 576
# elements, xgrad rebuilt each step and replayed against PyTorch (rebuilt), at one and two threads,
# with the bandwidth floor at 1 048 576 from a STREAM triad. Builds xgrad, installs Debian's
# PyTorch if missing, runs both sides in one run and prints one markdown table per thread count.
#   scripts/bench-elementwise.sh [--smoke]          (all of it takes ~2 min; --smoke seconds)
#   THREADS=1 scripts/bench-elementwise.sh           (one thread count; default "1 2")
#   BUILD_DIR=build-mine scripts/bench-elementwise.sh
#       (an already configured build directory, with XGRAD_BUILD_BENCH=ON: only
#       bench_elementwise is built there; by default scripts/build.sh builds build/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
bench_parse_args "scripts/bench-elementwise.sh [--smoke]  (env: THREADS, BUILD_DIR)" "$@"
scripts/install-deps.sh
bench_need_torch
bench_build bench_elementwise src include
thread_flags=()
for t in ${THREADS:-1 2}; do thread_flags+=(--threads "$t"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# A busy machine makes the two-thread rows meaningless (an OpenMP or worker-pool thread waits for
# a core): the run says how busy it was.
bench_load_start "$out"

# Both sides set their own thread count per case (xgrad::set_blas_threads, torch.set_num_threads)
# and run every case in a fresh child process, so that no case inherits the heap of the others.
"$bench" --jsonl --isolate "${smoke[@]}" "${thread_flags[@]}" | tee "$out/xgrad.jsonl" >&2
/usr/bin/python3 bench/peers/torch_elementwise.py --isolate "${smoke[@]}" "${thread_flags[@]}" \
    | tee "$out/torch.jsonl" >&2

bench_load_end "$out"
echo
echo "xgrad $version, built in $build_dir from $source_dir;" \
    "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), float64;" \
    "a run of $elapsed s, during which other processes took $others of $(nproc) cores."
if bench_busy 0.2; then
    echo "WARNING: the machine was busy: threads that wait for a core (PyTorch's OpenMP team above" \
        "all) make the multi-thread rows slow by milliseconds at random; rerun when it is quiet."
fi
/usr/bin/python3 bench/peers/elementwise_report.py --busy "$others" "$out/xgrad.jsonl" "$out/torch.jsonl"
