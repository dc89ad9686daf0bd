"""Spectra against theory (REFERENCE §A table), ARPACK against dense eigvals."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.connectivity import gaussian_matrix, rank_one_network
from lowrank_rnn.theory.spectrum import (
    bulk_radius,
    edge_bias,
    eigenvalues,
    measure_spectrum,
    outliers,
    spectral_regime,
    theory_bulk_radius,
    theory_bulk_radius_profile,
    theory_gaussian_radius,
    theory_outlier,
    theory_outlier_sd,
)

SEEDS = range(4)


def test_table_formulas_match_the_papers_written_forms() -> None:
    n, c, s2, smn, s = 2000, 200, 0.09, 0.008, 0.3
    assert theory_outlier(smn, sparsity=s) == pytest.approx((1 - s) * smn)  # eq 7
    assert theory_bulk_radius(s2, n_neurons=n, sparsity=s) == pytest.approx(
        s2 * np.sqrt(s * (1 - s) / n))  # eq 9
    assert theory_outlier(smn, c=c, n_neurons=n) == pytest.approx(c * smn / n)  # eq 10
    assert theory_bulk_radius(s2, c=c, n_neurons=n) == pytest.approx(
        np.sqrt(c) * s2 * np.sqrt(n - c) / np.sqrt(n**3))  # eq 11
    assert theory_outlier(smn, c=c, n_neurons=n, rescaled=True) == pytest.approx(c * smn)  # eq 13
    assert theory_bulk_radius(s2, c=c, n_neurons=n, rescaled=True) == pytest.approx(
        np.sqrt(c) * s2 * np.sqrt(n - c) / np.sqrt(n))  # eq 14
    # REFERENCE §A, Fig 3A: lambda_1 = 1.6, R = 1.207
    assert theory_outlier(smn, c=c, n_neurons=n, rescaled=True) == pytest.approx(1.6)
    assert theory_bulk_radius(s2, c=c, n_neurons=n, rescaled=True) == pytest.approx(1.207, abs=1e-3)
    assert theory_gaussian_radius(1.0, sparsity=0.75) == pytest.approx(0.5)  # eq 6
    assert theory_gaussian_radius(2.0, c=100, n_neurons=400) == pytest.approx(1.0)
    # large N at fixed C: eq 14 -> sqrt(C) sigma^2
    assert theory_bulk_radius(s2, c=c, n_neurons=10**9, rescaled=True) == pytest.approx(
        np.sqrt(c) * s2, rel=1e-6)


def test_arpack_outlier_equals_dense_outlier() -> None:
    net = rank_one_network(1500, 0.09, 0.03, c=100, rescaled=True, g=0.0, rng=7)
    dense = eigenvalues(net)[0]
    arp = outliers(net)[0]
    assert abs(arp - dense) <= 1e-8 * abs(dense)


def test_arpack_rank_two_outliers() -> None:
    rng = np.random.default_rng(3)
    n = 800
    from lowrank_rnn.connectivity import low_rank_network

    M = rng.standard_normal((n, 2))
    N = M @ np.diag([3.0, 2.0]) + 0.5 * rng.standard_normal((n, 2))
    net = low_rank_network(M, N)
    dense = eigenvalues(net)[:2]
    np.testing.assert_allclose(np.sort(outliers(net, k=2).real), np.sort(dense.real), rtol=1e-8)


@pytest.mark.parametrize(("s", "c"), [(0.5, None), (None, 100)])
def test_gaussian_bulk_radius_matches_circular_law(s: float | None, c: int | None) -> None:
    n = 500
    th = theory_gaussian_radius(1.0, sparsity=s, c=c, n_neurons=n)
    radii = []
    for seed in SEEDS:
        J = gaussian_matrix(n, 1.0, sparsity=s, c=c, rng=seed)
        radii.append(np.abs(np.linalg.eigvals(J.toarray())).max())
    rel = np.array(radii) / th
    # mean within twice the finite-N edge bias plus 4 standard errors of the Ginibre edge law
    tol = 2 * edge_bias(n) + 4 * max(rel.std(ddof=1), 0.01) / np.sqrt(len(rel))
    assert abs(rel.mean() - 1) < tol


@pytest.mark.parametrize(
    "kw",
    [
        {"sparsity": 0.5},
        {"c": 100},
        {"c": 100, "rescaled": True},
    ],
)
def test_rank_one_outlier_and_bulk_match_theory(kw: dict) -> None:
    n = 1000
    sigma2, smn = (16.0, 4.0) if not kw.get("rescaled") else (0.09, 0.03)
    th_o = theory_outlier(smn, n_neurons=n, **kw)
    sd_o = theory_outlier_sd(sigma2, smn, n_neurons=n, **kw)
    th_b = theory_bulk_radius_profile(sigma2, smn, n_neurons=n, **kw)
    outs, bulks = [], []
    for seed in SEEDS:
        ev = eigenvalues(rank_one_network(n, sigma2, smn, rng=seed, **kw))
        outs.append(ev[0].real)
        bulks.append(bulk_radius(ev, 1))
    k = len(outs)
    assert th_o > 2 * th_b  # a visible outlier
    assert abs(np.mean(outs) - th_o) < 4 * sd_o / np.sqrt(k)
    rel = np.array(bulks) / th_b
    tol = 2 * edge_bias(n) + 4 * max(rel.std(ddof=1), 0.01) / np.sqrt(k)
    assert abs(rel.mean() - 1) < tol


def test_exact_overlaps_shrink_the_outlier_spread() -> None:
    n, s2, smn = 600, 16.0, 4.0
    sd_exact = theory_outlier_sd(s2, smn, n_neurons=n, sparsity=0.5, exact=True)
    sd_free = theory_outlier_sd(s2, smn, n_neurons=n, sparsity=0.5)
    assert sd_exact < sd_free
    outs = [eigenvalues(rank_one_network(n, s2, smn, sparsity=0.5, exact=True, rng=s))[0].real
            for s in SEEDS]
    assert abs(np.mean(outs) - 0.5 * smn) < 4 * sd_exact / np.sqrt(len(outs))


def test_measure_spectrum_arpack_matches_dense() -> None:
    net = rank_one_network(1200, 0.09, 0.03, c=100, rescaled=True, rng=2)
    d = measure_spectrum(net, method="dense")
    a = measure_spectrum(net, method="arpack")
    assert a.outlier == pytest.approx(d.outlier, rel=1e-8)
    assert a.bulk_radius == pytest.approx(d.bulk_radius, rel=1e-3)


@pytest.mark.parametrize(
    ("outlier", "radius", "regime"),
    [(0.5, 0.5, "decaying"), (1.5, 0.8, "structured"), (1.5, 1.2, "structured"),
     (0.8, 1.3, "chaotic"), (1.2, 1.5, "chaotic")],
)
def test_spectral_regime(outlier: float, radius: float, regime: str) -> None:
    assert spectral_regime(outlier, radius) == regime


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="sparsity"):
        theory_outlier(0.1, sparsity=1.0)
    with pytest.raises(ValueError, match="c"):
        theory_bulk_radius(0.1, c=0, n_neurons=10)
    with pytest.raises(ValueError, match="k"):
        outliers(rank_one_network(10, 1.0, 0.5, rng=0), k=9)
    with pytest.raises(ValueError, match="method"):
        measure_spectrum(rank_one_network(10, 1.0, 0.5, rng=0), method="magic")
