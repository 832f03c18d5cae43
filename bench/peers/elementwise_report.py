#!/usr/bin/python3
"""Merges the JSON lines of bench_elementwise --jsonl and torch_elementwise.py into one markdown
table per thread count: for each op and size, xgrad's µs per op rebuilt each step and replayed,
PyTorch's (rebuilt: it has no replay), PyTorch's time over xgrad's rebuilt one (above 1: xgrad is
faster), and at the largest size the memory-bandwidth floor (the bytes the op must move at the
STREAM triad's bandwidth, same thread count) with xgrad's ratio to it. The last column checks
issue 15's targets on the rebuilt chain: ≥ 10× PyTorch at 64 elements, ≥ 1.5× at the larger
sizes, and within 1.5× of the floor where one is given. The page faults per step (first touches of
fresh buffers; xgrad rebuilt / PyTorch) tell where large rebuilt steps spend their time.

With --busy CORES (the CPU other processes took during the run, as scripts/bench-elementwise.sh
measures it) above 0.2, the targets are not judged at more than one thread: a thread that waits for
a core there costs milliseconds (PyTorch's OpenMP team above all), so those rows are noise.

Usage: elementwise_report.py [--busy CORES] XGRAD_JSONL TORCH_JSONL
"""
import sys

from report_common import cpu_description, read_jsonl as read


def fmt_us(us):
    if us is None:
        return "–"
    if us >= 1000:
        return f"{us:,.0f}".replace(",", " ")
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def fmt_count(c):
    return "–" if c is None else f"{c:,.0f}".replace(",", " ")


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}×"


def main():
    args = sys.argv[1:]
    busy = 0.0
    if len(args) == 4 and args[0] == "--busy":
        busy = float(args[1])
        args = args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    records = read(args[0]) + read(args[1])
    chains = {}
    for r in records:
        if r.get("workload") == "elementwise chain":
            chains[(r["side"], r["mode"], r["op"], r["n"], r["threads"])] = r
    triads = {r["threads"]: r for r in records if r.get("workload") == "stream triad"}
    bytes_per_element = {r["op"]: r["bytes_per_element"] for r in records
                         if r.get("workload") == "bytes per op"}
    ops = []
    sizes = set()
    thread_counts = set()
    for side, mode, op, n, threads in chains:
        if op not in ops:
            ops.append(op)
        sizes.add(n)
        thread_counts.add(threads)

    print(f"CPU: {cpu_description()}")
    for threads in sorted(thread_counts):
        print()
        triad = triads.get(threads)
        if triad:
            print(f"### {threads} thread(s): STREAM triad {triad['gb_per_s']:.1f} GB/s "
                  f"({triad['stores']}, {threads} thread(s))")
        else:
            print(f"### {threads} thread(s)")
        print()
        print("| op | n | xgrad rebuilt µs/op | xgrad replayed µs/op | PyTorch µs/op | "
              "PyTorch / xgrad rebuilt | floor µs/op | rebuilt / floor | replayed / floor | "
              "targets (rebuilt) | page faults per step, xgrad rebuilt / PyTorch |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for op in ops:
            for n in sorted(sizes):
                rebuilt = chains.get(("xgrad", "rebuilt", op, n, threads))
                replayed = chains.get(("xgrad", "replayed", op, n, threads))
                torch = chains.get(("pytorch", "rebuilt", op, n, threads))
                if not (rebuilt or replayed or torch):
                    continue
                us = {k: (v["us_per_op"] if v else None)
                      for k, v in [("rebuilt", rebuilt), ("replayed", replayed), ("torch", torch)]}
                speedup = us["torch"] / us["rebuilt"] if us["torch"] and us["rebuilt"] else None
                # bench_elementwise states the floor at its largest size (bytes / triad GB/s)
                floor = next((r["floor_us_per_op"] for r in (rebuilt, replayed)
                              if r and "floor_us_per_op" in r), None)
                to_floor = {k: (us[k] / floor if floor and us[k] else None)
                            for k in ("rebuilt", "replayed")}
                met = None
                if speedup is not None:
                    met = speedup >= (10.0 if n <= 64 else 1.5)
                    if floor is not None and to_floor["rebuilt"] is not None:
                        met = met and to_floor["rebuilt"] <= 1.5
                target = "–" if met is None else ("met" if met else "not met")
                if met is not None and threads > 1 and busy > 0.2:
                    target = "(busy machine)"
                faults = " / ".join(fmt_count(r.get("faults_per_step") if r else None)
                                    for r in (rebuilt, torch))
                size = f"{n:,}".replace(",", " ")
                print(f"| {op} | {size} | {fmt_us(us['rebuilt'])} | {fmt_us(us['replayed'])} | "
                      f"{fmt_us(us['torch'])} | {fmt_ratio(speedup)} | {fmt_us(floor)} | "
                      f"{fmt_ratio(to_floor['rebuilt'])} | {fmt_ratio(to_floor['replayed'])} | "
                      f"{target} | {faults} |")
    if bytes_per_element:
        print()
        print("Floor = bytes an op must move / triad bandwidth; bytes per element per op: " +
              ", ".join(f"{op} {b:g}" for op, b in bytes_per_element.items()) +
              " (counted in bench/bench_elementwise.cpp).")


if __name__ == "__main__":
    main()
