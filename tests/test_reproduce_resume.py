"""``reproduce --full`` is resumable by default (sweep stores under ``--out``), ``--fresh``
recomputes, and a run whose output is not a terminal logs plain progress lines."""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path

import numpy as np
import pytest

import lowrank_rnn.reproduce as reproduce_mod
from lowrank_rnn.cli import main
from lowrank_rnn.reproduce._core import (
    Checks,
    FigureData,
    FigureSpec,
    Paper,
    Settings,
    sweep_arrays,
    sweep_options,
)
from lowrank_rnn.sweep import ProgressLog

GRID = {"a": [0.5, 1.0, 2.0]}
SEEDS = [0, 1, 2, 3]
N_POINTS = 12
LOG: dict[str, Path] = {}  # the log directory of the running test (the toy figure reads it)


def logged_point(a: float, seed: int = 0, log_dir: str = "", stop_after: int = -1) -> dict:
    """A closed-form point that logs each call; ``stop_after=k`` raises KeyboardInterrupt (a
    Ctrl-C) once, when ``k`` calls are logged."""
    d = Path(log_dir)
    if stop_after >= 0 and len(list(d.glob("call-*"))) == stop_after \
            and not (d / "stopped").exists():
        (d / "stopped").touch()
        raise KeyboardInterrupt
    (d / f"call-{a:g}-{seed}-{uuid.uuid4().hex}").touch()
    return {"y": 10.0 * a + seed}


def _calls() -> int:
    return len(list(LOG["dir"].glob("call-*")))


def _toy_compute(settings: Settings) -> FigureData:
    serial = dataclasses.replace(settings, workers=0)  # in-process: the test counts the calls
    res = sweep_arrays(logged_point, GRID, SEEDS, settings=serial, name="toy_sweep",
                       fixed={"log_dir": str(LOG["dir"]), "stop_after": LOG.get("stop", -1)})
    want = 10.0 * np.asarray(GRID["a"])[:, None] + np.asarray(SEEDS)[None, :]
    c = Checks("toy", "Fig 1")
    c.holds("every point's closed form", bool(np.array_equal(res["y"], want)),
            measured=res["y"].tolist(), expected=want.tolist(), rule="exactly equal")
    return FigureData({"y": res["y"]}, c, {})


def _plot(fd: FigureData, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot(fd.data["y"].ravel())
    fig.savefig(path, format="png", dpi=20)
    plt.close(fig)


TOY = Paper("toy", "A. Author, Toy (2024)", (FigureSpec("Fig 1", "a sweep", _toy_compute, _plot),))


@pytest.fixture
def toy(monkeypatch, tmp_path):
    monkeypatch.setattr(reproduce_mod, "validate_papers", lambda keys: list(keys or ["toy"]))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: TOY)
    monkeypatch.setattr(reproduce_mod, "_versions", lambda: {"numpy": np.__version__})
    monkeypatch.delenv("LOWRANK_RNN_SWEEP_DIR", raising=False)
    LOG.clear()
    LOG["dir"] = tmp_path / "calls"
    LOG["dir"].mkdir()
    yield
    LOG.clear()


def _points(out: Path) -> int:
    return len(list((out / ".sweeps" / "toy_sweep" / "points").glob("*.npz")))


def test_interrupted_full_run_resumes_from_the_store_under_out(toy, tmp_path):
    out = tmp_path / "results"
    full = Settings(quick=False, progress="off")
    LOG["stop"] = 5
    with pytest.raises(KeyboardInterrupt):
        reproduce_mod.reproduce(["toy"], out, full)
    assert _calls() == 5 and _points(out) == 5  # stored under --out although the run died
    assert not (out / "report.html").exists()
    rep = reproduce_mod.reproduce(["toy"], out, full)
    assert rep.n_passed == 1 and len(rep.checks) == 1
    assert _calls() == N_POINTS  # the 5 stored points were not computed again
    assert (out / "report.html").is_file() and _points(out) == N_POINTS  # kept by the swap
    reproduce_mod.reproduce(["toy"], out, full)  # a complete rerun computes nothing
    assert _calls() == N_POINTS
    rep = reproduce_mod.reproduce(["toy"], out, dataclasses.replace(full, fresh=True))
    assert rep.n_passed == 1 and _calls() == 2 * N_POINTS  # --fresh: every point again


