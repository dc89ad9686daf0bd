"""Herbert & Ostojic Figs 1-3: which points the bulk-radius rows compare, and the ARPACK path.

The separability rule (:func:`lowrank_rnn.reproduce.herbert2022.spectra._bulk_measurable`) is
tested against its own definition by hand and against Monte Carlo draws: where it says the
outlier is separable, (nearly) no instance has it at the bulk edge; where it says not, a
noticeable share of instances does.
"""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.connectivity import rank_one_network
from lowrank_rnn.reproduce._core import Checks
from lowrank_rnn.reproduce.herbert2022.points import (
    gaussian_radius_point,
    rank_one_spectrum_point,
)
from lowrank_rnn.reproduce.herbert2022.spectra import (
    SEPARATION_SD,
    _bulk_measurable,
    _rank_one_checks,
    _theory_rows,
)
from lowrank_rnn.theory.spectrum import edge_bias, edge_sd, eigenvalues


def _point(n: int, c: int, sigma2: float, sigma_mn: float) -> dict:
    return {"n": n, "sigma2": sigma2, "sigma_mn": sigma_mn, "c": c, "rescaled": True}


def test_rule_by_hand() -> None:
    """Outside: lambda - E > z sd; inside: E - |lambda| > z sd_overlap; E = R (1 + bias)."""
    n = 1000
    e = 1.0 + edge_bias(n)
    s_e = edge_sd(n)
    z = SEPARATION_SD
    gap = 0.5
    sd_at = gap / z  # the outlier sd at which a gap of 0.5 is exactly z sd (edge spread aside)
    th_o = np.array([e + gap, e + gap, e - gap, e - gap, -(e - gap)])
    sd = np.array([0.5 * sd_at, 1.5 * sd_at, 9.0, 9.0, 9.0])  # perturbation sd: inside ignores it
    sd_ov = np.array([0.0, 0.0, 0.5 * sd_at, 1.5 * sd_at, 0.5 * sd_at])
    got = _bulk_measurable(th_o, np.ones(5), sd, sd_ov, n)
    assert np.hypot(0.5 * sd_at, s_e) * z < gap  # the edge spread does not flip the first case
    assert got.tolist() == [True, False, True, False, True]
    # between the two sides nothing is measurable however small the spreads
    assert not _bulk_measurable(np.array([e]), np.ones(1), np.zeros(1), np.zeros(1), n)[0]


def test_rule_uses_the_bulk_edge_bias() -> None:
    """At small N the edge lies R edge_bias(N) above R: an outlier just above R is not clear."""
    n = 100
    r = 1.0
    just_above = r * (1 + 0.5 * edge_bias(n))
    assert not _bulk_measurable(np.array([just_above]), np.array([r]), np.zeros(1),
                                np.zeros(1), n)[0]


def _outlier_and_edge(pt: dict, seeds: range) -> tuple[np.ndarray, np.ndarray]:
    out, edge = [], []
    for s in seeds:
        net = rank_one_network(pt["n"], pt["sigma2"], pt["sigma_mn"], c=pt["c"], rescaled=True,
                               rng=s)
        ev = eigenvalues(net)
        out.append(ev[0].real)
        edge.append(np.sort(np.abs(ev))[-2])
    return np.array(out), np.array(edge)


def test_separable_point_has_its_outlier_outside_in_every_draw() -> None:
    """Quick Fig 3B's N = 800, C = 50 (lambda_1 = 1.6, R = 0.69): separable by the rule. Each
    draw puts the outlier inside the edge with probability <= 0.13% (3 sd), so at most one of 10
    (P(>= 2) < 1e-4 for any seed)."""
    pt = _point(800, 50, 0.09, 0.032)
    th = _theory_rows([pt])
    assert _bulk_measurable(th["th_o"], th["th_bp"], th["sd_sep"], th["sd_ov"], 800)[0]
    out, edge = _outlier_and_edge(pt, range(10))
    assert np.sum(out <= edge) <= 1


