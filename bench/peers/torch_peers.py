#!/usr/bin/python3
"""PyTorch side of the peer benchmark (float64): one logistic-regression training step
(forward, loss, backward, SGD update) with BCE on sigmoid and with BCE with logits, and an MLP
training step (784-256-10, softmax cross-entropy, batch 256) with ReLU and with tanh as the hidden
activation. Prints one JSON object per line: {"workload", "variant", "median_us", "repeats",
"threads"}.

Usage: /usr/bin/python3 bench/peers/torch_peers.py [--quick]
"""
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
blas_threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0"))
quick = "--quick" in sys.argv


def median_time(step, min_seconds):
    step()  # warm up: first touches, allocator pools
    step()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 5:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e6, len(times)


def emit(workload, variant, median_us, repeats):
    # "threads" is the BLAS thread count, as on the C++ side; intra-op threads are printed apart.
    print(json.dumps({"workload": workload, "variant": variant, "median_us": median_us, "repeats": repeats,
                      "threads": blas_threads}), flush=True)


for m, n in [(64, 10), (10000, 100), (1000000, 20)]:
    rng = np.random.default_rng(1)
    X = torch.from_numpy(rng.normal(size=(m, n)))
    y = torch.from_numpy((rng.normal(size=m) > 0).astype(np.float64))
    for variant in ["bce_on_sigmoid", "bce_with_logits"]:
        w = torch.zeros(n, requires_grad=True)
        b = torch.zeros((), requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=0.1)

        def step():
            opt.zero_grad()
            z = X @ w + b
            if variant == "bce_on_sigmoid":
                loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(z), y)
            else:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
            loss.backward()
            opt.step()
            return loss

        median_us, repeats = median_time(step, 0.5 if quick else 2.0)
        emit(f"logistic {m}x{n}", f"pytorch {variant}", median_us, repeats)

rng = np.random.default_rng(2)
X = torch.from_numpy(rng.normal(size=(256, 784)))
labels = torch.from_numpy(rng.integers(0, 10, size=256))
for workload, activation in [("mlp 784-256-10 batch 256", torch.nn.ReLU),
                             ("mlp 784-256-10 batch 256, tanh", torch.nn.Tanh)]:
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), activation(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)

    def mlp_step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(X), labels)
        loss.backward()
        opt.step()

    median_us, repeats = median_time(mlp_step, 0.5 if quick else 2.0)
    emit(workload, "pytorch nn.Sequential", median_us, repeats)


# Breast cancer, standardised, L2 (λ = 1 in xgrad's scaling, sklearn's C = 1), L-BFGS with a strong
# Wolfe line search until the gradient's largest entry is below 1e-6.
import csv
import os

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(root, "data", "breast_cancer.csv")) as f:
    rows = list(csv.reader(f))[1:]
data = np.array(rows, dtype=float)
Xb = data[:, :-1]
Xb = torch.from_numpy((Xb - Xb.mean(axis=0)) / Xb.std(axis=0))
yb = torch.from_numpy(data[:, -1])
m = Xb.shape[0]
iterations = [0]


def train():
    w = torch.zeros(Xb.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=1000, history_size=10, tolerance_grad=1e-6,
                            tolerance_change=0, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Xb @ w + b, yb) + 0.5 * (w @ w) / m
        loss.backward()
        return loss

    opt.step(closure)
    iterations[0] = opt.state[opt._params[0]]["n_iter"]


median_us, repeats = median_time(train, 0.5 if quick else 2.0)
print(json.dumps({"workload": "breast cancer, L2 logistic, L-BFGS to grad < 1e-6", "variant": "pytorch LBFGS",
                  "median_us": median_us, "repeats": repeats, "threads": blas_threads,
                  "iterations": iterations[0]}), flush=True)
