"""The authors' procedures of Herbert & Ostojic 2022 beside the library's: loadings by
Gram–Schmidt without normalisation, the real-part bulk rule, single-precision eigenvalues and
the ``--procedure`` option."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.cli import main
from lowrank_rnn.connectivity import rank_one_loadings, rank_one_network
from lowrank_rnn.reproduce._core import Settings
from lowrank_rnn.theory.spectrum import (
    bulk_radius,
    bulk_radius_real_part,
    eigenvalues,
    measure_spectrum,
)


def _classical_gram_schmidt(v: np.ndarray) -> np.ndarray:
    """Reference: the textbook projection loop over the columns, no normalisation."""
    out = []
    for j in range(v.shape[1]):
        u = v[:, j].copy()
        for w in out:
            u -= (w @ v[:, j]) / (w @ w) * w
        out.append(u)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("sigma_mn", [0.0, 0.3, -0.3])
def test_gram_schmidt_loadings_match_the_projection_loop(sigma_mn: float) -> None:
    n, sigma2, seed = 50, 0.8, 3
    m, nn = rank_one_loadings(n, sigma2, sigma_mn, gram_schmidt=True, rng=seed)
    x, y, z = _classical_gram_schmidt(np.random.default_rng(seed).standard_normal((n, 3))).T
    a, b = np.sqrt(sigma2 - abs(sigma_mn)), np.sqrt(abs(sigma_mn))
    np.testing.assert_allclose(m, a * x + b * z, atol=1e-12)
    np.testing.assert_allclose(nn, a * y + np.sign(sigma_mn) * b * z, atol=1e-12)
    # no cross terms: the overlap is sigma_mn |z|^2 exactly, the lengths stay random
    np.testing.assert_allclose(m @ nn, sigma_mn * (z @ z), atol=1e-10)
    assert abs(x @ x / n - 1) > 1e-6


def test_gram_schmidt_loadings_halve_the_overlap_spread() -> None:
    """Var(m.n/N): (sigma^4 + sigma_mn^2)/N for i.i.d. draws, 2 sigma_mn^2 (N-2)/N^2 with the
    authors' Gram–Schmidt (m.n/N = sigma_mn chi^2_{N-2}/N). Sample variances of K draws, relative
    tolerance 6 sqrt(2/(K-1)) (plus the excess kurtosis of a product of normals, < 1 here)."""
    n, s2, smn, k = 200, 1.0, 0.5, 600
    rng = np.random.default_rng(11)
    iid = [np.dot(*rank_one_loadings(n, s2, smn, rng=rng)) / n for _ in range(k)]
    gs = [np.dot(*rank_one_loadings(n, s2, smn, gram_schmidt=True, rng=rng)) / n
          for _ in range(k)]
    tol = 6 * np.sqrt(3 / (k - 1))
    assert np.var(iid, ddof=1) / ((s2**2 + smn**2) / n) == pytest.approx(1, abs=tol)
    assert np.var(gs, ddof=1) / (2 * smn**2 * (n - 2) / n**2) == pytest.approx(1, abs=tol)
    assert np.mean(gs) == pytest.approx(smn * (n - 2) / n, abs=6 * np.sqrt(2 * smn**2 / n / k))


def test_gram_schmidt_and_exact_are_exclusive() -> None:
    with pytest.raises(ValueError, match="gram_schmidt"):
        rank_one_loadings(10, 1.0, 0.1, exact=True, gram_schmidt=True)
    with pytest.raises(ValueError, match="gram_schmidt"):
        rank_one_network(3, 1.0, 0.1, gram_schmidt=True)


def test_bulk_rules_on_a_hand_made_spectrum() -> None:
    ev = np.array([3.0, 0.5 + 1.5j, 1 + 1j, -2.0, 1 - 1j])
    # by real part: 3, 1+1j, 1-1j, 0.5+1.5j, -2 -> mean(|1+1j|, |1-1j|) = sqrt 2
    assert bulk_radius_real_part(ev) == pytest.approx(np.sqrt(2))
    assert bulk_radius(ev) == pytest.approx(2.0)
    assert bulk_radius_real_part(ev, n_outliers=0, n_mean=1) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="n_mean"):
        bulk_radius_real_part(ev, n_mean=0)
    with pytest.raises(ValueError, match="eigs_"):
        bulk_radius_real_part(ev[:2])


def test_real_part_rule_reads_lower_on_a_rank_one_spectrum() -> None:
    net = rank_one_network(300, 16.0, 4.0, sparsity=0.5, rng=2)
    res = measure_spectrum(net, method="dense")
    assert res.bulk_radius_real_part <= res.bulk_radius
    assert res.bulk_radius_real_part == pytest.approx(bulk_radius_real_part(res.eigenvalues))


def test_arpack_real_part_rule_matches_dense() -> None:
    net = rank_one_network(300, 16.0, 4.0, sparsity=0.5, rng=5)
    dense = measure_spectrum(net, method="dense")
    arp = measure_spectrum(net, method="arpack", rng=0)
    assert arp.outlier == pytest.approx(dense.outlier, rel=1e-8)
    assert arp.bulk_radius_real_part == pytest.approx(dense.bulk_radius_real_part, rel=1e-6)


@pytest.mark.parametrize("n", [100, 300])
def test_single_precision_eigenvalues_against_double(n: int) -> None:
    """sgeev vs dgeev: the spectral radius of a Gaussian matrix moves by O(eps_32 kappa ||J||);
    bound 1e-4 relative (eps_32 = 6e-8, edge condition numbers ~ sqrt(N))."""
    j = np.random.default_rng(n).standard_normal((n, n)) / np.sqrt(n)
    ev64, ev32 = eigenvalues(j), eigenvalues(j, dtype="float32")
    assert ev32.dtype == np.complex128
    assert np.abs(ev32).max() == pytest.approx(np.abs(ev64).max(), rel=1e-4)
    j_copy = j.copy()
    eigenvalues(j, dtype="float32")
    np.testing.assert_array_equal(j, j_copy)  # the caller's matrix is not overwritten
    with pytest.raises(ValueError, match="dtype"):
        eigenvalues(j, dtype="float16")


def test_settings_procedure_validated() -> None:
    assert Settings().procedure == "paper"
    with pytest.raises(ValueError, match="procedure='bogus'"):
        Settings(procedure="bogus")


def test_cli_procedure_bad_value(tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "herbert2022", "--procedure", "bogus", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "--procedure" in err and "bogus" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_authors_fig4_vectors() -> None:
    """m, n orthogonal (sigma_mn = 0, Gram–Schmidt), I orthogonal to m exactly, and
    n.I = 2|n|^2 + n.r with r a standard normal draw: (n.I - 2|n|^2)/N has sd sqrt(sigma2/N)."""
    from lowrank_rnn.reproduce.herbert2022.dynamics import _authors_fig4_vectors

    n, sigma2 = 4000, 0.0144
    m, nn, inp = _authors_fig4_vectors(n, sigma2, seed=1).T
    scale = np.linalg.norm(m) * np.linalg.norm(inp)
    assert abs(m @ nn) <= 1e-12 * np.linalg.norm(m) * np.linalg.norm(nn)
    assert abs(m @ inp) <= 1e-12 * scale
    assert abs((nn @ inp - 2 * nn @ nn) / n) < 6 * np.sqrt(sigma2 / n)
    assert (m @ m) / n == pytest.approx(sigma2, rel=6 * np.sqrt(2 / n))


def test_input_driven_point_authors_measures() -> None:
    """The authors' kappa is |tanh(x).m/N| averaged from the onset: recompute it from a
    simulation of the same network with the library's simulator."""
    from lowrank_rnn.reproduce.herbert2022.dynamics import input_driven_point

    kw = dict(n=300, sigma2=0.0144 * np.sqrt(2000 / 300), sigma_ni=0.2, vectors_seed=2, dt=0.05,
              steps=200, on=40, off=120, vectors="authors")
    out = input_driven_point(**kw, seed=0)
    assert set(out) >= {"kappa_r", "pr", "kappa_authors", "pr_authors"}
    assert out["kappa_authors"] > 0
    assert 1.0 <= out["pr_authors"] <= 5.0
    # adding an eigenvalue no larger than the others raises (sum)^2/sum of squares: top-5 <= all
    assert out["pr_authors"] <= out["pr"] + 1e-9
    with pytest.raises(ValueError, match="vectors"):
        input_driven_point(**{**kw, "vectors": "bogus"})


