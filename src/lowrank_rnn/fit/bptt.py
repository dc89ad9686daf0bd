"""Back-propagation through time (PyTorch) for low-rank and full-rank rate networks.

The trained network obeys the same equation and Euler discretisation as
:func:`lowrank_rnn.simulate.simulate` ("A new look at low-rank RNNs", eq 1–3)::

    x_{k+1} = x_k + (dt/tau) (-x_k + J phi(x_k) + I u_k) + (noise/tau) sqrt(dt) xi_k
    z_k     = readout_scale * W^T phi(x_{k+1})

with ``J = M N^T / n_neurons`` (low rank, M and N of shape ``(n_neurons, rank)`` trained; the
parametrisation of Valente et al. 2022) or a free ``(n_neurons, n_neurons)`` matrix (full rank).
The output at step ``k`` is read from the state after input ``u_k`` has acted, so
``predict(inputs)`` equals ``simulate(to_network(), inputs, x0).z[:, 1:]``.

Training minimises the masked mean squared error ``sum(mask (z - target)^2) / sum(mask)`` with
Adam and gradient-norm clipping, over epochs of shuffled minibatches; it records training
curves, can write atomic checkpoints and resume from them, and converts the result to a
:class:`~lowrank_rnn.network.LowRankRNN` so that every analysis of the library applies.

PyTorch is imported lazily: the rest of the package works without it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from lowrank_rnn._validate import (
    RngLike,
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.tasks._base import TrialBatch
from lowrank_rnn.transfer import PHI_NAMES

__all__ = ["BPTTTrainer", "masked_mse", "resolve_device"]

_LOW_RANK_PARAMS = ("M", "N", "I", "W")
_FULL_RANK_PARAMS = ("J", "I", "W")


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is an optional dependency
        raise ImportError(
            "BPTT training needs PyTorch: pip install 'lowrank-rnn[torch]'"
        ) from err
    return torch


def masked_mse(pred: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared error over the entries where ``mask`` is True.

    Parameters
    ----------
    pred, targets : ndarray, shape (batch, time, d_out)
    mask : ndarray of bool, shape (batch, time, d_out)
    """
    pred, targets = np.asarray(pred, dtype=float), np.asarray(targets, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if pred.shape != targets.shape or mask.shape != targets.shape:
        raise ValueError(
            f"pred {pred.shape}, targets {targets.shape} and mask {mask.shape} must have one shape"
        )
    n = int(mask.sum())
    if n == 0:
        raise ValueError("mask: selects no entry; the error is undefined")
    return float(((pred - targets) ** 2)[mask].sum() / n)


def resolve_device(device: str) -> str:
    """``'cpu'``, ``'cuda'`` or ``'auto'`` (CUDA when available) -> a torch device name.

    Raises ValueError for ``'cuda'`` when no CUDA device is present.
    """
    check_choice("device", device, ("cpu", "cuda", "auto"))
    torch = _torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda': no CUDA device is available; use 'cpu' or 'auto'")
    return device


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with ``n`` intra-op CPU threads (None: leave torch's setting alone)."""
    torch = _torch()
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _phi_torch(name: str) -> Any:
    torch = _torch()
    return {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda v: v}[name]


class _Adam:
    """Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as ``torch.optim.Adam``.

    Written out (a dozen tensor operations) because constructing ``torch.optim.Adam`` imports
    ``torch._dynamo``, which costs seconds per process; the update is the same.
    """

    def __init__(self, params: list[Any], lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        torch = _torch()
        self.params = params
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.step_count = 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        torch = _torch()
        b1, b2 = self.betas
        self.step_count += 1
        c1 = 1 - b1**self.step_count
        c2 = 1 - b2**self.step_count
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v, strict=True):
                if p.grad is None:
                    continue
                g = p.grad
                if self.weight_decay:
                    g = g + self.weight_decay * p
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                denom = (v / c2).sqrt_().add_(self.eps)
                p.addcdiv_(m, denom, value=-self.lr / c1)

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step_count, "m": [t.detach().cpu() for t in self.m],
                "v": [t.detach().cpu() for t in self.v]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["step"])
        for dst, src in zip(self.m + self.v, list(state["m"]) + list(state["v"]), strict=True):
            dst.copy_(src.to(dst.device))


def _clip_grad_norm(params: list[Any], max_norm: float) -> None:
    """Scale all gradients so that their joint 2-norm is at most ``max_norm``."""
    torch = _torch()
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)


