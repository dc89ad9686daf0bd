"""NeuroGym environments as :class:`TrialBatch` es (Molano-Mazón et al. 2022, NeuroGym).

A NeuroGym environment makes one trial at a time, time first: ``env.new_trial()`` fills
``env.ob`` (time, d_in) and the ground truth ``env.gt`` (time,) (integer actions, 0 =
fixate), with periods ``env.start_ind`` / ``env.end_ind`` in steps of ``env.dt`` milliseconds.
:func:`neurogym_trials` stacks ``batch`` of them batch first, pads trials of different lengths
(the padding is masked out), converts the step to units of the network's time constant
(``dt = env.dt / tau_ms``) and gives the ground truth both as integer ``labels`` (for a
cross-entropy loss over ``n_actions`` output classes) and as one-hot ``targets`` (for MSE).

NeuroGym is an optional dependency (``pip install 'lowrank-rnn[neurogym]'`` followed by
``pip install --no-deps neurogym==2.3.1``: its release pins older numpy and matplotlib than the
library uses, and runs with the current ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_int, check_real
from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["make_env", "neurogym_trials"]

_INSTALL = (
    "NeuroGym is not installed: pip install 'lowrank-rnn[neurogym]' && "
    "pip install --no-deps neurogym==2.3.1"
)


def make_env(name: str, **kwargs: Any) -> Any:
    """``neurogym.make(name, **kwargs)`` with a clear error when NeuroGym is missing."""
    try:
        import neurogym
    except ImportError as err:
        raise ImportError(_INSTALL) from err
    import warnings

    with warnings.catch_warnings():  # gymnasium warns about NeuroGym's metadata keys
        warnings.simplefilter("ignore", UserWarning)
        return neurogym.make(name, **kwargs)


def _unwrap(env: Any) -> Any:
    base = getattr(env, "unwrapped", env)
    for attr in ("new_trial", "dt"):
        if not hasattr(base, attr):
            raise ValueError(
                f"env: {type(env).__name__} is not a NeuroGym trial environment (no {attr!r})"
            )
    return base


def neurogym_trials(
    env: Any,
    batch: int,
    *,
    tau_ms: float = 100.0,
    loss_on: str | Sequence[str] = "all",
    rng: RngLike = None,
    **env_kwargs: Any,
) -> TrialBatch:
    """``batch`` trials of a NeuroGym environment as one :class:`TrialBatch`.

    Parameters
    ----------
    env : str or NeuroGym environment
        An environment, or its id (``'PerceptualDecisionMaking-v0'``), made with ``env_kwargs``.
    batch : int
        Number of trials (>= 1).
    tau_ms : float
        Time constant of the network in ms; the batch's ``dt`` is ``env.dt / tau_ms``.
    loss_on : 'all' or sequence of period names
        Where the mask is on: every step of each trial (NeuroGym's supervised datasets) or only
        the named periods (e.g. ``('decision',)``).
    rng : Generator, int or None
        Seeds the environment (``env.seed(int)`` with one integer drawn from ``rng``), so the same
        seed gives the same trials. ``None`` leaves the environment's own stream alone.
    **env_kwargs
        Passed to ``neurogym.make`` when ``env`` is a name (e.g. ``dt=20``).

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, d_in) = the observations; ``labels`` (batch, time) = the ground
        truth (0 in padding); ``targets`` (batch, time, n_actions) = its one-hot code; ``mask``
        (batch, time, n_actions); ``periods`` from the environment's step indices; ``info``:
        ``n_steps`` (each trial's own length) and every scalar the environment's ``trial`` dict
        holds (e.g. ``ground_truth``, ``coh``); ``response_period`` = ``'decision'`` when the
        environment has that period (used by :func:`~lowrank_rnn.tasks.decision_accuracy`).
    """
    if isinstance(env, str):
        env = make_env(env, **env_kwargs)
    elif env_kwargs:
        raise ValueError(
            f"env_kwargs={sorted(env_kwargs)!r}: only allowed when env is given by name"
        )
    base = _unwrap(env)
    batch = check_int("batch", batch, minimum=1)
    tau_ms = check_real("tau_ms", tau_ms, minimum=0.0, min_inclusive=False)
    if isinstance(loss_on, str):
        if loss_on != "all":
            loss_on = (loss_on,)
    else:
        loss_on = tuple(loss_on)
    if rng is not None:
        base.seed(int(as_rng(rng).integers(2**31 - 1)))
    space = getattr(base, "action_space", None)
    n_actions = getattr(space, "n", None)
    if n_actions is None:
        raise ValueError(
            f"env: action space {space!r} is not discrete; the adapter needs integer actions"
        )
    obs, gts, trials, starts, ends = [], [], [], [], []
    for _ in range(batch):
        trial = base.new_trial()
        obs.append(np.array(base.ob, dtype=float))
        gts.append(np.array(base.gt))
        trials.append(dict(trial) if trial else {})
        starts.append(dict(base.start_ind))
        ends.append(dict(base.end_ind))
    if gts[0].ndim != 1:
        raise ValueError(f"env: ground truth of shape {gts[0].shape}; expected one action per step")
    if not isinstance(loss_on, str):
        for name in loss_on:
            if name not in starts[0]:
                raise ValueError(
                    f"loss_on={list(loss_on)!r}: {name!r} is not a period of this environment "
                    f"({', '.join(starts[0])})"
                )
    lengths = np.array([o.shape[0] for o in obs])
    n_steps, d_in = int(lengths.max()), int(obs[0].shape[1])
    inputs = np.zeros((batch, n_steps, d_in))
    labels = np.zeros((batch, n_steps), dtype=np.int64)
    valid = np.arange(n_steps)[None, :] < lengths[:, None]
    for i, (o, g) in enumerate(zip(obs, gts, strict=True)):
        inputs[i, : o.shape[0]] = o
        labels[i, : g.shape[0]] = g.astype(np.int64)
    periods = {
        name: np.array([[starts[i][name], ends[i][name]] for i in range(batch)], dtype=np.int64)
        for name in starts[0]
    }
    if isinstance(loss_on, str):
        on = valid
    else:
        s = np.arange(n_steps)[None, :]
        on = np.zeros((batch, n_steps), dtype=bool)
        for name in loss_on:
            on |= (s >= periods[name][:, :1]) & (s < periods[name][:, 1:])
        on &= valid
    targets = np.eye(n_actions)[labels]
    mask = np.repeat(on[..., None], n_actions, axis=2)
    info: dict[str, Any] = {"n_steps": lengths, "env": type(base).__name__}
    for key in trials[0]:
        vals = [t.get(key) for t in trials]
        if all(np.ndim(v) == 0 and isinstance(v, (int, float, np.number, bool)) for v in vals):
            info[key] = np.asarray(vals)
    if "decision" in periods:
        info["response_period"] = "decision"
    paper = " ".join(str(getattr(base, "metadata", {}).get("paper_name", "")).split())
    paper = paper or "NeuroGym"
    return TrialBatch(inputs, targets, mask, base.dt / tau_ms, paper, info, periods, labels)
