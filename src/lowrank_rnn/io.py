"""Save and load every object of the library in one open, versioned file format (no pickle).

A file is a ZIP archive (the layout of numpy's ``.npz``) whose first member is a JSON header,
``lowrank_rnn.json``, followed by one ``.npy`` member per array. The header names the format,
its version, the version of the package that wrote it, the type of the stored object and its
state as a JSON tree in which arrays are references to the ``.npy`` members. Nothing is ever
unpickled: arrays are read with ``allow_pickle=False`` and everything else is JSON. The layout
is documented in ``docs/file-format.md``; any ZIP tool, ``numpy.load`` (for the arrays) and a JSON
parser can read a file without this package.

Usage::

    import lowrank_rnn
    lowrank_rnn.save(net, "net.npz")          # or net.save("net.npz")
    net = lowrank_rnn.load("net.npz")         # or LowRankRNN.load("net.npz")

Stored types: :class:`~lowrank_rnn.network.LowRankRNN` (factors, inputs, readout, a dense or CSR
random part, the CSR mask, scales, tau, phi), :class:`~lowrank_rnn.large.FixedDegreeRankOne`
(plain or segmented index layout), the fitted estimators ``ODEEmbedding``, ``SmallestRNN``,
``ReducedRankRNN``, ``LDSEM`` (hyper-parameters, learned attributes, ``info_``), the models
``LatentLDS``, ``LinearLowRankRNN``, the mean-field ``GaussianMixture``, ``VectorFieldFit`` and
``ClosedFormSolution``; and plain trees of dicts, lists, tuples, numbers, strings, arrays and
sparse matrices holding any of these. Other classes join with :func:`register_format`.

Writes are atomic (a temporary file beside the target, renamed when complete). Loading a file
that is not ours, truncated, damaged, from a newer format version, or missing arrays raises a
:class:`ValueError` that names the file and what is wrong.

The Ostojic lab's ``low_rank_rnns`` package: :func:`from_low_rank_rnns` brings its low-rank
models (state dicts with keys ``wi, si, m, n, wo, so, h0``) in, :func:`to_low_rank_rnns` takes a
network out (see their docstrings for the mapping of conventions).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lowrank_rnn._io import atomic_path

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HEADER_NAME",
    "save",
    "load",
    "read_header",
    "register_format",
    "registered_formats",
    "LowRankRNNsModel",
    "from_low_rank_rnns",
    "to_low_rank_rnns",
]

#: Value of the header's ``format`` field.
FORMAT_NAME = "lowrank-rnn"
#: Version of the layout written by this package; files of higher versions are refused.
FORMAT_VERSION = 1
#: Name of the JSON header, always the archive's first member.
HEADER_NAME = "lowrank_rnn.json"

_ZIP_MAGIC = b"PK\x03\x04"
_LOCAL_NAME_OFFSET = 30  # a ZIP local file header holds the member's name from byte 30 on
_ZIP64_LIMIT = 1 << 30  # arrays above this size get ZIP64 entries from the start
_STORE_ERRORS = (
    ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, KeyError, TypeError,
    OverflowError, UnicodeDecodeError,
)


# =============================================================================== the registry
@dataclass(frozen=True)
class _Format:
    name: str
    cls: type
    to_state: Callable[[Any], Any]
    from_state: Callable[[Any], Any]


_BY_NAME: dict[str, _Format] = {}
_BY_CLASS: dict[type, _Format] = {}
#: Built-in types: stored name -> (module, class name, to_state, from_state); the module is
#: imported only when an object of the type is saved or loaded.
_LAZY: dict[str, tuple[str, str, Callable[[Any], Any], Callable[..., Any]]] = {}
#: Stored names whose module registers the type itself on import (with register_format).
_SELF_REGISTERING: dict[str, str] = {"BPTTTrainer": "lowrank_rnn.fit.bptt"}


def register_format(
    cls: type,
    to_state: Callable[[Any], Any],
    from_state: Callable[[Any], Any],
    *,
    name: str | None = None,
) -> None:
    """Make instances of ``cls`` storable by :func:`save` and :func:`load`.

    Parameters
    ----------
    cls : type
        The class (instances of subclasses are stored only if registered themselves).
    to_state : callable
        ``to_state(obj) -> tree``: the object's state as a tree of dicts (str keys), lists,
        tuples, None, bool, int, float, complex, str, numpy arrays and scalars, scipy sparse
        matrices, numpy Generators and other storable objects.
    from_state : callable
        ``from_state(tree) -> obj``: the inverse (it should validate, e.g. by calling the
        constructor).
    name : str, optional
        The name stored in files (default ``cls.__name__``). Keep it stable: it is how files
        written today find the class tomorrow, wherever the class lives then.
    """
    if not isinstance(cls, type):
        raise ValueError(f"cls={cls!r}: expected a class")
    if not callable(to_state) or not callable(from_state):
        raise ValueError("to_state/from_state: expected two callables")
    name = cls.__name__ if name is None else str(name)
    if not name or name.startswith("$"):
        raise ValueError(f"name={name!r}: must be a non-empty string not starting with '$'")
    fmt = _Format(name, cls, to_state, from_state)
    _BY_NAME[name] = fmt
    _BY_CLASS[cls] = fmt


def registered_formats() -> dict[str, type]:
    """Stored names and classes of every storable type (importing the built-in ones)."""
    for name in list(_LAZY):
        _resolve_name(name)
    return {name: fmt.cls for name, fmt in sorted(_BY_NAME.items())}


def _resolve_name(name: str) -> _Format | None:
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name in _LAZY:
        module, attr, to_state, from_state = _LAZY[name]
        cls = getattr(importlib.import_module(module), attr)
        register_format(cls, to_state, from_state, name=name)
        return _BY_NAME[name]
    if name in _SELF_REGISTERING:
        try:
            importlib.import_module(_SELF_REGISTERING[name])
        except ImportError:
            return None
        return _BY_NAME.get(name)
    return None


def _resolve_class(cls: type) -> _Format | None:
    if cls in _BY_CLASS:
        return _BY_CLASS[cls]
    for name, (module, attr, _, _) in _LAZY.items():
        mod = sys.modules.get(module)
        if mod is not None and getattr(mod, attr, None) is cls:
            return _resolve_name(name)
    return None


# =============================================================================== tree encoding
class _Encoder:
    """Turns a state tree into JSON plus a table of arrays (member name -> array)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _name(self, path: str) -> str:
        base = path.strip("/") or "root"
        name, k = base, 1
        while name in self.arrays:
            k += 1
            name = f"{base}~{k}"
        return name

    def array(self, arr: np.ndarray, path: str) -> dict[str, Any]:
        if arr.dtype.hasobject or arr.dtype.kind == "V":
            raise ValueError(
                f"{path or 'object'}: arrays of dtype {arr.dtype} cannot be stored without "
                "pickle; use numeric, bool or string arrays"
            )
        name = self._name(path)
        self.arrays[name] = arr
        return {"$array": name}

    def encode(self, value: Any, path: str) -> Any:
        import scipy.sparse as sp

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, complex):
            return {"$complex": [self.encode(value.real, path), self.encode(value.imag, path)]}
        if isinstance(value, np.ndarray):
            return self.array(value, path)
        if isinstance(value, np.generic):
            return {"$scalar": self.array(np.asarray(value), path)["$array"]}
        if sp.issparse(value):
            return self._sparse(value, path)
        if isinstance(value, np.random.Generator):
            return {"$generator": self.encode(value.bit_generator.state, path + "/rng")}
        if isinstance(value, Path):
            return {"$path": str(value)}
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            keys = list(value.keys())
            if all(isinstance(k, str) and not k.startswith("$") for k in keys):
                return {k: self.encode(value[k], f"{path}/{k}") for k in keys}
            return {"$items": [[self.encode(k, f"{path}/key{i}"),
                                self.encode(value[k], f"{path}/{i}")]
                               for i, k in enumerate(keys)]}
        fmt = _resolve_class(type(value))
        if fmt is None:
            raise ValueError(
                f"{path or 'object'}: cannot store an object of type {type(value).__name__} "
                "(not a registered format; see lowrank_rnn.io.register_format)"
            )
        return {"$object": fmt.name, "state": self.encode(fmt.to_state(value), path)}

    def _sparse(self, value: Any, path: str) -> dict[str, Any]:
        import scipy.sparse as sp

        kind = value.format
        is_array = isinstance(value, sp.sparray)
        if kind not in ("csr", "csc", "coo"):
            value = value.tocsr()
            kind = "csr"
        if kind == "coo":
            parts = {"data": value.data, "row": value.coords[0], "col": value.coords[1]}
        else:
            parts = {"data": value.data, "indices": value.indices, "indptr": value.indptr}
        return {"$sparse": {
            "format": kind,
            "shape": [int(s) for s in value.shape],
            "sparray": bool(is_array),
            **{k: self.array(np.asarray(v), f"{path}/{k}") for k, v in parts.items()},
        }}


