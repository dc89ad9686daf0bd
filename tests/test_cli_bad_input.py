"""Bad command-line input, as a table: exit code 2, exactly one line on stderr that names the
option as the user typed it, nothing written, and well before any real work (a time bound).

Each row is ``(argv, what the one line must contain)``. Rows cover malformed values (parsed by
the option parser), values out of range, requests that cannot fit this machine's memory (the
estimate is in the message), unusable output paths, bad scheduler addresses and bad sweep
files, including unsafe ones (a sweep file names the function it runs).
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

from lowrank_rnn.cli import main

BIG = "1000000000000"  # 10^12, typed as an integer
HAS_TORCH = importlib.util.find_spec("torch") is not None

SPEC = ["spectrum", "--n-neurons", "50", "--sigma2", "1", "--sigma-mn", "0.5"]
PSY = ["psychometric", "--n-neurons", "200", "--c", "20"]
EMB = ["embed", "--ode", "bistable", "--neurons", "20"]
CMP = ["compare", "--task", "flipflop"]

GOOD_SWEEP = """function = "gaussian_radius"
seeds = 2
[fixed]
n_neurons = 20
[grid]
g = [0.5, 1.0]
"""

# (argv, needle): ``{tmp}`` is replaced by the test's working directory
ROWS: list[tuple[list[str], str]] = [
    # ---------------------------------------------------------------- spectrum
    (["spectrum", "--sigma2", "1", "--sigma-mn", "0"], "--n-neurons"),
    (["spectrum", "--n-neurons", "1e12", "--sigma2", "1", "--sigma-mn", "0"], "--n-neurons"),
    (["spectrum", "--n-neurons", "abc", "--sigma2", "1", "--sigma-mn", "0"], "--n-neurons"),
    (["spectrum", "--n-neurons", BIG, "--sigma2", "1", "--sigma-mn", "0"], "of memory"),
    (["spectrum", "--n-neurons", "10000000", "--sigma2", "1", "--sigma-mn", "0",
      "--method", "dense"], "of memory"),
    (["spectrum", "--n-neurons", "0", "--sigma2", "1", "--sigma-mn", "0"], "--n-neurons"),
    ([*SPEC[:5], "--sigma2", "-1", "--sigma-mn", "0"], "--sigma2"),
    ([*SPEC[:5], "--sigma2", "nan", "--sigma-mn", "0"], "--sigma2"),
    ([*SPEC, "--sigma-mn", "2"], "--sigma-mn"),
    ([*SPEC, "--sparsity", "1.5"], "--sparsity"),
    ([*SPEC, "--sparsity", "-0.1"], "--sparsity"),
    ([*SPEC, "--c", "0"], "--c"),
    ([*SPEC, "--c", "500"], "--c"),
    ([*SPEC, "--g", "-1"], "--g"),
    ([*SPEC, "--seed", "-1"], "--seed"),
    ([*SPEC, "--seed", "1.5"], "--seed"),
    ([*SPEC, "--method", "magic"], "--method"),
    ([*SPEC, "--plot", "x.txt"], "--plot"),
    ([*SPEC, "--plot", "{tmp}/adir"], "--plot"),
    ([*SPEC, "--plot", "/proc/x.png"], "--plot"),
    ([*SPEC, "--plot", "{tmp}/afile/x.png"], "--plot"),
    ([*SPEC, "--bogus"], "--bogus"),
    ([*SPEC, "--rescaled", "--sigma2", "1"], "--rescaled"),
    ([*SPEC, "--save-network", "{tmp}/adir"], "--save-network"),
    ([*SPEC, "--save-network", "/proc/net.lrnn"], "--save-network"),
    (["spectrum", "--network", "{tmp}/missing.lrnn"], "--network"),
    (["spectrum", "--network", "{tmp}/afile"], "--network"),
    # ---------------------------------------------------------------- psychometric
    ([*PSY, "--save-network", "{tmp}/adir"], "--save-network"),
    ([*PSY, "--repeats", "0"], "--repeats"),
    ([*PSY, "--repeats", BIG], "--repeats"),
    ([*PSY, "--repeats", "1e12"], "--repeats"),
    ([*PSY, "--strengths", "1"], "--strengths"),
    (["psychometric", "--n-neurons", "2"], "--n-neurons"),
    ([*PSY[:3], "--c", "0"], "--c"),
    ([*PSY[:3], "--c", "5000"], "--c"),
    ([*PSY, "--sigma-mn", "0.5"], "--sigma-mn"),
    ([*PSY, "--sigma2", "-1"], "--sigma2"),
    ([*PSY, "--g", "-1"], "--g"),
    ([*PSY, "--backend", "jax"], "--backend"),
    ([*PSY, "--seed", "-1"], "--seed"),
    # ---------------------------------------------------------------- embed
    (["embed", "--ode", "nope", "--neurons", "20"], "--ode"),
    (["embed", "--ode", "bistable", "--neurons", "0"], "--neurons"),
    ([*EMB, "--rank", "2"], "--rank"),
    ([*EMB, "--inputs", "sometimes"], "--inputs"),
    ([*EMB, "--points", "1"], "--points"),
    ([*EMB, "--points", BIG], "--points"),
    ([*EMB, "--dt", "100"], "--dt"),
    ([*EMB, "--dt", "0"], "--dt"),
    ([*EMB, "--dt", "-1"], "--dt"),
    ([*EMB, "--dt", "1e-9"], "--dt"),
    ([*EMB, "--ridge", "-1"], "--ridge"),
    ([*EMB, "--phi", "sigmoid"], "--phi"),
    ([*EMB, "--seed", "-1"], "--seed"),
    ([*EMB, "--save", "{tmp}/adir"], "--save"),
    ([*EMB, "--save", "/proc/fit.lrnn"], "--save"),
    # ---------------------------------------------------------------- compare
    (["compare", "--task", "nope"], "--task"),
    ([*CMP, "--seeds", "0"], "--seeds"),
    ([*CMP, "--epochs", "0"], "--epochs"),
    ([*CMP, "--n-train", "0"], "--n-train"),
    ([*CMP, "--n-train", BIG], "--n-train"),
    ([*CMP, "--n-test", "0"], "--n-test"),
    ([*CMP, "--seed", "-1"], "--seed"),
    ([*CMP, "--lr", "-1"], "--lr"),
    ([*CMP, "--size", "0"], "--size"),
    ([*CMP, "--size", "10000000"], "--size"),
    ([*CMP, "--device", "tpu"], "--device"),
    ([*CMP, "--out", "{tmp}/adir"], "--out"),
    ([*CMP, "--save", "{tmp}/afile"], "--save"),
    ([*CMP, "--save", "/proc/models"], "--save"),
    # ---------------------------------------------------------------- info
    (["info", "{tmp}/missing.lrnn"], "missing.lrnn"),
    (["info", "{tmp}/afile"], "afile"),
    (["info", "{tmp}/adir"], "adir"),
    # ---------------------------------------------------------------- train
    (["train", "nope"], "TASK"),
    (["train", "random_dots", "--rank", "0"], "--rank"),
    (["train", "random_dots", "--neurons", "-3"], "--neurons"),
    (["train", "random_dots", "--epochs", "0"], "--epochs"),
    (["train", "random_dots", "--lr", "-1"], "--lr"),
    # resolving an optimiser's name needs torch; without it the command says that first
    (["train", "random_dots", "--optimizer", "magic"], "--optimizer" if HAS_TORCH else "PyTorch"),
    (["train", "random_dots", "--loss", "hinge"], "--loss"),
    (["train", "random_dots", "--seed", "-1"], "--seed"),
    (["train", "random_dots", "--device", "tpu"], "--device"),
    (["train", "random_dots", "--save", "{tmp}/adir"], "--save"),
    (["train", "random_dots", "--save", "/proc/net.pt"], "--save"),
    (["train", "random_dots", "--save", "{tmp}/afile/net.pt"], "--save"),
    # ---------------------------------------------------------------- populations
    (["populations", "{tmp}/missing.lrnn"], "missing.lrnn"),
    (["populations", "{tmp}/afile"], "afile"),
    (["populations", "{tmp}/afile", "--n", "abc"], "--n"),
    (["populations", "{tmp}/afile", "--resample", "0"], "--resample"),
    (["populations", "{tmp}/afile", "--draws", "0"], "--draws"),
    (["populations", "{tmp}/afile", "--seed", "-1"], "--seed"),
    (["populations", "{tmp}/afile", "--plot", "{tmp}/afile"], "--plot"),
    (["populations", "{tmp}/afile", "--plot", "/proc/plots"], "--plot"),
    (["populations", "{tmp}/afile", "--save", "{tmp}/adir"], "--save"),
    (["populations", "{tmp}/afile", "--save", "/proc/mix.lrnn"], "--save"),
    # ---------------------------------------------------------------- reproduce
    (["reproduce", "nature2099"], "nature2099"),
    (["reproduce", "linearization", "--seed", "-1"], "--seed"),
    (["reproduce", "linearization", "--workers", "0"], "--workers"),
    (["reproduce", "linearization", "--workers", BIG], "--workers"),
    (["reproduce", "linearization", "--out", "{tmp}/afile"], "--out"),
    (["reproduce", "linearization", "--out", "/proc/results"], "--out"),
    (["reproduce", "linearization", "--out", "{tmp}/foreign"], "--out"),
    (["reproduce", "linearization", "--out", "{tmp}/weird"], "--out"),
    (["reproduce", "linearization", "--scheduler", "not an address!"], "--scheduler"),
    (["reproduce", "linearization", "--fresh"], "--fresh"),
    (["reproduce", "linearization", "--quick", "--fresh"], "--fresh"),
    (["reproduce", "linearization", "--full", "--scheduler", "tcp://host:99999999"],
     "--scheduler"),
    # ---------------------------------------------------------------- sweep
    (["sweep", "{tmp}/nope.toml"], "CONFIG"),
    (["sweep", "{tmp}/good.toml", "--workers", "-1"], "--workers"),
    (["sweep", "{tmp}/good.toml", "--workers", BIG], "--workers"),
    (["sweep", "{tmp}/good.toml", "--scheduler", "not an address!"], "--scheduler"),
    (["sweep", "{tmp}/good.toml", "--out", "{tmp}/afile"], "--out"),
    (["sweep", "{tmp}/good.toml", "--out", "/proc/s.sweep"], "--out"),
    (["sweep", "{tmp}/good.toml", "--out", "{tmp}/foreign"], "store"),
    (["sweep", "{tmp}/savez.toml", "--workers", "0"], "numpy:savez"),
    (["sweep", "{tmp}/remove.toml", "--workers", "0"], "os:remove"),
    (["sweep", "{tmp}/print.toml", "--workers", "0"], "builtins:print"),
    (["sweep", "{tmp}/noseed.toml", "--workers", "0"], "shutil:rmtree"),
    (["sweep", "{tmp}/huge.toml", "--workers", "0"], "grid"),
    (["sweep", "{tmp}/hugenum.toml", "--workers", "0"], "grid: g: 1000000000000"),
    (["sweep", "{tmp}/manyseeds.toml", "--workers", "0"], "seeds"),
    (["sweep", "{tmp}/badpoint.toml", "--workers", "0"], "sparsity"),
    (["sweep", "{tmp}/badstore.toml", "--workers", "0"], "run.store"),
    (["sweep", "{tmp}/badworkers.toml"], "run.workers"),
    (["sweep", "{tmp}/floatnum.toml", "--workers", "0"], "grid.g.num"),
]

SWEEP_FILES = {
    "good.toml": GOOD_SWEEP,
    "savez.toml": GOOD_SWEEP.replace('"gaussian_radius"', '"numpy:savez"'),
    "remove.toml": GOOD_SWEEP.replace('"gaussian_radius"', '"os:remove"'),
    "print.toml": GOOD_SWEEP.replace('"gaussian_radius"', '"builtins:print"'),
    "noseed.toml": GOOD_SWEEP.replace('"gaussian_radius"', '"shutil:rmtree"'),
    "huge.toml": GOOD_SWEEP.replace(
        "g = [0.5, 1.0]",
        "g = { start = 0.1, stop = 1.0, num = 1000000 }\n"
        "sparsity = { start = 0.0, stop = 0.9, num = 1000000 }"),
    "hugenum.toml": GOOD_SWEEP.replace("g = [0.5, 1.0]",
                                       "g = { start = 0.1, stop = 1.0, num = 1000000000000 }"),
    "manyseeds.toml": GOOD_SWEEP.replace("seeds = 2", "seeds = 1000000000000"),
    "badpoint.toml": GOOD_SWEEP.replace("g = [0.5, 1.0]", "sparsity = [0.0, 0.5, 1.5]"),
    "badstore.toml": GOOD_SWEEP + "[run]\nstore = 5\n",
    "badworkers.toml": GOOD_SWEEP + "[run]\nworkers = true\n",
    "floatnum.toml": GOOD_SWEEP.replace("g = [0.5, 1.0]",
                                        "g = { start = 0.1, stop = 1.0, num = 3.0 }"),
}

#: Seconds within which every bad input is reported (it is checked before any work; the
#: bound is generous for a loaded 2-core machine, and for the 3 s scheduler connect timeout).
TIME_BOUND_S = 10.0


def _listing(root: Path) -> dict[str, float]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = p.stat().st_mtime_ns
    return out


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("not a directory")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("the user's own file")
    (tmp_path / "weird").mkdir()
    (tmp_path / "weird" / "report.html").mkdir()  # a report that is a directory
    for name, text in SWEEP_FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(("argv", "needle"), ROWS, ids=[" ".join(r[0][:1] + r[0][-2:])
                                                          for r in ROWS])
def test_bad_input_exit_2_one_line_nothing_written(
    argv: list[str], needle: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{tmp}", str(workdir)) for a in argv]
    before = _listing(workdir)
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as exc:
        main(args)
    seconds = time.perf_counter() - t0
    out = capsys.readouterr()
    lines = [ln for ln in out.err.splitlines() if ln.strip()]
    assert exc.value.code == 2, out.err
    assert len(lines) == 1, out.err
    assert lines[0].startswith("Error: ") and needle in lines[0], lines[0]
    assert out.out == ""
    assert _listing(workdir) == before  # nothing written, nothing touched
    assert seconds < TIME_BOUND_S


def test_memory_refusal_states_the_estimate(workdir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The refusal of a request too big for the machine says how much it needs and has."""
    from lowrank_rnn._validate import format_bytes

    n = 10_000_000
    with pytest.raises(SystemExit):
        main(["spectrum", "--n-neurons", str(n), "--sigma2", "1", "--sigma-mn", "0",
              "--method", "dense"])
    err = capsys.readouterr().err
    # the matrix, LAPACK's copy and work space: 3 x 8 N^2 bytes (2.1 PiB), then the free memory
    assert f"needs about {format_bytes(3 * 8 * n * n + 16 * n)} of memory" in err
    assert "this machine has about" in err


def test_table_covers_every_command() -> None:
    from lowrank_rnn.cli import COMMAND_MODULES

    covered = {argv[0] for argv, _ in ROWS}
    assert {"spectrum", "psychometric", "embed", "compare", "reproduce", "sweep"} <= covered
    assert covered <= set(COMMAND_MODULES)
