"""Evidence-accumulation task: trial structure, statistics of the noise, the network's vectors."""

import numpy as np
import pytest

from lowrank_rnn.tasks.evidence import evidence_network, evidence_trials


def test_trials_shapes_and_structure():
    tb = evidence_trials([0.0, 0.5, 1.0], repeats=4, t_total=10.0, dt=0.5, window=2.0, rng=1)
    assert tb.inputs.shape == (12, 20, 2) and tb.targets.shape == (12, 20, 1)
    start = tb.info["onset_step"]
    assert start == 4
    assert np.all(tb.inputs[:, :start] == 0)
    np.testing.assert_allclose(tb.inputs[:, start:, 1], tb.info["strength"][:, None] * np.ones(16))
    # window of 2 tau = 4 steps, targets = sign relative to the mid threshold 0.5
    assert tb.mask[:, -4:].all() and not tb.mask[:, :-4].any()
    np.testing.assert_array_equal(tb.targets[:, -1, 0], np.where(tb.info["strength"] > 0.5, 1, -1))


def test_noise_has_the_white_noise_scaling():
    """Channel 0 minus the mean is noise_sd / sqrt(dt) times standard normals."""
    dt, sd = 0.2, 0.4
    tb = evidence_trials([0.3], repeats=400, t_total=40.0, dt=dt, noise_sd=sd, rng=3)
    start = tb.info["onset_step"]
    xi = (tb.inputs[:, start:, 0] - 0.3) * np.sqrt(dt) / sd
    n = xi.size
    assert abs(xi.mean()) < 5 / np.sqrt(n)
    assert abs(xi.var() - 1) < 5 * np.sqrt(2 / n)


def test_same_seed_same_trials():
    a = evidence_trials([0.1, 0.9], repeats=3, rng=7)
    b = evidence_trials([0.1, 0.9], repeats=3, rng=7)
    c = evidence_trials([0.1, 0.9], repeats=3, rng=8)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert not np.array_equal(a.inputs, c.inputs)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_network_vectors_follow_eq_17_18(seed):
    """Overlaps and outlier within 5 sd of their sampling distributions.

    w, I, y are Gram-Schmidt-orthogonalised standard normals, so |w|^2, |I|^2, |y|^2 are
    chi^2 with N, N-1, N-2 degrees of freedom and, with a^2 = sigma^2 - sigma_mn, b^2 = sigma_mn:
    m.m = a^2 |w|^2 + b^2 |y|^2, m.n = b^2 |y|^2, n.I = a |I|^2, outlier = C m.n / N.
    (The orthogonalisation makes these exact; for independent vectors the outlier's sd would be
    C sqrt((sigma^4 + sigma_mn^2) / N), larger than the C sigma_mn sqrt(2(N-2))/N here.)
    """
    n, s2, smn, c = 4000, 0.1, 0.06, 100
    en = evidence_network(n, s2, smn, c=c, rng=seed)
    a2, b2 = s2 - smn, smn
    # w, I orthogonal by construction
    assert abs(en.w @ en.inp) < 1e-8 * n

    def within_5_sd(measured, mean, var):
        assert abs(measured - mean) < 5 * np.sqrt(var), (measured, mean, np.sqrt(var))

    within_5_sd(en.m @ en.m / n, (a2 * n + b2 * (n - 2)) / n,
                2 * (a2**2 * n + b2**2 * (n - 2)) / n**2)
    within_5_sd(en.m @ en.n / n, b2 * (n - 2) / n, 2 * b2**2 * (n - 2) / n**2)
    within_5_sd(en.n @ en.inp / n, np.sqrt(a2) * (n - 1) / n, 2 * a2 * (n - 1) / n**2)
    within_5_sd(en.outlier, c * b2 * (n - 2) / n, 2 * (c * b2) ** 2 * (n - 2) / n**2)
    np.testing.assert_allclose(en.outlier, c * (en.m @ en.n) / n, rtol=1e-12)
    assert en.net.structure == "sparse" and en.net.mask.nnz == c * n
    np.testing.assert_array_equal(en.x0, -en.m)
    dense = evidence_network(500, s2, smn, c=c, dense=True, g=0.5, rng=seed)
    assert dense.net.structure == "dense" and np.isclose(dense.net.scale, c / 500)


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"strengths": []}, "strengths"),
        ({"strengths": [0.1], "repeats": 0}, "repeats"),
        ({"strengths": [0.1], "dt": 0.0}, "dt"),
        ({"strengths": [0.1], "noise_sd": -1.0}, "noise_sd"),
        ({"strengths": [np.nan]}, "strengths"),
    ],
)
def test_bad_trial_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        evidence_trials(**kw)


def test_bad_network_arguments():
    with pytest.raises(ValueError, match="sigma_mn"):
        evidence_network(100, 0.1, 0.2)
    with pytest.raises(ValueError, match="c"):
        evidence_network(100, 0.1, 0.05, c=500)
