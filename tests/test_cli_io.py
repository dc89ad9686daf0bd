"""CLI commands that read or write saved files: ``info``, ``spectrum --network``,
``psychometric --network``, ``embed --save``, ``compare --save``, and bad files (exit 2)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import lowrank_rnn
from lowrank_rnn.cli import app, main
from lowrank_rnn.connectivity import rank_one_network
from lowrank_rnn.io import HEADER_NAME
from lowrank_rnn.large import FixedDegreeRankOne

runner = CliRunner()


def _run_json(args: list[str]) -> dict:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.output.strip().splitlines()[-1])


def _exit_2(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


# ------------------------------------------------------------------------------ info
def test_info_of_a_sparse_network_against_dense_eigenvalues(tmp_path: Path) -> None:
    net = rank_one_network(300, 1.0, 0.6, c=30, rescaled=True, rng=2)
    path = net.save(tmp_path / "net.npz")
    out = _run_json(["info", str(path), "--json"])
    assert out["type"] == "LowRankRNN" and out["format"] == "lowrank-rnn"
    assert out["format_version"] == 1 and out["package_version"] == lowrank_rnn.__version__
    assert (out["n_neurons"], out["rank"], out["d_in"], out["d_out"]) == (300, 1, 0, 0)
    assert out["structure"] == "sparse" and out["mask_nnz"] == 300 * 30
    ev = np.linalg.eigvals(net.to_dense())
    assert out["spectrum"]["outlier"] == pytest.approx(ev.real.max(), rel=1e-9)
    mod = np.sort(np.abs(ev))[::-1]
    assert out["spectrum"]["bulk_radius"] == pytest.approx(mod[1], rel=1e-9)


def test_info_of_a_pure_low_rank_network_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    net = lowrank_rnn.LowRankRNN(M=rng.normal(size=(50, 2)), N=rng.normal(size=(50, 2)),
                                 I=rng.normal(size=(50, 3)), W=rng.normal(size=(50, 1)),
                                 scale=1 / 50)
    out = _run_json(["info", str(net.save(tmp_path / "n.npz")), "--json"])
    ev = np.linalg.eigvals(net.to_dense())
    assert out["spectrum"]["outlier"] == pytest.approx(ev.real.max(), abs=1e-10)
    assert (out["d_in"], out["d_out"]) == (3, 1)


def test_info_of_large_and_fitted_objects(tmp_path: Path) -> None:
    P = FixedDegreeRankOne.random(400, 20, 1.0, 0.5, rng=1)
    out = _run_json(["info", str(P.save(tmp_path / "p.npz")), "--json"])
    ev = np.linalg.eigvals(P.to_csr().toarray())
    assert out["c"] == 20 and out["nnz"] == 8000
    assert out["spectrum"]["outlier"] == pytest.approx(ev.real.max(), rel=1e-6)
    from lowrank_rnn.fit.regression import ODEEmbedding
    from lowrank_rnn.fit.targets import bistable

    est = ODEEmbedding(1, 30, random_state=0).fit(bistable, box=(-1.5, 1.5), n_points=100)
    out = _run_json(["info", str(est.save(tmp_path / "e.npz")), "--json", "--no-spectrum"])
    assert out["type"] == "ODEEmbedding" and out["fitted"]
    assert "N_" in out["attributes"] and out["params"]["n_neurons"] == 30
    assert out["network"]["n_neurons"] == 30
    res = runner.invoke(app, ["info", str(tmp_path / "e.npz")])
    assert res.exit_code == 0 and "ODEEmbedding" in res.output


def test_info_bad_files_exit_2_naming_the_file(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "notes.txt: not a lowrank-rnn file" in _exit_2(["info", str(text)], capsys)
    good = rank_one_network(50, 1.0, 0.5, rng=0).save(tmp_path / "good.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    assert "cut.npz: truncated" in _exit_2(["info", str(cut)], capsys)
    future = tmp_path / "future.npz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(future, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == HEADER_NAME:
                header = json.loads(data)
                header["format_version"] = 99
                data = json.dumps(header).encode()
            zout.writestr(item.filename, data)
    assert "future.npz: written in format version 99" in _exit_2(["info", str(future)], capsys)
    assert "no such file" in _exit_2(["info", str(tmp_path / "none.npz")], capsys)


# ------------------------------------------------------------------------------ spectrum
def test_spectrum_of_a_saved_network_equals_the_drawn_one(tmp_path: Path, capsys) -> None:
    path = tmp_path / "r1.npz"
    args = ["--sigma2", "1", "--sigma-mn", "0.8", "--c", "40", "--rescaled", "--json"]
    drawn = _run_json(["spectrum", "--n-neurons", "400", *args, "--save-network", str(path)])
    loaded = _run_json(["spectrum", "--network", str(path), *args])
    for key in ("outlier", "bulk_radius", "theory_outlier", "theory_bulk_radius"):
        assert loaded[key] == drawn[key]
    bare = _run_json(["spectrum", "--network", str(path), "--json"])
    assert bare["outlier"] == drawn["outlier"] and bare["theory_outlier"] is None
    P = FixedDegreeRankOne.random(100, 10, 1.0, 0.5, rng=1).save(tmp_path / "p.npz")
    assert "not a LowRankRNN" in _exit_2(["spectrum", "--network", str(P)], capsys)
    assert "--n-neurons" in _exit_2(["spectrum", "--network", str(path), "--n-neurons", "5"],
                                    capsys)
    assert "--sigma2" in _exit_2(["spectrum", "--sigma2", "1"], capsys)


# ------------------------------------------------------------------------------ psychometric
def test_psychometric_of_a_saved_network_equals_the_drawn_one(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ev.npz"
    common = ["--strengths", "2", "--repeats", "2", "--seed", "3", "--backend", "numpy",
              "--json"]
    drawn = _run_json(["psychometric", "--n-neurons", "120", "--c", "12", *common,
                       "--save-network", str(path)])
    loaded = _run_json(["psychometric", "--network", str(path), *common])
    assert loaded["p_positive"] == drawn["p_positive"]
    assert loaded["outlier"] == drawn["outlier"] and loaded["theory_outlier"] is None
    other = rank_one_network(50, 1.0, 0.5, rng=0).save(tmp_path / "other.npz")
    assert "d_in = 2" in _exit_2(["psychometric", "--network", str(other)], capsys)


# ------------------------------------------------------------------------------ embed
def test_embed_save_writes_the_fitted_estimator(tmp_path: Path) -> None:
    from lowrank_rnn.fit.regression import ODEEmbedding
    from lowrank_rnn.fit.targets import fitting_set, get_ode

    path = tmp_path / "emb.npz"
    out = _run_json(["embed", "--ode", "bistable", "--neurons", "40", "--points", "300",
                     "--seed", "2", "--save", str(path), "--json"])
    est = ODEEmbedding.load(path)
    assert est.info_["train_mse"] == out["train_mse"] and out["saved"] == str(path)
    data = fitting_set(get_ode("bistable"), "bias", n_points=300)
    ref = ODEEmbedding(1, 40, inputs="bias", random_state=2).fit(data["g"], data["points"],
                                                                  v=data["v"])
    np.testing.assert_array_equal(est.N_, ref.N_)
    np.testing.assert_array_equal(est.predict(data["points"]), ref.predict(data["points"]))


# ------------------------------------------------------------------------------ compare
def test_compare_save_writes_every_model(tmp_path: Path) -> None:
    from lowrank_rnn.fit.bptt import masked_mse
    from lowrank_rnn.fit.compare import ClosedFormSolution, make_trials
    from lowrank_rnn.simulate import simulate

    folder = tmp_path / "runs"
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--task", "decision", "--seeds", "1", "--epochs", "1", "--lr", "0.01",
              "--n-train", "8", "--n-test", "8", "--batch-size", "8", "--json",
              "--save", str(folder)])
    assert exc.value.code == 0
    summary = json.loads((folder / "summary.json").read_text())
    assert len(summary["files"]) == 3
    test = make_trials("decision", 8, 128, 8, 0)["test"]
    for run in summary["runs"]:
        obj = lowrank_rnn.load(folder / f"{run['method']}-n{run['n_neurons']}-seed0.npz")
        if run["method"] == "closed_form":
            assert isinstance(obj, ClosedFormSolution)
            assert obj.score(test) == run["test_mse"]
            continue
        net = obj.to_network() if hasattr(obj, "to_network") else obj["network"]
        x0 = obj.initial_state() if hasattr(obj, "initial_state") else obj["x0"]
        z = simulate(net, test.inputs, x0, dt=test.dt).z[:, 1:]
        # the trainer ran in float32
        assert masked_mse(z, test.targets, test.mask) == pytest.approx(run["test_mse"],
                                                                       rel=1e-4, abs=1e-6)


def test_compare_save_onto_a_file_exits_2(tmp_path: Path, capsys) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert "--save" in _exit_2(["compare", "--task", "decision", "--save", str(f)], capsys)
