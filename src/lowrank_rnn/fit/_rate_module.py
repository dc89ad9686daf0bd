"""The module trained by :class:`lowrank_rnn.fit.bptt.BPTTTrainer` (imports PyTorch).

:class:`TrainerModule` is the public :class:`lowrank_rnn.torch.LowRankModule` (same equation,
Euler step, structures, conversion and self-describing state dict) with what training setups
of the field add::

    x_{k+1} = x_k + (dt/tau) (-x_k + J phi(x_k) + I u_k + b) + (noise/tau) sqrt(dt) xi_k
    z_k     = readout_scale * W^T phi(x_{k+1}) + b_out,        x_0 = x0 (trainable)

    J = scale * (M N^T [⊙ X]) + random        (low rank; the random part fixed)
    J = J_free [⊙ X]                           (full rank: ``random`` is the trained matrix)
    Dale's law: J -> |J| diag(s), s_j = ±1 the sign of presynaptic neuron j

and a training forward pass that costs two fused kernels per step: pure low rank applies
``(r N) M^T`` in O(N R) per trial and step; a mask, Dale's law or a random/full part make the
recurrent matrix dense, formed once per forward pass and applied in O(N^2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.torch import LowRankModule, _stored_blocks

__all__ = ["TrainerModule", "BLOCKS"]

#: Trainable blocks: factors, the full matrix (``J``, stored as the module's ``random``),
#: inputs, readout, biases, initial state.
BLOCKS = ("M", "N", "J", "I", "W", "b", "b_out", "x0")


def _linear(v: torch.Tensor) -> torch.Tensor:
    return v


def _phi_fn(name: str) -> Any:
    return {"tanh": torch.tanh, "relu": torch.relu, "linear": _linear}[name]


class TrainerModule(LowRankModule):
    """A :class:`~lowrank_rnn.torch.LowRankModule` with biases, a trainable initial state,
    Dale's law and a full-rank mode (module docstring: the equation).

    Parameters
    ----------
    M, N, I, W, dt, scale, readout_scale, tau, phi, random, mask, dtype, device
        As :class:`~lowrank_rnn.torch.LowRankModule`.
    trainable : sequence of str
        Blocks of :data:`BLOCKS` that are parameters (``J`` = the full matrix).
    b : array, shape (n_neurons,), optional
        Bias (zeros by default).
    b_out : array, shape (d_out,), optional
        Output bias (zeros by default).
    x0 : array, shape (n_neurons,), optional
        Initial state (zeros by default).
    signs : array of ±1, shape (n_neurons,), optional
        Dale's law: the sign of every outgoing weight of each neuron.
    x0_input : int, optional
        Start at ``I[:, x0_input]`` instead of at ``x0``.
    full_rank : bool
        J is the dense ``random`` block alone (M and N are fixed zeros of rank one).
    """

    def __init__(
        self,
        M: Any,
        N: Any,
        I: Any,
        W: Any,
        *,
        dt: float,
        scale: float = 1.0,
        readout_scale: float = 1.0,
        tau: float = 1.0,
        phi: str = "tanh",
        random: Any = None,
        mask: Any = None,
        trainable: Sequence[str] = ("M", "N", "I", "W"),
        b: Any = None,
        b_out: Any = None,
        x0: Any = None,
        signs: Any = None,
        x0_input: int | None = None,
        full_rank: bool = False,
        dtype: Any = "float32",
        device: Any = None,
    ) -> None:
        trainable = tuple(trainable)
        for name in trainable:
            if name not in BLOCKS:
                raise ValueError(f"trainable={list(trainable)}: {name!r} is not one of {BLOCKS}")
        base = tuple("random" if k == "J" else k for k in trainable if k in
                     ("M", "N", "I", "W", "J"))
        super().__init__(M, N, I, W, dt=dt, scale=scale, readout_scale=readout_scale, tau=tau,
                         phi=phi, random=random, mask=mask, trainable=base, dtype=dtype,
                         device=device)
        ref = self.M
        n, d_out = self.n_neurons, self.d_out
        for key, value, size in (("b", b, n), ("b_out", b_out, d_out), ("x0", x0, n)):
            t = (torch.zeros(size, dtype=ref.dtype, device=ref.device) if value is None else
                 torch.as_tensor(np.asarray(value.detach().cpu() if isinstance(
                     value, torch.Tensor) else value, dtype=float), dtype=ref.dtype,
                     device=ref.device).reshape(-1).clone())
            if t.shape != (size,):
                raise ValueError(f"{key}: expected shape ({size},), got {tuple(t.shape)}")
            if key in trainable:
                self.register_parameter(key, torch.nn.Parameter(t))
            else:
                self.register_buffer(key, t)
        self.dale = signs is not None
        if signs is not None:
            s = torch.as_tensor(np.asarray(signs, dtype=float), dtype=ref.dtype,
                                device=ref.device)
            if s.shape != (n,) or not bool(((s == 1) | (s == -1)).all()):
                raise ValueError(f"signs: expected {n} values of +1 or -1")
            self.register_buffer("signs", s)
        if self.masked:
            dense = torch.zeros((n, n), dtype=torch.bool, device=ref.device)
            dense[self.mask_rows, self.mask_indices] = True
            self.register_buffer("mask_dense", dense, persistent=False)
        self.full_rank = bool(full_rank)
        if self.full_rank and self.random_kind != "dense":
            raise ValueError("full_rank=True: needs the full matrix as a dense random part")
        self.x0_input = x0_input
        self.trainer_trainable = trainable
        self._phi = _phi_fn(self.phi)

    # ------------------------------------------------------------------ description
    @property
    def J(self) -> torch.Tensor:
        """The full-rank matrix (full-rank mode) or the fixed random part."""
        return self.random

    @property
    def dense(self) -> bool:
        """Whether the recurrent matrix is formed densely once per forward pass."""
        return self.masked or self.dale or self.random_kind != "none"

    def effective_J(self) -> torch.Tensor:
        """The recurrent matrix J (n_neurons, n_neurons) after the mask and Dale's law."""
        n = self.n_neurons
        J = None
        if not self.full_rank:
            J = self.scale * (self.M @ self.N.T)
            if self.masked:
                J = J * self.mask_dense
        if self.random_kind == "dense":
            J0 = self.random * self.mask_dense if (self.full_rank and self.masked) else \
                self.random
        elif self.random_kind == "sparse":
            rows = torch.repeat_interleave(
                torch.arange(n, device=self.random.device), torch.diff(self.random_indptr))
            J0 = torch.zeros((n, n), dtype=self.random.dtype, device=self.random.device)
            J0 = J0.index_put((rows, self.random_indices), self.random)
        else:
            J0 = None
        if J0 is not None:
            J = J0 if J is None else J + J0
        if self.dale:
            J = J.abs() * self.signs
        return J

    def initial_state(self) -> torch.Tensor:
        """x0 of shape (n_neurons,)."""
        return self.I[:, self.x0_input] if self.x0_input is not None else self.x0

    # ------------------------------------------------------------------ state dict
    def get_extra_state(self) -> dict[str, Any]:
        """The base module's scalars plus the trainer's blocks and constraints."""
        state = super().get_extra_state()
        state.update({"trainer_trainable": list(self.trainer_trainable),
                      "x0_input": self.x0_input, "full_rank": self.full_rank,
                      "dale": self.dale})
        return state

    def set_extra_state(self, state: Any) -> None:
        """Restore the scalars (the structure must match)."""
        super().set_extra_state(state)
        if bool(state.get("dale")) != self.dale or bool(state.get("full_rank")) != \
                self.full_rank:
            raise ValueError("state dict: Dale's law / full-rank structure differs from this "
                             "module's")

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Any], *, device: Any = None
                        ) -> TrainerModule:
        """Rebuild a module from its ``state_dict()`` alone (e.g. read with
        ``torch.load(path, weights_only=True)``)."""
        if not isinstance(state_dict, Mapping) or not isinstance(
                state_dict.get("_extra_state"), Mapping):
            raise ValueError("state_dict: expected a TrainerModule state dict")
        extra = state_dict["_extra_state"]
        for key in ("M", "N", "I", "W", "b", "b_out", "x0"):
            if key not in state_dict:
                raise ValueError(f"state_dict: missing {key!r}")
        cpu = {k: v.detach().cpu() for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
        n = int(cpu["M"].shape[0])
        random, mask = _stored_blocks(cpu, extra, n)
        module = cls(
            cpu["M"], cpu["N"], cpu["I"], cpu["W"], dt=extra["dt"], scale=extra["scale"],
            readout_scale=extra["readout_scale"], tau=extra["tau"], phi=extra["phi"],
            random=random, mask=mask, trainable=tuple(extra["trainer_trainable"]),
            b=cpu["b"], b_out=cpu["b_out"], x0=cpu["x0"],
            signs=cpu["signs"].numpy() if "signs" in cpu else None,
            x0_input=extra.get("x0_input"), full_rank=bool(extra.get("full_rank")),
            dtype=cpu["M"].dtype, device=device,
        )
        module.load_state_dict(state_dict)
        return module

    # ------------------------------------------------------------------ conversion
    def to_network(self) -> LowRankRNN:
        """The module as a :class:`LowRankRNN` with the same dynamics.

        Low rank without Dale's law: the factors, mask and random part as they are. Full rank
        or Dale's law: the exact factorisation ``J = (U S) V^T`` of the effective matrix (SVD),
        rank N, ``scale = 1``. A bias ``b`` becomes one more input column (feed a constant 1 on
        it). An output bias has no counterpart in LowRankRNN: a non-zero one raises ValueError.
        """

        def arr(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().to(torch.float64).numpy().copy()

        if bool((self.b_out != 0).any()):
            raise ValueError(
                "to_network: the output bias b_out is non-zero and LowRankRNN has none; use "
                "predict(), or train without 'b_out'"
            )
        I = arr(self.I)
        if bool((self.b != 0).any()):
            I = np.concatenate([I, arr(self.b)[:, None]], axis=1)
        if not self.full_rank and not self.dale:
            net = super().to_network()
            return net.replace(I=I)
        with torch.no_grad():
            J = arr(self.effective_J())
        u, s, vt = np.linalg.svd(J)
        return LowRankRNN(M=u * s, N=vt.T, I=I, W=arr(self.W), scale=1.0,
                          readout_scale=self.readout_scale, tau=self.tau, phi=self.phi)

    # ------------------------------------------------------------------ dynamics
    def forward(
        self,
        inputs: Any,
        x0: Any = None,
        *,
        noise: float = 0.0,
        generator: torch.Generator | None = None,
        return_states: bool = False,
        return_rates: bool = False,
    ) -> Any:
        """Outputs ``z`` (batch, time, d_out) after each input of ``inputs`` (batch, time, d_in).

        ``return_states`` adds the states ``x_{k+1}`` (batch, time, N); ``return_rates`` the
        rates ``phi(x_{k+1})`` (batch, time, N); both: ``(z, x, r)``. Without a bias, output
        bias or trained x0 this equals :meth:`LowRankModule.forward`.
        """
        ref = self.M
        u = torch.as_tensor(inputs, dtype=ref.dtype, device=ref.device)
        if u.ndim != 3 or u.shape[2] != self.d_in:
            raise ValueError(f"inputs: expected shape (batch, time, {self.d_in}), got "
                             f"{tuple(u.shape)}")
        b, n_t, _ = u.shape
        n = self.n_neurons
        a = self.dt / self.tau
        x = (self.initial_state() if x0 is None else
             torch.as_tensor(x0, dtype=ref.dtype, device=ref.device)).expand(b, n)
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
        sd = float(noise) * math.sqrt(self.dt) / self.tau
        w_out = self.W * self.readout_scale
        phi = self._phi
        r = phi(x)
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
            r = phi(x)
            # the readout per step: no (batch, time, N) stack of rates unless asked for
            outs.append(torch.addmm(self.b_out, r, w_out))
            if return_rates:
                rates.append(r)
            if return_states:
                states.append(x)
        z = torch.stack(outs, dim=1) if outs else u.new_zeros((b, 0, self.d_out))
        if return_states and return_rates:
            return z, torch.stack(states, dim=1), torch.stack(rates, dim=1)
        if return_states:
            return z, torch.stack(states, dim=1)
        if return_rates:
            return z, torch.stack(rates, dim=1)
        return z
