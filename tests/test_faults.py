"""Faults: interrupts, dead workers, full disks, stale stores, concurrent runs, unsafe input.

Each test provokes the fault for real where that is cheap (a real SIGINT to a real process
group, real killed Dask workers, real concurrent sweeps) and otherwise makes the operating
system call fail as it would (``ENOSPC`` from the write). What must hold: the command says what
happened in one line and exits non-zero, nothing half-written is left, every finished point is
kept, and the rerun gives the same result as an uninterrupted run.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import faults_points
import numpy as np
import pytest

import lowrank_rnn.reproduce as reproduce_mod
import lowrank_rnn.sweep as sweep_mod
from lowrank_rnn.cli import main
from lowrank_rnn.reproduce._core import Checks, FigureData, FigureSpec, Paper, Settings
from lowrank_rnn.sweep import load_sweep, run_sweep

TESTS = Path(__file__).resolve().parent


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def stored(store: Path) -> list[Path]:
    return sorted((store / "points").glob("*.npz"))


def expected_y(a: float, seed: int) -> float:
    return 10.0 * a + 0.001 * seed


# --------------------------------------------------------------------------- 1: Ctrl-C
DRIVER = """
import sys
from faults_points import slow_point
from lowrank_rnn.sweep import run_sweep
if __name__ == "__main__":
    run_sweep(slow_point, {"a": [float(i) for i in range(16)]}, 2, store=sys.argv[1],
              workers=2, progress=False)
