"""Scale benchmark of the file format: a rescaled fixed-C network at N = 10^6, C = 100.

Herbert & Ostojic (2022) eq 12, ``P = X ⊙ m n^T`` with exactly C non-zeros per column of X, in
the two forms the library holds it:

* ``fixed_degree``: :class:`lowrank_rnn.large.FixedDegreeRankOne` (m, n and one (N, C) int32
  index array: 4 N C + 16 N bytes);
* ``lowrank_rnn``: :class:`lowrank_rnn.network.LowRankRNN` with the CSR mask X (bool data,
  int32 indices, index pointer) and the loadings.

For each, :func:`lowrank_rnn.save` and :func:`lowrank_rnn.load` are timed and their memory
measured two ways: the peak of Python-traced allocations (``tracemalloc``, numpy reports its
buffers there) and the peak resident set size sampled every 2 ms from ``/proc/self/statm``,
each minus its value before the call, divided by the network's own bytes. Targets: under 5 s
each and under 1.5x the network's memory (for a save, the network plus what the save allocates;
for a load, what the load allocates, the loaded network included). Beside each, the same
arrays written and read with plain ``numpy.save`` / ``numpy.load`` (the reference: the cost of
moving the bytes) give the ratio ours / reference. The file is read back from the page cache
(as right after a save); ``--drop-cache`` is not attempted (it needs root and a quiet machine).

Prints one JSON object. ``--quick``: N = 10^5.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

SECONDS_TARGET = 5.0
MEMORY_TARGET = 1.5
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


class _Peak:
    """Peak RSS and traced memory above their values at entry, over the ``with`` block."""

    def __enter__(self) -> _Peak:
        self.base_rss = _rss()
        self.peak_rss = self.base_rss
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.002):
                self.peak_rss = max(self.peak_rss, _rss())

        self._thread = threading.Thread(target=sample, daemon=True)
        tracemalloc.start()
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, _rss())
        _, self.peak_traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    def result(self, nbytes: int, *, including: bool) -> dict:
        extra = 1.0 if including else 0.0  # a save holds the network already
        return {
            "seconds": round(self.seconds, 3),
            "rss_ratio": round(extra + (self.peak_rss - self.base_rss) / nbytes, 3),
            "traced_ratio": round(extra + self.peak_traced / nbytes, 3),
        }


def _arrays(obj) -> dict[str, np.ndarray]:
    if hasattr(obj, "idx"):
        return {"m": obj.m, "n": obj.n, "idx": obj.idx}
    mask = obj.mask
    return {"M": obj.M, "N": obj.N, "data": mask.data, "indices": mask.indices,
            "indptr": mask.indptr}


def _reference(arrays: dict[str, np.ndarray], folder: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    for k, a in arrays.items():
        np.save(folder / f"{k}.npy", a)
    t_save = time.perf_counter() - t0
    t0 = time.perf_counter()
    back = {k: np.load(folder / f"{k}.npy") for k in arrays}
    t_load = time.perf_counter() - t0
    del back
    for k in arrays:
        (folder / f"{k}.npy").unlink()
    return t_save, t_load


def run(kind: str, n: int, c: int, folder: Path) -> dict:
    import lowrank_rnn
    from lowrank_rnn.large import FixedDegreeRankOne

    t0 = time.perf_counter()
    P = FixedDegreeRankOne.random(n, c, 0.09, 0.06, rng=0)
    obj = P
    if kind == "lowrank_rnn":
        import scipy.sparse as sp

        from lowrank_rnn.network import LowRankRNN

        # X as CSC from the column lists, converted once to the CSR the network holds
        csc = sp.csc_array((np.ones(n * c, dtype=bool), P.idx.reshape(-1),
                            np.arange(0, n * c + 1, c, dtype=np.int64)), shape=(n, n))
        obj = LowRankRNN(M=P.m, N=P.n, mask=csc.tocsr(), scale=1.0)
        del csc, P
    build_s = time.perf_counter() - t0
    arrays = _arrays(obj)
    nbytes = int(sum(a.nbytes for a in arrays.values()))
    path = folder / f"{kind}.npz"
    with _Peak() as save_peak:
        lowrank_rnn.save(obj, path)
    ref_save, ref_load = _reference(arrays, folder)
    probe = {k: a[:: max(1, a.size // 1000)].copy() for k, a in
             ((k, a.reshape(-1)) for k, a in arrays.items())}
    del arrays, obj
    with _Peak() as load_peak:
        back = lowrank_rnn.load(path)
    same = all(np.array_equal(a[:: max(1, a.size // 1000)], probe[k])
               for k, a in ((k, a.reshape(-1)) for k, a in _arrays(back).items()))
    size = path.stat().st_size
    path.unlink()
    save = save_peak.result(nbytes, including=True)
    load = load_peak.result(nbytes, including=False)
    return {
        "n_neurons": n, "c": c, "network_bytes": nbytes, "file_bytes": size,
        "build_seconds": round(build_s, 2), "save": save, "load": load,
        "reference_save_seconds": round(ref_save, 3),
        "reference_load_seconds": round(ref_load, 3),
        "save_ratio_vs_reference": round(save["seconds"] / ref_save, 2),
        "load_ratio_vs_reference": round(load["seconds"] / ref_load, 2),
        "round_trip_equal": bool(same),
        "within_targets": bool(
            save["seconds"] < SECONDS_TARGET and load["seconds"] < SECONDS_TARGET
            and max(save["rss_ratio"], save["traced_ratio"]) < MEMORY_TARGET
            and max(load["rss_ratio"], load["traced_ratio"]) < MEMORY_TARGET
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10^5 instead of 10^6")
    parser.add_argument("--kind", choices=("fixed_degree", "lowrank_rnn", "both"),
                        default="both")
    parser.add_argument("--c", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder for the files (default: a temporary folder)")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    kinds = ("fixed_degree", "lowrank_rnn") if args.kind == "both" else (args.kind,)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        results = {k: run(k, n, args.c, Path(tmp)) for k in kinds}
    out = {
        "benchmark": "io", "cpus": len(os.sched_getaffinity(0)),
        "targets": {"seconds": SECONDS_TARGET, "memory_ratio": MEMORY_TARGET},
        **results,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
