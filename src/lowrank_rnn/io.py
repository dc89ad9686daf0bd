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
sparse matrices holding any of these.

Writes are atomic (a temporary file beside the target, renamed when complete). Loading a file
that is not ours, truncated, damaged, from a newer format version, or missing arrays raises a
:class:`ValueError` that names the file and what is wrong.

Classes join with :func:`register_format` (any state functions), :func:`register_dataclass` or
:func:`register_estimator`; the library's own classes register themselves in their modules
(:data:`MODULES` says where, so that loading imports only what a file needs) and gain
``obj.save(path)`` / ``cls.load(path)`` from the :class:`Storable` mixin. This module imports
none of them.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import os
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
    "MODULES",
    "Storable",
    "save",
    "load",
    "read_header",
    "register_format",
    "register_dataclass",
    "register_estimator",
    "registered_formats",
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
#: Where the library's own storable types live: each module registers its classes when it is
#: imported, and loading a file imports the module its stored type names (a string table, so
#: this module depends on none of them).
MODULES: dict[str, str] = {
    "LowRankRNN": "lowrank_rnn.network",
    "FixedDegreeRankOne": "lowrank_rnn.large",
    "GaussianMixture": "lowrank_rnn.theory.meanfield",
    "LatentLDS": "lowrank_rnn.models.lds",
    "LinearLowRankRNN": "lowrank_rnn.models.lds",
    "ODEEmbedding": "lowrank_rnn.fit.regression",
    "SmallestRNN": "lowrank_rnn.fit.omp",
    "ReducedRankRNN": "lowrank_rnn.fit.lds",
    "LDSEM": "lowrank_rnn.fit.lds",
    "VectorFieldFit": "lowrank_rnn.fit.populations",
    "ClosedFormSolution": "lowrank_rnn.fit.compare",
    "BPTTTrainer": "lowrank_rnn.fit.bptt",
}


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
    """Stored names and classes of every storable type (importing the library's own)."""
    for name in list(MODULES):
        _resolve_name(name)
    return {name: fmt.cls for name, fmt in sorted(_BY_NAME.items())}


def _resolve_name(name: str) -> _Format | None:
    if name not in _BY_NAME and name in MODULES:
        try:
            importlib.import_module(MODULES[name])
        except ImportError:  # e.g. an optional dependency (torch) that is not installed
            return None
    return _BY_NAME.get(name)


def _resolve_class(cls: type) -> _Format | None:
    return _BY_CLASS.get(cls)


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


# =============================================================================== helpers
def _dataclass_state(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


def register_dataclass(cls: type, *, name: str | None = None) -> None:
    """Register a dataclass whose constructor takes its ``init`` fields (and validates them)."""
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"cls={cls!r}: expected a dataclass")
    register_format(cls, _dataclass_state, lambda state: cls(**state), name=name)


def _estimator_state(obj: Any) -> dict[str, Any]:
    """Hyper-parameters (the constructor's arguments) and learned attributes (``name_``)."""
    sig = inspect.signature(type(obj).__init__)
    params = {
        name: getattr(obj, name) for name, p in sig.parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    fitted = {k: v for k, v in vars(obj).items() if k.endswith("_") and not k.startswith("_")}
    return {"params": params, "fitted": fitted}


def register_estimator(cls: type, *, name: str | None = None) -> None:
    """Register a scikit-learn-style estimator: its hyper-parameters (the constructor's
    arguments, read back from attributes of the same names) and its learned attributes (public
    names ending in ``_``, ``info_`` included) are stored; loading calls the constructor with
    the hyper-parameters and sets the learned attributes."""

    def build(state: dict[str, Any]) -> Any:
        obj = cls(**state["params"])
        for key, value in state["fitted"].items():
            if not key.endswith("_") or key.startswith("_"):
                raise ValueError(f"fitted attribute {key!r}: learned attributes end in '_'")
            setattr(obj, key, value)
        return obj

    register_format(cls, _estimator_state, build, name=name)


class Storable:
    """Mixin: ``obj.save(path)`` and ``cls.load(path)`` through :func:`save` and :func:`load`."""

    __slots__ = ()

    def save(self, path: str | os.PathLike[str], *, compress: bool = False) -> Path:
        """Write this object to ``path`` (see :func:`lowrank_rnn.io.save`); returns the path."""
        return save(self, path, compress=compress)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Read an object of this class from ``path`` (see :func:`lowrank_rnn.io.load`).

        Raises ValueError naming the file if it holds something else or is not a valid file.
        """
        return load(path, expect=cls)
