"""Property-based tests (hypothesis): for any input, an entry point either works (and its result
agrees with an independent reference) or raises ValueError naming the parameter; the CLI
either succeeds or exits 2 with one line. Examples are few (each runs in milliseconds) so the
module stays fast; the seeds of every random function come from hypothesis too.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lowrank_rnn._validate import check_int  # noqa: E402
from lowrank_rnn.cli import main  # noqa: E402
from lowrank_rnn.connectivity import rank_one_network  # noqa: E402
from lowrank_rnn.fit.regression import ODEEmbedding  # noqa: E402
from lowrank_rnn.network import LowRankRNN  # noqa: E402
from lowrank_rnn.simulate import simulate  # noqa: E402
from lowrank_rnn.sweep import run_sweep  # noqa: E402

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# anything a user might pass where a number is expected
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-10**15, 10**15),
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(max_magnitude=10),
    st.text(max_size=5), st.lists(st.integers(-3, 3), max_size=3),
)


# --------------------------------------------------------------------------- check_int
@FAST
@given(value=ANY_VALUE)
def test_check_int_accepts_exactly_the_integers(value) -> None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int:
        assert check_int("n", value) == value
    else:
        with pytest.raises(ValueError, match=r"^n="):
            check_int("n", value)


# --------------------------------------------------------------------------- simulate
@st.composite
def networks(draw):
    n = draw(st.integers(1, 12))
    r = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    M, N = rng.standard_normal((n, r)), rng.standard_normal((n, r))
    phi = draw(st.sampled_from(["tanh", "linear", "relu"]))
    tau = draw(st.floats(0.2, 3.0))
    scale = 1.0 / n
    return LowRankRNN(M, N, scale=scale, tau=tau, phi=phi), seed


@FAST
@given(net_seed=networks(), dt=st.floats(1e-3, 0.3), n_steps=st.integers(1, 15),
       batch=st.integers(1, 3))
def test_simulate_equals_a_dense_euler_reference(net_seed, dt, n_steps, batch) -> None:
    """Any small network, step and length: the trajectory equals the dense Euler iteration
    ``x <- x + dt/tau (-x + J phi(x))`` computed here, and the same seed gives the same run."""
    net, seed = net_seed
    x0 = np.random.default_rng(seed + 1).standard_normal((batch, net.n_neurons))
    tr = simulate(net, x0=x0, dt=dt, n_steps=n_steps)
    J = net.scale * net.M @ net.N.T
    phi = {"tanh": np.tanh, "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0)}[net.phi]
    x = x0.copy()
    ref = [x.copy()]
    for _ in range(n_steps):
        x = x + dt / net.tau * (-x + phi(x) @ J.T)
        ref.append(x.copy())
    assert tr.x.shape == (batch, n_steps + 1, net.n_neurons)
    np.testing.assert_allclose(tr.x, np.stack(ref, axis=1), rtol=1e-9, atol=1e-12)
    again = simulate(net, x0=x0, dt=dt, n_steps=n_steps, noise=0.1, rng=seed)
    np.testing.assert_array_equal(
        again.x, simulate(net, x0=x0, dt=dt, n_steps=n_steps, noise=0.1, rng=seed).x)


@FAST
@given(dt=ANY_VALUE, n_steps=ANY_VALUE, t_span=ANY_VALUE, batch=ANY_VALUE,
       device=st.one_of(st.none(), st.text(max_size=6)))
def test_simulate_bad_arguments_raise_value_error_only(dt, n_steps, t_span, batch,
                                                       device) -> None:
    net = rank_one_network(8, 0.1, 0.05, rng=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tr = simulate(net, dt=dt, n_steps=n_steps, t_span=t_span, batch=batch,
                          device=device, backend="numpy" if device is None else "torch")
    except ValueError:
        return
    assert np.all(np.isfinite(tr.t)) and tr.x.shape[-1] == 8


# --------------------------------------------------------------------------- builders
@FAST
@given(n=st.integers(2, 60), sigma2=st.floats(0.0, 2.0), frac=st.floats(-1.0, 1.0),
       mode=st.sampled_from(["dense", "sparsity", "c"]), sparsity=st.floats(0.0, 0.95),
       c=st.integers(1, 60), g=st.floats(0.0, 2.0), seed=st.integers(0, 2**32 - 1))
def test_rank_one_builder_structure(n, sigma2, frac, mode, sparsity, c, g, seed) -> None:
    """Valid arguments build a network of the requested structure (C non-zeros per column,
    sigma_mn within the covariance bound); invalid ones raise ValueError naming them."""
    kw = {"sparsity": sparsity} if mode == "sparsity" else {"c": c} if mode == "c" else {}
    sigma_mn = frac * sigma2
    try:
        net = rank_one_network(n, sigma2, sigma_mn, g=g, rng=seed, **kw)
    except ValueError as err:
        assert mode == "c" and c > n, err  # the only invalid combination drawn here
        assert str(err).startswith("c=")
        return
    assert net.n_neurons == n and net.rank == 1
    if mode == "c":
        counts = np.diff(sp.csc_array(net.mask).indptr)
        assert np.all(counts == c)
    dense = net.to_dense()
    assert dense.shape == (n, n) and np.all(np.isfinite(dense))
    again = rank_one_network(n, sigma2, sigma_mn, g=g, rng=seed, **kw)
    np.testing.assert_array_equal(again.to_dense(), dense)


@FAST
@given(n=ANY_VALUE, sigma2=ANY_VALUE, sigma_mn=ANY_VALUE, sparsity=ANY_VALUE, g=ANY_VALUE)
def test_rank_one_builder_bad_arguments_raise_value_error(n, sigma2, sigma_mn, sparsity,
                                                          g) -> None:
    try:
        net = rank_one_network(n, sigma2, sigma_mn, sparsity=sparsity, g=g, rng=0)
    except ValueError:
        return
    assert isinstance(n, int) and net.n_neurons == n  # it only succeeds for an int size


@FAST
@given(n=st.integers(1, 10), seed=st.integers(0, 2**32 - 1), zeros=st.integers(0, 20))
def test_mask_explicit_zeros_are_no_connections(n, seed, zeros) -> None:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, n)) < 0.5).astype(float)
    mask = sp.csr_array(dense)
    if mask.nnz and zeros:  # store some of the ones as explicit zeros
        mask.data[: min(zeros, mask.nnz)] = 0.0
    net = LowRankRNN(rng.standard_normal((n, 1)), rng.standard_normal((n, 1)), mask=mask)
    np.testing.assert_array_equal(net.mask.toarray() != 0, mask.toarray() != 0)
    assert net.mask.nnz == int(np.count_nonzero(mask.toarray()))


# --------------------------------------------------------------------------- ODEEmbedding.fit
@FAST
@given(a=st.floats(-2.0, 2.0), n_neurons=st.integers(5, 40), n_points=st.integers(2, 80),
       ridge=st.sampled_from([0.0, 1e-6, 1e-2]), seed=st.integers(0, 2**32 - 1),
       duplicate=st.booleans())
def test_embedding_fit_works_or_says_why(a, n_neurons, n_points, ridge, seed,
                                         duplicate) -> None:
    """A linear target dz/dt = a z on any point set: the fit either raises ValueError (too few
    distinct points without a ridge) or returns a finite fit; ill-conditioning is warned."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-2, 2, (n_points, 1))
    if duplicate:
        Z[:] = Z[0]
    est = ODEEmbedding(1, n_neurons, inputs="none", ridge=ridge, random_state=seed)
    distinct = 1 if duplicate else n_points
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(lambda z: a * z, Z)
        except ValueError as err:
            assert ridge == 0.0 and distinct < n_neurons, err
            assert str(err).startswith("points:")
            return
    assert ridge > 0.0 or distinct >= n_neurons
    assert est.N_.shape == (n_neurons, 1) and math.isfinite(est.info_["train_mse"])
    cond = est.info_["condition_number"]
    jitter = est.info_["solver"] == "cholesky+jitter"
    warned = any("ill-conditioned" in str(w.message) for w in caught)
    assert warned == (jitter or not cond < 1e8)


