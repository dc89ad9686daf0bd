"""Train several independent :class:`~lowrank_rnn.fit.bptt.BPTTTrainer` networks at once.

Networks that share their hyper-parameters (size, rank, learning rate, epochs, batch size) but
not their seed are trained as one stacked model: every block gets a leading network axis and the
per-step products become batched matrix products (``torch.bmm``), so that a CPU pays the
per-operation overhead of BPTT's small products once for the whole stack instead of once per
network. Each network keeps its own initial weights, trials and minibatch order (its trainer's
random stream), its own loss (the stacked objective is the sum of the networks' losses, so the
gradient of each network's blocks is that of its own loss), its own gradient-norm clip
(``clip_grad_norm_``'s rule applied to each network's gradients alone, never a norm across
networks) and its own Adam moments (Adam is element-wise and the learning rate is shared). The
result is the separate training of each network up to floating-point rounding; each trainer is
left as :meth:`BPTTTrainer.fit` leaves it (weights, optimiser state, curves, ``info_``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from lowrank_rnn.fit.bptt import BPTTTrainer, _torch, _torch_threads
from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["fit_stacked"]

#: Hyper-parameters the stacked path supports (other values are refused).
_PLAIN = {"scheduler": None, "loss": "mse", "noise": 0.0, "l2_rates": 0.0, "l2_weights": 0.0,
          "connectivity_mask": None, "dale": None, "init_network": None, "init_x0": None,
          "validation_metric": None, "keep_best": False, "early_stopping": None,
          "checkpoint": None}


def _check(trainers: Sequence[BPTTTrainer], trains: Sequence[TrialBatch],
           validations: Sequence[TrialBatch] | None) -> None:
    if not trainers:
        raise ValueError("trainers: give at least one BPTTTrainer")
    for tr in trainers:
        if not isinstance(tr, BPTTTrainer):
            raise ValueError(f"trainers: expected BPTTTrainer objects, got {type(tr).__name__}")
    if len(trains) != len(trainers) or (validations is not None and
                                        len(validations) != len(trainers)):
        raise ValueError(f"trains/validations: need one batch per trainer ({len(trainers)})")
    ref = trainers[0]
    for key, value in _PLAIN.items():
        for tr in trainers:
            have = getattr(tr, key)
            if (have is not None) if value is None else (have != value):
                raise ValueError(f"{key}={getattr(tr, key)!r}: fit_stacked supports only "
                                 f"{key}={value!r}")
    for tr in trainers:
        if not (isinstance(tr.optimizer, str) and tr.optimizer.lower() == "adam"):
            raise ValueError(f"optimizer={tr.optimizer!r}: fit_stacked supports only 'adam'")
        if tr.device != "cpu" and tr.device != ref.device:
            raise ValueError("device: all trainers must use one device")
    cfg = ref._hyper_config()
    for tr in trainers[1:]:
        if tr._hyper_config() != cfg:
            raise ValueError("trainers: their hyper-parameters differ (only random_state may)")
    n_trials = {b.batch for b in trains}
    if len(n_trials) != 1:
        raise ValueError(f"trains: the batches have different sizes {sorted(n_trials)}")
    shapes = {(b.inputs.shape, b.targets.shape, b.dt) for b in trains}
    if len(shapes) != 1:
        raise ValueError("trains: the batches differ in shape or dt")
    if validations is not None and len({v.inputs.shape for v in validations}) != 1:
        raise ValueError("validations: the batches differ in shape")


def _stack(tensors: Sequence[Any]) -> Any:
    return _torch().stack([t.detach() for t in tensors]).clone()


class _Stacked:
    """The stacked blocks of S trainer modules and their batched forward pass."""

    def __init__(self, models: Sequence[Any]) -> None:
        torch = _torch()
        m0 = models[0]
        self.models = list(models)
        self.names = [n for n, _ in m0.named_parameters()]
        self.params = {n: torch.nn.Parameter(_stack([dict(m.named_parameters())[n]
                                                      for m in models]))
                       for n in self.names}
        self.fixed = {}
        for key in ("M", "N", "I", "W", "random", "b", "b_out", "x0"):
            if key not in self.params and getattr(m0, key, None) is not None:
                self.fixed[key] = _stack([getattr(m, key) for m in models])
        self.a = m0.dt / m0.tau
        self.scale, self.readout_scale = m0.scale, m0.readout_scale
        self.dense, self.x0_input, self.phi = m0.dense, m0.x0_input, m0._phi
        if m0.masked or m0.dale or (m0.random_kind not in ("none", "dense")) or \
                (m0.random_kind == "dense" and not m0.full_rank):
            raise ValueError("fit_stacked: supports plain low-rank or full-rank modules only")

    def block(self, key: str) -> Any:
        return self.params[key] if key in self.params else self.fixed[key]

    def forward(self, u: Any) -> Any:
        """Outputs (S, batch, time, d_out) for inputs (S, batch, time, d_in)."""
        torch = _torch()
        a = self.a
        s, b, n_t, d_in = u.shape
        I, bias = self.block("I"), self.block("b")
        n = I.shape[1]
        x0 = I[:, :, self.x0_input] if self.x0_input is not None else self.block("x0")
        x = x0[:, None, :].expand(s, b, n)
        drive = torch.baddbmm((bias * a)[:, None, :], u.reshape(s, b * n_t, d_in),
                              I.transpose(1, 2) * a)
        drive = drive.reshape(s, b, n_t, n).unbind(2)
        if self.dense:
            rec_t = self.block("random").transpose(1, 2) * a
        else:
            lr_n = self.block("N")
            lr_m = self.block("M").transpose(1, 2) * (a * self.scale)
        w_out = self.block("W") * self.readout_scale
        b_out = self.block("b_out")[:, None, :]
        phi = self.phi
        r = phi(x)
        outs = []
        for dk in drive:
            y = torch.baddbmm(dk, r, rec_t) if self.dense else \
                torch.baddbmm(dk, torch.bmm(r, lr_n), lr_m)
            x = y.add_(x, alpha=1.0 - a)
            r = phi(x)
            outs.append(torch.baddbmm(b_out, r, w_out))
        return torch.stack(outs, dim=2)

    def losses(self, u: Any, y: Any, m: Any) -> Any:
        """Masked MSE of each network, shape (S,)."""
        z = self.forward(u)
        return ((z - y) ** 2 * m).sum(dim=(1, 2, 3)) / m.sum(dim=(1, 2, 3)).clamp_min(1.0)

    def write_back(self) -> None:
        torch = _torch()
        with torch.no_grad():
            for i, mod in enumerate(self.models):
                own = dict(mod.named_parameters())
                for name in self.names:
                    own[name].copy_(self.params[name][i])


def _clip_each(params: Sequence[Any], max_norm: float) -> None:
    """``clip_grad_norm_`` applied to each network's slice of the stacked gradients alone."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    sq = sum(g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in grads)
    coef = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.reshape((-1,) + (1,) * (g.ndim - 1)))


