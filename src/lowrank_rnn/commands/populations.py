"""``lowrank-rnn populations FILE``: Gaussian populations of a saved network's loadings, and
networks resampled from them (Beiran et al. 2021; Dubreuil et al. 2022)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

__all__ = ["register", "populations_command", "parse_populations", "field_grid",
           "compare_resampled"]


def parse_populations(text: str) -> int | str:
    """``--n`` as typed: a positive integer, ``bic`` or ``dirichlet``."""
    t = str(text).strip().lower()
    if t in ("bic", "dirichlet"):
        return t
    try:
        p = int(t)
    except ValueError:
        p = 0
    if p < 1 or str(p) != t:
        raise ValueError(f"--n={text!r}: expected a number of populations >= 1, 'bic' or "
                         "'dirichlet'")
    return p


def field_grid(rank: int, half_width: float) -> np.ndarray:
    """Grid of latent points in ``[-h, h]^R`` where fields are compared, shape (G, R).

    41 points (R = 1), 21 x 21 (R = 2), 9^3 (R = 3); above, 512 quasi-random points (a fixed
    Halton sequence).
    """
    if rank <= 3:
        n = {1: 41, 2: 21, 3: 9}[rank]
        ax = np.linspace(-half_width, half_width, n)
        return np.stack(np.meshgrid(*([ax] * rank), indexing="ij"), -1).reshape(-1, rank)
    from scipy.stats import qmc

    pts = qmc.Halton(d=rank, scramble=False).random(513)[1:]
    return (2 * pts - 1) * half_width


def compare_resampled(net: Any, mixture: Any, n_neurons: int, draws: int, half_width: float,
                      rng: np.random.Generator) -> dict[str, Any]:
    """Latent fields of resampled networks against the original network's and the mean field.

    For each of ``draws`` networks of ``n_neurons`` drawn from ``mixture``, the relative RMS
    difference of its latent field (:func:`lowrank_rnn.theory.fixedpoints.network_latent_field`,
    inputs at 0) from the original network's on :func:`field_grid`, and (rank <= 3) its number of
    stable latent fixed points in the box.
    """
    from lowrank_rnn.theory.fixedpoints import find_latent_fixed_points, network_latent_field
    from lowrank_rnn.theory.meanfield import latent_vector_field

    grid = field_grid(net.rank, half_width)
    F0 = network_latent_field(net, grid)
    norm = float(np.sqrt(np.mean(np.sum(F0**2, axis=1)))) or 1.0
    F_mf = latent_vector_field(mixture, grid)
    box = (-half_width, half_width)

    def n_stable(system: Any) -> int | None:
        if net.rank > 3:
            return None
        fps = find_latent_fixed_points(system, box, n_starts=40, rng=0)
        return int(sum(f.stable for f in fps))

    errors, stable = [], []
    for g in rng.spawn(draws):
        new = mixture.sample_network(n_neurons, rng=g)
        F = network_latent_field(new, grid)
        errors.append(float(np.sqrt(np.mean(np.sum((F - F0) ** 2, axis=1)))) / norm)
        stable.append(n_stable(new))
    return {
        "n_neurons": n_neurons, "draws": draws, "box_half_width": half_width,
        "relative_field_error": errors,
        "relative_field_error_mean": float(np.mean(errors)),
        "relative_field_error_sd": float(np.std(errors, ddof=1)) if draws > 1 else 0.0,
        "mean_field_relative_error":
            float(np.sqrt(np.mean(np.sum((F_mf - F0) ** 2, axis=1)))) / norm,
        "stable_fixed_points_original": n_stable(net),
        "stable_fixed_points_mean_field": n_stable(mixture),
        "stable_fixed_points_resampled": stable,
    }


def _plots(out_dir: Path, net: Any, fit: Any, half_width: float) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lowrank_rnn._io import save_figure_atomic
    from lowrank_rnn.fit.populations import network_loadings
    from lowrank_rnn.plotting.flow import plot_latent_field_1d, plot_speed
    from lowrank_rnn.plotting.populations import plot_loadings
    from lowrank_rnn.theory.fixedpoints import network_flow_field, network_latent_field
    from lowrank_rnn.theory.meanfield import flow_field, latent_vector_field

    written = []
    X, dims = network_loadings(net)
    R = dims["rank"]
    fig, ax = plt.subplots(1, R, figsize=(4 * R, 3.6), squeeze=False)
    for r in range(R):
        plot_loadings(ax[0, r], X[:, r], X[:, R + r], fit.labels_, xlabel=f"m_{r + 1}",
                      ylabel=f"n_{r + 1}")
    ax[0, 0].legend(fontsize=7)
    fig.tight_layout()
    save_figure_atomic(fig, out_dir / "loadings.png", dpi=110)
    plt.close(fig)
    written.append("loadings.png")
    if len(fit.bic_) > 1:
        fig, ax = plt.subplots(figsize=(4, 3))
        ps = sorted(fit.bic_)
        ax.plot(ps, [fit.bic_[p] for p in ps], "o-")
        ax.axvline(fit.n_populations_, color="k", ls="--")
        ax.set_xlabel("populations P")
        ax.set_ylabel("BIC")
        fig.tight_layout()
        save_figure_atomic(fig, out_dir / "bic.png", dpi=110)
        plt.close(fig)
        written.append("bic.png")
    if R in (1, 2):
        box = (-half_width, half_width)
        if R == 1:
            k = np.linspace(*box, 201)
            fig, ax = plt.subplots(figsize=(5, 3.5))
            plot_latent_field_1d(ax, k, network_latent_field(net, k[:, None])[:, 0],
                                 label="network")
            ax.plot(k, latent_vector_field(fit.mixture_, k[:, None])[:, 0], "k--",
                    label=f"mean field, P = {fit.n_populations_}")
            ax.legend(fontsize=7)
        else:
            fig, ax = plt.subplots(1, 2, figsize=(9, 4))
            plot_speed(ax[0], *network_flow_field(net, box, box, n=40), "network")
            plot_speed(ax[1], *flow_field(fit.mixture_, box, box, n=40, fast=True),
                       f"mean field, P = {fit.n_populations_}")
        fig.tight_layout()
        save_figure_atomic(fig, out_dir / "flow.png", dpi=110)
        plt.close(fig)
        written.append("flow.png")
    return written


def populations_command(
    file: Annotated[Path, typer.Argument(help="A saved network (lowrank_rnn.save) or trainer.")],
    n: Annotated[str, typer.Option("--n", help="Populations: a number P, 'bic' or 'dirichlet'.")
                 ] = "bic",
    max_populations: Annotated[
        int, typer.Option("--max-populations", help="Largest P for bic / dirichlet.")] = 6,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap refits for cluster stability (ARI).")
    ] = 0,
    resample: Annotated[
        int | None, typer.Option("--resample", help="Resample networks of this many neurons.")
    ] = None,
    draws: Annotated[int, typer.Option("--draws", help="Resampled networks.")] = 10,
    box: Annotated[
        float, typer.Option("--box", help="Half-width of the latent box where fields are compared.")
    ] = 2.0,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write loadings/BIC/flow plots to this folder.")
    ] = None,
    save: Annotated[
        Path | None, typer.Option("--save", help="Save the fitted mixture to this file.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fit Gaussian populations to a network's loadings (m, n, I, w) with scikit-learn, and
    compare networks resampled from the fit with the original."""
    from lowrank_rnn.fit.populations import PopulationMixture
    from lowrank_rnn.io import load
    from lowrank_rnn.network import LowRankRNN

    t0 = time.perf_counter()
    selection = parse_populations(n)
    if max_populations < 1:
        raise ValueError(f"--max-populations={max_populations}: must be >= 1")
    if bootstrap < 0:
        raise ValueError(f"--bootstrap={bootstrap}: must be >= 0")
    if resample is not None and resample < 1:
        raise ValueError(f"--resample={resample}: must be >= 1 neurons")
    if draws < 1:
        raise ValueError(f"--draws={draws}: must be >= 1")
    if not box > 0:
        raise ValueError(f"--box={box}: must be > 0")
    if seed < 0:
        raise ValueError(f"--seed={seed}: must be >= 0")
    from lowrank_rnn._io import check_output_dir, check_output_file

    if plot is not None:
        check_output_dir("--plot", plot)
    if save is not None:
        check_output_file("--save", save)
    obj = load(file)
    net = obj.to_network() if hasattr(obj, "to_network") and not isinstance(obj, LowRankRNN) \
        else obj
    if not isinstance(net, LowRankRNN):
        raise ValueError(f"FILE={str(file)!r}: holds a {type(obj).__name__}, not a network")
    if net.structure != "lowrank":
        raise ValueError(f"FILE={str(file)!r}: a {net.structure} network; population fits need "
                         "a pure low-rank one (loadings only)")
    if isinstance(selection, int) and selection > net.n_neurons:
        raise ValueError(f"--n={selection}: more populations than neurons ({net.n_neurons})")
    rng = np.random.default_rng(seed)
    fit = PopulationMixture(selection, max_populations=max_populations, n_bootstrap=bootstrap,
                            random_state=rng).fit(net)
    mix = fit.mixture_
    out: dict[str, Any] = {
        "file": str(file), "n_neurons": net.n_neurons, "rank": net.rank, "d_in": net.d_in,
        "d_out": net.d_out, "selection": selection, "n_populations": fit.n_populations_,
        "bic": {str(k): v for k, v in fit.bic_.items()},
        "fractions": mix.fractions.tolist(),
        "sizes": np.bincount(fit.labels_, minlength=fit.n_populations_).tolist(),
        "means": mix.means.tolist(),
        "log_likelihood_per_neuron": fit.info_["log_likelihood"],
        "converged": fit.info_["converged"],
    }
    if bootstrap:
        out["stability_ari"] = fit.stability_.tolist()
        out["stability_ari_mean"] = float(fit.stability_.mean())
    if resample is not None:
        out["resampled"] = compare_resampled(net, mix, resample, draws, box, rng)
    if save is not None:
        from lowrank_rnn.io import save as save_obj

        save_obj(mix, save)
        out["saved"] = str(save)
    if plot is not None:
        plot.mkdir(parents=True, exist_ok=True)
        out["plots"] = [str(plot / f) for f in _plots(plot, net, fit, box)]
    out["seconds"] = time.perf_counter() - t0
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{file.name}: N = {net.n_neurons}, rank {net.rank}, "
                        f"P = {fit.n_populations_} ({selection})")
    table.add_column("population")
    table.add_column("fraction", justify="right")
    table.add_column("neurons", justify="right")
    for p in range(fit.n_populations_):
        table.add_row(str(p + 1), f"{mix.fractions[p]:.3f}", str(out["sizes"][p]))
    console = Console()
    console.print(table)
    if bootstrap:
        console.print(f"bootstrap ARI {out['stability_ari_mean']:.3f} over {bootstrap} refits",
                      markup=False)
    if resample is not None:
        r = out["resampled"]
        console.print(
            f"resampled N = {resample}, {draws} draws: latent field error "
            f"{r['relative_field_error_mean']:.3g} ± {r['relative_field_error_sd']:.2g} "
            f"(mean field {r['mean_field_relative_error']:.3g}); stable fixed points original "
            f"{r['stable_fixed_points_original']}, resampled {r['stable_fixed_points_resampled']}",
            markup=False)
    console.print(f"{out['seconds']:.2f} s", markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``populations`` command to ``app``."""
    app.command("populations")(populations_command)
