"""Parameter sweeps: a grid of parameters × seeds, one function call per point, on Dask or serially.

:func:`run_sweep` calls ``func(**fixed, **params, seed=seed)`` for every combination of the grid
values and every seed, and gathers the outputs (a dict of scalars or small fixed-shape arrays per
point) into an :class:`xarray.Dataset` with one dimension per grid parameter plus ``'seed'``.

Where the points run:

- ``workers=0``: serially in this process (what the quick reproduce figures use);
- ``scheduler='tcp://host:port'``: on an existing Dask cluster;
- otherwise: on a local Dask ``LocalCluster`` of ``workers`` processes (default: one per CPU),
  each single-threaded with BLAS limited to one thread.

Resumable: with ``store=DIR`` every finished point is written at once, atomically, to
``DIR/points/<key>.npz``, where ``key`` is a hash of the function's identity (module, name and
source), the source of the function's whole module, the source of this package (every ``.py``
file), the package version, every parameter and the seed. Rerunning an interrupted sweep
(Ctrl-C, a killed worker, an exception) computes only the missing points; changing one parameter
recomputes exactly the points whose key changed. The assembled dataset is written to
``DIR/dataset.zarr`` (read it back with :func:`load_sweep`, which refuses a dataset that is not
the one ``DIR/sweep.json`` describes). One sweep at a time runs on a store (a lock file).

What the key cannot see: code outside the function's module and this package (another package
the function imports, a data file it reads). Change those and the old points are reused; delete
the store (or its ``points/``) to recompute.

The engine holds no paper-specific code: the reproduce figures' point functions live beside their
paper (e.g. :mod:`lowrank_rnn.reproduce.herbert2022.points`), and the names the ``lowrank-rnn
sweep`` command accepts are resolved in :mod:`lowrank_rnn.commands.sweep`.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import logging
import math
import numbers
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lowrank_rnn._validate import check_int

if TYPE_CHECKING:  # pragma: no cover
    import xarray

__all__ = [
    "CHECK_ATTR",
    "MAX_POINTS",
    "PROGRESS_INTERVAL_S",
    "ProgressLog",
    "SWEEP_DIR_ENV",
    "SweepPoint",
    "load_sweep",
    "package_source_sha256",
    "run_sweep",
    "shared_local_cluster",
]

#: Attribute of a point function holding a validator: ``func.check_point(**fixed, **params)``
#: (no seed) raises ValueError for a bad point. :func:`run_sweep` calls it for every grid point
#: before the first point runs.
CHECK_ATTR = "check_point"

#: Most points (grid points × seeds) one sweep may have; the count is computed from the grid
#: sizes before any point list is built.
MAX_POINTS = 10_000_000

#: Bytes a point takes in the main process while the sweep runs (its description, key and
#: collected outputs): used to refuse a grid this machine cannot hold.
POINT_BYTES = 2048

#: Seconds the sweep waits, after Ctrl-C, for the points running on Dask to finish and be
#: stored before it cancels them (a terminal's Ctrl-C also kills the local workers).
INTERRUPT_GRACE_S = 4.0

#: Seconds to wait for an existing Dask scheduler before giving up.
CONNECT_TIMEOUT_S = 3.0

#: Environment of local Dask workers: one BLAS/OpenMP thread each, so that K workers use K cores.
WORKER_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}

#: Environment variable: a directory under which ``reproduce --full`` sweeps keep their stores
#: (instead of the default ``<out>/.sweeps``).
SWEEP_DIR_ENV = "LOWRANK_RNN_SWEEP_DIR"

#: Most seconds between two lines of :class:`ProgressLog` (the progress of a sweep in a log).
PROGRESS_INTERVAL_S = 30.0

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS_RE = re.compile(
    r"^([a-z][a-z0-9+]*://)?([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(:\d{1,5})?$"
)

ProgressLike = bool | Callable[[int, int], None]


# --------------------------------------------------------------------------- points
@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep.

    Attributes
    ----------
    index : tuple of int
        Position along each grid dimension and, last, along ``seed``.
    params : dict
        The grid parameters of this point (without the fixed ones).
    seed : int
    key : str
        Hash of the function identity, package version, every parameter and the seed.
    """

    index: tuple[int, ...]
    params: dict[str, Any]
    seed: int
    key: str


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (for hashing and JSON)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


_PACKAGE_SHA: list[str] = []


def package_source_sha256() -> str:
    """Hash of the source of this package: every ``.py`` file (path and bytes), sorted by path.

    Computed once per process. Part of every sweep point's key, so a change anywhere in the
    package (a helper, a module constant) recomputes the points instead of reusing old results.
    """
    if not _PACKAGE_SHA:
        import lowrank_rnn

        root = Path(lowrank_rnn.__file__).resolve().parent
        h = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            h.update(rel.encode() + b"\0")
            try:
                h.update(path.read_bytes())
            except OSError:  # pragma: no cover - unreadable file: its name still counts
                pass
            h.update(b"\0")
        _PACKAGE_SHA.append(h.hexdigest()[:16])
    return _PACKAGE_SHA[0]


