"""Valente, Pillow & Ostojic 2022: latent LDS models vs linear low-rank RNNs (arXiv 2110.09804).

Figures (each returns data and check rows; plotting only draws):

- ``conversion``: RNN -> LDS is exact (output autocovariances at lags 0..20 and log-likelihoods
  agree), the latent dimension is ``rank([M, N]) <= 2R``, and the LDS dynamics matrix has the
  eigenvalues of ``N^T M`` plus zeros.
- ``nonmarkov``: a scalar LDS with observation noise whose output is not Markov, so no linear RNN
  with the same number of units matches it (closed forms for the Markov violation and the
  per-step log-likelihood advantage of the LDS), measured on sampled sequences: empirical
  autocorrelations, the lag-2 Markov violation (0 within SE for RNN samples, ``r/(P+r)`` for LDS
  samples) and the sampled log-likelihood gap, with jackknife standard errors over sequences.
- ``limits``: the mismatch between an LDS and its best RNN approximation shrinks as the
  observation noise vanishes (linearly in R) and as the number of observed units grows (~1/N);
  slope tolerances from the first-order expansion; the mismatch of an RNN fitted to sampled
  scalar-LDS data is compared with the closed form within its standard error.
- ``fitting``: reduced-rank regression (RNN) vs EM (LDS) on held-out data from each model class
  and from a nonlinear low-rank network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lowrank_rnn.fit.lds import compare_heldout, sample_nonlinear_network
from lowrank_rnn.models.lds import (
    LatentLDS,
    LinearLowRankRNN,
    best_rnn_approximation,
    latent_basis,
    latent_stationary_covariance,
    lds_log_likelihood,
    lds_to_rnn,
    loglik_gap_rate,
    markov_violation,
    output_autocovariance,
    rnn_log_likelihood,
    rnn_mismatch,
    rnn_to_lds,
    sample_lds,
    sample_rnn,
)
from lowrank_rnn.reproduce._core import (
    Checks,
    FigureData,
    FigureSpec,
    Paper,
    Settings,
    finish_figure,
)

KEY = "valente2022"
CITATION = (
    "Valente A., Pillow J. W., Ostojic S. (2022) Probing the relationship between latent linear "
    "dynamical systems and low-rank linear recurrent neural network models. Neural Computation "
    "34(9): 1871-1892. arXiv:2110.09804"
)


def _random_rnn(rng: np.random.Generator, n: int, r: int, radius: float = 0.8) -> LinearLowRankRNN:
    M = rng.standard_normal((n, r)) / np.sqrt(n)
    N = rng.standard_normal((n, r)) / np.sqrt(n)
    rho = np.max(np.abs(np.linalg.eigvals(N.T @ M)))
    return LinearLowRankRNN(M=M, N=N * (radius / rho), Sigma=0.5 * np.eye(n))


# ------------------------------------------------------------------------------ conversion
def compute_conversion(settings: Settings) -> FigureData:
    """RNN -> LDS exactness and latent dimension (Valente et al. 2022, sec 3)."""
    rng = np.random.default_rng(settings.seed)
    c = Checks(KEY, "conversion")
    n = 40 if settings.quick else 100
    n_lags = 20
    rnn = _random_rnn(rng, n, 2)
    S = rng.standard_normal((n, n))
    general = rnn.replace(
        Sigma=S @ S.T / n + 0.2 * np.eye(n), B=rng.standard_normal((n, 1)),
        h=rng.standard_normal(n),
    )
    data: dict = {"lags": np.arange(n_lags + 1)}
    for label, model in (("isotropic", rnn), ("general noise+input", general)):
        lds = rnn_to_lds(model)
        G_rnn = output_autocovariance(model, n_lags)
        G_lds = output_autocovariance(lds, n_lags)
        err = float(np.abs(G_rnn - G_lds).max() / np.abs(G_rnn).max())
        c.less(f"{label}: max |Gamma_k RNN - LDS| / max|Gamma|, k=0..20", err, 1e-8)
        u = rng.standard_normal((8, 60, 1)) if model.B is not None else None
        x = sample_rnn(model, 8, 60, inputs=u, rng=rng)
        ll_r = rnn_log_likelihood(model, x, inputs=u)
        ll_l = lds_log_likelihood(lds, x, inputs=u)
        c.less(f"{label}: max |loglik RNN - LDS| / |loglik|",
               float(np.max(np.abs(ll_r - ll_l) / np.abs(ll_r))), 1e-9)
        want = np.linalg.matrix_rank(np.hstack([model.M, model.Sigma @ model.N]
                                               + ([] if model.B is None else [model.B])))
        c.holds(f"{label}: latent dim = rank([M, Sigma N, B])", lds.n_latent == want,
                lds.n_latent, str(want))
        data[f"acf_rnn_{label}"] = np.trace(G_rnn, axis1=1, axis2=2) / n
        data[f"acf_lds_{label}"] = np.trace(G_lds, axis1=1, axis2=2) / n
    # eigenvalues of A: those of N^T M plus zeros
    lds = rnn_to_lds(rnn)
    ev_lds = np.sort_complex(np.linalg.eigvals(lds.A))
    ev_th = np.sort_complex(np.concatenate([np.linalg.eigvals(rnn.N.T @ rnn.M),
                                            np.zeros(lds.n_latent - rnn.rank)]))
    c.less("eig(A_LDS) = eig(N^T M) and zeros: max deviation", float(np.abs(ev_lds - ev_th).max()),
           1e-8)
    # latent dimension vs rank
    ranks = list(range(1, 6))
    dims_generic, dims_shared, dims_half = [], [], []
    sig = np.eye(n)
    for r in ranks:
        m = rng.standard_normal((n, r))
        nv = rng.standard_normal((n, r))
        dims_generic.append(latent_basis(LinearLowRankRNN(M=m, N=nv, Sigma=sig)).shape[1])
        shared = m @ rng.standard_normal((r, r))  # span(N) = span(M)
        dims_shared.append(latent_basis(LinearLowRankRNN(M=m, N=shared, Sigma=sig)).shape[1])
        half = np.hstack([m[:, : (r + 1) // 2], nv[:, : r // 2]])  # N shares ceil(R/2) of M
        dims_half.append(latent_basis(LinearLowRankRNN(M=m, N=half, Sigma=sig)).shape[1])
    c.holds("latent dim = 2R for generic M, N (R = 1..5)",
            dims_generic == [2 * r for r in ranks], dims_generic, str([2 * r for r in ranks]))
    c.holds("latent dim = R when span(N) = span(M)", dims_shared == list(ranks), dims_shared,
            str(list(ranks)))
    want_half = [r + r // 2 for r in ranks]
    c.holds("latent dim = R + R//2 when N shares ceil(R/2) columns of M",
            dims_half == want_half, dims_half, str(want_half))
    c.holds("latent dim <= 2R in every case",
            all(d <= 2 * r for ds in (dims_generic, dims_shared, dims_half)
                for d, r in zip(ds, ranks, strict=True)), "all", "<= 2R")
    data.update(ranks=np.array(ranks), dims_generic=np.array(dims_generic),
                dims_shared=np.array(dims_shared), dims_half=np.array(dims_half))
    return FigureData(data, c, {"n_units": n, "rank": 2, "n_lags": n_lags})


def plot_conversion(fd: FigureData, path: Path) -> None:
    """Autocorrelation of RNN and converted LDS; latent dimension vs rank."""
    import matplotlib.pyplot as plt

    d = fd.data
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for i, label in enumerate(("isotropic", "general noise+input")):
        axes[0].plot(d["lags"], d[f"acf_rnn_{label}"], "-", color=f"C{i}", label=f"RNN ({label})")
        axes[0].plot(d["lags"], d[f"acf_lds_{label}"], "o", ms=3, mfc="none", color=f"C{i}",
                     label=f"converted LDS ({label})")
    axes[0].set_xlabel("lag k")
    axes[0].set_ylabel("tr Γ_k / N")
    axes[0].legend(fontsize=7)
    r = d["ranks"]
    axes[1].plot(r, 2 * r, "k--", label="2R bound")
    axes[1].plot(r, d["dims_generic"], "o-", label="generic M, N")
    axes[1].plot(r, d["dims_half"], "s-", label="N shares half of M")
    axes[1].plot(r, d["dims_shared"], "^-", label="span N = span M")
    axes[1].set_xlabel("RNN rank R")
    axes[1].set_ylabel("LDS latent dimension")
    axes[1].legend(fontsize=7)
    finish_figure(fig, path)


# ------------------------------------------------------------------------------- nonmarkov
def _lag_moments(y: np.ndarray, n_lags: int) -> np.ndarray:
    """Per-sequence lag products of a zero-mean scalar output.

    ``out[b, k] = mean_t y[b, t + k] y[b, t]`` over the common window ``t = 0..T-1-n_lags``, so
    that the sequence average of ``out[:, k]`` estimates ``Gamma_k`` without bias.

    Parameters
    ----------
    y : ndarray, shape (batch, time, 1)
    n_lags : int

    Returns
    -------
    ndarray, shape (batch, n_lags + 1)
    """
    x = y[:, :, 0]
    w = x.shape[1] - n_lags
    return np.stack([np.mean(x[:, k:k + w] * x[:, :w], axis=1) for k in range(n_lags + 1)],
                    axis=1)


def _jackknife(per_seq: np.ndarray, stat) -> tuple[np.ndarray, np.ndarray]:
    """A statistic of the mean moments and its leave-one-sequence-out jackknife standard error.

    The sequences are independent (each starts from the stationary distribution), so the
    jackknife over sequences gives the standard error of any smooth function of the mean lag
    products from the number of sequences alone: ``SE^2 = (B-1)/B sum_b (s_(b) - s_(.))^2``.

    Parameters
    ----------
    per_seq : ndarray, shape (batch, p)
    stat : callable mapping moments (..., p) to values (...) or (..., q)

    Returns
    -------
    value, se : ndarray
    """
    b = per_seq.shape[0]
    loo = (per_seq.sum(axis=0) - per_seq) / (b - 1)
    vals = np.asarray(stat(loo))
    se = np.sqrt((b - 1) / b * np.sum((vals - vals.mean(axis=0)) ** 2, axis=0))
    return np.asarray(stat(per_seq.mean(axis=0))), se


def _markov_stat(g: np.ndarray) -> np.ndarray:
    """Signed scalar Markov violation ``(Gamma_2 - Gamma_1^2/Gamma_0)/Gamma_2`` (0 for an RNN)."""
    return 1.0 - g[..., 1] ** 2 / (g[..., 0] * g[..., 2])


def _acf_stat(g: np.ndarray) -> np.ndarray:
    """Autocorrelations ``Gamma_k / Gamma_0`` at lags 1..L."""
    return g[..., 1:] / g[..., :1]


def _mismatch_stat(g: np.ndarray) -> np.ndarray:
    """Mismatch (lags 1..L) of the RNN fitted by regression (``J = Gamma_1/Gamma_0``)."""
    lags = np.arange(1, g.shape[-1])
    j = g[..., 1:2] / g[..., :1]
    pred = j**lags * g[..., :1]
    return np.sqrt(np.sum((pred - g[..., 1:]) ** 2, axis=-1) / np.sum(g[..., 1:] ** 2, axis=-1))


def _scalar_riccati(a: float, q: float, r: float, p0: float, n_steps: int) -> np.ndarray:
    """Innovation variances S_t of the scalar Kalman filter (closed-form recursion)."""
    s = np.empty(n_steps)
    p = p0
    for t in range(n_steps):
        s[t] = p + r
        p = a * a * (p - p * p / (p + r)) + q
    return s


def compute_nonmarkov(settings: Settings) -> FigureData:
    """A scalar LDS whose output is not Markov: no RNN of the same size matches (sec 4)."""
    rng = np.random.default_rng(settings.seed + 1)
    c = Checks(KEY, "nonmarkov")
    a, q, r = 0.9, 1.0, 2.0
    lds = LatentLDS(A=[[a]], C=[[1.0]], Q=[[q]], R=[[r]])
    P = q / (1 - a * a)
    rnn = best_rnn_approximation(lds, 1)
    lags = np.arange(11)
    acf_lds = np.where(lags == 0, 1.0, a**lags * P / (P + r))
    j = a * P / (P + r)
    acf_rnn = j**lags
    G = output_autocovariance(lds, 10)[:, 0, 0]
    H = output_autocovariance(rnn, 10)[:, 0, 0]
    c.less("LDS autocorrelation vs closed form a^k P/(P+r): max error",
           float(np.abs(G / G[0] - acf_lds).max()), 1e-12)
    c.less("best RNN autocorrelation vs closed form J^k, J = aP/(P+r): max error",
           float(np.abs(H / H[0] - acf_rnn).max()), 1e-12)
    c.close("Markov violation of the LDS output vs closed form r/(P+r)", markov_violation(lds),
            r / (P + r), 1e-12)
    c.greater("mismatch of the best 1-unit RNN at lags 1..10 (no RNN matches)",
              rnn_mismatch(lds, rnn, n_lags=10), 0.1)
    # per-step log-likelihood advantage of the LDS, closed form vs samples
    n_seq, T = (100, 300) if settings.quick else (400, 1000)
    sigma = P + r - j * j * (P + r)
    s_t = _scalar_riccati(a, q, r, P, T)
    exp_gap = 0.5 * (np.log(sigma) * (T - 1) + np.log(P + r) + T - np.log(s_t).sum() - T)
    rate = loglik_gap_rate(lds, rnn)
    s_inf = s_t[-1]
    c.close("asymptotic gap rate vs closed form (log Sigma - log S_inf)/2 (nats/step)",
            rate, 0.5 * (np.log(sigma) - np.log(s_inf)), 1e-9)
    _, y = sample_lds(lds, n_seq, T, rng=rng)
    x = sample_rnn(rnn, n_seq, T, rng=rng)
    # measured on samples: lag products per sequence, jackknife SE over the n_seq sequences.
    # Tolerances are 4 SE (two-sided normal tail 6e-5 per row; for the max over 10 lags the
    # family-wise rate is < 1e-3).
    mom_l, mom_r = _lag_moments(y, 10), _lag_moments(x, 10)
    emp_l, se_l = _jackknife(mom_l, _acf_stat)
    emp_r, se_r = _jackknife(mom_r, _acf_stat)
    c.less("LDS samples: max_k |acf_k - a^k P/(P+r)| / SE_k, k=1..10 (4 SE)",
           float(np.max(np.abs(emp_l - acf_lds[1:]) / se_l)), 4.0)
    c.less("best-RNN samples: max_k |acf_k - J^k| / SE_k, k=1..10 (4 SE)",
           float(np.max(np.abs(emp_r - acf_rnn[1:]) / se_r)), 4.0)
    j_fit, se_j = _jackknife(mom_l, lambda g: g[..., 1] / g[..., 0])
    c.close("RNN fitted to LDS samples (J = G1/G0) vs best-RNN J = aP/(P+r) (4 SE)",
            float(j_fit), j, 4 * float(se_j))
    mv_r, se_mr = _jackknife(mom_r, _markov_stat)
    c.close("RNN samples: Markov violation 1 - G1^2/(G0 G2) = 0 (4 SE)", float(mv_r), 0.0,
            4 * float(se_mr))
    mv_l, se_ml = _jackknife(mom_l, _markov_stat)
    c.close("LDS samples: Markov violation vs closed form r/(P+r) (4 SE)", float(mv_l),
            r / (P + r), 4 * float(se_ml))
    c.greater("LDS samples: Markov violation / SE (significantly non-zero)",
              float(mv_l / se_ml), 4.0)
    diff = lds_log_likelihood(lds, y) - rnn_log_likelihood(rnn, y)
    se = float(diff.std(ddof=1) / np.sqrt(n_seq))
    c.close(f"sampled gap per sequence vs exact expectation (tol 4 SE, T={T})",
            float(diff.mean()), float(exp_gap), 4 * se)
    c.greater("LDS beats the best RNN on its own data (mean gap / SE)", float(diff.mean()) / se,
              4.0)
    data = {"lags": lags, "acf_lds": acf_lds, "acf_rnn": acf_rnn, "gap": diff / T,
            "gap_rate": rate, "emp_acf_lds": emp_l, "se_acf_lds": se_l, "emp_acf_rnn": emp_r,
            "se_acf_rnn": se_r, "markov_lds": float(mv_l), "markov_rnn": float(mv_r)}
    return FigureData(data, c, {"a": a, "q": q, "r": r, "n_seq": n_seq, "T": T})


def plot_nonmarkov(fd: FigureData, path: Path) -> None:
    """Autocorrelation of the non-Markov LDS vs the best RNN; sampled log-likelihood gaps."""
    import matplotlib.pyplot as plt

    d = fd.data
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].plot(d["lags"], d["acf_lds"], "o-", label="LDS (not Markov)")
    axes[0].plot(d["lags"], d["acf_rnn"], "s--", label="best RNN (Markov)")
    for key, col, name in (("lds", "C0", "LDS"), ("rnn", "C1", "RNN")):
        axes[0].errorbar(d["lags"][1:], d[f"emp_acf_{key}"], yerr=2 * d[f"se_acf_{key}"],
                         fmt="x", color=col, ms=4, label=f"{name} samples (±2 SE)")
    axes[0].set_xlabel("lag k")
    axes[0].set_ylabel("autocorrelation")
    axes[0].legend(fontsize=8)
    axes[1].hist(d["gap"], bins=20, color="0.6")
    axes[1].axvline(d["gap_rate"], color="C3", label="theory rate")
    axes[1].set_xlabel("log-lik LDS − RNN per step (nats)")
    axes[1].legend(fontsize=8)
    finish_figure(fig, path)


# ---------------------------------------------------------------------------------- limits
def _slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def compute_limits(settings: Settings) -> FigureData:
    """Mismatch of the best RNN approximation in the two limit cases (sec 4).

    Slope tolerances are derived from the first-order expansion: the best-RNN covariances are
    analytic in ``eps = R / lambda`` (``lambda`` the smallest non-zero eigenvalue of the latent
    signal covariance ``C P C^T``) and the lag-k term of the mismatch is
    ``a^k P ((k-1) eps + O(k^2 eps^2))`` (scalar case: ``J^k (P+r) = a^k P (1+eps)^(1-k)``), so
    the local log-log slope is ``1 + O(kbar eps)`` with ``kbar <= L`` (L = 10 lags). Over a fit
    range ending at ``eps_max`` the slope therefore deviates from its limit by at most
    ``L * eps_max`` to first order; that is the tolerance.
    """
    rng = np.random.default_rng(settings.seed + 2)
    c = Checks(KEY, "limits")
    k = 2
    n_lags = 10
    A = np.array([[0.9, 0.2], [-0.2, 0.8]])
    Q = np.eye(k)
    n = 10
    C = rng.standard_normal((n, k))
    P_lat = latent_stationary_covariance(LatentLDS(A=A, C=C, Q=Q, R=np.eye(n)))
    noise = np.logspace(-3, 1, 9)
    mis_noise = np.array([rnn_mismatch(LatentLDS(A=A, C=C, Q=Q, R=s * np.eye(n)),
                                       n_lags=n_lags) for s in noise])
    c.holds("mismatch decreases monotonically as observation noise -> 0",
            bool(np.all(np.diff(mis_noise) > 0)), f"{mis_noise[0]:.3g}..{mis_noise[-1]:.3g}",
            "strictly increasing in R")
    lam = float(np.linalg.eigvalsh(C @ P_lat @ C.T)[-k])
    tol_noise = n_lags * noise[3] / lam
    c.close(f"log-log slope of mismatch vs R, R<={noise[3]:.3g} (theory 1; tol L R_max/lambda,"
            f" lambda={lam:.3g})", _slope(noise[:4], mis_noise[:4]), 1.0, tol_noise)
    exact = LatentLDS(A=A, C=C, Q=Q, R=np.zeros((n, n)))
    c.less("R = 0: the conversion J = C A C^+ is exact (mismatch)",
           rnn_mismatch(exact, lds_to_rnn(exact)), 1e-10)
    # scalar closed form: mismatch at lags 1..L relative, J = aP/(P+r)
    a, P1 = 0.9, 1.0 / (1 - 0.81)
    lags = np.arange(1, n_lags + 1)
    scalar = []
    for s in noise:
        jj = a * P1 / (P1 + s)
        num = np.sum((jj**lags * (P1 + s) - a**lags * P1) ** 2)
        scalar.append(np.sqrt(num / np.sum((a**lags * P1) ** 2)))
    scalar = np.array(scalar)
    scalar_meas = [rnn_mismatch(LatentLDS(A=[[a]], C=[[1.0]], Q=[[1.0]], R=[[s]]),
                                n_lags=n_lags) for s in noise]
    c.less("scalar LDS: mismatch vs closed form, max relative error",
           float(np.max(np.abs(np.array(scalar_meas) - scalar) / scalar)), 1e-9)
    # measured: sample the scalar LDS, fit J = G1/G0 (the rank-1 RNN fit by regression) and
    # compare the fitted RNN's covariances with the empirical ones; jackknife SE over sequences.
    n_seq, T = (100, 300) if settings.quick else (300, 1000)
    sampled = noise[5:]
    emp_mis, emp_se = [], []
    for s in sampled:
        _, y = sample_lds(LatentLDS(A=[[a]], C=[[1.0]], Q=[[1.0]], R=[[s]]), n_seq, T, rng=rng)
        m_hat, m_se = _jackknife(_lag_moments(y, n_lags), _mismatch_stat)
        emp_mis.append(float(m_hat))
        emp_se.append(float(m_se))
    emp_mis, emp_se = np.array(emp_mis), np.array(emp_se)
    want = scalar[5:]
    c.less(f"scalar LDS samples (R={sampled[0]:.3g}..{sampled[-1]:.3g}): max |fitted-RNN "
           "mismatch - closed form| / SE (4 SE)", float(np.max(np.abs(emp_mis - want) / emp_se)),
           4.0)
    c.greater(f"scalar LDS samples: measured mismatch / SE at R={sampled[0]:.3g} (non-Markov "
              "output detected)", float(emp_mis[0] / emp_se[0]), 4.0)
    # units: C with Gram C^T C = m G^T G exactly (random orthonormal directions), so the
    # signal-to-noise Gram grows exactly like m; Gaussian C does so only on average, with
    # O(m^-1/2) fluctuations that would blur the slope.
    G = np.array([[1.0, 0.0], [0.3, 0.7]])
    units = np.array([4, 8, 16, 32, 64, 128] + ([] if settings.quick else [256, 512]))
    mis_units = []
    for m in units:
        qm = np.linalg.qr(rng.standard_normal((m, k)))[0]
        lds_m = LatentLDS(A=A, C=np.sqrt(m) * qm @ G, Q=Q, R=np.eye(m))
        mis_units.append(rnn_mismatch(lds_m, n_lags=n_lags))
    mis_units = np.array(mis_units)
    c.holds("mismatch decreases monotonically as observed units grow",
            bool(np.all(np.diff(mis_units) < 0)), f"{mis_units[0]:.3g}..{mis_units[-1]:.3g}",
            "strictly decreasing in N")
    lam_u = float(units[-3] * np.linalg.eigvalsh(G @ P_lat @ G.T)[0])
    c.close(f"log-log slope of mismatch vs N, N>={units[-3]} (theory -1; tol L/lambda_N, "
            f"lambda_N={lam_u:.3g})", _slope(units[-3:], mis_units[-3:]), -1.0,
            n_lags / lam_u)
    data = {"noise": noise, "mis_noise": mis_noise, "scalar": scalar, "sampled": sampled,
            "emp_mis": emp_mis, "emp_se": emp_se, "units": units, "mis_units": mis_units}
    return FigureData(data, c, {"K": k, "n_obs_noise_sweep": n, "n_seq": n_seq, "T": T,
                                "n_lags": n_lags})


def plot_limits(fd: FigureData, path: Path) -> None:
    """Mismatch vs observation noise and vs number of observed units (log-log)."""
    import matplotlib.pyplot as plt

    d = fd.data
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].loglog(d["noise"], d["mis_noise"], "o-", label="K=2, N=10")
    axes[0].loglog(d["noise"], d["scalar"], "k--", label="scalar LDS a=0.9 (closed form)")
    axes[0].errorbar(d["sampled"], d["emp_mis"], yerr=2 * d["emp_se"], fmt="x", color="k",
                     label="scalar LDS samples, fitted RNN (±2 SE)")
    axes[0].set_xlabel("observation noise variance")
    axes[0].set_ylabel("covariance mismatch (lags 1–10)")
    axes[0].legend(fontsize=8)
    axes[1].loglog(d["units"], d["mis_units"], "o-", label="K=2, R=I, C^T C ∝ N")
    ref = d["mis_units"][-1] * d["units"][-1] / d["units"]
    axes[1].loglog(d["units"], ref, "k:", label="∝ 1/N")
    axes[1].set_xlabel("observed units N")
    axes[1].legend(fontsize=8)
    finish_figure(fig, path)


# --------------------------------------------------------------------------------- fitting
def _seq_scores(model: LatentLDS | LinearLowRankRNN, y: np.ndarray) -> np.ndarray:
    if isinstance(model, LatentLDS):
        if np.max(np.abs(np.linalg.eigvals(model.A))) < 1 - 1e-9:
            model = model.replace(m0=None, P0=None)
        return lds_log_likelihood(model, y) / y.shape[1]
    return rnn_log_likelihood(model, y) / y.shape[1]


def _n_params_rnn(n: int, rank: int) -> int:
    """Free parameters of a fitted rank-R RNN on N units: J = M N^T (2NR - R^2, the R^2 of
    an invertible mixing of the columns being a gauge), Sigma (N(N+1)/2), bias h (N)."""
    return 2 * n * rank - rank * rank + n * (n + 1) // 2 + n


def _n_params_lds(n: int, k: int) -> int:
    """Free parameters of a fitted LDS (full R): A (K^2), C (NK), Q (K(K+1)/2), R (N(N+1)/2),
    offset d (N), minus the K^2 of the latent gauge z -> T z."""
    return k * k + n * k + k * (k + 1) // 2 + n * (n + 1) // 2 + n - k * k


def compute_fitting(settings: Settings) -> FigureData:
    """Held-out comparison of RRR-fitted RNNs and EM-fitted LDSs on three kinds of data."""
    from lowrank_rnn.connectivity import low_rank_network

    rng = np.random.default_rng(settings.seed + 3)
    c = Checks(KEY, "fitting")
    n_seq, T, em_iter = (20, 200, 150) if settings.quick else (60, 500, 400)
    scores: dict[str, dict[str, float]] = {}
    # (a) data from a rank-one RNN, N = 8
    n = 8
    m = rng.standard_normal((n, 1))
    nv = rng.standard_normal((n, 1))
    rnn = LinearLowRankRNN(M=m, N=nv * (0.8 / float((nv.T @ m)[0, 0])), Sigma=np.eye(n))
    x, xt = sample_rnn(rnn, n_seq, T, rng=rng), sample_rnn(rnn, n_seq, T, rng=rng)
    res = compare_heldout(x, xt, rank=1, n_latent=2, em_iter=em_iter, true_model=rnn)
    n_train = n_seq * T
    p_rnn, p_lds = _n_params_rnn(n, 1), _n_params_lds(n, 2)
    d_rnn = _seq_scores(rnn, xt) - _seq_scores(res["rnn_model"], xt)
    d_lds = _seq_scores(rnn, xt) - _seq_scores(res["lds_model"], xt)
    for label, dd, p in (("RRR RNN", d_rnn, p_rnn), ("EM LDS (K=2R)", d_lds, p_lds)):
        se = float(dd.std(ddof=1) / np.sqrt(len(dd)))
        c.less(f"RNN data: true - {label} held-out (nats/step) < p/n_train + 4 SE",
               float(dd.mean()), p / n_train + 4 * se)
    ll = res["em_info"]["log_likelihood"]
    em_ok = bool(np.all(np.diff(ll) >= -1e-9 * abs(ll[-1])))
    scores["RNN data"] = {k: res[k] for k in ("rnn", "lds", "gaussian", "true")}
    # (b) data from a scalar-latent LDS with strong observation noise, N = 4
    lds = LatentLDS(A=[[0.95]], C=rng.standard_normal((4, 1)), Q=[[0.1]], R=np.eye(4))
    _, y = sample_lds(lds, n_seq, T, rng=rng)
    _, yt = sample_lds(lds, n_seq, T, rng=rng)
    res = compare_heldout(y, yt, rank=4, n_latent=1, em_iter=em_iter, true_model=lds)
    gap = _seq_scores(res["lds_model"], yt) - _seq_scores(res["rnn_model"], yt)
    se = float(gap.std(ddof=1) / np.sqrt(len(gap)))
    theory = loglik_gap_rate(lds, best_rnn_approximation(lds, 4))
    # Overfitting bias (AIC): a maximum-likelihood fit with p free parameters scores on average
    # p / (2 n_train) nats per step below its population value on held-out data, so the fitted
    # gap differs from the population rate by (p_rnn - p_lds) / (2 n_train); allow for both
    # terms at full size, (p_lds + p_rnn) / (2 n_train).
    allow = (_n_params_lds(4, 1) + _n_params_rnn(4, 4)) / (2 * n_train)
    c.close("LDS data: EM LDS - RRR RNN held-out gap vs theory rate (tol 4 SE + "
            "(p_lds + p_rnn)/(2 n_train))",
            float(gap.mean()), theory, 4 * se + allow)
    c.greater("LDS data: EM LDS beats a full-rank RNN of the same size (gap / SE)",
              float(gap.mean()) / se, 3.0)
    ll = res["em_info"]["log_likelihood"]
    em_ok &= bool(np.all(np.diff(ll) >= -1e-9 * abs(ll[-1])))
    scores["LDS data"] = {k: res[k] for k in ("rnn", "lds", "gaussian", "true")}
    # (c) a nonlinear rank-one tanh network
    n = 12 if settings.quick else 30
    mv = rng.standard_normal(n)
    net = low_rank_network(mv[:, None], (2.0 * mv + 0.5 * rng.standard_normal(n))[:, None])
    kw = {"dt": 0.2, "every": 3, "noise": 0.5}
    xs = sample_nonlinear_network(net, n_seq, T // 2, rng=rng, **kw)
    xst = sample_nonlinear_network(net, n_seq, T // 2, rng=rng, **kw)
    res = compare_heldout(xs, xst, rank=1, n_latent=2, em_iter=em_iter)
    for label in ("rnn", "lds"):
        c.greater(f"nonlinear network: {label} beats the i.i.d. Gaussian baseline (nats/step)",
                  res[label] - res["gaussian"], 0.0)
    ll = res["em_info"]["log_likelihood"]
    em_ok &= bool(np.all(np.diff(ll) >= -1e-9 * abs(ll[-1])))
    c.holds("EM log-likelihood non-decreasing at every iteration (all fits)", em_ok, em_ok,
            "True")
    scores["nonlinear net"] = {k: res[k] for k in ("rnn", "lds", "gaussian")}
    return FigureData({"scores": scores}, c, {"n_seq": n_seq, "T": T, "em_iter": em_iter})


def plot_fitting(fd: FigureData, path: Path) -> None:
    """Held-out log-likelihood per step of each fit, relative to the Gaussian baseline."""
    import matplotlib.pyplot as plt

    scores = fd.data["scores"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(scores)
    for i, key in enumerate(("rnn", "lds", "true")):
        vals = [scores[s].get(key, np.nan) - scores[s]["gaussian"] for s in names]
        ax.bar(np.arange(len(names)) + (i - 1) * 0.27, vals, width=0.27,
               label={"rnn": "RRR RNN", "lds": "EM LDS", "true": "true model"}[key])
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel("held-out log-lik − Gaussian (nats/step)")
    ax.legend(fontsize=8)
    finish_figure(fig, path)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("conversion", "RNN -> LDS: exact, latent dimension <= 2R",
               compute_conversion, plot_conversion,
               quick_note=(
               "N = 40 units instead of 100.")),
    FigureSpec("nonmarkov", "A non-Markov LDS no RNN of the same size matches",
               compute_nonmarkov, plot_nonmarkov,
               quick_note=(
               "100 sequences of 300 steps instead of 400 of 1000: standard errors are twice "
               "as large.")),
    FigureSpec("limits", "LDS -> RNN mismatch in the limit cases", compute_limits, plot_limits,
               quick_note=(
               "100 sequences of 300 steps; observed units up to 128 instead of 512.")),
    FigureSpec("fitting", "RRR (RNN) vs EM (LDS): held-out log-likelihood",
               compute_fitting, plot_fitting,
               quick_note=(
               "20 sequences of 200 steps and 150 EM iterations instead of 60, 500 and 400; N "
               "= 12 instead of 30.")),
)

PAPER = Paper(key=KEY, citation=CITATION, figures=FIGURES)
