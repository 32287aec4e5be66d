#!/usr/bin/env python3
"""Spearman rho of zero-cost proxy scores (a `tnd-nas score` CSV) against the bundled
NAS-Bench-201 CIFAR-10 table (200-epoch test accuracy), over every cell both hold, beside
the free baseline of the parameter count (NAS-Bench-201's convention: every op's
parameters, dead edges included, at C = 16, N = 5; it ranks cells by
26880 * (9 n3 + n1) + 1120 * (n3 + n1), n3 and n1 the 3x3 and 1x1 convs).

Run: python3 scripts/proxy_rho.py SCORES.csv   (standard library only)
"""
import csv
import gzip
import sys
from pathlib import Path


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / (va * vb) ** 0.5


def main():
    root = Path(__file__).resolve().parent.parent
    with gzip.open(root / "data/nb201/cifar10.csv.gz", "rt") as f:
        truth = {r["arch"]: float(r["cifar10_test_acc_200ep"]) for r in csv.DictReader(f)}
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f))
    columns = [c for c in rows[0].keys() if c != "arch"]
    archs = [r["arch"] for r in rows if r["arch"] in truth]
    acc = [truth[a] for a in archs]
    print(f"{len(archs)} cells")
    for c in columns:
        s = [float(r[c]) for r in rows if r["arch"] in truth]
        print(f"{c:<12} rho {spearman(s, acc):.3f}")
    params = [params_of(a) for a in archs]
    print(f"{'params':<12} rho {spearman(params, acc):.3f}")


def params_of(arch):
    """NAS-Bench-201's parameter count of the cell's network, less a constant."""
    ops = [t.split("~")[0] for t in arch.split("|") if "~" in t]
    n3 = ops.count("nor_conv_3x3")
    n1 = ops.count("nor_conv_1x1")
    return 26880 * (9 * n3 + n1) + 1120 * (n3 + n1)


if __name__ == "__main__":
    main()
