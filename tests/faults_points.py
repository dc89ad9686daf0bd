"""Point functions for the fault tests (a module of its own so Dask workers can import it)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

#: Read by :func:`scaled_point`; the fault tests rewrite a copy of this module to change it.
SCALE = 10.0


def slow_point(a: float, seed: int = 0, delay: float = 0.3) -> dict:
    """``y = 10 a + seed / 1000`` after ``delay`` seconds."""
    time.sleep(delay)
    return {"y": 10.0 * a + 0.001 * seed}


def killer_point(a: float, seed: int = 0, marker_dir: str = "") -> dict:
    """Kills its own worker process every time (so Dask gives up with KilledWorker)."""
    if marker_dir:
        (Path(marker_dir) / f"kill-{os.getpid()}").touch()
    os.kill(os.getpid(), signal.SIGKILL)
    return {"y": a}  # pragma: no cover


def _helper(a: float) -> float:
    return SCALE * a


def scaled_point(a: float, seed: int = 0) -> dict:
    """Depends on a helper and a module constant, not only on its own source."""
    return {"y": _helper(a) + 0.001 * seed}


def markup_point(label: str, seed: int = 0) -> dict:
    """A point with a string grid parameter."""
    return {"n": float(len(label)) + seed}


class CallableObject:
    """A callable that is not a plain function (refused unless --allow-any-callable)."""

    def __call__(self, a: float, seed: int = 0) -> dict:
        return {"y": 2.0 * a + seed}


callable_object = CallableObject()
