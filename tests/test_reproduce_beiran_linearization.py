"""``reproduce beiran2021`` and ``reproduce linearization`` in quick mode: every check passes."""

from __future__ import annotations

import json

from lowrank_rnn.reproduce import load_paper, reproduce
from lowrank_rnn.reproduce._core import Settings


def test_papers_define_figures_and_citations():
    for key in ("beiran2021", "linearization"):
        paper = load_paper(key)
        assert paper.key == key and paper.citation and len(paper.figures) >= 2


def test_quick_reproduction_passes_all_checks(tmp_path):
    rep = reproduce(["beiran2021", "linearization"], tmp_path, Settings(quick=True, seed=0))
    failed = [c for c in rep.checks if not c["passed"]]
    assert not failed, failed
    assert len(rep.checks) >= 30
    for fig in rep.figures:
        assert fig.error is None
        assert (tmp_path / fig.image).stat().st_size > 1000
    rows = json.loads((tmp_path / "checks.json").read_text())
    assert len(rows if isinstance(rows, list) else rows["checks"]) >= len(rep.checks)
