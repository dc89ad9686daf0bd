"""The cognitive task suite against per-trial loop references built from each task's definition,
the metrics against hand-computed answers, and TrialBatch's validation."""

import numpy as np
import pytest

from lowrank_rnn.tasks import (
    TASKS,
    TrialBatch,
    context_trials,
    decision_accuracy,
    flipflop_r2,
    flipflop_trials,
    make_trials,
    match_to_sample_trials,
    multisensory_trials,
    produced_intervals,
    random_dots_trials,
    ready_set_go_trials,
    romo_frequency_pairs,
    romo_trials,
    score_task,
    timing_error,
)


def _mask_from(batch, name):
    """Reference period mask by a loop over trials and steps."""
    out = np.zeros((batch.batch, batch.n_steps), bool)
    for i in range(batch.batch):
        a, b = batch.periods[name][i]
        for s in range(batch.n_steps):
            out[i, s] = a <= s < b
    return out


def test_trialbatch_without_paper_and_validation():
    rng = np.random.default_rng(0)
    b = TrialBatch(rng.standard_normal((2, 3, 1)), np.zeros((2, 3, 1)), np.ones((2, 3, 1)), 0.1)
    assert b.paper == "" and b.mask.dtype == bool and b.periods == {}
    old = TrialBatch(b.inputs, b.targets, b.mask, 0.1, "my paper", {"a": np.arange(2)})
    assert old.paper == "my paper"
    sub = old.subset([1])
    assert sub.batch == 1 and sub.info["a"].tolist() == [1]
    with pytest.raises(ValueError, match="periods"):
        TrialBatch(b.inputs, b.targets, b.mask, 0.1, periods={"x": np.array([2, 5])})
    with pytest.raises(ValueError, match="labels"):
        TrialBatch(b.inputs, b.targets, b.mask, 0.1, labels=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="dt"):
        TrialBatch(b.inputs, b.targets, b.mask, 0.0)
    with pytest.raises(ValueError, match="period"):
        b.period_mask("decision")


def test_random_dots_structure_and_stimulus_mean():
    b = random_dots_trials(400, rng=1)
    # paper: 100 / 800 / 300 / 300 ms at 20 ms steps
    assert [tuple(b.periods[k][0]) for k in ("fixation", "stimulus", "delay", "decision")] == [
        (0, 5), (5, 45), (45, 60), (60, 75)]
    dec = _mask_from(b, "decision")
    np.testing.assert_array_equal(b.mask[..., 0], dec)
    c = b.info["coherence"]
    assert set(np.abs(c)) <= {1, 2, 4, 8, 16}
    np.testing.assert_array_equal(b.targets[..., 0], dec * np.sign(c)[:, None])
    # the stimulus mean is 0.032 c; noise 0.03 per step over 40 steps: sd 0.03/sqrt(40)
    stim = _mask_from(b, "stimulus")
    means = (b.inputs[..., 0] * stim).sum(1) / stim.sum(1)
    z = (means - 0.032 * c) / (0.03 / np.sqrt(40))
    assert np.abs(z).max() < 5.0
    # outside the stimulus only noise: its sd matches 0.03 within 5 standard errors
    rest = b.inputs[..., 0][~stim]
    assert abs(rest.std() - 0.03) < 5 * 0.03 / np.sqrt(2 * rest.size)


def test_romo_pairs_and_trials_match_a_loop_reference():
    pairs = romo_frequency_pairs()
    brute = {(a, b) for a in range(10, 35) for b in range(10, 35) if b - a in (-24, -16, -8, 8,
                                                                             16, 24)}
    assert {tuple(p) for p in pairs.astype(int)} == brute and len(brute) == 54
    b = romo_trials(50, noise_sd=0.0, rng=2)
    mid, span = 22.0, 24.0
    for i in range(b.batch):
        f1, f2, d = b.info["f1"][i], b.info["f2"][i], b.info["delay"][i]
        assert 25 <= d <= 100
        u = np.zeros(b.n_steps)
        u[5:10] = (f1 - mid) / span
        u[10 + d:15 + d] = (f2 - mid) / span
        np.testing.assert_allclose(b.inputs[i, :, 0], u, atol=1e-15)
        y = np.zeros(b.n_steps)
        y[15 + d:20 + d] = (f1 - f2) / span
        np.testing.assert_allclose(b.targets[i, :, 0], y, atol=1e-15)
        assert b.mask[i, :, 0].sum() == 5 and b.mask[i, 15 + d, 0]
    assert b.n_steps == 5 + 5 + 100 + 5 + 5


