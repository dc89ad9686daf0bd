"""``lowrank-rnn reproduce``: the main job — every paper's figures and a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register", "reproduce_command"]


def reproduce_command(
    papers: Annotated[
        list[str] | None,
        typer.Argument(
            help="Papers to reproduce: herbert2022, newlook, beiran2021, valente2022, "
            "linearization, dubreuil2022, arora2025 (default: all)."
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick/--full", help="Small sizes (minutes) or the paper's scale.")
    ] = True,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("results"),
    seed: Annotated[int, typer.Option("--seed", help="Base random seed.")] = 0,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address for --full.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local Dask workers for --full.")
    ] = None,
    procedure: Annotated[
        str, typer.Option("--procedure", help="paper: the papers' text and the library's "
                          "estimators; authors: the authors' public code where it differs "
                          "(both shown where they differ).")
    ] = "paper",
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with code 1 if any check fails.")
    ] = False,
) -> int:
    """Run each paper's figures; write DIR/report.html, DIR/checks.json and the PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lowrank_rnn._validate import check_int
    from lowrank_rnn.reproduce import check_out_dir, reproduce, validate_papers
    from lowrank_rnn.reproduce._core import PROCEDURES, Settings
    from lowrank_rnn.sweep import _check_scheduler, _check_workers, _open_client

    if procedure not in PROCEDURES:
        raise ValueError(f"--procedure {procedure!r}: allowed: {', '.join(PROCEDURES)}")
    keys = validate_papers(papers)
    check_int("seed", seed, minimum=0)
    if workers is not None:
        check_int("workers", workers, minimum=1)
        _check_workers(workers, "--workers")
    check_out_dir(out, "--out")  # before any figure: a bad --out fails now, not after minutes
    if scheduler is not None:
        _check_scheduler(scheduler)
        if not quick:  # the sweeps use it: connect now (with a timeout), not per figure
            client, _ = _open_client(scheduler, None)
            client.close()
    settings = Settings(quick=quick, seed=seed, scheduler=scheduler, workers=workers,
                        procedure=procedure)
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, transient=as_json,
    ) as progress:
        task = progress.add_task("reproduce", total=None)

        def on_figure(paper: str, figure: str, i: int, total: int) -> None:
            progress.update(task, description=f"{paper} {figure}", completed=i, total=total)

        try:
            rep = reproduce(keys, out, settings, on_figure=on_figure)
        except BaseException:  # the error's one line is all that should remain on stderr
            progress.remove_task(task)
            raise
        progress.update(task, completed=len(rep.figures), description="done")
    rows = rep.checks
    if as_json:
        typer.echo(json.dumps(rows))
        for f in rep.skipped:
            typer.echo(f"skipped {f.paper} {f.figure}: {f.skipped}", err=True)
    else:
        con = Console()
        failed = [r for r in rows if not r["passed"]]
        con.print(f"Checks passed: {rep.n_passed} / {len(rows)} in {rep.seconds:.1f} s")
        for r in failed:  # escape: messages may hold brackets, e.g. "lowrank-rnn[torch]"
            con.print("  [red]FAILED[/red] " + escape(
                f"{r['paper']} {r['figure']}: {r['check']} (measured {r['measured']}, "
                f"expected {r['expected']})"))
        for f in rep.skipped:
            con.print("  [yellow]SKIPPED[/yellow] " + escape(f"{f.paper} {f.figure}: {f.skipped}"))
        con.print("Report: " + escape(str(Path(out) / "report.html")))
    return 1 if strict and rep.n_passed < len(rows) else 0


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` command to ``app``."""
    app.command("reproduce")(reproduce_command)
