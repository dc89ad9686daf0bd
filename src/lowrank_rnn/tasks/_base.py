"""Tasks as trial structure (NeuroGym's habit): inputs, targets and a loss mask per trial."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TrialBatch"]


@dataclass(frozen=True)
class TrialBatch:
    """A batch of trials of a task.

    Attributes
    ----------
    inputs : ndarray, shape (batch, time, d_in)
        Input u(t) at each time step.
    targets : ndarray, shape (batch, time, d_out)
        Desired readout z(t).
    mask : ndarray of bool, shape (batch, time, d_out)
        Where the loss counts (e.g. only the decision period).
    dt : float
        Time step of the arrays, in units of tau.
    paper : str
        The paper the task comes from.
    info : dict
        Task-specific per-trial quantities (e.g. stimulus strengths), each an array of length batch.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    dt: float
    paper: str
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.inputs.ndim != 3 or self.targets.ndim != 3:
            raise ValueError(
                f"inputs/targets: expected (batch, time, dim) arrays, got {self.inputs.shape} "
                f"and {self.targets.shape}"
            )
        if self.inputs.shape[:2] != self.targets.shape[:2]:
            raise ValueError(
                f"inputs {self.inputs.shape} and targets {self.targets.shape}: "
                "batch and time differ"
            )
        if self.mask.shape != self.targets.shape:
            raise ValueError(f"mask: expected shape {self.targets.shape}, got {self.mask.shape}")

    @property
    def batch(self) -> int:
        """Number of trials."""
        return int(self.inputs.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return int(self.inputs.shape[1])
