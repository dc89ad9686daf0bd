"""`reproduce --quick herbert2022` runs in the test suite and all its checks pass."""

from __future__ import annotations

import json
from pathlib import Path

from lowrank_rnn.reproduce import reproduce
from lowrank_rnn.reproduce._core import Settings


def test_reproduce_quick_herbert2022(tmp_path: Path) -> None:
    rep = reproduce(["herbert2022"], tmp_path, Settings(quick=True, seed=0))
    rows = json.loads((tmp_path / "checks.json").read_text())
    assert rows == rep.checks
    assert len(rows) >= 8
    failed = [r for r in rows if not r["passed"]]
    assert not failed, failed
    figures = {r["figure"] for r in rows}
    assert {"Fig 1", "Fig 2", "Fig 3"} <= figures
    for fig in rep.figures:
        assert fig.image is not None and (tmp_path / fig.image).is_file()
    assert (tmp_path / "report.html").is_file()


def test_spectra_figures_pass_for_another_seed() -> None:
    """Tolerances come from finite-N theory, so the checks hold for other seeds too."""
    from lowrank_rnn.reproduce.herbert2022.spectra import fig1, fig2

    for fig in (fig1, fig2):
        rows = fig(Settings(quick=True, seed=3)).checks.rows
        assert rows and all(r.passed for r in rows), [r for r in rows if not r.passed]