class _Decoder:
    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 or "$object" in value:
            key = next(iter(value)) if "$object" not in value else "$object"
            if key.startswith("$"):
                return self._marker(key, value)
        return {k: self.decode(v) for k, v in value.items()}

    def _marker(self, key: str, value: dict[str, Any]) -> Any:
        body = value[key]
        if key == "$array":
            return self.arrays[body]
        if key == "$scalar":
            return self.arrays[body][()]
        if key == "$float":
            return float(body)
        if key == "$complex":
            return complex(self.decode(body[0]), self.decode(body[1]))
        if key == "$tuple":
            return tuple(self.decode(v) for v in body)
        if key == "$items":
            return {self._key(k): self.decode(v) for k, v in body}
        if key == "$path":
            return Path(body)
        if key == "$generator":
            state = self.decode(body)
            bitgen = getattr(np.random, state["bit_generator"])()
            bitgen.state = state
            return np.random.Generator(bitgen)
        if key == "$sparse":
            return self._sparse(body)
        if key == "$object":
            fmt = _resolve_name(body)
            if fmt is None:
                raise ValueError(f"unknown stored type {body!r} (written by a newer or extended "
                                 "lowrank-rnn?)")
            return fmt.from_state(self.decode(value["state"]))
        raise ValueError(f"unknown marker {key!r} in the header")

    def _key(self, k: Any) -> Any:
        k = self.decode(k)
        return tuple(k) if isinstance(k, list) else k

    def _sparse(self, body: dict[str, Any]) -> Any:
        import scipy.sparse as sp

        shape = tuple(int(s) for s in body["shape"])
        get = {k: self.arrays[body[k]["$array"]] for k in body if isinstance(body[k], dict)}
        kind = body["format"]
        if kind == "coo":
            args = (get["data"], (get["row"], get["col"]))
        else:
            args = (get["data"], get["indices"], get["indptr"])
        cls = {"csr": (sp.csr_array, sp.csr_matrix), "csc": (sp.csc_array, sp.csc_matrix),
               "coo": (sp.coo_array, sp.coo_matrix)}[kind][0 if body["sparray"] else 1]
        return cls(args, shape=shape)


