#!/usr/bin/env bash
# Issue 16's training benchmark: Fashion-MNIST training throughput (images/s: forward, backward and
# Adam update) and peak memory of examples/fashion_mnist.hpp's MLP and CNN, xgrad against PyTorch
# float64 with the same models, data, batch size (128) and thread count (1 and 2), each case in a
# fresh process. Builds bench_fashion, installs Debian's PyTorch if missing, runs both sides in one
# run and prints one markdown table per thread count (bench/peers/fashion_report.py). PyTorch runs
# in each of its thread settings (intra-op × OpenBLAS) with glibc's allocator as it comes and tuned
# (torch_fashion.py --malloc-tuned: no page faults per step); the table takes its fastest.
#   scripts/bench-fashion.sh [--smoke]        (all of it takes ~3 min; --smoke ~30 s)
#   THREADS=1 scripts/bench-fashion.sh         (one thread count; default "1 2")
#   BUILD_DIR=build-mine scripts/bench-fashion.sh
#       (an already configured build directory, with XGRAD_BUILD_BENCH=ON: only bench_fashion
#       is built there; by default scripts/build.sh builds build/)
# Extra options for both sides: BENCH_ARGS="--batch 256 --seconds 10".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
bench_parse_args "scripts/bench-fashion.sh [--smoke]  (env: THREADS, BUILD_DIR, BENCH_ARGS)" "$@"
scripts/install-deps.sh
bench_need_torch
bench_build bench_fashion src include examples/fashion_mnist.hpp
read -r -a extra <<<"${BENCH_ARGS:-}"
thread_flags=()
for t in ${THREADS:-1 2}; do thread_flags+=(--threads "$t"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# A busy machine makes the two-thread rows meaningless (an OpenMP or worker-pool thread waits for
# a core): the run says how busy it was.
bench_load_start "$out"

# Both sides run every (model, threads) case in a fresh process that sets its own thread counts
# (xgrad::set_blas_threads; torch.set_num_threads and OPENBLAS_NUM_THREADS) and reports its peak RSS.
"$bench" "${smoke[@]}" "${thread_flags[@]}" "${extra[@]}" | tee "$out/xgrad.jsonl" >&2
/usr/bin/python3 bench/peers/torch_fashion.py --malloc-tuned "${smoke[@]}" "${thread_flags[@]}" \
    "${extra[@]}" | tee "$out/torch.jsonl" >&2

bench_load_end "$out"
echo
echo "xgrad $version, built in $build_dir from $source_dir;" \
    "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), float64;" \
    "a run of $elapsed s, during which other processes took $others of $(nproc) cores."
if bench_busy 0.2; then
    echo "WARNING: the machine was busy: threads that wait for a core (PyTorch's OpenMP team above" \
        "all) make the multi-thread rows slow by milliseconds at random; rerun when it is quiet."
fi
/usr/bin/python3 bench/peers/fashion_report.py --busy "$others" "$out/xgrad.jsonl" "$out/torch.jsonl"
