"""``lowrank-rnn info FILE``: what a saved file holds (structure, sizes, spectrum, format)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

__all__ = ["register", "info_command", "describe"]


def _number(x: Any) -> Any:
    """JSON-safe float (JSON has no infinity or NaN: those become null)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _eig_summary(values: np.ndarray) -> dict[str, Any]:
    values = np.asarray(values, dtype=complex)
    order = np.argsort(-values.real)
    top = values[order][: min(5, values.size)]
    return {"largest_real": [[_number(v.real), _number(v.imag)] for v in top]}


def _network(net: Any, spectrum: bool, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "structure": net.structure, "n_neurons": net.n_neurons, "rank": net.rank,
        "d_in": net.d_in, "d_out": net.d_out, "scale": net.scale,
        "readout_scale": net.readout_scale, "tau": net.tau, "phi": net.phi,
    }
    if net.mask is not None:
        out["mask_nnz"] = int(net.mask.nnz)
    if net.random is not None:
        out["random"] = "sparse" if net.structure != "dense" else "dense"
    if not spectrum:
        return out
    if net.structure == "lowrank":
        # the nonzero eigenvalues of scale M N^T are those of the R x R matrix scale N^T M
        ev = np.linalg.eigvals(net.scale * (net.N.T @ net.M))
        out["spectrum"] = {"method": "exact (R x R)", "outlier": _number(np.max(ev.real)),
                           "bulk_radius": 0.0, **_eig_summary(ev)}
    else:
        from lowrank_rnn.theory.spectrum import measure_spectrum

        res = measure_spectrum(net, rng=seed)
        out["spectrum"] = {"method": res.method, "outlier": _number(res.outlier),
                           "bulk_radius": _number(res.bulk_radius),
                           **_eig_summary(res.eigenvalues)}
    return out


def describe(obj: Any, *, spectrum: bool = True, seed: int = 0) -> dict[str, Any]:
    """A JSON-ready description of a loaded object (used by ``lowrank-rnn info``)."""
    from lowrank_rnn.network import LowRankRNN

    kind = type(obj).__name__
    out: dict[str, Any] = {"type": kind}
    if isinstance(obj, LowRankRNN):
        out.update(_network(obj, spectrum, seed))
        return out
    if kind == "FixedDegreeRankOne":
        out.update({"structure": "fixed-degree rank one", "n_neurons": obj.n_neurons,
                    "rank": 1, "c": obj.c, "nnz": obj.nnz, "scale": obj.scale,
                    "n_segments": obj.n_segments})
        if spectrum and obj.n_neurons >= 4:
            out["spectrum"] = {"method": "arpack", "outlier": _number(obj.outlier().value.real)}
        return out
    if kind == "GaussianMixture":
        out.update({"rank": obj.rank, "d_in": obj.d_in, "d_out": obj.d_out,
                    "n_populations": obj.n_populations,
                    "phi": obj.phi, "tau": obj.tau})
        if spectrum:  # the outliers of J in the large-N limit: eigenvalues of the overlaps
            out["spectrum"] = {"method": "overlap matrix",
                               **_eig_summary(np.linalg.eigvals(obj.overlaps()))}
        return out
    if hasattr(obj, "info_") or hasattr(obj, "network"):
        fitted = sorted(k for k in vars(obj) if k.endswith("_") and not k.startswith("_"))
        out["fitted"] = bool(fitted)
        out["attributes"] = fitted
        if hasattr(obj, "info_"):
            from lowrank_rnn.io import _estimator_state

            simple = (type(None), bool, int, float, str)
            out["params"] = {k: v for k, v in _estimator_state(obj)["params"].items()
                             if isinstance(v, simple)}
        for name in ("network_", "network"):
            net = getattr(obj, name, None)
            if isinstance(net, LowRankRNN):
                out["network"] = _network(net, spectrum, seed)
                break
        for name in ("lds_", "rnn_"):
            model = getattr(obj, name, None)
            if model is not None:
                A = model.A if name == "lds_" else model.N.T @ model.M
                out["model"] = {"type": type(model).__name__, "latent_dimension": A.shape[0]}
                if spectrum:
                    out["model"]["spectrum"] = _eig_summary(np.linalg.eigvals(A))
        return out
    if isinstance(obj, dict):
        out["keys"] = [str(k) for k in obj]
        return out
    if isinstance(obj, (list, tuple)):
        out["length"] = len(obj)
    return out


def info_command(
    file: Annotated[Path, typer.Argument(help="A file written by lowrank_rnn.save.")],
    spectrum: Annotated[
        bool, typer.Option("--spectrum/--no-spectrum",
                           help="Measure the spectrum (ARPACK above 3000 neurons).")
    ] = True,
    seed: Annotated[int, typer.Option("--seed", help="Seed of ARPACK's start vector.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Describe a saved network or fitted model: structure, N, rank, inputs/outputs, spectrum,
    and the file's format and package versions."""
    from lowrank_rnn.io import load, read_header

    header = read_header(file)
    obj = load(file)
    out = {
        "file": str(file),
        "format": header["format"],
        "format_version": header["format_version"],
        "package_version": header.get("package_version"),
        "bytes": file.stat().st_size,
        **describe(obj, spectrum=spectrum, seed=seed),
    }
    if as_json:
        typer.echo(json.dumps(out, default=str))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # the file's name and the values stored in it are drawn literally, never as rich markup
    table = Table(title=Text(f"{file.name}: {out['type']}"), show_header=False)
    table.add_column("key")
    table.add_column("value")

    def rows(d: dict[str, Any], prefix: str = "") -> None:
        for key, value in d.items():
            if isinstance(value, dict) and key != "params":
                rows(value, f"{prefix}{key}.")
            else:
                if isinstance(value, float):
                    value = f"{value:.6g}"
                table.add_row(Text(prefix + key), Text(str(value)))

    rows(out)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``info`` command to ``app``."""
    app.command("info")(info_command)
