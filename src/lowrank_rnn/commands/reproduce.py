"""``lowrank-rnn reproduce``: the main job — every paper's figures and a report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # pragma: no cover
    from lowrank_rnn.reproduce import Reproduction
    from lowrank_rnn.reproduce._core import Settings

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
    fresh: Annotated[
        bool, typer.Option("--fresh", help="With --full: recompute every sweep point instead of "
                           "reusing those a previous run stored in OUT/.sweeps.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with code 1 if any check fails.")
    ] = False,
) -> int:
    """Run each paper's figures; write DIR/report.html, DIR/checks.json and the PNGs.

    With --full the sweeps keep their finished points in DIR/.sweeps (or in
    $LOWRANK_RNN_SWEEP_DIR), so an interrupted run resumes when started again; --fresh
    recomputes them. When the output is not a terminal, progress is written as plain lines on
    stderr: each figure's start and finish, and a sweep's progress at most every 30 s.
    """
    import matplotlib

    matplotlib.use("Agg")
    from rich.console import Console
    from rich.markup import escape

    from lowrank_rnn._validate import check_int
    from lowrank_rnn.reproduce import check_out_dir, reproduce, sweep_store_dir, validate_papers
    from lowrank_rnn.reproduce._core import PROCEDURES, FigureResult, Settings, log_line
    from lowrank_rnn.sweep import _check_scheduler, _check_workers, _open_client

    if procedure not in PROCEDURES:
        raise ValueError(f"--procedure {procedure!r}: allowed: {', '.join(PROCEDURES)}")
    keys = validate_papers(papers)
    check_int("seed", seed, minimum=0)
    if workers is not None:
        check_int("workers", workers, minimum=1)
        _check_workers(workers, "--workers")
    if fresh and quick:
        raise ValueError("--fresh: only with --full (quick mode stores no sweep points)")
    check_out_dir(out, "--out")  # before any figure: a bad --out fails now, not after minutes
    if scheduler is not None:
        _check_scheduler(scheduler)
        if not quick:  # the sweeps use it: connect now (with a timeout), not per figure
            client, _ = _open_client(scheduler, None)
            client.close()
    # a live bar only on a terminal; a log (a file, a pipe) gets plain lines instead
    lines = not (sys.stdout.isatty() and sys.stderr.isatty())
    settings = Settings(quick=quick, seed=seed, scheduler=scheduler, workers=workers,
                        procedure=procedure, fresh=fresh, progress="lines" if lines else "bar")
    if not quick:
        store = sweep_store_dir(out)
        typer.echo(f"Sweep points stored in {store} ("
                   + ("recomputed: --fresh" if fresh else "a rerun reuses them; --fresh "
                      "recomputes") + ")", err=True)
    if lines:
        def on_start(paper: str, figure: str, i: int, total: int) -> None:
            log_line(f"{paper} {figure} ({i + 1}/{total}): started")

        def on_done(res: FigureResult, i: int, total: int) -> None:
            n_ok = sum(c.passed for c in res.checks)
            what = (f"skipped ({res.skipped})" if res.skipped else
                    f"finished in {res.seconds:.1f} s, {n_ok}/{len(res.checks)} checks passed"
                    + (" (error)" if res.error else ""))
            log_line(f"{res.paper} {res.figure} ({i + 1}/{total}): {what}")

        rep = reproduce(keys, out, settings, on_figure=on_start, on_result=on_done)
        log_line(f"done: {len(rep.figures)} figures in {rep.seconds:.1f} s")
    else:
        rep = _with_bar(keys, out, settings, as_json)
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


def _with_bar(keys: list[str], out: Path, settings: Settings, as_json: bool) -> Reproduction:
    """Run the reproduction with a live progress bar of its figures on stderr (a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lowrank_rnn.reproduce import reproduce

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
    return rep


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` command to ``app``."""
    app.command("reproduce")(reproduce_command)
