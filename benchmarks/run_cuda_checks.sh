#!/usr/bin/env bash
# CUDA checks for a machine with a GPU and PyTorch: the CUDA tests, then the GPU timings of the
# simulation (Fig 6 workload) and BPTT benchmarks. Writes JSON to ${OUT_DIR:-.}.
# Usage: bash benchmarks/run_cuda_checks.sh   (from the repository root)
set -uo pipefail
OUT_DIR=${OUT_DIR:-.}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
$PY -m pytest -q -p no:cacheprovider tests/test_simulate.py tests/test_bptt.py -k cuda -rs
timeout 300 $PY benchmarks/bench_task_speed.py --quick --device cuda | tee "$OUT_DIR/task_speed_cuda.json"
timeout 200 $PY benchmarks/bench_bptt.py --device cuda | tee "$OUT_DIR/bptt_cuda.json"
