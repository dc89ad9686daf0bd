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