def _array_members(tree: Any) -> set[str]:
    """Names of every array a header tree refers to."""
    out: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k in ("$array", "$scalar") and isinstance(x, str):
                    out.add(x)
                else:
                    walk(x)

    walk(tree)
    return out


# =============================================================================== save / load
def _package_version() -> str:
    from lowrank_rnn import __version__

    return __version__


def save(obj: Any, path: str | os.PathLike[str], *, compress: bool = False) -> Path:
    """Write ``obj`` to ``path`` in the library's file format (atomically; no pickle).

    Parameters
    ----------
    obj : object
        A storable object (see the module docstring) or a tree of dicts, lists, tuples,
        numbers, strings, arrays and storable objects.
    path : str or path
        Target file (any suffix; ``.npz`` lets other tools recognise the ZIP of arrays).
        Its folder is created if needed; an existing file is replaced only once the new one
        is complete.
    compress : bool
        Deflate the members (smaller, slower); default: stored as is.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path={str(path)!r}: is a directory; give a file name")
    enc = _Encoder()
    root = enc.encode(obj, "")
    kind = root.get("$object") if isinstance(root, dict) and "$object" in root else None
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package": "lowrank-rnn",
        "package_version": _package_version(),
        "type": kind if kind is not None else type(obj).__name__,
        "root": root,
        "arrays": {name: {"dtype": a.dtype.str, "shape": list(a.shape)}
                   for name, a in enc.arrays.items()},
    }
    text = json.dumps(header, indent=1, allow_nan=False)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=method,
                                                   allowZip64=True) as zf:
        # the header is the first member, stored uncompressed: its name at byte 30 of the file
        # is the magic that tells our files from other ZIP archives
        zf.writestr(zipfile.ZipInfo(HEADER_NAME, date_time=(1980, 1, 1, 0, 0, 0)), text,
                    compress_type=zipfile.ZIP_STORED)
        for name, arr in enc.arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w", force_zip64=arr.nbytes > _ZIP64_LIMIT) as fh:
                np.lib.format.write_array(fh, arr, allow_pickle=False)
    return path


def _bad(path: Path, what: str) -> ValueError:
    return ValueError(f"{path}: {what}")


def _open_checked(path: str | os.PathLike[str]) -> tuple[Path, zipfile.ZipFile, dict[str, Any]]:
    """Open a file of ours: check magic, archive, header and version; return the header."""
    path = Path(path)
    if not path.exists():
        raise _bad(path, "no such file")
    if path.is_dir():
        raise _bad(path, "is a directory, not a lowrank-rnn file")
    with open(path, "rb") as fh:
        head = fh.read(_LOCAL_NAME_OFFSET + len(HEADER_NAME))
    magic = head[_LOCAL_NAME_OFFSET:] == HEADER_NAME.encode()
    if not head.startswith(_ZIP_MAGIC) or not magic:
        what = (f"a ZIP archive (e.g. numpy .npz) without the {HEADER_NAME} header first"
                if head.startswith(_ZIP_MAGIC) else "not a ZIP archive")
        raise _bad(path, f"not a lowrank-rnn file ({what})")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _bad(path, f"truncated or damaged lowrank-rnn file ({err})") from err
    try:
        header = json.loads(zf.read(HEADER_NAME).decode("utf-8"))
    except _STORE_ERRORS as err:
        zf.close()
        raise _bad(path, f"damaged header {HEADER_NAME} ({err})") from err
    try:
        _check_header(path, header)
    except BaseException:
        zf.close()
        raise
    return path, zf, header


def _check_header(path: Path, header: Any) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise _bad(path, f"not a lowrank-rnn file (header format is not {FORMAT_NAME!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _bad(path, f"invalid format_version {version!r} in the header")
    if version > FORMAT_VERSION:
        raise _bad(
            path,
            f"written in format version {version} by lowrank-rnn "
            f"{header.get('package_version', '?')}; this lowrank-rnn ({_package_version()}) "
            f"reads format versions up to {FORMAT_VERSION}: upgrade lowrank-rnn to load it",
        )
    for key in ("root", "arrays"):
        if key not in header:
            raise _bad(path, f"damaged header: no {key!r} entry")
    if not isinstance(header["arrays"], dict):
        raise _bad(path, "damaged header: 'arrays' is not a table")


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The header of a file (format, versions, stored type, array shapes) without its arrays.

    Raises the same ``ValueError`` as :func:`load` for files that are not ours, truncated, or
    of a newer format version.
    """
    _, zf, header = _open_checked(path)
    zf.close()
    return header


