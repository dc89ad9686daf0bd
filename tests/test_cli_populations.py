"""`lowrank-rnn populations FILE`: fit, resampling, plots, saved mixture, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lowrank_rnn
from lowrank_rnn.cli import main
from lowrank_rnn.connectivity import bernoulli_mask
from lowrank_rnn.reproduce.beiran2021 import two_population_mixture
from lowrank_rnn.theory.meanfield import GaussianMixture


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pop") / "net.npz"
    lowrank_rnn.save(two_population_mixture(2.4).network(600, rng=0), path)
    return path


def test_json_fit_resample_plot_and_save(net_file: Path, tmp_path: Path, capsys) -> None:
    plots, saved = tmp_path / "plots", tmp_path / "mix.npz"
    code, out, _ = run_cli(["populations", str(net_file), "--n", "2", "--resample", "1200",
                            "--draws", "2", "--plot", str(plots), "--save", str(saved),
                            "--json"], capsys)
    assert code == 0
    res = json.loads(out)
    assert res["n_populations"] == 2 and sorted(res["sizes"]) == [300, 300]
    np.testing.assert_allclose(sorted(res["fractions"]), [0.5, 0.5], atol=0.02)
    r = res["resampled"]
    assert r["draws"] == 2 and len(r["relative_field_error"]) == 2
    # resampled networks keep the four stable states of the original
    assert r["stable_fixed_points_original"] == 4 == r["stable_fixed_points_mean_field"]
    assert r["stable_fixed_points_resampled"] == [4, 4]
    assert {p.name for p in plots.iterdir()} == {"loadings.png", "flow.png"}
    mix = lowrank_rnn.load(saved)
    assert isinstance(mix, GaussianMixture) and mix.n_populations == 2


def test_bic_table_output(net_file: Path, capsys) -> None:
    code, out, _ = run_cli(["populations", str(net_file), "--max-populations", "3"], capsys)
    assert code == 0 and "P = 2" in out and "(bic)" in out and "fraction" in out


@pytest.mark.parametrize("args, needle", [
    (["--n", "zero"], "--n="),
    (["--n", "0"], "--n="),
    (["--resample", "0"], "--resample="),
    (["--draws", "0"], "--draws="),
    (["--box", "-1"], "--box="),
    (["--max-populations", "0"], "--max-populations="),
])
def test_bad_options_exit_2_with_one_line(net_file: Path, tmp_path: Path, capsys, args,
                                          needle) -> None:
    code, out, err = run_cli(["populations", str(net_file), "--plot", str(tmp_path / "p"),
                              *args], capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


def test_bad_files_exit_2(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(["populations", str(tmp_path / "missing.npz")], capsys)
    assert code == 2 and "missing.npz" in err
    sparse = two_population_mixture().network(200, rng=0)
    sparse = sparse.replace(mask=bernoulli_mask(200, 0.5, rng=0), scale=1.0)
    lowrank_rnn.save(sparse, tmp_path / "sparse.npz")
    code, _, err = run_cli(["populations", str(tmp_path / "sparse.npz")], capsys)
    assert code == 2 and "pure low-rank" in err
    lowrank_rnn.save({"a": 1}, tmp_path / "dict.npz")
    code, _, err = run_cli(["populations", str(tmp_path / "dict.npz")], capsys)
    assert code == 2 and "not a network" in err
