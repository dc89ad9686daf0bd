"""One entry point for integrating rate networks: :func:`simulate`.

Equation (Herbert & Ostojic 2022 eq 1; "A new look" eq 1), with optional white noise::

    tau dx = (-x + J phi(x) + I u(t)) dt + noise dW

integrated by Euler–Maruyama: ``x_{k+1} = x_k + (dt/tau)(-x_k + J phi(x_k) + I u_k)
+ (noise/tau) sqrt(dt) xi_k``, with xi_k standard normal. For a linear network without recurrence
the stationary variance is ``noise^2 / (2 tau)`` (Ornstein–Uhlenbeck).

All trials advance together: the recurrent input of the whole batch is one matrix product, whose
form is chosen from the network's structure (low rank: ``scale * (phi(x) N) M^T``, O(N R) per
trial; sparse: CSR, O(nnz); dense: one dense product).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_choice, check_int, check_real
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.transfer import get_phi

__all__ = ["Trajectory", "simulate", "latent_projection"]


@dataclass(frozen=True)
class Trajectory:
    """A batch of simulated trajectories.

    Attributes
    ----------
    t : ndarray, shape (time,)
        Saved times (the initial state is included).
    x : ndarray, shape (batch, time, N)
        Activations at the saved times.
    z : ndarray, shape (batch, time, d_out) or None
        Readout ``readout_scale * W^T phi(x)``.
    kappa : ndarray, shape (batch, time, R)
        Projections on the columns of M: ``(M^T M)^{-1} M^T x`` (for R = 1, ``m.x / |m|^2``,
        eq 33).
    """

    t: np.ndarray
    x: np.ndarray
    z: np.ndarray | None
    kappa: np.ndarray


def latent_projection(x: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Least-squares coordinates of ``x`` on the columns of ``vectors``.

    For orthogonal columns this is ``v_r . x / |v_r|^2`` (Herbert & Ostojic eq 33–35).

    Parameters
    ----------
    x : ndarray, shape (..., N)
    vectors : ndarray, shape (N, K)

    Returns
    -------
    ndarray, shape (..., K)
    """
    vectors = np.asarray(vectors, dtype=float)
    if vectors.ndim == 1:
        vectors = vectors[:, None]
    gram = vectors.T @ vectors
    return np.linalg.solve(gram, (np.asarray(x) @ vectors).reshape(-1, vectors.shape[1]).T).T.reshape(
        *np.shape(x)[:-1], vectors.shape[1]
    )


def _prepare(
    net: LowRankRNN,
    inputs: np.ndarray | None,
    x0: np.ndarray | None,
    dt: float,
    n_steps: int | None,
    t_span: float | None,
    batch: int | None,
    noise: float | np.ndarray,
    save_every: int,
) -> tuple[np.ndarray | None, np.ndarray, int, int, np.ndarray]:
    n = net.n_neurons
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    save_every = check_int("save_every", save_every, minimum=1)
    if inputs is not None:
        inputs = np.asarray(inputs)
        if inputs.ndim != 3:
            raise ValueError(f"inputs: expected shape (batch, time, d_in), got {inputs.shape}")
        if inputs.shape[2] != net.d_in:
            raise ValueError(
                f"inputs: last dimension {inputs.shape[2]} must equal the network's d_in = {net.d_in}"
            )
        if not np.all(np.isfinite(inputs)):
            raise ValueError("inputs: contains non-finite values")
    if n_steps is not None and t_span is not None:
        raise ValueError("give n_steps or t_span, not both")
    if n_steps is None and t_span is not None:
        t_span = check_real("t_span", t_span, minimum=0.0, min_inclusive=False)
        n_steps = int(round(t_span / dt))
    if n_steps is None:
        if inputs is None:
            raise ValueError("n_steps: give n_steps, t_span or inputs (whose time axis sets it)")
        n_steps = inputs.shape[1]
    n_steps = check_int("n_steps", n_steps, minimum=1)
    if inputs is not None and inputs.shape[1] < n_steps:
        raise ValueError(f"inputs: time axis {inputs.shape[1]} shorter than n_steps = {n_steps}")
    sizes = {}
    if inputs is not None:
        sizes["inputs"] = inputs.shape[0]
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float)
        if x0.ndim not in (1, 2) or x0.shape[-1] != n:
            raise ValueError(f"x0: expected shape (N,) or (batch, N) with N = {n}, got {x0.shape}")
        if not np.all(np.isfinite(x0)):
            raise ValueError("x0: contains non-finite values")
        if x0.ndim == 2:
            sizes["x0"] = x0.shape[0]
    if batch is not None:
        sizes["batch"] = check_int("batch", batch, minimum=1)
    if len(set(sizes.values())) > 1:
        raise ValueError(f"batch sizes disagree: {sizes}")
    b = next(iter(sizes.values()), 1)
    if x0 is None:
        x0 = np.zeros((b, n))
    x0 = np.broadcast_to(x0, (b, n)).copy()
    noise_arr = np.asarray(noise, dtype=float)
    if noise_arr.ndim not in (0, 1) or (noise_arr.ndim == 1 and noise_arr.shape[0] != n):
        raise ValueError(f"noise: expected a scalar or shape ({n},), got {noise_arr.shape}")
    if not np.all(np.isfinite(noise_arr)) or np.any(noise_arr < 0):
        raise ValueError("noise: must be finite and >= 0")
    return inputs, x0, n_steps, save_every, noise_arr


