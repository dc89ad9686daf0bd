"""The NeuroGym adapter against the environment's own ``new_trial`` output (skipped without
NeuroGym: ``pip install '.[neurogym]' && pip install --no-deps neurogym==2.3.1``)."""

import warnings

import numpy as np
import pytest

ngym = pytest.importorskip("neurogym")

from lowrank_rnn.tasks import decision_accuracy  # noqa: E402
from lowrank_rnn.tasks.neurogym import neurogym_trials  # noqa: E402

ENVS = ["PerceptualDecisionMaking-v0", "DelayMatchSample-v0"]


def _env(name, dt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ngym.make(name, dt=dt)


@pytest.mark.parametrize("name", ENVS)
def test_adapter_matches_new_trial(name):
    dt, tau, seed, batch = 20, 100.0, 11, 12
    b = neurogym_trials(_env(name, dt), batch, tau_ms=tau, rng=seed)
    ref = _env(name, dt).unwrapped
    ref.seed(int(np.random.default_rng(seed).integers(2**31 - 1)))
    n_act = ref.action_space.n
    assert b.dt == pytest.approx(dt / tau)
    assert b.targets.shape[2] == n_act and b.inputs.shape[2] == ref.observation_space.shape[0]
    for i in range(batch):
        trial = ref.new_trial()
        ob, gt = np.asarray(ref.ob, float), np.asarray(ref.gt)
        t = ob.shape[0]
        assert b.info["n_steps"][i] == t
        # time-first (time, d_in) -> row i of batch-first (batch, time, d_in); padding is zero
        np.testing.assert_array_equal(b.inputs[i, :t], ob)
        assert np.all(b.inputs[i, t:] == 0)
        np.testing.assert_array_equal(b.labels[i, :t], gt)
        np.testing.assert_array_equal(b.targets[i, :t], np.eye(n_act)[gt])
        assert b.mask[i, :t].all() and not b.mask[i, t:].any()
        for period, start in ref.start_ind.items():
            assert tuple(b.periods[period][i]) == (start, ref.end_ind[period])
            # timing: each period lasts its duration in ms divided by the step
            dur_ms = (ref.end_ind[period] - start) * dt
            assert abs(dur_ms - (ref.end_t[period] - ref.start_t[period])) < dt
        assert b.info["ground_truth"][i] == trial["ground_truth"]
        # the decision-period label is the trial's ground truth (+1: 0 is fixation)
        d0, d1 = ref.start_ind["decision"], ref.end_ind["decision"]
        assert np.all(gt[d0:d1] == gt[d0])
    assert decision_accuracy(b.targets, b) == 1.0


def test_adapter_loss_on_decision_and_by_name():
    b = neurogym_trials("PerceptualDecisionMaking-v0", 5, rng=1, loss_on=("decision",), dt=20)
    np.testing.assert_array_equal(b.mask[..., 0], b.period_mask("decision"))
    with pytest.raises(ValueError, match="loss_on"):
        neurogym_trials("PerceptualDecisionMaking-v0", 2, rng=1, loss_on=("nope",), dt=20)
    with pytest.raises(ValueError, match="batch"):
        neurogym_trials("PerceptualDecisionMaking-v0", 0, dt=20)