def test_inseparable_point_has_outliers_at_the_edge() -> None:
    """Full Fig 3B's N = 300, C = 200 (lambda_1 = 1.6, R = 0.74, outlier sd 1.15 by theory):
    not separable. The outlier falls below the bulk edge in about 23% of draws (normal
    approximation), so with 30 draws at least one does except with probability < 1e-3."""
    pt = _point(300, 200, 0.09, 0.008)
    th = _theory_rows([pt])
    assert not _bulk_measurable(th["th_o"], th["th_bp"], th["sd_sep"], th["sd_ov"], 300)[0]
    out, edge = _outlier_and_edge(pt, range(30))
    assert np.any(out < th["th_bp"][0] * (1 + edge_bias(300)))


def test_gram_schmidt_overlap_spread_is_smaller() -> None:
    """The authors' loadings fix m.n/N up to sigma_mn |z|^2/N: relative spread sqrt(2/N), below
    the i.i.d. sqrt(sigma^4 + sigma_mn^2)/(sigma_mn sqrt(N)) whenever sigma^2 > sigma_mn."""
    pts = [_point(1200, 200, 0.05, 0.01)]
    iid, gs = _theory_rows(pts), _theory_rows(pts, loadings="gram_schmidt")
    assert gs["sd_ov"][0] == pytest.approx(2.0 * np.sqrt(2 / 1200))
    assert gs["sd_ov"][0] < iid["sd_ov"][0]
    assert gs["sd_sep"][0] < iid["sd_o"][0]


def test_bulk_row_names_the_points_left_out() -> None:
    """A row with an inseparable point compares the others and says which it left out."""
    pts = [_point(300, 200, 0.09, 0.008), _point(800, 50, 0.09, 0.032)]
    th = _theory_rows(pts)
    k = 6
    res = {"outlier": np.repeat(th["th_o"][:, None], k, 1),
           "bulk_radius": np.repeat(th["th_bp"][:, None], k, 1) * np.linspace(0.99, 1.01, k),
           "max_modulus": np.repeat(th["th_o"][:, None], k, 1)}
    # a bulk reading at the inseparable point far off theory must not make the row fail
    res["bulk_radius"][0] *= 1.5
    ch = Checks("t", "f")
    _rank_one_checks(ch, "B", res, pts, outlier_ref="C sigma_mn", bulk_ref="eq 14")
    row = next(r for r in ch.rows if "bulk radius" in r.check)
    assert row.passed
    assert "1 of 2 points compared" in row.note and "[0]" in row.note
    # the same error at the separable point fails the row
    res["bulk_radius"][0] /= 1.5
    res["bulk_radius"][1] *= 1.5
    ch = Checks("t", "f")
    _rank_one_checks(ch, "B", res, pts, outlier_ref="C sigma_mn", bulk_ref="eq 14")
    assert not next(r for r in ch.rows if "bulk radius" in r.check).passed


@pytest.mark.parametrize("kw", [{"sparsity": 0.8}, {"c": 40}])
def test_gaussian_radius_arpack_matches_dense(kw: dict) -> None:
    """'auto' uses ARPACK at density <= 0.4; the radius equals the dense one (float64)."""
    for seed in range(3):
        a = gaussian_radius_point(400, 1.0, **kw, method="arpack", seed=seed)["radius"]
        d = gaussian_radius_point(400, 1.0, **kw, method="dense", seed=seed)["radius"]
        assert a == pytest.approx(d, rel=1e-5)


def test_rank_one_arpack_matches_dense() -> None:
    pt = dict(n_neurons=600, sigma2=0.09, sigma_mn=0.016, c=100, rescaled=True)
    for seed in range(2):
        a = rank_one_spectrum_point(**pt, method="auto", seed=seed)
        d = rank_one_spectrum_point(**pt, method="dense", seed=seed)
        for key in ("outlier", "bulk_radius", "bulk_radius_real_part", "max_modulus"):
            assert a[key] == pytest.approx(d[key], rel=1e-5), key


def test_gaussian_radius_bad_method() -> None:
    with pytest.raises(ValueError, match="method"):
        gaussian_radius_point(50, 1.0, method="lanczos")
