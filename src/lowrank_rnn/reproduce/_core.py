"""The reproduction framework: figures that return data plus a table of checks.

A paper module (``lowrank_rnn.reproduce.<paper>``) defines ``PAPER`` (a :class:`Paper`) listing
its figures. Each :class:`FigureSpec` has a ``compute`` function that returns a
:class:`FigureData` (arrays plus check rows, no drawing) and a ``plot`` function that only draws.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CHECK_KINDS",
    "NUMERIC_KINDS",
    "Check",
    "Checks",
    "FigureData",
    "FigureResult",
    "FigureSpec",
    "PROCEDURES",
    "PROGRESS_MODES",
    "Paper",
    "Settings",
    "log_line",
    "run_figure",
    "sweep_arrays",
    "sweep_options",
]


#: The kinds of check row; the first four are numeric (``measured`` and ``expected`` are numbers
#: in ``checks.json``, ``tolerance`` too for ``close`` and ``rel_close``).
CHECK_KINDS: tuple[str, ...] = ("close", "rel_close", "less", "greater", "holds", "error")
NUMERIC_KINDS: tuple[str, ...] = ("close", "rel_close", "less", "greater")


def _json_value(v: Any) -> Any:
    """A JSON-ready value: NumPy scalars and arrays become Python ones, non-finite floats None."""
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, np.ndarray):
        return [_json_value(x) for x in v.tolist()]
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    return v


@dataclass(frozen=True)
class Check:
    """One row of a check table: a measured value against a prediction.

    Attributes
    ----------
    paper, figure, check : str
        Where the row belongs and what it checks.
    measured, expected : float, bool, str, list or None
        Numbers for the numeric kinds (``expected`` is the bound of ``less``/``greater``).
    tolerance : float or None
        The absolute tolerance of ``close`` and ``rel_close`` (``rtol * |expected|``), or a
        number the caller's rule names; None for bounds and qualitative rows.
    passed : bool
        Whether the row holds.
    kind : str
        One of :data:`CHECK_KINDS`.
    rule : str
        The pass rule in words (e.g. ``"|measured - expected| <= tolerance"``).
    note : str or None
        What a reader should know about the row (e.g. a value capped for display).
    """

    paper: str
    figure: str
    check: str
    measured: float | str | bool | list | None
    expected: float | str | bool | list | None
    tolerance: float | str | None
    passed: bool
    kind: str = "holds"
    rule: str = ""
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON row.

        Keys ``paper, figure, check, kind, measured, expected, tolerance, rule, note,
        passed``; non-finite numbers are written as null with the value in ``note``.
        """
        note = self.note
        bad = [f"{k} = {v}" for k, v in (("measured", self.measured),
                                         ("expected", self.expected))
               if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            note = "; ".join(([note] if note else []) + [f"{b} (not finite)" for b in bad])
        return {
            "paper": self.paper,
            "figure": self.figure,
            "check": self.check,
            "kind": self.kind,
            "measured": _json_value(self.measured),
            "expected": _json_value(self.expected),
            "tolerance": _json_value(self.tolerance),
            "rule": self.rule,
            "note": note,
            "passed": bool(self.passed),
        }


class Checks:
    """Collects the check rows of one figure.

    Examples
    --------
    >>> c = Checks("herbert2022", "Fig 2")
    >>> c.close("outlier vs eq 7", 0.98, 1.0, 0.05)
    True
    """

    def __init__(self, paper: str, figure: str) -> None:
        self.paper, self.figure = paper, figure
        self.rows: list[Check] = []

    def _add(self, name: str, measured: Any, expected: Any, tol: Any, passed: bool, *,
             kind: str, rule: str, note: str | None = None) -> bool:
        row = Check(self.paper, self.figure, name, measured, expected, tol, bool(passed),
                    kind=kind, rule=rule, note=note)
        self.rows.append(row)
        return bool(passed)

    def close(self, name: str, measured: float, expected: float, tol: float, *,
              note: str | None = None) -> bool:
        """Pass if ``|measured - expected| <= tol`` (absolute tolerance)."""
        m, e, t = float(measured), float(expected), float(tol)
        return self._add(name, m, e, t, math.isfinite(m) and abs(m - e) <= t, kind="close",
                         rule="|measured - expected| <= tolerance", note=note)

    def rel_close(self, name: str, measured: float, expected: float, rtol: float, *,
                  note: str | None = None) -> bool:
        """Pass if ``|measured - expected| <= rtol |expected|``.

        The row's ``tolerance`` is the absolute ``rtol |expected|``; its rule names ``rtol``.
        """
        m, e = float(measured), float(expected)
        t = rtol * abs(e)
        return self._add(name, m, e, t, math.isfinite(m) and abs(m - e) <= t,
                         kind="rel_close",
                         rule=f"|measured - expected| <= {100 * rtol:.3g}% of |expected|",
                         note=note)

    def less(self, name: str, measured: float, bound: float, *, note: str | None = None) -> bool:
        """Pass if ``measured < bound`` (the row's ``expected`` is the bound)."""
        m = float(measured)
        return self._add(name, m, float(bound), None, math.isfinite(m) and m < bound,
                         kind="less", rule="measured < expected (upper bound)", note=note)

    def greater(self, name: str, measured: float, bound: float, *,
                note: str | None = None) -> bool:
        """Pass if ``measured > bound`` (the row's ``expected`` is the bound)."""
        m = float(measured)
        return self._add(name, m, float(bound), None, math.isfinite(m) and m > bound,
                         kind="greater", rule="measured > expected (lower bound)", note=note)

    def holds(self, name: str, condition: bool, measured: Any, expected: Any = None, *,
              tolerance: float | None = None, rule: str | None = None,
              note: str | None = None) -> bool:
        """A check whose ``condition`` the caller computed.

        Parameters
        ----------
        name : str
            What is checked.
        condition : bool
            Whether it holds.
        measured : any
            What was measured (a number, list or short text).
        expected : any, optional
            The rule in words when ``rule`` is not given (the historical form), otherwise the
            expected value (a number or list).
        tolerance : float, optional
            A number the rule compares against (e.g. the tolerance at the worst point).
        rule : str, optional
            The pass rule in words.
        note : str, optional
            What a reader should know about the row.
        """
        if rule is None:
            rule, expected = ("" if expected is None else str(expected)), None
        return self._add(name, measured, expected, tolerance, bool(condition), kind="holds",
                         rule=rule, note=note)


#: The values of :attr:`Settings.procedure`.
PROCEDURES: tuple[str, ...] = ("paper", "authors")

#: The values of :attr:`Settings.progress`.
PROGRESS_MODES: tuple[str, ...] = ("bar", "lines", "off")


def log_line(text: str) -> None:
    """Write ``[reproduce HH:MM:SS] text`` as one line on stderr (progress for a log file)."""
    import sys

    print(f"[reproduce {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Settings:
    """How a reproduction runs.

    Attributes
    ----------
    quick : bool
        Small sizes and few instances (the whole report in minutes) instead of the paper's scale.
    seed : int
        Base seed; each figure derives its own streams from it.
    scheduler : str or None
        Dask scheduler address for ``--full`` sweeps (None: a local cluster or serial).
    workers : int or None
        Number of local workers for sweeps.
    procedure : {'paper', 'authors'}
        How figures measure what they check: ``'paper'`` follows the paper's text and captions
        with the library's estimators; ``'authors'`` follows the authors' public code where it
        differs (Herbert & Ostojic 2022: bulk radius by the real-part rule, loadings by
        Gram–Schmidt without normalisation, the notebooks' parameters; Fig 4: kappa, the
        participation ratio and the PC alignment as their code measures them; Fig 6: the
        decision from the last readout sample over 5 repeats, and their readout-variance
        analysis), and adds rows that show the library's measurement beside the authors' on
        the same draws. Papers without a
        separate authors' procedure run the same either way.
    store_dir : str or None
        Directory under which full-mode sweeps keep their stores, one per sweep name
        (:func:`lowrank_rnn.reproduce.reproduce` sets it to ``<out>/.sweeps`` in full mode):
        a rerun reuses the points stored there. None: not stored (unless the environment
        variable :data:`lowrank_rnn.sweep.SWEEP_DIR_ENV` names a directory).
    fresh : bool
        Recompute every full-mode sweep point instead of reusing the stored ones.
    progress : {'bar', 'lines', 'off'}
        How full-mode sweeps show their progress: a live bar on a terminal, plain lines for a
        log (:class:`lowrank_rnn.sweep.ProgressLog`: a line about every 30 s, also while one point
        runs longer than that), or nothing.
    """

    quick: bool = True
    seed: int = 0
    scheduler: str | None = None
    workers: int | None = None
    procedure: str = "paper"
    store_dir: str | None = None
    fresh: bool = False
    progress: str = "bar"

    def __post_init__(self) -> None:
        if self.procedure not in PROCEDURES:
            raise ValueError(f"procedure={self.procedure!r}: allowed: {', '.join(PROCEDURES)}")
        if self.progress not in PROGRESS_MODES:
            raise ValueError(f"progress={self.progress!r}: allowed: {', '.join(PROGRESS_MODES)}")


@dataclass
class FigureData:
    """What a figure's compute function returns: arrays to draw, checks, parameters."""

    data: dict[str, Any]
    checks: Checks
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureSpec:
    """A figure of a paper: ``compute(settings) -> FigureData`` and ``plot(data, path)``.

    ``requires`` names the optional packages the figure needs, each importable under the name
    of the extra that installs it (e.g. ``("torch",)``); without one the figure is skipped, and
    the report says why. ``quick_note`` states what quick mode leaves out or weakens (smaller
    sizes, fewer instances, checks that run only at full scale); the report prints it next to the
    figure in quick mode.
    """

    name: str
    title: str
    compute: Callable[[Settings], FigureData]
    plot: Callable[[FigureData, Path], None]
    requires: tuple[str, ...] = ()
    quick_note: str = ""


@dataclass(frozen=True)
class Paper:
    """A paper: its key, citation and figures."""

    key: str
    citation: str
    figures: tuple[FigureSpec, ...]


@dataclass
class FigureResult:
    """A computed and drawn figure."""

    paper: str
    figure: str
    title: str
    image: str | None
    checks: list[Check]
    params: dict[str, Any]
    seconds: float
    error: str | None = None
    skipped: str | None = None
    quick_note: str = ""


def finish_figure(fig: Any, path: Path, *, dpi: int = 100) -> None:
    """End of every plot function: lay out ``fig``, write it to ``path`` as PNG and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, format="png", dpi=dpi)
    plt.close(fig)


def run_figure(paper: Paper, spec: FigureSpec, settings: Settings, out_dir: Path) -> FigureResult:
    """Compute a figure, draw it to ``out_dir/<paper>_<figure>.png`` and return the result.

    An exception inside the figure is recorded as a failed check (the report still gets written),
    except an :class:`OSError` while writing the image (a full disk, a vanished directory): that
    is a fault of the machine, not a failed scientific check, and is raised.
    A figure whose ``requires`` are not installed is not computed: its result has no checks and
    ``skipped`` says what to install.
    """
    from lowrank_rnn._io import atomic_path  # local: keeps import light

    t0 = time.perf_counter()
    missing = [pkg for pkg in spec.requires if importlib.util.find_spec(pkg) is None]
    if missing:
        reason = (f"needs {', '.join(missing)}, not installed here: "
                  f"pip install 'lowrank-rnn[{','.join(missing)}]'")
        return FigureResult(paper.key, spec.name, spec.title, None, [], {}, 0.0, skipped=reason,
                            quick_note=spec.quick_note)
    slug = f"{paper.key}_{spec.name.lower().replace(' ', '').replace('/', '-')}.png"
    try:
        fd = spec.compute(settings)
        with atomic_path(out_dir / slug) as tmp:
            spec.plot(fd, tmp)
        return FigureResult(
            paper.key, spec.name, spec.title, slug, list(fd.checks.rows), dict(fd.params),
            time.perf_counter() - t0, quick_note=spec.quick_note,
        )
    except OSError as err:
        if err.errno is not None:  # an I/O error of the machine: not a failed check
            raise
        msg = f"{type(err).__name__}: {err}"
        row = Check(paper.key, spec.name, "figure computed without error", msg, "no error", None,
                    False)
        return FigureResult(paper.key, spec.name, spec.title, None, [row], {},
                            time.perf_counter() - t0, error=msg)
    except Exception as err:  # noqa: BLE001 - recorded in the report as a failure
        msg = f"{type(err).__name__}: {err}"
        row = Check(paper.key, spec.name, "figure computed without error", msg, None, None,
                    False, kind="error", rule="the figure's code runs without an exception")
        return FigureResult(paper.key, spec.name, spec.title, None, [row], {},
                            time.perf_counter() - t0, error=msg, quick_note=spec.quick_note)


# --------------------------------------------------------------------------- figure sweeps
def sweep_options(settings: Settings, name: str | None = None) -> dict[str, Any]:
    """The keyword arguments of :func:`lowrank_rnn.sweep.run_sweep` for a reproduce figure.

    Quick mode runs serially and silently in-process and stores nothing. Full mode runs on
    ``settings.scheduler`` or a local cluster of ``settings.workers`` processes, showing its
    progress as ``settings.progress`` says; when ``name`` is given, the sweep is stored (and
    resumable) in ``<settings.store_dir>/<name>``, or, without a ``store_dir``, in
    ``$LOWRANK_RNN_SWEEP_DIR/<name>`` when that environment variable
    (:data:`lowrank_rnn.sweep.SWEEP_DIR_ENV`) names a directory; ``settings.fresh``
    recomputes its stored points.

    Examples
    --------
    >>> ds = run_sweep(point, grid, seeds, fixed=fixed, **sweep_options(settings, "fig1c"))
    """
    if settings.quick:
        return {"workers": 0, "progress": False}
    from lowrank_rnn.sweep import SWEEP_DIR_ENV, ProgressLog

    progress: Any = {"bar": True, "off": False}.get(settings.progress)
    if progress is None:
        progress = ProgressLog(f"sweep {name or 'points'}", write=log_line, heartbeat=True)
    opts: dict[str, Any] = {"scheduler": settings.scheduler, "workers": settings.workers,
                            "progress": progress}
    root = settings.store_dir or os.environ.get(SWEEP_DIR_ENV)
    if root and name:
        opts["store"] = Path(root) / name
        if settings.fresh:
            opts["fresh"] = True
    return opts


def sweep_arrays(
    func: Callable[..., Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    *,
    settings: Settings,
    name: str,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """A reproduce figure's sweep: :func:`lowrank_rnn.sweep.run_sweep` with
    :func:`sweep_options`, as plain arrays.

    NumPy scalars in ``grid`` are turned into Python ones (the grid must be plain values).

    Returns
    -------
    dict of output name -> ndarray, shape ``(*grid sizes, len(seeds), *output shape)``
    """
    from lowrank_rnn.sweep import run_sweep

    plain = {k: [v.item() if hasattr(v, "item") else v for v in vals] for k, vals in grid.items()}
    ds = run_sweep(func, plain, list(seeds), fixed=dict(fixed or {}),
                   **sweep_options(settings, name))
    order = [*plain, "seed"]
    return {k: np.asarray(ds[k].transpose(*order, ...).values) for k in ds.data_vars}