def simulate(
    net: LowRankRNN,
    inputs: np.ndarray | None = None,
    x0: np.ndarray | None = None,
    *,
    dt: float,
    n_steps: int | None = None,
    t_span: float | None = None,
    noise: float | np.ndarray = 0.0,
    rng: RngLike = None,
    save_every: int = 1,
    dtype: type | np.dtype = np.float64,
    backend: str = "numpy",
    batch: int | None = None,
) -> Trajectory:
    """Integrate a batch of trials of a network by Euler–Maruyama.

    Parameters
    ----------
    net : LowRankRNN
    inputs : ndarray, shape (batch, time, d_in), optional
        ``u_k`` used at step k (step k goes from ``t = k dt`` to ``(k+1) dt``).
    x0 : ndarray, shape (N,) or (batch, N), optional
        Initial state (zeros by default).
    dt : float
        Time step (> 0), in the same units as tau.
    n_steps, t_span : int or float, optional
        Number of steps, or duration (``n_steps = round(t_span / dt)``); default: the inputs'
        time axis.
    noise : float or ndarray, shape (N,)
        Amplitude of white noise per neuron (``tau dx = ... dt + noise dW``).
    rng : Generator, int or None
    save_every : int
        Keep every ``save_every``-th state (and the initial one), so long runs of large networks
        do not keep every state in memory.
    dtype : numpy float dtype
        float64 (default) or float32.
    backend : {'numpy'}
        Array backend.
    batch : int, optional
        Number of trials when neither inputs nor x0 sets it.

    Returns
    -------
    Trajectory
        ``x`` of shape ``(batch, n_steps // save_every + 1, N)``.
    """
    check_choice("backend", backend, ("numpy",))
    dtype = np.dtype(dtype)
    check_choice("dtype", dtype.name, ("float32", "float64"))
    inputs, x, n_steps, save_every, noise_arr = _prepare(
        net, inputs, x0, dt, n_steps, t_span, batch, noise, save_every
    )
    rng = as_rng(rng)
    phi, _ = get_phi(net.phi)
    b, n = x.shape
    x = x.astype(dtype)
    a = dtype.type(dt / net.tau)
    noisy = bool(np.any(noise_arr > 0))
    sd = (noise_arr * np.sqrt(dt) / net.tau).astype(dtype)
    inp_proj = None
    if inputs is not None and net.d_in:
        I = net.I.astype(dtype)
    n_saved = n_steps // save_every + 1
    xs = np.empty((b, n_saved, n), dtype=dtype)
    xs[:, 0] = x
    k_save = 1
    for k in range(n_steps):
        r = phi(x)
        drive = net.apply_connectivity(r).astype(dtype, copy=False) - x
        if inputs is not None and net.d_in:
            inp_proj = inputs[:, k].astype(dtype) @ I.T
            drive += inp_proj
        x = x + a * drive
        if noisy:
            x += sd * rng.standard_normal((b, n), dtype=dtype)
        if (k + 1) % save_every == 0:
            xs[:, k_save] = x
            k_save += 1
    t = np.arange(n_saved) * (dt * save_every)
    z = None
    if net.W is not None:
        z = net.readout_scale * (phi(xs) @ net.W.astype(dtype))
    kappa = latent_projection(xs, net.M)
    return Trajectory(t=t, x=xs, z=z, kappa=kappa)
