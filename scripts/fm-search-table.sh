#!/usr/bin/env bash
# The real-data search table (issue "Real data, part 2"): in the NAS-Bench-201 space on
# Fashion-MNIST, TND against random search, regularised evolution and local search, each
# driving the same one-stage supernet schedule (scripts/fm-search.toml) with the same
# sample budget, over the search seeds SEEDS; then the same with accuracy and parameters
# and `--reward front` (TND and random search). Every final cell is then trained with the
# ground truth's protocol (examples/fm_ground_truth.rs --cells) and the table printed.
#
#   scripts/fm-search-table.sh [OUT_DIR]
#
# OUT_DIR defaults to data/fm-nb201/search (kept in the repo: the runs span sessions;
# commit what it has). A run whose result.json exists is skipped; a killed run resumes
# (--resume) where its last checkpoint stopped. SEEDS defaults to 10-14: the presets were
# chosen on the fidelity runs' seeds 0 and 1, never on these. BIN is the release
# binary; EXTRA is appended to every search (e.g. EXTRA="--max-steps 2" for a smoke run);
# DATA_DIR is Debian's dataset-fashion-mnist; TRAIN=0 skips training the selected cells
# and SELECTED names another list of them; GT names a prebuilt fm_ground_truth binary.
# One search takes about 8 minutes on two idle cores (40 epochs of 117 steps); the 30
# runs about 4 hours, and training their cells 1.5-2 hours more.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/fm-nb201/search}
seeds=${SEEDS:-"10 11 12 13 14"}
bin=${BIN:-target/release/tnd-nas}
data_dir=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
read -r -a extra <<< "${EXTRA:-}"
common=(--space nb201 --dataset fashion-mnist --data-dir "$data_dir"
        --config scripts/fm-search.toml)
mkdir -p "$out"
search() {
    local name=$1; shift
    local dir=$out/$name
    [ -e "$dir/result.json" ] && { echo "skip $name (done)"; return; }
    # A killed run resumes from its checkpoint; one without (killed before its first, or
    # committed from another machine without it) starts again.
    local resume=()
    if [ -e "$dir/checkpoint/state.json" ]; then resume=(--resume)
    elif [ -e "$dir" ]; then resume=(--force); fi
    echo "search $name"
    "$bin" search "${common[@]}" "$@" --out "$dir" "${resume[@]}" "${extra[@]}" \
        > "$out/$name.log" 2>&1
}
for seed in $seeds; do
    for strategy in tnd random rea ls; do
        search "$strategy-s$seed" --strategy "$strategy" --seed "$seed"
    done
    for strategy in tnd random; do
        search "front-$strategy-s$seed" --strategy "$strategy" --seed "$seed" \
            --objective acc --objective params --reward front
    done
done
# Every cell a search selected (the final cell, and every cell of a front) joins the
# ground truth's selected cells; fm_ground_truth trains the ones it lacks.
listed=${SELECTED:-data/fm-nb201/selected-cells.txt}
python3 - "$out" "$listed" <<'EOF'
import json, pathlib, sys
out, listed = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
cells = set(listed.read_text().split()) if listed.exists() else set()
for result in sorted(out.glob("*/result.json")):
    r = json.loads(result.read_text())
    cells.add(r["final"]["text"])
    cells.update(p["arch"] for p in r.get("front", []))
listed.write_text("".join(c + "\n" for c in sorted(cells)))
EOF
# GT names a prebuilt fm_ground_truth binary (so the working tree may change while the
# table runs); by default cargo builds and runs the example.
if [ "${TRAIN:-1}" != 0 ]; then
    if [ -n "${GT:-}" ]; then "$GT" --data-dir "$data_dir"
    else cargo run --release --example fm_ground_truth -- --data-dir "$data_dir"; fi
fi
python3 scripts/fm_search_table.py "$out" data/fm-nb201/ground-truth.csv
