"""``lowrank-rnn embed``: embed a target ODE in a low-rank RNN by regression and check it.

"A new look at low-rank RNNs", eqs 9–11 (fit) and the network-level check: the full N-neuron
network is simulated and its latent compared with the target integrated by ``solve_ivp``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["register", "embed_command"]


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
    save: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional
        typer.Option("--save", help="Write the fitted ODEEmbedding here (lowrank_rnn.load reads "
                     "it back; its network_ is the embedding network)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fit N in closed form, simulate the network and report the trajectory error.

    Targets: bistable, asymmetric-bistable, limit-cycle, inverted-quadratic, moving-stable,
    moving-unstable, no-fixed-point. trajectory_error is the largest |z_network - z_target| over
    the target's starts and t in [0, two periods] (or [0, 10]).
    """
    from lowrank_rnn._validate import check_choice, check_int, check_real
    from lowrank_rnn.fit.regression import ODEEmbedding
    from lowrank_rnn.fit.targets import fitting_set, get_ode, network_trajectory_error

    t0 = time.perf_counter()
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
    check_real("ridge", ridge, minimum=0.0)
    check_int("points", points, minimum=2)
    check_choice("phi", phi, ("tanh", "relu"))
    check_real("dt", dt, minimum=0.0, min_inclusive=False)
    if save is not None and save.is_dir():
        raise ValueError(f"--save {save}: is a directory; give a file name")
    data = fitting_set(target, inputs, n_points=points)
    est = ODEEmbedding(rank, neurons, inputs=inputs, ridge=ridge, phi=phi, random_state=seed)

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        transient=True, disable=as_json,
    ) as progress:
        task = progress.add_task("fitting N by least squares", total=2)
        est.fit(data["g"], data["points"], v=data["v"])
        progress.update(task, advance=1, description="simulating the network")
        check = network_trajectory_error(est, target, dt=dt)
        progress.update(task, advance=1)
    if save is not None:
        from lowrank_rnn.io import save as save_file

        save_file(est, save)
    cond = float(est.info_["condition_number"])
    out = {
        "ode": ode,
        "neurons": neurons,
        "rank": rank,
        "inputs": inputs,
        "train_mse": est.info_["train_mse"],
        "trajectory_error": check["trajectory_error"],
        # JSON has no infinity: a numerically singular design matrix reports null
        "condition_number": cond if math.isfinite(cond) else None,
        "fit_seconds": est.info_["seconds"],
        "seconds": time.perf_counter() - t0,
    }
    if save is not None:
        out["saved"] = str(save)
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Embedding {ode!r}: {neurons} neurons, rank {rank}, inputs {inputs}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("train MSE of the vector field", f"{out['train_mse']:.3e}")
    table.add_row("trajectory error (max |Δz|)", f"{out['trajectory_error']:.3e}")
    table.add_row("condition number", f"{cond:.3e}")
    table.add_row("fit seconds", f"{out['fit_seconds']:.3f}")
    table.add_row("total seconds", f"{out['seconds']:.2f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``embed`` command to ``app``."""
    app.command("embed")(embed_command)
