"""``lowrank-rnn psychometric``: psychometric curve of the Go/Nogo evidence-accumulation task
(Herbert & Ostojic 2022, Fig 6) for a sparse rank-one network (or its dense + Gaussian twin)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

__all__ = ["register", "psychometric_command"]


def psychometric_command(
    n_neurons: Annotated[int, typer.Option("--n-neurons", help="Number of neurons N.")] = 2000,
    c: Annotated[int, typer.Option("--c", help="Non-zeros per column C (eq 12).")] = 100,
    sigma2: Annotated[float, typer.Option("--sigma2", help="Variance of m and n.")] = 0.1,
    sigma_mn: Annotated[float, typer.Option("--sigma-mn", help="Covariance of m and n.")] = 0.06,
    g: Annotated[
        Optional[float],  # noqa: UP045 - typer needs Optional
        typer.Option("--g", help="Use the dense (C/N) m n^T plus a Gaussian part of strength g "
                                 "(Fig 6E/F) instead of the sparse network."),
    ] = None,
    strengths: Annotated[
        int, typer.Option("--strengths", help="Number of stimulus strengths in [0, 1].")
    ] = 12,
    repeats: Annotated[int, typer.Option("--repeats", help="Trials per strength.")] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    backend: Annotated[
        str, typer.Option("--backend", help="Simulation backend: auto (torch on the CPU when "
                                            "PyTorch is installed, else numpy), numpy or torch.")
    ] = "auto",
    network: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional
        typer.Option("--network", help="Run a saved network (lowrank_rnn.save) instead of "
                     "drawing one: inputs I = [stimulus pattern, orthogonal input] (N, 2), a "
                     "readout W (N, 1); trials start at x0 = -m (the first column of M)."),
    ] = None,
    save_network: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--save-network", help="Also save the drawn network here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fraction of positive mean readouts over the final window against stimulus strength.

    With --network the theory values are null (they belong to the drawn network's parameters).
    """
    from rich.progress import Progress

    from lowrank_rnn._validate import check_choice, check_int, check_memory, check_real
    from lowrank_rnn.analysis import psychometric_curve
    from lowrank_rnn.simulate import BACKENDS, simulate
    from lowrank_rnn.tasks.evidence import DEFAULT_DT, DEFAULT_T, evidence_network, evidence_trials
    from lowrank_rnn.theory.spectrum import measure_spectrum, theory_bulk_radius_profile

    t0 = time.perf_counter()
    check_int("--seed", seed, minimum=0)
    if save_network is not None:
        from lowrank_rnn._io import check_output_file

        check_output_file("--save-network", save_network)
    n = check_int("n_neurons", n_neurons, minimum=4)
    c = check_int("c", c, minimum=1, maximum=n)
    k = check_int("strengths", strengths, minimum=2)
    r = check_int("repeats", repeats, minimum=1)
    check_choice("backend", backend, BACKENDS)
    if g is not None:
        g = check_real("g", g, minimum=0.0)
    check_real("sigma2", sigma2, minimum=0.0)
    if not 0 <= sigma_mn <= sigma2:
        raise ValueError(f"sigma_mn={sigma_mn}: must be in [0, sigma2 = {sigma2}]")
    n_trials = k * r
    n_steps = round(DEFAULT_T / DEFAULT_DT) + 1
    # all trials' inputs and readouts (float64), the network (CSR, or dense with --g)
    need = 8.0 * n_trials * n_steps * 3 + 12.0 * n * (n if g is not None else c)
    check_memory("--repeats", repeats, need,
                 f"{n_trials} trials x {n_steps} steps and a {n}-neuron network")
    dense = g is not None
    if network is not None:
        if save_network is not None:
            raise ValueError("--save-network: not with --network (the network is already saved)")
        from lowrank_rnn.commands.spectrum import _load_network

        net = _load_network(network)
        if net.d_in != 2 or net.d_out != 1:
            raise ValueError(f"--network {network}: the task needs d_in = 2 inputs (stimulus, "
                             f"orthogonal) and d_out = 1 readout, the network has d_in = "
                             f"{net.d_in}, d_out = {net.d_out}")
        x0 = -net.M[:, 0]
    else:
        en = evidence_network(n, sigma2, sigma_mn, c=c, dense=dense, g=g or 0.0, rng=seed)
        net, x0 = en.net, en.x0
        if save_network is not None:
            from lowrank_rnn.io import save

            save(net, save_network)
    levels = np.linspace(0.0, 1.0, k)
    tb = evidence_trials(levels, r, rng=seed + 1)
    chunk = 128  # trials per call: progress updates without losing the batched speed
    zs = []
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("simulating trials", total=tb.batch)
        for a in range(0, tb.batch, chunk):
            b = min(tb.batch, a + chunk)
            tr = simulate(net, tb.inputs[a:b], x0, dt=tb.dt, dtype=np.float32,
                          keep_x=False, backend=backend)
            zs.append(tr.z)
            progress.advance(task, b - a)
    z = np.concatenate(zs)
    curve = psychometric_curve(z, tb.info["strength"], window_steps=tb.info["window_steps"])
    # measured spectrum of the network that ran the trials (dense eigvals up to N = 3000,
    # ARPACK above), next to the theory: outlier C sigma_mn (eq 13), bulk eq 14 or g
    spec = measure_spectrum(net, rng=seed)
    th_outlier: float | None = c * sigma_mn
    if network is not None:
        th_outlier = th_radius = None
    elif dense:
        th_radius = float(g)
    else:
        # eq 14 with the variance-profile term (the paper's eq 14 omits 2 sigma_mn^2)
        th_radius = theory_bulk_radius_profile(sigma2, sigma_mn, n_neurons=n, c=c, rescaled=True)
    out = {
        "strengths": curve["strengths"].tolist(),
        "p_positive": curve["p_positive"].tolist(),
        "outlier": spec.outlier,
        "bulk_radius": spec.bulk_radius,
        "theory_outlier": th_outlier,
        "theory_bulk_radius": th_radius,
        "seconds": time.perf_counter() - t0,
    }
    radius = spec.bulk_radius
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    kind = f"dense + Gaussian g={g}" if dense else f"sparse C={c}"
    if network is not None:
        kind, n = network.name, net.n_neurons
    table = Table(title=f"Psychometric curve ({kind}, N={n}, λ1={spec.outlier:.3g}, "
                        f"R={radius:.3g})")
    table.add_column("strength", justify="right")
    table.add_column("P(readout > 0)", justify="right")
    for s_, p_ in zip(out["strengths"], out["p_positive"], strict=True):
        table.add_row(f"{s_:.3f}", f"{p_:.2f}")
    console = Console()
    console.print(table)
    console.print(f"{out['seconds']:.1f} s")


def register(app: typer.Typer) -> None:
    """Add the ``psychometric`` command to ``app``."""
    app.command("psychometric")(psychometric_command)
