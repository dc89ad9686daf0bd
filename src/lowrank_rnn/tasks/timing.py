"""The ready-set-go interval reproduction task (Jazayeri & Shadlen 2010), in the form trained by
Beiran, Meirhaeghe, Sohn, Jazayeri & Ostojic (2021/2023, "Parametric control of flexible timing
through low-dimensional neural manifolds", Neuron 111:739).

A brief "Ready" pulse and, ``t_s`` later, a "Set" pulse arrive on two input channels; after Set
the network must reproduce the interval: its readout ramps linearly from ``start_value`` to
``end_value`` over ``t_s`` and then stays there, and the produced interval ``t_p`` is read from
the time the output crosses a threshold. The defaults are the authors' (their scripts: dt = 10 ms,
tau = 100 ms so dt = 0.1 tau; Ready at 1000 ms; pulses of amplitude 10 lasting one step;
intervals 800, 1050, 1300, 1550 ms; ramp from -0.5 to 0.5; the loss counts from 300 ms before Set
to 300 ms after the end of the ramp; interval read at the crossing of 0.35).

Some of the authors' ready-set-go generators add a third, tonic input channel: a constant 1 on
every step of every trial, with its own input vector (``tonic=1.0`` here; off by default, as in
their later generators, which have no tonic channel).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_int, check_real
from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["RSG_PAPER", "produced_intervals", "ready_set_go_trials"]

RSG_PAPER = (
    "Beiran M., Meirhaeghe N., Sohn H., Jazayeri M., Ostojic S. (2023) Parametric control of "
    "flexible timing through low-dimensional neural manifolds. Neuron 111(5):739-753 "
    "(bioRxiv 2021); Jazayeri M., Shadlen M.N. (2010) Nat Neurosci 13:1020-1026"
)


def ready_set_go_trials(
    batch: int,
    *,
    dt: float = 0.1,
    ready: float = 10.0,
    ready_jitter: float = 0.0,
    intervals: Sequence[float] = (8.0, 10.5, 13.0, 15.5),
    pulse_amplitude: float = 10.0,
    pulse_steps: int = 1,
    start_value: float = -0.5,
    end_value: float = 0.5,
    margin: float = 3.0,
    after: float = 3.0,
    noise_sd: float = 0.0,
    tonic: float = 0.0,
    rng: RngLike = None,
) -> TrialBatch:
    """A batch of ready-set-go trials.

    Parameters
    ----------
    batch : int
        Number of trials (>= 1).
    dt : float
        Time step in units of tau (authors: 0.1).
    ready : float
        Time of the Ready pulse (units of tau; authors: 10 = 1000 ms).
    ready_jitter : float
        Ready time is shifted by a whole number of steps drawn uniformly in
        ``[-ready_jitter, ready_jitter]`` (>= 0).
    intervals : sequence of float
        Intervals ``t_s`` (units of tau, > 0); each trial draws one uniformly.
    pulse_amplitude : float
        Height of the Ready and Set pulses.
    pulse_steps : int
        Length of a pulse in steps (>= 1).
    start_value, end_value : float
        Output before Set and after the produced interval (must differ).
    margin : float
        The mask starts ``margin`` before Set and ends ``margin`` after the end of the ramp.
    after : float
        Time simulated after the end of the longest ramp plus the margin.
    noise_sd : float
        Input noise per step on the Ready and Set channels (>= 0; authors: none, noise is in
        the network).
    tonic : float
        Value of a constant input channel (channel 2) on every step of every trial, with no
        noise (some of the authors' generators: 1.0). 0 (the default): no such channel, the
        inputs have two channels.
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 2): Ready (channel 0), Set (channel 1), or (batch, time, 3)
        with the tonic input (channel 2) where ``tonic`` is not 0; ``targets`` (batch,
        time, 1); ``mask``; ``periods``: ``fixation`` (before Ready), ``measure`` (Ready to Set),
        ``produce`` (Set to Set + t_s), ``hold`` (after). ``info``: ``interval`` (units of tau),
        ``interval_steps``, ``set_step``, ``start_value``, ``end_value``.
    """
    batch = check_int("batch", batch, minimum=1)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    ready = check_real("ready", ready, minimum=0.0)
    ready_jitter = check_real("ready_jitter", ready_jitter, minimum=0.0)
    ts = np.atleast_1d(np.asarray(intervals, dtype=float))
    if ts.ndim != 1 or ts.size == 0 or not np.all(np.isfinite(ts)) or np.any(ts <= 0):
        raise ValueError(f"intervals={list(np.atleast_1d(intervals))!r}: need values > 0")
    pulse_amplitude = check_real("pulse_amplitude", pulse_amplitude)
    pulse_steps = check_int("pulse_steps", pulse_steps, minimum=1)
    start_value = check_real("start_value", start_value)
    end_value = check_real("end_value", end_value)
    if start_value == end_value:
        raise ValueError(f"end_value={end_value}: must differ from start_value={start_value}")
    margin = check_real("margin", margin, minimum=0.0)
    after = check_real("after", after, minimum=0.0)
    noise_sd = check_real("noise_sd", noise_sd, minimum=0.0)
    tonic = check_real("tonic", tonic)
    rng = as_rng(rng)

    n_ts = np.maximum(1, np.round(ts / dt).astype(np.int64))
    n_margin = int(round(margin / dt))
    n_jit = int(round(ready_jitter / dt))
    n_ready = int(round(ready / dt))
    if n_jit > n_ready:
        raise ValueError(f"ready_jitter={ready_jitter}: must be <= ready={ready}")
    n_steps = n_ready + n_jit + 2 * int(n_ts.max()) + n_margin + int(round(after / dt)) + 1
    pick = rng.integers(ts.size, size=batch)
    t_int = n_ts[pick]
    r_on = n_ready + (rng.integers(-n_jit, n_jit + 1, size=batch) if n_jit else
                      np.zeros(batch, np.int64))
    s_on = r_on + t_int
    steps = np.arange(n_steps)[None, :]
    inputs = noise_sd * rng.standard_normal((batch, n_steps, 2)) if noise_sd else np.zeros(
        (batch, n_steps, 2))
    inputs[..., 0] += pulse_amplitude * ((steps >= r_on[:, None]) &
                                         (steps < r_on[:, None] + pulse_steps))
    inputs[..., 1] += pulse_amplitude * ((steps >= s_on[:, None]) &
                                         (steps < s_on[:, None] + pulse_steps))
    if tonic:
        inputs = np.concatenate([inputs, np.full((batch, n_steps, 1), tonic)], axis=2)
    # ramp: start_value at Set, end_value t_s later (linear in the step index), then held
    frac = np.clip((steps - s_on[:, None]) / t_int[:, None], 0.0, 1.0)
    targets = (start_value + (end_value - start_value) * frac)[..., None]
    lo = np.maximum(s_on - n_margin, 0)
    hi = np.minimum(s_on + t_int + n_margin + 1, n_steps)
    mask = ((steps >= lo[:, None]) & (steps < hi[:, None]))[..., None]
    periods = {
        "fixation": np.stack([np.zeros(batch, np.int64), r_on], axis=1),
        "measure": np.stack([r_on, s_on], axis=1),
        "produce": np.stack([s_on, s_on + t_int], axis=1),
        "hold": np.stack([s_on + t_int, np.full(batch, n_steps)], axis=1),
    }
    info = {"interval": t_int * dt, "interval_steps": t_int, "set_step": s_on,
            "start_value": start_value, "end_value": end_value, "tonic": tonic}
    return TrialBatch(inputs, targets, mask, dt, RSG_PAPER, info, periods)


def produced_intervals(
    outputs: np.ndarray, batch: TrialBatch, threshold: float = 0.35
) -> np.ndarray:
    """Intervals produced by a network on ready-set-go trials, in units of tau.

    The target ramp crosses ``threshold`` a fraction ``q = (threshold - start) / (end - start)``
    of the way through the interval; the network's interval is ``(t_cross - t_set) / q`` where
    ``t_cross`` is the first step after Set at which its output reaches the threshold (the
    authors' read-out, their threshold 0.35).

    Parameters
    ----------
    outputs : ndarray, shape (batch, time, 1)
        Network readout on ``batch.inputs``.
    batch : TrialBatch
        Trials from :func:`ready_set_go_trials`.
    threshold : float
        Strictly between the start and end values.

    Returns
    -------
    ndarray, shape (batch,)
        Produced interval per trial (NaN where the output never crosses).
    """
    out = np.asarray(outputs, dtype=float)
    if out.shape != batch.targets.shape:
        raise ValueError(f"outputs: expected shape {batch.targets.shape}, got {out.shape}")
    s0, s1 = float(batch.info["start_value"]), float(batch.info["end_value"])
    threshold = check_real("threshold", threshold)
    q = (threshold - s0) / (s1 - s0)
    if not 0 < q < 1:
        raise ValueError(f"threshold={threshold}: must lie strictly between {s0} and {s1}")
    z = out[..., 0] * np.sign(s1 - s0)
    thr = threshold * np.sign(s1 - s0)
    steps = np.arange(batch.n_steps)[None, :]
    after_set = steps > batch.info["set_step"][:, None]
    crossed = (z >= thr) & after_set
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    t = (first - batch.info["set_step"]) * batch.dt / q
    return np.where(first >= 0, t, np.nan)
