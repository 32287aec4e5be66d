#!/usr/bin/env bash
# The evaluator-fidelity table of docs/fidelity.md: every evaluator configuration scored
# against the Fashion-MNIST ground truth, one `tnd-nas fidelity` run each, figures
# appended to OUT/table.txt and every run's JSON kept in OUT/.
#
#   scripts/fidelity-table.sh [TRUTH.csv] [OUT_DIR] [SEED]
#
# Defaults: data/fm-nb201/ground-truth.csv, fidelity-out, seed 0. Needs the release
# binary (cargo build --release) and Debian's dataset-fashion-mnist. About 1-3 minutes
# per supernet configuration on two CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
truth=${1:-data/fm-nb201/ground-truth.csv}
out=${2:-fidelity-out}
seed=${3:-0}
bin=target/release/tnd-nas
data=(--dataset fashion-mnist --data-dir /usr/share/datasets/fashion-mnist --seed "$seed")
mkdir -p "$out"
run() {
    local name=$1; shift
    [ -e "$out/$name.json" ] && { echo "skip $name (done)"; return; }
    "$bin" fidelity --truth "$truth" "$@" --out "$out/$name.json" 2>"$out/$name.log" \
        | tee "$out/$name.txt"
    if [ "$name" = counts ]; then
        cat "$out/$name.txt" >> "$out/table.txt"
    else
        grep -v '^evaluator\|^seed' "$out/$name.txt" >> "$out/table.txt"
    fi
}
# The free baselines.
run counts --evaluator params --evaluator macs
# The supernet as the cpu preset trains it today (TND's policy drives single paths,
# one 32-image validation batch per ask, running BN statistics), and weighted.
run default --evaluator supernet "${data[@]}"
run weighted --evaluator supernet "${data[@]}" --mode weighted
# One cause at a time.
run fixed8 --evaluator supernet "${data[@]}" --score-batches 8 --score-fixed
run bn-batch --evaluator supernet "${data[@]}" --score-bn batch
run uniform --evaluator supernet "${data[@]}" --sampling uniform
run random --evaluator supernet "${data[@]}" --strategy random
run wide16 --evaluator supernet "${data[@]}" --channels 16
run cells1 --evaluator supernet "${data[@]}" --cells 1
run long4 --evaluator supernet "${data[@]}" --epochs 4 --warmup 2
# The causes together.
run fair-fixed-batch --evaluator supernet "${data[@]}" --sampling uniform --score-batches 8 --score-fixed --score-bn batch
