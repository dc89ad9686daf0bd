"""Atomic file output: nothing half-written is ever left behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "check_output_dir",
    "check_output_file",
    "fsync_path",
    "write_text_atomic",
    "write_json_atomic",
    "save_figure_atomic",
]


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file (or a directory entry table) to the disk: ``fsync`` on an fd opened read-only.

    Before a rename, this makes sure the new name never points at data still only in the page
    cache (a crash or power cut would otherwise leave an empty or truncated file under the final
    name). A directory's ``fsync`` makes the rename itself durable; file systems that refuse it
    for directories (and platforms without ``O_DIRECTORY``) are skipped silently.
    """
    path = Path(path)
    if path.is_dir():
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes 0600 files; give the usual umask-based mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
            fsync_path(tmp_path)
        os.replace(tmp_path, path)
        fsync_path(path.parent)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def save_figure_atomic(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Save a matplotlib figure to ``path`` atomically (format from the suffix of ``path``)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, **kwargs)


def check_output_file(
    name: str, path: str | os.PathLike[str], *, suffixes: tuple[str, ...] | None = None
) -> Path:
    """Check, before any work, that a result can be written to the file ``path``.

    ``path`` must not be a directory; its nearest existing parent must be a writable directory
    (missing parents are created at write time); ``suffixes`` (lower case, with the dot) limits
    the file name's ending. ``name`` is the option or parameter as the user typed it.

    Raises
    ------
    ValueError
        Naming ``name``, the path and what is wrong.
    """
    p = Path(path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise ValueError(
            f"{name}={str(path)!r}: the file name must end in {', '.join(suffixes)}"
        )
    if p.is_dir():
        raise ValueError(f"{name}={str(path)!r}: is a directory; give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise ValueError(f"{name}={str(path)!r}: the file exists and is not writable")
    _check_parent_writable(name, path, p.parent)
    return p


def check_output_dir(name: str, path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that ``path`` is (or can become) a writable directory.

    Raises
    ------
    ValueError
        When ``path`` is an existing file, a directory that is not writable, or would be created
        under a parent that is not writable.
    """
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise ValueError(f"{name}={str(path)!r}: exists and is not a directory")
        if not _can_create_in(p):
            raise ValueError(f"{name}={str(path)!r}: the directory is not writable")
        return p
    _check_parent_writable(name, path, p.parent)
    return p


def _check_parent_writable(name: str, path: Any, parent: Path) -> None:
    anc = parent
    while not anc.exists():
        if anc.parent == anc:
            break
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise ValueError(f"{name}={str(path)!r}: {str(anc)!r} is a file, not a directory")
    if not _can_create_in(anc):
        raise ValueError(f"{name}={str(path)!r}: cannot write into {str(anc)!r} (not writable)")


def _can_create_in(directory: Path) -> bool:
    """Whether a file can be created in ``directory`` (tried: permission bits do not tell for
    root, read-only mounts or special file systems)."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
