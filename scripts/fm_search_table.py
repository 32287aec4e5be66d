"""The real-data search table: each search's final cell (and front) looked up in the
Fashion-MNIST ground truth, as mean +- sd over the search seeds, beside the mean random
cell. Called by scripts/fm-search-table.sh; reads its runs and the ground-truth CSV.

    python3 scripts/fm_search_table.py data/fm-nb201/search data/fm-nb201/ground-truth.csv
"""
import csv
import json
import pathlib
import statistics
import sys
from collections import defaultdict

out, truth_csv = pathlib.Path(sys.argv[1]), sys.argv[2]
acc, params, random_cells = defaultdict(list), {}, []
with open(truth_csv) as f:
    for row in csv.DictReader(f):
        acc[row["arch"]].append(float(row["test_accuracy"]))
        params[row["arch"]] = int(row["params"])
truth = {a: statistics.mean(v) for a, v in acc.items()}
selected_file = pathlib.Path(truth_csv).with_name("selected-cells.txt")
selected = set(selected_file.read_text().split()) if selected_file.exists() else set()


def ms(values):
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} +- {sd:.2f}"


def hypervolume(points, ref):
    """Area dominated by (accuracy up, params down) points above ref = (acc0, params0)."""
    front, area, best = sorted(points, key=lambda p: p[1]), 0.0, ref[0]
    for i, (a, p) in enumerate(front):
        nxt = front[i + 1][1] if i + 1 < len(front) else ref[1]
        best = max(best, a)
        area += max(0.0, best - ref[0]) * max(0.0, nxt - p)
    return area


runs = defaultdict(dict)
for result in sorted(out.glob("*/result.json")):
    name = result.parent.name
    kind, seed = name.rsplit("-s", 1)
    runs[kind][int(seed)] = json.loads(result.read_text())
random_cells = [v for a, v in truth.items() if a not in selected]
print(f"mean random cell of the ground truth ({len(random_cells)} cells): {ms(random_cells)}")
print(f"{'strategy':<14} {'seeds':>5} {'final cell, truth':>18} {'supernet acc':>13} {'minutes':>8} missing")
for kind in ["tnd", "random", "rea", "ls"]:
    rs = runs.get(kind, {})
    finals = [r["final"]["text"] for r in rs.values()]
    found = [truth[a] for a in finals if a in truth]
    missing = sum(a not in truth for a in finals)
    sup = [r["final_supernet_accuracy"] for r in rs.values() if r.get("final_supernet_accuracy")]
    mins = [r["wall_seconds"] / 60 for r in rs.values()]
    print(f"{kind:<14} {len(rs):>5} {ms(found):>18} {ms(sup):>13} {ms(mins):>8} {missing}")
# Fronts: the ground-truth hypervolume of each front (accuracy up, params in millions down)
# against the reference (10% accuracy, the largest cell's parameters).
ref = (10.0, max(params.values()) / 1e6)
for kind in ["front-tnd", "front-random"]:
    rs = runs.get(kind, {})
    hv, missing = [], 0
    for r in rs.values():
        pts = [(truth[p["arch"]], params[p["arch"]] / 1e6) for p in r["front"] if p["arch"] in truth]
        missing += len(r["front"]) - len(pts)
        hv.append(hypervolume(pts, ref))
    print(f"{kind:<14} {len(rs):>5} hypervolume {ms(hv)} (missing cells {missing})")
