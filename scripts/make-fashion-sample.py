#!/usr/bin/env python3
"""Build the bundled Fashion-MNIST sample in data/fashion-mnist-sample/.

Takes the first PER_CLASS images of every class, in file order, from the
Fashion-MNIST TRAIN split (never the test split) and writes them, in their
original relative order, as gzipped IDX files:

    data/fashion-mnist-sample/images-idx3-ubyte.gz
    data/fashion-mnist-sample/labels-idx1-ubyte.gz
    data/fashion-mnist-sample/indices.txt   (train-split index of every sample)

Source files come from the Debian package `dataset-fashion-mnist`
(`apt-get install dataset-fashion-mnist`, files in /usr/share/datasets/fashion-mnist).

Usage: python3 scripts/make-fashion-sample.py [SOURCE_DIR] [OUT_DIR]
"""
import gzip
import os
import struct
import sys

PER_CLASS = 400
NUM_CLASSES = 10


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    (got,) = struct.unpack(">I", data[:4])
    if got != magic:
        raise SystemExit(f"{path}: bad magic {got:#010x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def write_gz(path, payload):
    # mtime=0 and no file name make the output byte-for-byte reproducible.
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(payload)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "data", "fashion-mnist-sample")
    (n, rows, cols), pixels = read_idx(os.path.join(src, "train-images-idx3-ubyte.gz"), 0x00000803)
    (m,), labels = read_idx(os.path.join(src, "train-labels-idx1-ubyte.gz"), 0x00000801)
    assert n == m == 60000 and rows == cols == 28, (n, m, rows, cols)

    counts = [0] * NUM_CLASSES
    taken = []
    for i, label in enumerate(labels):
        if counts[label] < PER_CLASS:
            counts[label] += 1
            taken.append(i)
        if len(taken) == PER_CLASS * NUM_CLASSES:
            break
    assert counts == [PER_CLASS] * NUM_CLASSES, counts

    size = rows * cols
    img = bytearray(struct.pack(">IIII", 0x00000803, len(taken), rows, cols))
    lab = bytearray(struct.pack(">II", 0x00000801, len(taken)))
    for i in taken:
        img += pixels[i * size : (i + 1) * size]
        lab.append(labels[i])

    os.makedirs(out, exist_ok=True)
    write_gz(os.path.join(out, "images-idx3-ubyte.gz"), bytes(img))
    write_gz(os.path.join(out, "labels-idx1-ubyte.gz"), bytes(lab))
    with open(os.path.join(out, "indices.txt"), "w") as f:
        f.write("\n".join(str(i) for i in taken) + "\n")
    last = max(taken)
    print(f"wrote {len(taken)} images (train indices 0..={last}) to {out}")


if __name__ == "__main__":
    main()