def fit_stacked(
    trainers: Sequence[BPTTTrainer],
    trains: Sequence[TrialBatch],
    validations: Sequence[TrialBatch] | None = None,
) -> list[BPTTTrainer]:
    """Fit S trainers that differ only in ``random_state`` together, as one stacked model.

    Equivalent to ``[tr.fit(train, val) for tr, train, val in zip(...)]`` up to floating-point
    rounding (module docstring: why), but one batched pass per step for the whole stack.
    Supported: Adam, masked MSE, optional ``grad_clip`` (per network), no scheduler, noise,
    penalties, mask, Dale's law, warm start, keep-best, early stopping or checkpoint.

    Parameters
    ----------
    trainers : sequence of BPTTTrainer
        Unfitted trainers with equal hyper-parameters (``random_state`` aside).
    trains : sequence of TrialBatch
        Training trials of each trainer, inputs (batch, time, d_in), the same shapes for all.
    validations : sequence of TrialBatch, optional
        Validation trials of each trainer (the validation curve).

    Returns
    -------
    list of BPTTTrainer
        The trainers, fitted. ``seconds_`` of each is the stack's wall time divided by S (the
        cost per network); ``info_["stacked"]`` is S.
    """
    torch = _torch()
    trainers, trains = list(trainers), list(trains)
    _check(trainers, trains, validations)
    for i, (tr, batch) in enumerate(zip(trainers, trains, strict=True)):
        tr.initialize(batch.inputs.shape[2], batch.targets.shape[2], batch.dt)
        tr._check_batch("train", batch)
        if validations is not None:
            tr._check_batch("validation", validations[i])
    ref = trainers[0]
    n_s = len(trainers)
    with _torch_threads(ref.n_threads if ref.device_ == "cpu" else None):
        st = _Stacked([tr.model_ for tr in trainers])
        params = [st.params[n] for n in st.names]
        kw = dict(ref.optimizer_kwargs)
        if ref.weight_decay:
            kw.setdefault("weight_decay", ref.weight_decay)
        opt = torch.optim.Adam(params, lr=ref.lr, **kw)
        tens = [tr._batch_tensors(b)[:3] for tr, b in zip(trainers, trains, strict=True)]
        u_all, y_all, m_all = (torch.stack([t[i] for t in tens]) for i in range(3))
        val = None
        if validations is not None:
            vt = [tr._batch_tensors(b)[:3] for tr, b in zip(trainers, validations, strict=True)]
            val = tuple(torch.stack([t[i] for t in vt]) for i in range(3))
        n_trials, bs = trains[0].batch, ref.batch_size
        rows = torch.arange(n_s)[:, None]
        seconds = 0.0
        for _ in range(ref.n_epochs):
            t0 = time.perf_counter()
            orders = torch.as_tensor(np.stack([tr._rng.permutation(n_trials) for tr in trainers]))
            total = torch.zeros(n_s, dtype=torch.float64)
            weight = torch.zeros(n_s, dtype=torch.float64)
            for a0 in range(0, n_trials, bs):
                idx = orders[:, a0: a0 + bs]
                u, y, m = u_all[rows, idx], y_all[rows, idx], m_all[rows, idx]
                opt.zero_grad(set_to_none=True)
                data = st.losses(u, y, m)
                data.sum().backward()
                if ref.grad_clip is not None:
                    _clip_each(params, ref.grad_clip)
                opt.step()
                w = m.sum(dim=(1, 2, 3)).to(torch.float64)
                total += data.detach().to(torch.float64) * w
                weight += w
            vals = [float("nan")] * n_s
            if val is not None:
                with torch.no_grad():
                    vals = st.losses(*val).tolist()
            seconds += time.perf_counter() - t0
            train_loss = (total / weight.clamp_min(1.0)).tolist()
            for i, tr in enumerate(trainers):
                tr._n_steps += math.ceil(n_trials / bs)
                tr.epochs_done_ += 1
                tr.seconds_ = seconds / n_s
                h = tr.history_
                h["epoch"].append(tr.epochs_done_)
                h["train_loss"].append(train_loss[i])
                h["val_loss"].append(vals[i])
                h["val_metric"].append(float("nan"))
                h["lr"].append(float(opt.param_groups[0]["lr"]))
                h["seconds"].append(tr.seconds_)
                if val is not None:
                    tr._track_best(vals[i])
            bad = [i for i, v in enumerate(train_loss) if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(
                    f"BPTT diverged at epoch {ref.epochs_done_} for the stacked networks {bad} "
                    f"(loss is not finite); lower lr={ref.lr} or set grad_clip")
        st.write_back()
        # each trainer's optimiser continues from its own slice of the Adam moments
        for i, tr in enumerate(trainers):
            own = dict(tr.model_.named_parameters())
            for name, p in zip(st.names, params, strict=True):
                state = opt.state.get(p)
                if state:
                    tr.optimizer_.state[own[name]] = {
                        k: (v.clone() if k == "step" else v[i].clone()) for k, v in
                        state.items()}
            tr._update_info()
            tr.info_["stacked"] = n_s
    return trainers
