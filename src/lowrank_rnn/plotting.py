"""Plotting: draws data computed elsewhere; never computes."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_eigenvalues", "plot_mean_sd"]


def plot_eigenvalues(
    ax: Any,
    eigs: np.ndarray,
    *,
    radius: float | None = None,
    outlier: float | None = None,
    unit_circle: bool = False,
) -> None:
    """Eigenvalues in the complex plane with the predicted bulk circle and outlier."""
    eigs = np.asarray(eigs)
    ax.plot(eigs.real, eigs.imag, ".", ms=2, color="0.3", label="eigenvalues")
    th = np.linspace(0, 2 * np.pi, 300)
    if radius is not None:
        ax.plot(radius * np.cos(th), radius * np.sin(th), "--", color="C0", label="theory bulk")
    if outlier is not None:
        ax.plot([outlier], [0], "x", color="C3", ms=10, mew=2, label="theory outlier")
    if unit_circle:
        ax.plot(np.cos(th), np.sin(th), ":", color="0.6", lw=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.legend(fontsize=7, loc="upper left")


def plot_mean_sd(
    ax: Any,
    x: np.ndarray,
    samples: np.ndarray,
    theory: np.ndarray | None = None,
    *,
    label: str = "",
    color: str = "C0",
) -> None:
    """Mean ± sd over instances (``samples``: shape (len(x), instances)) against a theory line."""
    samples = np.asarray(samples)
    mean, sd = samples.mean(axis=1), samples.std(axis=1)
    ax.errorbar(x, mean, yerr=sd, fmt="o", ms=3, color=color, label=f"{label} measured".strip())
    if theory is not None:
        ax.plot(x, theory, "-", color=color, alpha=0.7, label=f"{label} theory".strip())
