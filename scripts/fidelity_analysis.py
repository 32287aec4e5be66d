"""Two analyses of `tnd-nas fidelity --out` runs (docs/fidelity.md), beyond its own table.

    python3 scripts/fidelity_analysis.py halves COUNTS.json RUN.json
        On 500 random halves of the cells: how often the rank mean of RUN's first
        evaluator with the parameter count (COUNTS.json's first line) beats the
        parameter count, over all cells and within the better half, and by how much.
    python3 scripts/fidelity_analysis.py versus COUNTS.json RUN.json
        The same, for RUN's first evaluator as it is (a run whose scores already join
        the parameter count, `--score-prior params`).
    python3 scripts/fidelity_analysis.py bias RUN.json [RUN.json ...]
        The correlation of each op's count in a cell with the cell's rank error (the
        first evaluator's rank, averaged over the runs, minus the true rank): which ops
        the evaluator over-rates (+) or under-rates (-).

Needs numpy and scipy. The runs must score the same cells (the same ground truth).
"""
import json
import sys

import numpy as np
from scipy.stats import kendalltau, rankdata

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def load(path):
    run = json.load(open(path))
    return run["archs"], np.array(run["accuracy"]), np.array(run["evaluators"][0]["scores"])


def taus(acc, score):
    better = acc >= np.median(acc)
    return (kendalltau(acc, score).statistic,
            kendalltau(acc[better], score[better]).statistic)


def halves(counts, run, alone=False):
    archs, acc, params = load(counts)
    archs2, _, scores = load(run)
    assert archs == archs2, "the runs score different cells"
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(500):
        idx = rng.permutation(len(acc))[: len(acc) // 2]
        combined = scores[idx] if alone else rankdata(scores[idx]) + rankdata(params[idx])
        base, comb = taus(acc[idx], params[idx]), taus(acc[idx], combined)
        rows.append([comb[0] > base[0], comb[1] > base[1], comb[0] - base[0], comb[1] - base[1]])
    r = np.array(rows, dtype=float)
    what = "the run" if alone else "rank mean"
    print(f"{what} beats params on {r[:, 0].mean():.0%} of 500 halves over all cells, "
          f"{r[:, 1].mean():.0%} within the better half; gain {r[:, 2].mean():.3f} +- "
          f"{r[:, 2].std():.3f} and {r[:, 3].mean():.3f} +- {r[:, 3].std():.3f}")


def bias(runs):
    loaded = [load(p) for p in runs]
    archs, acc, _ = loaded[0]
    assert all(a == archs for a, _, _ in loaded), "the runs score different cells"
    rank = np.mean([rankdata(s) for _, _, s in loaded], axis=0)
    error = (rankdata(rank) - rankdata(acc)) / len(acc)
    better = acc >= np.median(acc)
    counts = np.array([[a.count(op) for op in OPS] for a in archs])
    print(f"tau of the mean rank: {taus(acc, rank)[0]:.3f}, better half {taus(acc, rank)[1]:.3f}")
    print(f"{'op':<14} {'corr, all':>10} {'corr, better half':>18}")
    for i, op in enumerate(OPS):
        print(f"{op:<14} {np.corrcoef(counts[:, i], error)[0, 1]:>+10.2f} "
              f"{np.corrcoef(counts[better, i], error[better])[0, 1]:>+18.2f}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "halves":
        halves(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "versus":
        halves(sys.argv[2], sys.argv[3], alone=True)
    elif len(sys.argv) >= 3 and sys.argv[1] == "bias":
        bias(sys.argv[2:])
    else:
        sys.exit(__doc__)
