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
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lowrank_rnn.reproduce._core import FigureResult, Paper, Settings, run_figure

__all__ = ["PAPERS", "load_paper", "validate_papers", "reproduce", "Reproduction"]

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
) -> Reproduction:
    """Run every figure of the given papers, draw them into ``out_dir`` and write the report.

    Writes ``out_dir/report.html``, ``out_dir/checks.json`` and one PNG per figure, each
    atomically. ``on_figure(paper, figure, index, total)`` is called before each figure
    (for progress display).
    """
    from lowrank_rnn.reproduce.report import write_report

    keys = validate_papers(papers)
    settings = settings or Settings()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