# --------------------------------------------------------------------------- the CLI
TOKENS = st.sampled_from(["0", "-1", "1", "3", "40", "0.5", "1e12", "nan", "inf", "abc", "",
                          "1000000000000", "-0.0", "2.5"])
SPEC_OPTIONS = ["--n-neurons", "--sigma2", "--sigma-mn", "--sparsity", "--c", "--g", "--seed",
                "--method"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=st.dictionaries(st.sampled_from(SPEC_OPTIONS), TOKENS, max_size=5))
def test_cli_spectrum_succeeds_or_exits_2_with_one_line(values, capsys, tmp_path,
                                                        monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    base = {"--n-neurons": "30", "--sigma2": "0.5", "--sigma-mn": "0.1"}
    base.update(values)
    argv = ["spectrum", "--json", *[x for kv in base.items() for x in kv]]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    if exc.value.code == 0:
        res = __import__("json").loads(out.out)
        assert math.isfinite(res["outlier"])
        return
    lines = [ln for ln in out.err.splitlines() if ln.strip()]
    assert exc.value.code == 2 and len(lines) == 1, (argv, out.err)
    assert lines[0].startswith("Error: ")
    assert any(opt in lines[0] for opt in [*SPEC_OPTIONS, "N "]) or "memory" in lines[0], lines
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- sweep configs
def _point(a: float, b: int = 0, seed: int = 0) -> dict:
    return {"y": 10.0 * a + b + 0.001 * seed}


GRID_VALUES = st.lists(st.one_of(st.integers(-5, 5), st.floats(-3, 3, allow_nan=False),
                                 st.floats(allow_nan=True), st.text(max_size=3), st.none()),
                       max_size=4)


@FAST
@given(grid=st.dictionaries(st.sampled_from(["a", "b", "c", "seed", "1x"]), GRID_VALUES,
                            max_size=2),
       seeds=st.one_of(st.integers(-2, 4), st.lists(st.integers(-1, 5), max_size=3),
                       st.text(max_size=2)))
def test_sweep_configs_run_or_raise_value_error(grid, seeds) -> None:
    """Any grid and seeds: the sweep either raises ValueError before any point, or its
    dataset holds the closed-form answer at every grid point and seed."""
    try:
        ds = run_sweep(_point, grid, seeds, workers=0, progress=False)
    except ValueError:
        return
    assert set(grid) <= {"a", "b"}
    for idx in np.ndindex(ds["y"].shape):
        coords = {d: ds[d].values[i] for d, i in zip(ds["y"].dims, idx, strict=True)}
        want = 10.0 * coords.get("a", 0.0) * ("a" in coords) + coords.get("b", 0) \
            + 0.001 * coords["seed"]
        if "a" not in coords:  # a is required: the sweep could not have run without it
            pytest.fail("ran without the required parameter 'a'")
        assert float(ds["y"].values[idx]) == pytest.approx(want, rel=1e-12, abs=1e-12)
