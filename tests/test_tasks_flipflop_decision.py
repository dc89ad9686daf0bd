"""Flip-flop and decision task generators against slow per-trial reference answers."""

import numpy as np
import pytest

from lowrank_rnn.tasks import decision_trials, flipflop_trials, task_streams


def _last_pulse_reference(inputs):
    """Loop over trials, channels and time: the sign of the most recent non-zero input."""
    b, t, k = inputs.shape
    target = np.zeros_like(inputs)
    seen = np.zeros(inputs.shape, dtype=bool)
    for i in range(b):
        for c in range(k):
            last = 0.0
            for s in range(t):
                if inputs[i, s, c] != 0:
                    last = np.sign(inputs[i, s, c])
                target[i, s, c] = last
                seen[i, s, c] = last != 0
    return target, seen


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("pulse_steps", [1, 3, 5])
def test_flipflop_targets_are_last_pulse(seed, pulse_steps):
    b = flipflop_trials(20, n_steps=97, pulse_steps=pulse_steps, pulse_rate=0.4, rng=seed)
    ref, seen = _last_pulse_reference(b.inputs)
    np.testing.assert_array_equal(b.targets, ref)
    np.testing.assert_array_equal(b.mask, seen)
    assert set(np.unique(b.inputs)) <= {-1.0, 0.0, 1.0}
    assert b.inputs.shape == (20, 97, 3) and "Sussillo" in b.paper


def test_flipflop_pulse_rate_matches_binomial():
    """Onsets per slot are Bernoulli(p): the count lies within 5 binomial sds of its mean."""
    b = flipflop_trials(2000, n_steps=100, dt=0.1, pulse_steps=5, pulse_rate=0.3, rng=3)
    n_slots = 2000 * 20 * 3
    p = 0.3 * 5 * 0.1
    count = b.info["onsets"].sum()
    assert abs(count - n_slots * p) < 5 * np.sqrt(n_slots * p * (1 - p))


@pytest.mark.parametrize("seed", [0, 5])
def test_decision_targets_are_sign_of_integrated_evidence(seed):
    b = decision_trials(200, dt=0.1, rng=seed)
    evidence = b.inputs[:, :, 0].sum(axis=1) * 0.1  # inputs are 0 outside the stimulus
    d0, d1 = b.info["periods"]["decision"]
    expected = np.where(evidence >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(b.targets[:, d0:d1, 0], np.repeat(expected[:, None], d1 - d0, 1))
    assert np.all(b.targets[:, :d0] == 0)
    assert b.mask[:, d0:d1].all() and not b.mask[:, :d0].any()
    s0, s1 = b.info["periods"]["stimulus"]
    assert np.all(b.inputs[:, :s0] == 0) and np.all(b.inputs[:, s1:] == 0)


def test_decision_evidence_statistics():
    """Integrated evidence = c T + noise of sd noise_sd sqrt(T): standardised mean 0, var 1."""
    n, T, sd = 20000, 2.0, 0.3
    b = decision_trials(n, stimulus=T, noise_sd=sd, rng=7)
    zs = (b.info["evidence"] - b.info["coherence"] * T) / (sd * np.sqrt(T))
    assert abs(zs.mean()) < 5 / np.sqrt(n)
    assert abs(zs.var() - 1) < 5 * np.sqrt(2 / n)


def test_streams_are_deterministic_and_distinct():
    a, b = task_streams(11), task_streams(11)
    x = flipflop_trials(5, rng=a["train"]).inputs
    np.testing.assert_array_equal(x, flipflop_trials(5, rng=b["train"]).inputs)
    y = flipflop_trials(5, rng=a["test"]).inputs
    assert not np.array_equal(x, y)
    d1, d2 = decision_trials(4, rng=3), decision_trials(4, rng=3)
    np.testing.assert_array_equal(d1.inputs, d2.inputs)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: flipflop_trials(0), "batch"),
        (lambda: flipflop_trials(2, dt=0.0), "dt"),
        (lambda: flipflop_trials(2, pulse_rate=-1.0), "pulse_rate"),
        (lambda: decision_trials(2, coherences=()), "coherences"),
        (lambda: decision_trials(2, coherences=(0.1, -0.2)), "coherences"),
        (lambda: decision_trials(2, noise_sd=-1.0), "noise_sd"),
        (lambda: task_streams(-3), "seed"),
    ],
)
def test_bad_input_raises(call, name):
    with pytest.raises(ValueError, match=rf"^{name}="):
        call()
