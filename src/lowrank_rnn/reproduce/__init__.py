"""``lowrank-rnn reproduce``: each paper's figures with measured-versus-predicted check tables.

Papers (one module each; each carries its citation):

- ``herbert2022``  — Herbert & Ostojic 2022, sparse low-rank networks (Figs 1–6)
- ``newlook``      — "A new look at low-rank RNNs" (closed-form training, OMP, BPTT comparison)
- ``beiran2021``   — Beiran et al. 2021, Gaussian-mixture low-rank networks (mean field)
- ``valente2022``  — Valente et al. 2022, latent LDS vs linear low-rank RNNs
- ``linearization``— linearisation in activations vs activities (arXiv 2309.04030)
- ``dubreuil2022`` — Dubreuil et al. 2022, population structure across trained tasks
- ``arora2025``    — Arora & Pillow 2025 (NeurIPS): online training vs FORCE, the GP limit,
  ML-II tuning, active learning
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lowrank_rnn.reproduce._core import FigureResult, Paper, Settings, run_figure
from lowrank_rnn.sweep import shared_local_cluster

__all__ = [
    "PAPERS",
    "MANIFEST",
    "SWEEPS_DIR",
    "check_out_dir",
    "load_paper",
    "validate_papers",
    "reproduce",
    "sweep_store_dir",
    "Reproduction",
]

#: File in a reproduce output directory that lists the run's outputs (it marks the directory
#: as a reproduce run's, which a later run may replace whole).
MANIFEST = ".reproduce.json"

#: Directory in a reproduce output directory where ``--full`` keeps its sweep stores (one per
#: sweep); it outlives the run's other outputs, so that a rerun reuses the finished points.
SWEEPS_DIR = ".sweeps"


def _is_run_output(entry: Path) -> bool:
    if entry.name == SWEEPS_DIR:
        return entry.is_dir() and not entry.is_symlink()
    return entry.is_file() and (
        entry.name in ("report.html", "checks.json", MANIFEST) or entry.suffix == ".png"
    )


def sweep_store_dir(out_dir: str | Path) -> Path:
    """Where ``reproduce --full`` into ``out_dir`` keeps its sweep stores.

    The directory the environment variable :data:`lowrank_rnn.sweep.SWEEP_DIR_ENV` names, if
    set; otherwise ``<out_dir>/.sweeps`` (:data:`SWEEPS_DIR`), absolute.
    """
    from lowrank_rnn.sweep import SWEEP_DIR_ENV

    env = os.environ.get(SWEEP_DIR_ENV)
    return Path(env).absolute() if env else Path(out_dir).absolute() / SWEEPS_DIR


def check_out_dir(out_dir: str | Path, name: str = "out_dir") -> Path:
    """Check, before any figure runs, that ``out_dir`` can receive a reproduction.

    It must be new, empty, or hold only a previous run's outputs (``report.html``,
    ``checks.json``, PNGs, the sweep stores in ``.sweeps``): the run is staged beside it and
    swapped in whole, so the old directory is replaced (its ``.sweeps`` is kept). Its parent
    must be writable (the staging directory lives there).

    Raises
    ------
    ValueError
        Naming ``name`` and the path: an existing file, an unwritable location, or a directory
        holding anything else (which a swap would delete).
    """
    from lowrank_rnn._io import check_output_dir

    out = Path(out_dir)
    check_output_dir(name, out)
    parent = out.absolute().parent
    if parent.exists():  # the staging directory and the swap need the parent writable
        check_output_dir(name, parent)
    if out.is_dir():
        foreign = sorted(e.name for e in out.iterdir() if not _is_run_output(e))
        if foreign:
            raise ValueError(
                f"{name}={str(out_dir)!r}: holds {foreign[0]!r}, which is not an output of "
                "reproduce; a run replaces its directory whole, so give a new or empty "
                "directory or a previous run's"
            )
    return out

#: Paper key -> module that defines ``PAPER``.
PAPERS: dict[str, str] = {
    "herbert2022": "lowrank_rnn.reproduce.herbert2022",
    "newlook": "lowrank_rnn.reproduce.newlook",
    "beiran2021": "lowrank_rnn.reproduce.beiran2021",
    "valente2022": "lowrank_rnn.reproduce.valente2022",
    "linearization": "lowrank_rnn.reproduce.linearization",
    "dubreuil2022": "lowrank_rnn.reproduce.dubreuil2022",
    "arora2025": "lowrank_rnn.reproduce.arora2025",
}


def validate_papers(papers: Sequence[str] | None) -> list[str]:
    """Check paper names (all papers when empty) and return them in a stable order."""
    if not papers:
        return list(PAPERS)
    unknown = [p for p in papers if p not in PAPERS]
    if unknown:
        raise ValueError(
            f"paper={unknown[0]!r}: unknown paper; allowed: {', '.join(PAPERS)}"
        )
    return list(dict.fromkeys(papers))


def load_paper(key: str) -> Paper:
    """Import the module of paper ``key`` and return its ``PAPER``."""
    validate_papers([key])
    return importlib.import_module(PAPERS[key]).PAPER


@dataclass
class Reproduction:
    """The outcome of :func:`reproduce`."""

    figures: list[FigureResult]
    settings: Settings
    seconds: float
    versions: dict[str, str]
    citations: dict[str, str]

    @property
    def checks(self) -> list[dict]:
        """All check rows as JSON-ready dicts."""
        return [c.as_dict() for f in self.figures for c in f.checks]

    @property
    def n_passed(self) -> int:
        """Number of passed checks."""
        return sum(c["passed"] for c in self.checks)

    @property
    def skipped(self) -> list[FigureResult]:
        """Figures not computed because an optional package is missing."""
        return [f for f in self.figures if f.skipped]


def _versions() -> dict[str, str]:
    import matplotlib
    import numpy
    import scipy

    import lowrank_rnn

    out = {
        "lowrank-rnn": lowrank_rnn.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }
    for dist in ("torch", "xarray", "dask", "zarr"):
        try:  # read the installed version without importing the package (torch is slow)
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def reproduce(
    papers: Sequence[str] | None,
    out_dir: str | Path,
    settings: Settings | None = None,
    *,
    on_figure: Callable[[str, str, int, int], None] | None = None,
    on_result: Callable[[FigureResult, int, int], None] | None = None,
) -> Reproduction:
    """Run every figure of the given papers, draw them into ``out_dir`` and write the report.

    Writes ``out_dir/report.html``, ``out_dir/checks.json`` and one PNG per figure.
    ``on_figure(paper, figure, index, total)`` is called before each figure and
    ``on_result(result, index, total)`` after it (for progress display).

    In full mode the sweeps keep their points in :func:`sweep_store_dir` (``out_dir/.sweeps``
    unless ``settings.store_dir`` or the environment variable says otherwise), which survives
    the run whether it finishes or not: a rerun reuses every finished point, and
    ``settings.fresh`` recomputes them. Without ``settings.scheduler`` all sweeps of the run
    share one local Dask cluster (:func:`lowrank_rnn.sweep.shared_local_cluster`).

    The run's outputs appear together or not at all: they are written to a staging directory
    beside ``out_dir``, and only when the report is complete is it swapped in for ``out_dir``
    (a previous run there is replaced whole; see :func:`check_out_dir`). An interrupted run
    leaves ``out_dir`` as it was, and the report embeds only its own run's figures.
    """
    keys = validate_papers(papers)
    settings = settings or Settings()
    final = check_out_dir(out_dir)
    if not settings.quick and settings.store_dir is None:
        settings = replace(settings, store_dir=str(sweep_store_dir(final)))
    final.absolute().parent.mkdir(parents=True, exist_ok=True)
    stage = final.absolute().parent / f".{final.name}.staging-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        # full mode: one local cluster for the whole run (started by the first sweep), not one
        # per sweep whose new workers import everything again
        with shared_local_cluster():
            rep = _reproduce_into(keys, stage, settings, on_figure, on_result)
        _swap_in(stage, final.absolute())
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return rep


def _swap_in(stage: Path, final: Path) -> None:
    """Put the finished run ``stage`` at ``final``, replacing a previous run there.

    Two renames under an exclusive lock on the parent directory (so two runs finishing at
    once do not interleave); the old run is deleted afterwards, except its sweep stores
    (``.sweeps``), which are moved into the new run first.
    """
    from lowrank_rnn._io import fsync_path, write_json_atomic

    names = sorted(p.name for p in stage.iterdir())
    write_json_atomic(stage / MANIFEST, {"files": names})
    parent = final.parent
    old = parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
    fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except (ImportError, OSError):  # pragma: no cover - no POSIX locks: swap unlocked
            pass
        if final.exists():
            check_out_dir(final)  # still only a run's outputs (nothing appeared meanwhile)
            moved = (final / SWEEPS_DIR).is_dir()
            if moved:
                os.rename(final / SWEEPS_DIR, stage / SWEEPS_DIR)
            try:
                os.rename(final, old)
            except OSError:  # keep the stores where they were (the stage is deleted)
                if moved:
                    os.rename(stage / SWEEPS_DIR, final / SWEEPS_DIR)
                raise
        os.rename(stage, final)
        fsync_path(parent)
    finally:
        os.close(fd)
    shutil.rmtree(old, ignore_errors=True)


def _reproduce_into(keys: list[str], out: Path, settings: Settings,
                    on_figure: Callable[[str, str, int, int], None] | None,
                    on_result: Callable[[FigureResult, int, int], None] | None
                    ) -> Reproduction:
    from lowrank_rnn.reproduce.report import write_report

    loaded = [load_paper(k) for k in keys]
    total = sum(len(p.figures) for p in loaded)
    t0 = time.perf_counter()
    results: list[FigureResult] = []
    i = 0
    for paper in loaded:
        for spec in paper.figures:
            if on_figure is not None:
                on_figure(paper.key, spec.name, i, total)
            results.append(run_figure(paper, spec, settings, out))
            if on_result is not None:
                on_result(results[-1], i, total)
            i += 1
    rep = Reproduction(
        figures=results,
        settings=settings,
        seconds=time.perf_counter() - t0,
        versions=_versions(),
        citations={p.key: p.citation for p in loaded},
    )
    write_report(rep, out)
    return rep
