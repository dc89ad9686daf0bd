"""``lowrank-rnn sweep``: a parameter grid × seeds from a TOML file, on Dask, resumable."""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10: the same parser, from PyPI
    import tomli as tomllib

__all__ = ["SWEEP_FUNCTIONS", "get_sweep_function", "load_config", "register", "sweep_command"]

_TOP_KEYS = ("function", "seeds", "grid", "fixed", "run")
_RUN_KEYS = ("store", "scheduler", "workers")

HELP = """Run a parameter sweep described by CONFIG.toml; store it (resumable) in STORE.

\b
CONFIG.toml:
  function = "gaussian_radius"  # or "rank_one_spectrum",
                                # or "package.module:function"
  seeds = 50                    # seeds 0..49, or a list: seeds = [0, 1, 2]
  [fixed]                       # optional: the same at every point
  n_neurons = 1000
  g = 1.0
  [grid]                        # a dimension per parameter: list or range
  sparsity = { start = 0.0, stop = 0.95, num = 20 }  # linspace(0, 0.95, 20)
  # sparsity = [0.0, 0.5, 0.9]
  [run]                         # optional: store, scheduler, workers
  workers = 2

\b
A sweep file runs code: "module:function" imports that module (running
its top-level code) and calls the function with the file's values. Run
only sweep files you trust. Without --allow-any-callable the function
must be a plain Python function with a 'seed' parameter (no builtins,
classes or other callables).

\b
Points already in STORE (same function, its module's and this package's
source, parameters and seed) are reused: an interrupted sweep continues
where it stopped. One sweep at a time runs on a store. Read the result
with lowrank_rnn.sweep.load_sweep(STORE).
"""


def _grid_values(name: str, spec: Any) -> list[Any]:
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"start", "stop", "num"})
        if unknown or not {"start", "stop", "num"} <= set(spec):
            raise ValueError(
                f"grid.{name}={spec!r}: a range needs exactly start, stop and num "
                "(values = linspace(start, stop, num))"
            )
        import numpy as np

        from lowrank_rnn._validate import check_int, check_real
        from lowrank_rnn.sweep import MAX_POINTS

        num = check_int(f"grid.{name}.num", spec["num"], minimum=0, maximum=MAX_POINTS)
        start = check_real(f"grid.{name}.start", spec["start"])
        stop = check_real(f"grid.{name}.stop", spec["stop"])
        return [float(round(v, 12)) for v in np.linspace(start, stop, num)]
    if not isinstance(spec, list):
        raise ValueError(f"grid.{name}={spec!r}: expected a list of values or a range table")
    return spec


#: Point functions the ``lowrank-rnn sweep`` command can run, by name.
SWEEP_FUNCTIONS: dict[str, str] = {
    "gaussian_radius": "lowrank_rnn.reproduce.herbert2022.points:gaussian_radius_point",
    "rank_one_spectrum": "lowrank_rnn.reproduce.herbert2022.points:rank_one_spectrum_point",
}


