"""Tasks as trial structure: evidence accumulation, 3-bit flip-flop, binary decision."""

from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["TrialBatch"]