"""


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_exits_fast_and_keeps_points(tmp_path: Path) -> None:
    """SIGINT to the whole group (a terminal's Ctrl-C) also kills the Dask workers: the sweep
    must still exit within 10 s, keep every finished point, and the rerun must be identical."""
    script, store = tmp_path / "drive.py", tmp_path / "store"
    script.write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    proc = subprocess.Popen([sys.executable, str(script), str(store)], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(stored(store)) < 4 if (store / "points").exists() else True:
            assert time.monotonic() < deadline and proc.poll() is None, "sweep never started"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        t0 = time.monotonic()
        rc = proc.wait(timeout=30)
        seconds = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc != 0 and seconds < 10, (rc, seconds)
    kept = stored(store)
    assert 4 <= len(kept) < 32
    for path in kept:  # every stored point is complete and right
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            assert float(z["out_y"]) == expected_y(meta["params"]["a"], meta["seed"])
    ds = run_sweep(faults_points.slow_point, {"a": [float(i) for i in range(16)]}, 2,
                   fixed={"delay": 0.0}, workers=0, progress=False)  # the reference
    again = run_sweep(faults_points.slow_point, {"a": [float(i) for i in range(16)]}, 2,
                      store=store, workers=0, progress=False)
    assert again.attrs["points_reused"] == len(kept)
    np.testing.assert_array_equal(again["y"].values, ds["y"].values)


# --------------------------------------------------------------------------- 2, 3: reproduce
CALLS: list[str] = []


def _compute(settings: Settings) -> FigureData:
    CALLS.append("compute")
    c = Checks("toy", "Fig 1")
    c.close("seed is the seed", float(settings.seed), float(settings.seed), 0.0)
    return FigureData({"seed": settings.seed}, c, {"seed": settings.seed})


def _plot(fd: FigureData, path: Path) -> None:
    # a tiny PNG whose bytes depend on the run's seed (so two runs' images differ)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title(str(fd.data["seed"]))
    fig.savefig(path, format="png", dpi=30)
    plt.close(fig)


def _interrupting_compute(settings: Settings) -> FigureData:
    raise KeyboardInterrupt


TOY = Paper("toy", "Toy", (FigureSpec("Fig 1", "one", _compute, _plot),
                           FigureSpec("Fig 2", "two", _compute, _plot)))
BREAKS = Paper("breaks", "Breaks", (FigureSpec("Fig 1", "one", _compute, _plot),
                                    FigureSpec("Fig 2", "stops", _interrupting_compute, _plot)))


@pytest.fixture
def toy_papers(monkeypatch: pytest.MonkeyPatch) -> None:
    papers = {"toy": TOY, "breaks": BREAKS}
    monkeypatch.setattr(reproduce_mod, "validate_papers", lambda keys: list(keys))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: papers[key])
    monkeypatch.setattr(reproduce_mod, "_versions", lambda: {"lowrank-rnn": "0.test"})
    CALLS.clear()


def snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def embedded_images(report: Path) -> list[bytes]:
    import base64

    html = report.read_text()
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)",
                                                     html)]


def test_reproduce_outputs_appear_together_and_report_embeds_its_own(tmp_path, toy_papers):
    out = tmp_path / "results"
    reproduce_mod.reproduce(["toy"], out, Settings(seed=1))
    first = snapshot(out)
    assert {"report.html", "checks.json", reproduce_mod.MANIFEST} <= set(first)
    pngs = {k: v for k, v in first.items() if k.endswith(".png")}
    assert len(pngs) == 2 and sorted(embedded_images(out / "report.html")) == sorted(pngs.values())
    # an interrupted second run leaves the first run's directory exactly as it was
    with pytest.raises(KeyboardInterrupt):
        reproduce_mod.reproduce(["breaks"], out, Settings(seed=2))
    assert snapshot(out) == first
    assert not [p for p in tmp_path.iterdir() if p.name != "results"]  # no staging left over
    # a complete second run replaces the first whole: its own images, its own report
    reproduce_mod.reproduce(["toy"], out, Settings(seed=3))
    second = snapshot(out)
    pngs2 = {k: v for k, v in second.items() if k.endswith(".png")}
    assert sorted(embedded_images(out / "report.html")) == sorted(pngs2.values())
    assert set(pngs2.values()).isdisjoint(pngs.values())
    assert json.loads(second["checks.json"])[0]["measured"] == 3.0


def test_two_concurrent_runs_into_one_directory_leave_one_consistent_run(tmp_path, toy_papers):
    out = tmp_path / "results"
    errors: list[BaseException] = []

    def run(seed: int) -> None:
        try:
            reproduce_mod.reproduce(["toy"], out, Settings(seed=seed))
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=run, args=(s,)) for s in (11, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    checks = json.loads((out / "checks.json").read_text())
    seed = checks[0]["measured"]
    assert seed in (11.0, 12.0) and all(r["measured"] == seed for r in checks)
    pngs = sorted(p.read_bytes() for p in out.glob("*.png"))
    assert len(pngs) == 2 and sorted(embedded_images(out / "report.html")) == pngs


@pytest.mark.parametrize("setup", ["file", "report_dir", "foreign"])
def test_reproduce_refuses_a_bad_out_before_any_figure(tmp_path, toy_papers, setup):
    out = tmp_path / "results"
    if setup == "file":
        out.write_text("x")
    else:
        out.mkdir()
        (out / ("report.html" if setup == "report_dir" else "mine.txt")).mkdir()
    with pytest.raises(ValueError, match="out_dir="):
        reproduce_mod.reproduce(["toy"], out, Settings())
    assert CALLS == []


def test_reproduce_disk_full_while_drawing_is_an_io_error(tmp_path, toy_papers, monkeypatch,
                                                          capsys):
    """A failed PNG write is a fault of the machine (exit 1, one line), not a failed check,
    and leaves the output directory as it was."""
    import lowrank_rnn.commands.reproduce  # noqa: F401 - the command imports reproduce lazily

    out = tmp_path / "results"
    reproduce_mod.reproduce(["toy"], out, Settings(seed=1))
    before = snapshot(out)

    def full(fd, path):  # noqa: ANN001
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    broken = Paper("toy", "Toy", (TOY.figures[0], FigureSpec("Fig 2", "two", _compute, full)))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: broken)
    with pytest.raises(OSError):
        reproduce_mod.reproduce(["toy"], out, Settings(seed=2))
    assert snapshot(out) == before
    code, _, err = run_cli(["reproduce", "toy", "--out", str(out)], capsys)
    # not a terminal: the figures' progress lines come first; the error is the one other line
    line = one_line("\n".join(ln for ln in err.splitlines()
                              if not ln.startswith("[reproduce ")))
    assert err.rstrip().splitlines()[-1] == line
    assert code == 1 and "no space left" in line and "rerun" in line
    assert snapshot(out) == before


# --------------------------------------------------------------------------- 4: stale results
def test_failed_rerun_with_changed_parameters_does_not_leave_a_stale_dataset(tmp_path):
    store = tmp_path / "store"
    ds = run_sweep(faults_points.slow_point, {"a": [1.0, 2.0]}, 2, fixed={"delay": 0.0},
                   store=store, workers=0, progress=False)
    np.testing.assert_allclose(load_sweep(store)["y"].values, ds["y"].values)

    def stop_after_one(done, total):  # 2 points reused (a = 1), then one new one computed
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(faults_points.slow_point, {"a": [1.0, 3.0]}, 2, fixed={"delay": 0.0},
                  store=store, workers=0, progress=stop_after_one)
    with pytest.raises(ValueError, match="not the sweep sweep.json describes|no finished"):
        load_sweep(store)
    done = run_sweep(faults_points.slow_point, {"a": [1.0, 3.0]}, 2, fixed={"delay": 0.0},
                     store=store, workers=0, progress=False)
    np.testing.assert_allclose(load_sweep(store)["y"].values, done["y"].values)
    assert done.attrs["points_reused"] >= 2


def test_key_covers_the_module_and_the_package_source(tmp_path, monkeypatch):
    """A change in a helper's module constant, or anywhere in the package, recomputes."""
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    src = (TESTS / "faults_points.py").read_text()
    (mod_dir / "stale_points.py").write_text(src)
    monkeypatch.syspath_prepend(str(mod_dir))
    mod = importlib.import_module("stale_points")
    store = tmp_path / "store"
    ds1 = run_sweep(mod.scaled_point, {"a": [1.0, 2.0]}, 2, store=store, workers=0,
                    progress=False)
    np.testing.assert_allclose(ds1["y"].sel(seed=0).values, [10.0, 20.0])
    (mod_dir / "stale_points.py").write_text(src.replace("SCALE = 10.0", "SCALE = 3.0"))
    mod = importlib.reload(mod)
    ds2 = run_sweep(mod.scaled_point, {"a": [1.0, 2.0]}, 2, store=store, workers=0,
                    progress=False)
    assert ds2.attrs["points_computed"] == 4
    np.testing.assert_allclose(ds2["y"].sel(seed=0).values, [3.0, 6.0])
    # unchanged code: reused
    ds3 = run_sweep(mod.scaled_point, {"a": [1.0, 2.0]}, 2, store=store, workers=0,
                    progress=False)
    assert ds3.attrs["points_reused"] == 4
    # the package's source changed (as if a file of lowrank_rnn had been edited): recomputed
    monkeypatch.setattr(sweep_mod, "_PACKAGE_SHA", ["0" * 16])
    ds4 = run_sweep(mod.scaled_point, {"a": [1.0, 2.0]}, 2, store=store, workers=0,
                    progress=False)
    assert ds4.attrs["points_computed"] == 4


def test_package_source_hash_reads_every_module(monkeypatch) -> None:
    import hashlib

    monkeypatch.setattr(sweep_mod, "_PACKAGE_SHA", [])  # computed afresh, from the files now

    import lowrank_rnn

    root = Path(lowrank_rnn.__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    assert sweep_mod.package_source_sha256() == h.hexdigest()[:16]


# --------------------------------------------------------------------------- 5: scheduler
def test_reproduce_full_with_an_unreachable_scheduler_exits_2_before_any_figure(tmp_path,
                                                                                capsys):
    t0 = time.perf_counter()
    code, _, err = run_cli(["reproduce", "linearization", "--full", "--scheduler",
                            "tcp://127.0.0.1:9", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "--scheduler" in one_line(err)
    assert time.perf_counter() - t0 < 15 and not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- 6: dead workers, disk
@pytest.mark.slow
def test_repeatedly_killed_worker_is_one_line_exit_1(tmp_path, capsys):
    """Real worker deaths: Dask gives up on the point with KilledWorker."""
    marker = tmp_path / "kills"
    marker.mkdir()
    cfg = tmp_path / "k.toml"
    cfg.write_text(f'function = "faults_points:killer_point"\nseeds = 1\n'
                   f'[fixed]\nmarker_dir = "{marker}"\n[grid]\na = [1.0]\n')
    code, _, err = run_cli(["sweep", str(cfg), "--workers", "1", "--out", str(tmp_path / "s")],
                           capsys)
    line = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert code == 1 and len(line) == 1, err
    assert "worker died" in line[0] and "rerun" in line[0]
    assert len(list(marker.iterdir())) >= 2  # the worker really died more than once


def test_killed_worker_message(tmp_path, monkeypatch, capsys):
    """The CLI's handling of Dask's KilledWorker (provoked for real in the slow test)."""
    from distributed import KilledWorker

    cfg = tmp_path / "c.toml"
    cfg.write_text('function = "gaussian_radius"\nseeds = 1\n[fixed]\nn_neurons = 10\n'
                   "[grid]\ng = [1.0]\n")

    def killed(*args, **kwargs):  # noqa: ANN002, ANN003
        from types import SimpleNamespace

        raise KilledWorker("sweep-abc", SimpleNamespace(address="tcp://127.0.0.1:1"), 3)

    monkeypatch.setattr(sweep_mod, "run_sweep", killed)
    code, _, err = run_cli(["sweep", str(cfg), "--out", str(tmp_path / "s")], capsys)
    line = one_line(err)
    assert code == 1 and "worker died" in line and "rerun" in line


def test_disk_full_during_a_sweep_keeps_points_and_resumes(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('function = "faults_points:slow_point"\nseeds = 2\n[fixed]\ndelay = 0.0\n'
                   "[grid]\na = [1.0, 2.0, 3.0]\n")
    store = tmp_path / "s"
    real = sweep_mod._write_point
    count = {"n": 0}

    def filling(store_, point, meta, outputs):  # noqa: ANN001
        count["n"] += 1
        if count["n"] == 3:  # the disk fills up at the third point, mid-write
            from lowrank_rnn._io import atomic_path

            with atomic_path(sweep_mod._point_path(store_, point.key)) as tmp:
                tmp.write_bytes(b"half a record")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
        real(store_, point, meta, outputs)

    monkeypatch.setattr(sweep_mod, "_write_point", filling)
    code, _, err = run_cli(["sweep", str(cfg), "--workers", "0", "--out", str(store)], capsys)
    line = one_line(err)
    assert code == 1 and "no space left" in line and "rerun" in line
    assert len(stored(store)) == 2
    assert sorted(p.name for p in (store / "points").iterdir()) == [p.name for p in stored(store)]
    monkeypatch.setattr(sweep_mod, "_write_point", real)
    code, out, _ = run_cli(["sweep", str(cfg), "--workers", "0", "--out", str(store), "--json"],
                           capsys)
    info = json.loads(out)
    assert code == 0 and info["reused"] == 2 and info["computed"] == 4
    ds = load_sweep(store)
    for a in (1.0, 2.0, 3.0):
        for s in (0, 1):
            assert float(ds["y"].sel(a=a, seed=s)) == expected_y(a, s)


# --------------------------------------------------------------------------- 7: concurrency
def test_a_second_sweep_on_a_busy_store_is_refused_at_once(tmp_path):
    store = tmp_path / "store"
    started = threading.Event()
    result: dict = {}

    def progress(done, total):
        started.set()

    def first() -> None:
        result["ds"] = run_sweep(faults_points.slow_point, {"a": [1.0, 2.0, 3.0]}, 2,
                                 fixed={"delay": 0.2}, store=store, workers=0,
                                 progress=progress)

    t = threading.Thread(target=first)
    t.start()
    assert started.wait(30)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="another sweep is running"):
        run_sweep(faults_points.slow_point, {"a": [1.0, 2.0, 3.0]}, 2, fixed={"delay": 0.2},
                  store=store, workers=0, progress=False)
    assert time.perf_counter() - t0 < 2
    t.join()
    assert result["ds"].attrs["points_computed"] == 6 and len(stored(store)) == 6
    again = run_sweep(faults_points.slow_point, {"a": [1.0, 2.0, 3.0]}, 2,
                      fixed={"delay": 0.2}, store=store, workers=0, progress=False)
    assert again.attrs["points_computed"] == 0  # the lock is released after the run


# --------------------------------------------------------------------------- 9: every point first
def test_every_grid_point_is_validated_before_the_first_runs(tmp_path):
    from lowrank_rnn.reproduce.herbert2022.points import rank_one_spectrum_point

    store = tmp_path / "store"
    with pytest.raises(ValueError, match=r"sparsity=1\.5.*at grid point sparsity=1\.5"):
        run_sweep(rank_one_spectrum_point, {"sparsity": [0.0, 0.5, 1.5]}, 3,
                  fixed={"n_neurons": 30, "sigma2": 0.1, "sigma_mn": 0.05}, store=store,
                  workers=0, progress=False)
    assert not store.exists() or not stored(store)


# --------------------------------------------------------------------------- 12: markup
def test_string_grid_values_are_printed_literally(tmp_path, capsys):
    cfg = tmp_path / "m.toml"
    cfg.write_text('function = "faults_points:markup_point"\nseeds = 1\n'
                   '[grid]\nlabel = ["[/]", "[bold]x", "[red]"]\n')
    code, out, err = run_cli(["sweep", str(cfg), "--workers", "0", "--out",
                              str(tmp_path / "[s]")], capsys)
    assert code == 0, err
    assert "[/]" in out and "[bold]x" in out and "[red]" in out


def test_info_prints_a_file_name_with_brackets_literally(tmp_path, capsys):
    from lowrank_rnn.connectivity import rank_one_network
    from lowrank_rnn.io import save

    path = tmp_path / "[red]net[x.lrnn"  # would be markup (red, then a bad tag)
    save(rank_one_network(20, 0.1, 0.05, rng=0), path)
    code, out, err = run_cli(["info", str(path)], capsys)
    assert code == 0, err
    assert "[red]net[x.lrnn" in out


# --------------------------------------------------------------------------- 13: unsafe input
def test_only_plain_functions_unless_allowed(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('function = "faults_points:callable_object"\nseeds = 1\n'
                   "[grid]\na = [1.0, 2.0]\n")
    code, _, err = run_cli(["sweep", str(cfg), "--workers", "0"], capsys)
    assert code == 2 and "not a plain Python function" in one_line(err)
    code, out, err = run_cli(["sweep", str(cfg), "--workers", "0", "--allow-any-callable",
                              "--out", str(tmp_path / "s"), "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["store"] == str((tmp_path / "s").resolve())
    np.testing.assert_allclose(load_sweep(tmp_path / "s")["y"].values.ravel(), [2.0, 4.0])


def test_help_says_a_sweep_file_runs_code(capsys):
    code, out, _ = run_cli(["sweep", "--help"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "A sweep file runs code" in text and "--allow-any-callable" in text
    docs = (TESTS.parent / "docs" / "sweeps.md").read_text()
    assert "A sweep file runs code" in docs


# --------------------------------------------------------------------------- 14: no pickle
PICKLE_LOADS = re.compile(
    r"allow_pickle\s*=\s*True|weights_only\s*=\s*False|pickle\.loads?\(|"
    r"cloudpickle\.loads?\(|joblib\.load\(|np\.load\((?![^)]*allow_pickle\s*=\s*False)"
)


def test_no_pickle_is_loaded_anywhere_in_the_package() -> None:
    src = TESTS.parent / "src" / "lowrank_rnn"
    hits = [f"{p.relative_to(src)}:{i}: {line.strip()}"
            for p in sorted(src.rglob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if PICKLE_LOADS.search(line) and not line.lstrip().startswith("#")]
    assert hits == []


# --------------------------------------------------------------------------- 16: fsync
def test_atomic_writes_fsync_the_file_before_the_rename(tmp_path, monkeypatch):
    from lowrank_rnn import _io

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")
                       if os.path.exists(f"/proc/self/fd/{fd}") else str(fd)))
        real_fsync(fd)

    def replace(src, dst) -> None:  # noqa: ANN001
        events.append(("replace", str(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    _io.write_text_atomic(tmp_path / "a.txt", "hello")
    assert (tmp_path / "a.txt").read_text() == "hello"
    kinds = [k for k, _ in events]
    i = kinds.index("replace")
    tmp_name = events[i][1]
    assert ("fsync", tmp_name) in events[:i]  # the data reached the disk before the rename
    assert "fsync" in kinds[i + 1:]  # and the directory entry after it
