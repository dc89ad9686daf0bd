"""Stacked BPTT training equals separate training; Fig 5's shared learning rate and groups."""

import numpy as np
import pytest

pytest.importorskip("torch")

from lowrank_rnn.fit._stacked import fit_stacked  # noqa: E402
from lowrank_rnn.fit.bptt import BPTTTrainer  # noqa: E402
from lowrank_rnn.fit.compare import compare, make_trials, tune_lr  # noqa: E402

SEEDS = (3, 4, 5)


def _trials(task="flipflop", seeds=SEEDS):
    kw = {"n_steps": 30} if task == "flipflop" else {}
    return [make_trials(task, 24, 8, 8, s, **kw) for s in seeds]


def _trainer(seed, rank, **kw):
    base = {"lr": 0.05, "n_epochs": 3, "batch_size": 8, "x0_input": 3, "dtype": "float64",
            "grad_clip": 0.05, "random_state": seed}
    base.update(kw)
    return BPTTTrainer(6, rank, **base)


@pytest.mark.parametrize("rank", [2, None])
def test_stacked_equals_separate_training(rank):
    """float64: the weights, curves, validation losses and the Adam state (one more epoch with
    fit_more) agree with separate fits to rounding. grad_clip=0.05 clips every step, so a norm
    taken across the networks instead of per network would show."""
    trials = _trials()
    sep = [_trainer(s, rank).fit(t["train"], t["validation"])
           for s, t in zip(SEEDS, trials, strict=True)]
    stk = fit_stacked([_trainer(s, rank) for s in SEEDS], [t["train"] for t in trials],
                      [t["validation"] for t in trials])
    for a, b, t in zip(sep, stk, trials, strict=True):
        for (na, pa), (nb, pb) in zip(a.model_.named_parameters(),
                                      b.model_.named_parameters(), strict=True):
            assert na == nb
            np.testing.assert_allclose(pb.detach().numpy(), pa.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(b.history_["train_loss"], a.history_["train_loss"],
                                   rtol=1e-12)
        np.testing.assert_allclose(b.history_["val_loss"], a.history_["val_loss"], rtol=1e-12)
        assert b.epochs_done_ == a.epochs_done_ == 3
        assert b.info_["n_steps"] == a.info_["n_steps"]
        assert b.info_["stacked"] == len(SEEDS)
        a.fit_more(t["train"], n_epochs=1)
        b.fit_more(t["train"], n_epochs=1)
        np.testing.assert_allclose(b.predict(t["test"].inputs), a.predict(t["test"].inputs),
                                   atol=1e-11)


def test_stacked_float32_matches_to_rounding():
    trials = _trials("decision", SEEDS[:2])
    kw = {"dtype": "float32", "x0_input": 1}
    sep = [_trainer(s, 1, **kw).fit(t["train"]) for s, t in zip(SEEDS[:2], trials, strict=True)]
    stk = fit_stacked([_trainer(s, 1, **kw) for s in SEEDS[:2]], [t["train"] for t in trials])
    for a, b, t in zip(sep, stk, trials, strict=True):
        np.testing.assert_allclose(b.score(t["test"]), a.score(t["test"]), rtol=1e-4)


def test_stacked_refuses_what_it_does_not_support():
    trials = _trials(seeds=SEEDS[:2])
    trains = [t["train"] for t in trials]
    with pytest.raises(ValueError, match="hyper-parameters differ"):
        fit_stacked([_trainer(3, 2), _trainer(4, 2, lr=0.1)], trains)
    with pytest.raises(ValueError, match="noise"):
        fit_stacked([_trainer(3, 2, noise=0.1), _trainer(4, 2, noise=0.1)], trains)
    with pytest.raises(ValueError, match="optimizer"):
        fit_stacked([_trainer(3, 2, optimizer="sgd"), _trainer(4, 2, optimizer="sgd")], trains)
    with pytest.raises(ValueError, match="one batch per trainer"):
        fit_stacked([_trainer(3, 2)], trains)
    with pytest.raises(ValueError, match="at least one"):
        fit_stacked([], [])


def test_fig5_group_tunes_each_seed_as_per_point_tuning_and_equals_separate_runs():
    """Each seed's validation scores and chosen rate are those of compare's own per-network
    search run separately; each network then equals a separate compare() run at that rate."""
    from lowrank_rnn.reproduce.newlook.bptt import fig5_group_point

    lrs = (0.003, 0.1)
    kw = {"n_train": 24, "n_validation": 8, "n_test": 8, "batch_size": 8}
    out = fig5_group_point("flipflop", "bptt_low_rank", 5, n_seeds=2, n_epochs=3,
                           lrs="0.003,0.1", tune_epochs=2, n_steps=30, seed=7, **kw)
    for i, s in enumerate((7, 8)):
        t = make_trials("flipflop", 24, 8, 8, s, n_steps=30)
        lr, scores, _ = tune_lr(t, 5, 3, s, lrs=lrs, tune_epochs=2, batch_size=8)
        np.testing.assert_allclose(out["lr_scores"][i], scores, rtol=1e-4)
        assert out["lr"][i] == lr
        (run,) = compare("flipflop", seeds=1, sizes=[5], base_seed=s, n_epochs=3,
                         lrs=[float(out["lr"][i])], methods=("bptt_low_rank",),
                         task_kw={"n_steps": 30}, **kw)
        np.testing.assert_allclose(out["test_mse"][i], run.test_mse, rtol=1e-4)
        np.testing.assert_allclose(out["curve"][i], run.curve, rtol=1e-4)
    assert out["rank"] == 3 and out["info_epochs"].tolist() == [3, 3]
