"""Eigenvalue spectra in the complex plane, with the predicted bulk circle and outlier."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_eigenvalues", "plot_spectrum"]


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
    extent = max([float(np.abs(eigs).max()) if eigs.size else 0.0, radius or 0.0,
                  abs(outlier or 0.0), 1.0 if unit_circle else 0.0, 1e-3]) * 1.15
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.legend(fontsize=7, loc="upper left")


def plot_spectrum(
    ax: Any,
    net: Any,
    *,
    radius: float | None = None,
    outlier: float | None = None,
    method: str = "auto",
    rng: Any = None,
) -> Any:
    """A network's eigenvalues (measured by :func:`lowrank_rnn.theory.spectrum.measure_spectrum`)
    with an optional predicted bulk circle and outlier (e.g. Herbert & Ostojic eqs 13–14).

    Parameters
    ----------
    ax : matplotlib Axes
    net : LowRankRNN or FixedDegreeRankOne
    radius, outlier : float, optional
        Theory to draw beside the eigenvalues.
    method : {'auto', 'dense', 'arpack'}
    rng : Generator, int or None
        ARPACK's start vector.

    Returns
    -------
    SpectrumResult
        What was measured (so a caller can put numbers beside the picture).
    """
    from lowrank_rnn.theory.spectrum import measure_spectrum

    res = measure_spectrum(net, method=method, rng=rng)
    plot_eigenvalues(ax, res.eigenvalues, radius=radius, outlier=outlier)
    return res
