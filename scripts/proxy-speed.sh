#!/bin/sh
# Each proxy's time per cell, the crate (criterion, benches/proxy.rs) beside PyTorch
# (scripts/proxy_speed.py) in one run, on the zero-cost-nas protocol: the NAS-Bench-201
# network at C = 16, N = 5, 32x32, two threads. Pause anything else on the cores first.
#   PYTHON=/path/to/python-with-torch scripts/proxy-speed.sh
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RAYON_NUM_THREADS=2 cargo bench --bench proxy -- --warm-up-time 2 --measurement-time 10 2>&1 \
    | grep -E '^(synflow|naswot|grad_norm|snip)|time:'
OMP_NUM_THREADS=2 "$PYTHON" scripts/proxy_speed.py 5
