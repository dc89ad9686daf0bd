"""``lowrank-rnn spectrum``: outlier and bulk radius of a rank-one network against theory."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

__all__ = ["register", "spectrum_command"]


def spectrum_command(
    n_neurons: Annotated[
        Optional[int],  # noqa: UP045 - typer needs Optional
        typer.Option("--n-neurons", help="Number of neurons N (not with --network)."),
    ] = None,
    sigma2: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--sigma2", help="Variance of m and n (eq 4)."),
    ] = None,
    sigma_mn: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--sigma-mn", help="Covariance of m and n (eq 4)."),
    ] = None,
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
    network: Annotated[
        Path | None,
        typer.Option("--network", help="Measure a saved network (lowrank_rnn.save) instead of "
                     "drawing one; --sigma2/--sigma-mn (with --sparsity/--c/--rescaled/--g "
                     "describing it) add the theory."),
    ] = None,
    save_network: Annotated[
        Path | None, typer.Option("--save-network", help="Also save the drawn network here.")
    ] = None,
) -> None:
    """Measure outlier and bulk radius of a (sparse) rank-one network against theory."""
    from lowrank_rnn._io import check_output_file
    from lowrank_rnn._validate import check_choice, check_int, check_memory
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
    check_int("--seed", seed, minimum=0)
    check_choice("--method", method, ("auto", "dense", "arpack"))
    if sparsity is not None and c is not None:
        raise ValueError(f"--sparsity={sparsity}, --c={c}: give one of them, not both")
    if plot is not None:
        check_output_file("--plot", plot, suffixes=(".png", ".pdf", ".svg"))
    if save_network is not None and network is None:
        check_output_file("--save-network", save_network)
    net = None
    if network is not None:
        if n_neurons is not None:
            raise ValueError("--n-neurons: not with --network (the file sets N)")
        if save_network is not None:
            raise ValueError("--save-network: not with --network (the network is already saved)")
        net = _load_network(network)
        n_neurons = net.n_neurons
    elif n_neurons is None or sigma2 is None or sigma_mn is None:
        raise ValueError("--n-neurons, --sigma2 and --sigma-mn: all three are needed to draw a "
                         "network (or give --network FILE)")
    n_neurons = check_int("--n-neurons", n_neurons, minimum=2)  # an outlier and a bulk
    th_out = th_bulk = None
    if sigma2 is not None and sigma_mn is not None:
        kw = {"sparsity": sparsity, "c": c, "n_neurons": n_neurons}
        th_out = theory_outlier(sigma_mn, rescaled=rescaled, **kw)
        th_bulk = theory_total_radius(
            theory_bulk_radius(sigma2, rescaled=rescaled, **kw),
            theory_gaussian_radius(g, **kw),
        )
    elif sigma2 is not None or sigma_mn is not None:
        raise ValueError("--sigma2/--sigma-mn: give both for the theory, or neither")
    need, what = _memory_estimate(n_neurons, sparsity, c, g, method)
    check_memory("--n-neurons", n_neurons, need, what)
    if net is None:
        net = rank_one_network(
            n_neurons, sigma2, sigma_mn, sparsity=sparsity, c=c, rescaled=rescaled, g=g,
            rng=seed,
        )
        if save_network is not None:
            from lowrank_rnn.io import save

            save(net, save_network)
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
        ax.set_title(network.name if network is not None else
                     f"N={n_neurons}, σ²={sigma2}, σmn={sigma_mn}" + (f", C={c}" if c else ""))
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
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.4f}"

    table.add_row("outlier λ1", fmt(res.outlier), fmt(th_out))
    table.add_row("bulk radius R", fmt(res.bulk_radius), fmt(th_bulk))
    console = Console()
    console.print(table)
    console.print(f"{seconds:.2f} s" + (f"; plot written to {plot}" if plot else ""),
                  markup=False)


def _load_network(path: Path) -> Any:
    """The LowRankRNN stored in ``path`` (or the network of a stored fitted model)."""
    from lowrank_rnn.io import load
    from lowrank_rnn.network import LowRankRNN

    try:
        obj = load(path)
    except ValueError as err:  # name the option the file came from
        raise ValueError(f"--network={str(path)!r}: {err}") from None
    for candidate in (obj, getattr(obj, "network_", None), getattr(obj, "network", None)):
        if isinstance(candidate, LowRankRNN):
            return candidate
    raise ValueError(f"--network {path}: holds a {type(obj).__name__}, not a LowRankRNN (or a "
                     "fitted model with one)")
def _memory_estimate(n: int, sparsity: float | None, c: int | None, g: float,
                     method: str) -> tuple[float, str]:
    """Bytes the network and its eigenvalue problem need, and what they are for."""
    from lowrank_rnn.theory.spectrum import DENSE_SPECTRUM_LIMIT

    n = float(n)
    dense = method == "dense" or (method == "auto" and n <= DENSE_SPECTRUM_LIMIT)
    if dense:  # the matrix, LAPACK's copy and work space, the complex eigenvalues
        return 3 * 8 * n * n + 16 * n, f"the dense {int(n)} x {int(n)} eigenvalue problem"
    if c is not None:
        nnz = n * c
    elif sparsity is not None:
        nnz = n * n * (1.0 - sparsity)
    else:
        nnz = 0.0
    need = 24 * nnz + 8 * 40 * n  # CSR (values, indices, the low-rank values) + Krylov basis
    if g and sparsity is None and c is None:
        need += 8 * n * n  # a dense Gaussian part
    return need, f"a {int(n)}-neuron network and its ARPACK eigenvalues"


def register(app: typer.Typer) -> None:
    """Add the ``spectrum`` command to ``app``."""
    app.command("spectrum")(spectrum_command)
