"""Time courses: task outputs against targets, latent trajectories."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_latent_trajectories", "plot_task_outputs"]


def plot_task_outputs(
    ax: Any,
    t: Any,
    target: Any,
    outputs: dict[str, Any],
    *,
    mask: Any = None,
) -> None:
    """One trial's target (black) and each method's output over time; unscored time shaded."""
    t = np.asarray(t)
    colors = {"closed_form": "purple", "bptt_low_rank": "C0", "bptt_full_rank": "C1"}
    if mask is not None:
        off = ~np.asarray(mask, dtype=bool)
        ax.fill_between(t, -1.5, 1.5, where=off, color="0.92", step="mid", label="not scored")
    ax.plot(t, target, color="k", lw=2, label="target")
    for method, z in outputs.items():
        ax.plot(t, z, color=colors.get(method, "0.3"), lw=1.2, label=method)
    ax.set_ylim(-1.6, 1.6)
    ax.set_xlabel("time (τ)")
    ax.set_ylabel("output")
    ax.legend(fontsize=6)


def plot_latent_trajectories(
    ax: Any,
    kappa: Any,
    *,
    dims: tuple[int, int] = (0, 1),
    t: Any = None,
    color: str | None = None,
    lw: float = 0.8,
    label: str | None = None,
) -> None:
    """Latent trajectories ``kappa`` of a simulation.

    Parameters
    ----------
    ax : matplotlib Axes
    kappa : ndarray, shape (batch, time, R) or (time, R), or a Trajectory
        Latent coordinates (e.g. :attr:`lowrank_rnn.simulate.Trajectory.kappa`).
    dims : pair of int
        Which two latent coordinates to draw against each other when R >= 2.
    t : ndarray, shape (time,), optional
        Times, used for R = 1 (kappa against time).
    color, lw, label
        Line style.
    """
    k = getattr(kappa, "kappa", kappa)
    if t is None and hasattr(kappa, "t"):
        t = kappa.t
    k = np.asarray(k, dtype=float)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3:
        raise ValueError(f"kappa: expected shape (batch, time, R) or (time, R), got {k.shape}")
    for i, trial in enumerate(k):
        lab = label if i == 0 else None
        if k.shape[2] == 1:
            x = np.arange(trial.shape[0]) if t is None else np.asarray(t)
            ax.plot(x, trial[:, 0], color=color, lw=lw, label=lab)
            ax.set_xlabel("time (τ)" if t is not None else "step")
            ax.set_ylabel("kappa")
        else:
            ax.plot(trial[:, dims[0]], trial[:, dims[1]], color=color, lw=lw, label=lab)
            ax.plot(trial[0, dims[0]], trial[0, dims[1]], "o", color=color or "C0", ms=3)
            ax.set_xlabel(f"kappa_{dims[0] + 1}")
            ax.set_ylabel(f"kappa_{dims[1] + 1}")