def load(path: str | os.PathLike[str], *, expect: type | tuple[type, ...] | None = None) -> Any:
    """Read an object written by :func:`save`.

    Parameters
    ----------
    path : str or path
    expect : type or tuple of types, optional
        Raise ``ValueError`` unless the loaded object is an instance of these.

    Returns
    -------
    object
        The stored object, rebuilt through its constructor (so it is validated again).

    Raises
    ------
    ValueError
        Naming the file: not a lowrank-rnn file, truncated or damaged, written in a newer
        format version, an array missing or of the wrong dtype/shape, or a stored type this
        package does not know.
    """
    path, zf, header = _open_checked(path)
    with zf:
        members = set(zf.namelist())
        wanted = _array_members(header["root"])
        table = header["arrays"]
        for name in sorted(wanted):
            if name not in table or f"{name}.npy" not in members:
                raise _bad(path, f"missing array {name!r} (truncated or edited file)")
        arrays: dict[str, np.ndarray] = {}
        for name in sorted(wanted):
            try:
                with zf.open(f"{name}.npy") as fh:
                    arr = np.lib.format.read_array(fh, allow_pickle=False)
                    if fh.read(1):
                        raise ValueError("trailing bytes after the array data")
            except _STORE_ERRORS as err:
                raise _bad(path, f"array {name!r} is truncated or damaged ({err})") from err
            want = table[name]
            if arr.dtype.str != want.get("dtype") or list(arr.shape) != list(want.get("shape")):
                raise _bad(path, f"array {name!r} has dtype {arr.dtype.str} and shape "
                                 f"{list(arr.shape)}, the header says {want}")
            arrays[name] = arr
    try:
        obj = _Decoder(arrays).decode(header["root"])
    except _STORE_ERRORS as err:
        raise _bad(path, f"stored {header.get('type', 'object')} could not be rebuilt: "
                         f"{err}") from err
    if expect is not None and not isinstance(obj, expect):
        names = expect.__name__ if isinstance(expect, type) else \
            " or ".join(t.__name__ for t in expect)
        raise _bad(path, f"holds a {type(obj).__name__}, expected a {names}")
    return obj


