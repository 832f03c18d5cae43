#!/usr/bin/python3
"""Cuts the bundled Fashion-MNIST sample (data/fashion-mnist-sample/) from the full data set.

Takes the first 2000 training and the first 1000 test images and labels from the four
gzip-compressed IDX files of Debian's package dataset-fashion-mnist (Zalando Research's files,
MIT licence) and writes them under the same four names, gzip-compressed IDX again, so that any
code taking a Fashion-MNIST folder can be pointed at the sample. The output is deterministic:
gzip level 9 with the modification time 0 and no file name in the gzip header, so running the
script twice gives the same bytes (with the same zlib).

Run from anywhere, with the standard library only:

    apt-get install dataset-fashion-mnist
    python3 scripts/make-fashion-mnist-sample.py [--source DIR] [--out DIR] [--train N] [--test N]

It prints the numbers tests/data/test_idx.cpp checks: shapes, the first labels, a few pixels,
per-image pixel sums and the label counts per class of each part.
"""
import argparse
import gzip
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx_ubyte(path, rank):
    """The dimensions and the data bytes of a gzip-compressed ubyte IDX file of the given rank."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, type_code, file_rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code != 0x08 or file_rank != rank:
        sys.exit(f"{path}: expected a rank-{rank} ubyte IDX file")
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    data = raw[4 + 4 * rank :]
    count = 1
    for d in dims:
        count *= d
    if len(data) != count:
        sys.exit(f"{path}: {len(data)} data bytes, the header promises {count}")
    return dims, data


def write_idx_ubyte(path, dims, data):
    """Writes a ubyte IDX file, gzip-compressed, deterministically (mtime 0, no file name)."""
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=out, mtime=0) as g:
            g.write(header + data)


def cut(source, out, split, n):
    images_name, labels_name = NAMES[split]
    (count, rows, cols), pixels = read_idx_ubyte(os.path.join(source, images_name), 3)
    (label_count,), labels = read_idx_ubyte(os.path.join(source, labels_name), 1)
    if count != label_count or n > count:
        sys.exit(f"{split}: {count} images, {label_count} labels, {n} requested")
    size = rows * cols
    pixels, labels = pixels[: n * size], labels[:n]
    write_idx_ubyte(os.path.join(out, images_name), (n, rows, cols), pixels)
    write_idx_ubyte(os.path.join(out, labels_name), (n,), labels)

    print(f"{split}: images ({n}, {rows}, {cols}), labels ({n},)")
    print(f"  first labels: {list(labels[:10])}")
    print(f"  label counts per class: {[labels.count(c) for c in range(10)]}")
    sums = [sum(pixels[i * size : (i + 1) * size]) for i in range(n)]
    print(f"  pixel sums of images 0, 1, 2, {n - 1}: {sums[0]}, {sums[1]}, {sums[2]}, {sums[-1]}")
    print(f"  pixel sum of all images: {sum(sums)}")
    for i, r, c in ((0, 14, 14), (0, 3, 12), (1, 10, 20), (n - 1, 20, 9)):
        print(f"  image {i} pixel (row {r}, col {c}): {pixels[i * size + r * cols + c]}")
    first_nonzero = next(k for k, v in enumerate(pixels[:size]) if v)
    print(f"  image 0: first nonzero pixel at (row {first_nonzero // cols}, col "
          f"{first_nonzero % cols}) = {pixels[first_nonzero]}")
    for name in (images_name, labels_name):
        print(f"  {name}: {os.path.getsize(os.path.join(out, name))} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="folder of the four .gz files (default: Debian's package)")
    parser.add_argument("--out", default=os.path.join(ROOT, "data", "fashion-mnist-sample"),
                        help="folder to write to (default: data/fashion-mnist-sample)")
    parser.add_argument("--train", type=int, default=2000, help="training images to keep")
    parser.add_argument("--test", type=int, default=1000, help="test images to keep")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cut(args.source, args.out, "train", args.train)
    cut(args.source, args.out, "t10k", args.test)


if __name__ == "__main__":
    main()
