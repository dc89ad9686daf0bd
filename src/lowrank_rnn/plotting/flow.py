"""Latent flow fields: arrows or speed maps of ``dkappa/dt`` on a grid, rank-one fields, fixed
points marked by stability and slow points."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "FIXED_POINT_MARKERS",
    "plot_fixed_points",
    "plot_flow_field",
    "plot_latent_field_1d",
    "plot_slow_points",
    "plot_speed",
]

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


def plot_speed(
    ax: Any,
    k1: np.ndarray,
    k2: np.ndarray,
    F: np.ndarray,
    title: str = "",
    *,
    vmin: float = -2.0,
    vmax: float = 1.0,
    density: float = 0.7,
    labels: Sequence[str] = ("kappa_1", "kappa_2"),
) -> Any:
    """Speed ``log10 |dkappa/dt|`` as a colour map with streamlines on top (Beiran et al. 2021).

    Parameters
    ----------
    ax : matplotlib Axes
    k1, k2 : ndarray, shapes (n1,), (n2,)
    F : ndarray, shape (n2, n1, 2)
        Layout of :func:`lowrank_rnn.theory.meanfield.flow_field` and
        :func:`lowrank_rnn.theory.fixedpoints.network_flow_field`.
    vmin, vmax : float
        Colour range of ``log10`` speed.
    density : float
        Streamline density.

    Returns
    -------
    The ``QuadMesh`` (for a colour bar).
    """
    speed = np.log10(np.linalg.norm(F, axis=-1) + 1e-12)
    mesh = ax.pcolormesh(k1, k2, speed, cmap="viridis", vmin=vmin, vmax=vmax, shading="auto")
    ax.streamplot(k1, k2, F[..., 0], F[..., 1], color="w", linewidth=0.7, density=density)
    ax.set_xlim(k1[0], k1[-1])
    ax.set_ylim(k2[0], k2[-1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    return mesh


def plot_latent_field_1d(
    ax: Any,
    kappa: np.ndarray,
    F: np.ndarray,
    points: Iterable[tuple[float, bool]] = (),
    *,
    label: str | None = None,
    color: str = "C3",
    **kwargs: Any,
) -> None:
    """A rank-one latent field ``dkappa/dt`` against kappa, fixed points marked.

    Parameters
    ----------
    kappa : ndarray, shape (n,)
    F : ndarray, shape (n,)
    points : iterable of (kappa, stable)
        Fixed points: filled if stable, open if not.
    """
    ax.plot(kappa, F, color=color, label=label, **kwargs)
    ax.axhline(0.0, color="k", ls="--", lw=0.8)
    for k, stable in points:
        ax.plot(k, 0.0, "o", mfc=color if stable else "w", mec="k", ms=7, zorder=4)
    ax.set_xlabel("kappa")
    ax.set_ylabel("dkappa/dt")


def plot_slow_points(ax: Any, points: Iterable[Any], *, ms: float = 7) -> None:
    """Fixed points (by kind, :data:`FIXED_POINT_MARKERS`) and slow points (diamonds) from
    :func:`lowrank_rnn.theory.fixedpoints.find_slow_points` (first two coordinates)."""
    for p in points:
        if p.fixed:
            mk, c = FIXED_POINT_MARKERS.get(p.kind, ("s", "C1"))
        else:
            mk, c = "D", "C1"
        ax.plot(p.kappa[0], p.kappa[1] if p.kappa.size > 1 else 0.0, mk, mfc=c, mec="k", ms=ms)
