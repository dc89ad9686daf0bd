"""Target vector fields to embed in low-rank RNNs ("A new look at low-rank RNNs", Figs 1–4).

Every target is a vectorised callable on points ``Z`` of shape ``(n_points, rank)`` (and, for
non-autonomous targets, times ``t`` of shape ``(n_points,)``), returning ``dz/dt`` of shape
``(n_points, rank)``. :data:`ODES` is the registry by name used by the CLI.

Autonomous targets:

- ``bistable``: ``g(z) = z - z^3``; stable fixed points ±1, unstable 0 (odd; Fig 3).
- ``asymmetric-bistable``: ``g(z) = -(z + 1.5)(z - 0.5)(z - 1.5)``; stable -1.5 and 1.5,
  unstable 0.5. A cubic with a large even part (Fig 1: without inputs only its odd part can be
  embedded).
- ``limit-cycle``: ``dz1 = z1 (1 - |z|^2) - z2``, ``dz2 = z2 (1 - |z|^2) + z1``; a stable
  limit cycle on the unit circle with period 2 pi (Fig 2).
- ``van-der-pol``: the Van der Pol oscillator with mu = 1 (a relaxation limit cycle, period
  6.66; Arora & Pillow 2025).
- ``lorenz``: the Lorenz system rescaled to an order-one box and slowed 10-fold (a 3-D chaotic
  target; Arora & Pillow 2025).
- ``inverted-quadratic``: ``g(z) = (36 - z^2) / 6``; unstable fixed point -6, stable +6 (Fig 4A).
  From ``z(0) = 6 tanh(-2.5)`` its solution is ``z*(t) = 6 tanh(t - 2.5)``: the reference
  trajectory from -6 to +6.

Non-autonomous targets with the same reference trajectory ``z*(t)`` (Sec 5, eqs 13–14):

- ``moving-stable`` (eq 13, alpha = 0.5): ``g(z, t) = g0(z*(t)) - alpha (z - z*(t))``. The
  solution from ``z*(0)`` is ``z*(t)``; a perturbation decays as ``exp(-alpha t)`` (a fixed point
  at ``z*(t) + g0(z*(t)) / alpha`` that moves from left to right and is stable).
- ``moving-unstable`` (eq 13, alpha = -0.5): the same with a perturbation growing as
  ``exp(t / 2)``. (Any error, including the Euler error of a simulation, grows the same way.)
- ``no-fixed-point`` (eq 14): ``g(z, t) = g0(z*(t))``, independent of z and positive: no fixed
  point during the movement; a perturbation stays constant.

Here ``g0`` is ``inverted-quadratic``; eq 13 of the paper writes the same construction with the
reference state on a coarse time grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from lowrank_rnn._validate import check_array, check_choice, check_real

__all__ = [
    "ODES",
    "TargetODE",
    "get_ode",
    "bistable",
    "asymmetric_bistable",
    "limit_cycle",
    "inverted_quadratic",
    "van_der_pol",
    "lorenz",
    "reference_trajectory",
    "moving_fixed_point",
    "no_fixed_point",
    "fitting_set",
    "network_trajectory_error",
]

#: Offset of the reference trajectory ``z*(t) = 6 tanh(t - T_MID)`` of the Fig 4 systems.
T_MID = 2.5


def bistable(z: np.ndarray) -> np.ndarray:
    """``g(z) = z - z^3``: stable fixed points ±1, unstable 0. Shape (n, 1) -> (n, 1)."""
    return z - z**3


def asymmetric_bistable(z: np.ndarray) -> np.ndarray:
    """``g(z) = -(z + 1.5)(z - 0.5)(z - 1.5)``: stable -1.5, 1.5; unstable 0.5. (n, 1) -> (n, 1)."""
    return -(z + 1.5) * (z - 0.5) * (z - 1.5)


def limit_cycle(z: np.ndarray) -> np.ndarray:
    """Stable limit cycle on the unit circle, angular speed 1 (Fig 2). Shape (n, 2) -> (n, 2)."""
    x, y = z[:, 0], z[:, 1]
    s = 1.0 - (x * x + y * y)
    # filled column by column: np.stack's overhead doubled the cost of a one-point call
    # (online training calls g once per Euler step)
    out = np.empty((z.shape[0], 2))
    out[:, 0] = x * s - y
    out[:, 1] = y * s + x
    return out


def inverted_quadratic(z: np.ndarray) -> np.ndarray:
    """``g(z) = (36 - z^2) / 6``: unstable -6, stable +6 (Fig 4A). Shape (n, 1) -> (n, 1)."""
    return (36.0 - z**2) / 6.0


def van_der_pol(z: np.ndarray) -> np.ndarray:
    """Van der Pol oscillator, mu = 1: ``dz1 = z2``, ``dz2 = (1 - z1^2) z2 - z1``. (n, 2) -> (n, 2).

    A relaxation limit cycle of amplitude about 2 in z1 and period about 6.66.
    """
    x, y = z[:, 0], z[:, 1]
    return np.stack([y, (1.0 - x * x) * y - x], axis=1)


def lorenz(z: np.ndarray) -> np.ndarray:
    """The Lorenz system (sigma 10, rho 28, beta 8/3), rescaled to an order-one box and slowed.

    With ``(x, y, w) = (10 z1, 10 z2, 10 z3 + 25)`` and time slowed 10-fold,
    ``dz/dt = F_lorenz(x, y, w) / 100``: the attractor lies in about ``[-2, 2] x [-2.7, 2.7] x
    [-2.5, 2.5]`` and its largest Lyapunov exponent is about 0.09 per unit time. (n, 3) -> (n, 3).
    """
    x, y, w = 10 * z[:, 0], 10 * z[:, 1], 10 * z[:, 2] + 25.0
    return np.stack([10.0 * (y - x), x * (28.0 - w) - y, x * y - (8.0 / 3.0) * w], axis=1) / 100


def reference_trajectory(t: np.ndarray) -> np.ndarray:
    """``z*(t) = 6 tanh(t - 2.5)``, the solution of :func:`inverted_quadratic` from -5.92.

    Parameters
    ----------
    t : ndarray, any shape

    Returns
    -------
    ndarray, same shape as ``t``
    """
    return 6.0 * np.tanh(np.asarray(t, dtype=float) - T_MID)


def moving_fixed_point(alpha: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Eq 13: ``g(z, t) = g0(z*(t)) - alpha (z - z*(t))`` with ``g0`` the inverted quadratic.

    alpha > 0: a moving stable fixed point (Fig 4B); alpha < 0: a moving unstable one (Fig 4C).
    The returned callable maps ``Z (n, 1), t (n,)`` to ``(n, 1)``.
    """
    alpha = check_real("alpha", alpha)

    def g(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        zs = reference_trajectory(np.asarray(t, dtype=float).reshape(-1, 1))
        return inverted_quadratic(zs) - alpha * (z - zs)

    return g


def no_fixed_point(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Eq 14: ``g(z, t) = g0(z*(t))``: no fixed point along the way (Fig 4D). (n, 1) -> (n, 1)."""
    zs = reference_trajectory(np.asarray(t, dtype=float).reshape(-1, 1))
    return inverted_quadratic(zs) + 0.0 * z


@dataclass(frozen=True)
class TargetODE:
    """A named target vector field with what a user needs to fit and check it.

    Attributes
    ----------
    name : str
    rank : int
        Dimension of z.
    field : callable
        ``field(Z)`` (autonomous) or ``field(Z, t)``; ``Z`` of shape (n_points, rank).
    box : tuple of (lo, hi) pairs, one per dimension
        Region where the target is fitted (contains the relevant dynamics).
    starts : ndarray, shape (n_starts, rank)
        Initial conditions used to check trajectories.
    period : float or None
        Period of the attracting periodic orbit, if any.
    t_end : float
        Horizon of a trajectory check: two periods, or 10 without a period.
    autonomous : bool
    description : str
    """

    name: str
    rank: int
    field: Callable[..., np.ndarray]
    box: tuple[tuple[float, float], ...]
    starts: np.ndarray
    period: float | None
    autonomous: bool
    description: str
    t_end: float = field(default=10.0)

    def __call__(self, Z: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
        """Evaluate ``dz/dt`` at points ``Z`` of shape (n_points, rank) (and times ``t``)."""
        Z = np.asarray(Z, dtype=float)
        if self.autonomous:
            return self.field(Z)
        if t is None:
            raise ValueError(f"t: target {self.name!r} is non-autonomous and needs times")
        return self.field(Z, np.broadcast_to(np.asarray(t, dtype=float).reshape(-1), (len(Z),)))

    def solve(self, z0: np.ndarray, t_eval: np.ndarray, *, rtol: float = 1e-9) -> np.ndarray:
        """Integrate the target with ``scipy.integrate.solve_ivp`` (RK45, tight tolerances).

        Parameters
        ----------
        z0 : ndarray, shape (batch, rank)
        t_eval : ndarray, shape (time,), increasing from 0

        Returns
        -------
        ndarray, shape (batch, time, rank)
        """
        z0 = np.atleast_2d(check_array("z0", z0).astype(float))
        if z0.shape[1] != self.rank:
            raise ValueError(f"z0: expected shape (batch, {self.rank}), got {z0.shape}")
        t_eval = check_array("t_eval", t_eval, ndim=1).astype(float)
        out = np.empty((z0.shape[0], t_eval.size, self.rank))

        def rhs(t: float, y: np.ndarray) -> np.ndarray:
            return self(y[None, :], np.array([t]))[0]

        for b in range(z0.shape[0]):
            sol = solve_ivp(
                rhs, (0.0, float(t_eval[-1])), z0[b], t_eval=t_eval, rtol=rtol, atol=rtol * 1e-2,
                method="RK45",
            )
            if not sol.success or sol.y.shape[1] != t_eval.size:
                raise RuntimeError(
                    f"solve_ivp failed for {self.name!r} from {z0[b]}: {sol.message}"
                )
            out[b] = sol.y.T
        return out


def _registry() -> dict[str, TargetODE]:
    fig4 = {
        "rank": 1,
        "box": ((-7.0, 7.0),),
        "starts": np.array([[float(reference_trajectory(0.0))]]),
        "period": None,
        "t_end": 10.0,
    }
    entries = [
        TargetODE(
            "bistable", 1, bistable, ((-1.6, 1.6),), np.array([[-1.5], [-0.2], [0.2], [1.5]]),
            None, True, "z - z^3: stable ±1, unstable 0", 10.0,
        ),
        TargetODE(
            "asymmetric-bistable", 1, asymmetric_bistable, ((-2.2, 2.2),),
            np.array([[-2.0], [0.3], [0.7], [2.0]]), None, True,
            "-(z+1.5)(z-0.5)(z-1.5): stable -1.5, 1.5; unstable 0.5", 10.0,
        ),
        TargetODE(
            "limit-cycle", 2, limit_cycle, ((-1.6, 1.6), (-1.6, 1.6)),
            np.array([[0.2, 0.0], [1.4, 0.3], [-0.6, -1.1], [0.0, 0.5]]), 2 * np.pi, True,
            "stable limit cycle on the unit circle, period 2 pi", 4 * np.pi,
        ),
        TargetODE(
            "van-der-pol", 2, van_der_pol, ((-2.5, 2.5), (-3.2, 3.2)),
            np.array([[0.5, 0.0], [-2.0, 2.0], [2.2, -1.0]]), 6.6633, True,
            "Van der Pol oscillator, mu = 1 (period 6.66)", 2 * 6.6633,
        ),
        TargetODE(
            "lorenz", 3, lorenz, ((-2.0, 2.0), (-2.7, 2.7), (-2.5, 2.5)),
            np.array([[-0.8, 0.7, 0.2], [0.8, -0.7, 0.2], [0.1, 0.1, -0.5]]), None, True,
            "Lorenz system rescaled to an order-one box, 10x slower (Lyapunov time ~ 11)",
            10.0,
        ),
        TargetODE(
            name="inverted-quadratic", field=inverted_quadratic, autonomous=True,
            description="(36 - z^2)/6: unstable -6, stable +6", **fig4,
        ),
        TargetODE(
            name="moving-stable", field=moving_fixed_point(0.5), autonomous=False,
            description="eq 13, alpha = 0.5: moving stable fixed point", **fig4,
        ),
        TargetODE(
            name="moving-unstable", field=moving_fixed_point(-0.5), autonomous=False,
            description="eq 13, alpha = -0.5: moving unstable fixed point", **fig4,
        ),
        TargetODE(
            name="no-fixed-point", field=no_fixed_point, autonomous=False,
            description="eq 14: no fixed point, same trajectory", **fig4,
        ),
    ]
    return {e.name: e for e in entries}


#: Registry of targets by name.
ODES: dict[str, TargetODE] = _registry()


def get_ode(name: str) -> TargetODE:
    """The target called ``name`` (one of :data:`ODES`)."""
    check_choice("ode", name, tuple(ODES))
    return ODES[name]


# ---------------------------------------------------------------------------------------------
# fitting sets and the network-level check
# ---------------------------------------------------------------------------------------------
def fitting_set(
    ode: TargetODE, inputs: str, *, n_points: int = 2500, v0: float = 1.0, tube: float = 1.5
) -> dict:
    """Points, filtered inputs and target callable to embed a registry target (eq 9–11).

    - ``inputs`` in {'none', 'bias'}: a regular grid over ``ode.box`` (autonomous targets only).
    - ``inputs='decaying'`` (Sec 5): ``v = v0 exp(-t)`` labels time, so the points are pairs
      ``(z, t)`` for t in ``[0, ode.t_end]``: for a non-autonomous target a tube of half-width
      ``tube`` around the reference trajectory ``z*(t)`` (the region the trajectories and their
      perturbations visit), for an autonomous one the whole box at every time.

    Returns
    -------
    dict
        ``points`` (n, rank), ``v`` (n, 1) or None, and ``g`` — the callable to pass to
        :meth:`ODEEmbedding.fit` (``g(Z)`` or ``g(Z, V)``).
    """
    check_choice("inputs", inputs, ("none", "bias", "decaying"))
    n_points = int(n_points)
    if inputs != "decaying":
        if not ode.autonomous:
            raise ValueError(
                f"inputs={inputs!r}: target {ode.name!r} is non-autonomous (its field depends on "
                "time); embed it with inputs='decaying'"
            )
        from lowrank_rnn.fit.regression import grid_points

        return {"points": grid_points(ode.box, n_points, ode.rank), "v": None, "g": ode.field}
    v0 = check_real("v0", v0, minimum=0.0, min_inclusive=False)
    if ode.rank != 1:
        raise ValueError(f"inputs='decaying': only rank-1 targets are supported, got {ode.name!r}")
    n_t = max(int(np.sqrt(n_points * 10)), 20)
    n_z = max(n_points // n_t, 5)
    ts = np.linspace(0.0, ode.t_end, n_t)
    if ode.autonomous:
        zs = np.linspace(*ode.box[0], n_z)[None, :].repeat(n_t, 0)
    else:
        zs = reference_trajectory(ts)[:, None] + np.linspace(-tube, tube, n_z)[None, :]
    tt = np.repeat(ts[:, None], n_z, axis=1).reshape(-1)
    points = zs.reshape(-1, 1)
    v = (v0 * np.exp(-tt))[:, None]

    def g(Z: np.ndarray, V: np.ndarray) -> np.ndarray:
        return ode(Z, -np.log(V[:, 0] / v0))

    return {"points": points, "v": v, "g": g}


def network_trajectory_error(est: Any, ode: TargetODE, *, dt: float = 0.002) -> dict:
    """Simulate the fitted N-neuron network from the target's starts and compare with solve_ivp.

    The network (``est.network_``) is integrated by :func:`lowrank_rnn.simulate.simulate`
    (Euler, step ``dt``) from ``x0 = M z0 + I v0``; its latent ``z`` (projection on ``[M, I]``,
    eq 4) is compared with ``ode.solve`` over ``[0, ode.t_end]`` (two periods, or 10).

    Parameters
    ----------
    est : ODEEmbedding
        A fitted estimator (with ``simulate_latent``).
    ode : TargetODE
    dt : float

    Returns
    -------
    dict
        ``trajectory_error`` (max abs difference over starts, times and dimensions), ``t``
        (time,), ``z_network`` and ``z_target`` (batch, time, rank).
    """
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    save = max(1, int(round(0.01 / dt)))
    t, z_net = est.simulate_latent(ode.starts, t_span=ode.t_end, dt=dt, save_every=save)
    z_ref = ode.solve(ode.starts, t)
    err = float(np.max(np.abs(z_net - z_ref)))
    return {"trajectory_error": err, "t": t, "z_network": z_net, "z_target": z_ref}
