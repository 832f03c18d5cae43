#!/usr/bin/python3
"""PyTorch side of the Fashion-MNIST training benchmark (bench/bench_fashion.cpp), float64.

The two models of examples/fashion_mnist.hpp in torch.nn:
  mlp: Flatten, Linear(784, 256), BatchNorm1d, ReLU, Dropout(0.2), Linear(256, 128), BatchNorm1d,
       ReLU, Dropout(0.2), Linear(128, 10);
  cnn: Conv2d(1, 16, 3, padding=1), BatchNorm2d, ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1),
       BatchNorm2d, ReLU, MaxPool2d(2), Flatten, Dropout(0.25), Linear(1568, 10).
One training step as the example's: a shuffled batch of the training set (full batches only,
reshuffled every epoch), F.cross_entropy(model(x), y), optimizer.zero_grad(set_to_none=True)
(PyTorch 2's default, the faster one), loss.backward(), the one-cycle rate of the step
(OneCycleLR(max_lr, total_steps=100000, cycle_momentum=False): xgrad's optim::one_cycle),
Adam.step(), loss.item(); the model in training mode. Max rate 0.003 (mlp), 0.01 (cnn).

Data: the IDX gzip files read with Python's gzip module, images as one float64 tensor
(n, 1, 28, 28) / 255 as xgrad holds them; the full training set from
/usr/share/datasets/fashion-mnist when installed, else the repository's data/fashion-mnist-sample
(or --data DIR).

Threads: each case runs in a fresh process (this script with --case) whose environment sets
OPENBLAS_NUM_THREADS (PyTorch's float64 matrix products, and its float64 convolutions' im2col
products, go to the system OpenBLAS) and OMP_NUM_THREADS, and which calls torch.set_num_threads
with its intra-op count. At T threads the cases are "intra-op T, OpenBLAS T" and, for T > 1, also
"intra-op 1, OpenBLAS T" (bench/peers/torch_peers.py's setting, used by scripts/bench-peers.sh:
PyTorch's idle OpenMP workers spin and can take the cores from OpenBLAS) and "intra-op T,
OpenBLAS 1"; the report compares xgrad with the fastest of them.

glibc's allocator: by default its mmap threshold adapts to the sizes freed, and a step that frees a
large buffer may hand its pages back, so the next step's buffers come as fresh pages (thousands of
page faults per CNN step, and a step time that differs from one process to the next). With
--malloc-tuned every setting also runs with MALLOC_MMAP_THRESHOLD_=4 GiB and
MALLOC_TRIM_THRESHOLD_=64 GiB in its environment (every buffer from the heap, never given back:
almost no page faults), PyTorch at its fastest ("malloc": "tuned" in its line; else "default").

Timing: warm-up steps for --warmup seconds (at least 3), then whole steps, each timed, for
--seconds seconds (at least 5), the garbage collector off; images/s = batch / median step.
Memory: after the data set is loaded the case resets its peak RSS (/proc/self/clear_refs), so
VmHWM at the end is the training's peak with the data set (and torch's libraries) resident; the
RSS before the model is built is printed too.

Prints one JSON object per line, the schema of bench_fashion: {"workload": "fashion training",
"side": "pytorch", "model", "threads", "intra_op_threads", "openblas_threads", "malloc", "batch", "data",
"full_data", "train_images", "parameters", "median_us", "mean_us", "steps", "images_per_s",
"peak_rss_mib", "rss_before_model_mib", "loading_peak_rss_mib" (the peak while the data set was
read), "faults_per_step", "loss_first", "loss_last"}.

Usage: /usr/bin/python3 bench/peers/torch_fashion.py [--smoke] [--model mlp|cnn]... [--threads T]...
           [--batch N] [--seconds S] [--warmup S] [--data DIR] [--malloc-tuned]
  defaults: both models, threads 1 and 2, batch 128, 6 s timed after 1.5 s of warm-up per case;
  --smoke: 0.3 s after 0.1 s, and at T > 1 only the first thread setting (proves it runs).
"""
import argparse
import gc
import gzip
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import time

FULL_DATA = "/usr/share/datasets/fashion-mnist"
SAMPLE_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "data", "fashion-mnist-sample")


def data_folder(given):
    if given:
        return given
    if os.path.exists(os.path.join(FULL_DATA, "train-images-idx3-ubyte.gz")):
        return FULL_DATA
    return SAMPLE_DATA


