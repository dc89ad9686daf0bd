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


def test_measured_rows_present_in_nonmarkov_and_limits() -> None:
    from lowrank_rnn.reproduce.valente2022 import compute_limits, compute_nonmarkov

    for compute in (compute_nonmarkov, compute_limits):
        rows = compute(Settings(quick=True, seed=1)).checks.rows
        sampled = [r for r in rows if "samples" in r.check]
        assert len(sampled) >= 2
        assert all(r.passed for r in rows), [r for r in rows if not r.passed]


def test_jackknife_of_the_mean_is_the_classical_standard_error() -> None:
    import numpy as np

    from lowrank_rnn.reproduce.valente2022 import _jackknife, _lag_moments

    x = np.random.default_rng(0).standard_normal((50, 3))
    val, se = _jackknife(x, lambda g: g)
    np.testing.assert_allclose(val, x.mean(axis=0))
    np.testing.assert_allclose(se, x.std(axis=0, ddof=1) / np.sqrt(50), rtol=1e-12)
    y = np.random.default_rng(1).standard_normal((4, 30, 1))
    mom = _lag_moments(y, 3)
    direct = [[np.mean([y[b, t + k, 0] * y[b, t, 0] for t in range(27)]) for k in range(4)]
              for b in range(4)]
    np.testing.assert_allclose(mom, direct, rtol=1e-12)
