"""Sweep point functions of Herbert & Ostojic 2022, Figs 1–3 (one spectrum per call).

Each takes the grid parameters and a ``seed`` and returns a dict of scalars, the form
:func:`lowrank_rnn.sweep.run_sweep` gathers into an :class:`xarray.Dataset`. They are module-level
functions so that Dask workers can import them; ``lowrank-rnn sweep`` knows them by the names
``gaussian_radius`` and ``rank_one_spectrum``.

Each carries a ``check_point`` validator (the parameters without the seed; see
:data:`lowrank_rnn.sweep.CHECK_ATTR`), which :func:`lowrank_rnn.sweep.run_sweep` calls on every
grid point before the first point runs, so a bad value is reported before any work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ARPACK_DENSITY", "gaussian_radius_point", "rank_one_spectrum_point"]

#: With ``method='auto'`` the point functions use ARPACK (CSR products) instead of the dense
#: eigenvalue problem where at most this fraction of the entries is non-zero. ARPACK's cost grows
#: with the non-zeros times its iterations, dense ``geev`` with N^3: single-threaded at N = 1000
#: the two break even near a density of 0.5, and at density 0.1 ARPACK is 5-10 times faster
#: (``benchmarks/bench_herbert_points.py``).
ARPACK_DENSITY = 0.4


def _density(n: int, sparsity: float, c: int) -> float:
    """Fraction of non-zero entries: ``1 - s``, ``C/N`` or 1 (dense)."""
    if c:
        return int(c) / int(n)
    return 1.0 - float(sparsity) if sparsity else 1.0


def _auto_method(method: str, n: int, density: float) -> str:
    """``'auto'`` -> ``'arpack'`` for sparse enough (or large) matrices, else ``'dense'``."""
    from lowrank_rnn.theory.spectrum import DENSE_SPECTRUM_LIMIT

    if method != "auto":
        return method
    if n > DENSE_SPECTRUM_LIMIT or (density <= ARPACK_DENSITY and n >= 100):
        return "arpack"
    return "dense"


def _largest_modulus_arpack(j: Any, seed: int, k: int = 6) -> float | None:
    """Largest eigenvalue modulus of a sparse matrix by ARPACK (``which='LM'``, ``tol=1e-6``).

    Returns None where ARPACK does not converge (the caller then falls back to dense ``geev``).
    The measured difference from the dense largest modulus is below 1e-5 relative
    (``benchmarks/bench_herbert_points.py``).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackNoConvergence, eigs

    n = j.shape[0]
    v0 = np.random.default_rng(seed).standard_normal(n)
    try:
        vals = eigs(sp.csr_array(j), k=k, which="LM", tol=1e-6, ncv=min(n - 1, 40), v0=v0,
                    return_eigenvectors=False)
    except ArpackNoConvergence:  # pragma: no cover - depends on the matrix
        return None
    return float(np.abs(vals).max())


def gaussian_radius_point(
    n_neurons: int, g: float = 1.0, sparsity: float = 0.0, c: int = 0,
    dtype: str = "float64", method: str = "auto", seed: int = 0
) -> dict[str, float]:
    """Spectral radius of a sparse full-rank Gaussian matrix (Herbert & Ostojic 2022, Fig 1C–E).

    ``J_ij ~ N(0, g^2/N)`` kept with probability ``1 - s``, or exactly ``c`` per column when
    ``c > 0`` (eq 2); theory ``R = g sqrt(p)`` (eq 6). ``method='dense'``: all eigenvalues by
    LAPACK ``geev`` in ``dtype`` (``'float32'``: half the time, see
    :func:`~lowrank_rnn.theory.spectrum.eigenvalues`); ``'arpack'``: the largest-modulus ones by
    ARPACK on the CSR matrix (falls back to dense where it does not converge); ``'auto'``:
    ARPACK where the density is at most :data:`ARPACK_DENSITY`.

    Returns
    -------
    dict with ``radius`` (largest eigenvalue modulus) and ``theory_radius``.
    """
    import scipy.sparse as sp

    from lowrank_rnn._validate import check_choice
    from lowrank_rnn.connectivity import gaussian_matrix
    from lowrank_rnn.theory.spectrum import eigenvalues, theory_gaussian_radius

    check_choice("method", method, ("auto", "dense", "arpack"))
    kw: dict[str, Any] = {"sparsity": sparsity if sparsity else None,
                          "c": int(c) if c else None}
    j = gaussian_matrix(int(n_neurons), g, rng=seed, **kw)
    n = int(n_neurons)
    radius = None
    if _auto_method(method, n, _density(n, sparsity, c)) == "arpack" and n > 7:
        radius = _largest_modulus_arpack(j, seed)
    if radius is None:
        radius = float(np.abs(eigenvalues(j.toarray() if sp.issparse(j) else j,
                                          dtype=dtype)).max())
    return {
        "radius": radius,
        "theory_radius": float(theory_gaussian_radius(g, n_neurons=int(n_neurons), **kw)),
    }


def _check_gaussian(n_neurons: int, g: float = 1.0, sparsity: float = 0.0,
                    c: int = 0, **others: Any) -> None:
    """Raise ValueError for parameters :func:`gaussian_radius_point` would refuse (the
    spectrum parameters; ``others``, e.g. ``dtype``, are checked by the point itself)."""
    from lowrank_rnn._validate import check_int
    from lowrank_rnn.theory.spectrum import theory_gaussian_radius

    n = check_int("n_neurons", n_neurons, minimum=1)
    kw = {"sparsity": sparsity if sparsity else None,
          "c": check_int("c", c, minimum=0) if c else None}
    theory_gaussian_radius(g, n_neurons=n, **kw)


