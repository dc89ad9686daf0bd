"""``lowrank-rnn embed``: JSON keys, a network-level error against the target, and errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lowrank_rnn.cli import app, main

runner = CliRunner()


def test_embed_json_bistable_network_follows_the_target() -> None:
    res = runner.invoke(app, ["embed", "--ode", "bistable", "--neurons", "80", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"train_mse", "trajectory_error", "neurons", "seconds"} <= set(out)
    assert out["neurons"] == 80
    # the simulated network's latent stays within 0.01 of solve_ivp's solution over t in [0, 10]
    assert out["trajectory_error"] < 0.01
    assert out["train_mse"] < 1e-6


def test_embed_time_varying_target_defaults_to_decaying_inputs() -> None:
    res = runner.invoke(
        app, ["embed", "--ode", "moving-stable", "--neurons", "150", "--json", "--points", "1500"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["inputs"] == "decaying"
    assert out["trajectory_error"] < 0.1


def test_embed_table_output() -> None:
    res = runner.invoke(app, ["embed", "--ode", "bistable", "--neurons", "30", "--points", "200"])
    assert res.exit_code == 0, res.output
    assert "trajectory error" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ode", "nope", "--neurons", "10"], "ode='nope'"),
        (["--ode", "bistable", "--neurons", "0"], "neurons=0"),
        (["--ode", "bistable", "--neurons", "10", "--rank", "2"], "rank=2"),
        (["--ode", "moving-stable", "--neurons", "10", "--inputs", "bias"], "non-autonomous"),
        (["--ode", "bistable", "--neurons", "500", "--points", "100"], "underdetermined"),
        (["--ode", "bistable", "--neurons", "10", "--inputs", "sometimes"], "inputs="),
    ],
)
def test_embed_bad_arguments_exit_2_with_one_line(args, message, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["embed", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


@pytest.mark.parametrize("method", ["omp", "online", "gp"])
def test_embed_methods_follow_the_target(method: str) -> None:
    res = runner.invoke(app, ["embed", "--ode", "bistable", "--neurons", "20", "--points",
                              "200", "--method", method, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["method"] == method and out["neurons"] <= 20
    assert out["trajectory_error"] < 0.05


def test_embed_tune_reports_both_marginal_likelihoods() -> None:
    res = runner.invoke(app, ["embed", "--ode", "bistable", "--neurons", "20", "--points",
                              "100", "--method", "gp", "--tune", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["lml_tuned"] >= out["lml_default"]


def test_embed_bad_method_and_time_varying_target_exit_2(capsys: pytest.CaptureFixture) -> None:
    for argv, word in ((["--ode", "bistable", "--method", "bptt"], "--method"),
                       (["--ode", "moving-stable", "--method", "gp"], "time-varying")):
        with pytest.raises(SystemExit) as exc:
            main(["embed", "--neurons", "10", *argv])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert word in err and len(err.strip().splitlines()) == 1


def test_embed_save_writes_the_online_estimator(tmp_path) -> None:  # noqa: ANN001
    from lowrank_rnn.io import load

    path = tmp_path / "online.lrnn"
    res = runner.invoke(app, ["embed", "--ode", "bistable", "--neurons", "15", "--method",
                              "online", "--save", str(path), "--json"])
    assert res.exit_code == 0, res.output
    est = load(path)
    assert type(est).__name__ == "OnlineEmbedding" and est.N_.shape == (15, 1)
