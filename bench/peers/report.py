#!/usr/bin/python3
"""Merges the JSON lines of bench_peers and torch_peers.py into one table: medians, and for each
workload the ratio of every peer's time to xgrad's graph (above 1: xgrad is faster).

Usage: report.py XGRAD_JSONL TORCH_JSONL
"""
import json
import sys
from collections import OrderedDict

rows = []
extras = []
for path in sys.argv[1:3]:
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                record = json.loads(line)
                (rows if "median_us" in record else extras).append(record)

by_workload = OrderedDict()
for r in rows:
    by_workload.setdefault(r["workload"], []).append(r)


def fmt_time(us):
    if us >= 10000:
        return f"{us / 1000:.1f} ms"
    if us >= 100:
        return f"{us:.0f} µs"
    return f"{us:.2f} µs"


print(f"| workload | variant | median | threads | peer / xgrad graph |")
print(f"|---|---|---|---|---|")
for workload, group in by_workload.items():
    reference = next((r for r in group if r["variant"].startswith("xgrad graph") and
                      ("bce_with_logits" in r["variant"] or r["variant"] == "xgrad graph")), None)
    if reference is None:
        reference = next((r for r in group if r["variant"].startswith("xgrad")), group[0])
    for r in group:
        ratio = r["median_us"] / reference["median_us"]
        note = "" if r is reference else f"{ratio:.2f}×"
        threads = r.get("threads", "")
        extra = f" ({r['iterations']} iterations)" if "iterations" in r else ""
        print(f"| {workload} | {r['variant']}{extra} | {fmt_time(r['median_us'])} | {threads} | {note} |")
for e in extras:
    if "gb_per_s" in e:
        print(f"\nSTREAM triad on this machine ({e['variant']}): {e['gb_per_s']:.1f} GB/s (the floor rows use it).")
    if "peak_bytes" in e:
        print(f"{e['workload']} ({e['variant']}): peak RSS {e['peak_bytes'] / 1e6:.0f} MB, X and y {e['data_bytes'] / 1e6:.0f} MB "
              f"(ratio {e['ratio']:.2f}).")
