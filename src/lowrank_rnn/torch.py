"""The library's rate network as a PyTorch module: :class:`LowRankModule`.

Same equation and Euler discretisation as :func:`lowrank_rnn.simulate.simulate` ("A new look at
low-rank RNNs", eq 1-3; Herbert & Ostojic 2022, eq 1)::

    x_{k+1} = x_k + (dt/tau) (-x_k + J phi(x_k) + I u_k) + (noise/tau) sqrt(dt) xi_k
    z_k     = readout_scale * W^T phi(x_{k+1})

    J = scale * (M N^T [⊙ X]) + random

For inputs of shape ``(batch, time, d_in)`` the module returns the readouts after each input,
``z`` of shape ``(batch, time, d_out)``, i.e. ``simulate(net, inputs, x0, dt=dt).z[:, 1:]``
(and the states ``simulate(...).x[:, 1:]`` with ``return_states=True``). Every structure of
:class:`~lowrank_rnn.network.LowRankRNN` is kept: pure low rank (O(N R) per step), a CSR mask X
(the masked values ``scale m_i . n_j`` are evaluated on the mask's non-zeros only and summed by
a weighted gather, ``embedding_bag``, so gradients reach M and N), a sparse or dense random part.

The module is an ordinary :class:`torch.nn.Module` defined at module level: it pickles, moves
with ``.to(device)``, its ``state_dict()`` carries the scalars (scale, tau, dt, phi, ...) as
extra state so that :meth:`LowRankModule.from_state_dict` rebuilds it from a state dict alone,
and its parameters train with any ``torch.optim`` optimiser in a user's own loop.

Importing :mod:`lowrank_rnn` does not import this module (nor PyTorch).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from lowrank_rnn._validate import check_choice, check_real
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.transfer import PHI_NAMES

__all__ = ["LowRankModule", "TRAINABLE"]

#: Names that may be trained: the factors, the input and readout loadings, the random part.
TRAINABLE = ("M", "N", "I", "W", "random")

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _phi(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "tanh":
        return torch.tanh(x)
    if name == "relu":
        return torch.relu(x)
    return x


def _dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype={dtype}: expected torch.float32 or torch.float64")
        return dtype
    try:
        name = np.dtype(dtype).name
    except TypeError as err:
        raise ValueError(f"dtype={dtype!r}: expected 'float32' or 'float64'") from err
    check_choice("dtype", name, tuple(_DTYPES))
    return _DTYPES[name]


def _csr_parts(name: str, value: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import scipy.sparse as sp

    if not sp.issparse(value):
        raise ValueError(f"{name}: expected a scipy.sparse matrix")
    csr = sp.csr_array(value)
    if csr.shape != (n, n):
        raise ValueError(f"{name}: expected shape ({n}, {n}), got {csr.shape}")
    csr = csr.copy()
    csr.sort_indices()
    return csr.indptr.astype(np.int64), csr.indices.astype(np.int64), np.asarray(csr.data)


class LowRankModule(torch.nn.Module):
    """A low-rank rate network as a trainable PyTorch module (module docstring: the equation).

    Parameters
    ----------
    M, N : array or tensor, shape (n_neurons, rank)
        Connectivity factors (J = scale M N^T, masked by ``mask`` if given).
    I : array or tensor, shape (n_neurons, d_in), optional
        Input loadings.
    W : array or tensor, shape (n_neurons, d_out), optional
        Readout weights.
    dt : float
        Euler time step (> 0), in units of tau.
    scale, readout_scale : float
        Scales of the low-rank part and of the readout.
    tau : float
        Time constant (> 0).
    phi : {'tanh', 'relu', 'linear'}
    random : array, tensor or scipy.sparse matrix, shape (n_neurons, n_neurons), optional
        Additive random connectivity (dense, or sparse: only its non-zeros are stored).
    mask : scipy.sparse matrix, shape (n_neurons, n_neurons), optional
        Binary mask X of the low-rank part (its non-zero pattern is used).
    trainable : sequence of str, optional
        Which of :data:`TRAINABLE` are ``Parameter`` s (the others are buffers); default
        M, N, I, W (those present).
    dtype : {'float32', 'float64'} or torch dtype
    device : str or torch.device, optional

    Examples
    --------
    >>> import numpy as np, torch
    >>> from lowrank_rnn import LowRankRNN
    >>> net = LowRankRNN(M=np.ones((4, 1)), N=np.ones((4, 1)), I=np.ones((4, 1)),
    ...                  W=np.ones((4, 1)), scale=0.25)
    >>> module = LowRankModule.from_network(net, dt=0.1)
    >>> module(torch.zeros(2, 5, 1)).shape
    torch.Size([2, 5, 1])
    """

    def __init__(
        self,
        M: Any,
        N: Any,
        I: Any = None,
        W: Any = None,
        *,
        dt: float,
        scale: float = 1.0,
        readout_scale: float = 1.0,
        tau: float = 1.0,
        phi: str = "tanh",
        random: Any = None,
        mask: Any = None,
        trainable: Sequence[str] | None = None,
        dtype: Any = "float32",
        device: Any = None,
    ) -> None:
        super().__init__()
        import scipy.sparse as sp

        tdt = _dtype(dtype)
        self.dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
        self.tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
        self.scale = check_real("scale", scale)
        self.readout_scale = check_real("readout_scale", readout_scale)
        self.phi = check_choice("phi", phi, PHI_NAMES)

        def tensor(name: str, value: Any, ndim: int, rows: int | None) -> torch.Tensor:
            t = torch.as_tensor(value.detach() if isinstance(value, torch.Tensor) else
                                np.asarray(value, dtype=float))
            t = t.to(dtype=tdt, device=device)
            if t.ndim == 1 and ndim == 2:
                t = t[:, None]
            if t.ndim != ndim or (rows is not None and t.shape[0] != rows):
                want = f"({rows if rows is not None else 'n_neurons'}, k)"
                raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}")
            if not torch.isfinite(t).all():
                raise ValueError(f"{name}: contains non-finite values")
            return t.clone()

        Mt = tensor("M", M, 2, None)
        n = int(Mt.shape[0])
        if n < 1:
            raise ValueError(f"M: needs at least one neuron (row), got shape {tuple(Mt.shape)}")
        Nt = tensor("N", N, 2, n)
        if Nt.shape != Mt.shape:
            raise ValueError(f"N: expected shape {tuple(Mt.shape)} like M, got {tuple(Nt.shape)}")
        values: dict[str, torch.Tensor] = {"M": Mt, "N": Nt}
        if I is not None:
            values["I"] = tensor("I", I, 2, n)
        if W is not None:
            values["W"] = tensor("W", W, 2, n)
        self.random_kind = "none"
        if random is not None:
            if sp.issparse(random):
                indptr, indices, data = _csr_parts("random", random, n)
                self.register_buffer("random_indptr", torch.as_tensor(indptr, device=device))
                self.register_buffer("random_indices", torch.as_tensor(indices, device=device))
                values["random"] = tensor("random", data, 1, None)
                self.random_kind = "sparse"
            else:
                values["random"] = tensor("random", random, 2, n)
                if values["random"].shape != (n, n):
                    raise ValueError(f"random: expected shape ({n}, {n}), got "
                                     f"{tuple(values['random'].shape)}")
                self.random_kind = "dense"
        self.masked = mask is not None
        if mask is not None:
            indptr, indices, _ = _csr_parts("mask", mask, n)
            self.register_buffer("mask_indptr", torch.as_tensor(indptr, device=device))
            self.register_buffer("mask_indices", torch.as_tensor(indices, device=device))
            rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
            self.register_buffer("mask_rows", torch.as_tensor(rows, device=device),
                                 persistent=False)
        if trainable is None:
            trainable = tuple(k for k in ("M", "N", "I", "W") if k in values)
        trainable = tuple(trainable)
        for name in trainable:
            check_choice("trainable", name, TRAINABLE)
            if name not in values:
                raise ValueError(f"trainable={list(trainable)}: the module has no {name}")
        for key, value in values.items():
            if key in trainable:
                self.register_parameter(key, torch.nn.Parameter(value))
            else:
                self.register_buffer(key, value)
        self.trainable = trainable

    # ------------------------------------------------------------------ description
    @property
    def n_neurons(self) -> int:
        """Number of neurons N."""
        return int(self.M.shape[0])

    @property
    def rank(self) -> int:
        """Rank R of the structured part."""
        return int(self.M.shape[1])

    @property
    def d_in(self) -> int:
        """Number of input channels (0 without I)."""
        return int(self.I.shape[1]) if hasattr(self, "I") else 0

    @property
    def d_out(self) -> int:
        """Number of readout channels (0 without W)."""
        return int(self.W.shape[1]) if hasattr(self, "W") else 0

    def extra_repr(self) -> str:
        return (f"n_neurons={self.n_neurons}, rank={self.rank}, d_in={self.d_in}, "
                f"d_out={self.d_out}, phi={self.phi!r}, dt={self.dt}, tau={self.tau}, "
                f"masked={self.masked}, random={self.random_kind!r}")

    # ------------------------------------------------------------------ conversion
    @classmethod
    def from_network(
        cls,
        net: LowRankRNN,
        *,
        dt: float,
        trainable: Sequence[str] | None = None,
        dtype: Any = "float32",
        device: Any = None,
    ) -> LowRankModule:
        """The module of a :class:`LowRankRNN` (every field kept; see the class parameters)."""
        if not isinstance(net, LowRankRNN):
            raise ValueError(f"net: expected a LowRankRNN, got {type(net).__name__}")
        return cls(net.M, net.N, net.I, net.W, dt=dt, scale=net.scale,
                   readout_scale=net.readout_scale, tau=net.tau, phi=net.phi, random=net.random,
                   mask=net.mask, trainable=trainable, dtype=dtype, device=device)

    def to_network(self) -> LowRankRNN:
        """The module's current weights as a :class:`LowRankRNN` (float64 arrays)."""
        import scipy.sparse as sp

        def arr(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().to(torch.float64).numpy().copy()

        n = self.n_neurons
        random = None
        if self.random_kind == "dense":
            random = arr(self.random)
        elif self.random_kind == "sparse":
            random = sp.csr_array((arr(self.random), self.random_indices.cpu().numpy(),
                                   self.random_indptr.cpu().numpy()), shape=(n, n))
        mask = None
        if self.masked:
            indices = self.mask_indices.cpu().numpy()
            mask = sp.csr_array((np.ones(indices.size, dtype=bool), indices,
                                 self.mask_indptr.cpu().numpy()), shape=(n, n))
        return LowRankRNN(
            M=arr(self.M), N=arr(self.N), I=arr(self.I) if self.d_in else None,
            W=arr(self.W) if self.d_out else None, random=random, mask=mask, scale=self.scale,
            readout_scale=self.readout_scale, tau=self.tau, phi=self.phi,
        )

    # ------------------------------------------------------------------ state dict
    def get_extra_state(self) -> dict[str, Any]:
        """The scalars of the equation (stored in ``state_dict()`` as plain Python values)."""
        return {"dt": self.dt, "tau": self.tau, "scale": self.scale,
                "readout_scale": self.readout_scale, "phi": self.phi,
                "random_kind": self.random_kind, "masked": self.masked,
                "trainable": list(self.trainable)}

    def set_extra_state(self, state: Any) -> None:
        """Restore the scalars from :meth:`get_extra_state` (structure must match)."""
        if not isinstance(state, Mapping):
            raise ValueError(f"extra state: expected a dict, got {type(state).__name__}")
        if state.get("random_kind") != self.random_kind or bool(state.get("masked")) != \
                self.masked:
            raise ValueError(
                f"state dict: structure (random={state.get('random_kind')!r}, masked="
                f"{state.get('masked')}) differs from this module's (random="
                f"{self.random_kind!r}, masked={self.masked})"
            )
        self.dt = check_real("dt", state["dt"], minimum=0.0, min_inclusive=False)
        self.tau = check_real("tau", state["tau"], minimum=0.0, min_inclusive=False)
        self.scale = check_real("scale", state["scale"])
        self.readout_scale = check_real("readout_scale", state["readout_scale"])
        self.phi = check_choice("phi", state["phi"], PHI_NAMES)
        if self.masked:  # the row of each non-zero follows the (possibly new) index pointer
            counts = torch.diff(self.mask_indptr)
            self.mask_rows = torch.repeat_interleave(
                torch.arange(self.n_neurons, device=counts.device), counts)

    @classmethod
    def from_state_dict(
        cls, state_dict: Mapping[str, Any], *, device: Any = None
    ) -> LowRankModule:
        """Rebuild a module from its ``state_dict()`` alone (e.g. one read with
        ``torch.load(path, weights_only=True)``)."""
        if not isinstance(state_dict, Mapping) or "_extra_state" not in state_dict:
            raise ValueError("state_dict: expected a LowRankModule state dict (with the "
                             "'_extra_state' entry written by LowRankModule.state_dict())")
        extra = state_dict["_extra_state"]
        if not isinstance(extra, Mapping):
            raise ValueError("state_dict: '_extra_state' is not a dict")
        for key in ("M", "N"):
            if key not in state_dict:
                raise ValueError(f"state_dict: missing {key!r}")
        n = int(state_dict["M"].shape[0])
        cpu = {k: v.detach().cpu() for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
        random, mask = _stored_blocks(cpu, extra, n)
        module = cls(
            cpu["M"], cpu["N"], cpu.get("I"), cpu.get("W"), dt=extra["dt"], scale=extra["scale"],
            readout_scale=extra["readout_scale"], tau=extra["tau"], phi=extra["phi"],
            random=random, mask=mask, trainable=tuple(extra.get("trainable", ("M", "N"))),
            dtype=cpu["M"].dtype, device=device,
        )
        module.load_state_dict(state_dict)
        return module

    # ------------------------------------------------------------------ dynamics
    def recurrent_input(self, r: torch.Tensor) -> torch.Tensor:
        """``J r`` for rates ``r`` of shape (batch, N), without forming J; shape (batch, N)."""
        n = self.n_neurons
        if self.masked:
            vals = self.scale * (self.M[self.mask_rows] * self.N[self.mask_indices]).sum(-1)
            out = torch.nn.functional.embedding_bag(
                self.mask_indices, r.T, self.mask_indptr[:-1], mode="sum",
                per_sample_weights=vals,
            ).T
        else:
            out = self.scale * ((r @ self.N) @ self.M.T)
        if self.random_kind == "dense":
            out = out + r @ self.random.T
        elif self.random_kind == "sparse":
            out = out + torch.nn.functional.embedding_bag(
                self.random_indices, r.T, self.random_indptr[:-1], mode="sum",
                per_sample_weights=self.random,
            ).T
        return out.reshape(r.shape[0], n)

    def forward(
        self,
        inputs: Any,
        x0: Any = None,
        *,
        noise: float | Any = 0.0,
        generator: torch.Generator | None = None,
        return_states: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Integrate the network over the inputs (Euler-Maruyama, as ``simulate``).

        Parameters
        ----------
        inputs : tensor, shape (batch, time, d_in)
            ``u_k`` used at step k.
        x0 : tensor, shape (N,) or (batch, N), optional
            Initial state (zeros by default).
        noise : float or tensor of shape (N,)
            White-noise amplitude per neuron (``tau dx = ... dt + noise dW``).
        generator : torch.Generator, optional
            Stream of the noise.
        return_states : bool
            Also return the states.

        Returns
        -------
        z : tensor, shape (batch, time, d_out)
            ``readout_scale W^T phi(x_{k+1})`` after each input: ``simulate(...).z[:, 1:]``.
        x : tensor, shape (batch, time, N)
            With ``return_states=True``: the states ``x_{k+1}`` (``simulate(...).x[:, 1:]``).
        """
        ref = self.M
        u = torch.as_tensor(inputs, dtype=ref.dtype, device=ref.device)
        if u.ndim != 3 or u.shape[2] != self.d_in:
            raise ValueError(f"inputs: expected shape (batch, time, {self.d_in}), got "
                             f"{tuple(u.shape)}")
        b, n_t, _ = u.shape
        n = self.n_neurons
        if x0 is None:
            x = u.new_zeros((b, n))
        else:
            x = torch.as_tensor(x0, dtype=ref.dtype, device=ref.device)
            if x.shape not in ((n,), (b, n)):
                raise ValueError(f"x0: expected shape ({n},) or ({b}, {n}), got "
                                 f"{tuple(x.shape)}")
            x = x.expand(b, n)
        sd = torch.as_tensor(noise, dtype=ref.dtype, device=ref.device)
        if sd.ndim > 1 or (sd.ndim == 1 and sd.shape[0] != n) or (sd < 0).any():
            raise ValueError(f"noise: expected a scalar or shape ({n},) of values >= 0")
        noisy = bool((sd > 0).any())
        sd = sd * (math.sqrt(self.dt) / self.tau)
        a = self.dt / self.tau
        drive = u @ self.I.T if self.d_in else None  # (batch, time, N)
        states = []
        r = _phi(self.phi, x)
        for k in range(n_t):
            step = self.recurrent_input(r) - x
            if drive is not None:
                step = step + drive[:, k]
            x = x + a * step
            if noisy:
                xi = torch.randn((b, n), generator=generator, dtype=x.dtype, device=x.device)
                x = x + sd * xi
            r = _phi(self.phi, x)
            states.append(x)
        xs = torch.stack(states, dim=1) if states else u.new_zeros((b, 0, n))
        if self.d_out:
            z = self.readout_scale * (_phi(self.phi, xs) @ self.W)
        else:
            z = xs.new_zeros((b, n_t, 0))
        return (z, xs) if return_states else z


def _stored_blocks(cpu: Mapping[str, Any], extra: Mapping[str, Any], n: int) -> tuple[Any, Any]:
    """The random part and the mask of a stored module, rebuilt from its state-dict tensors.

    ``cpu`` holds the state dict's tensors on the CPU, ``extra`` its ``_extra_state``; returns
    ``(random, mask)``: a dense tensor or CSR array (or None), and a CSR mask (or None).
    """
    import scipy.sparse as sp

    random = None
    kind = extra.get("random_kind", "none")
    if kind == "dense":
        random = cpu["random"]
    elif kind == "sparse":
        random = sp.csr_array((cpu["random"].numpy(), cpu["random_indices"].numpy(),
                               cpu["random_indptr"].numpy()), shape=(n, n))
    mask = None
    if extra.get("masked"):
        idx = cpu["mask_indices"].numpy()
        mask = sp.csr_array((np.ones(idx.size, bool), idx, cpu["mask_indptr"].numpy()),
                            shape=(n, n))
    return random, mask
