"""Back-propagation through time (PyTorch) for low-rank and full-rank rate networks.

The trained network obeys the same equation and Euler discretisation as
:func:`lowrank_rnn.simulate.simulate` ("A new look at low-rank RNNs", eq 1–3)::

    x_{k+1} = x_k + (dt/tau) (-x_k + J phi(x_k) + I u_k + b) + (noise/tau) sqrt(dt) xi_k
    z_k     = readout_scale * W^T phi(x_{k+1}) + b_out

with ``J = M N^T / n_neurons`` (low rank, M and N of shape ``(n_neurons, rank)``; the
parametrisation of Valente et al. 2022 and Dubreuil et al. 2022) or a free
``(n_neurons, n_neurons)`` matrix (full rank), optionally restricted by a fixed sparse
connectivity mask (``J ⊙ X``, the sparse low-rank networks of Herbert & Ostojic 2022) and by
Dale's law (``J -> |J| diag(s)``, each presynaptic neuron excitatory or inhibitory). The output
at step ``k`` is read from the state after input ``u_k`` has acted, so ``predict(inputs)`` equals
``simulate(to_network(), inputs, x0).z[:, 1:]``.

Training is open: any ``torch.optim`` optimiser and learning-rate scheduler (a class or factory
and its keyword arguments), gradient clipping by ``torch.nn.utils.clip_grad_norm_``, the masked
mean squared error, a cross-entropy over output classes or a user's loss, L2 penalties on rates
and weights, trainable flags per block (M, N or J, I, W, biases, x0), a fixed batch of trials or
a generator of fresh trials per step (PsychRNN's habit), validation with keep-best and early
stopping, curves in ``info_``, warm starts from any :class:`~lowrank_rnn.network.LowRankRNN`,
checkpoints that hold no code (read with ``torch.load(weights_only=True)``, random states as
arrays) and rebuild the trainer from the configuration they store.

PyTorch is imported lazily: the rest of the package works without it.
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
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

__all__ = ["BPTTTrainer", "masked_mse", "resolve_device", "truncate_rank", "CHECKPOINT_FORMAT"]

_LOW_RANK_PARAMS = ("M", "N", "I", "W", "b", "b_out", "x0")
_FULL_RANK_PARAMS = ("J", "I", "W", "b", "b_out", "x0")
_WEIGHT_BLOCKS = ("M", "N", "J", "I", "W")
LOSSES = ("mse", "cross_entropy")

#: ``format`` entry of a checkpoint file, and its version.
CHECKPOINT_FORMAT = "lowrank-rnn-bptt-checkpoint"
CHECKPOINT_VERSION = 1


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


def truncate_rank(net: LowRankRNN, rank: int) -> LowRankRNN:
    """The best rank-``rank`` approximation of a network, as factors on the trainer's scale.

    The recurrent matrix ``J`` (its dense form, random part and mask included) is factorised by
    SVD, ``J = U S V^T``, and cut to its ``rank`` largest singular values, the closest matrix of
    that rank in Frobenius and spectral norm (Eckart-Young). The factors are returned in the
    parametrisation ``J_r = M N^T / n_neurons`` that :class:`BPTTTrainer` draws (entries of
    order one): ``M = sqrt(n) U_r S_r``, ``N = sqrt(n) V_r``, as Dubreuil et al. 2022 (Methods)
    do when a full-rank network trained first starts a low-rank one. On the exact SVD factors
    (``scale = 1``, entries of order ``1/sqrt(n)``) the optimiser's steps would be ``sqrt(n)``
    times larger relative to the weights, and training from them stalls.

    Parameters
    ----------
    net : LowRankRNN
        Any network (e.g. :meth:`BPTTTrainer.to_network` of a full-rank trainer); its
        ``n_neurons`` must be at most :data:`lowrank_rnn.network.DENSE_LIMIT`.
    rank : int
        1 <= rank <= n_neurons.

    Returns
    -------
    LowRankRNN
        ``M, N`` of shape (n_neurons, rank), ``scale = 1 / n_neurons``, no random part or mask;
        inputs, readout, tau and phi of ``net``.
    """
    if not isinstance(net, LowRankRNN):
        raise ValueError(f"net: expected a LowRankRNN, got {type(net).__name__}")
    n = net.n_neurons
    rank = check_int("rank", rank, minimum=1)
    if rank > n:
        raise ValueError(f"rank={rank}: must be <= n_neurons={n}")
    u, s, vt = np.linalg.svd(net.to_dense(), full_matrices=False)
    root = math.sqrt(n)
    return net.replace(M=root * u[:, :rank] * s[:rank], N=root * vt[:rank].T, scale=1.0 / n,
                       random=None, mask=None)


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


def _resolve_class(name: str, value: Any, namespace: str) -> Any:
    """A torch.optim optimiser / scheduler given as a class, a factory or a name."""
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        torch = _torch()
        mod = torch.optim if namespace == "optim" else torch.optim.lr_scheduler
        table = {k.lower(): getattr(mod, k) for k in dir(mod) if not k.startswith("_")}
        cls = table.get(value.lower())
        if cls is None or not callable(cls):
            raise ValueError(f"{name}={value!r}: not a name in torch.optim"
                             f"{'' if namespace == 'optim' else '.lr_scheduler'}")
        return cls
    raise ValueError(f"{name}={value!r}: expected a name, a class or a factory")


def _qualname(value: Any) -> str | None:
    """A name under which a class can be found again (None for other callables)."""
    if isinstance(value, str):
        return value
    mod, qn = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if isinstance(value, type) and mod and qn and "<locals>" not in qn:
        if mod.startswith("torch.optim"):
            return qn
        return f"{mod}:{qn}"
    return None


def _import_name(name: str) -> Any:
    if ":" not in name:
        return name  # a torch.optim name, resolved by _resolve_class
    import importlib

    mod, qn = name.split(":", 1)
    obj: Any = importlib.import_module(mod)
    for part in qn.split("."):
        obj = getattr(obj, part)
    return obj


def _copy_state(state: Any, device: str | None) -> dict[str, Any]:
    """A copy of a module state dict: tensors detached (and moved), other entries (the module's
    scalars) deep-copied."""
    out = {}
    for k, v in state.items():
        if hasattr(v, "detach"):
            v = v.detach()
            out[k] = v.clone() if device is None else v.to(device, copy=True)
        else:
            out[k] = copy.deepcopy(v)
    return out


# ---------------------------------------------------------------------- numpy RNG as arrays
def _rng_to_array(rng: np.random.Generator) -> np.ndarray:
    """The state of a PCG64 generator as 6 uint64 words (state hi/lo, inc hi/lo, cache)."""
    st = rng.bit_generator.state
    if st.get("bit_generator") != "PCG64":
        raise ValueError(
            f"random_state: checkpoints store PCG64 generators (numpy.random.default_rng), "
            f"got {st.get('bit_generator')}"
        )
    s, inc = int(st["state"]["state"]), int(st["state"]["inc"])
    mask = (1 << 64) - 1
    return np.array([s >> 64, s & mask, inc >> 64, inc & mask, int(st["has_uint32"]),
                     int(st["uinteger"])], dtype=np.uint64)


def _rng_from_array(words: np.ndarray) -> np.random.Generator:
    w = [int(v) for v in np.asarray(words, dtype=np.uint64)]
    if len(w) != 6:
        raise ValueError("numpy RNG state: expected 6 words")
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4], "uinteger": w[5],
    }
    return rng


class BPTTTrainer:
    """Train a low-rank (rank r) or full-rank rate network by BPTT (scikit-learn-style).

    Parameters
    ----------
    n_neurons : int, optional
        Number of neurons N (>= 1); taken from ``init_network`` when that is given.
    rank : int or None
        Rank r of ``J = M N^T / N`` (1 <= r <= n_neurons); None trains a full-rank J.
    phi : {'tanh', 'relu', 'linear'}
    tau : float
        Time constant (> 0); the time step comes from the task (``TrialBatch.dt``).
    lr : float
        Learning rate (> 0), passed to the optimiser.
    optimizer : str, class or callable
        A ``torch.optim`` optimiser: its name (``'adam'``, ``'adamw'``, ``'sgd'``, ``'lbfgs'``...),
        its class, or any factory ``f(params, lr=..., **optimizer_kwargs)``. Default Adam.
    optimizer_kwargs : dict, optional
        Further keyword arguments of the optimiser (e.g. ``{'betas': (0.9, 0.99)}``).
    weight_decay : float
        The optimiser's ``weight_decay`` (>= 0; not passed when 0).
    scheduler : str, class or callable, optional
        A ``torch.optim.lr_scheduler`` (name, class or factory ``f(optimizer, **kwargs)``),
        stepped once per epoch (``ReduceLROnPlateau`` with the validation loss, or the training
        loss without validation).
    scheduler_kwargs : dict, optional
    loss : {'mse', 'cross_entropy'} or callable
        Masked mean squared error; cross-entropy of the outputs as logits over ``d_out`` classes
        against ``TrialBatch.labels`` (or the arg-max of the targets) on the masked steps; or
        ``loss(z, targets, mask) -> scalar tensor`` (tensors of shape (batch, time, d_out)).
    n_epochs : int
        Passes over the training set, or with a generator of trials, rounds of
        ``batches_per_epoch`` fresh batches (>= 0).
    batch_size : int
        Trials per gradient step (>= 1; ignored for a generator, which decides its batch).
    batches_per_epoch : int
        Gradient steps per epoch with a trial generator (>= 1).
    grad_clip : float or None
        Maximal gradient norm (``torch.nn.utils.clip_grad_norm_``), or None.
    noise : float
        Amplitude of the state noise during training (>= 0); evaluation is noiseless.
    l2_rates : float
        Penalty ``l2_rates * mean(phi(x)^2)`` over trials, steps and neurons (>= 0).
    l2_weights : float
        Penalty ``l2_weights * sum(w^2)`` over the trained weight blocks M, N, J, I, W (>= 0).
    x0_input : int or None
        Start each trial at ``I[:, x0_input]`` (the steady state of a constant unit input on that
        channel) instead of at ``x0``.
    init_gain : float
        Full rank: initial ``J ~ N(0, init_gain^2 / N)``. Low rank: ``M, N ~ N(0, init_gain)``.
    trainable : sequence of str, optional
        Blocks to train. Low rank: M, N, I, W, b (bias), b_out (output bias), x0 (initial
        state); full rank: J, I, W, b, b_out, x0. Default M/J, N, I, W.
    readout_scale : float
        Scale of the readout ``z = readout_scale W^T phi(x)``.
    connectivity_mask : ndarray of bool or scipy.sparse matrix, shape (N, N), optional
        Fixed sparsity pattern X: only these connections exist (low rank: ``J = (M N^T / N) ⊙
        X``; full rank: ``J ⊙ X``).
    dale : float or array of ±1, optional
        Dale's law: the fraction of excitatory neurons (the first ``round(dale N)`` neurons are
        excitatory) or the sign of each neuron; every outgoing weight of neuron j has its sign.
    init_network : LowRankRNN, optional
        Warm start: the trainer starts from this network (its factors, inputs, readout, mask,
        random part (kept fixed), scales, tau and phi); ``predict`` reproduces the network's
        outputs before the first step. ``rank=None`` trains its full matrix ``to_dense()``.
    init_x0 : ndarray, shape (N,), optional
        Initial state to start from (the ``x0`` block).
    validation_metric : callable, optional
        ``metric(outputs, batch) -> float`` recorded on the validation set each epoch (e.g.
        :func:`lowrank_rnn.tasks.decision_accuracy`).
    keep_best : bool
        At the end, restore the weights of the epoch with the lowest validation loss.
    early_stopping : int, optional
        Stop when the validation loss has not improved by ``min_delta`` for this many epochs.
    min_delta : float
    device : {'cpu', 'cuda', 'auto'}
    dtype : {'float32', 'float64'}
    n_threads : int or None
        CPU threads torch may use while training/predicting (restored afterwards). The default 1
        is fastest for the small per-step products of BPTT; None leaves torch's setting alone.
    checkpoint : path, optional
        File written atomically every ``checkpoint_every`` epochs and at the end.
    checkpoint_every : int
    resume : bool
        Continue from ``checkpoint`` when that file exists (it is read safely, never unpickled).
    progress : bool
        Report progress: a rich bar on a terminal, one log line per epoch on stderr otherwise.
    random_state : Generator, int or None
        Initial weights, minibatch order, generated trials and training noise.

    Attributes
    ----------
    model_ : torch.nn.Module
        The network (:class:`lowrank_rnn.fit._rate_module.RateModule`).
    optimizer_, scheduler_ :
        The torch optimiser and scheduler.
    history_ : dict
        Per epoch: ``epoch``, ``train_loss``, ``val_loss`` (NaN without validation),
        ``val_metric`` (NaN without a metric), ``lr``, ``seconds`` (cumulative).
    info_ : dict
        ``history`` (= ``history_``), ``best_epoch``, ``best_val_loss``, ``stopped_early``,
        ``n_steps`` (optimiser steps), ``seconds``.
    n_params_ : int
        Number of trained scalars.
    seconds_ : float
    epochs_done_ : int
    device_ : str
    """

    def __init__(
        self,
        n_neurons: int | None = None,
        rank: int | None = None,
        *,
        phi: str = "tanh",
        tau: float = 1.0,
        lr: float = 1e-2,
        optimizer: Any = "adam",
        optimizer_kwargs: dict[str, Any] | None = None,
        weight_decay: float = 0.0,
        scheduler: Any = None,
        scheduler_kwargs: dict[str, Any] | None = None,
        loss: str | Callable[..., Any] = "mse",
        n_epochs: int = 100,
        batch_size: int = 64,
        batches_per_epoch: int = 10,
        grad_clip: float | None = 1.0,
        noise: float = 0.0,
        l2_rates: float = 0.0,
        l2_weights: float = 0.0,
        x0_input: int | None = None,
        init_gain: float = 1.0,
        trainable: Sequence[str] | None = None,
        readout_scale: float = 1.0,
        connectivity_mask: Any = None,
        dale: Any = None,
        init_network: LowRankRNN | None = None,
        init_x0: np.ndarray | None = None,
        validation_metric: Callable[[np.ndarray, TrialBatch], float] | None = None,
        keep_best: bool = False,
        early_stopping: int | None = None,
        min_delta: float = 0.0,
        device: str = "cpu",
        dtype: str = "float32",
        n_threads: int | None = 1,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 10,
        resume: bool = True,
        progress: bool = False,
        random_state: RngLike = None,
    ) -> None:
        if init_network is not None:
            if not isinstance(init_network, LowRankRNN):
                raise ValueError(
                    f"init_network: expected a LowRankRNN, got {type(init_network).__name__}"
                )
            if n_neurons is not None and n_neurons != init_network.n_neurons:
                raise ValueError(
                    f"n_neurons={n_neurons}: init_network has {init_network.n_neurons} neurons"
                )
            n_neurons = init_network.n_neurons
            if rank is not None and rank != init_network.rank:
                raise ValueError(
                    f"rank={rank}: init_network has rank {init_network.rank} (None trains its "
                    "full matrix)"
                )
        if n_neurons is None:
            raise ValueError("n_neurons=None: give the number of neurons (or init_network)")
        self.n_neurons = check_int("n_neurons", n_neurons, minimum=1)
        if rank is not None:
            rank = check_int("rank", rank, minimum=1)
            if rank > self.n_neurons:
                raise ValueError(
                    f"rank={rank}: must be <= n_neurons={self.n_neurons} (or None for full rank)"
                )
        self.rank = rank
        self.init_network = init_network
        if init_network is not None:
            phi, tau, readout_scale = init_network.phi, init_network.tau, \
                init_network.readout_scale
        self.phi = check_choice("phi", phi, PHI_NAMES)
        self.tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
        self.lr = check_real("lr", lr, minimum=0.0, min_inclusive=False)
        self.optimizer = optimizer
        _resolve_class("optimizer", optimizer, "optim") if isinstance(optimizer, str) else None
        if not (isinstance(optimizer, str) or callable(optimizer)):
            raise ValueError(f"optimizer={optimizer!r}: expected a name, a class or a factory")
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.weight_decay = check_real("weight_decay", weight_decay, minimum=0.0)
        if scheduler is not None and not (isinstance(scheduler, str) or callable(scheduler)):
            raise ValueError(f"scheduler={scheduler!r}: expected a name, a class or a factory")
        if isinstance(scheduler, str):
            _resolve_class("scheduler", scheduler, "sched")
        self.scheduler = scheduler
        self.scheduler_kwargs = dict(scheduler_kwargs or {})
        if not callable(loss):
            check_choice("loss", loss, LOSSES)
        self.loss = loss
        self.n_epochs = check_int("n_epochs", n_epochs, minimum=0)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.batches_per_epoch = check_int("batches_per_epoch", batches_per_epoch, minimum=1)
        if grad_clip is not None:
            grad_clip = check_real("grad_clip", grad_clip, minimum=0.0, min_inclusive=False)
        self.grad_clip = grad_clip
        self.noise = check_real("noise", noise, minimum=0.0)
        self.l2_rates = check_real("l2_rates", l2_rates, minimum=0.0)
        self.l2_weights = check_real("l2_weights", l2_weights, minimum=0.0)
        if x0_input is not None:
            x0_input = check_int("x0_input", x0_input, minimum=0)
        self.x0_input = x0_input
        self.init_gain = check_real("init_gain", init_gain, minimum=0.0)
        allowed = _LOW_RANK_PARAMS if rank is not None else _FULL_RANK_PARAMS
        if trainable is None:
            trainable = tuple(k for k in allowed if k in _WEIGHT_BLOCKS)
        trainable = tuple(trainable)
        for name in trainable:
            check_choice("trainable", name, allowed)
        if not trainable:
            raise ValueError(f"trainable=(): train at least one of {', '.join(allowed)}")
        if "x0" in trainable and x0_input is not None:
            raise ValueError("trainable: 'x0' cannot be trained with x0_input set (x0 is I[:, k])")
        self.trainable = trainable
        self.readout_scale = check_real("readout_scale", readout_scale)
        self.connectivity_mask = connectivity_mask
        self._mask = self._check_mask(connectivity_mask)
        self.dale = dale
        self._signs = self._check_dale(dale)
        if init_x0 is not None:
            init_x0 = check_array("init_x0", init_x0, shape=(self.n_neurons,))
        self.init_x0 = init_x0
        if validation_metric is not None and not callable(validation_metric):
            raise ValueError(f"validation_metric={validation_metric!r}: expected a callable")
        self.validation_metric = validation_metric
        self.keep_best = bool(keep_best)
        if early_stopping is not None:
            early_stopping = check_int("early_stopping", early_stopping, minimum=1)
        self.early_stopping = early_stopping
        self.min_delta = check_real("min_delta", min_delta, minimum=0.0)
        self.device = check_choice("device", device, ("cpu", "cuda", "auto"))
        self.dtype = check_choice("dtype", dtype, ("float32", "float64"))
        self.n_threads = None if n_threads is None else check_int("n_threads", n_threads, minimum=1)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        self.resume = bool(resume)
        self.progress = bool(progress)
        self.random_state = random_state
        as_rng(random_state, "random_state")  # validate now, before any work

    # ------------------------------------------------------------------ validation helpers
    def _check_mask(self, mask: Any) -> np.ndarray | None:
        import scipy.sparse as sp

        net = self.init_network
        if mask is None:
            # a warm start keeps the network's mask of its low-rank part; trained as a full
            # matrix (to_dense, the mask already applied) the network's mask is not imposed
            if net is not None and net.mask is not None and self.rank is not None:
                return np.asarray(net.mask.toarray() != 0)
            return None
        if net is not None and net.mask is not None and self.rank is not None:
            raise ValueError("connectivity_mask: init_network already has a mask; give only one")
        arr = np.asarray(mask.toarray() if sp.issparse(mask) else mask)
        n = self.n_neurons
        if arr.shape != (n, n):
            raise ValueError(f"connectivity_mask: expected shape ({n}, {n}), got {arr.shape}")
        if arr.dtype != bool and not np.all((arr == 0) | (arr == 1)):
            raise ValueError("connectivity_mask: expected booleans or 0/1 entries")
        return arr.astype(bool)

    def _check_dale(self, dale: Any) -> np.ndarray | None:
        if dale is None:
            return None
        n = self.n_neurons
        if np.ndim(dale) == 0:
            frac = check_real("dale", dale, minimum=0.0, maximum=1.0)
            n_exc = int(round(frac * n))
            return np.where(np.arange(n) < n_exc, 1.0, -1.0)
        s = np.asarray(dale, dtype=float)
        if s.shape != (n,) or not np.all(np.isin(s, (-1.0, 1.0))):
            raise ValueError(
                f"dale: expected a fraction in [0, 1] or {n} signs of +1/-1, got shape {s.shape}"
            )
        return s

    # ------------------------------------------------------------------ set-up
    @property
    def low_rank(self) -> bool:
        """Whether J is parametrised by factors M N^T."""
        return self.rank is not None

    def _config(self) -> dict[str, Any]:
        """The structure a checkpoint must match to be resumed by this trainer."""
        return {
            "n_neurons": self.n_neurons, "rank": self.rank, "phi": self.phi, "tau": self.tau,
            "d_in": self.d_in_, "d_out": self.d_out_, "dt": self.dt_, "dtype": self.dtype,
            "trainable": list(self.trainable), "x0_input": self.x0_input,
        }

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {k: getattr(self, k) for k in names}

    def _initial_arrays(self, rng: np.random.Generator, d_in: int, d_out: int) -> dict[str,
                                                                                        Any]:
        """Keyword arguments of :class:`TrainerModule`: drawn, or from ``init_network``."""
        import scipy.sparse as sp

        n = self.n_neurons
        net = self.init_network
        kw: dict[str, Any] = {"random": None, "mask": None, "full_rank": not self.low_rank}
        if net is not None:
            if net.I is None or net.d_in != d_in:
                raise ValueError(f"init_network: has d_in={net.d_in}, the trials have {d_in}")
            if net.W is None or net.d_out != d_out:
                raise ValueError(f"init_network: has d_out={net.d_out}, the trials have {d_out}")
            if self.low_rank:
                kw.update(M=net.M, N=net.N, random=net.random, mask=net.mask, scale=net.scale)
            else:
                kw.update(random=net.to_dense(force=True), scale=1.0)
            kw.update(I=net.I, W=net.W)
        else:
            if self.low_rank:
                kw["M"] = self.init_gain * rng.standard_normal((n, self.rank))
                kw["N"] = self.init_gain * rng.standard_normal((n, self.rank))
                kw["scale"] = 1.0 / n
            else:
                kw["random"] = self.init_gain / np.sqrt(n) * rng.standard_normal((n, n))
                kw["scale"] = 1.0
            kw["I"] = rng.standard_normal((n, d_in))
            kw["W"] = rng.standard_normal((n, d_out)) / n
        if not self.low_rank:
            kw["M"] = kw["N"] = np.zeros((n, 1))
        if self._mask is not None and kw["mask"] is None:
            kw["mask"] = sp.csr_array(self._mask)
        if self.init_x0 is not None:
            kw["x0"] = self.init_x0
        return kw

    def _build(self, kw: dict[str, Any]) -> Any:
        torch = _torch()
        from lowrank_rnn.fit._rate_module import TrainerModule

        self._tdtype = torch.float64 if self.dtype == "float64" else torch.float32
        trainable = tuple("J" if k == "J" else k for k in self.trainable)
        return TrainerModule(
            kw["M"], kw["N"], kw["I"], kw["W"], dt=self.dt_, scale=kw["scale"],
            readout_scale=self.readout_scale, tau=self.tau, phi=self.phi, random=kw["random"],
            mask=kw["mask"], trainable=trainable, x0=kw.get("x0"), signs=self._signs,
            x0_input=self.x0_input, full_rank=kw["full_rank"], dtype=self._tdtype,
            device=self.device_,
        )

    def _make_optimizer(self) -> None:
        opt_cls = _resolve_class("optimizer", self.optimizer, "optim")
        kw = dict(self.optimizer_kwargs)
        if self.weight_decay:
            kw.setdefault("weight_decay", self.weight_decay)
        self.optimizer_ = opt_cls(list(self.model_.parameters()), lr=self.lr, **kw)
        self._optim = self.optimizer_
        sched = _resolve_class("scheduler", self.scheduler, "sched")
        self.scheduler_ = None if sched is None else sched(self.optimizer_,
                                                           **self.scheduler_kwargs)

    def initialize(self, d_in: int, d_out: int, dt: float) -> BPTTTrainer:
        """Draw (or take from ``init_network``) the initial weights and build the model and
        optimiser (called by :meth:`fit`).

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
        rng = as_rng(copy.deepcopy(self.random_state) if isinstance(
            self.random_state, np.random.Generator) else self.random_state)
        self._rng = rng
        self.model_ = self._build(self._initial_arrays(rng, d_in, d_out))
        self._make_optimizer()
        self._torch_gen = torch.Generator(device=self.device_)
        self._torch_gen.manual_seed(int(rng.integers(2**62)))
        self.n_params_ = int(sum(p.numel() for p in self.model_.parameters()))
        self.history_: dict[str, list[float]] = {
            "epoch": [], "train_loss": [], "val_loss": [], "val_metric": [], "lr": [],
            "seconds": [],
        }
        self.seconds_ = 0.0
        self.epochs_done_ = 0
        self._n_steps = 0
        self._best: dict[str, Any] = {"epoch": 0, "val_loss": math.inf, "state": None, "wait": 0}
        self._stopped_early = False
        self._update_info()
        return self

    def _update_info(self) -> None:
        self.info_ = {
            "history": self.history_, "best_epoch": int(self._best["epoch"]),
            "best_val_loss": float(self._best["val_loss"]), "stopped_early": self._stopped_early,
            "n_steps": int(self._n_steps), "seconds": float(self.seconds_),
        }

    def _tensor(self, a: np.ndarray) -> Any:
        torch = _torch()
        return torch.as_tensor(np.asarray(a), dtype=self._tdtype, device=self.device_)

    def _x0(self) -> Any:
        return self.model_.initial_state()

    # ------------------------------------------------------------------ losses
    def _batch_tensors(self, batch: TrialBatch) -> tuple[Any, Any, Any, Any]:
        torch = _torch()
        labels = None
        if self.loss == "cross_entropy":
            lab = batch.labels if batch.labels is not None else batch.targets.argmax(axis=2)
            labels = torch.as_tensor(lab, dtype=torch.long, device=self.device_)
        return (self._tensor(batch.inputs), self._tensor(batch.targets),
                self._tensor(batch.mask.astype(float)), labels)

    def _objective(self, u: Any, y: Any, m: Any, labels: Any, noise: float) -> tuple[Any, Any]:
        """(total loss with penalties, data loss) for one batch of tensors."""
        torch = _torch()
        need_rates = self.l2_rates > 0
        out = self.model_(u, None, noise=noise, generator=self._torch_gen,
                          return_rates=need_rates)
        z, rates = out if need_rates else (out, None)
        if callable(self.loss):
            data = self.loss(z, y, m)
        elif self.loss == "mse":
            data = ((z - y) ** 2 * m).sum() / m.sum().clamp_min(1.0)
        else:
            steps = m.amax(dim=2)  # (batch, time)
            logp = torch.log_softmax(z, dim=2)
            nll = -logp.gather(2, labels[..., None])[..., 0]
            data = (nll * steps).sum() / steps.sum().clamp_min(1.0)
        total = data
        if need_rates:
            total = total + self.l2_rates * (rates**2).mean()
        if self.l2_weights > 0:
            for name, p in self.model_.named_parameters():
                if name in _WEIGHT_BLOCKS or name == "random":
                    total = total + self.l2_weights * (p**2).sum()
        return total, data

    def batch_loss(self, batch: TrialBatch, noise: float = 0.0) -> Any:
        """The training objective on ``batch`` (loss plus penalties), a differentiable scalar."""
        self._check_fitted()
        self._check_batch("batch", batch)
        return self._objective(*self._batch_tensors(batch), noise)[0]

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
        if self.loss == "cross_entropy" and batch.labels is not None and \
                int(batch.labels.max()) >= self.d_out_:
            raise ValueError(f"{name}: labels reach class {int(batch.labels.max())}, the network "
                             f"has d_out={self.d_out_} output classes")

    # ------------------------------------------------------------------ checkpoints
    def _hyper_config(self) -> dict[str, Any]:
        """Hyper-parameters as JSON (what :meth:`load` rebuilds the trainer from)."""
        opt, sch = _qualname(self.optimizer), _qualname(self.scheduler)
        cfg = {
            "n_neurons": self.n_neurons, "rank": self.rank, "phi": self.phi, "tau": self.tau,
            "lr": self.lr, "optimizer": opt, "optimizer_kwargs": self.optimizer_kwargs,
            "weight_decay": self.weight_decay, "scheduler": sch,
            "scheduler_kwargs": self.scheduler_kwargs,
            "loss": self.loss if isinstance(self.loss, str) else None,
            "n_epochs": self.n_epochs, "batch_size": self.batch_size,
            "batches_per_epoch": self.batches_per_epoch, "grad_clip": self.grad_clip,
            "noise": self.noise, "l2_rates": self.l2_rates, "l2_weights": self.l2_weights,
            "x0_input": self.x0_input, "init_gain": self.init_gain,
            "trainable": list(self.trainable), "readout_scale": self.readout_scale,
            "keep_best": self.keep_best, "early_stopping": self.early_stopping,
            "min_delta": self.min_delta, "device": self.device, "dtype": self.dtype,
            "n_threads": self.n_threads, "checkpoint_every": self.checkpoint_every,
            "progress": self.progress,
        }
        try:
            json.dumps(cfg)
        except TypeError as err:
            raise ValueError(f"optimizer_kwargs/scheduler_kwargs: not storable as JSON ({err})"
                             ) from err
        return cfg

    def _state(self) -> dict[str, Any]:
        torch = _torch()
        missing = [k for k, v in (("optimizer", self.optimizer), ("scheduler", self.scheduler),
                                  ("loss", self.loss))
                   if v is not None and _qualname(v) is None and not isinstance(v, str)]
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": json.dumps(self._hyper_config()),
            "fit": json.dumps({"d_in": self.d_in_, "d_out": self.d_out_, "dt": self.dt_,
                               "not_stored": missing}),
            "model": _copy_state(self.model_.state_dict(), "cpu"),
            "optimizer": self.optimizer_.state_dict(),
            "scheduler": None if self.scheduler_ is None else self.scheduler_.state_dict(),
            "numpy_rng": torch.as_tensor(_rng_to_array(self._rng).view(np.int64)),
            "torch_rng": self._torch_gen.get_state(),
            "history": json.dumps(self.history_),
            "progress_state": json.dumps({
                "seconds": self.seconds_, "epochs_done": self.epochs_done_,
                "n_steps": self._n_steps, "best_epoch": self._best["epoch"],
                "best_val_loss": (None if not math.isfinite(self._best["val_loss"])
                                  else self._best["val_loss"]),
                "wait": self._best["wait"], "stopped_early": self._stopped_early,
            }),
            "best_model": (None if self._best["state"] is None else
                           _copy_state(self._best["state"], "cpu")),
        }

    def save_checkpoint(self, path: str | Path) -> None:
        """Write the full training state atomically: configuration (JSON), weights, optimiser
        and scheduler state, random streams (as arrays) and curves. No code is stored: the file
        is read back with ``torch.load(weights_only=True)``."""
        from lowrank_rnn._io import atomic_path

        torch = _torch()
        self._check_fitted()
        with atomic_path(path) as tmp:
            torch.save(self._state(), tmp)

    def save(self, path: str | Path) -> Path:
        """Write the trainer in the library's file format (:func:`lowrank_rnn.save`: a ZIP of
        ``.npy`` arrays behind a JSON header, no pickle): the same content as a checkpoint.
        ``BPTTTrainer.load(path)`` or ``lowrank_rnn.load(path)`` reads it back."""
        from lowrank_rnn import io as _lio

        self._check_fitted()
        return _lio.save(self, path)

    @staticmethod
    def _read_checkpoint(path: str | Path) -> dict[str, Any]:
        """Read a checkpoint with ``weights_only=True``: only tensors and plain containers are
        accepted; a file that would run code when unpickled is refused unopened."""
        import pickle
        import zipfile

        torch = _torch()
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"checkpoint={str(path)!r}: no such file")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError,
                zipfile.BadZipFile, AttributeError, TypeError, KeyError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(
                f"checkpoint={str(path)!r}: not a safe BPTT checkpoint (it holds objects other "
                f"than tensors and plain data, or is damaged); refused without running it: "
                f"{first}"
            ) from err
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint={str(path)!r}: not a {CHECKPOINT_FORMAT} file")
        if int(state.get("version", 0)) > CHECKPOINT_VERSION:
            raise ValueError(
                f"checkpoint={str(path)!r}: format version {state.get('version')} is newer than "
                f"this package reads ({CHECKPOINT_VERSION}); upgrade lowrank-rnn"
            )
        return state

    def load_checkpoint(self, path: str | Path) -> BPTTTrainer:
        """Restore a state written by :meth:`save_checkpoint` into this initialised trainer
        (the structure must match; use :meth:`load` to rebuild a trainer from the file)."""
        self._check_fitted()
        return self._restore(self._read_checkpoint(path), path)

    def _restore(self, state: dict[str, Any], path: Any) -> BPTTTrainer:
        cfg = json.loads(state["config"])
        fit = json.loads(state["fit"])
        stored = {"n_neurons": cfg["n_neurons"], "rank": cfg["rank"], "phi": cfg["phi"],
                  "tau": cfg["tau"], "d_in": fit["d_in"], "d_out": fit["d_out"], "dt": fit["dt"],
                  "dtype": cfg["dtype"], "trainable": cfg["trainable"],
                  "x0_input": cfg["x0_input"]}
        if stored != self._config():
            raise ValueError(
                f"checkpoint={str(path)!r}: written for {stored}, this trainer is "
                f"{self._config()}"
            )
        try:
            self.model_.load_state_dict(_copy_state(state["model"], self.device_))
        except RuntimeError as err:
            raise ValueError(f"checkpoint={str(path)!r}: weights do not fit: {err}") from err
        self.optimizer_.load_state_dict(state["optimizer"])
        if self.scheduler_ is not None and state["scheduler"] is not None:
            self.scheduler_.load_state_dict(state["scheduler"])
        self._rng.bit_generator.state = _rng_from_array(
            state["numpy_rng"].numpy().view(np.uint64)).bit_generator.state
        self._torch_gen.set_state(state["torch_rng"].cpu())
        self.history_ = json.loads(state["history"])
        prog = json.loads(state["progress_state"])
        self.seconds_ = float(prog["seconds"])
        self.epochs_done_ = int(prog["epochs_done"])
        self._n_steps = int(prog["n_steps"])
        self._best = {"epoch": int(prog["best_epoch"]),
                      "val_loss": (math.inf if prog["best_val_loss"] is None
                                   else float(prog["best_val_loss"])),
                      "wait": int(prog["wait"]),
                      "state": (None if state["best_model"] is None else
                                _copy_state(state["best_model"], self.device_))}
        self._stopped_early = bool(prog["stopped_early"])
        self._update_info()
        return self

    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> BPTTTrainer:
        """Rebuild a trainer from a checkpoint alone: the hyper-parameters, weights, optimiser,
        scheduler, random streams and curves are read from the file (safely: tensors and plain
        data only, ``torch.load(weights_only=True)``).

        Parameters
        ----------
        path : path
        **overrides
            Hyper-parameters to set instead of the stored ones (needed for a user's loss,
            optimiser or scheduler factory, which no file can hold: the file records which).

        Returns
        -------
        BPTTTrainer
            Ready to ``predict``, ``to_network`` or continue with ``fit_more``.
        """
        try:
            from lowrank_rnn import io as _lio

            header = _lio.read_header(path)
        except (ImportError, ValueError):
            header = None
        if header is not None:  # a file of the library's format (lowrank_rnn.save)
            obj = _lio.load(path, expect=cls)
            if overrides:
                raise ValueError("overrides: only for checkpoints written by save_checkpoint")
            return obj
        return cls._from_state(cls._read_checkpoint(path), path, overrides)

    @classmethod
    def _from_state(cls, state: dict[str, Any], path: Any, overrides: dict[str, Any]
                    ) -> BPTTTrainer:
        cfg = json.loads(state["config"])
        fit = json.loads(state["fit"])
        for key in fit.get("not_stored", []):
            if key not in overrides:
                raise ValueError(
                    f"checkpoint={str(path)!r}: was trained with a custom {key} that a file "
                    f"cannot hold; pass it again: BPTTTrainer.load(path, {key}=...)"
                )
        for key in ("optimizer", "scheduler"):
            if cfg.get(key):
                cfg[key] = _import_name(cfg[key])
        if cfg.get("loss") is None:
            cfg.pop("loss", None)
        model = state["model"]
        from lowrank_rnn.fit._rate_module import TrainerModule

        cfg.update(overrides)
        tr = cls(**cfg)
        tr.device_ = resolve_device(tr.device)
        tr.d_in_, tr.d_out_, tr.dt_ = int(fit["d_in"]), int(fit["d_out"]), float(fit["dt"])
        torch = _torch()
        try:
            tr.model_ = TrainerModule.from_state_dict(model, device=tr.device_)
        except (KeyError, RuntimeError, TypeError) as err:
            raise ValueError(f"checkpoint={str(path)!r}: the weights are incomplete: {err}"
                             ) from err
        tr._tdtype = tr.model_.M.dtype
        if tr.model_.masked:
            tr._mask = tr.connectivity_mask = tr.model_.mask_dense.cpu().numpy()
        if tr.model_.dale:
            tr._signs = tr.dale = tr.model_.signs.cpu().numpy()
        tr._rng = np.random.default_rng()
        tr._make_optimizer()
        tr._torch_gen = torch.Generator(device=tr.device_)
        tr.n_params_ = int(sum(p.numel() for p in tr.model_.parameters()))
        tr.history_ = {}
        tr.seconds_, tr.epochs_done_, tr._n_steps = 0.0, 0, 0
        tr._best = {"epoch": 0, "val_loss": math.inf, "state": None, "wait": 0}
        tr._stopped_early = False
        return tr._restore(state, path)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        train: TrialBatch | Callable[[np.random.Generator], TrialBatch],
        validation: TrialBatch | None = None,
    ) -> BPTTTrainer:
        """Train for ``n_epochs`` epochs (in total, counting epochs restored from a checkpoint).

        Parameters
        ----------
        train : TrialBatch or callable
            Training trials, shape (batch, time, d) each; or a generator ``train(rng) ->
            TrialBatch`` called with the trainer's random stream for a fresh batch at every
            step (e.g. ``lambda rng: random_dots_trials(32, rng=rng)``).
        validation : TrialBatch, optional
            Trials scored (noiselessly) after each epoch: the validation curve, keep-best and
            early stopping.

        Returns
        -------
        self
        """
        gen = None
        if isinstance(train, TrialBatch):
            probe = train
        elif callable(train):
            gen = train
            probe = None
        else:
            raise ValueError(
                f"train: expected a TrialBatch or a callable rng -> TrialBatch, got "
                f"{type(train).__name__}"
            )
        if (self.keep_best or self.early_stopping) and validation is None:
            raise ValueError("keep_best/early_stopping: need a validation TrialBatch")
        if gen is not None:
            # the dimensions come from one batch of a copy of the stream (training then draws
            # its batches from the trainer's own stream)
            probe = gen(copy.deepcopy(as_rng(self.random_state, "random_state")))
            if not isinstance(probe, TrialBatch):
                raise ValueError(f"train: the generator returned {type(probe).__name__}, "
                                 "expected a TrialBatch")
        self.initialize(probe.inputs.shape[2], probe.targets.shape[2], probe.dt)
        with _torch_threads(self.n_threads if self.device_ == "cpu" else None):
            return self._fit(train if gen is None else gen, validation)

    def fit_more(
        self,
        train: TrialBatch | Callable[[np.random.Generator], TrialBatch],
        validation: TrialBatch | None = None,
        n_epochs: int = 1,
    ) -> BPTTTrainer:
        """Continue training a fitted (or loaded) trainer for ``n_epochs`` more epochs."""
        self._check_fitted()
        n_epochs = check_int("n_epochs", n_epochs, minimum=0)
        self.n_epochs = self.epochs_done_ + n_epochs
        with _torch_threads(self.n_threads if self.device_ == "cpu" else None):
            return self._fit(train, validation, resume=False)

    def _progress(self) -> Any:
        if not self.progress:
            return None
        if sys.stderr.isatty():
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
            return bar, task
        return "log"

    def _report(self, prog: Any) -> None:
        h = self.history_
        text = f"loss {h['train_loss'][-1]:.4g}"
        if math.isfinite(h["val_loss"][-1]):
            text += f" val {h['val_loss'][-1]:.4g}"
        if math.isfinite(h["val_metric"][-1]):
            text += f" metric {h['val_metric'][-1]:.4g}"
        if prog == "log":
            print(f"BPTT epoch {self.epochs_done_}/{self.n_epochs} {text} "
                  f"({self.seconds_:.1f} s)", file=sys.stderr, flush=True)
        elif prog is not None:
            bar, task = prog
            bar.update(task, completed=self.epochs_done_, loss=text)

    def _fit(self, train: Any, validation: TrialBatch | None, resume: bool = True) -> BPTTTrainer:
        torch = _torch()
        gen = None if isinstance(train, TrialBatch) else train
        if gen is None:
            self._check_batch("train", train)
        if validation is not None:
            self._check_batch("validation", validation)
        if resume and self.checkpoint is not None and self.resume and self.checkpoint.exists():
            self.load_checkpoint(self.checkpoint)
        if gen is None:
            u_all, y_all, m_all, l_all = self._batch_tensors(train)
            n_trials = train.batch
        params = [p for p in self.model_.parameters()]
        plateau = type(self.scheduler_).__name__ == "ReduceLROnPlateau"
        prog = self._progress()
        try:
            while self.epochs_done_ < self.n_epochs and not self._stopped_early:
                t0 = time.perf_counter()
                self.model_.train()
                if gen is None:
                    order = self._rng.permutation(n_trials)
                    chunks: Any = (order[a: a + self.batch_size]
                                   for a in range(0, n_trials, self.batch_size))
                else:
                    chunks = range(self.batches_per_epoch)
                total, weight = 0.0, 0.0
                for chunk in chunks:
                    if gen is None:
                        idx = torch.as_tensor(chunk, device=self.device_)
                        tensors = (u_all[idx], y_all[idx], m_all[idx],
                                   None if l_all is None else l_all[idx])
                    else:
                        b = gen(self._rng)
                        self._check_batch("train (generated)", b)
                        tensors = self._batch_tensors(b)
                    box: dict[str, Any] = {}

                    def closure(tensors: Any = tensors, box: dict[str, Any] = box) -> Any:
                        self.optimizer_.zero_grad(set_to_none=True)
                        loss, data = self._objective(*tensors, self.noise)
                        loss.backward()
                        if self.grad_clip is not None:
                            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)
                        box.setdefault("data", data.detach())
                        return loss

                    self.optimizer_.step(closure)
                    self._n_steps += 1
                    w = float(tensors[2].sum())
                    total += float(box["data"]) * w
                    weight += w
                val = metric = float("nan")
                if validation is not None:
                    val, metric = self._validate(validation)
                self.epochs_done_ += 1
                lr_now = float(self.optimizer_.param_groups[0]["lr"])
                if self.scheduler_ is not None:
                    if plateau:
                        self.scheduler_.step(val if validation is not None else
                                             total / max(weight, 1.0))
                    else:
                        self.scheduler_.step()
                self.seconds_ += time.perf_counter() - t0
                h = self.history_
                h["epoch"].append(self.epochs_done_)
                h["train_loss"].append(total / max(weight, 1.0))
                h["val_loss"].append(val)
                h["val_metric"].append(metric)
                h["lr"].append(lr_now)
                h["seconds"].append(self.seconds_)
                if not math.isfinite(h["train_loss"][-1]):
                    raise FloatingPointError(
                        f"BPTT diverged at epoch {self.epochs_done_} (loss is not finite); "
                        f"lower lr={self.lr} or set grad_clip"
                    )
                if validation is not None:
                    self._track_best(val)
                self._update_info()
                self._report(prog)
                if self.checkpoint is not None and (
                    self.epochs_done_ % self.checkpoint_every == 0
                    or self.epochs_done_ == self.n_epochs or self._stopped_early
                ):
                    self.save_checkpoint(self.checkpoint)
        finally:
            if isinstance(prog, tuple):
                prog[0].stop()
        if self.keep_best and self._best["state"] is not None:
            self.model_.load_state_dict(self._best["state"])
        self._update_info()
        return self

    def _track_best(self, val: float) -> None:
        b = self._best
        if val < b["val_loss"] - self.min_delta:
            b["val_loss"], b["epoch"], b["wait"] = val, self.epochs_done_, 0
            if self.keep_best:
                b["state"] = _copy_state(self.model_.state_dict(), None)
        else:
            b["wait"] += 1
            if self.early_stopping is not None and b["wait"] >= self.early_stopping:
                self._stopped_early = True

    def _validate(self, batch: TrialBatch) -> tuple[float, float]:
        torch = _torch()
        with torch.no_grad():
            tensors = self._batch_tensors(batch)
            _, data = self._objective(*tensors, 0.0)
            z = None
            metric = float("nan")
            if self.validation_metric is not None:
                z = self.model_(tensors[0]).detach().cpu().numpy().astype(float)
                metric = float(self.validation_metric(z, batch))
        return float(data), metric

    # ------------------------------------------------------------------ use
    def predict(self, inputs: np.ndarray, x0: np.ndarray | None = None,
                return_states: bool = False) -> Any:
        """Noiseless outputs ``z``, shape (batch, time, d_out), for inputs (batch, time, d_in).

        ``x0`` (shape (N,) or (batch, N)) overrides the trainer's initial state;
        ``return_states`` also returns the states (batch, time, N).
        """
        torch = _torch()
        self._check_fitted()
        inputs = check_array("inputs", inputs, ndim=3)
        if inputs.shape[2] != self.d_in_:
            raise ValueError(f"inputs: last dimension {inputs.shape[2]} must be d_in={self.d_in_}")
        with torch.no_grad(), _torch_threads(self.n_threads if self.device_ == "cpu" else None):
            x0_t = None if x0 is None else self._tensor(check_array("x0", x0))
            out = self.model_(self._tensor(inputs), x0_t, return_states=return_states)
        if return_states:
            return tuple(t.detach().cpu().numpy().astype(float) for t in out)
        return out.detach().cpu().numpy().astype(float)

    def score(self, batch: TrialBatch) -> float:
        """Noiseless data loss on ``batch`` (masked MSE for ``loss='mse'``; no penalties)."""
        self._check_fitted()
        self._check_batch("batch", batch)
        if self.loss == "mse":
            return masked_mse(self.predict(batch.inputs), batch.targets, batch.mask)
        torch = _torch()
        with torch.no_grad(), _torch_threads(self.n_threads if self.device_ == "cpu" else None):
            return float(self._objective(*self._batch_tensors(batch), 0.0)[1])

    def initial_state(self) -> np.ndarray:
        """The initial state ``x0`` used for every trial, shape (N,)."""
        self._check_fitted()
        return self.model_.initial_state().detach().cpu().numpy().astype(float).copy()

    def to_network(self) -> LowRankRNN:
        """The trained network as a :class:`LowRankRNN` (same dynamics as the torch model).

        Low rank: ``M, N`` with the trainer's scale (``1/N``), the connectivity mask as the
        network's CSR mask, a fixed random part as its random part. Full rank, or Dale's law:
        the exact factorisation ``J = (U S) V^T`` of the effective matrix (SVD), rank N,
        ``scale = 1``. A bias ``b`` becomes one more input column: feed a constant 1 on it. An
        output bias has no counterpart in LowRankRNN: a non-zero one raises ValueError.
        """
        self._check_fitted()
        return self.model_.to_network()

    def effective_connectivity(self) -> np.ndarray:
        """The recurrent matrix J (N, N) the network uses (after mask and Dale's law)."""
        torch = _torch()
        self._check_fitted()
        with torch.no_grad():
            return self.model_.effective_J().detach().cpu().numpy().astype(float)


# ------------------------------------------------------------------ the library's file format
def _tree(obj: Any, leaf: Callable[[Any], Any]) -> Any:
    if isinstance(obj, dict):
        return {k: _tree(v, leaf) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tree(v, leaf) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_tree(v, leaf) for v in obj)
    return leaf(obj)


def _to_arrays(obj: Any) -> Any:
    return obj.detach().cpu().numpy() if hasattr(obj, "detach") else obj


def _to_tensors(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return _torch().as_tensor(obj)
    return obj


def _trainer_state(tr: BPTTTrainer) -> dict[str, Any]:
    tr._check_fitted()
    return _tree(tr._state(), _to_arrays)


def _trainer_from_state(tree: dict[str, Any]) -> BPTTTrainer:
    state = _tree(tree, _to_tensors)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"BPTTTrainer: stored state is not a {CHECKPOINT_FORMAT} state")
    return BPTTTrainer._from_state(state, "<file>", {})


try:  # the library's format knows the trainer (the io layer imports this module on demand)
    from lowrank_rnn.io import register_format as _register_format
except ImportError:  # pragma: no cover - io is part of the package
    pass
else:
    _register_format(BPTTTrainer, _trainer_state, _trainer_from_state, name="BPTTTrainer")
