"""The authors' procedures of Herbert & Ostojic Figs 4 and 6: PC alignment by correlation, the
Go/Nogo decision from the last readout sample, the readout-variance analysis."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.analysis import psychometric_curve
from lowrank_rnn.reproduce._core import Checks
from lowrank_rnn.reproduce.herbert2022.dynamics import (
    _alignment_by_correlation,
    _alignment_rows,
    _plane_fraction,
    input_driven_point,
    psychometric_point,
    readout_variance_point,
)
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials


def test_alignment_by_correlation_is_numpy_corrcoef() -> None:
    rng = np.random.default_rng(4)
    comps = rng.standard_normal((3, 50)) + 0.3  # non-zero means: centring matters
    vecs = [rng.standard_normal(50) - 0.2, rng.standard_normal(50) + 1.0]
    got = _alignment_by_correlation(comps, vecs)
    want = np.array([[abs(np.corrcoef(c, v)[0, 1]) for c in comps] for v in vecs])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_plane_fraction_closed_form() -> None:
    """Unit vectors in the plane of two orthonormal axes give 1; orthogonal ones 0; a vector
    at 45 degrees out of the plane sqrt(1/2)."""
    e = np.eye(4)
    axes = e[:3]  # PCs e0, e1, e2: the plane of the top two is span(e0, e1)
    vecs = [np.array([0.6, 0.8, 0, 0]), e[3], np.array([1.0, 0, 1.0, 0]) / np.sqrt(2)]
    align = np.abs(np.stack([axes @ v for v in vecs]))
    np.testing.assert_allclose(_plane_fraction(align), [1.0, 0.0, np.sqrt(0.5)], atol=1e-15)


def test_dense_trajectory_top_two_pcs_span_m_and_i() -> None:
    """From x0 = 0 the dense rank-one network's activity is kappa m + v I (eq 33): the top two
    PCs span m and I by either rule, and the rules differ by O(1/N) only."""
    n = 400
    out = input_driven_point(n=n, sigma2=0.1, sigma_ni=0.2, vectors_seed=1, dt=0.1, steps=120,
                             on=20, off=80, c=0, seed=0)
    assert out["align_cos"].shape == out["align_corr"].shape == (2, 3)
    np.testing.assert_allclose(_plane_fraction(out["align_cos"]), 1.0, atol=1e-9)
    np.testing.assert_allclose(_plane_fraction(out["align_corr"]), 1.0, atol=0.02)
    assert np.abs(out["align_corr"] - out["align_cos"]).max() < 40 / n


def test_alignment_rows_can_fail() -> None:
    good = np.zeros((3, 2, 3))
    good[0, :, :2] = np.sqrt(0.5)  # dense: both vectors in the top-2 plane
    good[-1, 1, 0] = 0.3  # smallest C: m mostly outside
    ch = Checks("t", "Fig 4")
    _alignment_rows(ch, good, "x")
    assert all(r.passed for r in ch.rows)
    bad = good.copy()
    bad[0, 1] = [0.5, 0.5, 0.7]  # m not in the dense network's top-2 plane
    bad[-1, 1, 0] = 0.9
    ch = Checks("t", "Fig 4")
    _alignment_rows(ch, bad, "x")
    assert [r.passed for r in ch.rows] == [True, False, False]


def test_last_sample_decision_recomputed_from_the_readout() -> None:
    """``p_last`` is the fraction of trials whose last readout sample is positive: rebuild the
    network and trials from the same seeds and count directly."""
    kw = dict(n=300, sigma2=0.1, c=60, n_strengths=4, repeats=6, trial_seed=5,
              sigma_mn=0.06)
    out = psychometric_point(**kw, seed=2)
    en = evidence_network(300, 0.1, 0.06, c=60, rng=2)
    strengths = np.linspace(0.0, 1.0, 4)
    tb = evidence_trials(strengths, 6, rng=5)
    tr = simulate(en.net, tb.inputs, en.x0, dt=tb.dt, dtype=np.float32, keep_x=False,
                  backend="auto")
    last = tr.z[:, -1, 0] > 0
    want = np.array([last[tb.info["strength"] == s].mean() for s in strengths])
    np.testing.assert_array_equal(out["p_last"], want)
    window = psychometric_curve(tr.z, tb.info["strength"],
                                window_steps=tb.info["window_steps"])["p_positive"]
    np.testing.assert_array_equal(out["p_positive"], window)


def test_readout_variance_point_recomputed() -> None:
    """The variance over the last samples of the readout of a trial started at -m - n."""
    out = readout_variance_point(n=300, sigma2=0.3, sigma_mn=0.03, c=50, strength=1.0,
                                 cutoff_steps=80, trial_seed=9, seed=4)
    en = evidence_network(300, 0.3, 0.03, c=50, rng=4)
    tb = evidence_trials(np.array([1.0]), 1, rng=np.random.default_rng([9, 4]))
    tr = simulate(en.net, tb.inputs, -(en.m + en.n), dt=tb.dt, dtype=np.float32,
                  keep_x=False, backend="auto")
    z = np.asarray(tr.z[0, -80:, 0], dtype=float)
    assert out["variance"] == pytest.approx(z.var(), rel=1e-12)
    assert out["mean"] == pytest.approx(z.mean(), rel=1e-12)
    assert out["positive"] == float(np.any(z > 0))
