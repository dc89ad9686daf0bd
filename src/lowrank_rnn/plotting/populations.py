"""Loadings of a network coloured by population (Beiran et al. 2021; Dubreuil et al. 2022)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_loadings"]


def plot_loadings(
    ax: Any,
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    xlabel: str = "",
    ylabel: str = "",
    max_points: int = 2000,
    s: float = 6,
) -> None:
    """Scatter of two loadings per neuron (e.g. ``m_i`` against ``n_i``), one colour per
    population.

    Parameters
    ----------
    ax : matplotlib Axes
    x, y : ndarray, shape (N,)
    labels : ndarray of int, shape (N,), optional
        Population of each neuron.
    max_points : int
        At most this many neurons are drawn (every k-th).
    """
    x, y = np.asarray(x), np.asarray(y)
    step = max(1, x.size // max_points)
    lab = np.zeros(x.size, dtype=int) if labels is None else np.asarray(labels)
    for p in np.unique(lab):
        sel = np.flatnonzero(lab == p)[::step]
        ax.scatter(x[sel], y[sel], s=s, alpha=0.5, color=f"C{int(p) % 10}", rasterized=True,
                   label=f"population {int(p) + 1}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
