"""The `spectrum` and `reproduce` commands: JSON output, plots, one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lowrank_rnn.cli import main
from lowrank_rnn.theory.spectrum import theory_bulk_radius, theory_outlier, theory_outlier_sd


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_spectrum_json_keys_and_theory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["spectrum", "--n-neurons", "800", "--sigma2", "0.09", "--sigma-mn", "0.03", "--c", "80",
         "--rescaled", "--seed", "3", "--json"], capsys)
    assert code == 0
    res = json.loads(out)
    assert {"outlier", "bulk_radius", "theory_outlier", "theory_bulk_radius", "seconds"} <= set(res)
    assert res["theory_outlier"] == pytest.approx(theory_outlier(0.03, n_neurons=800, c=80,
                                                                 rescaled=True))
    assert res["theory_bulk_radius"] == pytest.approx(
        theory_bulk_radius(0.09, n_neurons=800, c=80, rescaled=True))
    # the measured outlier agrees with eq 13 within 5 finite-N standard deviations
    sd = theory_outlier_sd(0.09, 0.03, n_neurons=800, c=80, rescaled=True)
    assert abs(res["outlier"] - res["theory_outlier"]) < 5 * sd
    assert res["seconds"] > 0


def test_spectrum_plot_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "spec.png"
    code, out, _ = run_cli(["spectrum", "--n-neurons", "200", "--sigma2", "16", "--sigma-mn",
                            "4", "--sparsity", "0.5", "--plot", str(png)], capsys)
    assert code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "outlier" in out
    assert not list(tmp_path.glob(".*tmp*"))  # nothing half-written left behind


@pytest.mark.parametrize(
    ("args", "param"),
    [
        (["--sparsity", "1.5"], "--sparsity"),
        (["--c", "500"], "--c"),
        (["--c", "0"], "--c"),
        (["--sigma-mn", "2.0"], "--sigma-mn"),
        (["--n-neurons", "0"], "--n-neurons"),
        (["--sigma2", "nan"], "--sigma2"),
        (["--plot", "x.txt"], "--plot"),
    ],
)
def test_spectrum_bad_input_one_line_exit_2(args: list[str], param: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = {"--n-neurons": "100", "--sigma2": "1.0", "--sigma-mn": "0.5"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    argv = ["spectrum"] + [x for kv in base.items() for x in kv]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and param in lines[0]


def test_reproduce_unknown_paper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["reproduce", "nature2099", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "nature2099" in err and "herbert2022" in err
    assert not any(tmp_path.iterdir())  # rejected before any work


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    for cmd in ("reproduce", "spectrum"):
        assert cmd in out


def test_unknown_command_and_bad_option_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["no-such-command"], capsys)
    assert code == 2 and "no-such-command" in err
    code, _, err = run_cli(["spectrum", "--n-neurons", "many", "--sigma2", "1",
                            "--sigma-mn", "0"], capsys)
    assert code == 2 and "--n-neurons" in err