def get_sweep_function(
    name: str, *, allow_any_callable: bool = False
) -> Callable[..., Mapping[str, Any]]:
    """The registered point function called ``name`` (see :data:`SWEEP_FUNCTIONS`), or a
    ``'module:function'`` path to an importable function.

    Importing ``module`` runs its code, and the function is then called with values from the
    sweep file: a sweep file is a program. Unless ``allow_any_callable``, the object must be a
    plain Python function (:func:`inspect.isfunction`: no builtin, class, C callable or
    callable instance) that names a ``seed`` parameter, so that ``"numpy:savez"`` or
    ``"os:remove"`` are refused.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"function={name!r}: expected a registered name or 'module:function'")
    name = SWEEP_FUNCTIONS.get(name, name)
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"function={name!r}: cannot import it ({err})") from None
        if not callable(obj):
            raise ValueError(f"function={name!r}: not callable")
        if not allow_any_callable:
            import inspect

            if not inspect.isfunction(obj):
                raise ValueError(
                    f"function={name!r}: a {type(obj).__name__}, not a plain Python function; "
                    "only plain functions run unless --allow-any-callable is given"
                )
            if "seed" not in inspect.signature(obj).parameters:
                raise ValueError(
                    f"function={name!r}: has no 'seed' parameter, so it is not a sweep point "
                    "function; only those run unless --allow-any-callable is given"
                )
        return obj
    raise ValueError(
        f"function={name!r}: unknown sweep function; allowed: {', '.join(SWEEP_FUNCTIONS)} "
        "or 'module:function'"
    )


def load_config(path: str | Path, *, allow_any_callable: bool = False) -> dict[str, Any]:
    """Read and check a sweep TOML file (see :func:`get_sweep_function` for ``function``).

    Returns
    -------
    dict with ``func`` (callable), ``function`` (its name), ``grid``, ``seeds``, ``fixed`` and
    ``run`` (store, scheduler, workers defaults).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config={str(path)!r}: no such file")
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config={str(path)!r}: not valid TOML ({err})") from None
    unknown = sorted(set(cfg) - set(_TOP_KEYS))
    if unknown:
        raise ValueError(
            f"config key {unknown[0]!r}: unknown; allowed: {', '.join(_TOP_KEYS)}"
        )
    for key in ("function", "grid", "seeds"):
        if key not in cfg:
            raise ValueError(f"config={str(path)!r}: missing {key!r}")
    if not isinstance(cfg["grid"], dict):
        raise ValueError("grid: expected a table [grid] of parameter = values")
    fixed = cfg.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ValueError("fixed: expected a table [fixed] of parameter = value")
    run = cfg.get("run", {})
    if not isinstance(run, dict) or set(run) - set(_RUN_KEYS):
        bad = sorted(set(run) - set(_RUN_KEYS)) if isinstance(run, dict) else [run]
        raise ValueError(f"run: unknown key {bad[0]!r}; allowed: {', '.join(_RUN_KEYS)}")
    _check_size(cfg["grid"], cfg["seeds"])
    return {
        "function": cfg["function"],
        "func": get_sweep_function(cfg["function"], allow_any_callable=allow_any_callable),
        "grid": {k: _grid_values(k, v) for k, v in cfg["grid"].items()},
        "seeds": cfg["seeds"],
        "fixed": fixed,
        "run": run,
    }


def _check_size(grid: dict[str, Any], seeds: Any) -> None:
    """Refuse a sweep of more than MAX_POINTS points from the sizes alone (no values built)."""
    from lowrank_rnn.sweep import MAX_POINTS

    n = seeds if isinstance(seeds, int) and not isinstance(seeds, bool) else (
        len(seeds) if isinstance(seeds, list) else 1)
    sizes = []
    for name, spec in grid.items():
        if isinstance(spec, dict) and isinstance(spec.get("num"), int):
            k = spec["num"]
        elif isinstance(spec, list):
            k = len(spec)
        else:
            continue  # malformed: reported by _grid_values
        sizes.append(f"{name}: {k}")
        n *= max(k, 0)
    if n > MAX_POINTS:
        raise ValueError(
            f"grid: {', '.join(sizes)} x {seeds!r} seeds = {n:.3g} points; at most "
            f"{MAX_POINTS:,} points per sweep; split the sweep"
        )


def _summary_rows(ds: Any, limit: int = 40) -> tuple[list[str], list[list[str]]]:
    """Mean ± SD over seeds of each scalar output at each grid point (first ``limit`` points)."""
    first = next(iter(ds.data_vars.values()))
    grid_dims = [d for d in first.dims if d in ds.coords and d != "seed"]
    scalars = [v for v in ds.data_vars if set(ds[v].dims) == {*grid_dims, "seed"}]
    mean, sd = ds[scalars].mean("seed"), ds[scalars].std("seed")
    stacked_m = mean.stack(point=grid_dims)
    stacked_s = sd.stack(point=grid_dims)
    rows = []
    for i in range(min(limit, stacked_m.sizes["point"])):
        pm, ps = stacked_m.isel(point=i), stacked_s.isel(point=i)
        row = [f"{pm[d].item():g}" if not isinstance(pm[d].item(), str | bool)
               else str(pm[d].item()) for d in grid_dims]
        for v in scalars:
            m, s = float(pm[v].real), float(ps[v].real)
            row.append(f"{m:.4g} ± {s:.2g}" if math.isfinite(s) else f"{m:.4g}")
        rows.append(row)
    return [*grid_dims, *scalars], rows


