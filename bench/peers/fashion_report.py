#!/usr/bin/python3
"""Merges the JSON lines of bench_fashion and torch_fashion.py into one markdown table per thread
count: for each model, training images/s (batch / median step: forward, backward and Adam update)
of xgrad and PyTorch float64, their ratio, both sides' peak RSS during training (MiB, with what the
training added to the process after the data set was loaded in parentheses), and issue 16's
target: xgrad ≥ 1.2× PyTorch's images/s. At more than one thread PyTorch runs in several thread
settings (intra-op × OpenBLAS threads, see torch_fashion.py): the table compares with the fastest
one and lists them all below. When torch_fashion.py ran with --malloc-tuned, three more columns
compare with the fastest setting with glibc's allocator tuned (no page faults per step).

With --busy CORES (the CPU other processes took during the run, as scripts/bench-fashion.sh
measures it) above 0.2, the target is not judged at more than one thread: a thread that waits for
a core (PyTorch's OpenMP team above all) makes those rows noise.

Usage: fashion_report.py [--busy CORES] XGRAD_JSONL TORCH_JSONL
"""
import sys

from report_common import cpu_description, read_jsonl

TARGET = 1.2


def read(path):
    return read_jsonl(path, lambda record: record.get("workload") == "fashion training")


def fmt_rate(r):
    return "–" if r is None else f"{r:,.0f}".replace(",", " ")


def fmt_memory(r):
    if r is None or r.get("peak_rss_mib", -1) < 0:
        return "–"
    return f"{r['peak_rss_mib']:.0f} (+{r['peak_rss_mib'] - r['rss_before_model_mib']:.0f})"


def setting(r):
    tuned = ", malloc tuned" if r.get("malloc") == "tuned" else ""
    return f"intra-op {r['intra_op_threads']}, OpenBLAS {r['openblas_threads']}{tuned}"


def main():
    args = sys.argv[1:]
    busy = 0.0
    if len(args) == 4 and args[0] == "--busy":
        busy = float(args[1])
        args = args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    xgrad = {(r["model"], r["threads"]): r for r in read(args[0]) if r["side"] == "xgrad"}
    torch = {}
    for r in read(args[1]):
        if r["side"] == "pytorch":
            torch.setdefault((r["model"], r["threads"]), []).append(r)
    models = []
    for model, _ in list(xgrad) + list(torch):
        if model not in models:
            models.append(model)
    thread_counts = sorted({t for _, t in list(xgrad) + list(torch)})

    everything = list(xgrad.values()) + [r for rs in torch.values() for r in rs]
    data = sorted({(r["data"], bool(r["full_data"]), r["train_images"], r["batch"]) for r in everything})
    print(f"CPU: {cpu_description()}")
    for folder, full, images, batch in data:
        kind = "Fashion-MNIST's full training set" if full else "not the full data set"
        print(f"Data: {folder} ({kind}, {images} images), batch {batch}, float64 on both sides.")
    if len(data) > 1:
        print("WARNING: the two sides did not run on the same data or batch size.")
    summary = {"default": [], "tuned": []}
    any_tuned = any(r.get("malloc") == "tuned" for rs in torch.values() for r in rs)
    for threads in thread_counts:
        print()
        print(f"### {threads} thread(s)")
        print()
        header = ("| model | xgrad images/s | PyTorch images/s | xgrad / PyTorch | xgrad peak MiB | "
                  f"PyTorch peak MiB | target (≥ {TARGET}×) met |")
        rule = "|---|---:|---:|---:|---:|---:|---|"
        if any_tuned:
            header += " PyTorch, malloc tuned: images/s | xgrad / it | target met |"
            rule += "---:|---:|---|"
        print(header)
        print(rule)
        notes = []
        steps = []
        for model in models:
            ours = xgrad.get((model, threads))
            theirs = torch.get((model, threads), [])
            row = [model, fmt_rate(ours["images_per_s"] if ours else None)]
            cells = {}
            for malloc in ("default", "tuned"):
                group = [r for r in theirs if r.get("malloc", "default") == malloc]
                best = max(group, key=lambda r: r["images_per_s"]) if group else None
                ratio = ours["images_per_s"] / best["images_per_s"] if ours and best else None
                if ratio is None:
                    met = "–"
                elif threads > 1 and busy > 0.2:
                    met = "(busy machine)"
                else:
                    met = "met" if ratio >= TARGET else "not met"
                if ratio is not None:
                    summary[malloc].append(met)
                cells[malloc] = (best, ratio, met)
            best, ratio, met = cells["default"]
            row += [fmt_rate(best["images_per_s"] if best else None),
                    "–" if ratio is None else f"{ratio:.2f}×", fmt_memory(ours), fmt_memory(best), met]
            if any_tuned:
                tuned, tuned_ratio, tuned_met = cells["tuned"]
                row += [fmt_rate(tuned["images_per_s"] if tuned else None),
                        "–" if tuned_ratio is None else f"{tuned_ratio:.2f}×", tuned_met]
            print("| " + " | ".join(row) + " |")
            if len(theirs) > 1:
                notes.append(f"{model}: " + ", ".join(
                    f"{fmt_rate(r['images_per_s'])} ({setting(r)})" for r in theirs))
            if ours:
                step = f"{model} xgrad {ours['median_us'] / 1000:.2f} ms"
                for malloc, label in (("default", "PyTorch"), ("tuned", "PyTorch malloc tuned")):
                    if cells[malloc][0]:
                        step += f" / {label} {cells[malloc][0]['median_us'] / 1000:.2f} ms"
                steps.append(step)
        print()
        print(f"Median step: {'; '.join(steps)}.")
        if notes:
            print("PyTorch images/s by setting (the table shows the fastest of each allocator): "
                  + "; ".join(notes) + ".")
    print()
    print("PyTorch: the fastest of its thread settings with glibc's allocator as it comes"
          + ("; malloc tuned: the same with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ raised "
             "(no page faults per step, see torch_fashion.py)." if any_tuned else "."))
    print("Peak MiB: the process's peak RSS during training (VmHWM, reset after the data set was loaded); "
          "in parentheses what training added to the RSS the process had before the model was built "
          "(libraries, the float64 training set and the loader).")
    loading = {side: max((r.get("loading_peak_rss_mib", -1) for r in records), default=-1)
               for side, records in (("xgrad", xgrad.values()), ("PyTorch", [r for rs in torch.values() for r in rs]))}
    if all(v > 0 for v in loading.values()):
        print(f"Peak RSS while the data set was read (before the reset): xgrad {loading['xgrad']:.0f} MiB, "
              f"PyTorch {loading['PyTorch']:.0f} MiB.")
    for malloc, label in (("default", "PyTorch as installed"), ("tuned", "PyTorch with malloc tuned")):
        marks = summary[malloc]
        if marks and all(m in ("met", "not met") for m in marks):
            verdict = "met" if all(m == "met" for m in marks) else "not met"
            print(f"Issue 16's target (≥ {TARGET}× {label} in every row above): {verdict}.")


if __name__ == "__main__":
    main()
