"""Closed-form solutions versus BPTT on neuroscience tasks ("A new look at low-rank RNNs", Sec 6).

Three methods are compared on the same trials:

- ``closed_form``: a latent ODE with the task's attractors, embedded by least squares in a
  random tanh basis (:class:`lowrank_rnn.fit.regression.ODEEmbedding`, eq 9–11), in one step.
  3-bit flip-flop: 3 neurons, rank 3, one bistable latent per bit (Sec 6, Fig 5A–B).
  Binary decision: 10 neurons, rank 1, a bistable latent with an unstable fixed point at 0
  (Sec 4 and 6, Fig 5C–D).
- ``bptt_low_rank``: the same equation with ``J = M N^T / N`` trained by BPTT
  (:class:`lowrank_rnn.fit.bptt.BPTTTrainer`), at the closed form's size and rank and larger.
- ``bptt_full_rank``: a free J trained by BPTT.

All methods receive the task inputs plus one constant ("tonic") channel, the paper's ``v = 1``
that gives the basis functions their offsets (eq 9); every network starts at that channel's
steady state ``x0 = I[:, tonic]``. All read out ``z = W^T phi(x)`` (eq 2). For the closed form
``W = N``, so that ``z = N^T phi(M kappa + I v) = kappa + g(kappa)`` equals the latent kappa at
each of its fixed points (the attractors that carry the answer) and saturates in between.

Input loadings of the closed form: a task input that must move the latent is loaded along M
(``I_k = a M e_k``), so it adds ``a u_k`` to ``d kappa_k / dt`` (eq 4 with the input in the
recurrent subspace). The gain ``a`` and, for the decision task, the steepness ``k`` of the latent
ODE ``g(z) = k (z - z^3)`` are the only hand-set numbers; they are chosen from a small grid on the
training trials (reported in ``info``), as BPTT's learning rate is chosen on validation trials.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lowrank_rnn._validate import check_choice, check_int, check_real
from lowrank_rnn.fit.bptt import BPTTTrainer, masked_mse
from lowrank_rnn.io import register_dataclass
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks._base import TrialBatch
from lowrank_rnn.tasks.decision import decision_trials
from lowrank_rnn.tasks.flipflop import flipflop_trials, task_streams

__all__ = [
    "METHODS",
    "TASKS",
    "ClosedFormSolution",
    "ComparisonRun",
    "closed_form_decision",
    "closed_form_flipflop",
    "compare",
    "make_trials",
    "summarize",
    "tune_lr",
    "with_tonic_input",
]

METHODS = ("closed_form", "bptt_low_rank", "bptt_full_rank")
TASKS = ("flipflop", "decision")

#: Size and rank of the closed-form network of each task (Sec 6).
CLOSED_FORM_SIZE = {"flipflop": (3, 3), "decision": (10, 1)}


# ------------------------------------------------------------------------------------ trials
def with_tonic_input(batch: TrialBatch) -> TrialBatch:
    """Append a constant unit input channel (the paper's ``v = 1``) to a batch of trials.

    Returns
    -------
    TrialBatch
        ``inputs`` of shape (batch, time, d_in + 1), the last channel equal to 1.
    """
    ones = np.ones(batch.inputs.shape[:2] + (1,))
    return TrialBatch(
        inputs=np.concatenate([batch.inputs, ones], axis=2),
        targets=batch.targets,
        mask=batch.mask,
        dt=batch.dt,
        paper=batch.paper,
        info=dict(batch.info),
    )


def make_trials(
    task: str, n_train: int, n_validation: int, n_test: int, seed: int, **task_kw: Any
) -> dict[str, TrialBatch]:
    """Train, validation and test trials of ``task`` from three independent streams of ``seed``.

    Each batch carries the tonic input channel (:func:`with_tonic_input`).
    """
    check_choice("task", task, TASKS)
    streams = task_streams(seed)
    gen: Callable[..., TrialBatch] = flipflop_trials if task == "flipflop" else decision_trials
    sizes = {"train": n_train, "validation": n_validation, "test": n_test}
    return {
        k: with_tonic_input(gen(check_int(f"n_{k}", n, minimum=1), rng=streams[k], **task_kw))
        for k, n in sizes.items()
    }


# ------------------------------------------------------------------------------ closed form
@dataclass(frozen=True)
class ClosedFormSolution:
    """A network built in closed form for a task.

    Attributes
    ----------
    network : LowRankRNN
        ``J = M N^T`` (scale 1), inputs ``I`` of shape (N, d_in + 1) (task channels, then the
        tonic channel), readout ``W = N``.
    x0 : ndarray, shape (N,)
        Initial state (the tonic channel's steady state).
    seconds : float
        Wall time of the whole construction: the regressions and the choice of the gains by
        simulating the training trials (``info["regression_seconds"]``: one regression alone).
    n_params : int
        Number of scalars learned from the target: the entries of N plus the chosen scalars.
    info : dict
        Regression diagnostics and the chosen gains.
    """

    network: LowRankRNN
    x0: np.ndarray
    seconds: float
    n_params: int
    info: dict[str, Any] = field(default_factory=dict)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Outputs ``z`` of shape (batch, time, d_out): ``simulate(...).z`` after each input."""
        dt = float(self.info["dt"])
        traj = simulate(self.network, inputs, self.x0, dt=dt)
        return traj.z[:, 1:]

    def score(self, batch: TrialBatch) -> float:
        """Masked MSE on ``batch``."""
        return masked_mse(self.predict(batch.inputs), batch.targets, batch.mask)


def _embed_bistable(
    rank: int, n_neurons: int, k: float, basis: Any, inputs: str, box: float, seed: int | None
) -> Any:
    from lowrank_rnn.fit.regression import ODEEmbedding

    est = ODEEmbedding(rank=rank, n_neurons=n_neurons, basis=basis, inputs=inputs,
                       random_state=seed)
    n_points = max(400, 12**rank)
    return est.fit(lambda Z: k * (Z - Z**3), box=(-box, box), n_points=n_points)


def closed_form_flipflop(
    train: TrialBatch,
    *,
    slope: float = 3.0,
    gains: Sequence[float] = (10.0, 20.0, 40.0, 80.0, 160.0),
) -> ClosedFormSolution:
    """3-bit flip-flop with 3 neurons and rank 3 ("A new look", Sec 6, Fig 5A).

    Each bit is a latent ``kappa_k`` with the bistable ODE ``g(z) = z - z^3`` (stable fixed
    points +-1, unstable 0). Because g is odd, no offsets are needed (Sec 3): the basis is one
    tanh per bit, ``M = slope * 1_3`` and ``I = 0``, and N is the least-squares solution of
    eq 11 on a grid of the cube [-1, 1]^3. Input channel k is loaded along ``m_k`` with gain
    ``a`` (chosen from ``gains`` on the training trials), so a pulse pushes ``kappa_k`` towards
    its sign.

    Parameters
    ----------
    train : TrialBatch
        Training trials with the tonic channel (inputs (batch, time, n_bits + 1)).
    slope : float
        Slope of the tanh basis functions (> 0).
    gains : sequence of float
        Candidate input gains (> 0).
    """
    slope = check_real("slope", slope, minimum=0.0, min_inclusive=False)
    gains = [check_real("gains", g, minimum=0.0, min_inclusive=False) for g in gains]
    if not gains:
        raise ValueError("gains=(): give at least one candidate input gain")
    n_bits = train.targets.shape[2]
    if train.inputs.shape[2] != n_bits + 1:
        raise ValueError(
            f"train: expected {n_bits} task inputs plus the tonic channel, got "
            f"{train.inputs.shape[2]} channels"
        )
    t0 = time.perf_counter()
    M = slope * np.eye(n_bits)
    est = _embed_bistable(n_bits, n_bits, 1.0, (M, None), "none", 1.0, None)
    N = est.N_
    best: tuple[float, float, LowRankRNN] | None = None
    x0 = np.zeros(n_bits)
    for a in gains:
        I = np.hstack([a * M, np.zeros((n_bits, 1))])
        net = LowRankRNN(M=M, N=N, I=I, W=N, scale=1.0)
        sol = ClosedFormSolution(net, x0, 0.0, 0, {"dt": train.dt})
        err = sol.score(train)
        if best is None or err < best[0]:
            best = (err, a, net)
    seconds = time.perf_counter() - t0
    err, a, net = best
    info = {"dt": train.dt, "gain": a, "slope": slope, "train_mse": err,
            "regression_seconds": est.info_["seconds"],
            "regression_mse": est.info_["train_mse"], "condition_number":
            est.info_["condition_number"]}
    return ClosedFormSolution(net, x0, seconds, int(N.size) + 1, info)


def closed_form_decision(
    train: TrialBatch,
    *,
    n_neurons: int = 10,
    steepness: Sequence[float] = (0.25, 0.5, 1.0),
    gains: Sequence[float] = (1.0, 2.0, 4.0, 8.0),
    box: float = 2.0,
    rng: int | None = 0,
) -> ClosedFormSolution:
    """Binary decision with ``n_neurons`` neurons and rank 1 ("A new look", Sec 4 and 6).

    The latent follows ``dz/dt = k (z - z^3) + a u(t)``: an unstable fixed point at 0 where each
    trial starts and stable fixed points +-1, one per choice (Wong & Wang 2006). The basis is
    ``phi(m_i z + I_i)`` with Gaussian M and offsets I (the tonic channel, ``v = 1``), N solves
    eq 9 on a grid of [-box, box]; the evidence channel is loaded along m with gain a. ``k`` and
    ``a`` are chosen from the candidate grids on the training trials.

    Parameters
    ----------
    train : TrialBatch
        Training trials with the tonic channel (inputs (batch, time, 2)).
    n_neurons : int
        Number of basis functions (10 in the paper).
    steepness, gains : sequence of float
        Candidate values of k and a (> 0).
    box : float
        Half-width of the fitting interval of z (> 1 so that both attractors are inside).
    rng : int or None
        Seed of the random basis.
    """
    n_neurons = check_int("n_neurons", n_neurons, minimum=1)
    ks = [check_real("steepness", k, minimum=0.0, min_inclusive=False) for k in steepness]
    gs = [check_real("gains", g, minimum=0.0, min_inclusive=False) for g in gains]
    if not ks or not gs:
        raise ValueError("steepness/gains: give at least one candidate value each")
    box = check_real("box", box, minimum=1.0, min_inclusive=False)
    if train.inputs.shape[2] != 2 or train.targets.shape[2] != 1:
        raise ValueError(
            f"train: expected inputs (batch, time, 2) (evidence, tonic) and targets "
            f"(batch, time, 1), got {train.inputs.shape} and {train.targets.shape}"
        )
    t0 = time.perf_counter()
    best: tuple[float, float, float, LowRankRNN, np.ndarray, Any] | None = None
    for k in ks:
        est = _embed_bistable(1, n_neurons, k, "gaussian", "bias", box, rng)
        x0 = est.I_[:, 0].copy()
        for a in gs:
            I = np.hstack([a * est.M_, est.I_])
            net = LowRankRNN(M=est.M_, N=est.N_, I=I, W=est.N_, scale=1.0)
            sol = ClosedFormSolution(net, x0, 0.0, 0, {"dt": train.dt})
            with np.errstate(over="ignore", invalid="ignore"):
                err = sol.score(train)  # a diverging candidate scores inf or nan
            if not np.isfinite(err):
                err = np.inf
            if best is None or err < best[0]:
                best = (err, k, a, net, x0, est)
    seconds = time.perf_counter() - t0
    err, k, a, net, x0, est = best
    info = {"dt": train.dt, "gain": a, "steepness": k, "train_mse": err,
            "regression_seconds": est.info_["seconds"],
            "regression_mse": est.info_["train_mse"],
            "condition_number": est.info_["condition_number"]}
    return ClosedFormSolution(net, x0, seconds, int(est.N_.size) + 2, info)


# ------------------------------------------------------------------------------ comparison
@dataclass
class ComparisonRun:
    """One trained network: method, size, seed and its errors."""

    task: str
    method: str
    n_neurons: int
    rank: int | None
    seed: int
    train_mse: float
    test_mse: float
    seconds: float
    n_params: int
    lr: float | None = None
    curve: list[float] = field(default_factory=list)
    val_curve: list[float] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    #: The trained model (ClosedFormSolution or BPTTTrainer); not part of :meth:`as_dict`.
    model: Any = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in (
            "task", "method", "n_neurons", "rank", "seed", "train_mse", "test_mse", "seconds",
            "n_params", "lr", "curve", "val_curve", "info")}


def tune_lr(
    trials: dict[str, TrialBatch], n_neurons: int, rank: int | None, seed: int, *,
    lrs: Sequence[float], tune_epochs: int, batch_size: int, device: str = "cpu",
) -> tuple[float, list[float], float]:
    """The learning rate of :func:`compare`'s BPTT runs: each candidate trained for
    ``tune_epochs`` epochs on ``trials["train"]`` (initial weights from ``seed``), the one
    with the lowest validation MSE chosen (a diverging candidate scores inf).

    Returns
    -------
    (lr, scores, seconds)
        The chosen rate, the validation MSE of every candidate (in the order of ``lrs``; empty
        with a single candidate, which is taken untried) and the wall time of the search.
    """
    x0_input = trials["train"].inputs.shape[2] - 1
    common = {"batch_size": batch_size, "x0_input": x0_input, "device": device,
              "random_state": seed}
    t0 = time.perf_counter()
    lr_best = float(lrs[0])
    scores: list[float] = []
    if len(lrs) > 1:
        for lr in lrs:
            tr = BPTTTrainer(n_neurons, rank, lr=lr, n_epochs=tune_epochs, **common)
            try:
                tr.fit(trials["train"])
                scores.append(tr.score(trials["validation"]))
            except FloatingPointError:
                scores.append(np.inf)
        lr_best = float(lrs[int(np.argmin(scores))])
    return lr_best, scores, time.perf_counter() - t0


def _train_bptt(
    trials: dict[str, TrialBatch], n_neurons: int, rank: int | None, seed: int, *,
    lrs: Sequence[float], tune_epochs: int, n_epochs: int, batch_size: int, device: str,
    progress: bool,
) -> tuple[BPTTTrainer, float, float]:
    """Train with the learning rate chosen on validation trials; return (trainer, lr, tune s)."""
    x0_input = trials["train"].inputs.shape[2] - 1
    common = {"batch_size": batch_size, "x0_input": x0_input, "device": device,
              "random_state": seed}
    lr_best, _, tune_seconds = tune_lr(trials, n_neurons, rank, seed, lrs=lrs,
                                       tune_epochs=tune_epochs, batch_size=batch_size,
                                       device=device)
    trainer = BPTTTrainer(n_neurons, rank, lr=lr_best, n_epochs=n_epochs, progress=progress,
                          **common)
    trainer.fit(trials["train"], trials["validation"])
    return trainer, lr_best, tune_seconds


def compare(
    task: str,
    *,
    seeds: int = 5,
    sizes: Sequence[int] | None = None,
    bptt_rank: int | None = None,
    n_train: int = 512,
    n_validation: int = 128,
    n_test: int = 512,
    n_epochs: int = 200,
    lrs: Sequence[float] = (3e-3, 1e-2, 3e-2, 1e-1),
    tune_epochs: int = 20,
    batch_size: int = 64,
    methods: Sequence[str] = METHODS,
    device: str = "cpu",
    base_seed: int = 0,
    task_kw: dict[str, Any] | None = None,
    progress: bool = False,
    on_run: Callable[[ComparisonRun], None] | None = None,
) -> list[ComparisonRun]:
    """Closed form vs BPTT low rank vs BPTT full rank over ``seeds`` seeds and network sizes.

    Parameters
    ----------
    task : {'flipflop', 'decision'}
    seeds : int
        Number of seeds (each: new trials, new initial weights, new random basis).
    sizes : sequence of int, optional
        Numbers of neurons of the BPTT networks (default: the closed form's size only).
    bptt_rank : int, optional
        Rank of the low-rank BPTT networks (default: the closed form's rank; capped at N).
    n_train, n_validation, n_test : int
        Trials per stream.
    n_epochs : int
        BPTT epochs.
    lrs : sequence of float
        Candidate learning rates; with more than one, each is tried for ``tune_epochs`` epochs
        and the best on the validation trials is used.
    tune_epochs : int
    batch_size : int
    methods : sequence of str
        Subset of :data:`METHODS`.
    device : {'cpu', 'cuda', 'auto'}
    base_seed : int
        Seed ``s`` of run ``i`` is ``base_seed + i``.
    task_kw : dict, optional
        Keyword arguments of the task generator (e.g. ``n_steps`` for the flip-flop).
    progress : bool
        Rich progress bars while training.
    on_run : callable, optional
        Called with each finished :class:`ComparisonRun`.

    Returns
    -------
    list of ComparisonRun
        ``info["example_output"]`` holds each network's output on the first test trial,
        shape (time, d_out); the closed-form runs also hold that trial's ``example_target``
        and ``example_mask``.
    """
    check_choice("task", task, TASKS)
    seeds = check_int("seeds", seeds, minimum=1)
    cf_n, cf_r = CLOSED_FORM_SIZE[task]
    sizes = [cf_n] if sizes is None else [check_int("sizes", s, minimum=1) for s in sizes]
    if not sizes:
        raise ValueError("sizes=[]: give at least one network size")
    rank = cf_r if bptt_rank is None else check_int("bptt_rank", bptt_rank, minimum=1)
    if bptt_rank is not None and rank > min(sizes):
        raise ValueError(f"bptt_rank={rank}: must be <= the smallest size {min(sizes)}")
    for m in methods:
        check_choice("methods", m, METHODS)
    lrs = [check_real("lr", lr, minimum=0.0, min_inclusive=False) for lr in lrs]
    if not lrs:
        raise ValueError("lrs=(): give at least one learning rate")
    check_int("n_epochs", n_epochs, minimum=1)
    check_int("tune_epochs", tune_epochs, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_choice("device", device, ("cpu", "cuda", "auto"))
    base_seed = check_int("base_seed", base_seed, minimum=0)
    check_int("n_train", n_train, minimum=1)
    check_int("n_validation", n_validation, minimum=1)
    check_int("n_test", n_test, minimum=1)
    task_kw = dict(task_kw or {})

    runs: list[ComparisonRun] = []

    def done(run: ComparisonRun) -> None:
        runs.append(run)
        if on_run is not None:
            on_run(run)

    for i in range(seeds):
        seed = base_seed + i
        trials = make_trials(task, n_train, n_validation, n_test, seed, **task_kw)
        if "closed_form" in methods:
            if task == "flipflop":
                sol = closed_form_flipflop(trials["train"])
            else:
                sol = closed_form_decision(trials["train"], rng=seed)
            info = {k: v for k, v in sol.info.items() if k != "dt"}
            info["example_output"] = sol.predict(trials["test"].inputs[:1])[0].tolist()
            info["example_target"] = trials["test"].targets[0].tolist()
            info["example_mask"] = trials["test"].mask[0].tolist()
            done(ComparisonRun(
                task, "closed_form", sol.network.n_neurons, sol.network.rank, seed,
                train_mse=float(sol.info["train_mse"]), test_mse=sol.score(trials["test"]),
                seconds=sol.seconds, n_params=sol.n_params, info=info, model=sol,
            ))
        for n in sizes:
            for method in ("bptt_low_rank", "bptt_full_rank"):
                if method not in methods:
                    continue
                r = min(rank, n) if method == "bptt_low_rank" else None
                trainer, lr, tune_s = _train_bptt(
                    trials, n, r, seed, lrs=lrs, tune_epochs=tune_epochs, n_epochs=n_epochs,
                    batch_size=batch_size, device=device, progress=progress,
                )
                done(ComparisonRun(
                    task, method, n, r if r is not None else n, seed,
                    train_mse=trainer.score(trials["train"]),
                    test_mse=trainer.score(trials["test"]),
                    seconds=trainer.seconds_, n_params=trainer.n_params_, lr=lr,
                    curve=list(trainer.history_["train_loss"]),
                    val_curve=list(trainer.history_["val_loss"]),
                    info={"tuning_seconds": tune_s, "epochs": trainer.epochs_done_,
                          "device": trainer.device_, "example_output":
                          trainer.predict(trials["test"].inputs[:1])[0].tolist()},
                    model=trainer,
                ))
    return runs


def summarize(runs: Sequence[ComparisonRun]) -> dict[str, Any]:
    """Per-method summary at the closed form's size, plus every size for the BPTT methods.

    Returns
    -------
    dict
        Keyed by method (``closed_form``, ``bptt_low_rank``, ``bptt_full_rank``), each with
        ``test_mse_mean``, ``test_mse_sd``, ``train_mse_mean``, ``seconds`` (mean wall time per
        network), ``n_params``, ``n_neurons``, ``rank``, ``n_seeds`` — at the closed form's size
        (the paper's "same size and rank") when it was trained, else at the smallest size — and
        ``by_size``: the same numbers for every size.
    """
    if not runs:
        raise ValueError("runs: nothing to summarise")
    task = runs[0].task
    ref_n = CLOSED_FORM_SIZE[task][0]
    out: dict[str, Any] = {}
    for method in METHODS:
        rows = [r for r in runs if r.method == method]
        if not rows:
            continue
        by_size: dict[int, dict[str, Any]] = {}
        for n in sorted({r.n_neurons for r in rows}):
            sel = [r for r in rows if r.n_neurons == n]
            test = np.array([r.test_mse for r in sel])
            by_size[n] = {
                "test_mse_mean": float(test.mean()),
                "test_mse_sd": float(test.std(ddof=1)) if test.size > 1 else 0.0,
                "train_mse_mean": float(np.mean([r.train_mse for r in sel])),
                "seconds": float(np.mean([r.seconds for r in sel])),
                "n_params": int(sel[0].n_params),
                "n_neurons": int(n),
                "rank": int(sel[0].rank) if sel[0].rank is not None else int(n),
                "n_seeds": len(sel),
            }
        key = ref_n if ref_n in by_size else min(by_size)
        out[method] = dict(by_size[key])
        out[method]["by_size"] = {str(n): v for n, v in by_size.items()}
    return out


register_dataclass(ClosedFormSolution)
