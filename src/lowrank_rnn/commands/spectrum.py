"""``lowrank-rnn spectrum``: outlier and bulk radius of a rank-one network against theory."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "spectrum_command"]


def spectrum_command(
    n_neurons: Annotated[int, typer.Option("--n-neurons", help="Number of neurons N.")],
    sigma2: Annotated[float, typer.Option("--sigma2", help="Variance of m and n (eq 4).")],
    sigma_mn: Annotated[float, typer.Option("--sigma-mn", help="Covariance of m and n (eq 4).")],
    sparsity: Annotated[
        float | None, typer.Option("--sparsity", help="Bernoulli fraction s of zeros.")
    ] = None,
    c: Annotated[
        int | None, typer.Option("--c", help="Exactly C non-zeros per column.")
    ] = None,
    rescaled: Annotated[
        bool, typer.Option("--rescaled", help="Use P = X ⊙ m n^T (eq 12) instead of /N.")
    ] = False,
    g: Annotated[float, typer.Option("--g", help="Strength of a Gaussian random part.")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    method: Annotated[
        str, typer.Option("--method", help="auto (dense up to N=3000), dense or arpack.")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw the eigenvalues to this image file.")
    ] = None,
) -> None:
    """Measure outlier and bulk radius of a (sparse) rank-one network against theory."""
    from lowrank_rnn.connectivity import rank_one_network
    from lowrank_rnn.theory.spectrum import (
        measure_spectrum,
        theory_bulk_radius,
        theory_gaussian_radius,
        theory_outlier,
        theory_total_radius,
    )

    t0 = time.perf_counter()
    # validation before any work (the builders validate too; this keeps errors first)
    kw = {"sparsity": sparsity, "c": c, "n_neurons": n_neurons}
    th_out = theory_outlier(sigma_mn, rescaled=rescaled, **kw)
    th_bulk = theory_total_radius(
        theory_bulk_radius(sigma2, rescaled=rescaled, **kw),
        theory_gaussian_radius(g, **kw),
    )
    if plot is not None and plot.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ValueError(f"plot={str(plot)!r}: the file name must end in .png, .pdf or .svg")
    net = rank_one_network(
        n_neurons, sigma2, sigma_mn, sparsity=sparsity, c=c, rescaled=rescaled, g=g, rng=seed
    )
    res = measure_spectrum(net, method=method, rng=seed)
    seconds = time.perf_counter() - t0
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from lowrank_rnn._io import save_figure_atomic
        from lowrank_rnn.plotting import plot_eigenvalues

        fig, ax = plt.subplots(figsize=(5, 5))
        plot_eigenvalues(ax, res.eigenvalues, radius=th_bulk, outlier=th_out)
        ax.set_title(f"N={n_neurons}, σ²={sigma2}, σmn={sigma_mn}" + (f", C={c}" if c else ""))
        save_figure_atomic(fig, plot, dpi=120, bbox_inches="tight")
        plt.close(fig)
    out = {
        "outlier": res.outlier,
        "bulk_radius": res.bulk_radius,
        "theory_outlier": th_out,
        "theory_bulk_radius": th_bulk,
        "seconds": seconds,
        "method": res.method,
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Spectrum ({res.method}), N = {n_neurons}")
    table.add_column("quantity")
    table.add_column("measured", justify="right")
    table.add_column("theory", justify="right")
    table.add_row("outlier λ1", f"{res.outlier:.4f}", f"{th_out:.4f}")
    table.add_row("bulk radius R", f"{res.bulk_radius:.4f}", f"{th_bulk:.4f}")
    console = Console()
    console.print(table)
    console.print(f"{seconds:.2f} s" + (f"; plot written to {plot}" if plot else ""),
                  markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``spectrum`` command to ``app``."""
    app.command("spectrum")(spectrum_command)
