"""Closed-form task solutions, the comparison harness and the ``compare`` command."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from lowrank_rnn.fit.bptt import masked_mse  # noqa: E402
from lowrank_rnn.fit.compare import (  # noqa: E402
    closed_form_decision,
    closed_form_flipflop,
    compare,
    make_trials,
    summarize,
    with_tonic_input,
)
from lowrank_rnn.simulate import simulate  # noqa: E402
from lowrank_rnn.tasks import flipflop_trials  # noqa: E402


def test_flipflop_closed_form_is_three_neurons_rank_three_and_stores_bits():
    trials = make_trials("flipflop", 16, 1, 16, seed=0, n_steps=60)
    sol = closed_form_flipflop(trials["train"])
    assert sol.network.n_neurons == 3 and sol.network.rank == 3
    # each bit's latent -z + n tanh(m z) has its stable fixed points at ~ +-1 (target z - z^3):
    # at z = 1 the fitted vector field nearly vanishes
    m, n = np.diag(sol.network.M), np.diag(sol.network.N)
    assert np.all(np.abs(-1 + n * np.tanh(m)) < 0.02)
    # the harness's score is the masked MSE of the NumPy simulation
    z = simulate(sol.network, trials["test"].inputs, sol.x0, dt=trials["test"].dt).z[:, 1:]
    assert sol.score(trials["test"]) == pytest.approx(
        masked_mse(z, trials["test"].targets, trials["test"].mask)
    )
    # pulses on each bit, then silence: the output holds the last pulse's sign
    u = np.zeros((1, 60, 4))
    u[0, :, 3] = 1.0
    u[0, 0:5, 0], u[0, 10:15, 0] = 1.0, -1.0
    u[0, 0:5, 1] = -1.0
    u[0, 20:25, 2] = 1.0
    out = sol.predict(u)[0, -1]
    np.testing.assert_allclose(out, [-1.0, -1.0, 1.0], atol=0.05)


@pytest.mark.parametrize("seed", [0, 1])
def test_decision_closed_form_embeds_bistable_ode(seed):
    trials = make_trials("decision", 32, 1, 8, seed=seed)
    sol = closed_form_decision(trials["train"], rng=seed)
    net, k = sol.network, sol.info["steepness"]
    assert net.n_neurons == 10 and net.rank == 1
    z = np.linspace(-1.2, 1.2, 121)
    field = -z + np.tanh(np.outer(z, net.M[:, 0]) + net.I[:, 1]) @ net.N[:, 0]
    assert np.max(np.abs(field - k * (z - z**3))) < 0.05 * k
    # strong noiseless evidence for 2 tau, then 4 tau of silence: the attractor of its sign
    for sign in (1.0, -1.0):
        u = np.zeros((1, 60, 2))
        u[0, :, 1] = 1.0
        u[0, :20, 0] = 0.4 * sign
        assert abs(sol.predict(u)[0, -1, 0] - sign) < 0.1


def test_tonic_channel():
    b = with_tonic_input(flipflop_trials(2, n_steps=5, rng=0))
    assert b.inputs.shape == (2, 5, 4) and np.all(b.inputs[:, :, 3] == 1.0)


def test_compare_and_summary():
    runs = compare("decision", seeds=2, sizes=[4], n_train=8, n_validation=4, n_test=8,
                   n_epochs=2, lrs=(1e-2, 2e-2), tune_epochs=1, batch_size=4)
    methods = [r.method for r in runs]
    assert methods.count("closed_form") == 2 and methods.count("bptt_full_rank") == 2
    s = summarize(runs)
    assert set(s) == {"closed_form", "bptt_low_rank", "bptt_full_rank"}
    for row in s.values():
        assert {"test_mse_mean", "test_mse_sd", "seconds", "n_params"} <= set(row)
    test = [r.test_mse for r in runs if r.method == "bptt_low_rank"]
    assert s["bptt_low_rank"]["test_mse_sd"] == pytest.approx(np.std(test, ddof=1))
    # N=4, rank 1: M, N, I (d_in = 2), W (d_out = 1) -> 4 * (1 + 1 + 2 + 1)
    assert s["bptt_low_rank"]["n_params"] == 20
    assert s["bptt_full_rank"]["n_params"] == 16 + 8 + 4
    assert all(len(r.curve) == 2 for r in runs if r.method != "closed_form")


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(task="pong"), "task"),
        (dict(task="decision", sizes=[2], bptt_rank=3), "bptt_rank"),
        (dict(task="decision", lrs=(0.0,)), "lr"),
        (dict(task="decision", lrs=(-1.0,)), "lr"),
        (dict(task="flipflop", seeds=0), "seeds"),
    ],
)
def test_compare_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        compare(**kw)


def test_cli_compare_json(capsys):
    from lowrank_rnn.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["compare", "--task", "decision", "--seeds", "2", "--epochs", "1", "--lr", "0.01",
              "--n-train", "8", "--n-test", "8", "--batch-size", "8", "--json"])
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) == {"closed_form", "bptt_low_rank", "bptt_full_rank"}
    for row in out.values():
        assert np.isfinite(row["test_mse_mean"]) and row["test_mse_sd"] >= 0
        assert row["seconds"] > 0 and row["n_params"] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--task", "pong"],
        ["compare", "--task", "flipflop", "--lr", "0"],
        ["compare", "--task", "flipflop", "--seeds", "0"],
    ],
)
def test_cli_compare_bad_input_exit_2(argv, capsys):
    from lowrank_rnn.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "Error" in capsys.readouterr().err
