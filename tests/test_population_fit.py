"""Population fits of a network's loadings (scikit-learn mixtures) and resampling at any N."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from lowrank_rnn.connectivity import bernoulli_mask
from lowrank_rnn.fit.populations import (
    PopulationMixture,
    bootstrap_network,
    fit_populations,
    network_loadings,
    resampled_scores,
)
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.reproduce.beiran2021 import slope_with_error
from lowrank_rnn.simulate import simulate
from lowrank_rnn.theory.meanfield import GaussianMixture, latent_readout, latent_trajectory


def known_mixture(seed: int, *, d_in: int = 0, d_out: int = 1) -> GaussianMixture:
    """Three well-separated populations (means 6 sd apart along a random direction)."""
    rng = np.random.default_rng(seed)
    R = 2
    D = 2 * R + d_in + d_out
    covs = []
    for _ in range(3):
        A = rng.normal(size=(D, D))
        covs.append(0.3 * A @ A.T / D + 0.2 * np.eye(D))
    direction = rng.normal(size=D)
    direction /= np.linalg.norm(direction)
    means = np.outer([-1.0, 0.0, 1.0], direction) * 8.0 + 0.5 * rng.normal(size=(3, D))
    return GaussianMixture([0.3, 0.3, 0.4], means, np.array(covs), rank=R, d_out=d_out)


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_recovers_known_populations_within_sampling_error(seed):
    mix = known_mixture(seed)
    n = 3000
    net, labels = mix.sample(n, rng=seed + 10)
    fit = fit_populations(net, 3, rng=seed)
    assert fit.n_populations_ == 3 and fit.info_["converged"]
    assert adjusted_rand_score(labels, fit.labels_) > 0.98
    # match fitted populations to the true ones by their means
    cost = np.linalg.norm(mix.means[:, None] - fit.mixture_.means[None], axis=-1)
    true_idx, fit_idx = linear_sum_assignment(cost)
    for p, q in zip(true_idx, fit_idx, strict=True):
        n_p = int(np.sum(labels == p))
        S = mix.covs[p]
        var = np.diag(S)
        # mean: sd sqrt(S_ii / n_p); covariance entry: sd sqrt((S_ii S_jj + S_ij^2) / n_p)
        z_mean = (fit.mixture_.means[q] - mix.means[p]) / np.sqrt(var / n_p)
        z_cov = (fit.mixture_.covs[q] - S) / np.sqrt((np.outer(var, var) + S**2) / n_p)
        assert np.max(np.abs(z_mean)) < 5.0
        assert np.max(np.abs(z_cov)) < 5.0
        assert abs(fit.mixture_.fractions[q] - n_p / n) < 5 * np.sqrt(0.25 / n)
    assert fit.mixture_.d_out == 1 and fit.mixture_.rank == 2


def test_bic_and_dirichlet_choose_the_true_number_and_bootstrap_is_stable():
    mix = known_mixture(3)
    net, _ = mix.sample(2000, rng=4)
    bic = fit_populations(net, "bic", max_populations=4, n_init=1, rng=0)
    assert bic.n_populations_ == 3 and sorted(bic.bic_) == [1, 2, 3, 4]
    dp = PopulationMixture("dirichlet", max_populations=5, n_init=1, random_state=0).fit(net)
    assert dp.n_populations_ == 3
    boot = fit_populations(net, 3, n_bootstrap=3, n_init=1, rng=1)
    assert boot.stability_.shape == (3,) and np.all(boot.stability_ > 0.95)
    assert np.array_equal(boot.predict(net), boot.labels_)


def test_loadings_are_in_mean_field_units_and_resampling_reproduces_them():
    """A network with scale s and readout W: n = s N N_neurons, w = N_neurons W; a mixture
    fitted to it resamples networks with J = M N^T / N and W = w / N at any N."""
    rng = np.random.default_rng(0)
    n = 400
    M, Nn, I, W = (rng.normal(size=(n, k)) for k in (2, 2, 1, 1))
    net = LowRankRNN(M=M, N=Nn * 3.0, I=I, W=W / 7.0, scale=0.5 / n, readout_scale=2.0)
    X, dims = network_loadings(net)
    assert dims == {"rank": 2, "d_in": 1, "d_out": 1}
    np.testing.assert_allclose(X[:, 2:4], 1.5 * Nn)
    np.testing.assert_allclose(X[:, 5:], n * W / 7.0)
    fit = fit_populations(net, 1, rng=0)
    mix = fit.mixture_
    assert (mix.d_in, mix.d_out, mix.readout_scale) == (1, 1, 2.0)
    big = mix.sample_network(5000, rng=1)
    assert big.scale == pytest.approx(1 / 5000)
    np.testing.assert_allclose(np.var(big.W * 5000), np.var(X[:, 5]), rtol=0.15)
    np.testing.assert_allclose(np.var(big.N), np.var(X[:, 2]), rtol=0.15)


def test_resampled_readout_approaches_mean_field_as_inverse_sqrt_n():
    """Outputs of networks drawn at N = 500, 2000, 8000 approach the mean-field readout along
    the mean-field trajectory; the deviation shrinks like N^{-1/2} (slope -1/2 within 4 seed
    standard errors)."""
    mix = known_mixture(5, d_in=1, d_out=1).replace(readout_scale=1.5)
    mix = mix.replace(means=mix.means * 0.25, covs=mix.covs)
    u = np.array([0.7])
    k0 = np.array([0.5, -0.3])
    dt, n_steps = 0.1, 40
    mf = latent_trajectory(mix, k0, u, dt=dt, n_steps=n_steps, method="euler").kappa[0]
    z_mf = latent_readout(mix, mf, u)[:, 0]
    sizes, draws = [500, 2000, 8000], 12
    rms = np.empty((len(sizes), draws))
    for i, n in enumerate(sizes):
        for s in range(draws):
            net = mix.sample_network(n, rng=np.random.default_rng([s, n]))
            inputs = np.broadcast_to(u, (1, n_steps, 1))
            tr = simulate(net, inputs, x0=net.M @ k0 + net.I @ u, dt=dt)
            rms[i, s] = np.sqrt(np.mean((tr.z[0, :, 0] - z_mf) ** 2))
    _, mean_slope, se = slope_with_error(sizes, rms)
    assert abs(mean_slope + 0.5) < 4 * se + 0.05
    assert np.all(np.diff(np.sqrt(np.mean(rms**2, axis=1))) < 0)


def test_resampled_scores_draw_reproducible_networks():
    mix = known_mixture(6)
    s1 = resampled_scores(mix, 300, lambda net: float(net.M.sum()), draws=4, rng=3)
    s2 = resampled_scores(mix, 300, lambda net: float(net.M.sum()), draws=4, rng=3)
    assert s1.shape == (4,) and np.array_equal(s1, s2) and len(set(s1)) == 4


def test_bootstrap_network_copies_neurons_at_the_new_scale():
    """Each neuron of the bootstrap network is a neuron of the original in mean-field units
    (J = M N^T / N_new, W = w / N_new): rows of its loadings are rows of the original's, and
    every original neuron is drawn about N_new / N times."""
    net = known_mixture(2, d_in=1).sample_network(150, rng=0)
    X, _ = network_loadings(net)
    boot = bootstrap_network(net, 6000, rng=4)
    Xb, dims = network_loadings(boot)
    assert Xb.shape == (6000, X.shape[1]) and dims == {"rank": 2, "d_in": 1, "d_out": 1}
    dist = np.abs(Xb[:, None, :] - X[None, :, :]).max(axis=2)
    hit = dist.argmin(axis=1)
    np.testing.assert_allclose(Xb, X[hit], rtol=1e-12, atol=1e-12)
    counts = np.bincount(hit, minlength=150)
    # multinomial counts: mean 40, sd sqrt(40 (1 - 1/150)); 6 sd either side for any seed
    assert np.all(np.abs(counts - 40) < 6 * np.sqrt(40))
    again = bootstrap_network(net, 6000, rng=4)
    assert np.array_equal(again.M, boot.M) and np.array_equal(again.W, boot.W)
    with pytest.raises(ValueError, match="n_neurons"):
        bootstrap_network(net, 0)


def test_bootstrap_network_with_merged_copies_runs_the_same_trials():
    """Merging the copies of each drawn neuron (n and w times the copy count) gives the same
    draw's readout, and every copy's state, as simulating every copy (reference: the full
    bootstrap network), with only the distinct neurons."""
    from lowrank_rnn.simulate import simulate

    net = known_mixture(2, d_in=1).sample_network(60, rng=0)
    full = bootstrap_network(net, 500, rng=7)
    merged = bootstrap_network(net, 500, rng=7, merge_copies=True)
    assert merged.n_neurons == len(np.unique(full.M[:, 0])) < full.n_neurons
    u = np.random.default_rng(1).normal(size=(5, 40, 1))
    a = simulate(full, u, dt=0.1)
    b = simulate(merged, u, dt=0.1)
    np.testing.assert_allclose(b.z, a.z, rtol=1e-10, atol=1e-12)
    # neuron i of the full network is the merged neuron with the same m
    where = np.array([np.flatnonzero(merged.M[:, 0] == m)[0] for m in full.M[:, 0]])
    np.testing.assert_allclose(b.x[:, :, where], a.x, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="merge_copies"):
        bootstrap_network(net, 10, merge_copies="yes")


def test_bad_arguments_are_named():
    mix = known_mixture(0)
    net = mix.sample_network(200, rng=0)
    with pytest.raises(ValueError, match="n_populations"):
        PopulationMixture("aic")
    with pytest.raises(ValueError, match="n_populations"):
        PopulationMixture(0)
    with pytest.raises(ValueError, match="structure"):
        fit_populations(net.replace(mask=bernoulli_mask(200, 0.5, rng=0)), 1)
    with pytest.raises(ValueError, match="net"):
        fit_populations(np.zeros((10, 4)), 1)
    with pytest.raises(ValueError, match="draws"):
        resampled_scores(mix, 100, lambda n: 0.0, draws=0)
    with pytest.raises(ValueError, match="d_out"):
        GaussianMixture([1.0], np.zeros((1, 4)), np.eye(4)[None], rank=2, d_out=1)
    with pytest.raises(ValueError, match="readout"):
        latent_readout(GaussianMixture([1.0], np.zeros((1, 4)), np.eye(4)[None], rank=2),
                       np.zeros(2))