# =============================================================================== built-in types
def _dataclass_state(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


def _dataclass_from_state(module: str, attr: str) -> Callable[[dict[str, Any]], Any]:
    def build(state: dict[str, Any]) -> Any:
        return getattr(importlib.import_module(module), attr)(**state)

    return build


def _estimator_state(obj: Any) -> dict[str, Any]:
    """Hyper-parameters (the constructor's arguments) and learned attributes (``name_``)."""
    sig = inspect.signature(type(obj).__init__)
    params = {
        name: getattr(obj, name) for name, p in sig.parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    fitted = {k: v for k, v in vars(obj).items() if k.endswith("_") and not k.startswith("_")}
    return {"params": params, "fitted": fitted}


def _estimator_from_state(module: str, attr: str) -> Callable[[dict[str, Any]], Any]:
    def build(state: dict[str, Any]) -> Any:
        obj = getattr(importlib.import_module(module), attr)(**state["params"])
        for key, value in state["fitted"].items():
            if not key.endswith("_") or key.startswith("_"):
                raise ValueError(f"fitted attribute {key!r}: learned attributes end in '_'")
            setattr(obj, key, value)
        return obj

    return build


def _fixed_degree_state(obj: Any) -> dict[str, Any]:
    return {
        "m": obj.m, "n": obj.n, "idx": obj.idx, "counts": obj._counts, "scale": obj.scale,
        "n_threads": obj.n_threads, "dtype": obj.dtype.name, "n_segments": obj.n_segments,
        "segment_length": obj.segment_length,
    }


def _fixed_degree_from_state(state: dict[str, Any]) -> Any:
    from lowrank_rnn import large

    common = {"scale": state["scale"], "n_threads": state["n_threads"], "dtype": state["dtype"]}
    if state["counts"] is None:
        return large.FixedDegreeRankOne(state["m"], state["n"], state["idx"], copy=False,
                                        **common)
    # segmented layout: idx is stored in its reordered form with the per-slice counts; check
    # what the constructor would, then attach the arrays as they are
    m, n, idx, counts = state["m"], state["n"], state["idx"], state["counts"]
    obj = large.FixedDegreeRankOne(m[:1], n[:1], np.zeros((1, 1), np.int32), **common)
    size = m.shape[0]
    n_seg = int(state["n_segments"])
    if (m.shape != (size,) or n.shape != (size,) or idx.dtype != np.int32 or idx.ndim != 2
            or idx.shape[0] != size or counts.shape != (size, n_seg)
            or not np.issubdtype(counts.dtype, np.integer)):
        raise ValueError("FixedDegreeRankOne: inconsistent shapes of m, n, idx and counts")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(n))):
        raise ValueError("FixedDegreeRankOne: m and n must be finite")
    lo, hi = large._index_range(idx, obj.n_threads)
    if lo < 0 or hi >= size:
        raise ValueError(f"idx: row indices must lie in [0, {size - 1}], got [{lo}, {hi}]")
    if np.any(counts.sum(axis=1, dtype=np.int64) != idx.shape[1]):
        raise ValueError("counts: every column's segment counts must add up to C")
    obj.m, obj.n, obj.idx, obj._counts = m.astype(float, copy=False), n.astype(float), idx, counts
    obj.n_segments = n_seg
    obj.segment_length = int(state["segment_length"])
    obj._blocks = None
    return obj


