#!/usr/bin/env bash
# Every Python version the package declares (requires-python >= 3.10): for each one installed
# here, a fresh virtual environment with the package and its dev extra (no torch), the CLI smoke
# test, and a fast subset of the tests. Exits non-zero if any installed version fails; a
# version that is not installed is reported and skipped.
#
#   .ci/python-versions.sh            # 3.10 3.11 3.12 3.13
#   .ci/python-versions.sh 3.10 3.13  # only these
set -uo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(3.10 3.11 3.12 3.13)
root=${PYTHON_VERSIONS_DIR:-${TMPDIR:-/tmp}/lowrank-rnn-pyversions}
mkdir -p "$root"
# the fast subset: CLI and bad-input tables, properties, the core builders, sweeps (serial)
subset=(tests/test_cli_bad_input.py tests/test_cli_spectrum.py tests/test_cli_sweep.py
        tests/test_properties.py tests/test_connectivity.py tests/test_faults.py)

find_python() {  # a pyenv installation of 3.X, else python3.X on PATH (that really runs)
    local v=$1 p
    if command -v pyenv >/dev/null 2>&1; then
        for p in "$(pyenv root)"/versions/"$v".*/bin/python; do
            [ -x "$p" ] && "$p" -c "" 2>/dev/null && { echo "$p"; return 0; }
        done
    fi
    p=$(command -v "python$v" 2>/dev/null) && "$p" -c "" 2>/dev/null && { echo "$p"; return 0; }
    return 1
}

failed=()
for v in "${versions[@]}"; do
    py=$(find_python "$v") || { echo "== Python $v: not installed, skipped"; continue; }
    start=$(date +%s)
    env_dir="$root/py$v"
    echo "== Python $v ($py)"
    rm -rf "$env_dir"
    if ! { "$py" -m venv "$env_dir" \
           && "$env_dir/bin/pip" install -q -e ".[dev]"; }; then
        echo "== Python $v: install FAILED"; failed+=("$v"); continue
    fi
    ok=1
    smoke=$(mktemp -d)
    "$env_dir/bin/lowrank-rnn" --help >/dev/null || ok=0
    "$env_dir/bin/lowrank-rnn" spectrum --n-neurons 200 --sigma2 1 --sigma-mn 0.5 --json \
        >/dev/null || ok=0
    printf 'function = "gaussian_radius"\nseeds = 2\n[fixed]\nn_neurons = 50\n[grid]\ng = [0.5, 1.0]\n' \
        >"$smoke/s.toml"
    "$env_dir/bin/lowrank-rnn" sweep "$smoke/s.toml" --workers 0 --out "$smoke/s.sweep" --json \
        >/dev/null || ok=0
    rm -rf "$smoke"
    "$env_dir/bin/python" -m pytest -q -x -m "not slow" -p no:cacheprovider "${subset[@]}" || ok=0
    echo "== Python $v: $([ $ok = 1 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
    [ $ok = 1 ] || failed+=("$v")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED on Python ${failed[*]}"; exit 1
fi
echo "all installed Python versions passed"
