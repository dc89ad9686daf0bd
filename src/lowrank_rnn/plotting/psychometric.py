"""Psychometric curves: the fraction of one choice against stimulus strength."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_psychometric"]


def plot_psychometric(
    ax: Any,
    strengths: np.ndarray,
    curves: np.ndarray | Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    *,
    title: str = "",
    ylabel: str = "P(readout > 0)",
) -> None:
    """One psychometric curve per condition.

    Parameters
    ----------
    ax : matplotlib Axes
    strengths : ndarray, shape (S,)
        Stimulus strengths (e.g. the evidence strength c of Herbert & Ostojic Fig 6).
    curves : ndarray, shape (K, S) or (S,)
        Fraction of "go" choices per condition and strength.
    labels : sequence of K str, optional
    title, ylabel : str
    """
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    labels = list(labels) if labels is not None else [None] * len(curves)
    for p, lab in zip(curves, labels, strict=True):
        ax.plot(strengths, p, "o-", label=lab)
    ax.set_xlabel("strength c")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    if any(lab is not None for lab in labels):
        ax.legend(fontsize=7)
