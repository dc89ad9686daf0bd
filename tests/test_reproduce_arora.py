"""reproduce arora2025: registered, cited, quick figures run, and check rows able to fail."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.reproduce import PAPERS, load_paper
from lowrank_rnn.reproduce import arora2025 as mod
from lowrank_rnn.reproduce._core import Settings


def test_registered_with_its_citation() -> None:
    assert PAPERS["arora2025"] == "lowrank_rnn.reproduce.arora2025"
    paper = load_paper("arora2025")
    assert "Arora" in paper.citation and "Pillow" in paper.citation and "2025" in paper.citation
    assert "Sussillo" in paper.citation and "Williams" in paper.citation
    assert [f.name for f in paper.figures] == ["Fig 1", "Fig 2", "Fig 3", "Fig 4", "Fig 5"]


def test_fig1_kernel_and_rate_rows_pass() -> None:
    fd = mod.compute_fig1(Settings(quick=True))
    rows = {r.check: r for r in fd.checks.rows}
    assert len(rows) == 5
    assert all(r.passed for r in rows.values()), [r for r in rows.values() if not r.passed]


def test_fig1_rows_fail_with_a_wrong_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    real = mod.kernel_matrix
    monkeypatch.setattr(mod, "kernel_matrix", lambda *a, **k: 1.05 * real(*a, **k))
    fd = mod.compute_fig1(Settings(quick=True))
    kernel_rows = [r for r in fd.checks.rows if r.check.startswith("kernel")]
    assert len(kernel_rows) == 3 and not any(r.passed for r in kernel_rows)


def test_fig5_rows_compare_measured_ratios() -> None:
    fd = mod.compute_fig5(Settings(quick=True))
    assert len(fd.checks.rows) == 2
    for r in fd.checks.rows:
        assert isinstance(r.measured, float) and np.isfinite(r.measured)
        assert r.passed == (r.measured < 1.0)


def test_points_to_reach_needs_the_error_to_stay_below() -> None:
    n = np.array([5, 10, 15, 20])
    assert mod._points_to_reach(n, np.array([1.0, 0.1, 0.5, 0.1]), 0.2) == 20
    assert mod._points_to_reach(n, np.array([1.0, 0.1, 0.1, 0.1]), 0.2) == 10
    assert mod._points_to_reach(n, np.array([1.0, 1.0, 1.0, 0.5]), 0.2) == float("inf")


@pytest.mark.slow
def test_quick_reproduction_runs_every_figure(tmp_path) -> None:  # noqa: ANN001
    from lowrank_rnn.reproduce import reproduce

    rep = reproduce(["arora2025"], tmp_path, Settings(quick=True))
    assert not any(f.error for f in rep.figures), [f.error for f in rep.figures]
    assert len(rep.checks) > 30
    assert (tmp_path / "report.html").exists()


def test_lyapunov_exponent_sign_separates_chaos_from_a_stable_network() -> None:
    # the chaos row can fail: below the transition (g < 1) activity decays, exponent < 0
    assert mod._lyapunov(400, 1, 0.8, steps=300) < 0


def test_fig2_rows_follow_their_rules() -> None:
    fd = mod.compute_fig2(Settings(quick=True))
    sizes = fd.data["sizes"]
    same = [r for r in fd.checks.rows if "same regression" in r.check]
    lib = [r for r in fd.checks.rows if "sample_network" in r.check]
    assert len(same) == len(lib) == 4 * len(sizes) * 2
    for r in lib:
        assert r.passed == (r.measured < 1.0)
    for name, t in fd.data["targets"].items():
        res = t["res"]
        for j, n in enumerate(sizes):
            for q, label in (("field", "vector-field"), ("traj", "trajectory")):
                row = next(r for r in same if r.check.startswith(f"{name}, N = {n}: {label}"))
                ratio = np.exp(np.mean(np.log(res["tuned"][q][j]))
                               - np.mean(np.log(res["default"][q][j])))
                assert row.measured == pytest.approx(ratio)
                exact = max(res["tuned"][q][j].max(), res["default"][q][j].max()) < mod._ROUNDING
                assert row.passed == (ratio < 1.0 or exact)


def test_batched_latent_trajectories_equal_the_network_simulation() -> None:
    # independent reference: each N-neuron network simulated on its own, latent read back
    from lowrank_rnn.fit.regression import ODEEmbedding, grid_points
    from lowrank_rnn.fit.targets import get_ode

    ode = get_ode("limit-cycle")
    Z = grid_points(ode.box, 100, 2)
    dt, n = 0.02, 150
    ref = mod._euler_target(ode, ode.starts, n, dt)
    ests = [ODEEmbedding(2, 25, inputs="bias", random_state=s).fit(ode.field, Z)
            for s in range(3)]
    got = mod._trajectory_errors(ests, ref, dt)
    for est, e in zip(ests, got, strict=True):
        _, z = est.simulate_latent(ode.starts, t_span=n * dt, dt=dt)
        assert e == pytest.approx(float(np.max(np.abs(z - ref))), rel=1e-9, abs=1e-12)
