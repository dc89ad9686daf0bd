"""Curves: measured mean ± sd against theory, training losses, errors by network size."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_mean_sd", "plot_training_curves", "plot_test_mse_by_size"]


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
