#!/usr/bin/env bash
# Best architecture found by TND, random search, regularised evolution and local search on a
# NAS-Bench-201 accuracy table, at several budgets over 20 seeds: mean +- sd of the
# final architecture's table accuracy, and of the best-rewarded sample's (the two agree
# for random search, evolution and local search). Without a table, the bundled CIFAR-10 table.
#
#   bash scripts/strategy-table.sh [BUDGETS...]                     # bundled table
#   bash scripts/strategy-table.sh TABLE.csv COLUMN [BUDGETS...]
#   bash scripts/strategy-table.sh 100 300 1000
set -euo pipefail
table_args=()
column=cifar10_test_acc_200ep
if [[ "${1:-}" == *.csv ]]; then
  column=${2:?usage: strategy-table.sh [TABLE.csv COLUMN] [BUDGETS...]}
  table_args=(--table "$1" --arch-column arch)
  shift 2
fi
budgets=("${@:-100 300 1000}")
read -r -a budgets <<< "${budgets[*]}"
bin=target/release/examples/tabular_search
cargo build --release --example tabular_search >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for budget in "${budgets[@]}"; do
  for strategy in tnd random rea ls; do
    for seed in $(seq 0 19); do
      "$bin" "${table_args[@]}" --objective "table:$column:max" \
        --budget "$budget" --seed "$seed" --strategy "$strategy" \
        --out "$out/$strategy-$budget-$seed.json" > /dev/null
    done
  done
done
python3 - "$out" "$column" "${budgets[@]}" <<'PY'
import json, statistics, sys
out, column, budgets = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"| strategy | " + " | ".join(f"budget {b}: final" for b in budgets) + " | " + " | ".join(f"budget {b}: best" for b in budgets) + " |")
print("| --- " * (1 + 2 * len(budgets)) + "|")
for strategy in ["tnd", "random", "rea", "ls"]:
    cells = {"final": [], "best": []}
    for b in budgets:
        runs = [json.load(open(f"{out}/{strategy}-{b}-{s}.json")) for s in range(20)]
        for key in cells:
            xs = [r[key]["objectives"][column] for r in runs]
            cells[key].append(f"{statistics.mean(xs):.2f} +- {statistics.stdev(xs):.2f}")
    print(f"| {strategy} | " + " | ".join(cells["final"] + cells["best"]) + " |")
PY