def test_authors_bulk_rows_can_fail() -> None:
    """A spectrum where the 'authors' rule' exceeds the library's must fail the ratio row."""
    from lowrank_rnn.reproduce._core import Checks
    from lowrank_rnn.reproduce.herbert2022.spectra import _authors_bulk_rows

    pts = [{"n": 1000, "sigma2": 16.0, "sigma_mn": 4.0, "sparsity": 0.5}]
    ok = {"outlier": np.full((1, 4), 2.0), "bulk_radius": np.full((1, 4), 0.26),
          "bulk_radius_real_part": np.full((1, 4), 0.25)}
    ch = Checks("t", "f")
    _authors_bulk_rows(ch, "x", ok, pts, outlier_ref="theory", bulk_ref="eq 9")
    assert [r.passed for r in ch.rows][-1]
    bad = {**ok, "bulk_radius_real_part": np.full((1, 4), 0.3)}
    ch = Checks("t", "f")
    _authors_bulk_rows(ch, "x", bad, pts, outlier_ref="theory", bulk_ref="eq 9")
    assert not ch.rows[-1].passed


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3])
def test_authors_procedure_figures_quick(seed: int) -> None:
    """--procedure authors: Figs 2, 4, 5 and 6 give both procedures' rows on the same draws,
    and pass (their tolerances hold for any seed)."""
    from lowrank_rnn.reproduce.herbert2022.dynamics import compute_fig4, compute_fig5, compute_fig6
    from lowrank_rnn.reproduce.herbert2022.spectra import fig2

    st = Settings(quick=True, seed=seed, procedure="authors")
    fd2 = fig2(st)
    names = [r.check for r in fd2.checks.rows]
    assert any("authors' rule / library's rule" in c for c in names)
    assert any("notebook (sigma^2 = 49" in c for c in names)
    fd4 = compute_fig4(st)
    names4 = [r.check for r in fd4.checks.rows]
    assert any(c.startswith("authors' participation ratio") for c in names4)
    assert any(c.startswith("kappa_r") for c in names4)
    assert any("authors' |corrcoef|" in c for c in names4)
    assert any("library's |cos|" in c for c in names4)
    fd6 = compute_fig6(st)
    names6 = [r.check for r in fd6.checks.rows]
    assert any("by the last readout sample (authors)" in c for c in names6)
    assert any("authors' readout variation" in c for c in names6)
    assert fd6.params["repeats"] == 5
    fd5 = compute_fig5(st)
    names5 = [r.check for r in fd5.checks.rows]
    assert any("authors' sample points" in c for c in names5)
    assert any("split by sign" in c for c in names5)
    rows = fd2.checks.rows + fd4.checks.rows + fd5.checks.rows + fd6.checks.rows
    assert all(r.passed for r in rows), [r for r in rows if not r.passed]
