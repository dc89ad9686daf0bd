"""``reproduce dubreuil2022``: trained networks, population fits, resampled accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.reproduce import load_paper
from lowrank_rnn.reproduce._core import Settings

pytest.importorskip("torch")


def test_paper_is_registered_with_its_figure():
    paper = load_paper("dubreuil2022")
    assert paper.citation and [f.name for f in paper.figures] == ["Populations"]
    assert paper.figures[0].requires == ("torch",)


def test_resampled_accuracy_of_a_trained_decision_network():
    """A rank-one network trained on perceptual decisions keeps its accuracy when resampled
    from one Gaussian population (the paper's claim for PDM), and the accuracy of the trained
    network computed through simulate equals the trainer's own prediction."""
    from lowrank_rnn.reproduce.dubreuil2022 import (
        _accuracy,
        bootstrap_accuracy,
        resampled_accuracy,
        train_task_network,
    )
    from lowrank_rnn.tasks import TASKS, decision_accuracy, task_streams

    tr = train_task_network("random_dots", 1, 64, 12, seed=0)
    test = TASKS["random_dots"].trials(128, rng=task_streams(0)["test"])
    net = tr.to_network()
    assert _accuracy(net, test) == pytest.approx(decision_accuracy(tr.predict(test.inputs), test))
    acc, fit = resampled_accuracy(net, 1, test, draws=2, rng=np.random.default_rng(0))
    assert acc.shape == (2,) and fit.n_populations_ == 1
    assert _accuracy(net, test) >= 0.9 and acc.min() >= 0.85
    # the control: the trained neurons resampled with replacement, at a larger size
    boot = bootstrap_accuracy(net, test, draws=2, rng=np.random.default_rng(1), n_neurons=256)
    assert boot.shape == (2,) and boot.min() >= 0.85
    big, _ = resampled_accuracy(net, 1, test, draws=1, rng=np.random.default_rng(2),
                                n_neurons=256)
    assert big.shape == (1,) and big[0] >= 0.85


def test_float32_accuracy_equals_the_float64_decisions(monkeypatch):
    """The accuracy simulated in float32 (decisions near the boundary redone in float64) is the
    float64 simulation's, trial for trial: on resampled networks, on bootstrap networks with
    merged copies (against the unmerged network in float64), and with every trial redone."""
    import lowrank_rnn.reproduce.dubreuil2022 as dub
    from lowrank_rnn.fit.populations import bootstrap_network, fit_populations
    from lowrank_rnn.simulate import simulate
    from lowrank_rnn.tasks import TASKS, decision_accuracy, task_streams

    tr = dub.train_task_network("random_dots", 1, 64, 6, seed=1)
    net = tr.to_network()
    test = TASKS["random_dots"].trials(128, rng=task_streams(1)["test"])

    def acc64(nw):
        return decision_accuracy(simulate(nw, test.inputs, dt=test.dt, keep_x=False).z[:, 1:],
                                 test)

    mix = fit_populations(net, 2, rng=0).mixture_
    nets = [mix.sample_network(300, rng=g) for g in range(3)]
    for nw in nets:
        assert dub._accuracy(nw, test) == acc64(nw)
    for g in range(2):
        merged = bootstrap_network(net, 300, rng=g, merge_copies=True)
        assert dub._accuracy(merged, test) == acc64(bootstrap_network(net, 300, rng=g))
    monkeypatch.setattr(dub, "DECISION_MARGIN", np.inf)
    assert dub._accuracy(nets[0], test) == acc64(nets[0])


@pytest.mark.slow
def test_quick_figure_checks_pass():
    from lowrank_rnn.reproduce.dubreuil2022 import compute_populations

    fd = compute_populations(Settings(quick=True, seed=0))
    failed = [c for c in fd.checks.rows if not c.passed]
    assert not failed, failed


def test_population_point_is_reproducible_and_shaped():
    """A full-mode sweep point (tiny sizes): outputs of the documented shapes, and the same
    seed gives the same numbers (the point's own stream)."""
    from lowrank_rnn.reproduce.dubreuil2022 import populations_point
    from lowrank_rnn.sweep import run_sweep

    kw = dict(n_neurons=24, resampled_neurons=48, epochs_pdm=1, epochs_pwm=1, epochs_cdm=1,
              draws=2, max_populations=2, n_test=16)
    out = populations_point("context", **kw, seed=3)
    assert out["accuracy"].shape == (2, 2) and out["bootstrap"].shape == (2,)
    assert out["m"].shape == out["n"].shape == (24,) and 0 <= out["trained"] <= 1
    ds = run_sweep(populations_point, {"task": ["context"]}, [3], fixed=kw, workers=0,
                   progress=False)
    np.testing.assert_array_equal(ds["accuracy"].values[0, 0], out["accuracy"])
    np.testing.assert_array_equal(ds["bootstrap"].values[0, 0], out["bootstrap"])
