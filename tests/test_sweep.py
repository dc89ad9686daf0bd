"""Parameter sweeps: gathering, resumability, Dask equivalence, bad input."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from lowrank_rnn.reproduce._core import sweep_options
from lowrank_rnn.reproduce.herbert2022.points import gaussian_radius_point
from lowrank_rnn.sweep import load_sweep, run_sweep


# --------------------------------------------------------------------------- point functions
def counted_point(a: float, b: int = 0, seed: int = 0, log_dir: str = "",
                  fail_at: str = "", kill_at: str = "") -> dict:
    """A point with a closed-form answer that logs each completed call as a file in ``log_dir``.

    ``fail_at='a,b,seed'`` raises there once, ``kill_at`` kills the worker process there once
    (a marker file remembers that it happened).
    """
    here = f"{a:g},{b},{seed}"
    if fail_at == here and not (Path(log_dir) / "failed").exists():
        (Path(log_dir) / "failed").touch()
        raise RuntimeError(f"planned failure at {here}")
    if kill_at == here and not (Path(log_dir) / "killed").exists():
        (Path(log_dir) / "killed").touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.01)
    (Path(log_dir) / f"{here}.{uuid.uuid4().hex}").touch()
    return {"y": 10.0 * a + b + 0.001 * seed, "v": np.array([a, b, seed], dtype=float)}


def expected_y(a: float, b: int, seed: int) -> float:
    return 10.0 * a + b + 0.001 * seed


def calls(log_dir: Path) -> dict[str, int]:
    """How many times each point was computed to the end."""
    out: dict[str, int] = {}
    for f in log_dir.iterdir():
        if f.name in ("failed", "killed"):
            continue
        key = f.name.rsplit(".", 1)[0]
        out[key] = out.get(key, 0) + 1
    return out


GRID = {"a": [0.5, 1.0, 2.0], "b": [0, 3]}
SEEDS = [0, 7]
N_POINTS = 3 * 2 * 2


def check_dataset(ds, grid=GRID, seeds=SEEDS) -> None:
    """Every entry of the dataset equals the closed-form answer of its coordinates."""
    assert ds["y"].dims == ("a", "b", "seed")
    assert ds["v"].dims == ("a", "b", "seed", "v_dim_0")
    assert list(ds["a"].values) == grid["a"] and list(ds["seed"].values) == seeds
    for a in grid["a"]:
        for b in grid["b"]:
            for s in seeds:
                pt = ds.sel(a=a, b=b, seed=s)
                assert float(pt["y"]) == pytest.approx(expected_y(a, b, s), abs=1e-12)
                np.testing.assert_array_equal(pt["v"].values, [a, b, s])


def identical(ds1, ds2) -> None:
    """Same variables, coordinates and values (attributes such as timings may differ)."""
    assert set(ds1.data_vars) == set(ds2.data_vars)
    for name in ds1.data_vars:
        assert ds1[name].dims == ds2[name].dims
        np.testing.assert_array_equal(ds1[name].values, ds2[name].values)
    for name in ds1.coords:
        np.testing.assert_array_equal(ds1[name].values, ds2[name].values)


# --------------------------------------------------------------------------- serial
def test_serial_sweep_gathers_every_point(tmp_path):
    ds = run_sweep(counted_point, GRID, SEEDS, fixed={"log_dir": str(tmp_path)}, workers=0,
                   progress=False)
    check_dataset(ds)
    assert set(calls(tmp_path).values()) == {1} and len(calls(tmp_path)) == N_POINTS
    assert ds.attrs["points_computed"] == N_POINTS and ds.attrs["points_reused"] == 0


def test_seeds_as_count_and_library_point_function():
    ds = run_sweep(gaussian_radius_point, {"sparsity": [0.0, 0.5]}, 2,
                   fixed={"n_neurons": 40, "g": 1.0}, workers=0, progress=False)
    assert list(ds["seed"].values) == [0, 1]
    for s in (0.0, 0.5):
        for seed in (0, 1):
            direct = gaussian_radius_point(40, 1.0, s, seed=seed)
            assert float(ds["radius"].sel(sparsity=s, seed=seed)) == direct["radius"]
    np.testing.assert_allclose(ds["theory_radius"].isel(seed=0), [1.0, np.sqrt(0.5)])


def test_store_roundtrip_and_progress_callback(tmp_path):
    seen = []
    (tmp_path / "log").mkdir()
    ds = run_sweep(counted_point, GRID, SEEDS, fixed={"log_dir": str(tmp_path / "log")},
                   store=tmp_path / "store", workers=0,
                   progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, N_POINTS) and seen[-1] == (N_POINTS, N_POINTS)
    assert [d for d, _ in seen] == list(range(N_POINTS + 1))
    identical(load_sweep(tmp_path / "store"), ds)
    assert len(list((tmp_path / "store" / "points").glob("*.npz"))) == N_POINTS


@pytest.fixture
def log_dir(tmp_path):
    d = tmp_path / "log"
    d.mkdir()
    return d


def test_changed_parameter_recomputes_exactly_the_affected_points(tmp_path, log_dir):
    store = tmp_path / "store"
    fixed = {"log_dir": str(log_dir)}
    run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store, workers=0, progress=False)
    # rerun unchanged: nothing computed
    ds = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store, workers=0,
                   progress=False)
    assert ds.attrs["points_computed"] == 0 and sum(calls(log_dir).values()) == N_POINTS
    # one grid value changed (a=2.0 -> 2.5): exactly its 2 x 2 points are new
    grid2 = {"a": [0.5, 1.0, 2.5], "b": [0, 3]}
    ds2 = run_sweep(counted_point, grid2, SEEDS, fixed=fixed, store=store, workers=0,
                    progress=False)
    check_dataset(ds2, grid2)
    c = calls(log_dir)
    assert ds2.attrs["points_computed"] == 4 and sum(c.values()) == N_POINTS + 4
    assert {k for k in c if k.startswith("2.5,")} == {"2.5,0,0", "2.5,0,7", "2.5,3,0", "2.5,3,7"}
    assert set(c.values()) == {1}
    # a changed fixed parameter changes every key
    log2 = tmp_path / "log2"
    log2.mkdir()
    ds3 = run_sweep(counted_point, grid2, SEEDS, fixed={"log_dir": str(log2)}, store=store,
                    workers=0, progress=False)
    assert ds3.attrs["points_computed"] == N_POINTS and len(calls(log2)) == N_POINTS


def test_changed_package_version_invalidates(tmp_path, log_dir, monkeypatch):
    import lowrank_rnn

    store, fixed = tmp_path / "store", {"log_dir": str(log_dir)}
    run_sweep(counted_point, {"a": [1.0]}, 2, fixed=fixed, store=store, workers=0,
              progress=False)
    monkeypatch.setattr(lowrank_rnn, "__version__", "999.0")
    ds = run_sweep(counted_point, {"a": [1.0]}, 2, fixed=fixed, store=store, workers=0,
                   progress=False)
    assert ds.attrs["points_computed"] == 2 and ds.attrs["version"] == "999.0"


def test_serial_exception_then_resume_equals_uninterrupted(tmp_path, log_dir):
    store = tmp_path / "store"
    fixed = {"log_dir": str(log_dir), "fail_at": "1,3,0"}  # the 7th of 12 points
    with pytest.raises(RuntimeError, match="planned failure"):
        run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store, workers=0,
                  progress=False)
    assert sum(calls(log_dir).values()) == 6
    ds = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store, workers=0,
                   progress=False)
    assert ds.attrs["points_computed"] == N_POINTS - 6 and ds.attrs["points_reused"] == 6
    c = calls(log_dir)
    assert len(c) == N_POINTS and set(c.values()) == {1}
    check_dataset(ds)


def test_serial_ctrl_c_then_resume(tmp_path, log_dir):
    store, fixed = tmp_path / "store", {"log_dir": str(log_dir)}

    def interrupt_after_5(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store, workers=0,
                  progress=interrupt_after_5)
    assert sum(calls(log_dir).values()) == 5
    ds = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store, workers=0,
                   progress=False)
    c = calls(log_dir)
    assert len(c) == N_POINTS and set(c.values()) == {1}
    check_dataset(ds)


def test_damaged_point_file_is_recomputed(tmp_path, log_dir):
    store, fixed = tmp_path / "store", {"log_dir": str(log_dir)}
    run_sweep(counted_point, {"a": [1.0]}, [0, 1], fixed=fixed, store=store, workers=0,
              progress=False)
    victim = sorted((store / "points").glob("*.npz"))[0]
    victim.write_bytes(b"truncated")
    ds = run_sweep(counted_point, {"a": [1.0]}, [0, 1], fixed=fixed, store=store, workers=0,
                   progress=False)
    assert ds.attrs["points_computed"] == 1
    np.testing.assert_allclose(ds["y"].values, [[10.0, 10.001]])


def test_sweep_options_quick_is_serial(monkeypatch, tmp_path):
    from lowrank_rnn.reproduce._core import Settings

    assert sweep_options(Settings(quick=True)) == {"workers": 0, "progress": False}
    monkeypatch.delenv("LOWRANK_RNN_SWEEP_DIR", raising=False)
    full = sweep_options(Settings(quick=False, scheduler="tcp://h:1", workers=3), "fig")
    assert full["scheduler"] == "tcp://h:1" and full["workers"] == 3 and "store" not in full
    monkeypatch.setenv("LOWRANK_RNN_SWEEP_DIR", str(tmp_path))
    assert sweep_options(Settings(quick=False), "fig")["store"] == tmp_path / "fig"


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"grid": {}}, "grid is empty"),
        ({"grid": {"a": []}}, "empty along 'a'"),
        ({"grid": {"a": [1.0], "zeta": [1]}}, "'zeta': unknown parameter"),
        ({"grid": {"a": [1.0]}, "fixed": {"log_dirr": "x"}}, "'log_dirr': unknown"),
        ({"grid": {"b": [1]}}, "'a': required"),
        ({"grid": {"a": [1.0, 1.0]}}, "distinct"),
        ({"grid": {"a": [1.0, float("nan")]}}, "finite"),
        ({"grid": {"a": [1.0], "seed": [1]}}, "'seed' cannot be a grid parameter"),
        ({"grid": {"a": [1.0]}, "seeds": []}, "at least one seed"),
        ({"grid": {"a": [1.0]}, "seeds": [-1]}, "seeds=-1"),
        ({"grid": {"a": [1.0]}, "workers": -2}, "workers=-2"),
        ({"grid": {"a": [1.0]}, "scheduler": "not an address"}, "scheduler="),
        ({"grid": {"a": [1.0]}, "fixed": {"a": 2.0}}, "give it once"),
    ],
)
def test_bad_input_raises_before_work(kwargs, match, log_dir):
    kw = {"seeds": 2, "workers": 0, "progress": False}
    kw.update(kwargs)
    grid = kw.pop("grid")
    kw.setdefault("fixed", {})
    if "log_dirr" not in kw["fixed"]:
        kw["fixed"] = {**kw["fixed"], "log_dir": str(log_dir)}
    with pytest.raises(ValueError, match=match):
        run_sweep(counted_point, grid, **kw)
    assert calls(log_dir) == {}


def test_function_without_seed_is_rejected():
    def f(a):
        return {"y": a}

    with pytest.raises(ValueError, match="must take a 'seed'"):
        run_sweep(f, {"a": [1]}, 1, workers=0, progress=False)


def test_bad_outputs_are_rejected():
    with pytest.raises(ValueError, match="dict of outputs"):
        run_sweep(lambda a, seed: a, {"a": [1]}, 1, workers=0, progress=False)
    with pytest.raises(ValueError, match="numeric"):
        run_sweep(lambda a, seed: {"y": "text"}, {"a": [1]}, 1, workers=0, progress=False)
    with pytest.raises(ValueError, match="shape"):
        run_sweep(lambda a, seed: {"y": np.zeros(a)}, {"a": [1, 2]}, 1, workers=0,
                  progress=False)


def test_foreign_directory_is_not_used_as_store(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a sweep store"):
        run_sweep(counted_point, {"a": [1.0]}, 1, store=tmp_path, workers=0, progress=False)


def test_unreachable_scheduler_fails_within_seconds():
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="no Dask scheduler reachable"):
        run_sweep(counted_point, {"a": [1.0]}, 1, scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.perf_counter() - t0 < 15


# --------------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def cluster():
    """One 2-worker LocalCluster (processes) shared by the Dask tests of this module."""
    import cloudpickle
    from distributed import LocalCluster

    # the workers cannot import this test module: send its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50)
    try:
        yield lc
    finally:
        lc.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_dask_sweep_equals_serial(cluster, tmp_path):
    log_s, log_d = tmp_path / "s", tmp_path / "d"
    log_s.mkdir()
    log_d.mkdir()
    grid = {"sparsity": [0.0, 0.3, 0.6]}
    fixed = {"n_neurons": 50, "g": 1.0}
    serial = run_sweep(gaussian_radius_point, grid, 3, fixed=fixed, workers=0, progress=False)
    dask = run_sweep(gaussian_radius_point, grid, 3, fixed=fixed,
                     scheduler=cluster.scheduler_address, progress=False)
    identical(serial, dask)
    d1 = run_sweep(counted_point, GRID, SEEDS, fixed={"log_dir": str(log_d)},
                   scheduler=cluster.scheduler_address, progress=False)
    check_dataset(d1)
    c = calls(log_d)
    assert len(c) == N_POINTS and set(c.values()) == {1}


def test_full_mode_options_run_on_the_scheduler(cluster, tmp_path, log_dir, monkeypatch):
    from lowrank_rnn.reproduce._core import Settings

    monkeypatch.setenv("LOWRANK_RNN_SWEEP_DIR", str(tmp_path / "sweeps"))
    opts = sweep_options(Settings(quick=False, scheduler=cluster.scheduler_address), "toy")
    opts["progress"] = False
    ds = run_sweep(counted_point, GRID, SEEDS, fixed={"log_dir": str(log_dir)}, **opts)
    check_dataset(ds)
    assert ds.attrs["runner"] == f"dask {cluster.scheduler_address}"
    identical(load_sweep(tmp_path / "sweeps" / "toy"), ds)


def test_dask_exception_then_resume(cluster, tmp_path, log_dir):
    store = tmp_path / "store"
    fixed = {"log_dir": str(log_dir), "fail_at": "1,0,7"}
    with pytest.raises(RuntimeError, match="planned failure"):
        run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store,
                  scheduler=cluster.scheduler_address, progress=False)
    done_before = sum(calls(log_dir).values())
    assert 0 < done_before < N_POINTS
    ds = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store,
                   scheduler=cluster.scheduler_address, progress=False)
    assert ds.attrs["points_reused"] == done_before
    c = calls(log_dir)
    assert len(c) == N_POINTS and set(c.values()) == {1}  # no point computed twice
    check_dataset(ds)


def test_dask_ctrl_c_then_resume(cluster, tmp_path, log_dir):
    store, fixed = tmp_path / "store", {"log_dir": str(log_dir)}

    def interrupt_after_3(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store,
                  scheduler=cluster.scheduler_address, progress=interrupt_after_3)
    # the points running at the interrupt were finished and stored, no new ones started
    done_before = sum(calls(log_dir).values())
    assert 3 <= done_before < N_POINTS
    ds = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store,
                   scheduler=cluster.scheduler_address, progress=False)
    assert ds.attrs["points_reused"] == done_before
    c = calls(log_dir)
    assert len(c) == N_POINTS and set(c.values()) == {1}
    check_dataset(ds)


def test_dask_killed_worker_loses_nothing(cluster, tmp_path, log_dir):
    store = tmp_path / "store"
    fixed = {"log_dir": str(log_dir), "kill_at": "2,0,0"}
    ds = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store,
                   scheduler=cluster.scheduler_address, progress=False)
    assert (log_dir / "killed").exists()  # a worker really died mid-sweep
    c = calls(log_dir)
    assert len(c) == N_POINTS and set(c.values()) == {1}
    check_dataset(ds)
    again = run_sweep(counted_point, GRID, SEEDS, fixed=fixed, store=store,
                      scheduler=cluster.scheduler_address, progress=False)
    assert again.attrs["points_computed"] == 0
    identical(ds, again)


def pid_point(a: float, seed: int) -> dict:
    """The worker process a point ran in."""
    return {"pid": os.getpid()}


def test_shared_local_cluster_starts_one_cluster_for_all_sweeps(cluster, monkeypatch):
    import lowrank_rnn.sweep as sweep_mod

    started = []
    real = sweep_mod._start_local_cluster

    def counting(n):
        started.append(n)
        return real(n)

    monkeypatch.setattr(sweep_mod, "_start_local_cluster", counting)
    grid = {"a": [0.0, 1.0, 2.0, 3.0]}
    with sweep_mod.shared_local_cluster():
        assert started == []  # lazily: nothing until a Dask sweep runs
        first = run_sweep(pid_point, grid, 2, workers=2, progress=False)
        second = run_sweep(pid_point, grid, 2, workers=2, progress=False)
        shared = sweep_mod._SHARED["slot"][2]
    assert started == [2]
    pids = set(first["pid"].values.ravel().tolist())
    assert pids == set(second["pid"].values.ravel().tolist())
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert shared.status.name == "closed" and sweep_mod._SHARED["slot"] is None
    # outside the block every sweep has its own cluster again (new worker processes)
    third = run_sweep(pid_point, grid, 2, workers=2, progress=False)
    assert started == [2, 2] and not pids & set(third["pid"].values.ravel().tolist())
