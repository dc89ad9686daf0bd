"""``lowrank-rnn sweep CONFIG.toml``: runs, stores, resumes; bad configs fail fast with exit 2."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from lowrank_rnn.cli import main
from lowrank_rnn.reproduce.herbert2022.points import gaussian_radius_point
from lowrank_rnn.sweep import load_sweep
from lowrank_rnn.theory.spectrum import theory_outlier_sd


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def write(tmp_path, text, name="cfg.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


GAUSS = """
function = "gaussian_radius"
seeds = [3, 5]
[fixed]
n_neurons = 40
g = 1.0
[grid]
sparsity = { start = 0.0, stop = 0.5, num = 3 }
"""


def test_cli_sweep_runs_stores_and_resumes(tmp_path, capsys):
    cfg = write(tmp_path, GAUSS)
    store = tmp_path / "store"
    code, out, _ = run_cli(["sweep", str(cfg), "--workers", "0", "--out", str(store), "--json"],
                           capsys)
    assert code == 0
    info = json.loads(out)
    assert info["dims"] == {"sparsity": 3, "seed": 2}
    assert info["computed"] == 6 and info["reused"] == 0
    ds = load_sweep(store)
    np.testing.assert_allclose(ds["sparsity"].values, [0.0, 0.25, 0.5])
    for s in (0.0, 0.25, 0.5):
        for seed in (3, 5):
            direct = gaussian_radius_point(40, 1.0, s, seed=seed)["radius"]
            assert float(ds["radius"].sel(sparsity=s, seed=seed)) == direct
    code, out, _ = run_cli(["sweep", str(cfg), "--workers", "0", "--out", str(store), "--json"],
                           capsys)
    assert code == 0 and json.loads(out)["computed"] == 0 and json.loads(out)["reused"] == 6
    # the table output names every grid value
    code, out, _ = run_cli(["sweep", str(cfg), "--workers", "0", "--out", str(store)], capsys)
    assert code == 0 and "0.25" in out and "radius" in out and "6 points" in out


def test_cli_rank_one_spectrum_matches_theory(tmp_path, capsys):
    cfg = write(tmp_path, """
function = "rank_one_spectrum"
seeds = 3
[fixed]
n_neurons = 150
sigma2 = 1.0
sigma_mn = 0.8
[grid]
sparsity = [0.0, 0.5]
[run]
workers = 0
""")
    code, _, err = run_cli(["sweep", str(cfg), "--out", str(tmp_path / "s"), "--json"], capsys)
    assert code == 0, err
    ds = load_sweep(tmp_path / "s")
    for s in (0.0, 0.5):
        kw = {"sparsity": s} if s else {}
        expected = (1 - s) * 0.8  # eq 5 / eq 7
        sd = theory_outlier_sd(1.0, 0.8, n_neurons=150, **kw)
        outl = ds["outlier"].sel(sparsity=s).values
        np.testing.assert_allclose(ds["theory_outlier"].sel(sparsity=s), expected)
        assert np.all(np.abs(outl - expected) < 5 * sd), (outl, expected, sd)


@pytest.mark.parametrize(
    "text, match",
    [
        (GAUSS.replace("g = 1.0", "gain = 1.0"), "'gain': unknown parameter"),
        (GAUSS.replace("sparsity = { start = 0.0, stop = 0.5, num = 3 }", "sparsity = []"),
         "empty"),
        (GAUSS.replace("[grid]\nsparsity = { start = 0.0, stop = 0.5, num = 3 }", "[grid]"),
         "grid is empty"),
        ("bogus = 1\n" + GAUSS, "config key 'bogus': unknown"),
        (GAUSS.replace("gaussian_radius", "no_such_function"), "unknown sweep function"),
        (GAUSS.replace("num = 3", "n = 3"), "start, stop and num"),
        ("function = [", "not valid TOML"),
    ],
)
def test_cli_bad_config_exits_2(tmp_path, capsys, text, match):
    cfg = write(tmp_path, text)
    t0 = time.perf_counter()
    code, _, err = run_cli(["sweep", str(cfg), "--workers", "0", "--out", str(tmp_path / "s")],
                           capsys)
    assert code == 2 and match in err, err
    assert time.perf_counter() - t0 < 10
    points = tmp_path / "s" / "points"
    assert not points.exists() or not any(points.iterdir())


def test_cli_unreachable_scheduler_exits_2_quickly(tmp_path, capsys):
    cfg = write(tmp_path, GAUSS)
    t0 = time.perf_counter()
    code, _, err = run_cli(["sweep", str(cfg), "--scheduler", "tcp://127.0.0.1:9",
                            "--out", str(tmp_path / "s")], capsys)
    assert code == 2 and "no Dask scheduler reachable" in err
    assert time.perf_counter() - t0 < 15


def test_cli_missing_config_exits_2(tmp_path, capsys):
    code, _, err = run_cli(["sweep", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "no such file" in err
