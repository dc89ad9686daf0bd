"""The trained timing task of ``reproduce beiran2021`` (paper Figs 8-9): its helpers and the
quick smoke test."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from lowrank_rnn.fit.bptt import BPTTTrainer  # noqa: E402
from lowrank_rnn.fit.populations import fit_populations  # noqa: E402
from lowrank_rnn.reproduce import load_paper  # noqa: E402
from lowrank_rnn.reproduce._core import Settings  # noqa: E402
from lowrank_rnn.reproduce.beiran2021.timing import (  # noqa: E402
    TIMING_SETTINGS,
    compute_fig8,
    loading_moment_z,
    network_outputs,
    timing_settings,
)
from lowrank_rnn.tasks.timing import ready_set_go_trials  # noqa: E402
from lowrank_rnn.theory.meanfield import GaussianMixture  # noqa: E402


def _two_population_net(n: int, seed: int):
    rng = np.random.default_rng(seed)
    d = 7  # m1 m2 n1 n2 I1 I2 w
    means = rng.normal(0, 1, (2, d))
    covs = []
    for _ in range(2):
        a = rng.normal(0, 0.5, (d, d))
        covs.append(a @ a.T + 0.2 * np.eye(d))
    mix = GaussianMixture([0.4, 0.6], means, np.array(covs), rank=2, d_out=1)
    return mix.sample_network(n, rng=seed)


def test_figure_is_registered():
    assert "Fig 8-9" in [f.name for f in load_paper("beiran2021").figures]


def test_network_outputs_match_the_trainers_predict():
    b = ready_set_go_trials(3, rng=0, dt=0.2, ready=2.0)
    tr = BPTTTrainer(16, 2, n_epochs=1, batches_per_epoch=1, random_state=0,
                     dtype="float64").fit(b)
    np.testing.assert_allclose(network_outputs(tr.to_network(), b), tr.predict(b.inputs),
                               atol=1e-10)


@pytest.mark.parametrize("p", [1, 2])
def test_resampled_moments_match_and_a_wrong_scale_is_caught(p):
    net = _two_population_net(600, seed=3)
    mix = fit_populations(net, p, rng=0).mixture_
    big = mix.sample_network(4000, rng=1)
    # an ML mixture keeps the sample's first and second moments: only sampling error is left
    assert loading_moment_z(net, big) < 5.0
    # the readout not rescaled with N (W kept at the reference size's 1/N) is caught
    wrong = big.replace(W=big.W * 4000 / 600)
    assert loading_moment_z(net, wrong) > 20.0
    # nor is a connectivity at the wrong scale
    assert loading_moment_z(net, big.replace(scale=big.scale * 2)) > 20.0


@pytest.mark.slow
def test_quick_mode_is_a_passing_smoke_test():
    fd = compute_fig8(Settings(quick=True, seed=0))
    rows = fd.checks.rows
    assert rows and all(r.passed for r in rows), [r.as_dict() for r in rows]
    assert all(r.check.startswith("smoke test") for r in rows)
    assert fd.params["mode"].startswith("smoke test")


@pytest.mark.parametrize("quick", [True, False])
def test_tonic_option_of_the_recipe(quick):
    plain = timing_settings(quick)
    assert plain["task"]["tonic"] == 0.0
    assert ready_set_go_trials(2, rng=0, **plain["task"]).inputs.shape[2] == 2
    on = timing_settings(quick, tonic=1.0)
    b = ready_set_go_trials(2, rng=0, **on["task"])
    assert b.inputs.shape[2] == 3 and np.all(b.inputs[..., 2] == 1.0)
    # a copy: the module's recipe keeps its default
    assert TIMING_SETTINGS["quick" if quick else "full"]["task"]["tonic"] == 0.0
    with pytest.raises(ValueError, match="tonic"):
        timing_settings(quick, tonic=float("inf"))


def test_a_network_trained_with_the_tonic_input_has_its_input_vector():
    b = ready_set_go_trials(3, tonic=1.0, rng=0, dt=0.2, ready=2.0)
    tr = BPTTTrainer(16, 2, n_epochs=1, batches_per_epoch=1, random_state=0,
                     dtype="float64").fit(b)
    net = tr.to_network()
    assert net.d_in == 3
    np.testing.assert_allclose(network_outputs(net, b), tr.predict(b.inputs), atol=1e-10)
    # the population fit sees the tonic input loadings as one more coordinate per neuron
    assert fit_populations(net, 1, rng=0).mixture_.sample_network(40, rng=1).d_in == 3


@pytest.mark.slow
def test_quick_mode_with_the_tonic_input():
    fd = compute_fig8(Settings(quick=True, seed=0), tonic=1.0)
    rows = fd.checks.rows
    assert rows and all(r.passed for r in rows), [r.as_dict() for r in rows]
    assert all(r.check.startswith("smoke test: tonic input 1: ") for r in rows)
    assert fd.params["tonic_input"] == 1.0
