"""The 3-bit flip-flop task (Sussillo & Barak 2013).

Each of ``n_bits`` input channels receives brief pulses of +1 or -1 at random times; the matching
output channel must hold the sign of the most recent pulse on its channel until the next one
(Sussillo & Barak 2013, "Opening the black box", Neural Computation 25(3):626–649, Section 3.1;
"A new look at low-rank RNNs", Section 6, Fig 5A–B).

Trials are generated for the whole batch at once: pulses are Bernoulli events on a grid of
``pulse_steps``-long slots (so pulses on one channel never overlap), and the "last pulse" target is
a forward fill along time computed with ``numpy.maximum.accumulate``.
"""

from __future__ import annotations

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_int, check_real
from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["FLIPFLOP_PAPER", "flipflop_trials", "task_streams"]

FLIPFLOP_PAPER = (
    "Sussillo D., Barak O. (2013) Opening the black box: low-dimensional dynamics in "
    "high-dimensional recurrent neural networks. Neural Computation 25(3):626-649"
)


def task_streams(seed: int | np.random.SeedSequence | None) -> dict[str, np.random.Generator]:
    """Three independent random streams (train, validation, test) from one seed.

    The streams are children of one :class:`numpy.random.SeedSequence`, so trials drawn for
    training never coincide with validation or test trials, and the same seed always gives the
    same three streams.

    Parameters
    ----------
    seed : int, SeedSequence or None

    Returns
    -------
    dict
        ``{'train': Generator, 'validation': Generator, 'test': Generator}``.
    """
    if isinstance(seed, np.random.SeedSequence):
        ss = seed
    else:
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        ss = np.random.SeedSequence(seed)
    train, val, test = ss.spawn(3)
    return {
        "train": np.random.default_rng(train),
        "validation": np.random.default_rng(val),
        "test": np.random.default_rng(test),
    }


def last_event_fill(onsets: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward-fill ``values`` from each onset along axis 1 (time).

    Parameters
    ----------
    onsets : ndarray of bool, shape (batch, time, k)
    values : ndarray, shape (batch, time, k)
        Value of the event at its onset (ignored elsewhere).

    Returns
    -------
    filled : ndarray, shape (batch, time, k)
        The value of the most recent onset at or before each time (0 before the first).
    seen : ndarray of bool, shape (batch, time, k)
        Whether an onset has occurred at or before each time.
    """
    b, t, k = onsets.shape
    idx = np.where(onsets, np.arange(t)[None, :, None], -1)
    last = np.maximum.accumulate(idx, axis=1)
    seen = last >= 0
    gathered = np.take_along_axis(values, np.maximum(last, 0), axis=1)
    return np.where(seen, gathered, 0.0), seen


def _expand(slots: np.ndarray, steps: int, n_steps: int) -> np.ndarray:
    """Repeat each slot ``steps`` times along axis 1 and cut to ``n_steps``."""
    out = np.repeat(slots, steps, axis=1)
    return out if out.shape[1] == n_steps else out[:, :n_steps]


def flipflop_trials(
    batch: int,
    *,
    n_steps: int = 200,
    dt: float = 0.1,
    n_bits: int = 3,
    pulse_rate: float = 0.15,
    pulse_steps: int = 5,
    amplitude: float = 1.0,
    rng: RngLike = None,
) -> TrialBatch:
    """A batch of ``n_bits``-bit flip-flop trials (Sussillo & Barak 2013).

    Parameters
    ----------
    batch : int
        Number of trials (>= 1).
    n_steps : int
        Time steps per trial (>= 1).
    dt : float
        Time step in units of tau (> 0).
    n_bits : int
        Number of independent bits (3 in the paper).
    pulse_rate : float
        Expected pulses per unit time per channel (> 0); a pulse starts in each ``pulse_steps``
        slot with probability ``min(1, pulse_rate * pulse_steps * dt)``.
    pulse_steps : int
        Duration of a pulse in steps (>= 1).
    amplitude : float
        Input amplitude of a pulse (> 0); its sign is +-1 with equal probability.
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, n_steps, n_bits): ``±amplitude`` during pulses, 0 elsewhere;
        ``targets`` (batch, n_steps, n_bits): the sign of the most recent pulse onset at or
        before each step (0 before the first); ``mask``: True from the first onset on, per
        channel. ``info["onsets"]`` (bool, batch x n_steps x n_bits) marks pulse onsets.
    """
    batch = check_int("batch", batch, minimum=1)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    n_bits = check_int("n_bits", n_bits, minimum=1)
    pulse_rate = check_real("pulse_rate", pulse_rate, minimum=0.0, min_inclusive=False)
    pulse_steps = check_int("pulse_steps", pulse_steps, minimum=1)
    amplitude = check_real("amplitude", amplitude, minimum=0.0, min_inclusive=False)
    rng = as_rng(rng)

    n_slots = -(-n_steps // pulse_steps)
    p = min(1.0, pulse_rate * pulse_steps * dt)
    starts = rng.random((batch, n_slots, n_bits)) < p
    signs = np.where(rng.random((batch, n_slots, n_bits)) < 0.5, -1.0, 1.0)
    slot_val = np.where(starts, signs, 0.0)
    # the target is constant within a slot (pulses start at slot starts): fill on the slot grid
    slot_target, slot_seen = last_event_fill(starts, slot_val)
    inputs = amplitude * _expand(slot_val, pulse_steps, n_steps)
    targets = _expand(slot_target, pulse_steps, n_steps)
    seen = _expand(slot_seen, pulse_steps, n_steps)
    onsets = np.zeros((batch, n_slots * pulse_steps, n_bits), dtype=bool)
    onsets[:, ::pulse_steps] = starts
    onsets = onsets[:, :n_steps]
    return TrialBatch(
        inputs=inputs,
        targets=targets,
        mask=seen,
        dt=dt,
        paper=FLIPFLOP_PAPER,
        info={"onsets": onsets},
        periods={"stimulus": np.array([0, n_steps])},
    )
