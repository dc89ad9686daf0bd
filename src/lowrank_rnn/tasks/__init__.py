"""Tasks as trial structure: evidence accumulation, 3-bit flip-flop, binary decision."""

from lowrank_rnn.tasks._base import TrialBatch
from lowrank_rnn.tasks.decision import decision_trials
from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials
from lowrank_rnn.tasks.flipflop import flipflop_trials, task_streams

__all__ = [
    "TrialBatch",
    "decision_trials",
    "evidence_network",
    "evidence_trials",
    "flipflop_trials",
    "task_streams",
]
