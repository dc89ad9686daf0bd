"""The five cognitive tasks of Dubreuil et al. 2022 (Nat Neurosci 25:783-794, Fig 1 and Methods).

Perceptual decision making with random dots (Gold & Shadlen 2007), parametric working memory
(Romo et al. 1999), multisensory decision making (Raposo et al. 2012), context-dependent decision
making (Mante et al. 2013) and delayed match-to-sample (Miyashita 1988). Durations are in units
of the membrane time constant tau; the paper's tau is 100 ms and its step 20 ms, so the defaults
``dt = 0.2`` and e.g. ``fixation = 1.0`` (100 ms) reproduce its trial structure. Input noise is
added with standard deviation ``noise_sd`` per time step (the authors' convention, so at another
``dt`` the noise per unit time changes).

Every generator returns a :class:`TrialBatch` with named ``periods`` (``fixation``,
``stimulus``..., ``decision``), arrays shaped ``(batch, time, dim)`` and ``info`` holding the
per-trial task variables; the loss mask covers the response period. The accuracy of a network on
these tasks is :func:`lowrank_rnn.tasks.metrics.decision_accuracy` (sign of the mean output over
the response period against the sign of the target; Dubreuil et al. count a trial correct this
way).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_int, check_real
from lowrank_rnn.tasks._base import TrialBatch, period_bounds

__all__ = [
    "DUBREUIL_PAPER",
    "context_trials",
    "match_to_sample_trials",
    "multisensory_trials",
    "random_dots_trials",
    "romo_trials",
]

DUBREUIL_PAPER = (
    "Dubreuil A., Valente A., Beiran M., Mastrogiuseppe F., Ostojic S. (2022) The role of "
    "population structure in computations through neural dynamics. Nat Neurosci 25:783-794"
)


def _steps(name: str, duration: float, dt: float, minimum: int = 0) -> int:
    duration = check_real(name, duration, minimum=0.0)
    n = int(round(duration / dt))
    if n < minimum:
        raise ValueError(f"{name}={duration}: must last at least {minimum} step(s) of dt={dt}")
    return n


def _check_common(batch: int, dt: float, noise_sd: float) -> tuple[int, float, float]:
    batch = check_int("batch", batch, minimum=1)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    noise_sd = check_real("noise_sd", noise_sd, minimum=0.0)
    return batch, dt, noise_sd


def _values(name: str, values: Sequence[float], *, positive: bool = True) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or (
        positive and np.any(arr <= 0)
    ):
        what = "values > 0" if positive else "finite values"
        raise ValueError(f"{name}={list(np.atleast_1d(values))!r}: must be a non-empty list of "
                         f"{what}")
    return arr


def _in_period(periods: dict[str, np.ndarray], name: str, n_steps: int) -> np.ndarray:
    p = periods[name]
    s = np.arange(n_steps)[None, :]
    return (s >= p[:, :1]) & (s < p[:, 1:])


def _signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.5, -1.0, 1.0)


def random_dots_trials(
    batch: int,
    *,
    dt: float = 0.2,
    fixation: float = 1.0,
    stimulus: float = 8.0,
    delay: float = 3.0,
    decision: float = 3.0,
    coherences: Sequence[float] = (1, 2, 4, 8, 16),
    scale: float = 0.032,
    noise_sd: float = 0.03,
    catch_fraction: float = 0.0,
    rng: RngLike = None,
) -> TrialBatch:
    """Perceptual decision making with random dots (Dubreuil et al. 2022, Fig 1, "PDM").

    The single input is a noisy stimulus ``scale * c + noise`` during the stimulus period, with
    the signed coherence ``c`` (in %) drawn uniformly from ``±coherences``; the output must be
    ``sign(c)`` during the decision period.

    Parameters
    ----------
    batch : int
        Number of trials (>= 1).
    dt : float
        Time step in units of tau (paper: 20 ms / 100 ms = 0.2).
    fixation, stimulus, delay, decision : float
        Period durations in units of tau (paper: 100, 800, 300, 300 ms).
    coherences : sequence of float
        Unsigned coherences in % (> 0); each trial takes one and a random sign.
    scale : float
        Input per % coherence (paper: 3.2 / 100).
    noise_sd : float
        Input noise per step (paper: 0.03), present during the whole trial.
    catch_fraction : float in [0, 1]
        Fraction of catch trials (no stimulus, target 0).
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 1), ``targets`` (batch, time, 1): ``sign(c)`` in the decision
        period (0 for catch trials), ``mask`` True in the decision period; ``info``:
        ``coherence`` (signed, %), ``catch`` (bool).
    """
    batch, dt, noise_sd = _check_common(batch, dt, noise_sd)
    steps = {
        "fixation": _steps("fixation", fixation, dt),
        "stimulus": _steps("stimulus", stimulus, dt, 1),
        "delay": _steps("delay", delay, dt),
        "decision": _steps("decision", decision, dt, 1),
    }
    coh = _values("coherences", coherences)
    scale = check_real("scale", scale, minimum=0.0, min_inclusive=False)
    catch_fraction = check_real("catch_fraction", catch_fraction, minimum=0.0, maximum=1.0)
    rng = as_rng(rng)
    periods = period_bounds(batch, steps)
    n_steps = int(periods["decision"][0, 1])
    c = rng.choice(coh, size=batch) * _signs(rng, batch)
    catch = rng.random(batch) < catch_fraction
    c = np.where(catch, 0.0, c)
    inputs = noise_sd * rng.standard_normal((batch, n_steps, 1))
    stim = _in_period(periods, "stimulus", n_steps)
    inputs[..., 0] += stim * (scale * c)[:, None]
    dec = _in_period(periods, "decision", n_steps)
    targets = (dec * np.sign(c)[:, None])[..., None]
    return TrialBatch(inputs, targets, dec[..., None].copy(), dt, DUBREUIL_PAPER,
                      {"coherence": c, "catch": catch}, periods)


def romo_frequency_pairs(
    differences: Sequence[float] = (-24, -16, -8, 8, 16, 24),
    f_min: float = 10.0,
    f_max: float = 34.0,
) -> np.ndarray:
    """The (f1, f2) pairs of the parametric working memory task: every integer base frequency
    ``f1`` with ``f1`` and ``f1 + difference`` in ``[f_min, f_max]`` (Hz), shape (n_pairs, 2)."""
    pairs = [
        (base, base + d)
        for d in differences
        for base in np.arange(np.ceil(max(f_min, f_min - d)), np.floor(min(f_max, f_max - d)) + 1)
    ]
    if not pairs:
        raise ValueError(f"differences={list(differences)!r}: no pair fits in [{f_min}, {f_max}]")
    return np.asarray(pairs, dtype=float)


def romo_trials(
    batch: int,
    *,
    dt: float = 0.2,
    fixation: float = 1.0,
    stimulus1: float = 1.0,
    delay: tuple[float, float] = (5.0, 20.0),
    stimulus2: float = 1.0,
    decision: float = 1.0,
    frequency_pairs: np.ndarray | None = None,
    noise_sd: float = 0.01,
    rng: RngLike = None,
) -> TrialBatch:
    """Parametric working memory (Romo et al. 1999; Dubreuil et al. 2022, Fig 1, "PWM").

    Two vibrotactile frequencies ``f1`` then ``f2`` arrive on one input channel, as
    ``(f - f_mid) / f_span``, separated by a delay of random length; during the decision period
    right after ``f2`` the output must be ``(f1 - f2) / f_span`` (its sign is the choice "f1 >
    f2"). ``f_mid`` and ``f_span`` are the middle and range of all frequencies used.

    Parameters
    ----------
    batch : int
    dt : float
        Time step (units of tau).
    fixation, stimulus1, stimulus2, decision : float
        Durations (paper: 100, 100, 100, 100 ms).
    delay : (float, float)
        Minimal and maximal delay; each trial draws a whole number of steps uniformly in between
        (paper: 500 to 2000 ms).
    frequency_pairs : ndarray, shape (n_pairs, 2), optional
        Pairs (f1, f2) drawn uniformly; default :func:`romo_frequency_pairs`.
    noise_sd : float
        Input noise per step (paper: 0.01).
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 1), ``targets`` (batch, time, 1), ``mask`` True in each trial's
        decision period (time = fixation + stimulus1 + max delay + stimulus2 + decision; steps
        after a short trial's decision are unmasked). ``info``: ``f1``, ``f2`` (Hz), ``delay``
        (steps).
    """
    batch, dt, noise_sd = _check_common(batch, dt, noise_sd)
    if len(delay) != 2:
        raise ValueError(f"delay={delay!r}: expected (minimum, maximum)")
    d_min = _steps("delay[0]", delay[0], dt)
    d_max = _steps("delay[1]", delay[1], dt)
    if d_max < d_min:
        raise ValueError(f"delay={tuple(delay)!r}: the maximum must be >= the minimum")
    n_fix = _steps("fixation", fixation, dt)
    n_s1 = _steps("stimulus1", stimulus1, dt, 1)
    n_s2 = _steps("stimulus2", stimulus2, dt, 1)
    n_dec = _steps("decision", decision, dt, 1)
    pairs = romo_frequency_pairs() if frequency_pairs is None else np.asarray(
        frequency_pairs, dtype=float)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0 or not np.all(
        np.isfinite(pairs)
    ):
        raise ValueError(f"frequency_pairs: expected a (n_pairs, 2) array, got {pairs.shape}")
    rng = as_rng(rng)
    f_lo, f_hi = float(pairs.min()), float(pairs.max())
    f_mid, f_span = 0.5 * (f_lo + f_hi), max(f_hi - f_lo, 1e-12)
    pick = pairs[rng.integers(pairs.shape[0], size=batch)]
    f1, f2 = pick[:, 0], pick[:, 1]
    d = rng.integers(d_min, d_max + 1, size=batch)
    periods = period_bounds(batch, {
        "fixation": n_fix, "stimulus1": n_s1, "delay": d, "stimulus2": n_s2, "decision": n_dec,
    })
    n_steps = n_fix + n_s1 + d_max + n_s2 + n_dec
    inputs = noise_sd * rng.standard_normal((batch, n_steps, 1))
    inputs[..., 0] += _in_period(periods, "stimulus1", n_steps) * ((f1 - f_mid) / f_span)[:, None]
    inputs[..., 0] += _in_period(periods, "stimulus2", n_steps) * ((f2 - f_mid) / f_span)[:, None]
    dec = _in_period(periods, "decision", n_steps)
    targets = (dec * ((f1 - f2) / f_span)[:, None])[..., None]
    return TrialBatch(inputs, targets, dec[..., None].copy(), dt, DUBREUIL_PAPER,
                      {"f1": f1, "f2": f2, "delay": d}, periods)


#: Modalities of the multisensory task: which channels carry the stimulus.
MODALITIES = ("visual", "auditory", "both")


def multisensory_trials(
    batch: int,
    *,
    dt: float = 0.2,
    fixation: float = 1.0,
    stimulus: float = 8.0,
    delay: float = 1.0,
    decision: float = 5.0,
    coherences: Sequence[float] = (1, 2, 4, 8),
    scale: float = 1.0,
    noise_sd: float = 0.5,
    rng: RngLike = None,
) -> TrialBatch:
    """Multisensory decision making (Raposo et al. 2012; Dubreuil et al. 2022, Fig 1, "MDM").

    A choice ``±1`` is drawn, then a modality (visual, auditory or both, uniformly); each active
    channel carries ``scale * c + noise`` during the stimulus period with a coherence ``c`` of the
    choice's sign drawn independently per channel from ``±coherences``; inactive channels carry
    noise only. The output must report the choice in the decision period.

    Parameters
    ----------
    batch : int
    dt : float
    fixation, stimulus, delay, decision : float
        Durations (paper: 100, 800, 100, 500 ms).
    coherences : sequence of float
        Unsigned stimulus strengths (> 0).
    scale : float
        Input per unit strength.
    noise_sd : float
        Input noise per step on both channels (paper: 0.5).
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 2) (visual, auditory), ``targets`` (batch, time, 1), mask in the
        decision period; ``info``: ``choice``, ``modality`` (index into ``MODALITIES``),
        ``coherence`` (batch, 2) (0 for an inactive channel).
    """
    batch, dt, noise_sd = _check_common(batch, dt, noise_sd)
    steps = {
        "fixation": _steps("fixation", fixation, dt),
        "stimulus": _steps("stimulus", stimulus, dt, 1),
        "delay": _steps("delay", delay, dt),
        "decision": _steps("decision", decision, dt, 1),
    }
    coh = _values("coherences", coherences)
    scale = check_real("scale", scale, minimum=0.0, min_inclusive=False)
    rng = as_rng(rng)
    periods = period_bounds(batch, steps)
    n_steps = int(periods["decision"][0, 1])
    choice = _signs(rng, batch)
    modality = rng.integers(3, size=batch)
    active = np.stack([modality != 1, modality != 0], axis=1)  # visual, auditory
    c = rng.choice(coh, size=(batch, 2)) * choice[:, None] * active
    inputs = noise_sd * rng.standard_normal((batch, n_steps, 2))
    stim = _in_period(periods, "stimulus", n_steps)
    inputs += stim[..., None] * (scale * c)[:, None, :]
    dec = _in_period(periods, "decision", n_steps)
    targets = (dec * choice[:, None])[..., None]
    return TrialBatch(inputs, targets, dec[..., None].copy(), dt, DUBREUIL_PAPER,
                      {"choice": choice, "modality": modality, "coherence": c}, periods)


def context_trials(
    batch: int,
    *,
    dt: float = 0.2,
    fixation: float = 1.0,
    context_only: float = 3.5,
    stimulus: float = 8.0,
    delay: float = 3.0,
    decision: float = 0.2,
    coherences: Sequence[float] = (1, 2, 4, 8, 16),
    scale: float = 0.1,
    noise_sd: float = 0.1,
    rng: RngLike = None,
) -> TrialBatch:
    """Context-dependent decision making (Mante et al. 2013; Dubreuil et al. 2022, Fig 1, "CDM").

    Two noisy sensory channels (colour, motion) carry independent signed coherences during the
    stimulus period; one of two tonic context channels is on from the end of fixation to the
    response; the output must report the sign of the coherence of the cued feature.

    Parameters
    ----------
    batch : int
    dt : float
    fixation, context_only, stimulus, delay, decision : float
        Durations (paper: 100, 350, 800, 300, 20 ms; the decision lasts one step at dt = 0.2).
    coherences : sequence of float
        Unsigned coherences (> 0), each drawn with a random sign, per channel.
    scale : float
        Input per unit coherence (paper: 0.1).
    noise_sd : float
        Input noise per step on the sensory channels (paper: 0.1).
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 4): colour, motion, context "colour", context "motion";
        ``targets`` (batch, time, 1); mask in the decision period. ``info``: ``coherence``
        (batch, 2), ``context`` (0 colour, 1 motion).
    """
    batch, dt, noise_sd = _check_common(batch, dt, noise_sd)
    steps = {
        "fixation": _steps("fixation", fixation, dt),
        "context": _steps("context_only", context_only, dt),
        "stimulus": _steps("stimulus", stimulus, dt, 1),
        "delay": _steps("delay", delay, dt),
        "decision": _steps("decision", decision, dt, 1),
    }
    coh = _values("coherences", coherences)
    scale = check_real("scale", scale, minimum=0.0, min_inclusive=False)
    rng = as_rng(rng)
    periods = period_bounds(batch, steps)
    n_steps = int(periods["decision"][0, 1])
    c = rng.choice(coh, size=(batch, 2)) * np.where(rng.random((batch, 2)) < 0.5, -1.0, 1.0)
    ctx = rng.integers(2, size=batch)
    inputs = np.zeros((batch, n_steps, 4))
    inputs[..., :2] = noise_sd * rng.standard_normal((batch, n_steps, 2))
    stim = _in_period(periods, "stimulus", n_steps)
    inputs[..., :2] += stim[..., None] * (scale * c)[:, None, :]
    cue = (np.arange(n_steps)[None, :] >= periods["context"][:, :1]) & (
        np.arange(n_steps)[None, :] < periods["decision"][:, :1])
    inputs[np.arange(batch), :, 2 + ctx] = cue.astype(float)
    dec = _in_period(periods, "decision", n_steps)
    relevant = c[np.arange(batch), ctx]
    targets = (dec * np.sign(relevant)[:, None])[..., None]
    return TrialBatch(inputs, targets, dec[..., None].copy(), dt, DUBREUIL_PAPER,
                      {"coherence": c, "context": ctx}, periods)


def match_to_sample_trials(
    batch: int,
    *,
    dt: float = 0.2,
    fixation: float = 1.0,
    stimulus1: float = 5.0,
    delay: tuple[float, float] = (5.0, 30.0),
    stimulus2: float = 5.0,
    decision: float = 10.0,
    noise_sd: float = 0.03,
    rng: RngLike = None,
) -> TrialBatch:
    """Delayed match-to-sample (Miyashita 1988; Dubreuil et al. 2022, Fig 1, "DMS").

    A sample stimulus A or B (a unit input on channel 0 or 1), a delay of random length, a test
    stimulus A or B; in the decision period the output must be +1 if the two match and -1
    otherwise.

    Parameters
    ----------
    batch : int
    dt : float
    fixation, stimulus1, stimulus2, decision : float
        Durations (paper: 100, 500, 500, 1000 ms).
    delay : (float, float)
        Delay range; each trial draws a whole number of steps uniformly (paper: 500 to 3000 ms).
    noise_sd : float
        Input noise per step (paper: 0.03).
    rng : Generator, int or None

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 2), ``targets`` (batch, time, 1), mask in the decision period;
        ``info``: ``sample``, ``test`` (0 = A, 1 = B), ``match`` (bool), ``delay`` (steps).
    """
    batch, dt, noise_sd = _check_common(batch, dt, noise_sd)
    if len(delay) != 2:
        raise ValueError(f"delay={delay!r}: expected (minimum, maximum)")
    d_min = _steps("delay[0]", delay[0], dt)
    d_max = _steps("delay[1]", delay[1], dt)
    if d_max < d_min:
        raise ValueError(f"delay={tuple(delay)!r}: the maximum must be >= the minimum")
    n_fix = _steps("fixation", fixation, dt)
    n_s1 = _steps("stimulus1", stimulus1, dt, 1)
    n_s2 = _steps("stimulus2", stimulus2, dt, 1)
    n_dec = _steps("decision", decision, dt, 1)
    rng = as_rng(rng)
    sample = rng.integers(2, size=batch)
    test = rng.integers(2, size=batch)
    d = rng.integers(d_min, d_max + 1, size=batch)
    periods = period_bounds(batch, {
        "fixation": n_fix, "stimulus1": n_s1, "delay": d, "stimulus2": n_s2, "decision": n_dec,
    })
    n_steps = n_fix + n_s1 + d_max + n_s2 + n_dec
    inputs = noise_sd * rng.standard_normal((batch, n_steps, 2))
    rows = np.arange(batch)
    inputs[rows, :, sample] += _in_period(periods, "stimulus1", n_steps)
    inputs[rows, :, test] += _in_period(periods, "stimulus2", n_steps)
    match = sample == test
    dec = _in_period(periods, "decision", n_steps)
    targets = (dec * np.where(match, 1.0, -1.0)[:, None])[..., None]
    return TrialBatch(inputs, targets, dec[..., None].copy(), dt, DUBREUIL_PAPER,
                      {"sample": sample, "test": test, "match": match, "delay": d}, periods)
