"""One entry point for integrating rate networks: :func:`simulate`.

Equation (Herbert & Ostojic 2022 eq 1; "A new look" eq 1), with optional white noise::

    tau dx = (-x + J phi(x) + I u(t)) dt + noise dW

integrated by Euler–Maruyama: ``x_{k+1} = x_k + (dt/tau)(-x_k + J phi(x_k) + I u_k)
+ (noise/tau) sqrt(dt) xi_k``, with xi_k standard normal. For a linear network without recurrence
the stationary variance is ``noise^2 / (2 tau)`` (Ornstein–Uhlenbeck).

All trials advance together: the state of the whole batch is held as one ``(N, batch)`` array and
the recurrent input is one matrix product whose form is chosen from the network's structure:

- pure low rank: ``scale * M (N^T phi(x))``, O(N R) per trial, J is never formed;
- sparse (a mask and/or a sparse random part): one CSR product, O(nnz) per trial;
- dense (a dense random part): one dense BLAS product.

Speed notes (measured on 2 cores, see ``benchmarks/bench_task_speed.py``): the sparse product
dominates. On the CPU the trials advance in chunks whose ``(N, chunk)`` activity block fits in a
core's L2 cache (:data:`CSR_BLOCK_BYTES`; every non-zero reads one row of that block, and
cache-sized chunks ran 2-3x faster than one large batch), and independent chunks run on a
thread per available core, up to :data:`MAX_THREADS` (the kernels release the GIL). In float32
``tanh`` is evaluated through the exponential (numpy: :func:`fast_tanh`; torch:
``2 sigmoid(2x) - 1``), two to three times faster than the libraries' own ``tanh``, with an
absolute error below 3e-7. ``backend='torch'`` on the CPU runs the CSR product as a weighted
gather-sum (``embedding_bag``), about 3x faster than scipy's product; ``backend='auto'``
chooses it for sparse networks whenever PyTorch is installed. With ``device='cuda'`` the same
loop runs on the GPU.
"""

from __future__ import annotations

import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from lowrank_rnn._validate import RngLike, as_rng, check_choice, check_int, check_real
from lowrank_rnn.large import FixedDegreeRankOne, default_threads
from lowrank_rnn.network import DENSE_LIMIT, LowRankRNN
from lowrank_rnn.transfer import get_phi

__all__ = ["Trajectory", "simulate", "latent_projection", "fast_tanh", "BACKENDS"]

#: Array backends accepted by :func:`simulate`.
BACKENDS = ("numpy", "torch", "auto")


@dataclass(frozen=True)
class Trajectory:
    """A batch of simulated trajectories.

    Attributes
    ----------
    t : ndarray, shape (time,)
        Saved times (the initial state is included).
    x : ndarray, shape (batch, time, N), or None
        Activations at the saved times (None when ``keep_x=False``).
    z : ndarray, shape (batch, time, d_out) or None
        Readout ``readout_scale * W^T phi(x)``.
    kappa : ndarray, shape (batch, time, R)
        Projections on the columns of M: ``(M^T M)^{-1} M^T x`` (for R = 1, ``m.x / |m|^2``,
        eq 34).
    latent : ndarray, shape (batch, time, K) or None
        Least-squares coordinates on the columns of ``project_on`` (e.g. ``[m, I]`` gives
        ``kappa_r, kappa_I`` of eq 33–35 when m and I are orthogonal).
    """

    t: np.ndarray
    x: np.ndarray | None
    z: np.ndarray | None
    kappa: np.ndarray
    latent: np.ndarray | None = None


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
    k = vectors.shape[1]
    coords = np.linalg.solve(gram, (np.asarray(x) @ vectors).reshape(-1, k).T).T
    return coords.reshape(*np.shape(x)[:-1], k)