def _register_builtins() -> None:
    dataclasses_ = {
        "LowRankRNN": "lowrank_rnn.network",
        "GaussianMixture": "lowrank_rnn.meanfield",
        "LatentLDS": "lowrank_rnn.lds",
        "LinearLowRankRNN": "lowrank_rnn.lds",
        "VectorFieldFit": "lowrank_rnn.meanfield_fit",
        "ClosedFormSolution": "lowrank_rnn.compare",
    }
    for name, module in dataclasses_.items():
        _LAZY[name] = (module, name, _dataclass_state, _dataclass_from_state(module, name))
    estimators = {
        "ODEEmbedding": "lowrank_rnn.fit.regression",
        "SmallestRNN": "lowrank_rnn.fit.omp",
        "ReducedRankRNN": "lowrank_rnn.lds_fit",
        "LDSEM": "lowrank_rnn.lds_fit",
    }
    for name, module in estimators.items():
        _LAZY[name] = (module, name, _estimator_state, _estimator_from_state(module, name))
    _LAZY["FixedDegreeRankOne"] = ("lowrank_rnn.large", "FixedDegreeRankOne",
                                   _fixed_degree_state, _fixed_degree_from_state)


_register_builtins()


# =============================================================================== low_rank_rnns
@dataclass(frozen=True, eq=False)
class LowRankRNNsModel:
    """A model of the ``low_rank_rnns`` package as a library network plus its settings.

    Attributes
    ----------
    network : LowRankRNN
    x0 : ndarray, shape (N,)
        Initial state (their ``h0``).
    dt : float
        Time step of their discretisation (``alpha * tau``).
    noise : float
        Noise amplitude for :func:`lowrank_rnn.simulate.simulate` equal to their per-step
        ``noise_std`` (``noise = noise_std * tau / sqrt(dt)``).
    """

    network: Any
    x0: np.ndarray
    dt: float
    noise: float = 0.0

    def predict(self, inputs: np.ndarray, *, rng: Any = None, **kwargs: Any) -> np.ndarray:
        """Their ``forward(inputs)``: outputs of shape (batch, time, d_out) after each input.

        Runs :func:`lowrank_rnn.simulate.simulate` from ``x0`` and drops the initial readout.
        """
        from lowrank_rnn.simulate import simulate

        traj = simulate(self.network, inputs, self.x0, dt=self.dt, noise=self.noise, rng=rng,
                        **kwargs)
        return traj.z[:, 1:]


_LRR_KEYS = ("wi", "si", "m", "n", "wo", "so", "h0")


def _state_arrays(source: Any) -> tuple[dict[str, np.ndarray], str]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"state_dict={str(path)!r}: no such file")
        with open(path, "rb") as fh:
            head = fh.read(len(_ZIP_MAGIC) + _LOCAL_NAME_OFFSET + len(HEADER_NAME))
        if path.suffix == ".npz":
            try:
                with np.load(path, allow_pickle=False) as data:
                    raw = {k: data[k] for k in data.files}
            except _STORE_ERRORS as err:
                raise ValueError(f"{path}: not a readable .npz of arrays ({err})") from err
        else:
            try:
                import torch
            except ImportError as err:  # pragma: no cover - torch is an optional extra
                raise ValueError(f"{path}: reading a .pt file needs PyTorch "
                                 "(pip install 'lowrank-rnn[torch]')") from err
            try:
                raw = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as err:  # noqa: BLE001 - every failure of an untrusted file
                kind = "a ZIP archive" if head.startswith(_ZIP_MAGIC) else "not a torch file"
                raise ValueError(f"{path}: not a state dict that loads with "
                                 f"weights_only=True ({kind}: {err})") from err
        label = str(path)
    else:
        raw, label = source, "state_dict"
    if isinstance(raw, Mapping) and "state_dict" in raw and isinstance(raw["state_dict"],
                                                                       Mapping):
        raw = raw["state_dict"]
    if not isinstance(raw, Mapping):
        raise ValueError(f"{label}: expected a mapping of parameter names to tensors, got "
                         f"{type(raw).__name__}")
    out = {}
    for key, value in raw.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().double().numpy()
        out[str(key)] = np.asarray(value, dtype=float)
    return out, label


