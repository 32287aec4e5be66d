#!/usr/bin/env bash
# Backend parity checks and search-step benchmarks (examples/gpu_check.rs).
#
# usage: scripts/gpu-check.sh [--device cuda|cpu | --cpu] [--quick] [--out FILE]
#                             [--timeout SECONDS] [BINARY] [-- EXTRA ARGS FOR THE BINARY]
#
#   --device cuda   (default) the CUDA backend against NdArray on the CPU
#   --cpu           Flex against NdArray (what CI runs, with --quick)
#   --quick         small sizes (C=8, 2/3/4 cells, batch 16, few steps)
#   --out FILE      also write the summary lines as JSON
#   --timeout S     kill the check after S seconds (default 600; needs `timeout`)
#   BINARY          a prebuilt gpu_check (default target/release/examples/gpu_check)
#
# Given a BINARY, the script needs neither cargo nor a network. Without one it builds
# the example with cargo when cargo is available (adding --features cuda for the CUDA
# device), else it runs the default path as it is.
#
# Prints one `CHECK ... PASS|FAIL` line per check and exits with the binary's status:
# 0 when every check passed, 1 when one failed, 2 when it could not run (e.g.
# `error: no CUDA device available: ...`), 124 on timeout.
set -euo pipefail

device=cuda
quick=()
out=()
timeout_s=600
binary=""
extra=()

while (($#)); do
  case "$1" in
    --device)
      [[ $# -ge 2 ]] || { echo "error: --device needs cpu or cuda" >&2; exit 2; }
      device="$2"; shift 2 ;;
    --device=*) device="${1#--device=}"; shift ;;
    --cpu) device=cpu; shift ;;
    --cuda) device=cuda; shift ;;
    --quick) quick=(--quick); shift ;;
    --out)
      [[ $# -ge 2 ]] || { echo "error: --out needs a file" >&2; exit 2; }
      out=(--out "$2"); shift 2 ;;
    --timeout)
      [[ $# -ge 2 ]] || { echo "error: --timeout needs seconds" >&2; exit 2; }
      timeout_s="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [[ -z "$binary" ]] || { echo "error: more than one binary given: $binary, $1" >&2; exit 2; }
      binary="$1"; shift ;;
  esac
done

case "$device" in
  cpu|cuda) ;;
  *) echo "error: unknown device '$device' (cpu or cuda)" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -z "$binary" ]]; then
  binary="$root/target/release/examples/gpu_check"
  if command -v cargo >/dev/null 2>&1 && [[ -f "$root/Cargo.toml" ]]; then
    features=()
    [[ "$device" == cuda ]] && features=(--features cuda)
    echo "# building: cargo build --release --example gpu_check ${features[*]}" >&2
    (cd "$root" && cargo build --release --example gpu_check "${features[@]}" >&2)
  fi
fi

if [[ ! -x "$binary" ]]; then
  echo "error: no gpu_check binary at $binary; build it with" \
       "'cargo build --release --features cuda --example gpu_check' and pass its path" >&2
  exit 2
fi

if [[ "$device" == cuda ]]; then
  # Informational only: what the binary will find at run time.
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
      | sed 's/^/# gpu: /' || true
  else
    echo "# gpu: nvidia-smi not found" >&2
  fi
  if [[ -z "${CUDA_PATH:-}" && ! -d /usr/local/cuda && ! -d /opt/cuda && ! -x /usr/bin/nvcc ]]; then
    echo "# warning: no CUDA toolkit found (CUDA_PATH unset, no /usr/local/cuda, /opt/cuda or /usr/bin/nvcc);" \
         "kernels are compiled at run time and need the CUDA headers" >&2
  fi
fi

runner=()
if command -v timeout >/dev/null 2>&1; then
  runner=(timeout --kill-after=10 "$timeout_s")
fi

start=$(date +%s)
set +e
"${runner[@]}" "$binary" --device "$device" "${quick[@]}" "${out[@]}" "${extra[@]}"
status=$?
set -e
echo "# gpu-check.sh device=$device status=$status wall_s=$(( $(date +%s) - start ))"
exit "$status"
