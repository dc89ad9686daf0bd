"""``reproduce valente2022 --quick``: every figure computes, draws, and all its checks pass."""

from __future__ import annotations

from pathlib import Path

from lowrank_rnn.reproduce import load_paper, reproduce
from lowrank_rnn.reproduce._core import Settings


def test_valente2022_quick_all_checks_pass(tmp_path: Path) -> None:
    rep = reproduce(["valente2022"], tmp_path, Settings(quick=True))
    paper = load_paper("valente2022")
    assert [f.figure for f in rep.figures] == [s.name for s in paper.figures]
    failed = [c for c in rep.checks if not c["passed"]]
    assert not failed, failed
    assert len(rep.checks) >= 25
    for fig in rep.figures:
        assert fig.error is None
        assert (tmp_path / fig.image).stat().st_size > 1000
    assert "Valente" in paper.citation
