#!/usr/bin/python3
"""Tables and a cluster projection from bench_distributed's JSON lines (scripts/bench-distributed.sh).

Reads three runs: 1 rank x 1 thread (the logistic step at several row counts, the MLP step at
several batch sizes), 2 ranks x 1 thread (the all-reduce sizes, both training steps) and 1 rank x
2 threads (both steps). Prints markdown:

1. the all-reduce times against message size (xgrad's ring, MPI_Allreduce) and the fit of the
   alpha-beta model of the ring all-reduce,
       T(n bytes, p) = 2(p - 1) alpha + 2(p - 1)/p n beta,
   to xgrad's times on the sizes where it runs the ring (n >= 4 KiB; below, it runs recursive
   doubling). Least squares on relative errors (the sizes span four
   decades of time: plain least squares would fit the largest messages only); alpha is held >= 0.
   The plain least-squares fit is printed too, and each size's residual;
2. the measured steps: logistic regression and the MLP at 1 and 2 ranks and 1 rank x 2 threads,
   reduce()'s share, speedup and efficiency; the 1-rank logistic step at the shard sizes of 8, 64
   and 512 ranks and the 1-rank MLP step at the per-rank batches of 1..128 ranks;
3. the projection for p = 8, 64, 512 ranks on 10 and 100 Gb/s networks: a step is the 1-rank
   compute of one rank's share (logistic: the measured 2e6-row step / p, as strong scaling at a
   fixed global size; MLP: the measured 1-rank step at the per-rank batch 128/p, interpolated
   linearly between measured batches) plus one all-reduce of the gradients from the alpha-beta
   model (no overlap: GradientReducer runs after backward). Efficiency = T1 / (p T_p). And the
   crossover: the smallest p at which the all-reduce takes as long as the compute.

Usage: distributed_model.py [--busy CORES] ONE_RANK.jsonl TWO_RANKS.jsonl TWO_THREADS.jsonl
"""
import math
import sys

from report_common import read_jsonl as read

RING_MIN_BYTES = 4096  # MpiCommunicator::allreduce_sum runs recursive doubling below this
NETWORKS = [  # name, alpha (s per message), bandwidth (bit/s)
    ("10 Gb/s Ethernet (TCP)", 10e-6, 10e9),
    ("100 Gb/s Ethernet (TCP)", 5e-6, 100e9),
]
PROJECT_RANKS = [8, 64, 512]


def section(records, name, **match):
    return [r for r in records if r.get("section") == name and
            all(r.get(k) == v for k, v in match.items())]


def only(records, name, **match):
    found = section(records, name, **match)
    if not found:
        sys.exit(f"distributed_model.py: no '{name}' record with {match}")
    return found[0]


