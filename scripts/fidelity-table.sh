#!/usr/bin/env bash
# The evaluator-fidelity table of docs/fidelity.md: every evaluator configuration scored
# against the Fashion-MNIST ground truth, one `tnd-nas fidelity` run each, figures
# appended to OUT/table.txt and every run's JSON kept in OUT/. A run whose JSON exists
# is skipped, so a killed sweep continues where it stopped.
#
#   scripts/fidelity-table.sh [TRUTH.csv] [OUT_DIR] [SEED]
#
# Defaults: data/fm-nb201/ground-truth.csv, data/fm-nb201/fidelity (kept in the repo: a
# sweep spans sessions and machines; commit what it has), seed 0. Needs the release
# binary (cargo build --release, or BIN=path/to/tnd-nas) and Debian's dataset-fashion-mnist. On two CPU cores
# the configurations of the 2026-12-06 presets take 1-5 minutes each, the long ones
# 10-30 minutes: about 3 hours in all.
set -euo pipefail
cd "$(dirname "$0")/.."
truth=${1:-data/fm-nb201/ground-truth.csv}
out=${2:-data/fm-nb201/fidelity}
seed=${3:-0}
bin=${BIN:-target/release/tnd-nas}
# The table's cells: the ground truth's first 254 (its 250 random cells and the first 4
# selected ones, in order of first appearance). Cells the study selects later are
# appended to the ground truth and would change the set; LIMIT=N scores another prefix.
limit=${LIMIT:-254}
dataset=(--dataset fashion-mnist --data-dir /usr/share/datasets/fashion-mnist)
fm=("${dataset[@]}" --seed "$seed")
# Every supernet line comes with its rank mean with the parameter count. The study's
# supernets score alone (--score-prior none); the presets since 2026-12-07 join their
# scores with the parameter count (the `cpu-prior` lines).
data=(--evaluator supernet --plus-params --score-prior none "${fm[@]}")
mkdir -p "$out"
run() {
    local name=$1; shift
    [ -e "$out/$name.json" ] && { echo "skip $name (done)"; return; }
    "$bin" fidelity --truth "$truth" --limit "$limit" "$@" --out "$out/$name.json" \
        2>"$out/$name.log" \
        | tee "$out/$name.txt"
    if [ "$name" = counts ]; then
        cat "$out/$name.txt" >> "$out/table.txt"
    else
        grep -v '^evaluator\|^seed' "$out/$name.txt" >> "$out/table.txt"
    fi
}
# The free baselines.
run counts --evaluator params --evaluator macs
# The zero-cost proxies (seconds).
run proxies --evaluator synflow --evaluator zero-cost --evaluator naswot \
    --evaluator grad-norm --evaluator snip "${fm[@]}"
# The presets as they are (the default evaluator first: it decides the defaults).
run cpu "${data[@]}" --preset cpu
# The default's own noise: the same configuration from a second seed.
run cpu-seed$((seed + 1)) --evaluator supernet --plus-params --score-prior none "${dataset[@]}" \
    --seed $((seed + 1)) --preset cpu
# The preset's scores joined with the parameter count as the search ranks them (a
# window of the search's latest scores, a reference of random cells): the default.
run cpu-prior --evaluator supernet --plus-params --score-prior params "${fm[@]}" --preset cpu
run cpu-prior-seed$((seed + 1)) --evaluator supernet --plus-params --score-prior params \
    "${dataset[@]}" --seed $((seed + 1)) --preset cpu
run quick "${data[@]}" --preset quick
run quick-prior --evaluator supernet --plus-params --score-prior params "${fm[@]}" --preset quick
# The supernet as the `cpu` preset trained it until 2026-12-06 (quick's first stage:
# C = 8, 2 cells, 2 epochs of which 1 warm-up, batch 32, lr 0.05; 500 single-path steps
# an epoch on TND's favourite paths, stage spread 24; each ask of 4 cells scored on the
# next 32-image validation batch with running BN statistics; crops of padding 4), and
# the same trained weighted.
# (Each option once: the program refuses an option given twice.)
old() {
    local mode=single-path bn=running batches=1 set=rolling sampling=policy
    while [ $# -gt 0 ]; do
        case $1 in
            mode=*) mode=${1#mode=} ;; bn=*) bn=${1#bn=} ;; batches=*) batches=${1#batches=} ;;
            set=*) set=${1#set=} ;; sampling=*) sampling=${1#sampling=} ;; *) break ;;
        esac
        shift
    done
    echo --preset quick --mode "$mode" --max-steps 500 --sampling "$sampling" \
        --score-bn "$bn" --score-batches "$batches" --score-set "$set" --crop-padding 4 \
        --stage-spread 24 "$@"
}
# shellcheck disable=SC2046 # old's words are options without spaces
{
run old "${data[@]}" $(old)
run old-weighted "${data[@]}" $(old mode=weighted)
# One cause at a time, from there.
run old-fixed8 "${data[@]}" $(old batches=8 set=fixed)
run old-bn-batch "${data[@]}" $(old bn=batch)
run old-uniform "${data[@]}" $(old sampling=uniform)
run old-wide16 "${data[@]}" $(old --channels 16)
run old-cells1 "${data[@]}" $(old --cells 1)
run old-long4 "${data[@]}" $(old --epochs 4 --warmup 2)
}
# Uniform paths scored with their own BN statistics on a fixed set, trained like the
# ground truth (batch 256, lr 0.1, no crops, C = 8, one cell per stage), growing in
# length and scoring set; `cpu` is the preset since 2026-12-07 (40 epochs, 16 batches).
fair=(--preset cpu --strategy random)
run fair-e6-k4 "${data[@]}" "${fair[@]}" --epochs 6 --warmup 5 --score-batches 4
run fair-e20-k4 "${data[@]}" "${fair[@]}" --epochs 20 --warmup 19 --score-batches 4
run fair-e20-k16 "${data[@]}" "${fair[@]}" --epochs 20 --warmup 19
run fair-e20-k16-prob "${data[@]}" "${fair[@]}" --epochs 20 --warmup 19 --score-metric probability
# Length helped most so far (uniform paths, 16 batches: 6 epochs tau 0.03, 20 epochs
# 0.19, 40 epochs 0.41 / 0.50): twice the `cpu` preset's length next.
run cpu-e80 "${data[@]}" --preset cpu --epochs 80 --warmup 40
run cpu-running-bn "${data[@]}" --preset cpu --score-bn running
run cpu-crop4 "${data[@]}" --preset cpu --crop-padding 4
run cpu-cells2 "${data[@]}" --preset cpu --cells 2
run cpu-wide16 "${data[@]}" --preset cpu --channels 16
# The cells the supernet searches selected (their final architectures): the ground truth
# trains them too (fm_ground_truth reads selected-cells.txt beside its CSV).
grep -ho '"selected": "[^"]*"' "$out"/*.json | sed 's/.*: "\(.*\)"/\1/' | sort -u \
    > "$out/selected-cells.txt"
echo "selected cells: $out/selected-cells.txt (merge into data/fm-nb201/selected-cells.txt)"
