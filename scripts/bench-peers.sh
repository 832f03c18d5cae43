#!/usr/bin/env bash
# The peer comparison: builds xgrad, installs Debian's PyTorch if missing, runs the C++ and the
# PyTorch side with the same BLAS thread count, and prints one table (see BENCHMARKS.md).
#   scripts/bench-peers.sh [--quick]        THREADS=2 scripts/bench-peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    as_root=()
    [ "$(id -u)" -ne 0 ] && as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy
fi
scripts/build.sh >/dev/null
threads=${THREADS:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# OpenBLAS serves both sides (PyTorch's float64 matmuls use the system OpenBLAS).
OPENBLAS_NUM_THREADS=$threads build/bench/bench_peers "$@" | tee "$out/xgrad.jsonl" >&2
for spelling in "" --fused-op; do  # peak memory in a fresh process each
    OPENBLAS_NUM_THREADS=$threads build/bench/bench_peers --rss 1000000 20 $spelling \
        | tee -a "$out/xgrad.jsonl" >&2
done
# PyTorch's own (OpenMP) threads stay at one, like xgrad's elementwise loops: with more, its idle
# OpenMP workers spin and take the cores from OpenBLAS (measured: the MLP step went from 2.8 to
# 4.4 ms with OMP_NUM_THREADS=2 beside two OpenBLAS threads).
OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=1 /usr/bin/python3 bench/peers/torch_peers.py "$@" \
    | tee "$out/torch.jsonl" >&2
echo "OpenBLAS threads: $threads (both sides); elementwise work on one thread (both sides);" \
    "$(OMP_NUM_THREADS=1 /usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__, "intra-op threads", torch.get_num_threads())')"
/usr/bin/python3 bench/peers/report.py "$out/xgrad.jsonl" "$out/torch.jsonl"
