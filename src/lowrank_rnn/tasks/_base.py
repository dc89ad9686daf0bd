"""Tasks as trial structure (NeuroGym's habit): inputs, targets, a loss mask and named periods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TrialBatch", "period_bounds"]


def period_bounds(
    batch: int, durations: Mapping[str, int | np.ndarray]
) -> dict[str, np.ndarray]:
    """Consecutive periods from their lengths in steps.

    Parameters
    ----------
    batch : int
        Number of trials.
    durations : mapping of str to int or ndarray of shape (batch,)
        Length of each period in steps, in trial order (a scalar: the same for every trial).

    Returns
    -------
    dict of str to ndarray of int, shape (batch, 2)
        ``[start, stop)`` step range of each period in each trial.
    """
    out: dict[str, np.ndarray] = {}
    k = np.zeros(batch, dtype=np.int64)
    for name, n in durations.items():
        n = np.broadcast_to(np.asarray(n, dtype=np.int64), (batch,))
        out[name] = np.stack([k, k + n], axis=1)
        k = k + n
    return out


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
        Where the task comes from (optional; empty for a user's own task).
    info : dict
        Task-specific per-trial quantities (e.g. stimulus strengths), each an array of length batch.
    periods : dict of str to ndarray of int, shape (batch, 2)
        Named periods (NeuroGym's ``fixation``, ``stimulus``, ``delay``, ``decision``...):
        ``[start, stop)`` step range of each period in each trial. Periods may differ between
        trials (variable delays) and may overlap.
    labels : ndarray of int, shape (batch, time), optional
        Class of the correct response at each step (NeuroGym's ground truth; 0 = fixate), for a
        cross-entropy loss over ``d_out`` output classes.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    dt: float
    paper: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    periods: dict[str, np.ndarray] = field(default_factory=dict)
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        inputs = np.asarray(self.inputs, dtype=float)
        targets = np.asarray(self.targets, dtype=float)
        mask = np.asarray(self.mask)
        if inputs.ndim != 3 or targets.ndim != 3:
            raise ValueError(
                f"inputs/targets: expected (batch, time, dim) arrays, got {inputs.shape} "
                f"and {targets.shape}"
            )
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(
                f"inputs {inputs.shape} and targets {targets.shape}: batch and time differ"
            )
        if mask.shape != targets.shape:
            raise ValueError(f"mask: expected shape {targets.shape}, got {mask.shape}")
        if mask.dtype != bool:
            if not np.all((mask == 0) | (mask == 1)):
                raise ValueError("mask: expected booleans (or 0/1 values)")
            mask = mask.astype(bool)
        dt = float(self.dt)
        if not np.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt={self.dt!r}: must be a finite number > 0")
        b, t = inputs.shape[:2]
        periods: dict[str, np.ndarray] = {}
        for name, rng_ in dict(self.periods).items():
            arr = np.asarray(rng_)
            if arr.shape == (2,):
                arr = np.broadcast_to(arr, (b, 2))
            if arr.shape != (b, 2) or not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(
                    f"periods[{name!r}]: expected integer [start, stop) steps of shape ({b}, 2) "
                    f"or (2,), got {arr.dtype} {arr.shape}"
                )
            if np.any(arr[:, 0] < 0) or np.any(arr[:, 1] < arr[:, 0]) or np.any(arr[:, 1] > t):
                raise ValueError(
                    f"periods[{name!r}]: every range must satisfy 0 <= start <= stop <= {t}"
                )
            periods[name] = np.array(arr, dtype=np.int64)
        labels = self.labels
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (b, t) or not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(
                    f"labels: expected integer classes of shape ({b}, {t}), got "
                    f"{labels.dtype} {labels.shape}"
                )
            if labels.size and labels.min() < 0:
                raise ValueError("labels: classes must be >= 0")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "dt", dt)
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "labels", labels)

    @property
    def batch(self) -> int:
        """Number of trials."""
        return int(self.inputs.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return int(self.inputs.shape[1])

    @property
    def d_in(self) -> int:
        """Number of input channels."""
        return int(self.inputs.shape[2])

    @property
    def d_out(self) -> int:
        """Number of output channels."""
        return int(self.targets.shape[2])

    def period_mask(self, name: str) -> np.ndarray:
        """Boolean array of shape (batch, time), True inside period ``name`` of each trial."""
        if name not in self.periods:
            raise ValueError(
                f"name={name!r}: no such period; this batch has {sorted(self.periods) or 'none'}"
            )
        p = self.periods[name]
        steps = np.arange(self.n_steps)[None, :]
        return (steps >= p[:, :1]) & (steps < p[:, 1:])

    def subset(self, index: Any) -> TrialBatch:
        """The trials selected by ``index`` (an integer array, slice or boolean mask)."""
        idx = np.arange(self.batch)[index]
        idx = np.atleast_1d(idx)
        info = {
            k: (v[idx] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == self.batch
                else v)
            for k, v in self.info.items()
        }
        return TrialBatch(
            self.inputs[idx], self.targets[idx], self.mask[idx], self.dt, self.paper, info,
            {k: v[idx] for k, v in self.periods.items()},
            None if self.labels is None else self.labels[idx],
        )
