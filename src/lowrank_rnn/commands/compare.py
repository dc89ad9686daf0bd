"""``lowrank-rnn compare``: closed-form solution vs BPTT (low rank, full rank) on a task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["compare_command", "register"]


def compare_command(
    task: Annotated[str, typer.Option("--task", help="Task: flipflop or decision.")],
    seeds: Annotated[int, typer.Option("--seeds", help="Number of seeds K.")] = 5,
    sizes: Annotated[
        list[int] | None,
        typer.Option("--size", help="BPTT network size (repeat for several; default: the "
                     "closed form's size: 3 for flipflop, 10 for decision)."),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="BPTT epochs.")] = 200,
    lr: Annotated[
        list[float] | None,
        typer.Option("--lr", help="Learning rate; repeat to tune on validation trials "
                     "(default 3e-3, 1e-2, 3e-2, 1e-1)."),
    ] = None,
    n_train: Annotated[int, typer.Option("--n-train", help="Training trials.")] = 512,
    n_test: Annotated[int, typer.Option("--n-test", help="Test trials.")] = 512,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Trials per step.")] = 64,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or auto.")] = "cpu",
    seed: Annotated[int, typer.Option("--seed", help="Base random seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write every run (curves too) to this JSON.")
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Write every trained model to this folder (one file per "
                     "method, size and seed, read back by lowrank_rnn.load) and summary.json."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train the closed form and BPTT networks over K seeds; report test MSE, time, parameters.

    With --save DIR the closed-form solutions are stored as ClosedFormSolution objects
    (network, x0, info) and the BPTT runs as their trainer when the trainer is storable, else
    as a dict with the trained ``network`` (LowRankRNN), ``x0``, ``dt`` and the run's numbers.
    """
    from rich.console import Console

    from lowrank_rnn._io import check_output_file, write_json_atomic
    from lowrank_rnn._validate import check_choice, check_int, check_memory
    from lowrank_rnn.fit.compare import TASKS, compare, summarize

    check_choice("task", task, TASKS)
    check_int("--seed", seed, minimum=0)
    check_int("seeds", seeds, minimum=1)
    check_int("--n-train", n_train, minimum=1)
    check_int("--n-test", n_test, minimum=1)
    check_int("--batch-size", batch_size, minimum=1)
    # trials of about 200 steps x ~16 float64 channels (inputs, targets, states, gradients)
    trial_bytes = 200 * 16 * 8.0
    check_memory("--n-train", n_train, (n_train + n_test) * 2 * trial_bytes,
                 f"{n_train} training and {n_test} test trials")
    if out is not None:
        check_output_file("--out", out)
    check_int("epochs", epochs, minimum=1)
    check_choice("device", device, ("cpu", "cuda", "auto"))
    lrs = tuple(lr) if lr else (3e-3, 1e-2, 3e-2, 1e-1)
    for value in lrs:
        if not value > 0:
            raise ValueError(f"lr={value}: must be > 0")
    if sizes:
        for n in sizes:
            check_int("--size", n, minimum=1)
        # a full-rank BPTT network: weights, gradients and two Adam moments (float32)
        big = max(sizes)
        check_memory("--size", big, 4 * 4.0 * big * big, f"a full-rank {big}-neuron BPTT network")
    if save is not None and save.exists() and not save.is_dir():
        raise ValueError(f"--save {save}: exists and is not a folder")
    if save is not None:
        from lowrank_rnn._io import check_output_dir

        check_output_dir("--save", save)
    err = Console(stderr=True)
    n_bptt = 2 * len(sizes or [0])
    total = seeds * (1 + n_bptt)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("compare {task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total} networks"), TimeElapsedColumn(),
        console=err, transient=as_json,
    ) as progress:
        bar = progress.add_task(task, total=total)
        runs = compare(
            task, seeds=seeds, sizes=sizes, n_train=n_train, n_test=n_test, n_epochs=epochs,
            lrs=lrs, batch_size=batch_size, device=device, base_seed=seed,
            on_run=lambda run: progress.advance(bar),
        )
    summary = summarize(runs)
    if out is not None:
        write_json_atomic(out, {"task": task, "summary": summary,
                                "runs": [r.as_dict() for r in runs]})
    if save is not None:
        _save_runs(save, task, summary, runs)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from rich.table import Table

    table = Table(title=f"{task}: closed form vs BPTT ({seeds} seeds)")
    for col in ("method", "N", "rank", "test MSE", "sd", "train MSE", "seconds", "params"):
        table.add_column(col, justify="right" if col != "method" else "left")
    for method, row in summary.items():
        for n, r in row["by_size"].items():
            table.add_row(
                method, n, str(r["rank"]), f"{r['test_mse_mean']:.4g}", f"{r['test_mse_sd']:.2g}",
                f"{r['train_mse_mean']:.4g}", f"{r['seconds']:.3g}", str(r["n_params"]),
            )
    Console().print(table)


def _save_runs(folder: Path, task: str, summary: dict, runs: list) -> None:
    """One file per run (see ``compare_command``) and ``summary.json``, each written atomically."""
    from lowrank_rnn._io import write_json_atomic
    from lowrank_rnn.io import _resolve_class, save

    files = []
    for run in runs:
        name = f"{run.method}-n{run.n_neurons}-seed{run.seed}.npz"
        model = run.model
        if model is not None and _resolve_class(type(model)) is None and \
                hasattr(model, "to_network"):
            model = {"network": model.to_network(), "x0": model.initial_state(),
                     "dt": float(model.dt_), "run": run.as_dict()}
        if model is not None:
            save(model, folder / name)
            files.append(name)
    write_json_atomic(folder / "summary.json", {
        "task": task, "summary": summary, "files": files,
        "runs": [r.as_dict() for r in runs],
    })


def register(app: typer.Typer) -> None:
    """Add the ``compare`` command to ``app``."""
    app.command("compare")(compare_command)
