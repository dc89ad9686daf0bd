"""Models of the Ostojic lab's ``low_rank_rnns`` package, in and out.

That package (used by Dubreuil, Valente, Beiran et al.) trains low-rank RNNs in PyTorch and
stores them as state dicts with keys ``wi, si, m, n, wo, so, h0`` (and ``b``). Its discretised
equation is the library's ("A new look at low-rank RNNs", eq 1-3) written with other
conventions: recurrence and readout divided by N, ``alpha = dt / tau``, input weights of shape
``(d_in, N)`` scaled per channel by ``si``, readout scaled by ``so``, an initial state ``h0`` and
a noise of standard deviation ``noise_std`` added at every step. :func:`from_low_rank_rnns`
maps such a model onto a :class:`~lowrank_rnn.network.LowRankRNN` plus its initial state, time
step and noise; :func:`to_low_rank_rnns` goes back. Files are read without unpickling
(``torch.load(weights_only=True)``, or ``.npz`` with ``allow_pickle=False``).

This lives beside the library's own models, not in :mod:`lowrank_rnn.io`: the file format is a
low-level service every class registers with, while this converter needs the network class
(and PyTorch for ``.pt`` files).
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lowrank_rnn._io import atomic_path
from lowrank_rnn._validate import check_choice, check_real
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.transfer import PHI_NAMES

__all__ = ["LowRankRNNsModel", "from_low_rank_rnns", "to_low_rank_rnns"]


@dataclass(frozen=True, eq=False)
class LowRankRNNsModel:
    """A model of the ``low_rank_rnns`` package as a library network plus its settings.

    Attributes
    ----------
    network : LowRankRNN
    x0 : ndarray, shape (N,)
        Initial state (their ``h0``).
    dt : float
        Time step of their discretisation (``alpha * tau``).
    noise : float
        Noise amplitude for :func:`lowrank_rnn.simulate.simulate` equal to their per-step
        ``noise_std`` (``noise = noise_std * tau / sqrt(dt)``).
    """

    network: Any
    x0: np.ndarray
    dt: float
    noise: float = 0.0

    def predict(self, inputs: np.ndarray, *, rng: Any = None, **kwargs: Any) -> np.ndarray:
        """Their ``forward(inputs)``: outputs of shape (batch, time, d_out) after each input.

        Runs :func:`lowrank_rnn.simulate.simulate` from ``x0`` and drops the initial readout.
        """
        from lowrank_rnn.simulate import simulate

        traj = simulate(self.network, inputs, self.x0, dt=self.dt, noise=self.noise, rng=rng,
                        **kwargs)
        return traj.z[:, 1:]


_LRR_KEYS = ("wi", "si", "m", "n", "wo", "so", "h0")


def _state_arrays(source: Any) -> tuple[dict[str, np.ndarray], str]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"state_dict={str(path)!r}: no such file")
        with open(path, "rb") as fh:
            head = fh.read(4)
        if path.suffix == ".npz":
            try:
                with np.load(path, allow_pickle=False) as data:
                    raw = {k: data[k] for k in data.files}
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
                raise ValueError(f"{path}: not a readable .npz of arrays ({err})") from err
        else:
            try:
                import torch
            except ImportError as err:  # pragma: no cover - torch is an optional extra
                raise ValueError(f"{path}: reading a .pt file needs PyTorch "
                                 "(pip install 'lowrank-rnn[torch]')") from err
            try:
                raw = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as err:  # noqa: BLE001 - every failure of an untrusted file
                kind = "a ZIP archive" if head == b"PK\x03\x04" else "not a torch file"
                raise ValueError(f"{path}: not a state dict that loads with "
                                 f"weights_only=True ({kind}: {err})") from err
        label = str(path)
    else:
        raw, label = source, "state_dict"
    if isinstance(raw, Mapping) and "state_dict" in raw and isinstance(raw["state_dict"],
                                                                       Mapping):
        raw = raw["state_dict"]
    if not isinstance(raw, Mapping):
        raise ValueError(f"{label}: expected a mapping of parameter names to tensors, got "
                         f"{type(raw).__name__}")
    out = {}
    for key, value in raw.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().double().numpy()
        out[str(key)] = np.asarray(value, dtype=float)
    return out, label


def from_low_rank_rnns(
    state_dict: Any,
    *,
    alpha: float,
    tau: float = 1.0,
    noise_std: float = 0.0,
    recurrent_scale: str | float = "1/N",
    readout_scale: str | float = "1/N",
    phi: str = "tanh",
) -> LowRankRNNsModel:
    """Import a low-rank model of the Ostojic lab's ``low_rank_rnns`` package.

    Their update (``LowRankRNN.forward``), for inputs ``u_k`` of shape (batch, d_in)::

        h_{k+1} = h_k + noise_std xi_k + alpha (-h_k + phi(h_k) n m^T / N + u_k (si * wi))
        out_k   = phi(h_{k+1}) (wo * so) / N,        h_0 = h0

    with ``wi`` (d_in, N), ``si`` (d_in,), ``m, n`` (N, R), ``wo`` (N, d_out), ``so`` (d_out,),
    ``h0`` (N,). It is the library's equation ("A new look at low-rank RNNs", eq 1-3, as
    :func:`lowrank_rnn.simulate.simulate` integrates it) with ``M = m``, ``N = n``,
    ``scale = 1/N``, ``I = (si * wi)^T``, ``W = wo * so``, ``readout_scale = 1/N``,
    ``dt = alpha tau``, ``x0 = h0`` and ``noise = noise_std tau / sqrt(dt)``; their outputs
    are ``simulate(...).z[:, 1:]`` (:meth:`LowRankRNNsModel.predict`).

    Parameters
    ----------
    state_dict : mapping or path
        Their ``state_dict()`` (torch tensors or numpy arrays), or a ``.pt`` file of it (read
        with ``torch.load(weights_only=True)``: nothing is unpickled) or a ``.npz`` of arrays.
        A bias ``b`` must be zero (the library's phi takes no bias); ``rec_noise`` (older
        versions' quenched random part) becomes the dense random part.
    alpha : float
        Their ``alpha = dt / tau`` (a constructor argument, not in the state dict), in (0, 1].
    tau : float
        The time constant to use (sets ``dt = alpha tau``).
    noise_std : float
        Their per-step noise standard deviation.
    recurrent_scale, readout_scale : '1/N' or float
        Scale of ``m n^T`` and of the readout: ``'1/N'`` as in their current ``LowRankRNN``;
        older versions and variants use 1.
    phi : {'tanh', 'relu', 'linear'}
        Their ``non_linearity`` (tanh by default; the output non-linearity must be the same).

    Returns
    -------
    LowRankRNNsModel
    """
    alpha = check_real("alpha", alpha, minimum=0.0, maximum=1.0, min_inclusive=False)
    tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
    noise_std = check_real("noise_std", noise_std, minimum=0.0)
    check_choice("phi", phi, PHI_NAMES)
    arrays, label = _state_arrays(state_dict)
    missing = [k for k in ("m", "n", "wo") if k not in arrays]
    if missing:
        raise ValueError(f"{label}: missing keys {missing}; a low_rank_rnns LowRankRNN state "
                         f"dict has {', '.join(_LRR_KEYS)}")
    m, n, wo = arrays["m"], arrays["n"], arrays["wo"]
    if m.ndim != 2 or n.shape != m.shape:
        raise ValueError(f"{label}: m and n must both have shape (N, rank), got {m.shape} "
                         f"and {n.shape}")
    size = m.shape[0]
    if wo.ndim != 2 or wo.shape[0] != size:
        raise ValueError(f"{label}: wo must have shape ({size}, d_out), got {wo.shape}")
    so = arrays.get("so", np.ones(wo.shape[1]))
    if so.shape != (wo.shape[1],):
        raise ValueError(f"{label}: so must have shape ({wo.shape[1]},), got {so.shape}")
    I = None
    if "wi" in arrays and arrays["wi"].size:
        wi = arrays["wi"]
        if wi.ndim != 2 or wi.shape[1] != size:
            raise ValueError(f"{label}: wi must have shape (d_in, {size}), got {wi.shape}")
        si = arrays.get("si", np.ones(wi.shape[0]))
        if si.shape != (wi.shape[0],):
            raise ValueError(f"{label}: si must have shape ({wi.shape[0]},), got {si.shape}")
        I = (si[:, None] * wi).T
    h0 = arrays.get("h0", np.zeros(size))
    if h0.shape != (size,):
        raise ValueError(f"{label}: h0 must have shape ({size},), got {h0.shape}")
    b = arrays.get("b")
    if b is not None and np.any(b != 0):
        raise ValueError(f"{label}: a non-zero bias b (phi(h + b)) has no counterpart in the "
                         "library's equation")
    random = arrays.get("rec_noise")
    if random is not None and not np.any(random):
        random = None

    def scale_of(name: str, value: str | float) -> float:
        if isinstance(value, str):
            check_choice(name, value, ("1/N",))
            return 1.0 / size
        return check_real(name, value)

    dt = alpha * tau
    net = LowRankRNN(
        M=m, N=n, I=I, W=wo * so[None, :], random=random,
        scale=scale_of("recurrent_scale", recurrent_scale),
        readout_scale=scale_of("readout_scale", readout_scale), tau=tau, phi=phi,
    )
    return LowRankRNNsModel(net, h0, dt, noise_std * tau / math.sqrt(dt))


def to_low_rank_rnns(
    net: Any,
    *,
    dt: float,
    x0: np.ndarray | None = None,
    noise: float = 0.0,
    path: str | os.PathLike[str] | None = None,
    include_bias: bool = True,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Export a pure low-rank network to the ``low_rank_rnns`` conventions (inverse of
    :func:`from_low_rank_rnns`).

    ``m = M``, ``n = N scale N_neurons`` (so that ``m n^T / N = scale M N^T``),
    ``wi = I^T``, ``si = 1``, ``wo = W readout_scale N_neurons``, ``so = 1``, ``h0 = x0``,
    ``alpha = dt / tau``, ``noise_std = noise sqrt(dt) / tau``.

    Parameters
    ----------
    net : LowRankRNN
        Without mask or random part, with a readout W.
    dt : float
        Time step (> 0, at most tau: their alpha is at most 1).
    x0 : ndarray, shape (N,), optional
        Initial state (zeros by default).
    noise : float
        The library's noise amplitude (see :func:`lowrank_rnn.simulate.simulate`).
    path : path, optional
        Also write the state dict there with ``torch.save`` (atomically).
    include_bias : bool
        Add their bias ``b = 0`` (present in current versions; drop it for older ones).
    dtype : {'float32', 'float64'}

    Returns
    -------
    dict
        ``state_dict`` (torch tensors with keys ``wi, si, m, n, wo, so, h0`` (and ``b``)),
        and the constructor arguments ``input_size``, ``hidden_size``, ``output_size``,
        ``rank``, ``alpha``, ``noise_std``.
    """
    if not isinstance(net, LowRankRNN):
        raise ValueError(f"net: expected a LowRankRNN, got {type(net).__name__}")
    if net.structure != "lowrank":
        raise ValueError(f"net: structure {net.structure!r}; low_rank_rnns' LowRankRNN holds only "
                         "the factors m, n (no mask, no random part)")
    if net.W is None:
        raise ValueError("net: has no readout W; low_rank_rnns models always have one (wo)")
    dt = check_real("dt", dt, minimum=0.0, maximum=net.tau, min_inclusive=False)
    noise = check_real("noise", noise, minimum=0.0)
    check_choice("dtype", dtype, ("float32", "float64"))
    size = net.n_neurons
    if x0 is None:
        x0 = np.zeros(size)
    x0 = np.asarray(x0, dtype=float)
    if x0.shape != (size,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0: expected a finite array of shape ({size},), got {x0.shape}")
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is an optional extra
        raise ValueError("to_low_rank_rnns: needs PyTorch (pip install 'lowrank-rnn[torch]')") \
            from err
    tdt = torch.float32 if dtype == "float32" else torch.float64
    d_in = net.d_in
    wi = net.I.T if net.I is not None else np.zeros((0, size))
    arrays = {
        "wi": wi, "si": np.ones(d_in), "m": net.M, "n": net.N * (net.scale * size),
        "wo": net.W * (net.readout_scale * size), "so": np.ones(net.d_out), "h0": x0,
    }
    if include_bias:
        arrays["b"] = np.zeros(size)
    state = {k: torch.tensor(np.ascontiguousarray(v), dtype=tdt) for k, v in arrays.items()}
    if path is not None:
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
    return {
        "state_dict": state, "input_size": d_in, "hidden_size": size,
        "output_size": net.d_out, "rank": net.rank, "alpha": dt / net.tau,
        "noise_std": noise * math.sqrt(dt) / net.tau, "non_linearity": net.phi,
    }
