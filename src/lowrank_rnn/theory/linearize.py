"""Linearisation in activations versus activities (arXiv 2309.04030).

Activations ``x`` (net inputs) and activities ``r = phi(x)`` describe the same network::

    dx/dt = f(x) = -x + J phi(x) + b            (activations)
    dr/dt = g(r) = -r + phi(J r + b)            (activities; x = J r + b)

with ``b = I u`` a constant (tonic) input and time in units of tau. At a fixed point x*
(``r* = phi(x*)``) with ``D = diag(phi'(x*))`` the two Jacobians are::

    A_x = df/dx = -1 + J D,        A_r = dg/dr = -1 + D J.

``J D`` and ``D J`` have the same eigenvalues (AB and BA always do), so ``A_x`` and ``A_r`` have
equal spectra. Where D is invertible ``A_r = D A_x D^{-1}`` and the eigenvectors are related by
``v_r ∝ D v_x`` (right) and ``l_r ∝ D^{-1} l_x`` (left). When D has zeros (ReLU units that are
silent at the fixed point, or saturated units in floating point) the similarity fails; the
relations used here hold for any D and any eigenvalue ``lambda != -1``::

    v_r = D v_x,      v_x = J v_r / (1 + lambda)
    l_x = D l_r,      l_r = J^T l_x / (1 + lambda)

(from ``J D v_x = (1 + lambda) v_x`` and ``l_r^T D J = (1 + lambda) l_r^T``). A silent unit i has
``(A_r)_{i,:} = -e_i^T``: its activity relaxes at rate -1 whatever J is, and the columns of A_x
for silent units are ``-e_i``.

The context-dependent example (:func:`context_example`): a rank-one network ``J = m n^T / N``
and two tonic context inputs that each push half of the units into saturation. Then the
non-trivial right eigenvector of ``A_x`` is ``m`` in both contexts, whereas that of ``A_r`` is
``D m``, which lives on different units in each context; the left eigenvectors behave the
other way round (``l_x = D n`` changes, ``l_r = n`` does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.transfer import PHI_NAMES, get_phi

__all__ = [
    "Linearization",
    "activation_field",
    "activity_field",
    "jacobians",
    "linearize",
    "map_eigenvectors",
    "relation_residuals",
    "ContextExample",
    "context_example",
]


def _dense(net_or_J: Any, phi: str | None) -> tuple[np.ndarray, str]:
    if isinstance(net_or_J, LowRankRNN):
        if phi is not None and phi != net_or_J.phi:
            raise ValueError(f"phi={phi!r}: differs from the network's phi={net_or_J.phi!r}")
        return net_or_J.to_dense(), net_or_J.phi
    J = check_array("J", np.asarray(net_or_J, dtype=float), ndim=2)
    if J.shape[0] != J.shape[1]:
        raise ValueError(f"J: expected a square matrix, got shape {J.shape}")
    phi = "tanh" if phi is None else phi
    check_choice("phi", phi, PHI_NAMES)
    return J, phi


def _vec(name: str, value: Any, n: int) -> np.ndarray:
    return check_array(name, np.asarray(value, dtype=float), shape=(n,))


def activation_field(J: np.ndarray, x: Any, b: Any = None, *, phi: str = "tanh") -> np.ndarray:
    """``f(x) = -x + J phi(x) + b`` (activations); ``x`` of shape (N,) or (batch, N)."""
    J, phi = _dense(J, phi)
    x = np.asarray(x, dtype=float)
    b = 0.0 if b is None else np.asarray(b, dtype=float)
    return -x + get_phi(phi)[0](x) @ J.T + b


def activity_field(J: np.ndarray, r: Any, b: Any = None, *, phi: str = "tanh") -> np.ndarray:
    """``g(r) = -r + phi(J r + b)`` (activities); ``r`` of shape (N,) or (batch, N)."""
    J, phi = _dense(J, phi)
    r = np.asarray(r, dtype=float)
    b = 0.0 if b is None else np.asarray(b, dtype=float)
    return -r + get_phi(phi)[0](r @ J.T + b)


def jacobians(net_or_J: Any, x_star: Any, *, phi: str | None = None) -> tuple[np.ndarray, ...]:
    """``A_x = -1 + J D`` and ``A_r = -1 + D J`` with ``D = diag(phi'(x*))`` (2309.04030).

    Parameters
    ----------
    net_or_J : LowRankRNN or ndarray, shape (N, N)
    x_star : array_like, shape (N,)
        The point of linearisation (a fixed point for the relations to mean dynamics).
    phi : {'tanh', 'relu', 'linear'}, optional
        Needed with a matrix (default 'tanh'); taken from the network otherwise.

    Returns
    -------
    A_x, A_r : ndarray, shape (N, N)
    d : ndarray, shape (N,)
        The diagonal of D.
    """
    J, phi = _dense(net_or_J, phi)
    n = J.shape[0]
    x = _vec("x_star", x_star, n)
    d = get_phi(phi)[1](x).astype(float)
    eye = np.eye(n)
    return J * d[None, :] - eye, d[:, None] * J - eye, d


@dataclass(frozen=True)
class Linearization:
    """Both linearisations at one point.

    Attributes
    ----------
    A_x, A_r : ndarray, shape (N, N)
    d : ndarray, shape (N,)
        ``phi'(x*)``.
    eigenvalues : ndarray, shape (N,)
        Of ``A_x`` (= those of ``A_r``), sorted by decreasing real part.
    V_x, L_x : ndarray, shape (N, N)
        Right and left eigenvectors of ``A_x`` (columns, unit norm), ``L_x^H A_x = diag(ev) L_x^H``.
    V_r, L_r : ndarray, shape (N, N)
        Right and left eigenvectors of ``A_r`` from the relations in the module docstring
        (unit norm; a column is zero where the relation is undefined: ``D v_x = 0`` or
        ``lambda = -1``).
    silent : ndarray of bool, shape (N,)
        Units with ``phi'(x*) == 0``.
    """

    A_x: np.ndarray
    A_r: np.ndarray
    d: np.ndarray
    eigenvalues: np.ndarray
    V_x: np.ndarray
    L_x: np.ndarray
    V_r: np.ndarray
    L_r: np.ndarray
    silent: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=0, keepdims=True)
    return np.where(norm > 0, v / np.where(norm > 0, norm, 1.0), 0.0)


def map_eigenvectors(
    J: np.ndarray, d: np.ndarray, eigenvalues: np.ndarray, V_x: np.ndarray, L_x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Activity eigenvectors from activation eigenvectors (valid with zeros in D).

    ``v_r = D v_x`` and ``l_r = J^T l_x / (1 + lambda)`` (columns; unit norm). Columns with
    ``|1 + lambda| < 1e-12`` get ``l_r = 0`` (undefined).

    Returns
    -------
    V_r, L_r : ndarray, shape (N, N)
    """
    V_r = _unit(d[:, None] * V_x)
    denom = 1.0 + eigenvalues
    ok = np.abs(denom) > 1e-12
    L_r = np.zeros_like(L_x, dtype=complex)
    # left eigenvectors are stored so that l^H A = lambda l^H, i.e. A^H l = conj(lambda) l
    L_r[:, ok] = (J.T @ L_x[:, ok]) / np.conj(denom[ok])
    return V_r, _unit(L_r)


def linearize(net_or_J: Any, x_star: Any, *, phi: str | None = None) -> Linearization:
    """Jacobians, spectrum and eigenvectors of both linearisations at ``x_star``.

    Parameters
    ----------
    net_or_J : LowRankRNN or ndarray, shape (N, N)
    x_star : array_like, shape (N,)
    phi : str, optional

    Returns
    -------
    Linearization
    """
    J, phi = _dense(net_or_J, phi)
    A_x, A_r, d = jacobians(J, x_star, phi=phi)
    ev, L_x, V_x = sla.eig(A_x, left=True, right=True)
    order = np.lexsort((ev.imag, -ev.real))
    ev, L_x, V_x = ev[order], _unit(L_x[:, order]), _unit(V_x[:, order])
    V_r, L_r = map_eigenvectors(J, d, ev, V_x, L_x)
    return Linearization(A_x=A_x, A_r=A_r, d=d, eigenvalues=ev, V_x=V_x, L_x=L_x, V_r=V_r,
                         L_r=L_r, silent=d == 0)


def _sin_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Sine of the angle between two complex vectors (0 if parallel).

    Computed as the norm of the part of unit ``a`` orthogonal to unit ``b`` (accurate to
    machine precision, unlike ``sqrt(1 - cos^2)``).
    """
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float("nan")
    ua, ub = a / na, b / nb
    return float(np.linalg.norm(ua - np.vdot(ub, ua) * ub))


def relation_residuals(
    net_or_J: Any, x_star: Any, *, phi: str | None = None, gap: float = 1e-3
) -> dict[str, float | int]:
    """Check the eigen-relations on independent decompositions of ``A_x`` and ``A_r``.

    Both matrices are decomposed separately by LAPACK; eigenvalues that are simple (further
    than ``gap`` from all others) and not ``-1`` are paired, and for each pair the sine of the
    angle between ``v_r`` and ``D v_x``, between ``l_x`` and ``D l_r`` and (when D has no zeros)
    between ``l_r`` and ``D^{-1} l_x`` is measured.

    Returns
    -------
    dict
        ``spectrum`` (symmetric nearest-neighbour distance between the two spectra: the
        largest distance from an eigenvalue of either matrix to the nearest eigenvalue of the
        other, divided by ``max(1, spectral radius of A_x)``), ``right`` (max sine for v_r vs
        D v_x), ``left`` (l_x vs D l_r), ``left_inverse`` (l_r vs D^{-1} l_x; NaN when D has
        zeros), ``n_pairs`` (pairs checked), ``n_silent`` (zeros in D). When no pair was
        checked (``n_pairs == 0``) the three eigenvector residuals are NaN, not 0.
    """
    J, phi = _dense(net_or_J, phi)
    gap = check_real("gap", gap, minimum=0.0)
    A_x, A_r, d = jacobians(J, x_star, phi=phi)
    ex, lx, vx = sla.eig(A_x, left=True, right=True)
    er, lr, vr = sla.eig(A_r, left=True, right=True)
    scale = max(1.0, float(np.max(np.abs(ex))))
    # pair each activation eigenvalue with the nearest activity eigenvalue
    dist_all = np.abs(ex[:, None] - ex[None, :]) + np.diag(np.full(ex.size, np.inf))
    spectrum = float(np.max(np.abs(ex[:, None] - er[None, :]).min(axis=1)) / scale)
    spectrum = max(spectrum, float(np.max(np.abs(er[:, None] - ex[None, :]).min(axis=1)) / scale))
    right, left, left_inv, n_pairs = 0.0, 0.0, 0.0, 0
    invertible = bool(np.all(d != 0))
    for i in range(ex.size):
        if dist_all[i].min() <= gap or abs(1.0 + ex[i]) <= gap:
            continue
        j = int(np.argmin(np.abs(er - ex[i])))
        n_pairs += 1
        dv = d * vx[:, i]
        if np.linalg.norm(dv) > 0:
            right = max(right, _sin_angle(vr[:, j], dv))
        left = max(left, _sin_angle(lx[:, i], d * lr[:, j]))
        if invertible:
            left_inv = max(left_inv, _sin_angle(lr[:, j], lx[:, i] / d))
    if n_pairs == 0:  # nothing compared: report that, not a perfect residual
        right = left = left_inv = float("nan")
    return {
        "spectrum": spectrum,
        "right": right,
        "left": left,
        "left_inverse": left_inv if invertible else float("nan"),
        "n_pairs": n_pairs,
        "n_silent": int(np.sum(d == 0)),
    }


# =========================================================================== context example
@dataclass(frozen=True)
class ContextExample:
    """The context-dependent example, quantified (see the module docstring).

    Attributes
    ----------
    net : LowRankRNN
        Rank one, with two context inputs (columns of I).
    x_star : ndarray, shape (2, N)
        Fixed point in context A (row 0) and B (row 1).
    d : ndarray, shape (2, N)
        ``phi'(x*)`` per context.
    eigenvalue : ndarray, shape (2,)
        The non-trivial eigenvalue per context.
    v_x, v_r, l_x, l_r : ndarray, shape (2, N)
        Its right/left eigenvectors in each context (unit norm, real).
    cos : dict
        ``|cos|`` between context A and B for ``v_x``, ``v_r``, ``l_x``, ``l_r``.
    cos_theory : float
        ``2 a b / (a^2 + b^2)``: the cosine between ``D_A m`` and ``D_B m`` predicted from the
        gains a (unsaturated half) and b (saturated half) if m^2 averages equally on both
        halves.
    readout : ndarray, shape (2, 2)
        ``|w^T v|`` for the readout ``w`` = m restricted to the first half, rows (activation,
        activity), columns (context A, B).
    relation : dict
        :func:`relation_residuals` in context A.
    """

    net: LowRankRNN
    x_star: np.ndarray
    d: np.ndarray
    eigenvalue: np.ndarray
    v_x: np.ndarray
    v_r: np.ndarray
    l_x: np.ndarray
    l_r: np.ndarray
    cos: dict
    cos_theory: float
    readout: np.ndarray
    relation: dict


def _leading_nontrivial(lin: Linearization) -> int:
    """Index of the eigenvalue furthest from -1 (the non-trivial one of a rank-one J)."""
    return int(np.argmax(np.abs(lin.eigenvalues + 1.0)))


def context_example(
    n_neurons: int = 300,
    *,
    overlap: float = 0.6,
    context_strength: float = 2.5,
    phi: str = "tanh",
    rng: RngLike = None,
) -> ContextExample:
    """Two tonic context inputs change D; compare the linearisations (2309.04030).

    Rank-one ``J = m n^T / N`` with ``m, n ~ N(0, 1)``, covariance ``overlap``. Context A puts a
    tonic input ``context_strength`` on the second half of the units, context B on the first
    half (``phi='relu'``: the input is ``-context_strength``, which silences that half).

    Parameters
    ----------
    n_neurons : int
        Even, >= 20.
    overlap : float
        ``sigma_mn`` in (-1, 1) (below 1 for a stable trivial state).
    context_strength : float
        > 0.
    phi : {'tanh', 'relu'}
    rng : Generator, int or None

    Returns
    -------
    ContextExample
    """
    from lowrank_rnn.theory.fixedpoints import network_fixed_point

    n = check_int("n_neurons", n_neurons, minimum=20)
    if n % 2:
        raise ValueError(f"n_neurons={n}: must be even (two halves)")
    overlap = check_real("overlap", overlap, minimum=-1.0, maximum=1.0, min_inclusive=False,
                         max_inclusive=False)
    strength = check_real("context_strength", context_strength, minimum=0.0, min_inclusive=False)
    check_choice("phi", phi, ("tanh", "relu"))
    rng = as_rng(rng)
    cov = np.array([[1.0, overlap], [overlap, 1.0]])
    mn = rng.multivariate_normal(np.zeros(2), cov, size=n)
    m, nn = mn[:, 0], mn[:, 1]
    half = np.arange(n) < n // 2
    sign = 1.0 if phi == "tanh" else -1.0
    I = np.stack([sign * strength * (~half), sign * strength * half], axis=1).astype(float)
    bias = 0.0 if phi == "tanh" else 1.0  # ReLU: a positive baseline keeps free units active
    I = I + bias
    net = LowRankRNN(M=m[:, None], N=nn[:, None], I=I, scale=1.0 / n, phi=phi)
    xs, ds, ev = [], [], []
    vx, vr, lx, lr = [], [], [], []
    relation: dict = {}
    for c in range(2):
        u = np.eye(2)[c]
        fp = network_fixed_point(net, I @ u, u)
        if not fp.converged:
            raise RuntimeError(f"context_example: no fixed point in context {c} (try a new rng)")
        lin = linearize(net, fp.x)
        k = _leading_nontrivial(lin)
        xs.append(fp.x)
        ds.append(lin.d)
        ev.append(lin.eigenvalues[k].real)
        for store, mat in ((vx, lin.V_x), (vr, lin.V_r), (lx, lin.L_x), (lr, lin.L_r)):
            vec = mat[:, k]
            vec = vec * np.exp(-1j * np.angle(vec[np.argmax(np.abs(vec))]))
            store.append(vec.real)
        if c == 0:
            relation = relation_residuals(net, fp.x)
    vx, vr, lx, lr = map(np.array, (vx, vr, lx, lr))
    cosines = {name: float(abs(a[0] @ a[1])) for name, a in
               (("v_x", vx), ("v_r", vr), ("l_x", lx), ("l_r", lr))}
    dphi = get_phi(phi)[1]
    a_gain = float(dphi(np.array(bias)))
    b_gain = float(dphi(np.array(bias + sign * strength)))
    cos_theory = 2 * a_gain * b_gain / (a_gain**2 + b_gain**2)
    w = np.where(half, m, 0.0)
    readout = np.array([[abs(w @ vx[c]) for c in range(2)], [abs(w @ vr[c]) for c in range(2)]])
    return ContextExample(net=net, x_star=np.array(xs), d=np.array(ds), eigenvalue=np.array(ev),
                          v_x=vx, v_r=vr, l_x=lx, l_r=lr, cos=cosines, cos_theory=cos_theory,
                          readout=readout, relation=relation)