def _function_identity(func: Callable[..., Any]) -> dict[str, str]:
    """Module, qualified name, and hashes of the source of ``func``, of its whole module and of
    this package (when they can be read)."""
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    target = inspect.unwrap(func) if callable(func) else func
    try:
        src = inspect.getsource(target)
    except (OSError, TypeError):
        src = ""
    mod = inspect.getmodule(target)
    try:
        mod_src = inspect.getsource(mod) if mod is not None else ""
    except (OSError, TypeError):
        mod_src = ""

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16] if text else ""

    return {
        "module": module,
        "name": name,
        "source_sha256": sha(src),
        "module_source_sha256": sha(mod_src),
        "package_source_sha256": package_source_sha256(),
    }


def _point_key(
    identity: Mapping[str, str], version: str, params: Mapping[str, Any], seed: int
) -> str:
    blob = json.dumps(
        {"function": dict(identity), "version": version, "params": dict(params), "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------- validation
def _check_value(name: str, value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name}={value!r}: grid and fixed values must be finite")
        return float(value)
    raise ValueError(
        f"{name}={value!r}: sweep parameters must be numbers, booleans, strings or None"
    )


def _check_grid(grid: Any) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid={grid!r}: expected a dict mapping parameter names to lists")
    if not grid:
        raise ValueError("grid={}: the grid is empty; give at least one parameter with values")
    out: dict[str, list[Any]] = {}
    for name, values in grid.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"grid: parameter name {name!r} is not a valid identifier")
        if name == "seed":
            raise ValueError("grid: 'seed' cannot be a grid parameter; pass seeds=... instead")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise ValueError(f"grid[{name!r}]={values!r}: expected a list of values")
        vals = [_check_value(f"grid[{name!r}]", v) for v in values]
        if not vals:
            raise ValueError(f"grid[{name!r}]=[]: the grid is empty along {name!r}")
        if None in vals:
            raise ValueError(
                f"grid[{name!r}]: None cannot be a grid coordinate; put it in fixed or leave it out"
            )
        kinds = {("str" if isinstance(v, str) else "bool" if isinstance(v, bool) else "num")
                 for v in vals}
        if len(kinds) > 1:
            raise ValueError(f"grid[{name!r}]={vals!r}: mixes strings, booleans and numbers")
        if len(set(vals)) != len(vals):
            raise ValueError(f"grid[{name!r}]={vals!r}: values must be distinct")
        out[name] = vals
    return out


def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        n = check_int("seeds", seeds, minimum=1, maximum=MAX_POINTS)
        return list(range(n))
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | np.ndarray):
        raise ValueError(f"seeds={seeds!r}: expected a number of seeds or a list of int seeds")
    out = [check_int("seeds", s, minimum=0) for s in seeds]
    if not out:
        raise ValueError("seeds=[]: give at least one seed")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds={out!r}: seeds must be distinct")
    return out


def _check_signature(func: Callable[..., Any], names: Sequence[str]) -> None:
    """Every name and ``seed`` must be a parameter of ``func``; its required ones must be given."""
    if not callable(func):
        raise ValueError(f"func={func!r}: expected a callable")
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        return
    params = sig.parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    allowed = [n for n, p in params.items()
               if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             inspect.Parameter.KEYWORD_ONLY)]
    fname = getattr(func, "__name__", repr(func))
    if not var_kw:
        for n in [*names, "seed"]:
            if n not in allowed:
                extra = "" if n != "seed" else " (a sweep function must take a 'seed' argument)"
                raise ValueError(
                    f"parameter {n!r}: unknown parameter of {fname}(){extra}; "
                    f"allowed: {', '.join(a for a in allowed if a != 'seed')}"
                )
    given = {*names, "seed"}
    missing = [n for n, p in params.items()
               if p.default is inspect.Parameter.empty and n not in given
               and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              inspect.Parameter.KEYWORD_ONLY)]
    if missing:
        raise ValueError(
            f"parameter {missing[0]!r}: required by {fname}() but neither in the grid nor fixed"
        )


#: Memory a local Dask worker process takes when idle (interpreter, numpy, distributed).
WORKER_BYTES = 200 << 20


def _check_workers(workers: Any, name: str = "workers") -> int:
    """A number of local worker processes: >= 0, and no more than this machine's memory holds."""
    from lowrank_rnn._validate import check_memory

    workers = check_int(name, workers, minimum=0)
    check_memory(name, workers, workers * WORKER_BYTES,
                 f"{workers} Dask worker processes (about {WORKER_BYTES >> 20} MiB each)")
    return workers


def _count_points(grid: Mapping[str, Sequence[Any]], n_seeds: int) -> int:
    """Number of points (from the sizes alone); refuse more than this machine can hold."""
    from lowrank_rnn._validate import check_memory

    n = n_seeds
    for values in grid.values():
        n *= len(values)
    sizes = " x ".join([*(str(len(v)) for v in grid.values()), f"{n_seeds} seeds"])
    if n > MAX_POINTS:
        raise ValueError(
            f"grid: {sizes} = {n:.3g} points; at most {MAX_POINTS:,} points per sweep "
            f"(about {n * POINT_BYTES / 1e9:.3g} GB to hold them); split the sweep"
        )
    check_memory("grid", f"{sizes} = {n} points", n * POINT_BYTES, "the points' descriptions")
    return n


