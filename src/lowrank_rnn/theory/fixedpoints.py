"""Fixed points and their stability, in latent space (mean field) and in the full network.

Latent space (Beiran et al. 2021): fixed points of ``dkappa/dt = F(kappa, v)``
(:func:`lowrank_rnn.theory.meanfield.latent_vector_field`) are found from many starting points in a
box (a batched damped Newton iteration with the analytic Jacobian, then polishing with
``scipy.optimize.root``), de-duplicated, and classified by the eigenvalues of the latent
Jacobian (stable/unstable node, focus, saddle, marginal).

A user's finite network (pure low rank, inputs held at ``u``) has the same latent description
exactly: started in ``span(M) + I u`` the state stays there, ``x = M kappa + I u``, and

    tau dkappa/dt = -kappa + s N^T phi(M kappa + I u)         (s = scale, 1/N for J = M N^T / N)

with Jacobian ``(-1 + s N^T D M) / tau``, ``D = diag(phi'(x))`` (:func:`network_latent_field`,
:func:`network_latent_jacobian`). :func:`find_latent_fixed_points` accepts such a network in
place of a mixture; :func:`find_slow_points` minimises the speed ``q = |F|^2 / 2`` (Sussillo &
Barak 2013) for either. Off the latent subspace the network only relaxes (rate ``-1/tau``), so
its slow points and fixed points all lie in it.

Full network: Newton's method on ``f(x) = -x + J phi(x) + I u``. For a pure low-rank network
``J = s M N^T`` the Newton system ``(-1 + J D) dx = -f`` is solved in O(N R^2) with the Woodbury
identity; otherwise a dense solve. The Jacobian ``-1 + J D`` (``D = diag(phi'(x*))``) of a pure
low-rank network has N - R eigenvalues equal to -1 and R non-trivial eigenvalues
``-1 + eig(s N^T D M)`` (the R x R *reduced matrix*), which is the low-rank shortcut used here.
All eigenvalues are rates in units of ``1/tau``: ``(-1 + lambda) / tau``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize, root

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_int,
    check_real,
)
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.theory.meanfield import (
    DEFAULT_N_QUAD,
    GaussianMixture,
    latent_jacobian,
    latent_vector_field,
)
from lowrank_rnn.transfer import get_phi

__all__ = [
    "LatentFixedPoint",
    "NetworkFixedPoint",
    "SlowPoint",
    "classify",
    "find_latent_fixed_points",
    "find_slow_points",
    "network_latent_field",
    "network_latent_jacobian",
    "network_flow_field",
    "network_fixed_point",
    "reduced_matrix",
    "network_jacobian_eigenvalues",
]


# =========================================================================== classification
def classify(eigenvalues: Any, *, tol: float = 1e-9) -> str:
    """Name a fixed point from the eigenvalues of its Jacobian.

    Returns one of ``'stable node'``, ``'stable focus'``, ``'unstable node'``,
    ``'unstable focus'``, ``'saddle'``, ``'marginal'`` (a real part within ``tol`` of 0).
    In one dimension: ``'stable'``, ``'unstable'`` or ``'marginal'``.
    """
    ev = np.atleast_1d(np.asarray(eigenvalues, dtype=complex))
    tol = check_real("tol", tol, minimum=0.0)
    re = ev.real
    if np.any(np.abs(re) <= tol):
        return "marginal"
    complex_pair = bool(np.any(np.abs(ev.imag) > tol))
    if ev.size == 1:
        return "stable" if re[0] < 0 else "unstable"
    if np.all(re < 0):
        return "stable focus" if complex_pair else "stable node"
    if np.all(re > 0):
        return "unstable focus" if complex_pair else "unstable node"
    return "saddle"


# =========================================================================== latent space
@dataclass(frozen=True)
class LatentFixedPoint:
    """A fixed point of the mean-field latent dynamics.

    Attributes
    ----------
    kappa : ndarray, shape (R,)
    jacobian : ndarray, shape (R, R)
        ``dF/dkappa`` at the fixed point (units 1/tau).
    eigenvalues : ndarray, shape (R,)
        Sorted by decreasing real part.
    kind : str
        See :func:`classify`.
    stable : bool
        All real parts < 0.
    residual : float
        ``max |F(kappa)|``.
    """

    kappa: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    kind: str
    stable: bool
    residual: float


# =========================================================================== finite networks
_NET_CHUNK = 1 << 22  # points * neurons evaluated at once


def _check_lowrank(net: Any, name: str = "net") -> LowRankRNN:
    if not isinstance(net, LowRankRNN):
        raise ValueError(f"{name}: expected a LowRankRNN, got {type(net).__name__}")
    if net.structure != "lowrank":
        raise ValueError(
            f"{name}: the latent description needs a pure low-rank network (J = s M N^T); got "
            f"structure {net.structure!r}, whose activity leaves span(M, I)"
        )
    return net


def _net_points(net: LowRankRNN, kappa: Any, u: Any) -> tuple[np.ndarray, np.ndarray, tuple]:
    R = net.rank
    k = check_array("kappa", np.asarray(kappa, dtype=float))
    if k.ndim == 0 or k.shape[-1] != R:
        raise ValueError(f"kappa: expected shape (..., {R}) (rank R = {R}), got {k.shape}")
    drive = np.zeros(net.n_neurons)
    if u is not None:
        u = check_array("u", np.atleast_1d(np.asarray(u, dtype=float)), shape=(net.d_in,))
        if net.d_in:
            drive = net.I @ u
    return k.reshape(-1, R), drive, k.shape[:-1]


def network_latent_field(net: LowRankRNN, kappa: Any, u: Any = None) -> np.ndarray:
    """``dkappa/dt = (-kappa + s N^T phi(M kappa + I u)) / tau`` of a finite network.

    Computed from the network's own loadings (no mean-field approximation): the exact velocity
    of the latent coordinates of a state ``x = M kappa + I u`` under a constant input ``u``.

    Parameters
    ----------
    net : LowRankRNN
        Pure low rank (no mask, no random part).
    kappa : array_like, shape (..., R)
    u : array_like, shape (d_in,), optional
        Constant input (zero by default).

    Returns
    -------
    ndarray, shape (..., R)
    """
    net = _check_lowrank(net)
    k, drive, lead = _net_points(net, kappa, u)
    phi = get_phi(net.phi)[0]
    out = np.empty_like(k)
    step = max(1, _NET_CHUNK // net.n_neurons)
    for a in range(0, k.shape[0], step):
        x = k[a : a + step] @ net.M.T + drive
        out[a : a + step] = net.scale * (phi(x) @ net.N)
    return ((out - k) / net.tau).reshape(lead + (net.rank,))


def network_latent_jacobian(net: LowRankRNN, kappa: Any, u: Any = None) -> np.ndarray:
    """Jacobian ``(-1 + s N^T diag(phi'(M kappa + I u)) M) / tau`` of :func:`network_latent_field`.

    Its eigenvalues are the R non-trivial eigenvalues of the full network's Jacobian at
    ``x = M kappa + I u`` (the other N - R are ``-1/tau``).

    Parameters
    ----------
    net : LowRankRNN
    kappa : array_like, shape (..., R)
    u : array_like, shape (d_in,), optional

    Returns
    -------
    ndarray, shape (..., R, R)
    """
    net = _check_lowrank(net)
    k, drive, lead = _net_points(net, kappa, u)
    dphi = get_phi(net.phi)[1]
    R = net.rank
    out = np.empty((k.shape[0], R, R))
    step = max(1, _NET_CHUNK // (net.n_neurons * R))
    for a in range(0, k.shape[0], step):
        d = dphi(k[a : a + step] @ net.M.T + drive)  # (b, N)
        out[a : a + step] = net.scale * np.einsum("bi,ir,is->brs", d, net.N, net.M)
    jac = (out - np.eye(R)) / net.tau
    return jac.reshape(lead + (R, R))


def network_flow_field(
    net: LowRankRNN,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-2.0, 2.0),
    *,
    n: int = 50,
    u: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The finite network's latent vector field on an ``n x n`` grid (rank 2).

    Same layout as :func:`lowrank_rnn.theory.meanfield.flow_field`, so the two can be drawn side
    by side (:func:`lowrank_rnn.plotting.flow.plot_flow_field`).

    Returns
    -------
    k1 : ndarray, shape (n,)
    k2 : ndarray, shape (n,)
    F : ndarray, shape (n, n, 2)
        ``F[i, j] = dkappa/dt at (k1[j], k2[i])``.
    """
    net = _check_lowrank(net)
    if net.rank != 2:
        raise ValueError(f"net: network_flow_field needs rank 2, got rank {net.rank}")
    n = check_int("n", n, minimum=2)
    lims = []
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        lim = check_array(name, np.asarray(lim, dtype=float), shape=(2,))
        if not lim[1] > lim[0]:
            raise ValueError(f"{name}={lim.tolist()}: expected (low, high) with low < high")
        lims.append(np.linspace(lim[0], lim[1], n))
    K1, K2 = np.meshgrid(*lims)
    return lims[0], lims[1], network_latent_field(net, np.stack([K1, K2], axis=-1), u)


def _system(system: Any, v: Any, n_quad: int) -> tuple[int, Any, Any]:
    """Rank, field and Jacobian callables of a mixture's mean field or a finite network."""
    if isinstance(system, GaussianMixture):
        if v is not None:
            v = check_array("v", np.atleast_1d(np.asarray(v, dtype=float)),
                            shape=(system.d_in,))
        return (system.rank,
                lambda k: latent_vector_field(system, k, v, n_quad=n_quad),
                lambda k: latent_jacobian(system, k, v, n_quad=n_quad))
    if isinstance(system, LowRankRNN):
        _check_lowrank(system, "mix")
        if v is not None:
            v = check_array("v", np.atleast_1d(np.asarray(v, dtype=float)),
                            shape=(system.d_in,))
        return (system.rank, lambda k: network_latent_field(system, k, v),
                lambda k: network_latent_jacobian(system, k, v))
    raise ValueError(
        "mix: expected a GaussianMixture or a pure low-rank LowRankRNN, got "
        f"{type(system).__name__}"
    )


def _box(box: Any, rank: int) -> np.ndarray:
    b = check_array("box", np.asarray(box, dtype=float))
    if b.shape == (2,):
        b = np.tile(b, (rank, 1))
    if b.shape != (rank, 2) or np.any(b[:, 1] <= b[:, 0]):
        raise ValueError(
            f"box: expected (low, high) or shape ({rank}, 2) rows (low, high) with low < high, "
            f"got {np.asarray(box).tolist()}"
        )
    return b


def find_latent_fixed_points(
    mix: GaussianMixture | LowRankRNN,
    box: Any = (-3.0, 3.0),
    v: Any = None,
    *,
    n_starts: int = 200,
    tol: float = 1e-10,
    dedupe: float = 1e-5,
    max_iter: int = 60,
    n_quad: int = DEFAULT_N_QUAD,
    rng: RngLike = None,
) -> list[LatentFixedPoint]:
    """All fixed points of the mean-field dynamics (or of a finite network's latent dynamics)
    found inside a box.

    Starting points: the box corners and centre plus ``n_starts`` uniform random points. Each is
    run through a batched damped Newton iteration (step length at most a tenth of the box),
    then converged candidates are polished with ``scipy.optimize.root`` (hybr, analytic
    Jacobian), kept if ``max |F| < tol`` and inside the box (with 1% slack) and
    de-duplicated (points closer than ``dedupe`` times the box size are one).

    Parameters
    ----------
    mix : GaussianMixture or LowRankRNN
        A mixture (its mean field) or a pure low-rank network (:func:`network_latent_field`;
        the eigenvalues are then the non-trivial ones of the full Jacobian at ``M kappa + I v``).
    box : (low, high) or array_like, shape (R, 2)
    v : array_like, shape (K,), optional
        Constant inputs (for a network: its input ``u``).
    n_starts : int
    tol : float
        Residual threshold ``max |F|``.
    dedupe : float
        Relative distance under which two fixed points are merged.
    max_iter : int
        Newton iterations of the batched phase.
    rng : Generator, int or None

    Returns
    -------
    list of LatentFixedPoint
        Sorted by kappa_1, then kappa_2, ...
    """
    R, field_fn, jac_fn = _system(mix, v, n_quad)
    b = _box(box, R)
    n_starts = check_int("n_starts", n_starts, minimum=1)
    tol = check_real("tol", tol, minimum=0.0, min_inclusive=False)
    dedupe = check_real("dedupe", dedupe, minimum=0.0)
    max_iter = check_int("max_iter", max_iter, minimum=0)
    rng = as_rng(rng)
    lo, hi = b[:, 0], b[:, 1]
    width = hi - lo
    corners = np.array(np.meshgrid(*b, indexing="ij")).reshape(R, -1).T if R <= 6 else lo[None]
    starts = np.vstack([corners, (lo + hi)[None] / 2, lo + width * rng.random((n_starts, R))])
    k = starts.copy()
    max_step = 0.1 * width
    for _ in range(max_iter):
        F = field_fn(k)
        if np.max(np.abs(F)) < 0.1 * tol:
            break
        Jac = jac_fn(k)
        try:
            step = -np.linalg.solve(Jac, F[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(Jac.reshape(-1, R), F.reshape(-1), rcond=None)[0]
            step = np.broadcast_to(step, k.shape)
        step = np.where(np.isfinite(step), step, 0.0)
        scale = np.max(np.abs(step) / max_step, axis=1, keepdims=True)
        k = k + step / np.maximum(scale, 1.0)
        k = np.clip(k, lo - 0.5 * width, hi + 0.5 * width)
    found: list[np.ndarray] = []

    def fun(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return field_fn(y), jac_fn(y)

    res0 = np.max(np.abs(field_fn(k)), axis=1)
    order = np.argsort(res0)
    slack = 0.01 * width
    for i in order:
        if res0[i] > 1e-3:
            continue
        if any(np.max(np.abs(k[i] - f) / width) < dedupe for f in found):
            continue
        if res0[i] < 0.1 * tol:
            y = k[i]
        else:
            y = root(fun, k[i], jac=True, method="hybr", options={"xtol": 1e-13}).x
        if not np.all(np.isfinite(y)):
            continue
        if np.max(np.abs(fun(y)[0])) >= tol:
            continue
        if np.any(y < lo - slack) or np.any(y > hi + slack):
            continue
        if any(np.max(np.abs(y - f) / width) < dedupe for f in found):
            continue
        found.append(y)
    found.sort(key=lambda y: tuple(np.round(y, 8)))
    out = []
    for y in found:
        jac = jac_fn(y)
        ev = np.linalg.eigvals(jac)
        ev = ev[np.argsort(-ev.real, kind="stable")]
        out.append(LatentFixedPoint(
            kappa=y, jacobian=jac, eigenvalues=ev, kind=classify(ev),
            stable=bool(np.all(ev.real < 0)),
            residual=float(np.max(np.abs(field_fn(y)))),
        ))
    return out


# =========================================================================== slow points
@dataclass(frozen=True)
class SlowPoint:
    """A local minimum of the speed ``q = |dkappa/dt|^2 / 2`` (Sussillo & Barak 2013).

    Attributes
    ----------
    kappa : ndarray, shape (R,)
    speed : float
        ``|dkappa/dt|`` there (0 up to ``fixed_tol`` for a fixed point).
    fixed : bool
        ``speed < fixed_tol``: a fixed point rather than a slow point (a "ghost").
    jacobian : ndarray, shape (R, R)
    eigenvalues : ndarray, shape (R,)
        Of the Jacobian, sorted by decreasing real part.
    kind : str
        :func:`classify` of the eigenvalues (for a slow point: of the linearised flow there).
    """

    kappa: np.ndarray
    speed: float
    fixed: bool
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    kind: str


def find_slow_points(
    system: GaussianMixture | LowRankRNN,
    box: Any = (-3.0, 3.0),
    v: Any = None,
    *,
    n_starts: int = 100,
    max_speed: float = 0.05,
    fixed_tol: float = 1e-6,
    dedupe: float = 1e-3,
    n_quad: int = DEFAULT_N_QUAD,
    rng: RngLike = None,
) -> list[SlowPoint]:
    """Fixed and slow points: local minima of ``q(kappa) = |F(kappa)|^2 / 2`` in a box.

    Sussillo & Barak (2013): from many starting points (box corners, centre and ``n_starts``
    uniform points), ``q`` is minimised by L-BFGS-B with the exact gradient ``J^T F``; minima
    with speed ``|F| <= max_speed`` inside the box are kept and de-duplicated. Those with speed
    below ``fixed_tol`` are fixed points; the others are slow points, where trajectories linger
    (e.g. the ghost of a saddle-node).

    Parameters
    ----------
    system : GaussianMixture or LowRankRNN
        A mixture's mean field or a finite pure low-rank network (:func:`network_latent_field`).
    box : (low, high) or array_like, shape (R, 2)
    v : array_like, shape (K,), optional
        Constant inputs.
    n_starts : int
    max_speed : float
        Largest speed ``|F|`` of a kept minimum (units of kappa / tau).
    fixed_tol : float
    dedupe : float
        Relative distance (to the box size) under which two minima are one.
    rng : Generator, int or None

    Returns
    -------
    list of SlowPoint
        Sorted by speed.
    """
    R, field_fn, jac_fn = _system(system, v, n_quad)
    b = _box(box, R)
    n_starts = check_int("n_starts", n_starts, minimum=1)
    max_speed = check_real("max_speed", max_speed, minimum=0.0, min_inclusive=False)
    fixed_tol = check_real("fixed_tol", fixed_tol, minimum=0.0, min_inclusive=False)
    dedupe = check_real("dedupe", dedupe, minimum=0.0)
    rng = as_rng(rng)
    lo, hi = b[:, 0], b[:, 1]
    width = hi - lo
    corners = np.array(np.meshgrid(*b, indexing="ij")).reshape(R, -1).T if R <= 6 else lo[None]
    starts = np.vstack([corners, (lo + hi)[None] / 2, lo + width * rng.random((n_starts, R))])

    def q(y: np.ndarray) -> tuple[float, np.ndarray]:
        F = field_fn(y)
        return 0.5 * float(F @ F), jac_fn(y).T @ F

    found: list[np.ndarray] = []
    speeds: list[float] = []
    slack = 0.01 * width
    for y0 in starts:
        res = minimize(q, y0, jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-14, "ftol": 1e-16, "maxiter": 500})
        y = res.x
        sp = float(np.linalg.norm(field_fn(y)))
        if not np.all(np.isfinite(y)) or sp > max_speed:
            continue
        if np.any(y < lo - slack) or np.any(y > hi + slack):
            continue
        if sp >= fixed_tol and sp > 0:
            try:  # polish a near-fixed point to a fixed point
                r = root(lambda z: (field_fn(z), jac_fn(z)), y, jac=True, method="hybr")
                if r.success and np.linalg.norm(field_fn(r.x)) < fixed_tol and \
                        np.linalg.norm(r.x - y) < dedupe * np.max(width) * 10:
                    y, sp = r.x, float(np.linalg.norm(field_fn(r.x)))
            except (np.linalg.LinAlgError, ValueError):
                pass
        dup = [i for i, f in enumerate(found) if np.max(np.abs(y - f) / width) < dedupe]
        if dup:
            i = dup[0]
            if sp < speeds[i]:
                found[i], speeds[i] = y, sp
            continue
        found.append(y)
        speeds.append(sp)
    out = []
    for i in np.argsort(speeds, kind="stable"):
        y = found[i]
        jac = jac_fn(y)
        ev = np.linalg.eigvals(jac)
        ev = ev[np.argsort(-ev.real, kind="stable")]
        out.append(SlowPoint(kappa=y, speed=speeds[i], fixed=speeds[i] < fixed_tol,
                             jacobian=jac, eigenvalues=ev, kind=classify(ev)))
    return out


# =========================================================================== full network
@dataclass(frozen=True)
class NetworkFixedPoint:
    """A fixed point of the full network found by Newton's method.

    Attributes
    ----------
    x : ndarray, shape (N,)
    residual : float
        ``max |-x + J phi(x) + I u|``.
    converged : bool
    n_iter : int
    kappa : ndarray, shape (R,)
        Least-squares coordinates of x on the columns of M (and I, which are dropped).
    eigenvalues : ndarray
        Non-trivial eigenvalues (R of them, low-rank shortcut) or all N (dense), in 1/tau,
        sorted by decreasing real part.
    reduced : ndarray, shape (R, R) or None
        ``s N^T D M`` for a pure low-rank network.
    stable : bool
    """

    x: np.ndarray
    residual: float
    converged: bool
    n_iter: int
    kappa: np.ndarray
    eigenvalues: np.ndarray
    reduced: np.ndarray | None
    stable: bool


def reduced_matrix(net: LowRankRNN, x: Any) -> np.ndarray:
    """The R x R matrix ``s N^T D M`` with ``D = diag(phi'(x))`` (pure low-rank networks).

    The non-trivial eigenvalues of ``J D`` (and of ``D J``) are its eigenvalues.

    Parameters
    ----------
    net : LowRankRNN
        With ``structure == 'lowrank'``.
    x : array_like, shape (N,)

    Returns
    -------
    ndarray, shape (R, R)
    """
    if net.structure != "lowrank":
        raise ValueError(
            "net: the reduced matrix needs a pure low-rank network, "
            f"got structure {net.structure!r}"
        )
    x = check_array("x", np.asarray(x, dtype=float), shape=(net.n_neurons,))
    d = get_phi(net.phi)[1](x)
    return net.scale * (net.N.T * d) @ net.M


def network_jacobian_eigenvalues(net: LowRankRNN, x: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Eigenvalues of ``(-1 + J D) / tau`` at ``x``.

    Pure low rank: the R non-trivial ones from :func:`reduced_matrix` (the others are ``-1/tau``).
    Otherwise: all N from a dense eigen-decomposition.

    Returns
    -------
    eigenvalues : ndarray, shape (R,) or (N,)
        Sorted by decreasing real part.
    reduced : ndarray, shape (R, R) or None
    """
    if net.structure == "lowrank":
        red = reduced_matrix(net, x)
        ev = (np.linalg.eigvals(red) - 1.0) / net.tau
    else:
        red = None
        d = get_phi(net.phi)[1](np.asarray(x, dtype=float))
        A = net.to_dense() * d[None, :] - np.eye(net.n_neurons)
        ev = np.linalg.eigvals(A) / net.tau
    return ev[np.argsort(-ev.real, kind="stable")], red


def network_fixed_point(
    net: LowRankRNN,
    x0: Any,
    u: Any = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> NetworkFixedPoint:
    """Newton's method on ``f(x) = -x + J phi(x) + I u`` from ``x0``.

    The step is damped (backtracking on ``|f|``) so that it converges from the rough starts
    that the mean field provides (``x0 = M kappa* + I v``).

    Parameters
    ----------
    net : LowRankRNN
    x0 : array_like, shape (N,)
    u : array_like, shape (d_in,), optional
        Constant input.
    tol : float
        Stop when ``max |f| < tol``.
    max_iter : int

    Returns
    -------
    NetworkFixedPoint
    """
    n = net.n_neurons
    x = check_array("x0", np.asarray(x0, dtype=float), shape=(n,)).copy()
    tol = check_real("tol", tol, minimum=0.0, min_inclusive=False)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    drive = np.zeros(n)
    if u is not None:
        u = check_array("u", np.atleast_1d(np.asarray(u, dtype=float)), shape=(net.d_in,))
        if net.d_in:
            drive = net.I @ u
    phi, dphi = get_phi(net.phi)
    lowrank = net.structure == "lowrank"
    dense = None if lowrank else net.to_dense()

    def f(y: np.ndarray) -> np.ndarray:
        return -y + net.apply_connectivity(phi(y)) + drive

    fx = f(x)
    it = 0
    converged = bool(np.max(np.abs(fx)) < tol)
    while not converged and it < max_iter:
        it += 1
        d = dphi(x)
        if lowrank:  # (-I + U V^T)^{-1} = -(I + U (I_R - V^T U)^{-1} V^T), U = sM, V = D N
            U = net.scale * net.M
            V = net.N * d[:, None]
            small = np.eye(net.rank) - V.T @ U
            rhs = -fx
            dx = -(rhs + U @ np.linalg.solve(small, V.T @ rhs))
        else:
            A = dense * d[None, :] - np.eye(n)
            dx = np.linalg.solve(A, -fx)
        norm0 = np.max(np.abs(fx))
        step = 1.0
        while True:
            xn = x + step * dx
            fn = f(xn)
            if np.max(np.abs(fn)) < norm0 or step < 1e-4:
                break
            step *= 0.5
        x, fx = xn, fn
        converged = bool(np.max(np.abs(fx)) < tol)
    ev, red = network_jacobian_eigenvalues(net, x)
    basis = net.M if net.I is None else np.hstack([net.M, net.I])
    coords = np.linalg.lstsq(basis, x, rcond=None)[0][: net.rank]
    return NetworkFixedPoint(
        x=x, residual=float(np.max(np.abs(fx))), converged=converged, n_iter=it, kappa=coords,
        eigenvalues=ev, reduced=red, stable=bool(np.all(ev.real < 0)),
    )