def test_quick_mode_stores_nothing_and_keeps_a_previous_store(toy, tmp_path):
    out = tmp_path / "results"
    reproduce_mod.reproduce(["toy"], out, Settings(quick=True))
    assert _calls() == N_POINTS and not (out / ".sweeps").exists()
    reproduce_mod.reproduce(["toy"], out, Settings(quick=True))
    assert _calls() == 2 * N_POINTS  # quick mode never reuses
    reproduce_mod.reproduce(["toy"], out, Settings(quick=False, progress="off"))
    reproduce_mod.reproduce(["toy"], out, Settings(quick=True))
    assert _points(out) == N_POINTS  # the full run's store survived the quick run's swap
    reproduce_mod.reproduce(["toy"], out, Settings(quick=False, progress="off"))
    assert _calls() == 4 * N_POINTS  # ... and is reused by the next full run


def test_environment_variable_still_names_the_store(toy, tmp_path, monkeypatch):
    root = tmp_path / "elsewhere"
    monkeypatch.setenv("LOWRANK_RNN_SWEEP_DIR", str(root))
    out = tmp_path / "results"
    assert reproduce_mod.sweep_store_dir(out) == root.absolute()
    reproduce_mod.reproduce(["toy"], out, Settings(quick=False, progress="off"))
    assert len(list((root / "toy_sweep" / "points").glob("*.npz"))) == N_POINTS
    assert not (out / ".sweeps").exists()
    reproduce_mod.reproduce(["toy"], out, Settings(quick=False, progress="off"))
    assert _calls() == N_POINTS


def test_sweep_options_full_mode_store_fresh_and_progress(tmp_path, monkeypatch):
    monkeypatch.delenv("LOWRANK_RNN_SWEEP_DIR", raising=False)
    assert sweep_options(Settings(quick=True, store_dir=str(tmp_path), fresh=True), "f") == {
        "workers": 0, "progress": False}
    opts = sweep_options(Settings(quick=False, store_dir=str(tmp_path)), "f")
    assert opts["store"] == tmp_path / "f" and "fresh" not in opts and opts["progress"] is True
    opts = sweep_options(Settings(quick=False, store_dir=str(tmp_path), fresh=True,
                                  progress="lines"), "f")
    assert opts["fresh"] is True and isinstance(opts["progress"], ProgressLog)
    assert sweep_options(Settings(quick=False, progress="off"), "f")["progress"] is False
    with pytest.raises(ValueError, match="progress='fancy'"):
        Settings(progress="fancy")