def _check_points(func: Callable[..., Any], grid: Mapping[str, list[Any]],
                  fixed: Mapping[str, Any]) -> None:
    """Run ``func.check_point`` (if any) on every grid point before the first point runs."""
    check = getattr(func, CHECK_ATTR, None)
    if check is None:
        return
    names = list(grid)
    for combo in itertools.product(*(grid[n] for n in names)):
        params = dict(zip(names, combo, strict=True))
        try:
            check(**fixed, **params)
        except ValueError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in params.items())
            raise ValueError(f"{err} (at grid point {where}; no point was run)") from None


def _check_scheduler(scheduler: Any) -> str | None:
    if scheduler is None:
        return None
    if not isinstance(scheduler, str) or not _ADDRESS_RE.match(scheduler.strip()):
        raise ValueError(
            f"scheduler={scheduler!r}: expected a Dask scheduler address such as "
            "'tcp://127.0.0.1:8786'"
        )
    return scheduler.strip()


_STORE_MARKER = "sweep.json"
_LOCK_NAME = ".lock"


@contextmanager
def _store_lock(store: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``store`` for the whole run; refuse a store in use."""
    store.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no POSIX locks here: run unlocked
        yield
        return
    fh = open(store / _LOCK_NAME, "a+")  # noqa: SIM115 - held for the block
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            owner = fh.read().strip() or "another process"
            raise ValueError(
                f"store={str(store)!r}: another sweep is running on this store ({owner}); "
                "wait for it to finish or choose another store"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        yield
    finally:
        fh.close()


def _check_store(store: Any) -> Path | None:
    if store is None:
        return None
    path = Path(store)
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"store={str(path)!r}: exists and is not a directory")
        if any(path.iterdir()) and not (path / _STORE_MARKER).exists():
            raise ValueError(
                f"store={str(path)!r}: a non-empty directory that is not a sweep store "
                f"(no {_STORE_MARKER}); choose a new or empty directory"
            )
    return path


# --------------------------------------------------------------------------- point storage
def _as_output(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
        raise ValueError(
            f"output {name!r}: expected a number or a numeric array, got {type(value).__name__} "
            f"(dtype {arr.dtype})"
        )
    if arr.size > 100_000:
        raise ValueError(f"output {name!r}: {arr.size} values per point; keep outputs small")
    return arr


def _call_point(func: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run one point and check its outputs (this runs on a worker)."""
    out = func(**kwargs)
    if not isinstance(out, Mapping) or not out:
        raise ValueError(
            f"sweep function returned {type(out).__name__}; expected a non-empty dict of outputs"
        )
    result = {}
    for name, value in out.items():
        if not isinstance(name, str) or not _NAME_RE.match(name) or name == "seed":
            raise ValueError(f"output name {name!r}: must be an identifier other than 'seed'")
        result[name] = _as_output(name, value)
    return result


def _point_path(store: Path, key: str) -> Path:
    return store / "points" / f"{key}.npz"


def _write_point(store: Path, point: SweepPoint, meta: Mapping[str, Any],
                 outputs: Mapping[str, np.ndarray]) -> None:
    """Write one point atomically (a temporary file renamed into place)."""
    from lowrank_rnn._io import atomic_path

    record = dict(meta)
    record.update(params=point.params, seed=point.seed, key=point.key)
    arrays = {f"out_{k}": v for k, v in outputs.items()}
    arrays["meta"] = np.array(json.dumps(record, sort_keys=True))
    with atomic_path(_point_path(store, point.key)) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _read_point(store: Path, key: str) -> dict[str, np.ndarray] | None:
    path = _point_path(store, key)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("key") != key:
                return None
            return {k[4:]: z[k] for k in z.files if k.startswith("out_")}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        # a damaged record (cannot happen with atomic writes, but never trust it): recompute
        return None


# --------------------------------------------------------------------------- progress
def _duration(seconds: float) -> str:
    """``seconds`` as ``'42 s'``, ``'9 min 28 s'`` or ``'2 h 05 min'``."""
    s = max(0, round(float(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class ProgressLog:
    """A ``progress(done, total)`` callable for :func:`run_sweep` that writes plain lines.

    For a log file (a run whose output is not a terminal, where a live bar cannot be drawn): a
    line when the sweep starts, then at most one line every ``interval`` seconds with the points
    done / total, the rate and the time left, and a last line when every point is done. The
    rate counts only the points computed since the first call (points reused from a store are
    done at the start). With ``heartbeat=True`` a sweep whose points each take longer than
    ``interval`` is not silent either: a background thread calls :meth:`tick`, which writes a
    "still running" line when neither a line nor a finished point came for ``interval``
    seconds, so the gap between two lines stays about ``interval`` (the thread stops at the
    last point or :meth:`close`).

    Parameters
    ----------
    label : str
        What the lines name (e.g. the sweep's name).
    interval : float, default :data:`PROGRESS_INTERVAL_S`
        Most seconds between two progress lines (> 0).
    write : callable, optional
        ``write(line)`` for each line (default: the line on stderr).
    clock : callable, optional
        Seconds, monotonic (default :func:`time.monotonic`); tests pass a fake clock.
    heartbeat : bool, default False
        Start the background thread that calls :meth:`tick` (``reproduce --full`` turns it on).

    Examples
    --------
    >>> lines = []
    >>> log = ProgressLog("toy", write=lines.append)
    >>> log(0, 4); log(4, 4)
    >>> lines[-1].startswith("toy: 4/4 points")
    True
    """

    def __init__(self, label: str, *, interval: float = PROGRESS_INTERVAL_S,
                 write: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, heartbeat: bool = False) -> None:
        from lowrank_rnn._validate import check_real

        self.label = str(label)
        self.interval = check_real("interval", interval, minimum=0.0, min_inclusive=False)
        self.write = write if write is not None else _stderr_line
        self.clock = clock
        self.heartbeat = bool(heartbeat)
        self._start: tuple[float, int] | None = None
        self._last = 0.0
        self._state = (0, 0)
        self._last_point = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            now = self.clock()
            self._state = (done, total)
            self._last_point = now
            if self._start is None:
                self._start = (now, done)
                self._last = now
                if done >= total:
                    self.write(f"{self.label}: all {total} points reused from the store")
                    return
                reused = f", {done} reused from the store" if done else ""
                self.write(f"{self.label}: {total} points{reused}")
                self._start_heartbeat()
                return
            elapsed = now - self._start[0]
            if done >= total:
                self.write(f"{self.label}: {done}/{total} points done in {_duration(elapsed)}"
                           f" ({self._rate_text(now)})")
                self._stop.set()
                return
            if now - self._last < self.interval:
                return
            self._last = now
            self.write(self._status(now))

    def tick(self) -> None:
        """Write a "still running" line if neither a line nor a point came for ``interval`` s.

        Called by the heartbeat thread; a no-op before the first call and after the last point.
        """
        with self._lock:
            done, total = self._state
            if self._start is None or done >= total or self._stop.is_set():
                return
            now = self.clock()
            if min(now - self._last, now - self._last_point) < self.interval:
                return  # a recent point writes its own line when the interval is up
            self._last = now
            self.write(f"{self._status(now)}; still running, "
                       f"{_duration(now - self._start[0])} elapsed")

    def close(self) -> None:
        """Stop the heartbeat thread (the sweep ended, finished or not)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def _start_heartbeat(self) -> None:
        if not self.heartbeat or self._thread is not None:
            return

        def beat() -> None:
            while not self._stop.wait(min(self.interval, 5.0)):
                self.tick()

        self._thread = threading.Thread(target=beat, name=f"progress {self.label}",
                                        daemon=True)
        self._thread.start()

    def _rate(self, now: float) -> float:
        assert self._start is not None
        t0, d0 = self._start
        elapsed = now - t0
        return (self._state[0] - d0) / elapsed if elapsed > 0 else float("nan")

    def _rate_text(self, now: float) -> str:
        rate = self._rate(now)
        return f"{rate:.3g} points/s" if math.isfinite(rate) else "rate unknown"

    def _status(self, now: float) -> str:
        done, total = self._state
        rate = self._rate(now)
        eta = (f"ETA {_duration((total - done) / rate)}"
               if math.isfinite(rate) and rate > 0 else "ETA unknown")
        return (f"{self.label}: {done}/{total} points ({100 * done / total:.0f}%), "
                f"{self._rate_text(now)}, {eta}")


def _stderr_line(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


@contextmanager
def _progress(progress: ProgressLike, total: int, done: int,
              label: str) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; a rich bar (done / total, rate, ETA) when ``progress`` is True."""
    if callable(progress):
        state = {"done": done}
        progress(done, total)

        def advance_cb(n: int = 1) -> None:
            state["done"] += n
            progress(state["done"], total)

        try:
            yield advance_cb
        finally:  # a heartbeat thread (ProgressLog) must not outlive its sweep
            close = getattr(progress, "close", None)
            if callable(close):
                close()
        return
    if not progress:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class _Rate(TextColumn):
        def render(self, task):  # type: ignore[override]
            from rich.text import Text

            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.2f} pts/s")

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        _Rate(""), TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
    )
    from rich.markup import escape

    with bar:  # the label holds user strings (a path, a function name): never markup
        task = bar.add_task(escape(label), total=total, completed=done)
        try:
            yield lambda n=1: bar.advance(task, n)
        except BaseException:  # the error's one line is all that should remain on stderr
            bar.remove_task(task)
            raise


# --------------------------------------------------------------------------- dask
def _open_client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Dask client on ``scheduler`` or on a new LocalCluster; returns (client, cluster|None)."""
    from distributed import Client

    if scheduler is not None:
        _probe_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ValueError(
                f"scheduler={scheduler!r}: no Dask scheduler reachable within "
                f"{CONNECT_TIMEOUT_S:g} s ({type(err).__name__}: {err})"
            ) from None
        except Exception as err:  # noqa: BLE001 - something answered, but not a scheduler
            raise ValueError(
                f"scheduler={scheduler!r}: what answers there is not a Dask scheduler "
                f"({type(err).__name__}: {str(err)[:120]})"
            ) from None
        return client, None
    n = workers if workers else (os.cpu_count() or 1)
    shared = _SHARED.get("slot")
    if shared is not None:  # inside shared_local_cluster(): start once, reuse for every sweep
        if shared.get(n) is None:
            shared[n] = _start_local_cluster(n)
        return Client(shared[n], set_as_default=False), None
    cluster = _start_local_cluster(n)
    try:
        client = Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def _start_local_cluster(n: int) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.ERROR, env=dict(WORKER_ENV),
    )


#: The local clusters of an active :func:`shared_local_cluster` block, by worker count.
_SHARED: dict[str, dict[int, Any] | None] = {"slot": None}


@contextmanager
def shared_local_cluster() -> Iterator[None]:
    """Within this block, sweeps without a scheduler share one local cluster per worker count.

    Without it every :func:`run_sweep` on Dask starts its own ``LocalCluster`` and closes it at
    the end: new worker processes that import numpy, scipy, torch and this package again
    (seconds per sweep, far more on a loaded machine), which dominates runs of many short
    sweeps such as ``reproduce --full``. Here the first such sweep starts the cluster (lazily:
    a block without Dask sweeps starts nothing), later ones connect to it, and it is closed when
    the block ends, also on an error or Ctrl-C. Dask's own :class:`distributed.LocalCluster`
    is used; only its lifetime is managed here. Nested blocks reuse the outer block's clusters.

    Examples
    --------
    >>> with shared_local_cluster():  # doctest: +SKIP
    ...     a = run_sweep(point, grid_a, 10, workers=2)
    ...     b = run_sweep(point, grid_b, 10, workers=2)  # the same two worker processes
    """
    if _SHARED["slot"] is not None:
        yield
        return
    clusters: dict[int, Any] = {}
    _SHARED["slot"] = clusters
    try:
        yield
    finally:
        _SHARED["slot"] = None
        for cluster in clusters.values():
            try:
                cluster.close(timeout=3)
            except BaseException:  # noqa: BLE001 - closing must not hide the block's own error
                pass


def _probe_scheduler(address: str) -> None:
    """Open one connection to ``address`` (Dask's handshake, within the connect timeout) and
    close it, in a private event loop: whatever fails leaves no half-built client behind."""
    import asyncio

    from distributed.comm import connect

    async def probe() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=CONNECT_TIMEOUT_S),
                                      CONNECT_TIMEOUT_S + 1)
        await comm.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError, asyncio.TimeoutError) as err:
        raise ValueError(
            f"scheduler={address!r}: no Dask scheduler reachable within "
            f"{CONNECT_TIMEOUT_S:g} s ({type(err).__name__}: {err})"
        ) from None
    except Exception as err:  # noqa: BLE001 - something answered, but not a scheduler
        raise ValueError(
            f"scheduler={address!r}: what answers there is not a Dask scheduler "
            f"({type(err).__name__}: {str(err)[:120]})"
        ) from None


def _n_threads(client: Any) -> int:
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # noqa: BLE001 - a fallback for odd schedulers
        return 1


# --------------------------------------------------------------------------- the sweep
def run_sweep(
    func: Callable[..., Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int] | int,
    *,
    fixed: Mapping[str, Any] | None = None,
    store: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: ProgressLike = True,
    label: str | None = None,
    fresh: bool = False,
) -> xarray.Dataset:
    """Run ``func(**fixed, **params, seed=seed)`` on every grid point × seed into a Dataset.

    Parameters
    ----------
    func : callable
        The point function. Takes the grid parameters, the fixed parameters and ``seed`` as
        keyword arguments and returns a dict of outputs: numbers or small numeric arrays whose
        shape is the same at every point. For Dask runs it must be picklable (a module-level
        function; the registered ones are listed in :data:`SWEEP_FUNCTIONS`).
    grid : dict of str -> list
        Parameter name -> its values (numbers, booleans or strings; distinct; non-empty).
        The points are the Cartesian product, in the order given.
    seeds : int or list of int
        ``n`` (seeds ``0 .. n-1``) or the list of seeds; every grid point runs once per seed.
    fixed : dict, optional
        Constant keyword arguments passed to every point (part of every point's key).
    store : path, optional
        Directory of the sweep's results. Each point is written there as soon as it finishes
        (atomically); points already there with the same key are reused, not recomputed; the
        assembled Dataset is written to ``store/dataset.zarr``. None: nothing is written.
    scheduler : str, optional
        Address of an existing Dask scheduler (``'tcp://host:port'``); an unreachable address
        raises ValueError after :data:`CONNECT_TIMEOUT_S` seconds.
    workers : int, optional
        ``0``: run serially in this process. Otherwise, without ``scheduler``: the number of
        single-threaded worker processes of a local Dask cluster (None: one per CPU).
        Ignored when ``scheduler`` is given.
    progress : bool or callable
        True: a rich progress bar on stderr (points done / total, rate, time left); a callable
        ``progress(done, total)`` is called instead (once, with ``done == total``, when every
        point is reused from ``store``); False: silent.
    label : str, optional
        Description shown on the progress bar (default: the function's name).
    fresh : bool, default False
        With ``store``: delete the points (and dataset) stored there before running, so that
        every point is computed again. Without ``store`` nothing is reused anyway.

    Returns
    -------
    xarray.Dataset
        One data variable per output with dimensions ``(*grid, 'seed', *extra)``, where an array
        output of shape ``(a, b)`` adds dimensions ``<output>_dim_0, <output>_dim_1``. Coordinates:
        the grid values and the seeds. Attributes: the function, the fixed parameters (JSON),
        the package version, ``points_computed``, ``points_reused`` and ``seconds``.

    Raises
    ------
    ValueError
        Before any work, for an empty grid, a parameter ``func`` does not take, a missing
        required parameter, bad seeds, a malformed or unreachable scheduler address, or a store
        path that is not a sweep store; during the sweep, for outputs that are not numeric or
        whose shape changes between points.

    Notes
    -----
    A point that raises stops the sweep: the points already running are finished and stored,
    then the error is raised with the point's parameters. Ctrl-C does the same (a second Ctrl-C
    abandons the running points). Rerunning with the same arguments continues where it stopped.
    When the Dask workers see ``store`` (a shared file system), they write each point there
    before returning it, so a worker that dies after finishing a point causes no recomputation.

    Examples
    --------
    >>> ds = run_sweep(gaussian_radius_point, {"sparsity": [0.0, 0.5]}, 3,
    ...                fixed={"n_neurons": 100, "g": 1.0}, workers=0, progress=False)
    >>> ds["radius"].dims
    ('sparsity', 'seed')
    """
    if isinstance(grid, Mapping):  # count from the sizes before looking at any value
        sizes = [len(v) for v in grid.values() if isinstance(v, Sequence | np.ndarray)]
        if sizes and math.prod(sizes) > MAX_POINTS:
            raise ValueError(
                f"grid: {' x '.join(map(str, sizes))} = {math.prod(sizes):.3g} grid points; at "
                f"most {MAX_POINTS:,} points per sweep; split the sweep"
            )
    grid_ = _check_grid(grid)
    seeds_ = _check_seeds(seeds)
    fixed_ = {}
    for name, value in dict(fixed or {}).items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"fixed: parameter name {name!r} is not a valid identifier")
        if name in grid_ or name == "seed":
            raise ValueError(
                f"fixed[{name!r}]: also given in the grid (or is 'seed'); give it once"
            )
        fixed_[name] = _check_value(f"fixed[{name!r}]", value)
    _check_signature(func, [*grid_, *fixed_])
    scheduler = _check_scheduler(scheduler)
    if workers is not None:
        workers = _check_workers(workers)
    store_ = _check_store(store)
    if not isinstance(progress, bool) and not callable(progress):
        raise ValueError(f"progress={progress!r}: expected True, False or a callable(done, total)")
    if not isinstance(fresh, bool | np.bool_):
        raise ValueError(f"fresh={fresh!r}: expected True or False")
    serial = scheduler is None and workers == 0

    n_points = _count_points(grid_, len(seeds_))
    _check_points(func, grid_, fixed_)
    if store_ is None:
        return _run_sweep(func, grid_, seeds_, fixed_, None, scheduler, workers, progress,
                          label, serial, n_points)
    with _store_lock(store_):
        if fresh:
            _clear_store(store_)
        return _run_sweep(func, grid_, seeds_, fixed_, store_, scheduler, workers, progress,
                          label, serial, n_points)


def _description(meta: Mapping[str, Any], grid: Mapping[str, list[Any]],
                 seeds: list[int]) -> tuple[dict[str, Any], str]:
    desc = {**meta, "grid": dict(grid), "seeds": list(seeds)}
    blob = json.dumps(desc, sort_keys=True, separators=(",", ":"))
    return desc, hashlib.sha256(blob.encode()).hexdigest()[:32]


def _run_sweep(func, grid_, seeds_, fixed_, store_, scheduler, workers,  # noqa: ANN001
               progress, label, serial, n_points) -> xarray.Dataset:  # noqa: ANN001
    """The body of :func:`run_sweep`, once everything is checked (and the store locked)."""
    import lowrank_rnn

    t0 = time.perf_counter()
    version = lowrank_rnn.__version__
    identity = _function_identity(func)
    meta = {"function": identity, "version": version, "fixed": fixed_}
    description, desc_sha = _description(meta, grid_, seeds_)
    names = list(grid_)
    points: list[SweepPoint] = []
    for idx in itertools.product(*(range(len(grid_[n])) for n in names), range(len(seeds_))):
        params = {n: grid_[n][i] for n, i in zip(names, idx[:-1], strict=True)}
        seed = seeds_[idx[-1]]
        key = _point_key(identity, version, {**fixed_, **params}, seed)
        points.append(SweepPoint(tuple(idx), params, seed, key))
    if len(points) != n_points:  # pragma: no cover - the count is the product of the sizes
        raise RuntimeError(f"{len(points)} points built, {n_points} counted")

    results: dict[str, dict[str, np.ndarray]] = {}
    run_token = uuid.uuid4().hex
    if store_ is not None:
        from lowrank_rnn._io import write_json_atomic

        (store_ / "points").mkdir(parents=True, exist_ok=True)
        if _stored_description_sha(store_) != desc_sha:
            # the dataset there (if any) is another sweep's: never leave it beside this
            # description, even if this run fails before it writes its own
            _remove_dataset(store_ / "dataset.zarr")
        write_json_atomic(store_ / _STORE_MARKER, {
            **description, "n_points": len(points), "description_sha256": desc_sha,
            "run_token": run_token,
        })
        for p in points:
            got = _read_point(store_, p.key)
            if got is not None:
                results[p.key] = got
    n_reused = len(results)
    todo = [p for p in points if p.key not in results]
    shapes: dict[str, tuple[int, ...]] = {}
    for out in results.values():
        for k, v in out.items():
            shapes.setdefault(k, v.shape)

    def record(p: SweepPoint, out: dict[str, np.ndarray], written: bool = False) -> None:
        if shapes:
            if set(out) != set(shapes):
                raise ValueError(
                    f"point {p.params} seed={p.seed}: outputs {sorted(out)} differ from "
                    f"{sorted(shapes)} at other points"
                )
            for k, v in out.items():
                if v.shape != shapes[k]:
                    raise ValueError(
                        f"output {k!r} at point {p.params} seed={p.seed}: shape {v.shape} "
                        f"differs from {shapes[k]} at other points"
                    )
        else:
            shapes.update({k: v.shape for k, v in out.items()})
        if store_ is not None and not written:
            _write_point(store_, p, meta, out)
        results[p.key] = out

    desc = label or getattr(func, "__name__", "sweep")
    if not todo and callable(progress):  # everything reused: say so once
        progress(n_reused, len(points))
    if todo:
        with _progress(progress, len(points), n_reused, desc) as advance:
            if serial:
                _run_serial(func, fixed_, todo, record, advance)
            else:
                stored = None if store_ is None else (str(store_.resolve()), run_token, meta)
                _run_dask(func, fixed_, todo, record, advance, scheduler, workers, stored)
        missing = [p for p in todo if p.key not in results]
        if missing:
            raise RuntimeError(
                f"{len(missing)} point(s) were lost by the Dask cluster (cancelled); "
                "run the sweep again to compute them"
            )

    ds = _assemble(points, results, grid_, seeds_, shapes)
    ds.attrs.update(
        function=f"{identity['module']}.{identity['name']}",
        function_source_sha256=identity["source_sha256"],
        module_source_sha256=identity["module_source_sha256"],
        package_source_sha256=identity["package_source_sha256"],
        description_sha256=desc_sha,
        fixed=json.dumps(fixed_, sort_keys=True),
        version=version,
        points_computed=len(todo),
        points_reused=n_reused,
        seconds=time.perf_counter() - t0,
        runner="serial" if serial else ("dask " + (scheduler or "LocalCluster")),
    )
    if store_ is not None:
        _write_dataset(ds, store_ / "dataset.zarr")
    return ds


def _error_with_point(err: BaseException, p: SweepPoint) -> None:
    if hasattr(err, "add_note"):
        err.add_note(f"in sweep point {p.params} seed={p.seed}")


def _run_serial(func, fixed, todo, record, advance) -> None:  # noqa: ANN001
    for p in todo:
        try:
            out = _call_point(func, {**fixed, **p.params, "seed": p.seed})
        except Exception as err:
            _error_with_point(err, p)
            raise
        record(p, out)
        advance(1)


def _worker_point(func: Callable[..., Any], kwargs: dict[str, Any], point: SweepPoint,
                  stored: tuple[str, str, dict] | None) -> tuple[dict[str, np.ndarray], bool]:
    """Run one point on a worker; returns (outputs, whether they are already in the store).

    When the worker sees the sweep's store (same file system: the store's run token matches),
    it reuses a record written there and writes its own result before returning it. A point
    whose worker died after finishing (its result not yet collected) is then rerun by Dask
    without calling ``func`` again.
    """
    if stored is not None:
        path, token, meta = stored
        store = Path(path)
        try:
            shared = json.loads((store / _STORE_MARKER).read_text()).get("run_token") == token
        except (OSError, ValueError):
            shared = False
        if shared:
            got = _read_point(store, point.key)
            if got is not None:
                return got, True
            out = _call_point(func, kwargs)
            _write_point(store, point, meta, out)
            return out, True
    return _call_point(func, kwargs), False


def _run_dask(func, fixed, todo, record, advance, scheduler, workers,  # noqa: ANN001
              stored) -> None:  # noqa: ANN001
    """Keep about two points per worker thread in flight; store each as it finishes.

    On an error or Ctrl-C, no new points are submitted; the ones in flight are finished and
    stored (a second Ctrl-C abandons them), then the error is raised.
    """
    from distributed import as_completed

    client, cluster = _open_client(scheduler, workers)
    try:
        max_in_flight = 2 * _n_threads(client)
        pending = iter(todo)
        in_flight: dict[Any, SweepPoint] = {}
        queue = as_completed(loop=client.loop)
        batch = uuid.uuid4().hex[:8]
        state: dict[str, Any] = {"stop": False, "error": None}

        def submit_next() -> None:
            if state["stop"]:
                return
            p = next(pending, None)
            if p is None:
                return
            fut = client.submit(_worker_point, func, {**fixed, **p.params, "seed": p.seed}, p,
                                stored, key=f"sweep-{p.key}-{batch}", pure=False)
            in_flight[fut] = p
            queue.add(fut)

        def drain() -> None:
            for fut in queue:
                p = in_flight.pop(fut)
                if fut.status != "finished":
                    if state["error"] is None and fut.status == "error":
                        err = fut.exception()
                        _error_with_point(err, p)
                        state["error"] = err
                    state["stop"] = True
                    continue
                try:
                    record(p, *fut.result())
                except ValueError as err:
                    if state["error"] is None:
                        state["error"] = err
                    state["stop"] = True
                    continue
                advance(1)
                submit_next()

        for _ in range(max_in_flight):
            submit_next()
        try:
            drain()
        except KeyboardInterrupt:
            state["stop"] = True
            logging.getLogger(__name__).warning(
                "interrupted: storing the points that finish within %g s (%d running); "
                "Ctrl-C again to abandon them", INTERRUPT_GRACE_S, len(in_flight),
            )
            _finish_in_flight(client, in_flight, record, INTERRUPT_GRACE_S)
            raise
        if state["error"] is not None:
            raise state["error"]
    finally:
        _close_quietly(client, cluster)


def _finish_in_flight(client, in_flight, record, grace: float) -> None:  # noqa: ANN001
    """After Ctrl-C: store the running points that finish within ``grace`` seconds, cancel
    the rest. Never waits longer: a terminal's Ctrl-C reaches the local workers too, and the
    points of a dead worker would never finish."""
    futures = list(in_flight)
    deadline = time.monotonic() + grace
    try:
        while time.monotonic() < deadline and any(f.status == "pending" for f in futures):
            time.sleep(0.05)
    except KeyboardInterrupt:  # a second Ctrl-C: abandon them now
        pass
    for fut in futures:
        p = in_flight.get(fut)
        if p is None or fut.status != "finished":
            continue
        try:
            record(p, *fut.result(timeout=1))
        except Exception:  # noqa: BLE001 - a bad point is recomputed by the rerun
            continue
        in_flight.pop(fut, None)
    try:
        client.cancel(list(in_flight))
    except Exception:  # noqa: BLE001 - nothing left to cancel on a dead cluster
        pass


def _close_quietly(client, cluster) -> None:  # noqa: ANN001
    """Close the client and a local cluster with time limits (their workers may be dead)."""
    try:
        client.close(timeout=2)
    except BaseException:  # noqa: BLE001 - closing must not hide the sweep's own error
        pass
    if cluster is not None:
        try:
            cluster.close(timeout=3)
        except BaseException:  # noqa: BLE001
            pass


def _assemble(points, results, grid, seeds, shapes) -> xarray.Dataset:  # noqa: ANN001
    import xarray as xr

    names = list(grid)
    base_shape = tuple(len(grid[n]) for n in names) + (len(seeds),)
    data_vars = {}
    for out_name, shape in sorted(shapes.items()):
        dtype = np.result_type(*[results[p.key][out_name].dtype for p in points])
        arr = np.empty(base_shape + shape, dtype=dtype)
        for p in points:
            arr[p.index] = results[p.key][out_name]
        dims = (*names, "seed", *(f"{out_name}_dim_{i}" for i in range(len(shape))))
        data_vars[out_name] = (dims, arr)
    coords = {n: np.asarray(grid[n]) for n in names}
    coords["seed"] = np.asarray(seeds, dtype=np.int64)
    return xr.Dataset(data_vars, coords=coords)


def _write_dataset(ds: xarray.Dataset, path: Path) -> None:
    """Write ``ds`` to the zarr store ``path``, replacing it whole (built aside, then renamed)."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    try:
        ds.to_zarr(tmp, mode="w", consolidated=False)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _stored_description_sha(store: Path) -> str | None:
    try:
        return json.loads((store / _STORE_MARKER).read_text()).get("description_sha256")
    except (OSError, ValueError, AttributeError):
        return None


def _clear_store(store: Path) -> None:
    """Delete the stored points and dataset of ``store`` (a checked sweep store, locked)."""
    points = store / "points"
    if points.exists():
        old = store / f".points.stale-{uuid.uuid4().hex[:8]}"
        os.replace(points, old)
        shutil.rmtree(old, ignore_errors=True)
    _remove_dataset(store / "dataset.zarr")


def _remove_dataset(path: Path) -> None:
    if path.exists():
        old = path.with_name(f".{path.name}.stale-{uuid.uuid4().hex[:8]}")
        os.replace(path, old)
        shutil.rmtree(old, ignore_errors=True)


def load_sweep(store: str | os.PathLike[str]) -> xarray.Dataset:
    """Open the Dataset a sweep wrote to ``store`` (``store/dataset.zarr``) into memory.

    Raises
    ------
    ValueError
        When there is no finished dataset, or when it is not the sweep ``store/sweep.json``
        describes (e.g. a rerun with changed parameters that failed before it finished: its
        points are stored, but the dataset would be the previous sweep's).
    """
    import xarray as xr

    path = Path(store) / "dataset.zarr"
    if not path.is_dir():
        raise ValueError(f"store={str(store)!r}: no finished sweep there ({path.name} is missing)")
    want = _stored_description_sha(Path(store))
    with xr.open_zarr(path, consolidated=False) as ds:
        got = ds.attrs.get("description_sha256")
        if want is None or got != want:
            raise ValueError(
                f"store={str(store)!r}: {path.name} is not the sweep {_STORE_MARKER} describes "
                "(the last run there did not finish); rerun the sweep to complete it"
            )
        return ds.load()
