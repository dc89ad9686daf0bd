"""Bad input to the library: a ValueError naming the parameter, never a silent cast, a stale
cache, another exception type or a silently meaningless result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_rnn._validate import check_int
from lowrank_rnn.connectivity import rank_one_network
from lowrank_rnn.fit.regression import ODEEmbedding
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.simulate import simulate

NET = rank_one_network(20, 0.1, 0.05, rng=0)


@pytest.mark.parametrize("value", [True, False, 100.0, np.float64(3.0), 2.5, "3", None])
def test_check_int_refuses_bools_and_floats(value) -> None:
    with pytest.raises(ValueError, match=r"^n=.*expected an integer"):
        check_int("n", value)


def test_check_int_accepts_numpy_integers() -> None:
    assert check_int("n", np.int64(7)) == 7


@pytest.mark.parametrize("field", ["M", "N", "I", "W"])
def test_complex_loadings_are_refused_not_cut(field) -> None:
    rng = np.random.default_rng(0)
    kw = {"M": rng.standard_normal((5, 1)), "N": rng.standard_normal((5, 1))}
    kw[field] = kw.get(field, rng.standard_normal((5, 1))) + 1j
    with pytest.raises(ValueError, match=rf"^{field}: expected a real array"):
        LowRankRNN(**kw)


def test_complex_random_part_and_initial_state_are_refused() -> None:
    with pytest.raises(ValueError, match="^random: expected a real"):
        NET.replace(random=np.eye(20) * 1j)
    with pytest.raises(ValueError, match="^random: expected a real"):
        NET.replace(random=sp.csr_array(np.eye(20) * 1j))
    with pytest.raises(ValueError, match="^x0: expected a real"):
        simulate(NET, x0=np.ones(20) * 1j, dt=0.1, n_steps=2)


def test_complex_vector_field_is_refused() -> None:
    est = ODEEmbedding(1, 10, inputs="none", ridge=1e-3, random_state=0)
    with pytest.raises(ValueError, match="^g: returned complex"):
        est.fit(lambda z: -z + 0j, np.linspace(-1, 1, 50)[:, None])


def test_mask_must_be_binary_and_its_zeros_are_no_connections() -> None:
    rng = np.random.default_rng(1)
    M, N = rng.standard_normal((4, 1)), rng.standard_normal((4, 1))
    mask = sp.csr_array((np.array([1.0, 0.0, 1.0]), (np.array([0, 1, 2]), np.array([1, 2, 3]))),
                        shape=(4, 4))
    net = LowRankRNN(M, N, mask=mask)
    assert net.mask.nnz == 2
    dense = net.to_dense()
    assert dense[1, 2] == 0.0 and dense[0, 1] == pytest.approx(M[0, 0] * N[1, 0])
    with pytest.raises(ValueError, match="^mask: must be binary"):
        LowRankRNN(M, N, mask=sp.csr_array(0.5 * np.ones((4, 4))))


def test_network_arrays_are_read_only_so_caches_cannot_go_stale() -> None:
    net = rank_one_network(30, 0.1, 0.05, sparsity=0.5, rng=0)
    before = net.sparse_connectivity().toarray()
    for name in ("M", "N"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(net, name)[:] = 0.0
    np.testing.assert_array_equal(net.sparse_connectivity().toarray(), before)
    changed = net.replace(M=np.zeros_like(net.M))  # the way to change a network
    assert not np.any(changed.sparse_connectivity().toarray())
    user = np.ones((30, 1))
    LowRankRNN(user, user)
    user[:] = 2.0  # the caller's own array stays writable


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"net": None}, "^net: expected a LowRankRNN"),
        ({"net": "J"}, "^net: expected a LowRankRNN"),
        ({"t_span": 1e300}, "^t_span="),
        ({"t_span": 0.01}, "^t_span="),
        ({"n_steps": 10**13}, "^n_steps=.*of memory"),
        ({"n_steps": 2.0}, "^n_steps="),
        ({"device": "quantum", "backend": "torch"}, "^device="),
        ({"device": 3, "backend": "torch"}, "^device="),
    ],
)
def test_simulate_bad_arguments_are_value_errors(kwargs, match) -> None:
    args = {"net": NET, "dt": 0.1, "n_steps": None if "t_span" in kwargs else 5, **kwargs}
    net = args.pop("net")
    with pytest.raises(ValueError, match=match):
        simulate(net, **args)


def test_a_diverging_euler_step_warns() -> None:
    """dt = 5 tau: the leak alone makes the Euler map x -> (1 - 5) x, which doubles and more
    each step; over 2000 steps it overflows. The stable step does not warn."""
    lin = NET.replace(phi="linear")
    with pytest.warns(RuntimeWarning, match="diverged to non-finite values"):
        with np.errstate(over="ignore", invalid="ignore"):
            simulate(lin, x0=np.ones(20), dt=5.0, n_steps=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = simulate(lin, x0=np.ones(20), dt=0.1, n_steps=2000)
    assert np.all(np.isfinite(tr.x))


def test_identical_points_are_refused_without_ridge() -> None:
    est = ODEEmbedding(1, 10, inputs="none", random_state=0)
    with pytest.raises(ValueError, match="^points: only 1 distinct fitting points"):
        est.fit(lambda z: -z, np.full((100, 1), 0.3))
    est.set_params(ridge=1e-3) if hasattr(est, "set_params") else setattr(est, "ridge", 1e-3)
    est.fit(lambda z: -z, np.full((100, 1), 0.3))  # a ridge makes it well-posed


def test_ridge_zero_jitter_is_announced() -> None:
    est = ODEEmbedding(1, 60, inputs="none", random_state=0)
    with pytest.warns(RuntimeWarning, match="ill-conditioned.*jitter of .* was added"):
        est.fit(lambda z: -z, np.linspace(-2, 2, 400)[:, None])
    assert est.info_["solver"] == "cholesky+jitter" and est.info_["jitter"] > 0
