"""The torch module trained by :class:`lowrank_rnn.fit.bptt.BPTTTrainer` (imports PyTorch).

Defined at module level so that it pickles, can be imported, subclassed and reused. The trainer
talks to it only through ``forward``, ``named_parameters``/``state_dict`` and the array names
below, so a public module with the same interface can replace it.

Equation and discretisation of :func:`lowrank_rnn.simulate.simulate` ("A new look at low-rank
RNNs", eq 1-3), with an optional bias ``b`` and output bias ``b_out``::

    x_{k+1} = x_k + (dt/tau) (-x_k + J phi(x_k) + I u_k + b) + (noise/tau) sqrt(dt) xi_k
    z_k     = readout_scale * W^T phi(x_{k+1}) + b_out

    J = scale * (M N^T [⊙ X]) + J_0          (low rank; X a fixed 0/1 mask, J_0 fixed)
    J = J_free [⊙ X]                          (full rank)
    Dale's law: J -> |J| diag(s), s_j = ±1 the sign of presynaptic neuron j

Pure low rank costs O(N R) per trial and step (``(r N) M^T``); a mask, Dale's law or a dense
part make the recurrent matrix dense, formed once per forward pass and applied in O(N^2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["RateModule", "BLOCKS"]

#: Array blocks of the module: connectivity factors, full matrix, inputs, readout, biases, x0.
BLOCKS = ("M", "N", "J", "I", "W", "b", "b_out", "x0")


def _phi(name: str) -> Any:
    return {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda v: v}[name]


class RateModule(torch.nn.Module):
    """Euler-discretised rate network (module docstring: the equation).

    Parameters
    ----------
    arrays : dict of str to ndarray
        Initial values of the blocks (:data:`BLOCKS`); ``M``/``N`` (n_neurons, rank) and/or ``J``
        (n_neurons, n_neurons), ``I`` (n_neurons, d_in), ``W`` (n_neurons, d_out); ``b``
        (n_neurons,), ``b_out`` (d_out,), ``x0`` (n_neurons,) default to zeros.
    trainable : sequence of str
        Blocks that are ``Parameter`` s; the others are buffers.
    dt, tau : float
        Time step and time constant (``a = dt / tau``).
    phi : {'tanh', 'relu', 'linear'}
    scale : float
        Scale of the low-rank product.
    readout_scale : float
    mask : ndarray of bool, shape (n_neurons, n_neurons), optional
        Fixed connectivity mask X (of the low-rank product, or of J when there are no factors).
    signs : ndarray, shape (n_neurons,), optional
        Dale's law: +1 (excitatory) or -1 (inhibitory) per presynaptic neuron.
    x0_input : int, optional
        Start at ``I[:, x0_input]`` instead of ``x0``.
    dtype, device : torch dtype and device
    """

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        *,
        trainable: Sequence[str],
        dt: float,
        tau: float,
        phi: str,
        scale: float,
        readout_scale: float,
        mask: np.ndarray | None = None,
        signs: np.ndarray | None = None,
        x0_input: int | None = None,
        dtype: Any = torch.float32,
        device: Any = "cpu",
    ) -> None:
        super().__init__()
        n = int(arrays["I"].shape[0])
        d_out = int(arrays["W"].shape[1])
        full = dict(arrays)
        full.setdefault("b", np.zeros(n))
        full.setdefault("b_out", np.zeros(d_out))
        full.setdefault("x0", np.zeros(n))
        for key in BLOCKS:
            if key not in full:
                continue
            t = torch.tensor(np.asarray(full[key], dtype=float), dtype=dtype, device=device)
            if key in trainable:
                self.register_parameter(key, torch.nn.Parameter(t))
            else:
                self.register_buffer(key, t)
        self.has_factors = "M" in full
        self.has_J = "J" in full
        self.masked = mask is not None
        if mask is not None:
            self.register_buffer("mask", torch.tensor(np.asarray(mask, bool), device=device))
        self.dale = signs is not None
        if signs is not None:
            self.register_buffer("signs", torch.tensor(np.asarray(signs, dtype=float),
                                                       dtype=dtype, device=device))
        self.n_neurons = n
        self.phi_name = phi
        self.phi = _phi(phi)
        self.dt, self.tau = float(dt), float(tau)
        self.a = self.dt / self.tau
        self.scale = float(scale)
        self.readout_scale = float(readout_scale)
        self.x0_input = x0_input
        self.trainable = tuple(trainable)

    # ------------------------------------------------------------------ connectivity
    @property
    def dense(self) -> bool:
        """Whether the recurrent matrix is formed densely (mask, Dale's law or a J block)."""
        return self.masked or self.dale or self.has_J

    def effective_J(self) -> torch.Tensor:
        """The recurrent matrix J (n_neurons, n_neurons) after mask and Dale's law."""
        J = None
        if self.has_factors:
            J = self.scale * (self.M @ self.N.T)
            if self.masked:
                J = J * self.mask
        if self.has_J:
            J0 = self.J * self.mask if (self.masked and not self.has_factors) else self.J
            J = J0 if J is None else J + J0
        if self.dale:
            J = J.abs() * self.signs
        return J

    def initial_state(self) -> torch.Tensor:
        """x0 of shape (n_neurons,)."""
        return self.I[:, self.x0_input] if self.x0_input is not None else self.x0

    # ------------------------------------------------------------------ dynamics
    def forward(
        self,
        u: torch.Tensor,
        x0: torch.Tensor | None = None,
        noise: float = 0.0,
        generator: torch.Generator | None = None,
        return_states: bool = False,
        return_rates: bool = False,
    ) -> Any:
        """Outputs ``z`` (batch, time, d_out) after each input of ``u`` (batch, time, d_in).

        ``return_states`` adds the states ``x_{k+1}`` (batch, time, N); ``return_rates`` the
        rates ``phi(x_{k+1})`` (batch, time, N). Both: ``(z, x, r)``.
        """
        b, n_t, _ = u.shape
        n = self.n_neurons
        a = self.a
        x = (self.initial_state() if x0 is None else x0).expand(b, n)
        # a (I u_k + b) for every step at once; unbind gives per-step views whose backward is a
        # single stack (indexing drive[:, k] would allocate a full-size gradient per step)
        drive = torch.addmm(self.b * a, u.reshape(b * n_t, -1), self.I.T * a)
        drive = drive.reshape(b, n_t, n).unbind(1)
        if self.dense:
            rec_t = self.effective_J().T * a
            lr_n = lr_m = None
        else:
            rec_t = None
            lr_n, lr_m = self.N, self.M.T * (a * self.scale)
        sd = noise * math.sqrt(self.dt) / self.tau
        w_out = self.W * self.readout_scale
        r = self.phi(x)
        outs, rates, states = [], [], []
        for dk in drive:
            if rec_t is not None:
                y = torch.addmm(dk, r, rec_t)
            else:
                y = torch.addmm(dk, r @ lr_n, lr_m)
            x = y.add_(x, alpha=1.0 - a)  # (1 - a) x + a (J r + I u + b)
            if sd > 0:
                x = x + sd * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                         device=x.device)
            r = self.phi(x)
            # the readout per step: no (batch, time, N) stack of rates is formed unless asked
            outs.append(torch.addmm(self.b_out, r, w_out))
            if return_rates:
                rates.append(r)
            if return_states:
                states.append(x)
        z = torch.stack(outs, dim=1)
        rs = torch.stack(rates, dim=1) if return_rates else None
        if return_states and return_rates:
            return z, torch.stack(states, dim=1), rs
        if return_states:
            return z, torch.stack(states, dim=1)
        if return_rates:
            return z, rs
        return z
