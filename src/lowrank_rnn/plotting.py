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
    extent = max([float(np.abs(eigs).max()) if eigs.size else 0.0, radius or 0.0,
                  abs(outlier or 0.0), 1.0 if unit_circle else 0.0, 1e-3]) * 1.15
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
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


def plot_training_curves(
    ax: Any, curves: dict[str, dict[str, list[float]]], *, closed_form: float | None = None
) -> None:
    """Training loss per epoch for each method and size (``curves[method][size]``), log scale,
    with the closed form's one-step training error as a horizontal line."""
    styles = {"bptt_low_rank": "-", "bptt_full_rank": "--"}
    for i, (method, by_size) in enumerate(curves.items()):
        for j, (size, curve) in enumerate(by_size.items()):
            ax.plot(np.arange(1, len(curve) + 1), curve, styles.get(method, ":"),
                    color=f"C{j}", label=f"{method} N={size}", alpha=0.9 - 0.2 * i)
    if closed_form is not None:
        ax.axhline(closed_form, color="purple", lw=2, label="closed form (one step)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE")
    ax.legend(fontsize=6)


def plot_test_mse_by_size(ax: Any, summary: dict[str, Any]) -> None:
    """Test MSE (mean ± sd over seeds) by network size, one series per method, log scale."""
    colors = {"closed_form": "purple", "bptt_low_rank": "C0", "bptt_full_rank": "C1"}
    for method, row in summary.items():
        sizes = [int(n) for n in row["by_size"]]
        mean = [row["by_size"][str(n)]["test_mse_mean"] for n in sizes]
        sd = [row["by_size"][str(n)]["test_mse_sd"] for n in sizes]
        ax.errorbar(sizes, mean, yerr=sd, fmt="o-", ms=4, capsize=3,
                    color=colors.get(method, "0.3"), label=method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("neurons N")
    ax.set_ylabel("test MSE")
    ax.legend(fontsize=7)


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