def _make_model(
    params: dict[str, np.ndarray],
    *,
    low_rank: bool,
    phi: str,
    tau: float,
    dt: float,
    readout_scale: float,
    trainable: Sequence[str],
    device: str,
    dtype: Any,
) -> Any:
    """Build the torch module holding ``params`` (numpy arrays) as parameters/buffers."""
    torch = _torch()

    class RateRNN(torch.nn.Module):
        """Euler-discretised rate network (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            for key, value in params.items():
                t = torch.tensor(value, dtype=dtype, device=device)
                if key in trainable:
                    self.register_parameter(key, torch.nn.Parameter(t))
                else:
                    self.register_buffer(key, t)
            self.low_rank = low_rank
            self.n_neurons = int(params["I"].shape[0])
            self.phi = _phi_torch(phi)
            self.a = dt / tau
            self.dt, self.tau = dt, tau
            self.readout_scale = readout_scale

        def forward(
            self,
            u: Any,
            x0: Any = None,
            noise: float = 0.0,
            generator: Any = None,
            return_states: bool = False,
        ) -> Any:
            """Outputs ``z`` of shape (batch, time, d_out) (and states (batch, time, N))."""
            b, n_t, _ = u.shape
            n = self.n_neurons
            x = u.new_zeros((b, n)) if x0 is None else x0.expand(b, n)
            drive_in = u @ self.I.T  # (batch, time, N)
            sd = noise * math.sqrt(self.dt) / self.tau
            states = []
            for k in range(n_t):
                r = self.phi(x)
                if self.low_rank:
                    rec = (r @ self.N) @ self.M.T / n
                else:
                    rec = r @ self.J.T
                x = x + self.a * (rec - x + drive_in[:, k])
                if sd > 0:
                    xi = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
                    x = x + sd * xi
                states.append(x)
            xs = torch.stack(states, dim=1)
            z = self.readout_scale * (self.phi(xs) @ self.W)
            return (z, xs) if return_states else z

    return RateRNN()


class BPTTTrainer:
    """Train a low-rank (rank r) or full-rank rate network by BPTT (scikit-learn-style).

    Parameters
    ----------
    n_neurons : int
        Number of neurons N (>= 1).
    rank : int or None
        Rank r of ``J = M N^T / N`` (1 <= r <= n_neurons); None trains a full-rank J.
    phi : {'tanh', 'relu', 'linear'}
    tau : float
        Time constant (> 0); the time step comes from the task (``TrialBatch.dt``).
    lr : float
        Adam learning rate (> 0).
    n_epochs : int
        Passes over the training set (>= 0).
    batch_size : int
        Trials per gradient step (>= 1).
    grad_clip : float or None
        Maximal gradient norm (> 0), or None for no clipping.
    weight_decay : float
        L2 penalty of Adam (>= 0).
    noise : float
        Amplitude of the state noise during training (>= 0); evaluation is noiseless.
    x0_input : int or None
        Start each trial at ``I[:, x0_input]`` (the steady state of a constant unit input on that
        channel, e.g. a tonic/bias channel) instead of at 0.
    init_gain : float
        Full rank: initial ``J ~ N(0, init_gain^2 / N)``. Low rank: initial ``M, N ~
        N(0, init_gain)`` entries (J = M N^T / N).
    trainable : sequence of str, optional
        Parameters to train (low rank: M, N, I, W; full rank: J, I, W); default all.
    readout_scale : float
        Scale of the readout ``z = readout_scale W^T phi(x)``.
    device : {'cpu', 'cuda', 'auto'}
    dtype : {'float32', 'float64'}
    n_threads : int or None
        CPU threads torch may use while training/predicting (restored afterwards). The default 1
        is fastest for the small per-step products of BPTT (thread synchronisation at every
        time step costs more than it saves, badly so on a busy machine); None leaves torch's
        setting alone.
    checkpoint : path, optional
        File written atomically every ``checkpoint_every`` epochs and at the end.
    checkpoint_every : int
        Epochs between checkpoints (>= 1).
    resume : bool
        Continue from ``checkpoint`` when that file exists.
    progress : bool
        Show a rich progress bar.
    random_state : Generator, int or None
        Initial weights, minibatch order and training noise.

    Attributes
    ----------
    model_ : torch.nn.Module
    history_ : dict
        ``epoch``, ``train_loss`` (mean minibatch loss), ``val_loss`` (NaN without validation),
        ``seconds`` (cumulative wall time), one entry per epoch.
    n_params_ : int
        Number of trained scalars.
    seconds_ : float
        Wall time of training (all sessions, including resumed ones).
    epochs_done_ : int
    device_ : str
    """

    def __init__(
        self,
        n_neurons: int,
        rank: int | None = None,
        *,
        phi: str = "tanh",
        tau: float = 1.0,
        lr: float = 1e-2,
        n_epochs: int = 100,
        batch_size: int = 64,
        grad_clip: float | None = 1.0,
        weight_decay: float = 0.0,
        noise: float = 0.0,
        x0_input: int | None = None,
        init_gain: float = 1.0,
        trainable: Sequence[str] | None = None,
        readout_scale: float = 1.0,
        device: str = "cpu",
        dtype: str = "float32",
        n_threads: int | None = 1,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 10,
        resume: bool = True,
        progress: bool = False,
        random_state: RngLike = None,
    ) -> None:
        self.n_neurons = check_int("n_neurons", n_neurons, minimum=1)
        if rank is not None:
            rank = check_int("rank", rank, minimum=1)
            if rank > self.n_neurons:
                raise ValueError(
                    f"rank={rank}: must be <= n_neurons={self.n_neurons} (or None for full rank)"
                )
        self.rank = rank
        self.phi = check_choice("phi", phi, PHI_NAMES)
        self.tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
        self.lr = check_real("lr", lr, minimum=0.0, min_inclusive=False)
        self.n_epochs = check_int("n_epochs", n_epochs, minimum=0)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        if grad_clip is not None:
            grad_clip = check_real("grad_clip", grad_clip, minimum=0.0, min_inclusive=False)
        self.grad_clip = grad_clip
        self.weight_decay = check_real("weight_decay", weight_decay, minimum=0.0)
        self.noise = check_real("noise", noise, minimum=0.0)
        if x0_input is not None:
            x0_input = check_int("x0_input", x0_input, minimum=0)
        self.x0_input = x0_input
        self.init_gain = check_real("init_gain", init_gain, minimum=0.0)
        allowed = _LOW_RANK_PARAMS if rank is not None else _FULL_RANK_PARAMS
        if trainable is None:
            trainable = allowed
        trainable = tuple(trainable)
        for name in trainable:
            check_choice("trainable", name, allowed)
        if not trainable:
            raise ValueError(f"trainable=(): train at least one of {', '.join(allowed)}")
        self.trainable = trainable
        self.readout_scale = check_real("readout_scale", readout_scale)
        self.device = check_choice("device", device, ("cpu", "cuda", "auto"))
        self.dtype = check_choice("dtype", dtype, ("float32", "float64"))
        self.n_threads = None if n_threads is None else check_int("n_threads", n_threads, minimum=1)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        self.resume = bool(resume)
        self.progress = bool(progress)
        self.random_state = random_state
        as_rng(random_state, 'random_state')  # validate now, before any work

    # ------------------------------------------------------------------ set-up
    @property
    def low_rank(self) -> bool:
        """Whether J is parametrised as M N^T / N."""
        return self.rank is not None

    def _config(self) -> dict[str, Any]:
        return {
            "n_neurons": self.n_neurons, "rank": self.rank, "phi": self.phi, "tau": self.tau,
            "d_in": self.d_in_, "d_out": self.d_out_, "dt": self.dt_, "dtype": self.dtype,
            "trainable": list(self.trainable), "x0_input": self.x0_input,
        }

    def initialize(self, d_in: int, d_out: int, dt: float) -> BPTTTrainer:
        """Draw the initial weights and build the model and optimiser (called by :meth:`fit`).

        Parameters
        ----------
        d_in, d_out : int
            Input and output dimensions.
        dt : float
            Time step of the trials (units of tau).
        """
        torch = _torch()
        d_in = check_int("d_in", d_in, minimum=1)
        d_out = check_int("d_out", d_out, minimum=1)
        dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
        if self.x0_input is not None and self.x0_input >= d_in:
            raise ValueError(f"x0_input={self.x0_input}: must be < d_in={d_in}")
        self.device_ = resolve_device(self.device)
        self.d_in_, self.d_out_, self.dt_ = d_in, d_out, dt
        rng = as_rng(self.random_state)
        self._rng = rng
        n = self.n_neurons
        params: dict[str, np.ndarray] = {}
        if self.low_rank:
            params["M"] = self.init_gain * rng.standard_normal((n, self.rank))
            params["N"] = self.init_gain * rng.standard_normal((n, self.rank))
        else:
            params["J"] = self.init_gain / np.sqrt(n) * rng.standard_normal((n, n))
        params["I"] = rng.standard_normal((n, d_in))
        params["W"] = rng.standard_normal((n, d_out)) / n
        tdtype = torch.float64 if self.dtype == "float64" else torch.float32
        self._tdtype = tdtype
        self.model_ = _make_model(
            params, low_rank=self.low_rank, phi=self.phi, tau=self.tau, dt=dt,
            readout_scale=self.readout_scale, trainable=self.trainable, device=self.device_,
            dtype=tdtype,
        )
        self._optim = _Adam(
            list(self.model_.parameters()), lr=self.lr, weight_decay=self.weight_decay
        )
        self._torch_gen = torch.Generator(device=self.device_)
        self._torch_gen.manual_seed(int(rng.integers(2**62)))
        self.n_params_ = int(sum(p.numel() for p in self.model_.parameters()))
        self.history_: dict[str, list[float]] = {
            "epoch": [], "train_loss": [], "val_loss": [], "seconds": []
        }
        self.seconds_ = 0.0
        self.epochs_done_ = 0
        return self

    def _tensor(self, a: np.ndarray) -> Any:
        torch = _torch()
        return torch.as_tensor(np.asarray(a), dtype=self._tdtype, device=self.device_)

    def _x0(self) -> Any:
        if self.x0_input is None:
            return None
        return self.model_.I[:, self.x0_input]

    def batch_loss(self, batch: TrialBatch, noise: float = 0.0) -> Any:
        """The masked MSE of ``batch`` as a differentiable torch scalar."""
        self._check_fitted()
        self._check_batch("batch", batch)
        u = self._tensor(batch.inputs)
        y = self._tensor(batch.targets)
        m = self._tensor(batch.mask.astype(float))
        z = self.model_(u, self._x0(), noise=noise, generator=self._torch_gen)
        return ((z - y) ** 2 * m).sum() / m.sum().clamp_min(1.0)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("the trainer is not initialised: call fit() or initialize() first")

    def _check_batch(self, name: str, batch: TrialBatch) -> None:
        if not isinstance(batch, TrialBatch):
            raise ValueError(f"{name}: expected a TrialBatch, got {type(batch).__name__}")
        if batch.inputs.shape[2] != self.d_in_ or batch.targets.shape[2] != self.d_out_:
            raise ValueError(
                f"{name}: inputs/targets have dimensions {batch.inputs.shape[2]}/"
                f"{batch.targets.shape[2]}, the network has d_in={self.d_in_}, d_out={self.d_out_}"
            )
        if not math.isclose(batch.dt, self.dt_, rel_tol=1e-12):
            raise ValueError(f"{name}: dt={batch.dt} differs from the training dt={self.dt_}")
        if not batch.mask.any():
            raise ValueError(f"{name}: the mask selects no entry")

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict[str, Any]:
        return {
            "config": self._config(),
            "model": {k: v.detach().cpu() for k, v in self.model_.state_dict().items()},
            "optim": self._optim.state_dict(),
            "numpy_rng": self._rng.bit_generator.state,
            "torch_rng": self._torch_gen.get_state(),
            "history": self.history_,
            "seconds": self.seconds_,
            "epochs_done": self.epochs_done_,
        }

    def save_checkpoint(self, path: str | Path) -> None:
        """Write the full training state (weights, optimiser, random streams, curves) atomically."""
        from lowrank_rnn._io import atomic_path

        torch = _torch()
        self._check_fitted()
        with atomic_path(path) as tmp:
            torch.save(self._state(), tmp)

    def load_checkpoint(self, path: str | Path) -> BPTTTrainer:
        """Restore a state written by :meth:`save_checkpoint` into an initialised trainer."""
        torch = _torch()
        self._check_fitted()
        state = torch.load(Path(path), map_location=self.device_, weights_only=False)
        if state["config"] != self._config():
            raise ValueError(
                f"checkpoint={str(path)!r}: written for {state['config']}, this trainer is "
                f"{self._config()}"
            )
        self.model_.load_state_dict(state["model"])
        self._optim.load_state_dict(state["optim"])
        self._rng.bit_generator.state = state["numpy_rng"]
        self._torch_gen.set_state(state["torch_rng"].cpu() if hasattr(state["torch_rng"], "cpu")
                                  else state["torch_rng"])
        self.history_ = state["history"]
        self.seconds_ = float(state["seconds"])
        self.epochs_done_ = int(state["epochs_done"])
        return self

    # ------------------------------------------------------------------ training
    def fit(self, train: TrialBatch, validation: TrialBatch | None = None) -> BPTTTrainer:
        """Train for ``n_epochs`` epochs (in total, counting epochs restored from a checkpoint).

        Parameters
        ----------
        train : TrialBatch
            Training trials, shape (batch, time, d) each.
        validation : TrialBatch, optional
            Trials scored (noiselessly) after each epoch.

        Returns
        -------
        self
        """
        if not isinstance(train, TrialBatch):
            raise ValueError(f"train: expected a TrialBatch, got {type(train).__name__}")
        self.initialize(train.inputs.shape[2], train.targets.shape[2], train.dt)
        with _torch_threads(self.n_threads if self.device_ == "cpu" else None):
            return self._fit(train, validation)

    def _fit(self, train: TrialBatch, validation: TrialBatch | None) -> BPTTTrainer:
        torch = _torch()
        self._check_batch("train", train)
        if validation is not None:
            self._check_batch("validation", validation)
        if self.checkpoint is not None and self.resume and self.checkpoint.exists():
            self.load_checkpoint(self.checkpoint)
        u_all = self._tensor(train.inputs)
        y_all = self._tensor(train.targets)
        m_all = self._tensor(train.mask.astype(float))
        n_trials = train.batch
        bar = None
        if self.progress:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn("BPTT {task.description}"), BarColumn(),
                TextColumn("{task.completed}/{task.total} epochs"),
                TextColumn("{task.fields[loss]}"),
                TimeElapsedColumn(), TimeRemainingColumn(), transient=True,
            )
            bar.start()
            task = bar.add_task(
                f"N={self.n_neurons} rank={self.rank or 'full'}", total=self.n_epochs,
                completed=self.epochs_done_, loss="",
            )
        try:
            while self.epochs_done_ < self.n_epochs:
                t0 = time.perf_counter()
                self.model_.train()
                order = self._rng.permutation(n_trials)
                total, weight = 0.0, 0.0
                for a in range(0, n_trials, self.batch_size):
                    idx = torch.as_tensor(order[a : a + self.batch_size], device=self.device_)
                    u, y, m = u_all[idx], y_all[idx], m_all[idx]
                    z = self.model_(u, self._x0(), noise=self.noise, generator=self._torch_gen)
                    denom = m.sum().clamp_min(1.0)
                    loss = ((z - y) ** 2 * m).sum() / denom
                    self._optim.zero_grad()
                    loss.backward()
                    if self.grad_clip is not None:
                        _clip_grad_norm(list(self.model_.parameters()), self.grad_clip)
                    self._optim.step()
                    total += float(loss.detach()) * float(denom)
                    weight += float(denom)
                val = float("nan")
                if validation is not None:
                    val = self.score(validation)
                self.epochs_done_ += 1
                self.seconds_ += time.perf_counter() - t0
                self.history_["epoch"].append(self.epochs_done_)
                self.history_["train_loss"].append(total / max(weight, 1.0))
                self.history_["val_loss"].append(val)
                self.history_["seconds"].append(self.seconds_)
                if not math.isfinite(self.history_["train_loss"][-1]):
                    raise FloatingPointError(
                        f"BPTT diverged at epoch {self.epochs_done_} (loss is not finite); "
                        f"lower lr={self.lr} or set grad_clip"
                    )
                if bar is not None:
                    bar.update(task, completed=self.epochs_done_,
                               loss=f"loss {self.history_['train_loss'][-1]:.4g}")
                if self.checkpoint is not None and (
                    self.epochs_done_ % self.checkpoint_every == 0
                    or self.epochs_done_ == self.n_epochs
                ):
                    self.save_checkpoint(self.checkpoint)
        finally:
            if bar is not None:
                bar.stop()
        return self

    # ------------------------------------------------------------------ use
    def predict(self, inputs: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """Noiseless outputs ``z``, shape (batch, time, d_out), for inputs (batch, time, d_in).

        ``x0`` (shape (N,) or (batch, N)) overrides the trainer's initial state.
        """
        torch = _torch()
        self._check_fitted()
        inputs = check_array("inputs", inputs, ndim=3)
        if inputs.shape[2] != self.d_in_:
            raise ValueError(f"inputs: last dimension {inputs.shape[2]} must be d_in={self.d_in_}")
        with torch.no_grad(), _torch_threads(self.n_threads if self.device_ == "cpu" else None):
            x0_t = self._x0() if x0 is None else self._tensor(check_array("x0", x0))
            z = self.model_(self._tensor(inputs), x0_t)
        return z.detach().cpu().numpy().astype(float)

    def score(self, batch: TrialBatch) -> float:
        """Noiseless masked MSE on ``batch``."""
        self._check_fitted()
        self._check_batch("batch", batch)
        return masked_mse(self.predict(batch.inputs), batch.targets, batch.mask)

    def initial_state(self) -> np.ndarray:
        """The initial state ``x0`` used for every trial, shape (N,)."""
        self._check_fitted()
        if self.x0_input is None:
            return np.zeros(self.n_neurons)
        return self.to_network().I[:, self.x0_input].copy()

    def to_network(self) -> LowRankRNN:
        """The trained network as a :class:`LowRankRNN` (same dynamics as the torch model).

        Low rank: ``M, N`` with ``scale = 1/N``. Full rank: the exact factorisation
        ``J = (U S) V^T`` from the SVD, rank N, ``scale = 1``.
        """
        self._check_fitted()
        p = {k: v.detach().cpu().numpy().astype(float) for k, v in self.model_.state_dict().items()}
        common = {"I": p["I"], "W": p["W"], "readout_scale": self.readout_scale,
                  "tau": self.tau, "phi": self.phi}
        if self.low_rank:
            return LowRankRNN(M=p["M"], N=p["N"], scale=1.0 / self.n_neurons, **common)
        u, s, vt = np.linalg.svd(p["J"])
        return LowRankRNN(M=u * s, N=vt.T, scale=1.0, **common)
