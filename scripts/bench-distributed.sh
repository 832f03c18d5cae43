#!/usr/bin/env bash
# Issue 17's benchmark: data-parallel training over MPI on this host, and what it projects for a
# cluster. Builds bench_distributed if needed and runs it under mpirun three times:
#   1 rank,  1 thread  (OpenBLAS and xgrad's pool at 1): the baseline, the logistic step also at
#                       the shard sizes of 8, 64 and 512 ranks, the MLP step at the per-rank
#                       batches of 1..128 ranks (128, 64, ..., 1);
#   2 ranks, 1 thread each, one core each (--bind-to core): the all-reduce sizes (xgrad's ring
#                       and MPI_Allreduce), logistic regression (2 000 000 x 20) and the
#                       Fashion-MNIST MLP (global batch 128, 64 per rank);
#   1 rank,  2 threads (--bind-to none): what a user would run on this host without MPI.
# The raw JSON lines go to OUT_DIR (one file per run); bench/peers/distributed_model.py fits the
# alpha-beta model of the ring all-reduce to the 2-rank times and prints the tables and the
# projection for 8, 64 and 512 ranks on 10 and 100 Gb/s networks (also saved as report.md).
#   scripts/bench-distributed.sh [--smoke]      (about 40 s; --smoke: tiny sizes, about 10 s)
#   BUILD_DIR=build-mine scripts/bench-distributed.sh
#       (an already configured build directory: only bench_distributed is built there; by
#       default scripts/build.sh builds build/)
#   OUT_DIR=results scripts/bench-distributed.sh     (default: $BUILD_DIR/bench-distributed)
#   BENCH_ARGS="--seconds 4" scripts/bench-distributed.sh      (more options for every run)
# Across hosts, run the program itself (this script measures one host; the program and the data
# must be at the same paths on every host; a hostfile holds lines "hostname slots=N"):
#   mpirun --hostfile hosts -np 4 --bind-to core -x OPENBLAS_NUM_THREADS=1 \
#       build/bench/bench_distributed --allreduce --logistic --mlp
#   mpirun --host a:2,b:2 -np 4 ...                     (the same without a hostfile)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
bench_parse_args "scripts/bench-distributed.sh [--smoke]  (env: BUILD_DIR, OUT_DIR, BENCH_ARGS)" "$@"
scripts/install-deps.sh
bench_build bench_distributed src include bench/bench_distributed.cpp
if [ ! -x "$bench" ]; then
    echo "no $bench: configure $build_dir with MPI (libopenmpi-dev) and XGRAD_BUILD_BENCH=ON" >&2
    exit 1
fi
out=${OUT_DIR:-$build_dir/bench-distributed}
mkdir -p "$out"
read -r -a extra <<<"${BENCH_ARGS:-}"
# mpirun refuses to start as root unless told that it is meant.
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
if [ ${#smoke[@]} -gt 0 ]; then
    rows=20000,2500,313,40                  # the global rows and the shards of 8, 64, 512 ranks
    batches=128,16,2
else
    rows=2000000,250000,31250,3907
    batches=128,64,32,16,8,4,2,1
fi

# With two ranks on two cores, any other process makes a rank wait and the other wait for it
# in reduce(): the run says how busy the machine was.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_load_start "$out"

# -x passes OPENBLAS_NUM_THREADS to every rank (OpenBLAS reads it when it loads; the program
# then sets the same count with --threads for OpenBLAS and xgrad's own worker pool).
echo "1 rank, 1 thread ..." >&2
OPENBLAS_NUM_THREADS=1 mpirun -np 1 --bind-to core -x OPENBLAS_NUM_THREADS "$bench" "${smoke[@]}" \
    --threads 1 --logistic --rows "$rows" --mlp --batch "$batches" "${extra[@]}" \
    | tee "$out/one_rank.jsonl" >&2
echo "2 ranks, 1 thread each ..." >&2
OPENBLAS_NUM_THREADS=1 mpirun -np 2 --bind-to core -x OPENBLAS_NUM_THREADS "$bench" "${smoke[@]}" \
    --threads 1 --allreduce --logistic --rows "${rows%%,*}" --mlp --batch 128 "${extra[@]}" \
    | tee "$out/two_ranks.jsonl" >&2
echo "1 rank, 2 threads ..." >&2
OPENBLAS_NUM_THREADS=2 mpirun -np 1 --bind-to none -x OPENBLAS_NUM_THREADS "$bench" "${smoke[@]}" \
    --threads 2 --logistic --rows "${rows%%,*}" --mlp --batch 128 "${extra[@]}" \
    | tee "$out/one_rank_two_threads.jsonl" >&2

bench_load_end "$out"
{
    echo "xgrad $version, built in $build_dir from $source_dir; $(mpirun --version | head -1);" \
        "a run of $elapsed s, during which other processes took $others of $(nproc) cores" \
        "(load average before: $load_before)."
    if bench_busy 0.2; then
        echo "WARNING: the machine was busy: a rank that waits for a core makes the other wait in" \
            "reduce(); the 2-rank rows and the fit are noise. Rerun when it is quiet."
    fi
    echo
    /usr/bin/python3 bench/peers/distributed_model.py --busy "$others" "$out/one_rank.jsonl" \
        "$out/two_ranks.jsonl" "$out/one_rank_two_threads.jsonl"
} | tee "$out/report.md"
echo "raw outputs and report.md in $out" >&2
