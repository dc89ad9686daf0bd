"""The task suite by name: a generator of trials and the metric that says how well it is solved.

Used by ``lowrank-rnn train TASK`` and the benchmarks; a user's own task needs none of this (a
:class:`TrialBatch` or a function returning one is enough for the trainer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lowrank_rnn._validate import RngLike, check_choice
from lowrank_rnn.tasks._base import TrialBatch
from lowrank_rnn.tasks.cognitive import (
    context_trials,
    match_to_sample_trials,
    multisensory_trials,
    random_dots_trials,
    romo_trials,
)
from lowrank_rnn.tasks.decision import decision_trials
from lowrank_rnn.tasks.flipflop import flipflop_trials
from lowrank_rnn.tasks.metrics import decision_accuracy, flipflop_r2, timing_error
from lowrank_rnn.tasks.timing import ready_set_go_trials

__all__ = ["TASKS", "TaskSpec", "make_trials", "score_task"]


@dataclass(frozen=True)
class TaskSpec:
    """A task of the suite.

    Attributes
    ----------
    name : str
    trials : callable
        ``trials(batch, rng=..., **kw) -> TrialBatch``.
    metric : str
        Name of the headline number :func:`score_task` returns (``accuracy`` for decision tasks,
        ``rate_r2`` for the flip-flop).
    description : str
    """

    name: str
    trials: Callable[..., TrialBatch]
    metric: str
    description: str


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec("random_dots", random_dots_trials, "accuracy",
                 "perceptual decision making (Dubreuil 2022 PDM)"),
        TaskSpec("romo", romo_trials, "accuracy",
                 "parametric working memory (Dubreuil 2022 PWM)"),
        TaskSpec("multisensory", multisensory_trials, "accuracy",
                 "multisensory integration (Dubreuil 2022 MDM)"),
        TaskSpec("context", context_trials, "accuracy",
                 "context-dependent decision making (Dubreuil 2022 CDM)"),
        TaskSpec("match_to_sample", match_to_sample_trials, "accuracy",
                 "delayed match-to-sample (Dubreuil 2022 DMS)"),
        TaskSpec("ready_set_go", ready_set_go_trials, "accuracy",
                 "interval reproduction (Beiran et al. 2021)"),
        TaskSpec("flipflop", flipflop_trials, "rate_r2", "3-bit flip-flop (Sussillo & Barak)"),
        TaskSpec("decision", decision_trials, "accuracy",
                 "binary decision with a bistable attractor (A new look, Sec 6)"),
    )
}

#: The five tasks of Dubreuil et al. 2022 and the minimal rank the paper reports for each
#: (Fig 1: rank one for the three decision tasks, rank two for working memory and DMS).
DUBREUIL_MINIMAL_RANK = {
    "random_dots": 1, "romo": 2, "multisensory": 1, "context": 1, "match_to_sample": 2,
}


def make_trials(name: str, batch: int, *, rng: RngLike = None, **kw: Any) -> TrialBatch:
    """``batch`` trials of task ``name`` (one of :data:`TASKS`)."""
    check_choice("task", name, tuple(TASKS))
    return TASKS[name].trials(batch, rng=rng, **kw)


def score_task(
    name: str, outputs: np.ndarray, batch: TrialBatch, states: np.ndarray | None = None
) -> dict[str, float]:
    """Every metric of task ``name`` for outputs (batch, time, d_out) on ``batch``.

    Decision tasks: ``accuracy``; ready-set-go: ``accuracy`` (within 10 % of the interval),
    ``relative_error``, ``missed``; flip-flop: ``rate_r2`` (and ``state_r2`` given ``states``).
    """
    check_choice("task", name, tuple(TASKS))
    if name == "flipflop":
        return flipflop_r2(outputs, batch, states)
    if name == "ready_set_go":
        return timing_error(outputs, batch)
    return {"accuracy": decision_accuracy(outputs, batch)}
