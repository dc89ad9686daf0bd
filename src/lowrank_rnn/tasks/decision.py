"""Binary decision making with a bistable attractor (Wong & Wang 2006; Luo et al. 2023).

A trial has a fixation period (no input), a stimulus period (noisy evidence ``u = c + noise``
with a signed coherence ``c``), a delay and a decision period in which the output must report the
sign of the evidence integrated over the stimulus period ("A new look at low-rank RNNs",
Section 6 and Fig 5C–D: sensory input drives the system from an unstable fixed point towards
one of two stable fixed points, one per choice).

The noise is white noise of intensity ``noise_sd`` sampled per step: ``u_k = c + noise_sd
xi_k / sqrt(dt)``, so the integrated noise has variance ``noise_sd^2 * stimulus``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_array, check_int, check_real
from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["DECISION_PAPER", "decision_trials", "decision_periods"]

DECISION_PAPER = (
    "Wong K.-F., Wang X.-J. (2006) A recurrent network mechanism of time integration in "
    "perceptual decisions. J Neurosci 26(4):1314-1328; Luo T.Z. et al. (2023) Transitions in "
    "dynamical regime and neural mode underlie perceptual decision-making. bioRxiv"
)


def decision_periods(
    dt: float, fixation: float, stimulus: float, delay: float, decision: float
) -> dict[str, tuple[int, int]]:
    """Step ranges ``[start, stop)`` of the four periods of a decision trial.

    Each duration (units of tau) is rounded to a whole number of steps of ``dt``.
    """
    bounds: dict[str, tuple[int, int]] = {}
    k = 0
    for name, dur in (
        ("fixation", fixation), ("stimulus", stimulus), ("delay", delay), ("decision", decision)
    ):
        n = int(round(dur / dt))
        bounds[name] = (k, k + n)
        k += n
    return bounds


def decision_trials(
    batch: int,
    *,
    dt: float = 0.1,
    fixation: float = 0.5,
    stimulus: float = 2.0,
    delay: float = 0.5,
    decision: float = 2.0,
    coherences: Sequence[float] = (0.05, 0.1, 0.2, 0.4),
    noise_sd: float = 0.3,
    rng: RngLike = None,
) -> TrialBatch:
    """A batch of binary decision trials.

    Parameters
    ----------
    batch : int
        Number of trials (>= 1).
    dt : float
        Time step in units of tau (> 0).
    fixation, stimulus, delay, decision : float
        Durations of the periods in units of tau (stimulus and decision must last >= one step;
        fixation and delay may be 0).
    coherences : sequence of float
        Unsigned coherences (> 0); each trial draws one uniformly and a sign +-1.
    noise_sd : float
        Intensity of the white noise added to the evidence (>= 0).
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 1): the evidence during the stimulus period, 0 elsewhere;
        ``targets`` (batch, time, 1): ``sign(sum_k u_k dt)`` (the integrated evidence; +1 when it
        is exactly 0) during the decision period, 0 elsewhere; ``mask``: True in the decision
        period only. ``info``: ``coherence`` (signed, shape (batch,)), ``evidence`` (integrated,
        shape (batch,)) and ``periods`` (step ranges).
    """
    batch = check_int("batch", batch, minimum=1)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    fixation = check_real("fixation", fixation, minimum=0.0)
    stimulus = check_real("stimulus", stimulus, minimum=dt)
    delay = check_real("delay", delay, minimum=0.0)
    decision = check_real("decision", decision, minimum=dt)
    coh = check_array("coherences", np.atleast_1d(np.asarray(coherences, dtype=float)), ndim=1)
    if coh.size == 0 or np.any(coh <= 0):
        raise ValueError(f"coherences={list(coherences)!r}: must be a non-empty list of values > 0")
    noise_sd = check_real("noise_sd", noise_sd, minimum=0.0)
    rng = as_rng(rng)

    periods = decision_periods(dt, fixation, stimulus, delay, decision)
    n_steps = periods["decision"][1]
    s0, s1 = periods["stimulus"]
    d0, d1 = periods["decision"]
    c = rng.choice(coh, size=batch) * np.where(rng.random(batch) < 0.5, -1.0, 1.0)
    evidence_steps = c[:, None] + noise_sd / np.sqrt(dt) * rng.standard_normal((batch, s1 - s0))
    inputs = np.zeros((batch, n_steps, 1))
    inputs[:, s0:s1, 0] = evidence_steps
    evidence = evidence_steps.sum(axis=1) * dt
    choice = np.where(evidence >= 0, 1.0, -1.0)
    targets = np.zeros((batch, n_steps, 1))
    targets[:, d0:d1, 0] = choice[:, None]
    mask = np.zeros((batch, n_steps, 1), dtype=bool)
    mask[:, d0:d1] = True
    return TrialBatch(
        inputs=inputs,
        targets=targets,
        mask=mask,
        dt=dt,
        paper=DECISION_PAPER,
        info={"coherence": c, "evidence": evidence, "periods": periods},
        periods={k: np.array(v) for k, v in periods.items()},
    )