def read_idx(path):
    """An IDX file of unsigned bytes (gzip-compressed): (shape, bytes)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, type_code, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    shape = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return shape, data[4 + 4 * rank:]


def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    return -1.0


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def make_model(kind):
    import torch.nn as nn
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 7 * 7, 10))


def run_case(kind, intra_threads, args):
    """One case in this process (OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set by the parent)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(intra_threads)
    folder = data_folder(args.data)
    shape, pixels = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))
    (count,), label_bytes = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))
    if count != shape[0] or len(shape) != 3:
        raise ValueError(f"{folder}: {shape[0]} images of rank {len(shape)}, {count} labels")
    images = torch.from_numpy(np.frombuffer(pixels, dtype=np.uint8).astype(np.float64) / 255.0)
    images = images.reshape(count, 1, shape[1], shape[2])
    labels = torch.from_numpy(np.frombuffer(label_bytes, dtype=np.uint8).astype(np.int64))
    del pixels, label_bytes
    gc.collect()
    if count < args.batch:
        raise ValueError(f"{count} training images, fewer than a batch of {args.batch}")
    loading_peak = status_mib("VmHWM")
    peak_reset = reset_peak_rss()
    rss_before_model = status_mib("VmRSS")

    torch.manual_seed(1)
    model = make_model(kind)
    parameters = sum(p.numel() for p in model.parameters())
    max_rate = 0.01 if kind == "cnn" else 0.003
    optimizer = torch.optim.Adam(model.parameters(), lr=max_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_rate, total_steps=100000,
                                                   cycle_momentum=False)
    model.train()
    batches = count // args.batch  # full batches only, as bench_fashion (drop_last)
    generator = torch.Generator().manual_seed(1)
    state = {"order": torch.randperm(count, generator=generator), "i": 0}

    def step():
        if state["i"] == batches:
            state["order"] = torch.randperm(count, generator=generator)
            state["i"] = 0
        i = state["i"]
        state["i"] += 1
        index = state["order"][i * args.batch:(i + 1) * args.batch]
        x, y = images[index], labels[index]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()  # the rate of the next step
        return loss.item()

    start = time.perf_counter()
    loss_first = None
    warmups = 0
    while warmups < 3 or time.perf_counter() - start < args.warmup:
        loss = step()
        if loss_first is None:
            loss_first = loss
        warmups += 1
    times = []
    gc.disable()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < args.seconds:
        t0 = time.perf_counter()
        loss_last = step()
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    gc.enable()
    peak = status_mib("VmHWM") if peak_reset else -1.0
    median = statistics.median(times)
    print(json.dumps({
        "workload": "fashion training", "side": "pytorch", "model": kind,
        "threads": int(os.environ.get("XGRAD_BENCH_THREADS", intra_threads)),
        "intra_op_threads": torch.get_num_threads(),
        "openblas_threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "malloc": "tuned" if "MALLOC_MMAP_THRESHOLD_" in os.environ else "default",
        "batch": args.batch, "data": folder, "full_data": folder == FULL_DATA, "train_images": count,
        "parameters": parameters, "median_us": round(median * 1e6, 1),
        "mean_us": round(total / len(times) * 1e6, 1), "steps": len(times),
        "images_per_s": round(args.batch / median, 1), "peak_rss_mib": round(peak, 1),
        "rss_before_model_mib": round(rss_before_model, 1), "loading_peak_rss_mib": round(loading_peak, 1),
        "faults_per_step": round(faults / len(times), 1), "loss_first": round(loss_first, 4),
        "loss_last": round(loss_last, 4), "torch": torch.__version__}), flush=True)


def settings_for(threads, smoke):
    """(intra-op threads, OpenBLAS threads) pairs run at `threads`."""
    if threads == 1:
        return [(1, 1)]
    pairs = [(threads, threads), (1, threads), (threads, 1)]
    return pairs[:1] if smoke else pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--model", action="append", choices=["mlp", "cnn"])
    parser.add_argument("--threads", type=int, action="append")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--data", default="")
    parser.add_argument("--malloc-tuned", action="store_true")
    parser.add_argument("--case", nargs=2, metavar=("MODEL", "INTRA_OP_THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 0.3 if args.smoke else 6.0
    if args.warmup is None:
        args.warmup = 0.1 if args.smoke else 1.5
    if args.batch < 1 or args.seconds <= 0 or args.warmup <= 0:
        sys.exit("torch_fashion: --batch, --seconds and --warmup must be > 0")
    if args.case:
        run_case(args.case[0], int(args.case[1]), args)
        return
    failed = []
    for threads in args.threads or [1, 2]:
        if threads < 1:
            sys.exit(f"torch_fashion: --threads {threads} is not a thread count >= 1")
        for kind in args.model or ["mlp", "cnn"]:
            for (intra, blas), malloc in [(pair, m) for m in (["default", "tuned"] if args.malloc_tuned else ["default"])
                                          for pair in settings_for(threads, args.smoke)]:
                env = dict(os.environ, OPENBLAS_NUM_THREADS=str(blas), OMP_NUM_THREADS=str(intra),
                           XGRAD_BENCH_THREADS=str(threads))
                env.pop("MALLOC_MMAP_THRESHOLD_", None)
                env.pop("MALLOC_TRIM_THRESHOLD_", None)
                if malloc == "tuned":
                    env.update(MALLOC_MMAP_THRESHOLD_=str(4 << 30), MALLOC_TRIM_THRESHOLD_=str(64 << 30))
                command = [sys.executable, os.path.abspath(__file__), "--case", kind, str(intra),
                           "--batch", str(args.batch), "--seconds", repr(args.seconds),
                           "--warmup", repr(args.warmup), "--data", data_folder(args.data)]
                sys.stdout.flush()
                if subprocess.run(command, env=env).returncode != 0:
                    failed.append(f"{kind} threads={threads} (intra-op {intra}, OpenBLAS {blas}, malloc {malloc})")
    if failed:
        sys.exit("torch_fashion: failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
