"""Active learning of a vector field with the infinite-basis Gaussian process.

Arora & Pillow 2025 (NeurIPS): choose the states to train on where they are most
informative. With a GP (:class:`~lowrank_rnn.fit.gp.GPODE`) the posterior covariance does not
depend on the target values, so the next query is the candidate of largest posterior variance
(uncertainty sampling, MacKay 1992 "Information-based objective functions for active data
selection"); a batch is chosen greedily, each pick conditioning the covariance of the rest:

    C <- C - C[:, j] C[j, :] / (C[j, j] + noise^2).

:func:`active_learning` alternates querying ``g`` at the chosen points and refitting the GP
(with ML-II every ``retune_every`` rounds), against random selection from the same pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg as sla

from lowrank_rnn._validate import RngLike, as_rng, check_array, check_choice, check_int
from lowrank_rnn.fit.gp import GPODE, kernel_matrix

__all__ = ["select_points", "active_learning"]


def select_points(
    gp: GPODE, candidates: np.ndarray, n_select: int, *, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Greedy maximum-posterior-variance selection of ``n_select`` candidates.

    Parameters
    ----------
    gp : GPODE
        A fitted GP (its hyper-parameters and training points define the posterior).
    candidates : ndarray, shape (m, rank)
    n_select : int
    exclude : ndarray of int, optional
        Candidate indices that may not be chosen (e.g. already in the training set).

    Returns
    -------
    ndarray of int, shape (n_select,)
        Indices into ``candidates``, in the order chosen.
    """
    gp._check_fitted()
    Xc = check_array("candidates", candidates, ndim=2).astype(float)
    if Xc.shape[1] != gp.Z_.shape[1]:
        raise ValueError(f"candidates: expected {gp.Z_.shape[1]} columns, got {Xc.shape}")
    avail = np.ones(Xc.shape[0], dtype=bool)
    if exclude is not None:
        avail[np.asarray(exclude, dtype=int)] = False
    n_select = check_int("n_select", n_select, minimum=1, maximum=int(avail.sum()))
    p = gp.params_
    a2 = p["amplitude"] ** 2
    kw = {"kernel": gp.kernel, "m_std": p["m_std"], "i_std": p["i_std"]}
    Kcx = a2 * kernel_matrix(Xc, gp.Z_, **kw)
    V = sla.solve_triangular(gp._L, Kcx.T, lower=True, check_finite=False)
    C = a2 * kernel_matrix(Xc, **kw) - V.T @ V
    noise2 = p["noise"] ** 2
    chosen = []
    for _ in range(n_select):
        var = np.where(avail, np.diag(C), -np.inf)
        j = int(np.argmax(var))
        chosen.append(j)
        avail[j] = False
        cj = C[:, j].copy()
        C -= np.outer(cj, cj) / (cj[j] + noise2)
    return np.array(chosen, dtype=int)


def active_learning(
    g: Callable[[np.ndarray], np.ndarray],
    candidates: np.ndarray,
    test_points: np.ndarray,
    *,
    n_init: int = 5,
    n_total: int = 60,
    batch: int = 5,
    strategy: str = "variance",
    gp_params: dict[str, Any] | None = None,
    retune_every: int = 1,
    rng: RngLike = None,
) -> dict[str, Any]:
    """Learn ``g`` from a pool of candidate states, choosing points actively or at random.

    Parameters
    ----------
    g : callable
        ``g(Z) -> (n, rank)``: queried only at chosen points.
    candidates : ndarray, shape (m, rank)
        Pool of states that may be queried.
    test_points : ndarray, shape (n_test, rank)
        Where the error of the GP mean is measured.
    n_init : int
        Random initial points (the same for both strategies with the same ``rng``).
    n_total : int
        Budget of points.
    batch : int
        Points added per round.
    strategy : {'variance', 'random'}
    gp_params : dict, optional
        Keyword arguments of :class:`GPODE` (``rank`` is taken from the candidates).
    retune_every : int
        Run ML-II every this many rounds (0: never; hyper-parameters stay at their defaults).
    rng : Generator, int or None

    Returns
    -------
    dict
        ``n_points`` (rounds,), ``rel_rmse`` (rounds,): RMS error of the GP mean over the test
        points divided by the RMS of g there; ``selected`` (indices, in order); ``gp`` (last).
    """
    Xc = check_array("candidates", candidates, ndim=2).astype(float)
    Xt = check_array("test_points", test_points, ndim=2).astype(float)
    if Xt.shape[1] != Xc.shape[1]:
        raise ValueError(f"test_points: expected {Xc.shape[1]} columns, got {Xt.shape}")
    n_total = check_int("n_total", n_total, minimum=2, maximum=Xc.shape[0])
    n_init = check_int("n_init", n_init, minimum=1, maximum=n_total)
    batch = check_int("batch", batch, minimum=1)
    check_choice("strategy", strategy, ("variance", "random"))
    retune_every = check_int("retune_every", retune_every, minimum=0)
    if not callable(g):
        raise ValueError(f"g={g!r}: expected a callable g(Z) returning (n_points, rank)")
    rng = as_rng(rng)
    kw = dict(gp_params or {})
    kw.pop("rank", None)
    kw.pop("tune", None)
    Gt = np.asarray(g(Xt), dtype=float).reshape(Xt.shape)
    scale = float(np.sqrt(np.mean(Gt**2)))
    chosen = list(rng.choice(Xc.shape[0], n_init, replace=False))
    values = np.asarray(g(Xc[chosen]), dtype=float).reshape(len(chosen), -1)
    n_pts, errs = [], []
    tuned: dict[str, float] | None = None
    rnd = 0
    while True:
        retune = retune_every > 0 and rnd % retune_every == 0
        params = dict(kw)
        if tuned is not None and not retune:
            params.update(tuned)
        gp = GPODE(Xc.shape[1], tune=retune, **params).fit(targets=values, points=Xc[chosen])
        if retune:
            tuned = {k: gp.params_[k] for k in ("m_std", "amplitude", "noise")}
            if gp.inputs == "bias":
                tuned["i_std"] = gp.params_["i_std"]
        err = float(np.sqrt(np.mean((gp.predict(Xt) - Gt) ** 2))) / scale
        n_pts.append(len(chosen))
        errs.append(err)
        if len(chosen) >= n_total:
            break
        k = min(batch, n_total - len(chosen))
        if strategy == "variance":
            new = list(select_points(gp, Xc, k, exclude=np.array(chosen)))
        else:
            rest = np.setdiff1d(np.arange(Xc.shape[0]), chosen)
            new = list(rng.choice(rest, k, replace=False))
        chosen += new
        values = np.vstack([values, np.asarray(g(Xc[new]), dtype=float).reshape(k, -1)])
        rnd += 1
    return {"n_points": np.array(n_pts), "rel_rmse": np.array(errs),
            "selected": np.array(chosen, dtype=int), "gp": gp}