def sweep_command(
    config: Annotated[Path, typer.Argument(help="The sweep's TOML file (format below).")],
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of an existing Dask scheduler, "
                     "e.g. tcp://10.0.0.5:8786 (default: a local cluster)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Local Dask worker processes (default: one per CPU); "
                     "0 runs serially in this process."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results store (default: CONFIG's name + .sweep in the "
                     "current directory)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    allow_any_callable: Annotated[
        bool, typer.Option("--allow-any-callable",
                           help="Also run a function that is not a plain Python function with "
                           "a 'seed' parameter (a builtin, class or other callable).")
    ] = False,
) -> None:
    from lowrank_rnn._io import check_output_dir
    from lowrank_rnn.sweep import _check_scheduler, _check_workers, run_sweep

    if scheduler is not None:
        _check_scheduler(scheduler)
    if workers is not None:
        _check_workers(workers, "--workers")
    if out is not None:
        check_output_dir("--out", out)
    cfg = load_config(config, allow_any_callable=allow_any_callable)
    run = cfg["run"]
    if scheduler is None and run.get("scheduler") is not None:
        scheduler = run["scheduler"]
        if not isinstance(scheduler, str):
            raise ValueError(f"run.scheduler={scheduler!r}: expected an address string")
        _check_scheduler(scheduler)
    if workers is None and run.get("workers") is not None:
        workers = _check_workers(run["workers"], "run.workers")
    if out is None and run.get("store") is not None and not isinstance(run["store"], str):
        raise ValueError(f"run.store={run['store']!r}: expected a directory path (a string)")
    store = out if out is not None else Path(run.get("store") or f"{Path(config).stem}.sweep")
    store = Path(store).expanduser().resolve()
    check_output_dir("--out" if out is not None else "run.store", store)
    ds = run_sweep(cfg["func"], cfg["grid"], cfg["seeds"], fixed=cfg["fixed"], store=store,
                   scheduler=scheduler, workers=workers, progress=True,
                   label=f"{cfg['function']} into {store}")
    info = {
        "store": str(store),
        "dataset": str(Path(store) / "dataset.zarr"),
        "function": ds.attrs["function"],
        "dims": {k: int(v) for k, v in ds.sizes.items()},
        "variables": list(ds.data_vars),
        "points": int(ds.attrs["points_computed"] + ds.attrs["points_reused"]),
        "computed": int(ds.attrs["points_computed"]),
        "reused": int(ds.attrs["points_reused"]),
        "runner": ds.attrs["runner"],
        "seconds": float(ds.attrs["seconds"]),
    }
    if as_json:
        typer.echo(json.dumps(info))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # every user string is drawn literally (Text), never parsed as rich markup
    header, rows = _summary_rows(ds)
    table = Table(title=Text(f"{cfg['function']}: mean ± SD over {ds.sizes['seed']} seed(s)"))
    for h in header:
        table.add_column(Text(h), justify="right")
    for r in rows:
        table.add_row(*(Text(c) for c in r))
    con = Console()
    con.print(table)
    n_grid = info["points"] // ds.sizes["seed"]
    if len(rows) < n_grid:
        con.print(f"(first {len(rows)} of {n_grid} grid points shown)", markup=False)
    con.print(
        f"{info['points']} points ({info['computed']} computed, {info['reused']} reused) in "
        f"{info['seconds']:.1f} s on {info['runner']}; dataset: {info['dataset']}",
        markup=False,
    )


sweep_command.__doc__ = HELP


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command to ``app``."""
    # escape the TOML table headers from rich markup in the help text
    app.command("sweep", help=HELP.replace("[", "\\["))(sweep_command)
