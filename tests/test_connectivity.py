"""Connectivity builders against their definitions (exact counts, covariances, validation)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_rnn.connectivity import (
    bernoulli_mask,
    fixed_degree_indices,
    fixed_degree_mask,
    gaussian_matrix,
    loadings,
    low_rank_network,
    mixture_loadings,
    rank_one_loadings,
    rank_one_network,
    sparsify,
)


@pytest.mark.parametrize(("n", "c"), [(50, 1), (200, 7), (300, 100), (120, 120), (1000, 30)])
def test_fixed_degree_exactly_c_distinct_per_column(n: int, c: int) -> None:
    mask = fixed_degree_mask(n, c, rng=3)
    assert sp.issparse(mask)
    dense = mask.toarray()
    assert dense.dtype == bool
    np.testing.assert_array_equal(dense.sum(axis=0), c)  # exactly C non-zeros in every column
    idx = fixed_degree_indices(n, c, rng=3)
    assert idx.dtype == np.int32 and idx.shape == (n, c)
    assert np.all(np.diff(idx, axis=1) > 0)  # sorted and distinct rows
    assert idx.min() >= 0 and idx.max() < n


def test_fixed_degree_rows_are_uniform() -> None:
    # Each row receives Binomial(N, C/N) connections: mean C, variance C (1 - C/N).
    n, c = 2000, 40
    counts = fixed_degree_mask(n, c, rng=0).toarray().sum(axis=1)
    assert abs(counts.mean() - c) < 1e-9  # total is exact
    var = c * (1 - c / n)
    # sample variance of N draws: relative sd sqrt(2/N)
    assert abs(counts.var() / var - 1) < 5 * np.sqrt(2 / n)


@pytest.mark.parametrize("s", [0.0, 0.3, 0.9])
def test_bernoulli_mask_density(s: float) -> None:
    n = 600
    mask = bernoulli_mask(n, s, rng=1)
    p = 1 - s
    sd = np.sqrt(n * n * p * (1 - p))
    assert abs(mask.nnz - n * n * p) <= 5 * sd + 1e-9


def test_gaussian_matrix_variance_and_sparsity() -> None:
    n, g = 800, 1.7
    J = gaussian_matrix(n, g, rng=0)
    # sample variance of N^2 Gaussian entries: relative sd sqrt(2/N^2)
    assert abs(J.var() * n / g**2 - 1) < 5 * np.sqrt(2) / n
    Jc = gaussian_matrix(n, g, c=50, rng=0)
    np.testing.assert_array_equal(np.diff(Jc.tocsc().indptr), 50)
    assert abs(Jc.data.var() * n / g**2 - 1) < 5 * np.sqrt(2 / Jc.nnz)


def test_loadings_covariance_exact_and_sampled() -> None:
    cov = np.array([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 0.8]])
    mean = np.array([0.1, -1.0, 0.0])
    X = loadings(500, cov, mean=mean, exact=True, rng=2)
    Xc = X - mean
    np.testing.assert_allclose(Xc.T @ Xc / 500, cov, atol=1e-10)
    np.testing.assert_allclose(X.mean(axis=0), mean, atol=1e-10)
    n = 20000
    Y = loadings(n, cov, rng=2)
    emp = np.cov(Y.T, bias=True)
    sd = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)  # Wishart entry sd
    assert np.all(np.abs(emp - cov) < 5 * sd)


def test_singular_covariance_is_allowed() -> None:
    cov = np.array([[1.0, 1.0], [1.0, 1.0]])  # PSD, rank one: the two vectors are equal
    X = loadings(100, cov, rng=0)
    np.testing.assert_allclose(X[:, 0], X[:, 1], atol=1e-12)


@pytest.mark.parametrize("sigma_mn", [0.0, 0.3, -0.5, 1.0])
def test_rank_one_loadings_overlaps(sigma_mn: float) -> None:
    m, n = rank_one_loadings(400, 1.0, sigma_mn, exact=True, rng=5)
    np.testing.assert_allclose(m @ n / 400, sigma_mn, atol=1e-10)
    np.testing.assert_allclose([m @ m / 400, n @ n / 400], 1.0, atol=1e-10)


def test_rank_one_loadings_eq17_18_statistics() -> None:
    sigma2, smn, n = 0.09, 0.03, 50_000
    m, nn = rank_one_loadings(n, sigma2, smn, rng=11)
    # sd of the sample covariance of N pairs: sqrt((sigma^4 + sigma_mn^2)/N)
    assert abs(m @ nn / n - smn) < 5 * np.sqrt((sigma2**2 + smn**2) / n)
    assert abs(m @ m / n - sigma2) < 5 * sigma2 * np.sqrt(2 / n)


def test_mixture_counts_and_statistics() -> None:
    fr = [0.2, 0.5, 0.3]
    means = np.array([[1.0, 0.0], [-1.0, 2.0], [0.0, 0.0]])
    covs = np.array([np.eye(2) * v for v in (0.5, 1.0, 2.0)])
    X, labels = mixture_loadings(1001, fr, means, covs, exact=True, rng=0)
    counts = np.bincount(labels)
    assert counts.sum() == 1001
    assert np.all(np.abs(counts - np.array(fr) * 1001) < 1)
    for p in range(3):
        np.testing.assert_allclose(X[labels == p].mean(axis=0), means[p], atol=1e-10)


def test_same_seed_same_result() -> None:
    a = rank_one_network(300, 1.0, 0.5, c=20, rescaled=True, g=0.5, rng=42)
    b = rank_one_network(300, 1.0, 0.5, c=20, rescaled=True, g=0.5, rng=42)
    np.testing.assert_array_equal(a.to_dense(), b.to_dense())
    c = rank_one_network(300, 1.0, 0.5, c=20, rescaled=True, g=0.5, rng=43)
    assert not np.array_equal(a.to_dense(), c.to_dense())


def test_rescaled_network_is_mask_times_outer_product() -> None:
    net = rank_one_network(200, 1.0, 0.4, c=15, rescaled=True, rng=0)
    X = net.mask.toarray()
    expect = X * np.outer(net.M[:, 0], net.N[:, 0])  # eq 12, no 1/N
    np.testing.assert_allclose(net.to_dense(), expect, atol=1e-14)
    net2 = rank_one_network(200, 1.0, 0.4, sparsity=0.5, rng=0)
    X2 = net2.mask.toarray()
    np.testing.assert_allclose(net2.to_dense(), X2 * np.outer(net2.M[:, 0], net2.N[:, 0]) / 200,
                               atol=1e-14)


@pytest.mark.parametrize("structure", ["lowrank", "sparse", "dense"])
def test_apply_connectivity_matches_dense(structure: str) -> None:
    rng = np.random.default_rng(0)
    n = 150
    if structure == "lowrank":
        net = low_rank_network(rng.standard_normal((n, 2)), rng.standard_normal((n, 2)))
    elif structure == "sparse":
        net = rank_one_network(n, 1.0, 0.3, c=10, g=0.8, rng=1)
    else:
        net = rank_one_network(n, 1.0, 0.3, g=0.8, rng=1)
    assert net.structure == structure
    r = rng.standard_normal((4, n))
    J = net.to_dense()
    np.testing.assert_allclose(net.apply_connectivity(r), r @ J.T, atol=1e-12)
    op = net.connectivity_operator()
    v = rng.standard_normal(n)
    np.testing.assert_allclose(op.matvec(v), J @ v, atol=1e-12)
    np.testing.assert_allclose(op.rmatvec(v), J.T @ v, atol=1e-12)


def test_sparse_network_stores_csr_not_dense() -> None:
    net = rank_one_network(3000, 1.0, 0.3, c=10, rescaled=True, rng=0)
    assert sp.issparse(net.mask) and net.mask.format == "csr"
    J = net.sparse_connectivity()
    assert sp.issparse(J) and J.nnz == 3000 * 10


def test_sparsify_masks_random_part_too() -> None:
    base = rank_one_network(100, 1.0, 0.2, g=1.0, rng=0)
    net = sparsify(base, c=10, rng=1)
    X = net.mask.toarray()
    np.testing.assert_allclose(net.to_dense(), X * base.to_dense(), atol=1e-14)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: rank_one_network(100, 1.0, 0.5, sparsity=1.0), "sparsity"),
        (lambda: rank_one_network(100, 1.0, 0.5, sparsity=-0.1), "sparsity"),
        (lambda: rank_one_network(100, 1.0, 0.5, c=101), "c"),
        (lambda: rank_one_network(100, 1.0, 0.5, c=0), "c"),
        (lambda: rank_one_network(100, 1.0, 1.5), "sigma_mn"),
        (lambda: rank_one_network(0, 1.0, 0.5), "n_neurons"),
        (lambda: rank_one_network(100, float("nan"), 0.5), "sigma2"),
        (lambda: rank_one_network(100, 1.0, float("inf")), "sigma_mn"),
        (lambda: rank_one_network(100, 1.0, 0.5, rng=-1), "rng"),
        (lambda: loadings(10, [[1.0, 2.0], [2.0, 1.0]]), "cov"),
        (lambda: mixture_loadings(10, [0.5, 0.6], np.zeros((2, 1)), np.ones((2, 1, 1))),
         "fractions"),
        (lambda: gaussian_matrix(10, -1.0), "g"),
        (lambda: fixed_degree_mask(10, 11), "c"),
        (lambda: rank_one_network(100, 1.0, 0.5, rescaled=True), "rescaled"),
    ],
)
def test_bad_input_names_the_parameter(call, param: str) -> None:
    with pytest.raises(ValueError, match=param):
        call()
