"""Latent flow fields: arrows of ``dkappa/dt`` on a grid, fixed points marked by stability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["FIXED_POINT_MARKERS", "plot_fixed_points", "plot_flow_field"]

#: Marker and face colour per fixed-point kind (filled: stable, open: unstable, cross: saddle).
FIXED_POINT_MARKERS: dict[str, tuple[str, str]] = {
    "stable node": ("o", "k"), "stable focus": ("o", "k"), "saddle": ("x", "C3"),
    "unstable node": ("o", "w"), "unstable focus": ("o", "w"), "marginal": ("s", "C1"),
}


def plot_flow_field(
    ax: Any,
    k1: np.ndarray,
    k2: np.ndarray,
    F: np.ndarray,
    title: str = "",
    *,
    n_arrows: int = 15,
    labels: Sequence[str] = ("kappa_1", "kappa_2"),
) -> None:
    """Arrows of a two-dimensional latent vector field.

    Parameters
    ----------
    ax : matplotlib Axes
    k1, k2 : ndarray, shapes (n1,), (n2,)
        Grid coordinates.
    F : ndarray, shape (n2, n1, 2)
        ``dkappa/dt`` at ``(k1[j], k2[i])`` in ``F[i, j]`` (the layout of
        :func:`lowrank_rnn.theory.meanfield.flow_field`).
    title : str
    n_arrows : int
        About this many arrows per axis (the grid is thinned to it).
    labels : pair of str
        Axis labels.
    """
    step = max(1, len(k1) // n_arrows)
    K1, K2 = np.meshgrid(k1[::step], k2[::step])
    ax.quiver(K1, K2, F[::step, ::step, 0], F[::step, ::step, 1], color="0.5", angles="xy")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")


def plot_fixed_points(ax: Any, points: Iterable[tuple[np.ndarray, str]], *, ms: float = 7) -> None:
    """Fixed points ``(kappa, kind)`` marked by :data:`FIXED_POINT_MARKERS` (first two coords)."""
    for kappa, kind in points:
        mk, c = FIXED_POINT_MARKERS.get(kind, ("s", "C1"))
        ax.plot(kappa[0], kappa[1], mk, mfc=c, mec="k", ms=ms)
