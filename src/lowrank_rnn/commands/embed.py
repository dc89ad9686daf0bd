"""``lowrank-rnn embed``: embed a target ODE in a low-rank RNN and check it.

Methods (``--method``): ``regression`` ("A new look at low-rank RNNs", eqs 9–11, closed form),
``omp`` (Algorithm 1, the smallest network of at most ``--neurons``), ``online`` (recursive
least squares along the target's trajectories, Arora & Pillow 2025) and ``gp`` (the
infinite-unit Gaussian process; a finite network of ``--neurons`` is drawn from its basis
distribution, N by ridge). ``--tune`` maximises the GP marginal likelihood over the basis
distribution first (ML-II) and draws the basis (or OMP's dictionary) from the tuned one. The
network-level check: the full N-neuron network is simulated and its latent compared with the
target integrated by ``solve_ivp``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["METHODS", "register", "embed_command"]

METHODS = ("regression", "omp", "online", "gp")


def _fit(method, tune, target, data, rank, neurons, inputs, ridge, phi, seed, extra):  # noqa: ANN001, ANN202, PLR0913
    """Fit with the chosen method; returns an estimator with simulate_latent and info_."""
    import numpy as np

    from lowrank_rnn.fit.regression import ODEEmbedding

    gp = None
    if tune or method == "gp":
        from lowrank_rnn.fit.gp import GPODE

        pts = data["points"]
        if pts.shape[0] > 2000:  # the GP's Cholesky is O(n^3): a random subset of the grid
            pts = pts[np.random.default_rng(seed).choice(pts.shape[0], 2000, replace=False)]
        gp = GPODE(rank, kernel=phi, tune=tune, random_state=seed).fit(data["g"], pts)
        extra["gp_params"] = gp.params_
        if tune:
            extra["lml_default"] = gp.info_["lml_default"]
            extra["lml_tuned"] = gp.info_["lml_tuned"]
    spread = gp.basis_distribution() if tune else {}
    if method == "regression":
        if tune:
            rng = np.random.default_rng(seed)
            M = rng.standard_normal((neurons, rank)) * spread["m_std"]
            I = rng.standard_normal((neurons, 1)) * spread["i_std"]
            est = ODEEmbedding(rank, neurons, inputs=inputs, ridge=ridge, phi=phi, basis=(M, I))
        else:
            est = ODEEmbedding(rank, neurons, inputs=inputs, ridge=ridge, phi=phi,
                               random_state=seed)
        return est.fit(data["g"], data["points"], v=data["v"])
    if method == "gp":
        return gp.sample_embedding(neurons, rng=seed)
    if method == "omp":
        from lowrank_rnn.fit.omp import SmallestRNN

        kw = {"basis": "gaussian", **spread} if tune else {}
        est = SmallestRNN(rank, n_candidates=max(2000, 4 * neurons), max_neurons=neurons,
                          phi=phi, random_state=seed, **kw).fit(data["g"], data["points"])
        if est.network_ is None:
            raise ValueError("--method omp: the fitted decay n0 <= 0 is no time constant; try "
                             "more --neurons")
        extra["neurons"] = est.info_["n_neurons"]
        return est
    from lowrank_rnn.fit.online import OnlineEmbedding

    # the stream: states along the target's solutions from its starts (0.01 apart in time)
    t_eval = np.arange(0.0, target.t_end + 1e-9, 0.01)
    states = target.solve(target.starts, t_eval)
    kw = {"m_std": spread["m_std"], "i_std": spread["i_std"]} if tune else {}
    return OnlineEmbedding(rank, neurons, phi=phi, alpha=max(ridge, 1e-6), random_state=seed,
                           **kw).fit(data["g"], states)


def embed_command(
    ode: Annotated[str, typer.Option("--ode", help="Target ODE (see the list in --help).")],
    neurons: Annotated[int, typer.Option("--neurons", help="Number of neurons K.")],
    rank: Annotated[
        int | None, typer.Option("--rank", help="Rank r (default: the target's dimension).")
    ] = None,
    inputs: Annotated[
        str | None,
        typer.Option(
            "--inputs",
            help="none (v = 0), bias (v = 1) or decaying (dv/dt = -v); default: bias, or "
            "decaying for time-varying targets.",
        ),
    ] = None,
    ridge: Annotated[float, typer.Option("--ridge", help="Ridge penalty on N (>= 0).")] = 0.0,
    points: Annotated[
        int, typer.Option("--points", help="Number of fitting points (about).")
    ] = 2500,
    phi: Annotated[str, typer.Option("--phi", help="Transfer function: tanh or relu.")] = "tanh",
    dt: Annotated[
        float, typer.Option("--dt", help="Euler step of the network simulation.")
    ] = 0.002,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the basis.")] = 0,
    method: Annotated[
        str,
        typer.Option("--method", help="regression (closed form), omp (smallest network), "
                     "online (RLS along trajectories) or gp (Gaussian-process limit)."),
    ] = "regression",
    tune: Annotated[
        bool,
        typer.Option("--tune", help="Tune the basis distribution by the GP marginal "
                     "likelihood (ML-II) and draw the basis from it (all methods)."),
    ] = False,
    save: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional
        typer.Option("--save", help="Write the fitted estimator here (lowrank_rnn.load reads "
                     "it back; its network_ is the embedding network)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fit N in closed form, simulate the network and report the trajectory error.

    Targets: bistable, asymmetric-bistable, limit-cycle, inverted-quadratic, moving-stable,
    moving-unstable, no-fixed-point. trajectory_error is the largest |z_network - z_target| over
    the target's starts and t in [0, two periods] (or [0, 10]).
    """
    from lowrank_rnn._validate import check_choice, check_int, check_memory, check_real
    from lowrank_rnn.fit.targets import fitting_set, get_ode, network_trajectory_error

    t0 = time.perf_counter()
    check_choice("--method", method, METHODS)
    check_int("--seed", seed, minimum=0)
    target = get_ode(ode)
    neurons = check_int("neurons", neurons, minimum=1)
    if rank is None:
        rank = target.rank
    rank = check_int("rank", rank, minimum=1)
    if rank != target.rank:
        raise ValueError(f"rank={rank}: target {ode!r} has dimension {target.rank}")
    if inputs is None:
        inputs = "bias" if target.autonomous else "decaying"
    check_choice("inputs", inputs, ("none", "bias", "decaying"))
    if method != "regression" or tune:
        if not target.autonomous:
            raise ValueError(f"--method={method}{' --tune' if tune else ''}: target {ode!r} is "
                             "time-varying; only --method regression (without --tune) "
                             "embeds it")
        if inputs != "bias":
            raise ValueError(f"--inputs={inputs}: --method {method}{' --tune' if tune else ''} "
                             "uses a bias input; give --inputs bias")
    check_real("ridge", ridge, minimum=0.0)
    check_int("points", points, minimum=2)
    check_choice("phi", phi, ("tanh", "relu"))
    check_real("dt", dt, minimum=0.0, min_inclusive=False)
    if save is not None:
        from lowrank_rnn._io import check_output_file

        check_output_file("--save", save)
    n_steps = target.t_end / dt
    if n_steps < 10:
        raise ValueError(
            f"--dt={dt}: the network check integrates t in [0, {target.t_end:g}] and needs at "
            f"least 10 Euler steps; use --dt <= {target.t_end / 10:g}"
        )
    if n_steps * neurons * len(target.starts) > 5e11:
        raise ValueError(
            f"--dt={dt}: {n_steps:.3g} Euler steps of {neurons} neurons x "
            f"{len(target.starts)} starts would take hours; use a larger --dt"
        )
    # the design matrix (points x neurons), LAPACK's copy and work space
    check_memory("--points", points, 3 * 8.0 * points * max(neurons, rank + 1),
                 f"the {points} x {neurons} least-squares design")
    data = fitting_set(target, inputs, n_points=points)
    extra: dict = {}

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        transient=True, disable=as_json,
    ) as progress:
        task = progress.add_task(f"fitting ({method})", total=2)
        est = _fit(method, tune, target, data, rank, neurons, inputs, ridge, phi, seed, extra)
        progress.update(task, advance=1, description="simulating the network")
        check = network_trajectory_error(est, target, dt=dt)
        progress.update(task, advance=1)
    if save is not None:
        from lowrank_rnn.io import save as save_file

        save_file(est, save)
    cond = float(est.info_.get("condition_number", float("nan")))
    out = {
        "ode": ode,
        "method": method,
        "tune": tune,
        "neurons": int(extra.pop("neurons", neurons)),
        "rank": rank,
        "inputs": inputs,
        "train_mse": est.info_["train_mse"],
        "trajectory_error": check["trajectory_error"],
        # JSON has no infinity: a numerically singular design matrix reports null
        "condition_number": cond if math.isfinite(cond) else None,
        "fit_seconds": est.info_["seconds"],
        "seconds": time.perf_counter() - t0,
        **extra,
    }
    if save is not None:
        out["saved"] = str(save)
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Embedding {ode!r} ({method}{', tuned' if tune else ''}): "
                  f"{out['neurons']} neurons, rank {rank}, inputs {inputs}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("train MSE of the vector field", f"{out['train_mse']:.3e}")
    table.add_row("trajectory error (max |Δz|)", f"{out['trajectory_error']:.3e}")
    table.add_row("condition number", f"{cond:.3e}")
    for key in ("lml_default", "lml_tuned"):
        if key in out:
            table.add_row(f"GP log marginal likelihood ({key[4:]})", f"{out[key]:.6g}")
    table.add_row("fit seconds", f"{out['fit_seconds']:.3f}")
    table.add_row("total seconds", f"{out['seconds']:.2f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``embed`` command to ``app``."""
    app.command("embed")(embed_command)
