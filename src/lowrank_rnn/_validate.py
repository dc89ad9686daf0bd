"""Argument validation at the boundary.

Every public function checks its arguments with these helpers before doing any work, so that a
bad argument raises a :class:`ValueError` that names the parameter, the value received and what
is allowed (Nengo's parameter-descriptor habit).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

RngLike = np.random.Generator | int | np.integer | None

__all__ = [
    "RngLike",
    "as_rng",
    "check_array",
    "check_choice",
    "check_finite",
    "check_int",
    "check_psd",
    "check_real",
    "check_memory",
    "available_memory",
    "format_bytes",
]


def as_rng(rng: RngLike, name: str = "rng") -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from a Generator, an int seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and int(rng) < 0:
            raise ValueError(f"{name}={rng!r}: a seed must be a non-negative integer")
        return np.random.default_rng(None if rng is None else int(rng))
    raise ValueError(
        f"{name}={rng!r}: expected a numpy.random.Generator, a non-negative int seed or None"
    )


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Check that ``value`` is an integer within ``[minimum, maximum]`` and return it as int.

    Booleans and floats (even ``100.0``) are refused: a count given as a float is usually a
    mistake (``1e12`` typed for ``10**12``), and ``True`` is not a number of anything.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={value!r}: expected an integer")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value}: must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value}: must be <= {maximum}")
    return value


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number within the given bounds and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r}: expected a real number")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}={value}: must be finite")
    if minimum is not None:
        bad = value < minimum if min_inclusive else value <= minimum
        if bad:
            op = ">=" if min_inclusive else ">"
            raise ValueError(f"{name}={value}: must be {op} {minimum}")
    if maximum is not None:
        bad = value > maximum if max_inclusive else value >= maximum
        if bad:
            op = "<=" if max_inclusive else "<"
            raise ValueError(f"{name}={value}: must be {op} {maximum}")
    return value


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: must be one of {', '.join(map(repr, allowed))}")
    return value


def check_finite(name: str, array: Any, *, allow_complex: bool = True) -> np.ndarray:
    """Return ``array`` as a numeric ndarray, raising if any entry is NaN or infinite.

    ``allow_complex=False`` refuses a complex array (instead of its imaginary part being cut
    off silently by a later cast to float).
    """
    arr = np.asarray(array)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if not allow_complex and np.iscomplexobj(arr):
        raise ValueError(f"{name}: expected a real array, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: contains {n_bad} non-finite value(s); all must be finite")
    return arr


def check_array(
    name: str,
    array: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    allow_complex: bool = True,
) -> np.ndarray:
    """Check a finite numeric array's dimensionality and shape (``None`` = any size)."""
    arr = check_finite(name, array, allow_complex=allow_complex)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)
        ):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name}: expected shape {want}, got {arr.shape}")
    return arr


def check_psd(name: str, matrix: Any, *, atol: float = 1e-10) -> np.ndarray:
    """Check that ``matrix`` is a finite, symmetric, positive semi-definite square matrix."""
    mat = check_array(name, matrix, ndim=2)
    if mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{name}: a covariance must be square, got shape {mat.shape}")
    scale = max(1.0, float(np.max(np.abs(mat)))) if mat.size else 1.0
    if not np.allclose(mat, mat.T, atol=atol * scale):
        raise ValueError(f"{name}: a covariance must be symmetric")
    eig = np.linalg.eigvalsh(mat) if mat.size else np.zeros(0)
    if eig.size and eig.min() < -atol * scale:
        raise ValueError(
            f"{name}: not positive semi-definite (smallest eigenvalue {eig.min():.3g}); "
            "a covariance matrix must have non-negative eigenvalues"
        )
    return mat.astype(float)


def available_memory() -> int:
    """Bytes of memory this process can still allocate without swapping (best estimate).

    ``MemAvailable`` of ``/proc/meminfo`` where there is one, else the physical memory; capped
    by a cgroup (container) limit when one is set.
    """
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            import os

            avail = int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            avail = 8 << 30  # an ordinary laptop, when the platform does not say
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file, encoding="ascii") as fh:
                text = fh.read().strip()
            if text.isdigit():
                avail = min(avail, int(text))
        except OSError:
            pass
    return int(avail)


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps the number >= 1 (``'8.0 TiB'``)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(n) < 1024 or unit == "EiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_memory(name: str, value: Any, n_bytes: float, what: str) -> None:
    """Refuse a request whose memory estimate ``n_bytes`` exceeds what this machine has free.

    Called before anything is allocated. ``name``/``value`` are the argument that sets the size
    (named as the user typed it), ``what`` says what the memory is for.

    Raises
    ------
    ValueError
        ``"<name>=<value>: needs about <estimate> of memory for <what>; this machine has about
        <available> free"`` when the estimate does not fit.
    """
    avail = available_memory()
    if not n_bytes <= avail:
        raise ValueError(
            f"{name}={value}: needs about {format_bytes(n_bytes)} of memory for {what}; "
            f"this machine has about {format_bytes(avail)} free"
        )