# --------------------------------------------------------------------------- the command
def run_cli(args: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001
    with pytest.raises(SystemExit) as exc:
        main(args)
    got = capsys.readouterr()
    return int(exc.value.code or 0), got.out, got.err


LINE = re.compile(r"^\[reproduce \d\d:\d\d:\d\d\] ")


def test_cli_full_logs_lines_resumes_and_fresh_recomputes(toy, tmp_path, capsys):
    out = tmp_path / "r"
    code, stdout, err = run_cli(["reproduce", "toy", "--full", "--out", str(out)], capsys)
    assert code == 0 and "Checks passed: 1 / 1" in stdout
    assert f"Sweep points stored in {out.absolute() / '.sweeps'}" in err
    logged = [ln for ln in err.splitlines() if LINE.match(ln)]
    assert any(ln.endswith("toy Fig 1 (1/1): started") for ln in logged), err
    assert any(re.search(r"toy Fig 1 \(1/1\): finished in \d+\.\d s, 1/1 checks passed", ln)
               for ln in logged), err
    assert any(re.search(r"sweep toy_sweep: 12/12 points done in", ln)
               for ln in logged), err
    assert _calls() == N_POINTS
    code, _, err = run_cli(["reproduce", "toy", "--full", "--out", str(out)], capsys)
    assert code == 0 and _calls() == N_POINTS  # reused
    assert "sweep toy_sweep: all 12 points reused from the store" in err
    code, _, err = run_cli(["reproduce", "toy", "--full", "--fresh", "--out", str(out)], capsys)
    assert code == 0 and _calls() == 2 * N_POINTS and "recomputed: --fresh" in err


def test_cli_fresh_without_full_is_bad_input(toy, tmp_path, capsys):
    code, _, err = run_cli(["reproduce", "toy", "--fresh", "--out", str(tmp_path / "r")], capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "--fresh" in lines[0] and "--full" in lines[0]
    assert not (tmp_path / "r").exists() and _calls() == 0


def test_cli_quick_logs_one_line_per_figure_start_and_finish(toy, tmp_path, capsys):
    code, _, err = run_cli(["reproduce", "toy", "--out", str(tmp_path / "r")], capsys)
    logged = [ln for ln in err.splitlines() if LINE.match(ln)]
    assert code == 0 and len(logged) == 3, err  # start, finish, done
    assert "Sweep points stored" not in err  # quick mode stores nothing


# --------------------------------------------------------------------------- progress lines
class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_progress_log_at_most_one_line_per_interval_with_rate_and_eta():
    clock, lines = FakeClock(), []
    log = ProgressLog("s", interval=30.0, write=lines.append, clock=clock)
    log(20, 120)  # 20 reused from a store
    assert lines == ["s: 120 points, 20 reused from the store"]
    for done in range(21, 121):  # one point every 0.5 s: 100 points in 50 s
        clock.t += 0.5
        log(done, 120)
    # lines: the start, one after >= 30 s (at 60 points computed: t = +30 s), the end
    assert len(lines) == 3, lines
    assert lines[1] == "s: 80/120 points (67%), 2 points/s, ETA 20 s"
    assert lines[2] == "s: 120/120 points done in 50 s (2 points/s)"


def test_progress_log_interval_counts_from_the_last_line():
    clock, lines = FakeClock(), []
    log = ProgressLog("s", interval=10.0, write=lines.append, clock=clock)
    log(0, 1000)
    for done in range(1, 100):
        clock.t += 4.0  # 0.25 points/s
        log(done, 1000)
    # progress lines at 12, 24, ... s (every third call: the first call at or after 10 s)
    progress = lines[1:]
    assert len(progress) == 33
    # 997 points left at 0.25 points/s: 3988 s
    assert progress[0] == "s: 3/1000 points (0%), 0.25 points/s, ETA 1 h 06 min"
    done = []
    ProgressLog("r", write=done.append, clock=clock)(7, 7)  # everything reused
    assert done == ["r: all 7 points reused from the store"]
    with pytest.raises(ValueError, match="interval=0"):
        ProgressLog("s", interval=0)


def test_progress_log_tick_fills_a_silence_longer_than_the_interval():
    clock, lines = FakeClock(), []
    log = ProgressLog("s", interval=30.0, write=lines.append, clock=clock)
    log.tick()  # before the sweep starts: nothing
    assert lines == []
    log(0, 10)
    clock.t += 29.0
    log.tick()  # not yet 30 s without a line
    assert len(lines) == 1
    clock.t += 2.0
    log.tick()
    assert lines[-1] == "s: 0/10 points (0%), 0 points/s, ETA unknown; still running, 31 s elapsed"
    log.tick()  # the tick's own line restarts the interval
    assert len(lines) == 2
    clock.t += 9.0
    log(1, 10)  # a point finished 9 s after the tick's line: too soon for another line
    assert len(lines) == 2
    clock.t += 25.0
    log.tick()  # 34 s since the last line but only 25 s since a point: the point's line is due
    assert len(lines) == 2
    clock.t += 6.0
    log.tick()  # 31 s without a point
    assert lines[-1].endswith("still running, 1 min 11 s elapsed"), lines[-1]
    assert len(lines) == 3
    clock.t += 30.0
    log(10, 10)
    log.tick()  # after the last point: silent
    assert lines[-1] == "s: 10/10 points done in 1 min 41 s (0.099 points/s)"
    assert len(lines) == 4


def test_progress_log_heartbeat_thread_writes_and_stops():
    import threading

    lines: list[str] = []
    wrote = threading.Event()

    def write(line: str) -> None:
        lines.append(line)
        if "still running" in line:
            wrote.set()

    log = ProgressLog("s", interval=0.05, write=write, heartbeat=True)
    log(0, 3)
    assert wrote.wait(10.0), lines
    log.close()
    n = len(lines)
    assert log._thread is None
    wrote.clear()
    assert not wrote.wait(0.2)  # closed: no more lines
    assert len(lines) == n
