"""``reproduce beiran2021`` and ``reproduce linearization`` in quick mode: every check passes."""

from __future__ import annotations

import json

import pytest

from lowrank_rnn.reproduce import load_paper, reproduce
from lowrank_rnn.reproduce._core import Settings
from lowrank_rnn.reproduce.beiran2021 import compute_two_populations
from lowrank_rnn.reproduce.beiran2021.figures import compute_fig4, compute_fig6, compute_fig7


def test_beiran_reproduces_the_papers_own_figures():
    names = [f.name for f in load_paper("beiran2021").figures]
    assert {"Fig 4", "Fig 6", "Fig 7"} <= set(names)


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


@pytest.mark.parametrize("compute", [
    compute_two_populations, compute_fig4, compute_fig6,
    pytest.param(compute_fig7, marks=pytest.mark.slow),
])
def test_beiran_statistical_figures_pass_for_another_seed(compute):
    """The figures whose tolerances are finite-N / fit statistics also pass for seed 1."""
    fd = compute(Settings(quick=True, seed=1))
    failed = [c for c in fd.checks.rows if not c.passed]
    assert not failed, failed
