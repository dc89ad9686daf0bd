"""Tasks as trial structure (NeuroGym-like): named periods, ``(batch, time, dim)`` arrays, a loss
mask and a metric per task.

The five tasks of Dubreuil et al. 2022 (random dots, Romo, Raposo, Mante, delayed
match-to-sample), the ready-set-go timing task, the 3-bit flip-flop, binary decision and
evidence accumulation; :mod:`lowrank_rnn.tasks.neurogym` turns any NeuroGym environment into
:class:`TrialBatch` es.
"""

from lowrank_rnn.tasks._base import TrialBatch, period_bounds
from lowrank_rnn.tasks.cognitive import (
    context_trials,
    match_to_sample_trials,
    multisensory_trials,
    random_dots_trials,
    romo_frequency_pairs,
    romo_trials,
)
from lowrank_rnn.tasks.decision import decision_trials
from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials
from lowrank_rnn.tasks.flipflop import flipflop_trials, task_streams
from lowrank_rnn.tasks.metrics import decision_accuracy, flipflop_r2, r2_score, timing_error
from lowrank_rnn.tasks.suite import TASKS, TaskSpec, make_trials, score_task
from lowrank_rnn.tasks.timing import produced_intervals, ready_set_go_trials

__all__ = [
    "TASKS",
    "TaskSpec",
    "TrialBatch",
    "context_trials",
    "decision_accuracy",
    "decision_trials",
    "evidence_network",
    "evidence_trials",
    "flipflop_r2",
    "flipflop_trials",
    "make_trials",
    "match_to_sample_trials",
    "multisensory_trials",
    "period_bounds",
    "produced_intervals",
    "r2_score",
    "random_dots_trials",
    "ready_set_go_trials",
    "romo_frequency_pairs",
    "romo_trials",
    "score_task",
    "task_streams",
    "timing_error",
]