def fast_tanh(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``tanh(x) = 1 - 2 / (exp(2x) + 1)``, evaluated in place-friendly numpy passes.

    Exact in exact arithmetic; in float32 the absolute error is below 3e-7 (the cancellation near
    0 costs relative, not absolute, accuracy). ``exp`` overflow for ``x > 44`` gives ``inf`` and
    the exact limit 1. About twice as fast as ``np.tanh`` for float32 arrays here.

    Parameters
    ----------
    x : ndarray, any shape
    out : ndarray, same shape and dtype as x, optional
    """
    if out is None:
        out = np.empty_like(x)
    with np.errstate(over="ignore"):
        np.multiply(x, 2.0, out=out)
        np.exp(out, out=out)
    out += 1.0
    np.divide(-2.0, out, out=out)
    out += 1.0
    return out


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
                f"inputs: last dimension {inputs.shape[2]} must equal the network's "
                f"d_in = {net.d_in}"
            )
        if not np.all(np.isfinite(inputs)):
            raise ValueError("inputs: contains non-finite values")
    if n_steps is not None and t_span is not None:
        raise ValueError("give n_steps or t_span, not both")
    if n_steps is None and t_span is not None:
        t_span = check_real("t_span", t_span, minimum=0.0, min_inclusive=False)
        steps = t_span / dt
        if not steps < 2**62:
            raise ValueError(f"t_span={t_span}: t_span / dt = {steps:.3g} steps is too many")
        n_steps = int(round(steps))
        if n_steps < 1:
            raise ValueError(
                f"t_span={t_span}: shorter than half a step dt={dt}; give t_span >= dt"
            )
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
        x0 = np.asarray(x0)
        if not np.issubdtype(x0.dtype, np.number) or np.iscomplexobj(x0):
            raise ValueError(f"x0: expected a real numeric array, got dtype {x0.dtype}")
        x0 = x0.astype(float)
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


def _check_projection(name: str, vectors: Any, n: int) -> np.ndarray | None:
    if vectors is None:
        return None
    v = np.asarray(vectors, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.shape[0] != n or v.shape[1] < 1:
        raise ValueError(f"{name}: expected shape ({n}, K), got {np.shape(vectors)}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name}: contains non-finite values")
    if np.linalg.matrix_rank(v) < v.shape[1]:
        raise ValueError(f"{name}: the {v.shape[1]} columns must be linearly independent")
    return v


def _projector(vectors: np.ndarray) -> np.ndarray:
    """``P`` (N, K) with ``x @ P`` the least-squares coordinates of x on the columns
    (pseudo-inverse: zero columns, e.g. a network without structure, give zero coordinates)."""
    return np.linalg.pinv(vectors).T


def operator_kind(net: LowRankRNN) -> str:
    """Which product :func:`simulate` uses for ``net``: ``'lowrank'``, ``'csr'`` or ``'dense'``.

    ``'lowrank'``: no mask and no random part (factors, O(N R)); ``'csr'``: a mask and/or a
    sparse random part (O(nnz)); ``'dense'``: a dense random part (O(N^2)).
    """
    s = net.structure
    return {"lowrank": "lowrank", "sparse": "csr", "dense": "dense"}[s]


def _dense_matrix(net: LowRankRNN) -> np.ndarray:
    if net.n_neurons > DENSE_LIMIT:
        raise ValueError(
            f"net: a dense random part with n_neurons={net.n_neurons} > {DENSE_LIMIT} is too large "
            "to simulate densely"
        )
    return net.to_dense()


def _csr_matrix(net: LowRankRNN) -> sp.csr_array:
    if net.mask is not None:
        return net.sparse_connectivity()
    # a sparse random part without mask: fold the low-rank part in only if it is small
    return sp.csr_array(net.random)


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
    device: str | None = None,
    keep_x: bool = True,
    project_on: np.ndarray | None = None,
) -> Trajectory:
    """Integrate a batch of trials of a network by Euler–Maruyama.

    Parameters
    ----------
    net : LowRankRNN or FixedDegreeRankOne
        A :class:`~lowrank_rnn.large.FixedDegreeRankOne` runs as its
        :meth:`~lowrank_rnn.large.FixedDegreeRankOne.to_network` (tanh, tau = 1).
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
        Noise stream. The torch backend seeds a ``torch.Generator`` from it (same seed, same
        result on that backend; not bitwise equal to the numpy backend).
    save_every : int
        Keep every ``save_every``-th state (and the initial one), so long runs of large networks
        do not keep every state in memory. ``z``, ``kappa`` and ``latent`` are evaluated at the
        same saved times during the run.
    dtype : numpy float dtype
        float64 (default) or float32 (faster; tanh through the exponential, see
        :func:`fast_tanh`).
    backend : {'numpy', 'torch', 'auto'}
        Array backend. ``'auto'``: torch for sparse networks (and whenever ``device`` is given)
        if PyTorch is installed, numpy otherwise. The backends agree to float rounding; noisy
        runs draw different (equally valid) noise.
    batch : int, optional
        Number of trials when neither inputs nor x0 sets it.
    device : str, optional
        Torch device (``'cpu'``, ``'cuda'``, ``'cuda:1'``); only with the torch backend.
    keep_x : bool
        Keep the states (``False``: ``x`` is None; only the projections are kept, which is what
        large task simulations need).
    project_on : ndarray, shape (N, K), optional
        Extra directions for ``latent`` (e.g. ``np.stack([m, I], 1)``).

    Returns
    -------
    Trajectory
        ``x`` of shape ``(batch, n_steps // save_every + 1, N)``.
    """
    if isinstance(net, FixedDegreeRankOne):
        net = net.to_network()
    if not isinstance(net, LowRankRNN):
        raise ValueError(
            f"net: expected a LowRankRNN or FixedDegreeRankOne, got {type(net).__name__}"
        )
    check_choice("backend", backend, BACKENDS)
    if device is not None and (not isinstance(device, str)
                               or not _DEVICE_RE.match(device)):
        raise ValueError(
            f"device={device!r}: expected 'cpu', 'cuda', 'cuda:<index>' or 'mps'"
        )
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"dtype={dtype!r}: expected float32 or float64") from err
    check_choice("dtype", dtype.name, ("float32", "float64"))
    if device is not None and backend == "numpy":
        raise ValueError(f"device={device!r}: only the torch backend takes a device")
    inputs, x, n_steps, save_every, noise_arr = _prepare(
        net, inputs, x0, dt, n_steps, t_span, batch, noise, save_every
    )
    proj = _check_projection("project_on", project_on, net.n_neurons)
    _check_trajectory_memory(net, x.shape[0], n_steps, save_every, dtype, keep_x, proj)
    rng = as_rng(rng)
    backend = _resolve_backend(backend, net, device)
    kind = operator_kind(net)
    on_cpu = backend == "numpy" or device is None or str(device).startswith("cpu")
    b = x.shape[0]
    # The sparse product on the CPU runs over chunks of trials whose (N, chunk) block stays in a
    # core's cache; independent chunks run on a thread pool (the kernels release the GIL). Each
    # chunk draws its noise from its own child generator, so the result does not depend on
    # thread timing; a single chunk uses ``rng`` itself.
    step = _csr_chunk(net.n_neurons, dtype, b, backend) if kind == "csr" and on_cpu else b
    starts = list(range(0, b, step))
    gens = [rng] if len(starts) == 1 else rng.spawn(len(starts))
    cache: dict = {"lock": threading.Lock()}
    run = _run_numpy if backend == "numpy" else _run_torch

    def run_chunk(i: int) -> tuple:
        a = starts[i]
        return run(net, None if inputs is None else inputs[a : a + step], x[a : a + step], dt,
                   n_steps, save_every, noise_arr, gens[i], dtype, device, keep_x, proj, cache)

    workers = min(len(starts), default_threads(), MAX_THREADS)
    if workers > 1:
        with _one_torch_thread(backend), ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(run_chunk, range(len(starts))))
    else:
        parts = [run_chunk(i) for i in range(len(starts))]
    xs, z, kappa, latent = (
        None if parts[0][i] is None else np.concatenate([p[i] for p in parts])
        for i in range(4)
    )
    n_saved = n_steps // save_every + 1
    t = np.arange(n_saved) * (dt * save_every)
    _warn_if_diverged(net, dt, xs, z, kappa, latent)
    return Trajectory(t=t, x=xs, z=z, kappa=kappa, latent=latent)


_DEVICE_RE = re.compile(r"^(cpu|cuda|mps)(:\d+)?$")


def _check_trajectory_memory(net: LowRankRNN, batch: int, n_steps: int, save_every: int,
                             dtype: np.dtype, keep_x: bool, proj: np.ndarray | None) -> None:
    """Refuse, before anything is allocated, outputs that cannot fit this machine's memory."""
    from lowrank_rnn._validate import check_memory

    n_saved = n_steps // save_every + 1
    width = (net.n_neurons if keep_x else 0) + net.d_out + net.rank
    width += 0 if proj is None else proj.shape[1]
    per_step = batch * width * dtype.itemsize
    check_memory("n_steps", n_steps, float(n_saved) * per_step + 4.0 * batch * net.n_neurons * 8,
                 f"{n_saved} saved steps of {batch} trial(s) x {width} values")


def _warn_if_diverged(net: LowRankRNN, dt: float, *arrays: np.ndarray | None) -> None:
    """Warn when the Euler integration ran off to inf/NaN (a step too large, or an unstable
    linear network): the trajectory is returned, but its values are meaningless."""
    for arr in arrays:
        if arr is not None and arr.size and not np.all(np.isfinite(arr[:, -1])):
            warnings.warn(
                f"simulate: the trajectory diverged to non-finite values (dt={dt:g} is "
                f"{dt / net.tau:.3g} tau; the Euler step is unstable for dt > 2 tau, and "
                "accurate only for dt much smaller than tau)",
                RuntimeWarning,
                stacklevel=3,
            )
            return


#: Bytes of the (N, chunk) activity block the CSR product streams over: trials are advanced in
#: chunks whose block fits in a core's L2 cache, since every non-zero reads one row of the
#: block. On 2 cores this ran 2-3x faster than one batch of 300 trials (N = 2000, float32).
CSR_BLOCK_BYTES = {"numpy": 1 << 19, "torch": 1 << 19}

#: The torch gather kernel is vectorised over the chunk: chunks of a multiple of this many
#: trials ran 20-30% faster than ragged ones (e.g. 64 or 48 against 60 or 50).
TORCH_CHUNK_MULTIPLE = 16

#: Most threads used to advance independent chunks of trials (fewer when fewer CPUs are
#: available). On a 16-core machine the numpy path kept gaining up to 8 threads (N = 2000, 600
#: trials: 6.2 ms/trial on 2 threads, 2.3 on 8) and the torch path up to 4 (1.7 to 1.1).
MAX_THREADS = 8


def _csr_chunk(n: int, dtype: np.dtype, batch: int, backend: str) -> int:
    """Trials per chunk for the CSR operator (at least 16, at most ``batch``)."""
    step = max(16, CSR_BLOCK_BYTES[backend] // (n * dtype.itemsize))
    if backend == "torch":
        step = max(TORCH_CHUNK_MULTIPLE, step - step % TORCH_CHUNK_MULTIPLE)
    return int(min(batch, step))


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _resolve_backend(backend: str, net: LowRankRNN, device: str | None) -> str:
    """``'auto'``: torch for a sparse operator when PyTorch is installed (its gather kernel
    runs the CSR product about 3x faster than scipy's), numpy otherwise."""
    if backend != "auto":
        return backend
    if device is not None or (operator_kind(net) == "csr" and _torch_available()):
        return "torch"
    return "numpy"


_TORCH_THREADS = {"lock": threading.Lock(), "users": 0, "saved": 1}


@contextmanager
def _one_torch_thread(backend: str):
    """While chunks run on our own threads, each torch kernel runs on one thread (no
    oversubscription of the cores: measured 20-30% faster); torch's setting is restored when
    the last concurrent simulation in this process ends."""
    if backend != "torch":
        yield
        return
    import torch

    state = _TORCH_THREADS
    with state["lock"]:
        if state["users"] == 0:
            state["saved"] = torch.get_num_threads()
            torch.set_num_threads(1)
        state["users"] += 1
    try:
        yield
    finally:
        with state["lock"]:
            state["users"] -= 1
            if state["users"] == 0:
                torch.set_num_threads(state["saved"])


def _cached(cache: dict, key: str, make):
    """``cache[key]``, made once by ``make()`` however many chunk threads ask for it."""
    with cache["lock"]:
        if key not in cache:
            cache[key] = make()
        return cache[key]


def _plus_factors(product, Mt, Nt):
    """``r -> product(r) + Mt (Nt r)``: a sparse random part without mask is stored apart from
    the low-rank factors, which are applied through their own O(N R) product (numpy arrays or
    torch tensors alike)."""
    def apply(r):
        out = product(r)
        out += Mt @ (Nt @ r)
        return out

    return apply


def _outputs(net: LowRankRNN, proj: np.ndarray | None, dtype: np.dtype):
    """Readout weights (N, d_out) and projectors (N, R), (N, K) in ``dtype``."""
    W = None if net.W is None else (net.readout_scale * net.W).astype(dtype)
    PM = _projector(net.M).astype(dtype)
    PL = None if proj is None else _projector(proj).astype(dtype)
    return W, PM, PL


def _run_numpy(net, inputs, x, dt, n_steps, save_every, noise_arr, rng, dtype, device, keep_x,
               proj, cache):
    phi, _ = get_phi(net.phi)
    if net.phi == "tanh" and dtype == np.float32:
        phi_into = fast_tanh
    elif net.phi == "tanh":
        def phi_into(v, out):
            return np.tanh(v, out=out)
    else:
        def phi_into(v, out):
            out[...] = phi(v)
            return out
    b, n = x.shape
    kind = operator_kind(net)
    Mt = net.M.astype(dtype)
    Nt = (net.scale * net.N.T).astype(dtype)  # (R, N)
    if kind == "lowrank":
        def apply(r):
            return Mt @ (Nt @ r)
    elif kind == "csr":
        J = _cached(cache, "J", lambda: _csr_matrix(net).astype(dtype))

        def apply(r):
            return J @ r
    else:
        Jd = _cached(cache, "J", lambda: _dense_matrix(net).astype(dtype))

        def apply(r):
            return Jd @ r
    if kind == "csr" and net.mask is None:
        apply = _plus_factors(apply, Mt, Nt)

    a = dtype.type(dt / net.tau)
    one_minus_a = dtype.type(1.0 - dt / net.tau)
    has_input = inputs is not None and net.d_in > 0
    if has_input:
        aI = (a * net.I).astype(dtype)  # (N, d_in)
        u_all = np.ascontiguousarray(inputs[:, :n_steps].transpose(1, 2, 0), dtype=dtype)
    noisy = bool(np.any(noise_arr > 0))
    sd = (noise_arr * np.sqrt(dt) / net.tau).astype(dtype)
    sd_col = sd[:, None] if sd.ndim == 1 else sd
    W, PM, PL = _outputs(net, proj, dtype)
    n_saved = n_steps // save_every + 1
    xs = np.empty((b, n_saved, n), dtype=dtype) if keep_x else None
    z = None if W is None else np.empty((b, n_saved, W.shape[1]), dtype=dtype)
    kappa = np.empty((b, n_saved, PM.shape[1]), dtype=dtype)
    latent = None if PL is None else np.empty((b, n_saved, PL.shape[1]), dtype=dtype)
    X = np.ascontiguousarray(x.T, dtype=dtype)  # (N, batch)
    R = np.empty_like(X)

    def save(i):  # R holds phi of the current state
        if xs is not None:
            xs[:, i] = X.T
        if z is not None:
            z[:, i] = (W.T @ R).T
        kappa[:, i] = (PM.T @ X).T
        if latent is not None:
            latent[:, i] = (PL.T @ X).T

    phi_into(X, R)  # phi of the current state: drives the next step and the readout
    save(0)
    k_save = 1
    for k in range(n_steps):
        rec = apply(R)
        rec *= a
        X *= one_minus_a
        X += rec
        if has_input:
            X += aI @ u_all[k]
        if noisy:
            X += sd_col * rng.standard_normal(X.shape, dtype=dtype)
        phi_into(X, R)
        if (k + 1) % save_every == 0:
            save(k_save)
            k_save += 1
    return xs, z, kappa, latent


def _torch_fast_tanh(v, out=None):
    """``tanh(v) = 2 sigmoid(2 v) - 1`` for torch tensors, into ``out`` (a new tensor if None):
    torch's float32 sigmoid runs about twice as fast as its tanh here (absolute error below
    3e-7 in float32)."""
    import torch

    r = torch.mul(v, 2.0, out=out)
    r.sigmoid_()
    return r.mul_(2.0).sub_(1.0)


def _torch_bags(torch, net: LowRankRNN, tdt) -> tuple:
    """Offsets (N,), column indices (nnz,) and values (nnz,) of the CSR connectivity."""
    J = _csr_matrix(net)
    J.sort_indices()
    return (torch.as_tensor(J.indptr[:-1].astype(np.int64)),
            torch.as_tensor(J.indices.astype(np.int64)),
            torch.as_tensor(J.data, dtype=tdt))


#: On CUDA, sparse networks up to this many neurons are applied as a dense device matrix.
CUDA_DENSE_LIMIT = 8192


def _run_torch(net, inputs, x, dt, n_steps, save_every, noise_arr, rng, dtype, device, keep_x,
               proj, cache):
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is an optional extra
        raise ValueError("backend='torch': PyTorch is not installed (pip install torch)") from err
    dev = torch.device(device or "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: CUDA is not available on this machine")
    tdt = torch.float32 if dtype == np.float32 else torch.float64

    def T(a):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=tdt, device=dev)

    b, n = x.shape
    kind = operator_kind(net)
    Mt = T(net.M)
    Nt = T(net.scale * net.N.T)
    if kind == "lowrank":
        def apply(r):
            return Mt @ (Nt @ r)
    elif kind == "csr" and dev.type == "cuda" and n <= CUDA_DENSE_LIMIT:
        # On a GPU a dense product (cuBLAS) beats cuSPARSE for matrices of this size; the
        # network itself stays CSR, only this transient device copy is dense.
        Jd = _cached(cache, "J", lambda: T(_csr_matrix(net).toarray()))

        def apply(r):
            return Jd @ r
    elif kind == "csr" and dev.type == "cpu":
        # CSR product as a weighted gather-sum: row i of the result sums w_k r[j_k] over the
        # non-zeros k of row i, i.e. an embedding bag per row (torch's vectorised kernel).
        rows, cols, vals = _cached(cache, "bags", lambda: _torch_bags(torch, net, tdt))

        def apply(r):
            return torch.nn.functional.embedding_bag(cols, r, rows, mode="sum",
                                                     per_sample_weights=vals)
    elif kind == "csr":
        def make_sparse():
            J = _csr_matrix(net)
            J.sort_indices()
            with warnings.catch_warnings():  # torch flags sparse CSR as beta
                warnings.simplefilter("ignore", UserWarning)
                return torch.sparse_csr_tensor(
                    torch.as_tensor(J.indptr.astype(np.int64), device=dev),
                    torch.as_tensor(J.indices.astype(np.int64), device=dev),
                    T(J.data), size=J.shape, check_invariants=False,
                )
        Jt = _cached(cache, "J", make_sparse)

        def apply(r):
            return Jt @ r
    else:
        Jd = _cached(cache, "J", lambda: T(_dense_matrix(net)))

        def apply(r):
            return Jd @ r
    if kind == "csr" and net.mask is None:
        apply = _plus_factors(apply, Mt, Nt)

    # phi is written into one buffer per run (see the outputs below)
    if net.phi == "tanh" and tdt == torch.float32:
        phi_into = _torch_fast_tanh
    elif net.phi == "tanh":
        def phi_into(v, out):
            return torch.tanh(v, out=out)
    elif net.phi == "relu":
        def phi_into(v, out):
            return torch.clamp(v, min=0.0, out=out)
    else:
        def phi_into(v, out):
            return out.copy_(v)
    a = dt / net.tau
    has_input = inputs is not None and net.d_in > 0
    if has_input:
        aI = T(a * net.I)
        u_all = T(inputs[:, :n_steps].transpose(1, 2, 0))  # (time, d_in, batch)
    noisy = bool(np.any(noise_arr > 0))
    sd = T(np.broadcast_to(noise_arr * np.sqrt(dt) / net.tau, (n,))[:, None])
    gen = None
    if noisy:
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(rng.integers(0, 2**63 - 1)))
    W, PM, PL = _outputs(net, proj, dtype)
    Wt = None if W is None else T(W.T)
    PMt = T(PM.T)
    PLt = None if PL is None else T(PL.T)
    n_saved = n_steps // save_every + 1
    # Outputs are preallocated and written in place (small ones stay on the device until the
    # end, no per-step sync); nothing else is allocated per step but the product's result.
    # Small tensors kept alive every step between large transient ones made glibc's heap grow
    # with the number of steps (e.g. 0.7 -> 1.7 GB over 200 steps at N = 1e5).
    xs = np.empty((b, n_saved, n), dtype=dtype) if keep_x else None

    def buffer(P):
        return None if P is None else torch.empty((n_saved, P.shape[0], b), dtype=tdt, device=dev)

    zb, kb, lb = buffer(Wt), buffer(PMt), buffer(PLt)

    def save(i, X, R):
        if xs is not None:
            xs[:, i] = X.T.cpu().numpy()
        if zb is not None:
            torch.matmul(Wt, R, out=zb[i])
        torch.matmul(PMt, X, out=kb[i])
        if lb is not None:
            torch.matmul(PLt, X, out=lb[i])

    with torch.no_grad():
        X = T(x.T).clone()
        R = phi_into(X, torch.empty_like(X))  # phi of the current state: drives the next
        # step and the readout
        save(0, X, R)
        k_save = 1
        for k in range(n_steps):
            X.lerp_(apply(R), a)  # X + a (J phi(X) - X)
            if has_input:
                X.addmm_(aI, u_all[k])
            if noisy:
                X.addcmul_(sd, torch.randn(X.shape, generator=gen, dtype=tdt, device=dev))
            phi_into(X, R)
            if (k + 1) % save_every == 0:
                save(k_save, X, R)
                k_save += 1

    def to_numpy(buf):  # (time, d, batch) -> (batch, time, d)
        return None if buf is None else buf.permute(2, 0, 1).cpu().numpy().astype(dtype,
                                                                                  copy=False)

    return xs, to_numpy(zb), to_numpy(kb), to_numpy(lb)