def fit_alpha_beta(points, relative):
    """Least squares of T = a x1 + b x2 over (x1, x2, T); relative: on (model - T) / T.
    a is held >= 0 (refit with a = 0 when the free fit makes it negative)."""
    def solve(use_a):
        s11 = s12 = s22 = t1 = t2 = 0.0
        for x1, x2, t in points:
            w = 1.0 / (t * t) if relative else 1.0
            x1 = x1 if use_a else 0.0
            s11 += w * x1 * x1
            s12 += w * x1 * x2
            s22 += w * x2 * x2
            t1 += w * x1 * t
            t2 += w * x2 * t
        if not use_a:
            return 0.0, t2 / s22
        det = s11 * s22 - s12 * s12
        return (t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det
    a, b = solve(True)
    if a < 0.0:
        a, b = solve(False)
    return a, b


def ring_time(n_bytes, p, alpha, beta):
    """The alpha-beta model of a ring all-reduce (seconds)."""
    if p <= 1:
        return 0.0
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * n_bytes * beta


def doubling_time(n_bytes, p, alpha, beta):
    """xgrad's path below 4 KiB: recursive doubling, floor(log2 p) exchanges of the whole n
    bytes, plus two more (fold in, send back) when p is not a power of two."""
    if p <= 1:
        return 0.0
    steps = int(math.floor(math.log2(p))) + (0 if p & (p - 1) == 0 else 2)
    return steps * (alpha + n_bytes * beta)


def interpolate(points, x):
    """Piecewise-linear through sorted (x, y) points, extended linearly past both ends."""
    points = sorted(points)
    if len(points) == 1:
        return points[0][1]
    for k in range(1, len(points)):
        if x <= points[k][0] or k == len(points) - 1:
            (x0, y0), (x1, y1) = points[k - 1], points[k]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def first_crossing(lo, hi, comm, compute):
    """The smallest whole p in [lo, hi] with comm(p) >= compute(p) (comm rising, compute
    falling), or None."""
    if comm(hi) < compute(hi):
        return None
    if comm(lo) >= compute(lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if comm(mid) >= compute(mid):
            hi = mid
        else:
            lo = mid
    return hi


def ms(seconds):
    return f"{seconds * 1e3:.3g}" if seconds < 0.1 else f"{seconds * 1e3:.0f}"


def us(seconds):
    return f"{seconds * 1e6:.3g}" if seconds < 1e-3 else f"{seconds * 1e6:.0f}"


def main(argv):
    busy = 0.0
    if len(argv) >= 2 and argv[0] == "--busy":
        busy = float(argv[1])
        argv = argv[2:]
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    one, two, threads2 = (read(path) for path in argv)

    setup = only(two, "setup")
    print(f"CPU: {setup['cpu']} (AVX-512: {'yes' if setup['avx512f'] else 'no'}); "
          f"{setup['mpi']}; {setup['ranks']} ranks on {setup['hosts']} host(s), "
          "loopback (shared memory).")
    if busy > 0.2:
        print(f"\n**The machine was busy ({busy:.2f} cores taken by other processes): the 2-rank "
              "rows and the fit are noise.**")

    # 1. All-reduce sizes and the fit.
    ring = {r["bytes"]: r for r in section(two, "allreduce", impl="xgrad ring")}
    mpi = {r["bytes"]: r for r in section(two, "allreduce", impl="MPI_Allreduce")}
    p2 = setup["ranks"]
    points = [(2 * (p2 - 1), 2 * (p2 - 1) / p2 * n, ring[n]["median_us"] * 1e-6)
              for n in sorted(ring) if n >= RING_MIN_BYTES]
    if len(points) < 2:
        sys.exit("distributed_model.py: fewer than two ring sizes (>= 4 KiB) to fit")
    alpha, beta = fit_alpha_beta(points, relative=True)
    alpha_ols, beta_ols = fit_alpha_beta(points, relative=False)
    small = [ring[n]["median_us"] * 1e-6 for n in sorted(ring) if n < RING_MIN_BYTES]

    print(f"\n### All-reduce on this host, {p2} ranks (median of the slowest rank's time per call)\n")
    print("| bytes | xgrad ring (µs) | MPI_Allreduce (µs) | xgrad GB/s (n/T) | α–β fit (µs) "
          "| residual |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sorted(ring):
        t = ring[n]["median_us"] * 1e-6
        t_mpi = us(mpi[n]["median_us"] * 1e-6) if n in mpi else "—"
        if n >= RING_MIN_BYTES:
            model = ring_time(n, p2, alpha, beta)
            fit_text = f"{us(model)} | {100 * (model - t) / t:+.0f}%"
        else:
            fit_text = "(recursive doubling) | "
        print(f"| {n:,} | {us(t)} | {t_mpi} | {n / t / 1e9:.2f} | {fit_text} |")
    fit_text = (f"\nFit of T = 2(p−1)α + 2(p−1)/p·n·β to xgrad's ring (n ≥ 4 KiB, {len(points)} "
                f"sizes, least squares on relative error): **α = {alpha * 1e6:.2f} µs, β = "
                f"{beta * 1e9:.3f} ns/byte** (1/β = {1 / beta / 1e9:.1f} GB/s). Plain least "
                f"squares: α = {alpha_ols * 1e6:.2f} µs, β = {beta_ols * 1e9:.3f} ns/byte.")
    if small:
        fit_text += f" Below 4 KiB (recursive doubling) a call takes {us(min(small))}–{us(max(small))} µs."
    print(fit_text)

    # 2. Measured steps.
    t1_log = max(section(one, "logistic"), key=lambda r: r["rows"])
    rows = t1_log["rows"]
    log2 = only(two, "logistic", rows=rows)
    log_t2 = only(threads2, "logistic", rows=rows)
    mlp1 = only(one, "mlp", batch=128)
    mlp2 = only(two, "mlp", batch=128)
    mlp_t2 = only(threads2, "mlp", batch=128)
    print("\n### Measured steps (median; reduce() = GradientReducer::reduce(sum): pack, "
          "all-reduce, unpack)\n")
    print("| workload | ranks × threads | per rank | step (ms) | reduce() (ms) | reduce share "
          "(Σ, medians) | speedup vs 1×1 | efficiency | vs 1 process × 2 threads "
          "| loss after 2 updates |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, base, rows_key, cases in (
            (f"logistic {rows:,} × {t1_log['features']}", t1_log, "rows_per_rank",
             [t1_log, log_t2, log2]),
            (f"MLP {mlp1['parameters']:,} params, batch 128", mlp1, "batch_per_rank",
             [mlp1, mlp_t2, mlp2])):
        baseline2 = cases[1]["step_median_us"]
        for r in cases:
            step = r["step_median_us"]
            ranks = r["ranks"]
            speedup = base["step_median_us"] / step
            print(f"| {name} | {ranks} × {r['threads']} | {r[rows_key]:,} | {step / 1e3:.3g} | "
                  f"{r['reduce_median_us'] / 1e3:.3g} | {100 * r['reduce_share']:.1f}%, "
                  f"{100 * r['reduce_share_of_medians']:.1f}% | {speedup:.2f}× | "
                  f"{speedup / (ranks * r['threads']):.2f} | {baseline2 / step:.2f}× | "
                  f"{r['loss_third']:.12f} |")
    print("\n(Efficiency = speedup / cores used. The loss after two updates is the global loss "
          "of the third step: equal for any rank count up to rounding.)")

    print("\n1 rank × 1 thread at the per-rank sizes of more ranks:\n")
    print("| logistic rows (shard of p ranks) | step (ms) | measured 2e6-row step / p (ms) "
          "| measured / linear |")
    print("|---:|---:|---:|---:|")
    for r in sorted(section(one, "logistic"), key=lambda r: -r["rows"]):
        p = rows / r["rows"]
        linear = t1_log["step_median_us"] / p
        print(f"| {r['rows']:,} (p ≈ {p:.0f}) | {r['step_median_us'] / 1e3:.3g} | "
              f"{linear / 1e3:.3g} | {r['step_median_us'] / linear:.2f} |")
    mlp_points = [(r["batch"], r["step_median_us"] * 1e-6) for r in section(one, "mlp")]
    print("\n| MLP batch per rank (p = 128/batch) | step (ms) | reduce() at 1 rank: pack + unpack "
          "(ms) | µs per image |")
    print("|---:|---:|---:|---:|")
    for r in sorted(section(one, "mlp"), key=lambda r: -r["batch"]):
        print(f"| {r['batch']} (p = {128 / r['batch']:.3g}) | {r['step_median_us'] / 1e3:.3g} | "
              f"{r['reduce_median_us'] / 1e3:.3g} | {r['step_median_us'] / r['batch']:.0f} |")

    # Check of the model on this host: the 2-rank steps predicted from 1-rank compute + the fit.
    n_log = log2["message_bytes"]
    n_mlp = mlp2["message_bytes"]
    ring_log_here = ring[min((n for n in ring if n >= n_log), default=max(ring))]
    predicted_log = (t1_log["step_median_us"] * 1e-6 / p2 +
                     ring_log_here["median_us"] * 1e-6)
    predicted_mlp = (interpolate(mlp_points, 128 / p2) + ring_time(n_mlp, p2, alpha, beta))
    print(f"\nThe model on this host at p = {p2}: logistic predicted "
          f"{ms(predicted_log)} ms (1-rank step / {p2} + a {ring_log_here['bytes']}-byte "
          f"all-reduce), measured {log2['step_median_us'] / 1e3:.3g} ms; MLP predicted "
          f"{ms(predicted_mlp)} ms (1-rank step at batch {128 // p2} + the ring fit at "
          f"{n_mlp:,} bytes), measured {mlp2['step_median_us'] / 1e3:.3g} ms.")

    # 3. Projection.
    t1_log_s = t1_log["step_median_us"] * 1e-6
    t1_mlp_s = mlp1["step_median_us"] * 1e-6
    measured_shards = {round(rows / r["rows"]): r["step_median_us"] * 1e-6
                       for r in section(one, "logistic")}

    def log_compute(p):
        return t1_log_s / p

    def mlp_compute(p):
        return interpolate(mlp_points, 128 / p)

    workloads = [
        (f"logistic ({n_log} B, ring model)", t1_log_s, log_compute,
         lambda p, a, b: ring_time(n_log, p, a, b), rows),
        (f"logistic ({n_log} B, xgrad's recursive doubling)", t1_log_s, log_compute,
         lambda p, a, b: doubling_time(n_log, p, a, b), rows),
        (f"MLP ({n_mlp / 1e6:.2f} MB, ring)", t1_mlp_s, mlp_compute,
         lambda p, a, b: ring_time(n_mlp, p, a, b), 128),
    ]
    print("\n### Projection: p ranks, one per host, flat network (α–β model, no overlap)\n")
    print("| workload | network | p | compute/step (ms) | all-reduce (ms) | step (ms) | speedup "
          "| efficiency | efficiency, β + host's β |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, t1, compute, comm, max_p in workloads:
        for net, a, bandwidth in NETWORKS:
            b = 8.0 / bandwidth
            for p in PROJECT_RANKS:
                if p > max_p:
                    print(f"| {name} | {net} | {p} | — | — | — | — | — | — |")
                    continue
                c = compute(p)
                note = ""
                if name.startswith("logistic") and p in measured_shards:
                    note = f" (measured {ms(measured_shards[p])})"
                t_comm = comm(p, a, b)
                t_host = comm(p, a, b + beta)
                step = c + t_comm
                print(f"| {name} | {net} | {p} | {ms(c)}{note} | {ms(t_comm)} | {ms(step)} | "
                      f"{t1 / step:.1f}× | {t1 / (p * step):.2f} | "
                      f"{t1 / (p * (c + t_host)):.2f} |")

    print("\nCrossover (the smallest p at which the all-reduce takes as long as the compute; "
          "efficiency is below 0.5 from there on):\n")
    print("| workload | " + " | ".join(net for net, _, _ in NETWORKS) + " | this host's fit "
          f"(α = {alpha * 1e6:.2f} µs, β = {beta * 1e9:.3f} ns/B) |")
    print("|---|" + "---:|" * (len(NETWORKS) + 1))
    for name, _, compute, comm, max_p in workloads:
        cells = []
        for a, b in [(a, 8.0 / bw) for _, a, bw in NETWORKS] + [(alpha, beta)]:
            p = first_crossing(2, max_p, lambda p: comm(p, a, b), compute)
            if p is None:
                cells.append(f"none up to {max_p:,} (the rows run out)")
            else:
                cells.append(f"p = {p:,}" + (" (already)" if p == 2 else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")

    print(f"""
Assumptions: one rank per host, all hosts on one switch (no hierarchy, no contention); α = 10 µs
per message on 10 Gb/s and 5 µs on 100 Gb/s Ethernet with TCP (typical MPI-over-TCP latencies;
this host's shared-memory α is {alpha * 1e6:.2f} µs), β = 8 / bandwidth (s/byte), the link saturated
by one rank. The last efficiency column adds this host's fitted β ({beta * 1e9:.3f} ns/byte: the
copies and additions the ring does in memory), which a TCP transport pays too. Compute per rank:
logistic = the measured 1-rank 2e6-row step / p (strong scaling; the measured shard steps in
parentheses show how far the linear assumption holds), MLP = the measured 1-rank step at batch
128/p (global batch 128 fixed, so p ≤ 128; Adam's update of all {mlp1['parameters']:,} parameters
and the pack/unpack do not shrink with p). xgrad sends messages below 4 KiB (the logistic model's
{n_log} bytes) by recursive doubling, modelled as ⌊log₂ p⌋ exchanges of n bytes (+ 2 when p is not
a power of two); the ring model row is the formula asked for, with its 2(p − 1) latencies.""")


if __name__ == "__main__":
    main(sys.argv[1:])
