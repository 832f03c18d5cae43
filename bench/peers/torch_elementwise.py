#!/usr/bin/python3
"""PyTorch side of the elementwise-chain benchmark (bench/bench_elementwise.cpp), float64.

A chain of L = 4 of one op, each applied to the previous result, from a leaf x of n elements
(requires_grad); one step = build the chain (PyTorch always builds afresh: mode "rebuilt"),
y.backward(torch.ones(n)), and the gradients reset with `x.grad = None` (what
optimizer.zero_grad(set_to_none=True), PyTorch's default, does). Ops: tanh, sigmoid, exp, log, and
mul_add (h = h * a + b with parameters a and b of n elements; one pair counts as one op). The
inputs are drawn from the same ranges as on the C++ side (values stay finite over the 4 steps).
Threads: torch.set_num_threads(T) for T = 1 and 2 (or --threads T).

Timing as timeit does, after 0.2 s of warm-up steps: the garbage collector off, batches of
`number` steps (as many as take 0.1 s, at least 1: at 1 048 576 elements the page faults of
successive steps come in a pattern some steps long), at least 5 batches and as many as --min-time
seconds allow; the median of the batches' time per step. Prints one JSON object per line, the
schema of bench_elementwise --jsonl: {"workload": "elementwise chain", "side": "pytorch", "op",
"mode", "n", "threads", "us_per_op", "median_us" (per step), "repeats" (batches), "iterations"
(steps per batch), "faults_per_step" (minor page faults: first touches of fresh buffers)}.

Usage: /usr/bin/python3 bench/peers/torch_elementwise.py [--smoke] [--isolate] [--threads T]
                                                        [--min-time S]
  --smoke: n in {64, 4096} only, short timings (proves the script runs).
  --isolate: each case in a child process forked before any case runs (and before any OpenMP
      region), as bench_elementwise --isolate does: the heap then starts the same for every case.
"""
import argparse
import gc
import sys
import json
import os
import resource
import statistics
import time

import numpy as np
import torch

CHAIN_LENGTH = 4
SIZES = [64, 4096, 65536, 1048576]
SMOKE_SIZES = [64, 4096]
OPS = ["tanh", "sigmoid", "exp", "log", "mul_add"]
RANGES = {"tanh": (-3.0, 3.0), "sigmoid": (-3.0, 3.0), "exp": (-20.0, -10.0), "log": (1e7, 1e8),
          "mul_add": (-1.0, 1.0)}


def make_step(op, n):
    rng = np.random.default_rng(15)
    x = torch.from_numpy(rng.uniform(*RANGES[op], size=n)).requires_grad_()
    seed = torch.ones(n, dtype=torch.float64)
    if op == "mul_add":
        a = torch.from_numpy(rng.uniform(0.5, 1.0, size=n)).requires_grad_()
        b = torch.from_numpy(rng.uniform(-1.0, 1.0, size=n)).requires_grad_()

        def step():
            h = x
            for _ in range(CHAIN_LENGTH):
                h = h * a + b
            h.backward(seed)
            x.grad = None
            a.grad = None
            b.grad = None
    else:
        f = getattr(torch, op)

        def step():
            h = x
            for _ in range(CHAIN_LENGTH):
                h = f(h)
            h.backward(seed)
            x.grad = None
    return step


def median_step_seconds(step, min_seconds, batch_seconds, warmup_seconds):
    """Median over batches of the time per step; batches, steps per batch, page faults per step."""
    start = time.perf_counter()
    warmups = 0
    while warmups < 2 or time.perf_counter() - start < warmup_seconds:  # first touches, allocator
        step()
        warmups += 1
    t0 = time.perf_counter()
    step()
    once = max(time.perf_counter() - t0, 1e-9)
    number = max(1, int(batch_seconds / once))
    per_step = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        while len(per_step) < 5 or time.perf_counter() - start < min_seconds:
            t0 = time.perf_counter()
            for _ in range(number):
                step()
            per_step.append((time.perf_counter() - t0) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return statistics.median(per_step), len(per_step), number, faults / (len(per_step) * number)


def run_case(op, n, threads, min_seconds, batch_seconds, warmup_seconds):
    torch.set_num_threads(threads)
    step = make_step(op, n)
    seconds, repeats, number, faults = median_step_seconds(step, min_seconds, batch_seconds, warmup_seconds)
    print(json.dumps({"workload": "elementwise chain", "side": "pytorch", "op": op, "mode": "rebuilt",
                      "n": n, "threads": torch.get_num_threads(), "us_per_op": seconds * 1e6 / CHAIN_LENGTH,
                      "median_us": seconds * 1e6, "repeats": repeats, "iterations": number,
                      "faults_per_step": round(faults, 1)}), flush=True)


def run_in_child(*case):
    """Runs one case in a forked child; False if it failed."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            run_case(*case)
            code = 0
        finally:
            sys.stdout.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--isolate", action="store_true")
    parser.add_argument("--threads", type=int, action="append",
                        help="intra-op thread count (repeatable); default 1 and 2")
    parser.add_argument("--min-time", type=float, default=None,
                        help="seconds of timing per case (default 0.6, 0.02 with --smoke)")
    args = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    min_seconds = args.min_time if args.min_time is not None else (0.02 if args.smoke else 0.6)
    batch_seconds = 0.002 if args.smoke else 0.1
    warmup_seconds = 0.0 if args.smoke else 0.2
    failed = []
    for threads in args.threads or [1, 2]:
        for op in OPS:
            for n in SMOKE_SIZES if args.smoke else SIZES:
                case = (op, n, threads, min_seconds, batch_seconds, warmup_seconds)
                if args.isolate:
                    if not run_in_child(*case):
                        failed.append(f"{op} n={n} threads={threads}")
                else:
                    run_case(*case)
                    gc.collect()
    if failed:
        sys.exit("torch_elementwise: failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