def from_low_rank_rnns(
    state_dict: Any,
    *,
    alpha: float,
    tau: float = 1.0,
    noise_std: float = 0.0,
    recurrent_scale: str | float = "1/N",
    readout_scale: str | float = "1/N",
    phi: str = "tanh",
) -> LowRankRNNsModel:
    """Import a low-rank model of the Ostojic lab's ``low_rank_rnns`` package.

    Their update (``LowRankRNN.forward``), for inputs ``u_k`` of shape (batch, d_in)::

        h_{k+1} = h_k + noise_std xi_k + alpha (-h_k + phi(h_k) n m^T / N + u_k (si * wi))
        out_k   = phi(h_{k+1}) (wo * so) / N,        h_0 = h0

    with ``wi`` (d_in, N), ``si`` (d_in,), ``m, n`` (N, R), ``wo`` (N, d_out), ``so`` (d_out,),
    ``h0`` (N,). It is the library's equation ("A new look at low-rank RNNs", eq 1-3, as
    :func:`lowrank_rnn.simulate.simulate` integrates it) with ``M = m``, ``N = n``,
    ``scale = 1/N``, ``I = (si * wi)^T``, ``W = wo * so``, ``readout_scale = 1/N``,
    ``dt = alpha tau``, ``x0 = h0`` and ``noise = noise_std tau / sqrt(dt)``; their outputs
    are ``simulate(...).z[:, 1:]`` (:meth:`LowRankRNNsModel.predict`).

    Parameters
    ----------
    state_dict : mapping or path
        Their ``state_dict()`` (torch tensors or numpy arrays), or a ``.pt`` file of it (read
        with ``torch.load(weights_only=True)``: nothing is unpickled) or a ``.npz`` of arrays.
        A bias ``b`` must be zero (the library's phi takes no bias); ``rec_noise`` (older
        versions' quenched random part) becomes the dense random part.
    alpha : float
        Their ``alpha = dt / tau`` (a constructor argument, not in the state dict), in (0, 1].
    tau : float
        The time constant to use (sets ``dt = alpha tau``).
    noise_std : float
        Their per-step noise standard deviation.
    recurrent_scale, readout_scale : '1/N' or float
        Scale of ``m n^T`` and of the readout: ``'1/N'`` as in their current ``LowRankRNN``;
        older versions and variants use 1.
    phi : {'tanh', 'relu', 'linear'}
        Their ``non_linearity`` (tanh by default; the output non-linearity must be the same).

    Returns
    -------
    LowRankRNNsModel
    """
    from lowrank_rnn._validate import check_choice, check_real
    from lowrank_rnn.network import LowRankRNN
    from lowrank_rnn.transfer import PHI_NAMES

    alpha = check_real("alpha", alpha, minimum=0.0, maximum=1.0, min_inclusive=False)
    tau = check_real("tau", tau, minimum=0.0, min_inclusive=False)
    noise_std = check_real("noise_std", noise_std, minimum=0.0)
    check_choice("phi", phi, PHI_NAMES)
    arrays, label = _state_arrays(state_dict)
    missing = [k for k in ("m", "n", "wo") if k not in arrays]
    if missing:
        raise ValueError(f"{label}: missing keys {missing}; a low_rank_rnns LowRankRNN state "
                         f"dict has {', '.join(_LRR_KEYS)}")
    m, n, wo = arrays["m"], arrays["n"], arrays["wo"]
    if m.ndim != 2 or n.shape != m.shape:
        raise ValueError(f"{label}: m and n must both have shape (N, rank), got {m.shape} "
                         f"and {n.shape}")
    size = m.shape[0]
    if wo.ndim != 2 or wo.shape[0] != size:
        raise ValueError(f"{label}: wo must have shape ({size}, d_out), got {wo.shape}")
    so = arrays.get("so", np.ones(wo.shape[1]))
    if so.shape != (wo.shape[1],):
        raise ValueError(f"{label}: so must have shape ({wo.shape[1]},), got {so.shape}")
    I = None
    if "wi" in arrays and arrays["wi"].size:
        wi = arrays["wi"]
        if wi.ndim != 2 or wi.shape[1] != size:
            raise ValueError(f"{label}: wi must have shape (d_in, {size}), got {wi.shape}")
        si = arrays.get("si", np.ones(wi.shape[0]))
        if si.shape != (wi.shape[0],):
            raise ValueError(f"{label}: si must have shape ({wi.shape[0]},), got {si.shape}")
        I = (si[:, None] * wi).T
    h0 = arrays.get("h0", np.zeros(size))
    if h0.shape != (size,):
        raise ValueError(f"{label}: h0 must have shape ({size},), got {h0.shape}")
    b = arrays.get("b")
    if b is not None and np.any(b != 0):
        raise ValueError(f"{label}: a non-zero bias b (phi(h + b)) has no counterpart in the "
                         "library's equation")
    random = arrays.get("rec_noise")
    if random is not None and not np.any(random):
        random = None

    def scale_of(name: str, value: str | float) -> float:
        if isinstance(value, str):
            check_choice(name, value, ("1/N",))
            return 1.0 / size
        return check_real(name, value)

    dt = alpha * tau
    net = LowRankRNN(
        M=m, N=n, I=I, W=wo * so[None, :], random=random,
        scale=scale_of("recurrent_scale", recurrent_scale),
        readout_scale=scale_of("readout_scale", readout_scale), tau=tau, phi=phi,
    )
    return LowRankRNNsModel(net, h0, dt, noise_std * tau / math.sqrt(dt))