def test_multisensory_channels_follow_the_modality():
    b = multisensory_trials(300, noise_sd=0.0, rng=3)
    stim = _mask_from(b, "stimulus")
    for i in range(b.batch):
        mod, ch = b.info["modality"][i], b.info["choice"][i]
        active = {0: (True, False), 1: (False, True), 2: (True, True)}[mod]
        for k in range(2):
            seg = b.inputs[i, stim[i], k]
            if active[k]:
                assert np.all(seg == seg[0]) and np.sign(seg[0]) == ch
                assert abs(seg[0]) in (1, 2, 4, 8)
            else:
                assert np.all(seg == 0)
        assert np.all(b.inputs[i, ~stim[i]] == 0)
        np.testing.assert_array_equal(b.targets[i, b.mask[i, :, 0], 0], ch)
    assert set(b.info["modality"]) == {0, 1, 2}


def test_context_target_is_the_cued_feature():
    b = context_trials(200, noise_sd=0.0, rng=4)
    dec = _mask_from(b, "decision")
    for i in range(b.batch):
        ctx = b.info["context"][i]
        c = b.info["coherence"][i]
        want = np.sign(c[ctx])
        np.testing.assert_array_equal(b.targets[i, dec[i], 0], want)
        start, stop = b.periods["context"][i][0], b.periods["decision"][i][0]
        on = np.zeros(b.n_steps)
        on[start:stop] = 1
        np.testing.assert_array_equal(b.inputs[i, :, 2 + ctx], on)
        np.testing.assert_array_equal(b.inputs[i, :, 3 - ctx], 0)
    # both contexts occur, and in some trials the cued and the other feature disagree
    assert set(b.info["context"]) == {0, 1}
    assert np.any(np.sign(b.info["coherence"][:, 0]) != np.sign(b.info["coherence"][:, 1]))


