"""Tests of lowrank_rnn.large against dense and CSR references built independently from idx."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import eigs

from lowrank_rnn import large
from lowrank_rnn.connectivity import fixed_degree_indices, rank_one_loadings
from lowrank_rnn.large import FixedDegreeRankOne, fixed_degree_indices_parallel
from lowrank_rnn.theory.spectrum import theory_bulk_radius, theory_outlier, theory_outlier_sd


def reference_dense(m: np.ndarray, n: np.ndarray, idx: np.ndarray, scale: float) -> np.ndarray:
    """``scale * X ⊙ m n^T`` with X[idx[j], j] = 1, built entry by entry (no library code)."""
    size = m.size
    X = np.zeros((size, size))
    for j in range(size):
        X[idx[j], j] = 1.0
    return scale * X * np.outer(m, n)


def reference_csr(m: np.ndarray, n: np.ndarray, idx: np.ndarray, scale: float) -> sp.csr_array:
    """The same matrix as COO -> CSR from (row, column) pairs taken from idx."""
    size, c = idx.shape
    rows = idx.reshape(-1).astype(np.int64)
    cols = np.repeat(np.arange(size), c)
    return sp.csr_array((scale * m[rows] * n[cols], (rows, cols)), shape=(size, size))


def make(size: int, c: int, sigma2: float, sigma_mn: float, seed: int, scale: float = 1.0,
         n_threads: int | None = None) -> FixedDegreeRankOne:
    m, n = rank_one_loadings(size, sigma2, sigma_mn, rng=seed)
    idx = fixed_degree_indices_parallel(size, c, rng=seed + 1000)
    return FixedDegreeRankOne(m, n, idx, scale=scale, n_threads=n_threads)


# --------------------------------------------------------------------------- index draw
@pytest.mark.parametrize(("size", "c"), [(40, 8), (1000, 7), (70_000, 30), (20, 15), (9, 9)])
def test_indices_distinct_sorted_in_range(size: int, c: int) -> None:
    idx = fixed_degree_indices_parallel(size, c, rng=3)
    assert idx.shape == (size, c) and idx.dtype == np.int32
    assert idx.min() >= 0 and idx.max() < size
    assert np.all(np.diff(idx, axis=1) > 0)  # sorted and distinct within every column's list


def test_indices_reproducible_and_independent_of_threads() -> None:
    size = 3 * large.DRAW_BLOCK_ROWS + 17  # several blocks, the last one partial
    a = fixed_degree_indices_parallel(size, 5, rng=11, n_threads=1)
    b = fixed_degree_indices_parallel(size, 5, rng=11, n_threads=2)
    c = fixed_degree_indices_parallel(size, 5, rng=np.random.default_rng(11), n_threads=2)
    d = fixed_degree_indices_parallel(size, 5, rng=12, n_threads=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, d)
    # blocks drawn with their own generators must not repeat each other
    blk = large.DRAW_BLOCK_ROWS
    assert not np.array_equal(a[:100], a[blk : blk + 100])


def test_indices_uniform_subsets() -> None:
    """Each row is a uniform C-subset: P(i in S) = C/N and P(i, k in S) = C(C-1)/(N(N-1)).

    N = 40, C = 8 makes about half of the first draws contain a repeat, so the redraw path is
    exercised. Counts over K independent sets are binomial; bounds at 5.5 standard deviations
    (Bonferroni over 40 singles and 780 pairs keeps a false alarm below 1e-5 for any seed).
    """
    size, c, reps = 40, 8, 150
    sets = np.concatenate(
        [fixed_degree_indices_parallel(size, c, rng=seed) for seed in range(reps)]
    )
    k = sets.shape[0]
    member = np.zeros((k, size))
    np.put_along_axis(member, sets.astype(np.int64), 1.0, axis=1)
    assert np.all(member.sum(axis=1) == c)
    p1 = c / size
    singles = member.sum(axis=0)
    assert np.all(np.abs(singles - k * p1) < 5.5 * np.sqrt(k * p1 * (1 - p1)))
    p2 = c * (c - 1) / (size * (size - 1))
    pairs = member.T @ member
    iu = np.triu_indices(size, 1)
    assert np.all(np.abs(pairs[iu] - k * p2) < 5.5 * np.sqrt(k * p2 * (1 - p2)))


# --------------------------------------------------------------------------- products
@pytest.mark.parametrize("scale", [1.0, 1 / 300])
def test_products_match_dense_reference(scale: float) -> None:
    size, c = 300, 12
    P = make(size, c, 0.5, 0.2, seed=1, scale=scale)
    dense = reference_dense(P.m, P.n, P.idx, scale)
    v = np.random.default_rng(5).standard_normal(size)
    np.testing.assert_allclose(P.matvec(v), dense @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P.rmatvec(v), dense.T @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P.operator() @ v, dense @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P.transpose_operator() @ v, dense.T @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P.to_csr().toarray(), dense, rtol=1e-15, atol=0)
    z = v + 1j * v[::-1]
    np.testing.assert_allclose(P.rmatvec(z), dense.T @ z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P.matvec(z), dense @ z, rtol=1e-12, atol=1e-12)


def test_products_match_csr_reference_many_blocks() -> None:
    """Several product blocks (the last partial) and 1 vs 2 threads give the CSR answer."""
    size, c = 2 * large.PRODUCT_BLOCK_ROWS + 123, 25
    m, n = rank_one_loadings(size, 1.0, 0.3, rng=2)
    idx = fixed_degree_indices(size, c, rng=4)  # the other generator is accepted too
    ref = reference_csr(m, n, idx, 1.0)
    v = np.random.default_rng(6).standard_normal(size)
    outs = []
    for threads in (1, 2):
        P = FixedDegreeRankOne(m, n, idx, n_threads=threads)
        np.testing.assert_allclose(P.rmatvec(v), ref.T @ v, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(P.matvec(v), ref @ v, rtol=1e-12, atol=1e-12)
        outs.append(P.rmatvec(v))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_index_array_stored_once() -> None:
    """idx is kept as given (int32, C-contiguous) and every product block views it."""
    size, c = large.PRODUCT_BLOCK_ROWS + 50, 6
    m, n = rank_one_loadings(size, 1.0, 0.5, rng=0)
    idx = fixed_degree_indices_parallel(size, c, rng=0)
    P = FixedDegreeRankOne(m, n, idx)
    assert P.idx is idx
    P.rmatvec(np.ones(size))
    blocks = P._block_matrices()
    assert len(blocks) == 2
    for a, b, block in blocks:
        assert np.shares_memory(block.indices, idx)
        np.testing.assert_array_equal(block.indices, idx[a:b].reshape(-1))
    assert np.shares_memory(blocks[0][2].data, blocks[1][2].data)  # one shared block of ones


def test_single_precision_gather_within_rounding_bound() -> None:
    """float32 gather: |error| <= C eps32 sum_k |u_k| per output (standard summation bound)."""
    size, c = 3000, 40
    P = make(size, c, 1.0, 0.5, seed=3)
    P32 = FixedDegreeRankOne(P.m, P.n, P.idx, dtype=np.float32)
    assert P32.idx is P.idx
    ref = reference_csr(P.m, P.n, P.idx, 1.0)
    v = np.random.default_rng(8).standard_normal(size)
    eps = np.finfo(np.float32).eps
    bound = (c + 1) * eps * (abs(ref.T) @ np.abs(v))
    assert np.all(np.abs(P32.rmatvec(v) - ref.T @ v) <= bound)
    assert P32.rmatvec(v).dtype == np.float64


def test_single_precision_outlier_close_to_double() -> None:
    P = FixedDegreeRankOne.random(20_000, 50, 0.09, 0.06, rng=5)
    P32 = FixedDegreeRankOne(P.m, P.n, P.idx, dtype="float32")
    a, b = P.outlier(tol=1e-8).value, P32.outlier(tol=1e-6).value
    assert abs(a - b) <= 1e-5 * abs(a)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_segmented_layout_matches_reference(dtype: str) -> None:
    """A small segment size forces the segmented layout on a small matrix (3 blocks)."""
    size, c = 2 * large.SEGMENT_BLOCK_ROWS + 999, 24
    m, n = rank_one_loadings(size, 1.0, 0.5, rng=3)
    idx = np.random.default_rng(0).permuted(fixed_degree_indices_parallel(size, c, rng=3), axis=1)
    original = idx.copy()  # rows unsorted: the segmented layout sorts them first
    P = FixedDegreeRankOne(m, n, idx, dtype=dtype, segment_bytes=size)
    assert P.n_segments == c // large.MIN_PER_SEGMENT and P.idx is not idx
    np.testing.assert_array_equal(idx, original)  # copy=True leaves the input alone
    ref = reference_csr(m, n, original, 1.0)
    v = np.random.default_rng(1).standard_normal(size)
    bound = 0 if dtype == "float64" else (c + 1) * np.finfo(np.float32).eps
    got = P.rmatvec(v)
    assert np.all(np.abs(got - ref.T @ v) <= bound * (abs(ref.T) @ np.abs(v)) + 1e-12)
    np.testing.assert_allclose(P.matvec(v), ref @ v, rtol=1e-12, atol=1e-12)
    assert (P.to_csr() != ref).nnz == 0
    for j in (0, 1, large.SEGMENT_BLOCK_ROWS + 5, size - 1):
        np.testing.assert_array_equal(P.column_rows(j), np.sort(original[j]))


def test_segmented_layout_in_place_and_outlier() -> None:
    size, c = large.SEGMENT_BLOCK_ROWS + 3000, 40
    m, n = rank_one_loadings(size, 0.09, 0.06, rng=4)
    idx = fixed_degree_indices_parallel(size, c, rng=4)
    plain = FixedDegreeRankOne(m, n, idx.copy())
    seg = FixedDegreeRankOne(m, n, idx, segment_bytes=size // 2, copy=False)
    assert plain.n_segments == 1 and seg.n_segments == 5
    assert seg.idx is idx  # reordered in place, no second index array
    np.testing.assert_array_equal(np.sort(idx, axis=None), np.sort(plain.idx, axis=None))
    for j in range(0, size, 997):
        np.testing.assert_array_equal(seg.column_rows(j), plain.idx[j])
    v = np.random.default_rng(2).standard_normal(size)
    np.testing.assert_allclose(seg.rmatvec(v), plain.rmatvec(v), rtol=1e-12, atol=1e-12)
    a, b = plain.outlier().value, seg.outlier().value
    assert abs(a - b) <= 1e-9 * abs(a)


# --------------------------------------------------------------------------- outlier
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outlier_matches_dense_eigvals(seed: int) -> None:
    size, c = 250, 25
    P = make(size, c, 0.12, 0.08, seed=seed)
    ev = np.linalg.eigvals(reference_dense(P.m, P.n, P.idx, 1.0))
    want = ev[np.argmax(ev.real)]
    got = P.outlier()
    assert abs(got.value - want) <= 1e-8 * abs(want)
    assert got.n_products >= 1
    got_lm = P.outlier(which="LM")
    want_lm = ev[np.argmax(np.abs(ev))]
    assert abs(got_lm.value - want_lm) <= 1e-8 * abs(want_lm)


def test_outlier_matches_arpack_on_csr_reference() -> None:
    size, c = 5000, 50
    P = make(size, c, 0.09, 0.06, seed=7, scale=1.0 / 5000)
    ref = reference_csr(P.m, P.n, P.idx, 1.0 / 5000)
    want = eigs(ref, k=1, which="LR", tol=1e-12, return_eigenvectors=False)[0]
    got = P.outlier(tol=1e-10)
    assert abs(got.value - want) <= 1e-8 * abs(want)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_outlier_theory_eq13(seed: int) -> None:
    """Outlier C sigma_mn (eq 13) within 5 finite-N standard deviations; bulk well below."""
    size, c, sigma2, sigma_mn = 20_000, 50, 0.09, 0.06
    P = FixedDegreeRankOne.random(size, c, sigma2, sigma_mn, rng=seed)
    got = P.outlier(tol=1e-6).value
    want = theory_outlier(sigma_mn, n_neurons=size, c=c, rescaled=True)
    sd = theory_outlier_sd(sigma2, sigma_mn, n_neurons=size, c=c, rescaled=True)
    assert abs(got.imag) < 1e-9
    assert abs(got.real - want) < 5 * sd
    assert want > 2 * theory_bulk_radius(sigma2, n_neurons=size, c=c, rescaled=True)


def test_outlier_non_rescaled_scale() -> None:
    size, c = 20_000, 50
    P = FixedDegreeRankOne.random(size, c, 0.09, 0.06, rescaled=False, rng=9)
    assert P.scale == 1.0 / size
    want = theory_outlier(0.06, n_neurons=size, c=c, rescaled=False)
    sd = theory_outlier_sd(0.09, 0.06, n_neurons=size, c=c, rescaled=False)
    assert abs(P.outlier().value.real - want) < 5 * sd


def test_random_reproducible() -> None:
    a = FixedDegreeRankOne.random(1000, 10, 0.5, 0.2, rng=4)
    b = FixedDegreeRankOne.random(1000, 10, 0.5, 0.2, rng=4)
    np.testing.assert_array_equal(a.idx, b.idx)
    np.testing.assert_array_equal(a.m, b.m)
    assert (a.n_neurons, a.c, a.nnz, a.shape) == (1000, 10, 10_000, (1000, 1000))


# --------------------------------------------------------------------------- validation
def _mn(size: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = rank_one_loadings(size, 1.0, 0.5, rng=0)
    return m, n, fixed_degree_indices(size, 3, rng=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"idx": np.zeros((9, 3), np.int32)}, "idx"),
        ({"idx": np.full((10, 3), 10, np.int32)}, "idx"),
        ({"idx": np.full((10, 3), -1, np.int32)}, "idx"),
        ({"idx": np.zeros((10, 3))}, "idx"),
        ({"idx": np.zeros((10, 11), np.int32)}, "idx"),
        ({"n": np.ones(9)}, "n"),
        ({"m": np.full(10, np.nan)}, "m"),
        ({"m": np.ones((10, 1))}, "m"),
        ({"scale": np.inf}, "scale"),
        ({"n_threads": 0}, "n_threads"),
        ({"dtype": "int32"}, "dtype"),
        ({"dtype": "not a type"}, "dtype"),
        ({"segment_bytes": 0}, "segment_bytes"),
    ],
)
def test_constructor_rejects_bad_input(kwargs: dict, match: str) -> None:
    m, n, idx = _mn()
    args = {"m": m, "n": n, "idx": idx, **kwargs}
    scale = args.pop("scale", 1.0)
    threads = args.pop("n_threads", None)
    dtype = args.pop("dtype", "float64")
    seg = args.pop("segment_bytes", None)
    with pytest.raises(ValueError, match=match):
        FixedDegreeRankOne(args["m"], args["n"], args["idx"], scale=scale, n_threads=threads,
                           dtype=dtype, segment_bytes=seg)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0, 1, 1.0, 0.5), {}, "n_neurons"),
        ((10, 0, 1.0, 0.5), {}, "c"),
        ((10, 11, 1.0, 0.5), {}, "c"),
        ((10, 3, 1.0, 1.5), {}, "sigma_mn"),
        ((10, 3, -1.0, 0.0), {}, "sigma2"),
        ((10, 3, 1.0, np.nan), {}, "sigma_mn"),
        ((10, 3, 1.0, 0.5), {"rng": -1}, "rng"),
        ((10, 3, 1.0, 0.5), {"n_threads": 0}, "n_threads"),
    ],
)
def test_random_rejects_bad_input(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FixedDegreeRankOne.random(*args, **kwargs)


def test_index_draw_rejects_bad_input() -> None:
    for args, match in [((0, 1), "n_neurons"), ((5, 6), "c"), ((5, 0), "c"), ((2.5, 1), "n")]:
        with pytest.raises(ValueError, match=match):
            fixed_degree_indices_parallel(*args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"which": "SR"}, "which"),
        ({"tol": 0.0}, "tol"),
        ({"ncv": 2}, "ncv"),
        ({"ncv": 10}, "ncv"),
        ({"v0": np.zeros(10)}, "v0"),
        ({"v0": np.ones(3)}, "v0"),
        ({"maxiter": 0}, "maxiter"),
    ],
)
def test_outlier_rejects_bad_input(kwargs: dict, match: str) -> None:
    m, n, idx = _mn()
    with pytest.raises(ValueError, match=match):
        FixedDegreeRankOne(m, n, idx).outlier(**kwargs)


def test_products_reject_wrong_shape() -> None:
    m, n, idx = _mn()
    P = FixedDegreeRankOne(m, n, idx)
    for f, v in itertools.product((P.matvec, P.rmatvec), (np.ones(9), np.ones((10, 2)))):
        with pytest.raises(ValueError, match="v"):
            f(v)


def test_fixed_degree_network_is_accepted_where_a_network_is():
    """measure_spectrum, outliers and simulate take a FixedDegreeRankOne and give what its
    LowRankRNN form (same matrix through a CSR mask) gives; the dense matrices agree exactly."""
    from lowrank_rnn.simulate import simulate
    from lowrank_rnn.theory.spectrum import measure_spectrum, outliers

    p = large.FixedDegreeRankOne.random(400, c=40, sigma2=0.09, sigma_mn=0.02, rng=3)
    net = p.to_network()
    np.testing.assert_array_equal(net.to_dense(), p.to_csr().toarray())
    dense = measure_spectrum(p, method="dense")
    ref = measure_spectrum(net, method="dense")
    np.testing.assert_allclose(dense.eigenvalues, ref.eigenvalues, atol=1e-10)
    # ARPACK on the gather products finds the dense outlier
    assert abs(outliers(p, rng=0)[0] - ref.eigenvalues[0]) < 1e-8
    assert abs(measure_spectrum(p, method="arpack", rng=0).outlier - ref.outlier) < 1e-8
    x0 = np.random.default_rng(1).standard_normal((2, 400))
    a = simulate(p, x0=x0, dt=0.1, n_steps=20)
    b = simulate(net, x0=x0, dt=0.1, n_steps=20)
    np.testing.assert_allclose(a.x, b.x, atol=1e-12)
