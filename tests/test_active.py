"""Active learning: greedy maximum-variance selection against refitting the GP each time."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.fit.active import active_learning, select_points
from lowrank_rnn.fit.gp import GPODE
from lowrank_rnn.fit.regression import grid_points
from lowrank_rnn.fit.targets import limit_cycle

FIXED = {"kernel": "erf", "m_std": 1.0, "i_std": 1.0, "amplitude": 1.5, "noise": 0.01}


def test_greedy_batch_equals_sequential_refits_of_the_posterior() -> None:
    rng = np.random.default_rng()
    X = rng.uniform(-1.6, 1.6, (6, 2))
    cand = grid_points(((-1.6, 1.6), (-1.6, 1.6)), 100, 2)
    gp = GPODE(2, **FIXED).fit(limit_cycle, X)
    picks = select_points(gp, cand, 5)
    # independent: refit with the points chosen so far and take the largest posterior std
    pts = X
    for j in picks:
        ref = GPODE(2, **FIXED).fit(limit_cycle, pts)
        _, sd = ref.predict(cand, return_std=True)
        assert sd[j] == pytest.approx(sd.max(), rel=1e-6)
        pts = np.vstack([pts, cand[j]])
    assert len(set(picks.tolist())) == 5


def test_exclude_and_budget() -> None:
    cand = grid_points(((-1, 1), (-1, 1)), 25, 2)
    gp = GPODE(2, **FIXED).fit(limit_cycle, cand[:3])
    picks = select_points(gp, cand, 4, exclude=np.arange(10))
    assert np.all(picks >= 10)
    with pytest.raises(ValueError, match="n_select"):
        select_points(gp, cand, 30)


def test_active_learning_loop_is_reproducible_and_reports_its_curve() -> None:
    cand = grid_points(((-1.6, 1.6), (-1.6, 1.6)), 100, 2)
    test = np.random.default_rng(0).uniform(-1.6, 1.6, (50, 2))
    kw = {"n_init": 4, "n_total": 16, "batch": 4, "gp_params": FIXED, "retune_every": 0}
    a = active_learning(limit_cycle, cand, test, strategy="variance", rng=1, **kw)
    b = active_learning(limit_cycle, cand, test, strategy="variance", rng=1, **kw)
    np.testing.assert_array_equal(a["selected"], b["selected"])
    np.testing.assert_array_equal(a["n_points"], [4, 8, 12, 16])
    assert len(set(a["selected"].tolist())) == 16
    # the error is that of the GP fitted on the selected points
    gp = GPODE(2, **FIXED).fit(limit_cycle, cand[a["selected"]])
    g = limit_cycle(test)
    err = np.sqrt(np.mean((gp.predict(test) - g) ** 2)) / np.sqrt(np.mean(g**2))
    assert a["rel_rmse"][-1] == pytest.approx(err, rel=1e-10)
    r = active_learning(limit_cycle, cand, test, strategy="random", rng=1, **kw)
    np.testing.assert_array_equal(r["selected"][:4], a["selected"][:4])  # same start
    with pytest.raises(ValueError, match="strategy"):
        active_learning(limit_cycle, cand, test, strategy="entropy")