gaussian_radius_point.check_point = _check_gaussian  # type: ignore[attr-defined]


def rank_one_spectrum_point(
    n_neurons: int,
    sigma2: float,
    sigma_mn: float,
    sparsity: float = 0.0,
    c: int = 0,
    rescaled: bool = False,
    g: float = 0.0,
    method: str = "auto",
    dtype: str = "float64",
    loadings: str = "iid",
    seed: int = 0,
) -> dict[str, float]:
    """Outlier and bulk radius of a sparse rank-one network and theory (Herbert & Ostojic Figs 2-3).

    ``J = X ⊙ m n^T / N`` (eq 7–11) or ``X ⊙ m n^T`` (``rescaled``, eq 12–14), plus ``g`` chi.
    ``sparsity=0`` and ``c=0`` mean "not sparsified" (``c > 0`` keeps C entries per column).
    ``loadings``: ``'iid'`` (eq 17-18 with i.i.d. draws) or ``'gram_schmidt'`` (the authors'
    code: Gram–Schmidt without normalisation, :func:`~lowrank_rnn.connectivity.rank_one_loadings`).
    ``dtype``: precision of the dense eigenvalue problem. ``method``: as in
    :func:`~lowrank_rnn.theory.spectrum.measure_spectrum`, except that ``'auto'`` also picks
    ARPACK where the density is at most :data:`ARPACK_DENSITY`.

    Returns
    -------
    dict with ``outlier`` (largest real part), ``bulk_radius`` (largest modulus once the
    outlier is removed), ``bulk_radius_real_part`` (the authors' rule: mean modulus of the 2nd
    and 3rd eigenvalues by real part), ``max_modulus`` (largest modulus of all: the bulk radius
    when the outlier lies inside the bulk), ``theory_outlier``, ``theory_bulk_radius``.
    """
    from lowrank_rnn._validate import check_choice

    check_choice("loadings", loadings, ("iid", "gram_schmidt"))
    from lowrank_rnn.connectivity import rank_one_network
    from lowrank_rnn.theory.spectrum import (
        measure_spectrum,
        theory_bulk_radius,
        theory_gaussian_radius,
        theory_outlier,
        theory_total_radius,
    )

    kw: dict[str, Any] = {
        "sparsity": sparsity if sparsity else None,
        "c": int(c) if c else None,
    }
    net = rank_one_network(int(n_neurons), sigma2, sigma_mn, rescaled=bool(rescaled), g=g,
                           gram_schmidt=loadings == "gram_schmidt", rng=seed, **kw)
    res = measure_spectrum(
        net, method=_auto_method(method, int(n_neurons), _density(n_neurons, sparsity, c)),
        dtype=dtype, rng=seed)
    th_bulk = theory_total_radius(
        theory_bulk_radius(sigma2, n_neurons=n_neurons, rescaled=rescaled, **kw),
        theory_gaussian_radius(g, n_neurons=n_neurons, **kw),
    )
    return {
        "outlier": res.outlier,
        "bulk_radius": res.bulk_radius,
        "bulk_radius_real_part": res.bulk_radius_real_part,
        "max_modulus": float(np.abs(res.eigenvalues).max()),
        "theory_outlier": float(theory_outlier(sigma_mn, n_neurons=n_neurons,
                                               rescaled=rescaled, **kw)),
        "theory_bulk_radius": float(th_bulk),
    }




def _check_rank_one(n_neurons: int, sigma2: float, sigma_mn: float, sparsity: float = 0.0,
                    c: int = 0, rescaled: bool = False, g: float = 0.0,
                    method: str = "auto", **others: Any) -> None:
    """Raise ValueError for parameters :func:`rank_one_spectrum_point` would refuse (the
    spectrum parameters; ``others``, e.g. ``dtype`` or ``loadings``, are checked by the point
    itself)."""
    from lowrank_rnn._validate import check_choice, check_int, check_real
    from lowrank_rnn.theory.spectrum import (
        theory_bulk_radius,
        theory_gaussian_radius,
        theory_outlier,
    )

    n = check_int("n_neurons", n_neurons, minimum=1)
    if not isinstance(rescaled, bool):
        raise ValueError(f"rescaled={rescaled!r}: expected true or false")
    kw = {"sparsity": sparsity if sparsity else None,
          "c": check_int("c", c, minimum=0) if c else None}
    s2 = check_real("sigma2", sigma2, minimum=0.0)
    smn = check_real("sigma_mn", sigma_mn)
    if abs(smn) > s2:
        raise ValueError(f"sigma_mn={smn}: need |sigma_mn| <= sigma2 = {s2} (a covariance)")
    if rescaled and kw["sparsity"] is None and kw["c"] is None:
        raise ValueError("rescaled=True: needs sparsity or c (eq 12 is the sparse rescaled form)")
    check_choice("method", method, ("auto", "dense", "arpack"))
    theory_outlier(smn, n_neurons=n, rescaled=rescaled, **kw)
    theory_bulk_radius(s2, n_neurons=n, rescaled=rescaled, **kw)
    theory_gaussian_radius(g, n_neurons=n, **kw)


rank_one_spectrum_point.check_point = _check_rank_one  # type: ignore[attr-defined]
