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
smoke=()
for arg in "$@"; do
    case "$arg" in
    --smoke) smoke=(--smoke) ;;
    *) echo "usage: scripts/bench-fashion.sh [--smoke]  (env: THREADS, BUILD_DIR, BENCH_ARGS)" >&2; exit 2 ;;
    esac
done
scripts/install-deps.sh
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    as_root=()
    [ "$(id -u)" -ne 0 ] && as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy
fi
build_dir=${BUILD_DIR:-build}
if [ -n "${BUILD_DIR:-}" ]; then
    cmake --build "$build_dir" -j "$(nproc)" --target bench_fashion >/dev/null
else
    scripts/build.sh >/dev/null
fi
bench="$build_dir/bench/bench_fashion"
source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build_dir/CMakeCache.txt")
if version=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null); then
    git -C "$source_dir" diff --quiet HEAD -- src include examples/fashion_mnist.hpp ||
        version+=" + uncommitted changes to src/, include/ or the example"
else
    version="(not a git checkout)"
fi
read -r -a extra <<<"${BENCH_ARGS:-}"
thread_flags=()
for t in ${THREADS:-1 2}; do thread_flags+=(--threads "$t"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# CPU time the machine spent outside this run (other processes, other tenants): a busy machine
# makes the two-thread rows meaningless (an OpenMP or worker-pool thread waits for a core).
# (user + nice + system + irq + softirq ticks of all cores; `times` gives this shell's children.)
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
children_seconds() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
    print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"; }
ticks0=$(busy_ticks)
times >"$out/times0"
start=$(date +%s.%N)

# Both sides run every (model, threads) case in a fresh process that sets its own thread counts
# (xgrad::set_blas_threads; torch.set_num_threads and OPENBLAS_NUM_THREADS) and reports its peak RSS.
"$bench" "${smoke[@]}" "${thread_flags[@]}" "${extra[@]}" | tee "$out/xgrad.jsonl" >&2
/usr/bin/python3 bench/peers/torch_fashion.py --malloc-tuned "${smoke[@]}" "${thread_flags[@]}" \
    "${extra[@]}" | tee "$out/torch.jsonl" >&2

ticks1=$(busy_ticks)
times >"$out/times1"
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
others=$(awk -v t0="$ticks0" -v t1="$ticks1" -v hz="$(getconf CLK_TCK)" -v e="$elapsed" \
    -v o0="$(children_seconds "$out/times0")" -v o1="$(children_seconds "$out/times1")" \
    'BEGIN { v = ((t1 - t0) / hz - (o1 - o0)) / e; printf "%.2f", v < 0 ? 0 : v }')
echo
echo "xgrad $version, built in $build_dir from $source_dir;" \
    "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), float64;" \
    "a run of $elapsed s, during which other processes took $others of $(nproc) cores."
if awk -v o="$others" 'BEGIN { exit !(o > 0.2) }'; then
    echo "WARNING: the machine was busy: threads that wait for a core (PyTorch's OpenMP team above" \
        "all) make the multi-thread rows slow by milliseconds at random; rerun when it is quiet."
fi
/usr/bin/python3 bench/peers/fashion_report.py --busy "$others" "$out/xgrad.jsonl" "$out/torch.jsonl"