def test_match_to_sample_loop_reference():
    b = match_to_sample_trials(60, noise_sd=0.0, rng=5)
    for i in range(b.batch):
        s, t, d = b.info["sample"][i], b.info["test"][i], b.info["delay"][i]
        u = np.zeros((b.n_steps, 2))
        u[5:30, s] = 1
        u[30 + d:55 + d, t] = 1
        np.testing.assert_array_equal(b.inputs[i], u)
        y = np.zeros(b.n_steps)
        y[55 + d:105 + d] = 1.0 if s == t else -1.0
        np.testing.assert_array_equal(b.targets[i, :, 0], y)
        np.testing.assert_array_equal(b.mask[i, :, 0], y != 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_ready_set_go_structure_and_interval_readout(seed):
    b = ready_set_go_trials(40, ready_jitter=1.0, rng=seed)
    dt = b.dt
    for i in range(b.batch):
        r = np.flatnonzero(b.inputs[i, :, 0])
        s = np.flatnonzero(b.inputs[i, :, 1])
        assert len(r) == 1 and len(s) == 1 and abs(r[0] - 100) <= 10
        ts = b.info["interval"][i]
        assert np.isclose((s[0] - r[0]) * dt, ts)
        y = b.targets[i, :, 0]
        n = b.info["interval_steps"][i]
        assert np.all(y[: s[0] + 1] == -0.5) and np.all(y[s[0] + n:] == 0.5)
        assert np.allclose(np.diff(y[s[0]:s[0] + n + 1]), 1.0 / n)
    assert set(np.round(b.info["interval"], 6)) <= {8.0, 10.5, 13.0, 15.5}
    # the target itself crosses 0.35 within one step of 85 % of the interval
    tp = produced_intervals(b.targets, b)
    q = 0.85
    assert np.all(np.abs(tp - b.info["interval"]) <= dt / q + 1e-12)
    # an output that ramps 20 % too slowly produces intervals 20 % too long
    slow = np.zeros_like(b.targets)
    for i in range(b.batch):
        s = b.info["set_step"][i]
        n = b.info["interval_steps"][i]
        k = np.arange(b.n_steps) - s
        slow[i, :, 0] = -0.5 + np.clip(k / (1.2 * n), 0, 1)
    m = timing_error(slow, b)
    assert abs(m["relative_error"] - 0.2) < 0.02 and m["accuracy"] == 0.0
    assert timing_error(b.targets, b)["accuracy"] == 1.0


@pytest.mark.parametrize("tonic", [1.0, -0.5])
def test_ready_set_go_tonic_channel(tonic):
    kw = dict(ready_jitter=1.0, noise_sd=0.3)
    plain = ready_set_go_trials(12, rng=4, **kw)
    b = ready_set_go_trials(12, tonic=tonic, rng=4, **kw)
    assert plain.inputs.shape[2] == 2 and b.inputs.shape == plain.inputs.shape[:2] + (3,)
    # the tonic channel is the constant on every step (no noise); the rest is the same draw
    assert np.all(b.inputs[..., 2] == tonic)
    np.testing.assert_array_equal(b.inputs[..., :2], plain.inputs)
    np.testing.assert_array_equal(b.targets, plain.targets)
    np.testing.assert_array_equal(b.mask, plain.mask)
    # the default adds no channel: explicitly 0 gives the same batch as not asking
    z = ready_set_go_trials(12, tonic=0.0, rng=4, **kw)
    np.testing.assert_array_equal(z.inputs, plain.inputs)


def test_decision_accuracy_counts_signs_and_skips_catch_trials():
    b = random_dots_trials(40, catch_fraction=0.25, rng=6)
    catch = b.info["catch"]
    assert catch.any() and not catch.all()
    out = b.targets.copy()
    good = np.flatnonzero(~catch)
    flip = good[: len(good) // 4]
    out[flip] *= -1
    assert decision_accuracy(out, b) == pytest.approx(1 - len(flip) / len(good))
    # the mean over the period decides, not each step
    out2 = b.targets.copy()
    i = good[0]
    steps = np.flatnonzero(b.mask[i, :, 0])
    out2[i, steps[:2], 0] *= -3  # two steps wrong but small total
    out2[i, steps[2:], 0] *= 2
    assert decision_accuracy(out2, b) == 1.0


def test_decision_accuracy_with_classes():
    labels = np.zeros((3, 4), np.int64)
    labels[:, 2:] = [[1], [2], [1]]
    targets = np.eye(3)[labels]
    mask = np.zeros((3, 4, 3), bool)
    mask[:, 2:] = True
    b = TrialBatch(np.zeros((3, 4, 1)), targets, mask, 0.1, labels=labels)
    out = targets.copy()
    out[2, 2:] = [0, 0, 1]  # trial 2 answers class 2 instead of 1
    assert decision_accuracy(out, b) == pytest.approx(2 / 3)


def test_flipflop_r2_against_hand_formulas():
    b = flipflop_trials(6, n_steps=120, pulse_rate=0.5, rng=7)
    assert flipflop_r2(b.targets, b)["rate_r2"] == 1.0
    rng = np.random.default_rng(8)
    noisy = b.targets + 0.3 * rng.standard_normal(b.targets.shape)
    y, z = b.targets[b.mask], noisy[b.mask]
    want = 1 - ((y - z) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert flipflop_r2(noisy, b)["rate_r2"] == pytest.approx(want)
    # states that hold the bits through an invertible affine map (plus unrelated dimensions)
    A = rng.standard_normal((3, 5))
    states = b.targets @ A + 0.7
    states = np.concatenate([states, rng.standard_normal(b.targets.shape[:2] + (2,))], axis=2)
    assert flipflop_r2(b.targets, b, states)["state_r2"] == pytest.approx(1.0)
    assert flipflop_r2(b.targets, b, rng.standard_normal(states.shape))["state_r2"] < 0.5


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_is_solved_by_its_own_target_and_is_seeded(name):
    b = make_trials(name, 16, rng=3)
    again = make_trials(name, 16, rng=3)
    np.testing.assert_array_equal(b.inputs, again.inputs)
    assert b.inputs.ndim == 3 and b.mask.any() and b.periods
    score = score_task(name, b.targets, b)
    assert score[TASKS[name].metric] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "fn, kw, match",
    [
        (random_dots_trials, dict(batch=0), "batch"),
        (random_dots_trials, dict(batch=2, coherences=[0, 1]), "coherences"),
        (random_dots_trials, dict(batch=2, stimulus=0.0), "stimulus"),
        (romo_trials, dict(batch=2, delay=(3.0, 1.0)), "delay"),
        (context_trials, dict(batch=2, noise_sd=-1.0), "noise_sd"),
        (match_to_sample_trials, dict(batch=2, dt=0.0), "dt"),
        (ready_set_go_trials, dict(batch=2, intervals=[0.0]), "intervals"),
        (ready_set_go_trials, dict(batch=2, end_value=-0.5), "end_value"),
        (ready_set_go_trials, dict(batch=2, tonic=float("nan")), "tonic"),
        (multisensory_trials, dict(batch=2, scale=0.0), "scale"),
    ],
)
def test_bad_arguments(fn, kw, match):
    with pytest.raises(ValueError, match=match):
        fn(**kw)
