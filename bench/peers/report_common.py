"""What the benchmark reports share (elementwise_report.py, fashion_report.py,
distributed_model.py): reading JSON lines and naming the CPU."""
import json
import re


def read_jsonl(path, keep=lambda record: True):
    """The JSON objects of the lines of `path` that start with '{' and pass `keep`."""
    records = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                record = json.loads(line)
                if keep(record):
                    records.append(record)
    return records


def cpu_description():
    """"<model name>, AVX-512 (avx512f)" (or AVX2, or no AVX2) from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "CPU unknown"
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(flags.group(1).split()) if flags else set()
    isa = "AVX-512 (avx512f)" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model.group(1).strip() if model else 'CPU unknown'}, {isa}"