def to_low_rank_rnns(
    net: Any,
    *,
    dt: float,
    x0: np.ndarray | None = None,
    noise: float = 0.0,
    path: str | os.PathLike[str] | None = None,
    include_bias: bool = True,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Export a pure low-rank network to the ``low_rank_rnns`` conventions (inverse of
    :func:`from_low_rank_rnns`).

    ``m = M``, ``n = N scale N_neurons`` (so that ``m n^T / N = scale M N^T``),
    ``wi = I^T``, ``si = 1``, ``wo = W readout_scale N_neurons``, ``so = 1``, ``h0 = x0``,
    ``alpha = dt / tau``, ``noise_std = noise sqrt(dt) / tau``.

    Parameters
    ----------
    net : LowRankRNN
        Without mask or random part, with a readout W.
    dt : float
        Time step (> 0, at most tau: their alpha is at most 1).
    x0 : ndarray, shape (N,), optional
        Initial state (zeros by default).
    noise : float
        The library's noise amplitude (see :func:`lowrank_rnn.simulate.simulate`).
    path : path, optional
        Also write the state dict there with ``torch.save`` (atomically).
    include_bias : bool
        Add their bias ``b = 0`` (present in current versions; drop it for older ones).
    dtype : {'float32', 'float64'}

    Returns
    -------
    dict
        ``state_dict`` (torch tensors with keys ``wi, si, m, n, wo, so, h0`` (and ``b``)),
        and the constructor arguments ``input_size``, ``hidden_size``, ``output_size``,
        ``rank``, ``alpha``, ``noise_std``.
    """
    from lowrank_rnn._validate import check_choice, check_real
    from lowrank_rnn.network import LowRankRNN

    if not isinstance(net, LowRankRNN):
        raise ValueError(f"net: expected a LowRankRNN, got {type(net).__name__}")
    if net.structure != "lowrank":
        raise ValueError(f"net: structure {net.structure!r}; low_rank_rnns' LowRankRNN holds only "
                         "the factors m, n (no mask, no random part)")
    if net.W is None:
        raise ValueError("net: has no readout W; low_rank_rnns models always have one (wo)")
    dt = check_real("dt", dt, minimum=0.0, maximum=net.tau, min_inclusive=False)
    noise = check_real("noise", noise, minimum=0.0)
    check_choice("dtype", dtype, ("float32", "float64"))
    size = net.n_neurons
    if x0 is None:
        x0 = np.zeros(size)
    x0 = np.asarray(x0, dtype=float)
    if x0.shape != (size,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0: expected a finite array of shape ({size},), got {x0.shape}")
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is an optional extra
        raise ValueError("to_low_rank_rnns: needs PyTorch (pip install 'lowrank-rnn[torch]')") \
            from err
    tdt = torch.float32 if dtype == "float32" else torch.float64
    d_in = net.d_in
    wi = net.I.T if net.I is not None else np.zeros((0, size))
    arrays = {
        "wi": wi, "si": np.ones(d_in), "m": net.M, "n": net.N * (net.scale * size),
        "wo": net.W * (net.readout_scale * size), "so": np.ones(net.d_out), "h0": x0,
    }
    if include_bias:
        arrays["b"] = np.zeros(size)
    state = {k: torch.tensor(np.ascontiguousarray(v), dtype=tdt) for k, v in arrays.items()}
    if path is not None:
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
    return {
        "state_dict": state, "input_size": d_in, "hidden_size": size,
        "output_size": net.d_out, "rank": net.rank, "alpha": dt / net.tau,
        "noise_std": noise * math.sqrt(dt) / net.tau, "non_linearity": net.phi,
    }
